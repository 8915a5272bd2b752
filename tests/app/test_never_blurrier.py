"""While a method renders, its panel is never blurrier than bicubic (issue 17).

Each screen pixel shows the best thing computed for the current view: final tiles, else the
bicubic tiles of the current grid, else (only until those arrive) the previous frame rescaled.
"""

from __future__ import annotations

import threading

import numpy as np
from app_fakes import WAIT_MS, FakeProvider, settle
from PySide6.QtCore import QPointF
from test_rendering import wheel
from torch import Tensor

from app.ui.frame_pixels import widget_rgb
from sr_core.coords import Queries
from sr_core.imaging import save_png
from sr_core.methods.base import FeatureCrop
from sr_core.methods.bicubic import Bicubic
from sr_core.metrics import laplacian_sharpness

#: rows of the canvas under the progress bar
BAR = 4


class BlockingBicubic(Bicubic):
    """A stand-in for a slow SR method: bicubic's pixels, but it waits on ``lock``."""

    def __init__(self, lock: threading.Lock) -> None:
        super().__init__()
        self.lock = lock

    def query(self, fc: FeatureCrop, q: Queries) -> Tensor:
        with self.lock:
            return super().query(fc, q)


def test_wheel_zoom_never_shows_a_panel_blurrier_than_bicubic(qtbot, make_window, tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "texture.png"
    save_png(path, rng.random((48, 64, 3)).astype(np.float32))  # detail at every scale
    lock = threading.Lock()
    blocking = BlockingBicubic(lock)
    window = make_window(FakeProvider({"fake": lambda: blocking}), path, size=(720, 420),
                         panels=["bicubic", "fake"])
    bicubic, fake = (panel.canvas for panel in window.panels)
    window.view.zoom_to(2.0)
    settle(qtbot, window)  # the fake's final frame at ×2 becomes the "old frame" rescaled
    sched = window.scheduler
    lock.acquire()  # the method now renders nothing: its panel must fall back on bicubic
    try:
        ratios = []
        for _ in range(9):
            wheel(fake, QPointF(fake.width() / 2, fake.height() / 2))
            frames = [(widget_rgb(bicubic, BAR), widget_rgb(fake, BAR))]  # at once: old frames rescaled
            base = sched.layer_tiles(fake.layers()[0]).base
            qtbot.waitUntil(lambda b=base: all(k in sched.cache for k in b), timeout=WAIT_MS)
            frames.append((widget_rgb(bicubic, BAR), widget_rgb(fake, BAR)))  # bicubic has arrived
            ratios += [laplacian_sharpness(f) / laplacian_sharpness(b) for b, f in frames]
    finally:
        lock.release()
    assert window.view.state.zoom > 9
    assert min(ratios) >= 0.995, [round(r, 5) for r in ratios]
