"""``mock_ml``: the emulator in-process, with no server, no socket and no port.

    from clients import mock_ml

    @mock_ml
    def test_training():
        sm = boto3.client("sagemaker", region_name="us-east-1")
        ...

    with mock_ml() as emu:          # emu.app.emulator is the emulator's state
        boto3.client("s3").create_bucket(Bucket="data")

Like moto's ``mock_aws``, a ``before-send`` handler registered for every botocore
session (botocore's ``BUILTIN_HANDLERS``) answers each request itself: the request is
turned into a WSGI environ exactly as the HTTP server builds one and handed to the
same WSGI app (gateway, providers, moto for S3/STS/IAM/Logs), so the in-process mode
and the server share one code path. Each use starts from fresh state (a new emulator,
moto's backends reset, also on exit); background jobs run on the emulator's job runner
as in the server. Clients must be created inside the block (or after ``clients.mock``
was imported), as with moto. moto's state is per process: any other emulator running
in the same process loses its S3 buckets when a ``mock_ml`` block starts or ends.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import unquote, urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.handlers import BUILTIN_HANDLERS

from emulator.app import create_app
from emulator.config import Config

F = TypeVar("F", bound=Callable[..., Any])
_HANDLER_ID = "aws-ml-emulator-mock-ml"
_lock = threading.Lock()
_active: list["MockML"] = []


class _RawBody(io.BytesIO):
    """The ``raw`` of an :class:`AWSResponse`: readable, and streamable as urllib3's is."""

    def stream(self, amt: int = 65536, decode_content: bool = False) -> Iterator[bytes]:  # noqa: ARG002
        while True:
            chunk = self.read(amt)
            if not chunk:
                return
            yield chunk


def _wsgi_text(value: str) -> str:
    """PEP 3333: environ strings are UTF-8 bytes seen as latin-1 (what Werkzeug's server does)."""
    return value.encode("utf-8").decode("latin-1")


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(body)  # an iterable of chunks


def wsgi_environ(request: AWSPreparedRequest) -> dict[str, Any]:
    """The WSGI environ Werkzeug's HTTP server would build for this botocore request."""
    url = urlsplit(request.url)
    body = _body_bytes(request.body)
    raw_path = url.path or "/"
    target = raw_path + (f"?{url.query}" if url.query else "")
    port = url.port or (443 if url.scheme == "https" else 80)
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "aws-ml-emulator-in-process",
        "REQUEST_METHOD": request.method.upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": _wsgi_text(unquote(raw_path)),
        "QUERY_STRING": _wsgi_text(url.query),
        "REQUEST_URI": _wsgi_text(target),
        "RAW_URI": _wsgi_text(target),
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": 0,
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": url.netloc,
        "CONTENT_LENGTH": str(len(body)),
    }
    for key, value in request.headers.items():
        key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        value = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        if "_" in key:
            continue
        name = key.upper().replace("-", "_")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[name] = value
        elif name != "HOST":
            environ[f"HTTP_{name}"] = value
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():  # as Werkzeug's server de-chunks
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    return environ


def call_wsgi(app: Callable[..., Any], request: AWSPreparedRequest) -> AWSResponse:
    """Answer a botocore request with ``app``, as an :class:`AWSResponse`."""
    environ = wsgi_environ(request)
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    status = int(captured["status"].split(" ", 1)[0])
    return AWSResponse(request.url, status, captured["headers"], _RawBody(b"" if request.method.upper() == "HEAD" else body))


class MockML(contextlib.ContextDecorator):
    """One in-process emulator per ``with`` block or decorated call."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config
        self.app: Any = None
        self._saved_env: list[dict[str, str | None]] = []
        self._apps: list[Any] = []

    def __enter__(self) -> "MockML":
        _install_handler()
        app = create_app(Config(**vars(self.config)) if self.config else Config())
        app.emulator.reset()  # moto's backends are per process: start from nothing
        self._apps.append(self.app)
        self.app = app
        self._saved_env.append(_set_environment())
        with _lock:
            _active.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        with _lock:
            _active.remove(self)
        _restore_environment(self._saved_env.pop())
        app, self.app = self.app, self._apps.pop()
        app.emulator.reset()  # leave no buckets behind for the next user of moto
        app.emulator.shutdown()

    @property
    def emulator(self) -> Any:
        """The running :class:`emulator.runtime.Emulator` (its ``store`` holds the state)."""
        return self.app.emulator

    def send(self, request: AWSPreparedRequest) -> AWSResponse:
        """Answer one botocore request with this emulator."""
        return call_wsgi(self.app, request)


def mock_ml(func: F | None = None, *, config: Config | None = None) -> Any:
    """Route every botocore/boto3 client (and the SageMaker SDK's) to a fresh in-process emulator.

    Use as ``@mock_ml``, ``@mock_ml(config=...)`` or ``with mock_ml() as emu:``.
    """
    mock = MockML(config)
    return mock(func) if callable(func) else mock


def _before_send(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
    """botocore ``before-send``: answer in-process while a ``mock_ml`` is active."""
    with _lock:
        mock = _active[-1] if _active else None
    return mock.send(request) if mock is not None else None


def _install_handler() -> None:
    """Register :func:`_before_send` for new botocore sessions and for a boto3 default session
    that already existed (sessions copy ``BUILTIN_HANDLERS`` when they are created)."""
    with _lock:
        if ("before-send", _before_send) in BUILTIN_HANDLERS:
            return
        BUILTIN_HANDLERS.append(("before-send", _before_send))
    if boto3.DEFAULT_SESSION is not None:
        boto3.DEFAULT_SESSION._session.register("before-send", _before_send, unique_id=_HANDLER_ID)  # noqa: SLF001


_install_handler()


def _set_environment() -> dict[str, str | None]:
    """Dummy credentials, a region and the SageMaker SDK's offline config; returns what it replaced."""
    from clients.sagemaker_config import write_sagemaker_config

    key = os.environ.get("AWS_ACCESS_KEY_ID", "")
    values = {
        "AWS_ACCESS_KEY_ID": key if len(key) == 12 and key.isdigit() else "test",  # a 12-digit key selects the account
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": write_sagemaker_config(),
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }
    saved = {name: os.environ.get(name) for name in [*values, "AWS_SESSION_TOKEN"]}
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.update(values)
    return saved


def _restore_environment(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
