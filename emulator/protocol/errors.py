"""AWS-shaped errors: one exception type carrying the modelled error name."""

from __future__ import annotations

from typing import Any

from emulator.protocol.models import service_model

# Errors every AWS JSON service may answer although few models declare them.
COMMON_ERRORS: dict[str, int] = {
    "ValidationException": 400,
    "SerializationException": 400,
    "UnknownOperationException": 400,
    "MissingAuthenticationTokenException": 403,
    "AccessDeniedException": 403,
    "ThrottlingException": 400,
    "InternalFailure": 500,
    "NotImplemented": 501,
}


class ServiceError(Exception):
    """An error answered to the client as ``{"__type": code, "message": message}``."""

    def __init__(self, code: str, message: str, status: int | None = None,
                 fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}

    def http_status(self, service_name: str | None) -> int:
        """The HTTP status AWS uses for this error: explicit, modelled, common, else 400."""
        if self.status is not None:
            return self.status
        if service_name:
            for shape in service_model(service_name).error_shapes:
                if shape.name == self.code:
                    return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
        return COMMON_ERRORS.get(self.code, 400)


def validation_error_code(service_name: str, operation_errors: list[str]) -> str:
    """The exception a service answers for input violating its model."""
    for candidate in ("InvalidInputException", "ValidationException", "ValidationError"):
        if candidate in operation_errors:
            return candidate
    names = {s.name for s in service_model(service_name).error_shapes}
    for candidate in ("InvalidInputException", "ValidationError"):
        if candidate in names:
            return candidate
    return "ValidationException"
