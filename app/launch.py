"""Build the window from the command-line options and run it (or the headless modes)."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QSplashScreen

from app.cli_options import DEFAULT_SIZE, SELFTEST_SIZE, ViewerOptions
from app.headless import screenshot, selftest
from app.main_window import MainWindow
from app.method_provider import GROUND_TRUTH, RegistryProvider
from app.qt_binding import BROKEN_BINDING, emit_keeps_references
from app.settings import Settings
from sr_core.paths import resources_dir


def demo_image() -> str:
    """The bundled demo photograph (Kodak image 8)."""
    return str(resources_dir() / "demo" / "kodim08.webp")


def launch(app: QApplication, opts: ViewerOptions, splash: QSplashScreen | None) -> int:
    """Show the window for ``opts``; the exit status."""
    provider = RegistryProvider()
    known = [*provider.names(), GROUND_TRUTH]
    unknown = [m for m in opts.panels or [] if m not in known]
    if unknown:
        print(f"error: unknown method(s) {', '.join(unknown)}; choose from {', '.join(known)}", file=sys.stderr)
        return 2
    settings = Settings.load()
    if opts.device:
        settings.device = opts.device
    window = MainWindow(provider, settings, persist=not opts.headless)
    size = opts.size or (SELFTEST_SIZE if opts.selftest else DEFAULT_SIZE if opts.headless else None)
    if size:  # overrides the restored geometry, maximised or not
        window.setWindowState(Qt.WindowState.WindowNoState)
        window.resize(*size)
    if opts.panels:
        window.set_panels(opts.panels)
    if opts.wipe:
        window.set_wipe(True)
    if opts.heatmap:
        window.set_heatmap(True)
    if opts.zoom is not None or opts.center is not None:
        window.set_pending_view(opts.zoom, opts.center)
    window.show()
    if not emit_keeps_references():
        window.messages.show_message("error", BROKEN_BINDING)
    if splash is not None:
        splash.finish(window)
    window.open_path(opts.image or demo_image(), gt_factor=opts.factor if opts.gt else None,
                     remember=opts.image is not None)
    if not opts.headless:
        return app.exec()
    code = selftest(window, opts.timeout) if opts.selftest else screenshot(window, opts.screenshot, opts.timeout)
    window.close()
    return code
