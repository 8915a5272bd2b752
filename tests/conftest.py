"""Shared pytest fixtures."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder: ``$ZOOMSR_DATA``, else ``<repo>/../shared/data``; skips if absent."""
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    root = Path(os.environ.get("ZOOMSR_DATA") or default)
    if not root.is_dir():
        pytest.skip(f"shared data not found at {root} (set ZOOMSR_DATA to the data folder)")
    return root
