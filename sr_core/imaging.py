"""Robust image loading and saving (Pillow, tifffile, pillow-heif, rawpy + numpy).

Everything is loaded as sRGB: float32 RGB in [0, 1] (or integer levels, 8- or 16-bit, with
``levels``) plus an optional separate alpha channel, whatever the source: EXIF orientation,
palettes, CMYK, ICC profiles (converted by LittleCMS at full precision, see ``colour``),
grayscale, 16-bit and float samples, HEIC/HEIF, AVIF and camera RAW files. Problems surface as
:class:`ImageLoadError` with a message meant for users.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import threading
import zlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from sr_core import photo_formats, pixel_file
from sr_core.colour import ProfileError, is_srgb, profile_name, to_srgb
from sr_core.files import atomic_target
from sr_core.metadata import PhotoMetadata
from sr_core.photo_formats import Decoded, FormatError

DEFAULT_MAX_PIXELS = 200_000_000
#: file name endings taken for images when a folder is listed (what ``load_image`` is meant for)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".avif",
                  *photo_formats.HEIF_SUFFIXES, *photo_formats.RAW_SUFFIXES)
_DIGITS = re.compile(r"(\d+)")

# Pillow's raw modes for 16-bit PNGs that it decodes to 8 bits per channel (see _png16).
_PNG16_RAWMODES = ("RGB;16B", "RGBA;16B", "LA;16B")
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
_OPEN_LOCK = threading.Lock()


class ImageLoadError(ValueError):
    """An image could not be loaded; the message names the file, the problem and a remedy."""


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image in sRGB: RGB pixels (H×W×3; float32 in [0, 1], or with ``levels`` the
    integer levels: uint8 for 8-bit sources, uint16 for deeper ones) and optional float32
    alpha (H×W), plus the photograph's metadata."""

    pixels: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int
    grayscale: bool
    source_mode: str
    path: str | None
    metadata: PhotoMetadata = field(default_factory=PhotoMetadata)

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


