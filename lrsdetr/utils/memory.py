"""Inference scripts keep the memory they free (glibc's malloc): the same math, fewer page faults.

glibc serves large blocks (above a threshold it adapts, at most 32 MiB by default) with fresh mmap calls and unmaps
them when freed, so each activation map of every forward pass is faulted in page by page again: LRS-DETR-B's stem
output (26 MB at 640 px) took about 10 ms to write instead of 2. The two settings below (the same as
MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ in the environment) keep such blocks in the heap once freed; the
process then holds on to its peak memory until it exits, which suits a run of predictions, not training.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
HEAP_UP_TO = 1 << 30  # blocks below 1 GiB come from the heap, not from mmap
KEEP_UP_TO = (1 << 31) - 1  # free memory at the heap's top is given back only above this (the largest C int)


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks for reuse; True when it took both settings (False off glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # another C library (musl has no libc.so.6)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, HEAP_UP_TO) == 1 and mallopt(M_TRIM_THRESHOLD, KEEP_UP_TO) == 1
