"""Every implemented operation, called with minimal and with odd-but-well-typed input,
answers 2xx or an AWS-shaped 4xx: never a 5xx, and the server keeps serving."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.model import Shape

from clients.testing import RunningEmulator
from emulator.protocol.errors import COMMON_ERRORS
from emulator.protocol.models import service_model
from emulator.services import provider_classes

JSON_PROVIDERS = [cls for cls in provider_classes() if service_model(cls.service_name).protocol == "json"]


def _value(shape: Shape, odd: bool, depth: int = 0) -> Any:
    """A value of the right JSON type: minimal, or odd (long strings, big numbers, deep lists)."""
    kind = shape.type_name
    if kind == "structure":
        members = shape.members if odd and depth < 3 else {n: shape.members[n] for n in shape.required_members}
        return {name: _value(member, odd, depth + 1) for name, member in members.items()}
    if kind == "list":
        return [_value(shape.member, odd, depth + 1)] * (2 if odd else max(1, int(shape.metadata.get("min", 1))))
    if kind == "map":
        return {"k": _value(shape.value, odd, depth + 1)}
    if kind == "string":
        if shape.enum:
            return shape.enum[-1 if odd else 0]
        return "{\"x\": [1, 2" if odd else "a" * max(1, int(shape.metadata.get("min", 1)))
    if kind in ("integer", "long"):
        return int(shape.metadata.get("max", 2**31 - 1)) if odd else int(shape.metadata.get("min", 1))
    if kind in ("float", "double"):
        return float(shape.metadata.get("max", 1e300)) if odd else float(shape.metadata.get("min", 0.5))
    if kind == "boolean":
        return odd
    if kind == "timestamp":
        return 0 if odd else 1_700_000_000
    if kind == "blob":
        return "AAAA"
    return None


def _call(emulator: RunningEmulator, service: str, operation: str, body: dict[str, Any]) -> tuple[int, bytes]:
    model = service_model(service)
    request = urllib.request.Request(emulator.url + "/", data=json.dumps(body).encode(), method="POST", headers={
        "X-Amz-Target": f"{model.metadata['targetPrefix']}.{operation}",
        "Content-Type": f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.1')}",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=999988887777/20260101/us-east-1/{model.signing_name}/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


CASES = [(cls.service_name, op) for cls in JSON_PROVIDERS for op in cls.implemented_operations()]


@pytest.mark.parametrize("service, operation", CASES)
@pytest.mark.parametrize("odd", [False, True], ids=["minimal", "odd"])
def test_no_operation_answers_5xx(emulator: RunningEmulator, service: str, operation: str, odd: bool) -> None:
    shape = service_model(service).operation_model(operation).input_shape
    body = _value(shape, odd) if shape is not None else {}
    status, payload = _call(emulator, service, operation, body)
    assert status < 500, payload[:500]
    if status >= 400:
        code = json.loads(payload)["__type"]
        modelled = {e.name for e in service_model(service).error_shapes}  # the service's exceptions
        assert code in modelled | set(COMMON_ERRORS) | {"ValidationError", "InvalidInputException"}, code
