"""The window: opening files, keyboard, zoom box, synchronised panels, wipe, layouts."""

from __future__ import annotations

import random

import pytest
from app_fakes import WAIT_MS, FakeMethod, FakeProvider, settle, smooth_image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.model.settings import Settings
from app.model.view_state import MAX_ZOOM
from sr_core.imaging import save_png


def visible_regions(window):
    state = window.view.state
    return [state.visible_rect(p.canvas.viewport()) for p in window.panels]


def test_keyboard_shortcuts(qtbot, make_window, image_file, tmp_path):
    window = make_window(image=image_file)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    fit = window.view.state.zoom
    QTest.keyClick(window, Qt.Key.Key_Plus)
    assert window.view.state.zoom == pytest.approx(fit * 2 ** 0.5)
    QTest.keyClick(window, Qt.Key.Key_Minus)
    assert window.view.state.zoom == pytest.approx(fit)
    QTest.keyClick(window, Qt.Key.Key_Equal)
    QTest.keyClick(window, Qt.Key.Key_Equal)
    cx = window.view.state.cx
    QTest.keyClick(window, Qt.Key.Key_Right)
    assert window.view.state.cx > cx
    QTest.keyClick(window, Qt.Key.Key_Left)
    assert window.view.state.cx == pytest.approx(cx)
    QTest.keyClick(window, Qt.Key.Key_0)
    assert window.view.state.fitted and window.view.state.zoom == pytest.approx(fit)
    QTest.keyClick(window, Qt.Key.Key_1)  # 100 %, but never below fit: this image is small
    assert window.view.state.zoom == pytest.approx(window.view.state.limits[0])
    large = tmp_path / "large.png"
    save_png(large, smooth_image(700, 1000))
    window.open_path(str(large))
    qtbot.waitUntil(lambda: window.doc is not None and window.doc.size == (1000, 700), timeout=WAIT_MS)
    QTest.keyClick(window, Qt.Key.Key_1)
    assert window.view.state.zoom == 1.0


def test_zoom_box_accepts_typed_zooms(qtbot, make_window, image_file):
    window = make_window(image=image_file)
    for text, zoom in (("12.5×", 12.5), ("20x", 20.0), ("1730%", 17.3), ("640x", MAX_ZOOM)):
        assert window.apply_zoom_text(text)
        assert window.view.state.zoom == pytest.approx(zoom)
        assert window.zoom_box.currentText() == f"{zoom:.3g}×"
    assert not window.apply_zoom_text("banana")
    assert window.view.state.zoom == MAX_ZOOM
    assert window.apply_zoom_text("fit") and window.view.state.fitted
    box = window.zoom_box.lineEdit()
    box.setFocus()
    box.selectAll()
    QTest.keyClicks(box, "30x")
    QTest.keyClick(box, Qt.Key.Key_Return)
    assert window.view.state.zoom == pytest.approx(30.0)


def test_panels_show_the_same_region_after_any_zoom_and_pan(qtbot, make_window, image_file):
    window = make_window(FakeProvider({"a": None, "b": None}), image_file, size=(900, 600),
                         panels=["bicubic", "a", "b", "bicubic"])
    rng = random.Random(3)
    for _ in range(60):
        canvas = rng.choice(window.panels).canvas
        pos = QPointF(rng.uniform(0, canvas.width()), rng.uniform(0, canvas.height()))
        if rng.random() < 0.6:
            window.view.zoom_about(canvas.viewport(), pos.x(), pos.y(), rng.choice([1.3, 0.8, 2.0]))
        else:
            QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos.toPoint())
            QTest.mouseMove(canvas, (pos + QPointF(rng.uniform(-50, 50), rng.uniform(-50, 50))).toPoint())
            QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton)
        regions = visible_regions(window)
        sizes = {p.canvas.viewport() for p in window.panels}
        assert len(sizes) == 1
        assert all(r == pytest.approx(regions[0]) for r in regions)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PySide marks the QPoint constructor
def test_dropping_a_file_url_opens_it(qtbot, make_window, image_file, tmp_path):
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image_file))])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: window.doc is not None, timeout=WAIT_MS)
    assert window.doc.name == image_file.name and window.doc.size == (64, 48)


def test_recent_files_persist(qtbot, make_window, image_file, tmp_path):
    window = make_window(image=image_file)
    assert Settings.load().recent_files == [str(image_file.resolve())]
    window.recent_menu.aboutToShow.emit()
    entries = [a.text() for a in window.recent_menu.actions()]
    assert image_file.name in entries and "Clear recent files" in entries


