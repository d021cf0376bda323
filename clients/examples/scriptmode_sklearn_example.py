"""Script mode without Docker: an unmodified SageMaker SDK scikit-learn workflow.

SKLearn(entry_point="train.py") trains a RandomForest on a CSV channel (the metric is picked up by
MetricDefinitions), deploy()s it, predict()s and deletes the endpoint. Run against a started emulator:
    aws-ml-emulator &  python -m clients.examples.scriptmode_sklearn_example
"""

from __future__ import annotations

import os

import boto3
import numpy as np
import pandas as pd
import sagemaker
from sagemaker.sklearn import SKLearn
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE = "arn:aws:iam::123456789012:role/AmazonSageMaker-ExecutionRole-Emulator"
METRICS = [{"Name": "test:accuracy", "Regex": r"test:accuracy=([0-9.]+)"}]


def iris_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Iris with the label (0/1/2) first, split 75/25 with a fixed seed."""
    df = pd.read_csv(os.path.join(HERE, "data", "iris.csv"))
    df = df[["Species", "Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]]
    df["Species"] = df["Species"].map({"setosa": 0, "versicolor": 1, "virginica": 2})
    return train_test_split(df, shuffle=True, random_state=0)


def main() -> dict:
    session = sagemaker.Session()
    bucket = session.default_bucket()
    train, test = iris_frames()
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key="sklearn-rf/train/train.csv", Body=train.to_csv(header=False, index=False))
    s3.put_object(Bucket=bucket, Key="sklearn-rf/test/test.csv", Body=test.to_csv(header=False, index=False))

    estimator = SKLearn(entry_point="train.py", source_dir=os.path.join(HERE, "scriptmode_sklearn"),
                        framework_version="1.2-1", py_version="py3", role=ROLE, instance_count=1,
                        instance_type="ml.m5.large", hyperparameters={"n_estimators": 20, "random_state": 7},
                        metric_definitions=METRICS, sagemaker_session=session)
    estimator.fit({"train": f"s3://{bucket}/sklearn-rf/train/", "test": f"s3://{bucket}/sklearn-rf/test/"})
    job = session.sagemaker_client.describe_training_job(TrainingJobName=estimator.latest_training_job.name)
    accuracy = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}["test:accuracy"]
    print(f"training job {job['TrainingJobName']}: {job['TrainingJobStatus']}, test:accuracy={accuracy}")

    predictor = estimator.deploy(initial_instance_count=1, instance_type="ml.m5.large")
    try:
        features = test.iloc[:, 1:].to_numpy()
        predictions = np.asarray(predictor.predict(features))
        print(f"endpoint accuracy: {float(np.mean(predictions == test.iloc[:, 0].to_numpy())):.4f}")
    finally:
        predictor.delete_endpoint()
    return {"job": job, "accuracy": accuracy, "predictions": predictions, "test": test, "train": train}


if __name__ == "__main__":
    from clients import configure_environment

    configure_environment(os.environ.get("AWS_ENDPOINT_URL"), region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    main()
