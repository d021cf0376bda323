"""Batch transform over HTTP: the SDK's Transformer and the raw API on a real k-NN iris model."""

from __future__ import annotations

import io
import json
import time
import uuid
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.neighbors import KNeighborsClassifier

from clients.testing import RunningEmulator
from tests.sagemaker_helpers import KNN_IMAGE, ROLE, channel, iris_split, training_request


def _reference_predictions(k: int = 1) -> np.ndarray:
    train, test = iris_split()
    model = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(train.iloc[:, 1:].values, train["Species"])
    return model.predict(test.iloc[:, 1:].values)


def _csv(frame: Any) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False)
    return buffer.getvalue().encode()


@pytest.fixture(scope="module")
def knn_model(emulator: RunningEmulator) -> dict[str, str]:
    """A k-NN model (k=1) trained on seed 003's iris split, and the test features uploaded."""
    s3, sm = emulator.client("s3"), emulator.client("sagemaker")
    bucket = f"transform-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    train, test = iris_split()
    s3.put_object(Bucket=bucket, Key="train/train.csv", Body=_csv(train))
    s3.put_object(Bucket=bucket, Key="batch/features.csv", Body=_csv(test.iloc[:, 1:]))
    job = f"knn-transform-{uuid.uuid4().hex[:8]}"
    sm.create_training_job(**training_request(job, KNN_IMAGE, {"k": "1", "sample_size": "200", "predictor_type": "classifier",
                                                               "feature_dim": "4"},
                                              [channel("train", f"s3://{bucket}/train/")], f"s3://{bucket}/model"))
    described = sm.describe_training_job(TrainingJobName=job)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    sm.create_model(ModelName=job, PrimaryContainer={"Image": KNN_IMAGE,
                                                     "ModelDataUrl": described["ModelArtifacts"]["S3ModelArtifacts"]},
                    ExecutionRoleArn=ROLE)
    return {"bucket": bucket, "model": job, "job": job}


