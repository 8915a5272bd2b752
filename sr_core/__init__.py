"""ZoomSR core: arbitrary-scale super-resolution methods and one rendering path (no Qt)."""

__version__ = "0.1.0"
