"""SageMaker over HTTP: training outcomes, failures, hosting, runtime formats, validation, tags, logs."""

from __future__ import annotations

import json
import random
import uuid

import botocore.exceptions
import pytest
import numpy as np
import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from clients.testing import RunningEmulator
from tests.engines.test_sagemaker_blazingtext_reference import fasttext_directly
from tests.sagemaker_helpers import (BLAZINGTEXT_IMAGE, KNN_IMAGE, LINEAR_IMAGE, ROLE, XGBOOST_IMAGE, channel,
                                     iris_split, training_request)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _error(call, *args, **kwargs) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(*args, **kwargs)
    return info.value


def _deploy(sm, job_name: str, image: str) -> str:
    job = sm.describe_training_job(TrainingJobName=job_name)
    model = _name("model")
    sm.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": image, "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]})
    sm.create_endpoint_config(EndpointConfigName=model, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.t2.medium"}])
    sm.create_endpoint(EndpointName=model, EndpointConfigName=model)
    assert sm.describe_endpoint(EndpointName=model)["EndpointStatus"] == "InService"
    return model


@pytest.fixture(scope="module")
def iris_bucket(emulator: RunningEmulator) -> str:
    s3 = emulator.client("s3")
    name = _name("iris")
    s3.create_bucket(Bucket=name)
    train, test = iris_split()
    s3.put_object(Bucket=name, Key="train/train.csv", Body=train.to_csv(header=False, index=False))
    s3.put_object(Bucket=name, Key="test/test.csv", Body=test.to_csv(header=False, index=False))
    return name


def knn_reference(k: int = 3):
    """scikit-learn's neighbours of the iris test rows, voted as the emulator documents
    (majority; a tie goes to the tied label met first from the nearest neighbour on).
    Returns (labels, truth, clear): ``clear`` marks rows whose k-th and (k+1)-th
    neighbours are not at the same distance (elsewhere float rounding picks either)."""
    train, test = iris_split()
    X, y = train.iloc[:, 1:].values, train["Species"].values
    dist, idx = KNeighborsClassifier(k + 1).fit(X, y).kneighbors(test.iloc[:, 1:].values)
    labels = []
    for row in y[idx[:, :k]]:
        counts = {v: list(row).count(v) for v in row}
        labels.append(float(next(v for v in row if counts[v] == max(counts.values()))))
    clear = dist[:, k] - dist[:, k - 1] > 1e-9
    return np.array(labels), test["Species"].values, clear


def _knn_job(sm, bucket: str, **hyper: str) -> str:
    name = _name("knn")
    params = {"k": "3", "sample_size": "1000", "predictor_type": "classifier", **hyper}
    sm.create_training_job(**training_request(name, KNN_IMAGE, params, [
        channel("train", f"s3://{bucket}/train/"), channel("test", f"s3://{bucket}/test/")], f"s3://{bucket}/out"))
    return name


def test_training_job_is_terminal_at_first_describe_with_transitions(aws, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    job = sm.describe_training_job(TrainingJobName=_knn_job(sm, iris_bucket))
    assert job["TrainingJobStatus"] == "Completed"
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all(t["StatusMessage"] for t in job["SecondaryStatusTransitions"])
    assert job["OutputDataConfig"]["KmsKeyId"] == ""
    assert {m["Name"] for m in job["AlgorithmSpecification"]["MetricDefinitions"]} >= {"test:accuracy"}
    assert job["TrainingTimeInSeconds"] >= 1 and job["BillableTimeInSeconds"] >= 1
    predicted, truth, clear = knn_reference()
    reference = float(np.mean(predicted == truth))
    assert clear.mean() >= 0.8
    assert [m["MetricName"] for m in job["FinalMetricDataList"]] == ["test:accuracy"]
    assert abs(job["FinalMetricDataList"][0]["Value"] - reference) <= np.mean(~clear) + 1e-9


def test_training_logs_page_to_an_empty_page(aws, iris_bucket: str) -> None:
    sm, logs = aws("sagemaker"), aws("logs")
    name = _knn_job(sm, iris_bucket)
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{name}/")
    stream = streams["logStreams"][0]["logStreamName"]
    assert stream.startswith(f"{name}/algo-1-")
    page = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream, startFromHead=True)
    assert any("#test_score (algo-1) : ('accuracy'" in e["message"] for e in page["events"])
    following = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream,
                                    startFromHead=True, nextToken=page["nextForwardToken"])
    assert following["events"] == []


