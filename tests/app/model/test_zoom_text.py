"""The zoom box's text."""

import pytest

from app.model.zoom_text import FIT, format_zoom, parse_zoom


@pytest.mark.parametrize("text, value", [
    ("7.3×", 7.3), ("7.3x", 7.3), ("7.3X", 7.3), (" 7.3 × ", 7.3), ("730%", 7.3), ("730 %", 7.3),
    ("7.3", 7.3), ("×2", 2.0), ("7,5x", 7.5), (".5x", 0.5), ("100%", 1.0),
])
def test_parses_zoom_factors(text, value):
    assert parse_zoom(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "7.3y", "-2x", "0x", "1.2.3", "x"])
def test_rejects_what_is_not_a_zoom(text):
    assert parse_zoom(text) is None


def test_fit_and_formatting():
    assert parse_zoom("Fit") == FIT
    assert [format_zoom(z) for z in (7.3, 1.0, 12.46, 0.5234, 64)] == ["7.3×", "1×", "12.5×", "0.523×", "64×"]
    assert parse_zoom(format_zoom(7.3)) == pytest.approx(7.3)
