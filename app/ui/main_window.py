"""The main window: the panel grid, menus and toolbar (from ``app.ui.actions``), the message bar and
the status bar. Opening images is ``app.ui.opener``'s, exporting ``app.ui.exporter``'s."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QWidget,
)

from app.model.document import Document
from app.model.image_folder import position
from app.model.method_provider import GROUND_TRUTH, MethodProvider, RegistryProvider, display_name
from app.model.panel_layout import PanelLayout
from app.model.pixel_readout import format_readout
from app.model.settings import AUTO_DEVICE, Settings
from app.model.zoom_text import FIT, format_zoom, parse_zoom
from app.render.background import Background
from app.render.preview_image import PreviewImage
from app.render.scheduler import TileScheduler
from app.render.view_model import ViewModel
from app.ui.actions import ACTIONS, LAYOUT_CHOICES, install_menus, make_action, menu_button, spacer
from app.ui.canvas import CanvasContext
from app.ui.dialogs.about_dialog import AboutDialog
from app.ui.dialogs.settings_dialog import SettingsDialog
from app.ui.dialogs.shortcuts_dialog import ShortcutsDialog
from app.ui.exporter import Exporter
from app.ui.icons import app_icon, icon
from app.ui.message_bar import MessageBar
from app.ui.opener import Opener
from app.ui.panel import HEADER_HEIGHT, PanelWidget, progress_text
from app.ui.weights_import import WeightsImporter
from app.ui.window_geometry import restore_geometry, save_geometry
from sr_core.devices import device_label
from sr_core.spandrel_files import SUFFIXES as MODEL_SUFFIXES

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
        known = [*self.provider.names(), GROUND_TRUTH]
        #: the methods the panels show (one owner: the canvases read it through the context)
        self.panel_layout = PanelLayout([m for m in self.settings.panels if m in known])
        self.context = CanvasContext(self.view, self.scheduler, self.provider, self.panel_layout,
                                     heatmap=self.settings.heatmap)
        #: one thread for decoding images and importing weights
        self.loader = Background(threads=1)
        self.opener = Opener(self, self)
        self.exporter = Exporter(self, self)
        self.weights = WeightsImporter(self, self)
        self.panels: list[PanelWidget] = []
        self._pending_view: tuple[float | None, tuple[float, float] | None] | None = None
        self._build_ui()
        self.view.changed.connect(self._on_view_changed)
        self.scheduler.updated.connect(self.refresh)
        self.scheduler.message.connect(self.messages.show_message)
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

    def _build_ui(self) -> None:
        self.act: dict[str, QAction] = {spec.key: make_action(self, self, spec) for spec in ACTIONS}
        self.act["keep view"].setChecked(self.settings.keep_view)
        self.act["swap"].setEnabled(False)
        self.act["heatmap"].setChecked(self.context.heatmap)
        self.act["heatmap"].setEnabled(False)
        self.layout_group = QActionGroup(self)
        self.layout_actions = {n: self.act[f"panels {n}"] for n in LAYOUT_CHOICES}
        for action in self.layout_actions.values():
            self.layout_group.addAction(action)
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.setIcon(icon("mdi6.history"))
        self.recent_menu.aboutToShow.connect(lambda: self.opener.fill_recent(self.recent_menu))
        self.layout_menu = QMenu("&Panels", self)
        self.layout_menu.setIcon(icon("mdi6.view-grid-outline"))
        self.layout_menu.addActions(list(self.layout_actions.values()))
        self.zoom_box = self._zoom_box()
        install_menus(self, self.act, {"recent": self.recent_menu, "panels": self.layout_menu}, {
            "zoom box": self.zoom_box, "spacer": spacer(self),
            "panels": menu_button(self, self.layout_menu, "mdi6.view-grid-outline",
                                  "Number of panels (Ctrl+1 … Ctrl+6, Ctrl+A for all methods)")})

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

    def _zoom_box(self) -> QComboBox:
        box = QComboBox(self)
        box.setEditable(True)
        box.addItems(ZOOM_PRESETS)
        box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        box.setMinimumContentsLength(7)
        box.setToolTip("Zoom: type 7.3×, 7.3x, 730 % or fit, then Enter")
        box.lineEdit().returnPressed.connect(lambda: self.apply_zoom_text(box.currentText()))
        box.textActivated.connect(self.apply_zoom_text)
        return box

    # --- documents --------------------------------------------------------------------------

    @property
    def doc(self) -> Document | None:
        return self.scheduler.doc

    @property
    def loading(self) -> bool:
        """An image is being opened."""
        return self.opener.loading

    def open_path(self, path: str, *, gt_factor: int | None = None, remember: bool = True) -> None:
        """Open an image (decoded off the GUI thread); with ``gt_factor`` it is the reference."""
        self.opener.open_path(path, gt_factor=gt_factor, remember=remember)

    def show_document(self, doc: Document, preview: PreviewImage) -> None:
        """Show a newly opened image (zoom and centre kept if so set, or as the command line asked)."""
        self.context.preview = preview
        self.scheduler.set_document(doc, preview.nbytes(doc.source))
        self.view.reset(doc.size, keep=self.settings.keep_view)
        if self._pending_view is not None:
            zoom, centre = self._pending_view
            self._pending_view = None
            if zoom is not None:
                self.view.zoom_to(zoom)
            if centre is not None:
                self.view.centre_on(*centre)
        self.act["heatmap"].setEnabled(doc.gt is not None)
        if doc.gt is None and self.panel_layout.drop(GROUND_TRUTH):
            self._rebuild_panels()
        else:
            self._on_layers()
        self._update_title()

    def document_decoded(self, doc: Document, preview: PreviewImage) -> None:
        """The shown document's full-resolution pixels have arrived (it opened as a draft), with
        the preview made from them."""
        self.context.preview = preview
        self.scheduler.document_decoded(preview.nbytes(doc.source))
        self.refresh()

    def set_pending_view(self, zoom: float | None, centre: tuple[float, float] | None) -> None:
        """Zoom and centre to apply when the next document has loaded (command line)."""
        self._pending_view = (zoom, centre)

    def _update_title(self) -> None:
        """Title and description name the image and its place in its folder ("3 / 14")."""
        doc = self.doc
        path = doc.path if doc is not None else None
        self.act["previous"].setEnabled(path is not None)
        self.act["next"].setEnabled(path is not None)
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
        self.panel_layout.show(methods)
        self.act["wipe"].setChecked(False)
        self.act["swap"].setEnabled(False)
        self._rebuild_panels()

    def set_panel_count(self, count: int) -> None:
        """1–9 panels, keeping the methods shown and adding others that can run (the ground
        truth first when comparing; never a method without weights, so there may be fewer
        panels); 0 means every method."""
        if count == 0:
            self.set_panels(self._all_methods())
            return
        runnable = [m for m in self._all_methods() if self.scheduler.methods.available(m)[0]]
        self.set_panels(self.panel_layout.with_count(count, runnable))

    def set_wipe(self, on: bool) -> None:
        """One panel with a divider between the first two methods."""
        self.panel_layout.set_wipe(on, self._all_methods())
        self.act["wipe"].setChecked(self.panel_layout.wipe)
        self.act["swap"].setEnabled(self.panel_layout.wipe)
        self._rebuild_panels()

    def swap_wipe(self) -> None:
        """Exchange the wipe's left and right methods; the divider stays where it is."""
        if not self.panel_layout.wipe or not self.panels:
            return
        self.panel_layout.swap()
        self.panels[0].refresh()
        self._on_layers()

    def set_heatmap(self, on: bool) -> None:
        self.context.heatmap = bool(on)
        self.act["heatmap"].setChecked(self.context.heatmap)
        self.settings.heatmap = self.context.heatmap
        self.refresh()

    def _rebuild_panels(self) -> None:
        for panel in self.panels:
            self.grid.removeWidget(panel)
            panel.deleteLater()
        rows, cols = self.panel_layout.grid()
        self.panels = []
        for index in range(len(self.panel_layout.groups())):
            panel = PanelWidget(index, self.context, self.grid_host)
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
        count = self.panel_layout.count()
        all_shown = sorted(self.panel_layout.methods) == sorted(self._all_methods())
        for n, act in self.layout_actions.items():
            act.setChecked((n == 0 and all_shown) or (n == count and not all_shown))
        self.grid.activate()
        self._on_viewports()

    def _on_method_chosen(self, panel: int, slot: int, method: str) -> None:
        self.panel_layout.choose(panel, slot, method)
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

    def pan_key(self, dx: int, dy: int) -> None:
        """Move the view by a fraction of a panel (the arrow keys)."""
        if self.panels:
            vw, vh = self.panels[0].canvas.viewport()
            self.view.pan(dx * vw * PAN_FRACTION, dy * vh * PAN_FRACTION)

    def _show_readout(self) -> None:
        """The status bar describes the pixel under the mouse (empty off the image)."""
        hovered = next((p.canvas for p in self.panels if p.canvas.hover is not None), None)
        self.scheduler.set_focus(hovered.panel if hovered is not None else None)
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
        shown = [layer for panel in self.panels for layer in panel.canvas.layers()]
        ranked = [p.layer for p in self.scheduler.ranked()]  # the order they are refined in
        for layer in sorted(shown, key=lambda x: ranked.index(x) if x in ranked else len(ranked)):
            status = self.scheduler.status(layer)
            if status.refining:
                progress = progress_text(status) if status.fraction > 0 else "waiting"
                work.append(f"{display_name(self.provider, layer.method)} {progress}")
            elif status.numbers is not None:
                work.append(f"{display_name(self.provider, layer.method)} numbers {status.numbers:.0%}")
        if work:
            self.work_label.setText("Refining: " + " · ".join(dict.fromkeys(work)))
        else:
            self.work_label.setText(f"Ready · models on {device_label(self.scheduler.device)}")
        self.work_label.setToolTip(self.work_label.text())

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

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
        self.save_settings()
        self.refresh()

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.actions(), self).exec()

    def show_about(self) -> None:
        AboutDialog(self.provider, self).exec()

    def save_settings(self) -> None:
        if not self.persist:
            return
        self.scheduler.remember_costs(self.settings)
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
            if Path(files[0]).suffix.lower() in MODEL_SUFFIXES:
                self.weights.install_own(files[0])
            else:
                self.opener.open_path(files[0])

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.panels = [m for m in self.panel_layout.methods if m != GROUND_TRUTH]
        self.settings.wipe = self.panel_layout.wipe
        save_geometry(self, self.settings)
        self.save_settings()
        self.scheduler.shutdown()
        self.loader.shutdown()
        super().closeEvent(event)
