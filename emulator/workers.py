"""Worker processes: heavy job work runs in a child process, never in a server thread.

Every job type (Amazon ML parsing, statistics, training, evaluation and batch prediction,
SageMaker training, and later crawls, FindMatches tasks, Glue job runs, tuning children)
keeps its orchestration (state transitions) in a light :class:`~emulator.jobs.JobRunner`
thread and hands the computation to :func:`run`::

    result = workers.run(engine.train, algorithm, hyperparameters, channels,
                         timeout=max_runtime, cancel=stop_event)

``fn`` is a module-level function or its name, ``"package.module:function"`` (so
the server need not import the engine); its arguments and result are plain data that
our own code produces (the child only ever returns engine output, never user bytes to
unpickle). The child is forked from a pre-warmed *forkserver* (a clean process started
once, which imports NumPy, pandas, scikit-learn and xgboost), never from the threaded server
itself; one such child is kept started ahead of need (:data:`SPARES`: set up, waiting for
its job on a pipe), so a job starts at once and a new spare is forked while it runs. Every
child runs one job and ends. The child runs in its own
process group under an address-space cap (``RLIMIT_AS``): an allocation bomb ends as
:class:`WorkerOutOfMemory`, never as the server's death. Cancel, timeout and
:func:`shutdown` kill the whole group (grandchildren included) at once.

At most ``max_processes`` children run at once (:func:`configure`); a job beyond that
waits in :func:`run` (``on_wait`` lets it say so in its state) without holding anything
another job waits for.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import multiprocessing.spawn as mp_spawn
import os
import pickle
import resource
import signal
import threading
import time
import traceback
from typing import Any, Callable

log = logging.getLogger(__name__)

PRELOAD = ("emulator._forkserver_init", "emulator.workers", "emulator.engines.amazonml.jobs", "numpy", "pandas", "sklearn.linear_model", "sklearn.neighbors",
           "sklearn.metrics", "xgboost", "emulator.engines.amazonml.sgd", "emulator.engines.amazonml.datasets",
           "emulator.engines.amazonml.statistics", "emulator.engines.amazonml.metrics",
           "emulator.engines.sagemaker.knn", "emulator.engines.sagemaker.linear_learner",
           "emulator.engines.sagemaker.xgboost_algo", "emulator.engines.sagemaker.blazingtext", "fasttext")
"""Modules the forkserver imports once, so that each job's child starts warm."""

POLL_SECONDS = 0.05
SPARES = 1
"""Worker processes kept started and idle, each waiting for one job (its start-up is then
off the job's path); refilled in the background as jobs take them."""
WORKER_NAME = "emulator-worker-"
WORKER_NICENESS = 10
"""Workers run at a lower CPU priority than the server, so API latency stays flat."""


def default_memory_mb() -> int:
    """Half the machine's physical memory, at least 512 MB, at most 16 GB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        total = 4096
    return int(min(16384, max(512, total // 2)))


class WorkerError(Exception):
    """A worker process did not return a result."""


class WorkerOutOfMemory(WorkerError):
    """The job needed more memory than its cap (``--job-memory-mb``)."""

    def __init__(self, message: str, limit_mb: int = 0) -> None:
        super().__init__(message)
        self.limit_mb = limit_mb


class WorkerCrashed(WorkerError):
    """The worker process died (a signal, a native crash) or returned nothing usable."""


class WorkerCancelled(WorkerError):
    """The job was stopped (StopTrainingJob, shutdown ...); ``reason`` says why."""

    def __init__(self, reason: str = "cancelled") -> None:
        super().__init__(reason)
        self.reason = reason


class WorkerTimeout(WorkerCancelled):
    """The job ran past its time limit (MaxRuntimeInSeconds ...)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"time limit of {seconds:g} s exceeded")
        self.seconds = seconds


