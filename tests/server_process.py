"""An emulator in its own process (``python -m emulator``) that tests can kill -9.

Every server a test starts runs in its own session (process group), and is gone when the
test ends: :func:`stop` sends SIGTERM and, past a deadline, SIGKILLs the whole group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from clients.testing import wait_until_healthy

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], **popen: Any) -> subprocess.Popen:
    """``python -m emulator ARGS`` in its own session (so :func:`kill_group` reaches all of it)."""
    return subprocess.Popen([sys.executable, "-m", "emulator", *args], start_new_session=True, **popen)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process's group (it leads its own: see :func:`start`), then reap it."""
    if process.returncode is None:  # not reaped yet, so its PID (the group's ID) is not reused
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
    process.wait(timeout=30)


def stop(process: subprocess.Popen, timeout: float = 10.0) -> int | None:
    """SIGTERM; the exit status, or None if it did not exit within ``timeout`` (then its
    whole group is SIGKILLed). Either way the process is gone when this returns."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        return None


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    """Poll until ``pid`` (not our child: a ``--background`` server) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True  # exited; its new parent has not reaped it yet
        except (OSError, IndexError):
            return True
        time.sleep(0.05)
    return False


class ServerProcess:
    """``python -m emulator --data-dir DIR`` on a free port; ``kill()`` is kill -9."""

    def __init__(self, data_dir: str, *extra: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.log_path = os.path.join(os.path.dirname(os.path.abspath(data_dir)), f"server-{self.port}.log")
        self._log = open(self.log_path, "ab")
        self.process = start(["--port", str(self.port), "--data-dir", data_dir, "--job-grace-seconds", "20", *extra],
                             stdout=self._log, stderr=subprocess.STDOUT, env=env)

    def wait(self) -> "ServerProcess":
        try:
            wait_until_healthy(self.url, deadline_seconds=60)
        except TimeoutError:
            self.kill()
            raise AssertionError(f"emulator did not start: {self.output()[-3000:]}") from None
        return self

    def output(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def client(self, service: str, **kwargs: Any) -> Any:
        from clients import client

        return client(service, url=self.url, **kwargs)

    def kill(self) -> None:
        """kill -9 (its whole process group)."""
        kill_group(self.process)
        self._log.close()

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM; the exit status (raises if the process outlives ``timeout``; it is killed then)."""
        try:
            code = stop(self.process, timeout)
        finally:
            self._log.close()
        if code is None:
            raise AssertionError(f"the emulator did not exit within {timeout:g} s of SIGTERM (killed)")
        return code

    def __enter__(self) -> "ServerProcess":
        return self.wait()

    def __exit__(self, *exc: Any) -> None:
        self.kill()
