"""Seed 002's Glue half as a script: balance a partitioned review table, then write
BlazingText train / validation / test files, with two real Glue jobs.

    aws-ml-emulator &
    AWS_ENDPOINT_URL=http://127.0.0.1:4599 python clients/examples/seed_002_glue_text_classification.py

A small review-like table (Amazon customer reviews' columns, Parquet, partitioned by
``product_category``, unbalanced) is generated and registered in the Data Catalog;
job 1 (``glue_jobs/seed_002_balance_reviews.py``) writes the balanced data set, which
is registered as a table as a crawler would; job 2
(``glue_jobs/seed_002_blazingtext_files.py``) writes the ``__label__x tokens`` files.
Glue ``glueetl`` jobs need PySpark (``pip install "aws-ml-emulator[spark]"``) and Java 17;
writing the Parquet table needs pyarrow (``pip install "aws-ml-emulator[examples]"`` or
``[parquet]``).
"""

from __future__ import annotations

import io
import os
import random
import sys
import time
import uuid
from typing import Any

import boto3

EXAMPLE_DIR = os.path.dirname(os.path.abspath(__file__))
JOB_SCRIPTS = os.path.join(EXAMPLE_DIR, "glue_jobs")
ROLE = "arn:aws:iam::123456789012:role/AWSGlueServiceRole-reviews"

CATEGORY_WORDS = {
    "Books": "novel author chapter plot story characters pages read writing ending",
    "Toys": "kids toy play fun son daughter lego doll birthday game",
    "Kitchen": "knife pan cooking blender kitchen dishwasher pot recipe cut sharp",
    "Watches": "watch strap wrist band dial time battery clasp face waterproof",
}
COMMON_WORDS = "great good bad quality price product love hate bought works broke again would recommend".split()
COLUMNS = [("marketplace", "string"), ("customer_id", "string"), ("review_id", "string"), ("product_id", "string"),
           ("product_title", "string"), ("star_rating", "int"), ("helpful_votes", "int"), ("total_votes", "int"),
           ("review_headline", "string"), ("review_body", "string"), ("review_date", "string"), ("year", "int")]


