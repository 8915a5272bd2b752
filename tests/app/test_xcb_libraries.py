"""Before Qt starts on X11, the viewer names every missing library of Qt's xcb plugin."""

from __future__ import annotations

import sys

import pytest

import app.main as app_main
from app import xcb_libraries
from app.xcb_libraries import missing_libraries, missing_message, uses_xcb


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb plugin is Linux's")
def test_xcb_is_used_on_x11_unless_another_platform_is_asked_for():
    assert uses_xcb({"DISPLAY": ":0"}) and uses_xcb({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "w"})
    assert not uses_xcb({"WAYLAND_DISPLAY": "wayland-0"})
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"})


def test_every_missing_library_is_named_with_its_package(monkeypatch):
    monkeypatch.setattr(xcb_libraries, "XCB_LIBRARIES", {"libc.so.6": "libc6", "libnope-xcb.so.7": "libnope7"})
    assert missing_libraries() == ["libnope-xcb.so.7"]
    assert missing_message(["libnope-xcb.so.7"]).endswith("sudo apt install libnope7")


def test_the_viewer_stops_with_the_missing_libraries_instead_of_a_qt_abort(monkeypatch, capsys):
    monkeypatch.setattr(app_main, "uses_xcb", lambda: True)
    monkeypatch.setattr(app_main, "missing_libraries", lambda: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert app_main.run([]) == 1
    err = capsys.readouterr().err
    assert "libxcb-icccm.so.4" in err and "sudo apt install libxcb-icccm4 libxcb-keysyms1" in err
