"""SageMaker pages: training jobs (timeline, hyperparameters, channels, metrics, log tail),
models, endpoint configurations and endpoints (with an InvokeEndpoint form)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from flask import Blueprint, render_template, request

from .scope import api, page

TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
LOG_TAIL = 200
"""How many of the newest log lines a training job page shows."""


def training_log(job_name: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The newest LOG_TAIL events of a job's log streams (CloudWatch Logs) and the stream names."""
    logs = api("logs")
    try:
        streams = logs.describe_log_streams(logGroupName=TRAINING_LOG_GROUP, logStreamNamePrefix=f"{job_name}/",
                                            limit=50).get("logStreams", [])
    except ClientError:
        return [], []
    events: list[dict[str, Any]] = []
    for stream in streams:
        answer = logs.get_log_events(logGroupName=TRAINING_LOG_GROUP, logStreamName=stream["logStreamName"],
                                     limit=LOG_TAIL, startFromHead=False)
        events.extend(answer.get("events", []))
    events.sort(key=lambda e: e.get("timestamp", 0))
    return events[-LOG_TAIL:], [s["logStreamName"] for s in streams]


def register(bp: Blueprint) -> None:
    """Mount the SageMaker pages."""

    @bp.get("/<account>/<region>/sagemaker/training-jobs")
    def sm_training_jobs():  # noqa: ANN202
        items, next_token = page(api("sagemaker").list_training_jobs, "TrainingJobSummaries",
                                 SortBy="CreationTime", SortOrder="Descending")
        return render_template("console/sm_list.html", title="Training jobs", items=items, next_token=next_token,
                               name_key="TrainingJobName", status_key="TrainingJobStatus",
                               endpoint="console.sm_training_job")

    @bp.get("/<account>/<region>/sagemaker/training-jobs/<name>")
    def sm_training_job(name: str):  # noqa: ANN202
        job = api("sagemaker").describe_training_job(TrainingJobName=name)
        events, streams = training_log(name)
        running = job.get("TrainingJobStatus") in ("InProgress", "Stopping")
        return render_template("console/sm_training_job.html", job=job, events=events, streams=streams,
                               log_group=TRAINING_LOG_GROUP, refresh=3 if running else None)

    @bp.get("/<account>/<region>/sagemaker/models")
    def sm_models():  # noqa: ANN202
        items, next_token = page(api("sagemaker").list_models, "Models")
        return render_template("console/sm_list.html", title="Models", items=items, next_token=next_token,
                               name_key="ModelName", status_key=None, endpoint="console.sm_model")

    @bp.get("/<account>/<region>/sagemaker/models/<name>")
    def sm_model(name: str):  # noqa: ANN202
        return render_template("console/sm_detail.html", title=f"Model {name}",
                               resource=api("sagemaker").describe_model(ModelName=name))

    @bp.get("/<account>/<region>/sagemaker/endpoint-configs")
    def sm_endpoint_configs():  # noqa: ANN202
        items, next_token = page(api("sagemaker").list_endpoint_configs, "EndpointConfigs")
        return render_template("console/sm_list.html", title="Endpoint configurations", items=items,
                               next_token=next_token, name_key="EndpointConfigName", status_key=None,
                               endpoint="console.sm_endpoint_config")

    @bp.get("/<account>/<region>/sagemaker/endpoint-configs/<name>")
    def sm_endpoint_config(name: str):  # noqa: ANN202
        return render_template("console/sm_detail.html", title=f"Endpoint configuration {name}",
                               resource=api("sagemaker").describe_endpoint_config(EndpointConfigName=name))

    @bp.get("/<account>/<region>/sagemaker/endpoints")
    def sm_endpoints():  # noqa: ANN202
        items, next_token = page(api("sagemaker").list_endpoints, "Endpoints")
        return render_template("console/sm_list.html", title="Endpoints", items=items, next_token=next_token,
                               name_key="EndpointName", status_key="EndpointStatus", endpoint="console.sm_endpoint")

    @bp.route("/<account>/<region>/sagemaker/endpoints/<name>", methods=["GET", "POST"])
    def sm_endpoint(name: str):  # noqa: ANN202
        endpoint = api("sagemaker").describe_endpoint(EndpointName=name)
        invocation = None
        if request.method == "POST":
            content_type = request.form.get("ContentType") or "text/csv"
            answer = api("sagemaker-runtime").invoke_endpoint(
                EndpointName=name, ContentType=content_type, Accept=request.form.get("Accept") or content_type,
                Body=request.form.get("Body", "").encode("utf-8"))
            invocation = {"ContentType": answer.get("ContentType"),
                          "Body": answer["Body"].read().decode("utf-8", "replace")}
        return render_template("console/sm_endpoint.html", endpoint=endpoint, invocation=invocation,
                               form=request.form)
