"""About ZoomSR: what it is, its version, every method with its paper and where its weights come
from, ZoomSR's licence and the notices of what it ships (weights, libraries)."""

from __future__ import annotations

import qtawesome as qta
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.method_provider import HOW_TO_GET_WEIGHTS, MethodProvider
from app.ui import theme
from app.ui.icons import app_icon
from sr_core import __version__
from sr_core.logs import log_path
from sr_core.paths import NOTICE_FILES, notice_text


class AboutDialog(QDialog):
    def __init__(self, provider: MethodProvider, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About ZoomSR")
        self.setWindowIcon(app_icon())
        self.resize(900, 640)
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"<h2>ZoomSR {__version__}</h2><p>Zoom continuously into a photograph while implicit neural image "
            "functions render the detail, and compare arbitrary-scale super-resolution methods "
            "side by side.</p>", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        names = provider.names()
        self.table = QTableWidget(len(names), 3, self)
        self.table.setHorizontalHeaderLabels(["Method", "Weights", "Paper"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setWordWrap(True)
        for row, name in enumerate(names):
            info, status = provider.info(name), provider.status(name)
            method = QTableWidgetItem(info.display_name)
            ok = status.available
            method.setIcon(qta.icon("mdi6.check-circle-outline" if ok else "mdi6.lock-outline",
                                    color=theme.ACCENT if ok else theme.MUTED))
            weights = QTableWidgetItem(f"{status.source}: {status.provenance}")
            weights.setToolTip(str(status.checkpoint or HOW_TO_GET_WEIGHTS))
            paper = QTableWidgetItem(info.paper)
            paper.setToolTip(info.paper)
            for col, item in enumerate((method, weights, paper)):
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        hint = QLabel(f"Methods without trained weights are never run. {HOW_TO_GET_WEIGHTS}", self)
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color: {theme.MUTED.name()};")
        layout.addWidget(hint)
        self.licences = QPlainTextEdit(licence_notices(provider), self)
        self.licences.setReadOnly(True)
        self.licences.setMaximumHeight(160)
        layout.addWidget(QLabel("Licences (ZoomSR: MIT; the weights and libraries it ships):", self))
        layout.addWidget(self.licences)
        self.log_label = QLabel(f"Log file (error details): {log_path()}", self)
        self.log_label.setTextFormat(Qt.TextFormat.PlainText)
        self.log_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log_label.setStyleSheet(f"color: {theme.MUTED.name()};")
        layout.addWidget(self.log_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def licence_notices(provider: MethodProvider) -> str:
    """ZoomSR's licence, its third-party notices and the notices beside the weights in use."""
    files = {status.licence_file for status in map(provider.status, provider.names())} - {None}
    texts = [notice_text(name) or f"{name}: not found in this installation" for name in NOTICE_FILES]
    texts += [path.read_text(encoding="utf-8", errors="replace") for path in sorted(files)]
    return "\n\n".join(texts)
