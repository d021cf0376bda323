"""``FindMatches`` / ``FindIncrementalMatches``: a READY ML transform applied to a DynamicFrame.

The transform's definition comes from GetMLTransform, its labels from an
ExportLabels task run (written under ``--TempDir``, or next to the input table, then
deleted), its training records from its input table in the Data Catalog; the matching
itself is the emulator's engine (``awsglueml.engine_adapter``). The result is the frame
with ``match_id`` (int64, shared by the records of one group) and, when asked with
``computeMatchConfidenceScores=True``, ``match_confidence_score``.
"""

from __future__ import annotations

import io
import sys
import time
import uuid
from typing import Any

from awsglue import _aws
from awsglue.dynamicframe import DynamicFrame
from awsglue.transforms import GlueTransform
from awsglueml import engine_adapter

NOT_READY = "This operation can only be applied to a transform that is in a READY state."


class MLTransformNotReadyException(Exception):
    """The transform has no trained model yet (Glue's message)."""


def _temp_dir(transform: dict[str, Any]) -> str:
    argv = sys.argv
    for index, arg in enumerate(argv[:-1]):
        if arg == "--TempDir":
            return argv[index + 1].rstrip("/")
    table = transform["InputRecordTables"][0]
    location = _aws.client("glue").get_table(DatabaseName=table["DatabaseName"], Name=table["TableName"])["Table"]
    bucket, _ = _aws.split(location["StorageDescriptor"]["Location"])
    return f"s3://{bucket}/.awsglueml-temp"


def _exported_labels(transform: dict[str, Any], deadline_seconds: float = 300) -> Any:
    """The transform's labels as a pandas DataFrame, through an ExportLabels task run."""
    import pandas as pd

    glue, s3 = _aws.client("glue"), _aws.client("s3")
    output = f"{_temp_dir(transform)}/{uuid.uuid4().hex}/"
    run_id = glue.start_export_labels_task_run(TransformId=transform["TransformId"], OutputS3Path=output)["TaskRunId"]
    deadline = time.monotonic() + deadline_seconds
    while True:
        run = glue.get_ml_task_run(TransformId=transform["TransformId"], TaskRunId=run_id)
        if run["Status"] in ("SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT"):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"Exporting the labels of {transform['TransformId']} did not finish")
        time.sleep(0.2)
    if run["Status"] != "SUCCEEDED":
        raise RuntimeError(f"Cannot read the labels of {transform['TransformId']}: {run.get('ErrorString', run['Status'])}")
    frames = []
    bucket, _ = _aws.split(output)
    for obj in _aws.list_objects(output):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        frames.append(pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False))
        s3.delete_object(Bucket=bucket, Key=obj["Key"])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["labeling_set_id", "label"])


def _match(frame: DynamicFrame, transform_id: str, compute_scores: bool) -> DynamicFrame:
    from pyspark.sql import functions as F

    glue = _aws.client("glue")
    transform = glue.get_ml_transform(TransformId=transform_id)
    if transform["Status"] != "READY":
        raise MLTransformNotReadyException(NOT_READY)
    parameters = transform["Parameters"]["FindMatchesParameters"]
    key = parameters["PrimaryKeyColumnName"]
    table = transform["InputRecordTables"][0]
    glue_ctx = frame.glue_ctx
    training = glue_ctx.read_catalog(table["DatabaseName"], table["TableName"]).toPandas()
    schema = {c["Name"]: c["DataType"] for c in transform.get("Schema") or []}
    records = frame.toDF()
    matched = engine_adapter.fit_and_match(training, _exported_labels(transform), records.toPandas(), parameters, schema)
    ids = matched[[key, "match_id", "match_confidence_score"]].copy()
    ids[key] = ids[key].astype(str)
    ids["match_id"] = ids["match_id"].astype("int64")
    ids["match_confidence_score"] = ids["match_confidence_score"].astype(float)
    spark_ids = glue_ctx.spark_session.createDataFrame(ids.rename(columns={key: "__match_key"}))
    joined = records.join(spark_ids, F.col(f"`{key}`").cast("string") == F.col("__match_key"), "left").drop("__match_key")
    if not compute_scores:
        joined = joined.drop("match_confidence_score")
    return DynamicFrame(joined, glue_ctx, frame.name)


class FindMatches(GlueTransform):
    """Group matching records of ``frame`` with a READY FindMatches transform."""

    def __call__(self, frame: DynamicFrame, transformId: str, transformation_ctx: str = "", info: str = "",  # noqa: N803
                 stageThreshold: int = 0, totalThreshold: int = 0, enforcedMatches: DynamicFrame | None = None,  # noqa: N803
                 computeMatchConfidenceScores: bool = False) -> DynamicFrame:  # noqa: N803
        return _match(frame, transformId, computeMatchConfidenceScores)


class FindIncrementalMatches(GlueTransform):
    """Match new records against an already matched set: both frames, matched together."""

    def __call__(self, existingFrame: DynamicFrame, incrementalFrame: DynamicFrame, transformId: str,  # noqa: N803
                 transformation_ctx: str = "", info: str = "", stageThreshold: int = 0, totalThreshold: int = 0,  # noqa: N803
                 enforcedMatches: DynamicFrame | None = None, computeMatchConfidenceScores: bool = False) -> DynamicFrame:  # noqa: N803
        existing = existingFrame.toDF().drop("match_id", "match_confidence_score")
        both = existing.unionByName(incrementalFrame.toDF(), allowMissingColumns=True)
        return _match(DynamicFrame(both, existingFrame.glue_ctx, existingFrame.name), transformId,
                      computeMatchConfidenceScores)


__all__ = ["FindMatches", "FindIncrementalMatches", "MLTransformNotReadyException"]
