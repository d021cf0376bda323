"""Resource state: one state object per (service state type, account, region).

Providers declare a plain class holding their resources (dicts of dataclasses) and
ask the store for the instance of the caller's account and region. Everything a
provider keeps lives here, so persistence to ``--data-dir`` can later serialise the
store without touching providers.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

T = TypeVar("T")


class StateStore:
    """Holds every provider's state, partitioned by account and region."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str, str], Any] = {}

    def get(self, state_type: type[T], account_id: str, region: str) -> T:
        """The state of ``state_type`` for one account and region, created on first use."""
        key = (f"{state_type.__module__}.{state_type.__qualname__}", account_id, region)
        with self._lock:
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = state_type()
            return state

    def partitions(self) -> list[tuple[str, str, str]]:
        """(state type, account, region) of every state created so far."""
        with self._lock:
            return list(self._states)
