"""SIGINT and SIGTERM stop the server within 10 s, running jobs included: one log line,
no traceback, exit status 0; a second signal changes nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import boto3
import pytest

from clients.testing import wait_until_healthy
from tests.sagemaker_helpers import XGBOOST_IMAGE, channel, iris_split, training_request
from tests.server_process import kill_group, start

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_with_a_running_job(log) -> tuple[subprocess.Popen, str]:  # noqa: ANN001 - a file
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": ROOT, "EMULATOR_JOB_GRACE_SECONDS": "0"}
    process = start(["--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        return process, _run_a_job(process, port)
    except BaseException:
        kill_group(process)
        raise


def _run_a_job(process: subprocess.Popen, port: int) -> str:
    url = f"http://127.0.0.1:{port}"
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    s3, sm = session.client("s3", endpoint_url=url), session.client("sagemaker", endpoint_url=url)
    deadline = time.monotonic() + 60
    while True:
        try:
            s3.create_bucket(Bucket="shutdown-data")
            break
        except Exception:  # noqa: BLE001 - not listening yet
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
    train, _ = iris_split()
    s3.put_object(Bucket="shutdown-data", Key="train/train.csv", Body=train.to_csv(header=False, index=False))
    sm.create_training_job(**training_request("forever", XGBOOST_IMAGE, {
        "num_round": "1000000000", "objective": "multi:softmax", "num_class": "3"},
        [channel("train", "s3://shutdown-data/train/")], "s3://shutdown-data/out"))
    while len(_descendants(process.pid)) < 3:  # resource tracker, forkserver, and the job's worker
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return url


@pytest.mark.parametrize("signals", [[signal.SIGTERM], [signal.SIGINT, signal.SIGINT]])
def test_signal_stops_the_server_and_its_jobs(signals: list[int], tmp_path) -> None:
    with open(tmp_path / "stderr", "w") as log:
        process, _ = _start_with_a_running_job(log)
    started = time.monotonic()
    for sig in signals:
        process.send_signal(sig)
        time.sleep(0.1)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("the emulator did not exit within 10 s")
    finally:
        kill_group(process)
    stderr = (tmp_path / "stderr").read_text()
    assert time.monotonic() - started < 10
    assert process.returncode == 0
    assert "Traceback" not in stderr
    stopped = [line for line in stderr.splitlines() if "aws-ml-emulator stopped" in line]
    assert len(stopped) == 1 and "1 running job(s) ended" in stopped[0]


def test_killed_server_leaves_no_worker_running(tmp_path) -> None:
    """Even SIGKILL (no clean-up possible): the job's worker process notices and ends."""
    with open(tmp_path / "stderr", "w") as log:
        process, _ = _start_with_a_running_job(log)
    workers = _descendants(process.pid)
    process.kill()  # the server alone, as kill -9 would
    process.wait()
    deadline = time.monotonic() + 5
    try:
        while any(_running(pid) for pid in workers):
            assert time.monotonic() < deadline, "a worker outlived the server"
            time.sleep(0.1)
    finally:
        for pid in workers:  # a failure must not leave them running
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        if int(handle.read().rsplit(")", 1)[1].split()[1]) == parent:
                            found.append(int(entry))
                            todo.append(int(entry))
                except (OSError, ValueError, IndexError):
                    pass
    return found


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ------------------------------------------------------------------ the stop always ends the process
_STUCK_STOP = """
import re, sys, threading, time
from emulator.stopping import StopSignals


class Server:  # serve_forever / shutdown, as socketserver's
    def __init__(self):
        self.stopped = threading.Event()

    def serve_forever(self):
        while not self.stopped.wait(0.05):
            try:
                time.sleep(0.01)  # a request: socketserver logs an Exception raised here and serves on
            except Exception:
                pass

    def shutdown(self):
        self.stopped.set()


stops = StopSignals(deadline_seconds=0.5, hard_deadline_seconds=int(sys.argv[2])).install()
stops.server = server = Server()
print("serving", flush=True)
server.serve_forever()
if sys.argv[1] == "lock":  # the clean stop waits forever on a lock nobody will release
    lock = threading.Lock()
    lock.acquire()
    lock.acquire()
elif sys.argv[1] == "interpreter":  # ... or never gives the interpreter back (catastrophic backtracking in C)
    re.match(r"(a+)+$", "a" * 64 + "b")
print("stopped cleanly", file=sys.stderr)
"""


@pytest.mark.parametrize("stuck, hard, status, message", [("no", 5, 0, "stopped cleanly"),
                                                          ("lock", 5, 1, "did not finish within 0.5 s"),
                                                          ("interpreter", 1, -signal.SIGALRM, "")])
def test_a_stop_that_hangs_still_ends_the_process(stuck: str, hard: int, status: int, message: str) -> None:
    """The first SIGTERM stops serving, whatever the main thread is doing (here: inside a
    request, where an exception would be swallowed), and arms a watchdog (and, should it
    never run, the kernel's SIGALRM); a second SIGTERM changes nothing, so without them a
    stuck stop would run for ever."""
    process = subprocess.Popen([sys.executable, "-c", _STUCK_STOP, stuck, str(hard)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, "PYTHONPATH": ROOT})
    try:
        assert process.stdout.readline() == "serving\n"
        process.send_signal(signal.SIGTERM)
        if stuck == "lock":  # (a Python handler run in the other case would let the watchdog in)
            time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == status
        assert message in process.stderr.read()
    finally:
        kill_group(process)


def test_sigterm_blocked_and_ignored_by_the_parent_still_stops_the_server(tmp_path) -> None:
    """A server started by a process that blocks or ignores SIGTERM (both survive exec) takes
    the signal back: it stops within 10 s, once, cleanly."""
    port = _free_port()
    launcher = ("import os, signal, sys\n"
                "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})\n"
                "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                "os.execv(sys.executable, [sys.executable, '-m', 'emulator', *sys.argv[1:]])\n")
    with open(tmp_path / "stderr", "w") as log:
        process = subprocess.Popen([sys.executable, "-c", launcher, "--port", str(port)], cwd=ROOT,
                                   env={**os.environ, "PYTHONPATH": ROOT}, stdout=subprocess.DEVNULL, stderr=log,
                                   start_new_session=True)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", deadline_seconds=60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        kill_group(process)
    stopped = [line for line in (tmp_path / "stderr").read_text().splitlines() if "aws-ml-emulator stopped" in line]
    assert len(stopped) == 1 and "(SIGTERM)" in stopped[0]


def test_sigterm_while_requests_keep_arriving_stops_the_server(tmp_path) -> None:
    """The signal often lands while the main thread starts a request's thread: the server
    still stops (it used to log the stop as a failed request and serve on, deaf to SIGTERM)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/_emulator/health"
    with open(tmp_path / "stderr", "w") as log:
        process = start(["--port", str(port)], cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
                        stdout=subprocess.DEVNULL, stderr=log)
    done = threading.Event()

    def requests() -> None:
        while not done.is_set():
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    response.read()
            except Exception:  # noqa: BLE001 - refused or cut once it stops
                time.sleep(0.01)

    clients = [threading.Thread(target=requests, daemon=True) for _ in range(4)]
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", deadline_seconds=60)
        for client in clients:
            client.start()
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        done.set()
        kill_group(process)
        for client in clients:
            client.join(timeout=5)
    stderr = (tmp_path / "stderr").read_text()
    assert "Traceback" not in stderr
    assert len([line for line in stderr.splitlines() if "aws-ml-emulator stopped (SIGTERM)" in line]) == 1