def generate_reviews(counts: dict[str, int], seed: int = 0) -> list[dict[str, Any]]:
    """Review-like records: each category's body mixes its own words with common ones."""
    rng = random.Random(seed)
    records = []
    for category, count in counts.items():
        words = CATEGORY_WORDS.get(category, category.lower()).split()
        for _ in range(count):
            body = [rng.choice(words) if rng.random() < 0.5 else rng.choice(COMMON_WORDS) for _ in range(rng.randint(6, 20))]
            records.append({
                "marketplace": "US", "customer_id": str(rng.randint(10**7, 10**8)), "review_id": uuid.UUID(int=rng.getrandbits(128)).hex[:14].upper(),
                "product_id": f"B{rng.randint(10**8, 10**9)}", "product_title": f"{category} item {rng.randint(1, 500)}",
                "star_rating": rng.randint(1, 5), "helpful_votes": rng.randint(0, 20), "total_votes": rng.randint(0, 40),
                "review_headline": " ".join(rng.sample(COMMON_WORDS, 3)).capitalize(),
                "review_body": " ".join(body).capitalize() + ".", "review_date": f"20{rng.randint(10, 15)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                "year": rng.randint(2010, 2015), "product_category": category})
    return records


def _table_input(name: str, location: str, columns: list[tuple[str, str]], key: str) -> dict[str, Any]:
    return {
        "Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": key, "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in columns], "Location": location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}},
    }


def create_review_table(s3: Any, glue: Any, bucket: str, prefix: str, database: str, table: str,
                        records: list[dict[str, Any]]) -> None:
    """Write the records as Parquet under ``prefix/product_category=X/`` and register the table
    and its partitions in the Data Catalog (what a crawler over the data would create)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    categories = sorted({r["product_category"] for r in records})
    for category in categories:
        rows = [{k: v for k, v in r.items() if k != "product_category"} for r in records if r["product_category"] == category]
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows), buffer)
        s3.put_object(Bucket=bucket, Key=f"{prefix}/product_category={category}/part-00000.parquet", Body=buffer.getvalue())
    register_partitioned_table(s3, glue, bucket, prefix, database, table, COLUMNS, "product_category")


def register_partitioned_table(s3: Any, glue: Any, bucket: str, prefix: str, database: str, table: str,
                               columns: list[tuple[str, str]], key: str) -> list[str]:
    """Create a Parquet table over ``s3://bucket/prefix`` with one partition per ``key=value/`` folder."""
    try:
        glue.create_database(DatabaseInput={"Name": database})
    except glue.exceptions.AlreadyExistsException:
        pass
    location = f"s3://{bucket}/{prefix}/"
    glue.create_table(DatabaseName=database, TableInput=_table_input(table, location, columns, key))
    folders = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/{key}=", Delimiter="/").get("CommonPrefixes", [])
    values = [f["Prefix"][len(prefix) + len(key) + 2:].rstrip("/") for f in folders]
    descriptor = _table_input(table, location, columns, key)["StorageDescriptor"]
    glue.batch_create_partition(DatabaseName=database, TableName=table, PartitionInputList=[
        {"Values": [v], "StorageDescriptor": {**descriptor, "Location": f"{location}{key}={v}/"}} for v in values])
    return values


def run_glue_job(s3: Any, glue: Any, bucket: str, script: str, arguments: dict[str, str],
                 kind: str = "glueetl", deadline_seconds: float = 600) -> dict[str, Any]:
    """Upload a job script, create the job, run it and wait for its end; returns the JobRun."""
    name = f"{os.path.splitext(os.path.basename(script))[0].replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    key = f"scripts/{os.path.basename(script)}"
    with open(script, "rb") as handle:
        s3.put_object(Bucket=bucket, Key=key, Body=handle.read())
    glue.create_job(Name=name, Role=ROLE, GlueVersion="4.0", WorkerType="G.1X", NumberOfWorkers=2,
                    Command={"Name": kind, "ScriptLocation": f"s3://{bucket}/{key}", "PythonVersion": "3"})
    run_id = glue.start_job_run(JobName=name, Arguments=arguments)["JobRunId"]
    deadline = time.monotonic() + deadline_seconds
    while True:
        run = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        if run["JobRunState"] in ("SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR"):
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {name} still {run['JobRunState']}")
        time.sleep(1)


def balance_then_blazingtext_files(s3: Any, glue: Any, bucket: str, database: str = "reviews") -> dict[str, Any]:
    """The whole flow; returns both runs and the output prefixes."""
    balance = run_glue_job(s3, glue, bucket, os.path.join(JOB_SCRIPTS, "seed_002_balance_reviews.py"), {
        "--database": database, "--table": "reviews", "--output_path": f"s3://{bucket}/balanced/"})
    if balance["JobRunState"] != "SUCCEEDED":
        return {"balance": balance}
    register_partitioned_table(s3, glue, bucket, "balanced", database, "balanced", COLUMNS, "product_category")
    files = run_glue_job(s3, glue, bucket, os.path.join(JOB_SCRIPTS, "seed_002_blazingtext_files.py"), {
        "--database": database, "--table": "balanced", "--output_path": f"s3://{bucket}/blazingtext/"})
    return {"balance": balance, "files": files, "balanced": f"s3://{bucket}/balanced/",
            "blazingtext": f"s3://{bucket}/blazingtext/"}


def main() -> None:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        print("seed 002 writes its review table as Parquet, which needs pyarrow: "
              "pip install 'aws-ml-emulator[examples]'", file=sys.stderr)
        sys.exit(2)
    os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:4599")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    s3, glue = boto3.client("s3"), boto3.client("glue")
    bucket = f"reviews-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    records = generate_reviews({"Books": 1600, "Toys": 800, "Kitchen": 400, "Watches": 200})
    create_review_table(s3, glue, bucket, "reviews", "reviews", "reviews", records)
    result = balance_then_blazingtext_files(s3, glue, bucket)
    for step in ("balance", "files"):
        run = result.get(step)
        if run:
            print(f"{step}: {run['JobRunState']} in {run['ExecutionTime']} s {run.get('ErrorMessage', '')}")
    for key in s3.list_objects_v2(Bucket=bucket, Prefix="blazingtext/").get("Contents", []):
        print(f"s3://{bucket}/{key['Key']}")


if __name__ == "__main__":
    main()
