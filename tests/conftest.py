"""Shared pytest fixtures; every test that touches Qt runs on the offscreen platform."""

import os
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before anything imports Qt (no display in CI)
os.environ.setdefault("ZOOMSR_LOG_DIR", tempfile.mkdtemp(prefix="zoomsr-test-logs-"))  # not ~

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder: ``$ZOOMSR_DATA``, else ``<repo>/../shared/data``; skips if absent."""
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    root = Path(os.environ.get("ZOOMSR_DATA") or default)
    if not root.is_dir():
        pytest.skip(f"shared data not found at {root} (set ZOOMSR_DATA to the data folder)")
    return root


@pytest.fixture(autouse=True)
def user_checkpoints(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user checkpoint folder: the user's own weights never change a test."""
    folder = tmp_path_factory.mktemp("user-checkpoints")
    monkeypatch.setenv("ZOOMSR_CHECKPOINTS", str(folder))
    return folder


@pytest.fixture
def no_weights(user_checkpoints: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No checkpoint anywhere, not even the shipped ones: every weighted method is unavailable."""
    monkeypatch.setattr("sr_core.registry.checkpoints_dir", lambda: user_checkpoints)
