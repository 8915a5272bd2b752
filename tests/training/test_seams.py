"""python -m training.seams: the seam table of methods on textured LR crops."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

from training import seams


def test_the_table_tells_blocks_from_a_smooth_upscale(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray((rng.random((40, 48, 3)) * 255).astype(np.uint8)).save(tmp_path / f"p{i}.png")
    out = tmp_path / "t.json"
    assert seams.main(["--methods", "bicubic,nearest", "--scales", "4,8", "--images", str(tmp_path),
                       "--crop", "12", "--json", str(out)]) == 0
    table = json.loads(out.read_text())["seams"]
    assert all(math.isinf(v) for v in table["nearest"].values())  # no step inside a pixel
    assert all(0.5 < v < 2 for v in table["bicubic"].values())
    assert "| bicubic |" in capsys.readouterr().out


def test_a_fractional_scale_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    Image.new("RGB", (32, 32)).save(tmp_path / "a.png")
    assert seams.main(["--scales", "2.5", "--images", str(tmp_path)]) == 2
    assert "integer scales" in capsys.readouterr().err


def test_the_crop_is_the_most_textured_block() -> None:
    pixels = np.zeros((64, 64, 3), np.uint8)
    pixels[48:, 48:] = np.indices((16, 16)).sum(0)[..., None] % 2 * 255  # a checkerboard corner
    crop = seams.textured_crop(pixels, 16)
    assert crop.shape == (16, 16, 3) and crop.max() == 1.0
