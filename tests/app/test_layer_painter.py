"""The input preview is drawn only where no tiles cover the view (issue 30: a final panel's
paint skips the scaled preview), and a panel never shows the background instead of the image."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from app_fakes import WAIT_MS, FakeMethod, FakeProvider, settle, smooth_image

from app.render.preview_image import PreviewImage
from app.ui import theme
from app.ui.frame_pixels import widget_rgb
from sr_core.imaging import save_png


@pytest.fixture
def picks(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The zooms at which a panel asked the preview for a level (one per preview drawn)."""
    calls: list[float] = []
    pick = PreviewImage.pick

    def counting(self, zoom: float, ghost: bool = False):
        calls.append(zoom)
        return pick(self, zoom, ghost)

    monkeypatch.setattr(PreviewImage, "pick", counting)
    return calls


def _paint(window) -> None:
    for panel in window.panels:
        panel.canvas.repaint()


def _each_draws_the_preview(window, picks: list[float]) -> bool:
    """Whether every panel's repaint asked for a preview level (other paints may too)."""
    drawn = []
    for panel in window.panels:
        before = len(picks)
        panel.canvas.repaint()
        drawn.append(len(picks) > before)
    return all(drawn)


def _background_pixels(canvas) -> int:
    rgb = widget_rgb(canvas, 0)[:-40].astype(int)  # above the pills of the bottom edge
    colour = np.array(theme.BACKGROUND.getRgb()[:3])
    return int((np.abs(rgb - colour).sum(-1) == 0).sum())


def test_final_panels_do_not_draw_the_preview_and_show_no_background(qtbot, make_window, image_file, fake, picks):
    window = make_window(FakeProvider({"fake": lambda: fake}), image_file, size=(720, 420),
                         panels=["bicubic", "fake"])
    window.view.zoom_to(11.3)  # the image fills the panels; their edge tiles are shown in part
    settle(qtbot, window)
    picks.clear()
    _paint(window)
    assert picks == []
    for panel in window.panels:  # the tiles cover every pixel of the image the panel shows
        assert _background_pixels(panel.canvas) == 0


def test_the_preview_shows_until_bicubic_tiles_cover_the_view(qtbot, make_window, image_file, picks):
    lock = threading.Lock()
    slow = FakeMethod(lock=lock)
    window = make_window(FakeProvider({"fake": lambda: slow}), image_file, size=(720, 420),
                         panels=["bicubic", "fake"])
    sched = window.scheduler
    with lock:  # the fake renders nothing: its panel shows bicubic tiles over nothing else
        window.view.zoom_to(3.1)
        layer = window.panels[1].canvas.layers()[0]
        qtbot.waitUntil(lambda: all(k in sched.cache for k in sched.layer_tiles(layer).base), timeout=WAIT_MS)
        picks.clear()
        _paint(window)
        assert picks == []
        sched.cache.clear()  # nothing covers the view any more: the preview is all there is
        assert _each_draws_the_preview(window, picks)


def test_a_zoomed_out_view_draws_the_preview(qtbot, make_window, tmp_path, fake, picks):
    path = tmp_path / "large.png"
    save_png(path, smooth_image(900, 1200))
    window = make_window(FakeProvider({"fake": lambda: fake}), path, size=(720, 420),
                         panels=["bicubic", "fake"])
    settle(qtbot, window)  # fitted: every method is the same downscale, no tiles at all
    assert window.view.state.zoom < 1
    assert _each_draws_the_preview(window, picks)
    canvas = window.panels[1].canvas
    assert _background_pixels(canvas) < 0.9 * canvas.width() * canvas.height()


def test_a_zoom_in_paints_the_previous_frame_without_the_preview(qtbot, make_window, image_file, fake, picks):
    window = make_window(FakeProvider({"fake": lambda: fake}), image_file, size=(720, 420),
                         panels=["bicubic", "fake"])
    window.view.zoom_to(9.0)
    settle(qtbot, window)
    window.view.zoom_to(11.0)  # no tile of the new grid yet: the old frame, rescaled, fills the panels
    picks.clear()
    _paint(window)
    assert picks == []
    for panel in window.panels:
        assert _background_pixels(panel.canvas) == 0
    settle(qtbot, window)
    window.view.zoom_to(2.0)  # zoomed out (to fit), the old frame fills only part of each panel
    picks.clear()
    _paint(window)
    assert len(picks) >= 2
