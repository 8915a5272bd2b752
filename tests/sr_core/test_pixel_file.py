"""A very large JPEG's levels read from a mapped temporary file (libvips decodes it a band at a
time): the same pixels as the in-memory decode for every orientation, profile and grey; the
process holds only the pages read, and hands them back."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sr_core import pixel_file
from sr_core.imaging import ImageLoadError, load_image
from sr_core.render import SourceImage
from tests.sr_core.photo_files import camera_exif, jpeg_bytes, smooth_rgb16, wide_gamut


def _photo(height: int, width: int) -> np.ndarray:
    rgb = (smooth_rgb16(height, width) >> 8).astype(np.int16)
    noise = np.random.default_rng(2).integers(-25, 26, rgb.shape)
    return np.clip(rgb + noise, 0, 255).astype(np.uint8)


@pytest.fixture
def to_file(monkeypatch, tmp_path):
    """Every JPEG counts as large; the pixel files go to ``tmp_path / "pixels"``."""
    monkeypatch.setattr(pixel_file, "MIN_BYTES", 0)
    pixels = tmp_path / "pixels"
    pixels.mkdir()
    monkeypatch.setattr(pixel_file, "folder", lambda: pixels)


def _write(path: Path, rgb: np.ndarray, **options: object) -> Path:
    path.write_bytes(jpeg_bytes(rgb, quality=90, **options))
    return path


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_same_pixels_as_in_memory_for_every_orientation(tmp_path, to_file, orientation):
    path = _write(tmp_path / "o.jpg", _photo(48, 72), exif=camera_exif(orientation))
    mapped = load_image(path, levels=True, to_file=True)
    memory = load_image(path, levels=True)
    assert pixel_file.is_mapped(mapped.pixels) and not pixel_file.is_mapped(memory.pixels)
    assert mapped.pixels.shape == memory.pixels.shape and mapped.pixels.flags.c_contiguous
    assert np.array_equal(mapped.pixels, memory.pixels)
    assert mapped.metadata == memory.metadata and mapped.bit_depth == 8
    with pytest.raises(ValueError):
        mapped.pixels[0, 0] = 0  # read-only: nothing writes into a source image


def test_a_profile_is_converted_to_srgb_and_grey_becomes_rgb(tmp_path, to_file):
    tagged = _write(tmp_path / "wide.jpg", _photo(40, 56), icc_profile=wide_gamut())
    mapped, memory = load_image(tagged, levels=True, to_file=True), load_image(tagged, levels=True)
    assert pixel_file.is_mapped(mapped.pixels)
    assert np.array_equal(mapped.pixels, memory.pixels)
    assert mapped.metadata.profile == memory.metadata.profile is not None
    grey = _write(tmp_path / "grey.jpg", _photo(40, 56)[..., 1])
    mapped, memory = load_image(grey, levels=True, to_file=True), load_image(grey, levels=True)
    assert mapped.grayscale and mapped.pixels.shape == (40, 56, 3)
    assert np.array_equal(mapped.pixels, memory.pixels)


def test_small_or_other_images_stay_in_memory(tmp_path, monkeypatch):
    path = _write(tmp_path / "small.jpg", _photo(40, 56))
    png = tmp_path / "p.png"
    Image.fromarray(_photo(40, 56)).save(png)
    assert not pixel_file.is_mapped(load_image(path, levels=True, to_file=True).pixels)  # under MIN_BYTES
    monkeypatch.setattr(pixel_file, "MIN_BYTES", 0)
    assert not pixel_file.is_mapped(load_image(png, levels=True, to_file=True).pixels)  # a PNG
    monkeypatch.setattr(pixel_file, "folder", lambda: tmp_path)
    monkeypatch.setattr(pixel_file.shutil, "disk_usage", lambda folder: type("U", (), {"free": 10})())
    assert not pixel_file.is_mapped(load_image(path, levels=True, to_file=True).pixels)  # no room


def test_a_truncated_jpeg_is_refused_as_in_memory(tmp_path, to_file):
    whole = jpeg_bytes(_photo(64, 96), quality=90)
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(ImageLoadError, match="cut.jpg"):
        load_image(path, levels=True, to_file=True)


def test_no_file_is_left(tmp_path, to_file):
    path = _write(tmp_path / "p.jpg", _photo(40, 56))
    image = load_image(path, levels=True, to_file=True)
    assert pixel_file.is_mapped(image.pixels)
    if sys.platform != "win32":  # POSIX: removed at once, the mapping keeps the pages
        assert list((tmp_path / "pixels").iterdir()) == []
    level = pixel_file.empty((8, 8, 3))
    assert pixel_file.is_mapped(level) and level.flags.writeable
    if sys.platform != "win32":
        assert list((tmp_path / "pixels").iterdir()) == []


def test_the_files_go_to_the_per_user_cache_not_a_ram_file_system(tmp_path, monkeypatch):
    monkeypatch.setattr(pixel_file.platformdirs, "user_cache_dir", lambda name: str(tmp_path / name))
    assert pixel_file.folder() == tmp_path / "ZoomSR" / "pixels" and pixel_file.folder().is_dir()


def test_a_mapped_source_counts_no_memory(tmp_path, to_file):
    path = _write(tmp_path / "p.jpg", _photo(40, 56))
    source = SourceImage(load_image(path, levels=True, to_file=True).pixels)
    assert source.nbytes == 0
    assert SourceImage(load_image(path, levels=True).pixels).nbytes == 40 * 56 * 3
    assert np.array_equal(source.rgb(3, 9, 5, 11), load_image(path).pixels[3:9, 5:11])


def _resident_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="resident memory is read from Linux's /proc")
def test_pages_read_are_handed_back(tmp_path, to_file):
    path = _write(tmp_path / "big.jpg", np.tile(_photo(64, 64), (48, 64, 1)))  # 3072×4096: 36 MB of levels
    pixels = load_image(path, levels=True, to_file=True).pixels
    before = _resident_mb()
    assert int(pixels.reshape(-1)[::4096].sum(dtype=np.uint64)) > 0  # one byte of every page
    read = _resident_mb()
    pixel_file.release_resident(pixels)
    released = _resident_mb()
    assert read - before > 25 and read - released > 25
    assert np.array_equal(pixels[:64, :64], load_image(path, levels=True).pixels[:64, :64])  # still readable


def test_self_check_names_libvips():
    assert pixel_file.self_check().startswith("libvips 8.")
