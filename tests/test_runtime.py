"""photo3d.runtime: worker count, and glibc's allocator keeping freed photo-sized arrays for reuse."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from photo3d.runtime import num_workers

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Allocates a 16 MB array and reports where glibc put it (mallinfo2: hblkhd = bytes in mmapped chunks, uordblks =
# bytes in use in the heap) and how much free memory the heap keeps after it is freed.
_CHILD = """
import ctypes, sys
import numpy as np
from photo3d.runtime import tune_allocator

class MallInfo2(ctypes.Structure):
    names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
    _fields_ = [(name, ctypes.c_size_t) for name in names.split()]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
tuned = tune_allocator() if sys.argv[1] == "tuned" else None
before = libc.mallinfo2()
a = np.ones(16 << 20, np.uint8)
during = libc.mallinfo2()
del a
after = libc.mallinfo2()
print(tuned, during.hblkhd - before.hblkhd, during.uordblks - before.uordblks, after.fordblks)
"""


def test_num_workers_is_the_usable_cores():
    n = num_workers()
    assert 1 <= n <= (os.cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        assert n == len(os.sched_getaffinity(0))


@pytest.mark.skipif(not GLIBC, reason="the allocator is tuned on glibc only")
def test_the_tuned_allocator_serves_a_16_mb_array_from_the_heap_and_keeps_it():
    def run(mode: str) -> list[str]:
        out = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True, text=True, check=True)
        return out.stdout.split()

    tuned, mapped, heap, kept = run("tuned")
    assert tuned == "True"
    assert int(mapped) == 0 and int(heap) >= 16 << 20
    assert int(kept) >= 16 << 20  # freed, not returned to the system
    # glibc's defaults (mmap threshold 128 KiB at start): the same array is a fresh mmap, unmapped when freed.
    _, mapped, heap, kept = run("default")
    assert int(mapped) >= 16 << 20 and int(heap) < 16 << 20
