"""--data-dir: acknowledged writes survive kill -9; restart failures are explicit; snapshots; reset.

Every test runs ``python -m emulator`` in its own process (tests/server_process.py) so it
can be killed with SIGKILL at any moment.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import urllib.request

import pytest
from sklearn.neighbors import KNeighborsClassifier

from emulator.persistence.disk import DB_NAME, FORMAT_VERSION
from tests.sagemaker_helpers import IRIS_CSV, KNN_IMAGE, ROLE, channel, iris_split, training_request
from tests.server_process import REPO, ServerProcess

SCHEMA = {"version": "1.0", "targetAttributeName": "Species", "dataFormat": "CSV", "dataFileContainsHeader": True,
          "attributes": [{"attributeName": n, "attributeType": "NUMERIC"} for n in
                         ("Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width")]
          + [{"attributeName": "Species", "attributeType": "CATEGORICAL"}], "excludedAttributeNames": []}
RECORDS = [{"Sepal.Length": "5.1", "Sepal.Width": "3.5", "Petal.Length": "1.4", "Petal.Width": "0.2"},
           {"Sepal.Length": "6.3", "Sepal.Width": "3.3", "Petal.Length": "6.0", "Petal.Width": "2.5"},
           {"Sepal.Length": "5.9", "Sepal.Width": "3.0", "Petal.Length": "4.2", "Petal.Width": "1.5"}]


def _seed_001(server: ServerProcess) -> dict:
    """Seed 001's flow, smaller: upload, two data sources (0-70 and complement), model, endpoint."""
    s3, ml = server.client("s3"), server.client("machinelearning")
    s3.create_bucket(Bucket="seed001-persist")
    with open(IRIS_CSV, "rb") as f:
        s3.put_object(Bucket="seed001-persist", Key="uploads/iris.csv", Body=f, ServerSideEncryption="AES256")
    for ds, complement in (("ds-train", False), ("ds-eval", True)):
        ml.create_data_source_from_s3(DataSourceId=ds, ComputeStatistics=True, DataSpec={
            "DataLocationS3": "s3://seed001-persist/uploads/iris.csv", "DataSchema": json.dumps(SCHEMA),
            "DataRearrangement": json.dumps({"splitting": {"percentBegin": 0, "percentEnd": 70, "strategy": "random",
                                                           "complement": complement}})})
    ml.create_ml_model(MLModelId="ml-iris", MLModelType="MULTICLASS", TrainingDataSourceId="ds-train",
                       Parameters={"sgd.maxPasses": "20", "sgd.shuffleType": "auto"})
    ml.get_waiter("ml_model_available").wait(FilterVariable="TrainingDataSourceId", EQ="ds-train",
                                             WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    endpoint = ml.create_realtime_endpoint(MLModelId="ml-iris")["RealtimeEndpointInfo"]["EndpointUrl"]
    return {"endpoint": endpoint, "predictions": _ml_predictions(server, endpoint)}


def _ml_predictions(server: ServerProcess, endpoint: str) -> list:
    ml = server.client("machinelearning")
    return [ml.predict(MLModelId="ml-iris", Record=r, PredictEndpoint=endpoint)["Prediction"] for r in RECORDS]


def _seed_003(server: ServerProcess) -> dict:
    """Seed 003's flow, smaller: k-NN on iris, model, endpoint config, endpoint, invoke."""
    s3, sm = server.client("s3"), server.client("sagemaker")
    s3.create_bucket(Bucket="seed003-persist")
    train, test = iris_split()
    s3.put_object(Bucket="seed003-persist", Key="train/train.csv", Body=train.to_csv(header=False, index=False))
    s3.put_object(Bucket="seed003-persist", Key="test/test.csv", Body=test.to_csv(header=False, index=False))
    sm.create_training_job(**training_request("knn-persist", KNN_IMAGE, {"k": "1", "sample_size": "200",
                                                                         "predictor_type": "classifier"},
                                              [channel("train", "s3://seed003-persist/train/"),
                                               channel("test", "s3://seed003-persist/test/")],
                                              "s3://seed003-persist/out"))
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="knn-persist",
                                                            WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    job = sm.describe_training_job(TrainingJobName="knn-persist")
    sm.create_model(ModelName="knn-persist", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": KNN_IMAGE, "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]})
    sm.create_endpoint_config(EndpointConfigName="knn-persist", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "knn-persist", "InitialInstanceCount": 1,
        "InstanceType": "ml.t2.medium"}])
    sm.create_endpoint(EndpointName="knn-persist", EndpointConfigName="knn-persist")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="knn-persist", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return {"job": job, "predictions": _knn_predictions(server, test)}


