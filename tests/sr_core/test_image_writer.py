"""Writing by suffix: depth per format, JPEG 4:4:4, lossless WebP at quality 100, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin
from PIL.TiffImagePlugin import IFDRational

from sr_core.image_writer import output_bits, output_format, save_image
from sr_core.imaging import load_image
from sr_core.metadata import PhotoMetadata


def _pixels() -> np.ndarray:
    return np.random.default_rng(2).integers(0, 256, (20, 30, 3), dtype=np.uint8)


def test_jpeg_is_4_4_4_and_webp_100_is_lossless(tmp_path: Path) -> None:
    save_image(tmp_path / "a.jpg", _pixels(), quality=90)
    with Image.open(tmp_path / "a.jpg") as im:
        assert JpegImagePlugin.get_sampling(im) == 0  # 4:4:4
    save_image(tmp_path / "a.webp", _pixels(), quality=100)
    np.testing.assert_array_equal(load_image(tmp_path / "a.webp", levels=True).pixels, _pixels())


def test_alpha_is_kept_where_the_format_has_it(tmp_path: Path) -> None:
    alpha = np.linspace(0, 1, 600, dtype=np.float32).reshape(20, 30)
    for name in ("a.png", "a.tif", "a.webp"):
        save_image(tmp_path / name, _pixels(), alpha=alpha, quality=100)
        assert np.abs(load_image(tmp_path / name).alpha - alpha).max() <= 0.5 / 255
    save_image(tmp_path / "a.jpg", _pixels(), alpha=alpha)
    assert load_image(tmp_path / "a.jpg").alpha is None


def test_formats_depths_and_refusals(tmp_path: Path) -> None:
    assert [output_format(f"x{s}") for s in (".PNG", ".tiff", ".jpeg", ".webp")] == ["PNG", "TIFF", "JPEG", "WEBP"]
    assert (output_bits("TIFF", 16), output_bits("JPEG", 16)) == (16, 8)
    with pytest.raises(ValueError, match="cannot write '.bmp' files"):
        save_image(tmp_path / "x.bmp", _pixels())
    with pytest.raises(ValueError, match="JPEG holds 8 bits"):
        save_image(tmp_path / "x.jpg", _pixels().astype(np.uint16) * 257, bits=16)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("grey", [False, True])
def test_tiff_keeps_the_exif_and_gps_sub_ifds(tmp_path: Path, grey: bool) -> None:
    source = Image.Exif()
    source[0x010F], source[0x0112] = "ZoomCam", 6
    source[0x8769] = {0x829A: IFDRational(1, 250), 0x9003: "2026:12:07 06:30:00", 0xA434: "Zoom 24-70"}
    source[0x8825] = {0x0001: "N", 0x0002: (IFDRational(48), IFDRational(51), IFDRational(30))}
    pixels = np.random.default_rng(3).integers(0, 65536, (20, 30) if grey else (20, 30, 3), dtype=np.uint16)
    target = tmp_path / "out.tif"
    save_image(target, pixels, bits=16, metadata=PhotoMetadata(source.tobytes(), None, None))
    with Image.open(target) as im:
        exif = im.getexif()
        assert exif[0x010F] == "ZoomCam"
        sub, gps = exif.get_ifd(0x8769), exif.get_ifd(0x8825)
    assert float(sub[0x829A]) == 1 / 250 and sub[0x9003] == "2026:12:07 06:30:00" and sub[0xA434] == "Zoom 24-70"
    assert (sub[0xA002], sub[0xA003]) == (30, 20)  # the output's size
    assert gps[0x0001] == "N" and [float(v) for v in gps[0x0002]] == [48, 51, 30]
    out = load_image(target, levels=True).pixels
    assert np.array_equal(out[..., 0] if grey else out, pixels)
