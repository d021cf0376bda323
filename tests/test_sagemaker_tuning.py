"""SageMaker hyperparameter tuning over HTTP: real searches whose children are real training jobs."""

from __future__ import annotations

import io
import json
import random
import re
import sys
import time
import uuid
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.neighbors import KNeighborsClassifier

from clients.examples.review_corpus import splits
from clients.testing import RunningEmulator, running_emulator
from emulator.config import Config
from tests.sagemaker_helpers import BLAZINGTEXT_IMAGE, KNN_IMAGE, ROLE, XGBOOST_IMAGE, channel, iris_split


def _upload_iris(s3: Any, bucket: str) -> tuple[str, str]:
    train, test = iris_split()
    for name, frame in (("train", train), ("test", test)):
        buffer = io.StringIO()
        frame.to_csv(buffer, header=False, index=False)
        s3.put_object(Bucket=bucket, Key=f"iris/{name}/{name}.csv", Body=buffer.getvalue().encode())
    return f"s3://{bucket}/iris/train/", f"s3://{bucket}/iris/test/"


def _knn_tuning_request(name: str, bucket: str, strategy: str = "Random", ranges: dict | None = None,
                        max_jobs: int | None = 4, parallel: int = 2, **config: Any) -> dict[str, Any]:
    train, test = f"s3://{bucket}/iris/train/", f"s3://{bucket}/iris/test/"
    limits = {"MaxParallelTrainingJobs": parallel}
    if max_jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = max_jobs
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy, "ResourceLimits": limits,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "test:accuracy"},
            "ParameterRanges": ranges or {"IntegerParameterRanges": [{"Name": "k", "MinValue": "1", "MaxValue": "40"}]},
            **config,
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"predictor_type": "classifier", "sample_size": "200", "feature_dim": "4"},
            "AlgorithmSpecification": {"TrainingImage": KNN_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "InputDataConfig": [channel("train", train), channel("test", test)],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/out"},
            "HyperParameterTuningResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    }


def _wait_tuning(sm: Any, name: str, deadline: float = 300.0) -> dict[str, Any]:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if described["HyperParameterTuningJobStatus"] in ("Completed", "Failed", "Stopped"):
            return described
        time.sleep(0.2)
    raise AssertionError(f"tuning job {name} did not finish")


def _children(sm: Any, name: str) -> list[dict[str, Any]]:
    summaries, token = [], None
    while True:
        page = sm.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name, MaxResults=2, **({"NextToken": token} if token else {}))
        summaries.extend(page["TrainingJobSummaries"])
        token = page.get("NextToken")
        if not token:
            return summaries


def _sklearn_knn_accuracy(k: int) -> float:
    train, test = iris_split()
    model = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(train.iloc[:, 1:].values, train["Species"])
    return float((model.predict(test.iloc[:, 1:].values) == test["Species"]).mean())


@pytest.fixture
def iris_bucket(aws: Any, bucket: str) -> str:
    _upload_iris(aws("s3"), bucket)
    return bucket


