"""FindMatches.apply in a Glue job: the diabetes table with labelled duplicates, matched by a
READY transform; every record gets a match_id and labelled matches share one."""

from __future__ import annotations

import importlib.util
import io
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from emulator.services.glue.job_runs import missing_spark_runtime
from emulator.services.glue.provider import GlueProvider
from tests.glue_job_helpers import make_job, wait_run

DIABETES = Path(__file__).resolve().parents[1] / "clients" / "examples" / "data" / "diabetes.csv"
ENGINE_READY = (importlib.util.find_spec("emulator.engines.findmatches") is not None
                and hasattr(GlueProvider, "create_ml_transform") and DIABETES.exists())

pytestmark = [
    pytest.mark.skipif(not ENGINE_READY, reason="needs the FindMatches engine (emulator.engines.findmatches), the ML "
                                                "transform operations and clients/examples/data/diabetes.csv, built on "
                                                "another branch"),
    pytest.mark.skipif(missing_spark_runtime() is not None, reason=f"glueetl jobs need PySpark and Java 17: {missing_spark_runtime()}"),
]


def _wait_task(glue, transform_id: str, run_id: str) -> dict:
    deadline = time.monotonic() + 120
    while (run := glue.get_ml_task_run(TransformId=transform_id, TaskRunId=run_id))["Status"] not in (
            "SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return run


def test_find_matches_job_over_the_diabetes_table(aws, bucket) -> None:
    s3, glue = aws("s3"), aws("glue")
    original = pd.read_csv(DIABETES, dtype=str)
    duplicates = original.iloc[:30].copy()  # 30 near-duplicates with new ids: Age off by one
    duplicates["recordID"] = [str(100000 + i) for i in range(30)]
    duplicates["Age"] = (duplicates["Age"].astype(int) + 1).astype(str)
    table = pd.concat([original, duplicates], ignore_index=True)
    s3.put_object(Bucket=bucket, Key="diabetes/part-0.csv", Body=table.to_csv(index=False).encode())
    database = f"fm_{uuid.uuid4().hex[:8]}"
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(DatabaseName=database, TableInput={
        "Name": "diabetes", "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
        "StorageDescriptor": {"Columns": [{"Name": c, "Type": "string"} for c in table.columns],
                              "Location": f"s3://{bucket}/diabetes/",
                              "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                                            "Parameters": {"field.delim": ","}}}})
    transform_id = glue.create_ml_transform(
        Name=f"diabetes-{uuid.uuid4().hex[:6]}", Role="arn:aws:iam::123456789012:role/Glue",
        InputRecordTables=[{"DatabaseName": database, "TableName": "diabetes"}],
        Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {
            "PrimaryKeyColumnName": "recordID", "EnforceProvidedLabels": True}})["TransformId"]
    # ten labelling sets: an original with its duplicate (one label) and two unrelated records (their own labels)
    rows = []
    for i in range(10):
        pair = [original.iloc[i], duplicates.iloc[i]]
        others = [original.iloc[200 + 2 * i], original.iloc[201 + 2 * i]]
        for record, label in zip(pair + others, ["A", "A", "B", "C"]):
            rows.append({"labeling_set_id": f"set-{i}", "label": label, **record.to_dict()})
    s3.put_object(Bucket=bucket, Key="labels/labels.csv", Body=pd.DataFrame(rows).to_csv(index=False).encode())
    run_id = glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=f"s3://{bucket}/labels/labels.csv")["TaskRunId"]
    assert _wait_task(glue, transform_id, run_id)["Status"] == "SUCCEEDED"
    assert glue.get_ml_transform(TransformId=transform_id)["Status"] == "READY"

    script = (Path(__file__).parent / "glue_scripts" / "find_matches.py").read_text()
    job = make_job(aws, bucket, script, kind="glueetl", DefaultArguments={
        "--database": database, "--table": "diabetes", "--transform_id": transform_id,
        "--output_path": f"s3://{bucket}/matched/", "--TempDir": f"s3://{bucket}/tmp/"})
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run = wait_run(aws, job, run_id, deadline_seconds=600)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="matched/")["Contents"]]
    out = pd.concat([pd.read_csv(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read()), dtype=str) for k in keys])
    assert sorted(out["recordID"]) == sorted(table["recordID"])  # every record, once
    assert out["match_id"].notna().all() and out["match_confidence_score"].notna().all()
    match_of = dict(zip(out["recordID"], out["match_id"]))
    for i in range(10):  # labelled matches share a match_id, labelled non-matches do not
        assert match_of[original.iloc[i]["recordID"]] == match_of[duplicates.iloc[i]["recordID"]]
        assert match_of[original.iloc[200 + 2 * i]["recordID"]] != match_of[original.iloc[201 + 2 * i]["recordID"]]
    assert not [o for o in s3.list_objects_v2(Bucket=bucket, Prefix="tmp/").get("Contents", [])]  # labels export cleaned up
