"""The command line: ``methods``, ``upscale``, ``import``."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from main import main
from sr_core import checkpoints
from sr_core.methods.liif import LIIF
from sr_core.registry import METHODS
from sr_core.resize import imresize


@pytest.fixture(autouse=True)
def user_checkpoints(tmp_path, monkeypatch):
    folder = tmp_path / "user-checkpoints"
    monkeypatch.setenv("ZOOMSR_CHECKPOINTS", str(folder))
    return folder


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "in.png"
    Image.fromarray(rng.integers(0, 256, (12, 15, 3), dtype=np.uint8)).save(path)
    return path


def test_methods_json_lists_every_method(capsys):
    assert main(["methods", "--json"]) == 0
    rows = {r["method"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(METHODS)
    assert rows["bicubic"]["available"]
    assert rows["nearest"]["available"] and rows["nearest"]["parameters"] == 0
    assert rows["liif"]["parameters"] == 1_567_323 and rows["liif"]["encoder"] == "edsr-baseline"
    assert all(r["paper"] for r in rows.values())


def test_methods_table_is_readable(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert "bicubic" in out and "CLIT" in out
    assert any(line.startswith("nearest") and "available" in line and "unavailable" not in line
               for line in out.splitlines())


def test_upscale_bicubic_matches_imresize(tmp_path, photo):
    out = tmp_path / "out.png"
    assert main(["upscale", str(photo), "-o", str(out), "--scale", "2.5", "--method", "bicubic"]) == 0
    got = np.asarray(Image.open(out))
    src = np.asarray(Image.open(photo)).astype(np.float64) / 255
    expected = np.clip(np.rint(np.clip(imresize(src, output_shape=(30, 38)), 0, 1) * 255), 0, 255)
    assert got.shape == (30, 38, 3)
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_upscale_nearest_repeats_the_input_pixels(tmp_path, photo):
    out = tmp_path / "nearest.png"
    assert main(["upscale", str(photo), "-o", str(out), "--scale", "3", "--method", "nearest"]) == 0
    src = np.asarray(Image.open(photo))
    assert np.array_equal(np.asarray(Image.open(out)), np.repeat(np.repeat(src, 3, axis=0), 3, axis=1))


def test_upscale_to_width_keeps_aspect(tmp_path, photo):
    out = tmp_path / "w.png"
    assert main(["upscale", str(photo), "-o", str(out), "--width", "45", "--method", "bicubic"]) == 0
    assert Image.open(out).size == (45, 36)


def test_method_without_weights_is_refused(tmp_path, photo, capsys, no_weights):
    out = tmp_path / "x.png"
    assert main(["upscale", str(photo), "-o", str(out), "--scale", "2", "--method", "liif"]) == 2
    assert "no trained weights" in capsys.readouterr().err
    assert not out.exists()


def test_precision_the_method_does_not_support_is_refused(tmp_path, photo, capsys, monkeypatch):
    monkeypatch.setitem(METHODS, "bicubic", replace(METHODS["bicubic"], precisions=("float16",)))
    out = tmp_path / "x.png"
    assert main(["upscale", str(photo), "-o", str(out), "--scale", "2", "--method", "bicubic"]) == 2
    assert "runs in float16 only, not float32" in capsys.readouterr().err
    assert not out.exists()


def test_untrained_checkpoint_is_refused(tmp_path, photo, capsys):
    ckpt = checkpoints.save(tmp_path / "r.safetensors", LIIF(encoder_args={"n_resblocks": 1, "n_feats": 8},
                                                              hidden=[16]), {"method": "liif", "trained": False})
    assert main(["upscale", str(photo), "-o", str(tmp_path / "x.png"), "--scale", "2",
                 "--method", "liif", "--checkpoint", str(ckpt)]) == 2
    assert "untrained" in capsys.readouterr().err


def test_corrupt_input_gives_a_message(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    assert main(["upscale", str(bad), "-o", str(tmp_path / "o.png"), "--scale", "2", "--method", "bicubic"]) == 2
    assert "bad.png" in capsys.readouterr().err


def test_import_installs_official_weights(tmp_path, user_checkpoints, photo, capsys):
    torch.manual_seed(0)
    model = LIIF(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=[16])
    pth = tmp_path / "liif.pth"
    args = {"encoder_spec": {"name": "edsr-baseline", "args": {"n_resblocks": 1, "n_feats": 8}},
            "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [16]}}}
    torch.save({"model": {"name": "liif", "args": args, "sd": model.state_dict()}}, pth)
    assert main(["import", str(pth), "--method", "liif"]) == 0
    assert (user_checkpoints / "liif.safetensors").is_file()
    main(["methods", "--json"])
    capsys.readouterr()
    assert main(["methods", "--json"]) == 0
    rows = {r["method"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["liif"]["available"] and rows["liif"]["parameters"] < 100_000
    out = tmp_path / "liif.png"
    assert main(["upscale", str(photo), "-o", str(out), "--scale", "3", "--method", "liif"]) == 0
    assert Image.open(out).size == (45, 36)


def test_import_refuses_wrong_method(tmp_path, capsys):
    model = LIIF(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=[16])
    pth = tmp_path / "liif.pth"
    args = {"encoder_spec": {"name": "edsr-baseline", "args": {"n_resblocks": 1, "n_feats": 8}},
            "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [16]}}}
    torch.save({"model": {"name": "liif", "args": args, "sd": model.state_dict()}}, pth)
    assert main(["import", str(pth), "--method", "clit"]) == 2
    assert "clit" in capsys.readouterr().err.lower()


def test_upscale_keeps_alpha_and_16_bit_depth(tmp_path):
    rng = np.random.default_rng(1)
    rgba = tmp_path / "rgba.png"
    Image.fromarray(rng.integers(0, 256, (9, 10, 4), dtype=np.uint8), "RGBA").save(rgba)
    out = tmp_path / "rgba-x2.png"
    assert main(["upscale", str(rgba), "-o", str(out), "--scale", "2", "--method", "bicubic"]) == 0
    assert Image.open(out).mode == "RGBA" and Image.open(out).size == (20, 18)

    grey16 = tmp_path / "grey16.png"
    Image.fromarray(rng.integers(0, 65536, (9, 10), dtype=np.uint16)).save(grey16)
    out16 = tmp_path / "grey16-x2.png"
    assert main(["upscale", str(grey16), "-o", str(out16), "--scale", "2", "--method", "bicubic"]) == 0
    from sr_core.imaging import load_image

    assert load_image(out16).bit_depth == 16


@pytest.mark.parametrize("option", [["--scale", "0"], ["--scale", "3000"], ["--scale", "nan"],
                                    ["--scale", "inf"], ["--width", "0"], ["--width", "-5"]])
def test_bad_sizes_are_refused_when_parsed(tmp_path, photo, capsys, option):
    with pytest.raises(SystemExit) as exit_:
        main(["upscale", str(photo), "-o", str(tmp_path / "o.png"), *option, "--method", "bicubic"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and option[0] in err and err.count("\n") == 1


def test_bad_output_name_is_refused(tmp_path, photo, capsys):
    assert main(["upscale", str(photo), "-o", str(tmp_path / "o.bmp"), "--scale", "2"]) == 2
    assert "cannot write '.bmp' files; use .png, .tif, .jpg or .webp" in capsys.readouterr().err
    assert not (tmp_path / "o.bmp").exists()


def test_upscale_renders_in_strips_the_same_as_whole(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    src = tmp_path / "tall.png"
    Image.fromarray(rng.integers(0, 256, (40, 9, 3), dtype=np.uint8)).save(src)
    monkeypatch.setattr("sr_core.cli.STRIP_ROWS", 7)  # 40 × 3 rows = 18 strips, the last partial
    assert main(["upscale", str(src), "-o", str(tmp_path / "strips.png"), "--scale", "3", "--method", "bicubic"]) == 0
    monkeypatch.setattr("sr_core.cli.STRIP_ROWS", 10_000)
    assert main(["upscale", str(src), "-o", str(tmp_path / "whole.png"), "--scale", "3", "--method", "bicubic"]) == 0
    strips, whole = (np.asarray(Image.open(tmp_path / n)) for n in ("strips.png", "whole.png"))
    assert strips.shape == (120, 27, 3) and np.array_equal(strips, whole)


def test_upscale_a_folder_and_files_into_a_folder_skipping_a_broken_one(tmp_path, photo, capsys):
    folder = tmp_path / "shots"
    folder.mkdir()
    for name in ("b10.png", "b2.png"):
        (folder / name).write_bytes(photo.read_bytes())
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "up"
    code = main(["upscale", str(folder), str(photo), "-o", str(out), "--scale", "2", "--method", "nearest"])
    assert code == 1  # one image failed; the others were written
    assert sorted(p.name for p in out.iterdir()) == ["b10-nearest.png", "b2-nearest.png", "in-nearest.png"]
    err = capsys.readouterr().err
    assert "broken.png" in err and "skipped" in err and "1 of 4 images failed" in err
    assert err.count("broken.png") == 1  # the message names the file once
    assert np.asarray(Image.open(out / "b2-nearest.png")).shape == (24, 30, 3)


def test_several_inputs_need_a_folder(tmp_path, photo, capsys):
    assert main(["upscale", str(photo), str(photo), "-o", str(tmp_path / "o.png"), "--scale", "2",
                 "--method", "bicubic"]) == 2
    assert "folder" in capsys.readouterr().err
    assert main(["upscale", str(photo), str(photo), "-o", str(tmp_path / "dup"), "--scale", "2",
                 "--method", "bicubic"]) == 2  # the same name twice would overwrite
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "dup").exists()


def test_upscale_uses_the_shipped_liif_by_default(tmp_path, photo, capsys):
    out = tmp_path / "x.png"
    assert main(["upscale", str(photo), "-o", str(out), "--scale", "2"]) == 0
    assert "liif" in capsys.readouterr().out
    bicubic = tmp_path / "b.png"
    assert main(["upscale", str(photo), "-o", str(bicubic), "--scale", "2", "--method", "bicubic"]) == 0
    assert not np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(bicubic)))


def test_an_unexpected_error_is_one_line_and_its_traceback_goes_to_the_log(tmp_path, photo, capsys, monkeypatch):
    from sr_core.logs import log_path

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("sr_core.render.Renderer.render", broken)
    assert main(["upscale", str(photo), "-o", str(tmp_path / "o.png"), "--scale", "2", "--method", "bicubic"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == f"error: upscale failed: RuntimeError: a bug; details in {log_path()}"
    assert "Traceback" in log_path().read_text(encoding="utf-8")
    assert not (tmp_path / "o.png").exists()
