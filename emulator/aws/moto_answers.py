"""moto's answers for operations of provider-backed services, made AWS-shaped.

moto serves the operations no provider implements (Glue's Data Catalog, SageMaker
experiments ...). Its answers are translated here so that every error keeps to the
service's model: an error name the model does not have (moto's ``InvalidToken`` for a
bad NextToken ...) becomes the model's validation error with the same message, and a
moto crash becomes a not-found error where the input named something that does not
exist (a ``KeyError``), otherwise ``NotImplemented`` (501) naming the operation.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

from emulator.protocol.errors import COMMON_ERRORS, ServiceError, validation_error_code
from emulator.protocol.models import operation_model, service_model
from emulator.protocol.serializer import WireResponse

log = logging.getLogger(__name__)

_NOT_FOUND = ("ResourceNotFoundException", "EntityNotFoundException", "ResourceNotFound")


def call_translated(call: Callable[[Callable[..., Any]], Any], service: str, operation: str) -> WireResponse:
    """Run moto (``call(start_response)``) for ``service.operation`` and translate its answer."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = int(status.split()[0]), headers
        return lambda _data: None

    try:
        chunks = call(start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - moto's bug must not become a 500
        log.warning("moto failed on %s.%s: %s: %s", service, operation, type(exc).__name__, exc)
        raise crash_error(service, operation, exc) from None
    status = captured.get("status", 500)
    headers = dict(captured.get("headers") or [])
    if status >= 500 and status != 501:
        raise crash_error(service, operation, None)
    if status >= 400:
        name, message = _error_of(body, headers)
        if name not in allowed_errors(service):
            errors = [e.name for e in operation_model(service, operation).error_shapes]
            raise ServiceError(validation_error_code(service, errors), message or f"Invalid request ({name})",
                               status=400)
    return WireResponse(status, body, headers)


def allowed_errors(service: str) -> set[str]:
    """The error names a service may answer: its model's plus the common AWS ones."""
    return {shape.name for shape in service_model(service).error_shapes} | set(COMMON_ERRORS)


def crash_error(service: str, operation: str, exc: Exception | None) -> ServiceError:
    """The error for a moto crash on ``service.operation``."""
    if isinstance(exc, KeyError):
        modelled = {e.name for e in operation_model(service, operation).error_shapes}
        for name in _NOT_FOUND:
            if name in modelled:
                return ServiceError(name, f"The resource named in the request does not exist ({exc})", status=400)
        errors = list(modelled)
        return ServiceError(validation_error_code(service, errors),
                            f"The resource named in the request does not exist ({exc})", status=400)
    return ServiceError("NotImplemented", f"The operation {operation} of service {service} is not supported "
                                          f"by aws-ml-emulator for this input (its moto fallback failed)", status=501)


def _error_of(body: bytes, headers: dict[str, str]) -> tuple[str, str]:
    """(error name, message) of a JSON or XML error answer."""
    name, message = "", ""
    try:
        data = json.loads(body)
        if isinstance(data, dict):
            name = str(data.get("__type") or data.get("code") or data.get("Code") or "")
            message = str(data.get("message") or data.get("Message") or "")
    except ValueError:
        text = body.decode("utf-8", "replace")
        if "<Code>" in text:
            name = text.split("<Code>", 1)[1].split("</Code>", 1)[0]
        if "<Message>" in text:
            message = text.split("<Message>", 1)[1].split("</Message>", 1)[0]
    if not name:
        name = next((v for k, v in headers.items() if k.lower() == "x-amzn-errortype"), "")
    return name.split(":", 1)[0].rsplit("#", 1)[-1], message
