"""Replaces PyInstaller's hook for PySide6.QtGui: the same collection, minus Qt plugins a
desktop image viewer never loads (the spec passes this folder as ``hookspath``, and hooks found
there take precedence over PyInstaller's own).

Dropping a plugin here, before the binary dependency analysis, also keeps out the system
libraries only it needs. The important one is the GTK3 platform theme: it would drag the build
machine's cairo/pango/gdk-pixbuf/gio into the bundle and, on a GNOME desktop, load them next to
the host's newer libgtk-3 (a known source of symbol-lookup crashes in frozen Qt apps). Without
it Qt falls back to its own style; ZoomSR sets its own theme anyway, and file dialogs still go
through the XDG desktop portal where there is one.
"""

import os

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)

#: plugin sub-folder → file-name prefixes to leave out ("" = the whole folder)
DROP_PLUGINS = {
    "platformthemes": ("libqgtk3",),
    # embedded-device platforms and their input/EGL back ends
    "platforms": ("libqeglfs", "libqlinuxfb", "libqvnc", "libqminimalegl", "libqvkkhrdisplay"),
    "egldeviceintegrations": ("",),
    "generic": ("",),
}


def _dropped(dest: str, src: str) -> bool:
    parts = dest.replace("\\", "/").split("/")
    folder = parts[-1]
    name = os.path.basename(src)
    return folder in DROP_PLUGINS and any(name.startswith(p) for p in DROP_PLUGINS[folder])


binaries = [(src, dest) for src, dest in binaries if not _dropped(dest, src)]
