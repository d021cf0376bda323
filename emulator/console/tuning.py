"""SageMaker hyperparameter tuning pages: jobs, children sortable by the objective (the
API's SortBy), and the objective against each tuned hyperparameter as scatter plots."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from .scope import api, page

SCATTER_CAP = 500
"""The scatter plots show at most this many children (the children table pages)."""
SORTS = ("FinalObjectiveMetricValue", "Name", "CreationTime", "Status")


def all_children(name: str) -> list[dict[str, Any]]:
    """Up to SCATTER_CAP children of a tuning job, paging through the API."""
    sm, found, token = api("sagemaker"), [], None
    while len(found) < SCATTER_CAP:
        answer = sm.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name, MaxResults=100, **({"NextToken": token} if token else {}))
        found.extend(answer.get("TrainingJobSummaries", []))
        token = answer.get("NextToken")
        if not token:
            break
    return found


def scatter_series(children: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per tuned hyperparameter: points (value, objective); numeric when every value parses."""
    names = sorted({k for c in children for k in (c.get("TunedHyperParameters") or {})})
    series = []
    for hp in names:
        points = [((c.get("TunedHyperParameters") or {}).get(hp), c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
                  for c in children if c.get("FinalHyperParameterTuningJobObjectiveMetric")
                  and hp in (c.get("TunedHyperParameters") or {})]
        try:
            numeric = [{"x": float(v), "y": y} for v, y in points]
            series.append({"name": hp, "numeric": True, "points": numeric})
        except (TypeError, ValueError):
            categories = sorted({str(v) for v, _ in points})
            series.append({"name": hp, "numeric": False, "categories": categories,
                           "points": [{"x": str(v), "y": y} for v, y in points]})
    return series


def register(bp: Blueprint) -> None:
    """Mount the tuning pages."""

    @bp.get("/<account>/<region>/sagemaker/tuning-jobs")
    def sm_tuning_jobs():  # noqa: ANN202
        items, next_token = page(api("sagemaker").list_hyper_parameter_tuning_jobs, "HyperParameterTuningJobSummaries",
                                 SortBy="CreationTime", SortOrder="Descending")
        return render_template("console/sm_tuning_jobs.html", items=items, next_token=next_token)

    @bp.get("/<account>/<region>/sagemaker/tuning-jobs/<name>")
    def sm_tuning_job(name: str):  # noqa: ANN202
        sm = api("sagemaker")
        job = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        sort = request.args.get("sort") if request.args.get("sort") in SORTS else "FinalObjectiveMetricValue"
        order = "Ascending" if request.args.get("order") == "Ascending" else "Descending"
        children, next_token = page(sm.list_training_jobs_for_hyper_parameter_tuning_job, "TrainingJobSummaries",
                                    HyperParameterTuningJobName=name, SortBy=sort, SortOrder=order)
        running = job.get("HyperParameterTuningJobStatus") in ("InProgress", "Stopping")
        return render_template("console/sm_tuning_job.html", job=job, children=children, next_token=next_token,
                               sort=sort, order=order, series=scatter_series(all_children(name)),
                               refresh=3 if running else None)
