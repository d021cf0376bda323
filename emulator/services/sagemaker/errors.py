"""SageMaker's error wording, in one place."""

from __future__ import annotations

from emulator.protocol.errors import ServiceError


def validation(message: str) -> ServiceError:
    """SageMaker's ValidationException (HTTP 400)."""
    return ServiceError("ValidationException", message, status=400)


def not_found(message: str) -> ServiceError:
    """SageMaker's ResourceNotFound (HTTP 400)."""
    return ServiceError("ResourceNotFound", message, status=400)


def in_use(message: str) -> ServiceError:
    """SageMaker's ResourceInUse (HTTP 400)."""
    return ServiceError("ResourceInUse", message, status=400)
