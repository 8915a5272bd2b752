"""Short CPU work off the GUI thread (decoding, metrics, weight imports); answers on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class _Relay(QObject):
    """Lives on the GUI thread and calls back there when its task ends."""

    _succeeded = Signal(object)
    _raised = Signal(object)

    def __init__(self, owner: Background, done: Callable[[Any], None],
                 failed: Callable[[Exception], None]) -> None:
        super().__init__()
        self._owner, self._done, self._failed = owner, done, failed
        self._succeeded.connect(self._on_done)
        self._raised.connect(self._on_failed)

    def _claim(self) -> bool:
        """Whether the answer is still wanted: not after ``Background.shutdown``, even when the
        task had already queued it (its owner may be gone by the time the queue is processed)."""
        if self not in self._owner._relays:
            return False
        self._owner._relays.discard(self)
        return True

    @Slot(object)
    def _on_done(self, result: object) -> None:
        if self._claim():
            self._done(result)

    @Slot(object)
    def _on_failed(self, err: object) -> None:
        if self._claim():
            self._failed(err)  # type: ignore[arg-type]


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn, self._relay = fn, relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as err:  # noqa: BLE001 - handed to the failure callback
            self._relay._raised.emit(err)
            return
        self._relay._succeeded.emit(result)


class Background:
    """A small thread pool; ``run(fn, done, failed)`` calls ``done(fn())`` on the GUI thread."""

    def __init__(self, threads: int = 2) -> None:
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(threads)
        self._relays: set[_Relay] = set()

    def run(self, fn: Callable[[], Any], done: Callable[[Any], None],
            failed: Callable[[Exception], None]) -> None:
        relay = _Relay(self, done, failed)
        self._relays.add(relay)
        self._pool.start(_Task(fn, relay))

    @property
    def busy(self) -> bool:
        return bool(self._relays)

    def shutdown(self) -> None:
        """Wait for running tasks; their answers are dropped."""
        self._pool.clear()
        self._pool.waitForDone()
        self._relays.clear()