def test_wipe_mode_shows_two_methods_in_one_panel(qtbot, make_window, image_file, fake):
    window = make_window(FakeProvider({"fake": lambda: fake}), image_file, panels=["bicubic", "fake"])
    window.set_wipe(True)
    assert len(window.panels) == 1
    canvas = window.panels[0].canvas
    left, right = canvas.layers()
    assert (left.method, right.method) == ("bicubic", "fake")
    assert left.clip == (0, canvas.divider_x()) and right.clip == (canvas.divider_x(), canvas.viewport()[0])
    window.view.zoom_to(10.0)
    settle(qtbot, window)
    window.grab()
    assert {k.method for k in canvas.painted} == {"bicubic", "fake"}
    x = canvas.divider_x() / canvas.devicePixelRatioF()
    y = canvas.height() / 2
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(round(x), round(y)))
    QTest.mouseMove(canvas, QPoint(round(canvas.width() * 0.25), round(y)))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(round(canvas.width() * 0.25), round(y)))
    assert canvas.split == pytest.approx(0.25, abs=0.02)
    assert window.view.state.zoom == 10.0 and not window.view.state.fitted  # the divider does not pan
    settle(qtbot, window)
    window.act["swap"].trigger()  # X: the sides change places, the divider stays
    assert window.panel_layout.methods[:2] == ["fake", "bicubic"] and canvas.split == pytest.approx(0.25, abs=0.02)
    assert [layer.method for layer in canvas.layers()] == ["fake", "bicubic"]
    assert window.panels[0].buttons[0].text().startswith("FAKE")
    settle(qtbot, window)
    window.set_wipe(False)
    assert len(window.panels) == 2 and not window.act["swap"].isEnabled()


def test_panel_counts_add_only_methods_that_can_run_and_all_methods(qtbot, make_window, image_file):
    provider = FakeProvider({"a": FakeMethod, "b": None, "c": FakeMethod})  # b has no weights
    window = make_window(provider, image_file, size=(900, 600), panels=["bicubic"])
    for n, shown in ((1, 1), (2, 2), (3, 3), (4, 3)):
        window.set_panel_count(n)
        assert len(window.panels) == shown
    assert window.panel_layout.methods == ["bicubic", "a", "c"]
    window.set_panel_count(0)
    assert [p.canvas.methods[0] for p in window.panels] == ["bicubic", "a", "b", "c"]
    window.panels[1].methodChosen.emit(1, 0, "bicubic")
    assert window.panel_layout.methods[1] == "bicubic" and window.panels[1].canvas.methods == ["bicubic"]


def test_in_ground_truth_mode_a_third_panel_is_the_reference(qtbot, make_window, image_file):
    provider = FakeProvider({"a": FakeMethod, "b": None})
    window = make_window(provider, image_file, panels=["bicubic", "a"], gt_factor=2)
    window.set_panel_count(3)
    assert window.panel_layout.methods == ["bicubic", "a", "gt"]


def test_pinch_and_wheel_zoom_about_the_fingers(qtbot, make_window, image_file):
    from PySide6.QtGui import QNativeGestureEvent, QPointingDevice, QWheelEvent

    window = make_window(image=image_file)
    canvas = window.panels[0].canvas
    window.view.zoom_to(12.0)
    pos = QPointF(canvas.width() * 0.3, canvas.height() * 0.6)
    device = (pos.x() * canvas.devicePixelRatioF(), pos.y() * canvas.devicePixelRatioF())
    point = window.view.state.to_image(canvas.viewport(), *device)
    pinch = QNativeGestureEvent(Qt.NativeGestureType.ZoomNativeGesture, QPointingDevice.primaryPointingDevice(),
                                2, pos, pos, canvas.mapToGlobal(pos), 0.5, QPointF(0, 0))
    QApplication.sendEvent(canvas, pinch)
    assert window.view.state.zoom == pytest.approx(18.0)
    wheel = QWheelEvent(pos, canvas.mapToGlobal(pos), QPoint(0, 0), QPoint(0, -240), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, wheel)
    assert window.view.state.zoom == pytest.approx(18.0 / 2 ** 0.5)
    after = window.view.state.to_device(canvas.viewport(), *point)
    assert abs(after[0] - device[0]) < 0.5 and abs(after[1] - device[1]) < 0.5


def test_double_click_toggles_fit_and_100_percent(qtbot, make_window, tmp_path):
    large = tmp_path / "large.png"
    save_png(large, smooth_image(700, 1000))
    window = make_window(image=large)
    canvas = window.panels[0].canvas
    QTest.mouseDClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(100, 80))
    assert window.view.state.zoom == 1.0
    QTest.mouseDClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(100, 80))
    assert window.view.state.fitted


def test_the_shortcuts_dialog_lists_every_action_with_keys(qtbot, make_window, image_file):
    from app.ui.dialogs.shortcuts_dialog import ShortcutsDialog, shortcut_rows

    window = make_window(image=image_file)
    rows = dict(shortcut_rows(window.actions()))
    assert rows["Zoom in"].startswith("+") and "PgDown" in rows["Next image"]
    assert rows["Wipe between two methods"] == "W"
    with_keys = {a.text().replace("&", "").rstrip("…") for a in window.actions()
                 if any(not k.isEmpty() for k in a.shortcuts())}  # standard keys may be unbound here
    assert set(rows) == with_keys
    dialog = ShortcutsDialog(window.actions(), window)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == len(rows) + 3  # plus wheel, drag and double-click
