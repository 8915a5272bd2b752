"""A check of the Qt binding the viewer stands on.

PySide6 6.12.0 returns ``True`` from ``Signal.emit()`` without taking a reference to it. On
Python 3.10/3.11 every emit then lowers True's reference count by one, and after some
thousands of emits (a few minutes of zooming: render progress is a signal) the interpreter
aborts with "bool_dealloc: deallocating True or False". pyproject.toml excludes that version;
this check catches it anyway (a hand-installed binding, a frozen build) before the user loses work.
"""

from __future__ import annotations

import sys

import PySide6
from PySide6.QtCore import QObject, Signal

#: what the window and the self-test say when the check fails
BROKEN_BINDING = (f"PySide6 {PySide6.__version__} loses a reference on every Qt signal and will crash "
                  "ZoomSR after a while. Install another version: pip install 'PySide6-Essentials!=6.12.0'.")


class _Probe(QObject):
    ping = Signal()


def emit_keeps_references(emits: int = 10) -> bool:
    """Whether ``Signal.emit()`` leaves Python's reference counts as they were."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(emits):
        probe.ping.emit()
    return sys.getrefcount(True) >= before
