"""Heavy jobs run in worker processes: StopTrainingJob and MaxRuntimeInSeconds end a job
stuck in a billion XGBoost rounds at once, stuck jobs starve nothing, an allocation bomb
fails its job (not the server)."""

from __future__ import annotations

import time
import uuid

import pytest

from clients.testing import running_emulator
from emulator.config import Config
from tests.sagemaker_helpers import KNN_IMAGE, ROLE, XGBOOST_IMAGE, channel, iris_split, training_request


def _until(describe, key: str, done: set[str], seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        record = describe()
        if record[key] in done:
            return record
        assert time.monotonic() < deadline, f"{key} still {record[key]} after {seconds} s"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def busy():
    """An emulator whose create calls do not wait, with a modest memory cap per job."""
    with running_emulator(Config(job_grace_seconds=0, job_memory_mb=768)) as running:
        s3 = running.client("s3")
        bucket = f"iso-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        train, test = iris_split()
        s3.put_object(Bucket=bucket, Key="train/train.csv", Body=train.to_csv(header=False, index=False))
        s3.put_object(Bucket=bucket, Key="test/test.csv", Body=test.to_csv(header=False, index=False))
        running.bucket = bucket  # type: ignore[attr-defined]
        yield running


def _xgboost(emulator, name: str, rounds: str, max_runtime: int = 3600, **hyper: str) -> None:
    bucket = emulator.bucket
    request = training_request(name, XGBOOST_IMAGE, {"num_round": rounds, "objective": "multi:softmax",
                                                     "num_class": "3", **hyper},
                               [channel("train", f"s3://{bucket}/train/")], f"s3://{bucket}/out")
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": max_runtime}
    emulator.client("sagemaker").create_training_job(**request)


def _job(emulator, name: str):
    sm = emulator.client("sagemaker")
    return lambda: sm.describe_training_job(TrainingJobName=name)


def test_stop_ends_a_billion_round_job_within_5_seconds(busy) -> None:
    sm = busy.client("sagemaker")
    _xgboost(busy, "billion-stop", "1000000000")
    _until(_job(busy, "billion-stop"), "SecondaryStatus", {"Training"}, 30)
    time.sleep(0.5)  # it is really training now
    started = time.monotonic()
    sm.stop_training_job(TrainingJobName="billion-stop")
    stopped = _until(_job(busy, "billion-stop"), "TrainingJobStatus", {"Stopped", "Failed", "Completed"}, 5)
    assert stopped["TrainingJobStatus"] == "Stopped" and time.monotonic() - started < 5
    assert [t["Status"] for t in stopped["SecondaryStatusTransitions"]][-2:] == ["Stopping", "Stopped"]


def test_max_runtime_ends_a_billion_round_job(busy) -> None:
    _xgboost(busy, "billion-runtime", "1000000000", max_runtime=2)
    job = _until(_job(busy, "billion-runtime"), "TrainingJobStatus", {"Stopped", "Failed", "Completed"}, 10)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    assert job["TrainingTimeInSeconds"] <= 8  # 2 s of training, and a loaded test machine


def test_four_stuck_jobs_starve_nothing(busy) -> None:
    sm, ml = busy.client("sagemaker"), busy.client("machinelearning")
    bucket = busy.bucket
    stuck = [f"stuck-{i}" for i in range(4)]
    for name in stuck:
        _xgboost(busy, name, "1000000000")
    try:
        small = "small-knn"
        sm.create_training_job(**training_request(small, KNN_IMAGE, {"k": "3", "sample_size": "200",
                                                                      "predictor_type": "classifier",
                                                                      "feature_dim": "4"},
                                                  [channel("train", f"s3://{bucket}/train/")], f"s3://{bucket}/out"))
        done = _until(_job(busy, small), "TrainingJobStatus", {"Completed", "Failed", "Stopped"}, 120)
        assert done["TrainingJobStatus"] == "Completed", done.get("FailureReason")
        schema = ('{"version":"1.0","dataFormat":"CSV","targetAttributeName":"y","attributes":['
                  '{"attributeName":"y","attributeType":"CATEGORICAL"},'
                  + ",".join(f'{{"attributeName":"x{i}","attributeType":"NUMERIC"}}' for i in range(4)) + "]}")
        ml.create_data_source_from_s3(DataSourceId="busy-ds", ComputeStatistics=True, DataSpec={
            "DataLocationS3": f"s3://{bucket}/train/train.csv", "DataSchema": schema})
        ds = _until(lambda: ml.get_data_source(DataSourceId="busy-ds"), "Status", {"COMPLETED", "FAILED"}, 120)
        assert ds["Status"] == "COMPLETED", ds.get("Message")
        sm.create_model(ModelName="busy-model", ExecutionRoleArn=ROLE, PrimaryContainer={
            "Image": KNN_IMAGE, "ModelDataUrl": done["ModelArtifacts"]["S3ModelArtifacts"]})
        sm.create_endpoint_config(EndpointConfigName="busy-config", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "busy-model", "InitialInstanceCount": 1,
            "InstanceType": "ml.t2.medium"}])
        sm.create_endpoint(EndpointName="busy-endpoint", EndpointConfigName="busy-config")
        endpoint = _until(lambda: sm.describe_endpoint(EndpointName="busy-endpoint"), "EndpointStatus",
                          {"InService", "Failed"}, 120)
        assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")
        for name in stuck:  # still running all along
            assert sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] == "InProgress"
    finally:
        for name in stuck:
            sm.stop_training_job(TrainingJobName=name)
    for name in stuck:
        assert _until(_job(busy, name), "TrainingJobStatus", {"Stopped", "Failed"}, 10)["TrainingJobStatus"] \
            == "Stopped"


