"""Tests for image loading/saving; fixtures are generated with Pillow at test time."""

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from sr_core import imaging
from sr_core.imaging import (
    DEFAULT_MAX_PIXELS,
    ImageLoadError,
    list_images,
    load_image,
    natural_key,
    save_png,
    to_uint8,
    to_uint16,
)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png16_rgb(words: np.ndarray) -> bytes:
    """48-bit RGB PNG written by hand; every row uses the Sub filter (depends on 6-byte pixels)."""
    h, w, _ = words.shape
    raw = words.astype(">u2").reshape(h, -1).view(np.uint8).astype(np.int16)
    sub = raw.copy()
    sub[:, 6:] -= raw[:, :-6]
    rows = np.concatenate([np.ones((h, 1), np.int16), sub % 256], axis=1).astype(np.uint8)
    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes())),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_bytes(im: Image.Image, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, "PNG", **kwargs)
    return buffer.getvalue()


def test_exif_orientation_jpeg(tmp_path: Path) -> None:
    stored = Image.new("RGB", (40, 20), (255, 0, 0))
    stored.paste((0, 0, 255), (20, 0, 40, 20))  # left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # display = stored rotated 90° clockwise
    path = tmp_path / "rotated.jpg"
    stored.save(path, "JPEG", exif=exif, quality=95)
    img = load_image(path)
    assert (img.height, img.width) == (40, 20)
    assert img.path == str(path) and img.source_mode == "RGB" and img.bit_depth == 8
    top, bottom = img.pixels[:16].mean(axis=(0, 1)), img.pixels[24:].mean(axis=(0, 1))
    assert top[0] > 0.9 and top[2] < 0.1  # the left (red) half is now on top
    assert bottom[2] > 0.9 and bottom[0] < 0.1


def test_palette_png_with_transparency() -> None:
    im = Image.new("P", (4, 2), 0)
    im.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    im.putpixel((1, 0), 1)
    img = load_image(_png_bytes(im, transparency=0))
    assert img.source_mode == "P" and not img.grayscale
    assert img.alpha is not None
    np.testing.assert_array_equal(img.alpha, [[0, 1, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(img.pixels[0, 1] * 255, [200, 100, 50], atol=1e-4)
    np.testing.assert_allclose(img.pixels[0, 0] * 255, [10, 20, 30], atol=1e-4)


def test_palette_png_without_transparency() -> None:
    im = Image.new("P", (3, 3), 1)
    im.putpalette([0, 0, 0, 1, 2, 3] + [0] * 762)
    img = load_image(_png_bytes(im))
    assert img.alpha is None
    np.testing.assert_allclose(img.pixels * 255, np.broadcast_to([1, 2, 3], (3, 3, 3)), atol=1e-4)


def test_cmyk_jpeg() -> None:
    buffer = io.BytesIO()
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(buffer, "JPEG", quality=95)
    img = load_image(buffer.getvalue())
    assert img.source_mode == "CMYK" and img.pixels.shape == (16, 16, 3)
    np.testing.assert_allclose(img.pixels.mean(axis=(0, 1)), [1, 0, 0], atol=0.03)


def test_rgb_with_srgb_icc_profile_is_unchanged() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    plain = load_image(_png_bytes(Image.fromarray(rgb)))
    tagged = load_image(_png_bytes(Image.fromarray(rgb), icc_profile=icc))
    np.testing.assert_array_equal(tagged.pixels, plain.pixels)
    assert plain.metadata.profile is None and tagged.metadata.colour_description == "sRGB built-in"


def test_a_profile_littlecms_rejects_is_refused() -> None:
    rgb = np.zeros((6, 5, 3), dtype=np.uint8)
    with pytest.raises(ImageLoadError, match=r"<image data>: its colour profile is damaged"):
        load_image(_png_bytes(Image.fromarray(rgb), icc_profile=b"not a profile"))


def test_grayscale_png() -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    img = load_image(_png_bytes(Image.fromarray(gray)))
    assert img.grayscale and img.source_mode == "L" and img.bit_depth == 8
    assert img.pixels.shape == (3, 4, 3) and img.pixels.dtype == np.float32
    assert img.pixels.flags.c_contiguous
    for c in range(3):
        np.testing.assert_allclose(img.pixels[..., c] * 255, gray, atol=1e-4)


def test_grayscale_alpha_png() -> None:
    la = Image.merge("LA", (Image.new("L", (2, 2), 100), Image.new("L", (2, 2), 51)))
    img = load_image(_png_bytes(la))
    assert img.grayscale and img.alpha is not None
    np.testing.assert_allclose(img.alpha, 0.2, atol=1e-6)
    np.testing.assert_allclose(img.pixels, 100 / 255, atol=1e-6)


def test_16bit_grayscale_png() -> None:
    words = np.array([[0, 1000, 1001], [32768, 65534, 65535]], dtype=np.uint16)
    im = Image.fromarray(words)
    assert im.mode == "I;16"
    img = load_image(_png_bytes(im))
    assert img.bit_depth == 16 and img.grayscale and img.source_mode == "I;16"
    np.testing.assert_allclose(img.pixels[..., 0] * 65535, words, atol=0.01)


def test_16bit_rgb_png_keeps_precision() -> None:
    words = np.random.default_rng(1).integers(0, 65536, (5, 7, 3), dtype=np.uint16)
    words[0, 0] = [256, 257, 258]  # differ only in the low byte
    img = load_image(_png16_rgb(words))
    assert img.bit_depth == 16 and not img.grayscale and img.alpha is None
    np.testing.assert_allclose(img.pixels * 65535, words, atol=0.01)
    assert len(np.unique(img.pixels[0, 0])) == 3


def test_16bit_rgba_and_gray_alpha_png_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    pixels, alpha = rng.random((4, 6, 3)), rng.random((4, 6))
    for px in (pixels, pixels[..., 0]):
        save_png(tmp_path / "a.png", px, bits=16, alpha=alpha)
        img = load_image(tmp_path / "a.png")
        assert img.bit_depth == 16 and img.grayscale == (px.ndim == 2)
        expected = px if px.ndim == 3 else px[..., None]
        expected = np.broadcast_to(expected, (4, 6, 3))
        np.testing.assert_allclose(img.pixels, expected, atol=0.6 / 65535)
        np.testing.assert_allclose(img.alpha, alpha, atol=0.6 / 65535)


def test_rgba_is_not_premultiplied() -> None:
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., :3] = (200, 100, 50)
    rgba[..., 3] = [[0, 255], [128, 1]]
    img = load_image(_png_bytes(Image.fromarray(rgba)))
    assert img.source_mode == "RGBA"
    colour = np.broadcast_to([200, 100, 50], (2, 2, 3))
    np.testing.assert_allclose(img.pixels * 255, colour, atol=1e-4)
    np.testing.assert_allclose(img.alpha * 255, rgba[..., 3], atol=1e-4)


def test_stream_source() -> None:
    data = _png_bytes(Image.new("RGB", (3, 2), (255, 255, 255)))
    img = load_image(io.BytesIO(data))
    assert img.path is None and (img.height, img.width) == (2, 3)
    assert np.all(img.pixels == 1)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file(tmp_path: Path, fmt: str) -> None:
    noise = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match="truncated or corrupt") as info:
        load_image(path)
    assert path.name in str(info.value)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.png"
    path.write_bytes(np.random.default_rng(4).integers(0, 256, 1000, dtype=np.uint8).tobytes())
    with pytest.raises(ImageLoadError, match="not a recognised image"):
        load_image(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="not found"):
        load_image(tmp_path / "nope.png")


def test_header_claiming_huge_size_is_refused() -> None:
    data = bytearray(_png_bytes(Image.new("RGB", (8, 8))))
    ihdr = struct.pack(">II", 20000, 20000) + bytes(data[24:29])
    data[16:33] = ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    limit_before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageLoadError, match=f"{DEFAULT_MAX_PIXELS:,}") as info:
        load_image(bytes(data))
    assert "20000×20000" in str(info.value)
    assert limit_before == Image.MAX_IMAGE_PIXELS  # Pillow's global limit restored


