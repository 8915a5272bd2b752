"""The input image as QImages, drawn instantly under every panel while tiles are on their way.

A small pyramid (each level half the previous) keeps drawing a large photo at a small zoom
cheap; the grey "ghost" version sits under panels whose method cannot run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from sr_core.imaging import to_uint8
from sr_core.render import SourceImage

#: rows converted at a time (bounds the float temporaries)
PREVIEW_BAND = 256
#: no pyramid level is made smaller than this (longest side)
MIN_LEVEL_SIDE = 256


@dataclass(frozen=True)
class PreviewImage:
    """Colour and grey pyramids of one image; level 0 is full size."""

    levels: tuple[QImage, ...]
    ghosts: tuple[QImage, ...]

    def pick(self, zoom: float, ghost: bool = False) -> QImage:
        """The smallest level that still has at least one pixel per device pixel."""
        levels = self.ghosts if ghost else self.levels
        index = 0
        while index + 1 < len(levels) and zoom * 2 ** (index + 1) <= 1.0:
            index += 1
        return levels[index]


def build_preview(source: SourceImage) -> PreviewImage:
    """Make the pyramids (safe off the GUI thread: QImages only), a band of rows at a time."""
    h, w = source.height, source.width
    image = QImage(w, h, QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.bits(), np.uint8).reshape(h, image.bytesPerLine())
    for top in range(0, h, PREVIEW_BAND):
        bottom = min(h, top + PREVIEW_BAND)
        rows[top:bottom, :3 * w] = to_uint8(source.rgb(top, bottom)).reshape(bottom - top, 3 * w)
    levels = [image]
    while max(levels[-1].width(), levels[-1].height()) // 2 >= MIN_LEVEL_SIDE:
        last = levels[-1]
        levels.append(last.scaled(max(1, last.width() // 2), max(1, last.height() // 2),
                                  Qt.AspectRatioMode.IgnoreAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation))
    ghosts = tuple(level.convertToFormat(QImage.Format.Format_Grayscale8) for level in levels)
    return PreviewImage(tuple(levels), ghosts)
