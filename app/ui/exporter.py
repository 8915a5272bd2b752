"""File ▸ Export: the dialog, the files it asks for, and the export's progress and result."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.model.document import Document
from app.model.export_plan import ExportError, region_export, view_export
from app.model.jobs import ExportItem
from app.model.layers import Kind
from app.model.method_provider import MethodProvider, display_name
from app.render.render_worker import RenderWorker
from app.render.scheduler import TileScheduler
from app.render.view_model import ViewModel
from app.ui.dialogs.export_dialog import ALL, ExportDialog, ExportRequest
from app.ui.message_bar import MessageBar
from app.ui.panel import PanelWidget
from sr_core.outputs import OutputError, check_output_file


class ExporterHost(Protocol):
    """What the exporter needs of the window: the view, its panels and document, the methods'
    provider and states, and where to say what happened."""

    view: ViewModel
    panels: list[PanelWidget]
    provider: MethodProvider
    scheduler: TileScheduler
    messages: MessageBar

    @property
    def doc(self) -> Document | None: ...


class Exporter(QObject):
    """Exports ``window``'s panels; the model worker renders and writes the files and reports
    here (a QObject of the GUI thread, so that its reports arrive there)."""

    def __init__(self, window: ExporterHost, parent: QWidget) -> None:
        super().__init__(parent)
        self.window = window
        #: the dialogs' parent
        self.dialog_parent = parent
        self.progress: QProgressDialog | None = None
        #: the model worker writing the current export (it reports to this exporter directly)
        self._worker: RenderWorker | None = None

    def choose_export(self) -> None:
        window = self.window
        state, doc = window.view.state, window.doc
        if state is None or doc is None or not window.panels:
            return
        if not doc.ready:
            window.messages.show_message("info", f"{doc.name} is still being decoded at full resolution; "
                                                 "export it when that is done.")
            return
        labels = [" | ".join(display_name(window.provider, m) for m in p.canvas.methods) for p in window.panels]
        x0, y0, x1, y1 = state.visible_rect(window.panels[0].canvas.viewport())
        default = Path(doc.path or Path.home() / doc.name).with_name(f"{Path(doc.name).stem}-zoomsr.png")
        dialog = ExportDialog(labels, 0, doc.size, (x0, y0, x1 - x0, y1 - y0), state.zoom, str(default),
                              self.dialog_parent)
        if dialog.exec():
            try:
                items = self.export_items(dialog.request())
            except ExportError as err:
                window.messages.show_message("error", str(err))
                return
            self.start_export(items)

    def export_items(self, request: ExportRequest) -> list[ExportItem]:
        """The PNGs an export request asks for; raises ``ExportError`` when there are none."""
        window = self.window
        state, doc = window.view.state, window.doc
        if state is None or doc is None:
            raise ExportError("Open an image first.")
        panels = window.panels if request.panel == ALL else [window.panels[request.panel]]
        items = []
        for panel in panels:
            methods = self._exportable(panel.canvas.methods)
            path = request.path if len(panels) == 1 else _panel_path(request.path, panel.panel)
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

    def _exportable(self, methods: list[str]) -> list[str]:
        ok = [m for m in methods if self.window.scheduler.methods.kind(m) is not Kind.BLOCKED]
        if len(ok) < len(methods):
            self.window.messages.show_message("warning", "Methods without trained weights are not exported.")
        if not ok:
            raise ExportError("None of the chosen methods can run; nothing to export.")
        return ok

    def start_export(self, items: list[ExportItem]) -> None:
        """Render and write the PNGs in the background with a cancellable progress dialog."""
        dialog = QProgressDialog("Exporting…", "Cancel", 0, 1000, self.dialog_parent)
        dialog.setWindowTitle("Export")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        worker = self._worker = self.window.scheduler.model
        worker.exportProgress.connect(self._on_progress)
        worker.exportFinished.connect(self._on_finished)
        worker.exportFailed.connect(self._on_failed)
        # a direct call (the worker object lives in its busy thread): the export sees the flag at once
        dialog.canceled.connect(lambda: worker.cancel_export())
        self.progress = dialog
        worker.export(items)  # before the worker's next tile

    def _on_progress(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.setValue(round(1000 * done / max(1, total)))

    def _close_dialog(self) -> None:
        if self._worker is not None:
            self._worker.exportProgress.disconnect(self._on_progress)
            self._worker.exportFinished.disconnect(self._on_finished)
            self._worker.exportFailed.disconnect(self._on_failed)
            self._worker = None
        if self.progress is not None:
            self.progress.canceled.disconnect()
            self.progress.close()
            self.progress = None

    def _on_finished(self, paths: list) -> None:
        self._close_dialog()
        names = ", ".join(Path(p).name for p in paths)
        self.window.messages.show_message("info", f"Exported {names} to {Path(paths[0]).parent}." if paths else
                                          "Nothing was exported.")

    def _on_failed(self, message: str) -> None:
        self._close_dialog()
        self.window.messages.show_message("warning" if "cancelled" in message else "error", message)


def _panel_path(path: str, panel: int) -> str:
    target = Path(path)
    return str(target.with_name(f"{target.stem}-panel{panel + 1}{target.suffix or '.png'}"))
