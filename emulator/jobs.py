"""Background runner for asynchronous resources (training, evaluation, crawling...).

"Async like AWS, fast like a library": a job runs at once on a bounded pool, and the
create call may wait a short, configurable grace period for it, so small jobs are
terminal by the caller's first look while large ones stay visibly in progress.
Jobs that depend on another job (a model on its data source) are chained with
``after=`` instead of blocking a worker.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)


class JobRunner:
    """A bounded thread pool with dependency chaining and a grace-period wait."""

    def __init__(self, max_workers: int = 4, grace_seconds: float = 10.0) -> None:
        self.grace_seconds = grace_seconds
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="emulator-job")
        self.wrap: Callable[[Callable[[], Any]], Callable[[], Any]] | None = None
        """Applied to every job at submission (persistence flushes a job's states when it ends)."""

    def submit(self, fn: Callable[[], Any], after: Iterable[Future] = ()) -> Future:
        """Run ``fn`` in the background once every future in ``after`` is done."""
        if self.wrap is not None:
            fn = self.wrap(fn)
        pending = [f for f in after if f is not None]
        if not pending:
            return self._pool.submit(self._guarded, fn)
        outer: Future = Future()
        remaining = {"n": len(pending)}
        lock = threading.Lock()

        def _one_done(_: Future) -> None:
            with lock:
                remaining["n"] -= 1
                ready = remaining["n"] == 0
            if ready:
                inner = self._pool.submit(self._guarded, fn)
                inner.add_done_callback(lambda f: outer.set_result(f.result()))

        for future in pending:
            future.add_done_callback(_one_done)
        return outer

    @staticmethod
    def _guarded(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception:  # a job must set its own FAILED state; never kill the worker
            log.exception("background job failed unexpectedly")
            return None

    def wait(self, future: Future | None, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` (default: the grace period) for ``future``; True if done."""
        if future is None:
            return True
        done, _ = wait_futures([future], timeout=self.grace_seconds if timeout is None else timeout)
        return bool(done)

    def shutdown(self) -> None:
        """Stop accepting jobs; running ones finish in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)
