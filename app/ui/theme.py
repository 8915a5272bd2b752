"""The dark look of the app (photo viewers are dark so that images stand out)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = QColor(24, 24, 26)
PANEL = QColor(36, 37, 40)
TEXT = QColor(230, 230, 232)
MUTED = QColor(150, 152, 158)
ACCENT = QColor(64, 156, 255)
ERROR = QColor(235, 87, 87)
WARNING = QColor(242, 170, 60)
OVERLAY = QColor(16, 16, 18, 200)


def apply_theme(app: QApplication) -> None:
    """Fusion with a dark palette: the same on every platform."""
    app.setStyle("Fusion")
    p = QPalette()
    for role, color in [
        (QPalette.ColorRole.Window, PANEL), (QPalette.ColorRole.WindowText, TEXT),
        (QPalette.ColorRole.Base, QColor(28, 29, 31)), (QPalette.ColorRole.AlternateBase, PANEL),
        (QPalette.ColorRole.ToolTipBase, QColor(50, 51, 55)), (QPalette.ColorRole.ToolTipText, TEXT),
        (QPalette.ColorRole.Text, TEXT), (QPalette.ColorRole.Button, QColor(48, 49, 53)),
        (QPalette.ColorRole.ButtonText, TEXT), (QPalette.ColorRole.BrightText, ERROR),
        (QPalette.ColorRole.Highlight, ACCENT), (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.Link, ACCENT), (QPalette.ColorRole.PlaceholderText, MUTED),
    ]:
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, MUTED)
    app.setPalette(p)
