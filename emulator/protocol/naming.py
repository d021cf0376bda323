"""Name the operation of any AWS request (``service``, ``Operation``) from its wire form alone.

Used for requests the gateway hands to moto (S3, IAM, Logs ...), so the request log
names them as it names the emulator's own: awsJson by ``X-Amz-Target``, query by
``Action``, REST protocols by method + URI template + the query keys and headers each
operation requires (S3's ``PUT /{Bucket}/{Key+}`` is CopyObject when
``x-amz-copy-source`` is present, UploadPart with ``partNumber`` and ``uploadId`` ...).
Nothing here knows any one service beyond S3's virtual-host addressing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import parse_qsl

from botocore.exceptions import UnknownServiceError
from botocore.model import ServiceModel

from emulator.protocol.models import service_model

# botocore service names whose SigV4 signing name differs (the rest sign with their own name).
_SERVICE_BY_SIGNING_NAME = {"monitoring": "cloudwatch", "sagemaker": "sagemaker"}
_S3_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+?)\.s3[.-]")


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    literal_query: tuple[str, ...]  # keys fixed by the requestUri ("?uploads", "?list-type=2")
    required_query: tuple[str, ...]  # required members bound to the query string
    required_headers: tuple[str, ...]  # lower-cased


def _model(service: str) -> ServiceModel | None:
    try:
        return service_model(service)
    except UnknownServiceError:
        return None


@functools.lru_cache(maxsize=None)
def _routes(service: str) -> tuple[_Route, ...]:
    model = _model(service)
    if model is None or not model.protocol.startswith("rest"):
        return ()
    routes = []
    for name in model.operation_names:
        op = model.operation_model(name)
        path, _, literal = op.http["requestUri"].partition("?")
        pattern = re.sub(r"\\\{(\w+)(\\\+)?\\\}", lambda m: f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)",
                         re.escape(path))
        shape = op.input_shape
        required = set(shape.required_members) if shape is not None else set()
        members = shape.members.items() if shape is not None else ()
        query = tuple(m.serialization.get("name", n) for n, m in members
                      if n in required and m.serialization.get("location") == "querystring")
        headers = tuple(m.serialization.get("name", n).lower() for n, m in members
                        if n in required and m.serialization.get("location") == "header")
        literal_keys = tuple(k for k, _ in parse_qsl(literal, keep_blank_values=True))
        routes.append(_Route(name, op.http["method"], re.compile(f"^{pattern}/?$" if path != "/" else "^/$"),
                             literal_keys, query, headers))
    return tuple(routes)


def service_for_signing_name(signing_name: str) -> str:
    """The botocore service name for a SigV4 signing name (``monitoring`` -> ``cloudwatch``)."""
    return _SERVICE_BY_SIGNING_NAME.get(signing_name, signing_name)


def rest_operation(service: str, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str],
                   host: str = "") -> str | None:
    """The REST operation of ``service`` this request is, best match first; None if none fits.

    ``headers`` have lower-cased names. S3 virtual-host requests (``bucket.s3.amazonaws.com``)
    are matched as their path-style equivalent.
    """
    if service == "s3":
        hosted = _S3_VIRTUAL_HOST.match(host.split(":")[0])
        if hosted and not hosted.group("bucket").startswith("s3"):
            path = f"/{hosted.group('bucket')}{path if path != '/' else ''}"
    best: tuple[int, str] | None = None
    for route in _routes(service):
        if route.method != method or not route.pattern.match(path):
            continue
        if any(k not in query for k in route.literal_query) or any(k not in query for k in route.required_query) \
                or any(h not in headers for h in route.required_headers):
            continue
        score = 10 * len(route.literal_query) + len(route.required_query) + len(route.required_headers)
        if best is None or score > best[0]:
            best = (score, route.operation)
    return best[1] if best else None


def name_request(method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str],
                 signing_name: str | None, form: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``(service, Operation)`` for a request, with ``"?"`` for what cannot be told.

    ``headers`` have lower-cased names; ``form`` is a form-encoded body, if any.
    """
    service = service_for_signing_name(signing_name) if signing_name else "?"
    target = headers.get("x-amz-target")
    if target:
        prefix, _, operation = target.rpartition(".")
        return (service if signing_name else prefix or "?"), operation or "?"
    action = query.get("Action") or (form or {}).get("Action")
    if action:
        return service, action
    if signing_name:
        operation = rest_operation(service, method, path, query, headers, headers.get("host", ""))
        if operation:
            return service, operation
    return service, "?"
