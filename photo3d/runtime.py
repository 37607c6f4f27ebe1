"""How photo3d uses the machine: worker threads, the torch device, and the C allocator of the ``photo3d`` command."""

from __future__ import annotations

import ctypes
import os
import platform
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .errors import SettingsError

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "map_threads", "num_workers", "select_device", "tune_allocator"]

T = TypeVar("T")
R = TypeVar("R")

MMAP_THRESHOLD = 32 << 20
"""Allocations above this many bytes get an ``mmap`` of their own: glibc's upper limit for its threshold,
which by default starts at 128 KiB and grows towards this as large blocks are freed."""

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


def map_threads(fn: Callable[[T], R], items: Iterable[T], name: str = "photo3d") -> list[R]:
    """``[fn(item) for item in items]``, on a thread per CPU core.

    Worth it where ``fn`` spends its time in code that releases the GIL (numpy on large
    arrays, OpenCV, ``nogil`` numba kernels). With one core or one item it runs in the
    calling thread.

    Args:
        fn: Safe to run on several items at once.
        items: Its arguments.
        name: Name prefix of the worker threads.

    Returns:
        The results, in the order of ``items``.

    Raises:
        Exception: The first exception ``fn`` raised, in item order (after every item has run).

    """
    items = list(items)
    workers = min(num_workers(), len(items))
    if workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(workers, thread_name_prefix=name) as pool:
        futures = [pool.submit(fn, item) for item in items]
    return [future.result() for future in futures]


def tune_allocator() -> bool:
    """Lets glibc keep freed memory for reuse instead of returning it to the system at once.

    Building an LDI allocates and frees hundreds of photo-sized arrays. With glibc's
    defaults, an array above the mmap threshold is a fresh ``mmap``, and the heap is
    trimmed as soon as twice that threshold is free at its top, so many arrays land on
    new pages that the kernel must fault in and zero: at 12 MP, 3.4-6 s of system time in
    an LDI + mesh of 9-16 s. Fixing the threshold at :data:`MMAP_THRESHOLD` (a 12 MP mask or
    one-channel 8-bit map fits under it; RGB and float32 ones stay mmaps) and trimming only beyond
    :data:`TRIM_THRESHOLD` reuses those pages: 3.0-3.4 s of system time, 8.9-9.6 s in all,
    in alternating runs here. The price is up to :data:`TRIM_THRESHOLD` of freed memory
    kept by the process until it needs it again. The ``photo3d`` command calls this at
    start; a long-lived program may choose not to.

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


def select_device(device: str | None = None) -> str:
    """The torch device to run on: ``device`` if given, else CUDA, then MPS, then CPU.

    Raises:
        Photo3DError: If the asked device is not available.

    """
    import torch

    if device is None:
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SettingsError("device", f"{device}: no CUDA GPU is available to torch")
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise SettingsError("device", "mps: Apple's Metal backend is not available to torch")
    if device not in ("cpu", "mps") and not device.startswith("cuda"):
        raise SettingsError("device", f"must be cpu, cuda, cuda:N or mps, got {device!r}")
    return device