def test_random_search_children_are_real_training_jobs(aws: Any, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    name = f"knn-rand-{uuid.uuid4().hex[:8]}"
    arn = sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(name, iris_bucket, RandomSeed=7,
                                                                     max_jobs=5))["HyperParameterTuningJobArn"]
    described = _wait_tuning(sm, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == 5
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 5, "Pending": 0, "Failed": 0}
    assert described["TrainingJobDefinition"]["StaticHyperParameters"]["_tuning_objective_metric"] == "test:accuracy"
    children = _children(sm, name)
    assert len(children) == 5
    values = []
    for child in children:
        assert re.fullmatch(rf"{name}-\d{{3}}-[0-9a-f]{{8}}", child["TrainingJobName"])
        job = sm.describe_training_job(TrainingJobName=child["TrainingJobName"])
        assert job["TuningJobArn"] == arn
        assert job["HyperParameters"]["_tuning_objective_metric"] == "test:accuracy"
        k = int(child["TunedHyperParameters"]["k"])
        assert 1 <= k <= 40 and job["HyperParameters"]["k"] == str(k)
        value = child["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        assert value == pytest.approx(_sklearn_knn_accuracy(k), abs=0.03)  # the objective is the child's real metric
        values.append(value)
    best = described["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(values)
    ordered = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending", MaxResults=100)
    ranked = [c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for c in ordered["TrainingJobSummaries"]]
    assert ranked == sorted(values, reverse=True)
    assert sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, StatusEquals="Failed")["TrainingJobSummaries"] == []
    listed = sm.list_hyper_parameter_tuning_jobs(NameContains=name)["HyperParameterTuningJobSummaries"]
    assert [s["HyperParameterTuningJobName"] for s in listed] == [name] and listed[0]["Strategy"] == "Random"
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []


def test_random_seed_makes_the_search_reproducible(aws: Any, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    picks = []
    for seed in (11, 11, 12):
        name = f"knn-seed-{uuid.uuid4().hex[:8]}"
        sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(name, iris_bucket, RandomSeed=seed, parallel=1,
                                                                   max_jobs=4))
        _wait_tuning(sm, name)
        picks.append([c["TunedHyperParameters"]["k"] for c in _children(sm, name)])
    assert picks[0] == picks[1]
    assert picks[0] != picks[2]


def test_grid_runs_every_categorical_combination(aws: Any, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    name = f"knn-grid-{uuid.uuid4().hex[:8]}"
    ranges = {"CategoricalParameterRanges": [{"Name": "k", "Values": ["1", "5"]},
                                             {"Name": "index_metric", "Values": ["L2", "COSINE"]}]}
    sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(name, iris_bucket, "Grid", ranges, max_jobs=None))
    described = _wait_tuning(sm, name)
    assert described["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 4
    combos = sorted((c["TunedHyperParameters"]["k"], c["TunedHyperParameters"]["index_metric"]) for c in _children(sm, name))
    assert combos == [("1", "COSINE"), ("1", "L2"), ("5", "COSINE"), ("5", "L2")]


def test_bayesian_search_finds_a_top_k(aws: Any, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    name = f"knn-bayes-{uuid.uuid4().hex[:8]}"
    ranges = {"IntegerParameterRanges": [{"Name": "k", "MinValue": "1", "MaxValue": "100", "ScalingType": "Logarithmic"}]}
    sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(name, iris_bucket, "Bayesian", ranges, RandomSeed=3,
                                                               max_jobs=8, parallel=1))
    described = _wait_tuning(sm, name)
    best = described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    reference = max(_sklearn_knn_accuracy(k) for k in range(1, 101))
    assert best >= reference - 0.03
    ks = [int(c["TunedHyperParameters"]["k"]) for c in _children(sm, name)]
    assert len(set(ks)) == len(ks)  # no configuration is tried twice


def test_target_objective_ends_the_search_early(aws: Any, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    name = f"knn-target-{uuid.uuid4().hex[:8]}"
    sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(
        name, iris_bucket, RandomSeed=1, max_jobs=20, parallel=1,
        TuningJobCompletionCriteria={"TargetObjectiveMetricValue": 0.5}))
    described = _wait_tuning(sm, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert sum(described["TrainingJobStatusCounters"].values()) == 1


def test_warm_start_reports_the_overall_best(aws: Any, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    parent = f"knn-parent-{uuid.uuid4().hex[:8]}"
    sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(parent, iris_bucket, RandomSeed=5, max_jobs=3))
    parent_best = _wait_tuning(sm, parent)["BestTrainingJob"]
    child = f"knn-child-{uuid.uuid4().hex[:8]}"
    request = _knn_tuning_request(child, iris_bucket, "Bayesian", RandomSeed=6, max_jobs=2)
    request["WarmStartConfig"] = {"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": parent}],
                                  "WarmStartType": "IdenticalDataAndAlgorithm"}
    sm.create_hyper_parameter_tuning_job(**request)
    described = _wait_tuning(sm, child)
    overall = described["OverallBestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert overall >= parent_best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert overall >= described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    request = _knn_tuning_request(f"knn-orphan-{uuid.uuid4().hex[:8]}", iris_bucket)
    request["WarmStartConfig"] = {"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "nope"}],
                                  "WarmStartType": "TransferLearning"}
    with pytest.raises(ClientError) as error:
        sm.create_hyper_parameter_tuning_job(**request)
    assert error.value.response["Error"]["Code"] == "ValidationException"


def _xgboost_hyperband_request(name: str, bucket: str) -> dict[str, Any]:
    request = _knn_tuning_request(name, bucket, "Hyperband", {
        "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"}],
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "1", "MaxValue": "6"}]},
        max_jobs=9, parallel=2, RandomSeed=4,
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}})
    config = request["HyperParameterTuningJobConfig"]
    config["HyperParameterTuningJobObjective"] = {"Type": "Minimize", "MetricName": "validation:mlogloss"}
    definition = request["TrainingJobDefinition"]
    definition["StaticHyperParameters"] = {"objective": "multi:softprob", "num_class": "3", "num_round": "9"}
    definition["AlgorithmSpecification"]["TrainingImage"] = XGBOOST_IMAGE
    definition["InputDataConfig"] = [channel("train", f"s3://{bucket}/iris/train/"),
                                     channel("validation", f"s3://{bucket}/iris/test/")]
    return request


