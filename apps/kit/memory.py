"""Large buffers go back to the system when freed.

glibc serves an allocation above its mmap threshold from a mapping of its own and
unmaps it on free, but it also raises the threshold to the size of every such block
freed. After the first argon2 hash (a 12 MiB buffer), later ones come from a heap
arena and stay resident once freed: one buffer for every thread that ever hashed.
Fixing the threshold at glibc's default keeps every large buffer in its own mapping."""

from __future__ import annotations

import ctypes

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number, glibc's malloc.h
_DEFAULT_THRESHOLD = 128 * 1024


def return_large_buffers() -> bool:
    """Fix the C library's mmap threshold; False where it is not glibc's malloc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _DEFAULT_THRESHOLD) == 1)
