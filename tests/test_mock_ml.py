"""``@mock_ml`` alone (no server fixture, no port): Amazon ML and SageMaker run in-process."""

from __future__ import annotations

import io
import json
import logging
import tarfile
import time
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.metrics import f1_score
from sklearn.neighbors import KNeighborsClassifier

from clients import mock_ml
from emulator.config import Config
from tests.sagemaker_helpers import IRIS_CSV, KNN_IMAGE, channel, iris_split, training_request

SCHEMA = {"version": "1.0", "targetAttributeName": "Species", "dataFormat": "CSV", "dataFileContainsHeader": True,
          "attributes": [{"attributeName": n, "attributeType": "NUMERIC"}
                         for n in ("Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width")]
          + [{"attributeName": "Species", "attributeType": "CATEGORICAL"}]}


def _split(begin: int, end: int, complement: bool = False) -> str:
    return json.dumps({"splitting": {"percentBegin": begin, "percentEnd": end, "strategy": "random",
                                     "complement": complement}})


@mock_ml
def test_amazon_ml_create_flow_and_predict_in_process() -> None:
    s3, ml = boto3.client("s3", region_name="us-east-1"), boto3.client("machinelearning", region_name="us-east-1")
    s3.create_bucket(Bucket="ml-data")
    s3.upload_file(IRIS_CSV, "ml-data", "iris.csv")
    for ds_id, complement in (("ds-train", False), ("ds-eval", True)):
        ml.create_data_source_from_s3(DataSourceId=ds_id, ComputeStatistics=True, DataSpec={
            "DataLocationS3": "s3://ml-data/iris.csv", "DataSchema": json.dumps(SCHEMA),
            "DataRearrangement": _split(0, 70, complement)})
    ml.get_waiter("data_source_available").wait(FilterVariable="Status", EQ="COMPLETED", WaiterConfig={"Delay": 1})
    train, held_out = (ml.get_data_source(DataSourceId=i) for i in ("ds-train", "ds-eval"))
    assert train["Status"] == held_out["Status"] == "COMPLETED"
    assert train["NumberOfFiles"] == 1 and train["DataSizeInBytes"] == 3716  # the S3 object was read

    ml.create_ml_model(MLModelId="model", MLModelType="MULTICLASS", TrainingDataSourceId="ds-train",
                       Parameters={"sgd.maxPasses": "20", "sgd.shuffleType": "auto"})
    ml.create_evaluation(EvaluationId="ev", MLModelId="model", EvaluationDataSourceId="ds-eval")
    ml.get_waiter("evaluation_available").wait(WaiterConfig={"Delay": 1})
    score = float(ml.get_evaluation(EvaluationId="ev")["PerformanceMetrics"]["Properties"]["MulticlassAvgFScore"])
    assert 0.8 < score <= 1.0

    endpoint = ml.create_realtime_endpoint(MLModelId="model")["RealtimeEndpointInfo"]["EndpointUrl"]
    answer = ml.predict(MLModelId="model", PredictEndpoint=endpoint, Record={
        "Sepal.Length": "6.9", "Sepal.Width": "3.1", "Petal.Length": "5.4", "Petal.Width": "2.1"})
    assert answer["Prediction"]["predictedLabel"] == "virginica"


@mock_ml
def test_state_is_fresh_for_each_use() -> None:
    ml = boto3.client("machinelearning", region_name="us-east-1")
    assert boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"] == []
    with pytest.raises(ClientError) as missing:
        ml.get_data_source(DataSourceId="ds-train")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def _upload(s3: Any, frame: Any, key: str) -> str:
    s3.put_object(Bucket="sm-data", Key=key, Body=frame.to_csv(header=False, index=False).encode())
    return f"s3://sm-data/{key}"


def test_knn_training_job_endpoint_and_invoke_in_process() -> None:
    train_df, test_df = iris_split()
    with mock_ml():
        s3 = boto3.client("s3", region_name="us-east-1")
        sm = boto3.client("sagemaker", region_name="us-east-1")
        s3.create_bucket(Bucket="sm-data")
        channels = [channel("train", _upload(s3, train_df, "in/train.csv")),
                    channel("test", _upload(s3, test_df, "in/test.csv"))]
        sm.create_training_job(**training_request(
            "knn-inproc", KNN_IMAGE, {"k": "3", "sample_size": "200", "predictor_type": "classifier", "feature_dim": "4"},
            channels, "s3://sm-data/out"))
        sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="knn-inproc", WaiterConfig={"Delay": 1})
        job = sm.describe_training_job(TrainingJobName="knn-inproc")
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        artefact = job["ModelArtifacts"]["S3ModelArtifacts"]
        assert artefact == "s3://sm-data/out/knn-inproc/output/model.tar.gz"
        with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket="sm-data", Key=artefact[len("s3://sm-data/"):])["Body"]
                                              .read())) as archive:
            assert archive.getnames()

        reference = KNeighborsClassifier(n_neighbors=3).fit(train_df.iloc[:, 1:], train_df.iloc[:, 0])
        expected = reference.predict(test_df.iloc[:, 1:])
        metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
        accuracy = next(v for k, v in metrics.items() if "accuracy" in k)
        assert abs(accuracy - float(np.mean(expected == test_df.iloc[:, 0]))) <= 0.03

        sm.create_model(ModelName="knn-model", ExecutionRoleArn=job["RoleArn"],
                        PrimaryContainer={"Image": KNN_IMAGE, "ModelDataUrl": artefact})
        sm.create_endpoint_config(EndpointConfigName="knn-config", ProductionVariants=[{
            "VariantName": "v", "ModelName": "knn-model", "InitialInstanceCount": 1, "InstanceType": "ml.t2.medium"}])
        sm.create_endpoint(EndpointName="knn-endpoint", EndpointConfigName="knn-config")
        sm.get_waiter("endpoint_in_service").wait(EndpointName="knn-endpoint", WaiterConfig={"Delay": 1})
        runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
        body = test_df.iloc[:, 1:].to_csv(header=False, index=False)
        answer = runtime.invoke_endpoint(EndpointName="knn-endpoint", ContentType="text/csv", Accept="application/json",
                                         Body=body)
        predicted = [p["predicted_label"] for p in json.loads(answer["Body"].read())["predictions"]]
        assert f1_score(expected, predicted, average="macro") > 0.95  # same neighbours as scikit-learn
        shuffled = np.random.default_rng(0).permutation(expected)
        assert f1_score(shuffled, predicted, average="macro") < 0.7  # a random-label control cannot pass


