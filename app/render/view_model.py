"""The shared view as a Qt object: every panel reads it, every gesture goes through it."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.model.view_state import ViewState, WidthHeight


class ViewModel(QObject):
    """Holds the one :class:`ViewState`; ``changed`` fires after every real change."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state: ViewState | None = None
        self._viewports: tuple[WidthHeight, ...] = ()

    def _set(self, state: ViewState) -> None:
        if state != self.state:
            self.state = state
            self.changed.emit()

    def reset(self, image: WidthHeight, *, keep: bool = False) -> None:
        """A new image: show it whole or, with ``keep``, at the current zoom and relative centre."""
        if keep and self.state is not None:
            self._set(self.state.carried_to(image))
        else:
            self._set(ViewState.fit(image, self._viewports))

    def set_viewports(self, viewports: tuple[WidthHeight, ...]) -> None:
        self._viewports = viewports
        if self.state is not None:
            self._set(self.state.with_viewports(viewports))

    def zoom_about(self, viewport: WidthHeight, px: float, py: float, factor: float) -> None:
        if self.state is not None:
            self._set(self.state.zoomed_about(viewport, px, py, factor))

    def zoom_to(self, zoom: float, viewport: WidthHeight | None = None, px: float | None = None,
                py: float | None = None) -> None:
        if self.state is not None:
            self._set(self.state.zoomed_to(zoom, viewport, px, py))

    def zoom_by(self, factor: float) -> None:
        """Zoom about the panels' centre."""
        if self.state is not None:
            self.zoom_to(self.state.zoom * factor)

    def pan(self, dx: float, dy: float) -> None:
        if self.state is not None:
            self._set(self.state.panned(dx, dy))

    def centre_on(self, x: float, y: float) -> None:
        if self.state is not None:
            self._set(self.state.centred_on(x, y))

    def fit(self) -> None:
        if self.state is not None:
            self._set(ViewState.fit(self.state.image, self._viewports))
