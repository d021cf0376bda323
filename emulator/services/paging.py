"""Opaque NextToken paging shared by the providers' list/describe operations."""

from __future__ import annotations

import base64
import json
from typing import Sequence, TypeVar

T = TypeVar("T")


class BadNextToken(ValueError):
    """A NextToken this emulator did not issue; providers answer their validation error."""


def paginate(items: Sequence[T], next_token: str | None, limit: int) -> tuple[list[T], str | None]:
    """One page of ``items`` from ``next_token`` (None: the start) and the token of the next page."""
    offset = 0
    if next_token:
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(next_token.encode()))["offset"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BadNextToken(f"Invalid NextToken: {next_token}") from exc
        if offset < 0:
            raise BadNextToken(f"Invalid NextToken: {next_token}")
    page = list(items[offset:offset + limit])
    following = offset + limit
    token = base64.urlsafe_b64encode(json.dumps({"offset": following}).encode()).decode() if following < len(items) else None
    return page, token
