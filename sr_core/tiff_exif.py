"""The EXIF and GPS sub-IFDs of a TIFF that tifffile writes (exposure, lens, date taken, place).

tifffile refuses to write the two pointer tags (34665, 34853) itself. The file is written with a
private placeholder tag one below each pointer (so the IFD's entries stay in ascending order);
the sub-IFD is then serialised by Pillow, appended, and the placeholder entry becomes the
pointer to it.
"""

from __future__ import annotations

import io
import struct

from PIL import Image, TiffImagePlugin

#: pointer tag (EXIF IFD, GPS IFD) → the placeholder written in its place
POINTERS = {0x8769: 0x8768, 0x8825: 0x8824}
_HEADER = b"II*\x00\x08\x00\x00\x00"


def placeholder_tags(exif: Image.Exif | None) -> list[tuple[int, str, int, int, bool]]:
    """tifffile ``extratags``: a zero LONG under the placeholder of each sub-IFD ``exif`` has."""
    if exif is None:
        return []
    return [(placeholder, "I", 1, 0, True) for tag, placeholder in POINTERS.items() if _sub_ifd(exif, tag)]


def _sub_ifd(exif: Image.Exif, tag: int) -> dict:
    """The sub-IFD under ``tag`` of an EXIF made by ``metadata.output_exif`` (a dict)."""
    value = exif.get(tag)
    return value if isinstance(value, dict) else {}


def attach_sub_ifds(data: bytes, exif: Image.Exif | None) -> bytes:
    """The little-endian classic TIFF ``data`` (written with :func:`placeholder_tags`) with
    ``exif``'s sub-IFDs appended and its placeholders turned into pointers to them; other TIFFs
    (BigTIFF) unchanged."""
    import tifffile

    if exif is None or data[:4] != _HEADER[:4]:
        return data
    out = bytearray(data)
    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        tags = tif.pages.first.tags
        for tag, placeholder in POINTERS.items():
            entry = tags.get(placeholder)
            if entry is None:
                continue
            out += b"\0" * (-len(out) % 4)  # IFDs start on a word boundary
            ifd = TiffImagePlugin.ImageFileDirectory_v2(_HEADER, group=tag)
            for key, value in _sub_ifd(exif, tag).items():
                ifd[key] = value
            offset = len(out)
            out += ifd.tobytes(offset)
            struct.pack_into("<H", out, entry.offset, tag)
            struct.pack_into("<I", out, entry.valueoffset, offset)
    return bytes(out)