def test_max_pixels_argument() -> None:
    data = _png_bytes(Image.new("RGB", (100, 60)))
    with pytest.raises(ImageLoadError, match="5,000 pixels"):
        load_image(data, max_pixels=5000)
    assert load_image(data, max_pixels=6000).width == 100


def test_to_uint8_rounds_instead_of_truncating() -> None:
    assert to_uint8(np.array([0.3]))[0] == 77  # 0.3 * 255 = 76.5
    assert to_uint8(np.array([0.3], np.float32))[0] == 77
    values = np.array([-1.0, 0.0, 0.499 / 255, 0.501 / 255, 1.0, 2.0])
    np.testing.assert_array_equal(to_uint8(values), [0, 0, 0, 1, 255, 255])
    values = np.array([-0.1, 0.5, 1.0, 1.5])
    np.testing.assert_array_equal(to_uint16(values), [0, 32768, 65535, 65535])
    levels = np.arange(256) / 255.0
    np.testing.assert_array_equal(to_uint8(levels), np.arange(256))


def test_save_png_round_trip_8bit(tmp_path: Path) -> None:
    pixels = np.random.default_rng(5).random((9, 11, 3)).astype(np.float32)
    alpha = np.random.default_rng(6).random((9, 11))
    save_png(tmp_path / "rgb.png", pixels)
    save_png(tmp_path / "rgba.png", pixels, alpha=alpha)
    plain, with_alpha = load_image(tmp_path / "rgb.png"), load_image(tmp_path / "rgba.png")
    assert plain.bit_depth == 8 and plain.alpha is None
    np.testing.assert_array_equal(to_uint8(plain.pixels), to_uint8(pixels))
    np.testing.assert_array_equal(to_uint8(with_alpha.pixels), to_uint8(pixels))
    np.testing.assert_array_equal(to_uint8(with_alpha.alpha), to_uint8(alpha))


