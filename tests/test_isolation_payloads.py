"""Deep nesting inside an Amazon ML recipe or an InvokeEndpoint JSON body (every
algorithm) answers a 4xx, and the endpoint keeps answering well-formed requests."""

from __future__ import annotations

import json
import uuid

import botocore.exceptions
import pytest

from tests.sagemaker_helpers import (BLAZINGTEXT_IMAGE, KNN_IMAGE, LINEAR_IMAGE, XGBOOST_IMAGE, channel,
                                     iris_split, training_request)
from tests.test_sagemaker_api import _deploy as deploy

DEEP = "[" * 100_000 + "]" * 100_000

ALGORITHMS = {
    "knn": (KNN_IMAGE, {"k": "3", "sample_size": "100", "predictor_type": "classifier"}),
    "linear-learner": (LINEAR_IMAGE, {"predictor_type": "multiclass_classifier", "num_classes": "3"}),
    "xgboost": (XGBOOST_IMAGE, {"num_round": "3", "objective": "multi:softmax", "num_class": "3"}),
    "blazingtext": (BLAZINGTEXT_IMAGE, {"mode": "supervised", "min_count": "1", "epochs": "2"}),
}


@pytest.fixture(scope="module")
def data(emulator) -> str:
    s3 = emulator.client("s3")
    bucket = f"payloads-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    train, _ = iris_split()
    s3.put_object(Bucket=bucket, Key="csv/train.csv", Body=train.to_csv(header=False, index=False))
    s3.put_object(Bucket=bucket, Key="text/train.txt",
                  Body="\n".join(f"__label__{i % 2} word{i % 2} other{i % 3}" for i in range(60)))
    return bucket


def _endpoint(emulator, bucket: str, algorithm: str) -> str:
    sm = emulator.client("sagemaker")
    image, hyper = ALGORITHMS[algorithm]
    name = f"deep-{algorithm}-{uuid.uuid4().hex[:6]}"
    source = channel("train", f"s3://{bucket}/text/", None) if algorithm == "blazingtext" \
        else channel("train", f"s3://{bucket}/csv/")
    sm.create_training_job(**training_request(name, image, hyper, [source], f"s3://{bucket}/out"))
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    return deploy(sm, name, image)


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_deeply_nested_json_body_is_a_model_error(emulator, data: str, algorithm: str) -> None:
    runtime = emulator.client("sagemaker-runtime")
    name = _endpoint(emulator, data, algorithm)
    body = json.dumps({"instances": "x"})[:-1] + ', "deep": ' + DEEP + "}"
    with pytest.raises(botocore.exceptions.ClientError) as info:
        runtime.invoke_endpoint(EndpointName=name, ContentType="application/json", Body=body)
    error = info.value.response
    assert 400 <= error["ResponseMetadata"]["HTTPStatusCode"] < 500
    assert error["Error"]["Code"] == "ModelError"
    good = '{"instances": ["word0 other1"]}' if algorithm == "blazingtext" else "5.1,3.5,1.4,0.2"
    answer = runtime.invoke_endpoint(EndpointName=name, Body=good,
                                     ContentType="application/json" if algorithm == "blazingtext" else "text/csv")
    assert answer["Body"].read()


def test_deeply_nested_recipe_is_invalid_input(emulator, data: str) -> None:
    ml = emulator.client("machinelearning")
    schema = json.dumps({"version": "1.0", "dataFormat": "CSV", "targetAttributeName": "y", "attributes": [
        {"attributeName": "y", "attributeType": "CATEGORICAL"},
        *({"attributeName": f"x{i}", "attributeType": "NUMERIC"} for i in range(4))]})
    source = f"deep-ds-{uuid.uuid4().hex[:6]}"
    ml.create_data_source_from_s3(DataSourceId=source, ComputeStatistics=True, DataSpec={
        "DataLocationS3": f"s3://{data}/csv/train.csv", "DataSchema": schema})
    for recipe in ('{"groups": {}, "assignments": {}, "outputs": ' + "[" * 5000 + "]" * 5000 + "}",
                   '{"groups": {}, "assignments": {}, "outputs": ["' + "normalize(" * 5000 + "x0" + ")" * 5000 + '"]}'):
        with pytest.raises(botocore.exceptions.ClientError) as info:
            ml.create_ml_model(MLModelId=f"deep-{uuid.uuid4().hex[:6]}", MLModelType="MULTICLASS",
                               TrainingDataSourceId=source, Recipe=recipe)
        assert info.value.response["Error"]["Code"] == "InvalidInputException"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
