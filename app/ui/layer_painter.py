"""How a panel paints one layer in device pixels, bottom to top: the input image (smoothly
scaled, instant; skipped where tiles or the previous frame cover the whole view) → the previous
frame rescaled (only until bicubic tiles of the new grid cover it) → bicubic tiles → final tiles
→ error heatmap. A panel is therefore never blurrier than bicubic once bicubic is there."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QTimer
from PySide6.QtGui import QImage, QPainter

from app.model.document import Document
from app.model.layers import Kind, Layer, LayerTiles
from app.model.tiles import Placement, TileKey
from app.model.view_state import WidthHeight
from app.render.preview_image import PreviewImage
from app.render.scheduler import TileScheduler
from app.ui import theme
from sr_core.pixel_file import release_resident

#: after painting from a mapped file, its pages are handed back this much later (at most this
#: long's worth of painting stays resident; a page read again comes from the page cache)
RELEASE_MS = 250


@dataclass
class Frame:
    """A layer as last painted, kept to rescale it at once when the zoom changes."""

    placement: Placement
    tiles: LayerTiles
    kind: Kind
    backdrop: tuple[QImage, Placement] | None = None


class LayerPainter:
    """Paints a canvas's layers from the scheduler's tiles, and keeps each method's last frame
    to rescale it at once when the zoom changes."""

    def __init__(self, scheduler: TileScheduler) -> None:
        self.scheduler = scheduler
        #: method → its layer as last painted
        self.frames: dict[str, Frame] = {}
        self._frames_of: Document | None = None
        self._preview: PreviewImage | None = None
        self._release = QTimer(singleShot=True, interval=RELEASE_MS)
        self._release.timeout.connect(release_resident)

    def begin(self, doc: Document, methods: list[str]) -> None:
        """Before a paint: a new image has no previous frame to rescale, nor a method no longer shown."""
        if self._frames_of is not doc:
            self.frames.clear()
            self._frames_of = doc
        for method in [m for m in self.frames if m not in methods]:
            del self.frames[method]

    def paint(self, p: QPainter, layer: Layer, tiles: LayerTiles, kind: Kind, preview: PreviewImage | None,
              *, heatmap: bool) -> set[TileKey]:
        """Paint a layer (the painter scaled to device pixels and clipped to it); the tiles painted."""
        self._preview = preview
        painted = self._draw_layer(p, tiles, kind, self._frame(layer, tiles, kind))
        if heatmap and kind in (Kind.MODEL, Kind.BICUBIC):
            painted |= self._draw_heatmap(p, tiles)
        return painted

    def _frame(self, layer: Layer, tiles: LayerTiles, kind: Kind) -> Frame:
        """The layer's frame record; a zoom change turns the last frame into a backdrop."""
        last = self.frames.get(layer.method)
        frame = Frame(tiles.placement, tiles, kind)
        if last is not None and (last.placement.out_h, last.placement.out_w) != \
                (tiles.placement.out_h, tiles.placement.out_w):
            frame.backdrop = (self._compose(last, layer.viewport), last.placement)
        elif last is not None:
            frame.backdrop = last.backdrop
        if frame.backdrop is not None and (not tiles.fine or self._covers(tiles.fine) or self._covers(tiles.base)):
            frame.backdrop = None  # nothing of it shows any more
        self.frames[layer.method] = frame
        return frame

    def _compose(self, frame: Frame, viewport: WidthHeight) -> QImage:
        image = QImage(viewport[0], viewport[1], QImage.Format.Format_RGB32)
        image.fill(theme.BACKGROUND)
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self._draw_layer(p, frame.tiles, frame.kind, frame)
        p.end()
        return image

    def _draw_layer(self, p: QPainter, tiles: LayerTiles, kind: Kind, frame: Frame) -> set[TileKey]:
        place = tiles.placement
        preview = self._preview
        final = self._covers(tiles.fine)
        hidden = kind is not Kind.BLOCKED and (final or self._covers(tiles.base)
                                               or self._backdrop_covers(p, place, frame))
        if preview is not None and not hidden:
            zoom = place.sx
            image = preview.pick(zoom, ghost=kind is Kind.BLOCKED)
            if kind is Kind.BLOCKED:
                p.setOpacity(0.22)
            p.drawImage(target(place, 0, 0, *place.image), image)
            p.setOpacity(1.0)
            if preview.reads_file(zoom) and not self._release.isActive():
                self._release.start()
        if kind is Kind.BLOCKED or not tiles.fine:
            return set()
        if final:
            return self._draw_tiles(p, place, tiles.fine)  # nothing below shows through
        if frame.backdrop is not None:  # the old frame only where bicubic has not arrived yet
            self._draw_backdrop(p, place, *frame.backdrop)
        return self._draw_tiles(p, place, tiles.base) | self._draw_tiles(p, place, tiles.fine)

    def _covers(self, keys: list[TileKey]) -> bool:
        """Whether the cache holds every tile of ``keys`` (opaque, they hide the view): the input
        preview under them need not be drawn."""
        return bool(keys) and all(k in self.scheduler.cache for k in keys)

    def _draw_tiles(self, p: QPainter, place: Placement, keys: list[TileKey]) -> set[TileKey]:
        drawn = set()
        for key in keys:
            tile = self.scheduler.cache.get(key)
            if tile is not None:
                p.drawImage(target(place, *key.image_rect(place.image, tile.part)), tile.image)
                drawn.add(key)
        return drawn

    def _draw_backdrop(self, p: QPainter, place: Placement, image: QImage, old: Placement) -> None:
        p.drawImage(_backdrop_rect(place, image, old), image)

    @staticmethod
    def _backdrop_covers(p: QPainter, place: Placement, frame: Frame) -> bool:
        """Whether the previous frame, rescaled, fills what this paint may touch (a zoom in):
        the preview under it would not show."""
        if frame.backdrop is None:
            return False
        device = p.device()
        area = p.clipBoundingRect() if p.hasClipping() else QRectF(0, 0, device.width(), device.height())
        return _backdrop_rect(place, *frame.backdrop).contains(area)

    def _draw_heatmap(self, p: QPainter, tiles: LayerTiles) -> set[TileKey]:
        drawn = set()
        for key in tiles.truth:
            heat = self.scheduler.truth.heatmap(key, self.scheduler.cache)
            if heat is not None:
                p.drawImage(target(tiles.placement, *key.image_rect(tiles.placement.image)), heat)
                drawn.add(key)
        return drawn


def _backdrop_rect(place: Placement, image: QImage, old: Placement) -> QRectF:
    """Device rectangle of a previous frame (``image``, painted at placement ``old``)."""
    x0, y0 = old.to_image(0, 0)
    x1, y1 = old.to_image(image.width(), image.height())
    return target(place, x0, y0, x1, y1)


def target(place: Placement, x0: float, y0: float, x1: float, y1: float) -> QRectF:
    """Device rectangle of image rectangle ``(x0, y0) – (x1, y1)``."""
    left, top = place.to_device(x0, y0)
    right, bottom = place.to_device(x1, y1)
    return QRectF(left, top, right - left, bottom - top)
