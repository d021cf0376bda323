"""Background runner for asynchronous resources (training, evaluation, crawling...).

"Async like AWS, fast like a library": a job runs at once on a bounded pool, and the
create call may wait a short, configurable grace period for it, so small jobs are
terminal by the caller's first look while large ones stay visibly in progress.
Jobs that depend on another job (a model on its data source) are chained with
``after=`` instead of blocking a worker.

A job's thread only orchestrates (state transitions, S3 reads and writes); its heavy
computation goes through :meth:`JobRunner.work` to a worker process
(:mod:`emulator.workers`), which bounds how many run at once. Threads are therefore
plentiful: a job waiting for a worker process never keeps a light job from running.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any, Callable, Iterable

from emulator import workers

log = logging.getLogger(__name__)

SHUTDOWN_REASON = "the emulator is shutting down"


class JobRunner:
    """A thread pool with dependency chaining, a grace-period wait and worker processes."""

    THREADS = 64
    """Orchestrating threads; the worker-process bound is the real concurrency limit."""

    def __init__(self, max_workers: int = 4, grace_seconds: float = 10.0, memory_mb: int | None = None) -> None:
        self.grace_seconds = grace_seconds
        self.max_workers = max_workers
        self.memory_mb = memory_mb or workers.default_memory_mb()
        self.stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max(self.THREADS, max_workers),
                                        thread_name_prefix="emulator-job")
        self.wrap: Callable[[Callable[[], Any]], Callable[[], Any]] | None = None
        """Applied to every job at submission (persistence flushes a job's states when it ends)."""

    def work(self, fn: Callable[..., Any] | str, *args: Any, cancel: Callable[[], bool] | None = None,
             timeout: float | None = None, on_wait: Callable[[], None] | None = None,
             on_start: Callable[[], None] | None = None, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` in a worker process (see :func:`emulator.workers.run`);
        cancelled as well when this runner shuts down (``WorkerCancelled`` says so)."""

        def cancelled() -> bool:
            if self.stopping.is_set():
                raise workers.WorkerCancelled(SHUTDOWN_REASON)
            return bool(cancel and cancel())

        return workers.run(fn, *args, cancel=cancelled, timeout=timeout, on_wait=on_wait, on_start=on_start,
                           memory_mb=self.memory_mb, **kwargs)

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

    def shutdown(self, wait_seconds: float = 0.0) -> None:
        """Stop accepting jobs and cancel running worker processes; their jobs end in
        their service's stopped or failed state saying the emulator shut down. Waits up
        to ``wait_seconds`` for the job threads to record that."""
        self.stopping.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if wait_seconds > 0:
            deadline = threading.Event()
            timer = threading.Timer(wait_seconds, deadline.set)
            timer.daemon = True
            timer.start()
            while not deadline.is_set() and any(t.is_alive() for t in list(self._pool._threads)):
                deadline.wait(0.05)
            timer.cancel()
