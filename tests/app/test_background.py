"""app.render.background: answers come back on the GUI thread, and none after shutdown."""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication

from app.render.background import Background


def test_an_answer_arrives_on_the_gui_thread(qtbot):
    background, got = Background(threads=1), []
    background.run(lambda: threading.get_ident(), lambda r: got.append((r, threading.get_ident())), got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    (worker, gui), = got
    assert gui == threading.get_ident() and worker != gui and not background.busy


def test_an_answer_queued_before_shutdown_is_dropped(qapp):
    """A window closed while a metrics task finished: the task had already queued its answer,
    which used to reach the closed window's scheduler (a RuntimeError from a deleted QTimer)."""
    background, got = Background(threads=1), []
    background.run(lambda: 1, got.append, got.append)
    background.run(lambda: 1 / 0, got.append, got.append)
    relays = list(background._relays)  # whatever keeps them alive (there, the finished task's wrapper)
    background.shutdown()  # both tasks are done and their answers are queued, not yet delivered
    QCoreApplication.processEvents()
    assert got == [] and not background.busy and len(relays) == 2
