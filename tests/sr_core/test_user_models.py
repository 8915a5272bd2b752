"""Users' own fixed-scale models through spandrel: installing, listing, rendering at any zoom
without seams, precisions, cancellation, and refusing bad files (issue #29)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.nn import functional as F  # noqa: N812

from main import main
from sr_core import registry
from sr_core.geometry import Rect
from sr_core.methods import fixed_scale
from sr_core.render import RenderCancelled, Renderer, SourceImage
from sr_core.resize import imresize
from sr_core.spandrel_files import ModelFileError, describe
from tests.spandrel_models import MODELS, restoration_network, save_model, tiny_network

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def image() -> SourceImage:
    rng = np.random.default_rng(0)
    return SourceImage(rng.random((50, 66, 3)).astype(np.float32))


def install(tmp_path: Path, name: str, suffix: str = ".pth", **save) -> tuple[torch.nn.Module, str]:
    net = tiny_network(name)
    _, path = registry.install_user_model(save_model(net, tmp_path / f"{name}{suffix}", **save))
    return net, path.stem


def direct(net: torch.nn.Module, image: SourceImage) -> np.ndarray:
    """The network run on the whole image, as its authors would run it."""
    with torch.no_grad():
        out = net(torch.from_numpy(image.pixels).permute(2, 0, 1)[None]).clamp(0, 1)
    return out[0].permute(1, 2, 0).numpy()


def test_spandrel_is_imported_without_torchvision():
    """spandrel's LaMa imports torchvision; the registry's build does not load beside a CPU torch.
    With torchvision absent (blocked) and present alike, no torchvision is imported."""
    code = ("import sys\n"
            "if sys.argv[1] == 'absent': sys.modules['torchvision'] = None  # what 'import' then refuses\n"
            "from sr_core.spandrel_files import import_spandrel\n"
            "spandrel = import_spandrel()\n"
            "assert 'ESRGAN' in {a.architecture.id for a in spandrel.MAIN_REGISTRY.architectures()}\n"
            "print(sys.modules.get('torchvision', 'not imported'))")
    for case in ("absent", "installed"):
        run = subprocess.run([sys.executable, "-c", code, case], capture_output=True, text=True, cwd=ROOT)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == ("None" if case == "absent" else "not imported")


def test_without_spandrel_methods_work_and_import_says_what_to_install(tmp_path):
    code = ("import sys; sys.modules['spandrel'] = None  # not installed\n"
            "from main import main\n"
            "assert main(['methods']) == 0\n"
            "sys.exit(main(['import', sys.argv[1]]))")
    model = save_model(tiny_network("span"), tmp_path / "m.pth")
    run = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "ZOOMSR_CHECKPOINTS": str(tmp_path / "user")})
    assert run.returncode == 2 and "Bicubic" in run.stdout
    assert run.stderr.strip() == ("error: your own models need spandrel: pip install --no-deps spandrel einops "
                                  "(see the README's \"Your own models\")")
    assert not (tmp_path / "user").exists()


@pytest.mark.parametrize(("name", "suffix", "wrap"), [("esrgan", ".pth", None), ("swinir", ".safetensors", None),
                                                      ("span", ".ckpt", "params_ema")])
def test_an_installed_model_is_a_method_that_renders_its_network(tmp_path, image, name, suffix, wrap, capsys):
    net = tiny_network(name)
    source = save_model(net, tmp_path / f"My_{name}{suffix}", wrap=wrap)
    assert main(["import", str(source)]) == 0
    method, scale, arch = f"my_{name}", MODELS[name][1], MODELS[name][2]
    label = f"user model: {arch} ×{scale}, from {source.name}"
    assert label in capsys.readouterr().out
    assert method in registry.method_names()
    assert main(["methods", "--json"]) == 0
    row = {r["method"]: r for r in json.loads(capsys.readouterr().out)}[method]
    assert row["available"] and row["source"] == "user model" and row["paper"] == label
    assert row["parameters"] == sum(p.numel() for p in net.parameters())
    model, _ = registry.load_method(method)
    h, w = image.height, image.width
    out = Renderer(model).render(image, h * scale, w * scale)
    np.testing.assert_allclose(out, direct(net, image), atol=2e-5)


def test_a_pth_in_the_legacy_format_is_read(tmp_path, image):
    """Early ESRGAN files predate torch 1.6's zip format (which can be memory-mapped)."""
    net = tiny_network("span")
    torch.save(net.state_dict(), tmp_path / "old.pth", _use_new_zipfile_serialization=False)
    name, _ = registry.install_user_model(tmp_path / "old.pth")
    model, _ = registry.load_method(name)
    np.testing.assert_allclose(Renderer(model).render(image, 100, 132), direct(net, image), atol=2e-5)


