"""Writing images by the file's ending: PNG and TIFF (8 or 16 bits), JPEG and WebP (8 bits),
with the photograph's metadata, atomically (a temporary file renamed into place).

Every file is tagged with the sRGB profile (the pixels are sRGB: ``load_image`` converts to
it) and gets the source's EXIF and XMP as they apply to the new pixels (see ``metadata``).
TIFF keeps the EXIF's descriptive IFD0 tags (camera, date, artist, copyright) and its EXIF and
GPS sub-IFDs (see ``tiff_exif``).
"""

from __future__ import annotations

import io
import os
import re
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from sr_core.colour import srgb_profile
from sr_core.files import atomic_target
from sr_core.imaging import encode_png, png_chunk, to_levels
from sr_core.metadata import TIFF_TEXT_TAGS, PhotoMetadata, output_exif
from sr_core.tiff_exif import attach_sub_ifds, placeholder_tags

#: file ending → format written
OUTPUT_FORMATS = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG",
                  ".webp": "WEBP"}
#: formats that hold 16 bits per channel
DEEP_FORMATS = ("PNG", "TIFF")
DEFAULT_QUALITY = 92
_XMP_ORIENTATION = re.compile(rb"(tiff:Orientation(?:=\"|>))[1-8]")


def output_format(path: str | os.PathLike) -> str:
    """The format a file of this name is written as; raises ValueError for other endings."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ValueError(f"{Path(path).name}: cannot write '{suffix or 'no ending'}' files; "
                         "use .png, .tif, .jpg or .webp")
    return OUTPUT_FORMATS[suffix]


def output_bits(fmt: str, bits: int) -> int:
    """The bit depth ``fmt`` gets for ``bits`` asked (JPEG and WebP hold 8)."""
    return bits if fmt in DEEP_FORMATS else 8


def save_image(path: str | os.PathLike, pixels: np.ndarray, *, bits: int = 8,
               alpha: np.ndarray | None = None, metadata: PhotoMetadata | None = None,
               quality: int = DEFAULT_QUALITY) -> None:
    """Write ``pixels`` (H×W×3 sRGB, or H×W grey: [0, 1] floats or levels of ``bits``; see
    ``to_levels``) and optional H×W ``alpha`` as the format ``path`` ends in.

    ``bits``: 16 only for formats that hold it (PNG, TIFF; see :func:`output_bits`). JPEG drops
    alpha.
    The file appears complete or not at all (also after an exception or Ctrl+C).
    """
    fmt = output_format(path)
    if output_bits(fmt, bits) != bits:
        raise ValueError(f"{Path(path).name}: {fmt} holds 8 bits per channel, not {bits}")
    px = to_levels(pixels, bits)
    if alpha is not None:
        if np.shape(alpha) != px.shape[:2]:
            raise ValueError(f"alpha shape {np.shape(alpha)} does not match {px.shape[:2]}")
        alpha = to_levels(alpha, bits)
    meta = metadata or PhotoMetadata()
    exif = output_exif(meta.exif, px.shape[1], px.shape[0])
    xmp = _XMP_ORIENTATION.sub(rb"\g<1>1", meta.xmp) if meta.xmp else None
    data = _ENCODERS[fmt](px, alpha, exif, xmp, quality)
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)


def _png(px: np.ndarray, alpha: np.ndarray | None, exif: Image.Exif | None, xmp: bytes | None,
         quality: int) -> bytes:
    data = encode_png(px, 16 if px.dtype == np.uint16 else 8, alpha)
    chunks = [png_chunk(b"iCCP", b"sRGB\0\0" + zlib.compress(srgb_profile()))] if px.ndim == 3 else []
    if exif is not None:
        chunks.append(png_chunk(b"eXIf", exif.tobytes()[6:]))  # without the "Exif\0\0" prefix
    if xmp:
        chunks.append(png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp))
    header_end = 8 + 4 + 4 + 13 + 4  # signature, IHDR
    return data[:header_end] + b"".join(chunks) + data[header_end:]


def _pillow(fmt: str, px: np.ndarray, alpha: np.ndarray | None, exif: Image.Exif | None,
            xmp: bytes | None, quality: int) -> bytes:
    if alpha is not None and fmt == "WEBP":
        px = np.concatenate([px if px.ndim == 3 else np.repeat(px[..., None], 3, 2), alpha[..., None]], axis=2)
    options: dict = {"quality": quality, "icc_profile": srgb_profile()}
    if fmt == "JPEG":
        options["subsampling"] = 0  # 4:4:4: upscaled detail is what the file is for
    elif quality >= 100:
        options["lossless"] = True
    if exif is not None:
        options["exif"] = exif
    if xmp:
        options["xmp"] = xmp
    buffer = io.BytesIO()
    Image.fromarray(px).save(buffer, fmt, **options)
    return buffer.getvalue()


def _tiff(px: np.ndarray, alpha: np.ndarray | None, exif: Image.Exif | None, xmp: bytes | None,
          quality: int) -> bytes:
    import tifffile

    colour = px.ndim == 3
    extratags = [(700, "B", len(xmp), xmp, True)] if xmp else []
    extratags += placeholder_tags(exif)
    for tag in TIFF_TEXT_TAGS:
        value = exif.get(tag) if exif is not None else None
        if isinstance(value, str) and value:
            extratags.append((tag, "s", 0, value, True))
    if alpha is not None:
        px = np.concatenate([px if colour else px[..., None], alpha[..., None]], axis=2)
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, px, photometric="rgb" if colour else "minisblack",
                     extrasamples=("unassalpha",) if alpha is not None else None,
                     compression="zlib", predictor=True, metadata=None,
                     iccprofile=srgb_profile() if colour else None, extratags=extratags)
    return attach_sub_ifds(buffer.getvalue(), exif)


_ENCODERS = {
    "PNG": _png, "TIFF": _tiff,
    "JPEG": lambda *a: _pillow("JPEG", *a), "WEBP": lambda *a: _pillow("WEBP", *a),
}
