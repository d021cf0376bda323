"""The console's home page: counts per service, version, data dir, accounts and regions seen."""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, g, render_template

from emulator import __version__

from .scope import api, scopes_seen

COUNT_CAP = 500
"""Counting pages through the list operations; beyond this many a count shows as "500+"."""


def count(call: Callable[..., dict[str, Any]], items_key: str, token: str = "NextToken",
          size_key: str = "MaxResults", size: int = 100, **params: Any) -> str:
    """How many items a list operation returns, paging until COUNT_CAP."""
    total, next_token = 0, None
    while True:
        answer = call(**params, **{size_key: size}, **({token: next_token} if next_token else {}))
        total += len(answer.get(items_key, []))
        next_token = answer.get(token)
        if not next_token:
            return str(total)
        if total >= COUNT_CAP:
            return f"{total}+"


def service_counts() -> list[tuple[str, list[tuple[str, str, str]]]]:
    """(service, [(resource, count, console endpoint)]) for the home page."""
    ml, sm, glue = api("machinelearning"), api("sagemaker"), api("glue")
    glue_rows = [("Databases", count(glue.get_databases, "DatabaseList"), "console.glue_databases"),
                 ("Crawlers", count(glue.get_crawlers, "Crawlers"), "console.glue_crawlers")]
    if g.emulator.providers["glue"].handler("GetMLTransforms") is not None:
        glue_rows.append(("ML transforms", count(glue.get_ml_transforms, "Transforms"), "console.glue_transforms"))
    sm_rows = [("Training jobs", count(sm.list_training_jobs, "TrainingJobSummaries"), "console.sm_training_jobs")]
    if g.emulator.providers["sagemaker"].handler("ListHyperParameterTuningJobs") is not None:
        sm_rows.append(("Tuning jobs", count(sm.list_hyper_parameter_tuning_jobs, "HyperParameterTuningJobSummaries"),
                        "console.sm_tuning_jobs"))
    return [
        ("Amazon Machine Learning", [
            ("Data sources", count(ml.describe_data_sources, "Results", size_key="Limit"), "console.ml_data_sources"),
            ("ML models", count(ml.describe_ml_models, "Results", size_key="Limit"), "console.ml_models"),
            ("Evaluations", count(ml.describe_evaluations, "Results", size_key="Limit"), "console.ml_evaluations"),
            ("Batch predictions", count(ml.describe_batch_predictions, "Results", size_key="Limit"),
             "console.ml_batch_predictions")]),
        ("Amazon SageMaker", sm_rows + [
            ("Models", count(sm.list_models, "Models"), "console.sm_models"),
            ("Endpoint configurations", count(sm.list_endpoint_configs, "EndpointConfigs"),
             "console.sm_endpoint_configs"),
            ("Endpoints", count(sm.list_endpoints, "Endpoints"), "console.sm_endpoints")]),
        ("AWS Glue", glue_rows),
        ("Amazon S3", [("Buckets", str(len(api("s3").list_buckets().get("Buckets", []))), "console.s3_buckets")]),
        ("CloudWatch Logs", [("Log groups", count(api("logs").describe_log_groups, "logGroups", token="nextToken",
                                                  size_key="limit", size=50), "console.log_groups")]),
    ]


def register(bp: Blueprint) -> None:
    """Mount the home page."""

    @bp.get("/<account>/<region>/")
    def home():  # noqa: ANN202
        accounts, regions = scopes_seen()
        return render_template("console/home.html", services=service_counts(), version=__version__,
                               data_dir=g.emulator.config.data_dir, accounts=accounts, regions=regions)
