"""Photographs in the viewer: the colour profile in the status line, exports in the format of
their ending with the photograph's metadata, bad photographs refused keeping the image shown."""

from __future__ import annotations

import numpy as np
import pytest
from app_fakes import WAIT_MS
from PIL import ExifTags, Image

from app.model.export_plan import region_export
from sr_core.colour import profile_name
from sr_core.imaging import load_image
from tests.sr_core.photo_files import (
    adobe_rgb,
    camera_exif,
    jpeg_bytes,
    set_tiff_compression,
    smooth_rgb16,
    write_heic,
    write_tiff,
)


@pytest.fixture
def camera_jpeg(tmp_path):
    path = tmp_path / "camera.jpg"
    rgb = (smooth_rgb16(48, 64) >> 8).astype(np.uint8)
    path.write_bytes(jpeg_bytes(rgb, quality=95, exif=camera_exif(6), icc_profile=adobe_rgb()))
    return path


def test_the_colour_profile_is_named_in_the_status_line(qtbot, make_window, camera_jpeg):
    window = make_window(image=camera_jpeg)
    assert window.doc.size == (48, 64)  # rotated upright
    assert "Adobe RGB (compatible) → sRGB" in window.image_label.text()


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_exports_carry_the_metadata_in_the_format_of_their_ending(qtbot, make_window, camera_jpeg, tmp_path, suffix):
    window = make_window(image=camera_jpeg)
    target = tmp_path / f"out{suffix}"
    window.exporter.start_export(region_export(window.doc, ["bicubic"], (0, 0, 48, 64), 2.0, str(target)))
    qtbot.waitUntil(target.exists, timeout=WAIT_MS)
    with Image.open(target) as im:
        assert im.format == ("JPEG" if suffix == ".jpg" else "TIFF") and im.size == (96, 128)
        exif = im.getexif()
        assert exif.get(0x0112, 1) == 1 and exif[0x010F] == "ZoomCam"
        assert exif.get_ifd(ExifTags.IFD.Exif)[0xA002] == 96
        assert profile_name(im.info["icc_profile"]) == "sRGB built-in"


def test_a_16_bit_tiff_exports_to_a_16_bit_tiff(qtbot, make_window, tmp_path):
    deep = write_tiff(tmp_path / "deep.tif", smooth_rgb16(48, 64) + 5, icc=adobe_rgb())
    window = make_window(image=deep)
    assert window.doc.bit_depth == 16
    target = tmp_path / "out.tif"
    window.exporter.start_export(region_export(window.doc, ["bicubic"], (0, 0, 64, 48), 1.0, str(target)))
    qtbot.waitUntil(target.exists, timeout=WAIT_MS)
    out, source = load_image(target, levels=True), load_image(deep, levels=True)
    assert out.bit_depth == 16
    assert np.abs(out.pixels.astype(int) - source.pixels).max() <= 1  # ×1 bicubic: the input itself


def test_bad_photographs_leave_the_image_shown(qtbot, make_window, camera_jpeg, tmp_path):
    window = make_window(image=camera_jpeg)
    cut = write_heic(tmp_path / "cut.heic", (smooth_rgb16(16, 16) >> 8).astype(np.uint8))
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    odd = write_tiff(tmp_path / "odd.tif", smooth_rgb16(8, 8))
    set_tiff_compression(odd, 12345)
    for count, bad in enumerate((cut, odd), start=1):
        window.open_path(str(bad))
        qtbot.waitUntil(lambda n=count: len(window.messages.messages()) == n, timeout=WAIT_MS)
        assert window.messages.messages()[-1].startswith(f"{bad.name}: ")
        assert window.doc.name == camera_jpeg.name
