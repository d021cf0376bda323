"""In-process CloudWatch Logs writes through moto's backend, so clients can tail them."""

from __future__ import annotations

import time


class LogWriter:
    """Writes log events for one account and region."""

    def __init__(self, account_id: str, region: str) -> None:
        from moto.logs.models import logs_backends

        self._backend = logs_backends[account_id][region]

    def write(self, group: str, stream: str, lines: list[str]) -> None:
        """Append ``lines`` to ``group``/``stream``, creating both when missing."""
        if group not in self._backend.groups:
            self._backend.create_log_group(group, {})
        if stream not in self._backend.groups[group].streams:
            self._backend.create_log_stream(group, stream)
        now = int(time.time() * 1000)
        events = [{"timestamp": now + i, "message": line} for i, line in enumerate(lines)]
        for start in range(0, len(events), 1000):
            self._backend.put_log_events(group, stream, events[start:start + 1000])