def test_hyperband_promotes_the_best_configurations_to_more_rounds(aws: Any, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    name = f"xgb-hb-{uuid.uuid4().hex[:8]}"
    sm.create_hyper_parameter_tuning_job(**_xgboost_hyperband_request(name, iris_bucket))
    described = _wait_tuning(sm, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    children = _children(sm, name)
    rounds = [int(c["TunedHyperParameters"]["num_round"]) for c in children]
    assert set(rounds) <= {1, 3, 9} and rounds.count(1) > rounds.count(3) >= 1
    for child in children:  # the resource really reaches the algorithm
        job = sm.describe_training_job(TrainingJobName=child["TrainingJobName"])
        assert job["HyperParameters"]["num_round"] == child["TunedHyperParameters"]["num_round"]

    def config(child: dict[str, Any]) -> tuple[str, str]:
        return child["TunedHyperParameters"]["eta"], child["TunedHyperParameters"]["max_depth"]

    def rounds_of(child: dict[str, Any]) -> int:
        return int(child["TunedHyperParameters"]["num_round"])

    def score(child: dict[str, Any]) -> float:
        return child["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]

    first_rung = [c for c in children if rounds_of(c) == 1]
    promotions = [c for c in children if rounds_of(c) == 3]
    assert promotions and all(any(config(f) == config(p) for f in first_rung) for p in promotions)
    for promoted in promotions:  # asynchronous successive halving: when a configuration was promoted, it
        # was in the top third (lowest log loss) of the first-rung results known at that moment
        known = [f for f in first_rung if f["TrainingEndTime"] <= promoted["CreationTime"]]
        own = next(f for f in known if config(f) == config(promoted))
        rank = sorted(score(f) for f in known).index(score(own)) + 1
        assert rank <= max(1, len(known) // 3), (rank, len(known))


@pytest.mark.parametrize("change,message", [
    (lambda r: r["HyperParameterTuningJobConfig"].update(Strategy="Grid", ResourceLimits={"MaxParallelTrainingJobs": 1}),
     "Grid strategy supports only CategoricalParameterRanges"),
    (lambda r: r["HyperParameterTuningJobConfig"].update(Strategy="Grid", ParameterRanges={
        "CategoricalParameterRanges": [{"Name": "k", "Values": ["1", "2"]}]}), "MaxNumberOfTrainingJobs must not be specified"),
    (lambda r: r["HyperParameterTuningJobConfig"]["ParameterRanges"]["IntegerParameterRanges"][0].update(
        MinValue="0", ScalingType="Logarithmic"), "only for ranges that have only values greater than 0"),
    (lambda r: r["HyperParameterTuningJobConfig"]["ParameterRanges"]["IntegerParameterRanges"][0].update(
        ScalingType="ReverseLogarithmic"), "cannot use ReverseLogarithmic"),
    (lambda r: r["HyperParameterTuningJobConfig"]["ParameterRanges"].update(ContinuousParameterRanges=[
        {"Name": "x", "MinValue": "0.5", "MaxValue": "1.5", "ScalingType": "ReverseLogarithmic"}]), "0<=x<1.0"),
    (lambda r: r["HyperParameterTuningJobConfig"]["ParameterRanges"]["IntegerParameterRanges"][0].update(
        MinValue="9", MaxValue="3"), "must be less than or equal to its MaxValue"),
    (lambda r: r["TrainingJobDefinition"]["StaticHyperParameters"].update(k="3"), "cannot be both static and tunable"),
    (lambda r: r["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"].update(MetricName="validation:rmse"),
     "isn't valid for the"),
    (lambda r: r["HyperParameterTuningJobConfig"].update(
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}}), "only be specified when Strategy is Hyperband"),
    (lambda r: r["HyperParameterTuningJobConfig"]["ResourceLimits"].pop("MaxNumberOfTrainingJobs"),
     "MaxNumberOfTrainingJobs must be specified"),
    (lambda r: r["TrainingJobDefinition"].update(ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                                                 "VolumeSizeInGB": 5}),
     "Exactly one of ResourceConfig or HyperParameterTuningResourceConfig"),
    (lambda r: r.update(TrainingJobDefinitions=[r["TrainingJobDefinition"]]), "Exactly one of TrainingJobDefinition"),
])
def test_invalid_tuning_configurations_answer_validation_exception(aws: Any, iris_bucket: str, change, message) -> None:
    sm = aws("sagemaker")
    name = f"knn-bad-{uuid.uuid4().hex[:8]}"
    request = _knn_tuning_request(name, iris_bucket)
    change(request)
    with pytest.raises(ClientError) as error:
        sm.create_hyper_parameter_tuning_job(**request)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert message in error.value.response["Error"]["Message"]
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as missing:
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)  # nothing was created
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"


