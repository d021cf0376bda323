"""Seed 000 as a script: Glue FindMatches on the Pima diabetes file, with boto3.

    aws-ml-emulator &
    AWS_ENDPOINT_URL=http://127.0.0.1:4599 python clients/examples/seed_000_findmatches.py [diabetes.csv]

The seed's console flow, call for call: upload ``diabetes.csv`` (its ``recordID`` is
the primary key) to S3, crawl it into a table (Glue lower-cases column names, so the key
column is ``recordid``), create a FIND_MATCHES transform,
generate a labeling set, label it, upload and import the labels, (twice: the second
labeling set is chosen by the trained model), run an evaluation and print the metrics.

How the labeling is done: the diabetes file has no duplicate patients, so matching
would have nothing to find. The script first appends ``$DUPLICATES`` (default 60)
perturbed copies of random patients (new recordID, one measurement nudged, sometimes a
value zeroed as "missing"), remembering which original each copy came from. It then
answers each labeling file the way a person comparing the rows would: within a
labeling set, a copy gets the same label as its original, every other record a label
of its own (the label is the original's recordID).
"""

import csv
import io
import os
import random
import sys
import time

import boto3

EXAMPLE_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(EXAMPLE_DIR, "data", "diabetes.csv")

os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:4599")

BUCKET = os.environ.get("FINDMATCHES_BUCKET", "sagemakerwalkerml")
DATABASE = "diabetes_db"
TABLE = "diabetes"  # the crawler names the table after the folder
CRAWLER = "diabetes-crawler"
ROLE = "arn:aws:iam::123456789012:role/AWSGlueServiceRole-FindMatches"


def with_duplicates(path, count, seed=0):
    """The file's rows plus ``count`` perturbed copies; returns (header, rows, {copy id: original id})."""
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [row for row in reader if row]
    rng = random.Random(seed)
    next_id = max(int(r[0]) for r in rows) + 1
    origin = {}
    for original in rng.sample(rows, count):
        copy = list(original)
        copy[0] = str(next_id)
        column = rng.randrange(1, len(header) - 1)  # a measurement, not the key or Outcome
        value = float(copy[column])
        copy[column] = "0" if rng.random() < 0.2 else f"{value * rng.uniform(0.97, 1.03):.{3 if '.' in copy[column] else 0}f}"
        rows.append(copy)
        origin[copy[0]] = original[0]
        next_id += 1
    return header, rows, origin


def wait_task(glue, transform_id, task_run_id):
    """Poll GetMLTaskRun until the run ends; returns the run."""
    while True:
        run = glue.get_ml_task_run(TransformId=transform_id, TaskRunId=task_run_id)
        if run["Status"] in ("SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT"):
            return run
        time.sleep(1)


def label(text, origin):
    """Fill the ``label`` column of a labeling file: a copy shares its original's label."""
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        row["label"] = origin.get(row["recordid"], row["recordid"])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0].keys()))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def main(path=DEFAULT_DATA):
    s3, glue = boto3.client("s3"), boto3.client("glue")
    header, rows, origin = with_duplicates(path, int(os.environ.get("DUPLICATES", "60")))
    body = io.StringIO()
    csv.writer(body, lineterminator="\n").writerows([header] + rows)
    existing = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    if BUCKET not in existing:
        s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="diabetes/diabetes.csv", Body=body.getvalue().encode())
    print(f"Uploaded {len(rows)} records ({len(origin)} injected duplicates) to s3://{BUCKET}/diabetes/")

    try:
        glue.create_database(DatabaseInput={"Name": DATABASE})
    except glue.exceptions.AlreadyExistsException:
        pass
    try:
        glue.create_crawler(Name=CRAWLER, Role=ROLE, DatabaseName=DATABASE,
                            Targets={"S3Targets": [{"Path": f"s3://{BUCKET}/diabetes/"}]})
    except glue.exceptions.AlreadyExistsException:
        pass
    glue.start_crawler(Name=CRAWLER)
    while (crawler := glue.get_crawler(Name=CRAWLER)["Crawler"])["State"] != "READY":
        time.sleep(1)
    if crawler["LastCrawl"]["Status"] != "SUCCEEDED":
        sys.exit(f"crawl {crawler['LastCrawl']['Status']}: {crawler['LastCrawl'].get('ErrorMessage')}")
    columns = glue.get_table(DatabaseName=DATABASE, Name=TABLE)["Table"]["StorageDescriptor"]["Columns"]
    print(f"Crawler {CRAWLER} created table {DATABASE}.{TABLE}: "
          + ", ".join(f"{c['Name']} {c['Type']}" for c in columns))

    transform_id = glue.create_ml_transform(
        Name=f"diabetes-findmatches-{int(time.time())}", Role=ROLE, GlueVersion="2.0", MaxCapacity=10.0,
        InputRecordTables=[{"DatabaseName": DATABASE, "TableName": TABLE}],
        Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {
            "PrimaryKeyColumnName": "recordid", "PrecisionRecallTradeoff": 0.5, "AccuracyCostTradeoff": 0.5,
            "EnforceProvidedLabels": False}})["TransformId"]
    print(f"Transform {transform_id}: {glue.get_ml_transform(TransformId=transform_id)['Status']}")

    for round_number in (1, 2):
        output = f"s3://{BUCKET}/labeling/round{round_number}/"
        run = wait_task(glue, transform_id, glue.start_ml_labeling_set_generation_task_run(
            TransformId=transform_id, OutputS3Path=output)["TaskRunId"])
        if run["Status"] != "SUCCEEDED":
            sys.exit(f"labeling set generation {run['Status']}: {run.get('ErrorString')}")
        key = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"labeling/round{round_number}/")["Contents"][0]["Key"]
        labeling_file = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
        labelled = label(labeling_file, origin)
        s3.put_object(Bucket=BUCKET, Key=f"labels/round{round_number}.csv", Body=labelled.encode())
        run = wait_task(glue, transform_id, glue.start_import_labels_task_run(
            TransformId=transform_id, InputS3Path=f"s3://{BUCKET}/labels/round{round_number}.csv",
            ReplaceAllLabels=False)["TaskRunId"])
        if run["Status"] != "SUCCEEDED":
            sys.exit(f"label import {run['Status']}: {run.get('ErrorString')}")
        transform = glue.get_ml_transform(TransformId=transform_id)
        print(f"Round {round_number}: labeled s3://{BUCKET}/{key} -> {transform['LabelCount']} labels, "
              f"transform {transform['Status']}")

    run = wait_task(glue, transform_id, glue.start_ml_evaluation_task_run(TransformId=transform_id)["TaskRunId"])
    if run["Status"] != "SUCCEEDED":
        sys.exit(f"evaluation {run['Status']}: {run.get('ErrorString')}")
    metrics = glue.get_ml_transform(TransformId=transform_id)["EvaluationMetrics"]["FindMatchesMetrics"]
    print("Evaluation metrics (held-out labels):")
    for name in ("AreaUnderPRCurve", "Precision", "Recall", "F1"):
        print(f"  {name}: {metrics[name]:.4f}")
    print(f"  ConfusionMatrix: {metrics['ConfusionMatrix']}")
    for column in metrics["ColumnImportances"][:5]:
        print(f"  importance of {column['ColumnName']}: {column['Importance']:.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
