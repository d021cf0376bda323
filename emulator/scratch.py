"""A private scratch directory for job data kept in files between worker processes.

Job workers write large intermediate results (e.g. the columns of a parsed Amazon ML
data file or data set, see ``emulator.engines.amazonml.stored``) into a directory the
server hands them, so that the next job's worker memory-maps them instead of receiving
them pickled through the server. The directories live under one root made by
``tempfile.mkdtemp`` (mode 0700) for this process, ``aws-ml-emulator-scratch-<pid>-*``; their names are random
(``<kind>-<uuid>``, ``kind`` a literal of our code), never built from a user string.

A directory belongs to the server-side object that refers to it (:meth:`Scratch.own`):
it is removed when that object is garbage-collected (a deleted data source, an evicted
parse, a reset), the whole root at exit (``atexit``, and ``python -m emulator``'s
shutdown, which leaves by ``os._exit``), and the root of a process that died without
cleaning up (SIGKILL) when the next emulator makes its own.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import uuid
import weakref
from contextlib import contextmanager
from typing import Any, Iterator


class Scratch:
    """The process's scratch root (made on first use) and the directories under it."""

    def __init__(self, prefix: str = "aws-ml-emulator-scratch-") -> None:
        self.prefix = prefix
        self._root: str | None = None
        self._lock = threading.Lock()

    @property
    def root(self) -> str:
        """The root directory, created (0700) on first use and removed at exit."""
        with self._lock:
            if self._root is None or not os.path.isdir(self._root):
                self._remove_stale()
                self._root = os.path.realpath(tempfile.mkdtemp(prefix=f"{self.prefix}{os.getpid()}-"))
                atexit.register(shutil.rmtree, self._root, True)
            return self._root

    def prepare(self) -> None:
        """Make the root now (start-up warm-up) rather than in the first job."""
        _ = self.root

    def _remove_stale(self) -> None:
        """Remove the roots of emulator processes that ended without cleaning up (SIGKILL):
        ``<prefix><pid>-...`` whose process no longer exists."""
        base = tempfile.gettempdir()
        try:
            names = os.listdir(base)
        except OSError:
            return
        for name in names:
            pid_text = name[len(self.prefix):].partition("-")[0] if name.startswith(self.prefix) else ""
            if not pid_text.isdigit() or int(pid_text) == os.getpid():
                continue
            try:
                os.kill(int(pid_text), 0)
            except ProcessLookupError:
                shutil.rmtree(os.path.join(base, name), ignore_errors=True)
            except (PermissionError, OverflowError, ValueError):
                pass

    def new_directory(self, kind: str) -> str:
        """A fresh directory path ``<root>/<kind>-<random hex>`` (not yet created)."""
        if not kind.isidentifier():
            raise ValueError(f"not a directory kind: {kind!r}")
        return os.path.join(self.root, f"{kind}-{uuid.uuid4().hex}")

    @contextmanager
    def directory(self, kind: str) -> Iterator[str]:
        """A fresh directory (:meth:`new_directory`, created) for one job step, removed
        when the ``with`` block ends, however it ends."""
        path = self.new_directory(kind)
        os.makedirs(path)
        try:
            yield path
        finally:
            self.remove(path)

    def contains(self, directory: str) -> bool:
        """True when ``directory`` lies strictly inside the root."""
        if self._root is None:
            return False
        path = os.path.realpath(directory)
        return path != self._root and os.path.commonpath([self._root, path]) == self._root

    def remove(self, directory: str) -> None:
        """Delete ``directory`` and its files (only a directory inside the root)."""
        if self.contains(directory):
            shutil.rmtree(directory, ignore_errors=True)

    def own(self, owner: Any, directory: str | None) -> None:
        """Remove ``directory`` once ``owner`` is garbage-collected (or at exit)."""
        if directory is not None and self.contains(directory):
            weakref.finalize(owner, self.remove, directory)

    def remove_all(self) -> None:
        """Delete the root and everything under it (the process is ending)."""
        with self._lock:
            root, self._root = self._root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

    def directories(self) -> list[str]:
        """The directories now under the root (for health and tests)."""
        if self._root is None or not os.path.isdir(self._root):
            return []
        return sorted(os.listdir(self._root))


SCRATCH = Scratch()
