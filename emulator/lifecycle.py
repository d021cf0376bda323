"""Lifecycle log of background resources: one line when a resource is created, one per
state change (with the time spent in the previous state), and the reason of a failure.

Providers call :func:`job_created` when they record a resource and :func:`job_status`
whenever its status changes; any new job type (crawlers, tuning jobs ...) does the same:

    job_created("training job", name, "Starting")
    job_status("training job", name, "Training")              # Downloading -> Training in 0.1 s
    job_status("training job", name, "Completed", final=True) # Training -> Completed in 1.3 s (2.0 s in all)
    job_status("data source", ds_id, "FAILED", "12,001 invalid rows", final=True)

Lines go to the ``emulator.jobs`` logger (failures at WARNING, the rest at INFO).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

log = logging.getLogger("emulator.jobs")

_FAILED = {"FAILED", "Failed", "failed", "ERROR", "Error"}
_MAX_TRACKED = 10_000  # bounded memory: the oldest resources are forgotten first


class _Tracker:
    """Last known status, when it was entered and when the resource was created, per (kind, name)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: OrderedDict[tuple[str, str], tuple[str, float, float]] = OrderedDict()

    def enter(self, kind: str, name: str, status: str, final: bool = False) -> tuple[str, float, float] | None:
        """Record ``status`` (forget the resource if ``final``); return the previous
        (status, entered at, created at) if known."""
        key, now = (kind, name), time.monotonic()
        with self._lock:
            previous = self._seen.pop(key, None)
            if not final:
                self._seen[key] = (status, now, previous[2] if previous else now)
            while len(self._seen) > _MAX_TRACKED:
                self._seen.popitem(last=False)
        return previous

    def forget(self, kind: str, name: str) -> None:
        with self._lock:
            self._seen.pop((kind, name), None)


_tracker = _Tracker()


def job_created(kind: str, name: str, status: str) -> None:
    """A resource of ``kind`` (e.g. ``"training job"``) named ``name`` now exists in ``status``."""
    _tracker.forget(kind, name)
    _tracker.enter(kind, name, status)
    log.info("%s %s created (%s)", kind, name, status, extra={"job": {"kind": kind, "name": name, "status": status}})


def job_status(kind: str, name: str, status: str, reason: str | None = None, final: bool = False) -> None:
    """``name`` entered ``status``; ``reason`` explains a failure (or a stop); ``final`` marks a
    terminal status (the line then also gives the time since creation). Logs only changes."""
    previous = _tracker.enter(kind, name, status, final)
    if previous is not None and previous[0] == status and not reason and not final:
        return
    fields = {"kind": kind, "name": name, "status": status, "previous": previous[0] if previous else None,
              "reason": reason}
    moved = status
    if previous is not None:
        now = time.monotonic()
        moved = f"{previous[0]} -> {status} in {now - previous[1]:.1f} s"
        if final and previous[2] != previous[1]:
            moved += f" ({now - previous[2]:.1f} s in all)"
    if reason:
        log.log(logging.WARNING if status in _FAILED else logging.INFO, "%s %s %s: %s", kind, name, moved, reason,
                extra={"job": fields})
    else:
        log.info("%s %s %s", kind, name, moved, extra={"job": fields})
