"""ZoomSR's desktop viewer (PySide6): panels of methods on one shared, continuously zoomable view."""
