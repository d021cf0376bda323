"""Glue ``glueetl`` jobs on real PySpark: seed 002's two scripts on a generated partitioned
review table (BlazingText then trains on the output), and the awsglue API in one job.
Spark start-up costs seconds, so the module runs few jobs and shares them between tests."""

from __future__ import annotations

import collections
import io
import json
import re
import uuid
from pathlib import Path

import pandas as pd
import pytest

from clients.examples import seed_002_glue_text_classification as seed002
from emulator.services.glue.job_runs import missing_spark_runtime
from tests.glue_job_helpers import log_lines, make_job, wait_for_log, wait_run
from tests.sagemaker_helpers import BLAZINGTEXT_IMAGE, channel, training_request

pytestmark = pytest.mark.skipif(missing_spark_runtime() is not None,
                                reason=f"glueetl jobs need PySpark and Java 17: {missing_spark_runtime()}")

CATEGORY_COUNTS = {"Books": 800, "Toys": 400, "Kitchen": 200, "Watches": 100}


@pytest.fixture(scope="module")
def seed002_flow(emulator):
    """Both seed 002 jobs run once on a generated unbalanced review table."""
    s3, glue = emulator.client("s3"), emulator.client("glue")
    bucket = f"reviews-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    seed002.create_review_table(s3, glue, bucket, "reviews", f"reviews_{bucket[-8:]}", "reviews",
                                seed002.generate_reviews(CATEGORY_COUNTS, seed=3))
    result = seed002.balance_then_blazingtext_files(s3, glue, bucket, database=f"reviews_{bucket[-8:]}")
    return {"bucket": bucket, **result}


def _objects(aws, bucket: str, prefix: str) -> dict[str, bytes]:
    s3 = aws("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def test_seed002_balancing_job_writes_balanced_partitioned_parquet(aws, seed002_flow) -> None:
    run = seed002_flow["balance"]
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    written = _objects(aws, seed002_flow["bucket"], "balanced/")
    per_category = collections.Counter()
    for key, body in written.items():
        match = re.fullmatch(r"balanced/product_category=(\w+)/[^/]+\.parquet", key)
        assert match, key
        frame = pd.read_parquet(io.BytesIO(body))
        assert "product_category" not in frame.columns and "review_body" in frame.columns
        per_category[match.group(1)] += len(frame)
    assert set(per_category) == set(CATEGORY_COUNTS)
    smallest = min(CATEGORY_COUNTS.values())
    for category, count in per_category.items():  # sampled down to about the smallest category's size
        assert 0.75 * smallest <= count <= 1.25 * smallest, per_category
    assert per_category["Watches"] <= smallest  # the smallest is sampled with factor 1.0: at most all of it


def test_seed002_second_job_writes_blazingtext_files_60_20_20(aws, seed002_flow) -> None:
    run = seed002_flow["files"]
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    written = _objects(aws, seed002_flow["bucket"], "blazingtext/")
    by_split = collections.defaultdict(list)
    for key, body in written.items():
        by_split[key.split("/")[1]].append(body.decode())
    assert sorted(by_split) == ["test", "train", "validation"]
    assert all(len(files) == 1 for files in by_split.values()), {k: len(v) for k, v in by_split.items()}
    lines = {split: files[0].splitlines() for split, files in by_split.items()}
    for split_lines in lines.values():
        for line in split_lines:
            assert re.fullmatch(r"__label__(books|toys|kitchen|watches)( [^ \"]+)+", line), line
    total = sum(len(v) for v in lines.values())
    for split, share in (("train", 0.6), ("validation", 0.2), ("test", 0.2)):
        assert abs(len(lines[split]) / total - share) < 0.07, {k: len(v) for k, v in lines.items()}
    seed002_flow["lines"] = lines


def test_blazingtext_trains_on_the_glue_output(aws, seed002_flow) -> None:
    bucket = seed002_flow["bucket"]
    request = training_request(f"bt-glue-{uuid.uuid4().hex[:6]}", BLAZINGTEXT_IMAGE,
                               {"mode": "supervised", "epochs": "10", "min_count": "1"},
                               [channel("train", f"s3://{bucket}/blazingtext/train/", None),
                                channel("validation", f"s3://{bucket}/blazingtext/validation/", None)],
                               f"s3://{bucket}/model")
    sm = aws("sagemaker")
    sm.create_training_job(**request)
    import time
    deadline = time.monotonic() + 120
    while (job := sm.describe_training_job(TrainingJobName=request["TrainingJobName"]))["TrainingJobStatus"] == "InProgress":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    accuracy = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}["validation:accuracy"]
    assert accuracy > 0.6  # four classes: chance is 0.25


