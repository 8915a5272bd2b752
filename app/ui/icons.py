"""Icons: the app's own (resources/icons) and toolbar icons from qtawesome."""

from __future__ import annotations

import qtawesome as qta
from PySide6.QtGui import QIcon

from app.ui import theme
from sr_core.paths import resources_dir


def app_icon() -> QIcon:
    """The ZoomSR icon (PNG, so no SVG plugin is needed)."""
    return QIcon(str(resources_dir() / "icons" / "zoomsr.png"))


def icon(name: str) -> QIcon:
    """A qtawesome icon in the theme's colours, e.g. ``icon("mdi6.export")``."""
    return qta.icon(name, color=theme.TEXT, color_disabled=theme.MUTED, color_active=theme.ACCENT)