#: the formats Pillow reads for ``load_image``, by their first bytes (nothing else is even parsed)
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"),
               (b"GIF89a", "GIF"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BM", "BMP"))
#: formats decoded by ``photo_formats`` (the rest by Pillow): size reader, decoder
_DECODERS = {"TIFF": (photo_formats.tiff_size, photo_formats.read_tiff),
             "HEIF": (photo_formats.heif_size, photo_formats.read_heif),
             "RAW": (photo_formats.raw_size, photo_formats.read_raw)}
_UNKNOWN = ("not a recognised image format (or the file is damaged). Use a PNG, JPEG, WebP, TIFF, "
            "BMP, HEIC, AVIF or camera RAW image.")


def sniff_format(head: bytes, suffix: str = "") -> str | None:
    """The image format its first 16 bytes (and, for TIFF-shaped RAW files, the file ending)
    identify: PNG, JPEG, GIF, TIFF, BMP, WEBP, HEIF, AVIF or RAW; None for anything else."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    container = photo_formats.sniff_container(head, suffix.lower())
    return container or next((fmt for magic, fmt in _SIGNATURES if head.startswith(magic)), None)


@dataclass(frozen=True)
class _Source:
    """Where the encoded image is: a regular file, or bytes in memory."""

    name: str
    path: str | None
    data: bytes | None
    format: str

    def open(self) -> str | BinaryIO:
        """What the decoders take: the path (they then close the file) or the bytes."""
        return io.BytesIO(self.data) if self.data is not None else str(self.path)


def _read_source(source: str | os.PathLike | bytes | BinaryIO) -> _Source:
    """Identify the image: a regular file (never a FIFO or device) whose first bytes are a format's."""
    suffix = ""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        name = Path(path).name or path
        suffix = Path(path).suffix
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
    fmt = sniff_format(head, suffix)
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
    _check_pixels(source, *im.size, max_pixels)
    return im


def _check_pixels(source: _Source, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageLoadError(
            f"{source.name}: {width}×{height} = {width * height:,} pixels exceeds the limit of "
            f"{max_pixels:,} pixels. Downscale the image first, or raise the limit if you "
            "trust the file."
        )


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except _DECODE_ERRORS:
        return 1
    return value if value in range(1, 9) else 1


def _header(source: _Source, max_pixels: int) -> tuple[int, int, int]:
    """(stored width, stored height, EXIF orientation still to apply), size limit checked."""
    if source.format in _DECODERS:
        try:
            width, height, orientation = _DECODERS[source.format][0](source.open())
        except FormatError as exc:
            raise ImageLoadError(f"{source.name}: {exc}.") from None
        _check_pixels(source, width, height, max_pixels)
        return width, height, orientation
    with _open(source, max_pixels) as im:
        return *im.size, _orientation(im)


def image_size(source: str | os.PathLike | bytes | BinaryIO, *,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """(width, height) as displayed (orientation applied), from the header alone."""
    width, height, orientation = _header(_read_source(source), max_pixels)
    return (height, width) if orientation >= 5 else (width, height)


def orient(samples: np.ndarray, orientation: int) -> np.ndarray:
    """``samples`` (H×W[×C]) as displayed under EXIF ``orientation`` (a view, not a copy)."""
    flips = {1: samples, 2: samples[:, ::-1], 3: samples[::-1, ::-1], 4: samples[::-1]}
    if orientation in flips:
        return flips[orientation]
    transposed = samples.swapaxes(0, 1)  # 5: TRANSPOSE, then 6-8 as flips of it
    return {5: transposed, 6: transposed[:, ::-1], 7: transposed[::-1, ::-1], 8: transposed[::-1]}[orientation]


def _factor(size: tuple[int, int], least: tuple[int, int] | None, swap: bool) -> int:
    """The integer reduction of a (width, height) image that keeps ``least`` (height, width)."""
    if least is None:
        return 1
    need_h, need_w = least[::-1] if swap else least
    return max(1, min(size[1] // max(1, need_h), size[0] // max(1, need_w)))


def _reduced(im: Image.Image, least: tuple[int, int] | None, swap: bool) -> Image.Image:
    """``im`` decoded at a fraction of its size that still has ``least`` (height, width) pixels
    (JPEG: decoded scaled by ``draft``; others: ``reduce``, box filter), else ``im`` as it is."""
    factor = _factor(im.size, least, swap)
    if factor < 2:
        return im
    if im.format == "JPEG" and im.mode in ("RGB", "L", "CMYK"):
        # Pillow picks the reduction from floor(size / requested): a ceiling could halve it
        im.draft(im.mode, (im.width // factor, im.height // factor))
        factor = _factor(im.size, least, swap)
    if factor < 2 or im.mode not in ("L", "LA", "RGB", "RGBA", "I", "F", "CMYK"):
        return im
    return im.reduce(factor)


def _box_reduce(samples: np.ndarray, factor: int) -> np.ndarray:
    """``samples`` (H×W×C) reduced by ``factor`` with a box filter (edge rows/columns that do not
    fill a box are dropped), same dtype."""
    if factor < 2:
        return samples
    h, w, c = samples.shape[0] // factor, samples.shape[1] // factor, samples.shape[2]
    out = np.empty((h, w, c), samples.dtype)
    for top in range(0, h, 64):  # in bands: the float sums stay small
        rows = samples[top * factor:(top + 64) * factor, :w * factor].astype(np.float32)
        boxes = rows.reshape(-1, factor, w, factor, c).mean(axis=(1, 3))
        out[top:top + 64] = np.floor(boxes + 0.5)
    return out


def _pillow_samples(im: Image.Image) -> tuple[np.ndarray, bool]:
    """(H×W×C samples, CMYK) of a Pillow image: 1-4 channels of uint8, or one of uint16."""
    mode = im.mode
    if mode in ("P", "PA"):
        im = im.convert("RGBA" if mode == "PA" or "transparency" in im.info else "RGB")
    elif mode in ("RGBa", "La", "RGBX", "YCbCr", "LAB", "HSV", "1"):
        im = im.convert({"RGBa": "RGBA", "La": "LA", "1": "L"}.get(mode, "RGB"))
    if im.mode == "F":
        samples = photo_formats.as_levels(np.asarray(im))
    elif im.mode == "I" or im.mode.startswith("I;16"):
        samples = np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
    elif im.mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        samples = np.asarray(im)
    else:
        raise ImageLoadError(f"unsupported colour mode {mode!r}")
    return (samples[..., None] if samples.ndim == 2 else samples), im.mode == "CMYK"


def _png16(source: _Source, rawmode: str) -> np.ndarray:
    """16-bit colour or gray+alpha PNG samples at full precision (Pillow alone keeps only 8
    bits), as stored (orientation not applied)."""
    def decode(mode: str) -> np.ndarray:
        with Image.open(source.open(), formats=["PNG"]) as im:
            im.tile = [(*im.tile[0][:3], mode)]  # (codec, extents, offset, args)
            return np.asarray(im, dtype=np.uint16)

    if rawmode == "LA;16B":  # 4 bytes per pixel: the 8-bit RGBA unpacker passes them through
        raw = decode("RGBA")
        return (raw[..., 0::2] << 8) | raw[..., 1::2]  # gray, alpha
    # unpacking as little-endian picks the low byte of each big-endian sample
    return (decode(rawmode) << 8) | decode(rawmode.replace(";16B", ";16L"))


def _cmyk_to_rgb(samples: np.ndarray) -> np.ndarray:
    """Untagged CMYK as RGB by the naive formula (what Pillow does): R = (1 − C)(1 − K)."""
    peak = np.iinfo(samples.dtype).max
    ink = samples.astype(np.float32) / peak
    rgb = (1 - ink[..., :3]) * (1 - ink[..., 3:4]) * peak + 0.5
    return rgb.astype(samples.dtype)


def _to_working_space(colour: np.ndarray, icc: bytes | None, cmyk: bool) -> tuple[np.ndarray, str | None]:
    """RGB (or CMYK) samples as sRGB of the same depth, and the source profile's name."""
    if icc is None:
        return (_cmyk_to_rgb(colour) if cmyk else colour), None
    name = profile_name(icc)
    if colour.shape[2] == 1 or (is_srgb(name) and not cmyk):
        return colour, name
    return to_srgb(colour, icc, "cmyk" if cmyk else "rgb"), name


def _mode_name(samples: np.ndarray, cmyk: bool) -> str:
    base = "CMYK" if cmyk else {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[samples.shape[2]]
    return base + (";16" if samples.dtype == np.uint16 else "")


def _finish(decoded: Decoded, least: tuple[int, int] | None, levels: bool, source: _Source,
            mode: str) -> LoadedImage:
    """Orient, reduce, split alpha, convert to sRGB and scale the samples of ``decoded``."""
    samples = orient(decoded.samples, decoded.orientation)
    samples = _box_reduce(samples, _factor(samples.shape[1::-1], least, swap=False))
    channels = samples.shape[2]
    has_alpha = channels in (2, 4) and not decoded.cmyk
    colour = samples[..., :channels - 1] if has_alpha else samples
    peak = float(np.iinfo(samples.dtype).max)
    alpha = _normalised(samples[..., -1], peak) if has_alpha else None
    try:
        colour, profile = _to_working_space(colour, decoded.icc, decoded.cmyk)
    except ProfileError as exc:
        raise _profile_refused(source, exc) from None
    grayscale = colour.shape[2] == 1
    if grayscale:
        colour = np.broadcast_to(colour, (*colour.shape[:2], 3))
    pixels = colour if levels else _normalised(colour, peak)  # levels: views stay views (no copy)
    return LoadedImage(
        pixels=pixels, alpha=alpha, bit_depth=8 * samples.dtype.itemsize, grayscale=grayscale,
        source_mode=mode, path=source.path,
        metadata=PhotoMetadata(decoded.exif, decoded.xmp, profile),
    )


def _profile_refused(source: _Source, exc: ProfileError) -> ImageLoadError:
    return ImageLoadError(f"{source.name}: {exc}. Re-export it with a standard profile "
                          "(sRGB, Adobe RGB, Display P3).")


def _normalised(arr: np.ndarray, maximum: float) -> np.ndarray:
    """``arr / maximum`` as float32, clipped to [0, 1] (in place: one float copy of the image)."""
    out = arr.astype(np.float32)
    out /= np.float32(maximum)
    return np.clip(out, 0.0, 1.0, out=out)


def _pillow_xmp(im: Image.Image) -> bytes | None:
    xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode()
    return xmp or None


def _decode_pillow(src: _Source, max_pixels: int, least: tuple[int, int] | None) -> tuple[Decoded, str]:
    """Samples and metadata of a file Pillow reads (PNG, JPEG, WebP, AVIF, GIF, BMP)."""
    im = _open(src, max_pixels)
    mode = im.mode
    with im:
        # first: a PNG's getexif() decodes the image (its EXIF may follow the pixels)
        rawmode = im.tile[0][3] if im.format == "PNG" and len(im.tile) == 1 else None
        orientation = _orientation(im)
        exif = im.info.get("exif") or None
        if exif is None and src.format == "PNG" and len(im.getexif()):
            exif = im.getexif().tobytes()
        icc, xmp = im.info.get("icc_profile") or None, _pillow_xmp(im)
        if rawmode in _PNG16_RAWMODES:
            samples, cmyk = _png16(src, rawmode), False
            mode = {"RGB;16B": "RGB;16", "RGBA;16B": "RGBA;16", "LA;16B": "LA;16"}[rawmode]
        else:
            samples, cmyk = _jpeg_samples(src, im, least, orientation), False
            if samples is None:
                samples, cmyk = _pillow_samples(_reduced(im, least, swap=orientation >= 5))
    return Decoded(samples, orientation, icc, exif, xmp, cmyk), mode


def _jpeg_samples(src: _Source, im: Image.Image, least: tuple[int, int] | None,
                  orientation: int) -> np.ndarray | None:
    """A whole RGB or grey JPEG through libjpeg-turbo straight into its array; None for other
    files (and for a JPEG that is decoded reduced, or may be truncated), which Pillow decodes."""
    if im.format != "JPEG" or im.mode not in ("RGB", "L") or _factor(im.size, least, orientation >= 5) >= 2:
        return None
    try:
        return photo_formats.decode_jpeg(src.open())
    except FormatError as exc:
        raise ImageLoadError(f"{src.name}: {exc}. Re-export or re-download it.") from None


def _decode(src: _Source, max_pixels: int, least: tuple[int, int] | None) -> tuple[Decoded, str]:
    if src.format not in _DECODERS:
        return _decode_pillow(src, max_pixels, least)
    _header(src, max_pixels)
    try:
        if src.format == "RAW":
            decoded = photo_formats.read_raw(src.open(), _tiff_exif(src))
        else:
            decoded = _DECODERS[src.format][1](src.open())
    except FormatError as exc:
        raise ImageLoadError(f"{src.name}: {exc}.") from None
    if src.format == "TIFF":
        decoded = Decoded(decoded.samples, decoded.orientation, decoded.icc, _tiff_exif(src),
                          decoded.xmp, decoded.cmyk)
    return decoded, _mode_name(decoded.samples, decoded.cmyk)


#: bytes read for a TIFF-shaped file's EXIF (IFD0 and the EXIF IFD come first in practice)
_EXIF_HEAD = 4 * 2**20


def _tiff_exif(src: _Source) -> bytes | None:
    """The EXIF (IFD0, EXIF and GPS IFDs) of a TIFF-shaped file (TIFF, DNG, NEF, …), if it has
    one that Pillow can parse from the file's first 4 MB."""
    if src.data is not None:
        head = src.data[:_EXIF_HEAD]
    else:
        with open(src.path, "rb") as f:
            head = f.read(_EXIF_HEAD)
    if head[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    exif = Image.Exif()
    try:
        exif.load(b"Exif\x00\x00" + head)
        exif.get_ifd(0x8769)
        return exif.tobytes() if len(exif) else None
    except (*_DECODE_ERRORS, KeyError, TypeError):
        return None


def _ends_complete(path: str) -> bool:
    """Whether a JPEG file ends with its end-of-image marker (else it is truncated)."""
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - 4096))
        return photo_formats.jpeg_complete(f.read())


def _load_to_file(src: _Source, max_pixels: int) -> LoadedImage | None:
    """A large 8-bit RGB or grey JPEG decoded into a mapped temporary file (``pixel_file``):
    oriented and in sRGB like any other; None for every other image (and without pyvips)."""
    if src.path is None or src.format != "JPEG":
        return None
    with _open(src, max_pixels) as im:
        mode, size = im.mode, im.size
        orientation, exif, xmp = _orientation(im), im.info.get("exif") or None, _pillow_xmp(im)
        icc = im.info.get("icc_profile") or None
    if mode not in ("RGB", "L") or not pixel_file.wanted(3 * size[0] * size[1]) or not _ends_complete(src.path):
        return None  # a truncated file: the in-memory decoder says what is wrong with it
    try:
        profile = profile_name(icc) if icc else None
        convert = None
        if profile is not None and mode == "RGB" and not is_srgb(profile):
            convert = partial(to_srgb, icc=icc)
            convert(np.zeros((1, 1, 3), np.uint8))  # a profile LittleCMS rejects fails here, before decoding
        pixels = pixel_file.decode_jpeg(src.path, orientation, convert)
    except ProfileError as exc:
        raise _profile_refused(src, exc) from None
    except ValueError as exc:
        raise ImageLoadError(f"{src.name}: {exc}. Re-export or re-download it.") from None
    return LoadedImage(pixels=pixels, alpha=None, bit_depth=8, grayscale=mode == "L", source_mode=mode,
                       path=src.path, metadata=PhotoMetadata(exif, xmp, profile))


def load_image(
    source: str | os.PathLike | bytes | BinaryIO, *, max_pixels: int = DEFAULT_MAX_PIXELS,
    levels: bool = False, least: tuple[int, int] | None = None, to_file: bool = False,
) -> LoadedImage:
    """Load any supported image as sRGB, float32 RGB in [0, 1] plus optional alpha.

    Applies EXIF orientation (HEIF: the file's own rotation), converts embedded ICC profiles
    to sRGB at full precision, keeps 16-bit precision (PNG, TIFF, 10/12-bit HEIC, RAW), develops
    RAW files with LibRaw, never premultiplies alpha. Raises :class:`ImageLoadError` for
    missing, unreadable, truncated, unsupported or too large images, profiles LittleCMS
    rejects, and anything but a regular file whose first bytes name a supported format.

    ``levels``: integer pixels (uint8 for 8-bit sources, uint16 for deeper ones) instead of a
    float copy of the image; they may be a view (rotated, or grey broadcast to RGB), not a copy.
    ``least``: (height, width) the caller needs at least; a larger image may be decoded
    reduced by an integer factor (box filter) so that memory follows that size, not the file's.
    ``to_file`` (with ``levels``): a large 8-bit JPEG's levels may be read from a mapped
    temporary file instead of memory (:mod:`sr_core.pixel_file`), read-only.
    """
    src = _read_source(source)
    try:
        if to_file and levels and least is None and (image := _load_to_file(src, max_pixels)) is not None:
            return image
        decoded, mode = _decode(src, max_pixels, least)
        return _finish(decoded, least, levels, src, mode)
    except ImageLoadError as exc:
        if str(exc).startswith(src.name):
            raise
        raise ImageLoadError(f"{src.name}: {exc}. Convert the image to RGB PNG or JPEG.") from None
    except _DECODE_ERRORS as exc:
        raise ImageLoadError(
            f"{src.name}: the file is truncated or corrupt ({exc}). Re-export or re-download it."
        ) from exc


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


def png_chunk(kind: bytes, payload: bytes) -> bytes:
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
            png_chunk(b"IHDR", header),
            png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)),
            png_chunk(b"IEND", b""),
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


def encode_png(pixels: np.ndarray, bits: int, alpha: np.ndarray | None) -> bytes:
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
    data = encode_png(pixels, bits, alpha)
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
