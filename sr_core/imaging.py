"""Robust image loading and saving (Pillow + numpy), and tensor conversions.

Everything is loaded as float32 RGB in [0, 1] (plus an optional separate alpha channel),
whatever the source: EXIF orientation, palettes, CMYK, ICC profiles, grayscale, 16-bit and
float modes. Problems surface as :class:`ImageLoadError` with a message meant for users.
"""

from __future__ import annotations

import io
import os
import re
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
    """A decoded image: RGB float32 pixels in [0, 1] (H×W×3) and optional alpha (H×W)."""

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


def _read_source(source: str | os.PathLike | bytes | BinaryIO) -> tuple[bytes, str | None, str]:
    """(file bytes, path or None, display name)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None, "<image data>"
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        name = Path(path).name or path
        try:
            return Path(path).read_bytes(), path, name
        except FileNotFoundError:
            raise ImageLoadError(f"{name}: file not found. Check the path ({path}).") from None
        except IsADirectoryError:
            raise ImageLoadError(f"{name}: is a folder, not an image file.") from None
        except OSError as exc:
            raise ImageLoadError(
                f"{name}: cannot be read ({exc.strerror or exc}). Check permissions and the disk."
            ) from exc
    name = str(getattr(source, "name", "<stream>"))
    return source.read(), None, name


def _open(data: bytes, name: str, max_pixels: int) -> Image.Image:
    """Open (header only) with our own size limit in place of Pillow's global bomb check."""
    with _OPEN_LOCK:  # Pillow's limit is global: lift it only for this call, then restore
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            im = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise ImageLoadError(
                f"{name}: not a recognised image format (or the file is damaged). "
                "Use a PNG, JPEG, WebP, TIFF or BMP image."
            ) from None
        except _DECODE_ERRORS as exc:
            raise ImageLoadError(
                f"{name}: the file is truncated or corrupt ({exc}). Re-export or re-download it."
            ) from exc
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    width, height = im.size
    if width * height > max_pixels:
        im.close()
        raise ImageLoadError(
            f"{name}: {width}×{height} = {width * height:,} pixels exceeds the limit of "
            f"{max_pixels:,} pixels. Downscale the image first, or raise the limit if you "
            "trust the file."
        )
    return im


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


def _gray_arrays(im: Image.Image) -> tuple[np.ndarray, int]:
    """One-channel modes ('1', L, I;16*, I, F) as H×W float32 in [0, 1] and their bit depth."""
    if im.mode == "1":
        im = im.convert("L")
    arr = np.asarray(im)
    if im.mode == "L":
        return _normalised(arr, 255.0), 8
    if im.mode == "F":  # float data: [0, 1] if it fits, else assume an 8- or 16-bit range
        peak = float(np.nanmax(arr)) if arr.size else 0.0
        scale = 1.0 if peak <= 1.0 else 255.0 if peak <= 255.0 else 65535.0
        return np.nan_to_num(_normalised(arr, scale)), 16
    return _normalised(arr, 65535.0), 16  # I;16, I;16B, I;16L, I


def _colour_arrays(im: Image.Image) -> tuple[np.ndarray, np.ndarray | None, bool, int]:
    """(H×W×3 pixels, H×W alpha or None, grayscale, bit depth) of an oriented Pillow image."""
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
        return _normalised(np.asarray(_srgb(im)), 255.0), alpha, False, 8
    if im.mode in ("1", "L", "I", "F") or im.mode.startswith("I;16"):
        gray, bits = _gray_arrays(im)
        return np.repeat(gray[..., None], 3, axis=2), alpha, True, bits
    raise ImageLoadError(f"unsupported colour mode {mode!r}")


def _decode_raw(data: bytes, rawmode: str) -> np.ndarray:
    """Decode a PNG with Pillow, unpacking its scanlines with ``rawmode`` (oriented, uint16)."""
    with Image.open(io.BytesIO(data)) as im:
        im.tile = [(*im.tile[0][:3], rawmode)]  # (codec, extents, offset, args)
        return np.asarray(ImageOps.exif_transpose(im), dtype=np.uint16)


def _png16(data: bytes, rawmode: str) -> tuple[np.ndarray, np.ndarray | None]:
    """16-bit colour or gray+alpha PNG at full precision (Pillow alone keeps only 8 bits)."""
    if rawmode == "LA;16B":  # 4 bytes per pixel: the 8-bit RGBA unpacker passes them through
        raw = _decode_raw(data, "RGBA")
        words = (raw[..., 0::2] << 8) | raw[..., 1::2]  # gray, alpha
    else:  # unpacking as little-endian picks the low byte of each big-endian sample
        high = _decode_raw(data, rawmode)
        words = (high << 8) | _decode_raw(data, rawmode.replace(";16B", ";16L"))
    values = _normalised(words, 65535.0)
    colour, alpha = (values, None) if rawmode == "RGB;16B" else (values[..., :-1], values[..., -1])
    return np.repeat(colour, 3 // colour.shape[2], axis=2), alpha


def load_image(
    source: str | os.PathLike | bytes | BinaryIO, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> LoadedImage:
    """Load any supported image as float32 RGB in [0, 1] plus optional alpha.

    Applies EXIF orientation and embedded ICC profiles (to sRGB, 8-bit sources only), keeps
    16-bit precision (grayscale and colour PNG), never premultiplies alpha. Raises
    :class:`ImageLoadError` for missing, unreadable, truncated, unsupported or too large images.
    """
    data, path, name = _read_source(source)
    im = _open(data, name, max_pixels)
    mode = im.mode
    try:
        with im:
            rawmode = im.tile[0][3] if im.format == "PNG" and len(im.tile) == 1 else None
            if rawmode in _PNG16_RAWMODES:
                pixels, alpha = _png16(data, rawmode)
                grayscale, bits = rawmode == "LA;16B", 16
            else:
                pixels, alpha, grayscale, bits = _colour_arrays(ImageOps.exif_transpose(im))
    except ImageLoadError as exc:
        raise ImageLoadError(f"{name}: {exc}. Convert the image to RGB PNG or JPEG.") from None
    except _DECODE_ERRORS as exc:
        raise ImageLoadError(
            f"{name}: the file is truncated or corrupt ({exc}). Re-export or re-download it."
        ) from exc
    return LoadedImage(
        pixels=np.ascontiguousarray(pixels, dtype=np.float32),
        alpha=None if alpha is None else np.ascontiguousarray(alpha, dtype=np.float32),
        bit_depth=bits,
        grayscale=grayscale,
        source_mode=mode,
        path=path,
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
