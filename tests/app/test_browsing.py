"""Next / previous image in the folder, skipping broken files, keeping the view, ground truths."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_fakes import WAIT_MS, smooth_image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.model.settings import Settings
from sr_core.imaging import save_png


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """img1, img2 (64×48), img3 (corrupt), img10 (128×96), in natural order, and a text file."""
    folder = tmp_path / "photos"
    folder.mkdir()
    save_png(folder / "img1.png", smooth_image(48, 64, seed=1))
    save_png(folder / "img2.png", smooth_image(48, 64, seed=2))
    save_png(folder / "img10.png", smooth_image(96, 128, seed=10))
    (folder / "img3.png").write_bytes((folder / "img1.png").read_bytes()[:200])
    (folder / "notes.txt").write_text("not an image")
    return folder


def step(qtbot, window, action, name: str) -> None:
    """Trigger next / previous and wait until ``name`` is shown."""
    action.trigger()
    qtbot.waitUntil(lambda: window.doc.name == name and not window.loading, timeout=WAIT_MS)


def test_keys_step_through_the_folder_in_natural_order_and_wrap(qtbot, make_window, folder):
    window = make_window(image=folder / "img1.png")
    assert window.windowTitle() == "img1.png · 1 / 4 — ZoomSR"
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    for key, name in ((Qt.Key.Key_PageDown, "img2.png"), (Qt.Key.Key_BracketLeft, "img1.png"),
                      (Qt.Key.Key_PageUp, "img10.png"), (Qt.Key.Key_BracketRight, "img1.png")):
        QTest.keyClick(window, key)
        qtbot.waitUntil(lambda name=name: window.doc.name == name and not window.loading, timeout=WAIT_MS)
    step(qtbot, window, window.act["next"], "img2.png")
    assert "2 / 4" in window.windowTitle() and "2 / 4" in window.image_label.text()
    step(qtbot, window, window.act["previous"], "img1.png")
    step(qtbot, window, window.act["previous"], "img10.png")  # wraps to the last
    assert "4 / 4" in window.windowTitle()


def test_a_corrupt_file_shows_a_message_keeps_the_image_and_is_skipped(qtbot, make_window, folder):
    window = make_window(image=folder / "img2.png")
    window.act["next"].trigger()
    qtbot.waitUntil(lambda: len(window.messages.messages()) == 1, timeout=WAIT_MS)
    assert "img3.png" in window.messages.messages()[-1]
    assert window.doc.name == "img2.png" and "2 / 4" in window.windowTitle()
    step(qtbot, window, window.act["next"], "img10.png")  # past the broken file
    window.act["previous"].trigger()  # img3 again, on the way back
    qtbot.waitUntil(lambda: len(window.messages.messages()) == 2, timeout=WAIT_MS)
    assert window.doc.name == "img10.png"
    step(qtbot, window, window.act["previous"], "img2.png")
    (folder / "img3.png").unlink()
    save_png(folder / "img2b.png", smooth_image(48, 64, seed=3))  # the folder is listed again
    step(qtbot, window, window.act["next"], "img2b.png")
    assert "3 / 4" in window.windowTitle()


def test_keep_view_keeps_zoom_and_relative_centre_and_off_opens_at_fit(qtbot, make_window, folder):
    window = make_window(image=folder / "img1.png")
    assert window.act["keep view"].isChecked()
    window.view.zoom_to(20.0)
    window.view.centre_on(20.5, 30.25)
    step(qtbot, window, window.act["next"], "img2.png")
    state = window.view.state
    assert (state.zoom, state.cx, state.cy) == (20.0, 20.5, 30.25)
    window.act["next"].trigger()  # img3 is corrupt
    qtbot.waitUntil(lambda: len(window.messages.messages()) == 1, timeout=WAIT_MS)
    step(qtbot, window, window.act["next"], "img10.png")
    state = window.view.state
    assert (state.image, state.zoom, state.cx, state.cy) == ((128, 96), 20.0, 41.0, 60.5)
    window.act["keep view"].trigger()
    assert not window.settings.keep_view
    step(qtbot, window, window.act["next"], "img1.png")
    assert window.view.state.fitted and window.view.state.zoom == pytest.approx(window.view.state.limits[0])


def test_keep_view_is_saved(qtbot, make_window, folder):
    window = make_window()
    assert window.act["keep view"].isChecked() and Settings.load().keep_view
    window.act["keep view"].trigger()
    assert Settings.load().keep_view is False
    window.act["keep view"].trigger()
    assert Settings.load().keep_view is True


def test_ground_truths_are_followed_by_ground_truths_at_the_same_factor(qtbot, make_window, folder):
    window = make_window(image=folder / "img1.png", gt_factor=3, panels=["bicubic", "gt"])
    assert window.settings.gt_factor != 3
    step(qtbot, window, window.act["next"], "img2.png")
    assert window.doc.gt is not None and window.doc.gt.factor == 3 and window.doc.size == (21, 16)
    assert [p.canvas.methods for p in window.panels] == [["bicubic"], ["gt"]]


def test_browsing_needs_an_image_from_a_file(qtbot, make_window, folder, tmp_path):
    window = make_window()
    assert not window.act["next"].isEnabled() and not window.act["previous"].isEnabled()
    lone = tmp_path / "lone"
    lone.mkdir()
    save_png(lone / "only.png", smooth_image(48, 64))
    window.open_path(str(lone / "only.png"))
    qtbot.waitUntil(lambda: window.doc is not None and not window.loading, timeout=WAIT_MS)
    assert window.act["next"].isEnabled() and "1 / 1" in window.windowTitle()
    window.act["next"].trigger()
    assert "No other image" in window.statusBar().currentMessage() and not window.loading
