"""The input image as QImages, drawn instantly under every panel while tiles are on their way.

A small pyramid (each level half the previous) keeps drawing a large photo at a small zoom
cheap; the grey "ghost" version sits under panels whose method cannot run. An 8-bit photo's
full-size level is its own pixels (the QImage reads the array), so the preview adds about one
byte per image pixel, not six.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtGui import QImage

from sr_core import pixel_file
from sr_core.imaging import to_uint8
from sr_core.render import SourceImage

#: rows converted at a time (bounds the temporaries: 9 MB for a 12000-pixel-wide level 0)
PREVIEW_BAND = 64
#: no pyramid level is made smaller than this (longest side)
MIN_LEVEL_SIDE = 256


@dataclass(frozen=True)
class PreviewImage:
    """Colour pyramid of one image (level 0 full size, each next level half the previous) and
    grey versions of its levels, made when first asked for."""

    levels: tuple[QImage, ...]
    #: the uint8 arrays the levels' QImages read (level 0 may be the source's own pixels)
    buffers: tuple[np.ndarray, ...]
    #: level 0's size as a fraction of the image's (below 1 for a JPEG's draft)
    scale: float = 1.0
    _ghosts: dict[int, QImage] = field(default_factory=dict, compare=False, repr=False)

    def pick(self, zoom: float, ghost: bool = False) -> QImage:
        """The smallest level that still has at least one pixel per device pixel (grey with
        ``ghost``, for panels whose method cannot run)."""
        index = self._index(zoom)
        if not ghost:
            return self.levels[index]
        if index not in self._ghosts:
            self._ghosts[index] = self.levels[index].convertToFormat(QImage.Format.Format_Grayscale8)
        return self._ghosts[index]

    def reads_file(self, zoom: float) -> bool:
        """Whether :meth:`pick` gives a level read from a mapped file (a very large JPEG's level 0):
        painting it makes the pages it reads resident until ``release_resident``."""
        return pixel_file.is_mapped(self.buffers[self._index(zoom)])

    def _index(self, zoom: float) -> int:
        index = 0
        while index + 1 < len(self.levels) and zoom * 2 ** (index + 1) <= self.scale:
            index += 1
        return index

    def nbytes(self, source: SourceImage) -> int:
        """Memory the preview adds to ``source``'s (a level 0 that is the source's pixels, and
        levels in a mapped file, are free)."""
        own = sum(b.nbytes for b in self.buffers
                  if not pixel_file.is_mapped(b) and not (source.ready and np.shares_memory(b, source.pixels)))
        return own + sum(g.sizeInBytes() for g in self._ghosts.values())


def _qimage(rgb: np.ndarray) -> QImage:
    """A QImage that reads the C-contiguous ``h × w × 3`` uint8 ``rgb`` (no copy)."""
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)


def _level_zero(source: SourceImage) -> np.ndarray:
    """The source's pixels as C-contiguous uint8 RGB: the pixels themselves when they are
    that already (an 8-bit photo: no copy), else converted a band of rows at a time."""
    pixels = source.pixels
    if pixels.dtype == np.uint8 and pixels.flags.c_contiguous:
        return pixels
    out = np.empty((source.height, source.width, 3), np.uint8)
    for top in range(0, source.height, PREVIEW_BAND):
        bottom = min(source.height, top + PREVIEW_BAND)
        out[top:bottom] = pixels[top:bottom] if pixels.dtype == np.uint8 else to_uint8(source.rgb(top, bottom))
    return out


def _half(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` halved by averaging 2×2 boxes (an odd last row or column is dropped); in a mapped
    file when ``rgb`` is (a very large photo's pyramid takes no memory either)."""
    height, width = rgb.shape[0] // 2, rgb.shape[1] // 2
    out = pixel_file.empty((height, width, 3)) if pixel_file.is_mapped(rgb) else np.empty((height, width, 3), np.uint8)
    for top in range(0, height, PREVIEW_BAND):
        rows = rgb[2 * top:2 * min(height, top + PREVIEW_BAND), :2 * width].astype(np.uint16)
        boxes = rows[0::2, 0::2] + rows[0::2, 1::2] + rows[1::2, 0::2] + rows[1::2, 1::2]
        out[top:top + PREVIEW_BAND] = (boxes + 2) >> 2
        pixel_file.release_resident(rgb)  # mapped levels: hand back the band's pages
        pixel_file.release_resident(out)
    out.flags.writeable = False
    return out


def build_preview(source: SourceImage, image_width: int | None = None) -> PreviewImage:
    """Make the pyramid (safe off the GUI thread: QImages only). An 8-bit photo's level 0 is its
    own pixels; the other levels together add a third of that. ``image_width``: the width of
    the image that ``source`` is a reduced draft of (default: ``source`` is the image)."""
    buffers = [_level_zero(source)]
    while max(buffers[-1].shape[:2]) // 2 >= MIN_LEVEL_SIDE:
        buffers.append(_half(buffers[-1]))
    scale = 1.0 if image_width is None else source.width / image_width
    return PreviewImage(tuple(_qimage(b) for b in buffers), tuple(buffers), scale)