class _Pool:
    """Process-wide settings, the concurrency bound and the live children."""

    def __init__(self) -> None:
        self.memory_mb = default_memory_mb()
        self.max_processes = 8
        self.lock = threading.Condition()
        self.running: dict[int, multiprocessing.process.BaseProcess] = {}
        self.waiting = 0
        self.closed = False
        self.context = _context()
        self.spares: list[_Child] = []
        self.refilling = False


def _without_main(get_preparation_data: Callable[[str], dict]) -> Callable[[str], dict]:
    """multiprocessing re-imports the parent's ``__main__`` in every child; a worker needs
    none of it (its function is importable), and a script without a ``__main__`` guard
    that starts an emulator would start another one in each worker."""

    def prepare(name: str) -> dict:
        data = get_preparation_data(name)
        if name.startswith(WORKER_NAME):
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    prepare.emulator_patched = True  # type: ignore[attr-defined]
    return prepare


if not getattr(mp_spawn.get_preparation_data, "emulator_patched", False):
    mp_spawn.get_preparation_data = _without_main(mp_spawn.get_preparation_data)


def _context() -> multiprocessing.context.BaseContext:
    try:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        return context
    except ValueError:  # no forkserver on this platform
        return multiprocessing.get_context("spawn")


_POOL = _Pool()


def configure(memory_mb: int | None = None, max_processes: int | None = None) -> None:
    """Set the per-job memory cap and the number of concurrent worker processes."""
    with _POOL.lock:
        if memory_mb:
            _POOL.memory_mb = int(memory_mb)
        if max_processes:
            _POOL.max_processes = max(1, int(max_processes))
        _POOL.closed = False
        _POOL.lock.notify_all()


def stats() -> dict[str, int]:
    """Running, waiting and spare worker counts and the bounds (for health and tests)."""
    with _POOL.lock:
        return {"running": len(_POOL.running), "waiting": _POOL.waiting, "spares": len(_POOL.spares),
                "max_processes": _POOL.max_processes, "memory_mb": _POOL.memory_mb}


def warm_up() -> threading.Thread:
    """Start the forkserver (it imports :data:`PRELOAD`) and a spare worker, in the
    background; the thread ends once the spare is started."""
    thread = threading.Thread(target=_add_spare, args=(True,), name="worker-warm-up", daemon=True)
    thread.start()
    return thread


def _noop() -> None:
    return None


class _Child:
    """A started worker process and the parent's ends of its pipes: the job goes down
    ``jobs``, the outcome (and progress reports) come up ``results``, answers to progress
    reports go down ``answers``."""

    def __init__(self, process: multiprocessing.process.BaseProcess, results: Any, jobs: Any, answers: Any) -> None:
        self.process, self.results, self.jobs, self.answers = process, results, jobs, answers

    def close_pipes(self) -> None:
        for end in (self.results, self.jobs, self.answers):
            try:
                end.close()
            except OSError:
                pass

    def discard(self) -> None:
        """Kill the process (an unused spare) and close the pipes."""
        _kill(self.process)
        self.close_pipes()


def _start_child(name: str) -> _Child:
    """Fork a worker from the forkserver; it sets itself up and waits for its job."""
    context = _POOL.context
    results, results_end = context.Pipe(duplex=False)
    jobs_end, jobs = context.Pipe(duplex=False)
    answers_end, answers = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(results_end, jobs_end, answers_end, os.getpid()),
                              name=f"{WORKER_NAME}{name}", daemon=True)
    try:
        process.start()
    except BaseException:
        for end in (results, jobs, answers):
            end.close()
        raise
    finally:
        for end in (results_end, jobs_end, answers_end):
            end.close()
    return _Child(process, results, jobs, answers)


def _spare_missing() -> bool:
    """True when the open pool has fewer spares than :data:`SPARES` (call under its lock)."""
    return not _POOL.closed and len(_POOL.spares) < SPARES


