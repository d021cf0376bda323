"""Resource state: one state object per (service state type, account, region).

Providers declare a plain class holding their resources (dicts of dataclasses) and
ask the store for the instance of the caller's account and region. Everything a
provider keeps lives here, so ``--data-dir`` persistence (emulator/persistence/)
serialises the store without touching providers: it observes which states each
request looks up and writes those after the request.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

T = TypeVar("T")
StateKey = tuple[str, str, str]


def state_kind(state_type: type) -> str:
    """The stored name of a state class: ``module:qualname``."""
    return f"{state_type.__module__}:{state_type.__qualname__}"


class StateStore:
    """Holds every provider's state, partitioned by account and region."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[StateKey, Any] = {}
        self.observer: Callable[[StateKey], None] | None = None

    def get(self, state_type: type[T], account_id: str, region: str) -> T:
        """The state of ``state_type`` for one account and region, created on first use."""
        key = (state_kind(state_type), account_id, region)
        with self._lock:
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = state_type()
        if self.observer is not None:
            self.observer(key)
        return state

    def put(self, state_type: type, account_id: str, region: str, state: Any) -> None:
        """Install a (restored) state object."""
        with self._lock:
            self._states[(state_kind(state_type), account_id, region)] = state

    def peek(self, key: StateKey) -> Any:
        """The state stored under ``key``, or None (never creates one)."""
        with self._lock:
            return self._states.get(key)

    def items(self) -> list[tuple[StateKey, Any]]:
        with self._lock:
            return list(self._states.items())

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def partitions(self) -> list[StateKey]:
        """(state type, account, region) of every state created so far."""
        with self._lock:
            return list(self._states)
