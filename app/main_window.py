"""The main window: menus, toolbar, the panel grid, the message bar and the status bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QProgressDialog,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from app.background import Background
from app.canvas import CanvasContext
from app.dialogs.about_dialog import AboutDialog
from app.dialogs.export_dialog import ALL, ExportDialog, ExportRequest
from app.dialogs.settings_dialog import SettingsDialog
from app.dialogs.shortcuts_dialog import ShortcutsDialog
from app.document import Document, open_document, open_ground_truth
from app.export_plan import ExportError, region_export, view_export
from app.icons import app_icon, icon
from app.image_folder import IMAGE_FILTER, neighbour, position
from app.jobs import ExportItem
from app.layers import Kind
from app.message_bar import MessageBar
from app.method_provider import BICUBIC, GROUND_TRUTH, MethodProvider, RegistryProvider, display_name
from app.panel import HEADER_HEIGHT, PanelWidget, progress_text
from app.pixel_readout import format_readout
from app.preview_image import PreviewImage, build_preview
from app.scheduler import TileScheduler
from app.settings import AUTO_DEVICE, Settings
from app.view_model import ViewModel
from app.window_geometry import restore_geometry, save_geometry
from app.zoom_text import FIT, format_zoom, parse_zoom
from sr_core.devices import device_label
from sr_core.imaging import ImageLoadError
from sr_core.logs import unexpected
from sr_core.outputs import OutputError, check_output_file
from sr_core.registry import install_official

#: rows × columns of the panel grid for each panel count
GRID = {1: (1, 1), 2: (1, 2), 3: (1, 3), 4: (2, 2), 5: (2, 3), 6: (2, 3), 7: (2, 4), 8: (2, 4), 9: (3, 3)}
LAYOUT_CHOICES = (1, 2, 3, 4, 6)
ZOOM_STEP = 2 ** 0.5
ZOOM_PRESETS = ("Fit", "1×", "2×", "4×", "8×", "16×", "32×", "64×")
#: arrow keys move the view by this fraction of a panel
PAN_FRACTION = 0.125
#: logical pixels the status bar gives the per-panel progress
WORK_LABEL_WIDTH = 100


class MainWindow(QMainWindow):
    """The viewer. ``provider`` supplies the methods (tests pass fakes); ``persist`` saves settings."""

    def __init__(self, provider: MethodProvider | None = None, settings: Settings | None = None,
                 *, persist: bool = True) -> None:
        super().__init__()
        self.provider = provider or RegistryProvider()
        self.settings = settings or Settings.load()
        self.persist = persist
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        restore_geometry(self, self.settings)
        self.view = ViewModel(self)
        self.scheduler = TileScheduler(self.provider, self.settings, self.view, self)
        self.context = CanvasContext(self.view, self.scheduler, self.provider, heatmap=self.settings.heatmap)
        self.loader = Background(threads=1)
        known = [*self.provider.names(), GROUND_TRUTH]
        self.methods = [m for m in self.settings.panels if m in known] or [BICUBIC]
        self.wipe = False
        self.panels: list[PanelWidget] = []
        self.loading = False
        #: the image that next / previous count from when it is not the document (it failed to open)
        self._browse_from: str | None = None
        self._pending_view: tuple[float | None, tuple[float, float] | None] | None = None
        self._build_ui()
        self.view.changed.connect(self._on_view_changed)
        self.scheduler.updated.connect(self.refresh)
        self.scheduler.message.connect(self.messages.show_message)
        self.scheduler.exportProgress.connect(self._on_export_progress)
        self.scheduler.exportFinished.connect(self._on_export_finished)
        self.scheduler.exportFailed.connect(self._on_export_failed)
        self.export_progress: QProgressDialog | None = None
        self.set_wipe(self.settings.wipe)  # builds the panels
        self._update_title()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.scheduler.shutdown)
        self._check_device()

    def _check_device(self) -> None:
        if self.settings.device not in (AUTO_DEVICE, self.scheduler.device):
            self.messages.show_message("warning", f"The device {self.settings.device} is not available "
                                                  "here; models run on the CPU.")

    # --- building ---------------------------------------------------------------------------

    def _action(self, text: str, slot: Callable, shortcuts: list | None = None, icon_name: str | None = None,
                tip: str | None = None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setToolTip(tip or text.replace("&", "").rstrip("…"))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_ui(self) -> None:
        a = self._action
        self.act_open = a("&Open…", self.choose_file, [QKeySequence.StandardKey.Open], "mdi6.folder-open-outline",
                          "Open an image (or drop one on the window)")
        self.act_prev = a("&Previous image", lambda: self.browse(-1), ["PgUp", "["], "mdi6.page-previous-outline",
                          "Previous image in this folder (PageUp or [)")
        self.act_next = a("&Next image", lambda: self.browse(1), ["PgDown", "]"], "mdi6.page-next-outline",
                          "Next image in this folder (PageDown or ])")
        self.act_gt = a("Compare with &ground truth…", self.choose_ground_truth, ["Ctrl+G"], "mdi6.compare",
                        "Open a high-resolution reference: the app shows its bicubic downscale and "
                        "measures every method against it")
        self.act_export = a("&Export…", self.choose_export, ["Ctrl+E"], "mdi6.export",
                            "Export the current view or a region at any scale to PNG")
        self.act_quit = a("&Quit", self.close, [QKeySequence.StandardKey.Quit])
        self.act_zoom_in = a("Zoom &in", lambda: self.view.zoom_by(ZOOM_STEP), ["+", "=", "Ctrl++"],
                             "mdi6.magnify-plus-outline")
        self.act_zoom_out = a("Zoom &out", lambda: self.view.zoom_by(1 / ZOOM_STEP), ["-", "Ctrl+-"],
                              "mdi6.magnify-minus-outline")
        self.act_fit = a("&Fit", self.view.fit, ["0", "Ctrl+0"], "mdi6.fit-to-screen-outline",
                         "Fit the image into the panels (0)")
        self.act_actual = a("&100 %", lambda: self.view.zoom_to(1.0), ["1"], "mdi6.numeric-1-box-outline",
                            "One image pixel per screen pixel (1)")
        self.act_keep_view = a("&Keep zoom and position when switching images", self.set_keep_view,
                               checkable=True)
        self.act_keep_view.setChecked(self.settings.keep_view)
        self.act_pans = [a(text, lambda _=False, d=d: self._pan_key(*d), [key])
                         for text, key, d in (("Pan left", "Left", (1, 0)), ("Pan right", "Right", (-1, 0)),
                                              ("Pan up", "Up", (0, 1)), ("Pan down", "Down", (0, -1)))]
        self.act_wipe = a("&Wipe between two methods", self.set_wipe, ["W"], "mdi6.compare-horizontal",
                          "Wipe: one panel, two methods, a divider to drag (W)", checkable=True)
        self.act_swap = a("S&wap wipe sides", self.swap_wipe, ["X"], None,
                          "Swap the wipe's two methods; press repeatedly to blink between them (X)")
        self.act_swap.setEnabled(False)
        self.act_heatmap = a("Error &heatmap", self.set_heatmap, ["H"], "mdi6.fire",
                             "Overlay |method − ground truth| on every panel (H)", checkable=True)
        self.act_heatmap.setChecked(self.context.heatmap)
        self.act_heatmap.setEnabled(False)
        self.act_retry = a("&Refresh", self.scheduler.retry, ["F5"], "mdi6.refresh",
                           "Render again, retrying anything that failed (F5)")
        self.act_full = a("Full &screen", self._toggle_full_screen, [QKeySequence.StandardKey.FullScreen, "F11"])
        self.act_settings = a("&Settings…", self.choose_settings, [QKeySequence.StandardKey.Preferences, "Ctrl+,"],
                              "mdi6.cog-outline")
        self.act_import = a("&Import weights…", self.choose_weights, None, "mdi6.file-import-outline",
                            "Import official LIIF / LTE / CLIT weights (.pth)")
        self.act_shortcuts = a("&Keyboard shortcuts", self.show_shortcuts, ["Ctrl+/", "?"], "mdi6.keyboard-outline")
        self.act_about = a("&About ZoomSR and its methods", self.show_about, ["F1"], "mdi6.information-outline")

        self.layout_group = QActionGroup(self)
        self.layout_actions: dict[int, QAction] = {}
        for n in (*LAYOUT_CHOICES, 0):
            text = "&All methods" if n == 0 else f"&{n} panel{'s' if n > 1 else ''}"
            act = a(text, lambda _=False, n=n: self.set_panel_count(n), [f"Ctrl+{n}"] if n else ["Ctrl+A"],
                    checkable=True)
            self.layout_group.addAction(act)
            self.layout_actions[n] = act

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu(icon("mdi6.history"), "Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addActions([self.act_prev, self.act_next])
        file_menu.addAction(self.act_gt)
        file_menu.addSeparator()
        file_menu.addAction(self.act_export)
        file_menu.addSeparator()
        file_menu.addAction(self.act_settings)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        view_menu = menu.addMenu("&View")
        for act in (self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_actual):
            view_menu.addAction(act)
        view_menu.addAction(self.act_keep_view)
        view_menu.addSeparator()
        layout_menu = view_menu.addMenu(icon("mdi6.view-grid-outline"), "&Panels")
        layout_menu.addActions(list(self.layout_actions.values()))
        view_menu.addAction(self.act_wipe)
        view_menu.addAction(self.act_swap)
        view_menu.addAction(self.act_heatmap)
        view_menu.addSeparator()
        view_menu.addAction(self.act_retry)
        view_menu.addAction(self.act_full)
        methods_menu = menu.addMenu("&Methods")
        methods_menu.addAction(self.act_import)
        methods_menu.addAction(self.act_about)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.act_shortcuts)
        help_menu.addAction(self.act_about)

        bar = self.addToolBar("Main")
        bar.setObjectName("main-toolbar")
        bar.setMovable(False)
        bar.setIconSize(QSize(20, 20))
        bar.addActions([self.act_open, self.act_prev, self.act_next, self.act_gt, self.act_export])
        bar.addSeparator()
        layout_button = QToolButton(self)
        layout_button.setIcon(icon("mdi6.view-grid-outline"))
        layout_button.setToolTip("Number of panels (Ctrl+1 … Ctrl+6, Ctrl+A for all methods)")
        layout_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        layout_button.setMenu(layout_menu)
        bar.addWidget(layout_button)
        bar.addActions([self.act_wipe, self.act_heatmap])
        bar.addSeparator()
        bar.addAction(self.act_zoom_out)
        self.zoom_box = QComboBox(self)
        self.zoom_box.setEditable(True)
        self.zoom_box.addItems(ZOOM_PRESETS)
        self.zoom_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.zoom_box.setMinimumContentsLength(7)
        self.zoom_box.setToolTip("Zoom: type 7.3×, 7.3x, 730 % or fit, then Enter")
        self.zoom_box.lineEdit().returnPressed.connect(lambda: self.apply_zoom_text(self.zoom_box.currentText()))
        self.zoom_box.textActivated.connect(self.apply_zoom_text)
        bar.addWidget(self.zoom_box)
        bar.addActions([self.act_zoom_in, self.act_fit, self.act_actual])
        spacer = QWidget(self)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addActions([self.act_retry, self.act_settings, self.act_about])

        self.grid_host = QWidget(self)
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.setCentralWidget(self.grid_host)
        self.messages = MessageBar(self.grid_host, top=HEADER_HEIGHT)
        self.hover_label = QLabel(self)
        # fixed-pitch digits: the readout does not jitter as the numbers change under the mouse
        self.hover_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.image_label = QLabel(self)
        self.work_label = QLabel(self)
        # the per-panel progress may be long: it shrinks rather than widen the window (the
        # tooltip has it all)
        self.work_label.setMinimumWidth(WORK_LABEL_WIDTH)
        self.statusBar().addWidget(self.hover_label, 1)
        self.statusBar().addPermanentWidget(self.work_label)
        self.statusBar().addPermanentWidget(self.image_label)

    # --- documents --------------------------------------------------------------------------

    @property
    def doc(self) -> Document | None:
        return self.scheduler.doc

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self._start_dir(), IMAGE_FILTER)
        if path:
            self.open_path(path)

    def choose_ground_truth(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open ground-truth reference", self._start_dir(), IMAGE_FILTER)
        if not path:
            return
        factor, ok = QInputDialog.getInt(
            self, "Compare with ground truth", "Downscaling factor: the input becomes the reference "
            "downscaled by this factor (MATLAB bicubic),\nand every panel is measured against the "
            "reference.", self.settings.gt_factor, 2, 16)
        if ok:
            self.settings.gt_factor = factor
            self.open_path(path, gt_factor=factor)

    def _start_dir(self) -> str:
        recent = self.settings.recent_files
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def open_path(self, path: str, *, gt_factor: int | None = None, remember: bool = True) -> None:
        """Open an image (decoded off the GUI thread); with ``gt_factor`` it is the reference."""
        self._browse_from = None
        self.loading = True
        self.statusBar().showMessage(f"Opening {Path(path).name}…")

        def load() -> tuple[Document, PreviewImage]:
            doc = open_ground_truth(path, gt_factor) if gt_factor else open_document(path)
            return doc, build_preview(doc.source)

        self.loader.run(load, lambda result: self._on_loaded(path, result, remember), self._on_load_failed)

    def _on_loaded(self, path: str, result: tuple[Document, PreviewImage], remember: bool) -> None:
        doc, preview = result
        self.loading = False
        self.statusBar().clearMessage()
        self.context.preview = preview
        self.scheduler.set_document(doc)
        self.view.reset(doc.size, keep=self.settings.keep_view)
        if self._pending_view is not None:
            zoom, centre = self._pending_view
            self._pending_view = None
            if zoom is not None:
                self.view.zoom_to(zoom)
            if centre is not None:
                self.view.centre_on(*centre)
        if remember and self.persist:
            self.settings.add_recent(path)
            self._save_settings()
        self.act_heatmap.setEnabled(doc.gt is not None)
        if doc.gt is None and GROUND_TRUTH in self.methods:
            self.methods = [m for m in self.methods if m != GROUND_TRUTH] or [BICUBIC]
            self._rebuild_panels()
        else:
            self._on_layers()
        self._update_title()

    def _on_load_failed(self, err: Exception) -> None:
        self.loading = False
        self.statusBar().clearMessage()
        text = str(err) if isinstance(err, ImageLoadError) else unexpected(err, "Could not open the image")
        self.messages.show_message("error", text)

    def browse(self, step: int) -> None:
        """Open the next (``step`` 1) or previous (-1) image of the current image's folder.

        The list wraps around at the ends. A ground truth is followed by the next file opened as a
        ground truth at the same factor.
        """
        doc = self.doc
        if doc is None or doc.path is None:
            return
        current = Path(self._browse_from or doc.path)
        target = neighbour(current, step)
        if target is None:
            self.statusBar().showMessage(f"No other image in {current.parent}.", 4000)
            return
        self.open_path(str(target), gt_factor=doc.gt.factor if doc.gt is not None else None)
        self._browse_from = str(target)  # should it fail to open, the next press moves on past it

    def set_keep_view(self, on: bool) -> None:
        """Whether a newly opened image keeps the zoom and relative centre (saved at once)."""
        self.settings.keep_view = bool(on)
        self.act_keep_view.setChecked(self.settings.keep_view)
        self._save_settings()

    def set_pending_view(self, zoom: float | None, centre: tuple[float, float] | None) -> None:
        """Zoom and centre to apply when the next document has loaded (command line)."""
        self._pending_view = (zoom, centre)

    def _update_title(self) -> None:
        """Title and description name the image and its place in its folder ("3 / 14")."""
        doc = self.doc
        path = doc.path if doc is not None else None
        self.act_prev.setEnabled(path is not None)
        self.act_next.setEnabled(path is not None)
        place = position(Path(path)) if path is not None else None
        where = f" · {place[0]} / {place[1]}" if place else ""
        self.setWindowTitle(f"{doc.name}{where} — ZoomSR" if doc else "ZoomSR")
        self.image_label.setText(f"{doc.description}{where}" if doc else "")

    # --- panels -----------------------------------------------------------------------------

    def _all_methods(self) -> list[str]:
        names = list(self.provider.names())
        return names + [GROUND_TRUTH] if self.doc is not None and self.doc.gt is not None else names

    def set_panels(self, methods: list[str]) -> None:
        """Show these methods, one panel each (leaves wipe mode)."""
        self.methods = list(methods) or [BICUBIC]
        self.wipe = False
        self.act_wipe.setChecked(False)
        self.act_swap.setEnabled(False)
        self._rebuild_panels()

    def set_panel_count(self, count: int) -> None:
        """1–9 panels, keeping the methods shown and adding others that can run (the ground
        truth first when comparing; never a method without weights, so there may be fewer
        panels); 0 means every method."""
        if count == 0:
            self.set_panels(self._all_methods())
            return
        runnable = [m for m in self._all_methods() if self.scheduler.method_status(m)[0]]
        if GROUND_TRUTH in runnable:
            runnable.insert(0, runnable.pop(runnable.index(GROUND_TRUTH)))
        extra = [m for m in runnable if m not in self.methods]
        self.set_panels((self.methods + extra)[:count])

    def set_wipe(self, on: bool) -> None:
        """One panel with a divider between the first two methods."""
        self.wipe = bool(on)
        self.act_wipe.setChecked(self.wipe)
        self.act_swap.setEnabled(self.wipe)
        if self.wipe and len(self.methods) < 2:
            self.methods += [m for m in self._all_methods() if m not in self.methods][:1]
        self._rebuild_panels()

    def swap_wipe(self) -> None:
        """Exchange the wipe's left and right methods; the divider stays where it is."""
        if not self.wipe or not self.panels:
            return
        self.methods[0], self.methods[1] = self.methods[1], self.methods[0]
        panel = self.panels[0]
        panel.canvas.methods[:] = self.methods[:2]
        panel.refresh()
        self._on_layers()

    def set_heatmap(self, on: bool) -> None:
        self.context.heatmap = bool(on)
        self.act_heatmap.setChecked(self.context.heatmap)
        self.settings.heatmap = self.context.heatmap
        self.refresh()

    def _rebuild_panels(self) -> None:
        for panel in self.panels:
            self.grid.removeWidget(panel)
            panel.deleteLater()
        groups = [self.methods[:2]] if self.wipe else [[m] for m in self.methods]
        rows, cols = GRID.get(len(groups), (3, -(-len(groups) // 3)))
        self.panels = []
        for index, methods in enumerate(groups):
            panel = PanelWidget(index, self.context, methods, self.grid_host)
            panel.methodChosen.connect(self._on_method_chosen)
            panel.swapRequested.connect(self.swap_wipe)
            panel.canvas.viewportChanged.connect(self._on_viewports)
            panel.canvas.splitChanged.connect(self._on_layers)
            panel.canvas.hovered.connect(self._show_readout)
            self.grid.addWidget(panel, index // cols, index % cols)
            self.panels.append(panel)
        for r in range(3):
            self.grid.setRowStretch(r, 1 if r < rows else 0)
        for c in range(4):
            self.grid.setColumnStretch(c, 1 if c < cols else 0)
        count = len(self.methods) if not self.wipe else -1
        all_shown = sorted(self.methods) == sorted(self._all_methods())
        for n, act in self.layout_actions.items():
            act.setChecked((n == 0 and all_shown) or (n == count and not all_shown))
        self.grid.activate()
        self._on_viewports()

    def _on_method_chosen(self, panel: int, slot: int, method: str) -> None:
        index = slot if self.wipe else panel
        self.methods[index] = method
        for p in self.panels:
            if p.panel == panel:
                p.canvas.methods[slot] = method
        self._on_layers()

    def _on_viewports(self) -> None:
        self.view.set_viewports(tuple(p.canvas.viewport() for p in self.panels))
        self._on_layers()

    def _on_layers(self) -> None:
        self.scheduler.set_layers([layer for p in self.panels for layer in p.canvas.layers()])
        self.refresh()

    # --- view -------------------------------------------------------------------------------

    def _on_view_changed(self) -> None:
        state = self.view.state
        if state is None:
            return
        if not self.zoom_box.lineEdit().hasFocus():
            self.zoom_box.setEditText(format_zoom(state.zoom))
        for panel in self.panels:
            panel.canvas.update()
        self._show_readout()

    def apply_zoom_text(self, text: str) -> bool:
        """Apply the zoom box's text; False (and the current zoom shown again) if not a zoom."""
        value = parse_zoom(text)
        if value == FIT:
            self.view.fit()
        elif value is not None:
            self.view.zoom_to(float(value))
        state = self.view.state
        if state is not None:
            self.zoom_box.setEditText(format_zoom(state.zoom))
        if value is None:
            self.statusBar().showMessage(f"“{text}” is not a zoom; try 7.3×, 730 % or fit.", 4000)
        return value is not None

    def _pan_key(self, dx: int, dy: int) -> None:
        if self.panels:
            vw, vh = self.panels[0].canvas.viewport()
            self.view.pan(dx * vw * PAN_FRACTION, dy * vh * PAN_FRACTION)

    def _show_readout(self) -> None:
        """The status bar describes the pixel under the mouse (empty off the image)."""
        hovered = next((p.canvas for p in self.panels if p.canvas.hover is not None), None)
        readout = hovered.readout() if hovered is not None else None
        self.hover_label.setText(format_readout(readout) if readout is not None else "")
        pointer = None if readout is None else (hovered.panel, readout.x, readout.y)
        if pointer != self.context.pointer:
            self.context.pointer = pointer
            for panel in self.panels:
                panel.canvas.update_pointer()

    def refresh(self) -> None:
        for panel in self.panels:
            panel.refresh()
        work = []
        for panel in self.panels:
            for layer in panel.canvas.layers():
                status = self.scheduler.status(layer)
                if status.refining:
                    work.append(f"{display_name(self.provider, layer.method)} {progress_text(status)}")
                elif status.numbers is not None:
                    work.append(f"{display_name(self.provider, layer.method)} numbers {status.numbers:.0%}")
        if work:
            self.work_label.setText("Refining: " + " · ".join(dict.fromkeys(work)))
        else:
            self.work_label.setText(f"Ready · models on {device_label(self.scheduler.device)}")
        self.work_label.setToolTip(self.work_label.text())

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    # --- export -----------------------------------------------------------------------------

    def choose_export(self) -> None:
        state, doc = self.view.state, self.doc
        if state is None or doc is None or not self.panels:
            return
        labels = [" | ".join(display_name(self.provider, m) for m in p.canvas.methods) for p in self.panels]
        x0, y0, x1, y1 = state.visible_rect(self.panels[0].canvas.viewport())
        default = Path(doc.path or Path.home() / doc.name).with_name(f"{Path(doc.name).stem}-zoomsr.png")
        dialog = ExportDialog(labels, 0, doc.size, (x0, y0, x1 - x0, y1 - y0), state.zoom, str(default), self)
        if dialog.exec():
            try:
                items = self.export_items(dialog.request())
            except ExportError as err:
                self.messages.show_message("error", str(err))
                return
            self.start_export(items)

    def export_items(self, request: ExportRequest) -> list[ExportItem]:
        """The PNGs an export request asks for; raises ``ExportError`` when there are none."""
        state, doc = self.view.state, self.doc
        if state is None or doc is None:
            raise ExportError("Open an image first.")
        panels = self.panels if request.panel == ALL else [self.panels[request.panel]]
        items = []
        for panel in panels:
            methods = self._exportable(panel.canvas.methods)
            path = request.path if len(panels) == 1 else self._panel_path(request.path, panel.panel)
            if request.region is None:
                items += view_export(doc, state, panel.canvas.viewport(), methods, path)
            else:
                items += region_export(doc, methods, request.region, request.scale, path)
        for item in items:  # before the rendering, not after it
            try:
                check_output_file(Path(item.path), [Path(doc.path)] if doc.path else [])
            except OutputError as err:
                raise ExportError(str(err)) from None
        return items

    @staticmethod
    def _panel_path(path: str, panel: int) -> str:
        target = Path(path)
        return str(target.with_name(f"{target.stem}-panel{panel + 1}{target.suffix or '.png'}"))

    def _exportable(self, methods: list[str]) -> list[str]:
        ok = [m for m in methods if self.scheduler.kind(m) is not Kind.BLOCKED]
        if len(ok) < len(methods):
            self.messages.show_message("warning", "Methods without trained weights are not exported.")
        if not ok:
            raise ExportError("None of the chosen methods can run; nothing to export.")
        return ok

    def start_export(self, items: list[ExportItem]) -> None:
        """Render and write the PNGs in the background with a cancellable progress dialog."""
        dialog = QProgressDialog("Exporting…", "Cancel", 0, 1000, self)
        dialog.setWindowTitle("Export")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.scheduler.cancel_export)
        self.export_progress = dialog
        self.scheduler.export(items)

    def _on_export_progress(self, done: int, total: int) -> None:
        if self.export_progress is not None:
            self.export_progress.setValue(round(1000 * done / max(1, total)))

    def _close_export_dialog(self) -> None:
        if self.export_progress is not None:
            self.export_progress.canceled.disconnect()
            self.export_progress.close()
            self.export_progress = None

    def _on_export_finished(self, paths: list) -> None:
        self._close_export_dialog()
        names = ", ".join(Path(p).name for p in paths)
        self.messages.show_message("info", f"Exported {names} to {Path(paths[0]).parent}." if paths else
                                   "Nothing was exported.")

    def _on_export_failed(self, message: str) -> None:
        self._close_export_dialog()
        self.messages.show_message("warning" if "cancelled" in message else "error", message)

    # --- settings, methods, about ----------------------------------------------------------

    def choose_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.apply_settings(dialog.result_settings())

    def apply_settings(self, settings: Settings) -> None:
        settings.recent_files = self.settings.recent_files
        self.settings = settings
        self.scheduler.configure(settings)
        self._check_device()
        self._save_settings()
        self.refresh()

    def choose_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import official weights", str(Path.home()),
                                              "PyTorch checkpoints (*.pth *.pt);;All files (*)")
        if not path:
            return
        names = [n for n in self.provider.names() if self.provider.info(n).needs_weights]
        labels = [self.provider.info(n).display_name for n in names]
        label, ok = QInputDialog.getItem(self, "Import weights", "Install the weights as:", labels, 0, False)
        if not ok:
            return
        method = names[labels.index(label)]
        self.statusBar().showMessage(f"Importing {Path(path).name}…")
        self.loader.run(lambda: install_official(path, method),
                        lambda out: self._on_imported(method, out),
                        lambda err: self.messages.show_message("error", f"Import failed: {err}"))

    def _on_imported(self, method: str, out: Path) -> None:
        self.statusBar().clearMessage()
        self.messages.show_message("info", f"{self.provider.info(method).display_name} weights installed "
                                           f"({out}).")
        self.scheduler.refresh_methods()

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.actions(), self).exec()

    def show_about(self) -> None:
        AboutDialog(self.provider, self).exec()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files:
            act = self.recent_menu.addAction(Path(path).name, lambda p=path: self.open_path(p))
            act.setToolTip(path)
            act.setEnabled(Path(path).is_file())
        if not self.settings.recent_files:
            self.recent_menu.addAction("No recent files").setEnabled(False)
            return
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear recent files", self._clear_recent)
        self.recent_menu.setToolTipsVisible(True)

    def _clear_recent(self) -> None:
        self.settings.recent_files = []
        self._save_settings()

    def _save_settings(self) -> None:
        if not self.persist:
            return
        try:
            self.settings.save()
        except OSError as err:
            self.messages.show_message("warning", f"Settings could not be saved: {err}")

    # --- window events ----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_path(files[0])

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.panels = [m for m in self.methods if m != GROUND_TRUTH]
        self.settings.wipe = self.wipe
        save_geometry(self, self.settings)
        self._save_settings()
        self.scheduler.shutdown()
        self.loader.shutdown()
        super().closeEvent(event)