def _add_spare(report: bool = False) -> None:
    """Start one spare worker unless there are enough or the pool is closed."""
    with _POOL.lock:
        if not _spare_missing():
            _POOL.refilling = False
            return
    child = None
    try:
        child = _start_child("spare")
    except Exception:  # the next job starts its own child (and reports a real failure)
        (log.warning if report else log.debug)("worker processes could not start", exc_info=True)
    with _POOL.lock:
        _POOL.refilling = False
        if child is not None and _spare_missing():
            _POOL.spares.append(child)
            child = None
    if child is not None:
        child.discard()


def _refill() -> None:
    """Start a spare in the background if one is missing."""
    with _POOL.lock:
        if _POOL.refilling or not _spare_missing():
            return
        _POOL.refilling = True
    threading.Thread(target=_add_spare, name="worker-spare", daemon=True).start()


def _take_child(fn: Callable[..., Any] | str) -> _Child:
    """A started spare (a new one is started in the background), else a new child."""
    child = None
    with _POOL.lock:
        while _POOL.spares and child is None:
            candidate = _POOL.spares.pop()
            if candidate.process.is_alive():
                child = candidate
            else:
                candidate.close_pipes()
    _refill()
    return child or _start_child(str(getattr(fn, "__name__", fn)))


def _cancelled(cancel: Any) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def run(fn: Callable[..., Any] | str, *args: Any, memory_mb: int | None = None, timeout: float | None = None,
        cancel: threading.Event | Callable[[], bool] | None = None,
        on_wait: Callable[[], None] | None = None, on_start: Callable[[], None] | None = None,
        progress: Callable[[Any], bool] | None = None, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a fresh worker process; its result, or its exception.

    ``on_wait`` is called once if the job must wait for a free worker, ``on_start`` when
    it then gets one.

    ``progress``: ``fn`` is called with ``progress=report``, a function the child calls
    with plain data (e.g. the log lines of an epoch); ``report`` blocks until this
    process has called ``progress(data)`` and returns its answer (True: stop early), so
    that the decision is taken at exactly that point of the child's work.

    Raises the exception ``fn`` raised (when it pickles), :class:`WorkerOutOfMemory`,
    :class:`WorkerCrashed`, :class:`WorkerCancelled` (``cancel`` set, or :func:`shutdown`)
    or :class:`WorkerTimeout` (``timeout`` seconds after this call, waiting included).
    """
    limit_mb = memory_mb or _POOL.memory_mb
    deadline = None if timeout is None else time.monotonic() + timeout
    waited = _acquire(cancel, on_wait, deadline, timeout)
    if waited and on_start is not None:
        on_start()
    try:
        return _run_child(fn, args, kwargs, limit_mb, deadline, timeout, cancel, progress)
    finally:
        with _POOL.lock:
            _POOL.lock.notify_all()


def _acquire(cancel: Any, on_wait: Callable[[], None] | None, deadline: float | None,
             timeout: float | None) -> bool:
    """Wait for a free worker slot (reserved by a placeholder until the child starts);
    True when it had to wait."""
    told = False
    with _POOL.lock:
        _POOL.waiting += 1
        try:
            while True:
                if _POOL.closed:
                    raise WorkerCancelled("the emulator is shutting down")
                if _cancelled(cancel):
                    raise WorkerCancelled()
                if deadline is not None and time.monotonic() > deadline:
                    raise WorkerTimeout(timeout or 0.0)
                if len(_POOL.running) < _POOL.max_processes:
                    _POOL.running[-threading.get_ident()] = None  # type: ignore[assignment]
                    return told
                if on_wait is not None and not told:
                    told = True
                    _POOL.lock.release()
                    try:
                        on_wait()
                    finally:
                        _POOL.lock.acquire()
                    continue
                _POOL.lock.wait(0.2)
        finally:
            _POOL.waiting -= 1


def _run_child(fn: Callable[..., Any] | str, args: tuple, kwargs: dict, limit_mb: int, deadline: float | None,
               timeout: float | None, cancel: Any, progress: Callable[[Any], bool] | None = None) -> Any:
    placeholder = -threading.get_ident()
    try:
        child = _take_child(fn)
    except BaseException:
        with _POOL.lock:
            _POOL.running.pop(placeholder, None)
        raise
    process = child.process
    with _POOL.lock:
        _POOL.running.pop(placeholder, None)
        _POOL.running[process.pid] = process
        closed = _POOL.closed
    message = None
    try:
        try:
            child.jobs.send((fn, args, kwargs, limit_mb, progress is not None))
        except (BrokenPipeError, ConnectionError, EOFError, OSError):
            pass  # the child died before its job: reported below as a crash
        child.jobs.close()
        while True:
            if closed or _POOL.closed:
                raise WorkerCancelled("the emulator is shutting down")
            if _cancelled(cancel):
                raise WorkerCancelled()
            if deadline is not None and time.monotonic() > deadline:
                raise WorkerTimeout(timeout or 0.0)
            if child.results.poll(POLL_SECONDS):
                try:
                    message = child.results.recv()
                except (EOFError, OSError):
                    message = None
                if message is not None and message[0] == "progress" and progress is not None:
                    _answer(child.answers, _ask(progress, message[1]))
                    message = None
                    continue
                break
            if not process.is_alive():
                message = child.results.recv() if child.results.poll(0) else None
                break
    finally:
        child.close_pipes()
        with _POOL.lock:
            _POOL.running.pop(process.pid, None)
        if message is None:
            _kill(process)
        else:  # the outcome is in: the child's exit (and its group's) need not delay the job
            threading.Thread(target=_kill, args=(process,), name="worker-reap", daemon=True).start()
    return _outcome(message, process, limit_mb)


def _ask(progress: Callable[[Any], bool], data: Any) -> bool:
    try:
        return bool(progress(data))
    except Exception:  # a bug in the listener must not end the job
        log.exception("a worker's progress listener failed")
        return False


def _answer(answer_sender: Any, stop: bool) -> None:
    try:
        answer_sender.send(stop)
    except (BrokenPipeError, ConnectionError, EOFError, OSError):
        pass  # the child is gone; its end is reported by the loop


def _outcome(message: Any, process: multiprocessing.process.BaseProcess, limit_mb: int) -> Any:
    if message is None:
        code = process.exitcode
        what = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        raise WorkerCrashed(f"the worker process ended without a result ({what})")
    kind, payload = message
    if kind == "ok":
        return payload
    if kind == "oom":
        raise WorkerOutOfMemory(f"out of memory: the job needed more than its {limit_mb} MB limit ({payload})",
                                limit_mb)
    if kind == "raise":
        raise payload
    raise WorkerCrashed(str(payload))


def _kill(process: multiprocessing.process.BaseProcess) -> None:
    """SIGKILL the child's process group (the child and anything it started), then reap it."""
    pid = process.pid
    if pid is None:
        return
    if process.is_alive() or process.exitcode is None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.kill()
        except (ProcessLookupError, OSError, ValueError, AttributeError):
            pass
    else:
        try:  # grandchildren left behind by a finished child
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    process.join(5)


def shutdown(wait_seconds: float = 2.0) -> int:
    """Refuse new work and kill every running worker; returns how many were running."""
    with _POOL.lock:
        _POOL.closed = True
        processes = [p for p in _POOL.running.values() if p is not None]
        spares, _POOL.spares = _POOL.spares, []
        _POOL.lock.notify_all()
    for spare in spares:
        spare.discard()
    for process in processes:
        _kill(process)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        with _POOL.lock:
            if not any(_POOL.running.values()):
                break
        time.sleep(POLL_SECONDS)
    return len(processes)


# ------------------------------------------------------------------ inside the child
def _limit_memory(limit_mb: int) -> None:
    """Cap the address space at what the process maps now plus ``limit_mb``."""
    try:
        with open("/proc/self/statm") as handle:
            mapped = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        mapped = 0
    cap = mapped + limit_mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError):
        log.warning("could not cap worker memory at %d MB", limit_mb)


