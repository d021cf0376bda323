"""Fast unit tests of the request path's caches and the deferred start-up warm-up."""

from __future__ import annotations

import threading

import pytest

from emulator.protocol.models import operation_model
from emulator.protocol.validator import ValidationFailed, validate
from emulator.warmup import DeferredWarmUp


def _input(service: str, operation: str):
    return operation_model(service, operation).input_shape


def test_remembered_pattern_results_stay_per_value_and_pattern() -> None:
    shape = _input("machinelearning", "Predict")
    record = {"MLModelId": "model-1", "Record": {"a": "1"}, "PredictEndpoint": "https://realtime.machinelearning.us-east-1.amazonaws.com"}
    for _ in range(3):  # the second and third answers come from the cache: still the same
        assert validate(shape, record)["MLModelId"] == "model-1"
        with pytest.raises(ValidationFailed) as info:
            validate(shape, {**record, "MLModelId": "bad id!"})
        assert str(info.value) == ("1 validation error detected: Value 'bad id!' at 'mLModelId' failed to satisfy "
                                   "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    # the same string is checked against each shape's own pattern, not a cached answer of another
    endpoint = _input("sagemaker", "DescribeEndpoint")
    with pytest.raises(ValidationFailed, match="at 'endpointName'"):
        validate(endpoint, {"EndpointName": "model_1"})  # '_' is not allowed in an endpoint name
    assert validate(shape, {**record, "MLModelId": "model_1"})["MLModelId"] == "model_1"


def test_map_and_list_paths_are_named_only_on_failure() -> None:
    shape = _input("machinelearning", "Predict")
    with pytest.raises(ValidationFailed) as info:
        validate(shape, {"MLModelId": "", "PredictEndpoint": "https://realtime.machinelearning.us-east-1.amazonaws.com",
                         "Record": {"ok": "1", "n": 5}})
    message = str(info.value)
    assert message.startswith("3 validation errors detected: ")
    assert "Value 5 at 'record.n.value' failed to satisfy constraint: Member must be of type string" in message
    assert "Value '' at 'mLModelId' failed to satisfy constraint: Member must have length greater than or equal to 1" \
        in message
    config = _input("sagemaker", "CreateEndpointConfig")
    with pytest.raises(ValidationFailed) as info:
        validate(config, {"EndpointConfigName": "c", "ProductionVariants": [
            {"VariantName": "a", "ModelName": "m"}, {"VariantName": "b", "ModelName": "m", "InitialInstanceCount": 0}]})
    assert "Value 0 at 'productionVariants.2.member.initialInstanceCount' failed to satisfy constraint: " \
           "Member must have value greater than or equal to 1" in str(info.value)


def test_warm_up_waits_for_the_first_answer_and_runs_once() -> None:
    ran: list[str] = []
    done = threading.Event()
    warm = DeferredWarmUp([lambda: ran.append("step"), done.set], delay=60.0)
    sent: list[str] = []

    def app(environ, start_response):  # noqa: ANN001, ANN202
        start_response("200 OK", [])
        return [b"answer"]

    wrapped = warm.wrap(app)
    body = wrapped({}, lambda status, headers: sent.append(status))
    assert b"".join(body) == b"answer" and sent == ["200 OK"]
    assert ran == []  # nothing competes with the first answer while it is being sent
    body.close()  # the WSGI server closes the body once the response is out
    assert done.wait(10)
    b"".join(wrapped({}, lambda status, headers: None))
    warm.start()
    assert ran == ["step"]
