"""A seeded, bounded schema-driven fuzz (tests/fuzzing.py) of machinelearning, glue,
sagemaker and sagemaker-runtime: zero 5xx other than 501, every 4xx error name in the
service's model or a common AWS one, and moto's answers included. bench/fuzz.py runs
the long version (10,000 requests)."""

from __future__ import annotations

import pytest

from tests.fuzzing import Fuzzer


@pytest.mark.parametrize("seed", [11, 12])
def test_fuzzed_requests_stay_inside_the_contract(emulator, seed: int) -> None:
    report = Fuzzer(emulator.url, seed=seed).run(200)
    answered = sum(n for status, n in report.statuses.items() if status)
    assert answered > 160 and report.statuses.get(400, 0) > 40 and report.statuses.get(200, 0) >= 5
    assert report.findings == []
    assert emulator.client("sagemaker").list_models()["Models"] is not None  # and it still serves


def test_moto_error_names_are_translated_to_the_model(aws) -> None:
    """moto's InvalidToken is not a Glue or SageMaker error: the model's validation error answers."""
    import botocore.exceptions

    for client, call in ((aws("glue"), "list_jobs"), (aws("sagemaker"), "list_experiments")):
        with pytest.raises(botocore.exceptions.ClientError) as info:
            getattr(client, call)(NextToken="not-a-token")
        code = info.value.response["Error"]["Code"]
        assert code in ("InvalidInputException", "ValidationException"), code


@pytest.mark.parametrize("service, call, kwargs", [
    ("glue", "start_job_run", {"JobName": "no-such-job"}),
    ("glue", "start_crawler", {"Name": "no-such-crawler"}),
    ("glue", "create_dev_endpoint", {"EndpointName": "e", "RoleArn": "arn:aws:iam::123456789012:role/r"}),
    ("sagemaker", "create_notebook_instance", {"NotebookInstanceName": "n", "InstanceType": "ml.t2.medium",
                                               "RoleArn": "arn:aws:iam::123456789012:role/r"}),
])
def test_canned_moto_work_answers_not_implemented_unless_a_provider_runs_it(emulator, aws, service, call,
                                                                          kwargs) -> None:
    import botocore.exceptions
    from botocore import xform_name

    provider = emulator.app.emulator.providers[service]
    operation = {xform_name(op): op for op in aws(service).meta.service_model.operation_names}[call]
    implemented = provider.handler(operation) is not None
    try:
        getattr(aws(service), call)(**kwargs)
    except botocore.exceptions.ClientError as exc:
        code, status = exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]
        if implemented:  # a real implementation (another issue) answers as AWS does
            assert status < 500
        else:
            assert (code, status) == ("NotImplemented", 501) and operation in exc.response["Error"]["Message"]
    else:
        assert implemented, f"{operation} answered a canned success"
