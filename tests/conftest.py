"""Shared fixtures: one real emulator over HTTP on 127.0.0.1 for the whole session."""

from __future__ import annotations

import os
import uuid
from importlib.metadata import entry_points
from typing import Any, Callable, Iterator

import pytest

from clients.testing import RunningEmulator, running_emulator
from emulator.config import Config

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

# The package's pytest plugin (fixtures mock_ml, aws_ml_emulator) comes from its pytest11
# entry point once installed; a checkout used through PYTHONPATH loads it here instead.
if not any(ep.name == "aws_ml_emulator" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["clients.pytest_plugin"]


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningEmulator]:
    """A live emulator on a free port."""
    with running_emulator(Config(job_grace_seconds=20.0)) as running:
        yield running


@pytest.fixture
def aws(emulator: RunningEmulator) -> Callable[..., Any]:
    """``aws("s3")`` -> a boto3 client of the default account against the emulator."""
    return emulator.client


@pytest.fixture
def bucket(aws: Callable[..., Any]) -> str:
    """A fresh S3 bucket in the default account."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    aws("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def sagemaker_sdk(emulator: RunningEmulator, tmp_path, monkeypatch) -> RunningEmulator:
    """Environment for unmodified SageMaker SDK code against the emulator, with the SDK's
    client-side sleeps (5 s before the first Describe, 30 s after CreateEndpoint) skipped."""
    from clients import environment_for

    for name, value in environment_for(emulator.url, config_dir=str(tmp_path)).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sagemaker.session.time.sleep", lambda seconds: None)
    return emulator
