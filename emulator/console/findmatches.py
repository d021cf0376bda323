"""Glue FindMatches pages: transforms, their task runs and metrics, and the teaching loop
(generate a labeling set, label it in the browser, import, estimate quality).

Labels typed in the browser are written to S3 as a label file next to the labeling set
and imported with StartImportLabelsTaskRun: the same path as a file a user uploads.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from .scope import api, page

MAX_LABELING_ROWS = 5000
"""A labeling page shows at most this many records (Glue's sets hold a few hundred)."""


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def default_output(transform: dict[str, Any]) -> str:
    """Where labeling sets go by default: next to the first input table's data."""
    tables = transform.get("InputRecordTables") or []
    location = ""
    if tables:
        try:
            found = api("glue").get_table(DatabaseName=tables[0]["DatabaseName"], Name=tables[0]["TableName"])
            location = (found["Table"].get("StorageDescriptor") or {}).get("Location") or ""
        except Exception:  # noqa: BLE001 - a missing table only loses the suggestion
            location = ""
    bucket = _split(location)[0] if location.startswith("s3://") else "my-bucket"
    return f"s3://{bucket}/findmatches/{transform['TransformId']}/labeling"


def labeling_file(transform_id: str, run_id: str) -> tuple[str, list[str], list[dict[str, str]]]:
    """The labeling-set file a LABELING_SET_GENERATION run wrote: (s3 uri, columns, rows)."""
    run = api("glue").get_ml_task_run(TransformId=transform_id, TaskRunId=run_id)
    props = (run.get("Properties") or {}).get("LabelingSetGenerationTaskRunProperties") or {}
    output = props.get("OutputS3Path") or ""
    if run.get("Status") != "SUCCEEDED" or not output.startswith("s3://"):
        raise ValueError(f"Task run {run_id} is {run.get('Status')}: its labeling set is not ready")
    bucket, prefix = _split(output.rstrip("/") + f"/labeling-set-{run_id}.csv")
    body = api("s3").get_object(Bucket=bucket, Key=prefix)["Body"].read().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(body))
    rows = [row for _, row in zip(range(MAX_LABELING_ROWS), reader)]
    return f"s3://{bucket}/{prefix}", list(reader.fieldnames or []), rows


def register(bp: Blueprint) -> None:
    """Mount the FindMatches pages."""

    @bp.get("/<account>/<region>/glue/ml-transforms")
    def glue_transforms():  # noqa: ANN202
        items, next_token = page(api("glue").get_ml_transforms, "Transforms")
        return render_template("console/fm_transforms.html", items=items, next_token=next_token)

    @bp.get("/<account>/<region>/glue/ml-transforms/<transform_id>")
    def glue_transform(transform_id: str):  # noqa: ANN202
        glue = api("glue")
        transform = glue.get_ml_transform(TransformId=transform_id)
        runs, next_token = page(glue.get_ml_task_runs, "TaskRuns", size=20, TransformId=transform_id)
        busy = any(r.get("Status") in ("STARTING", "RUNNING", "STOPPING") for r in runs)
        return render_template("console/fm_transform.html", transform=transform, runs=runs, next_token=next_token,
                               output=default_output(transform), refresh=3 if busy else None)

    @bp.post("/<account>/<region>/glue/ml-transforms/<transform_id>/labeling-sets")
    def glue_generate_labeling_set(transform_id: str):  # noqa: ANN202
        run = api("glue").start_ml_labeling_set_generation_task_run(
            TransformId=transform_id, OutputS3Path=request.form.get("OutputS3Path", ""))
        return redirect(url_for("console.glue_transform", transform_id=transform_id,
                                notice=f"Labeling set generation started: task run {run['TaskRunId']}"))

    @bp.post("/<account>/<region>/glue/ml-transforms/<transform_id>/evaluations")
    def glue_estimate_quality(transform_id: str):  # noqa: ANN202
        run = api("glue").start_ml_evaluation_task_run(TransformId=transform_id)
        return redirect(url_for("console.glue_transform", transform_id=transform_id,
                                notice=f"Quality estimation started: task run {run['TaskRunId']}"))

    @bp.get("/<account>/<region>/glue/ml-transforms/<transform_id>/label/<run_id>")
    def glue_label(transform_id: str, run_id: str):  # noqa: ANN202
        transform = api("glue").get_ml_transform(TransformId=transform_id)
        uri, columns, rows = labeling_file(transform_id, run_id)
        groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
        for index, row in enumerate(rows):
            groups.setdefault(row.get("labeling_set_id", ""), []).append((index, row))
        shown = [c for c in columns if c not in ("labeling_set_id", "label")]
        return render_template("console/fm_label.html", transform=transform, run_id=run_id, uri=uri, groups=groups,
                               columns=shown)

    @bp.post("/<account>/<region>/glue/ml-transforms/<transform_id>/label/<run_id>")
    def glue_import_labels(transform_id: str, run_id: str):  # noqa: ANN202
        uri, columns, rows = labeling_file(transform_id, run_id)
        for index, row in enumerate(rows):
            row["label"] = request.form.get(f"label-{index}", "").strip()
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(r for r in rows if r["label"])
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")
        bucket, key = _split(uri)
        label_key = f"{key.rsplit('/', 1)[0]}/console-labels-{run_id}-{stamp}.csv"
        api("s3").put_object(Bucket=bucket, Key=label_key, Body=out.getvalue().encode("utf-8"), ContentType="text/csv")
        run = api("glue").start_import_labels_task_run(TransformId=transform_id, InputS3Path=f"s3://{bucket}/{label_key}",
                                                       ReplaceAllLabels=request.form.get("replace") == "on")
        return redirect(url_for("console.glue_transform", transform_id=transform_id,
                                notice=f"Labels written to s3://{bucket}/{label_key}; import task run {run['TaskRunId']}"))