def test_background_jobs_still_run_in_process(caplog: pytest.LogCaptureFixture) -> None:
    """With no grace period the create call returns at once; the job finishes in the background."""
    caplog.set_level(logging.INFO, logger="emulator")
    with mock_ml(config=Config(job_grace_seconds=0)):
        s3, ml = boto3.client("s3", region_name="us-east-1"), boto3.client("machinelearning", region_name="us-east-1")
        s3.create_bucket(Bucket="ml-data")
        s3.upload_file(IRIS_CSV, "ml-data", "iris.csv")
        ml.create_data_source_from_s3(DataSourceId="ds-bg", DataSpec={
            "DataLocationS3": "s3://ml-data/iris.csv", "DataSchema": json.dumps(SCHEMA)})
        deadline = time.monotonic() + 30
        while ml.get_data_source(DataSourceId="ds-bg")["Status"] not in ("COMPLETED", "FAILED"):
            assert time.monotonic() < deadline, "the data source never finished"
            time.sleep(0.05)
        assert ml.get_data_source(DataSourceId="ds-bg")["Status"] == "COMPLETED"
        ml.create_data_source_from_s3(DataSourceId="ds-missing", DataSpec={
            "DataLocationS3": "s3://ml-data/nothing-here.csv", "DataSchema": json.dumps(SCHEMA)})
        deadline = time.monotonic() + 30
        while ml.get_data_source(DataSourceId="ds-missing")["Status"] != "FAILED":
            assert time.monotonic() < deadline, "the data source never failed"
            time.sleep(0.05)
    jobs = [r.getMessage() for r in caplog.records if r.name == "emulator.jobs"]
    assert "data source ds-bg created (PENDING)" in jobs
    assert any(m.startswith("data source ds-bg INPROGRESS -> COMPLETED in ") for m in jobs), jobs
    failed = [m for m in jobs if m.startswith("data source ds-missing INPROGRESS -> FAILED")]
    assert failed and "nothing-here.csv" in failed[0], jobs
    requests = [r.getMessage() for r in caplog.records if r.name == "emulator.requests"]
    assert any(" us-east-1 machinelearning.CreateDataSourceFromS3 200 - " in m for m in requests), requests
    assert any(" s3.PutObject 200 - " in m for m in requests), requests


def test_sagemaker_sdk_runs_in_process_and_deploys_without_its_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's own clients reach the in-process emulator; deploy(wait=False) + the boto3 waiter skip the
    SDK's 30 s sleep (the README's advice), while fit's 5 s sleep is recorded and skipped."""
    sagemaker = pytest.importorskip("sagemaker")
    slept: list[float] = []
    monkeypatch.setattr("sagemaker.session.time.sleep", slept.append)
    with mock_ml():
        session = sagemaker.Session()
        bucket = session.default_bucket()
        assert boto3.client("s3", region_name="us-east-1").head_bucket(Bucket=bucket)
        role = sagemaker.get_execution_role(session)
        assert role.startswith("arn:aws:iam::123456789012:role/"), role
        train_df, test_df = iris_split()
        uri = session.upload_string_as_file_body(train_df.to_csv(header=False, index=False), bucket, "knn/train.csv")
        estimator = sagemaker.estimator.Estimator(
            image_uri=KNN_IMAGE, role=role, instance_count=1, instance_type="ml.m5.large",
            output_path=f"s3://{bucket}/out", sagemaker_session=session)
        estimator.set_hyperparameters(k=1, sample_size=200, predictor_type="classifier", feature_dim=4)
        estimator.fit({"train": sagemaker.inputs.TrainingInput(uri, content_type="text/csv")}, logs=False)
        assert estimator.model_data == f"s3://{bucket}/out/{estimator.latest_training_job.name}/output/model.tar.gz"
        slept.clear()
        predictor = estimator.deploy(1, "ml.t2.medium", endpoint_name="sdk-knn", wait=False,
                                     serializer=sagemaker.serializers.CSVSerializer(),
                                     deserializer=sagemaker.deserializers.JSONDeserializer())
        boto3.client("sagemaker", region_name="us-east-1").get_waiter("endpoint_in_service").wait(
            EndpointName="sdk-knn", WaiterConfig={"Delay": 1})
        assert slept == []  # no 30 s sleep before the first DescribeEndpoint
        row = test_df.iloc[0]
        answer = predictor.predict(",".join(str(v) for v in row.iloc[1:]))
        reference = KNeighborsClassifier(n_neighbors=1).fit(train_df.iloc[:, 1:], train_df.iloc[:, 0])
        assert answer["predictions"][0]["predicted_label"] == reference.predict(test_df.iloc[:1, 1:])[0]
