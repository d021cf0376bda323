"""WSGI gateway: decide which service and operation a request is, then dispatch.

Requests for an operation a provider implements are parsed, validated and answered
here; everything else (S3, IAM, Logs, operations no provider owns) goes to moto,
mounted in the same process, with the caller's account. ``/_emulator/*`` belongs to
the Flask app (health, emulator-specific read-only routes).
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from io import BytesIO
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.exceptions import UnknownServiceError
from botocore.model import OperationNotFoundError, ServiceModel
from werkzeug.wsgi import ClosingIterator

from emulator.aws.identity import Caller, request_caller
from emulator.aws.moto_answers import call_translated
from emulator.aws.moto_bridge import call_moto, foreign_bucket_created, moto_implements
from emulator.context import RequestContext
from emulator.engines.memory import give_back_freed_memory
from emulator.protocol import serializer
from emulator.protocol.errors import ServiceError, validation_error_code
from emulator.protocol.limits import CONTROL_PLANE_BYTES, INVOKE_ENDPOINT_BYTES, BodyTooLarge
from emulator.protocol.models import operation_model, service_model
from emulator.protocol.parser import RawRequest, match_rest_operation, parse_json_body, parse_query, parse_rest_json
from emulator.protocol.serializer import WireResponse
from emulator.protocol.validator import ValidationFailed, validate
from emulator.runtime import Emulator

log = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

LARGE_BODY_BYTES = 16 * 1024 * 1024
"""A request body from this size on (an S3 upload of a data file) has the freed heap
returned to the system after its answer."""
_STATUS_TEXT = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
                413: "Request Entity Too Large", 424: "Failed Dependency", 429: "Too Many Requests", 500: "Internal Server Error",
                501: "Not Implemented", 503: "Service Unavailable"}


class AwsGateway:
    """The WSGI entry point in front of the Flask app and moto."""

    def __init__(self, emulator: Emulator, flask_app: WsgiApp) -> None:
        self.emulator = emulator
        self.flask_app = flask_app
        self.json_services: dict[str, str] = {}
        self.rest_services: list[str] = []
        self.query_services: dict[str, str] = {}
        for name in emulator.providers:
            model = service_model(name)
            if model.protocol == "json":
                self.json_services[model.metadata["targetPrefix"]] = name
            elif model.protocol == "rest-json":
                self.rest_services.append(name)
            elif model.protocol == "query":
                self.query_services[model.signing_name] = name
        self.limited_signing_names = {service_model(n).signing_name for n in emulator.providers} | {"logs", "iam"}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/_emulator"):
            return self.flask_app(environ, start_response)
        answer = self._answer(environ, start_response)
        if _content_length(environ) >= LARGE_BODY_BYTES:
            # the body's copies (werkzeug's, moto's) are freed by now, but below glibc's mmap
            # threshold they stay in the heap: give them back once the answer is sent
            return ClosingIterator(answer, give_back_freed_memory)
        return answer

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query, caller = request_caller(environ)
        try:
            environ["emulator.body_limit"] = self._body_limit(environ, caller)
            response = self._dispatch(environ, query, caller)
        except BodyTooLarge as exc:  # refused before the body is read whole
            response = WireResponse(413, json.dumps({"message": str(exc)}).encode(),
                                    {"Content-Type": "application/json", "Connection": "close"})
        except Exception:  # last line of defence: AWS-shaped, never a traceback
            log.exception("unhandled error")
            response = serializer.json_error(ServiceError("InternalFailure", "The server encountered an internal error"), 500, None)
        if response is None and "emulator.moto_for" in environ:  # an operation of a provider-backed service
            service, operation = environ["emulator.moto_for"]
            try:
                response = call_translated(lambda start: call_moto(environ, start, caller.account_id),
                                           service, operation)
            except NotImplementedError as exc:
                response = self._error(service, ServiceError("NotImplemented", f"{exc} by aws-ml-emulator or moto"),
                                       new_request_id())
            except ServiceError as error:
                response = self._error(service, error, new_request_id())
        if response is None:
            try:
                return call_moto(environ, _with_request_id(start_response), caller.account_id)
            except NotImplementedError as exc:  # moto lacks the operation too
                response = _fallback_error(environ, ServiceError("NotImplemented", f"{exc} by aws-ml-emulator or moto"))
            except Exception:  # a moto failure must not become a traceback page
                log.exception("moto failed")
                response = _fallback_error(environ, ServiceError("InternalFailure", "The server encountered an internal error"))
        headers = dict(response.headers)
        if "x-amzn-RequestId" not in headers:
            headers["x-amzn-RequestId"] = new_request_id()
        headers["Content-Length"] = str(len(response.body))
        start_response(f"{response.status} {_STATUS_TEXT.get(response.status, 'Status')}", list(headers.items()))
        return [response.body]

    def _body_limit(self, environ: dict[str, Any], caller: Caller) -> int | None:
        """The body size limit of the request's service (None: S3 and the like, unlimited).
        Raises BodyTooLarge at once when Content-Length already says more."""
        signing = caller.signing_service
        if signing == "sagemaker" and environ.get("PATH_INFO", "").startswith("/endpoints/"):
            limit: int | None = INVOKE_ENDPOINT_BYTES
        elif environ.get("HTTP_X_AMZ_TARGET") or signing in self.limited_signing_names:
            limit = CONTROL_PLANE_BYTES
        else:
            return None
        if _content_length(environ) > limit:
            raise BodyTooLarge(limit)
        return limit

    def _dispatch(self, environ: dict[str, Any], query: dict[str, str], caller: Caller) -> WireResponse | None:
        """A response, or None to hand the request to moto."""
        target = environ.get("HTTP_X_AMZ_TARGET")
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        if target:
            prefix, _, operation = target.partition(".")
            service = self.json_services.get(prefix)
            if service is None:
                if not _target_exists(caller.signing_service, prefix, operation):  # moto could not route it either
                    return serializer.json_error(ServiceError("UnknownOperationException", f"Unknown target {target}"), 400, "1.1")
                try:  # moto ignores bodies it cannot parse; AWS refuses them
                    parse_json_body(_read_body(environ))
                except ServiceError as error:
                    return serializer.json_error(error, 400, "1.1")
                return None
            return self._handle(service, operation, environ, query, caller, None)
        for service in self.rest_services:
            if caller.signing_service not in (None, service_model(service).signing_name):
                continue
            matched = match_rest_operation(service, method, path)
            if matched:
                return self._handle(service, matched[0], environ, query, caller, matched[1])
        for service in self.rest_services:  # an empty or odd label (``/endpoints//invocations``): AWS validates it
            if caller.signing_service not in (None, service_model(service).signing_name):
                continue
            matched = match_rest_operation(service, method, path, loose=True)
            if matched:
                return self._handle(service, matched[0], environ, query, caller, matched[1])
        signed = _signed_model(caller.signing_service)
        if signed is not None and signed.protocol == "json" and signed.signing_name != "s3":
            # a JSON-protocol service needs X-Amz-Target; moto would crash or answer an HTML 404
            return serializer.json_error(ServiceError(
                "UnknownOperationException", "The request has no X-Amz-Target header naming an operation of "
                f"{signed.service_name}"), 400, signed.metadata.get("jsonVersion", "1.1"))
        if caller.signing_service in (None, "s3") and foreign_bucket_created(environ, caller.account_id):
            return WireResponse(409, (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>BucketAlreadyExists</Code><Message>The "
                "requested bucket name is not available. The bucket namespace is shared by all users of the system. "
                "Please select a different name and try again.</Message><BucketName>"
                f"{escape(path.strip('/') or environ.get('HTTP_HOST', ''))}</BucketName></Error>").encode(),
                {"Content-Type": "application/xml"})
        query_model = _query_model(caller.signing_service)
        form_post = method == "POST" and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", "")
        if query_model is not None and not form_post and "Action" not in query:
            return serializer.query_error(ServiceError("MissingAction", "Missing Action"), 400, new_request_id())
        if query_model is not None and (form_post or "Action" in query):
            body = _read_body(environ) if form_post else b""
            action, _ = parse_query(_raw(environ, query, body), dict(parse_qsl(body.decode("utf-8", "replace"))))
            service = self.query_services.get(caller.signing_service or "")
            if service and action and self.emulator.providers[service].handler(action):
                return self._handle(service, action, environ, query, caller, None, body)
            if action not in query_model.operation_names:
                if not action:
                    return serializer.query_error(ServiceError("MissingAction", "Missing Action"), 400,
                                                  new_request_id())
                return serializer.query_error(ServiceError("InvalidAction", f"Could not find operation {action} for "
                                                           f"version {query_model.api_version}"), 400, new_request_id())
        return None

    def _handle(self, service: str, operation: str, environ: dict[str, Any], query: dict[str, str],
                caller: Caller, uri_params: dict[str, str] | None, body: bytes | None = None) -> WireResponse | None:
        model = service_model(service)
        request_id = new_request_id()
        environ["emulator.operation"] = (service, operation)  # for the request log
        try:
            op_model = operation_model(service, operation)
        except OperationNotFoundError:
            return self._error(service, ServiceError("UnknownOperationException", f"Unknown operation {operation}"), request_id)
        provider = self.emulator.providers[service]
        handler = provider.handler(operation)
        if handler is None and not moto_implements(service, operation):
            return self._error(service, ServiceError(
                "NotImplemented", f"The operation {operation} of service {service} is not implemented by aws-ml-emulator"),
                request_id)
        body = body if body is not None else _read_body(environ)
        try:
            if model.protocol == "json":  # the body is all an awsJson request has to parse
                params = parse_json_body(body)
            elif model.protocol == "rest-json":
                params = parse_rest_json(op_model, _raw(environ, query, body), uri_params or {})
            else:
                params = parse_query(_raw(environ, query, body), dict(parse_qsl(body.decode("utf-8", "replace"))))[1]
            try:
                params = validate(op_model.input_shape, params, blob_base64=model.protocol == "json",
                                  unchecked_patterns=provider.unchecked_patterns)
            except ValidationFailed as exc:
                code = validation_error_code(service, [e.name for e in op_model.error_shapes])
                raise ServiceError(code, str(exc)) from exc
            if handler is None:
                environ["emulator.moto_for"] = (service, operation)
                return None  # valid input for an operation moto serves
            ctx = RequestContext(
                emulator=self.emulator, service=service, operation=operation, account_id=caller.account_id,
                region=caller.region or self.emulator.config.region, request_id=request_id,
                base_url=_base_url(environ), access_key=caller.access_key)
            try:
                result = handler(ctx, params)
            except RecursionError:  # a DataSchema, recipe or body nested beyond reason
                raise ServiceError(validation_error_code(service, [e.name for e in op_model.error_shapes]),
                                   "The request is nested too deeply to be processed") from None
        except ServiceError as error:
            return self._error(service, error, request_id)
        return self._serialise(service, op_model, result, request_id)

    @staticmethod
    def _serialise(service: str, op_model: Any, result: dict[str, Any] | None, request_id: str) -> WireResponse:
        model = service_model(service)
        if model.protocol == "json":
            response = serializer.json_response(op_model, result, model.metadata.get("jsonVersion", "1.1"))
        elif model.protocol == "rest-json":
            response = serializer.rest_json_response(op_model, result)
        else:
            namespace = model.metadata.get("xmlNamespace", "")
            if isinstance(namespace, dict):
                namespace = namespace.get("uri", "")
            response = serializer.query_response(op_model, result, namespace, request_id)
        response.headers["x-amzn-RequestId"] = request_id
        return response

    @staticmethod
    def _error(service: str, error: ServiceError, request_id: str) -> WireResponse:
        model = service_model(service)
        status = error.http_status(service)
        if model.protocol == "query":
            response = serializer.query_error(error, status, request_id)
        else:
            version = model.metadata.get("jsonVersion", "1.1") if model.protocol == "json" else None
            response = serializer.json_error(error, status, version)
        response.headers["x-amzn-RequestId"] = request_id
        return response


def new_request_id() -> str:
    """A random request ID in UUID4 form (no system call: request IDs need not be secret)."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def _signed_model(signing_service: str | None) -> ServiceModel | None:
    """botocore's model of the service a request is signed for, when its signing name finds one."""
    if not signing_service:
        return None
    try:
        return service_model(signing_service)
    except UnknownServiceError:
        return None


