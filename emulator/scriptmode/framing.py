"""Length-prefixed frames between the emulator and an inference worker: a JSON header plus a body.
Standard library only: the worker imports this file from the user's environment."""

from __future__ import annotations

import json
import os
import struct
from typing import Any

_PREFIX = struct.Struct(">II")


def _read_exact(fd: int, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def write_frame(fd: int, header: dict[str, Any], body: bytes = b"") -> None:
    encoded = json.dumps(header).encode("utf-8")
    data = _PREFIX.pack(len(encoded), len(body)) + encoded + body
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_frame(fd: int) -> tuple[dict[str, Any], bytes]:
    header_size, body_size = _PREFIX.unpack(_read_exact(fd, _PREFIX.size))
    header = json.loads(_read_exact(fd, header_size))
    return header, _read_exact(fd, body_size) if body_size else b""
