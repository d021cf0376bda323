"""Glue ETL jobs of one account and region: definitions, runs, bookmarks."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GlueJobState:
    """GetJob-shaped job records by name, GetJobRun-shaped runs by job then run id,
    JobBookmarkEntry records by job name, and the live processes of running runs."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    bookmarks: dict[str, dict[str, Any]] = field(default_factory=dict)
    active: dict[str, Any] = field(default_factory=dict)
    """run id -> the ``JobRunProcess`` executing it (only while it runs)."""
