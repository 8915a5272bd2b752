"""The window's actions as a table: text, keys, icon, tooltip and what each one does.

The order of :data:`ACTIONS` is the order of Help ▸ Keyboard shortcuts. :data:`MENUS` and
:data:`TOOLBAR` name actions by key; a few entries are widgets the window makes itself
(:data:`SEPARATOR`, ``"recent"``, ``"panels"``, ``"zoom box"``, ``"spacer"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QSizePolicy, QToolButton, QWidget

from app.render.scheduler import TileScheduler
from app.render.view_model import ViewModel
from app.ui.exporter import Exporter
from app.ui.icons import icon
from app.ui.opener import Opener
from app.ui.weights_import import WeightsImporter
from sr_core.registry import OFFICIAL_IMPORTS

Key = str | QKeySequence.StandardKey

#: zoom factor of the zoom-in and zoom-out actions
ZOOM_STEP = 2 ** 0.5


class Commands(Protocol):
    """What the actions run: the window's commands and the parts they reach."""

    opener: Opener
    exporter: Exporter
    view: ViewModel
    scheduler: TileScheduler
    weights: WeightsImporter

    def pan_key(self, dx: int, dy: int) -> None: ...
    def set_panel_count(self, count: int) -> None: ...
    def set_wipe(self, on: bool) -> None: ...
    def swap_wipe(self) -> None: ...
    def set_heatmap(self, on: bool) -> None: ...
    def toggle_full_screen(self) -> None: ...
    def choose_settings(self) -> None: ...
    def show_shortcuts(self) -> None: ...
    def show_about(self) -> None: ...
    def close(self) -> bool: ...
#: panel counts offered (0: every method)
LAYOUT_CHOICES = (1, 2, 3, 4, 6, 0)
SEPARATOR = "-"


@dataclass(frozen=True)
class ActionSpec:
    """One action: ``run(window, checked)`` is what it does."""

    key: str
    text: str
    run: Callable[[Commands, bool], object]
    shortcuts: tuple[Key, ...] = ()
    icon: str | None = None
    tip: str | None = None
    checkable: bool = False


def _pan(dx: int, dy: int) -> Callable[[Commands, bool], object]:
    return lambda w, _: w.pan_key(dx, dy)


def _panels(n: int) -> ActionSpec:
    return ActionSpec(f"panels {n}", "&All methods" if n == 0 else f"&{n} panel{'s' if n > 1 else ''}",
                      lambda w, _: w.set_panel_count(n), (f"Ctrl+{n}" if n else "Ctrl+A",), checkable=True)


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("open", "&Open…", lambda w, _: w.opener.choose_file(), (QKeySequence.StandardKey.Open,),
               "mdi6.folder-open-outline", "Open an image (or drop one on the window)"),
    ActionSpec("previous", "&Previous image", lambda w, _: w.opener.browse(-1), ("PgUp", "["),
               "mdi6.page-previous-outline", "Previous image in this folder (PageUp or [)"),
    ActionSpec("next", "&Next image", lambda w, _: w.opener.browse(1), ("PgDown", "]"),
               "mdi6.page-next-outline", "Next image in this folder (PageDown or ])"),
    ActionSpec("ground truth", "Compare with &ground truth…", lambda w, _: w.opener.choose_ground_truth(),
               ("Ctrl+G",), "mdi6.compare",
               "Open a high-resolution reference: the app shows its bicubic downscale and measures every "
               "method against it"),
    ActionSpec("export", "&Export…", lambda w, _: w.exporter.choose_export(), ("Ctrl+E",), "mdi6.export",
               "Export the current view or a region at any scale to PNG"),
    ActionSpec("quit", "&Quit", lambda w, _: w.close(), (QKeySequence.StandardKey.Quit,)),
    ActionSpec("zoom in", "Zoom &in", lambda w, _: w.view.zoom_by(ZOOM_STEP), ("+", "=", "Ctrl++"),
               "mdi6.magnify-plus-outline"),
    ActionSpec("zoom out", "Zoom &out", lambda w, _: w.view.zoom_by(1 / ZOOM_STEP), ("-", "Ctrl+-"),
               "mdi6.magnify-minus-outline"),
    ActionSpec("fit", "&Fit", lambda w, _: w.view.fit(), ("0", "Ctrl+0"), "mdi6.fit-to-screen-outline",
               "Fit the image into the panels (0)"),
    ActionSpec("100 %", "&100 %", lambda w, _: w.view.zoom_to(1.0), ("1",), "mdi6.numeric-1-box-outline",
               "One image pixel per screen pixel (1)"),
    ActionSpec("keep view", "&Keep zoom and position when switching images",
               lambda w, on: w.opener.set_keep_view(on), checkable=True),
    ActionSpec("pan left", "Pan left", _pan(1, 0), ("Left",)),
    ActionSpec("pan right", "Pan right", _pan(-1, 0), ("Right",)),
    ActionSpec("pan up", "Pan up", _pan(0, 1), ("Up",)),
    ActionSpec("pan down", "Pan down", _pan(0, -1), ("Down",)),
    ActionSpec("wipe", "&Wipe between two methods", lambda w, on: w.set_wipe(on), ("W",),
               "mdi6.compare-horizontal", "Wipe: one panel, two methods, a divider to drag (W)", checkable=True),
    ActionSpec("swap", "S&wap wipe sides", lambda w, _: w.swap_wipe(), ("X",), None,
               "Swap the wipe's two methods; press repeatedly to blink between them (X)"),
    ActionSpec("heatmap", "Error &heatmap", lambda w, on: w.set_heatmap(on), ("H",), "mdi6.fire",
               "Overlay |method − ground truth| on every panel (H)", checkable=True),
    ActionSpec("refresh", "&Refresh", lambda w, _: w.scheduler.retry(), ("F5",), "mdi6.refresh",
               "Render again, retrying anything that failed (F5)"),
    ActionSpec("full screen", "Full &screen", lambda w, _: w.toggle_full_screen(),
               (QKeySequence.StandardKey.FullScreen, "F11")),
    ActionSpec("settings", "&Settings…", lambda w, _: w.choose_settings(),
               (QKeySequence.StandardKey.Preferences, "Ctrl+,"), "mdi6.cog-outline"),
    ActionSpec("import", "&Import weights…", lambda w, _: w.weights.choose(), (), "mdi6.file-import-outline",
               f"Import your own model (Real-ESRGAN, SwinIR, SPAN …) as a method, or official "
               f"{OFFICIAL_IMPORTS} weights (.pth)"),
    ActionSpec("shortcuts", "&Keyboard shortcuts", lambda w, _: w.show_shortcuts(), ("Ctrl+/", "?"),
               "mdi6.keyboard-outline"),
    ActionSpec("about", "&About ZoomSR and its methods", lambda w, _: w.show_about(), ("F1",),
               "mdi6.information-outline"),
    *(_panels(n) for n in LAYOUT_CHOICES),
)

