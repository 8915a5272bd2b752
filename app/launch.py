"""Build the window from the command-line options and run it (or the headless modes)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QSplashScreen

from app import error_hook
from app.cli_options import DEFAULT_SIZE, SELFTEST_SIZE, ViewerOptions
from app.headless import screenshot, selftest
from app.model.method_provider import GROUND_TRUTH, RegistryProvider
from app.model.settings import AUTO_DEVICE, Settings
from app.qt_binding import BROKEN_BINDING, emit_keeps_references
from app.ui.main_window import MainWindow
from sr_core.devices import available_devices
from sr_core.outputs import OutputError, check_output_file
from sr_core.paths import resources_dir


def demo_image() -> str:
    """The bundled demo photograph (Kodak image 8)."""
    return str(resources_dir() / "demo" / "kodim08.webp")


def launch(app: QApplication, opts: ViewerOptions, splash: QSplashScreen | None) -> int:
    """Show the window for ``opts``; the exit status."""
    provider = RegistryProvider()
    error = _option_error(opts, [*provider.names(), GROUND_TRUTH])
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    settings = Settings.load()
    if opts.device:
        settings.device = opts.device
    window = MainWindow(provider, settings, persist=not opts.headless)

    def show_error(line: str) -> None:
        window.messages.show_message("error", line)

    error_hook.install(show_error)
    try:
        return _run(app, window, opts, splash)
    finally:
        error_hook.uninstall(show_error)


def _option_error(opts: ViewerOptions, known: list[str]) -> str | None:
    """What is wrong with options that need the methods, devices or file system to check."""
    unknown = [m for m in opts.panels or [] if m not in known]
    if unknown:
        return f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(known)}"
    devices = [AUTO_DEVICE, *available_devices()]
    if opts.device and opts.device not in devices:
        return f"device {opts.device!r} is not available here; choose from {', '.join(devices)}"
    if opts.screenshot:
        try:
            check_output_file(Path(opts.screenshot), [Path(opts.image)] if opts.image else [])
        except OutputError as err:
            return str(err)
    return None


def _run(app: QApplication, window: MainWindow, opts: ViewerOptions, splash: QSplashScreen | None) -> int:
    """Size and fill the window as ``opts`` say, then run it (or the headless mode); the exit status."""
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
