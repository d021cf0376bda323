"""Shared test helpers for SageMaker: data upload and training job requests."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split

KNN_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1"
BLAZINGTEXT_IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
LINEAR_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
ROLE = "arn:aws:iam::123456789012:role/AmazonSageMaker-ExecutionRole-Emulator"
IRIS_CSV = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "clients", "examples", "data", "iris.csv")


def iris_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seed 003's frame and split: label first as 0/1/2, ``train_test_split(shuffle=True, random_state=0)``."""
    df = pd.read_csv(IRIS_CSV)
    df = df[["Species", "Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]]
    df["Species"] = df["Species"].map({"setosa": 0, "versicolor": 1, "virginica": 2})
    return train_test_split(df, shuffle=True, random_state=0)


def channel(name: str, uri: str, content_type: str | None = "text/csv") -> dict[str, Any]:
    spec: dict[str, Any] = {"ChannelName": name, "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}}}
    if content_type:
        spec["ContentType"] = content_type
    return spec


def training_request(name: str, image: str, hyperparameters: dict[str, str], channels: list[dict[str, Any]],
                     output: str) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": hyperparameters,
        "RoleArn": ROLE,
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": output},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
