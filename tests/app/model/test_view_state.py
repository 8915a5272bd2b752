"""View maths: fit, 100 %, limits, zoom about the cursor, panning, visible regions (no Qt)."""

from __future__ import annotations

import math
import random

import pytest

from app.model.tiles import placement
from app.model.view_state import MAX_ZOOM, ViewState, fit_zoom

IMAGE = (768, 512)
PANELS = ((800, 600), (800, 600))


def test_fit_shows_the_whole_image_centred():
    view = ViewState.fit(IMAGE, PANELS)
    assert view.zoom == pytest.approx(min(800 / 768, 600 / 512))
    assert (view.cx, view.cy) == (384, 256)
    x0, y0, x1, y1 = view.visible_rect(PANELS[0])
    assert (x0, y0, x1, y1) == (0, 0, 768, 512)


def test_fit_uses_the_smallest_panel():
    assert fit_zoom(IMAGE, ((800, 600), (400, 600))) == pytest.approx(400 / 768)
    assert fit_zoom(IMAGE, ()) == 1.0


def test_limits_run_from_fit_to_64():
    view = ViewState.fit(IMAGE, PANELS)
    assert view.zoomed_to(1000).zoom == MAX_ZOOM
    assert view.zoomed_to(0.01).zoom == pytest.approx(view.zoom)
    tiny = ViewState.fit((4, 3), ((800, 600),))
    assert tiny.limits == (200.0, 200.0)


def test_100_percent_is_one_image_pixel_per_device_pixel():
    view = ViewState.fit(IMAGE, ((400, 300),)).zoomed_to(1.0)
    assert view.zoom == 1.0
    x0, _, x1, _ = view.visible_rect((400, 300))
    assert x1 - x0 == pytest.approx(400)
    assert view.to_device((400, 300), view.cx + 10, view.cy) == pytest.approx((210, 150))


@pytest.mark.parametrize("seed", range(5))
def test_zoom_about_the_cursor_keeps_the_point_under_it(seed):
    rng = random.Random(seed)
    viewport = PANELS[0]
    view = ViewState.fit(IMAGE, PANELS).zoomed_to(1.5)
    for _ in range(200):
        px, py = rng.uniform(0, viewport[0]), rng.uniform(0, viewport[1])
        x, y = view.to_image(viewport, px, py)
        factor = rng.choice([1.19, 1.5, 2.0, 1 / 1.19, 0.8])
        new = view.zoomed_about(viewport, px, py, factor)
        low, high = new.limits
        expected = min(max(view.zoom * factor, low), high)
        inside = 0 <= x <= IMAGE[0] and 0 <= y <= IMAGE[1]
        overflowing = view.zoom * IMAGE[0] > viewport[0] and view.zoom * IMAGE[1] > viewport[1]
        if inside and factor > 1 and new.zoom == pytest.approx(expected) and overflowing:
            dx, dy = new.to_device(viewport, x, y)
            assert abs(dx - px) < 0.5 and abs(dy - py) < 0.5
        view = new


def test_zoom_about_the_cursor_from_fit_and_back():
    viewport = PANELS[0]
    view = ViewState.fit(IMAGE, PANELS)
    px, py = 500.0, 250.0
    x, y = view.to_image(viewport, px, py)
    for _ in range(12):
        view = view.zoomed_about(viewport, px, py, 2 ** 0.25)
        dx, dy = view.to_device(viewport, x, y)
        assert abs(dx - px) < 0.5 and abs(dy - py) < 0.5
    for _ in range(6):
        view = view.zoomed_about(viewport, px, py, 2 ** -0.25)
        dx, dy = view.to_device(viewport, x, y)
        assert abs(dx - px) < 0.5 and abs(dy - py) < 0.5


def test_pan_follows_the_hand_and_stays_near_the_image():
    view = ViewState.fit(IMAGE, PANELS).zoomed_to(4.0)
    moved = view.panned(40, -20)
    assert (moved.cx, moved.cy) == pytest.approx((view.cx - 10, view.cy + 5))
    far = view.panned(-1e6, -1e6)
    assert (far.cx, far.cy) == (IMAGE[0], IMAGE[1])
    assert not moved.fitted


def test_an_image_smaller_than_the_panel_stays_centred():
    view = ViewState.fit(IMAGE, ((2000, 600),)).zoomed_to(1.1).panned(300, 0)
    assert view.cx == IMAGE[0] / 2


def test_a_fitted_view_refits_when_panels_resize():
    view = ViewState.fit(IMAGE, PANELS).with_viewports(((400, 300),))
    assert view.zoom == pytest.approx(400 / 768) and view.fitted
    zoomed = ViewState.fit(IMAGE, PANELS).zoomed_to(3.0).with_viewports(((400, 300),))
    assert zoomed.zoom == 3.0


def test_another_image_keeps_the_zoom_and_relative_centre_within_its_limits():
    view = ViewState.fit(IMAGE, PANELS).zoomed_to(5.0).centred_on(300.5, 100.25)
    same = view.carried_to(IMAGE)
    assert (same.zoom, same.cx, same.cy, same.fitted) == (5.0, 300.5, 100.25, False)
    double = view.carried_to((2 * IMAGE[0], 2 * IMAGE[1]))
    assert (double.zoom, double.cx, double.cy) == (5.0, 601.0, 200.5)
    wide = view.carried_to((200, 100))  # at ×5 its height fits the panels: centred on that axis
    assert (wide.zoom, wide.cx, wide.cy) == (5.0, pytest.approx(300.5 / 768 * 200), 50)
    tiny = view.carried_to((40, 30))  # ×5 is below its fit (×20): the zoom rises to fit
    assert (tiny.zoom, tiny.cx, tiny.cy) == (20.0, 20, 15) and not tiny.fitted
    refit = ViewState.fit(IMAGE, PANELS).carried_to((100, 80))
    assert refit == ViewState.fit((100, 80), PANELS) and refit.fitted


def test_placement_puts_tiles_on_whole_device_pixels():
    view = ViewState.fit(IMAGE, PANELS).zoomed_to(7.3).centred_on(300.37, 200.81)
    place = placement(view, PANELS[0])
    assert isinstance(place.ox, int) and isinstance(place.oy, int)
    assert (place.out_w, place.out_h) == (round(768 * 7.3), round(512 * 7.3))
    # the snapped grid is within half a device pixel (plus the grid's rounding) of the exact view
    exact = view.to_device(PANELS[0], 300.37, 200.81)
    snapped = place.to_device(300.37, 200.81)
    assert abs(exact[0] - snapped[0]) <= 0.5 + 1e-6 and abs(exact[1] - snapped[1]) <= 0.5 + 1e-6


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_never_enter_the_view(bad):
    view = ViewState.fit(IMAGE, PANELS).zoomed_to(4.0)
    for state in (view.zoomed_to(bad), view.centred_on(bad, bad), view.zoomed_to(bad, PANELS[0], 10, 10),
                  view.panned(bad, bad)):
        assert all(math.isfinite(v) for v in (state.zoom, state.cx, state.cy))
