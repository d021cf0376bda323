"""Who is calling and where: account from the access key, region from the SigV4 scope."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

DEFAULT_ACCOUNT_ID = "123456789012"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")
_TWELVE_DIGITS = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Caller:
    """The identity parts of a request."""

    access_key: str | None
    account_id: str
    region: str | None
    signing_service: str | None


def account_for_access_key(access_key: str | None) -> str:
    """A 12-digit access key ID is the account (LocalStack's convention); others map to the default."""
    if access_key and _TWELVE_DIGITS.match(access_key):
        return access_key
    return DEFAULT_ACCOUNT_ID


def identify_caller(authorization: str | None, amz_credential: str | None) -> Caller:
    """Read the SigV4 ``Authorization`` header (or presigned ``X-Amz-Credential``)."""
    text = authorization or (f"Credential={amz_credential}" if amz_credential else "")
    match = _CREDENTIAL.search(text)
    if not match:
        return Caller(None, DEFAULT_ACCOUNT_ID, None, None)
    access_key, _date, region, service = match.groups()
    return Caller(access_key, account_for_access_key(access_key), region, service)


CALLER_KEY = "emulator.caller"
"""environ key where :func:`request_caller` keeps ``(query, Caller)`` for the rest of the request."""


def request_caller(environ: dict[str, Any]) -> tuple[dict[str, str], Caller]:
    """The request's query parameters and caller, read once per request and kept in ``environ``."""
    known = environ.get(CALLER_KEY)
    if known is None:
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        known = environ[CALLER_KEY] = (query, identify_caller(environ.get("HTTP_AUTHORIZATION"),
                                                               query.get("X-Amz-Credential")))
    return known
