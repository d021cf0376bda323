"""A seeded, schema-driven fuzzer of the emulator's wire protocols (used by
tests/test_isolation_fuzz.py for a short run and bench/fuzz.py for long ones).

Each request picks a service (machinelearning, glue, sagemaker, sagemaker-runtime) and
one of its operations, and sends input built from the botocore input shape: mostly
well-typed values (random lengths, odd characters, numbers at and beyond the ranges,
random NextTokens), sometimes a wrong type, a missing required member or a body that is
not an object. An answer is *outside the contract* when it is a 5xx other than 501, or
a 4xx whose error name is neither in the service's model nor a common AWS error.
"""

from __future__ import annotations

import json
import random
import string
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, Shape
from botocore.serialize import create_serializer

from emulator.protocol.errors import COMMON_ERRORS
from emulator.protocol.models import service_model

SERVICES = ("machinelearning", "glue", "sagemaker", "sagemaker-runtime")
ACCOUNTS = ("123456789012", "111111111111", "222222222222")
_CHARS = string.ascii_letters + string.digits + "-_./:*?{}[]\"'\\ \u00e9\u4e2d"


@dataclass
class Finding:
    """One answer outside the contract."""

    service: str
    operation: str
    status: int
    error: str
    body: str


@dataclass
class Report:
    """What a fuzz run saw."""

    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


