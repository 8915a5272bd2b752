"""Progressive refinement: the previous frame at once, then bicubic, then the method, centre-out."""

from __future__ import annotations

import threading

import numpy as np
from app_fakes import WAIT_MS, FakeMethod, FakeProvider, settle, smooth_image

from app.ui.frame_pixels import widget_rgb
from sr_core.imaging import save_png
from sr_core.render import Rect, Renderer


def test_the_old_frame_shows_until_bicubic_arrives_then_bicubic_until_final(qtbot, make_window, image_file):
    lock = threading.Lock()
    slow = FakeMethod(lock=lock)
    window = make_window(FakeProvider({"slow": lambda: slow}), image_file, panels=["slow"])
    canvas = window.panels[0].canvas
    window.view.zoom_to(10.0)
    settle(qtbot, window)
    lock.acquire()
    try:
        window.view.zoom_to(12.0)
        window.grab()  # before any tile of the new grid can have arrived (they come as events)
        assert canvas.painter.frames["slow"].backdrop is not None and not canvas.painted  # the old frame, rescaled
        layer = canvas.layers()[0]
        tiles = window.scheduler.layer_tiles(layer)
        qtbot.waitUntil(lambda: all(k in window.scheduler.cache for k in tiles.base), timeout=WAIT_MS)
        window.grab()
        assert canvas.painter.frames["slow"].backdrop is None  # bicubic covers it: never blurrier than bicubic
        assert set(tiles.base) <= canvas.painted and not set(tiles.fine) & canvas.painted
        assert window.panels[0].state.text().startswith("refining")
    finally:
        lock.release()
    settle(qtbot, window)
    window.grab()
    assert canvas.painted == set(tiles.fine) and canvas.painter.frames["slow"].backdrop is None


def test_after_the_view_is_final_a_short_pan_finds_final_tiles(qtbot, make_window, image_file, fake):
    window = make_window(FakeProvider({"fake": lambda: fake}), image_file, panels=["fake"])
    canvas = window.panels[0].canvas
    window.view.zoom_to(20.0)
    settle(qtbot, window)
    ahead = window.scheduler.layer_tiles(canvas.layers()[0]).ahead
    assert ahead
    qtbot.waitUntil(lambda: all(k in window.scheduler.cache for k in ahead), timeout=WAIT_MS)
    window.view.pan(100, 60)  # device px: less than a tile
    tiles = window.scheduler.layer_tiles(canvas.layers()[0])
    assert set(tiles.fine) & set(ahead)  # the pan uncovered tiles that were rendered ahead...
    assert all(k in window.scheduler.cache for k in tiles.fine)  # ...so it is final at once


def test_the_refinement_time_belongs_to_its_zoom(qtbot, make_window, tmp_path, fake):
    path = tmp_path / "large.png"
    save_png(path, smooth_image(300, 400))
    window = make_window(FakeProvider({"fake": lambda: fake}), path, size=(320, 240), panels=["fake"])
    panel = window.panels[0]
    window.view.zoom_to(2.0)
    settle(qtbot, window)
    window.refresh()
    assert "refined in" in panel.info.text() and "2×" in panel.info.text()
    window.view.fit()  # below ×1 nothing refines: the time of ×2 must not stay
    settle(qtbot, window)
    window.refresh()
    assert window.view.state.zoom < 1 and "refined in" not in panel.info.text()
    status = window.scheduler.status(panel.canvas.layers()[0])
    assert status.seconds is None and status.seconds_left is None


def test_ground_truth_numbers_show_as_computing_until_they_are(qtbot, make_window, image_file, fake):
    window = make_window(FakeProvider({"fake": lambda: fake}), image_file, panels=["bicubic", "fake"], gt_factor=2)
    layer = window.panels[1].canvas.layers()[0]
    assert window.scheduler.status(layer).numbers is not None
    settle(qtbot, window)
    window.refresh()
    assert window.scheduler.status(layer).numbers is None
    assert window.panels[1].state.text() == "final" and window.work_label.text().startswith("Ready")


def test_a_view_of_edge_tiles_in_part_shows_the_same_pixels_as_a_whole_render(qtbot, make_window, tmp_path, fake):
    path = tmp_path / "large.png"
    save_png(path, smooth_image(300, 400))
    window = make_window(FakeProvider({"fake": lambda: fake}), path, size=(330, 250), panels=["fake"])
    canvas = window.panels[0].canvas
    window.view.zoom_to(3.0)
    settle(qtbot, window)
    tiles = window.scheduler.layer_tiles(canvas.layers()[0])
    assert tiles.need
    place, (vw, vh) = tiles.placement, canvas.viewport()
    expected = Renderer(FakeMethod()).render(window.doc.source, place.out_h, place.out_w,
                                             Rect(place.oy, place.ox, place.oy + vh, place.ox + vw))
    assert np.abs(widget_rgb(canvas) - expected).max() <= 1.5 / 255


def test_detail_comes_first_around_the_wheel_point_and_a_late_peek_never_replaces_a_tile(
        qtbot, make_window, image_file, fake):
    from app.model.layers import PEEK

    window = make_window(FakeProvider({"fake": lambda: fake}), image_file, panels=["fake"])
    canvas = window.panels[0].canvas
    window.view.zoom_to(10.0)
    settle(qtbot, window)
    results = []
    window.scheduler.model.tileReady.connect(results.append)
    viewport = canvas.viewport()
    window.view.zoom_about(viewport, viewport[0] * 0.3, viewport[1] * 0.4, 1.5)
    state = window.view.state
    settle(qtbot, window)
    first = next(r for r in results if r.key.method == "fake")
    fx, fy = (v * state.zoom for v in state.focus)  # output px (the grid is the image × zoom)
    assert first.part is not None and (first.part.height, first.part.width) == (PEEK, PEEK)
    assert first.part.left <= fx < first.part.right and first.part.top <= fy < first.part.bottom
    assert first.key in window.scheduler.cache
    window.scheduler.model.tileReady.emit(first)  # the peek again, after its whole tile
    assert first.key in window.scheduler.cache
