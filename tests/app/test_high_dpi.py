"""Pixel-true on high-DPI screens: at 2 device pixels per logical pixel, tiles land 1:1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import sys
import numpy as np
from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from app_fakes import FakeProvider, smooth_image
from sr_core.imaging import save_png
from sr_core.methods.bicubic import Bicubic
from sr_core.render import Rect, Renderer
from app.headless import wait_for, wait_until_final
from app.ui.main_window import MainWindow
from app.model.settings import Settings
from app.model.tiles import placement

app = QApplication([])
save_png(sys.argv[1], smooth_image(120, 160))
window = MainWindow(FakeProvider({}), Settings(panels=["bicubic"]), persist=False)
window.resize(420, 300)
window.show()
window.set_pending_view(2.5, (70.3, 50.6))
window.open_path(sys.argv[1], remember=False)
assert wait_for(lambda: window.doc is not None, 60) and wait_until_final(window, 60)
canvas = window.panels[0].canvas
assert canvas.devicePixelRatioF() == 2.0, canvas.devicePixelRatioF()
image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
vw, vh = canvas.viewport()
assert (image.width(), image.height()) == (vw, vh), (image.width(), image.height(), vw, vh)
shown = np.frombuffer(image.constBits(), np.uint8).reshape(vh, image.bytesPerLine())[:, :3 * vw]
shown = shown.reshape(vh, vw, 3).astype(int)
place = placement(window.view.state, (vw, vh))
rect = Rect(max(0, place.oy), max(0, place.ox), min(place.out_h, place.oy + vh), min(place.out_w, place.ox + vw))
expected = Renderer(Bicubic()).render(window.doc.source, place.out_h, place.out_w, rect)
expected = np.floor(np.clip(expected, 0, 1) * 255 + 0.5).astype(int)
top, left = rect.top - place.oy, rect.left - place.ox
got = shown[top + 8:top + rect.height, left:left + rect.width]  # below the 3 px progress strip
diff = np.abs(got - expected[8:]).max()
QTest.mouseMove(canvas, QPoint(100, 80))  # the readout names device pixel (200, 160)'s output pixel
readout = canvas.readout()
assert readout is not None and readout.output == (200 + place.ox, 160 + place.oy), (readout, place)
window.close()
print("max difference", diff)
sys.exit(0 if diff <= 1 else 1)
"""


def test_tiles_are_pixel_true_at_device_pixel_ratio_2(tmp_path):
    here = Path(__file__).resolve().parent
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2",
           "PYTHONPATH": os.pathsep.join([str(here), str(here.parents[1])])}
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "image.png")], env=env,
                            capture_output=True, text=True, timeout=300, cwd=here.parents[1])
    assert result.returncode == 0, result.stdout + result.stderr
