"""Request limits answered before any work: body size, JSON nesting, number literals,
and how much of a value an error message may echo.

AWS's front ends refuse a body over a service's limit with HTTP 413 ("HTTP content
length exceeded N bytes.", what InvokeEndpoint answers over its 6 MB payload limit);
JSON the service cannot read is a ``SerializationException``.
"""

from __future__ import annotations

import json
import math
from typing import Any


INVOKE_ENDPOINT_BYTES = 6 * 1024 * 1024
"""sagemaker-runtime InvokeEndpoint's documented maximum payload (6 MB)."""

CONTROL_PLANE_BYTES = 2 * 1024 * 1024
"""Any other JSON or query request to AWS's API front ends (the emulator's choice: AWS
documents per-member limits, all far below this; CloudWatch Logs batches up to 1 MB)."""

MESSAGE_CHARS = 1024
"""Longest error message answered; longer ones are cut (a value is echoed only in part)."""

VALUE_CHARS = 128
"""How much of a member's value a validation message quotes."""


class BodyTooLarge(Exception):
    """The request body exceeds the limit of its service (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"HTTP content length exceeded {limit} bytes.")
        self.limit = limit


def shorten(text: str, limit: int = VALUE_CHARS) -> str:
    """``text``, or its first ``limit`` characters and an ellipsis."""
    return text if len(text) <= limit else text[:limit] + "..."


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {shorten(text, 32)} is out of range")
    return value


def loads_json(text: str | bytes) -> Any:
    """``json.loads`` as AWS's parsers read JSON: no NaN/Infinity, finite numbers, integers
    of at most 4,300 digits, bounded nesting. Raises ValueError (including too-deep nesting)."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("JSON nesting is too deep") from None
