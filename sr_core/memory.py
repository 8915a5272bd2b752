"""How much memory the machine can still give, for refusing work that would exhaust it;
keeping native libraries' own caches and free lists from holding memory the session no longer
uses; and letting the C allocator reuse what a render freed while the renders go on."""

from __future__ import annotations

import ctypes
import functools
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


#: glibc's ``mallopt`` parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: Blocks up to this size come from the heap, not from fresh mappings: glibc's largest allowed
#: value on 64-bit systems. Its default starts at 128 KB and follows the largest block freed.
MMAP_THRESHOLD = 32 << 20
#: Freed memory at the heap's top is kept up to this much (glibc's default: twice the
#: threshold above, so freeing two of CLIT's 26 MB window products gave them back).
TRIM_THRESHOLD = 256 << 20
#: environment variables with which a user sets glibc's allocator; their choice is kept
ALLOCATOR_VARIABLES = ("GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


def keep_freed_blocks() -> bool:
    """Let glibc reuse the blocks a render frees instead of returning them to the system.

    A chunk's multi-megabyte temporaries (activations, CLIT's window products) otherwise came
    from fresh pages that the kernel faults in and zeroes on first touch: 54 K page faults in a
    192² LIIF render, 200 K in LTE's, 20–55 % of a bfloat16 tile's CPU time
    (``docs/BENCHMARKS.md``). The render worker gives the kept memory back when its queue is
    done (:func:`release_freed_memory`). True when applied; False elsewhere than glibc or where
    the environment sets the allocator already."""
    libc = glibc()
    if libc is None or any(name in os.environ for name in ALLOCATOR_VARIABLES):
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


@functools.cache
def glibc() -> ctypes.CDLL | None:
    """The process' C library when it is glibc (musl's ``mallopt`` accepts and ignores
    everything), else None. Loaded once."""
    try:
        libc = ctypes.CDLL(None)
    except (OSError, TypeError):
        return None
    return libc if all(hasattr(libc, f) for f in ("gnu_get_libc_version", "mallopt", "malloc_trim")) else None


def release_freed_memory() -> None:
    """Return memory the C allocator keeps after it was freed (glibc keeps freed blocks of every
    thread's arena: a zoom session's freed activations stayed resident) to the system
    (``malloc_trim``; glibc only), and the pages of mapped pixel files read so far
    (``pixel_file``)."""
    pixel_file.release_resident()
    libc = glibc()
    if libc is not None:
        libc.malloc_trim(0)
