"""Robust image loading and saving (Pillow + numpy), and tensor conversions.

Everything is loaded as float32 RGB in [0, 1] (plus an optional separate alpha channel),
whatever the source: EXIF orientation, palettes, CMYK, ICC profiles, grayscale, 16-bit and
float modes. Problems surface as :class:`ImageLoadError` with a message meant for users.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from sr_core.files import atomic_target

try:
    from PIL import ImageCms
except ImportError:  # Pillow built without LittleCMS
    ImageCms = None

DEFAULT_MAX_PIXELS = 200_000_000
#: file name endings taken for images when a folder is listed (what ``load_image`` is meant for)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif")
_DIGITS = re.compile(r"(\d+)")

# Pillow's raw modes for 16-bit PNGs that it decodes to 8 bits per channel (see _png16).
_PNG16_RAWMODES = ("RGB;16B", "RGBA;16B", "LA;16B")
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
_OPEN_LOCK = threading.Lock()


class ImageLoadError(ValueError):
    """An image could not be loaded; the message names the file, the problem and a remedy."""


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image: RGB pixels (H×W×3; float32 in [0, 1], or uint8 levels when loaded with
    ``levels``) and optional float32 alpha (H×W)."""

    pixels: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int
    grayscale: bool
    source_mode: str
    path: str | None

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


#: the formats ``load_image`` reads, by their first bytes (nothing else is even parsed)
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"),
               (b"GIF89a", "GIF"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BM", "BMP"))
#: EXIF orientation → the transposition that displays the stored pixels upright
_ORIENTATIONS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                 4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                 8: Image.Transpose.ROTATE_90}
_UNKNOWN = "not a recognised image format (or the file is damaged). Use a PNG, JPEG, WebP, TIFF or BMP image."


def sniff_format(head: bytes) -> str | None:
    """The image format its first 12 bytes identify (PNG, JPEG, GIF, TIFF, BMP, WEBP), or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for magic, fmt in _SIGNATURES if head.startswith(magic)), None)


@dataclass(frozen=True)
class _Source:
    """Where the encoded image is: a regular file, or bytes in memory."""

    name: str
    path: str | None
    data: bytes | None
    format: str

    def open(self) -> str | BinaryIO:
        """What ``Image.open`` takes: the path (Pillow then closes the file) or the bytes."""
        return io.BytesIO(self.data) if self.data is not None else str(self.path)


def _read_source(source: str | os.PathLike | bytes | BinaryIO) -> _Source:
    """Identify the image: a regular file (never a FIFO or device) whose first bytes are a format's."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        name = Path(path).name or path
        try:
            info = os.stat(path)  # before open(): opening a FIFO would wait for a writer
            if stat.S_ISDIR(info.st_mode):
                raise ImageLoadError(f"{name}: is a folder, not an image file.")
            if not stat.S_ISREG(info.st_mode):
                raise ImageLoadError(f"{name}: is not a regular file (a pipe, device or socket); "
                                     "open an image file.")
            with open(path, "rb") as f:
                head = f.read(16)
        except FileNotFoundError:
            raise ImageLoadError(f"{name}: file not found. Check the path ({path}).") from None
        except OSError as exc:
            raise ImageLoadError(
                f"{name}: cannot be read ({exc.strerror or exc}). Check permissions and the disk."
            ) from exc
        data = None
    else:
        if isinstance(source, (bytes, bytearray, memoryview)):
            data, path, name = bytes(source), None, "<image data>"
        else:
            data, path, name = source.read(), None, str(getattr(source, "name", "<stream>"))
        head = data[:16]
    fmt = sniff_format(head)
    if fmt is None:
        raise ImageLoadError(f"{name}: {_UNKNOWN}")
    return _Source(name, path, data, fmt)


