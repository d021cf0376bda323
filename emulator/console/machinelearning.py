"""Amazon ML pages: data sources (with data insights), models (with a Predict form),
evaluations (AUC + threshold, confusion matrix, residuals) and batch predictions."""

from __future__ import annotations

import functools
import json
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from .scope import api, page, provider_context


def _provider() -> Any:
    from flask import g

    return g.emulator.providers["machinelearning"]


LISTS = (("datasources", "DataSource", "Data sources", "describe_data_sources"),
         ("models", "MLModel", "ML models", "describe_ml_models"),
         ("evaluations", "Evaluation", "Evaluations", "describe_evaluations"),
         ("batchpredictions", "BatchPrediction", "Batch predictions", "describe_batch_predictions"))
"""(URL segment, object type, title, list operation) of each list page."""
LIST_ENDPOINTS = {"DataSource": "ml_data_source", "MLModel": "ml_model", "Evaluation": "ml_evaluation",
                  "BatchPrediction": "ml_batch_prediction"}


def _list(kind: str, title: str, endpoint: str, operation: str):  # noqa: ANN202
    """One page of a Describe* operation."""
    items, next_token = page(getattr(api("machinelearning"), operation), "Results", size_key="Limit")
    return render_template("console/ml_list.html", kind=kind, items=items, next_token=next_token, title=title,
                           endpoint=endpoint)


def parse_record(text: str) -> dict[str, str]:
    """A Predict record from the form: a JSON object, or ``name=value`` lines."""
    text = text.strip()
    if text.startswith("{"):
        loaded = json.loads(text)
        if not isinstance(loaded, dict):
            raise ValueError("the record must be a JSON object")
        return {str(k): str(v) for k, v in loaded.items()}
    record: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            name, sep, value = line.partition("=")
            if not sep:
                raise ValueError(f"'{line}' is not name=value")
            record[name.strip()] = value.strip()
    return record


def register(bp: Blueprint) -> None:
    """Mount the Amazon ML pages."""

    for path, kind, title, operation in LISTS:
        endpoint = LIST_ENDPOINTS[kind]
        bp.add_url_rule(f"/<account>/<region>/machinelearning/{path}", endpoint=f"{endpoint}s",
                        view_func=functools.partial(_list, kind, title, f"console.{endpoint}", operation))

    @bp.get("/<account>/<region>/machinelearning/datasources/<ds_id>")
    def ml_data_source(ds_id: str):  # noqa: ANN202
        ds = api("machinelearning").get_data_source(DataSourceId=ds_id, Verbose=True)
        statistics = _provider().data_source_statistics(provider_context("machinelearning"), ds_id)
        return render_template("console/ml_data_source.html", ds=ds, statistics=statistics)

    @bp.get("/<account>/<region>/machinelearning/models/<model_id>")
    def ml_model(model_id: str):  # noqa: ANN202
        model = api("machinelearning").get_ml_model(MLModelId=model_id, Verbose=True)
        return render_template("console/ml_model.html", model=model, prediction=None, record_text="")

    @bp.post("/<account>/<region>/machinelearning/models/<model_id>/predict")
    def ml_predict(model_id: str):  # noqa: ANN202
        ml = api("machinelearning")
        model = ml.get_ml_model(MLModelId=model_id, Verbose=True)
        text = request.form.get("record", "")
        try:
            record = parse_record(text)
        except ValueError as exc:
            return render_template("console/error.html", code="InvalidRecord", message=str(exc), operation=None), 400
        endpoint = (model.get("EndpointInfo") or {}).get("EndpointUrl") or request.host_url.rstrip("/")
        prediction = ml.predict(MLModelId=model_id, Record=record, PredictEndpoint=endpoint)["Prediction"]
        return render_template("console/ml_model.html", model=model, prediction=prediction, record_text=text)

    @bp.post("/<account>/<region>/machinelearning/models/<model_id>/threshold")
    def ml_set_threshold(model_id: str):  # noqa: ANN202
        try:
            threshold = float(request.form["ScoreThreshold"])
        except (KeyError, ValueError):
            return render_template("console/error.html", code="InvalidInputException",
                                   message="ScoreThreshold must be a number", operation="UpdateMLModel"), 400
        api("machinelearning").update_ml_model(MLModelId=model_id, ScoreThreshold=threshold)
        back = request.form.get("back") or url_for("console.ml_model", model_id=model_id)
        if not back.startswith("/_emulator/console/"):
            back = url_for("console.ml_model", model_id=model_id)
        sep = "&" if "?" in back else "?"
        return redirect(f"{back}{sep}notice=ScoreThreshold+of+{model_id}+set+to+{threshold}")

    @bp.get("/<account>/<region>/machinelearning/evaluations/<evaluation_id>")
    def ml_evaluation(evaluation_id: str):  # noqa: ANN202
        ml = api("machinelearning")
        evaluation = ml.get_evaluation(EvaluationId=evaluation_id)
        model = ml.get_ml_model(MLModelId=evaluation["MLModelId"])
        data_source = ml.get_data_source(DataSourceId=evaluation["EvaluationDataSourceId"])
        insights = _provider().evaluation_insights(provider_context("machinelearning"), evaluation_id)
        return render_template("console/ml_evaluation.html", ev=evaluation, model=model, ds=data_source,
                               insights=insights, heat=_heat(insights))

    @bp.get("/<account>/<region>/machinelearning/batchpredictions/<bp_id>")
    def ml_batch_prediction(bp_id: str):  # noqa: ANN202
        batch = api("machinelearning").get_batch_prediction(BatchPredictionId=bp_id)
        return render_template("console/ml_batch_prediction.html", batch=batch)


def _heat(insights: dict[str, Any] | None) -> list[list[float]] | None:
    """Per confusion-matrix cell, the share of its true-class row (the heat map's colour)."""
    if not insights or insights.get("type") != "MULTICLASS":
        return None
    return [[cell / max(sum(row), 1) for cell in row] for row in insights["confusionMatrix"]]
