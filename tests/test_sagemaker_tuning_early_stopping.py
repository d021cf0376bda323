"""TrainingJobEarlyStoppingType=Auto: the median rule on the per-epoch objective the built-ins log,
and DeleteHyperParameterTuningJob."""

from __future__ import annotations

import re
import statistics
import time
import uuid
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.sagemaker_helpers import LINEAR_IMAGE, ROLE, XGBOOST_IMAGE, channel
from tests.test_sagemaker_tuning import _children, _knn_tuning_request, _upload_iris, _wait_tuning

EPOCHS = 8
EPOCH_LOSS = re.compile(r"#quality_metric: host=algo-1, epoch=(\d+), validation \S+_objective <loss>=(\S+)")
ROUND_LOGLOSS = re.compile(r"^\[(\d+)\]#011train-logloss:\S+#011validation-logloss:(\S+)$")


def _upload_regression(s3: Any, bucket: str) -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(600, 6))
    y = X @ np.array([3.0, -2.0, 1.5, 0.0, 4.0, -1.0]) + 10.0 + rng.normal(scale=0.5, size=600)
    rows = np.column_stack([y, X])
    for name, part in (("train", rows[:450]), ("validation", rows[450:])):
        body = "\n".join(",".join(f"{v:.5f}" for v in row) for row in part) + "\n"
        s3.put_object(Bucket=bucket, Key=f"reg/{name}/{name}.csv", Body=body.encode())


def _linear_request(name: str, bucket: str, stopping: str) -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random", "RandomSeed": 11, "TrainingJobEarlyStoppingType": stopping,
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 1},
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:objective_loss"},
            "ParameterRanges": {"ContinuousParameterRanges": [
                {"Name": "learning_rate", "MinValue": "0.000001", "MaxValue": "0.5", "ScalingType": "Logarithmic"}]},
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"predictor_type": "regressor", "feature_dim": "6", "epochs": str(EPOCHS),
                                      "mini_batch_size": "50", "optimizer": "sgd",
                                      "early_stopping_patience": str(EPOCHS)},
            "AlgorithmSpecification": {"TrainingImage": LINEAR_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "InputDataConfig": [channel("train", f"s3://{bucket}/reg/train/"),
                                channel("validation", f"s3://{bucket}/reg/validation/")],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/out"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    }


def _curve(logs: Any, job: str, pattern: re.Pattern) -> list[float]:
    """The objective after each epoch, read back from the child's CloudWatch log."""
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=job)
    values: list[float] = []
    for stream in streams["logStreams"]:
        events = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs",
                                     logStreamName=stream["logStreamName"], startFromHead=True)["events"]
        for event in events:
            match = pattern.search(event["message"])
            if match:
                values.append(float(match.group(2)))
    return values


