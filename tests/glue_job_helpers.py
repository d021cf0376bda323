"""Helpers for Glue job tests: upload a script, create a job, poll a run to an end state."""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable

TERMINAL = {"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR"}


def make_job(aws: Callable[..., Any], bucket: str, script: str, *, kind: str = "pythonshell",
             name: str | None = None, **extra: Any) -> str:
    """Upload ``script`` and create a job running it; returns the job name."""
    name = name or f"job-{uuid.uuid4().hex[:10]}"
    key = f"scripts/{name}.py"
    aws("s3").put_object(Bucket=bucket, Key=key, Body=script.encode())
    aws("glue").create_job(Name=name, Role="arn:aws:iam::123456789012:role/Glue",
                           Command={"Name": kind, "ScriptLocation": f"s3://{bucket}/{key}", "PythonVersion": "3"},
                           **extra)
    return name


def wait_run(aws: Callable[..., Any], job: str, run_id: str, until: set[str] = TERMINAL,
             deadline_seconds: float = 240.0) -> dict[str, Any]:
    """Poll GetJobRun until its state is in ``until``."""
    glue = aws("glue")
    deadline = time.monotonic() + deadline_seconds
    while True:
        run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        if run["JobRunState"] in until:
            return run
        assert time.monotonic() < deadline, f"run still {run['JobRunState']}"
        time.sleep(0.1)


def log_lines(aws: Callable[..., Any], group: str, stream: str) -> list[str]:
    """All messages of one log stream (empty if it does not exist yet)."""
    logs = aws("logs")
    try:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [e["message"] for e in events]


def wait_for_log(aws: Callable[..., Any], group: str, stream: str, text: str, deadline_seconds: float = 60.0) -> list[str]:
    """Poll a log stream until a line contains ``text``."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        lines = log_lines(aws, group, stream)
        if any(text in line for line in lines):
            return lines
        assert time.monotonic() < deadline, f"{text!r} not in {group}/{stream}: {lines[-5:]}"
        time.sleep(0.1)
