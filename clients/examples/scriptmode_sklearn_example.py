"""Script mode without Docker: an unmodified SageMaker SDK scikit-learn workflow.

SKLearnProcessor splits iris.csv into train/test CSVs in S3; SKLearn(entry_point="train.py") trains a
RandomForest on them (its accuracy line is picked up by MetricDefinitions), deploy()s it, predict()s
and deletes the endpoint. The user's scripts run on this machine, in child processes of the emulator.

    aws-ml-emulator &
    python -m clients.examples.scriptmode_sklearn_example
"""

from __future__ import annotations

import io
import os

import boto3
import numpy as np
import pandas as pd
import sagemaker
from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.sklearn import SKLearn, SKLearnProcessor

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.join(HERE, "scriptmode_sklearn")
ROLE = "arn:aws:iam::123456789012:role/AmazonSageMaker-ExecutionRole-Emulator"
METRICS = [{"Name": "test:accuracy", "Regex": r"test:accuracy=([0-9.]+)"}]
FRAMEWORK_VERSION = "1.2-1"


def preprocess(session: sagemaker.Session, bucket: str) -> tuple[str, str]:
    """SKLearnProcessor: raw iris.csv in S3 -> train/ and test/ CSV prefixes in S3."""
    raw = session.upload_data(os.path.join(HERE, "data", "iris.csv"), bucket=bucket, key_prefix="sklearn-rf/raw")
    processor = SKLearnProcessor(framework_version=FRAMEWORK_VERSION, role=ROLE, instance_type="ml.m5.large",
                                 instance_count=1, sagemaker_session=session)
    processor.run(code=os.path.join(SOURCE_DIR, "preprocess.py"),
                  inputs=[ProcessingInput(source=raw, destination="/opt/ml/processing/input")],
                  outputs=[ProcessingOutput(output_name="train", source="/opt/ml/processing/train",
                                            destination=f"s3://{bucket}/sklearn-rf/train"),
                           ProcessingOutput(output_name="test", source="/opt/ml/processing/test",
                                            destination=f"s3://{bucket}/sklearn-rf/test")],
                  arguments=["--test-size", "0.25", "--random-state", "0"])
    return f"s3://{bucket}/sklearn-rf/train/", f"s3://{bucket}/sklearn-rf/test/"


def main() -> dict:
    session = sagemaker.Session()
    bucket = session.default_bucket()
    train_uri, test_uri = preprocess(session, bucket)

    estimator = SKLearn(entry_point="train.py", source_dir=SOURCE_DIR, framework_version=FRAMEWORK_VERSION,
                        py_version="py3", role=ROLE, instance_count=1, instance_type="ml.m5.large",
                        hyperparameters={"n_estimators": 20, "random_state": 7}, metric_definitions=METRICS,
                        sagemaker_session=session)
    estimator.fit({"train": train_uri, "test": test_uri})
    job = session.sagemaker_client.describe_training_job(TrainingJobName=estimator.latest_training_job.name)
    accuracy = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}["test:accuracy"]
    print(f"training job {job['TrainingJobName']}: {job['TrainingJobStatus']}, test:accuracy={accuracy}")

    s3 = boto3.client("s3")
    train = pd.read_csv(io.BytesIO(s3.get_object(Bucket=bucket, Key="sklearn-rf/train/train.csv")["Body"].read()),
                        header=None)
    test = pd.read_csv(io.BytesIO(s3.get_object(Bucket=bucket, Key="sklearn-rf/test/test.csv")["Body"].read()),
                       header=None)
    predictor = estimator.deploy(initial_instance_count=1, instance_type="ml.m5.large")
    try:
        predictions = np.asarray(predictor.predict(test.iloc[:, 1:].to_numpy()))
        print(f"endpoint accuracy: {float(np.mean(predictions == test.iloc[:, 0].to_numpy())):.4f}")
    finally:
        predictor.delete_endpoint()
    return {"job": job, "accuracy": accuracy, "predictions": predictions, "train": train, "test": test,
            "endpoint": predictor.endpoint_name}


if __name__ == "__main__":
    from clients import configure_environment

    configure_environment(os.environ.get("AWS_ENDPOINT_URL"), region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    main()
