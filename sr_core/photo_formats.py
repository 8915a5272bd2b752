"""Decoders for the photographs Pillow cannot read at full fidelity: TIFF at 8/16 bits
(tifffile + imagecodecs), HEIC/HEIF (pillow-heif, libheif) and camera RAW (rawpy, LibRaw).

Each returns a :class:`Decoded`: the stored samples at their depth plus what the caller needs
to finish the job (orientation still to apply, ICC profile, EXIF, XMP). Problems raise
:class:`FormatError` with a short reason; the caller adds the file name.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

#: camera RAW file endings (TIFF-based ones such as DNG, NEF and ARW start like a TIFF)
RAW_SUFFIXES = (".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf",
                ".orf", ".rw2", ".pef", ".srw", ".x3f", ".3fr", ".iiq", ".erf", ".mef", ".mos",
                ".kdc", ".dcr")
HEIF_SUFFIXES = (".heic", ".heif", ".hif")
#: ISO-BMFF brands (bytes 8-12 of the file) of HEIF stills
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
#: RAW formats that are not TIFF-shaped, by their first bytes
_RAW_MAGIC = (b"FUJIFILMCCD-RAW", b"IIRO", b"IIRS", b"MMOR", b"IIU\x00", b"FOVb")
#: how LibRaw turns the sensor data into an image (stated in the README)
RAW_DEFAULTS = dict(use_camera_wb=True, output_color="sRGB", output_bps=16, no_auto_bright=True,
                    gamma=(2.4, 12.92), demosaic="AHD")

Source = str | BinaryIO


class FormatError(ValueError):
    """A file this module cannot decode, with a short reason (no file name)."""


@dataclass(frozen=True)
class Decoded:
    """Stored samples, H×W×C (C: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA or CMYK), uint8 or uint16,
    and the metadata that goes with them."""

    samples: np.ndarray
    #: EXIF orientation (1-8) still to apply to ``samples``
    orientation: int = 1
    icc: bytes | None = None
    exif: bytes | None = None
    xmp: bytes | None = None
    cmyk: bool = False


def sniff_container(head: bytes, suffix: str) -> str | None:
    """HEIF, AVIF or RAW from the first 16 bytes and the file ending, else None."""
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AVIF_BRANDS:
            return "AVIF"
        if brand == b"crx ":
            return "RAW"
        if brand in _HEIF_BRANDS:
            return "AVIF" if suffix == ".avif" else "HEIF"
    if head.startswith(_RAW_MAGIC):
        return "RAW"
    if head[:4] in (b"II*\x00", b"MM\x00*") and suffix in RAW_SUFFIXES:
        return "RAW"
    return None


# --- TIFF -----------------------------------------------------------------------------------


def tiff_size(source: Source) -> tuple[int, int, int]:
    """(width, height, orientation) of the first image of a TIFF, from its header."""
    import tifffile

    try:
        with tifffile.TiffFile(source) as tif:
            page = tif.pages.first
            return int(page.imagewidth), int(page.imagelength), _tiff_orientation(page)
    except (tifffile.TiffFileError, ValueError, OSError, IndexError, KeyError) as exc:
        raise FormatError(f"the TIFF is damaged ({_one_line(exc)})") from None


def _tiff_orientation(page) -> int:
    tag = page.tags.get(274)
    value = int(tag.value) if tag is not None else 1
    return value if 1 <= value <= 8 else 1


def read_tiff(source: Source) -> Decoded:
    """The first image of a TIFF at its stored depth (8/16-bit integer, float → 16-bit)."""
    import tifffile

    try:
        with tifffile.TiffFile(source) as tif:
            page = tif.pages.first
            compression = page.compression
            if not _codec_available(compression):
                raise FormatError(f"its compression ({_compression_name(compression)}) is not supported")
            data = page.asarray()
            photometric, extra = int(page.photometric), len(page.extrasamples)
            planar = page.planarconfig == 2 and data.ndim == 3
            tags = page.tags
            icc = _tag_bytes(tags, 34675)
            xmp = _tag_bytes(tags, 700)
            orientation = _tiff_orientation(page)
    except FormatError:
        raise
    except (tifffile.TiffFileError, ValueError, OSError, IndexError, KeyError, RuntimeError) as exc:
        raise FormatError(f"the TIFF is damaged or uses a feature that is not supported ({_one_line(exc)})") from None
    if planar:
        data = np.moveaxis(data, 0, -1)
    if data.ndim == 2:
        data = data[..., None]
    if data.ndim != 3:
        raise FormatError(f"it holds {data.ndim}-dimensional data, not one picture")
    data = as_levels(data)
    if photometric == 0:  # MINISWHITE
        data = np.iinfo(data.dtype).max - data
    cmyk = photometric == 5 and data.shape[2] - extra == 4
    if cmyk:
        data = data[..., :4]
    elif data.shape[2] - extra not in (1, 3) or data.shape[2] > 4:
        raise FormatError(f"{data.shape[2]} samples per pixel (photometric {photometric}) are not supported")
    return Decoded(np.ascontiguousarray(data), orientation, icc, None, xmp, cmyk)


def _codec_available(compression: int) -> bool:
    import tifffile

    try:
        return bool(tifffile.TIFF.DECOMPRESSORS[compression] is not None)
    except (KeyError, ValueError, TypeError):
        return False


def _compression_name(compression: int) -> str:
    import tifffile

    try:
        return f"{tifffile.COMPRESSION(compression).name}, code {int(compression)}"
    except ValueError:
        return f"unknown code {int(compression)}"


def _tag_bytes(tags, code: int) -> bytes | None:
    tag = tags.get(code)
    if tag is None:
        return None
    value = tag.value
    if isinstance(value, np.ndarray):
        value = value.tobytes()
    return bytes(value) if isinstance(value, (bytes, bytearray)) and value else None


def as_levels(data: np.ndarray) -> np.ndarray:
    """8- and 16-bit samples as they are; floats (NaN black, +Inf white) and 1-bit as levels."""
    if data.dtype in (np.uint8, np.uint16):
        return data
    if data.dtype == np.bool_:
        return data.astype(np.uint8) * np.uint8(255)
    if np.issubdtype(data.dtype, np.floating):
        finite = np.isfinite(data)
        peak = float(np.max(data, where=finite, initial=0.0))
        scale = 1.0 if peak <= 1.0 else 255.0 if peak <= 255.0 else 65535.0
        values = np.nan_to_num(np.clip(data.astype(np.float32) / np.float32(scale), 0.0, 1.0), nan=0.0)
        return np.floor(values * 65535 + 0.5).astype(np.uint16)
    raise FormatError(f"{data.dtype} samples are not supported (8- and 16-bit integers and floats are)")


# --- JPEG -----------------------------------------------------------------------------------


def jpeg_complete(tail: bytes) -> bool:
    """Whether a JPEG file's last bytes end with its end-of-image marker (zero padding allowed):
    a file that does not is truncated."""
    return tail.rstrip(b"\0").endswith(b"\xff\xd9")


def decode_jpeg(source: Source) -> np.ndarray | None:
    """A baseline/progressive RGB or grey JPEG decoded by libjpeg-turbo (imagecodecs) straight
    into one H×W×C uint8 array: 3 bytes a pixel at the peak, where Pillow's decoder holds 4 and
    ``np.asarray`` then copies them (the same pixels: both are libjpeg-turbo, exact IDCT).

    None when the file does not end with the end-of-image marker: libjpeg-turbo would fill a
    truncated file with grey, Pillow's decoder then says what is wrong.
    """
    import imagecodecs

    if isinstance(source, str):
        with open(source, "rb") as f:
            data = f.read()
    else:
        data = source.read()
    if not jpeg_complete(data):
        return None
    try:
        samples = imagecodecs.jpeg8_decode(data)
    except imagecodecs.Jpeg8Error as exc:
        raise FormatError(f"the JPEG is truncated or damaged ({_one_line(exc)})") from None
    return samples[..., None] if samples.ndim == 2 else samples


# --- HEIF -----------------------------------------------------------------------------------


def _open_heif(source: Source):
    import pillow_heif

    try:
        return pillow_heif.open_heif(source, convert_hdr_to_8bit=False)
    except (ValueError, RuntimeError, OSError, EOFError) as exc:
        raise FormatError(f"the HEIF file is truncated or damaged ({_one_line(exc)})") from None


def heif_size(source: Source) -> tuple[int, int, int]:
    """(width, height, 1) of the primary image (libheif applies its rotation: orientation 1)."""
    width, height = _open_heif(source).size
    return width, height, 1


def read_heif(source: Source) -> Decoded:
    """The primary image of a HEIC/HEIF, 8-bit or (10/12-bit files) 16-bit.

    libheif applies the file's rotation and mirroring (``irot``/``imir``), which the HEIF
    standard makes authoritative: the EXIF orientation is not applied again.
    """
    heif = _open_heif(source)
    try:
        samples = np.asarray(heif)
    except (ValueError, RuntimeError, OSError, EOFError) as exc:
        raise FormatError(f"the HEIF file is truncated or damaged ({_one_line(exc)})") from None
    if samples.ndim == 2:
        samples = samples[..., None]
    info = heif.info
    return Decoded(np.ascontiguousarray(samples), 1, info.get("icc_profile") or None,
                   info.get("exif") or None, info.get("xmp") or None)


# --- RAW ------------------------------------------------------------------------------------


def _raw_errors() -> tuple[type[BaseException], ...]:
    import rawpy

    return (rawpy.LibRawError, rawpy.NotSupportedError, OSError, ValueError)


def _open_raw(source: Source):
    import rawpy

    try:
        return rawpy.imread(source)
    except rawpy.LibRawFileUnsupportedError:
        raise FormatError("LibRaw does not support this camera or RAW format") from None
    except _raw_errors() as exc:
        raise FormatError(f"the RAW file is truncated or damaged ({_libraw_text(exc)})") from None


def _libraw_text(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else exc
    return _one_line(text.decode(errors="replace") if isinstance(text, bytes) else text)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def raw_size(source: Source) -> tuple[int, int, int]:
    """(width, height, 1) of the developed image (LibRaw's flip applied)."""
    with _open_raw(source) as raw:
        sizes = raw.sizes
        width, height = (sizes.iheight, sizes.iwidth) if sizes.flip in (5, 6) else (sizes.iwidth, sizes.iheight)
        return int(width), int(height), 1


def read_raw(source: Source, exif: bytes | None = None) -> Decoded:
    """Develop a camera RAW file with LibRaw (see :data:`RAW_DEFAULTS`) into 16-bit sRGB.

    The sensor data is demosaiced; an embedded preview is never used. LibRaw applies the
    camera's orientation.
    """
    import rawpy

    options = dict(RAW_DEFAULTS)
    options["output_color"] = rawpy.ColorSpace.sRGB
    options["demosaic_algorithm"] = rawpy.DemosaicAlgorithm[options.pop("demosaic")]
    with _open_raw(source) as raw:
        try:
            samples = raw.postprocess(**options)
        except _raw_errors() as exc:
            raise FormatError(f"LibRaw cannot develop this RAW file ({_libraw_text(exc)})") from None
    return Decoded(samples, 1, None, exif, None)


def as_source(path: str | None, data: bytes | None) -> Source:
    """What the decoders take: a path, or the bytes as a stream."""
    return io.BytesIO(data) if data is not None else os.fspath(path)
