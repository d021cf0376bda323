"""How many CPU cores this process may use (engines size their threads and parts by it)."""

from __future__ import annotations

import os


def available_cores() -> int:
    """The cores this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
