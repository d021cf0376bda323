"""State of Glue ML transforms for one account and region (kept in the StateStore)."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from emulator.persistence.interrupted import end_interrupted


@dataclass
class MLTransformState:
    """GetMLTransform-shaped records by TransformId, their task runs, labels and fitted models."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    transforms: dict[str, dict[str, Any]] = field(default_factory=dict)
    task_runs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # TransformId -> TaskRunId -> run
    labels: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # TransformId -> label rows (all columns)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # TransformId -> FindMatchesModel.to_dict()
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # ARN -> tags
    futures: dict[str, Future] = field(default_factory=dict)  # TaskRunId -> its background job
    stop_requested: set[str] = field(default_factory=set)  # TaskRunIds

    def after_restart(self, account_id: str, region: str) -> None:
        """--data-dir restart: task runs cut off by the restart end FAILED (STOPPED if being cancelled)."""
        for runs in self.task_runs.values():
            end_interrupted(runs.values(), "Status", ("STARTING", "RUNNING", "STOPPING"), "STOPPING", "STOPPED",
                            "FAILED", "ErrorString", ("CompletedOn", "LastModifiedOn"))