def test_unsupported_image_fails_the_job_with_client_error(aws, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    name = _name("custom")
    sm.create_training_job(**training_request(name, "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own:latest", {},
                                              [channel("train", f"s3://{iris_bucket}/train/")], f"s3://{iris_bucket}/o"))
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: ")


def test_unsupported_content_type_and_missing_hyperparameter_fail_like_aws(aws, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    name = _name("knn-ct")
    sm.create_training_job(**training_request(name, KNN_IMAGE, {"k": "1", "sample_size": "10", "predictor_type": "classifier"},
                                              [channel("train", f"s3://{iris_bucket}/train/", "application/x-foo")],
                                              f"s3://{iris_bucket}/o"))
    assert sm.describe_training_job(TrainingJobName=name)["FailureReason"].startswith("ClientError: ")
    name = _name("knn-hp")
    sm.create_training_job(**training_request(name, KNN_IMAGE, {"sample_size": "10", "predictor_type": "classifier"},
                                              [channel("train", f"s3://{iris_bucket}/train/")], f"s3://{iris_bucket}/o"))
    failed = sm.describe_training_job(TrainingJobName=name)
    assert failed["TrainingJobStatus"] == "Failed" and "'k'" in failed["FailureReason"]


def test_missing_data_fails_the_job_not_the_server(aws, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    name = _name("knn-nodata")
    sm.create_training_job(**training_request(name, KNN_IMAGE, {"k": "1", "sample_size": "10", "predictor_type": "classifier"},
                                              [channel("train", f"s3://{iris_bucket}/nothing-here/")], f"s3://{iris_bucket}/o"))
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Failed" and "ClientError" in job["FailureReason"]


def test_duplicate_training_job_name_is_resource_in_use(aws, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    name = _knn_job(sm, iris_bucket)
    error = _error(sm.create_training_job, **training_request(
        name, KNN_IMAGE, {}, [channel("train", f"s3://{iris_bucket}/train/")], f"s3://{iris_bucket}/o"))
    assert error.response["Error"]["Code"] == "ResourceInUse"


def test_knn_endpoint_formats_and_errors(aws, iris_bucket: str) -> None:
    sm, runtime = aws("sagemaker"), aws("sagemaker-runtime")
    endpoint = _deploy(sm, _knn_job(sm, iris_bucket), KNN_IMAGE)
    train, test = iris_split()
    reference = KNeighborsClassifier(3).fit(train.iloc[:, 1:].values, train["Species"])
    rows = test.iloc[:, 1:].values
    csv = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Accept="application/json",
                                  Body="\n".join(",".join(repr(float(v)) for v in r) for r in rows))
    answered = np.array([p["predicted_label"] for p in json.loads(csv["Body"].read())["predictions"]])
    expected, _, clear = knn_reference()
    assert answered[clear].tolist() == expected[clear].tolist()
    assert csv["InvokedProductionVariant"] == "AllTraffic"
    distances, _ = reference.kneighbors([[5.1, 3.5, 1.4, 0.2]])
    verbose = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="application/json",
                                      Accept="application/json; verbose=true",
                                      Body=json.dumps({"instances": [{"features": [5.1, 3.5, 1.4, 0.2]}]}))
    prediction = json.loads(verbose["Body"].read())["predictions"][0]
    assert len(prediction["distances"]) == 3 and len(prediction["labels"]) == 3
    assert prediction["distances"] == pytest.approx((distances[0] ** 2).tolist(), abs=1e-9)  # squared L2, as faiss
    model_error = _error(runtime.invoke_endpoint, EndpointName=endpoint, ContentType="text/csv", Body="1,2")
    assert model_error.response["Error"]["Code"] == "ModelError"
    assert model_error.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    missing = _error(runtime.invoke_endpoint, EndpointName="no-such-endpoint", ContentType="text/csv", Body="1")
    assert missing.response["Error"]["Code"] == "ValidationError"
    assert "Endpoint no-such-endpoint of account 123456789012 not found." in str(missing)


def test_hosting_lifecycle_messages(aws, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    job = sm.describe_training_job(TrainingJobName=_knn_job(sm, iris_bucket))
    name = _name("life")
    container = {"Image": KNN_IMAGE, "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]}
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)
    again = _error(sm.create_model, ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)
    assert "Cannot create already existing model" in again.response["Error"]["Message"]
    broken = _name("broken")
    sm.create_model(ModelName=broken, ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": KNN_IMAGE, "ModelDataUrl": f"s3://{iris_bucket}/missing/model.tar.gz"})
    sm.create_endpoint_config(EndpointConfigName=broken, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": broken, "InitialInstanceCount": 1, "InstanceType": "ml.t2.medium"}])
    sm.create_endpoint(EndpointName=broken, EndpointConfigName=broken)
    described = sm.describe_endpoint(EndpointName=broken)
    assert described["EndpointStatus"] == "Failed" and described["FailureReason"]
    sm.delete_endpoint(EndpointName=broken)
    gone = _error(sm.describe_endpoint, EndpointName=broken)
    assert gone.response["Error"]["Code"] == "ValidationException"
    assert _error(sm.delete_model, ModelName=_name("none")).response["Error"]["Code"] == "ValidationException"


def test_update_endpoint_swaps_the_model(aws, iris_bucket: str) -> None:
    sm, runtime = aws("sagemaker"), aws("sagemaker-runtime")
    endpoint = _deploy(sm, _knn_job(sm, iris_bucket), KNN_IMAGE)
    regressor = _knn_job(sm, iris_bucket, predictor_type="regressor")
    artefact = sm.describe_training_job(TrainingJobName=regressor)["ModelArtifacts"]["S3ModelArtifacts"]
    model = _name("reg")
    sm.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": KNN_IMAGE, "ModelDataUrl": artefact})
    sm.create_endpoint_config(EndpointConfigName=model, ProductionVariants=[{
        "VariantName": "Regressor", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.t2.medium"}])
    sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=model)
    described = sm.describe_endpoint(EndpointName=endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", model)
    train, test = iris_split()
    rows = test.iloc[:12, 1:].values
    body = "\n".join(",".join(repr(float(v)) for v in r) for r in rows)
    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Accept="application/json", Body=body)
    assert answer["InvokedProductionVariant"] == "Regressor"
    reference = KNeighborsRegressor(3).fit(train.iloc[:, 1:].values, train["Species"]).predict(rows)
    assert [p["predicted_label"] for p in json.loads(answer["Body"].read())["predictions"]] == pytest.approx(reference)


def test_list_training_jobs_filters_sorts_and_pages(aws, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    marker = uuid.uuid4().hex[:6]
    names = []
    for _ in range(3):
        name = f"page-{marker}-{uuid.uuid4().hex[:4]}"
        sm.create_training_job(**training_request(name, KNN_IMAGE, {"k": "1", "sample_size": "10", "predictor_type": "classifier"},
                                                  [channel("train", f"s3://{iris_bucket}/train/")], f"s3://{iris_bucket}/o"))
        names.append(name)
    first = sm.list_training_jobs(NameContains=marker, MaxResults=2, SortBy="Name", SortOrder="Ascending")
    second = sm.list_training_jobs(NameContains=marker, MaxResults=2, SortBy="Name", SortOrder="Ascending",
                                   NextToken=first["NextToken"])
    listed = [s["TrainingJobName"] for s in first["TrainingJobSummaries"] + second["TrainingJobSummaries"]]
    assert listed == sorted(names) and "NextToken" not in second
    assert sm.list_training_jobs(NameContains=marker, StatusEquals="Failed")["TrainingJobSummaries"] == []


def test_tags_by_arn(aws, iris_bucket: str) -> None:
    sm = aws("sagemaker")
    name = _knn_job(sm, iris_bucket)
    arn = sm.describe_training_job(TrainingJobName=name)["TrainingJobArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "ml"}, {"Key": "env", "Value": "ci"}])
    sm.delete_tags(ResourceArn=arn, TagKeys=["env"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]


def test_sagemaker_validation_errors(aws) -> None:
    sm = aws("sagemaker")
    bad_name = _error(sm.describe_training_job, TrainingJobName="bad_name!")
    assert bad_name.response["Error"]["Code"] == "ValidationException"
    assert bad_name.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    bad_enum = _error(sm.list_training_jobs, SortBy="Size")
    assert bad_enum.response["Error"]["Code"] == "ValidationException"
    out_of_range = _error(sm.list_training_jobs, MaxResults=1000)
    assert "maxResults" in out_of_range.response["Error"]["Message"]


def test_runtime_validation_error(aws) -> None:
    error = _error(aws("sagemaker-runtime").invoke_endpoint, EndpointName="x" * 70, Body=b"1")
    assert error.response["Error"]["Code"] == "ValidationError"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def _corpus(seed: int, count: int) -> str:
    rng = random.Random(seed)
    topics = {"sports": "goal match team score player coach league win season stadium".split(),
              "cooking": "recipe oven flour sugar bake taste kitchen salt butter dinner".split(),
              "space": "rocket orbit planet star galaxy launch moon astronaut telescope comet".split()}
    lines = []
    for _ in range(count):
        label = rng.choice(sorted(topics))
        lines.append(f"__label__{label} " + " ".join(rng.choices(topics[label], k=8)))
    return "\n".join(lines) + "\n"


def test_blazingtext_supervised_trains_deploys_and_answers_k2(aws, bucket: str) -> None:
    sm, s3, runtime = aws("sagemaker"), aws("s3"), aws("sagemaker-runtime")
    s3.put_object(Bucket=bucket, Key="bt/train/train.txt", Body=_corpus(1, 400))
    s3.put_object(Bucket=bucket, Key="bt/validation/validation.txt", Body=_corpus(2, 100))
    name = _name("blazingtext")
    sm.create_training_job(**training_request(name, BLAZINGTEXT_IMAGE, {
        "mode": "supervised", "epochs": "20", "learning_rate": "0.3", "min_count": "1", "vector_dim": "20",
        "word_ngrams": "2", "buckets": "5000"}, [channel("train", f"s3://{bucket}/bt/train/", None),
                              channel("validation", f"s3://{bucket}/bt/validation/", None)], f"s3://{bucket}/bt/out"))
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    reference = fasttext_directly(_corpus(1, 400), _corpus(2, 100))  # the same settings, fastText itself
    assert abs(metrics["validation:accuracy"] - reference) <= 0.05
    endpoint = _deploy(sm, name, BLAZINGTEXT_IMAGE)
    payload = {"instances": ["the rocket reached orbit around the moon", "bake the flour with sugar and butter"],
               "configuration": {"k": 2}}
    answer = json.loads(runtime.invoke_endpoint(EndpointName=endpoint, ContentType="application/octet-stream",
                                                Accept="*/*", Body=json.dumps(payload))["Body"].read())
    assert [len(a["label"]) for a in answer] == [2, 2] and [len(a["prob"]) for a in answer] == [2, 2]
    assert [a["label"][0] for a in answer] == ["__label__space", "__label__cooking"]


def _breast_cancer_rows(seed: int) -> list[str]:
    """scikit-learn's breast cancer set as shuffled CSV rows, label first."""
    data = load_breast_cancer()
    rows = [",".join([str(int(y))] + [f"{v:.6g}" for v in x]) for x, y in zip(data.data, data.target)]
    random.Random(seed).shuffle(rows)
    return rows


def _train_on_breast_cancer(aws, bucket: str, seed: int, image: str, hyperparameters: dict[str, str],
                            second_channel: str) -> tuple[list[str], dict[str, float], str]:
    """Train on 400 shuffled rows, with the other 169 as ``second_channel``; (rows, final metrics, job name)."""
    sm, s3 = aws("sagemaker"), aws("s3")
    rows = _breast_cancer_rows(seed)
    name = _name(image.rsplit("/", 1)[1].split(":")[0])
    s3.put_object(Bucket=bucket, Key=f"{name}/train/d.csv", Body="\n".join(rows[:400]))
    s3.put_object(Bucket=bucket, Key=f"{name}/{second_channel}/d.csv", Body="\n".join(rows[400:]))
    sm.create_training_job(**training_request(name, image, hyperparameters, [
        channel("train", f"s3://{bucket}/{name}/train/"),
        channel(second_channel, f"s3://{bucket}/{name}/{second_channel}/")], f"s3://{bucket}/{name}/out"))
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    return rows, {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}, name


def test_xgboost_binary_on_breast_cancer(aws, bucket: str) -> None:
    rows, metrics, name = _train_on_breast_cancer(aws, bucket, 0, XGBOOST_IMAGE, {
        "objective": "binary:logistic", "num_round": "30", "max_depth": "3", "eval_metric": "auc"}, "validation")
    table = np.array([[float(v) for v in r.split(",")] for r in rows])
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "seed": 0, "nthread": 2},
                        xgb.DMatrix(table[:400, 1:], label=table[:400, 0]), num_boost_round=30)
    expected = booster.predict(xgb.DMatrix(table[400:, 1:]))
    assert metrics["validation:auc"] == pytest.approx(roc_auc_score(table[400:, 0], expected), abs=1e-5)
    endpoint = _deploy(aws("sagemaker"), name, XGBOOST_IMAGE)
    answer = aws("sagemaker-runtime").invoke_endpoint(EndpointName=endpoint, ContentType="text/csv",
                                                      Body="\n".join(r.split(",", 1)[1] for r in rows[400:420]))
    scores = [float(v) for v in answer["Body"].read().decode().splitlines()]
    assert scores == pytest.approx(expected[:20].tolist(), abs=1e-6)


def test_linear_learner_binary_classifier(aws, bucket: str) -> None:
    rows, metrics, name = _train_on_breast_cancer(aws, bucket, 1, LINEAR_IMAGE, {
        "predictor_type": "binary_classifier", "feature_dim": "30"}, "test")
    train = [[float(v) for v in r.split(",")] for r in rows[:400]]
    test = [[float(v) for v in r.split(",")] for r in rows[400:]]
    baseline_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
        [r[1:] for r in train], [r[0] for r in train])
    baseline = baseline_model.score([r[1:] for r in test], [r[0] for r in test])
    assert metrics["test:binary_classification_accuracy"] == pytest.approx(baseline, abs=0.03)
    endpoint = _deploy(aws("sagemaker"), name, LINEAR_IMAGE)
    answer = json.loads(aws("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Accept="application/json",
        Body="\n".join(r.split(",", 1)[1] for r in rows[400:]))["Body"].read())
    labels = np.array([p["predicted_label"] for p in answer["predictions"]])
    scores = np.array([p["score"] for p in answer["predictions"]])
    truth = np.array([r[0] for r in test])
    # the endpoint's answers are the model that produced the test metric ...
    assert np.mean(labels == truth) == pytest.approx(metrics["test:binary_classification_accuracy"])
    assert scores[labels == 1].min() > scores[labels == 0].max()  # one threshold separates the labels
    # ... and agree with the reference model on nearly every row
    reference = baseline_model.predict([r[1:] for r in test])
    assert np.mean(labels == reference) >= 0.93