def _run(sm: Any, request: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    sm.create_hyper_parameter_tuning_job(**request)
    described = _wait_tuning(sm, request["HyperParameterTuningJobName"])
    children = sorted(_children(sm, request["HyperParameterTuningJobName"]), key=lambda c: c["TrainingJobName"])
    return described, children


def test_auto_early_stopping_stops_children_worse_than_the_median(aws: Any, bucket: str) -> None:
    sm, logs = aws("sagemaker"), aws("logs")
    _upload_regression(aws("s3"), bucket)
    off, off_children = _run(sm, _linear_request(f"ll-off-{uuid.uuid4().hex[:6]}", bucket, "Off"))
    auto, auto_children = _run(sm, _linear_request(f"ll-auto-{uuid.uuid4().hex[:6]}", bucket, "Auto"))
    assert off["HyperParameterTuningJobStatus"] == auto["HyperParameterTuningJobStatus"] == "Completed"
    assert auto["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] == "Auto"
    # the same seed proposes the same learning rates
    assert [c["TunedHyperParameters"] for c in off_children] == [c["TunedHyperParameters"] for c in auto_children]

    assert all(c["TrainingJobStatus"] == "Completed" for c in off_children)
    assert off["TrainingJobStatusCounters"]["Stopped"] == 0
    assert all(len(_curve(logs, c["TrainingJobName"], EPOCH_LOSS)) == EPOCHS for c in off_children)

    stopped = [c for c in auto_children if c["TrainingJobStatus"] == "Stopped"]
    assert stopped, [(c["TunedHyperParameters"], c["TrainingJobStatus"]) for c in auto_children]
    assert auto["TrainingJobStatusCounters"]["Stopped"] == len(stopped)
    assert auto["TrainingJobStatusCounters"]["Completed"] == len(auto_children) - len(stopped)
    assert auto["ObjectiveStatusCounters"]["Succeeded"] == len(auto_children)  # a stopped job keeps its objective
    curves = {c["TrainingJobName"]: _curve(logs, c["TrainingJobName"], EPOCH_LOSS) for c in auto_children}
    for child in stopped:
        name = child["TrainingJobName"]
        described = sm.describe_training_job(TrainingJobName=name)
        assert described["SecondaryStatus"] == "Stopped" and "early" in described["SecondaryStatusTransitions"][-1]["StatusMessage"]
        assert described["ModelArtifacts"]["S3ModelArtifacts"].endswith("/output/model.tar.gz")
        curve = curves[name]
        assert 1 <= len(curve) < EPOCHS
        assert child["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(curve[-1], rel=1e-6)
        # the documented rule, recomputed from the logs: worse than the median of the earlier jobs' running averages
        n = len(curve)
        earlier = [curves[c["TrainingJobName"]] for c in auto_children if c["TrainingJobName"] < name]
        averages = [sum(c[:n]) / n for c in earlier if len(c) >= n]
        assert averages and curve[-1] > statistics.median(averages)
    # a stopped child learned more slowly than the best one, and the best job is a complete one
    best = auto["BestTrainingJob"]
    assert best["TrainingJobStatus"] == "Completed"
    assert all(float(c["TunedHyperParameters"]["learning_rate"]) < float(best["TunedHyperParameters"]["learning_rate"])
               for c in stopped)
    for child in auto_children:  # jobs that ran to the end were never worse than the median at any epoch
        if child["TrainingJobStatus"] == "Completed":
            assert len(curves[child["TrainingJobName"]]) == EPOCHS


def test_auto_early_stopping_reads_xgboost_rounds(aws: Any, bucket: str) -> None:
    """XGBoost reports validation-logloss per boosting round; the child with a tiny eta stops after round [0]."""
    sm, logs, s3 = aws("sagemaker"), aws("logs"), aws("s3")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.8, size=500) > 0).astype(int)
    for name, part in (("train", slice(0, 350)), ("validation", slice(350, 500))):
        body = "\n".join(",".join([str(y[i])] + [f"{v:.4f}" for v in X[i]]) for i in range(500)[part]) + "\n"
        s3.put_object(Bucket=bucket, Key=f"xgb/{name}/{name}.csv", Body=body.encode())
    name = f"xgb-auto-{uuid.uuid4().hex[:6]}"
    rounds = 12
    request = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Grid", "TrainingJobEarlyStoppingType": "Auto",
            "ResourceLimits": {"MaxParallelTrainingJobs": 1},
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:logloss"},
            "ParameterRanges": {"CategoricalParameterRanges": [{"Name": "eta", "Values": ["0.3", "0.001"]}]},
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"objective": "binary:logistic", "num_round": str(rounds),
                                      "eval_metric": "logloss", "max_depth": "3"},
            "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "InputDataConfig": [channel("train", f"s3://{bucket}/xgb/train/"),
                                channel("validation", f"s3://{bucket}/xgb/validation/")],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/out"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    }
    described, children = _run(sm, request)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    curves = {c["TunedHyperParameters"]["eta"]: _curve(logs, c["TrainingJobName"], ROUND_LOGLOSS) for c in children}
    status = {c["TunedHyperParameters"]["eta"]: c["TrainingJobStatus"] for c in children}
    assert status == {"0.3": "Completed", "0.001": "Stopped"}
    assert len(curves["0.3"]) == rounds
    assert len(curves["0.001"]) == 1 and curves["0.001"][0] > curves["0.3"][0]  # worse than the one completed job
    assert described["TrainingJobStatusCounters"]["Stopped"] == sum(c["TrainingJobStatus"] == "Stopped" for c in children)


def test_delete_tuning_job_only_when_finished(aws: Any, bucket: str) -> None:
    from clients.testing import running_emulator
    from emulator.config import Config

    sm = aws("sagemaker")
    _upload_iris(aws("s3"), bucket)
    name = f"knn-del-{uuid.uuid4().hex[:6]}"
    sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(name, bucket, max_jobs=2, parallel=2),
                                         Tags=[{"Key": "team", "Value": "ml"}])
    described = _wait_tuning(sm, name)
    children = [c["TrainingJobName"] for c in _children(sm, name)]
    sm.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    for call in (lambda: sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
                 lambda: sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
                 lambda: sm.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)):
        with pytest.raises(ClientError) as missing:
            call()
        assert missing.value.response["Error"]["Code"] == "ResourceNotFound"
    listed = sm.list_hyper_parameter_tuning_jobs(NameContains=name)["HyperParameterTuningJobSummaries"]
    assert listed == []
    with pytest.raises(ClientError) as untagged:  # its tags went with it
        sm.list_tags(ResourceArn=described["HyperParameterTuningJobArn"])
    assert "does not exist" in untagged.value.response["Error"]["Message"]
    for child in children:  # the training jobs stay, with their artefacts
        job = sm.describe_training_job(TrainingJobName=child)
        assert job["TrainingJobStatus"] == "Completed" and job["TuningJobArn"] == described["HyperParameterTuningJobArn"]
    # the name can be used again
    sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(name, bucket, max_jobs=1, parallel=1))
    assert _wait_tuning(sm, name)["HyperParameterTuningJobStatus"] == "Completed"

    with running_emulator(Config(job_grace_seconds=0.0)) as slow:  # a running job cannot be deleted
        slow_sm = slow.client("sagemaker")
        slow_bucket = f"del-{uuid.uuid4().hex[:8]}"
        slow.client("s3").create_bucket(Bucket=slow_bucket)
        _upload_iris(slow.client("s3"), slow_bucket)
        running = f"knn-run-{uuid.uuid4().hex[:6]}"
        slow_sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(running, slow_bucket, max_jobs=2, parallel=1))
        with pytest.raises(ClientError) as busy:  # two jobs one after the other: still in progress
            slow_sm.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=running)
        assert busy.value.response["Error"]["Code"] == "ValidationException"
        assert "InProgress" in busy.value.response["Error"]["Message"]
        assert _wait_tuning(slow_sm, running)["HyperParameterTuningJobStatus"] == "Completed"
        slow_sm.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=running)
