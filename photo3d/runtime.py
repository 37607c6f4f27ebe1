"""How photo3d uses the machine: worker threads, and the C allocator of the ``photo3d`` command."""

from __future__ import annotations

import ctypes
import os
import platform

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "num_workers", "tune_allocator"]

MMAP_THRESHOLD = 32 << 20
"""Bytes from which glibc serves an allocation with its own ``mmap`` (its default grows up to this)."""

TRIM_THRESHOLD = 1 << 30
"""Free bytes at the top of glibc's heap before it returns them to the system (its default: 64 MB at most)."""

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def num_workers() -> int:
    """The number of CPU cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def tune_allocator() -> bool:
    """Lets glibc keep freed memory for reuse instead of returning it to the system at once.

    Building an LDI allocates and frees hundreds of photo-sized arrays. With glibc's defaults,
    every array above 32 MB is a fresh ``mmap`` and the heap is trimmed as soon as 64 MB at its top are
    free, so most arrays land on new pages that the kernel must fault in and zero: at 12 MP
    that is 40 % of the LDI's time (5 s of system time). Serving arrays up to
    :data:`MMAP_THRESHOLD` from the heap and trimming it only beyond :data:`TRIM_THRESHOLD`
    reuses those pages (LDI + mesh at 12 MP: 10.1-11.4 s -> 8.3-8.7 s here). The price is
    up to :data:`TRIM_THRESHOLD` of freed memory kept by the process until it needs it again.
    The ``photo3d`` command calls this at start; a long-lived program may choose not to.

    Returns:
        True if the allocator was tuned; False where it is not glibc's (macOS, Windows, musl).

    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
