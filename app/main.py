"""Start the viewer: ``run(args)`` is what ``python main.py [args]`` calls.

Only light modules are imported here, so that a splash screen is up before PyTorch loads
(which takes seconds on a cold start); :mod:`app.launch` does the rest.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QMessageLogContext, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QSplashScreen

from app import error_hook
from app.cli_options import ViewerOptions, parse_options
from app.ui import theme
from app.ui.icons import app_icon
from app.xcb_libraries import missing_libraries, missing_message, uses_xcb
from sr_core.logs import setup_logging, unexpected


def _quiet_offscreen(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's messages, minus the offscreen platform's note that it cannot resize windows."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def _splash() -> QSplashScreen:
    splash = QSplashScreen(app_icon().pixmap(256, 256))
    splash.showMessage("Starting ZoomSR…", Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter,
                       QColor(theme.TEXT))
    splash.show()
    QApplication.processEvents()
    return splash


def run(args: list[str]) -> int:
    """Open the window (or run offscreen for ``--screenshot``/``--selftest``); the exit status."""
    try:
        opts = parse_options(args)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    setup_logging()
    error_hook.install()
    try:
        return _start(opts)
    except Exception as err:  # noqa: BLE001 - one line for the user, the traceback in the log
        print(f"error: {unexpected(err, 'the viewer failed')}", file=sys.stderr)
        return 1


def _start(opts: ViewerOptions) -> int:
    if opts.headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        qInstallMessageHandler(_quiet_offscreen)
    elif uses_xcb() and (missing := missing_libraries()):  # else Qt aborts naming one, maybe wrongly
        print(f"error: {missing_message(missing)}", file=sys.stderr)
        return 1
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("ZoomSR")
    app.setDesktopFileName("zoomsr")  # lets Wayland match the window to zoomsr.desktop's icon
    app.setWindowIcon(app_icon())
    theme.apply_theme(app)
    splash = None if opts.headless else _splash()
    from app.launch import launch  # the heavy part: PyTorch and the models

    return launch(app, opts, splash)
