"""boto3 clients whose requests are answered in-process by the emulator's own WSGI stack.

The console reads and changes state exactly as a boto3 user does: each call is
serialised by botocore, signed for the chosen account (a 12-digit access key is
the account) and region, and handed to the gateway (validation, provider, moto)
without a socket. Errors arrive as ``botocore.exceptions.ClientError``.
"""

from __future__ import annotations

import io
import threading
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config as BotoConfig

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _RawBody(io.BytesIO):
    """The ``raw`` botocore reads a response body from (``stream()`` and ``read()``)."""

    def stream(self, **_kwargs: Any) -> Iterable[bytes]:
        """The whole body in one chunk."""
        yield self.getvalue()


def call_wsgi(app: WsgiApp, request: AWSPreparedRequest) -> AWSResponse:
    """Answer one prepared botocore request with ``app`` (no network)."""
    url = urlsplit(request.url)
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode("utf-8")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method, "SCRIPT_NAME": "", "PATH_INFO": _unquote_path(url.path or "/"),
        "RAW_URI": url.path + (f"?{url.query}" if url.query else ""), "REQUEST_URI": url.path,
        "QUERY_STRING": url.query, "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(url.port or 80), "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme or "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
    }
    for name, value in request.headers.items():
        value = value.decode("utf-8") if isinstance(value, bytes) else str(value)
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    environ.setdefault("HTTP_HOST", url.netloc)
    status_headers: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], _exc_info: Any = None) -> Callable[[bytes], None]:
        status_headers[:] = [status, headers]
        return lambda _data: None

    chunks = app(environ, start_response)
    try:
        payload = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    status, headers = status_headers
    return AWSResponse(request.url, int(status.split()[0]), dict(headers), _RawBody(payload))


def _unquote_path(path: str) -> str:
    """PATH_INFO is the percent-decoded path, as a WSGI server hands it over (latin-1 per PEP 3333)."""
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(path).decode("latin-1")


class ApiClients:
    """Cached in-process boto3 clients per (service, account, region, base URL)."""

    def __init__(self, app: Callable[[], WsgiApp]) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str, str, str], Any] = {}
        self._session = boto3.session.Session()

    def client(self, service: str, account: str, region: str, base_url: str) -> Any:
        """A boto3 client of ``service`` acting as ``account`` in ``region``."""
        key = (service, account, region, base_url)
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                found = self._session.client(
                    service, region_name=region, endpoint_url=base_url, aws_access_key_id=account,
                    aws_secret_access_key="console", config=BotoConfig(retries={"max_attempts": 1},
                                                                       s3={"addressing_style": "path"}))
                found.meta.events.register("before-send", self._send)
                self._clients[key] = found
            return found

    def _send(self, request: AWSPreparedRequest, **_kwargs: Any) -> AWSResponse:
        return call_wsgi(self._app(), request)
