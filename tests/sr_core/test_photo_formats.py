"""Reading photographs at full fidelity: 16-bit TIFF/PNG, ICC profiles at full precision, HEIC,
AVIF, camera RAW, orientation; bad files refused with one line. Files are made at test time."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from sr_core.imaging import ImageLoadError, encode_png, image_size, load_image, png_chunk
from tests.sr_core.photo_files import (
    adobe_rgb,
    camera_exif,
    set_tiff_compression,
    smooth_rgb16,
    wide_gamut,
    write_dng,
    write_heic,
    write_tiff,
)


def _pillow_to_srgb(rgb8: np.ndarray, icc: bytes) -> np.ndarray:
    """LittleCMS through Pillow's ImageCms (8-bit): an independent reference conversion."""
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    out = ImageCms.profileToProfile(Image.fromarray(rgb8), profile, ImageCms.createProfile("sRGB"))
    return np.asarray(out).astype(float)


def test_a_16_bit_gradient_700_levels_wide_keeps_its_levels(tmp_path: Path) -> None:
    ramp = np.linspace(20000, 20699, 1400).round().astype(np.uint16)
    samples = np.repeat(np.repeat(ramp[None, :, None], 4, axis=0), 3, axis=2)
    for icc in (None, adobe_rgb()):
        img = load_image(write_tiff(tmp_path / "ramp.tif", samples, icc=icc), levels=True)
        assert img.bit_depth == 16 and img.pixels.dtype == np.uint16
        assert len(np.unique(img.pixels[..., 1])) >= 690  # 8 bits would leave 3
    as_float = load_image(tmp_path / "ramp.tif")
    assert len(np.unique(as_float.pixels[..., 1])) >= 690


@pytest.mark.parametrize("profile", [adobe_rgb, wide_gamut])
def test_a_tagged_16_bit_tiff_gets_the_colours_of_its_8_bit_twin(tmp_path: Path, profile) -> None:
    icc = profile()
    deep = smooth_rgb16(24, 40)
    twin = (deep >> 8).astype(np.uint8)
    img16 = load_image(write_tiff(tmp_path / "deep.tif", deep, icc=icc))
    img8 = load_image(write_tiff(tmp_path / "twin.tif", twin, icc=icc))
    png8 = load_image(_png(twin, icc))
    np.testing.assert_allclose(img16.pixels * 255, img8.pixels * 255, atol=0.51)
    np.testing.assert_array_equal(png8.pixels, img8.pixels)
    np.testing.assert_allclose(img8.pixels * 255, _pillow_to_srgb(twin, icc), atol=1.01)
    moved = np.abs(img8.pixels * 255 - twin).max()
    assert moved > 10  # the profile was applied, not ignored
    assert img16.metadata.profile == img8.metadata.profile != "sRGB"
    assert img16.metadata.colour_description.endswith("→ sRGB")


def _png(rgb: np.ndarray, icc: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG", icc_profile=icc)
    return buffer.getvalue()


def test_a_tagged_16_bit_png_is_converted_like_its_8_bit_twin() -> None:
    deep = smooth_rgb16(12, 20)
    png = encode_png(deep, 16, None)
    iccp = png_chunk(b"iCCP", b"Adobe RGB\0\0" + zlib.compress(adobe_rgb()))
    tagged = load_image(png[:33] + iccp + png[33:])
    assert tagged.bit_depth == 16 and tagged.metadata.profile == "Adobe RGB (compatible)"
    twin = load_image(_png((deep >> 8).astype(np.uint8), adobe_rgb()))
    np.testing.assert_allclose(tagged.pixels * 255, twin.pixels * 255, atol=0.51)
    assert np.abs(load_image(png).pixels - tagged.pixels).max() > 10 / 255


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_tiff_orientation_is_applied(tmp_path: Path, orientation: int) -> None:
    rng = np.random.default_rng(orientation)
    stored = rng.integers(0, 65536, (6, 10, 3), dtype=np.uint16)
    path = write_tiff(tmp_path / "o.tif", stored, orientation=orientation)
    turns = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270, 8: Image.Transpose.ROTATE_90}
    upright = Image.fromarray((stored >> 8).astype(np.uint8))
    expected = np.asarray(upright if turns[orientation] is None else upright.transpose(turns[orientation]))
    img = load_image(path, levels=True)
    np.testing.assert_array_equal((img.pixels >> 8).astype(np.uint8), expected)
    assert image_size(path) == (expected.shape[1], expected.shape[0])


