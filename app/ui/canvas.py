"""A panel's image area: turns gestures into view changes and paints its layers.

The layers are painted in device pixels (the painter is scaled by 1/devicePixelRatio), so
tiles of the current zoom land 1:1 on physical pixels (:mod:`app.ui.layer_painter`: input image,
previous frame, bicubic, final tiles, heatmap); then the overlays in logical pixels
(:mod:`app.ui.overlays`). Which methods a canvas shows is the window's :class:`PanelLayout`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QInputDevice,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QPinchGesture, QWidget

from app.model.document import Document
from app.model.jobs import MetricsKey
from app.model.layers import Kind, Layer
from app.model.method_provider import GROUND_TRUTH, MethodProvider, display_name
from app.model.panel_layout import PanelLayout
from app.model.pixel_readout import PixelReadout, read_pixel
from app.model.tiles import TileKey, placement
from app.model.view_state import WidthHeight
from app.render.preview_image import PreviewImage
from app.render.scheduler import TileScheduler
from app.render.view_model import ViewModel
from app.ui import overlays, theme
from app.ui.layer_painter import LayerPainter
from app.ui.overlays import POINTER_RADIUS

#: zoom factor of one wheel notch (four notches double the zoom)
WHEEL_STEP = 2 ** 0.25
#: logical pixels around the wipe divider that grab it
DIVIDER_GRAB = 8


@dataclass
class CanvasContext:
    """What all canvases of a window share."""

    view: ViewModel
    scheduler: TileScheduler
    provider: MethodProvider
    #: which methods each panel shows (the window changes it, the canvases read it)
    layout: PanelLayout
    preview: PreviewImage | None = None
    heatmap: bool = False
    #: (panel, image x, image y) under the mouse; the other panels mark the same image point
    pointer: tuple[int, float, float] | None = None


class PanelCanvas(QWidget):
    """Shows one method, or two with a wipe divider between them."""

    viewportChanged = Signal()
    splitChanged = Signal()
    #: the mouse moved over the canvas or left it (see ``hover`` and ``readout``)
    hovered = Signal()

    def __init__(self, panel: int, context: CanvasContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.context = context
        self.split = 0.5
        #: paints the layers and keeps their last frames
        self.painter = LayerPainter(context.scheduler)
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
    def methods(self) -> list[str]:
        """The method shown, or the two the divider separates (from the window's layout)."""
        return self.context.layout.shown(self.panel)

    @property
    def dpr(self) -> float:
        return self.devicePixelRatioF()

    def viewport(self) -> WidthHeight:
        """(width, height) in device pixels."""
        return max(1, round(self.width() * self.dpr)), max(1, round(self.height() * self.dpr))

    def layers(self) -> list[Layer]:
        vw, vh = self.viewport()
        if not self.methods:  # a panel that is going away
            return []
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
            overlays.empty_hint(p, self.font(), QRectF(self.rect()))
            return
        self.painter.begin(plan.doc, self.methods)
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
            painted |= self.painter.paint(p, layer, tiles, kind, ctx.preview, heatmap=ctx.heatmap)
            p.restore()
            self._draw_overlays(p, layer, kind, plan.doc)
        self.painted = painted
        if len(self.methods) == 2:
            overlays.divider(p, self.divider_x() / self.dpr, self.height())
        self._mark = self.pointer_mark()
        if self._mark is not None:
            overlays.pointer(p, self._mark)

    # --- overlays (logical pixels, drawn by app.ui.overlays) ---------------------------------

    def _clip_rect(self, layer: Layer) -> QRectF:
        return QRectF(layer.clip[0] / self.dpr, 0, (layer.clip[1] - layer.clip[0]) / self.dpr, self.height())

    def _draw_overlays(self, p: QPainter, layer: Layer, kind: Kind, doc: Document) -> None:
        sched, provider = self.context.scheduler, self.context.provider
        area, right = self._clip_rect(layer), layer.clip[0] > 0
        status = sched.status(layer)
        if kind is Kind.BLOCKED:
            overlays.card(p, self.font(), area, display_name(provider, layer.method),
                          error=sched.methods.method_errors.get(layer.method), truth=layer.method == GROUND_TRUTH,
                          message=status.message)
            return
        if status.refining:
            overlays.progress_bar(p, area, status.fraction)
        if len(self.methods) == 2:
            overlays.pill(p, self.font(), area, [display_name(provider, layer.method)], top=True, right=right)
        if doc.gt is not None and layer.method != GROUND_TRUTH:
            lines = overlays.metric_lines(sched.region_metrics(layer), sched.whole_metrics(layer.method),
                                          sched.refinement.fraction(MetricsKey.of(layer.method, doc)))
            self.number_boxes.append(overlays.pill(p, self.font(), area, lines, top=False, right=right,
                                                   fade_under=self._logical(self.hover)))
            if self.context.heatmap and layer.clip[0] == 0:
                overlays.legend(p, self.font(), area)
