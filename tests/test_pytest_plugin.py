"""The pytest plugin's fixtures (``mock_ml``, ``aws_ml_emulator``), used here without any import."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[1]


def test_plugin_is_registered_by_a_pytest11_entry_point(request: pytest.FixtureRequest) -> None:
    entry = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    assert entry == {"aws_ml_emulator": "clients.pytest_plugin"}
    assert request.config.pluginmanager.has_plugin("aws_ml_emulator") or \
        request.config.pluginmanager.has_plugin("clients.pytest_plugin")


def test_mock_ml_fixture_answers_in_process(mock_ml) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="fixture-bucket")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["fixture-bucket"]
    assert mock_ml.emulator.store.partitions() == []  # nothing but S3 was touched


def test_server_fixture_sets_the_environment(aws_ml_emulator) -> None:
    assert os.environ["AWS_ENDPOINT_URL"] == aws_ml_emulator.url.rstrip("/")
    s3 = boto3.client("s3")  # endpoint, credentials and region all come from the environment
    s3.create_bucket(Bucket="left-behind")
    sm = boto3.client("sagemaker")
    sm.create_model(ModelName="left-behind", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                    PrimaryContainer={"Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1"})
    assert boto3.client("sagemaker").describe_model(ModelName="left-behind")["ModelName"] == "left-behind"


def test_server_fixture_is_reset_between_tests(aws_ml_emulator) -> None:
    assert boto3.client("s3").list_buckets()["Buckets"] == []
    with pytest.raises(ClientError) as missing:
        boto3.client("sagemaker").describe_model(ModelName="left-behind")
    assert missing.value.response["Error"]["Code"] == "ValidationException"


def test_reset_route_empties_a_running_server(aws_ml_emulator) -> None:
    import urllib.request

    boto3.client("s3").create_bucket(Bucket="before-reset")
    request = urllib.request.Request(f"{aws_ml_emulator.url}/_emulator/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert boto3.client("s3").list_buckets()["Buckets"] == []
