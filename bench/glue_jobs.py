"""Glue ETL job benchmarks: a trivial job split into Spark start-up and work, and seed 002's
sampling job on generated rows, next to the same logic in plain PySpark in the same run.

    python bench/glue_jobs.py [--rows 1000000]

Prints (a) a trivial glueetl job: StartJobRun -> SUCCEEDED wall time, of which the child
process's Spark start-up (SparkContext + GlueContext) and the script's work; (b) the
balance-by-sampling logic of seed 002 (count per category, one push_down_predicate read
per category, sample, union, write Parquet partitioned by category) through awsglue
(catalog + the emulator's S3) and the same logic in plain PySpark on local Parquet files,
measured alternately (after one uncounted warm-up of each) in one job run with one warm
Spark driver, and their ratio. The
emulator runs in its own process; needs PySpark and Java 17.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import textwrap
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import boto3  # noqa: E402

from bench import free_port, start_server  # noqa: E402 - bench/bench.py, next to this file

TRIVIAL = textwrap.dedent("""
    import time
    began = time.perf_counter()
    from pyspark.context import SparkContext
    from awsglue.context import GlueContext
    glue = GlueContext(SparkContext.getOrCreate())
    ready = time.perf_counter()
    glue.spark_session.range(10).count()
    done = time.perf_counter()
    print("TIMES " + __import__("json").dumps({"startup": ready - began, "work": done - ready}))
""")

SAMPLING = textwrap.dedent("""
    import json, os, shutil, sys, tempfile, time
    from functools import reduce
    from awsglue.context import GlueContext
    from awsglue.dynamicframe import DynamicFrame
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext
    from pyspark.sql import DataFrame

    args = getResolvedOptions(sys.argv, ["database", "table", "output_path", "local_input", "repeats"])
    glueContext = GlueContext(SparkContext.getOrCreate())
    spark = glueContext.spark_session

    def glue_version():
        reviews = glueContext.create_dynamic_frame.from_catalog(database=args["database"], table_name=args["table"])
        counts = reviews.toDF().groupBy("product_category").count().collect()
        lowest = min(r["count"] for r in counts)
        samples = []
        for row in counts:
            frame = glueContext.create_dynamic_frame.from_catalog(
                database=args["database"], table_name=args["table"],
                push_down_predicate="product_category == '{}'".format(row["product_category"]))
            samples.append(frame.toDF().sample(False, lowest / row["count"], seed=42))
        balanced = DynamicFrame.fromDF(reduce(DataFrame.union, samples), glueContext, "balanced")
        glueContext.write_dynamic_frame.from_options(
            frame=balanced, connection_type="s3",
            connection_options={"path": args["output_path"], "partitionKeys": ["product_category"]}, format="parquet")

    def plain_version():
        out = tempfile.mkdtemp()
        reviews = spark.read.parquet(args["local_input"])
        counts = reviews.groupBy("product_category").count().collect()
        lowest = min(r["count"] for r in counts)
        samples = [spark.read.parquet(args["local_input"]).filter("product_category == '{}'".format(r["product_category"]))
                   .sample(False, lowest / r["count"], seed=42) for r in counts]
        reduce(DataFrame.union, samples).write.mode("overwrite").partitionBy("product_category").parquet(out + "/o")
        shutil.rmtree(out)

    glue_version()  # warm-up, not counted: JIT, first downloads, Python workers
    plain_version()
    times = {"glue": [], "plain": []}
    for repeat in range(int(args["repeats"])):
        order = (("glue", glue_version), ("plain", plain_version))
        for name, version in (order if repeat % 2 == 0 else order[::-1]):  # alternate who goes first
            began = time.perf_counter()
            version()
            times[name].append(time.perf_counter() - began)
    from awsglue import _aws
    _aws._downloaded.clear()
    began = time.perf_counter()
    glueContext.create_dynamic_frame.from_catalog(database=args["database"], table_name=args["table"])
    times["cold_table_read"] = time.perf_counter() - began  # every object fetched from S3 again
    print("TIMES " + json.dumps(times))
