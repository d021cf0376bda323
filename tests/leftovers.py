"""Processes a test session leaves behind: found, killed and reported.

The conftest marks the session in the environment (:data:`MARKER`); every process the
tests start inherits it, and keeps it even once orphaned (a server started with
``--background``, one whose parent was killed -9, a child that escaped its process group).
After each test module, any emulator server (``python -m emulator ...``) still carrying the
mark is a leak: it can hold a port or a data directory's ``emulator.lock``. At the end of the
session, so is any marked process but the test process's own multiprocessing helpers.
Other people's processes on the machine never carry this session's mark, so are never touched.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from typing import Callable

MARKER = "AWS_ML_EMULATOR_TEST_SESSION"


def mark_session() -> str:
    """Give this session (and every process it starts from now on) a fresh mark."""
    os.environ[MARKER] = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    return os.environ[MARKER]


@dataclass(frozen=True)
class Proc:
    """One live process of this session."""

    pid: int
    ppid: int
    pgid: int
    argv: tuple[str, ...]

    @property
    def is_emulator_server(self) -> bool:
        """``python -m emulator ...`` (the server, ``--background`` or ``snapshot``)."""
        return any(a == "-m" and b == "emulator" for a, b in zip(self.argv, self.argv[1:]))

    def __str__(self) -> str:
        return f"PID {self.pid} (parent {self.ppid}): {' '.join(self.argv)[:300]}"


def _stat(pid: int) -> tuple[str, int, int] | None:
    """State, parent PID and process group, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1]), int(fields[2])
    except (OSError, ValueError, IndexError):
        return None


def marked(mark: str | None = None) -> list[Proc]:
    """The live (not zombie) processes carrying ``mark`` (default: this session's), ours excluded."""
    mark = mark or os.environ.get(MARKER)
    if not mark or not os.path.isdir("/proc"):
        return []
    needle = f"{MARKER}={mark}".encode() + b"\0"
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if needle not in handle.read() + b"\0":
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = tuple(a.decode("utf-8", "replace") for a in handle.read().split(b"\0") if a)
        except OSError:  # gone, or not ours to read
            continue
        stat = _stat(pid)
        if stat is not None and stat[0] != "Z":
            found.append(Proc(pid, stat[1], stat[2], argv))
    return found


def leftover_servers() -> list[Proc]:
    """This session's emulator servers still running."""
    return [p for p in marked() if p.is_emulator_server]


def outliving() -> list[Proc]:
    """This session's processes that would outlive the test process: all but its
    multiprocessing helpers (the forkserver, its workers, the resource tracker), which end
    with it."""
    return [p for p in marked() if not any("from multiprocessing." in a for a in p.argv)]


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def kill(procs: list[Proc], deadline_seconds: float = 5.0) -> list[Proc]:
    """SIGKILL each process and, when it leads its own group, the whole group (the test
    process's own group is never signalled); the ones still alive after the deadline."""
    own_group = os.getpgid(0)
    for proc in procs:
        try:
            if proc.pgid == proc.pid and proc.pgid != own_group:
                os.killpg(proc.pgid, signal.SIGKILL)
            else:
                os.kill(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + deadline_seconds
    while any(_alive(p.pid) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    _reap([p for p in procs if p.ppid == os.getpid()])
    return [p for p in procs if _alive(p.pid)]


def _reap(children: list[Proc]) -> None:
    """Collect the killed children of the test process (no zombie left behind)."""
    for child in children:
        try:
            os.waitpid(child.pid, os.WNOHANG)
        except ChildProcessError:
            pass


def settle(find: Callable[[], list[Proc]], grace_seconds: float) -> list[Proc]:
    """``find()``, given ``grace_seconds`` for processes already on their way out to go."""
    found = find()
    deadline = time.monotonic() + grace_seconds
    while found and time.monotonic() < deadline:
        time.sleep(0.1)
        found = find()
    return found
