"""Checking where a file will be written before the work that produces it starts."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

#: what ``files.atomic_target`` adds to a name for its temporary file (".NAME.<32 hex>.tmp")
_TEMP_EXTRA = 1 + 1 + 32 + 4


class OutputError(ValueError):
    """A destination that cannot be written, with a one-line reason."""


def check_folder(folder: Path, *, create: bool = False) -> None:
    """``folder`` exists (or, with ``create``, is made) and takes new files."""
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(f"{folder}: the output folder cannot be made ({err.strerror or err})") from None
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OutputError(f"{folder}: the output folder {what}")
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".zoomsr-probe-"):
            pass
    except OSError as err:
        raise OutputError(f"{folder}: cannot write into this folder ({err.strerror or err})") from None


def check_output_file(path: Path, inputs: Sequence[Path] = ()) -> None:
    """``path`` can be written as a new or replaced regular file, and is none of ``inputs``."""
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise OutputError(f"{path}: is {kind}; give a file name to write")
    folder = path.parent
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX") if folder.is_dir() else 255
    except (OSError, ValueError):
        limit = 255
    if len(os.fsencode(path.name)) + _TEMP_EXTRA > limit:
        raise OutputError(f"{path.name[:40]}…: the file name is too long (at most "
                          f"{limit - _TEMP_EXTRA} bytes)")
    for source in inputs:
        if _same_file(path, source):
            raise OutputError(f"{path}: is an input; writing it would replace the original")
    check_folder(folder)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()
