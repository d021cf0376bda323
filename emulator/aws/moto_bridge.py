"""moto mounted in-process: the WSGI app for everything the emulator does not own."""

from __future__ import annotations

import functools
import importlib
import json
import re
from typing import Any, Callable, Iterable

from botocore import xform_name

from emulator.protocol.models import service_model

# Responses classes of moto for the services that also have an emulator provider;
# used to decide whether an operation no provider implements can go to moto.
_MOTO_RESPONSES = {
    "sagemaker": "moto.sagemaker.responses:SageMakerResponse",
    "glue": "moto.glue.responses:GlueResponse",
    "logs": "moto.logs.responses:LogsResponse",
    "sts": "moto.sts.responses:TokenResponse",
}


# Operations moto answers with canned results (a job "completed" that never ran). The
# emulator answers 501 NotImplemented for them instead, until it runs them for real.
_CANNED_BY_MOTO = {
    "sagemaker": re.compile(r"HyperParameterTuningJob|TransformJob|ProcessingJob|CompilationJob|AutoMLJob"),
}


@functools.lru_cache(maxsize=1)
def moto_wsgi_app() -> Callable[..., Iterable[bytes]]:
    """moto's own server dispatcher (the app behind ``moto_server``), built once."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


@functools.lru_cache(maxsize=None)
def moto_implements(service_name: str, operation_name: str) -> bool:
    """True when moto has a handler for the operation of a provider-backed service."""
    target = _MOTO_RESPONSES.get(service_name)
    canned = _CANNED_BY_MOTO.get(service_name)
    if target is None or (canned is not None and canned.search(operation_name)):
        return False
    module_name, _, class_name = target.partition(":")
    try:
        responses = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        return False
    return callable(getattr(responses, xform_name(operation_name), None))


def reset_moto() -> None:
    """Forget every resource moto holds, in every account and region (moto's state is per process)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def call_moto(environ: dict[str, Any], start_response: Callable[..., Any], account_id: str) -> Iterable[bytes]:
    """Forward a WSGI request to moto with the emulator's account for the caller.

    For an operation of a provider-backed JSON service (the gateway sets
    ``environ["emulator.operation"]``), an error name moto invents (``InvalidToken`` for a
    bad NextToken ...) becomes the service's validation error, so clients only ever see
    the model's exception names."""
    environ["HTTP_X_MOTO_ACCOUNT_ID"] = account_id
    target = environ.get("emulator.operation")
    if target is None or service_model(target[0]).protocol != "json":
        return moto_wsgi_app()(environ, start_response)
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured.update(status=status, headers=headers)
        return lambda data: None

    body = b"".join(moto_wsgi_app()(environ, capture))
    status, headers = captured["status"], captured["headers"]
    if status[:1] == "4":
        body = modelled_error_body(target[0], target[1], body)
        headers = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers]
    start_response(status, headers)
    return [body]


def modelled_error_body(service: str, operation: str, body: bytes) -> bytes:
    """moto's JSON error with its ``__type`` replaced by the operation's validation error
    when the name is neither one of the service's exceptions nor a common AWS one."""
    from emulator.protocol.errors import COMMON_ERRORS, validation_error_code

    try:
        error = json.loads(body)
    except ValueError:
        return body
    if not isinstance(error, dict) or not isinstance(error.get("__type"), str):
        return body
    name = error["__type"].rsplit("#", 1)[-1]
    model = service_model(service)
    if name in COMMON_ERRORS or any(shape.name == name for shape in model.error_shapes):
        return body
    errors = [shape.name for shape in model.operation_model(operation).error_shapes]
    message = error.get("message") or error.get("Message") or name
    return json.dumps({"__type": validation_error_code(service, errors), "message": f"{message}"}).encode()
