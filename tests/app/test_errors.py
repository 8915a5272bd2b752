"""Bad files, missing weights and out-of-memory end as messages in the window, never as crashes."""

from __future__ import annotations

import pytest
from app_fakes import WAIT_MS, FakeMethod, FakeProvider, settle

from app.model.layers import Kind
from app.model.method_provider import RegistryProvider
from app.ui.dialogs.about_dialog import AboutDialog
from sr_core.checkpoints import CheckpointError
from sr_core.registry import MissingWeightsError, install_official


def still_works(qtbot, window) -> None:
    """The window keeps rendering after the error."""
    window.view.zoom_to(window.view.state.zoom * 1.5)
    settle(qtbot, window)
    window.grab()
    assert any(p.canvas.painted for p in window.panels)


def test_a_corrupt_file_shows_a_message(qtbot, make_window, image_file, tmp_path):
    window = make_window(image=image_file)
    bad = tmp_path / "broken.png"
    bad.write_bytes(image_file.read_bytes()[:200])
    window.open_path(str(bad))
    qtbot.waitUntil(lambda: window.messages.isVisible(), timeout=WAIT_MS)
    assert "broken.png" in window.messages.messages()[-1]
    assert window.doc.name == image_file.name  # the previous image stays
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("hello")
    window.open_path(str(not_an_image))
    qtbot.waitUntil(lambda: len(window.messages.messages()) == 2, timeout=WAIT_MS)
    assert "notes.txt" in window.messages.messages()[-1]
    still_works(qtbot, window)


def test_methods_without_weights_are_shown_as_unavailable_and_never_loaded(qtbot, make_window, image_file):
    provider = FakeProvider({"liif": None})
    window = make_window(provider, image_file, panels=["bicubic", "liif"])
    window.view.zoom_to(10.0)
    settle(qtbot, window)
    window.grab()
    panel = window.panels[1]
    assert window.scheduler.methods.kind("liif") is Kind.BLOCKED
    assert panel.state.text() == "unavailable" and not panel.canvas.painted
    assert "liif" not in [name for name, _ in provider.loads]


def test_a_missing_checkpoint_shows_a_message(qtbot, make_window, image_file):
    def vanished() -> FakeMethod:
        raise MissingWeightsError("LIIF has no trained weights yet: the checkpoint was removed")

    window = make_window(FakeProvider({"liif": vanished}), image_file, panels=["bicubic", "liif"])
    window.view.zoom_to(10.0)
    qtbot.waitUntil(lambda: window.scheduler.methods.method_errors.get("liif") is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: any("checkpoint was removed" in m for m in window.messages.messages()),
                    timeout=WAIT_MS)
    settle(qtbot, window)
    assert window.scheduler.methods.kind("liif") is Kind.BLOCKED
    still_works(qtbot, window)


def test_out_of_memory_shows_a_message_and_bicubic(qtbot, make_window, image_file):
    window = make_window(FakeProvider({"big": lambda: FakeMethod(oom=True)}), image_file, panels=["big"])
    window.view.zoom_to(10.0)
    qtbot.waitUntil(lambda: any("out of memory" in m.lower() for m in window.messages.messages()),
                    timeout=WAIT_MS)
    settle(qtbot, window)
    window.refresh()
    window.grab()
    panel = window.panels[0]
    assert "error" in panel.state.text()
    assert {k.method for k in panel.canvas.painted} == {"bicubic"}  # shown while the method fails
    still_works(qtbot, window)


def test_importing_a_file_that_is_not_a_checkpoint_explains_why(tmp_path):
    bad = tmp_path / "weights.pth"
    bad.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(CheckpointError, match="weights.pth"):
        install_official(str(bad), "liif")


def test_the_about_dialog_lists_papers_and_weight_status(qtbot):
    provider = FakeProvider({"liif": None, "fake": FakeMethod})
    dialog = AboutDialog(provider)
    qtbot.addWidget(dialog)
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert set(rows) == {"Bicubic", "LIIF", "FAKE"}
    assert rows["LIIF"] == "none: no trained weights shipped yet"
    assert rows["FAKE"] == "trained here: trained weights of unknown origin"
    assert "fake method" in dialog.table.item(2, 2).text()


def test_the_about_dialog_shows_the_shipped_weights_and_their_licences(qtbot):
    dialog = AboutDialog(RegistryProvider())
    qtbot.addWidget(dialog)
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert rows["LIIF"].startswith("official: the LIIF authors' EDSR-baseline weights, trained on DIV2K")
    notices = dialog.licences.toPlainText()
    assert "Copyright (c) 2020, Yinbo Chen" in notices and "Copyright (c) 2024, pifroggi" in notices
    assert "BSD 3-Clause License" in notices
    assert "MIT License" in notices and "# Third-party notices" in notices  # LICENSE, THIRD_PARTY_NOTICES.md
    assert "PySide6" in notices and "LGPL-3.0" in notices
