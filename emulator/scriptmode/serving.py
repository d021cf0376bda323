"""Host side of an inference worker: one long-lived child process per endpoint variant, restarted when
it crashes; its output goes to a log callback, its errors become ModelErrors."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import threading
from typing import Callable

from emulator.engines.sagemaker import ModelError
from emulator.scriptmode.framing import read_frame, write_frame
from emulator.scriptmode.process import kill_group, resource_limits

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inference_worker.py")


class WorkerStartError(Exception):
    """The worker could not load the model (the message is the user's exception)."""


class ScriptPredictor:
    """Answers InvokeEndpoint through the user's handlers in a child process (the engines' Predictor interface)."""

    def __init__(self, model_dir: str, code_dir: str, program: str, env: dict[str, str],
                 on_line: Callable[[str], None], startup_timeout: float = 300.0) -> None:
        self.model_dir, self.code_dir, self.program, self.env = model_dir, code_dir, program, env
        self.on_line, self.startup_timeout = on_line, startup_timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._closed = False
        self.remove_on_close: str | None = None  # a temporary work directory to delete with the worker
        self._start()

    def _start(self) -> None:
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, WORKER, self.model_dir, self.code_dir, self.program, str(request_read),
                 str(response_write)], cwd=self.code_dir, env=self.env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(request_read, response_write),
                start_new_session=True, preexec_fn=resource_limits())
        finally:
            os.close(request_read)
            os.close(response_write)
        self._process, self._requests, self._responses = process, request_write, response_read
        threading.Thread(target=self._pump, args=(process,), name="scriptmode-serve-log", daemon=True).start()
        ready, _, _ = select.select([response_read], [], [], self.startup_timeout)
        try:
            if not ready:
                raise EOFError(f"the model server did not start within {self.startup_timeout:.0f} s")
            header, _ = read_frame(response_read)
        except EOFError as exc:
            self._stop_process()
            raise WorkerStartError(f"The inference worker exited while loading the model: {exc}") from exc
        if not header.get("ready"):
            self._stop_process()
            raise WorkerStartError(header.get("message") or "the model could not be loaded")

    def _pump(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            self.on_line(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def invoke(self, body: bytes, content_type: str | None, accept: str | None,
               custom_attributes: str | None = None) -> tuple[bytes, str]:
        with self._lock:
            if self._closed:
                raise ModelError("The endpoint's model server was shut down.", 500)
            if self._process is None:  # a restart failed earlier: try again
                try:
                    self._start()
                except WorkerStartError as exc:
                    raise ModelError(f"The model server could not start: {exc}", 500) from exc
            try:
                write_frame(self._requests, {"content_type": content_type, "accept": accept,
                                             "custom_attributes": custom_attributes}, body)
                header, payload = read_frame(self._responses)
            except (EOFError, OSError) as exc:
                code = self._process.poll() if self._process else None
                self.on_line(f"The model server worker died (exit code {code}); restarting it")
                self._stop_process()
                try:
                    self._start()
                except WorkerStartError as start_error:
                    raise ModelError(f"The model server crashed and could not restart: {start_error}", 500) from exc
                raise ModelError(f"The model server worker crashed while handling the request (exit code {code}); "
                                 f"it was restarted.", 500) from exc
        status = int(header.get("status", 500))
        if status != 200:
            raise ModelError(header.get("message") or "", status)
        return payload, header.get("content_type") or "application/json"

    def _stop_process(self) -> None:
        for fd in (getattr(self, "_requests", None), getattr(self, "_responses", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._requests = self._responses = None  # type: ignore[assignment]
        if self._process is not None:
            kill_group(self._process, grace=1.0)
            self._process = None

    def close(self) -> None:
        """Stop the worker (DeleteEndpoint, UpdateEndpoint replacing the variant)."""
        with self._lock:
            self._closed = True
            self._stop_process()
        if self.remove_on_close:
            shutil.rmtree(self.remove_on_close, ignore_errors=True)
