"""Access to botocore's bundled service models, cached per process.

The models are read with botocore's data loader alone: a ``botocore.session`` would
import botocore's client, waiter and documentation machinery (a third of a second at
start-up) for nothing the server uses.
"""

from __future__ import annotations

import functools
import os

from botocore.loaders import Loader, create_loader
from botocore.model import OperationModel, ServiceModel


@functools.lru_cache(maxsize=1)
def _loader() -> Loader:
    return create_loader(os.environ.get("AWS_DATA_PATH"))  # the search path a botocore session uses


@functools.lru_cache(maxsize=None)
def service_model(service_name: str) -> ServiceModel:
    """Return botocore's model of ``service_name`` (e.g. ``"sagemaker"``).

    Raises ``botocore.exceptions.UnknownServiceError`` for a name botocore does not know.
    """
    data = _loader().load_service_model(service_name, type_name="service-2")
    return ServiceModel(data, service_name=service_name)


def operation_model(service_name: str, operation_name: str) -> OperationModel:
    """Return the model of one operation; raises ``OperationNotFoundError`` if unknown."""
    return service_model(service_name).operation_model(operation_name)
