"""Exceptions that escape a slot: logged with their traceback, shown as one line, never passed
on to Qt (which may abort the process on them)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from types import TracebackType

from sr_core.logs import unexpected

#: where the one-line message goes besides stderr (the window's message bar, once it exists)
_listeners: list[Callable[[str], None]] = []


def report(err: BaseException) -> None:
    """Log ``err`` and tell the user in one line (stderr and the message bar)."""
    line = unexpected(err, "Unexpected error")
    print(f"error: {line}", file=sys.stderr)
    for show in list(_listeners):
        with contextlib.suppress(Exception):  # a dying window must not hide the first error
            show(line)


def _hook(kind: type[BaseException], err: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, err, tb)
        return
    report(err.with_traceback(tb))


def install(show: Callable[[str], None] | None = None) -> None:
    """Route uncaught exceptions (PySide hands a slot's to ``sys.excepthook``) to :func:`report`;
    ``show`` also receives the line (e.g. ``lambda line: bar.show_message("error", line)``)."""
    if sys.excepthook in (sys.__excepthook__, _hook):  # not over a debugger's or test harness's
        sys.excepthook = _hook
    if show is not None:
        _listeners.append(show)


def uninstall(show: Callable[[str], None]) -> None:
    """Stop sending lines to ``show`` (its window is closing)."""
    if show in _listeners:
        _listeners.remove(show)
