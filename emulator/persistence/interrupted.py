"""Ending the records of jobs a ``--data-dir`` restart interrupted (state classes'
``after_restart`` hooks): one rule for every job type, in its service's own words."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

RESTARTED = "The emulator restarted while this job was running."


def end_interrupted(records: Iterable[dict[str, Any]], status_key: str, running: tuple[str, ...], stopping: str,
                    stopped: str, failed: str, reason_key: str, end_keys: tuple[str, ...] = (),
                    reason: str = RESTARTED) -> list[dict[str, Any]]:
    """Records whose ``status_key`` is in ``running`` end ``failed`` with ``reason`` under
    ``reason_key`` (``stopped``, without a reason, when they were ``stopping``); every key in
    ``end_keys`` gets the time. Returns the records it ended."""
    now = datetime.now(timezone.utc)
    ended = []
    for record in records:
        status = record.get(status_key)
        if status not in running:
            continue
        record[status_key] = stopped if status == stopping else failed
        if status != stopping:
            record[reason_key] = reason
        record.update({key: now for key in end_keys})
        ended.append(record)
    return ended
