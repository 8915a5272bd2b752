"""What the cursor points at: input pixel, output pixel and their values, as status text (no Qt).

The readout describes the device pixel under the cursor, mapped with the same
:class:`~app.model.tiles.Placement` the canvas draws with: its output pixel on the current grid,
and the input pixel (and, when comparing, the reference pixel) that contains that output
pixel's centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.model.document import Document
from app.model.tiles import Placement
from sr_core.geometry import Rect


@dataclass(frozen=True)
class PixelReadout:
    """One device pixel of a panel, seen in input, output and reference pixels."""

    #: image point at the device pixel's centre (input pixel ``(int(x), int(y))``)
    x: float
    y: float
    #: output pixel (column, row) on the current ``out_w × out_h`` grid
    output: tuple[int, int]
    grid: tuple[int, int]
    #: the input pixel's value in the file's range: one value for grey, else R, G, B (None while
    #: the image is still being decoded at full resolution)
    value: tuple[int, ...] | None
    #: the reference pixel (column, row) and its value, in ground-truth mode
    reference: tuple[tuple[int, int], tuple[int, ...]] | None = None

    @property
    def pixel(self) -> tuple[int, int]:
        """The input pixel (column, row)."""
        return int(self.x), int(self.y)


def read_pixel(doc: Document, place: Placement, px: float, py: float) -> PixelReadout | None:
    """The readout at device point ``(px, py)`` of a viewport drawn with ``place``; None off the image."""
    dx, dy = math.floor(px), math.floor(py)
    col, row = dx + place.ox, dy + place.oy
    if not (0 <= col < place.out_w and 0 <= row < place.out_h):
        return None
    x, y = place.to_image(dx + 0.5, dy + 0.5)
    value = None
    if doc.source.ready:
        value = _levels(doc.source.rgb(int(y), int(y) + 1, int(x), int(x) + 1)[0, 0], doc.bit_depth, doc.grayscale)
    reference = None
    if doc.gt is not None:
        (ref_h, ref_w), (w, h) = doc.gt.grid, doc.size
        rx, ry = int(x * ref_w / w), int(y * ref_h / h)
        reference = (rx, ry), _levels(doc.gt.pixels(Rect(ry, rx, ry + 1, rx + 1))[0, 0], doc.bit_depth,
                                      doc.grayscale)
    return PixelReadout(x, y, (col, row), (place.out_w, place.out_h), value, reference)


def _levels(rgb: np.ndarray, bit_depth: int, grayscale: bool) -> tuple[int, ...]:
    """Float [0, 1] RGB as the file's integer levels (0–255 up to 8 bits, else 0–65535)."""
    peak = 255 if bit_depth <= 8 else 65535
    levels = tuple(int(v) for v in np.rint(rgb * peak))
    return levels[:1] if grayscale else levels


def _value(levels: tuple[int, ...] | None) -> str:
    if levels is None:
        return "decoding…"
    return f"grey {levels[0]}" if len(levels) == 1 else "RGB " + " ".join(str(v) for v in levels)


def _tenths(v: float) -> str:
    """Rounded down, so that the position never shows the next pixel's number."""
    return f"{math.floor(v * 10) / 10:.1f}"


def format_readout(r: PixelReadout) -> str:
    """Status-bar text, e.g. ``pixel 24, 12 (24.5, 12.4) · output 196, 99 of 512×384 · input RGB 72 60 77``."""
    (ix, iy), (ox, oy), (gw, gh) = r.pixel, r.output, r.grid
    parts = [f"pixel {ix}, {iy} ({_tenths(r.x)}, {_tenths(r.y)})", f"output {ox}, {oy} of {gw}×{gh}",
             f"input {_value(r.value)}"]
    if r.reference is not None:
        (rx, ry), levels = r.reference
        parts.append(f"reference {rx}, {ry} {_value(levels)}")
    return "  ·  ".join(parts)
