"""An emulator in its own process (``python -m emulator``) that tests can kill -9."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from typing import Any

from clients.testing import wait_until_healthy

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``python -m emulator --data-dir DIR`` on a free port; ``kill()`` is kill -9."""

    def __init__(self, data_dir: str, *extra: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.log_path = os.path.join(os.path.dirname(os.path.abspath(data_dir)), f"server-{self.port}.log")
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", str(self.port), "--data-dir", data_dir,
             "--job-grace-seconds", "20", *extra], stdout=self._log, stderr=subprocess.STDOUT, env=env)

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
        """kill -9."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM; the exit status (raises if the process outlives ``timeout``)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.kill()
            self._log.close()

    def __enter__(self) -> "ServerProcess":
        return self.wait()

    def __exit__(self, *exc: Any) -> None:
        if self.process.poll() is None:
            self.kill()
