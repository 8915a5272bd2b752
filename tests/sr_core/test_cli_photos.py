"""``upscale`` with photographs: output format by suffix, metadata kept, 16 bits kept, nothing
overwritten or left half-written, bad photographs refused with exit status 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image

from main import main
from sr_core.colour import profile_name
from sr_core.imaging import load_image
from tests.sr_core.photo_files import (
    adobe_rgb,
    camera_exif,
    jpeg_bytes,
    set_tiff_compression,
    smooth_rgb16,
    write_dng,
    write_heic,
    write_tiff,
)

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6" '
       b'xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="A. Photographer"/></rdf:RDF></x:xmpmeta>')


def _upscale(src: Path, dst: Path, *extra: str) -> int:
    return main(["upscale", str(src), "-o", str(dst), "--scale", "2", "--method", "bicubic", *extra])


@pytest.fixture
def camera_jpeg(tmp_path: Path) -> Path:
    """A 30×20 (stored) AdobeRGB JPEG, EXIF orientation 6 with a thumbnail, and XMP."""
    rgb = (smooth_rgb16(20, 30) >> 8).astype(np.uint8)
    thumb = jpeg_bytes(np.zeros((8, 8, 3), np.uint8))
    path = tmp_path / "camera.jpg"
    path.write_bytes(jpeg_bytes(rgb, quality=95, exif=camera_exif(6, thumbnail=thumb), icc_profile=adobe_rgb(),
                                xmp=XMP))
    with Image.open(path) as im:
        assert im.getexif().get_ifd(ExifTags.IFD.IFD1)  # the thumbnail is there to be dropped
    return path


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp"])
def test_output_format_follows_the_suffix_and_keeps_the_metadata(tmp_path, camera_jpeg, suffix):
    dst = tmp_path / f"out{suffix}"
    assert _upscale(camera_jpeg, dst, "--quality", "95") == 0
    with Image.open(dst) as im:
        assert im.format == {".jpg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".webp": "WEBP"}[suffix]
        assert im.size == (40, 60)  # rotated upright, ×2
        exif = im.getexif()
        assert exif.get(0x0112, 1) == 1 and exif[0x010F] == "ZoomCam" and exif[0x0110] == "Z1"
        sub = exif.get_ifd(ExifTags.IFD.Exif)  # TIFF too (sr_core.tiff_exif)
        assert (sub[0xA002], sub[0xA003]) == (40, 60) and float(sub[0x829A]) == 1 / 250
        assert not exif.get_ifd(ExifTags.IFD.IFD1)  # the stale thumbnail is gone
        assert profile_name(im.info["icc_profile"]) == "sRGB built-in"
    out = load_image(dst)
    assert b'tiff:Orientation="1"' in out.metadata.xmp and b"A. Photographer" in out.metadata.xmp
    source = load_image(camera_jpeg)
    expected = np.asarray(Image.fromarray((source.pixels * 255).round().astype(np.uint8)).resize((40, 60)))
    assert np.abs(out.pixels * 255 - expected).mean() < 3  # the same colours (converted once)


def test_16_bits_in_give_16_bits_out_where_the_format_holds_them(tmp_path):
    src = write_tiff(tmp_path / "deep.tif", smooth_rgb16(10, 12) + 3, icc=adobe_rgb())
    for suffix, bits in ((".tif", 16), (".png", 16), (".jpg", 8)):
        dst = tmp_path / f"out{suffix}"
        assert _upscale(src, dst) == 0
        img = load_image(dst, levels=True)
        assert img.bit_depth == bits and img.pixels.shape == (20, 24, 3)
    assert _upscale(src, tmp_path / "eight.tif", "--bits", "8") == 0
    assert load_image(tmp_path / "eight.tif").bit_depth == 8


def test_16_bits_into_jpeg_is_refused(tmp_path, camera_jpeg, capsys):
    assert _upscale(camera_jpeg, tmp_path / "o.jpg", "--bits", "16") == 2
    assert "JPEG holds 8 bits" in capsys.readouterr().err and not (tmp_path / "o.jpg").exists()


@pytest.mark.parametrize("make", ["heic", "dng"])
def test_heic_and_raw_inputs(tmp_path, make):
    if make == "heic":
        src = write_heic(tmp_path / "in.heic", (smooth_rgb16(32, 48) >> 8).astype(np.uint8))
    else:
        src = write_dng(tmp_path / "in.dng", 32, 48)
    assert _upscale(src, tmp_path / "out.tif") == 0
    img = load_image(tmp_path / "out.tif")
    assert img.pixels.shape == (64, 96, 3) and img.bit_depth == (8 if make == "heic" else 16)
    if make == "dng":  # the camera's IFD0 tags travel from the DNG into the TIFF
        with Image.open(tmp_path / "out.tif") as im:
            assert (im.getexif()[0x010F], im.getexif()[0x0110]) == ("ZoomCam", "Z1")


def test_an_existing_output_is_not_overwritten(tmp_path, camera_jpeg, capsys):
    dst = tmp_path / "out.png"
    dst.write_bytes(b"precious")
    assert _upscale(camera_jpeg, dst) == 2
    assert "out.png exists; add --overwrite" in capsys.readouterr().err
    assert dst.read_bytes() == b"precious"
    assert _upscale(camera_jpeg, dst, "--overwrite") == 0
    assert load_image(dst).pixels.shape == (60, 40, 3)


def test_a_batch_skips_or_refuses_existing_outputs(tmp_path, camera_jpeg, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg"):
        (folder / name).write_bytes(camera_jpeg.read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    (out / "a-bicubic.jpg").write_bytes(b"precious")
    assert _upscale(folder, out, "--format", "jpg") == 2
    assert "add --overwrite to replace them, or --skip-existing" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["a-bicubic.jpg"]
    assert _upscale(folder, out, "--format", "jpg", "--skip-existing") == 0
    assert "skipped" in capsys.readouterr().err
    assert (out / "a-bicubic.jpg").read_bytes() == b"precious"
    assert load_image(out / "b-bicubic.jpg").pixels.shape == (60, 40, 3)


def test_ctrl_c_while_writing_leaves_no_file(tmp_path, camera_jpeg, monkeypatch, capsys):
    real = Path.write_bytes

    def half_then_interrupt(self: Path, data: bytes) -> int:
        real(self, data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", half_then_interrupt)
    assert _upscale(camera_jpeg, tmp_path / "out.tif") == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["camera.jpg"]  # no out.tif, no temporary file


def test_bad_photographs_exit_2_with_one_line_and_write_nothing(tmp_path, capsys):
    heic = write_heic(tmp_path / "cut.heic", (smooth_rgb16(16, 16) >> 8).astype(np.uint8))
    heic.write_bytes(heic.read_bytes()[: heic.stat().st_size // 2])
    raw = tmp_path / "shot.cr2"
    raw.write_bytes(b"II*\x00" + bytes(range(256)) * 8)
    odd = write_tiff(tmp_path / "odd.tif", smooth_rgb16(8, 8))
    set_tiff_compression(odd, 12345)
    bad_icc = write_tiff(tmp_path / "badicc.tif", smooth_rgb16(8, 8), icc=b"\0" * 200)
    for src in (heic, raw, odd, bad_icc):
        dst = tmp_path / f"{src.stem}-out.png"
        assert _upscale(src, dst) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {src.name}: ") and err.count("\n") == 1, err
        assert not dst.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
