"""The images of a folder in natural order, for next / previous browsing (no Qt).

The folder is listed again on every call, so files added or removed meanwhile are seen.
An image is a regular, non-hidden file whose extension the viewer opens (case-insensitive).
"""

from __future__ import annotations

import bisect
import os
import re
from pathlib import Path

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif")
#: the file dialogs' filter
IMAGE_FILTER = f"Images ({' '.join('*' + e for e in IMAGE_EXTENSIONS)});;All files (*)"

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key: case-insensitive, runs of digits compared as numbers ("img2" before "img10")."""
    parts = _DIGITS.split(name.casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), name


def list_images(folder: Path) -> list[Path]:
    """The folder's images in natural order; empty when the folder cannot be read."""
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if not e.name.startswith(".")
                     and os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS and e.is_file()]
    except OSError:
        return []
    return [folder / name for name in sorted(names, key=natural_key)]


def neighbour(path: Path, step: int) -> Path | None:
    """The image ``step`` (±1) places from ``path`` in its folder, wrapping around at the ends.

    ``path`` need not be listed (any more): it is placed among the others by its name. None when
    the folder holds no other image.
    """
    others = [p for p in list_images(path.parent) if p.name != path.name]
    if not others:
        return None
    after = bisect.bisect_left([natural_key(p.name) for p in others], natural_key(path.name))
    index = after + step - 1 if step > 0 else after + step
    return others[index % len(others)]


def position(path: Path) -> tuple[int, int] | None:
    """``(index from 1, count)`` of ``path`` among its folder's images; None if it is not one."""
    names = [p.name for p in list_images(path.parent)]
    return (names.index(path.name) + 1, len(names)) if path.name in names else None