def test_save_png_round_trip_16bit(tmp_path: Path) -> None:
    pixels = np.random.default_rng(7).random((9, 11, 3))
    save_png(tmp_path / "deep.png", pixels, bits=16)
    with Image.open(tmp_path / "deep.png") as im:  # a valid PNG that Pillow can read
        assert im.mode == "RGB" and im.size == (11, 9)
    img = load_image(tmp_path / "deep.png")
    assert img.bit_depth == 16
    np.testing.assert_array_equal(to_uint16(img.pixels), to_uint16(pixels))


def test_save_png_takes_quantised_levels_as_they_are(tmp_path: Path) -> None:
    pixels = np.random.default_rng(8).random((9, 11, 3))
    for bits, quantise in ((8, to_uint8), (16, to_uint16)):
        save_png(tmp_path / f"floats{bits}.png", pixels, bits=bits)
        save_png(tmp_path / f"levels{bits}.png", quantise(pixels), bits=bits)
        assert (tmp_path / f"floats{bits}.png").read_bytes() == (tmp_path / f"levels{bits}.png").read_bytes()


def test_save_png_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        save_png(tmp_path / "x.png", np.zeros((4, 4, 2)))
    with pytest.raises(ValueError):
        save_png(tmp_path / "x.png", np.zeros((4, 4, 3)), bits=12)
    with pytest.raises(ValueError, match="uint16"):  # 8-bit levels where 16-bit ones are due
        save_png(tmp_path / "x.png", np.zeros((4, 4, 3), np.uint8), bits=16)
    assert list(tmp_path.iterdir()) == []


def test_save_png_into_missing_folder_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        save_png(tmp_path / "missing" / "out.png", np.zeros((4, 4, 3)))
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_existing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "keep.png"
    save_png(target, np.ones((4, 4, 3)))
    before = target.read_bytes()

    def fail(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(imaging.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save_png(target, np.zeros((4, 4, 3)))
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]


def test_natural_case_insensitive_order_of_images_only(tmp_path):
    for name in ("img10.png", "img2.JPG", "IMG1.webp", "Img3.tiff", "img02b.png", "notes.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "folder.png").mkdir()
    names = [p.name for p in list_images(tmp_path)]
    assert names == ["IMG1.webp", "img2.JPG", "img02b.png", "Img3.tiff", "img10.png"]
    assert natural_key("a9") < natural_key("a10") < natural_key("B1")


def test_non_regular_files_are_refused_before_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    with pytest.raises(ImageLoadError, match="not a regular file"):
        load_image(fifo)
    with pytest.raises(ImageLoadError, match="not a regular file"):
        load_image("/dev/zero")


def test_unknown_formats_are_refused_from_their_first_bytes(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    with open(path, "wb") as f:  # a sparse 30 GB file: reading it whole would exhaust memory
        f.truncate(30 * 2**30)
    with pytest.raises(ImageLoadError, match="not a recognised image"):
        load_image(path)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PPM")  # Pillow reads it, ZoomSR does not offer it
    with pytest.raises(ImageLoadError, match="not a recognised image"):
        load_image(buffer.getvalue())


def test_float_image_with_non_finite_pixels() -> None:
    values = np.full((4, 4), 0.5, np.float32)
    values[0, 0], values[0, 1], values[0, 2] = np.inf, np.nan, -np.inf
    buffer = io.BytesIO()
    Image.fromarray(values, "F").save(buffer, "TIFF")
    img = load_image(buffer.getvalue())
    assert img.pixels[0, 0, 0] == 1 and img.pixels[0, 1, 0] == 0 and img.pixels[0, 2, 0] == 0
    np.testing.assert_allclose(img.pixels[1:], 0.5, atol=1 / 65535)  # not divided by a peak of +Inf (16-bit levels)


def test_levels_keep_8_bit_pixels_as_uint8() -> None:
    rgb = np.random.default_rng(5).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    img = load_image(_png_bytes(Image.fromarray(rgb)), levels=True)
    assert img.pixels.dtype == np.uint8 and np.array_equal(img.pixels, rgb)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_reduced_decoding_keeps_at_least_the_size_asked(fmt: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 400), (40, 80, 120)).save(buffer, fmt)
    assert imaging.image_size(buffer.getvalue()) == (800, 400)
    img = load_image(buffer.getvalue(), least=(90, 110))
    assert (img.height, img.width) == (100, 200)  # reduced 4×: 8× would be under 110 wide
    np.testing.assert_allclose(img.pixels[50, 100] * 255, (40, 80, 120), atol=3)


def test_reduced_decoding_follows_exif_orientation(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 800×400, displayed 400×800
    path = tmp_path / "r.jpg"
    Image.new("RGB", (800, 400)).save(path, "JPEG", exif=exif)
    assert imaging.image_size(path) == (400, 800)
    img = load_image(path, least=(200, 100))
    assert (img.width, img.height) == (100, 200)
