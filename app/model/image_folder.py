"""The images of a folder in natural order, for next / previous browsing (no Qt).

The folder is listed again on every call, so files added or removed meanwhile are seen.
An image is a regular, non-hidden file whose extension the viewer opens (case-insensitive).
"""

from __future__ import annotations

import bisect
from pathlib import Path

from sr_core.imaging import IMAGE_SUFFIXES, list_images, natural_key

#: the file dialogs' filter
IMAGE_FILTER = f"Images ({' '.join('*' + e for e in IMAGE_SUFFIXES)});;All files (*)"


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
