"""Export: the current view of one panel or all panels, or a region at any scale, to PNG, TIFF,
JPEG or WebP (by the file's ending)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from app.model.view_state import MAX_ZOOM
from sr_core.render import output_size

#: the save dialog's choices: the ending picks the format (sr_core.image_writer.OUTPUT_FORMATS)
EXPORT_FILTER = ("PNG (*.png);;TIFF, 8/16-bit (*.tif *.tiff);;JPEG (*.jpg *.jpeg);;WebP (*.webp);;"
                 "All files (*)")

ALL = -1


@dataclass(frozen=True)
class ExportRequest:
    """What the user asked for: ``panel`` (or ``ALL``), view or region, where to write."""

    panel: int
    region: tuple[float, float, float, float] | None
    scale: float
    path: str


class ExportDialog(QDialog):
    def __init__(self, panels: list[str], current: int, image: tuple[int, int],
                 visible: tuple[float, float, float, float], zoom: float, path: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self._image = image
        form = QFormLayout(self)
        self.panel = QComboBox(self)
        for index, label in enumerate(panels):
            self.panel.addItem(f"Panel {index + 1}: {label}", index)
        self.panel.addItem("All panels (one file each)", ALL)
        self.panel.setCurrentIndex(current)
        form.addRow("Export", self.panel)
        self.view = QRadioButton("Current view, pixel for pixel", self)
        self.region = QRadioButton("Region at any scale", self)
        self.view.setChecked(True)
        form.addRow("Area", self.view)
        form.addRow("", self.region)
        x, y, w, h = visible
        self.fields = [self._spin(v, 0, m) for v, m in ((x, image[0]), (y, image[1]), (w, image[0]), (h, image[1]))]
        row = QHBoxLayout()
        for label, spin in zip(("x", "y", "width", "height"), self.fields):
            row.addWidget(QLabel(label, self))
            row.addWidget(spin)
        form.addRow("Region (input px)", row)
        self.scale = self._spin(zoom, 0.05, MAX_ZOOM)
        self.scale.setSuffix(" ×")
        form.addRow("Scale", self.scale)
        self.size = QLabel(self)
        form.addRow("Output", self.size)
        path_row = QHBoxLayout()
        self.path = QLineEdit(path, self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form.addRow("File", path_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        for widget in (self.view, self.region):
            widget.toggled.connect(self._update)
        for spin in [*self.fields, self.scale]:
            spin.valueChanged.connect(self._update)
        self._update()

    def _spin(self, value: float, low: float, high: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setRange(low, high)
        spin.setDecimals(2)
        spin.setValue(value)
        return spin

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(), EXPORT_FILTER)
        if path:
            self.path.setText(path)

    def _update(self) -> None:
        regional = self.region.isChecked()
        for spin in [*self.fields, self.scale]:
            spin.setEnabled(regional)
        if regional:
            out_h, out_w = output_size(self._image[1], self._image[0], self.scale.value())
            w = round(self.fields[2].value() * out_w / self._image[0])
            h = round(self.fields[3].value() * out_h / self._image[1])
            self.size.setText(f"about {w} × {h} px per file")
        else:
            self.size.setText("what the panel shows, at device resolution")

    def request(self) -> ExportRequest:
        region = tuple(s.value() for s in self.fields) if self.region.isChecked() else None
        return ExportRequest(self.panel.currentData(), region, self.scale.value(), self.path.text())
