"""Access to botocore's bundled service models, cached per process."""

from __future__ import annotations

import functools

import botocore.session
from botocore.model import OperationModel, ServiceModel


@functools.lru_cache(maxsize=1)
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.lru_cache(maxsize=None)
def service_model(service_name: str) -> ServiceModel:
    """Return botocore's model of ``service_name`` (e.g. ``"sagemaker"``)."""
    return _session().get_service_model(service_name)


def operation_model(service_name: str, operation_name: str) -> OperationModel:
    """Return the model of one operation; raises ``OperationNotFoundError`` if unknown."""
    return service_model(service_name).operation_model(operation_name)
