"""The system libraries Qt's X11 (xcb) platform plugin needs on Linux, and which are missing.

Without one of them Qt aborts at start-up with "Could not load the Qt platform plugin "xcb""
and names at most one library, often one that is installed (``libxcb-cursor0``) while
``libxcb-icccm4`` or ``libxcb-keysyms1`` is what is missing. The viewer checks them first and
names every missing one with its Debian/Ubuntu package. No Qt here: this runs before Qt starts.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: shared library (as the plugin links it) → Debian/Ubuntu package
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libGL.so.1": "libgl1",
}


def uses_xcb(environ: os._Environ | dict[str, str] = os.environ) -> bool:
    """Whether Qt will pick the xcb plugin: on Linux, asked for or by default outside Wayland."""
    platform = environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or platform not in ("", "xcb"):
        return False
    return platform == "xcb" or not environ.get("WAYLAND_DISPLAY")


def missing_libraries() -> list[str]:
    """The xcb plugin's libraries that the system's loader cannot find."""
    missing = []
    for library in XCB_LIBRARIES:
        try:
            ctypes.CDLL(library)
        except OSError:
            missing.append(library)
    return missing


def missing_message(missing: list[str]) -> str:
    """What to tell the user (the install line names only the missing packages)."""
    packages = " ".join(XCB_LIBRARIES[lib] for lib in missing)
    return (f"Qt's X11 platform plugin (xcb) needs system libraries that are missing: "
            f"{', '.join(missing)}. On Debian or Ubuntu: sudo apt install {packages}")
