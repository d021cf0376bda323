"""Jobs larger than the grace period stay visibly InProgress; StopTrainingJob stops them."""

from __future__ import annotations

import random
import time

import pytest

from clients.testing import running_emulator
from emulator.config import Config
from tests.sagemaker_helpers import BLAZINGTEXT_IMAGE, channel, training_request


def _poll(describe, until: set[str], deadline_seconds: float = 60.0) -> dict:
    deadline = time.monotonic() + deadline_seconds
    while True:
        job = describe()
        if job["TrainingJobStatus"] in until:
            return job
        assert time.monotonic() < deadline, job["TrainingJobStatus"]
        time.sleep(0.05)


@pytest.fixture(scope="module")
def impatient():
    """An emulator whose create calls do not wait for their jobs at all."""
    with running_emulator(Config(job_grace_seconds=0)) as running:
        yield running


def _slow_job(emulator, name: str, max_runtime: int = 3600) -> dict:
    s3, sm = emulator.client("s3"), emulator.client("sagemaker")
    bucket = f"slow-{name}"
    s3.create_bucket(Bucket=bucket)
    rng = random.Random(0)
    words = [f"w{i}" for i in range(2000)]
    lines = "\n".join(f"__label__{i % 4} " + " ".join(rng.choices(words, k=30)) for i in range(20000))
    s3.put_object(Bucket=bucket, Key="train/t.txt", Body=lines)
    request = training_request(name, BLAZINGTEXT_IMAGE, {"mode": "supervised", "epochs": "6", "min_count": "1"},
                               [channel("train", f"s3://{bucket}/train/", None)], f"s3://{bucket}/out")
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": max_runtime}
    sm.create_training_job(**request)
    return sm.describe_training_job(TrainingJobName=name)


def test_large_job_is_in_progress_then_completes(impatient) -> None:
    sm = impatient.client("sagemaker")
    first = _slow_job(impatient, "slow-complete")
    assert first["TrainingJobStatus"] == "InProgress"
    done = _poll(lambda: sm.describe_training_job(TrainingJobName="slow-complete"), {"Completed", "Failed"})
    assert done["TrainingJobStatus"] == "Completed", done.get("FailureReason")


def test_stop_training_job_stops_a_running_job(impatient) -> None:
    sm = impatient.client("sagemaker")
    assert _slow_job(impatient, "slow-stop")["TrainingJobStatus"] == "InProgress"
    sm.stop_training_job(TrainingJobName="slow-stop")
    assert sm.describe_training_job(TrainingJobName="slow-stop")["TrainingJobStatus"] in ("Stopping", "Stopped")
    stopped = _poll(lambda: sm.describe_training_job(TrainingJobName="slow-stop"), {"Stopped", "Completed", "Failed"})
    assert stopped["TrainingJobStatus"] == "Stopped"
    assert [t["Status"] for t in stopped["SecondaryStatusTransitions"]][-2:] == ["Stopping", "Stopped"]
    with pytest.raises(sm.exceptions.ClientError) as info:
        sm.stop_training_job(TrainingJobName="slow-stop")
    assert "in status Stopped" in info.value.response["Error"]["Message"]


def test_max_runtime_stops_the_job(impatient) -> None:
    sm = impatient.client("sagemaker")
    _slow_job(impatient, "slow-max-runtime", max_runtime=1)
    stopped = _poll(lambda: sm.describe_training_job(TrainingJobName="slow-max-runtime"),
                    {"Stopped", "Completed", "Failed"})
    assert (stopped["TrainingJobStatus"], stopped["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    assert "ModelArtifacts" not in stopped or not stopped["ModelArtifacts"].get("S3ModelArtifacts")
