"""A user's model dropped onto the window becomes a method of the viewer: installed off the GUI
thread, listed in About with its label; a file that is not a model is refused in one message and
the image stays (issue #29)."""

from __future__ import annotations

from app_fakes import WAIT_MS
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from app.model.method_provider import RegistryProvider
from app.ui.dialogs.about_dialog import AboutDialog
from tests.spandrel_models import save_model, tiny_network


def drop(window, path) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_a_dropped_model_is_installed_and_listed(qtbot, make_window, image_file, tmp_path):
    provider = RegistryProvider()
    window = make_window(provider, image_file, panels=["bicubic"])
    drop(window, save_model(tiny_network("span"), tmp_path / "2x-Tiny.pth"))
    qtbot.waitUntil(lambda: "2x-tiny" in provider.names() and bool(window.messages.messages()), timeout=WAIT_MS)
    assert "installed" in window.messages.messages()[-1]
    dialog = AboutDialog(provider)
    qtbot.addWidget(dialog)
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 2).text() for r in range(dialog.table.rowCount())}
    assert rows["2x-tiny"] == "user model: SPAN ×2, from 2x-Tiny.pth"
    window.set_panels(["2x-tiny"])
    panel = window.panels[0]
    qtbot.waitUntil(lambda: "2x-tiny" in {k.method for k in panel.canvas.painted}, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: panel.state.text() == "final", timeout=WAIT_MS)
    assert "user model" in panel.info.text()  # the header says whose weights
    assert "user model: SPAN ×2, from 2x-Tiny.pth" in panel.buttons[0].toolTip()


def test_a_dropped_file_that_is_no_model_is_refused(qtbot, make_window, image_file, tmp_path):
    provider = RegistryProvider()
    window = make_window(provider, image_file, panels=["bicubic"])
    before, doc = provider.names(), window.doc
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a model")
    drop(window, bad)
    qtbot.waitUntil(lambda: bool(window.messages.messages()), timeout=WAIT_MS)
    message = window.messages.messages()[-1]
    assert message.startswith("Import failed: broken.safetensors is not a readable safetensors file")
    assert "\n" not in message and provider.names() == before and window.doc is doc
