"""The median stopping rule of SageMaker's ``TrainingJobEarlyStoppingType=Auto``.

As AWS documents it ("Stop Training Jobs Early"): after each epoch a training job
reports its objective metric; SageMaker computes, for every previous training job, the
running average of its objective up to the same epoch, and stops the current job when
its objective value is worse (lower when maximising, higher when minimising) than the
median of those running averages. "Previous" jobs are the ones that have ended (their
curves are final); a job that ended before epoch N does not vote at epoch N.
"""

from __future__ import annotations

import math
import statistics
import threading


class MedianStoppingRule:
    """Objective curves of a tuning job's training jobs and the stop decision."""

    def __init__(self, maximize: bool) -> None:
        self.maximize = maximize
        self.curves: dict[str, list[float]] = {}
        self.ended: set[str] = set()
        self._lock = threading.Lock()

    def observe(self, job: str, value: float) -> bool:
        """Record ``job``'s objective after its next epoch; True when it should stop now."""
        with self._lock:
            curve = self.curves.setdefault(job, [])
            curve.append(float(value))
            epoch = len(curve)
            averages = [sum(c[:epoch]) / epoch for name, c in self.curves.items()
                        if name in self.ended and name != job and len(c) >= epoch]
            averages = [a for a in averages if math.isfinite(a)]
            if not averages:
                return False
            if not math.isfinite(value):
                return True
            median = statistics.median(averages)
            return value < median if self.maximize else value > median

    def end(self, job: str) -> None:
        """``job`` has ended: its curve now counts for the jobs that follow."""
        with self._lock:
            self.ended.add(job)

    def epochs(self, job: str) -> int:
        with self._lock:
            return len(self.curves.get(job, []))