@pytest.fixture(scope="module")
def features_run(emulator):
    """tests/glue_scripts/features.py run once as a glueetl job with bookmarks enabled."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    aws = emulator.client
    s3, glue = aws("s3"), aws("glue")
    bucket, database = f"features-{uuid.uuid4().hex[:8]}", f"features_{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    glue.create_database(DatabaseInput={"Name": database})
    columns = [("id", "bigint"), ("payload", "string")]
    descriptor = {"Columns": [{"Name": n, "Type": t} for n, t in columns], "Location": f"s3://{bucket}/events/",
                  "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                  "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}
    glue.create_table(DatabaseName=database, TableInput={
        "Name": "events", "Parameters": {"classification": "parquet"}, "StorageDescriptor": descriptor,
        "PartitionKeys": [{"Name": "year", "Type": "int"}, {"Name": "kind", "Type": "string"}]})
    partitions = {(2020, "click"): 3, (2021, "click"): 4, (2022, "view"): 5, (2022, "bad"): 0}
    for (year, kind), rows in partitions.items():
        key = f"events/year={year}/kind={kind}/part-0.parquet"
        if kind == "bad":
            body = b"this is not parquet"
        else:
            buffer = io.BytesIO()
            pq.write_table(pa.table({"id": list(range(rows)), "payload": [f"p{i}" for i in range(rows)]}), buffer)
            body = buffer.getvalue()
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        glue.create_partition(DatabaseName=database, TableName="events", PartitionInput={
            "Values": [str(year), kind], "StorageDescriptor": {**descriptor, "Location": f"s3://{bucket}/events/year={year}/kind={kind}/"}})
    s3.put_object(Bucket=bucket, Key="raw/people/people.csv",
                  Body=b"id;name;age;city\n1;Ada Lovelace;36;London\n2;Alan Turing;41;Wilmslow\n3;Grace Hopper;29;Arlington\n4;Bad;50;Nowhere\n")
    orders = [{"person_id": 1, "total": 10.5, "items": ["pen", "ink"], "ship": {"city": "London", "zip": "N1"}},
              {"person_id": 2, "total": 99.0, "items": ["tape"], "ship": {"city": "Wilmslow", "zip": "SK9"}}]
    s3.put_object(Bucket=bucket, Key="raw/orders.json", Body="\n".join(json.dumps(o) for o in orders).encode())
    s3.put_object(Bucket=bucket, Key="purge/old.txt", Body=b"old")
    script = (Path(__file__).parent / "glue_scripts" / "features.py").read_text()
    job = make_job(aws, bucket, script, kind="glueetl",
                   DefaultArguments={"--bucket": bucket, "--database": database,
                                     "--job-bookmark-option": "job-bookmark-enable"})
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run = wait_run(aws, job, run_id, deadline_seconds=600)
    seen = json.loads(s3.get_object(Bucket=bucket, Key="result.json")["Body"].read()) if run["JobRunState"] == "SUCCEEDED" else {}
    return {"run": run, "seen": seen, "bucket": bucket, "database": database, "job": job}


def test_catalog_read_prunes_partitions_with_push_down_predicate(features_run) -> None:
    assert features_run["run"]["JobRunState"] == "SUCCEEDED", features_run["run"].get("ErrorMessage")
    seen = features_run["seen"]
    assert seen["events"] == [[2021, "click", 4], [2022, "view", 5]]  # the corrupt kind=bad was never read
    assert seen["events_types"] == {"id": "bigint", "payload": "string", "year": "int", "kind": "string"}
    assert seen["events_like"] == 5


def test_transforms_in_a_job(features_run) -> None:
    seen = features_run["seen"]
    assert seen["mapped_schema"] == "struct<id:bigint,full_name:string,age:int,address:struct<city:string>>"
    assert seen["schema_fields"] == ["id", "full_name", "age", "address"]
    assert seen["older"] == ["Ada Lovelace", "Alan Turing", "Bad"]
    assert seen["dropped_columns"] == ["id", "name"]  # address held only city: the empty struct goes too
    assert seen["selected_columns"] == ["id", "age"]
    assert seen["resolved_age_type"] == "string"
    assert seen["initials"] == ["AL", "AT", "GH"] and seen["map_errors"] == 1
    assert seen["relationalized"] == {"root": ["items", "person_id", "ship.city", "ship.zip", "total"],
                                      "root_items": ["id", "index", "items.val"]}
    assert seen["items_rows"] == 3
    assert seen["joined"] == [["Ada Lovelace", 10.5], ["Alan Turing", 99.0]]
    assert seen["count"] == 4
    assert seen["partitions_after_repartition"] == 3 and seen["partitions_after_coalesce"] == 1


def test_writes_update_the_catalog_and_s3(aws, features_run) -> None:
    glue, s3 = aws("glue"), aws("s3")
    bucket, database = features_run["bucket"], features_run["database"]
    table = glue.get_table(DatabaseName=database, Name="people_out")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["age"]
    assert {c["Name"] for c in table["StorageDescriptor"]["Columns"]} == {"id", "full_name"}
    values = sorted(p["Values"][0] for p in glue.get_partitions(DatabaseName=database, TableName="people_out")["Partitions"])
    assert values == ["29", "36", "41", "50"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="out/people/")["Contents"]]
    assert any(k.startswith("out/people/age=36/") and k.endswith(".json") for k in keys)
    events = {tuple(p["Values"]) for p in glue.get_partitions(DatabaseName=database, TableName="events")["Partitions"]}
    assert ("2024", "new") in events
    assert any(o["Key"].startswith("events/year=2024/kind=new/")
               for o in s3.list_objects_v2(Bucket=bucket, Prefix="events/")["Contents"])
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="purge/")
    output = log_lines(aws, "/aws-glue/jobs/output", features_run["run"]["Id"])
    assert '{"id":1,"full_name":"Ada Lovelace","age":36,"address":{"city":"London"}}' in output  # show()
    assert any(line.startswith(" |-- address: struct") for line in output)  # printSchema()


def test_commit_saves_the_job_bookmark(aws, features_run) -> None:
    entry = aws("glue").get_job_bookmark(JobName=features_run["job"])["JobBookmarkEntry"]
    bookmark = json.loads(entry["JobBookmark"])
    assert bookmark["people"]["processed"] == [f"s3://{features_run['bucket']}/raw/people/people.csv"]
    assert entry["RunId"] == features_run["run"]["Id"] and entry["Version"] == 1


def test_glueetl_without_java_fails_with_a_clear_message(aws, bucket, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    job = make_job(aws, bucket, "print('never runs')", kind="glueetl")
    run_id = aws("glue").start_job_run(JobName=job)["JobRunId"]
    run = wait_run(aws, job, run_id)
    assert run["JobRunState"] == "FAILED"
    assert "no Java runtime was found" in run["ErrorMessage"]
    wait_for_log(aws, "/aws-glue/jobs/error", run_id, "Java")


def test_glueetl_script_exception_is_the_error_message(aws, bucket) -> None:
    script = "from awsglue.context import GlueContext\nraise KeyError('product_category')\n"
    job = make_job(aws, bucket, script, kind="glueetl")
    run_id = aws("glue").start_job_run(JobName=job)["JobRunId"]
    run = wait_run(aws, job, run_id)
    assert run["JobRunState"] == "FAILED" and run["ErrorMessage"] == "KeyError: 'product_category'"
    lines = wait_for_log(aws, "/aws-glue/jobs/error", run_id, "KeyError")
    assert any(line.startswith("Traceback") for line in lines)