#: menu title → entries
MENUS: dict[str, tuple[str, ...]] = {
    "&File": ("open", "recent", "previous", "next", "ground truth", SEPARATOR, "export", SEPARATOR, "settings",
              SEPARATOR, "quit"),
    "&View": ("zoom in", "zoom out", "fit", "100 %", "keep view", SEPARATOR, "panels", "wipe", "swap", "heatmap",
              SEPARATOR, "refresh", "full screen"),
    "&Methods": ("import", "about"),
    "&Help": ("shortcuts", "about"),
}
TOOLBAR: tuple[str, ...] = (
    "open", "previous", "next", "ground truth", "export", SEPARATOR, "panels", "wipe", "heatmap", SEPARATOR,
    "zoom out", "zoom box", "zoom in", "fit", "100 %", "spacer", "refresh", "settings", "about",
)


def make_action(window: QWidget, target: Commands, spec: ActionSpec) -> QAction:
    """The QAction of ``spec`` on ``target``, added to ``window`` (so that its keys work
    everywhere in it)."""
    action = QAction(spec.text, window)
    if spec.icon:
        action.setIcon(icon(spec.icon))
    if spec.shortcuts:
        action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
    action.setToolTip(spec.tip or spec.text.replace("&", "").rstrip("…"))
    action.setCheckable(spec.checkable)
    action.triggered.connect(lambda checked=False: spec.run(target, checked))
    window.addAction(action)
    return action


def install_menus(window: QMainWindow, act: dict[str, QAction], submenus: dict[str, QMenu],
                  tool_widgets: dict[str, QWidget]) -> None:
    """The menu bar (``MENUS``) and the toolbar (``TOOLBAR``) of ``window``; ``submenus`` and
    ``tool_widgets`` fill the entries that are not actions."""
    for title, entries in MENUS.items():
        menu = window.menuBar().addMenu(title)
        for entry in entries:
            if entry == SEPARATOR:
                menu.addSeparator()
            elif entry in submenus:
                menu.addMenu(submenus[entry])
            else:
                menu.addAction(act[entry])
    bar = window.addToolBar("Main")
    bar.setObjectName("main-toolbar")
    bar.setMovable(False)
    bar.setIconSize(QSize(20, 20))
    for entry in TOOLBAR:
        if entry == SEPARATOR:
            bar.addSeparator()
        elif entry in tool_widgets:
            bar.addWidget(tool_widgets[entry])
        else:
            bar.addAction(act[entry])


def spacer(parent: QWidget) -> QWidget:
    """A toolbar entry that pushes the ones after it to the right."""
    widget = QWidget(parent)
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    return widget


def menu_button(parent: QWidget, menu: QMenu, icon_name: str, tip: str) -> QToolButton:
    """A toolbar button that opens ``menu``."""
    button = QToolButton(parent)
    button.setIcon(icon(icon_name))
    button.setToolTip(tip)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    button.setMenu(menu)
    return button
