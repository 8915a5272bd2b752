"""A panel: a header (method menu, scale, device, last refinement time, progress) over a canvas."""

from __future__ import annotations

from functools import cache

import qtawesome as qta
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QIcon
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from app.model.layers import Kind
from app.model.method_provider import GROUND_TRUTH, display_name
from app.model.plain_text import tooltip
from app.model.refinement import LayerStatus
from app.model.zoom_text import format_zoom
from app.ui import theme
from app.ui.canvas import CanvasContext, PanelCanvas
from sr_core.devices import device_label
from sr_core.registry import MethodInfo

HEADER_HEIGHT = 30


class PanelWidget(QFrame):
    """One panel of the grid; in wipe mode it shows two methods."""

    #: (panel, slot, method): the user picked another method for slot 0 or 1
    methodChosen = Signal(int, int, str)
    #: the wipe's swap button was clicked
    swapRequested = Signal()

    def __init__(self, panel: int, context: CanvasContext,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setObjectName("panel")
        self.setStyleSheet(f"#panel {{ background: {theme.BACKGROUND.name()}; }}")
        self.canvas = PanelCanvas(panel, context, self)
        methods = self.canvas.methods
        header = QWidget(self)
        header.setFixedHeight(HEADER_HEIGHT)
        header.setAutoFillBackground(True)
        row = QHBoxLayout(header)
        row.setContentsMargins(6, 2, 8, 2)
        row.setSpacing(6)
        self.buttons = [self._method_button(slot) for slot in range(len(methods))]
        row.addWidget(self.buttons[0])
        if len(methods) == 2:
            swap = QToolButton(header)
            swap.setIcon(qta.icon("mdi6.arrow-left-right", color=theme.MUTED))
            swap.setAutoRaise(True)
            swap.setToolTip("Swap the two sides (X); press repeatedly to blink between them")
            swap.clicked.connect(self.swapRequested)
            row.addWidget(swap)
            row.addWidget(self.buttons[1])
        self.info = QLabel(header)
        self.info.setStyleSheet(f"color: {theme.MUTED.name()};")
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.info, 1)
        self.state = QLabel(header)
        self.state.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.state.setMinimumWidth(1)  # a long progress text is cut (the tooltip has it), never widens the panel
        row.addWidget(self.state)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(header)
        column.addWidget(self.canvas, 1)
        self.refresh()

    @property
    def panel(self) -> int:
        return self.canvas.panel

    def _method_button(self, slot: int) -> QToolButton:
        button = QToolButton(self)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setAutoRaise(True)
        button.setStyleSheet("QToolButton { font-weight: 600; padding: 2px 4px; }"
                             "QToolButton::menu-indicator { image: none; width: 0px; }")
        menu = QMenu(button)
        menu.aboutToShow.connect(lambda: self._fill_menu(menu, slot))
        button.setMenu(menu)
        return button

    def _fill_menu(self, menu: QMenu, slot: int) -> None:
        """Every method; those that cannot run say why (they can still be chosen)."""
        menu.clear()
        sched = self.context.scheduler
        group = QActionGroup(menu)
        names = list(self.context.provider.names())
        if sched.doc is not None and sched.doc.gt is not None:
            names.append(GROUND_TRUTH)
        for name in names:
            available, reason = sched.methods.available(name)
            label = display_name(self.context.provider, name)
            if not available and name != GROUND_TRUTH:
                label += "   — no weights"
            elif available and (info := self._info(name)) is not None and info.cpu_note and sched.device == "cpu":
                label += "   — slow on a CPU"
            action = QAction(label, menu)
            action.setCheckable(True)
            action.setChecked(name == self.canvas.methods[slot])
            if not available:
                action.setIcon(_lock_icon())
            action.setToolTip(tooltip(reason if not available else self._about(name)))
            action.triggered.connect(lambda _=False, n=name: self.methodChosen.emit(self.panel, slot, n))
            group.addAction(action)
            menu.addAction(action)
        menu.setToolTipsVisible(True)

    def _info(self, method: str) -> MethodInfo | None:
        """The method's spec; None for the ground-truth pseudo-method."""
        provider = self.context.provider
        return provider.info(method) if method in provider.names() else None

    def _about(self, method: str) -> str:
        """The paper, and what a CPU user should know (CLIT: how slow it is)."""
        info = self._info(method)
        if info is None:
            return ""
        return info.paper + (f"\n{info.cpu_note}" if info.cpu_note else "")

    def refresh(self) -> None:
        """Update the header texts from the view and the scheduler."""
        sched = self.context.scheduler
        for button, method in zip(self.buttons, self.canvas.methods):
            kind = sched.methods.kind(method)
            button.setText(f"{display_name(self.context.provider, method)}  ▾")
            button.setIcon(QIcon() if kind is not Kind.BLOCKED else _lock_icon())
            weights = sched.methods.weights(method) if kind is Kind.MODEL else None
            button.setToolTip(tooltip(self._about(method) + (f"\nWeights: {weights.provenance}" if weights else "")))
        state = self.context.view.state
        statuses = [sched.status(layer) for layer in self.canvas.layers()]
        live = [s for s in statuses if s.kind is not Kind.BLOCKED]
        parts = []
        if state is not None:
            parts.append(format_zoom(state.zoom))
            models = [m for m in self.canvas.methods if sched.methods.kind(m) is Kind.MODEL]
            tags = (WEIGHT_TAGS.get(sched.methods.weights(m).source, "?") for m in models)
            parts.append(" | ".join(dict.fromkeys(tags)))
            tiles = sched.layer_tiles(self.canvas.layers()[0])
            if tiles is not None and not tiles.placement.upscaling:
                parts.append("below ×1 all methods are alike")
            elif live:
                parts.append(device_label(sched.device) if models else "CPU")
        refining = [s for s in live if s.refining]
        numbers = [s.numbers for s in live if s.numbers is not None]
        errors = [s.message for s in live if s.message]
        times = [s.seconds for s in live if s.seconds is not None]
        if not refining and times and sched.doc is not None:
            parts.append(f"refined in {max(times):.1f} s")
        self.info.setText("  ·  ".join(p for p in parts if p))
        if sched.doc is None:
            text, color = "", theme.MUTED
        elif not live:
            text, color = "unavailable", theme.WARNING
        elif errors:
            text, color = "error — showing bicubic", theme.ERROR
        elif refining:
            slowest = min(refining, key=lambda s: s.fraction)
            text, color = f"refining… {progress_text(slowest)}", theme.ACCENT
        elif numbers:
            text, color = f"numbers… {min(numbers):.0%}", theme.ACCENT
        else:
            text, color = "final", theme.MUTED
        self.state.setText(text)
        self.state.setStyleSheet(f"color: {color.name()};")
        self.state.setToolTip(tooltip("\n".join(errors) or text))
        self.canvas.update()


#: the header's short word on where a model's weights come from (the tooltip has the rest)
WEIGHT_TAGS = {"official": "authors' weights", "trained here": "trained by ZoomSR",
               "imported": "imported weights", "user model": "user model"}


def progress_text(status: LayerStatus) -> str:
    """``42 % · 6 s left`` (the time once it can be estimated)."""
    left = "" if status.seconds_left is None else f" · {status.seconds_left:.0f} s left"
    return f"{status.fraction:.0%}{left}"


@cache
def _lock_icon() -> QIcon:
    return qta.icon("mdi6.lock-outline", color=theme.MUTED)
