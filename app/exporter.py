"""File ▸ Export: the dialog, the files it asks for, and the export's progress and result."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog

from app.dialogs.export_dialog import ALL, ExportDialog, ExportRequest
from app.export_plan import ExportError, region_export, view_export
from app.jobs import ExportItem
from app.layers import Kind
from app.method_provider import display_name
from sr_core.outputs import OutputError, check_output_file

if TYPE_CHECKING:
    from app.main_window import MainWindow


class Exporter:
    """Exports ``window``'s panels; the model worker renders and writes the files."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.progress: QProgressDialog | None = None
        scheduler = window.scheduler
        scheduler.exportProgress.connect(self._on_progress)
        scheduler.exportFinished.connect(self._on_finished)
        scheduler.exportFailed.connect(self._on_failed)

    def choose_export(self) -> None:
        window = self.window
        state, doc = window.view.state, window.doc
        if state is None or doc is None or not window.panels:
            return
        labels = [" | ".join(display_name(window.provider, m) for m in p.canvas.methods) for p in window.panels]
        x0, y0, x1, y1 = state.visible_rect(window.panels[0].canvas.viewport())
        default = Path(doc.path or Path.home() / doc.name).with_name(f"{Path(doc.name).stem}-zoomsr.png")
        dialog = ExportDialog(labels, 0, doc.size, (x0, y0, x1 - x0, y1 - y0), state.zoom, str(default), window)
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
        ok = [m for m in methods if self.window.scheduler.kind(m) is not Kind.BLOCKED]
        if len(ok) < len(methods):
            self.window.messages.show_message("warning", "Methods without trained weights are not exported.")
        if not ok:
            raise ExportError("None of the chosen methods can run; nothing to export.")
        return ok

    def start_export(self, items: list[ExportItem]) -> None:
        """Render and write the PNGs in the background with a cancellable progress dialog."""
        dialog = QProgressDialog("Exporting…", "Cancel", 0, 1000, self.window)
        dialog.setWindowTitle("Export")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.window.scheduler.cancel_export)
        self.progress = dialog
        self.window.scheduler.export(items)

    def _on_progress(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.setValue(round(1000 * done / max(1, total)))

    def _close_dialog(self) -> None:
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
