"""Rendering through the workers: off the GUI thread, latest request wins, tiles reused."""

from __future__ import annotations

import threading

import numpy as np
from app_fakes import WAIT_MS, FakeMethod, FakeProvider, settle
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.model.layers import Kind
from sr_core.render import Renderer


def wheel(canvas, pos: QPointF, notches: int = 1) -> None:
    """Send a mouse-wheel event (``notches`` × 120) at ``pos`` (logical pixels)."""
    event = QWheelEvent(pos, canvas.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, event)


def test_fake_method_renders_final_tiles_off_the_gui_thread(qtbot, make_window, image_file, fake):
    provider = FakeProvider({"fake": lambda: fake})
    window = make_window(provider, image_file, panels=["bicubic", "fake"])
    window.view.zoom_to(6.0)
    settle(qtbot, window)
    window.grab()
    fake_panel = window.panels[1]
    painted = fake_panel.canvas.painted
    assert painted and {(k.method, k.out_h, k.out_w) for k in painted} == {("fake", 6 * 48, 6 * 64)}
    assert fake.threads and threading.main_thread().ident not in fake.threads
    assert provider.loads and threading.main_thread().ident not in {t for _, t in provider.loads}
    status = window.scheduler.status(fake_panel.canvas.layers()[0])
    assert status.kind is Kind.MODEL and not status.refining and status.seconds is not None


def test_tiles_equal_a_direct_render(qtbot, make_window, image_file, fake):
    window = make_window(FakeProvider({"fake": lambda: fake}), image_file, panels=["fake"])
    window.view.zoom_to(3.0)
    settle(qtbot, window)
    doc, layer = window.doc, window.panels[0].canvas.layers()[0]
    key = window.scheduler.layer_tiles(layer).fine[0]
    tile = window.scheduler.cache.get(key)
    expected = Renderer(FakeMethod()).render(doc.source, key.out_h, key.out_w, key.rect)
    got = np.frombuffer(tile.image.constBits(), np.uint8).reshape(tile.image.height(), -1)
    got = got[:, :3 * tile.image.width()].reshape(tile.image.height(), tile.image.width(), 3)
    assert np.abs(got.astype(float) - np.round(expected * 255)).max() <= 1


def test_fifty_rapid_zooms_leave_only_the_newest_tiles(qtbot, make_window, image_file):
    lock = threading.Lock()
    blocking = FakeMethod(lock=lock)
    window = make_window(FakeProvider({"fake": lambda: blocking}), image_file, panels=["fake"])
    canvas = window.panels[0].canvas
    settle(qtbot, window)
    lock.acquire()
    try:
        start = len(blocking.grids)
        window.view.zoom_to(10.0)
        qtbot.waitUntil(lambda: len(blocking.grids) > start, timeout=WAIT_MS)  # a query is in flight
        centre = QPointF(canvas.width() / 2 + 7, canvas.height() / 2 - 5)
        for i in range(50):
            wheel(canvas, centre, 1 if i % 2 == 0 or i >= 48 else -1)  # net +2 notches
        qtbot.waitUntil(lambda: not window.scheduler.pending, timeout=WAIT_MS)  # the new plan is out
    finally:
        lock.release()
    settle(qtbot, window)
    window.grab()
    final = window.view.state
    tiles = window.scheduler.layer_tiles(canvas.layers()[0])
    assert abs(final.zoom - 10.0 * 2 ** 0.5) < 1e-6
    newest = {k.grid for k in tiles.fine}
    painted = canvas.painted
    assert painted and {k.grid for k in painted} == {(tiles.placement.out_h, tiles.placement.out_w)}
    assert {k.method for k in painted} == {"fake"} and set(tiles.fine) <= painted
    assert threading.main_thread().ident not in blocking.threads
    stale = [g for g in blocking.grids[start:] if g not in newest]
    assert len(stale) == 1  # only the query in flight when the zooming began; then it stopped


def test_small_pans_reuse_cached_tiles(qtbot, make_window, image_file, fake):
    window = make_window(FakeProvider({"fake": lambda: fake}), image_file, panels=["fake"])
    window.view.zoom_to(8.0)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: not window.scheduler.model.busy, timeout=WAIT_MS)  # edge tiles completed ahead
    before = len(fake.grids)
    cached = window.scheduler.cache.keys()
    window.view.pan(3, 2)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: not window.scheduler.model.busy, timeout=WAIT_MS)
    tiles = window.scheduler.layer_tiles(window.panels[0].canvas.layers()[0])
    new = [k for k in tiles.fine if k not in cached]
    chunks = sum(-(-k.rect.height * k.rect.width // 4096) for k in new)
    assert len(fake.grids) - before <= chunks  # only tiles that were not cached ran queries
    assert all(k in window.scheduler.cache for k in tiles.fine)
