"""The viewer and bad input: hostile checkpoints, crafted file names, errors escaping slots."""

from __future__ import annotations

import json
import sys

import pytest
import torch
from app_fakes import FakeProvider
from PySide6.QtCore import QTimer
from PySide6.QtGui import QTextDocument
from safetensors.torch import save_file

from app import error_hook
from app.model.method_provider import RegistryProvider
from app.ui.dialogs.about_dialog import AboutDialog
from sr_core import checkpoints
from sr_core.logs import log_path


def bad_checkpoints(folder) -> None:
    """One unusable file per method, each broken differently."""
    def write(name, meta):
        save_file({"x": torch.zeros(1)}, str(folder / f"{name}.safetensors"),
                  metadata={"zoomsr": json.dumps(meta)})

    good = {"format": checkpoints.FORMAT, "arch": "liif", "method": "liif", "trained": True, "config": {}}
    write("liif", [1, 2])
    write("clit", {**good, "arch": ["clit"]})
    write("diif", {**good, "arch": {"a": 1}})
    write("cisrgan", {**good, "config": {"hidden": [40000, 40000]}})
    write("ultrasr", {**good, "arch": "ultrasr", "trained": "no"})
    write("lte", good)  # LIIF's metadata under LTE's name
    (folder / "ipe.safetensors").write_bytes(b"\0" * 64)


def test_the_viewer_survives_any_file_in_the_user_checkpoint_folder(user_checkpoints, make_window, image_file):
    bad_checkpoints(user_checkpoints)
    provider = RegistryProvider()
    window = make_window(provider, image_file)
    for name in ("liif", "clit", "diif", "cisrgan", "ultrasr", "lte", "ipe"):
        status = provider.status(name)
        assert not status.available and f"{name}.safetensors" in status.reason, name
    assert "JSON list" in provider.status("liif").reason
    assert "hidden" in provider.status("cisrgan").reason
    assert "trained" in provider.status("ultrasr").reason
    window.set_panel_count(0)  # every method in a panel: the weightless ones render
    dialog = AboutDialog(provider)
    dialog.deleteLater()


def test_message_text_is_plain_text(make_window):
    window = make_window(FakeProvider({}))
    name = '<b style="color:#000; font-size:1px">evil</b>.png'
    window.messages.show_message("error", f"{name}: not a recognised image format")
    label = window.messages._label
    assert label.textFormat().name == "PlainText" and name in label.text()
    shown = QTextDocument()
    shown.setHtml(window.messages.toolTip())  # how Qt renders the tooltip
    assert shown.toPlainText() == f"{name}: not a recognised image format"


def test_the_about_dialog_names_the_log_file(qtbot):
    dialog = AboutDialog(FakeProvider({}))
    qtbot.addWidget(dialog)
    assert str(log_path()) in dialog.log_label.text()


def test_an_exception_in_a_slot_is_logged_and_shown_in_one_line(make_window, qtbot, monkeypatch, capsys):
    window = make_window(FakeProvider({}))
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)  # as outside pytest-qt

    def show(line: str) -> None:
        window.messages.show_message("error", line)

    error_hook.install(show)
    try:
        def slot() -> None:
            raise RuntimeError("a bug in a slot")

        QTimer.singleShot(0, slot)
        qtbot.waitUntil(lambda: bool(window.messages.messages()), timeout=5000)
    finally:
        error_hook.uninstall(show)
    line = window.messages.messages()[-1]
    assert "RuntimeError: a bug in a slot" in line and str(log_path()) in line and "\n" not in line
    assert "a bug in a slot" in capsys.readouterr().err
    assert "Traceback" in log_path().read_text(encoding="utf-8")


@pytest.mark.parametrize("args", [["--device", "bogus"], ["--device", "cuda:7"]])
def test_an_unavailable_device_is_refused(args, capsys):
    import app.main as app_main

    assert app_main.run([*args, "--screenshot", "never.png"]) == 2
    assert "not available" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["missing/view.png", "small.png", "/proc/view.png"])
def test_an_export_destination_is_checked_before_rendering(make_window, image_file, tmp_path, target):
    from app.model.export_plan import ExportError
    from app.ui.dialogs.export_dialog import ALL, ExportRequest

    window = make_window(FakeProvider({}), image_file)  # image_file is tmp_path / "small.png"
    with pytest.raises(ExportError, match="does not exist|is an input|cannot write"):
        window.exporter.export_items(ExportRequest(ALL, None, 1.0, str(tmp_path / target)))
    assert image_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_image_too_large_for_the_free_memory_is_refused_from_its_header(make_window, image_file, qtbot,
                                                                           monkeypatch):
    monkeypatch.setattr("app.model.document.available_bytes", lambda: 48 * 64 * 10)  # small.png is 64×48
    window = make_window(FakeProvider({}))
    window.open_path(str(image_file))
    qtbot.waitUntil(lambda: not window.loading, timeout=5000)
    assert window.doc is None
    assert "needs about" in window.messages.messages()[-1]


def test_an_unexpected_failure_to_open_is_one_line_naming_the_log(make_window, image_file, qtbot, monkeypatch):
    def no_memory(path):
        raise MemoryError()

    monkeypatch.setattr("app.ui.opener.open_document", no_memory)
    window = make_window(FakeProvider({}))
    window.open_path(str(image_file))
    qtbot.waitUntil(lambda: not window.loading, timeout=5000)
    line = window.messages.messages()[-1]
    assert line.startswith("Could not open the image: MemoryError") and str(log_path()) in line
