"""The main window's size, position and maximised state: kept in the settings, restored on a screen."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow

from app.model.settings import Settings

DEFAULT_SIZE = (1400, 900)
#: logical pixels of a restored window's top edge that must lie on a screen (to grab it by its title)
MIN_VISIBLE = 100

#: ``(x, y, width, height)`` in logical pixels, as Qt's ``QRect.getRect()`` gives it and the settings
#: keep it (screens and windows, not image pixels: those are ``sr_core.geometry.Rect``)
ScreenGeometry = tuple[int, int, int, int]


def on_a_screen(geometry: ScreenGeometry, screens: list[ScreenGeometry]) -> bool:
    """Whether the top edge of ``(x, y, width, height)`` lies on a screen, at least ``MIN_VISIBLE`` px of it."""
    x, y, w, _ = geometry
    return any(sy <= y < sy + sh and min(x + w, sx + sw) - max(x, sx) >= min(MIN_VISIBLE, w)
               for sx, sy, sw, sh in screens)


def restore_geometry(window: QMainWindow, settings: Settings) -> None:
    """Put the window where it was closed; the default size when that is off every screen now."""
    screens = [screen.availableGeometry().getRect() for screen in QGuiApplication.screens()]
    saved = settings.window_geometry
    if saved and on_a_screen(tuple(saved), screens):  # Settings.load keeps 4 numbers or none
        window.setGeometry(QRect(*saved))
        if settings.window_maximized:
            window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
    else:
        window.resize(*DEFAULT_SIZE)


def save_geometry(window: QMainWindow, settings: Settings) -> None:
    """Remember the window's normal (not maximised, not full-screen) geometry and whether it is maximised."""
    full = Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen
    rect = window.normalGeometry() if window.windowState() & full else window.geometry()
    settings.window_geometry = list(rect.getRect())
    settings.window_maximized = window.isMaximized()
