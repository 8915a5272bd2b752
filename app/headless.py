"""Offscreen runs: ``--screenshot`` (save the window once every tile is final) and ``--selftest``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from app.qt_binding import BROKEN_BINDING, emit_keeps_references
from app.ui.main_window import MainWindow
from sr_core import pixel_file

POLL_MS = 20


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    """Run the event loop until ``predicate()`` holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        loop = QEventLoop()
        QTimer.singleShot(POLL_MS, loop.quit)
        loop.exec()
    return True


def wait_until_final(window: MainWindow, timeout: float) -> bool:
    """Wait for the document and for every panel's final tiles and metrics."""
    return wait_for(lambda: not window.loading and (window.doc is None or window.scheduler.is_settled()),
                    timeout)


def _load_error(window: MainWindow, timeout: float) -> str:
    if window.loading:
        return f"timed out after {timeout:g} s while opening the image"
    return "; ".join(window.messages.messages()) or "the image could not be opened"


def _fail(text: str) -> None:
    print(text, file=sys.stderr)


def screenshot(window: MainWindow, path: str, timeout: float) -> int:
    """Save the window as ``path`` after all visible tiles are final; non-zero on failure."""
    final = wait_until_final(window, timeout)
    if window.doc is None:
        _fail(f"error: {_load_error(window, timeout)}")
        return 1
    window.refresh()
    QApplication.processEvents()  # let the labels' new texts resize them
    image = window.grab().toImage()
    if not image.save(path):
        _fail(f"error: could not write {path}")
        return 1
    if not final:
        _fail(f"warning: timed out after {timeout:g} s; {path} shows tiles still refining")
        return 1
    print(f"wrote {path} ({image.width()}×{image.height()})")
    return 0


def selftest(window: MainWindow, timeout: float) -> int:
    """Render one frame with every available method; print one line per method.

    A method is skipped only when no weights ship for it by design; one whose shipped weights
    are missing or cannot be loaded fails the test (``MethodStatus.broken``)."""
    if not emit_keeps_references():
        _fail(f"selftest: FAILED: {BROKEN_BINDING}")
        return 1
    if not wait_until_final(window, timeout) or window.doc is None:
        _fail(f"selftest: FAILED: {_load_error(window, timeout)}")
        return 1
    provider, failures, passed = window.provider, 0, 0
    window.view.zoom_to(2.0)
    for name in provider.names():
        status = provider.status(name)
        if status.broken:
            failures += 1
            print(f"{name:<9} FAILED: {status.reason}")
            continue
        if not status.available:
            print(f"{name:<9} skipped: {status.reason}")
            continue
        window.set_panels([name])
        start = time.perf_counter()
        final = wait_until_final(window, timeout)
        window.grab()
        panel = window.panels[0]
        layer_status = window.scheduler.status(panel.canvas.layers()[0])
        error = window.scheduler.methods.method_errors.get(name) or layer_status.message
        if final and not error and panel.canvas.painted:
            passed += 1
            w, h = panel.canvas.viewport()
            print(f"{name:<9} ok: {w}×{h} px frame, {len(panel.canvas.painted)} tiles, "
                  f"{time.perf_counter() - start:.2f} s")
        else:
            failures += 1
            print(f"{name:<9} FAILED: {error or 'timed out' if not final else error or 'nothing drawn'}")
    try:
        print(f"{'photos':<9} ok: very large JPEGs decoded into a mapped file by {pixel_file.self_check()}")
    except RuntimeError as exc:
        failures += 1
        print(f"{'photos':<9} FAILED: {exc}")
    if failures or not passed:
        print(f"selftest: FAILED ({failures} method(s) failed, {passed} passed)")
        return 1
    print(f"selftest: ok ({passed} method(s) rendered)")
    return 0
