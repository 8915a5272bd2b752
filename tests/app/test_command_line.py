"""``python main.py`` viewer options, headless screenshots and the self-test."""

from __future__ import annotations

import pytest
from app_fakes import FakeMethod, FakeProvider
from PIL import Image

import app.launch
import app.main as app_main
from app.cli_options import parse_options


def test_options_parse():
    opts = parse_options(["photo.png", "--zoom", "3", "--center", "300,200", "--panels", "bicubic,liif",
                          "--screenshot", "out.png", "--size", "800x600", "--device", "cpu"])
    assert (opts.image, opts.zoom, opts.center, opts.panels) == ("photo.png", 3.0, (300.0, 200.0),
                                                                 ["bicubic", "liif"])
    assert (opts.size, opts.device, opts.screenshot, opts.headless) == ((800, 600), "cpu", "out.png", True)
    assert not parse_options([]).headless


@pytest.mark.parametrize("args", [["--zoom", "-1"], ["--center", "3"], ["--size", "big"], ["--factor", "1"],
                                  ["--zoom", "nan"], ["--zoom", "inf"], ["--center", "nan,nan"],
                                  ["--center", "1,inf"], ["--size", "0x0"], ["--size", "30000x30000"],
                                  ["--timeout", "nan"], ["--timeout", "0"]])
def test_bad_options_exit_with_status_2(args, capsys):
    assert app_main.run(args) == 2
    err = capsys.readouterr().err
    assert "error" in err and args[0] in err and err.count("\n") == 1


@pytest.fixture
def fake_registry(monkeypatch):
    provider = FakeProvider({"fake": FakeMethod, "liif": None})
    monkeypatch.setattr(app.launch, "RegistryProvider", lambda: provider)
    return provider


def test_headless_screenshot(qtbot, fake_registry, image_file, tmp_path, capsys):
    out = tmp_path / "shot.png"
    code = app_main.run([str(image_file), "--zoom", "9", "--center", "20,30", "--panels", "bicubic,fake,liif",
                         "--size", "640x400", "--screenshot", str(out)])
    assert code == 0, capsys.readouterr().out
    with Image.open(out) as im:
        assert im.size == (640, 400)
    assert "wrote" in capsys.readouterr().out


def test_unknown_panels_are_refused(qtbot, fake_registry, tmp_path, capsys):
    assert app_main.run(["--panels", "bicubic,nope", "--screenshot", str(tmp_path / "x.png")]) == 2
    assert "nope" in capsys.readouterr().err


def test_a_screenshot_of_a_bad_file_fails_with_the_reason(qtbot, fake_registry, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert app_main.run([str(bad), "--screenshot", str(tmp_path / "x.png")]) == 1
    assert "bad.png" in capsys.readouterr().err


def test_selftest_renders_every_available_method(qtbot, fake_registry, capsys):
    assert app_main.run(["--selftest"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("bicubic") and " ok:" in line for line in lines)
    assert any(line.startswith("fake") and " ok:" in line for line in lines)
    assert any(line.startswith("liif") and "skipped" in line for line in lines)
    assert lines[-1].startswith("selftest: ok")


def test_selftest_fails_when_a_shipped_method_cannot_run(qtbot, monkeypatch, tmp_path, capsys):
    """An installation without its weights (say, a wheel without its package data) or with a
    shipped checkpoint it cannot load fails the self-test: only weights absent by design (and
    a user's own unusable checkpoints, tests/bad_inputs.py) are skipped."""
    from sr_core import registry

    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "liif.safetensors").write_bytes(b"truncated")
    monkeypatch.setattr(registry, "checkpoints_dir", lambda: shipped)
    monkeypatch.setenv("ZOOMSR_CHECKPOINTS", str(tmp_path / "no-user-weights"))
    assert app_main.run(["--selftest"]) == 1
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert " ok:" in lines["bicubic"] and " ok:" in lines["nearest"]
    assert "FAILED: liif.safetensors is not a readable safetensors checkpoint" in lines["liif"]
    assert "FAILED: its shipped weights (clit.safetensors) are missing" in lines["clit"]
    assert lines["selftest:"].startswith("selftest: FAILED (7 method(s) failed, 2 passed)")
