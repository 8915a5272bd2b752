"""A panel's image area: paints cached tiles with QPainter and turns gestures into view changes.

Everything is painted in device pixels (the painter is scaled by 1/devicePixelRatio), so
tiles of the current zoom land 1:1 on physical pixels. Each screen pixel shows the best thing
already computed for the current view, bottom to top: the input image (smoothly scaled,
instant) → the previous frame rescaled (only until bicubic tiles of the new grid cover it) →
bicubic tiles → final tiles → error heatmap; then the overlays in logical pixels. A panel is
therefore never blurrier than bicubic once bicubic is there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import qtawesome as qta
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QInputDevice,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QPinchGesture, QWidget

from app import theme
from app.document import Document
from app.heatmap import ERROR_RANGE, legend_rgba
from app.jobs import MetricsKey
from app.layers import Kind, Layer, LayerTiles
from app.method_provider import GROUND_TRUTH, HOW_TO_GET_WEIGHTS, MethodProvider, display_name
from app.pixel_readout import PixelReadout, read_pixel
from app.preview_image import PreviewImage
from app.qt_images import rgba_image
from app.scheduler import TileScheduler
from app.tiles import Placement, TileKey, placement
from app.view_model import ViewModel
from app.view_state import WidthHeight

#: zoom factor of one wheel notch (four notches double the zoom)
WHEEL_STEP = 2 ** 0.25
#: logical pixels around the wipe divider that grab it
DIVIDER_GRAB = 8
#: half the size of the mark of the mouse's image point in the other panels (logical px)
POINTER_RADIUS = 9
#: opacity of a numbers box under the mouse (the image below it shows through)
FADED = 0.12


@dataclass
class CanvasContext:
    """What all canvases of a window share."""

    view: ViewModel
    scheduler: TileScheduler
    provider: MethodProvider
    preview: PreviewImage | None = None
    heatmap: bool = False
    #: (panel, image x, image y) under the mouse; the other panels mark the same image point
    pointer: tuple[int, float, float] | None = None


@dataclass
class _Frame:
    """A layer as last painted, kept to rescale it at once when the zoom changes."""

    placement: Placement
    tiles: LayerTiles
    kind: Kind
    backdrop: tuple[QImage, Placement] | None = None


class PanelCanvas(QWidget):
    """Shows one method, or two with a wipe divider between them."""

    viewportChanged = Signal()
    splitChanged = Signal()
    #: the mouse moved over the canvas or left it (see ``hover`` and ``readout``)
    hovered = Signal()

    def __init__(self, panel: int, context: CanvasContext, methods: list[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.context = context
        self.methods = methods
        self.split = 0.5
        self._frames: dict[str, _Frame] = {}
        self._frames_of: object | None = None
        self._drag: QPointF | None = None
        self._dragging_divider = False
        #: device point under the mouse; None when the mouse is elsewhere
        self.hover: tuple[float, float] | None = None
        #: the ground-truth numbers boxes as last painted (logical px): they fade under the mouse
        self.number_boxes: list[QRectF] = []
        #: where the pointer mark was last drawn (logical px)
        self._mark: QPointF | None = None
        self.painted: set[TileKey] = set()
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.grabGesture(Qt.GestureType.PinchGesture)
        self.setMinimumSize(120, 90)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    # --- geometry ---------------------------------------------------------------------------

    @property
    def dpr(self) -> float:
        return self.devicePixelRatioF()

    def viewport(self) -> WidthHeight:
        """(width, height) in device pixels."""
        return max(1, round(self.width() * self.dpr)), max(1, round(self.height() * self.dpr))

    def layers(self) -> list[Layer]:
        vw, vh = self.viewport()
        if len(self.methods) == 1:
            return [Layer(self.panel, self.methods[0], (vw, vh), (0, vw))]
        x = self.divider_x()
        return [Layer(self.panel, self.methods[0], (vw, vh), (0, x)),
                Layer(self.panel, self.methods[1], (vw, vh), (x, vw))]

    def divider_x(self) -> int:
        """The wipe divider in device pixels."""
        return round(self.viewport()[0] * self.split)

    def _device(self, pos: QPointF) -> tuple[float, float]:
        return pos.x() * self.dpr, pos.y() * self.dpr

    def pointer_mark(self) -> QPointF | None:
        """Where this canvas marks the image point under the mouse in another panel (logical px)."""
        pointer, state = self.context.pointer, self.context.view.state
        if pointer is None or pointer[0] == self.panel or state is None:
            return None
        dx, dy = placement(state, self.viewport()).to_device(pointer[1], pointer[2])
        return QPointF(dx / self.dpr, dy / self.dpr)

    def update_pointer(self) -> None:
        """Repaint just around the old and the new pointer mark."""
        for mark in (self._mark, self.pointer_mark()):
            if mark is not None:
                self.update(round(mark.x()) - POINTER_RADIUS - 2, round(mark.y()) - POINTER_RADIUS - 2,
                            2 * POINTER_RADIUS + 5, 2 * POINTER_RADIUS + 5)

    def readout(self) -> PixelReadout | None:
        """The pixel under the mouse, as painted (the plan's view); None off the image or not hovered."""
        plan = self.context.scheduler.plan
        if self.hover is None or plan is None:
            return None
        return read_pixel(plan.doc, placement(plan.view, self.viewport()), *self.hover)

    # --- events -----------------------------------------------------------------------------

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.viewportChanged.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        view = self.context.view
        pixels = event.pixelDelta()
        device = event.pointingDevice()
        touchpad = device is not None and device.type() == QInputDevice.DeviceType.TouchPad
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if touchpad and not pixels.isNull() and not ctrl:
            view.pan(pixels.x() * self.dpr, pixels.y() * self.dpr)
        else:
            delta = event.angleDelta()
            steps = (delta.y() or delta.x()) / 120
            if steps:
                view.zoom_about(self.viewport(), *self._device(event.position()), WHEEL_STEP ** steps)
        event.accept()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.NativeGesture:
            gesture: QNativeGestureEvent = event  # type: ignore[assignment]
            if gesture.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
                self.context.view.zoom_about(self.viewport(), *self._device(gesture.position()),
                                             1.0 + gesture.value())
                return True
        if event.type() == QEvent.Type.Gesture:
            pinch = event.gesture(Qt.GestureType.PinchGesture)  # type: ignore[attr-defined]
            if isinstance(pinch, QPinchGesture):
                centre = self.mapFromGlobal(pinch.centerPoint())
                self.context.view.zoom_about(self.viewport(), *self._device(centre), pinch.scaleFactor())
                return True
        return super().event(event)

    def _near_divider(self, pos: QPointF) -> bool:
        return len(self.methods) == 2 and abs(pos.x() - self.divider_x() / self.dpr) <= DIVIDER_GRAB

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self._near_divider(event.position()):
            self._dragging_divider = True
        else:
            self._drag = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._dragging_divider:
            self.split = min(max(pos.x() / max(1, self.width()), 0.02), 0.98)
            self.splitChanged.emit()
            self.update()
        elif self._drag is not None:
            delta = pos - self._drag
            self._drag = pos
            self.context.view.pan(delta.x() * self.dpr, delta.y() * self.dpr)
        elif self._near_divider(pos):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        else:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        hover = self._device(pos)
        self._refade(hover)
        self.hover = hover
        self.hovered.emit()

    def leaveEvent(self, event: QEvent) -> None:
        self._refade(None)
        self.hover = None
        self.hovered.emit()
        super().leaveEvent(event)

    def _refade(self, hover: tuple[float, float] | None) -> None:
        """Repaint the numbers boxes that the mouse enters or leaves (call before ``hover`` changes)."""
        before, after = self._logical(self.hover), self._logical(hover)
        for box in self.number_boxes:
            if (before is not None and box.contains(before)) != (after is not None and box.contains(after)):
                self.update(box.toAlignedRect().adjusted(-1, -1, 1, 1))

    def _logical(self, device: tuple[float, float] | None) -> QPointF | None:
        """A device point (``hover``) in logical px, where the overlays are drawn."""
        return None if device is None else QPointF(device[0] / self.dpr, device[1] / self.dpr)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None
        self._dragging_divider = False
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Toggle between fit and 100 % about the point clicked."""
        view = self.context.view
        if view.state is None or self._near_divider(event.position()):
            return
        if abs(view.state.zoom - 1.0) < 1e-6:
            view.fit()
        else:
            view.zoom_to(1.0, self.viewport(), *self._device(event.position()))

    # --- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), theme.BACKGROUND)
        ctx = self.context
        plan = ctx.scheduler.plan
        if plan is None:
            self._draw_empty(p)
            return
        if self._frames_of is not plan.doc:  # a new image: no previous frame to rescale
            self._frames.clear()
            self._frames_of = plan.doc
        for method in [m for m in self._frames if m not in self.methods]:
            del self._frames[method]
        painted: set[TileKey] = set()
        self.number_boxes = []
        for layer in self.layers():
            planned = ctx.scheduler.planned(layer)
            assert planned is not None  # there is a plan
            tiles, kind = planned.tiles, planned.kind
            p.save()
            p.scale(1 / self.dpr, 1 / self.dpr)
            p.setClipRect(QRectF(layer.clip[0], 0, layer.clip[1] - layer.clip[0], layer.viewport[1]))
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            frame = self._frame(layer, tiles, kind)
            painted |= self._draw_layer(p, tiles, kind, frame)
            if ctx.heatmap and kind in (Kind.MODEL, Kind.BICUBIC):
                painted |= self._draw_heatmap(p, tiles)
            p.restore()
            self._draw_overlays(p, layer, kind, plan.doc)
        self.painted = painted
        if len(self.methods) == 2:
            self._draw_divider(p)
        self._mark = self.pointer_mark()
        if self._mark is not None:
            self._draw_pointer(p, self._mark)

    def _frame(self, layer: Layer, tiles: LayerTiles, kind: Kind) -> _Frame:
        """The layer's frame record; a zoom change turns the last frame into a backdrop."""
        last = self._frames.get(layer.method)
        frame = _Frame(tiles.placement, tiles, kind)
        if last is not None and (last.placement.out_h, last.placement.out_w) != \
                (tiles.placement.out_h, tiles.placement.out_w):
            frame.backdrop = (self._compose(last, layer.viewport), last.placement)
        elif last is not None:
            frame.backdrop = last.backdrop
        has = self.context.scheduler.cache.__contains__
        if frame.backdrop is not None and (all(has(k) for k in tiles.fine)
                                           or (tiles.base and all(has(k) for k in tiles.base))):
            frame.backdrop = None  # nothing of it shows any more
        self._frames[layer.method] = frame
        return frame

    def _compose(self, frame: _Frame, viewport: WidthHeight) -> QImage:
        image = QImage(viewport[0], viewport[1], QImage.Format.Format_RGB32)
        image.fill(theme.BACKGROUND)
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self._draw_layer(p, frame.tiles, frame.kind, frame)
        p.end()
        return image

    def _draw_layer(self, p: QPainter, tiles: LayerTiles, kind: Kind, frame: _Frame) -> set[TileKey]:
        place = tiles.placement
        preview = self.context.preview
        if preview is not None:
            zoom = place.sx
            image = preview.pick(zoom, ghost=kind is Kind.BLOCKED)
            if kind is Kind.BLOCKED:
                p.setOpacity(0.22)
            p.drawImage(self._target(place, 0, 0, *place.image), image)
            p.setOpacity(1.0)
        if kind is Kind.BLOCKED:
            return set()
        if all(k in self.context.scheduler.cache for k in tiles.fine):
            return self._draw_tiles(p, place, tiles.fine)  # final: nothing below shows through
        if frame.backdrop is not None:  # the old frame only where bicubic has not arrived yet
            self._draw_backdrop(p, place, *frame.backdrop)
        return self._draw_tiles(p, place, tiles.base) | self._draw_tiles(p, place, tiles.fine)

    def _target(self, place: Placement, x0: float, y0: float, x1: float, y1: float) -> QRectF:
        """Device rectangle of image rectangle ``(x0, y0) – (x1, y1)``."""
        left, top = place.to_device(x0, y0)
        right, bottom = place.to_device(x1, y1)
        return QRectF(left, top, right - left, bottom - top)

    def _draw_tiles(self, p: QPainter, place: Placement, keys: list[TileKey]) -> set[TileKey]:
        drawn = set()
        for key in keys:
            tile = self.context.scheduler.cache.get(key)
            if tile is not None:
                p.drawImage(self._target(place, *key.image_rect(place.image, tile.part)), tile.image)
                drawn.add(key)
        return drawn

    def _draw_backdrop(self, p: QPainter, place: Placement, image: QImage, old: Placement) -> None:
        x0, y0 = old.to_image(0, 0)
        x1, y1 = old.to_image(image.width(), image.height())
        p.drawImage(self._target(place, x0, y0, x1, y1), image)

    def _draw_heatmap(self, p: QPainter, tiles: LayerTiles) -> set[TileKey]:
        drawn = set()
        for key in tiles.truth:
            heat = self.context.scheduler.truth.heatmap(key, self.context.scheduler.cache)
            if heat is not None:
                p.drawImage(self._target(tiles.placement, *key.image_rect(tiles.placement.image)), heat)
                drawn.add(key)
        return drawn

    # --- overlays (logical pixels) --------------------------------------------------------

    def _clip_rect(self, layer: Layer) -> QRectF:
        return QRectF(layer.clip[0] / self.dpr, 0, (layer.clip[1] - layer.clip[0]) / self.dpr, self.height())

    def _draw_overlays(self, p: QPainter, layer: Layer, kind: Kind, doc: Document) -> None:
        sched = self.context.scheduler
        area = self._clip_rect(layer)
        status = sched.status(layer)
        if kind is Kind.BLOCKED:
            self._draw_card(p, area, layer.method, status.message)
            return
        if status.refining:
            p.fillRect(QRectF(area.left(), 0, area.width() * status.fraction, 3), theme.ACCENT)
        if len(self.methods) == 2:
            right = layer.clip[0] > 0
            self._draw_pill(p, area, [display_name(self.context.provider, layer.method)], top=True, right=right)
        if doc.gt is not None and layer.method != GROUND_TRUTH:
            box = self._draw_pill(p, area, self._metric_lines(layer), top=False, right=layer.clip[0] > 0,
                                  fade_under=self._logical(self.hover))
            self.number_boxes.append(box)
            if self.context.heatmap and layer.clip[0] == 0:
                self._draw_legend(p, area)

    def _metric_lines(self, layer: Layer) -> list[str]:
        sched = self.context.scheduler
        region = sched.region_metrics(layer)
        view = "view   computing…" if region is None else \
            f"view   PSNR {region.psnr:6.2f} dB   SSIM {_ssim(region.ssim)}"
        whole = sched.whole_metrics(layer.method)
        if whole is None:
            doc = sched.doc
            progress = sched.refinement.fraction(MetricsKey.of(layer.method, doc)) if doc is not None else 0.0
            image = f"image  computing… {progress:.0%}"
        elif whole.error:
            image = "image  failed (see the message)"
        else:
            image = f"image  PSNR {whole.psnr:6.2f} dB   SSIM {_ssim(whole.ssim)}"
        return [view, image]

    def _draw_pill(self, p: QPainter, area: QRectF, lines: list[str], *, top: bool, right: bool,
                   fade_under: QPointF | None = None) -> QRectF:
        """A rounded box of text lines in a corner of ``area``; nearly transparent while the
        point ``fade_under`` (the mouse) is inside it, so that it never hides the image."""
        font = QFont(self.font())
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setFamily("monospace")
        font.setPointSizeF(max(8.0, font.pointSizeF() - 0.5))
        metrics = QFontMetrics(font)
        width = max(metrics.horizontalAdvance(line) for line in lines) + 16
        height = metrics.height() * len(lines) + 10
        x = area.right() - width - 8 if right else area.left() + 8
        y = area.top() + 10 if top else area.bottom() - height - 8
        box = QRectF(x, y, width, height)
        p.save()
        if fade_under is not None and box.contains(fade_under):
            p.setOpacity(FADED)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(theme.OVERLAY)
        p.drawRoundedRect(box, 6, 6)
        p.setFont(font)
        p.setPen(theme.TEXT)
        for i, line in enumerate(lines):
            p.drawText(QPointF(x + 8, y + 5 + metrics.ascent() + i * metrics.height()), line)
        p.restore()
        return box

    def _draw_legend(self, p: QPainter, area: QRectF) -> None:
        bar = QRectF(area.right() - 148, area.top() + 12, 120, 8)
        p.drawImage(bar, rgba_image(legend_rgba()))
        p.setPen(theme.TEXT)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        p.setFont(font)
        p.drawText(QRectF(bar.left() - 90, bar.top() - 4, 86, 16), Qt.AlignmentFlag.AlignRight, "|error|  0")
        p.drawText(QRectF(bar.right() + 4, bar.top() - 4, 40, 16), Qt.AlignmentFlag.AlignLeft,
                   f"{ERROR_RANGE:g}")

    def _draw_card(self, p: QPainter, area: QRectF, method: str, message: str) -> None:
        """The explanation shown instead of a method that cannot run."""
        sched = self.context.scheduler
        error = sched.methods.method_errors.get(method)
        title = display_name(self.context.provider, method)
        if error:
            subtitle, body, icon = "Could not be loaded", error, "mdi6.alert-circle-outline"
        elif method == GROUND_TRUTH:
            subtitle, body, icon = "No reference open", message, "mdi6.image-outline"
        else:
            subtitle, icon = "No trained weights yet", "mdi6.lock-outline"
            body = f"It is never run with random weights. {HOW_TO_GET_WEIGHTS}"
        width = min(area.width() - 24, 380.0)
        if width < 60:
            return
        base = QFont(self.font())
        title_font = QFont(base)
        title_font.setPointSizeF(base.pointSizeF() + 4)
        title_font.setBold(True)
        small = QFont(base)
        small.setPointSizeF(max(7.5, base.pointSizeF() - 1))
        flags = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignHCenter
        inner = width - 32
        body_height = QFontMetrics(small).boundingRect(0, 0, int(inner), 1000, flags, body).height()
        title_height = QFontMetrics(title_font).height()
        sub_height = QFontMetrics(base).height()
        height = 28 + 36 + 10 + title_height + 4 + sub_height + 10 + body_height
        box = QRectF(area.center().x() - width / 2, area.center().y() - height / 2, width, height)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(255, 255, 255, 30)))
        p.setBrush(theme.OVERLAY)
        p.drawRoundedRect(box, 10, 10)
        color = theme.ERROR if error else theme.MUTED
        pixmap = qta.icon(icon, color=color).pixmap(36, 36)
        y = box.top() + 14
        p.drawPixmap(QPointF(box.center().x() - 18, y), pixmap)
        y += 36 + 10
        p.setPen(theme.TEXT)
        p.setFont(title_font)
        p.drawText(QRectF(box.left(), y, width, title_height), Qt.AlignmentFlag.AlignHCenter, title)
        y += title_height + 4
        p.setFont(base)
        p.setPen(theme.ERROR if error else theme.WARNING)
        p.drawText(QRectF(box.left(), y, width, sub_height), Qt.AlignmentFlag.AlignHCenter, subtitle)
        y += sub_height + 10
        p.setFont(small)
        p.setPen(theme.MUTED)
        p.drawText(QRectF(box.left() + 16, y, inner, body_height), flags, body)

    def _draw_divider(self, p: QPainter) -> None:
        x = self.divider_x() / self.dpr
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(255, 255, 255, 220), 2))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        centre = QPointF(x, self.height() / 2)
        p.setBrush(theme.OVERLAY)
        p.drawEllipse(centre, 14, 14)
        p.drawPixmap(QPointF(x - 10, centre.y() - 10),
                     qta.icon("mdi6.arrow-left-right", color=theme.TEXT).pixmap(20, 20))

    @staticmethod
    def _draw_pointer(p: QPainter, at: QPointF) -> None:
        """A crosshair, dark under light so that it shows on any image."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for color, width in ((QColor(0, 0, 0, 160), 3.0), (QColor(255, 255, 255, 230), 1.2)):
            p.setPen(QPen(color, width))
            p.drawEllipse(at, POINTER_RADIUS / 2, POINTER_RADIUS / 2)
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                p.drawLine(at + QPointF(dx, dy) * POINTER_RADIUS / 2, at + QPointF(dx, dy) * POINTER_RADIUS)

    def _draw_empty(self, p: QPainter) -> None:
        p.setPen(theme.MUTED)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() + 2)
        p.setFont(font)
        p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Drop an image here, or press Ctrl+O")


def _ssim(value: float) -> str:
    return "  —  " if math.isnan(value) else f"{value:.4f}"
