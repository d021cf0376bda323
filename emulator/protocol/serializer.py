"""Serialise provider results by the output shape, and errors, for each protocol."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape

from emulator.protocol.errors import ServiceError
from emulator.protocol.limits import MESSAGE_CHARS, shorten


@dataclass
class WireResponse:
    """An HTTP response ready to send."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _epoch(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return round(value.timestamp(), 3)
    return value


def shape_value(shape: Shape, value: Any) -> Any:
    """Reduce ``value`` to what ``shape`` allows, in JSON wire types."""
    if value is None:
        return None
    kind = shape.type_name
    if getattr(shape, "is_document_type", False):
        return value
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                out[member.serialization.get("name", name)] = shape_value(member, value[name])
        return out
    if kind == "list":
        return [shape_value(shape.member, item) for item in value]
    if kind == "map":
        return {str(k): shape_value(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return _epoch(value)
    if kind == "blob":
        raw = value if isinstance(value, (bytes, bytearray)) else str(value).encode()
        return base64.b64encode(raw).decode("ascii")
    if kind in ("float", "double"):
        number = float(value)
        return number if math.isfinite(number) else None  # JSON has no NaN / Infinity
    if kind in ("integer", "long"):
        return int(value)
    return value


def json_response(operation: OperationModel, result: dict[str, Any] | None, json_version: str) -> WireResponse:
    """An awsJson response body for ``result``."""
    shape = operation.output_shape
    body = shape_value(shape, result or {}) if shape is not None else {}
    return WireResponse(200, json.dumps(body).encode(), {"Content-Type": f"application/x-amz-json-{json_version}"})


def rest_json_response(operation: OperationModel, result: dict[str, Any] | None) -> WireResponse:
    """A rest-json response: header members to headers, payload member to the body."""
    shape = operation.output_shape
    result = result or {}
    status = 200
    headers: dict[str, str] = {}
    body: bytes = b""
    if shape is None:
        return WireResponse(status, b"{}", {"Content-Type": "application/json"})
    payload_name = shape.serialization.get("payload")
    plain: dict[str, Any] = {}
    for name, member in shape.members.items():
        if result.get(name) is None:
            continue
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "header":
            value = result[name]
            headers[wire] = json.dumps(value) if member.serialization.get("jsonvalue") else str(_epoch(value))
        elif location == "statusCode":
            status = int(result[name])
        elif name != payload_name:
            plain[name] = result[name]
    if payload_name:
        payload = result.get(payload_name)
        member = shape.members[payload_name]
        if member.type_name == "blob":
            body = payload if isinstance(payload, bytes) else (payload or "").encode()
        elif payload is not None:
            body = json.dumps(shape_value(member, payload)).encode()
    else:
        body = json.dumps(shape_value(shape, plain)).encode()
        headers.setdefault("Content-Type", "application/json")
    return WireResponse(status, body, headers)


def json_error(error: ServiceError, status: int, json_version: str | None) -> WireResponse:
    """``{"__type": ..., "message": ...}`` with the error's extra fields."""
    body = {"__type": error.code, "message": shorten(error.message, MESSAGE_CHARS), **error.fields}
    content_type = f"application/x-amz-json-{json_version}" if json_version else "application/json"
    return WireResponse(status, json.dumps(body).encode(), {"Content-Type": content_type, "x-amzn-ErrorType": error.code})


def _xml(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "structure":
        parts = []
        for name, member in shape.members.items():
            if isinstance(value, dict) and value.get(name) is not None:
                parts.append(f"<{name}>{_xml(member, value[name])}</{name}>")
        return "".join(parts)
    if kind == "list":
        return "".join(f"<member>{_xml(shape.member, item)}</member>" for item in value)
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if kind == "boolean":
        return "true" if value else "false"
    return escape(str(value))


def query_response(operation: OperationModel, result: dict[str, Any] | None, namespace: str, request_id: str) -> WireResponse:
    """A query-protocol XML response (``<OpResponse><OpResult>...``)."""
    name = operation.name
    inner = _xml(operation.output_shape, result or {}) if operation.output_shape is not None else ""
    body = (
        f'<{name}Response xmlns="{namespace}"><{name}Result>{inner}</{name}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>"
    )
    return WireResponse(200, body.encode(), {"Content-Type": "text/xml"})


def query_error(error: ServiceError, status: int, request_id: str) -> WireResponse:
    """A query-protocol XML error."""
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(error.code)}</Code>"
        f"<Message>{escape(shorten(error.message, MESSAGE_CHARS))}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return WireResponse(status, body.encode(), {"Content-Type": "text/xml"})
