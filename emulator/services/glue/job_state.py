"""Glue ETL jobs of one account and region: definitions, runs, bookmarks."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from emulator.persistence.interrupted import end_interrupted


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

    transient_fields = ("active",)

    def after_restart(self, account_id: str, region: str) -> None:
        """--data-dir restart: runs cut off by the restart end FAILED (STOPPED if being stopped)."""
        for runs in self.runs.values():
            end_interrupted(runs.values(), "JobRunState", ("STARTING", "RUNNING", "STOPPING", "WAITING"), "STOPPING",
                            "STOPPED", "FAILED", "ErrorMessage", ("CompletedOn", "LastModifiedOn"))
