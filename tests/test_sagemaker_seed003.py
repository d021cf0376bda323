"""Seed 003 (k-NN on iris) through the unmodified SageMaker Python SDK against a live emulator."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sklearn.neighbors import KNeighborsClassifier

from clients.testing import RunningEmulator
from tests.sagemaker_helpers import iris_split

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _exact_knn_accuracy() -> float:
    train, test = iris_split()
    model = KNeighborsClassifier(n_neighbors=1, algorithm="brute").fit(train.iloc[:, 1:].values, train["Species"])
    return float((model.predict(test.iloc[:, 1:].values) == test["Species"]).mean())


def test_seed003_sdk_flow_in_process(sagemaker_sdk: RunningEmulator, monkeypatch, capsys, tmp_path) -> None:
    """fit prints the log, the metric is exact k-NN's, deploy/predict/delete work (SDK sleeps skipped)."""
    emulator = sagemaker_sdk
    monkeypatch.setenv("S3_DATASET_BUCKET", "seed003-in-process")
    monkeypatch.setenv("SEED003_WORK_DIR", str(tmp_path / "work"))
    sys.modules.pop("clients.examples.seed_003_knn_iris", None)
    import clients.examples.seed_003_knn_iris as seed

    predictions = seed.main()
    output = capsys.readouterr().out
    assert "#test_score (algo-1) : ('accuracy', " in output
    assert "Completed - Training job completed" in output
    expected = _exact_knn_accuracy()
    assert predictions["Result"].mean() == pytest.approx(expected)
    sm = emulator.client("sagemaker")
    job = sm.describe_training_job(TrainingJobName=seed.knn.latest_training_job.name)
    assert job["FinalMetricDataList"][0]["MetricName"] == "test:accuracy"
    assert job["FinalMetricDataList"][0]["Value"] == pytest.approx(expected)
    s3 = emulator.client("s3")
    artefact = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artefact.endswith(f"/{job['TrainingJobName']}/output/model.tar.gz")
    bucket, key = artefact[5:].split("/", 1)
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    assert "sagemaker-knn-ml-t2-medium" not in [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]


def test_seed003_script_runs_against_a_live_emulator(emulator: RunningEmulator, tmp_path) -> None:
    """The example script, unmodified SDK sleeps included, as a user would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env.update(AWS_ENDPOINT_URL=emulator.url, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", S3_DATASET_BUCKET="seed003-script", PYTHONPATH=REPO)
    started = time.monotonic()
    result = subprocess.run([sys.executable, os.path.join(REPO, "clients/examples/seed_003_knn_iris.py")],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "('accuracy', 0.97" in result.stdout
    assert "Deleted sagemaker-knn-ml-t2-medium" in result.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written into the working directory
    assert time.monotonic() - started < 120  # SDK's own waits: 5 s + 30 s
