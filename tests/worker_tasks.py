"""Module-level functions the worker-process tests run in a child (they must be importable)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def add(a: int, b: int) -> int:
    return a + b


def allocate(megabytes: int) -> int:
    """Touch ``megabytes`` MB (a bytearray is zero-filled, so every page is real)."""
    return len(bytearray(megabytes * 1024 * 1024))


def spin() -> None:
    while True:
        pass


def crash() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def fail(message: str) -> None:
    raise ValueError(message)


def spawn_grandchild_and_spin(pid_file: str) -> None:
    """Start a sleeping grandchild (same process group) and spin; the test checks both die."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(pid_file, "w") as handle:
        handle.write(str(child.pid))
    while True:
        time.sleep(0.01)



def openmp_environment() -> tuple[str | None, bool]:
    """This worker's OpenMP wait policy and whether xgboost (and so libgomp) was already
    loaded when the job started, i.e. in the forkserver, which set the policy first."""
    loaded = "xgboost" in sys.modules
    return os.environ.get("OMP_WAIT_POLICY"), loaded


def own_pid() -> int:
    return os.getpid()
