"""Job bookmarks: which S3 objects each ``transformation_ctx`` has already processed.

The emulator hands a run its job's bookmark in ``GLUE_EMULATOR_BOOKMARK_IN`` and keeps
what ``Job.commit()`` writes to ``GLUE_EMULATOR_BOOKMARK_OUT`` once the run SUCCEEDED.
With ``--job-bookmark-option job-bookmark-enable`` a source with a transformation_ctx
skips the objects recorded there; ``job-bookmark-pause`` skips them without recording.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _option(argv: list[str]) -> str:
    for index, arg in enumerate(argv):
        if arg == "--job-bookmark-option" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--job-bookmark-option="):
            return arg.split("=", 1)[1]
    return "job-bookmark-disable"


class Bookmarks:
    """The bookmark state of this process's job run."""

    def __init__(self) -> None:
        self.option = _option(sys.argv)
        self.state: dict[str, Any] = {}
        path = os.environ.get("GLUE_EMULATOR_BOOKMARK_IN")
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                self.state = json.load(handle) or {}
        self.pending: dict[str, set[str]] = {}

    @property
    def enabled(self) -> bool:
        return self.option in ("job-bookmark-enable", "job-bookmark-pause")

    def unseen(self, ctx: str, objects: list[dict[str, Any]], uri_of: Any) -> list[dict[str, Any]]:
        """The objects not yet processed under ``ctx``; they become pending for commit."""
        if not self.enabled or not ctx:
            return objects
        done = set(self.state.get(ctx, {}).get("processed", []))
        fresh = [o for o in objects if uri_of(o) not in done]
        if self.option == "job-bookmark-enable":
            self.pending.setdefault(ctx, set()).update(uri_of(o) for o in fresh)
        return fresh

    def commit(self) -> None:
        """Record pending objects as processed (written for the emulator to keep)."""
        if self.option != "job-bookmark-enable":
            return
        for ctx, uris in self.pending.items():
            entry = self.state.setdefault(ctx, {"processed": []})
            entry["processed"] = sorted(set(entry["processed"]) | uris)
        self.pending = {}
        path = os.environ.get("GLUE_EMULATOR_BOOKMARK_OUT")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.state, handle, sort_keys=True)


_current: Bookmarks | None = None


def current() -> Bookmarks:
    """This process's bookmarks (read once)."""
    global _current
    if _current is None:
        _current = Bookmarks()
    return _current
