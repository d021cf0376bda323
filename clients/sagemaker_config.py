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


def config_directory() -> str:
    """The per-user directory of the config: ``$XDG_CONFIG_HOME/aws-ml-emulator`` (``~/.config/...``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "aws-ml-emulator")


def write_sagemaker_config(directory: str | None = None, bucket: str = DEFAULT_BUCKET) -> str:
    """Write the config file (in :func:`config_directory` unless told) and return its path.

    Idempotent: the same path every time, rewritten only when its content would change
    (atomically, so concurrent callers never see half a file).
    """
    directory = directory or config_directory()
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "sagemaker-config.yaml")
    text = sagemaker_config_text(bucket)
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return path
    except OSError:
        pass
    fd, temporary = tempfile.mkstemp(prefix=".sagemaker-config-", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)
    return path
