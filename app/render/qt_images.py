"""numpy pixels as QImages: the one place where the workers' arrays become something Qt paints."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb_image(rgb: np.ndarray) -> QImage:
    """A uint8 RGB (h, w, 3) array as a QImage that owns its pixels."""
    data = np.ascontiguousarray(rgb)
    h, w, _ = data.shape
    return QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def rgba_image(rgba: np.ndarray) -> QImage:
    """A uint8 RGBA (h, w, 4) array as a QImage that owns its pixels."""
    data = np.ascontiguousarray(rgba)
    h, w, _ = data.shape
    return QImage(data.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
