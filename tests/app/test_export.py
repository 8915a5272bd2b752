"""Exporting views and regions to PNG, with progress and cancellation."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from app_fakes import WAIT_MS, FakeMethod, FakeProvider, settle, smooth_image
from PIL import Image

from app.model.export_plan import ExportError, region_export
from app.ui.dialogs.export_dialog import ALL, ExportDialog, ExportRequest
from sr_core.imaging import load_image, save_png, to_uint16


def test_export_the_current_view_of_all_panels(qtbot, make_window, image_file, tmp_path, fake):
    window = make_window(FakeProvider({"fake": lambda: fake}), image_file, panels=["bicubic", "fake"])
    window.view.zoom_to(12.0)
    settle(qtbot, window)
    vw, vh = window.panels[0].canvas.viewport()
    x0, y0, x1, y1 = window.view.state.visible_rect((vw, vh))
    exporter = window.exporter
    exporter.start_export(exporter.export_items(ExportRequest(ALL, None, 1.0, str(tmp_path / "view.png"))))
    qtbot.waitUntil(lambda: "Exported" in " ".join(window.messages.messages()), timeout=WAIT_MS)
    paths = sorted(tmp_path.glob("view*.png"))
    assert [p.name for p in paths] == ["view-panel1.png", "view-panel2.png"]
    for path in paths:
        with Image.open(path) as im:
            assert im.size == (min(vw, round((x1 - x0) * 12)), min(vh, round((y1 - y0) * 12)))


def test_export_a_region_at_any_scale(qtbot, make_window, image_file, tmp_path):
    window = make_window(image=image_file)
    items = region_export(window.doc, ["bicubic"], (10, 5, 20, 10), 3.5, str(tmp_path / "region"))
    window.exporter.start_export(items)
    qtbot.waitUntil(lambda: (tmp_path / "region.png").exists(), timeout=WAIT_MS)
    with Image.open(tmp_path / "region.png") as im:
        assert im.size == (70, 35)
    with pytest.raises(ExportError):
        region_export(window.doc, ["bicubic"], (100, 100, 5, 5), 2.0, str(tmp_path / "outside.png"))


def test_exports_keep_a_16_bit_input_at_16_bits(qtbot, make_window, tmp_path):
    deep = tmp_path / "deep.png"
    pixels = smooth_image(48, 64)
    save_png(deep, pixels, bits=16)
    window = make_window(image=deep)
    assert window.doc.bit_depth == 16
    window.exporter.start_export(region_export(window.doc, ["bicubic"], (0, 0, 64, 48), 1.0, str(tmp_path / "out")))
    qtbot.waitUntil(lambda: (tmp_path / "out.png").exists(), timeout=WAIT_MS)
    out = load_image(tmp_path / "out.png")
    assert out.bit_depth == 16
    # ×1 bicubic is the input itself: 16-bit exact, finer than any 8-bit export could be
    assert np.abs(out.pixels - to_uint16(pixels) / 65535).max() <= 1 / 65535


def test_a_long_export_can_be_cancelled(qtbot, make_window, image_file, tmp_path):
    lock = threading.Lock()
    slow = FakeMethod(lock=lock)
    window = make_window(FakeProvider({"slow": lambda: slow}), image_file, panels=["slow"])
    settle(qtbot, window)
    lock.acquire()
    try:
        items = region_export(window.doc, ["slow"], (0, 0, 64, 48), 16.0, str(tmp_path / "big.png"))
        before = len(slow.grids)
        window.exporter.start_export(items)
        qtbot.waitUntil(lambda: len(slow.grids) > before, timeout=WAIT_MS)
        window.exporter.progress.canceled.emit()
    finally:
        lock.release()
    qtbot.waitUntil(lambda: any("cancelled" in m for m in window.messages.messages()), timeout=WAIT_MS)
    assert not (tmp_path / "big.png").exists()
    assert not list(tmp_path.glob(".big.png*"))


def test_the_export_dialog_builds_a_request(qtbot):
    dialog = ExportDialog(["Bicubic", "LIIF"], 1, (64, 48), (1.0, 2.0, 30.0, 20.0), 4.0, "/tmp/out.png")
    qtbot.addWidget(dialog)
    assert dialog.request().region is None and dialog.request().panel == 1
    dialog.region.setChecked(True)
    dialog.scale.setValue(2.5)
    request = dialog.request()
    assert request.region == (1.0, 2.0, 30.0, 20.0) and request.scale == 2.5 and request.path == "/tmp/out.png"
    assert "75 × 50" in dialog.size.text()
