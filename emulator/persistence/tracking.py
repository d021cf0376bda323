"""Which entries of a state object's dicts a request (or job) reached.

Persistence replaces every plain ``dict`` attribute of a state object with a
:class:`TrackingDict`: a dict that reports the keys it is asked for, written or deleted
(``values()``/``items()`` report "all"), so after a request only those entries are
encoded and written, not the whole state. Reports go to the thread's current recorder.
"""

from __future__ import annotations

import threading
from typing import Any

ALL = object()
"""Marker: every entry of the dict may have changed."""

_local = threading.local()


def recorder() -> set[tuple[Any, str, Any]] | None:
    """The set collecting (state key, attribute, entry key) in this thread, if any."""
    return getattr(_local, "entries", None)


def set_recorder(entries: set[tuple[Any, str, Any]] | None) -> None:
    _local.entries = entries


class TrackingDict(dict):
    """A dict reporting accessed keys to the thread's recorder (``token`` = (state key, attribute))."""

    __slots__ = ("token",)

    def __init__(self, *args: Any, token: tuple[Any, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token = token

    def _mark(self, key: Any) -> None:
        entries = getattr(_local, "entries", None)
        if entries is not None and self.token is not None:
            entries.add((self.token[0], self.token[1], key))

    def __getitem__(self, key: Any) -> Any:
        self._mark(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._mark(key)
        return super().get(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._mark(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        self._mark(key)
        super().__delitem__(key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._mark(key)
        return super().pop(key, *default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._mark(key)
        return super().setdefault(key, default)

    def popitem(self) -> tuple[Any, Any]:
        item = super().popitem()
        self._mark(item[0])
        return item

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._mark(ALL)
        super().update(*args, **kwargs)

    def clear(self) -> None:
        self._mark(ALL)
        super().clear()

    def values(self) -> Any:
        self._mark(ALL)
        return super().values()

    def items(self) -> Any:
        self._mark(ALL)
        return super().items()

    def __copy__(self) -> dict:
        return dict(super().items())

    def __deepcopy__(self, memo: dict) -> dict:
        import copy

        return {copy.deepcopy(k, memo): copy.deepcopy(v, memo) for k, v in super().items()}

    def __reduce__(self) -> Any:
        return (dict, (dict(super().items()),))
