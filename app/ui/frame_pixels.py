"""What a widget shows, as pixels: for tests and benchmarks that judge frames (sharpness)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget


def qimage_rgb(image: QImage) -> np.ndarray:
    """A QImage as an ``h × w × 3`` float32 array in [0, 1]."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = rgb.height(), rgb.width()
    rows = np.frombuffer(rgb.constBits(), np.uint8).reshape(h, rgb.bytesPerLine())
    return rows[:, :3 * w].reshape(h, w, 3).astype(np.float32) / 255


def widget_rgb(widget: QWidget, top: int = 0) -> np.ndarray:
    """The widget painted now (its own paint event runs), without its first ``top`` rows."""
    return qimage_rgb(widget.grab().toImage())[top:]
