"""Returning a process's freed heap memory, and pages of file maps it no longer needs, to the system."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import mmap
from typing import Any

import numpy as np
import pandas as pd


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


def release_mapped(*values: Any) -> None:
    """Let go of the resident pages of read-only file maps that ``values`` (NumPy arrays,
    pandas columns or frames) view: they stay valid and are read again from the page cache
    on next use, but stop counting in this process's memory meanwhile (``MADV_DONTNEED``
    on a shared read-only file map drops only this process's page mappings). Values not
    backed by a read-only map are left alone."""
    for value in values:
        for array in _arrays(value):
            base: Any = array
            while base is not None:
                if isinstance(base, mmap.mmap):
                    if not base.closed and base.madvise is not None:
                        _dontneed(base)
                    break
                if isinstance(base, np.memmap) and base.mode == "r" and getattr(base, "_mmap", None) is not None:
                    _dontneed(base._mmap)
                    break
                base = getattr(base, "base", None)


def _dontneed(mapped: mmap.mmap) -> None:
    try:
        mapped.madvise(mmap.MADV_DONTNEED)
    except (OSError, ValueError):  # closed meanwhile, or a platform without it
        pass


def _arrays(value: Any) -> list[np.ndarray]:
    if isinstance(value, pd.DataFrame):
        return [array for name in value.columns for array in _arrays(value[name])]
    if isinstance(value, pd.Series):
        value = value.array
    if isinstance(value, pd.Categorical):
        return [np.asarray(value.codes)]
    if hasattr(value, "_ndarray"):  # pandas' NumPy-backed extension arrays
        value = value._ndarray
    return [value] if isinstance(value, np.ndarray) else []
