"""The window remembers its geometry, maximised state and panel layout; the command line overrides them."""

from __future__ import annotations

import json

import pytest
from app_fakes import FakeProvider
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication

import app.launch
import app.main as app_main
from app.model.settings import Settings, settings_path
from app.ui.main_window import MainWindow
from app.ui.window_geometry import DEFAULT_SIZE, on_a_screen


def test_a_window_must_keep_its_top_edge_on_a_screen():
    screens = [(0, 0, 1920, 1080), (1920, 0, 1280, 1024)]
    assert on_a_screen((100, 100, 800, 600), screens)
    assert on_a_screen((2000, 900, 800, 600), screens)  # on the second screen
    assert on_a_screen((-700, 100, 800, 600), screens)  # 100 px still on screen
    assert not on_a_screen((-750, 100, 800, 600), screens)
    assert not on_a_screen((100, -40, 800, 600), screens)  # the title bar is above every screen
    assert not on_a_screen((100, 1100, 800, 600), screens[:1])  # below the bottom
    assert not on_a_screen((5000, 100, 800, 600), screens)  # a screen that was unplugged


def window(qtbot, provider: FakeProvider) -> MainWindow:
    w = MainWindow(provider, Settings.load())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_geometry_and_layout_round_trip_between_two_windows(qtbot):
    provider = FakeProvider({"a": None, "b": None})
    first = window(qtbot, provider)
    first.setGeometry(QRect(40, 50, 640, 420))
    first.set_panels(["b", "bicubic", "a"])
    first.panels[1].methodChosen.emit(1, 0, "a")
    assert first.panel_layout.methods == ["b", "a", "a"]
    first.close()
    second = window(qtbot, provider)
    assert second.geometry() == QRect(40, 50, 640, 420) and not second.isMaximized()
    assert [p.canvas.methods for p in second.panels] == [["b"], ["a"], ["a"]]
    second.set_wipe(True)
    second.showMaximized()
    qtbot.waitUntil(second.isMaximized)
    second.close()
    third = window(qtbot, provider)
    assert third.isMaximized() and third.normalGeometry() == QRect(40, 50, 640, 420)
    assert third.panel_layout.wipe and len(third.panels) == 1 and third.panels[0].canvas.methods == ["b", "a"]


def write_settings(config_dir, **entries) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    settings_path().write_text(json.dumps(entries), encoding="utf-8")


def test_a_geometry_off_every_screen_gives_the_default(qtbot, config_dir):
    write_settings(config_dir, window_geometry=[5000, 5000, 640, 420], window_maximized=True)
    w = window(qtbot, FakeProvider({}))
    assert (w.width(), w.height()) == DEFAULT_SIZE and not w.isMaximized()


@pytest.mark.parametrize("entries", [
    {"window_geometry": "40,50,640,420", "window_maximized": "yes", "wipe": 1, "panels": "a,b"},
    {"window_geometry": [40, 50, 640], "panels": [1, 2]},
    {"window_geometry": [40, 50, -640, 420]},
    {"window_geometry": [40, 50, True, 420]},
    {"window_geometry": [40, 50, 10**12, 420]},
])
def test_damaged_entries_give_defaults(qtbot, config_dir, entries):
    write_settings(config_dir, **entries)
    loaded = Settings.load()
    assert (loaded.window_geometry, loaded.window_maximized, loaded.wipe, loaded.panels) == \
        ([], False, False, Settings().panels)
    w = window(qtbot, FakeProvider({"liif": None}))
    assert (w.width(), w.height()) == DEFAULT_SIZE and not w.isMaximized()
    assert w.panel_layout.methods == Settings().panels and not w.panel_layout.wipe


def test_the_command_line_overrides_the_restored_state(qtbot, config_dir, image_file, tmp_path, monkeypatch):
    provider = FakeProvider({"fake": None, "liif": None})
    monkeypatch.setattr(app.launch, "RegistryProvider", lambda: provider)
    seen = []

    def screenshot(w: MainWindow, out: str, timeout: float) -> int:
        QApplication.processEvents()  # the window state settles once shown
        layout = w.panel_layout
        seen.append((layout.methods, layout.wipe, len(w.panels), w.isMaximized(), (w.width(), w.height())))
        return 0

    monkeypatch.setattr(app.launch, "screenshot", screenshot)
    write_settings(config_dir, panels=["liif", "fake"], wipe=True, window_geometry=[40, 50, 640, 420],
                   window_maximized=True)
    args = [str(image_file), "--size", "500x300", "--screenshot", str(tmp_path / "x.png")]
    assert app_main.run(args) == 0
    assert seen.pop() == (["liif", "fake"], True, 1, False, (500, 300))  # restored layout, --size wins
    assert app_main.run([*args, "--panels", "bicubic,fake,liif"]) == 0
    assert seen.pop() == (["bicubic", "fake", "liif"], False, 3, False, (500, 300))
    assert Settings.load().panels == ["liif", "fake"]  # headless runs never save
