"""Glue ETL jobs of one account and region: definitions, runs, bookmarks."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
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

    transient_fields = ("active",)

    def after_restart(self, account_id: str, region: str) -> None:
        """--data-dir restart: runs cut off by the restart end FAILED (STOPPED if being stopped)."""
        now = datetime.now(timezone.utc)
        for runs in self.runs.values():
            for run in runs.values():
                if run.get("JobRunState") in ("STARTING", "RUNNING", "STOPPING", "WAITING"):
                    stopping = run["JobRunState"] == "STOPPING"
                    run.update(JobRunState="STOPPED" if stopping else "FAILED", CompletedOn=now, LastModifiedOn=now)
                    if not stopping:
                        run["ErrorMessage"] = "The emulator restarted while this job run was going."
