"""A photograph's metadata (EXIF, XMP, colour profile) carried from the file read to the files
written from it.

The EXIF written out describes the new pixels: orientation 1 (they were rotated upright when
read), the new pixel size, no thumbnail (it would show the old picture), and none of the
source file's structural TIFF tags (strip offsets, compression, …).
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

_ORIENTATION = 0x0112
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_PIXEL_X, _PIXEL_Y = 0xA002, 0xA003
#: IFD0 tags that describe the photograph, not how a file stores it (kept in outputs)
_KEPT_IFD0 = {
    0x010E: "ImageDescription", 0x010F: "Make", 0x0110: "Model", 0x0131: "Software",
    0x0132: "DateTime", 0x013B: "Artist", 0x8298: "Copyright", 0x011A: "XResolution",
    0x011B: "YResolution", 0x0128: "ResolutionUnit",
}
#: IFD0 text tags the TIFF writer carries (the EXIF and GPS sub-IFDs: ``tiff_exif``)
TIFF_TEXT_TAGS = (0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298)


@dataclass(frozen=True)
class PhotoMetadata:
    """What a photograph file said about itself: raw EXIF and XMP, and its colour profile's name
    (None: untagged, taken to be sRGB)."""

    exif: bytes | None = None
    xmp: bytes | None = None
    profile: str | None = None

    @property
    def colour_description(self) -> str:
        """For the status bar: "Adobe RGB (1998) → sRGB", or "sRGB" when nothing was converted."""
        from sr_core.colour import WORKING_SPACE, is_srgb

        if self.profile is None:
            return f"{WORKING_SPACE} (untagged)"
        return self.profile if is_srgb(self.profile) else f"{self.profile} → {WORKING_SPACE}"


def _load(raw: bytes) -> Image.Exif | None:
    exif = Image.Exif()
    try:
        exif.load(raw)
        exif.get_ifd(_EXIF_IFD)
        exif.get_ifd(_GPS_IFD)
    except (SyntaxError, ValueError, OSError, KeyError, TypeError, IndexError):
        return None
    return exif


def output_exif(raw: bytes | None, width: int, height: int) -> Image.Exif | None:
    """The EXIF for an output of ``width × height`` upright pixels, from the source's ``raw``
    EXIF (None when there was none or it cannot be parsed)."""
    source = _load(raw) if raw else None
    if source is None:
        return None
    out = Image.Exif()
    for tag in _KEPT_IFD0:
        if tag in source:
            out[tag] = source[tag]
    out[_ORIENTATION] = 1
    sub = {k: v for k, v in source.get_ifd(_EXIF_IFD).items() if not isinstance(v, dict)}
    sub[_PIXEL_X], sub[_PIXEL_Y] = width, height
    out[_EXIF_IFD] = sub
    gps = source.get_ifd(_GPS_IFD)
    if gps:
        out[_GPS_IFD] = dict(gps)
    return out
