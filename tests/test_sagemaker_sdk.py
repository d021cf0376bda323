"""Unmodified SageMaker Python SDK code beyond seed 003: BlazingText estimator, attach, isolation."""

from __future__ import annotations

import json

import boto3
import pytest

from clients.testing import RunningEmulator
from tests.test_sagemaker_api import _corpus


def test_blazingtext_estimator_fit_deploy_predict(sagemaker_sdk: RunningEmulator) -> None:
    import sagemaker
    from sagemaker import image_uris
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput

    session = sagemaker.Session()
    bucket = session.default_bucket()
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key="blazingtext/train/train.txt", Body=_corpus(3, 400))
    s3.put_object(Bucket=bucket, Key="blazingtext/validation/validation.txt", Body=_corpus(4, 100))
    estimator = Estimator(image_uri=image_uris.retrieve("blazingtext", session.boto_region_name, "1"),
                          role="arn:aws:iam::123456789012:role/AmazonSageMaker-ExecutionRole-Emulator",
                          instance_count=1, instance_type="ml.c5.xlarge", output_path=f"s3://{bucket}/blazingtext/out",
                          sagemaker_session=session)
    estimator.set_hyperparameters(mode="supervised", epochs=25, learning_rate=0.5, min_count=1, vector_dim=20,
                                  word_ngrams=2)
    estimator.fit({"train": TrainingInput(f"s3://{bucket}/blazingtext/train/", content_type="text/plain"),
                   "validation": TrainingInput(f"s3://{bucket}/blazingtext/validation/", content_type="text/plain")})
    attached = Estimator.attach(estimator.latest_training_job.name, sagemaker_session=session)
    assert attached.model_data == estimator.model_data
    predictor = attached.deploy(initial_instance_count=1, instance_type="ml.m5.large")
    answer = json.loads(predictor.predict(json.dumps({"instances": ["the telescope saw a comet near the galaxy"],
                                                       "configuration": {"k": 2}})))
    assert answer[0]["label"][0] == "__label__space" and len(answer[0]["prob"]) == 2
    predictor.delete_endpoint()


def test_accounts_do_not_see_each_others_training_jobs(emulator: RunningEmulator, aws) -> None:
    mine = aws("sagemaker", access_key="444455556666")
    theirs = aws("sagemaker", access_key="555566667777")
    mine.create_model(ModelName="isolated-model", ExecutionRoleArn="arn:aws:iam::444455556666:role/r",
                      PrimaryContainer={"Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1"})
    assert [m["ModelName"] for m in mine.list_models()["Models"]] == ["isolated-model"]
    assert mine.describe_model(ModelName="isolated-model")["ModelArn"].split(":")[4] == "444455556666"
    assert theirs.list_models()["Models"] == []
    with pytest.raises(theirs.exceptions.ClientError):
        theirs.describe_model(ModelName="isolated-model")


def test_regions_are_separate(aws) -> None:
    east = aws("sagemaker", access_key="666677778888", region="us-east-1")
    west = aws("sagemaker", access_key="666677778888", region="us-west-2")
    east.create_model(ModelName="regional", ExecutionRoleArn="arn:aws:iam::666677778888:role/r",
                      PrimaryContainer={"Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1"})
    assert west.list_models()["Models"] == []


def test_training_job_analytics_reads_the_final_metrics(sagemaker_sdk: RunningEmulator) -> None:
    """The SDK's TrainingJobAnalytics finds the job's metrics in CloudWatch."""
    from sagemaker.analytics import TrainingJobAnalytics

    from tests.sagemaker_helpers import KNN_IMAGE, channel, iris_split, training_request

    s3, sm = boto3.client("s3"), boto3.client("sagemaker")
    s3.create_bucket(Bucket="analytics-knn")
    train, test = iris_split()
    s3.put_object(Bucket="analytics-knn", Key="train/t.csv", Body=train.to_csv(header=False, index=False))
    s3.put_object(Bucket="analytics-knn", Key="test/t.csv", Body=test.to_csv(header=False, index=False))
    sm.create_training_job(**training_request("analytics-knn", KNN_IMAGE, {"k": "1", "sample_size": "200",
                                                                           "predictor_type": "classifier"},
                                              [channel("train", "s3://analytics-knn/train/"),
                                               channel("test", "s3://analytics-knn/test/")], "s3://analytics-knn/out"))
    frame = TrainingJobAnalytics("analytics-knn", metric_names=["test:accuracy"]).dataframe()
    assert list(frame["metric_name"]) == ["test:accuracy"]
    assert frame["value"].iloc[0] == pytest.approx(0.9736842105263158)
