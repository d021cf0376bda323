"""Background warm-up that waits for the server's first answer.

Importing the engines (pandas, scikit-learn, xgboost), building moto's dispatcher and
starting the job forkserver take seconds of CPU. Started at once, they would compete
with the first request for the interpreter lock and the machine's cores; so they start
when the first request has been answered, or ``delay`` seconds after the app was built
if nothing asks before. Anything that needs one of them earlier builds it on use.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterable

from werkzeug.wsgi import ClosingIterator

log = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DeferredWarmUp:
    """Runs ``steps`` once, in a daemon thread, after the first answer or after ``delay`` s."""

    def __init__(self, steps: list[Callable[[], object]], delay: float = 1.0) -> None:
        self.steps = steps
        self.started = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(delay, self.start)
        self._timer.daemon = True
        self._timer.start()

    def start(self) -> None:
        """Start the warm-up now (once; later calls do nothing)."""
        with self._lock:
            if self.started:
                return
            self.started = True
        self._timer.cancel()
        threading.Thread(target=self._run, name="warm-up", daemon=True).start()

    def _run(self) -> None:
        for step in self.steps:
            try:
                step()
            except Exception:  # each step reports itself again when it is really needed
                log.warning("warm-up step %s failed", getattr(step, "__name__", step), exc_info=True)

    def wrap(self, app: WsgiApp) -> WsgiApp:
        """``app`` that starts the warm-up once its first response has been sent."""

        def first_answer_starts_warm_up(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if self.started:
                return app(environ, start_response)
            return ClosingIterator(app(environ, start_response), self.start)

        return first_answer_starts_warm_up
