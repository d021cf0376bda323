"""Run an emulator in-process on a free port: a context manager and a pytest fixture."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Iterator

from werkzeug.serving import make_server

from emulator.app import create_app
from emulator.config import Config


@dataclass
class RunningEmulator:
    """A started emulator: its URL and the Flask app (``app.emulator`` is its state)."""

    url: str
    app: Any
    environment: dict[str, str] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget every resource (see :meth:`emulator.runtime.Emulator.reset`)."""
        self.app.emulator.reset()

    def client(self, service: str, **session_kwargs: Any) -> Any:
        """A boto3 client bound to this emulator."""
        from clients import client

        return client(service, url=self.url, **session_kwargs)


def wait_until_healthy(url: str, deadline_seconds: float = 20.0) -> dict[str, Any]:
    """Poll ``/_emulator/health`` until it answers or the deadline passes."""
    deadline = time.monotonic() + deadline_seconds
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_emulator/health", timeout=2) as response:
                return json.loads(response.read())
        except OSError as exc:
            last_error = exc
            time.sleep(0.02)
    raise TimeoutError(f"emulator at {url} not healthy after {deadline_seconds}s: {last_error}")


@contextlib.contextmanager
def running_emulator(config: Config | None = None) -> Iterator[RunningEmulator]:
    """Start an emulator on 127.0.0.1 and a free port in a thread; stop it on exit."""
    config = config or Config()
    config.host, config.port = "127.0.0.1", 0
    app = create_app(config)
    server = make_server(config.host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="aws-ml-emulator", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        wait_until_healthy(url)
        yield RunningEmulator(url, app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        app.emulator.shutdown()


def emulator_fixture() -> Any:
    """A session-scoped pytest fixture factory: ``emulator = emulator_fixture()`` in conftest."""
    import pytest

    @pytest.fixture(scope="session")
    def emulator() -> Iterator[RunningEmulator]:
        with running_emulator() as running:
            yield running

    return emulator
