"""Glue's error wording and list paging, shared by the Glue mixins."""

from __future__ import annotations

from typing import Any

from emulator.protocol.errors import ServiceError
from emulator.services.paging import BadNextToken, paginate


def invalid(message: str) -> ServiceError:
    """Glue's InvalidInputException (HTTP 400)."""
    return ServiceError("InvalidInputException", message)


def not_found(message: str) -> ServiceError:
    """Glue's EntityNotFoundException (HTTP 400)."""
    return ServiceError("EntityNotFoundException", message)


def lookup(records: dict[str, dict[str, Any]], name: str, kind: str) -> dict[str, Any]:
    """``records[name]``, or EntityNotFoundException naming the ``kind`` of entry."""
    found = records.get(name)
    if found is None:
        raise not_found(f"{kind} entry with name {name} does not exist")
    return found


def page(items: list[Any], request: dict[str, Any], default: int = 100) -> tuple[list[Any], str | None]:
    """One page by MaxResults / NextToken; a token the emulator did not issue is InvalidInputException."""
    try:
        return paginate(items, request.get("NextToken"), int(request.get("MaxResults") or default))
    except BadNextToken as exc:
        raise invalid(str(exc)) from exc