def _open(source: _Source, max_pixels: int) -> Image.Image:
    """Open (header only) with our own size limit in place of Pillow's global bomb check."""
    with _OPEN_LOCK:  # Pillow's limit is global: lift it only for this call, then restore
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            im = Image.open(source.open(), formats=[source.format])
        except UnidentifiedImageError:
            raise ImageLoadError(f"{source.name}: {_UNKNOWN}") from None
        except _DECODE_ERRORS as exc:
            raise ImageLoadError(
                f"{source.name}: the file is truncated or corrupt ({exc}). Re-export or re-download it."
            ) from exc
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    width, height = im.size
    if width * height > max_pixels:
        im.close()
        raise ImageLoadError(
            f"{source.name}: {width}×{height} = {width * height:,} pixels exceeds the limit of "
            f"{max_pixels:,} pixels. Downscale the image first, or raise the limit if you "
            "trust the file."
        )
    return im


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except _DECODE_ERRORS:
        return 1
    return value if value in _ORIENTATIONS else 1


def image_size(source: str | os.PathLike | bytes | BinaryIO, *,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """(width, height) as displayed (EXIF orientation applied), from the header alone."""
    with _open(_read_source(source), max_pixels) as im:
        width, height = im.size
        return (height, width) if _orientation(im) >= 5 else (width, height)


def _reduced(im: Image.Image, least: tuple[int, int] | None, swap: bool) -> Image.Image:
    """``im`` decoded at a fraction of its size that still has ``least`` (height, width) pixels
    (JPEG: decoded scaled by ``draft``; others: ``reduce``, box filter), else ``im`` as it is."""
    if least is None:
        return im
    need_h, need_w = least[::-1] if swap else least
    factor = min(im.height // max(1, need_h), im.width // max(1, need_w))
    if factor < 2:
        return im
    if im.format == "JPEG" and im.mode in ("RGB", "L", "CMYK"):
        im.draft(im.mode, (-(-im.width // factor), -(-im.height // factor)))
        factor = min(im.height // max(1, need_h), im.width // max(1, need_w))
    if factor < 2 or im.mode not in ("L", "LA", "RGB", "RGBA", "I", "F", "CMYK"):
        return im
    return im.reduce(factor)


def _srgb(im: Image.Image) -> Image.Image:
    """An 8-bit RGB or CMYK image as RGB, converted to sRGB through its embedded ICC profile."""
    icc = im.info.get("icc_profile")
    if ImageCms is None or not icc:
        return im.convert("RGB")
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if im.mode == "RGB" and "srgb" in ImageCms.getProfileDescription(profile).lower():
            return im
        return ImageCms.profileToProfile(
            im, profile, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError):  # unusable profile: plain conversion
        return im.convert("RGB")


def _normalised(arr: np.ndarray, maximum: float) -> np.ndarray:
    """``arr / maximum`` as float32, clipped to [0, 1] (in place: one float copy of the image)."""
    out = arr.astype(np.float32)
    out /= np.float32(maximum)
    return np.clip(out, 0.0, 1.0, out=out)


def _gray_arrays(im: Image.Image, levels: bool) -> tuple[np.ndarray, int]:
    """One-channel modes ('1', L, I;16*, I, F) as H×W float32 in [0, 1] (8-bit ones as uint8
    with ``levels``) and their bit depth."""
    if im.mode == "1":
        im = im.convert("L")
    arr = np.asarray(im)
    if im.mode == "L":
        return (arr if levels else _normalised(arr, 255.0)), 8
    if im.mode == "F":  # float data: [0, 1] if it fits, else an 8- or 16-bit range
        finite = np.isfinite(arr)
        peak = float(np.max(arr, where=finite, initial=0.0))
        scale = 1.0 if peak <= 1.0 else 255.0 if peak <= 255.0 else 65535.0
        # explicitly: NaN is black, +Inf white, -Inf black (the clip maps ±Inf, NaN stays NaN)
        return np.nan_to_num(_normalised(arr, scale), nan=0.0), 16
    return _normalised(arr, 65535.0), 16  # I;16, I;16B, I;16L, I


def _colour_arrays(im: Image.Image, levels: bool) -> tuple[np.ndarray, np.ndarray | None, bool, int]:
    """(H×W×3 pixels, H×W alpha or None, grayscale, bit depth) of an oriented Pillow image;
    8-bit pixels stay uint8 with ``levels``."""
    mode = im.mode
    if mode in ("P", "PA"):
        im = im.convert("RGBA" if mode == "PA" or "transparency" in im.info else "RGB")
    elif mode in ("RGBa", "La", "RGBX", "YCbCr", "LAB", "HSV"):
        im = im.convert({"RGBa": "RGBA", "La": "LA"}.get(mode, "RGB"))
    alpha = None
    if im.mode in ("RGBA", "LA"):
        alpha = _normalised(np.asarray(im.getchannel("A")), 255.0)
        im = im.convert("RGB" if im.mode == "RGBA" else "L")
    if im.mode in ("RGB", "CMYK"):
        rgb = np.asarray(_srgb(im))
        return (rgb if levels else _normalised(rgb, 255.0)), alpha, False, 8
    if im.mode in ("1", "L", "I", "F") or im.mode.startswith("I;16"):
        gray, bits = _gray_arrays(im, levels)
        return np.repeat(gray[..., None], 3, axis=2), alpha, True, bits
    raise ImageLoadError(f"unsupported colour mode {mode!r}")


def _decode_raw(source: _Source, rawmode: str) -> np.ndarray:
    """Decode a PNG with Pillow, unpacking its scanlines with ``rawmode`` (oriented, uint16)."""
    with Image.open(source.open(), formats=["PNG"]) as im:
        im.tile = [(*im.tile[0][:3], rawmode)]  # (codec, extents, offset, args)
        return np.asarray(ImageOps.exif_transpose(im), dtype=np.uint16)


def _png16(source: _Source, rawmode: str) -> tuple[np.ndarray, np.ndarray | None]:
    """16-bit colour or gray+alpha PNG at full precision (Pillow alone keeps only 8 bits)."""
    if rawmode == "LA;16B":  # 4 bytes per pixel: the 8-bit RGBA unpacker passes them through
        raw = _decode_raw(source, "RGBA")
        words = (raw[..., 0::2] << 8) | raw[..., 1::2]  # gray, alpha
    else:  # unpacking as little-endian picks the low byte of each big-endian sample
        high = _decode_raw(source, rawmode)
        words = (high << 8) | _decode_raw(source, rawmode.replace(";16B", ";16L"))
    values = _normalised(words, 65535.0)
    colour, alpha = (values, None) if rawmode == "RGB;16B" else (values[..., :-1], values[..., -1])
    return np.repeat(colour, 3 // colour.shape[2], axis=2), alpha


def load_image(
    source: str | os.PathLike | bytes | BinaryIO, *, max_pixels: int = DEFAULT_MAX_PIXELS,
    levels: bool = False, least: tuple[int, int] | None = None,
) -> LoadedImage:
    """Load any supported image as float32 RGB in [0, 1] plus optional alpha.

    Applies EXIF orientation and embedded ICC profiles (to sRGB, 8-bit sources only), keeps
    16-bit precision (grayscale and colour PNG), never premultiplies alpha. Raises
    :class:`ImageLoadError` for missing, unreadable, truncated, unsupported or too large images,
    and for anything but a regular file whose first bytes name a supported format.

    ``levels``: 8-bit images keep uint8 pixels (levels 0–255; no float copy of the image).
    ``least``: (height, width) the caller needs at least; a larger image may be decoded
    reduced by an integer factor (box filter) so that memory follows that size, not the file's.
    """
    src = _read_source(source)
    im = _open(src, max_pixels)
    mode = im.mode
    try:
        with im:
            rawmode = im.tile[0][3] if im.format == "PNG" and len(im.tile) == 1 else None
            if rawmode in _PNG16_RAWMODES:
                pixels, alpha = _png16(src, rawmode)
                grayscale, bits = rawmode == "LA;16B", 16
            else:
                orientation = _orientation(im)
                decoded = _reduced(im, least, swap=orientation >= 5)
                if orientation != 1:
                    decoded = decoded.transpose(_ORIENTATIONS[orientation])
                pixels, alpha, grayscale, bits = _colour_arrays(decoded, levels)
    except ImageLoadError as exc:
        raise ImageLoadError(f"{src.name}: {exc}. Convert the image to RGB PNG or JPEG.") from None
    except _DECODE_ERRORS as exc:
        raise ImageLoadError(
            f"{src.name}: the file is truncated or corrupt ({exc}). Re-export or re-download it."
        ) from exc
    return LoadedImage(
        pixels=np.ascontiguousarray(pixels, dtype=np.uint8 if pixels.dtype == np.uint8 else np.float32),
        alpha=None if alpha is None else np.ascontiguousarray(alpha, dtype=np.float32),
        bit_depth=bits,
        grayscale=grayscale,
        source_mode=mode,
        path=src.path,
    )


def _quantize(pixels: np.ndarray, peak: int, dtype: type) -> np.ndarray:
    """Clamp to [0, 1], scale to ``peak`` and round half up."""
    x = np.asarray(pixels)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    return np.floor(np.clip(x, 0.0, 1.0) * peak + 0.5).astype(dtype)


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] floats to uint8, clamped and rounded (0.3 → 77, not 76)."""
    return _quantize(pixels, 255, np.uint8)


def to_uint16(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] floats to uint16, clamped and rounded."""
    return _quantize(pixels, 65535, np.uint16)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(
        ">I", zlib.crc32(kind + payload) & 0xFFFFFFFF
    )


def _encode_png16(channels: np.ndarray) -> bytes:
    """A 16-bit PNG (gray, gray+alpha, RGB or RGBA) from H×W×C uint16.

    Pillow 13 cannot write 16-bit colour PNGs (it only has 8-bit multi-channel modes), so this
    minimal writer emits IHDR/IDAT/IEND with filter type 0 on every row.
    """
    height, width, count = channels.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[count]
    rows = np.zeros((height, 1 + width * count * 2), dtype=np.uint8)
    rows[:, 1:] = channels.astype(">u2").reshape(height, -1).view(np.uint8)
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)),
            _png_chunk(b"IEND", b""),
        )
    )


def to_levels(pixels: np.ndarray, bits: int) -> np.ndarray:
    """[0, 1] floats as 8- or 16-bit integer levels (uint8 / uint16); such levels pass unchanged."""
    dtype = {8: np.uint8, 16: np.uint16}.get(bits)
    if dtype is None:
        raise ValueError(f"bits must be 8 or 16, got {bits}")
    px = np.asarray(pixels)
    if px.dtype == dtype:
        return px
    if not np.issubdtype(px.dtype, np.floating):
        raise ValueError(f"{bits}-bit levels must be {np.dtype(dtype).name}, got {px.dtype}")
    return to_uint16(px) if bits == 16 else to_uint8(px)


def _encode_png(pixels: np.ndarray, bits: int, alpha: np.ndarray | None) -> bytes:
    """PNG bytes of H×W×3 (or H×W) pixels with optional H×W alpha (see :func:`save_png`)."""
    px = to_levels(pixels, bits)
    if px.ndim == 2:
        px = px[..., None]
    if px.ndim != 3 or px.shape[2] not in (1, 3):
        raise ValueError(f"expected H×W×3 or H×W pixels, got shape {np.shape(pixels)}")
    if alpha is not None:
        if np.shape(alpha) != px.shape[:2]:
            raise ValueError(f"alpha shape {np.shape(alpha)} does not match {px.shape[:2]}")
        px = np.concatenate([px, to_levels(alpha, bits)[..., None]], axis=2)
    if bits == 16:
        return _encode_png16(px)
    buffer = io.BytesIO()
    Image.fromarray(px[..., 0] if px.shape[2] == 1 else px).save(buffer, "PNG")
    return buffer.getvalue()


def save_png(
    path: str | os.PathLike, pixels: np.ndarray, *, bits: int = 8, alpha: np.ndarray | None = None
) -> None:
    """Save pixels as an 8- or 16-bit PNG, atomically (temp file + ``os.replace``).

    ``pixels`` (and ``alpha``): [0, 1] floats, rounded here, or levels already quantised to
    ``bits`` (uint8 for 8, uint16 for 16; see :func:`to_levels`).
    """
    data = _encode_png(pixels, bits, alpha)
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)


def natural_key(name: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key: case-insensitive, runs of digits compared as numbers ("img2" before "img10")."""
    parts = _DIGITS.split(name.casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), name


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The images directly in ``folder`` (regular, non-hidden files with an image ending, in any
    case), in natural order; empty when the folder cannot be read."""
    folder = Path(folder)
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if not e.name.startswith(".")
                     and os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES and e.is_file()]
    except OSError:
        return []
    return [folder / name for name in sorted(names, key=natural_key)]
