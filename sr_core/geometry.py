"""Pixel rectangles and sizes, (height, width) first like the arrays they index.

``Rect`` is the one rectangle of pixels: the renderer's output blocks and strips, the viewer's
tiles and their parts, export regions, the LR region a block reads. ``Size`` names an
``(h, w)`` pair (an output grid, an image), so it is read by name rather than by position;
it is still a tuple, so ``out_h, out_w = size`` and ``size == (h, w)`` work.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple


class Size(NamedTuple):
    """``h × w`` pixels (height first, as in ``array.shape``)."""

    h: int
    w: int


@dataclass(frozen=True)
class Rect:
    """Half-open rectangle ``[top, bottom) × [left, right)`` of pixels."""

    top: int
    left: int
    bottom: int
    right: int

    @staticmethod
    def full(height: int, width: int) -> Rect:
        return Rect(0, 0, height, width)

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def area(self) -> int:
        return self.height * self.width

    @property
    def size(self) -> Size:
        return Size(self.height, self.width)

    def blocks(self, size: int) -> Iterator[Rect]:
        """Sub-rectangles of at most ``size × size``, row-major."""
        for top in range(self.top, self.bottom, size):
            for left in range(self.left, self.right, size):
                yield Rect(top, left, min(top + size, self.bottom), min(left + size, self.right))

    def intersection(self, other: Rect) -> Rect | None:
        """The pixels in both rectangles (None if none)."""
        top, left = max(self.top, other.top), max(self.left, other.left)
        bottom, right = min(self.bottom, other.bottom), min(self.right, other.right)
        return Rect(top, left, bottom, right) if top < bottom and left < right else None

    def bounding(self, other: Rect) -> Rect:
        """The smallest rectangle holding both."""
        return Rect(min(self.top, other.top), min(self.left, other.left),
                    max(self.bottom, other.bottom), max(self.right, other.right))

    def shifted(self, dy: int, dx: int) -> Rect:
        """The same rectangle moved by ``dy`` rows and ``dx`` columns."""
        return Rect(self.top + dy, self.left + dx, self.bottom + dy, self.right + dx)

    def contains(self, other: Rect) -> bool:
        return self.top <= other.top and self.left <= other.left and self.bottom >= other.bottom \
            and self.right >= other.right
