"""WSGI middleware: after a request that may have changed something, write the changes
to ``--data-dir`` before the response leaves (the gateway runs the handler first)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from emulator.aws.identity import request_caller
from emulator.persistence.manager import READ_ONLY_PREFIXES, Persistence
from emulator.persistence.moto_state import BACKENDS

_MOTO_SERVICES = {"iam": "iam", "logs": "logs", "monitoring": "cloudwatch", "cloudwatch": "cloudwatch", "glue": "glue"}


class PersistingApp:
    """Wraps the gateway; a no-op when the emulator has no data directory."""

    def __init__(self, app: Callable[..., Iterable[bytes]], emulator: Any) -> None:
        self.app = app
        self.emulator = emulator

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        persistence: Persistence | None = self.emulator.persistence
        if persistence is None or environ.get("PATH_INFO", "").startswith("/_emulator"):
            return self.app(environ, start_response)
        persistence.begin()
        try:
            result = self.app(environ, start_response)
        finally:
            touched, entries = persistence.end()
        self._flush(persistence, environ, touched, entries)
        return result

    @staticmethod
    def _flush(persistence: Persistence, environ: dict[str, Any], touched: set[tuple[str, str, str]],
               entries: set[tuple[Any, str, Any]]) -> None:
        method = environ.get("REQUEST_METHOD", "GET")
        if method in ("GET", "HEAD", "OPTIONS"):
            return
        operation = environ.get("emulator.operation")
        if operation is not None and operation[1].startswith(READ_ONLY_PREFIXES):
            return
        _query, caller = request_caller(environ)
        s3: list[tuple[str, list[str] | None]] = []
        s3_keys: set[tuple[str, str]] = set()
        moto: list[tuple[str, str]] = []
        signing = caller.signing_service
        if operation is None and (signing in (None, "s3") and not environ.get("HTTP_X_AMZ_TARGET")):
            path = environ.get("PATH_INFO", "/").lstrip("/")
            bucket, _, key = path.partition("/")
            buckets = [bucket]
            if key:
                s3_keys.add((bucket, key))
            host = (environ.get("HTTP_HOST") or "").rsplit(":", 1)[0]
            if "." in host and not host.replace(".", "").isdigit():  # virtual-hosted style: bucket.host
                buckets.append(host.split(".", 1)[0])
                if path:
                    s3_keys.add((buckets[-1], path))
            s3.append((caller.account_id, [b for b in buckets if b] or None))
        service = _MOTO_SERVICES.get(signing or "") or (operation[0] if operation else None)
        if service in BACKENDS:
            moto.append((service, caller.account_id))
        persistence.flush(touched, entries, s3_accounts=s3, moto=moto, s3_keys=s3_keys)
