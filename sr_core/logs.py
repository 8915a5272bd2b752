"""The log file: tracebacks go there, users get one line that points to it.

``$ZOOMSR_LOG_DIR`` overrides the per-user log folder (tests use it so that nothing is
written to the home folder). A log that cannot be written never stops the program.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs

LOGGER = "zoomsr"
FILE_NAME = "zoomsr.log"
MAX_BYTES = 1_000_000
BACKUPS = 3

log = logging.getLogger(LOGGER)


def log_dir() -> Path:
    """``$ZOOMSR_LOG_DIR``, else the per-user log folder (``platformdirs.user_log_dir``)."""
    override = os.environ.get("ZOOMSR_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir("ZoomSR"))


def log_path() -> Path:
    """The current log file."""
    return log_dir() / FILE_NAME


def setup_logging() -> Path | None:
    """Send the ``zoomsr`` logger to the rotating log file (once); the file, or None if unwritable."""
    path = log_path()
    for handler in list(log.handlers):
        if isinstance(handler, RotatingFileHandler):
            if Path(handler.baseFilename) == path.absolute():
                return path
            log.removeHandler(handler)  # the folder was changed (tests)
            handler.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return path


def unexpected(err: BaseException, context: str) -> str:
    """Log ``err``'s traceback; the one line to show the user, naming the log file."""
    path = setup_logging()
    log.error("%s", context, exc_info=(type(err), err, err.__traceback__))
    detail = (str(err).strip().splitlines() or [""])[0][:200]
    where = f"; details in {path}" if path is not None else ""
    return f"{context}: {type(err).__name__}{': ' + detail if detail else ''}{where}"
