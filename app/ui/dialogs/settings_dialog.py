"""Settings: device, precision, memory budget and tile size."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from app.model.settings import AUTO_DEVICE, TILE_SIZES, Settings
from sr_core.devices import PRECISIONS, available_devices, device_label, resolve_device


class SettingsDialog(QDialog):
    """Edits a copy of the settings; :meth:`result_settings` returns it."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        form = QFormLayout(self)
        self.device = QComboBox(self)
        self.device.addItem(f"Automatic ({device_label(str(resolve_device('auto')))} here)", AUTO_DEVICE)
        for name in available_devices():
            self.device.addItem(device_label(name), name)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.device.setToolTip("Where the super-resolution models run. Bicubic previews always "
                               "use the CPU.")
        form.addRow("Device", self.device)
        self.precision = QComboBox(self)
        for name in PRECISIONS:
            self.precision.addItem(name, name)
        self.precision.setCurrentIndex(max(0, self.precision.findData(settings.precision)))
        self.precision.setToolTip("Half precision is faster on GPUs and used only by methods that "
                                  "support it; coordinates always stay float32. float16 stays within "
                                  "3e-4 of float32, bfloat16 within about 3e-3; measure in float32.")
        form.addRow("Precision", self.precision)
        self.memory = QSpinBox(self)
        self.memory.setRange(128, 65536)
        self.memory.setSingleStep(256)
        self.memory.setSuffix(" MB")
        self.memory.setValue(settings.memory_mb)
        self.memory.setToolTip("Split between cached model features and cached rendered tiles.")
        form.addRow("Memory budget", self.memory)
        self.tile = QComboBox(self)
        for size in TILE_SIZES:
            self.tile.addItem(f"{size} × {size} px", size)
        self.tile.setCurrentIndex(max(0, self.tile.findData(settings.tile_size)))
        self.tile.setToolTip("Smaller tiles appear sooner; larger tiles waste less work at the edges.")
        form.addRow("Tile size", self.tile)
        note = QLabel("Settings are saved for the next start.", self)
        note.setEnabled(False)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.device.currentIndexChanged.connect(self._device_changed)
        self._device_changed()

    def _device_changed(self) -> None:
        on_cpu = resolve_device(self.device.currentData()).type == "cpu"
        if on_cpu:
            self.precision.setCurrentIndex(self.precision.findData("float32"))
        self.precision.setEnabled(not on_cpu)

    def result_settings(self) -> Settings:
        return replace(self._settings, device=self.device.currentData(),
                       precision=self.precision.currentData(), memory_mb=self.memory.value(),
                       tile_size=self.tile.currentData())
