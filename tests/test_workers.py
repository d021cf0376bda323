"""The worker-process mechanism (emulator/workers.py) without HTTP: results, errors,
memory cap, crash, timeout, cancel (the whole process group), concurrency bound."""

from __future__ import annotations

import os
import threading
import time

import pytest

from emulator import workers
from tests import worker_tasks as tasks


@pytest.fixture(autouse=True)
def small_pool():
    before = workers.stats()
    workers.configure(memory_mb=256, max_processes=2)
    yield
    workers.configure(memory_mb=before["memory_mb"], max_processes=before["max_processes"])


def test_result_and_exception_come_back() -> None:
    assert workers.run(tasks.add, 2, 3) == 5
    assert workers.run("tests.worker_tasks:add", 4, b=5) == 9
    with pytest.raises(ValueError, match="bad input"):
        workers.run(tasks.fail, "bad input")


def test_allocation_over_the_cap_is_out_of_memory_not_death() -> None:
    assert workers.run(tasks.allocate, 64) == 64 * 1024 * 1024  # under the cap: fine
    with pytest.raises(workers.WorkerOutOfMemory, match="out of memory"):
        workers.run(tasks.allocate, 2048)  # 2 GB against a 256 MB cap: refused, never allocated
    assert workers.run(tasks.add, 1, 1) == 2  # and the next job runs


def test_native_crash_is_reported() -> None:
    with pytest.raises(workers.WorkerCrashed, match="signal 11"):
        workers.run(tasks.crash)


def test_timeout_kills_within_a_second() -> None:
    started = time.monotonic()
    with pytest.raises(workers.WorkerTimeout):
        workers.run(tasks.spin, timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_cancel_kills_the_process_group(tmp_path) -> None:
    pid_file = tmp_path / "pid"
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(workers.WorkerCancelled):
        workers.run(tasks.spawn_grandchild_and_spin, str(pid_file), cancel=cancel)
    assert time.monotonic() - started < 2.0
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 2
    while _alive(grandchild):
        assert time.monotonic() < deadline, "grandchild survived"
        time.sleep(0.02)


def test_jobs_beyond_the_bound_visibly_wait() -> None:
    cancels = [threading.Event() for _ in range(2)]
    errors: list[BaseException] = []

    def hold(event: threading.Event) -> None:
        try:
            workers.run(tasks.spin, cancel=event)
        except workers.WorkerCancelled as exc:
            errors.append(exc)

    holders = [threading.Thread(target=hold, args=(c,)) for c in cancels]
    for thread in holders:
        thread.start()
    deadline = time.monotonic() + 10
    while workers.stats()["running"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    waited = threading.Event()
    result: list[int] = []
    third = threading.Thread(target=lambda: result.append(workers.run(tasks.add, 1, 2, on_wait=waited.set)))
    third.start()
    assert waited.wait(5)
    assert workers.stats()["waiting"] == 1 and not result
    cancels[0].set()
    third.join(10)
    assert result == [3]
    cancels[1].set()
    for thread in holders:
        thread.join(5)
    assert len(errors) == 2 and workers.stats()["running"] == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_openmp_in_workers_waits_passively() -> None:
    # set in the forkserver before xgboost loads libgomp: idle threads sleep, never spin
    assert "OMP_WAIT_POLICY" not in os.environ or os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    assert workers.run(tasks.openmp_environment) == ("PASSIVE", True)


def _spare_pids(deadline_s: float = 10) -> list[int]:
    """The started spare workers' PIDs, once the background refill has started one."""
    deadline = time.monotonic() + deadline_s
    while not workers.stats()["spares"]:
        assert time.monotonic() < deadline, "no spare worker was started"
        time.sleep(0.02)
    return [child.process.pid for child in workers._POOL.spares]


def test_the_next_job_runs_in_a_worker_started_before_it() -> None:
    first = workers.run(tasks.own_pid)
    spares = _spare_pids()
    assert first not in spares
    second = workers.run(tasks.own_pid)
    assert second in spares  # the spare took the job: its start-up was off the job's path
    assert second not in _spare_pids()  # one job per process: a new spare replaces it
    deadline = time.monotonic() + 5
    while _alive(first) or _alive(second):  # and every process that ran a job is gone
        assert time.monotonic() < deadline, "a worker outlived its job"
        time.sleep(0.02)


def test_a_spare_takes_the_memory_cap_of_its_job() -> None:
    workers.run(tasks.add, 1, 1)
    _spare_pids()  # started under the fixture's 256 MB cap ...
    workers.configure(memory_mb=1024)
    assert workers.run(tasks.allocate, 512) == 512 * 1024 * 1024  # ... runs under its job's
    _spare_pids()
    workers.configure(memory_mb=256)
    with pytest.raises(workers.WorkerOutOfMemory):
        workers.run(tasks.allocate, 512)


def test_shutdown_kills_the_spare_and_refuses_work() -> None:
    workers.run(tasks.add, 1, 1)
    spares = _spare_pids()
    try:
        workers.shutdown(wait_seconds=1)
        assert workers.stats()["spares"] == 0
        assert not any(_alive(pid) for pid in spares)
        with pytest.raises(workers.WorkerCancelled):
            workers.run(tasks.add, 1, 1)
    finally:
        workers.configure()  # open again for the other tests