def _resolve(fn: Callable[..., Any] | str) -> Callable[..., Any]:
    if callable(fn):
        return fn
    module, _, name = fn.partition(":")
    return getattr(importlib.import_module(module), name)


def _watch_server(server_pid: int) -> None:
    """Kill this worker's process group when the server is gone (even by SIGKILL)."""
    while True:
        time.sleep(0.5)
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            os.killpg(0, signal.SIGKILL)
        except PermissionError:
            pass


class _Reporter:
    """The ``progress`` function a child gets: send data, wait for the parent's answer."""

    def __init__(self, sender: Any, answers: Any) -> None:
        self.sender, self.answers = sender, answers

    def __call__(self, data: Any) -> bool:
        try:
            self.sender.send(("progress", data))
            return bool(self.answers.recv())
        except (BrokenPipeError, ConnectionError, EOFError, OSError):
            return False  # the parent is gone; it kills this process anyway


def _child_main(results: Any, jobs: Any, answers: Any, server_pid: int) -> None:
    """A worker: set itself up, wait for one job on ``jobs``, run it, send the outcome."""
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when workers end
    try:
        os.nice(WORKER_NICENESS)  # the API's threads come first on a busy CPU
    except OSError:
        pass
    threading.Thread(target=_watch_server, args=(server_pid,), name="server-watch", daemon=True).start()
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, os.cpu_count() or 1)))
    try:
        fn, args, kwargs, limit_mb, with_progress = jobs.recv()
    except (EOFError, OSError):
        return  # an unused spare: the server closed its end
    except BaseException as exc:  # noqa: BLE001 - an argument that does not unpickle here
        _send(results, ("crash", f"the job could not start: {type(exc).__name__}: {exc}"[:2000]))
        return
    finally:
        jobs.close()
    _limit_memory(limit_mb)
    if with_progress:
        kwargs = {**kwargs, "progress": _Reporter(results, answers)}
    try:
        message: tuple[str, Any] = ("ok", _resolve(fn)(*args, **kwargs))
    except MemoryError as exc:
        message = ("oom", f"{type(exc).__name__}: {str(exc)[:200]}")
    except BaseException as exc:  # noqa: BLE001 - everything must reach the parent
        if _looks_out_of_memory(exc):
            message = ("oom", f"{type(exc).__name__}: {str(exc)[:200]}")
        else:
            message = ("raise", _portable(exc))
    try:
        _send(results, message)
    finally:
        try:
            results.close()
        except OSError:
            pass


def _send(sender: Any, message: tuple[str, Any]) -> None:
    """Send the outcome; quietly nothing when the parent has gone (it killed us or exited)."""
    try:
        try:
            sender.send(message)
        except MemoryError:
            sender.send(("oom", "the result did not fit in memory"))
        except (BrokenPipeError, ConnectionError, EOFError):
            raise
        except Exception as exc:  # noqa: BLE001 - an unpicklable result
            sender.send(("crash", f"the job's result could not be returned: {type(exc).__name__}: {exc}"))
    except (BrokenPipeError, ConnectionError, EOFError, OSError):
        pass


def _looks_out_of_memory(exc: BaseException) -> bool:
    text = str(exc)
    return "bad_alloc" in text or "Cannot allocate memory" in text or "out of memory" in text.lower()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a WorkerCrashed carrying its text."""
    try:
        clone = pickle.loads(pickle.dumps(exc))
        if type(clone) is type(exc):
            return exc
    except Exception:  # noqa: BLE001
        pass
    where = traceback.format_exception(type(exc), exc, exc.__traceback__)[-1].strip()
    return WorkerCrashed(f"{type(exc).__name__}: {exc} ({where})"[:2000])
