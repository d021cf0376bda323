"""Hostile requests get AWS-shaped 4xx answers, never a 500 or a server in trouble:
body size limits (before the body is read), JSON nesting, huge number literals,
NaN/Infinity, error messages that echo only a prefix, target-less requests, odd
endpoint paths, deep nesting inside DataSchema / recipes / InvokeEndpoint bodies."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from typing import Any

import pytest

from clients.testing import RunningEmulator


def _auth(service: str, account: str = "999988887777") -> str:
    return (f"AWS4-HMAC-SHA256 Credential={account}/20260101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0")


def _request(emulator: RunningEmulator, method: str, path: str, body: bytes = b"",
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    host = urllib.parse.urlparse(emulator.url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def _json_call(emulator: RunningEmulator, service: str, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
    version = "1.0" if service == "machinelearning" else "1.1"
    status, _, payload = _request(emulator, "POST", "/", body, {
        "X-Amz-Target": target, "Content-Type": f"application/x-amz-json-{version}", "Authorization": _auth(service)})
    return status, json.loads(payload) if payload else {}


def test_oversized_control_plane_body_is_refused_before_it_is_read(emulator: RunningEmulator) -> None:
    """Content-Length says 200 MB; the server answers 413 without waiting for the bytes."""
    host = urllib.parse.urlparse(emulator.url)
    with socket.create_connection((host.hostname, host.port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SageMaker.ListModels\r\n"
                     b"Content-Type: application/x-amz-json-1.1\r\nAuthorization: " + _auth("sagemaker").encode()
                     + b"\r\nContent-Length: 209715200\r\n\r\n{\"NameContains\": \"" + b"a" * 1000)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        answer = b"".join(chunks).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413")
    assert "HTTP content length exceeded 2097152 bytes." in answer


def test_long_value_is_echoed_only_as_a_prefix(emulator: RunningEmulator) -> None:
    status, error = _json_call(emulator, "sagemaker", "SageMaker.ListModels",
                               json.dumps({"NameContains": "x" * 1_000_000}).encode())
    assert status == 400 and error["__type"] == "ValidationException"
    assert len(error["message"]) < 1100 and "xxxx" in error["message"]


def test_invoke_endpoint_over_6_mb_is_413(emulator: RunningEmulator) -> None:
    status, _, payload = _request(emulator, "POST", "/endpoints/any/invocations", b"1" * (6 * 1024 * 1024 + 1), {
        "Content-Type": "text/csv", "Authorization": _auth("sagemaker")})
    assert status == 413 and json.loads(payload)["message"] == "HTTP content length exceeded 6291456 bytes."


@pytest.mark.parametrize("body", [
    b"[" * 10_000 + b"]" * 10_000,
    b'{"NameContains": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b'{"MaxResults": ' + b"9" * 5000 + b"}",
    b'{"MaxResults": NaN}',
    b'{"MaxResults": Infinity}',
    b'{"MaxResults": 1e999}',
])
def test_unreadable_json_is_a_serialization_exception(emulator: RunningEmulator, body: bytes) -> None:
    status, error = _json_call(emulator, "sagemaker", "SageMaker.ListModels", body)
    assert (status, error["__type"]) == (400, "SerializationException")
    assert len(error["message"]) < 400


def test_number_beyond_a_java_integer_is_a_validation_error(emulator: RunningEmulator) -> None:
    status, error = _json_call(emulator, "sagemaker", "SageMaker.ListModels", b'{"MaxResults": ' + b"9" * 4000 + b"}")
    assert (status, error["__type"]) == (400, "ValidationException")
    assert len(error["message"]) < 400


@pytest.mark.parametrize("member", ["DataSchema", "DataRearrangement"])
def test_deep_nesting_inside_amazon_ml_strings_is_4xx(emulator: RunningEmulator, member: str) -> None:
    deep = "[" * 50_000 + "]" * 50_000
    spec = {"DataLocationS3": "s3://b/k.csv", "DataSchema": "{}", member: deep}
    status, error = _json_call(emulator, "machinelearning", "AmazonML_20141212.CreateDataSourceFromS3",
                               json.dumps({"DataSourceId": "deep", "DataSpec": spec}).encode())
    assert status == 400 and error["__type"] == "InvalidInputException"


@pytest.mark.parametrize("path", ["/endpoints//invocations", "/endpoints/..%2F..%2Fetc%2Fpasswd/invocations",
                                  "/endpoints/a/b/invocations"])
def test_odd_endpoint_paths_are_validation_errors(emulator: RunningEmulator, path: str) -> None:
    status, headers, payload = _request(emulator, "POST", path, b"1,2", {
        "Content-Type": "text/csv", "Authorization": _auth("sagemaker")})
    assert status == 400 and json.loads(payload)["__type"] == "ValidationError"


@pytest.mark.parametrize("service", ["machinelearning", "sagemaker", "glue", "logs"])
def test_json_service_request_without_target_is_unknown_operation(emulator: RunningEmulator, service: str) -> None:
    status, _, payload = _request(emulator, "POST", "/", b"{}", {
        "Content-Type": "application/x-amz-json-1.1", "Authorization": _auth(service)})
    assert status == 400 and json.loads(payload)["__type"] == "UnknownOperationException"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sts_request_without_action_is_missing_action(emulator: RunningEmulator, method: str) -> None:
    status, _, payload = _request(emulator, method, "/", b"", {"Authorization": _auth("sts")})
    assert status == 400 and b"<Code>MissingAction</Code>" in payload


@pytest.mark.parametrize("weight", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_in_a_float_member_is_refused_not_echoed(emulator: RunningEmulator, weight: bytes) -> None:
    body = (b'{"EndpointConfigName": "nan-config", "ProductionVariants": [{"VariantName": "v", "ModelName": "m", '
            b'"InitialInstanceCount": 1, "InstanceType": "ml.m5.large", "InitialVariantWeight": ' + weight + b"}]}")
    status, error = _json_call(emulator, "sagemaker", "SageMaker.CreateEndpointConfig", body)
    assert (status, error["__type"]) == (400, "SerializationException")
    status, error = _json_call(emulator, "sagemaker", "SageMaker.DescribeEndpointConfig",
                               b'{"EndpointConfigName": "nan-config"}')
    assert status == 400 and error["__type"] == "ValidationException"  # never created
