"""The zoom box's text: ``7.3×`` out; ``7.3×``, ``7.3x``, ``7.3``, ``730%`` or ``fit`` in."""

from __future__ import annotations

import re

FIT = "fit"

_PATTERN = re.compile(r"^\s*×?\s*(\d+(?:[.,]\d*)?|[.,]\d+)\s*([×x%]?)\s*$", re.IGNORECASE)


def format_zoom(zoom: float) -> str:
    """Three significant digits and a multiplication sign: ``0.523×``, ``7.3×``, ``64×``."""
    return f"{zoom:.3g}×"


def parse_zoom(text: str) -> float | str | None:
    """A zoom factor, :data:`FIT`, or None when the text is not a zoom."""
    if text.strip().lower() == FIT:
        return FIT
    match = _PATTERN.match(text)
    if not match:
        return None
    value = float(match.group(1).replace(",", "."))
    if match.group(2) == "%":
        value /= 100.0
    return value if value > 0 else None
