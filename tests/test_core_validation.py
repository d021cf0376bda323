"""Model-driven validation for every provider-backed service, over HTTP, plus protocol errors."""

from __future__ import annotations

import json
import urllib.request

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config as BotoConfig

from clients.testing import RunningEmulator
from emulator.aws.moto_bridge import moto_implements
from emulator.protocol.models import service_model
from emulator.services.sagemaker import SageMakerProvider


def _unchecked(emulator: RunningEmulator, service: str):
    """A client that skips botocore's client-side checks, like the CLI/JS SDK/hand-made HTTP would."""
    return boto3.client(service, endpoint_url=emulator.url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=BotoConfig(parameter_validation=False))


def _code(call, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(**kwargs)
    error = info.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]


CASES = [
    # service, operation (snake), kwargs, expected code, text in message
    ("machinelearning", "get_ml_model", {}, "InvalidInputException", "mLModelId"),
    ("machinelearning", "describe_ml_models", {"Limit": 500}, "InvalidInputException", "less than or equal to 100"),
    ("machinelearning", "create_ml_model", {"MLModelId": "m1", "MLModelType": "FOO", "TrainingDataSourceId": "d"},
     "InvalidInputException", "enum value set"),
    ("machinelearning", "get_data_source", {"DataSourceId": "x" * 65}, "InvalidInputException", "length less than"),
    ("glue", "get_database", {}, "InvalidInputException", "name"),
    ("glue", "get_databases", {"MaxResults": 0}, "InvalidInputException", "greater than or equal to 1"),
    ("glue", "create_database", {"DatabaseInput": {"Name": "x" * 300}}, "InvalidInputException", "length less than"),
    ("glue", "get_ml_transforms", {"Sort": {"Column": "SIZE", "SortDirection": "ASCENDING"}}, "InvalidInputException",
     "enum value set"),
    ("sagemaker", "describe_training_job", {}, "ValidationException", "trainingJobName"),
    ("sagemaker", "list_training_jobs", {"SortBy": "Size"}, "ValidationException", "enum value set"),
    ("sagemaker", "list_models", {"MaxResults": 101}, "ValidationException", "less than or equal to 100"),
    ("sagemaker", "describe_endpoint", {"EndpointName": "e" * 64}, "ValidationException", "length less than"),
    ("sagemaker-runtime", "invoke_endpoint", {"EndpointName": "bad name!", "Body": b"1"}, "ValidationError", "pattern"),
    ("sagemaker-runtime", "invoke_endpoint", {"EndpointName": "e" * 64, "Body": b"1"}, "ValidationError", "length"),
]


@pytest.mark.parametrize("service, operation, kwargs, code, text", CASES)
def test_model_violations_answer_the_services_validation_error(emulator, service, operation, kwargs, code, text) -> None:
    got_code, status, message = _code(getattr(_unchecked(emulator, service), operation), **kwargs)
    assert (got_code, status) == (code, 400)
    assert text in message


def _raw(emulator: RunningEmulator, target: str, body: bytes, service: str) -> tuple[int, dict]:
    request = urllib.request.Request(emulator.url + "/", data=body, method="POST", headers={
        "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("target, service", [("SageMaker.ListModels", "sagemaker"),
                                             ("AmazonML_20141212.DescribeMLModels", "machinelearning"),
                                             ("AWSGlue.GetDatabases", "glue")])
def test_malformed_json_is_a_serialization_exception(emulator, target: str, service: str) -> None:
    status, body = _raw(emulator, target, b"{not json", service)
    assert (status, body["__type"]) == (400, "SerializationException")


@pytest.mark.parametrize("target, service", [("SageMaker.DoesNotExist", "sagemaker"), ("NoSuch.Op", "sagemaker"),
                                             ("Logs_20140328.NoSuchOp", "logs"), ("NoSuch.Op", "logs")])
def test_unknown_operation_or_target_is_a_4xx(emulator, target: str, service: str) -> None:
    status, body = _raw(emulator, target, b"{}", service)
    assert (status, body["__type"]) == (400, "UnknownOperationException")


def test_unimplemented_operation_is_501_naming_it(emulator) -> None:
    model = service_model("sagemaker")
    implemented = set(SageMakerProvider.implemented_operations())
    operation = next(op for op in model.operation_names
                     if op not in implemented and not moto_implements("sagemaker", op)
                     and not model.operation_model(op).input_shape.required_members)
    status, body = _raw(emulator, f"SageMaker.{operation}", b"{}", "sagemaker")
    assert (status, body["__type"]) == (501, "NotImplemented")
    assert operation in body["message"]


def test_bad_input_does_not_corrupt_state(aws) -> None:
    sm = aws("sagemaker")
    before = sm.list_models(MaxResults=100)["Models"]
    with pytest.raises(botocore.exceptions.ClientError):
        sm.create_model(ModelName="state-check", ExecutionRoleArn="arn:aws:iam::123456789012:role/x")
    assert sm.list_models(MaxResults=100)["Models"] == before


def test_operation_neither_we_nor_moto_implement_is_501_not_a_traceback(aws) -> None:
    code, status, message = _code(aws("logs").get_data_protection_policy, logGroupIdentifier="/some/group")
    assert (code, status) == ("NotImplemented", 501)
    assert "get_data_protection_policy" in message


def test_job_types_moto_would_fake_answer_501(aws) -> None:
    """moto 'completes' compilation jobs that never ran; the emulator refuses instead of faking."""
    code, status, message = _code(aws("sagemaker").list_compilation_jobs)
    assert (code, status) == ("NotImplemented", 501)
    assert "ListCompilationJobs" in message
    code, status, _ = _code(aws("sagemaker").delete_compilation_job, CompilationJobName="x")
    assert (code, status) == ("NotImplemented", 501)


@pytest.mark.parametrize("service", ["sts", "iam"])
def test_unknown_query_action_is_invalid_action(emulator, service: str) -> None:
    request = urllib.request.Request(emulator.url + "/", data=b"Action=Bogus&Version=2011-06-15", method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request)
    assert info.value.code == 400
    assert b"<Code>InvalidAction</Code>" in info.value.read()


def test_malformed_json_to_a_moto_served_service_is_refused(emulator) -> None:
    status, body = _raw(emulator, "Logs_20140328.DescribeLogGroups", b"{not json", "logs")
    assert (status, body["__type"]) == (400, "SerializationException")
