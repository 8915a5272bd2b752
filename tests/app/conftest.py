"""Fixtures for the viewer tests (offscreen Qt: tests/conftest.py): temporary settings, small
images, windows."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_fakes import WAIT_MS, FakeMethod, FakeProvider, smooth_image

from app.model.method_provider import MethodProvider
from sr_core.imaging import save_png


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own settings folder."""
    folder = tmp_path / "config"
    monkeypatch.setenv("ZOOMSR_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def image_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.png"
    save_png(path, smooth_image(48, 64))
    return path


@pytest.fixture
def fake() -> FakeMethod:
    """A fresh fake method (records its threads and output grids)."""
    return FakeMethod()


@pytest.fixture
def make_window(qtbot):
    """``make_window(provider, image=None, size=(720, 480), panels=None, gt_factor=None)``.

    A shown window (closed, with its threads, at the end of the test), the image opened.
    """
    from app.model.settings import Settings
    from app.ui.main_window import MainWindow

    def make(provider: MethodProvider | None = None, image: Path | None = None,
             size: tuple[int, int] = (720, 480), panels: list[str] | None = None,
             gt_factor: int | None = None) -> MainWindow:
        settings = Settings()
        if panels:
            settings.panels = panels
        window = MainWindow(provider or FakeProvider({}), settings)
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        if image is not None:
            window.open_path(str(image), gt_factor=gt_factor)
            qtbot.waitUntil(lambda: window.doc is not None and not window.loading, timeout=WAIT_MS)
        return window

    return make
