"""Client-side helpers: boto3 sessions and clients bound to a running emulator."""

from __future__ import annotations

import os
from typing import Any

import boto3

from clients.sagemaker_config import write_sagemaker_config

DEFAULT_URL = "http://127.0.0.1:4599"

__all__ = ["DEFAULT_URL", "emulator_url", "session", "client", "resource", "environment_for", "configure_environment",
           "write_sagemaker_config", "mock_ml"]


def __getattr__(name: str) -> Any:
    """``clients.mock_ml`` imports the in-process emulator only when asked for."""
    if name == "mock_ml":
        from clients.mock import mock_ml

        return mock_ml
    raise AttributeError(f"module 'clients' has no attribute {name!r}")


def emulator_url(url: str | None = None) -> str:
    """The emulator URL: the argument, else ``AWS_ENDPOINT_URL``, else the default port."""
    return url or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_URL


def session(region: str = "us-east-1", access_key: str = "test", secret_key: str = "test") -> boto3.Session:
    """A boto3 session with dummy credentials (a 12-digit access key selects that account)."""
    return boto3.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region)


def client(service: str, url: str | None = None, **session_kwargs: Any) -> Any:
    """A boto3 client for ``service`` talking to the emulator."""
    return session(**session_kwargs).client(service, endpoint_url=emulator_url(url))


def resource(service: str, url: str | None = None, **session_kwargs: Any) -> Any:
    """A boto3 resource for ``service`` talking to the emulator."""
    return session(**session_kwargs).resource(service, endpoint_url=emulator_url(url))


def _emulator_access_key() -> str:
    """Keep a 12-digit access key (it selects the emulator account); never reuse real credentials."""
    key = os.environ.get("AWS_ACCESS_KEY_ID", "")
    return key if len(key) == 12 and key.isdigit() else "test"


def environment_for(url: str | None = None, region: str = "us-east-1", config_dir: str | None = None) -> dict[str, str]:
    """The environment variables that point boto3 / SageMaker SDK code at the emulator.

    ``AWS_ENDPOINT_URL``, dummy credentials, the region, and an SDK config file
    (``SAGEMAKER_USER_CONFIG_OVERRIDE``, written now) so the SageMaker SDK runs offline.
    """
    return {
        "AWS_ENDPOINT_URL": emulator_url(url),
        "AWS_ACCESS_KEY_ID": _emulator_access_key(),
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": write_sagemaker_config(config_dir),
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }


def configure_environment(url: str | None = None, region: str = "us-east-1", config_dir: str | None = None) -> dict[str, str]:
    """Set :func:`environment_for`'s variables in ``os.environ`` and return them."""
    values = environment_for(url, region, config_dir)
    os.environ.update(values)
    return values
