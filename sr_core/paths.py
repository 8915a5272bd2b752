"""Where bundled resources live, in a source checkout and in a frozen (PyInstaller) app."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder: beside the packages, or inside the frozen bundle."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    root = Path(frozen_root) if frozen_root else Path(__file__).resolve().parent.parent
    return root / "resources"


def checkpoints_dir() -> Path:
    """Shipped checkpoints (``resources/checkpoints``)."""
    return resources_dir() / "checkpoints"
