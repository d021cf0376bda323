"""Memory the server keeps after a request: an S3 upload's body must go with its request."""

from __future__ import annotations

import gc
from typing import Callable

from werkzeug.test import EnvironBuilder

from emulator.app import create_app

SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20261122/us-east-1/s3/aws4_request, "
                            "SignedHeaders=host, Signature=0"}


def _garbage_after(call: Callable[[], object]) -> list[object]:
    """The objects ``call`` leaves in reference cycles (freed only by a full collection)."""
    gc.collect()
    gc.disable()
    try:
        call()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def _request(app, method: str, path: str, data: bytes = b"") -> tuple[str, bytes]:
    """One WSGI call as the server makes it (no test client objects of its own)."""
    environ = EnvironBuilder(path=path, method=method, data=data, headers=SIGNED).get_environ()
    status: list[str] = []
    answer = app(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        return status[0], b"".join(answer)
    finally:
        getattr(answer, "close", lambda: None)()


def test_an_s3_upload_leaves_no_request_in_a_reference_cycle() -> None:
    app = create_app()
    assert _request(app, "PUT", "/memory-test")[0].startswith("200")
    body = b"x" * (4 * 1024 * 1024)

    def upload() -> None:
        assert _request(app, "PUT", "/memory-test/data.csv", body)[0].startswith("200")

    upload()  # first use of each code path builds its caches
    kept = [o for o in _garbage_after(upload) if "Request" in type(o).__name__]
    # a request caught in a cycle keeps its cached body (the whole upload) until the next
    # full collection, which may be long after
    assert kept == []
    assert _request(app, "GET", "/memory-test/data.csv")[1] == body