""")


def run_job(glue, s3, logs, bucket: str, name: str, script: str, arguments: dict[str, str]) -> tuple[dict, float, dict]:
    s3.put_object(Bucket=bucket, Key=f"scripts/{name}.py", Body=script.encode())
    glue.create_job(Name=name, Role="bench", Command={"Name": "glueetl", "ScriptLocation": f"s3://{bucket}/scripts/{name}.py"})
    began = time.perf_counter()
    run_id = glue.start_job_run(JobName=name, Arguments=arguments)["JobRunId"]
    while (run := glue.get_job_run(JobName=name, RunId=run_id)["JobRun"])["JobRunState"] in ("STARTING", "RUNNING"):
        time.sleep(0.05)
    wall = time.perf_counter() - began
    if run["JobRunState"] != "SUCCEEDED":
        raise RuntimeError(f"{name}: {run['JobRunState']} {run.get('ErrorMessage')}")
    events = logs.get_log_events(
        logGroupName="/aws-glue/jobs/output", logStreamName=run_id)["events"]
    times = next(json.loads(e["message"][6:]) for e in events if e["message"].startswith("TIMES "))
    return run, wall, times


def make_table(s3, glue, bucket: str, rows: int, local_dir: str) -> None:
    """An unbalanced review-like Parquet table partitioned by product_category, in S3 and locally."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    shares = {"Books": 0.5, "Toys": 0.25, "Kitchen": 0.15, "Watches": 0.1}
    words = np.array("great good bad price quality love works broke novel toy knife watch strap kids".split())
    glue.create_database(DatabaseInput={"Name": "bench"})
    descriptor = {"Columns": [{"Name": "review_id", "Type": "bigint"}, {"Name": "star_rating", "Type": "int"},
                              {"Name": "review_body", "Type": "string"}],
                  "Location": f"s3://{bucket}/reviews/",
                  "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                  "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}
    glue.create_table(DatabaseName="bench", TableInput={"Name": "reviews", "StorageDescriptor": descriptor,
                                                        "Parameters": {"classification": "parquet"},
                                                        "PartitionKeys": [{"Name": "product_category", "Type": "string"}]})
    start = 0
    for category, share in shares.items():
        n = int(rows * share)
        body = [" ".join(words[rng.integers(0, len(words), 8)]) for _ in range(n)]
        table = pa.table({"review_id": np.arange(start, start + n), "star_rating": rng.integers(1, 6, n).astype("int32"),
                          "review_body": body})
        start += n
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        s3.put_object(Bucket=bucket, Key=f"reviews/product_category={category}/part-0.parquet", Body=buffer.getvalue())
        os.makedirs(f"{local_dir}/product_category={category}")
        pq.write_table(table, f"{local_dir}/product_category={category}/part-0.parquet")
        glue.create_partition(DatabaseName="bench", TableName="reviews", PartitionInput={
            "Values": [category], "StorageDescriptor": {**descriptor, "Location": f"s3://{bucket}/reviews/product_category={category}/"}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    server, _ = start_server(port)
    local_dir = tempfile.mkdtemp(prefix="glue-bench-")
    try:
        url = f"http://127.0.0.1:{port}"
        session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
        s3, glue = session.client("s3", endpoint_url=url), session.client("glue", endpoint_url=url)
        logs = session.client("logs", endpoint_url=url)
        s3.create_bucket(Bucket="glue-bench")
        run, wall, times = run_job(glue, s3, logs, "glue-bench", "trivial", TRIVIAL, {})
        print(f"(a) trivial glueetl job: {wall:.1f} s StartJobRun -> SUCCEEDED; in the job, Spark start-up "
              f"{times['startup']:.1f} s, work {times['work']:.2f} s; the rest ({wall - times['startup'] - times['work']:.1f} s)"
              f" is process start, imports and polling")
        began = time.perf_counter()
        make_table(s3, glue, "glue-bench", args.rows, f"{local_dir}/reviews")
        print(f"    generated {args.rows} rows in {time.perf_counter() - began:.1f} s")
        _, wall, times = run_job(glue, s3, logs, "glue-bench", "sampling", SAMPLING, {
            "--database": "bench", "--table": "reviews", "--output_path": "s3://glue-bench/balanced/",
            "--local_input": f"{local_dir}/reviews", "--repeats": str(args.repeats)})
        glue_s, plain_s = statistics.median(times["glue"]), statistics.median(times["plain"])
        print(f"(b) seed 002 sampling on {args.rows} rows, median of {args.repeats}: awsglue {glue_s:.2f} s, "
              f"plain PySpark {plain_s:.2f} s, ratio {glue_s / plain_s:.2f} (Glue layer adds {100 * (glue_s / plain_s - 1):.0f} %)"
              f"; all: glue {['%.2f' % t for t in times['glue']]} plain {['%.2f' % t for t in times['plain']]}")
        print(f"    the repeats reuse the objects awsglue fetched in the warm-up (ETag-checked); fetching the whole "
              f"table from the emulator's S3 again takes {times['cold_table_read']:.2f} s")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(local_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
