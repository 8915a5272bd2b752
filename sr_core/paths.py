"""Where bundled resources live: in a source checkout, an installed wheel, a frozen (PyInstaller) app."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

#: the project's own licence and the notices of what it ships (repository root, wheel metadata)
NOTICE_FILES = ("LICENSE", "THIRD_PARTY_NOTICES.md")


def _root() -> Path:
    """The folder holding ``sr_core`` and ``resources``: the checkout, site-packages or the bundle."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    return Path(frozen_root) if frozen_root else Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The ``resources/`` folder: beside the packages (a checkout or a wheel, whose package data
    it is), or inside the frozen bundle."""
    return _root() / "resources"


def checkpoints_dir() -> Path:
    """Shipped checkpoints (``resources/checkpoints``)."""
    return resources_dir() / "checkpoints"


def notice_text(name: str) -> str | None:
    """``LICENSE`` or ``THIRD_PARTY_NOTICES.md``: from the checkout or the frozen bundle (their
    root holds them), else from the installed distribution's metadata; None when neither has it."""
    root = _root()
    if getattr(sys, "_MEIPASS", None) or (root / "pyproject.toml").is_file():
        path = root / name
        return path.read_text(encoding="utf-8") if path.is_file() else None
    try:
        return metadata.distribution("zoomsr").read_text(f"licenses/{name}")
    except metadata.PackageNotFoundError:
        return None