@pytest.mark.parametrize("name", list(MODELS))
def test_tiles_do_not_show_seams(tmp_path, monkeypatch, name):
    """Rendered in three rectangles with one tile per encoded piece, the image equals the
    whole-image render, at the model's scale and resampled below and above it."""
    image = SourceImage(np.random.default_rng(2).random((36, 44, 3)).astype(np.float32))  # 2 × 2 tiles
    _, method = install(tmp_path, name)
    model, _ = registry.load_method(method)
    h, w, n = image.height, image.width, model.scale
    for scale in (n, n - 0.7, n + 1.9):
        oh, ow = round(h * scale), round(w * scale)
        monkeypatch.setattr(fixed_scale, "PIECE_LIMITS", (640, 640))
        whole = Renderer(model, encoder_tile=640).render(image, oh, ow)
        monkeypatch.setattr(fixed_scale, "PIECE_LIMITS", (1, 1))  # one tile (and its halo) at a time
        renderer = Renderer(model, block=40)
        tiled = np.empty_like(whole)
        for rect in (Rect(0, 0, oh // 2, ow // 3), Rect(0, ow // 3, oh // 2, ow), Rect(oh // 2, 0, oh, ow)):
            tiled[rect.top:rect.bottom, rect.left:rect.right] = renderer.render(image, oh, ow, rect)
        assert np.abs(tiled - whole).max() < 1e-5, (name, scale)


def test_window_attention_needs_the_aligned_tiles(tmp_path, image, monkeypatch):
    """The check above can fail: SwinIR's windows, partitioned from a piece's corner, differ from
    the whole image's unless pieces start on multiples of the window."""
    _, method = install(tmp_path, "swinir")
    model, _ = registry.load_method(method)
    assert model.tile_multiple == 6
    h, w = image.height * 2, image.width * 2
    whole = Renderer(model, encoder_tile=640).render(image, h, w)
    monkeypatch.setattr(fixed_scale, "PIECE_LIMITS", (1, 1))
    model.tile_multiple = 1
    unaligned = Renderer(model).render(image, h, w, Rect(h // 2, w // 2, h, w))
    assert np.abs(unaligned - whole[h // 2:, w // 2:]).max() > 0.01


def test_other_zooms_resample_the_models_image(tmp_path, image):
    """Below ×N the area average of the ×N image; above ×N its bicubic resize."""
    net, method = install(tmp_path, "esrgan")
    model, _ = registry.load_method(method)
    hr = direct(net, image)  # ×4
    h, w = image.height, image.width
    half = Renderer(model).render(image, h * 2, w * 2)
    pooled = F.avg_pool2d(torch.from_numpy(hr).permute(2, 0, 1)[None], 2)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(half, pooled, atol=2e-5)
    big = Renderer(model).render(image, h * 6, w * 6)
    np.testing.assert_allclose(big, np.clip(imresize(hr.astype(np.float64), output_shape=(h * 6, w * 6)), 0, 1),
                               atol=2e-5)


def test_precisions_follow_spandrel_and_bfloat16_renders(tmp_path, image):
    _, esrgan = install(tmp_path, "esrgan")
    _, swinir = install(tmp_path, "swinir")
    assert registry.get_info(esrgan).precisions == ("float32", "bfloat16", "float16")
    assert registry.get_info(swinir).precisions == ("float32", "bfloat16")  # spandrel: no float16
    model, _ = registry.load_method(esrgan)
    exact = Renderer(model).render(image, 200, 264)
    model, _ = registry.load_method(esrgan)
    low = Renderer(model, dtype=torch.bfloat16).render(image, 200, 264)
    assert 0 < np.abs(low - exact).mean() < 0.02


def test_cancel_is_checked_between_tiles(tmp_path, image, monkeypatch):
    _, method = install(tmp_path, "esrgan")
    model, _ = registry.load_method(method)
    monkeypatch.setattr(fixed_scale, "PIECE_LIMITS", (1, 1))
    calls = []
    network = model.encoder.call
    model.encoder.call = lambda x: calls.append(1) or network(x)
    with pytest.raises(RenderCancelled):
        Renderer(model).render(image, 200, 264, cancel=lambda: len(calls) >= 2)
    assert len(calls) == 2  # of 6 tiles


def test_upscale_and_evaluate_take_a_user_model(tmp_path, capsys):
    _, method = install(tmp_path, "span")
    rng = np.random.default_rng(1)
    photo = tmp_path / "in.png"
    Image.fromarray(rng.integers(0, 256, (12, 15, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "out.png"
    assert main(["upscale", str(photo), "-o", str(out), "--scale", "3.5", "--method", method]) == 0
    assert Image.open(out).size == (52, 42)
    hr = tmp_path / "set" / "HR"
    hr.mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(hr / "a.png")
    from training.evaluate import main as evaluate
    assert evaluate(["--method", f"bicubic,{method}", "--dataset", str(hr.parent), "--scales", "2,3",
                     "--device", "cpu", "--json", str(tmp_path / "r.json")]) == 0
    records = json.loads((tmp_path / "r.json").read_text())
    assert [r["method"] for r in records] == ["bicubic", method] and set(records[1]["results"]) == {"2", "3"}


# --- bad files: one line each, nothing installed --------------------------------------------------

def refused(capsys, user_checkpoints, *argv) -> str:
    assert main(["import", *map(str, argv)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert not user_checkpoints.exists() or not any(user_checkpoints.iterdir())
    return err


def test_bad_files_are_refused_in_one_line(tmp_path, capsys, user_checkpoints):
    net = tiny_network("esrgan")
    unknown = tmp_path / "unknown.pth"
    torch.save({"body.weight": torch.ones(3, 3), "head.bias": torch.ones(3)}, unknown)
    assert "not one spandrel's main package supports" in refused(capsys, user_checkpoints, unknown)
    assert "--method NAME" in refused(capsys, user_checkpoints, unknown)  # the official imports' hint
    denoiser = save_model(restoration_network(), tmp_path / "denoise.pth")
    assert "×1 SPAN restoration model, not a super-resolution one" in refused(capsys, user_checkpoints, denoiser)
    whole = save_model(net, tmp_path / "whole.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(whole[:len(whole) // 2])
    assert "not a readable PyTorch file" in refused(capsys, user_checkpoints, tmp_path / "cut.pth")
    safe = save_model(net, tmp_path / "whole.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(safe[:len(safe) // 2])
    assert "not a readable safetensors file" in refused(capsys, user_checkpoints, tmp_path / "cut.safetensors")
    state = net.state_dict()
    first = next(iter(state))
    state[first] = state[first].clone().fill_(float("nan"))
    torch.save(state, tmp_path / "nan.pth")
    assert "NaN" in refused(capsys, user_checkpoints, tmp_path / "nan.pth")
    torch.save({"huge": torch.zeros(1).expand(100_000, 1_000)}, tmp_path / "huge.pth")  # 4 bytes on disk
    assert "100,000,000 weights" in refused(capsys, user_checkpoints, tmp_path / "huge.pth")
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    assert "ends in .safetensors, .pth, .ckpt" in refused(capsys, user_checkpoints, tmp_path / "model.onnx")
    assert "exists already" in refused(capsys, user_checkpoints, tmp_path / "whole.pth", "--name", "liif")
    assert "cannot name a method" in refused(capsys, user_checkpoints, tmp_path / "whole.pth", "--name", "A B")


class Hostile:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


MARKER = Path(os.environ.get("TMPDIR", "/tmp")) / "zoomsr-user-model-pwned"


def test_a_pickle_that_runs_code_is_refused_unread(tmp_path, capsys, user_checkpoints):
    MARKER.unlink(missing_ok=True)
    torch.save({"conv_first.weight": torch.ones(1), "x": Hostile()}, tmp_path / "hostile.pth")
    assert "not weights only" in refused(capsys, user_checkpoints, tmp_path / "hostile.pth")
    assert not MARKER.exists()


def test_an_inpainting_model_is_refused_before_it_is_built():
    """LaMa (51 M parameters) is described from meta tensors: refused without allocating it."""
    from spandrel.architectures.LaMa import LaMa

    with torch.device("meta"):
        state = LaMa().state_dict()
    with pytest.raises(ModelFileError, match="holds a LaMa inpainting model, not a super-resolution one"):
        describe(state, "lama.pth")


def test_a_damaged_installed_model_fails_in_one_line(tmp_path, user_checkpoints):
    """Weights damaged after the import are refused when loaded; a file cut short no longer
    reads as a user model at all."""
    _, method = install(tmp_path, "span")
    path = user_checkpoints / f"{method}.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[:-4] + np.array([np.nan], np.float32).tobytes())  # the last weight
    assert method in registry.method_names()
    with pytest.raises(ModelFileError, match="NaN"):
        registry.load_method(method)
    path.write_bytes(data[:-100])
    assert method not in registry.method_names()
