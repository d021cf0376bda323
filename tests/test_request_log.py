"""The server log: one line per API request (moto-served included), job lifecycle lines, JSON format."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.server_process import start, stop

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _client(service: str, url: str, key: str = "test") -> Any:
    return boto3.client(service, endpoint_url=url, region_name="eu-west-1", aws_access_key_id=key,
                        aws_secret_access_key="test")


def _wait_for(url: str, log: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_emulator/health", timeout=1):
                return
        except OSError:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)


def _lines_until(log: Path, needle: str) -> list[str]:
    """The log's lines once one contains ``needle`` (the line is written after the response)."""
    deadline = time.monotonic() + 10
    while True:
        lines = log.read_text().splitlines()
        if any(needle in line for line in lines):
            return lines
        assert time.monotonic() < deadline, f"{needle!r} never logged:\n" + "\n".join(lines)
        time.sleep(0.02)


@pytest.fixture(scope="module")
def json_server(tmp_path_factory: pytest.TempPathFactory):
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "w") as out:
        process = start(["--port", str(port), "--log-format", "json"], cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, log, process)
        yield url, log
    finally:
        assert stop(process, timeout=10) == 0, "the emulator did not stop cleanly within 10 s of SIGTERM"


def test_start_up_prints_url_data_dir_services_and_the_clients_hint(json_server) -> None:
    url, log = json_server
    text = log.read_text()
    assert f"listening on {url}" in text
    assert "data dir:  none (state is in memory)" in text
    assert "machinelearning" in text and "sagemaker" in text and "s3" in text
    assert f'eval "$(python -m clients {url})"' in text


def test_failing_calls_are_logged_with_operation_and_error_names(json_server) -> None:
    url, log = json_server
    with pytest.raises(ClientError):
        _client("sagemaker", url, "210987654321").describe_training_job(TrainingJobName="no-such-job")
    with pytest.raises(ClientError):  # served by moto
        _client("s3", url).get_object(Bucket="no-such-bucket-here", Key="k")
    lines = _lines_until(log, "NoSuchBucket")
    records = [json.loads(line) for line in lines if line.startswith("{")]
    requests = [r for r in records if r["logger"] == "emulator.requests"]
    failed = next(r for r in requests if r["operation"] == "DescribeTrainingJob")
    assert (failed["service"], failed["status"], failed["error"]) == ("sagemaker", 400, "ValidationException")
    assert (failed["account"], failed["region"]) == ("210987654321", "eu-west-1")
    assert failed["ms"] >= 0
    assert "sagemaker.DescribeTrainingJob 400 ValidationException" in failed["message"]
    moto_served = next(r for r in requests if r["operation"] == "GetObject")
    assert (moto_served["service"], moto_served["status"], moto_served["error"]) == ("s3", 404, "NoSuchBucket")
    assert not any(r["operation"].startswith("GET /_emulator") for r in requests)  # health polls stay at DEBUG


def test_a_failed_training_job_logs_its_lifecycle_with_the_reason(json_server) -> None:
    url, log = json_server
    s3, sm = _client("s3", url), _client("sagemaker", url)
    s3.create_bucket(Bucket="lifecycle-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    sm.create_training_job(
        TrainingJobName="lifecycle-knn", RoleArn="arn:aws:iam::123456789012:role/r",
        AlgorithmSpecification={"TrainingImage": "438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1",
                                "TrainingInputMode": "File"},
        HyperParameters={"k": "1", "sample_size": "10", "feature_dim": "2", "predictor_type": "classifier"},
        InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": "s3://lifecycle-bucket/missing/"}}}],
        OutputDataConfig={"S3OutputPath": "s3://lifecycle-bucket/out"},
        ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60})
    lines = _lines_until(log, "lifecycle-knn Downloading -> Failed")
    jobs = [json.loads(line) for line in lines if line.startswith("{") and '"emulator.jobs"' in line]
    mine = [j for j in jobs if j.get("name") == "lifecycle-knn"]
    assert mine[0]["message"] == "training job lifecycle-knn created (Starting)"
    assert [j["status"] for j in mine][:2] == ["Starting", "Downloading"]
    failed = mine[-1]
    assert failed["level"] == "WARNING" and failed["status"] == "Failed" and failed["previous"] == "Downloading"
    assert "s3://lifecycle-bucket/missing/" in failed["reason"]


def test_browser_gets_a_home_page_while_signed_get_root_lists_buckets(json_server) -> None:
    url, _ = json_server
    request = urllib.request.Request(f"{url}/", headers={"Accept": "text/html,application/xhtml+xml"})
    with urllib.request.urlopen(request, timeout=5) as response:
        page = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/html")
    assert 'href="/_emulator/health"' in page and 'href="/_emulator/readme"' in page
    with urllib.request.urlopen(f"{url}/_emulator/readme", timeout=5) as response:
        assert "# aws-ml-emulator" in response.read().decode()
    s3 = _client("s3", url)
    s3.create_bucket(Bucket="home-page-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert "home-page-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]  # signed GET / is ListBuckets


def test_text_format_names_operation_and_error(tmp_path: Path) -> None:
    """The default text format, read from an in-process emulator's log records."""
    import io
    import logging

    from clients.mock import mock_ml
    from emulator.log_setup import configure_logging

    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("info", "text", stream)
    try:
        with mock_ml():
            with pytest.raises(ClientError):
                boto3.client("machinelearning", region_name="us-east-1").get_ml_model(MLModelId="missing")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    line = next(l for l in stream.getvalue().splitlines() if "GetMLModel" in l)
    assert " INFO  123456789012 us-east-1 machinelearning.GetMLModel 400 ResourceNotFoundException " in line
    assert line.endswith(" ms")