def test_data_source_with_a_huge_line_fails_under_the_memory_cap_and_the_server_serves() -> None:
    """A CSV line of millions of fields: the parse runs out of its worker's memory cap,
    the data source ends FAILED saying so, and the server keeps answering."""
    with running_emulator(Config(job_grace_seconds=0, job_memory_mb=48)) as emulator:
        s3, ml = emulator.client("s3"), emulator.client("machinelearning")
        s3.create_bucket(Bucket="bomb")
        s3.put_object(Bucket="bomb", Key="data.csv", Body=b"1,2\n" + b"1," * 12_000_000 + b"1\n")
        schema = ('{"version":"1.0","dataFormat":"CSV","targetAttributeName":"a","attributes":['
                  '{"attributeName":"a","attributeType":"NUMERIC"},{"attributeName":"b","attributeType":"NUMERIC"}]}')
        ml.create_data_source_from_s3(DataSourceId="bomb-ds", ComputeStatistics=True, DataSpec={
            "DataLocationS3": "s3://bomb/data.csv", "DataSchema": schema})
        ds = _until(lambda: ml.get_data_source(DataSourceId="bomb-ds"), "Status", {"COMPLETED", "FAILED"}, 60)
        assert ds["Status"] == "FAILED" and "out of memory" in ds["Message"]
        assert ml.describe_data_sources()["Results"][0]["DataSourceId"] == "bomb-ds"


@pytest.mark.parametrize("image, hyper, member", [
    (XGBOOST_IMAGE, {"num_round": "2", "objective": "multi:softmax", "num_class": "2000000000000"}, "num_class"),
    ("382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
     {"predictor_type": "multiclass_classifier", "num_classes": "3000000000"}, "num_classes"),
    (KNN_IMAGE, {"k": "5", "sample_size": "99999999999", "predictor_type": "classifier"}, "sample_size"),
    (KNN_IMAGE, {"k": "50", "sample_size": "10", "predictor_type": "classifier"}, "sample_size"),
])
def test_hyperparameters_out_of_aws_range_fail_the_job_with_client_error(busy, image, hyper, member) -> None:
    name = f"range-{uuid.uuid4().hex[:8]}"
    busy.client("sagemaker").create_training_job(**training_request(
        name, image, hyper, [channel("train", f"s3://{busy.bucket}/train/")], f"s3://{busy.bucket}/out"))
    job = _until(_job(busy, name), "TrainingJobStatus", {"Completed", "Failed", "Stopped"}, 30)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: ") and member in job["FailureReason"]


def test_huge_but_valid_num_class_runs_out_of_the_jobs_memory_not_the_servers(busy) -> None:
    """XGBoost with num_class = 100,000,000 wants gigabytes per round: the job fails
    with AWS's AlgorithmError ... out of memory wording; the server lives."""
    _xgboost(busy, "huge-classes", "2", num_class="100000000")
    job = _until(_job(busy, "huge-classes"), "TrainingJobStatus", {"Completed", "Failed", "Stopped"}, 60)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("AlgorithmError: ") and job["FailureReason"].endswith("out of memory")
    assert busy.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]


def test_jobs_beyond_the_worker_bound_visibly_wait_then_run() -> None:
    """With one worker process, a second training job and an Amazon ML data source wait
    (their status messages say so) while a stuck job holds it, and run once it is stopped."""
    from emulator import workers

    before = workers.stats()["max_processes"]
    try:
        with running_emulator(Config(job_grace_seconds=0, max_workers=1)) as emulator:
            s3, sm, ml = emulator.client("s3"), emulator.client("sagemaker"), emulator.client("machinelearning")
            bucket = f"bound-{uuid.uuid4().hex[:8]}"
            s3.create_bucket(Bucket=bucket)
            train, _ = iris_split()
            s3.put_object(Bucket=bucket, Key="train/train.csv", Body=train.to_csv(header=False, index=False))
            emulator.bucket = bucket  # type: ignore[attr-defined]
            _xgboost(emulator, "holder", "1000000000")
            _until(_job(emulator, "holder"), "SecondaryStatus", {"Training"}, 60)
            _xgboost(emulator, "queued", "3")
            schema = ('{"version":"1.0","dataFormat":"CSV","targetAttributeName":"y","attributes":['
                      '{"attributeName":"y","attributeType":"CATEGORICAL"},'
                      + ",".join(f'{{"attributeName":"x{i}","attributeType":"NUMERIC"}}' for i in range(4)) + "]}")
            ml.create_data_source_from_s3(DataSourceId="queued-ds", ComputeStatistics=True, DataSpec={
                "DataLocationS3": f"s3://{bucket}/train/train.csv", "DataSchema": schema})
            deadline = time.monotonic() + 30
            while True:
                job = sm.describe_training_job(TrainingJobName="queued")
                ds = ml.get_data_source(DataSourceId="queued-ds")
                if "Waiting for a free worker" in job["SecondaryStatusTransitions"][-1]["StatusMessage"] \
                        and "Waiting for a free worker" in (ds.get("Message") or ""):
                    break
                assert time.monotonic() < deadline, (job["SecondaryStatusTransitions"], ds)
                time.sleep(0.1)
            assert job["TrainingJobStatus"] == "InProgress" and ds["Status"] in ("PENDING", "INPROGRESS")
            sm.stop_training_job(TrainingJobName="holder")
            assert _until(_job(emulator, "queued"), "TrainingJobStatus", {"Completed", "Failed"}, 60)[
                "TrainingJobStatus"] == "Completed"
            ds = _until(lambda: ml.get_data_source(DataSourceId="queued-ds"), "Status", {"COMPLETED", "FAILED"}, 60)
            assert ds["Status"] == "COMPLETED" and not ds.get("Message")
    finally:
        workers.configure(max_processes=before)