def _knn_predictions(server: ServerProcess, test) -> list:
    runtime = server.client("sagemaker-runtime")
    body = test.iloc[:, 1:].to_csv(header=False, index=False)
    answer = runtime.invoke_endpoint(EndpointName="knn-persist", ContentType="text/csv", Accept="application/json",
                                     Body=body)
    return [p["predicted_label"] for p in json.loads(answer["Body"].read())["predictions"]]


def test_seed_001_and_003_survive_kill_9_snapshot_and_reset(tmp_path) -> None:
    data = str(tmp_path / "data")
    with ServerProcess(data) as server:
        ml_before = _seed_001(server)
        knn_before = _seed_003(server)
        server.client("iam").create_role(RoleName="persist-role", AssumeRolePolicyDocument="{}")
        # a reference computed independently: exact 1-NN predictions on the same split
        train, test = iris_split()
        reference = KNeighborsClassifier(n_neighbors=1, algorithm="brute").fit(train.iloc[:, 1:].values,
                                                                                train["Species"]).predict(test.iloc[:, 1:].values)
        assert [int(p) for p in knn_before["predictions"]] == [int(p) for p in reference]
        server.kill()
        port = server.port  # the same port: the real-time endpoint URL names it

    with ServerProcess(data, port=port) as server:
        ml = server.client("machinelearning")
        for ds in ("ds-train", "ds-eval"):
            described = ml.get_data_source(DataSourceId=ds)
            assert described["Status"] == "COMPLETED" and described["ComputeStatistics"]
        model = ml.get_ml_model(MLModelId="ml-iris")
        assert model["Status"] == "COMPLETED" and model["EndpointInfo"]["EndpointStatus"] == "READY"
        assert _ml_predictions(server, ml_before["endpoint"]) == ml_before["predictions"]
        # the restored data source still trains: its parsed rows came back too
        ml.create_ml_model(MLModelId="ml-again", MLModelType="MULTICLASS", TrainingDataSourceId="ds-train")
        ml.get_waiter("ml_model_available").wait(FilterVariable="TrainingDataSourceId", EQ="ds-train",
                                                 WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        assert ml.get_ml_model(MLModelId="ml-again")["Status"] == "COMPLETED"
        sm = server.client("sagemaker")
        job = sm.describe_training_job(TrainingJobName="knn-persist")
        assert job["TrainingJobStatus"] == "Completed"
        assert job["FinalMetricDataList"] == knn_before["job"]["FinalMetricDataList"]
        assert sm.describe_endpoint(EndpointName="knn-persist")["EndpointStatus"] == "InService"
        assert _knn_predictions(server, iris_split()[1]) == knn_before["predictions"]
        assert server.client("iam").get_role(RoleName="persist-role")["Role"]["RoleName"] == "persist-role"
        logs = server.client("logs").describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs")
        assert any(s["logStreamName"].startswith("knn-persist/") for s in logs["logStreams"])

        archive = str(tmp_path / "pod.tar.gz")
        saved = subprocess.run([sys.executable, "-m", "emulator", "snapshot", "save", archive, "--data-dir", data],
                               capture_output=True, text=True, env={**os.environ, "PYTHONPATH": REPO}, timeout=60)
        assert saved.returncode == 0, saved.stderr

        request = urllib.request.Request(f"{server.url}/_emulator/reset", method="POST")
        assert json.loads(urllib.request.urlopen(request).read())["status"] == "reset"
        assert server.terminate(timeout=10) is not None  # SIGTERM ends it within 10 s

    with ServerProcess(data, port=port) as server:  # the reset was persisted: nothing comes back
        assert server.client("machinelearning").describe_ml_models()["Results"] == []
        assert server.client("s3").list_buckets()["Buckets"] == []
        assert server.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []
        server.kill()

    loaded = subprocess.run([sys.executable, "-m", "emulator", "snapshot", "load", archive, "--data-dir",
                             str(tmp_path / "shared")], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": REPO}, timeout=60)
    assert loaded.returncode == 0, loaded.stderr
    with ServerProcess(str(tmp_path / "shared"), port=port) as server:  # a team mate opens the shared archive
        assert _ml_predictions(server, ml_before["endpoint"]) == ml_before["predictions"]
        assert _knn_predictions(server, iris_split()[1]) == knn_before["predictions"]
        assert server.client("s3").get_object(Bucket="seed001-persist", Key="uploads/iris.csv")["Body"].read() \
            == open(IRIS_CSV, "rb").read()


# ------------------------------------------------------------------ kill -9 under load
class _Ledger:
    """What the clients were told: name -> should exist; names whose last call got no answer."""

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()
        self.expected: dict[tuple[str, str], bool] = {}
        self.unknown: set[tuple[str, str]] = set()


_KINDS = ("s3", "model", "role", "database", "training")


def _create(clients: dict, kind: str, name: str) -> None:
    if kind == "s3":
        clients["s3"].put_object(Bucket="load", Key=name, Body=name.encode() * 50)
    elif kind == "model":
        clients["sagemaker"].create_model(ModelName=name, ExecutionRoleArn=ROLE,
                                          PrimaryContainer={"Image": KNN_IMAGE})
    elif kind == "role":
        clients["iam"].create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    elif kind == "training":  # a real (tiny) k-NN training job
        clients["sagemaker"].create_training_job(**training_request(
            name, KNN_IMAGE, {"k": "1", "sample_size": "20", "predictor_type": "classifier"},
            [channel("train", "s3://load/train/")], "s3://load/out"))
    else:
        clients["glue"].create_database(DatabaseInput={"Name": name})


def _delete(clients: dict, kind: str, name: str) -> None:
    if kind == "s3":
        clients["s3"].delete_object(Bucket="load", Key=name)
    elif kind == "model":
        clients["sagemaker"].delete_model(ModelName=name)
    elif kind == "role":
        clients["iam"].delete_role(RoleName=name)
    else:
        clients["glue"].delete_database(Name=name)


def _existing(server: ServerProcess) -> set[tuple[str, str]]:
    found = set()
    for page in server.client("s3").get_paginator("list_objects_v2").paginate(Bucket="load"):
        found |= {("s3", o["Key"]) for o in page.get("Contents", [])}
    for page in server.client("sagemaker").get_paginator("list_models").paginate():
        found |= {("model", m["ModelName"]) for m in page["Models"]}
    for page in server.client("iam").get_paginator("list_roles").paginate():
        found |= {("role", r["RoleName"]) for r in page["Roles"]}
    for page in server.client("glue").get_paginator("get_databases").paginate():
        found |= {("database", d["Name"]) for d in page["DatabaseList"]}
    for page in server.client("sagemaker").get_paginator("list_training_jobs").paginate():
        for job in page["TrainingJobSummaries"]:
            assert job["TrainingJobStatus"] in ("Completed", "Failed")  # never stuck in progress
            found.add(("training", job["TrainingJobName"]))
    return found


def _clients(url: str) -> dict:
    """One set of clients (no retries: an unanswered call must stay unanswered)."""
    import boto3
    from botocore.config import Config as BotoConfig

    config = BotoConfig(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=30)
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    return {svc: session.client(svc, endpoint_url=url, config=config) for svc in ("s3", "sagemaker", "iam", "glue")}


def _load(clients: dict, ledger: _Ledger, worker: int, prefix: str, seed: int, stop) -> None:
    import random

    rng = random.Random(seed * 1000 + worker)
    mine: list[tuple[str, str]] = []
    for n in range(200):
        if stop.is_set():
            return
        deletable = [m for m in mine if m[0] != "training"]
        if deletable and rng.random() < 0.35:
            item = deletable[rng.randrange(len(deletable))]
            mine.remove(item)
            action, present = _delete, False
        else:
            kind = _KINDS[rng.randrange(len(_KINDS))]
            item = (kind, f"{prefix}-w{worker}-{n}")
            action, present = _create, True
        try:
            action(clients, *item)
        except Exception:  # noqa: BLE001 - the server died mid-call: the outcome is unknown
            with ledger.lock:
                ledger.unknown.add(item)
            return
        with ledger.lock:
            ledger.expected[item] = present
        if present:
            mine.append(item)


@pytest.mark.parametrize("rounds", [3])
def test_every_answered_write_survives_kill_9_under_load(tmp_path, rounds: int) -> None:
    """16 client threads create and delete S3 objects, SageMaker models, IAM roles and Glue
    databases, and run k-NN training jobs; the server is killed -9 at a random moment; after the restart every answered
    create is there and every answered delete is gone. Several seeds, one data directory."""
    import random
    import threading
    import time

    data, ledger, port = str(tmp_path / "data"), _Ledger(), None
    server = ServerProcess(data).wait()
    server.client("s3").create_bucket(Bucket="load")
    rows = "".join(f"{i % 3},{i * 0.1:.1f},{i % 5},{i % 7},{i % 2}\n" for i in range(30))
    server.client("s3").put_object(Bucket="load", Key="train/train.csv", Body=rows)
    port = server.port  # every restart on the same port: the clients are built once
    clients = _clients(server.url)  # boto3 clients are thread-safe: one set for the 16 threads
    try:
        for seed in range(rounds):
            stop = threading.Event()
            threads = [threading.Thread(target=_load, args=(clients, ledger, w, f"r{seed}", seed, stop))
                       for w in range(16)]
            for thread in threads:
                thread.start()
            target = len(ledger.expected) + random.Random(seed).randint(40, 160)  # a random moment of the load
            deadline = time.monotonic() + 120
            while len(ledger.expected) < target and time.monotonic() < deadline and any(t.is_alive() for t in threads):
                time.sleep(0.01)
            server.kill()
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            started = time.monotonic()
            server = ServerProcess(data, port=port).wait()
            print(f"round {seed}: {len(ledger.expected)} answered writes, restart {time.monotonic() - started:.1f} s")
            existing = _existing(server)
            with ledger.lock:
                checked = {k: v for k, v in ledger.expected.items() if k not in ledger.unknown}
            assert len(checked) > 20  # the load really ran before the kill
            missing = [k for k, v in checked.items() if v and k not in existing]
            resurrected = [k for k, v in checked.items() if not v and k in existing]
            assert (missing, resurrected) == ([], [])
    finally:
        server.kill()


# ------------------------------------------------------------------ refusing bad directories
def _main(*args: str) -> int:
    """The command line in-process (it refuses before serving); the root logger is put back."""
    import logging

    from emulator.__main__ import main

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return main(["--port", "0", *args])
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_newer_format_is_refused_with_a_clear_message(tmp_path, capsys) -> None:
    from emulator.persistence.disk import DataDir

    DataDir(str(tmp_path)).close()
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute("UPDATE meta SET value=? WHERE key='format'", (str(FORMAT_VERSION + 1),))
    assert _main("--data-dir", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "written by a newer aws-ml-emulator" in err and str(tmp_path) in err


def test_corrupt_database_and_corrupt_state_are_refused_with_their_path(tmp_path, capsys) -> None:
    from emulator.persistence.disk import DataDir

    broken = tmp_path / "garbled"
    DataDir(str(broken)).close()
    with open(broken / DB_NAME, "r+b") as f:
        f.write(b"this is not a database" * 10)
    assert _main("--data-dir", str(broken)) == 2
    assert str(broken / DB_NAME) in capsys.readouterr().err

    bad_state = tmp_path / "bad-state"
    DataDir(str(bad_state)).close()
    with sqlite3.connect(bad_state / DB_NAME) as db:
        db.execute("INSERT INTO states VALUES ('emulator.services.sagemaker.state:SageMakerState', "
                   "'123456789012', 'us-east-1', '{\"tables\": [], \"attrs\": {\"stop_requested\": "
                   "{\"$t\": \"obj\", \"cls\": \"os:system\", \"d\": {}}}}')")
    assert _main("--data-dir", str(bad_state)) == 2
    err = capsys.readouterr().err  # a class outside the emulator and moto is never instantiated
    assert str(bad_state / DB_NAME) in err and "SageMakerState" in err and "refusing to load class 'os:system'" in err
    with sqlite3.connect(bad_state / DB_NAME) as db:
        db.execute("UPDATE states SET data='{not json'")
    assert _main("--data-dir", str(bad_state)) == 2
    assert "is not valid JSON" in capsys.readouterr().err


def test_corrupt_body_file_refused_then_moved_aside_on_request(tmp_path) -> None:
    data = tmp_path / "data"
    with ServerProcess(str(data)) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="corrupt-me")
        s3.put_object(Bucket="corrupt-me", Key="big.bin", Body=os.urandom(50_000))
        server.kill()
    (body,) = [os.path.join(d, f) for d, _, files in os.walk(data / "blobs") for f in files]
    with open(body, "r+b") as f:
        f.truncate(10)
    refused = ServerProcess(str(data))
    assert refused.process.wait(timeout=120) == 2
    refused.kill()
    assert body in refused.output() and "cannot start" in refused.output()
    with ServerProcess(str(data), "--move-broken-data-aside") as server:
        assert server.client("s3").list_buckets()["Buckets"] == []
        server.kill()
    aside = [p for p in os.listdir(tmp_path) if p.startswith("data.broken-")]
    assert len(aside) == 1 and os.path.exists(tmp_path / aside[0] / "blobs")


def test_interrupted_jobs_end_failed_after_a_restart(tmp_path) -> None:
    """A training job, an Amazon ML model and an endpoint caught mid-way by a crash end in
    their service's failed state, with a reason naming the restart."""
    from datetime import datetime, timezone

    from emulator.config import Config
    from emulator.runtime import Emulator
    from emulator.services.machinelearning.state import MachineLearningState, MLModel
    from emulator.services.sagemaker.state import SageMakerState

    now = datetime.now(timezone.utc)
    first = Emulator(Config(data_dir=str(tmp_path)))
    sm = first.store.get(SageMakerState, "123456789012", "eu-west-1")
    sm.training_jobs["mid-flight"] = {"TrainingJobName": "mid-flight", "TrainingJobStatus": "InProgress",
                                      "SecondaryStatus": "Training", "CreationTime": now,
                                      "SecondaryStatusTransitions": [{"Status": "Training", "StartTime": now}]}
    sm.endpoints["half-made"] = {"EndpointName": "half-made", "EndpointStatus": "Creating", "CreationTime": now}
    ml = first.store.get(MachineLearningState, "123456789012", "eu-west-1")
    ml.models["ml-mid"] = MLModel(id="ml-mid", name=None, created_by="x", request={}, status="INPROGRESS")
    first.persistence.flush(first.store.partitions(), None, s3_accounts=[])  # every entry
    first.persistence.disk.close()  # no orderly shutdown: as after kill -9

    second = Emulator(Config(data_dir=str(tmp_path)))
    try:
        job = second.store.get(SageMakerState, "123456789012", "eu-west-1").training_jobs["mid-flight"]
        assert job["TrainingJobStatus"] == "Failed" and "restarted" in job["FailureReason"]
        assert job["SecondaryStatusTransitions"][-1]["Status"] == "Failed"
        endpoint = second.store.get(SageMakerState, "123456789012", "eu-west-1").endpoints["half-made"]
        assert endpoint["EndpointStatus"] == "Failed" and "restarted" in endpoint["FailureReason"]
        model = second.store.get(MachineLearningState, "123456789012", "eu-west-1").models["ml-mid"]
        assert model.status == "FAILED" and "restarted" in model.message
        assert isinstance(model.created_at, datetime)
    finally:
        second.shutdown()
