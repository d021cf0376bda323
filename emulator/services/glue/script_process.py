"""A Python script in its own child process and process group, its output streamed line by line.

One small module so it can later be unified with the shared worker mechanism
(``emulator/workers.py``): the emulator starts the process, reads its stdout and stderr
as they come, waits with a deadline, and stops it by killing the whole process group
(Spark's JVM included), which returns all of its memory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from typing import Callable

LineSink = Callable[[str], None]


class ScriptProcess:
    """``argv`` run with ``env`` in ``cwd``; every output line goes to ``on_stdout`` / ``on_stderr``."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str,
                 on_stdout: LineSink, on_stderr: LineSink) -> None:
        self._argv, self._env, self._cwd = argv, env, cwd
        self._sinks = (on_stdout, on_stderr)
        self._process: subprocess.Popen[bytes] | None = None
        self._readers: list[threading.Thread] = []

    def start(self) -> None:
        """Start the process in a new session (its own process group)."""
        self._process = subprocess.Popen(
            self._argv, env=self._env, cwd=self._cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        for stream, sink in zip((self._process.stdout, self._process.stderr), self._sinks):
            reader = threading.Thread(target=_pump, args=(stream, sink), daemon=True, name="glue-job-output")
            reader.start()
            self._readers.append(reader)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code, or None if the process still runs after ``timeout`` seconds."""
        assert self._process is not None
        try:
            code = self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def stop(self, grace_seconds: float = 3.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace_seconds``; idempotent."""
        if self._process is None or self._process.poll() is not None:
            self._kill_group(signal.SIGKILL)  # leftovers (a JVM) of an ended leader
            return
        self._kill_group(signal.SIGTERM)
        try:
            self._process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            pass
        self._kill_group(signal.SIGKILL)

    def _kill_group(self, sig: signal.Signals) -> None:
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _pump(stream, sink: LineSink) -> None:  # noqa: ANN001 - a binary pipe
    for raw in iter(stream.readline, b""):
        try:
            sink(raw.decode("utf-8", errors="replace").rstrip("\n"))
        except Exception:  # a failing sink must not stop draining the pipe
            pass
    stream.close()