def test_hyperband_rejects_early_stopping_and_duplicate_names(aws: Any, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    request = _xgboost_hyperband_request(f"xgb-bad-{uuid.uuid4().hex[:8]}", iris_bucket)
    request["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] = "Auto"
    with pytest.raises(ClientError) as error:
        sm.create_hyper_parameter_tuning_job(**request)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    name = f"knn-dup-{uuid.uuid4().hex[:8]}"
    sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(name, iris_bucket, max_jobs=1, parallel=1))
    with pytest.raises(ClientError) as duplicate:
        sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(name, iris_bucket, max_jobs=1, parallel=1))
    assert duplicate.value.response["Error"]["Code"] == "ResourceInUse"
    _wait_tuning(sm, name)
    with pytest.raises(ClientError) as stopped:
        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert stopped.value.response["Error"]["Code"] == "ValidationException"


# ------------------------------------------------------------------------ seed 002 through the SDK
def _put_corpus(s3: Any, bucket: str, prefix: str, shuffle_labels: bool = False) -> dict[str, list[str]]:
    data = splits()
    if shuffle_labels:  # the random-label control: nothing to learn
        rng = random.Random(1)
        for name, lines in data.items():
            labels = [line.split(" ", 1)[0] for line in lines]
            rng.shuffle(labels)
            data[name] = [f"{label} {line.split(' ', 1)[1]}" for label, line in zip(labels, lines)]
    s3.create_bucket(Bucket=bucket)
    for name, lines in data.items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}/{name}.txt", Body=("\n".join(lines) + "\n").encode())
    return data


def _reference_accuracy(data: dict[str, list[str]]) -> float:
    """An independent bag-of-words classifier on the same split (what a good fastText run reaches)."""
    def xy(lines: list[str]) -> tuple[list[str], list[str]]:
        return [l.split(" ", 1)[1] for l in lines], [l.split(" ", 1)[0] for l in lines]
    (xt, yt), (xv, yv) = xy(data["train"]), xy(data["validation"])
    vectorizer = CountVectorizer(token_pattern=r"\S+").fit(xt)
    model = MultinomialNB().fit(vectorizer.transform(xt), yt)
    return float((model.predict(vectorizer.transform(xv)) == np.array(yv)).mean())


def test_seed002_tuner_flow_through_the_sdk(sagemaker_sdk: RunningEmulator, monkeypatch, tmp_path, capsys) -> None:
    """fit, wait, best_training_job, analytics, deploy, predict k=2, attach; get_execution_role offline."""
    import sagemaker.session
    from sagemaker.tuner import HyperparameterTuner

    import threading

    # poll every 0.1 s instead of not at all (the fixture's no-op sleep makes the SDK's wait loops spin)
    monkeypatch.setattr("sagemaker.session.time.sleep", lambda seconds: threading.Event().wait(min(seconds, 0.1)))
    metadata = tmp_path / "opt-ml-metadata" / "resource-metadata.json"
    monkeypatch.setattr(sagemaker.session, "NOTEBOOK_METADATA_FILE", str(metadata))
    monkeypatch.setenv("SEED002_BUCKET", "seed002-sdk")
    sys.modules.pop("clients.examples.seed_002_blazingtext_tuner", None)
    import clients.examples.seed_002_blazingtext_tuner as seed

    out = seed.main()
    assert out["role"] == "arn:aws:iam::123456789012:role/AmazonSageMaker-ExecutionRole-Emulator"
    assert json.loads(metadata.read_text())["ExecutionRoleArn"] == out["role"]
    sm = sagemaker_sdk.client("sagemaker")
    tuning_name = out["tuner"].latest_tuning_job.name
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_name)
    assert described["HyperParameterTuningJobConfig"]["Strategy"] == "Bayesian"
    assert sum(described["TrainingJobStatusCounters"].values()) == 10
    assert described["TrainingJobStatusCounters"]["Completed"] == 10  # word_ngrams=1 included: none fails

    results = out["results"]
    assert len(results) == 10
    assert results["learning_rate"].between(0.01, 0.08).all() and results["vector_dim"].between(100, 200).all()
    assert set(results["word_ngrams"].astype(int)) <= {1, 2, 3}
    best_value = results["FinalObjectiveValue"].max()
    assert out["best"] == results.loc[results["FinalObjectiveValue"].idxmax(), "TrainingJobName"]
    reference = _reference_accuracy(splits())
    assert reference - 0.06 <= best_value <= 1.0  # a good fastText run on this corpus
    assert results["FinalObjectiveValue"].min() < best_value  # the hyperparameters matter; not a constant

    for predictions in (out["predictions"], out["predictions_k2"]):
        assert len(predictions) == 3
    for row in out["predictions_k2"]:
        assert len(row["label"]) == 2 and len(set(row["label"])) == 2
        assert all(label.startswith("__label__") for label in row["label"])
        assert row["prob"][0] >= row["prob"][1] > 0 and sum(row["prob"]) <= 1.0 + 1e-6
    assert [r["label"][0] for r in out["predictions_k2"]] == [r["label"][0] for r in out["predictions"]]
    assert "blazingtext-reviews" not in [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]

    attached = HyperparameterTuner.attach(tuning_name)
    assert attached.best_training_job() == out["best"]
    assert attached.max_jobs == 10 and attached.max_parallel_jobs == 2
    frame = attached.analytics().dataframe()
    assert sorted(frame["TrainingJobName"]) == sorted(results["TrainingJobName"])


