"""WSGI middleware: one log line per API request.

    12:00:01.234 INFO  123456789012 us-east-1 sagemaker.DescribeTrainingJob 400 ValidationException 3 ms

Time (from the log formatter), account, region, ``service.Operation``, HTTP status, the
AWS error name if any, and the milliseconds until the response body was sent. Requests
moto serves are named the same way (emulator/protocol/naming.py); the gateway names the
ones it parses itself by setting ``environ["emulator.operation"]``. The emulator's own
``/_emulator/*`` routes and the browser home page are logged at DEBUG.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

from werkzeug.wsgi import ClosingIterator

from emulator.aws.identity import request_caller
from emulator.protocol.naming import name_request

log = logging.getLogger("emulator.requests")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

OPERATION_KEY = "emulator.operation"
"""environ key where the gateway puts ``(service, operation)`` once it knows them."""

_XML_CODE = re.compile(rb"<Code>([^<]{1,200})</Code>")
_MAX_ERROR_BODY = 1 << 20  # error bodies are small; a larger one is passed through unread


def error_name(headers: list[tuple[str, str]], body: bytes) -> str | None:
    """The AWS error name of an error response: ``x-amzn-ErrorType``, JSON ``__type``/``code``, XML ``<Code>``."""
    for key, value in headers:
        if key.lower() == "x-amzn-errortype" and value:
            return value.split(":", 1)[0]
    text = body.lstrip()
    if text.startswith(b"{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if isinstance(data, dict):
            name = data.get("__type") or data.get("code") or data.get("Code")
            return str(name).rsplit("#", 1)[-1] if name else None
        return None
    match = _XML_CODE.search(text)
    return match.group(1).decode("utf-8", "replace") if match else None


class RequestLog:
    """Wraps the gateway; logs each request once its response has been sent."""

    def __init__(self, app: WsgiApp, default_region: str) -> None:
        self.app = app
        self.default_region = default_region

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        seen: dict[str, Any] = {}

        def recording_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body: Iterable[bytes] = self.app(environ, recording_start_response)
        status = int(str(seen.get("status", "0")).split(" ", 1)[0] or 0)
        if "status" not in seen or (status >= 400 and _length(seen.get("headers", [])) <= _MAX_ERROR_BODY):
            chunks = list(body)  # error bodies are small: read them for the error name
            if hasattr(body, "close"):
                body.close()
            status = int(str(seen.get("status", "0")).split(" ", 1)[0] or 0)
            seen["error"] = error_name(seen.get("headers", []), b"".join(chunks)) if status >= 400 else None
            body = chunks
        return ClosingIterator(body, lambda: self._log(environ, seen, started))

    def _log(self, environ: dict[str, Any], seen: dict[str, Any], started: float) -> None:
        millis = (time.perf_counter() - started) * 1000
        path = environ.get("PATH_INFO", "/")
        query, caller = request_caller(environ)
        internal = path.startswith("/_emulator") or caller.signing_service is None and environ.get(OPERATION_KEY) is None \
            and "HTTP_X_AMZ_TARGET" not in environ and "Action" not in query
        if internal and not log.isEnabledFor(logging.DEBUG):
            return
        service, operation = environ.get(OPERATION_KEY) or self._name(environ, query, caller.signing_service)
        status = int(str(seen.get("status", "0")).split(" ", 1)[0] or 0)
        error = seen.get("error")
        region = caller.region or self.default_region
        fields = {"account": caller.account_id, "region": region, "service": service, "operation": operation,
                  "status": status, "error": error, "ms": round(millis, 1)}
        if internal:
            fields.update(service="emulator", operation=f"{environ.get('REQUEST_METHOD', 'GET')} {path}")
        level = logging.DEBUG if internal else logging.WARNING if status >= 500 else logging.INFO
        log.log(level, "%s %s %s.%s %d %s %.0f ms", fields["account"], region,
                fields["service"], fields["operation"], status, error or "-", millis, extra={"request": fields})

    @staticmethod
    def _name(environ: dict[str, Any], query: dict[str, str], signing_name: str | None) -> tuple[str, str]:
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        body = environ.get("emulator.body")
        form = dict(parse_qsl(body.decode("utf-8", "replace"))) if body and "x-www-form-urlencoded" in \
            environ.get("CONTENT_TYPE", "") else None
        return name_request(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/"), query, headers,
                            signing_name, form)


def _length(headers: list[tuple[str, str]]) -> int:
    for key, value in headers:
        if key.lower() == "content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0
