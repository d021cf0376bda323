"""Turn an HTTP request into (operation, params) using the service model.

Supports awsJson (X-Amz-Target), rest-json (URI templates) and the flat part of the
query protocol (form-encoded ``Action=...``). Nothing here knows any one service.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from botocore.model import OperationModel, Shape

from emulator.protocol.errors import ServiceError
from emulator.protocol.limits import loads_json, shorten
from emulator.protocol.models import service_model


@dataclass(frozen=True)
class RawRequest:
    """The parts of an HTTP request the protocol layer reads."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes


def parse_json_body(body: bytes) -> dict[str, Any]:
    """Decode an awsJson body; empty means ``{}``; anything else but an object is refused."""
    if not body.strip():
        return {}
    try:
        data = loads_json(body)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, NaN, huge numbers, deep nesting
        raise ServiceError("SerializationException",
                           f"Could not parse the request body as JSON: {shorten(str(exc), 200)}") from None
    if not isinstance(data, dict):
        raise ServiceError("SerializationException", "The request body must be a JSON object")
    return data


@functools.lru_cache(maxsize=None)
def _rest_routes(service_name: str, loose: bool = False) -> list[tuple[str, re.Pattern[str], str]]:
    model = service_model(service_name)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path = http["requestUri"].split("?", 1)[0]
        pattern = re.sub(
            r"\{(\w+)(\+?)\}",
            lambda m: f"(?P<{m.group(1)}>.*)" if loose else (
                f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)"),
            re.escape(path).replace(r"\{", "{").replace(r"\}", "}"),
        )
        routes.append((http["method"], re.compile(f"^{pattern}$"), name))
    return routes


def match_rest_operation(service_name: str, method: str, path: str,
                         loose: bool = False) -> tuple[str, dict[str, str]] | None:
    """Find the rest-json operation whose method and URI template match; ``loose`` lets a
    label be empty or hold slashes (the validator then refuses it as AWS does)."""
    for route_method, pattern, name in _rest_routes(service_name, loose):
        if route_method == method:
            match = pattern.match(path)
            if match:
                return name, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


def _scalar(shape: Shape, text: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text  # the validator reports the type error
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    if kind == "string" and shape.serialization.get("jsonvalue"):
        try:
            return loads_json(text)
        except ValueError:
            return text
    return text


def parse_rest_json(operation: OperationModel, request: RawRequest, uri_params: dict[str, str]) -> dict[str, Any]:
    """Bind URI labels, query string, headers and payload to the input members."""
    shape = operation.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    payload_name = shape.serialization.get("payload")
    body_members = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri" and wire in uri_params:
            params[name] = _scalar(member, uri_params[wire])
        elif location == "querystring" and wire in request.query:
            params[name] = _scalar(member, request.query[wire])
        elif location == "header" and wire.lower() in request.headers:
            params[name] = _scalar(member, request.headers[wire.lower()])
        elif location == "headers":
            prefix = wire.lower()
            found = {k[len(prefix):]: v for k, v in request.headers.items() if k.startswith(prefix)}
            if found:
                params[name] = found
        elif location is None and name != payload_name:
            body_members[name] = member
    if payload_name:
        payload_shape = shape.members[payload_name]
        if payload_shape.type_name in ("blob", "string"):
            params[payload_name] = request.body if payload_shape.type_name == "blob" else request.body.decode("utf-8", "replace")
        else:
            params[payload_name] = parse_json_body(request.body)
    elif body_members:
        data = parse_json_body(request.body)
        params.update({k: v for k, v in data.items() if k in body_members})
    return params


def parse_query(request: RawRequest, form: dict[str, str]) -> tuple[str | None, dict[str, Any]]:
    """The ``Action`` of a query-protocol request and its flat parameters."""
    merged = {**request.query, **form}
    action = merged.pop("Action", None)
    merged.pop("Version", None)
    return action, merged
