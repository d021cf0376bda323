"""moto mounted in-process: the WSGI app for everything the emulator does not own."""

from __future__ import annotations

import functools
import importlib
import os
import re
import threading
from typing import Any, Callable, Iterable

from botocore import xform_name

# A bucket belongs to the account that created it: another account's requests (and the
# emulator's own reads for it, emulator/aws/s3.py) answer AccessDenied, as AWS does
# without a bucket policy. moto reads this setting at every bucket lookup.
os.environ["MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS"] = "false"

# Responses classes of moto for the services that also have an emulator provider;
# used to decide whether an operation no provider implements can go to moto.
_MOTO_RESPONSES = {
    "sagemaker": "moto.sagemaker.responses:SageMakerResponse",
    "glue": "moto.glue.responses:GlueResponse",
    "logs": "moto.logs.responses:LogsResponse",
    "sts": "moto.sts.responses:TokenResponse",
}


# Operations moto answers with canned results (a job "completed" that never ran, a
# notebook or cluster "InService" with nothing behind it, a search that cannot see the
# provider's resources). The emulator answers 501 NotImplemented for them instead, until
# a provider method runs them for real (a provider method always wins: see gateway.py).
_CANNED_BY_MOTO = {
    "sagemaker": re.compile(r"HyperParameterTuningJob|TransformJob|ProcessingJob|CompilationJob|AutoMLJob"
                            r"|^(Create|Start|Stop|Update)NotebookInstance$|^CreateCluster$|^CreateDomain$"
                            r"|^StartPipelineExecution$|^UpdateEndpointWeightsAndCapacities$|^Search$"),
    "glue": re.compile(r"^(StartJobRun|StartCrawler|CreateMLTransform|CreateDevEndpoint|CreateSession"
                       r"|StartTrigger|StartWorkflowRun)$"),
}


_MOTO_APP: list[Callable[..., Iterable[bytes]]] = []
_MOTO_APP_LOCK = threading.Lock()


def moto_wsgi_app() -> Callable[..., Iterable[bytes]]:
    """moto's own server dispatcher (the app behind ``moto_server``), built once (the
    start-up warm-up or the first request that needs it, whichever comes first)."""
    if not _MOTO_APP:
        with _MOTO_APP_LOCK:
            if not _MOTO_APP:
                from moto.moto_server.werkzeug_app import DomainDispatcherApplication

                _MOTO_APP.append(DomainDispatcherApplication(_backend_app))
    return _MOTO_APP[0]


def warm_job_backends(region: str) -> None:
    """Build the moto backends every job writes to (S3, CloudWatch Logs and metrics) for
    the default account and ``region``: each costs tens of milliseconds the first time
    (moto loads its region list), which the first training job or data source would pay."""
    from emulator.aws.identity import DEFAULT_ACCOUNT_ID
    from emulator.aws.logs import LogWriter
    from emulator.aws.metrics import MetricWriter
    from emulator.aws.s3 import S3Store

    S3Store(DEFAULT_ACCOUNT_ID)
    LogWriter(DEFAULT_ACCOUNT_ID, region)
    MetricWriter(DEFAULT_ACCOUNT_ID, region)


def _backend_app(service: str) -> Any:
    """moto's Flask app for ``service``, out of Flask's debug mode (moto turns it on). In
    debug mode Flask gives each request without a form an ad-hoc ``files`` class whose
    closure refers back to the request: a reference cycle that keeps the request's cached
    body (a whole S3 upload) alive until the next full garbage collection. Exceptions still
    propagate to the gateway, as in debug mode."""
    from moto.moto_server.werkzeug_app import create_backend_app

    app = create_backend_app(service)
    app.debug = False
    app.config["PROPAGATE_EXCEPTIONS"] = True
    return app


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
def foreign_bucket_created(environ: dict[str, Any], account_id: str) -> str | None:
    """The bucket name when the request is a CreateBucket (PUT on a bucket, no
    subresource) of a name another account owns; AWS answers BucketAlreadyExists."""
    if environ.get("REQUEST_METHOD") != "PUT" or environ.get("QUERY_STRING") or environ.get("HTTP_X_AMZ_TARGET"):
        return None
    path = environ.get("PATH_INFO", "/").strip("/")
    host = environ.get("HTTP_HOST", "").split(":", 1)[0]
    if path and "/" not in path:
        name = path
    elif not path and host.count(".") >= 1 and not host.replace(".", "").isdigit():
        name = host.split(".", 1)[0]  # virtual-host addressing
    else:
        return None
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(name)
    return name if owner is not None and owner[1] != account_id else None


def call_moto(environ: dict[str, Any], start_response: Callable[..., Any], account_id: str) -> Iterable[bytes]:
    """Forward a WSGI request to moto with the emulator's account for the caller (its answers
    for provider-backed services are made AWS-shaped by ``moto_answers.call_translated``)."""
    environ["HTTP_X_MOTO_ACCOUNT_ID"] = account_id
    return moto_wsgi_app()(environ, start_response)
