"""SIGINT and SIGTERM stop the server within 10 s, running jobs included: one log line,
no traceback, exit status 0; a second signal changes nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import boto3
import pytest

from tests.sagemaker_helpers import XGBOOST_IMAGE, channel, iris_split, training_request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_with_a_running_job(log) -> tuple[subprocess.Popen, str]:  # noqa: ANN001 - a file
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": ROOT, "EMULATOR_JOB_GRACE_SECONDS": "0"}
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=log)
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
    return process, url


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
        process.kill()
        pytest.fail("the emulator did not exit within 10 s")
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
    process.kill()
    process.wait()
    deadline = time.monotonic() + 5
    while any(_running(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived the server"
        time.sleep(0.1)


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