def _query_model(signing_service: str | None) -> ServiceModel | None:
    """The model of the query-protocol service a request is signed for (STS, IAM ...), if any."""
    model = _signed_model(signing_service)
    return model if model is not None and model.protocol == "query" else None


def _target_exists(signing_service: str | None, prefix: str, operation: str) -> bool:
    """Whether ``prefix.operation`` may be an operation of the service the request is signed for.

    False for unsigned requests and for targets the signed JSON service's model does not
    have; True when the model cannot tell (no model under that signing name, not JSON).
    """
    if signing_service is None:
        return False
    model = _signed_model(signing_service)
    if model is None or model.protocol != "json" or not model.metadata.get("targetPrefix"):
        return True
    return prefix == model.metadata["targetPrefix"] and operation in model.operation_names


def _fallback_error(environ: dict[str, Any], error: ServiceError) -> WireResponse:
    """An error for a request of a service without a provider: JSON for JSON protocols, else XML."""
    status = error.http_status(None)
    if environ.get("HTTP_X_AMZ_TARGET") or "json" in environ.get("CONTENT_TYPE", ""):
        return serializer.json_error(error, status, "1.1")
    return serializer.query_error(error, status, new_request_id())


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the body once and put it back so moto can still read it."""
    cached = environ.get("emulator.body")
    if cached is not None:
        return cached
    length = _content_length(environ)
    limit = environ.get("emulator.body_limit")
    stream = environ["wsgi.input"]
    if length > 0:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):  # chunked: read no more than the limit allows
        body = stream.read(limit + 1) if limit else stream.read()
    else:
        body = b""
    if limit and len(body) > limit:
        raise BodyTooLarge(limit)
    environ["emulator.body"] = body
    environ["wsgi.input"] = BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _raw(environ: dict[str, Any], query: dict[str, str], body: bytes) -> RawRequest:
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return RawRequest(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/"), query, headers, body)


def _base_url(environ: dict[str, Any]) -> str:
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}"


def _with_request_id(start_response: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if not any(k.lower() == "x-amzn-requestid" for k, _ in headers):
            headers = [*headers, ("x-amzn-RequestId", new_request_id())]
        return start_response(status, headers, exc_info)

    return wrapped


def _content_length(environ: dict[str, Any]) -> int:
    """The declared body size (0 when absent or not a number)."""
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
