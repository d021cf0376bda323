"""The SageMaker Python SDK config that lets SDK code run offline against the emulator."""

from __future__ import annotations

import os
import tempfile

DEFAULT_BUCKET = "sm-emulator-default"

CONFIG_TEMPLATE = """SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
      Session:
        DefaultS3Bucket: {bucket}
"""


def sagemaker_config_text(bucket: str = DEFAULT_BUCKET) -> str:
    """YAML for ``SAGEMAKER_USER_CONFIG_OVERRIDE``: no telemetry, a fixed default bucket.

    With it, ``Session.default_bucket()`` needs no STS call to AWS's real endpoint.
    """
    return CONFIG_TEMPLATE.format(bucket=bucket)


def write_sagemaker_config(directory: str | None = None, bucket: str = DEFAULT_BUCKET) -> str:
    """Write the config file and return its path."""
    directory = directory or tempfile.mkdtemp(prefix="aws-ml-emulator-")
    path = os.path.join(directory, "sagemaker-config.yaml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(sagemaker_config_text(bucket))
    return path
