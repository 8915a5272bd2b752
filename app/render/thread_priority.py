"""Run a worker's threads below the GUI thread, so that input is painted at once while the
cores are busy rendering (issue 30: input-to-paint latency while tiles arrive)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

from PySide6.QtCore import QThread

#: nice steps below the GUI thread for the model worker's threads (Linux; elsewhere Qt's LowPriority)
BACKGROUND_NICE = 5


def run_in_background(nice: int = BACKGROUND_NICE) -> None:
    """Lower the calling thread's priority by ``nice`` steps (call it first thing in the worker's
    thread, which started at the GUI thread's).

    On Linux ``setpriority`` acts on one thread, and the threads it starts later inherit it:
    call this before the thread's first parallel torch loop, which creates its OpenMP helpers.
    Elsewhere Qt sets the thread's priority (Windows: below normal). Refused (a sandbox, a
    container's limits): the thread keeps the normal priority.
    """
    if sys.platform.startswith("linux"):
        tid = threading.get_native_id()
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
        return
    thread = QThread.currentThread()
    if thread is not None:
        thread.setPriority(QThread.Priority.LowPriority)
