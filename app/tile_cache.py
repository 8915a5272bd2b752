"""Rendered tiles kept on the GUI side: an LRU bounded in bytes that never drops pinned tiles.

A tile may hold only part of its pixels (the part of an edge tile that a view shows). ``key
in cache`` then means "it holds what the views need now" (:attr:`TileCache.needs`)."""

from __future__ import annotations

from collections import OrderedDict

from app.jobs import TileResult
from app.tiles import TileKey, contains
from sr_core.render import Rect


def _size(result: TileResult) -> int:
    return result.image.sizeInBytes() + (0 if result.pixels is None else result.pixels.nbytes)


class TileCache:
    """Tiles by key; ``pin`` the tiles on screen so that a small budget cannot evict them."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._items: OrderedDict[TileKey, TileResult] = OrderedDict()
        self._pinned: set[TileKey] = set()
        #: the part of each tile the views need now, for tiles not needed whole
        self.needs: dict[TileKey, Rect] = {}

    def __contains__(self, key: TileKey) -> bool:
        return self.covers(key, self.needs.get(key))

    def covers(self, key: TileKey, part: Rect | None) -> bool:
        """Whether the cached tile holds ``part`` of it (None: all of it)."""
        tile = self._items.get(key)
        return tile is not None and (tile.part is None or (part is not None and contains(tile.part, part)))

    def keys(self) -> set[TileKey]:
        return set(self._items)

    def get(self, key: TileKey) -> TileResult | None:
        return self._items.get(key)

    def pin(self, keys: set[TileKey]) -> None:
        """Protect exactly ``keys`` from eviction (the tiles the panels show now)."""
        self._pinned = keys
        for key in keys & self._items.keys():
            self._items.move_to_end(key)
        self._evict()

    def put(self, result: TileResult) -> None:
        old = self._items.pop(result.key, None)
        if old is not None:
            self.nbytes -= _size(old)
        self._items[result.key] = result
        self.nbytes += _size(result)
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
