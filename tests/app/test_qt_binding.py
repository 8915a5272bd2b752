"""The installed Qt binding keeps Python's reference counts (PySide6 6.12.0 does not)."""

from __future__ import annotations

import sys

from app.qt_binding import emit_keeps_references


def test_signal_emit_keeps_reference_counts(qapp):
    before = sys.getrefcount(True)
    assert emit_keeps_references(emits=500), "this PySide6 drops a reference to True on every emit"
    assert sys.getrefcount(True) >= before
