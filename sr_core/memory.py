"""How much memory the machine can still give, for refusing work that would exhaust it, and
keeping native libraries' own caches and free lists from holding memory the session no longer uses."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from sr_core import pixel_file

MEMINFO = Path("/proc/meminfo")


def available_bytes() -> int | None:
    """Memory available without swapping (Linux ``MemAvailable``; elsewhere half the physical
    memory), or None when the platform does not say."""
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, OSError, ValueError):
        return None


#: compiled convolution primitives oneDNN (torch's CPU convolutions) keeps, one per layer and
#: input shape. Its default, 1024, grew a zoom session by hundreds of MB (every size of encoded
#: piece is a new shape, about 140 KB each); 128 keeps the recent ones (re-creating one costs
#: about 1 ms). Measured with ``benchmarks.soak``.
CONV_PRIMITIVES = 128


def bound_native_caches() -> None:
    """Bound oneDNN's primitive cache (unless the environment sets it already). It is read when
    the process' first convolution runs: call this before."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(CONV_PRIMITIVES))


def release_freed_memory() -> None:
    """Return memory the C allocator keeps after it was freed (glibc keeps freed blocks of every
    thread's arena: a zoom session's freed activations stayed resident) to the system
    (``malloc_trim``; nothing where the C library has none), and the pages of mapped pixel
    files read so far (``pixel_file``)."""
    pixel_file.release_resident()
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return
    trim(0)
