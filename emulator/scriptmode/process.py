"""Run the user's command in its own process group, streaming its output line by line."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable


MEMORY_ENV = "EMULATOR_SCRIPT_MEMORY_MB"
CPU_ENV = "EMULATOR_SCRIPT_CPU_SECONDS"


def resource_limits() -> Callable[[], None] | None:
    """A pre-exec hook capping the child's address space (``EMULATOR_SCRIPT_MEMORY_MB``) and CPU time
    (``EMULATOR_SCRIPT_CPU_SECONDS``), read when the child starts; None when neither is set."""
    memory = int(os.environ.get(MEMORY_ENV) or 0)
    cpu = int(os.environ.get(CPU_ENV) or 0)
    if not memory and not cpu:
        return None

    def apply() -> None:
        import resource

        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory * 1024 * 1024, memory * 1024 * 1024))
        if cpu:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    return apply


@dataclass
class ProcessResult:
    """How the child ended."""

    exit_code: int
    stopped: str | None  # the reason should_stop() gave when the emulator killed it
    tail: list[str]      # the last lines of output (for FailureReason)


def run_streaming(command: list[str], cwd: str, env: dict[str, str], on_line: Callable[[str], None],
                  should_stop: Callable[[], str | None], tail_lines: int = 60) -> ProcessResult:
    """Run ``command``; every output line (stdout and stderr together) goes to ``on_line`` as it comes.
    ``should_stop`` is polled a few times a second; when it returns a reason the whole process group
    gets SIGTERM, then SIGKILL two seconds later."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=resource_limits())
    tail: deque[str] = deque(maxlen=tail_lines)

    def pump() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            tail.append(line)
            on_line(line)

    reader = threading.Thread(target=pump, name="scriptmode-output", daemon=True)
    reader.start()
    stopped = None
    while process.poll() is None:
        stopped = should_stop()
        if stopped:
            kill_group(process)
            break
        time.sleep(0.1)
    process.wait()
    reader.join(timeout=5)
    return ProcessResult(process.returncode, stopped, list(tail))


def kill_group(process: subprocess.Popen, grace: float = 2.0) -> None:
    """SIGTERM the child's process group, SIGKILL it after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