def test_random_labels_give_chance_accuracy(aws: Any) -> None:
    """The control: the same tuning on shuffled labels cannot beat chance by much."""
    bucket = f"seed002-control-{uuid.uuid4().hex[:8]}"
    _put_corpus(aws("s3"), bucket, "bt", shuffle_labels=True)
    sm = aws("sagemaker")
    name = f"bt-control-{uuid.uuid4().hex[:8]}"
    sm.create_hyper_parameter_tuning_job(**_blazingtext_request(name, bucket, max_jobs=2, epochs=5))
    described = _wait_tuning(sm, name)
    best = described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert best < 1 / 6 + 0.12


def _blazingtext_request(name: str, bucket: str, max_jobs: int, epochs: int, parallel: int = 2) -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random", "RandomSeed": 2,
            "ResourceLimits": {"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": parallel},
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
            "ParameterRanges": {"ContinuousParameterRanges": [{"Name": "learning_rate", "MinValue": "0.05", "MaxValue": "0.08"}]},
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"mode": "supervised", "epochs": str(epochs), "min_count": "2", "word_ngrams": "2",
                                      "vector_dim": "10"},  # small models: uploads take no time
            "AlgorithmSpecification": {"TrainingImage": BLAZINGTEXT_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "InputDataConfig": [channel("train", f"s3://{bucket}/bt/train/", "text/plain"),
                                channel("validation", f"s3://{bucket}/bt/validation/", "text/plain")],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/out"},
            "ResourceConfig": {"InstanceType": "ml.c5.4xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    }


def test_stop_tuning_job_stops_running_children(sagemaker_sdk: RunningEmulator) -> None:
    """With no grace period the create call returns at once; stop_tuning_job (SDK) stops the running children."""
    from sagemaker.tuner import HyperparameterTuner

    with running_emulator(Config(job_grace_seconds=0.0)) as emulator:
        sm = emulator.client("sagemaker")
        bucket = f"stop-{uuid.uuid4().hex[:8]}"
        _put_corpus(emulator.client("s3"), bucket, "bt")
        name = f"bt-stop-{uuid.uuid4().hex[:8]}"
        sm.create_hyper_parameter_tuning_job(**_blazingtext_request(name, bucket, max_jobs=6, epochs=300))
        import sagemaker

        tuner = HyperparameterTuner.attach(name, sagemaker_session=sagemaker.Session(sagemaker_client=sm))
        deadline = time.monotonic() + 60
        running: set[str] = set()
        while not running:  # children in training (one already uploading its model completes, as on AWS)
            assert time.monotonic() < deadline
            running = {c["TrainingJobName"] for c in sm.list_training_jobs_for_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=name, StatusEquals="InProgress")["TrainingJobSummaries"]
                if sm.describe_training_job(TrainingJobName=c["TrainingJobName"])["SecondaryStatus"] == "Training"}
        tuner.stop_tuning_job()
        stopping = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        assert stopping["HyperParameterTuningJobStatus"] == "Stopping"
        described = _wait_tuning(sm, name, deadline=180)
        assert described["HyperParameterTuningJobStatus"] == "Stopped"
        children = {c["TrainingJobName"]: c for c in _children(sm, name)}
        assert running and running <= set(children)
        assert all(children[c]["TrainingJobStatus"] == "Stopped" for c in running), [(c["TrainingJobStatus"], c.get("FailureReason")) for c in children.values()]
        assert all(c["CreationTime"] <= stopping["LastModifiedTime"] for c in children.values())  # none started after
        assert described["TrainingJobStatusCounters"]["Stopped"] >= len(running)
        
