"""Fast unit tests of the generic core: validator, rest routing, paging, job runner, identity."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from emulator.aws.identity import DEFAULT_ACCOUNT_ID, identify_caller
from emulator.jobs import JobRunner
from emulator.protocol.models import operation_model
from emulator.protocol.parser import match_rest_operation
from emulator.protocol.validator import ValidationFailed, validate
from emulator.services.paging import BadNextToken, paginate


def _input(service: str, operation: str):
    return operation_model(service, operation).input_shape


def test_validator_collects_every_violation_with_aws_wording() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate(_input("sagemaker", "ListTrainingJobs"), {"MaxResults": 0, "SortBy": "Size"})
    message = str(info.value)
    assert message.startswith("2 validation errors detected: ")
    assert "Value 0 at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1" in message
    assert "Value 'Size' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set" in message


def test_validator_names_nested_members_and_null_required() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate(_input("sagemaker", "CreateEndpointConfig"),
                 {"EndpointConfigName": "c", "ProductionVariants": [{"ModelName": "m"}]})
    assert "Value null at 'productionVariants.1.member.variantName' failed to satisfy constraint: " \
           "Member must not be null" in str(info.value)


def test_validator_coerces_timestamps_and_drops_unknown_members() -> None:
    result = validate(_input("sagemaker", "ListModels"), {"CreationTimeAfter": 1_700_000_000, "Bogus": 1})
    assert result == {"CreationTimeAfter": dt.datetime.fromtimestamp(1_700_000_000, tz=dt.timezone.utc)}


def test_validator_types() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate(_input("machinelearning", "DescribeMLModels"), {"Limit": "ten"})
    assert "Member must be of type integer" in str(info.value)


def test_validator_understands_java_unicode_classes() -> None:
    shape = _input("machinelearning", "AddTags")
    ok = {"ResourceId": "r", "ResourceType": "MLModel", "Tags": [{"Key": "équipe:ml", "Value": "x"}]}
    assert validate(shape, ok)["Tags"][0]["Key"] == "équipe:ml"
    with pytest.raises(ValidationFailed):
        validate(shape, {**ok, "Tags": [{"Key": "bad\x00key", "Value": "x"}]})


def test_rest_json_routing_binds_uri_labels() -> None:
    assert match_rest_operation("sagemaker-runtime", "POST", "/endpoints/my-ep/invocations") == (
        "InvokeEndpoint", {"EndpointName": "my-ep"})
    assert match_rest_operation("sagemaker-runtime", "GET", "/endpoints/my-ep/invocations") is None


def test_paginate_round_trips_and_refuses_foreign_tokens() -> None:
    items = list(range(5))
    first, token = paginate(items, None, 2)
    second, token2 = paginate(items, token, 2)
    third, token3 = paginate(items, token2, 2)
    assert (first, second, third, token3) == ([0, 1], [2, 3], [4], None)
    with pytest.raises(BadNextToken):
        paginate(items, "not-a-token", 2)


def test_job_runner_chains_dependencies_and_waits_a_grace_period() -> None:
    runner = JobRunner(max_workers=1, grace_seconds=5)
    gate = threading.Event()
    order: list[str] = []
    first = runner.submit(lambda: (gate.wait(5), order.append("first")))
    second = runner.submit(lambda: order.append("second"), after=[first])
    assert runner.wait(second, timeout=0.05) is False  # still blocked behind the gate
    gate.set()
    assert runner.wait(second) is True
    assert order == ["first", "second"]
    runner.shutdown()


def test_job_runner_survives_a_failing_job() -> None:
    runner = JobRunner(max_workers=1)
    failing = runner.submit(lambda: 1 / 0)
    assert runner.wait(failing) and failing.result() is None
    assert runner.submit(lambda: 42).result(timeout=5) == 42
    runner.shutdown()


def test_identity_from_sigv4() -> None:
    caller = identify_caller("AWS4-HMAC-SHA256 Credential=111122223333/20260101/eu-west-1/sagemaker/aws4_request, "
                             "SignedHeaders=host, Signature=0", None)
    assert (caller.account_id, caller.region, caller.signing_service) == ("111122223333", "eu-west-1", "sagemaker")
    assert identify_caller("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request", None).account_id \
        == DEFAULT_ACCOUNT_ID
    assert identify_caller(None, None).region is None
