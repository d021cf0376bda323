"""SIGINT / SIGTERM for the command-line server: the first one stops it, within a deadline.

The handlers are installed before anything else starts (loading ``--data-dir`` can take a
while), and take over from a parent that left these signals ignored or blocked. The handler
raises nothing in the main thread: an exception raised there can land inside
``socketserver``'s ``process_request`` (starting a request's thread), whose ``except
Exception`` logs it as a failed request and serves on, every later signal then ignored. It
only wakes two threads started beforehand (a handler must take no lock, so creates no
thread): one calls ``server.shutdown()`` (so ``serve_forever`` returns within its poll
interval, also if the signal came during start-up), the other exits the process
:data:`STOP_DEADLINE_SECONDS` after the signal should the clean stop hang (a job thread, a
lock, a slow disk); should even that thread not get to run, the kernel ends the process
(``SIGALRM``) at :data:`HARD_DEADLINE_SECONDS`. A second signal changes nothing.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_DEADLINE_SECONDS = 8.5
"""From the signal to the forced exit (the README promises an exit within 10 s)."""
HARD_DEADLINE_SECONDS = 10
"""From the signal to ``SIGALRM``'s default action (whole seconds: ``alarm(2)``)."""


class StopSignals:
    """The server's SIGINT / SIGTERM handling (install from the main thread)."""

    def __init__(self, deadline_seconds: float = STOP_DEADLINE_SECONDS,
                 hard_deadline_seconds: int = HARD_DEADLINE_SECONDS) -> None:
        self.deadline_seconds = deadline_seconds
        self.hard_deadline_seconds = hard_deadline_seconds
        self.signal_name: str | None = None
        self.server: Any = None
        """The server whose ``shutdown()`` a signal calls; set it before ``serve_forever``."""
        self._reason = "stopped"
        self._begun = False
        self._cancelled = False
        self._wake_r, self._wake_w = os.pipe()  # written (never a lock) by the handler
        self._previous: dict[int, Any] = {}

    def install(self) -> "StopSignals":
        """Handle SIGINT and SIGTERM from now on; start the two (idle) threads."""
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
        for target, name in ((self._stop_server, "stop-server"), (self._watch, "stop-watchdog")):
            threading.Thread(target=target, name=name, daemon=True).start()
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def uninstall(self) -> None:
        """Put the previous handlers back and end the threads (the server did not start)."""
        signal.alarm(0)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        self._cancelled = True
        if not self._begun:
            self._begun = True
            os.write(self._wake_w, b"xx")

    def begin(self, reason: str) -> None:
        """The stop starts now (for ``reason``): stop serving, arm the deadlines; once."""
        if self._begun:
            return
        self._begun = True
        self._reason = reason
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(self.hard_deadline_seconds)
        os.write(self._wake_w, b"xx")  # one byte for each thread

    def _handle(self, signum: int, _frame: object) -> None:
        if self.signal_name is not None:  # a second signal changes nothing: we are already stopping
            return
        self.signal_name = signal.Signals(signum).name
        self.begin(self.signal_name)

    def _stop_server(self) -> None:
        os.read(self._wake_r, 1)
        deadline = time.monotonic() + self.deadline_seconds
        while not self._cancelled and self.server is None and time.monotonic() < deadline:
            time.sleep(0.05)  # still starting up: main() checks signal_name before serving
        if not self._cancelled and self.server is not None:
            self.server.shutdown()  # serve_forever returns within its poll interval

    def _watch(self) -> None:
        os.read(self._wake_r, 1)
        time.sleep(self.deadline_seconds)
        if self._cancelled:
            return
        os.write(2, (f"aws-ml-emulator stopped ({self._reason}): the clean stop did not finish within "
                     f"{self.deadline_seconds:g} s, exiting now\n").encode())
        os._exit(1)