def _wait(sm: Any, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        described = sm.describe_transform_job(TransformJobName=name)
        if described["TransformJobStatus"] in ("Completed", "Failed", "Stopped"):
            return described
        time.sleep(0.1)
    raise AssertionError("transform job did not finish")


def _request(name: str, model: str, bucket: str, **extra: Any) -> dict[str, Any]:
    request = {
        "TransformJobName": name, "ModelName": model,
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/batch/"}},
                           "ContentType": "text/csv", "SplitType": "Line"},
        "TransformOutput": {"S3OutputPath": f"s3://{bucket}/out/{name}", "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(request.get(key), dict):
            request[key] = {**request[key], **value}
        else:
            request[key] = value
    return request


def test_sdk_transformer_writes_one_prediction_per_line(sagemaker_sdk: RunningEmulator, knn_model: dict[str, str]) -> None:
    import sagemaker
    from sagemaker.estimator import Estimator

    bucket = knn_model["bucket"]
    estimator = Estimator.attach(knn_model["job"], sagemaker_session=sagemaker.Session())
    transformer = estimator.transformer(instance_count=1, instance_type="ml.m5.large", strategy="MultiRecord",
                                        assemble_with="Line", output_path=f"s3://{bucket}/sdk-out",
                                        accept="application/jsonlines")
    transformer.transform(f"s3://{bucket}/batch/features.csv", content_type="text/csv", split_type="Line")
    transformer.wait()
    s3 = sagemaker_sdk.client("s3")
    body = s3.get_object(Bucket=bucket, Key="sdk-out/features.csv.out")["Body"].read().decode()
    lines = body.splitlines()
    expected = _reference_predictions()
    assert len(lines) == len(expected)
    predicted = np.array([json.loads(line)["predicted_label"] for line in lines])
    np.testing.assert_array_equal(predicted, expected)
    _, test = iris_split()
    assert (predicted == test["Species"].values).mean() > 0.9 and len(set(predicted)) == 3


def test_single_record_json_output_matches_invoke_endpoint(aws: Any, knn_model: dict[str, str]) -> None:
    """Each SingleRecord request is an InvokeEndpoint call: the .out holds the same answers."""
    sm, s3 = aws("sagemaker"), aws("s3")
    bucket = knn_model["bucket"]
    name = f"single-{uuid.uuid4().hex[:8]}"
    sm.create_transform_job(**_request(name, knn_model["model"], bucket, BatchStrategy="SingleRecord",
                                       TransformOutput={"Accept": "application/json"}))
    described = _wait(sm, name)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    assert described["TransformInput"]["SplitType"] == "Line" and described["BatchStrategy"] == "SingleRecord"
    out = s3.get_object(Bucket=bucket, Key=f"out/{name}/features.csv.out")["Body"].read().decode().splitlines()
    predictions = [json.loads(line)["predictions"][0]["predicted_label"] for line in out]
    np.testing.assert_array_equal(predictions, _reference_predictions())
    assert [j["TransformJobName"] for j in sm.list_transform_jobs(NameContains=name)["TransformJobSummaries"]] == [name]


def test_join_source_and_filters(aws: Any, knn_model: dict[str, str]) -> None:
    """InputFilter drops an id column, JoinSource=Input joins the answer, OutputFilter keeps id and answer."""
    sm, s3 = aws("sagemaker"), aws("s3")
    bucket = knn_model["bucket"]
    _, test = iris_split()
    with_ids = test.iloc[:, 1:].copy()
    with_ids.insert(0, "id", range(100, 100 + len(with_ids)))
    s3.put_object(Bucket=bucket, Key="joined/rows.csv", Body=_csv(with_ids))
    name = f"join-{uuid.uuid4().hex[:8]}"
    request = _request(name, knn_model["model"], bucket, BatchStrategy="MultiRecord",
                       TransformOutput={"Accept": "application/jsonlines"},
                       DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"})
    request["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://{bucket}/joined/"
    sm.create_transform_job(**request)
    described = _wait(sm, name)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    rows = [json.loads(line) for line in
            s3.get_object(Bucket=bucket, Key=f"out/{name}/rows.csv.out")["Body"].read().decode().splitlines()]
    assert [r[0] for r in rows] == list(range(100, 100 + len(with_ids)))
    np.testing.assert_array_equal([r[1]["predicted_label"] for r in rows], _reference_predictions())


def test_unreadable_record_fails_the_job(aws: Any, knn_model: dict[str, str]) -> None:
    sm, s3 = aws("sagemaker"), aws("s3")
    bucket = knn_model["bucket"]
    s3.put_object(Bucket=bucket, Key="bad/rows.csv", Body=b"5.1,3.5,1.4,0.2\nnot,a,number,here\n")
    name = f"bad-{uuid.uuid4().hex[:8]}"
    request = _request(name, knn_model["model"], bucket)
    request["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://{bucket}/bad/"
    sm.create_transform_job(**request)
    described = _wait(sm, name)
    assert described["TransformJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("ClientError: Bad HTTP status received from algorithm: 400")
    assert "bad/rows.csv" in described["FailureReason"]
    with pytest.raises(ClientError) as error:
        sm.stop_transform_job(TransformJobName=name)
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_transform_validation_errors(aws: Any, knn_model: dict[str, str]) -> None:
    sm = aws("sagemaker")
    bucket = knn_model["bucket"]
    with pytest.raises(ClientError) as missing_model:
        sm.create_transform_job(**_request(f"nomodel-{uuid.uuid4().hex[:8]}", "no-such-model", bucket))
    assert missing_model.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not find model" in missing_model.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing_job:
        sm.describe_transform_job(TransformJobName="no-such-transform")
    assert missing_job.value.response["Error"]["Code"] == "ValidationException"
    name = f"dup-{uuid.uuid4().hex[:8]}"
    sm.create_transform_job(**_request(name, knn_model["model"], bucket))
    with pytest.raises(ClientError) as duplicate:
        sm.create_transform_job(**_request(name, knn_model["model"], bucket))
    assert duplicate.value.response["Error"]["Code"] == "ResourceInUse"
    with pytest.raises(ClientError) as bad_batch:
        request = _request(f"multi-{uuid.uuid4().hex[:8]}", knn_model["model"], bucket, BatchStrategy="MultiRecord")
        request["TransformInput"]["SplitType"] = "None"
        sm.create_transform_job(**request)
    assert bad_batch.value.response["Error"]["Code"] == "ValidationException"
