"""SIGINT / SIGTERM for the command-line server: the first one stops it, within a deadline.

The handlers are installed before anything else starts (loading ``--data-dir`` can take a
while), and take over from a parent that left these signals ignored or blocked. A signal
during start-up is remembered and the server stops as soon as it is built; once it serves,
the signal breaks :meth:`~socketserver.BaseServer.serve_forever` at once. A second signal
changes nothing. Whatever the clean stop waits on (a job thread, a lock, a slow disk), the
process ends anyway: a watchdog thread exits it :data:`STOP_DEADLINE_SECONDS` after the
signal, and should even that not run, the kernel ends it (``SIGALRM``) at
:data:`HARD_DEADLINE_SECONDS`.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_DEADLINE_SECONDS = 8.5
"""From the signal to the forced exit (the README promises an exit within 10 s)."""
HARD_DEADLINE_SECONDS = 10
"""From the signal to ``SIGALRM``'s default action (whole seconds: ``alarm(2)``)."""


class Stop(Exception):
    """Raised in the main thread by the first SIGINT / SIGTERM once the server serves."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class StopSignals:
    """The server's SIGINT / SIGTERM handling (main thread only)."""

    def __init__(self, deadline_seconds: float = STOP_DEADLINE_SECONDS,
                 hard_deadline_seconds: int = HARD_DEADLINE_SECONDS) -> None:
        self.deadline_seconds = deadline_seconds
        self.hard_deadline_seconds = hard_deadline_seconds
        self.signal_name: str | None = None
        self.serving = False
        """Set once the main thread is about to serve: from then on a signal raises :class:`Stop`."""
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._previous: dict[int, Any] = {}
        self._reason = "stopped"

    def install(self) -> "StopSignals":
        """Handle SIGINT and SIGTERM from now on; start the (idle) watchdog."""
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        # started now, not in the handler: a handler must not create a thread (the main
        # thread may be interrupted inside Thread.start, holding the lock that needs)
        threading.Thread(target=self._watch, name="stop-watchdog", daemon=True).start()
        return self

    def uninstall(self) -> None:
        """Put the previous handlers back and end the watchdog (the server did not start)."""
        signal.alarm(0)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        self._done.set()
        self._stopping.set()

    def begin(self, reason: str) -> None:
        """The clean stop starts now (for ``reason``): arm the deadlines, once."""
        if self._stopping.is_set():
            return
        self._reason = reason
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(self.hard_deadline_seconds)
        self._stopping.set()

    def _handle(self, signum: int, _frame: object) -> None:
        if self.signal_name is not None:  # a second signal changes nothing: we are already stopping
            return
        self.signal_name = signal.Signals(signum).name
        self.begin(self.signal_name)
        if self.serving:
            raise Stop(self.signal_name)

    def _watch(self) -> None:
        self._stopping.wait()
        if self._done.wait(self.deadline_seconds):
            return
        os.write(2, (f"aws-ml-emulator stopped ({self._reason}): the clean stop did not finish within "
                     f"{self.deadline_seconds:g} s, exiting now\n").encode())
        os._exit(1)