def test_heic_8_bit_with_profile_and_10_bit_depth(tmp_path: Path) -> None:
    rgb = (smooth_rgb16(32, 48) >> 8).astype(np.uint8)
    img = load_image(write_heic(tmp_path / "a.heic", rgb, icc=adobe_rgb()), levels=True)
    assert img.bit_depth == 8 and img.pixels.shape == (32, 48, 3)
    assert img.metadata.profile == "Adobe RGB (compatible)"
    reference = _pillow_to_srgb(rgb, adobe_rgb())
    assert np.abs(img.pixels.astype(float) - reference).mean() < 3  # HEVC is lossy

    ramp = np.linspace(0, 65535, 1024).astype(np.uint16)
    deep = np.repeat(np.repeat(ramp[None, :, None], 16, axis=0), 3, axis=2)
    img10 = load_image(write_heic(tmp_path / "deep.heic", deep, quality=-1), levels=True)
    assert img10.bit_depth == 16 and img10.pixels.dtype == np.uint16
    assert len(np.unique(img10.pixels[8, :, 1])) > 600  # 10 bits kept, not cut to 256 levels


def test_heic_rotation_is_applied_once(tmp_path: Path) -> None:
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:, :20] = (250, 0, 0)  # left red, right blue
    rgb[:, 20:] = (0, 0, 250)
    path = write_heic(tmp_path / "r.heic", rgb, exif=camera_exif(orientation=6))
    img = load_image(path)
    assert (img.height, img.width) == (40, 20) and image_size(path) == (20, 40)
    assert img.pixels[:15].mean(axis=(0, 1))[0] > 0.8  # the left (red) half is now on top
    assert img.metadata.exif is not None


def test_avif_with_exif_orientation(tmp_path: Path) -> None:
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:, :20] = (250, 0, 0)
    path = tmp_path / "r.avif"
    Image.fromarray(rgb).save(path, exif=camera_exif(orientation=6), quality=95)
    img = load_image(path)
    assert (img.height, img.width) == (40, 20) and image_size(path) == (20, 40)
    assert img.pixels[:15].mean(axis=(0, 1))[0] > 0.8


@pytest.mark.parametrize("orientation", [1, 6])
def test_dng_is_developed_with_the_camera_white_balance(tmp_path: Path, orientation: int) -> None:
    path = write_dng(tmp_path / "shot.dng", orientation=orientation)
    img = load_image(path, levels=True)
    assert img.bit_depth == 16 and img.pixels.dtype == np.uint16
    assert img.pixels.shape == ((64, 96, 3) if orientation == 1 else (96, 64, 3))
    assert image_size(path) == img.pixels.shape[1::-1]
    middle = img.pixels[16:48, 16:48].reshape(-1, 3).astype(float).mean(axis=0)
    # the scene is neutral: with the camera's (2, 1, 2) gains it is grey; without, green
    assert np.ptp(middle) < 0.03 * middle.mean()
    ramp = img.pixels[32, 8:-8, 1] if orientation == 1 else img.pixels[8:-8, 32, 1]
    assert len(np.unique(ramp)) > 70 and np.all(np.diff(ramp.astype(int)) > 0)  # 16-bit, rising


@pytest.mark.parametrize("grey", [False, True])
def test_a_whole_jpeg_decodes_to_the_pixels_pillow_gives(grey: bool) -> None:
    rgb = np.random.default_rng(7).integers(0, 256, (33, 47, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb[..., 0] if grey else rgb).save(buffer, "JPEG", quality=80)
    img = load_image(buffer.getvalue(), levels=True)
    expected = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    np.testing.assert_array_equal(img.pixels, np.repeat(expected[..., None], 3, 2) if grey else expected)
    assert img.grayscale == grey


def test_bad_photographs_are_refused_with_one_line(tmp_path: Path) -> None:
    rgb = (smooth_rgb16(16, 16) >> 8).astype(np.uint8)
    heic = write_heic(tmp_path / "cut.heic", rgb)
    heic.write_bytes(heic.read_bytes()[: heic.stat().st_size // 2])
    raw = tmp_path / "shot.nef"
    raw.write_bytes(b"II*\x00" + bytes(range(256)) * 8)
    odd = write_tiff(tmp_path / "odd.tif", smooth_rgb16(8, 8))
    set_tiff_compression(odd, 12345)
    badicc = tmp_path / "badicc.tif"
    write_tiff(badicc, smooth_rgb16(8, 8), icc=adobe_rgb()[:132] + bytes(400))
    cases = {heic: "the HEIF file is truncated or damaged", raw: "LibRaw does not support this camera",
             odd: "its compression (unknown code 12345) is not supported",
             badicc: "its colour profile"}
    for path, reason in cases.items():
        with pytest.raises(ImageLoadError) as info:
            load_image(path)
        message = str(info.value)
        assert message.startswith(f"{path.name}: ") and reason in message and "\n" not in message
