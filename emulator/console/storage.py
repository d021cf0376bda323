"""S3 browser (buckets, prefixes, object preview, download) and CloudWatch Logs pages."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Blueprint, Response, render_template, request

from .scope import api, page

PREVIEW_BYTES = 64 * 1024
PREVIEW_ROWS = 100
TEXT_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".txt", ".log", ".schema", ".recipe", ".manifest", ".md", ".yaml",
                 ".yml", ".out")


def preview(key: str, content_type: str | None, head: bytes) -> dict[str, Any] | None:
    """How to show the first bytes of an object: a CSV table, pretty JSON, plain text, or None (binary)."""
    text_like = key.lower().endswith(TEXT_SUFFIXES) or (content_type or "").startswith(("text/", "application/json"))
    if not text_like:
        return None
    text = head.decode("utf-8", "replace")
    lower = key.lower()
    if lower.endswith((".csv", ".tsv")) or (content_type or "").startswith("text/csv"):
        rows = list(csv.reader(io.StringIO(text), delimiter="\t" if lower.endswith(".tsv") else ","))
        if len(head) == PREVIEW_BYTES and rows:
            rows = rows[:-1]  # the last row may be cut off
        return {"kind": "csv", "rows": rows[:PREVIEW_ROWS]}
    if lower.endswith(".json") and len(head) < PREVIEW_BYTES:
        try:
            return {"kind": "text", "text": json.dumps(json.loads(text), indent=2)}
        except ValueError:
            pass
    return {"kind": "text", "text": text}


def register(bp: Blueprint) -> None:
    """Mount the S3 and Logs pages."""

    @bp.get("/<account>/<region>/s3")
    def s3_buckets():  # noqa: ANN202
        return render_template("console/s3_buckets.html", buckets=api("s3").list_buckets().get("Buckets", []))

    @bp.get("/<account>/<region>/s3/<bucket>")
    def s3_bucket(bucket: str):  # noqa: ANN202
        prefix = request.args.get("prefix", "")
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/", "MaxKeys": 100}
        if request.args.get("next"):
            params["ContinuationToken"] = request.args["next"]
        answer = api("s3").list_objects_v2(**params)
        folders = [p["Prefix"] for p in answer.get("CommonPrefixes", [])]
        parts = prefix.rstrip("/").split("/") if prefix else []
        crumbs = [(part, "/".join(parts[:i + 1]) + "/") for i, part in enumerate(parts)]
        return render_template("console/s3_bucket.html", bucket=bucket, prefix=prefix, folders=folders,
                               objects=answer.get("Contents", []), next_token=answer.get("NextContinuationToken"),
                               crumbs=crumbs)

    @bp.get("/<account>/<region>/s3/<bucket>/object")
    def s3_object(bucket: str):  # noqa: ANN202
        key = request.args.get("key", "")
        s3 = api("s3")
        head = s3.head_object(Bucket=bucket, Key=key)
        shown = None
        if head.get("ContentLength", 0) > 0:
            body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{PREVIEW_BYTES - 1}")["Body"].read()
            shown = preview(key, head.get("ContentType"), body)
        return render_template("console/s3_object.html", bucket=bucket, key=key, head=head, preview=shown,
                               folder=key.rsplit("/", 1)[0] + "/" if "/" in key else "")

    @bp.get("/<account>/<region>/s3/<bucket>/download")
    def s3_download(bucket: str):  # noqa: ANN202
        key = request.args.get("key", "")
        answer = api("s3").get_object(Bucket=bucket, Key=key)
        name = key.rsplit("/", 1)[-1].replace('"', "") or "object"
        return Response(answer["Body"].iter_chunks(65536), mimetype=answer.get("ContentType") or "application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Content-Length": str(answer.get("ContentLength", ""))})

    @bp.get("/<account>/<region>/logs")
    def log_groups():  # noqa: ANN202
        items, next_token = page(api("logs").describe_log_groups, "logGroups", token_in="nextToken",
                                 token_out="nextToken", size_key="limit")
        return render_template("console/log_groups.html", groups=items, next_token=next_token)

    @bp.get("/<account>/<region>/logs/group")
    def log_group():  # noqa: ANN202
        group = request.args.get("group", "")
        items, next_token = page(api("logs").describe_log_streams, "logStreams", token_in="nextToken",
                                 token_out="nextToken", size_key="limit", logGroupName=group,
                                 orderBy="LastEventTime", descending=True)
        return render_template("console/log_group.html", group=group, streams=items, next_token=next_token)

    @bp.get("/<account>/<region>/logs/stream")
    def log_stream():  # noqa: ANN202
        group, stream = request.args.get("group", ""), request.args.get("stream", "")
        events, next_token = page(api("logs").get_log_events, "events", token_in="nextToken",
                                  token_out="nextForwardToken", size_key="limit", size=500, logGroupName=group,
                                  logStreamName=stream, startFromHead=True)
        if not events or next_token == request.args.get("next"):
            next_token = None
        return render_template("console/log_stream.html", group=group, stream=stream, events=events,
                               next_token=next_token)
