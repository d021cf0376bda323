"""The notebook-instance metadata file that makes ``sagemaker.get_execution_role()`` work offline.

``get_execution_role()`` -> ``Session.get_caller_identity_arn()`` first reads
``/opt/ml/metadata/resource-metadata.json`` (present on SageMaker notebook instances
and Studio) and returns its ``ExecutionRoleArn`` without any API call. Only when the
file is missing does it call STS, on ``https://sts.<region>.amazonaws.com`` passed
explicitly (``AWS_ENDPOINT_URL`` cannot redirect it), which fails offline. Writing
this file is the opt-in: ``python -m clients --notebook-metadata`` (needs write access
to ``/opt/ml``: run it as root, e.g. in a container or with sudo).
"""

from __future__ import annotations

import json
import os

DEFAULT_PATH = "/opt/ml/metadata/resource-metadata.json"
ROLE_NAME = "AmazonSageMaker-ExecutionRole-Emulator"


def metadata_path() -> str:
    """Where the installed SageMaker SDK looks (its ``NOTEBOOK_METADATA_FILE``), else the documented path."""
    try:
        from sagemaker import session
    except ImportError:
        return DEFAULT_PATH
    return getattr(session, "NOTEBOOK_METADATA_FILE", DEFAULT_PATH)


def execution_role_arn(account_id: str = "123456789012") -> str:
    """The role the emulator's STS GetCallerIdentity assumes, as an IAM role ARN."""
    return f"arn:aws:iam::{account_id}:role/{ROLE_NAME}"


def write_notebook_metadata(path: str | None = None, account_id: str | None = None) -> str:
    """Write ``{"ResourceName": ..., "ExecutionRoleArn": ...}`` (an existing file is left alone); return its path."""
    path = path or metadata_path()
    if os.path.exists(path):
        return path
    if account_id is None:
        key = os.environ.get("AWS_ACCESS_KEY_ID", "")
        account_id = key if len(key) == 12 and key.isdigit() else "123456789012"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"ResourceName": "aws-ml-emulator", "ExecutionRoleArn": execution_role_arn(account_id)}, handle)
    return path