class Fuzzer:
    """Random requests against one emulator URL, reproducible from ``seed``."""

    def __init__(self, url: str, seed: int = 0, services: tuple[str, ...] = SERVICES) -> None:
        self.url = url.rstrip("/")
        self.rng = random.Random(seed)
        self.services = services
        self.allowed = {name: {s.name for s in service_model(name).error_shapes} | set(COMMON_ERRORS)
                        for name in services}
        self.served = {name: _served_operations(name) for name in services}

    # ---------------------------------------------------------------- values
    def value(self, shape: Shape, depth: int = 0) -> Any:
        rng = self.rng
        kind = shape.type_name
        if depth > 6:
            return None
        if kind == "structure":
            members = shape.members
            required = set(shape.required_members)
            chosen = {n for n in members if n in required and rng.random() < 0.97}
            chosen |= {n for n in members if rng.random() < 0.25}
            return {n: self.value(members[n], depth + 1) for n in sorted(chosen)}
        if kind == "list":
            return [self.value(shape.member, depth + 1) for _ in range(rng.choice((0, 1, 1, 2, 3)))]
        if kind == "map":
            return {self.string(shape.key): self.value(shape.value, depth + 1) for _ in range(rng.choice((0, 1, 2)))}
        if kind == "string":
            if shape.enum and rng.random() < 0.8:
                return rng.choice(shape.enum)
            return self.string(shape)
        if kind in ("integer", "long"):
            low = int(shape.metadata.get("min", -5))
            high = int(shape.metadata.get("max", 10 ** 6))
            return rng.choice((low, high, low - 1, high + 1, rng.randint(low, high), 0, 2 ** 31, -(2 ** 63)))
        if kind in ("float", "double"):
            return rng.choice((0.0, -1.5, 1e300, 0.5, float(rng.randint(-10, 10))))
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "timestamp":
            return rng.choice((0, 1_700_000_000, 4_102_444_800))
        if kind == "blob":
            return "AAAA" if rng.random() < 0.8 else "not base64!"
        return None

    def string(self, shape: Shape) -> str:
        rng = self.rng
        low = int(shape.metadata.get("min", 0))
        high = int(shape.metadata.get("max", 64))
        length = rng.choice((low, min(high, low + 8), min(high, 64), high + 1 if high < 300 else 300, 0, 1))
        if "NextToken" in shape.name or "Token" in shape.name:
            return rng.choice(("garbage-token", "0", "eyJ4IjogMX0=", "-1", "9" * 20))
        if "Arn" in shape.name and rng.random() < 0.5:
            return f"arn:aws:sagemaker:us-east-1:123456789012:thing/{self.word(8)}"
        if "S3" in shape.name or "Uri" in shape.name:
            return rng.choice(("s3://nonexistent-bucket/key", "s3://", "http://x", "s3://b/" + self.word(5)))
        return self.word(max(0, min(length, 300)))

    def word(self, length: int) -> str:
        alphabet = string.ascii_letters + string.digits + "-" if self.rng.random() < 0.7 else _CHARS
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def mutate(self, params: dict[str, Any], op: OperationModel) -> Any:
        """Sometimes break the input: a wrong type, a missing member, a non-object body."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            return rng.choice(([], "text", 7, None))
        if roll < 0.15 and params:
            key = rng.choice(sorted(params))
            params[key] = rng.choice(({"x": 1}, [1, 2], "str", 12, True, None))
        elif roll < 0.22 and params:
            params.pop(rng.choice(sorted(params)))
        return params

    # ---------------------------------------------------------------- requests
    def run(self, count: int) -> Report:
        report = Report()
        for _ in range(count):
            service = self.rng.choice(self.services)
            model = service_model(service)
            served = self.served[service]
            operation = self.rng.choice(served if served and self.rng.random() < 0.7
                                        else sorted(model.operation_names))
            op = model.operation_model(operation)
            params = self.value(op.input_shape) if op.input_shape is not None else {}
            status, error, body = self.send(service, op, params)
            report.requests += 1
            report.statuses[status] = report.statuses.get(status, 0) + 1
            if (status >= 500 and status != 501) or (400 <= status < 500 and error not in self.allowed[service]):
                report.findings.append(Finding(service, operation, status, error, body[:300]))
        return report

    def send(self, service: str, op: OperationModel, params: Any) -> tuple[int, str, str]:
        model = service_model(service)
        account = self.rng.choice(ACCOUNTS)
        auth = (f"AWS4-HMAC-SHA256 Credential={account}/20260101/us-east-1/{model.signing_name}/aws4_request, "
                "SignedHeaders=host, Signature=0")
        if model.protocol == "json":
            body = json.dumps(self.mutate(params, op), default=str).encode()
            request = urllib.request.Request(self.url + "/", data=body, method="POST", headers={
                "X-Amz-Target": f"{model.metadata['targetPrefix']}.{op.name}", "Authorization": auth,
                "Content-Type": f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.1')}"})
        else:
            try:
                wire = create_serializer(model.protocol).serialize_to_request(params, op)
            except Exception:  # noqa: BLE001 - a value the client itself would refuse to send
                return 0, "", ""
            query = urllib.parse.urlencode(wire["query_string"], doseq=True) if wire["query_string"] else ""
            body = wire["body"] if isinstance(wire["body"], bytes) else str(wire["body"] or "").encode()
            headers = {k: str(v) for k, v in wire["headers"].items()}
            headers["Authorization"] = auth
            request = urllib.request.Request(self.url + wire["url_path"] + (f"?{query}" if query else ""),
                                             data=body or None, method=wire["method"], headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, "", ""
        except urllib.error.HTTPError as exc:
            payload = exc.read().decode("utf-8", "replace")
            return exc.code, _error_name(payload, exc.headers), payload
        except (UnicodeEncodeError, ValueError):  # a header or URL no HTTP client can send
            return 0, "", ""
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            return 599, "ConnectionFailed", str(exc)


def _served_operations(service: str) -> list[str]:
    """Operations a provider or moto serves (the rest answer 501 at once)."""
    from emulator.aws.moto_bridge import moto_implements
    from emulator.services import provider_classes

    providers = {cls.service_name: cls for cls in provider_classes()}
    implemented = set(providers[service].implemented_operations()) if service in providers else set()
    return sorted(op for op in service_model(service).operation_names
                  if op in implemented or moto_implements(service, op))


def _error_name(payload: str, headers: Any) -> str:
    """The error name of a JSON (``__type``, ``x-amzn-ErrorType``) or XML error answer."""
    try:
        data = json.loads(payload)
        name = data.get("__type") or data.get("code") or data.get("Code") or ""
    except (ValueError, AttributeError):
        name = ""
        if "<Code>" in payload:
            name = payload.split("<Code>", 1)[1].split("</Code>", 1)[0]
    if not name:
        name = (headers.get("x-amzn-ErrorType") or "").split(":", 1)[0]
    return name.rsplit("#", 1)[-1]
