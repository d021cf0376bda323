"""moto mounted in-process: the WSGI app for everything the emulator does not own."""

from __future__ import annotations

import functools
import importlib
import re
from typing import Any, Callable, Iterable

from botocore import xform_name

# Responses classes of moto for the services that also have an emulator provider;
# used to decide whether an operation no provider implements can go to moto.
_MOTO_RESPONSES = {
    "sagemaker": "moto.sagemaker.responses:SageMakerResponse",
    "glue": "moto.glue.responses:GlueResponse",
    "logs": "moto.logs.responses:LogsResponse",
    "sts": "moto.sts.responses:TokenResponse",
}


# Operations moto answers with canned results (a job "completed" that never ran). The
# emulator answers 501 NotImplemented for those no provider implements (a provider
# method always takes precedence: tuning and transform jobs are run by the sagemaker
# provider; DeleteHyperParameterTuningJob, processing, compilation, AutoML are not).
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


def call_moto(environ: dict[str, Any], start_response: Callable[..., Any], account_id: str) -> Iterable[bytes]:
    """Forward a WSGI request to moto with the emulator's account for the caller."""
    environ["HTTP_X_MOTO_ACCOUNT_ID"] = account_id
    return moto_wsgi_app()(environ, start_response)
