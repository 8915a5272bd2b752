"""The status-bar readout of the pixel under the mouse: input, output and reference pixels."""

from __future__ import annotations

import numpy as np
from app_fakes import WAIT_MS
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.model.document import Document, GroundTruth
from app.model.method_provider import RegistryProvider
from app.model.pixel_readout import PixelReadout, format_readout, read_pixel
from app.model.tiles import Placement
from sr_core.imaging import save_png
from sr_core.render import SourceImage


def coded_image(h: int, w: int) -> np.ndarray:
    """8-bit levels that name their pixel: R = 3x, G = 5y, B = 77."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([3 * x, 5 * y, np.full_like(x, 77)], axis=2).astype(np.float32) / 255


def document(pixels: np.ndarray, gt: GroundTruth | None = None, bit_depth: int = 8,
             grayscale: bool = False) -> Document:
    return Document("t", None, SourceImage(pixels), "", gt, bit_depth, grayscale)


def test_the_device_pixel_maps_through_the_placement():
    doc = document(coded_image(48, 64))
    place = Placement(out_h=96, out_w=128, ox=-10, oy=5, image=(64, 48))  # ×2, image shifted right
    r = read_pixel(doc, place, 13.7, 2.2)  # device pixel (13, 2): output (3, 7), centre at image (1.75, 3.75)
    assert r == PixelReadout(1.75, 3.75, (3, 7), (128, 96), (3, 15, 77))
    assert r.pixel == (1, 3)
    assert read_pixel(doc, place, 9.9, 2.2) is None  # left of the image (output column -1)
    assert read_pixel(doc, place, 138.0, 2.2) is None  # right of it (column 128)
    assert read_pixel(doc, place, 13.7, -5.5) is None  # above it (row -1)


def test_the_last_pixel_at_a_fractional_scale():
    doc = document(coded_image(48, 64))
    place = Placement(out_h=75, out_w=100, ox=0, oy=0, image=(64, 48))  # ×1.5625
    r = read_pixel(doc, place, 99.0, 74.0)
    assert r.output == (99, 74) and r.pixel == (63, 47) and r.value == (189, 235, 77)


def test_sixteen_bit_grey_and_the_reference():
    hr_y, hr_x = np.mgrid[0:96, 0:128]
    hr = np.repeat(((hr_x + 256 * hr_y) / 65535)[..., None], 3, axis=2).astype(np.float32)
    lr = np.repeat(np.full((48, 64, 1), 40000 / 65535, np.float32), 3, axis=2)
    doc = document(lr, GroundTruth(2, SourceImage(hr)), bit_depth=16, grayscale=True)
    r = read_pixel(doc, Placement(96, 128, -10, 5, (64, 48)), 13.7, 2.2)
    assert r.value == (40000,)
    assert r.reference == ((3, 7), (3 + 256 * 7,))  # the reference pixel at image point (1.75, 3.75)


def test_the_text():
    r = PixelReadout(24.96, 12.5, (399, 200), (1024, 768), (72, 60, 77), ((49, 25), (70, 61, 80)))
    assert format_readout(r) == ("pixel 24, 12 (24.9, 12.5)  ·  output 399, 200 of 1024×768  ·  "
                                 "input RGB 72 60 77  ·  reference 49, 25 RGB 70 61 80")
    assert format_readout(PixelReadout(1.0, 2.0, (3, 4), (8, 8), (65535,))).endswith("input grey 65535")


def test_the_status_bar_shows_the_pixel_under_the_mouse(qtbot, make_window, tmp_path):
    path = tmp_path / "coded.png"
    save_png(path, coded_image(48, 64))
    window = make_window(image=path)
    canvas = window.panels[0].canvas
    window.view.zoom_to(16.0)
    window.view.centre_on(24.5, 12.5)

    def move_to(x: float, y: float) -> None:
        """Move the mouse to the device point that shows image point (x, y)."""
        px, py = window.view.state.to_device(canvas.viewport(), x, y)
        dpr = canvas.devicePixelRatioF()
        QTest.mouseMove(canvas, QPoint(round(px / dpr), round(py / dpr)))
        qtbot.waitUntil(lambda: canvas.hover is not None, timeout=WAIT_MS)

    move_to(24.5, 12.5)
    text = window.hover_label.text()
    assert text.startswith("pixel 24, 12 (") and "of 1024×768" in text and text.endswith("input RGB 72 60 77")
    output = canvas.readout().output
    assert (output[0] // 16, output[1] // 16) == (24, 12)  # at ×16 the output pixel lies in input pixel 24, 12
    assert text == format_readout(canvas.readout())
    move_to(27.5, 3.5)
    assert window.hover_label.text().startswith("pixel 27, 3 (")
    assert window.hover_label.text().endswith("input RGB 81 15 77")
    window.view.zoom_to(32.0, canvas.viewport(), *window.view.state.to_device(canvas.viewport(), 27.5, 3.5))
    assert "of 2048×1536" in window.hover_label.text()  # the wheel zooms: the readout follows the scale
    QApplication.sendEvent(canvas, QEvent(QEvent.Type.Leave))
    assert window.hover_label.text() == ""
    window.view.fit()  # the small image leaves empty margins left and right
    QTest.mouseMove(canvas, QPoint(3, canvas.height() // 2))
    qtbot.waitUntil(lambda: canvas.hover is not None, timeout=WAIT_MS)
    assert window.hover_label.text() == ""
    QTest.mouseMove(canvas, QPoint(canvas.width() // 2, canvas.height() // 2))
    assert window.hover_label.text().startswith("pixel 3")  # the middle of 64 columns


def test_ground_truth_mode_reads_the_reference(qtbot, make_window, tmp_path):
    path = tmp_path / "reference.png"
    save_png(path, coded_image(96, 80))
    window = make_window(image=path, gt_factor=2)  # the input is 40×48
    canvas = window.panels[0].canvas
    window.view.zoom_to(16.0)
    window.view.centre_on(10.25, 20.25)
    px, py = window.view.state.to_device(canvas.viewport(), 10.25, 20.25)
    QTest.mouseMove(canvas, QPoint(round(px), round(py)))
    qtbot.waitUntil(lambda: window.hover_label.text() != "", timeout=WAIT_MS)
    text = window.hover_label.text()
    assert text.startswith("pixel 10, 20 (") and "input RGB" in text
    assert text.endswith("reference 20, 40 RGB 60 200 77")  # image point 10.25, 20.25 at ×2


def test_the_other_panels_mark_the_image_point_under_the_mouse(qtbot, make_window, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOOMSR_CHECKPOINTS", str(tmp_path / "no-checkpoints"))
    path = tmp_path / "coded.png"
    save_png(path, coded_image(48, 64))
    window = make_window(RegistryProvider(), path, panels=["bicubic", "nearest"])
    window.view.zoom_to(12.0)
    window.view.centre_on(20.0, 15.0)
    first, second = (p.canvas for p in window.panels)
    px, py = window.view.state.to_device(first.viewport(), 21.3, 16.6)
    dpr = first.devicePixelRatioF()
    QTest.mouseMove(first, QPoint(round(px / dpr), round(py / dpr)))
    qtbot.waitUntil(lambda: window.context.pointer is not None, timeout=WAIT_MS)
    assert first.pointer_mark() is None  # the mouse itself is there
    readout = first.readout()
    mark = second.pointer_mark()
    x, y = window.view.state.to_image(second.viewport(), mark.x() * dpr, mark.y() * dpr)
    assert abs(x - readout.x) < 1 / 12 and abs(y - readout.y) < 1 / 12  # the same image point
    window.grab()
    assert second._mark is not None  # drawn
    QApplication.sendEvent(first, QEvent(QEvent.Type.Leave))
    assert window.context.pointer is None and second.pointer_mark() is None
