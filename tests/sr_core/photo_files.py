"""Photographs made at test time: tagged 16-bit TIFFs (tifffile), HEICs (pillow-heif), DNGs
(pidng, read by LibRaw), JPEGs with camera EXIF and a thumbnail. Profiles are built by
LittleCMS (imagecodecs), so nothing outside pip-installed libraries is needed."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import imagecodecs
import numpy as np
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

#: a wide-gamut profile unlike sRGB (Rec. 2020 primaries, D65, gamma 2.2), built by LittleCMS
WIDE_PRIMARIES = [0.708, 0.292, 1.0, 0.170, 0.797, 1.0, 0.131, 0.046, 1.0]


def adobe_rgb() -> bytes:
    return imagecodecs.cms_profile("adobergb")


def wide_gamut() -> bytes:
    return imagecodecs.cms_profile("rgb", whitepoint=[0.3127, 0.3290, 1.0], primaries=WIDE_PRIMARIES,
                                   gamma=2.2)


def smooth_rgb16(height: int, width: int) -> np.ndarray:
    """Moderately saturated smooth colours as 16-bit levels (every value a multiple of 257, so
    the 8-bit twin is exactly ``>> 8``)."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([0.2 + 0.6 * x / max(1, width - 1), 0.3 + 0.5 * y / max(1, height - 1),
                    np.full(x.shape, 0.45)], axis=-1)
    return (np.round(rgb * 255).astype(np.uint16) * 257)


def write_tiff(path: Path, samples: np.ndarray, *, icc: bytes | None = None, orientation: int = 1,
               compression: str | None = "zlib") -> Path:
    import tifffile

    extratags = [(274, "H", 1, orientation, True)] if orientation != 1 else []
    tifffile.imwrite(path, samples, photometric="rgb" if samples.ndim == 3 else "minisblack",
                     iccprofile=icc, compression=compression, extratags=extratags, metadata=None)
    return path


def set_tiff_compression(path: Path, code: int) -> None:
    """Rewrite the first image's Compression tag in place (to a code no decoder knows)."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        offset = tif.pages.first.tags["Compression"].valueoffset
    data = bytearray(path.read_bytes())
    data[offset:offset + 2] = struct.pack("<H", code)
    path.write_bytes(bytes(data))


def write_heic(path: Path, pixels: np.ndarray, *, exif: bytes | None = None, icc: bytes | None = None,
               quality: int = 95) -> Path:
    """An 8-bit (uint8) or 10-bit (uint16 levels) HEIC."""
    import pillow_heif

    mode = "RGB;16" if pixels.dtype == np.uint16 else "RGB"
    heif = pillow_heif.from_bytes(mode=mode, size=(pixels.shape[1], pixels.shape[0]), data=pixels.tobytes())
    heif.save(path, quality=quality, exif=exif, icc_profile=icc)
    return path


def camera_exif(orientation: int = 1, thumbnail: bytes | None = None) -> bytes:
    """EXIF as a camera writes it: IFD0 (make, model, orientation), the EXIF IFD (exposure time,
    pixel size) and, with ``thumbnail``, IFD1 holding a JPEG thumbnail."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "ZoomCam", "Z1", orientation
    exif[0x8769] = {0x829A: IFDRational(1, 250), 0xA002: 999, 0xA003: 777}
    data = exif.tobytes()  # b"Exif\0\0" + big-endian TIFF with a zero next-IFD offset
    if thumbnail is None:
        return data
    tiff = bytearray(data[6:])
    ifd0 = struct.unpack(">I", tiff[4:8])[0]
    count = struct.unpack(">H", tiff[ifd0:ifd0 + 2])[0]
    next_at = ifd0 + 2 + 12 * count
    ifd1 = len(tiff)
    thumb_at = ifd1 + 2 + 2 * 12 + 4
    tiff[next_at:next_at + 4] = struct.pack(">I", ifd1)
    tiff += struct.pack(">H", 2)
    tiff += struct.pack(">HHII", 0x0201, 4, 1, thumb_at) + struct.pack(">HHII", 0x0202, 4, 1, len(thumbnail))
    tiff += struct.pack(">I", 0) + thumbnail
    return b"Exif\0\0" + bytes(tiff)


def jpeg_bytes(rgb: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def write_dng(path: Path, height: int = 64, width: int = 96, orientation: int = 1) -> Path:
    """A 12-bit RGGB DNG of a neutral grey ramp as a camera whose as-shot white balance is
    (R, G, B) gains (2, 1, 2): the red and blue photosites see half of green's signal."""
    from pidng.core import RAW2DNG, DNGTags, Tag
    from pidng.defs import CalibrationIlluminant, CFAPattern, DNGVersion, PhotometricInterpretation

    level = np.linspace(600, 3000, width)[None, :].repeat(height, 0)
    raw = np.empty((height, width), np.uint16)
    raw[0::2, 0::2] = level[0::2, 0::2] / 2  # R
    raw[0::2, 1::2] = level[0::2, 1::2]      # G
    raw[1::2, 0::2] = level[1::2, 0::2]      # G
    raw[1::2, 1::2] = level[1::2, 1::2] / 2  # B
    raw += 256  # black level
    tags = DNGTags()
    for tag, value in ((Tag.ImageWidth, width), (Tag.ImageLength, height), (Tag.TileWidth, width),
                       (Tag.TileLength, height), (Tag.Orientation, orientation),
                       (Tag.PhotometricInterpretation, PhotometricInterpretation.Color_Filter_Array),
                       (Tag.SamplesPerPixel, 1), (Tag.BitsPerSample, 16), (Tag.CFARepeatPatternDim, [2, 2]),
                       (Tag.CFAPattern, CFAPattern.RGGB), (Tag.BlackLevel, 256), (Tag.WhiteLevel, 4095),
                       (Tag.ColorMatrix1, [[1, 1], [0, 1], [0, 1], [0, 1], [1, 1], [0, 1], [0, 1], [0, 1], [1, 1]]),
                       (Tag.CalibrationIlluminant1, CalibrationIlluminant.D65),
                       (Tag.AsShotNeutral, [[1, 2], [1, 1], [1, 2]]), (Tag.Make, "ZoomCam"),
                       (Tag.Model, "Z1"), (Tag.DNGVersion, DNGVersion.V1_4),
                       (Tag.DNGBackwardVersion, DNGVersion.V1_2)):
        tags.set(tag, value)
    converter = RAW2DNG()
    converter.options(tags, path=str(path.parent), compress=False)
    converter.convert(raw, filename=path.stem)
    return path
