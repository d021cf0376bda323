"""Returning a process's freed heap memory to the system."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def give_back_freed_memory() -> None:
    """Return the heap's free pages to the system (glibc ``malloc_trim``; a no-op elsewhere).
    glibc keeps freed blocks below its (self-raising, up to 32 MiB) mmap threshold in the
    heap, so after a step that freed column- or file-sized buffers the process still counts
    them; a few milliseconds here gives them back before the next step allocates."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
