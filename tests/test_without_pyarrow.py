"""Without the optional ``parquet`` extra (pyarrow), the emulator degrades, it does not break:
a server started with pyarrow hidden (a ``pyarrow`` package on its PYTHONPATH whose import
fails as a missing module does, in the server and in its worker processes alike; nothing is
uninstalled) still trains from CSV channels, its crawlers skip Parquet files with the install
hint in the crawler's log and go on, and a FindMatches task run over a Parquet table fails
with a message naming the extra."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.neighbors import KNeighborsClassifier

from tests.sagemaker_helpers import KNN_IMAGE, channel, training_request
from tests.server_process import ServerProcess
from tests.test_glue_findmatches import create_transform, make_table, wait_task
from tests.findmatches_data import people

HINT = "pip install 'aws-ml-emulator[parquet]'"
HIDDEN_PYARROW = ('raise ModuleNotFoundError("No module named \'pyarrow\' (hidden by tests/test_without_pyarrow.py)", '
                  'name="pyarrow")\n')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("no-pyarrow")
    hidden = root / "hide" / "pyarrow"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text(HIDDEN_PYARROW)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(root / "hide"))
        process = ServerProcess(str(root / "data"))
    with process:
        yield process


def _bucket(server: ServerProcess) -> str:
    name = f"np-{uuid.uuid4().hex[:10]}"
    server.client("s3").create_bucket(Bucket=name)
    return name


def _rows(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(count, 4)).round(5)
    y = ((X[:, 0] + X[:, 1] > 0) ^ (rng.random(count) < 0.1)).astype(float)
    return X, y


def _csv(X: np.ndarray, y: np.ndarray) -> bytes:
    return "".join(f"{int(label)},{','.join(repr(float(v)) for v in row)}\n" for label, row in zip(y, X)).encode()


def test_a_csv_channel_trains_without_pyarrow(server: ServerProcess) -> None:
    rng = np.random.default_rng(7)
    (X, y), (X_test, y_test) = _rows(rng, 1500), _rows(rng, 300)
    bucket, train = _bucket(server), _csv(X, y)
    assert len(train) > 16 * 1024  # the vectorised reader's size, pandas' C engine here
    s3, sm = server.client("s3"), server.client("sagemaker")
    s3.put_object(Bucket=bucket, Key="train/rows.csv", Body=train)
    s3.put_object(Bucket=bucket, Key="test/rows.csv", Body=_csv(X_test, y_test))
    name = f"knn-{uuid.uuid4().hex[:8]}"
    sm.create_training_job(**training_request(
        name, KNN_IMAGE, {"k": "1", "sample_size": "1500", "predictor_type": "classifier"},
        [channel("train", f"s3://{bucket}/train/"), channel("test", f"s3://{bucket}/test/")], f"s3://{bucket}/out"))
    job = sm.describe_training_job(TrainingJobName=name)
    deadline = time.monotonic() + 60
    while job["TrainingJobStatus"] == "InProgress" and time.monotonic() < deadline:
        time.sleep(0.1)
        job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    reference = KNeighborsClassifier(1).fit(X, y).score(X_test, y_test)
    assert 0.7 < reference < 0.95
    assert job["FinalMetricDataList"][0]["MetricName"] == "test:accuracy"
    assert job["FinalMetricDataList"][0]["Value"] == pytest.approx(reference, abs=1e-9)


def _parquet(rows: dict[str, list[Any]]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(rows), buffer)
    return buffer.getvalue()


def test_a_crawl_skips_parquet_with_the_install_hint_and_goes_on(server: ServerProcess) -> None:
    s3, glue, logs = server.client("s3"), server.client("glue"), server.client("logs")
    bucket, database, crawler = _bucket(server), f"db_{uuid.uuid4().hex[:8]}", f"crawler-{uuid.uuid4().hex[:8]}"
    s3.put_object(Bucket=bucket, Key="lake/metrics/data.parquet", Body=_parquet({"sensor": ["a", "b"], "value": [1.5, 2.5]}))
    s3.put_object(Bucket=bucket, Key="lake/sales/part-0.csv", Body=b"id,name,price\n1,pen,1.25\n2,ink,3.5\n")
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_crawler(Name=crawler, Role="arn:aws:iam::123456789012:role/AWSGlueServiceRole-test",
                        DatabaseName=database, Targets={"S3Targets": [{"Path": f"s3://{bucket}/lake/"}]})
    glue.start_crawler(Name=crawler)
    deadline = time.monotonic() + 60
    while (state := glue.get_crawler(Name=crawler)["Crawler"])["State"] != "READY" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state["LastCrawl"]["Status"] == "SUCCEEDED"
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=database)["TableList"]}
    assert set(tables) == {"sales"}
    assert [c["Type"] for c in tables["sales"]["StorageDescriptor"]["Columns"]] == ["bigint", "string", "double"]
    text = "\n".join(e["message"] for e in logs.get_log_events(logGroupName="/aws-glue/crawlers",
                                                               logStreamName=crawler)["events"])
    assert f"Skipping s3://{bucket}/lake/metrics/data.parquet" in text and HINT in text


def test_a_findmatches_run_over_a_parquet_table_fails_naming_the_extra(server: ServerProcess) -> None:
    frame = people(originals=30, seed=3).drop(columns=["entity"])
    bucket, database, table = make_table(server.client, frame, fmt="parquet")
    transform_id = create_transform(server.client, database, table)
    glue = server.client("glue")
    run = wait_task(glue, transform_id, glue.start_ml_labeling_set_generation_task_run(
        TransformId=transform_id, OutputS3Path=f"s3://{bucket}/sets")["TaskRunId"])
    assert run["Status"] == "FAILED" and HINT in run["ErrorString"], run
    csv_bucket, csv_database, csv_table = make_table(server.client, frame, fmt="csv")  # CSV tables still work
    csv_transform = create_transform(server.client, csv_database, csv_table)
    run = wait_task(glue, csv_transform, glue.start_ml_labeling_set_generation_task_run(
        TransformId=csv_transform, OutputS3Path=f"s3://{csv_bucket}/sets")["TaskRunId"])
    assert run["Status"] == "SUCCEEDED", run
