"""Tile geometry on virtual output grids (no Qt).

A panel at zoom ``z`` shows the output grid ``output_size(h, w, z)`` of the image, cut into
square tiles. A :class:`TileKey` names one tile of one method's grid, so tiles are reused
while the zoom stays the same (pans) and are never confused between zoom levels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.model.view_state import ViewState, WidthHeight
from sr_core.geometry import Rect, Size
from sr_core.render import output_size

#: ``(x0, y0, x1, y1)`` in image coordinates (floats, the view's order); pixels of a grid are a ``Rect``
ImageRect = tuple[float, float, float, float]


@dataclass(frozen=True)
class TileKey:
    """Tile ``(row, col)`` of ``method`` on the ``out_h × out_w`` grid of image ``image``."""

    method: str
    image: int
    out_h: int
    out_w: int
    size: int
    row: int
    col: int

    @property
    def grid(self) -> Size:
        return Size(self.out_h, self.out_w)

    @property
    def rect(self) -> Rect:
        """Output pixels of the tile (the grid's last row and column of tiles are smaller)."""
        top, left = self.row * self.size, self.col * self.size
        return Rect(top, left, min(top + self.size, self.out_h), min(left + self.size, self.out_w))

    def image_rect(self, image: WidthHeight, part: Rect | None = None) -> ImageRect:
        """The tile (or ``part`` of its grid) in image coordinates ``(x0, y0, x1, y1)``."""
        r = part or self.rect
        sx, sy = self.out_w / image[0], self.out_h / image[1]
        return r.left / sx, r.top / sy, r.right / sx, r.bottom / sy


@dataclass(frozen=True)
class Placement:
    """Where the view's output grid sits in a viewport: grid pixel ``(i, j)`` → device ``(j - ox, i - oy)``.

    The offset is whole, so tiles of the current grid are drawn 1:1 onto device pixels.
    """

    out_h: int
    out_w: int
    ox: int
    oy: int
    image: WidthHeight

    @property
    def sx(self) -> float:
        """Device pixels per image pixel, horizontally (≈ zoom)."""
        return self.out_w / self.image[0]

    @property
    def sy(self) -> float:
        return self.out_h / self.image[1]

    def to_device(self, x: float, y: float) -> tuple[float, float]:
        return x * self.sx - self.ox, y * self.sy - self.oy

    def to_image(self, px: float, py: float) -> tuple[float, float]:
        return (px + self.ox) / self.sx, (py + self.oy) / self.sy

    @property
    def upscaling(self) -> bool:
        """Whether the grid enlarges the image (methods differ only then)."""
        return self.out_h >= self.image[1] and self.out_w >= self.image[0]


def placement(view: ViewState, viewport: WidthHeight) -> Placement:
    """The output grid of the view's zoom, snapped to whole device pixels in ``viewport``."""
    w, h = view.image
    out_h, out_w = output_size(h, w, view.zoom)
    ox = round(view.cx * out_w / w - viewport[0] / 2)
    oy = round(view.cy * out_h / h - viewport[1] / 2)
    return Placement(out_h, out_w, ox, oy, view.image)


def covering_tiles(method: str, image_key: int, grid: Size, image: WidthHeight,
                   region: ImageRect, size: int, centre: tuple[float, float]) -> list[TileKey]:
    """Tiles of ``grid`` that intersect the image ``region``, nearest to ``centre`` first."""
    out_h, out_w = grid
    sx, sy = out_w / image[0], out_h / image[1]
    x0, y0, x1, y1 = region
    if x1 <= x0 or y1 <= y0:
        return []
    c0, c1 = max(0, math.floor(x0 * sx / size)), min(math.ceil(x1 * sx / size), math.ceil(out_w / size))
    r0, r1 = max(0, math.floor(y0 * sy / size)), min(math.ceil(y1 * sy / size), math.ceil(out_h / size))
    keys = [TileKey(method, image_key, out_h, out_w, size, r, c)
            for r in range(r0, r1) for c in range(c0, c1)]
    cx, cy = centre[0] * sx, centre[1] * sy

    def distance(k: TileKey) -> float:
        rect = k.rect
        return math.hypot((rect.left + rect.right) / 2 - cx, (rect.top + rect.bottom) / 2 - cy)

    return sorted(keys, key=distance)


def grid_region(grid: Size, image: WidthHeight, region: ImageRect) -> Rect | None:
    """Output pixels of ``grid`` whose area meets the image ``region`` (None if empty)."""
    out_h, out_w = grid
    sx, sy = out_w / image[0], out_h / image[1]
    x0, y0, x1, y1 = region
    left, right = max(0, math.floor(x0 * sx)), min(out_w, math.ceil(x1 * sx))
    top, bottom = max(0, math.floor(y0 * sy)), min(out_h, math.ceil(y1 * sy))
    if right <= left or bottom <= top:
        return None
    return Rect(top, left, bottom, right)

