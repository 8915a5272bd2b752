"""Tests of the evaluation harness: the papers' protocol, the CLI, its JSON and its tables."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sr_core import checkpoints, metrics
from sr_core.imaging import load_image, to_uint8
from sr_core.methods.liif import LIIF
from sr_core.registry import load_method
from sr_core.resize import imresize
from training import evaluate as ev

# Bicubic baselines as published (EDSR, RCAN, LIIF tables; MATLAB protocol): ×2, ×3, ×4.
PUBLISHED_BICUBIC = {"Set5": (33.66, 30.39, 28.42), "Set14": (30.24, 27.55, 26.00)}


def _photo(seed: int, h: int = 66, w: int = 58) -> np.ndarray:
    """A smooth 8-bit test photo with some texture."""
    y, x = np.mgrid[0:h, 0:w] / 9.0
    rng = np.random.default_rng(seed)
    base = np.stack([np.sin(x + seed), np.cos(y * 0.7), np.sin(x * 0.5 + y * 0.9)], axis=2)
    img = 0.5 + 0.35 * base + 0.03 * rng.standard_normal((h, w, 3))
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """``Photos/`` with three PNGs, a corrupt PNG and a non-image file."""
    folder = tmp_path / "Photos"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(_photo(i)).save(folder / f"img{i}.png")
    (folder / "broken.png").write_bytes((folder / "img0.png").read_bytes()[:200])
    (folder / "SHA256SUMS").write_text("not an image\n")
    return folder


@pytest.fixture
def tiny_untrained(tmp_path: Path) -> Path:
    model = LIIF(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=[16])
    return checkpoints.save(tmp_path / "tiny.safetensors", model, {"method": "liif", "trained": False})


def _matlab_uint8_psnr(path: Path, scale: int) -> float:
    """Y-PSNR of MATLAB ``imresize`` on uint8 end to end (rounded after each 1-D pass)."""
    image = load_image(path)
    lr, hr = ev.lr_and_hr(image.pixels, scale)
    sr = imresize(to_uint8(lr), output_shape=hr.shape[:2]) / 255
    if image.grayscale:
        sr, hr = sr[..., 0], hr[..., 0]
    return metrics.psnr(sr, hr, shave=scale, space="y", protocol="matlab")


@pytest.mark.parametrize("dataset", sorted(PUBLISHED_BICUBIC))
def test_published_bicubic_matlab_protocol(shared_data: Path, dataset: str) -> None:
    bicubic, _ = load_method("bicubic")
    ds = ev.Dataset.open(shared_data / "val" / dataset / "HR")
    results = ev.evaluate_model(bicubic, ds, (2, 3, 4), protocol="matlab")
    n_images = {"Set5": 5, "Set14": 14}[dataset]
    for scale, published in zip((2, 3, 4), PUBLISHED_BICUBIC[dataset]):
        result = results[scale]
        assert len(result.per_image) == n_images
        assert result.mean("psnr") == pytest.approx(published, abs=0.03), (dataset, scale)
        assert result.provided_lr == (n_images if dataset == "Set5" else 0)
        # the renderer's float output rounded once vs MATLAB's per-pass uint8 rounding
        per_pass = np.mean([_matlab_uint8_psnr(p, scale) for p in ds.images])
        assert result.mean("psnr") == pytest.approx(per_pass, abs=0.01), (dataset, scale)


def test_generated_lr_equals_provided_lr(shared_data: Path) -> None:
    ds = ev.Dataset.open(shared_data / "val" / "Set5")
    assert ds.name == "Set5"
    hr_path = ds.images[0]
    for scale in (2, 3, 4):
        provided = ds.provided_lr(hr_path, scale)
        assert provided is not None
        hr = load_image(hr_path).pixels
        lr_file, hr_a = ev.lr_and_hr(hr, scale, load_image(provided).pixels)
        lr_ours, hr_b = ev.lr_and_hr(hr, scale)
        assert np.array_equal(lr_file, lr_ours) and np.array_equal(hr_a, hr_b)
    assert ds.provided_lr(hr_path, 8) is None  # only the papers' ×2–×4 files are used


def test_bicubic_liif_protocol_is_float_imresize(photos: Path) -> None:
    bicubic, _ = load_method("bicubic")
    result = ev.evaluate_model(bicubic, photos, [3], protocol="liif")[3]
    hr = _photo(1)[:66, :57].astype(np.float64) / 255
    lr = imresize(_photo(1)[:66, :57], output_shape=(22, 19)).astype(np.float64) / 255
    sr = np.clip(imresize(lr, output_shape=(66, 57)), 0, 1)
    expected = metrics.psnr(sr, hr, shave=3, space="y")
    assert result.per_image["img1"]["psnr"] == pytest.approx(expected, abs=1e-4)


def test_dataset_layouts(tmp_path: Path) -> None:
    photo = Image.fromarray(_photo(0))
    (tmp_path / "Set9" / "HR").mkdir(parents=True)
    (tmp_path / "Set9" / "LR_bicubic" / "X2").mkdir(parents=True)
    photo.save(tmp_path / "Set9" / "HR" / "a.png")
    photo.resize((29, 33)).save(tmp_path / "Set9" / "LR_bicubic" / "X2" / "ax2.png")
    for path in (tmp_path / "Set9", tmp_path / "Set9" / "HR"):
        ds = ev.Dataset.open(path)
        assert ds.name == "Set9" and ds.lr_root == tmp_path / "Set9" / "LR_bicubic"
        assert ds.provided_lr(ds.images[0], 2) == tmp_path / "Set9" / "LR_bicubic" / "X2" / "ax2.png"
        assert ds.provided_lr(ds.images[0], 3) is None
    (tmp_path / "DIV2K_valid_HR").mkdir()
    (tmp_path / "DIV2K_valid_LR_bicubic" / "X4").mkdir(parents=True)
    photo.save(tmp_path / "DIV2K_valid_HR" / "0801.png")
    div2k = ev.Dataset.open(tmp_path / "DIV2K_valid_HR")
    assert div2k.name == "DIV2K_valid" and div2k.lr_root == tmp_path / "DIV2K_valid_LR_bicubic"
    assert ev.default_space(div2k.name, "liif") == "rgb" and ev.default_shave(4, "rgb", "liif") == 10
    assert ev.default_space("Kodak24", "liif") == "y" and ev.default_shave(4, "y", "liif") == 4
    assert ev.default_space(div2k.name, "matlab") == "y" and ev.default_shave(2.5, "y", "matlab") == 3
    with pytest.raises(FileNotFoundError):
        ev.Dataset.open(tmp_path / "DIV2K_valid_LR_bicubic")


def test_lr_and_hr_geometry() -> None:
    hr = _photo(0, 101, 77).astype(np.float32) / 255
    for scale, lr_shape, hr_shape in ((3, (33, 25), (99, 75)), (2.5, (40, 30), (100, 75)),
                                      (7, (14, 11), (98, 77))):
        lr, crop = ev.lr_and_hr(hr, scale)
        assert lr.shape[:2] == lr_shape and crop.shape[:2] == hr_shape, scale
        assert np.array_equal(crop, hr[:hr_shape[0], :hr_shape[1]])
    with pytest.raises(ev.GeometryError):
        ev.lr_and_hr(hr, 2, np.zeros((51, 38, 3), np.float32))  # 102 rows > 101
    with pytest.raises(ev.GeometryError):
        ev.lr_and_hr(hr, 120)


def test_matlab_protocol_rounds_and_uses_one_channel_for_gray() -> None:
    rng = np.random.default_rng(0)
    gray = np.repeat(_photo(2)[..., :1].astype(np.float64) / 255, 3, axis=2)
    pred = np.clip(gray + rng.normal(0, 0.02, gray.shape[:2])[..., None], 0, 1)
    got = ev.score(pred, gray, gray=True, protocol="matlab", space="y", shave=2)
    p8 = np.floor(pred[..., 0] * 255 + 0.5)
    mse = np.mean((p8 - gray[..., 0] * 255)[2:-2, 2:-2] ** 2)
    assert got["psnr"] == pytest.approx(10 * math.log10(255**2 / mse))
    as_rgb = ev.score(pred, gray, gray=False, protocol="matlab", space="y", shave=2)
    assert as_rgb["psnr"] != pytest.approx(got["psnr"], abs=0.1)  # Y of RGB scales by 219/255


def test_untrained_checkpoint_is_refused_then_labelled(photos: Path, tiny_untrained: Path,
                                                       tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["--method", "bicubic,liif", "--checkpoint", str(tiny_untrained), "--dataset", str(photos),
            "--scales", "2,6", "--device", "cpu"]
    assert ev.main(args) == 2
    assert "untrained" in capsys.readouterr().err
    out_json = tmp_path / "out.json"
    assert ev.main([*args, "--allow-untrained", "--json", str(out_json)]) == 0
    out = capsys.readouterr()
    assert "EDSR-LIIF [UNTRAINED]" in out.out and "Bicubic " in out.out
    assert "broken.png" in out.err  # the corrupt file is reported by name …
    bicubic, liif = json.loads(out_json.read_text())
    assert bicubic["trained"] is True and liif["trained"] is False
    assert liif["checkpoint"] == str(tiny_untrained) and liif["label"] == "EDSR-LIIF"
    for record in (bicubic, liif):
        assert record["dataset"] == "Photos" and record["space"] == "y"
        assert set(record["results"]) == {"2", "6"}
        assert list(record["skipped"]) == ["broken.png"]  # … and skipped
        for scale in ("2", "6"):
            cell = record["results"][scale]
            assert cell["n_images"] == 3 and cell["shave"] == int(scale) and cell["seconds"] >= 0
            assert {"psnr", "ssim", "lap_sharpness", "lap_error"} <= cell.keys()
    assert bicubic["results"]["2"]["psnr"] > liif["results"]["2"]["psnr"]


def test_limit_too_small_and_single_record_json(photos: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "one.json"
    assert ev.main(["--method", "bicubic", "--dataset", str(photos), "--scales", "4,30",
                    "--limit", "3", "--space", "rgb", "--json", str(out_json)]) == 0
    record = json.loads(out_json.read_text())
    assert record["method"] == "bicubic" and record["space"] == "rgb" and record["limit"] == 3
    assert record["results"]["4"]["n_images"] == 2 and record["results"]["4"]["shave"] == 10
    assert "30" not in record["results"]  # 66×58 px leave nothing after a 36 px shave
    assert set(record["skipped"]) == {"broken.png", "img0.png at ×30", "img1.png at ×30"}


def test_interrupt_prints_finished_scales(photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture) -> None:
    original, calls = ev._evaluate_image, []

    def interrupted_at_second_scale(*args, **kwargs):
        calls.append(args[3])
        if args[3] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(ev, "_evaluate_image", interrupted_at_second_scale)
    out_json = tmp_path / "partial.json"
    assert ev.main(["--method", "bicubic", "--dataset", str(photos), "--scales", "2,3",
                    "--json", str(out_json)]) == 130
    out = capsys.readouterr()
    assert "Bicubic (interrupted)" in out.out and "Interrupted" in out.err
    record = json.loads(out_json.read_text())
    assert record["interrupted"] is True and list(record["results"]) == ["2"]


def test_nearest_needs_no_checkpoint_and_scores_below_bicubic(photos: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "nearest.json"
    assert ev.main(["--method", "nearest,bicubic", "--dataset", str(photos), "--scales", "3",
                    "--json", str(out_json)]) == 0
    nearest, bicubic = json.loads(out_json.read_text())
    assert nearest["label"] == "Nearest" and nearest["checkpoint"] is None and nearest["trained"] is True
    assert nearest["results"]["3"]["n_images"] == 3
    assert nearest["results"]["3"]["psnr"] < bicubic["results"]["3"]["psnr"]


def test_evaluate_model_restores_train_mode(photos: Path) -> None:
    model = LIIF(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=[16]).train()
    results = ev.evaluate_model(model, photos, [2.5], limit=2)  # broken.png, img0.png
    assert model.training
    assert list(results) == [2.5] and list(results[2.5].per_image) == ["img0"]


def test_markdown_tables_with_paper_numbers(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cell = {"psnr": 33.70, "ssim": 0.93, "n_images": 5}
    record = {"method": "bicubic", "label": "Bicubic", "checkpoint": None, "trained": True,
              "dataset": "Set5", "protocol": "matlab", "space": "y", "shave": None,
              "results": {"2": cell, "8": {**cell, "psnr": 24.4}}}
    path = tmp_path / "r.json"
    path.write_text(json.dumps([record, {**record, "label": "RDN-LIIF", "trained": False}]))
    assert ev.main(["--markdown", str(path), "--paper"]) == 0
    text = capsys.readouterr().out
    assert "**Set5 — PSNR (dB), Y, shave s, matlab protocol**" in text
    assert "| method | ×2 | ×8 |" in text and "| Bicubic | 33.70 | 24.40 |" in text
    assert "| paper [M] | 33.66 | – |" in text
    assert "| +0.04 | – |" in text
    assert "RDN-LIIF [UNTRAINED]" in text
    (tmp_path / "bad.json").write_text("{}")
    assert ev.main(["--markdown", str(tmp_path / "bad.json")]) == 2


def test_method_jobs_and_scales() -> None:
    assert ev.method_jobs("bicubic,liif", ["w.safetensors"]) == [("bicubic", None), ("liif", "w.safetensors")]
    assert ev.method_jobs("liif,lte", ["a"]) == [("liif", "a"), ("lte", None)]
    with pytest.raises(ValueError):
        ev.method_jobs("bicubic", ["a"])
    with pytest.raises(ValueError):
        ev.method_jobs("nosuchmethod", [])
    assert ev.parse_scales("2,3.5, 30") == [2.0, 3.5, 30.0]
    for bad in ("", "2,x", "0.5", "nan"):
        with pytest.raises(ValueError):
            ev.parse_scales(bad)


@pytest.mark.parametrize("option", [["--scales", "1e9"], ["--scales", "nan"], ["--tile", "-1"],
                                    ["--limit", "0"]])
def test_bad_options_are_one_line_errors(tmp_path, option, capsys):
    try:
        code = ev.main(["--method", "bicubic", "--dataset", str(tmp_path), *option])
    except SystemExit as exit_:  # refused by the parser
        code = exit_.code
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_an_unwritable_json_is_refused_before_the_work(tmp_path, capsys):
    code = ev.main(["--method", "bicubic", "--dataset", str(tmp_path), "--json",
                    str(tmp_path / "missing" / "out.json")])
    assert code == 2 and "does not exist" in capsys.readouterr().err



def test_the_default_table_is_bicubic_against_the_shipped_liif(shared_data, tmp_path):
    from training.evaluate import main

    out = tmp_path / "r.json"
    assert main(["--dataset", str(shared_data / "val" / "Set5"), "--scales", "12", "--limit", "1",
                 "--json", str(out)]) == 0
    rows = {r["method"]: r for r in json.loads(out.read_text())}
    assert list(rows) == ["bicubic", "liif"] and rows["liif"]["checkpoint"].endswith("liif.safetensors")
    # measured on Set5 baby ×12: LIIF 27.56 dB, bicubic 25.50
    assert rows["liif"]["results"]["12"]["psnr"] > rows["bicubic"]["results"]["12"]["psnr"] + 1.5
