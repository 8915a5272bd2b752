"""A bar above the panels for errors and notices: readable messages instead of crashes."""

from __future__ import annotations

import qtawesome as qta
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from app.model.plain_text import tooltip
from app.ui import theme

#: notices (not errors) go away by themselves after this long
INFO_MS = 6000

_STYLE = {
    "error": (theme.ERROR, "mdi6.alert-circle-outline"),
    "warning": (theme.WARNING, "mdi6.alert-outline"),
    "info": (theme.ACCENT, "mdi6.information-outline"),
}


class MessageBar(QFrame):
    """Floats over the top of its parent (below ``top`` pixels), so panels never resize for it.

    Shows the latest message; earlier ones stay reachable in its tooltip until closed.
    """

    def __init__(self, parent: QWidget, top: int = 0) -> None:
        super().__init__(parent)
        self._top = top
        self._messages: list[tuple[str, str]] = []
        self._icon = QLabel(self)
        self._label = QLabel(self)
        self._label.setWordWrap(True)
        self._label.setTextFormat(Qt.TextFormat.PlainText)  # file names are not markup
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(self)
        close.setIcon(qta.icon("mdi6.close", color=theme.TEXT))
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.clear)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addWidget(self._icon)
        row.addWidget(self._label, 1)
        row.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear)
        parent.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def _place(self) -> None:
        parent = self.parentWidget()
        width = parent.width()
        self.setGeometry(0, self._top, width, self.heightForWidth(width) if self.hasHeightForWidth()
                         else self.sizeHint().height())
        self.raise_()

    def show_message(self, level: str, text: str) -> None:
        color, icon = _STYLE.get(level, _STYLE["info"])
        self._messages.append((level, text))
        self.setStyleSheet(f"MessageBar {{ background: {color.darker(260).name()}; "
                           f"border-bottom: 1px solid {color.name()}; }}")
        self._icon.setPixmap(qta.icon(icon, color=color).pixmap(20, 20))
        more = len(self._messages) - 1
        self._label.setText(text + (f"   (+{more} earlier)" if more else ""))
        self.setToolTip(tooltip("\n".join(t for _, t in self._messages[-10:])))
        self.show()
        self._place()
        if level == "info" and all(lv == "info" for lv, _ in self._messages):
            self._timer.start(INFO_MS)
        else:
            self._timer.stop()

    def messages(self) -> list[str]:
        """Every message shown since the bar was last dismissed."""
        return [t for _, t in self._messages]

    def clear(self) -> None:
        self._messages.clear()
        self._timer.stop()
        self.hide()
