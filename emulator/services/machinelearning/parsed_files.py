"""Parsed data files kept between data sources: the training and evaluation data sources
of one S3 object (same key, same ETag, same schema) share one parse and one set of
random-split hashes. The parsed columns are files in a scratch directory (the server
holds their paths; ``emulator.scratch``), removed when the entry leaves: bounded by
their size on disk (least recently used first out), one cache per account and region."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

MAX_BYTES = 1024 * 1024 * 1024
"""Bytes the kept parses may hold at most (a larger parse is not kept)."""


@dataclass
class Entry:
    """One parsed file and its random-split buckets by (seed, split name)."""

    parsed: Any  # emulator.engines.amazonml.datasets.ParsedFile
    size: int
    buckets: dict[tuple[str, str], Any] = field(default_factory=dict)


class ParsedFiles:
    """A bounded, thread-safe map (bucket, key, ETag, schema layout) -> :class:`Entry`."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Entry | None:
        """The entry of ``key`` (marked as recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple, parsed: Any, size: int) -> None:
        """Keep ``parsed`` (``size`` bytes), dropping the least recently used to fit."""
        if size > self.max_bytes:
            return
        with self._lock:
            self._entries[key] = Entry(parsed, size)
            self._entries.move_to_end(key)
            while sum(e.size for e in self._entries.values()) > self.max_bytes:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every parse."""
        with self._lock:
            self._entries.clear()


def directory_size(directory: str | None) -> int:
    """Bytes of the files directly in ``directory`` (0 for None or a missing directory)."""
    if directory is None:
        return 0
    try:
        return sum(entry.stat().st_size for entry in os.scandir(directory) if entry.is_file())
    except OSError:
        return 0


def schema_layout(schema: Any) -> tuple:
    """What a parse depends on in a schema: attribute names and types, rowId, header."""
    return (tuple((a.name, a.type) for a in schema.attributes), schema.row_id, bool(schema.contains_header))
