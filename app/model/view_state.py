"""The one view every panel draws: centre and zoom in image coordinates (no Qt).

Units: image coordinates run over ``[0, width] × [0, height]`` (pixel ``i`` spans
``[i, i + 1)``); ``zoom`` is device pixels per image pixel, so ×1 is pixel-true on any
screen; viewports are panel sizes in device pixels. A device point ``(px, py)`` of a
``vw × vh`` viewport shows the image point ``centre + (p - v / 2) / zoom``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

MAX_ZOOM = 64.0

#: ``(width, height)``, Qt's order (viewports, the image in view coordinates); output grids
#: and arrays are ``sr_core.geometry.Size``, ``(h, w)``
WidthHeight = tuple[int, int]


def fit_zoom(image: WidthHeight, viewports: tuple[WidthHeight, ...]) -> float:
    """Largest zoom at which the whole ``(w, h)`` image fits into every viewport."""
    w, h = image
    sizes = [v for v in viewports if v[0] > 0 and v[1] > 0]
    if not sizes:
        return 1.0
    return min(min(vw / w, vh / h) for vw, vh in sizes)


@dataclass(frozen=True)
class ViewState:
    """Immutable view: every method returns a new, clamped state."""

    image: WidthHeight
    cx: float
    cy: float
    zoom: float
    viewports: tuple[WidthHeight, ...] = ()
    #: the view follows the window size ("fit" until the user zooms or pans)
    fitted: bool = True
    #: where the eye is: the image point of the last zoom about a point (the cursor under the
    #: wheel); None: the centre. Detail is rendered there first.
    focus: tuple[float, float] | None = None

    @staticmethod
    def fit(image: WidthHeight, viewports: tuple[WidthHeight, ...] = ()) -> ViewState:
        """The whole image, centred."""
        return ViewState(image, image[0] / 2, image[1] / 2, fit_zoom(image, viewports), viewports)

    @property
    def limits(self) -> tuple[float, float]:
        """Zoom range: from fit to ×64 (or fit, for images smaller than the window / 64)."""
        low = fit_zoom(self.image, self.viewports)
        return low, max(MAX_ZOOM, low)

    def clamped(self) -> ViewState:
        """Zoom within the limits; centre in the image, centred on axes that fit entirely."""
        low, high = self.limits
        w, h = self.image
        # NaN passes min/max unchanged: a non-finite zoom fits, a non-finite centre centres
        zoom = min(max(self.zoom, low), high) if math.isfinite(self.zoom) else low
        vw = max((v[0] for v in self.viewports), default=0)
        vh = max((v[1] for v in self.viewports), default=0)
        cx = w / 2 if w * zoom <= vw or not math.isfinite(self.cx) else min(max(self.cx, 0.0), float(w))
        cy = h / 2 if h * zoom <= vh or not math.isfinite(self.cy) else min(max(self.cy, 0.0), float(h))
        return replace(self, cx=cx, cy=cy, zoom=zoom)

    def with_viewports(self, viewports: tuple[WidthHeight, ...]) -> ViewState:
        """New panel sizes; a fitted view refits."""
        if self.fitted:
            return ViewState.fit(self.image, viewports)
        return replace(self, viewports=viewports).clamped()

    def carried_to(self, image: WidthHeight) -> ViewState:
        """The same zoom and relative centre on another image, clamped; a fitted view fits it."""
        if self.fitted:
            return ViewState.fit(image, self.viewports)
        w, h = self.image
        return replace(self, image=image, cx=self.cx / w * image[0], cy=self.cy / h * image[1],
                       focus=None).clamped()

    def to_image(self, viewport: WidthHeight, px: float, py: float) -> tuple[float, float]:
        """Image point shown at device point ``(px, py)`` of ``viewport``."""
        return (self.cx + (px - viewport[0] / 2) / self.zoom,
                self.cy + (py - viewport[1] / 2) / self.zoom)

    def to_device(self, viewport: WidthHeight, x: float, y: float) -> tuple[float, float]:
        """Device point of ``viewport`` that shows image point ``(x, y)``."""
        return ((x - self.cx) * self.zoom + viewport[0] / 2,
                (y - self.cy) * self.zoom + viewport[1] / 2)

    def zoomed_about(self, viewport: WidthHeight, px: float, py: float, factor: float) -> ViewState:
        """Multiply the zoom by ``factor`` keeping the image point under ``(px, py)`` still."""
        return self.zoomed_to(self.zoom * factor, viewport, px, py)

    def zoomed_to(self, zoom: float, viewport: WidthHeight | None = None, px: float | None = None,
                  py: float | None = None) -> ViewState:
        """Set the zoom about a device point (default: the viewport centre)."""
        if viewport is None or px is None or py is None:
            return replace(self, zoom=zoom, fitted=False, focus=None).clamped()
        x, y = self.to_image(viewport, px, py)
        low, high = self.limits
        zoom = min(max(zoom, low), high)
        cx = x - (px - viewport[0] / 2) / zoom
        cy = y - (py - viewport[1] / 2) / zoom
        return replace(self, cx=cx, cy=cy, zoom=zoom, fitted=False, focus=(x, y)).clamped()

    def panned(self, dx: float, dy: float) -> ViewState:
        """Move the image by ``(dx, dy)`` device pixels (it follows a dragging hand)."""
        return replace(self, cx=self.cx - dx / self.zoom, cy=self.cy - dy / self.zoom,
                       fitted=False, focus=None).clamped()

    def centred_on(self, x: float, y: float) -> ViewState:
        return replace(self, cx=x, cy=y, fitted=False, focus=None).clamped()

    def visible_rect(self, viewport: WidthHeight) -> tuple[float, float, float, float]:
        """Image rectangle ``(x0, y0, x1, y1)`` a viewport shows, clipped to the image."""
        x0, y0 = self.to_image(viewport, 0, 0)
        x1, y1 = self.to_image(viewport, *viewport)
        w, h = self.image
        return max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
