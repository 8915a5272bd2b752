"""Rendered tiles kept on the GUI side, as QImages: an LRU bounded in bytes that never drops
pinned tiles.

A tile may hold only part of its pixels (the part of an edge tile that a view shows). ``key
in cache`` then means "it holds what the views need now" (:attr:`TileCache.needs`)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QImage

from app.model.jobs import TileResult
from app.model.tiles import TileKey
from app.render.qt_images import rgb_image
from sr_core.geometry import Rect


@dataclass(frozen=True)
class ShownTile:
    """A rendered tile as the panels paint it."""

    key: TileKey
    image: QImage
    #: the float pixels of a ground-truth-grid tile (metrics, heatmaps)
    pixels: np.ndarray | None
    #: the part of the tile that ``image`` holds; None: all of it
    part: Rect | None

    @classmethod
    def of(cls, result: TileResult) -> ShownTile:
        """Wrap a worker's result (on the GUI thread)."""
        return cls(result.key, rgb_image(result.rgb), result.pixels, result.part)


def _size(tile: ShownTile) -> int:
    return tile.image.sizeInBytes() + (0 if tile.pixels is None else tile.pixels.nbytes)


class TileCache:
    """Tiles by key; ``pin`` the tiles on screen so that a small budget cannot evict them."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._items: OrderedDict[TileKey, ShownTile] = OrderedDict()
        self._pinned: set[TileKey] = set()
        #: the part of each tile the views need now, for tiles not needed whole
        self.needs: dict[TileKey, Rect] = {}

    def __contains__(self, key: TileKey) -> bool:
        return self.covers(key, self.needs.get(key))

    def covers(self, key: TileKey, part: Rect | None) -> bool:
        """Whether the cached tile holds ``part`` of it (None: all of it)."""
        tile = self._items.get(key)
        return tile is not None and (tile.part is None or (part is not None and tile.part.contains(part)))

    def keys(self) -> set[TileKey]:
        return set(self._items)

    def get(self, key: TileKey) -> ShownTile | None:
        return self._items.get(key)

    def pin(self, keys: set[TileKey]) -> None:
        """Protect exactly ``keys`` from eviction (the tiles the panels show now)."""
        self._pinned = keys
        for key in keys & self._items.keys():
            self._items.move_to_end(key)
        self._evict()

    def put(self, tile: ShownTile) -> None:
        old = self._items.pop(tile.key, None)
        if old is not None:
            self.nbytes -= _size(old)
        self._items[tile.key] = tile
        self.nbytes += _size(tile)
        self._evict()

    def clear(self) -> None:
        self._items.clear()
        self.nbytes = 0

    def forget_images(self, image_keys: set[int]) -> None:
        for key in [k for k in self._items if k.image in image_keys]:
            self.nbytes -= _size(self._items.pop(key))

    def _evict(self) -> None:
        if self.nbytes <= self.max_bytes:
            return
        for key in list(self._items):
            if self.nbytes <= self.max_bytes:
                break
            if key not in self._pinned:
                self.nbytes -= _size(self._items.pop(key))
