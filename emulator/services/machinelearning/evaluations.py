"""Evaluations: Create/Get/Describe/Update/DeleteEvaluation."""

from __future__ import annotations

from typing import Any

from emulator.context import RequestContext

from .common import (JOBS, Kind, delete_object, dependencies_ready, describe_objects, get_object, iam_user, invalid,
                     lookup, parse_schema, replay, state_of, submit, update_object, wait, work)
from .state import DataSource, Evaluation, MachineLearningState, MLModel


def render_evaluation(ev: Evaluation) -> dict[str, Any]:
    """An Evaluation as Describe/GetEvaluation show it."""
    return {
        "EvaluationId": ev.id, "MLModelId": ev.ml_model_id, "EvaluationDataSourceId": ev.data_source_id,
        "InputDataLocationS3": ev.input_location, "CreatedByIamUser": ev.created_by,
        "CreatedAt": ev.created_at, "LastUpdatedAt": ev.last_updated_at, "Name": ev.name, "Status": ev.status,
        "PerformanceMetrics": {"Properties": dict(ev.metrics)} if ev.metrics is not None else None,
        "Message": ev.message, "ComputeTime": ev.compute_time, "FinishedAt": ev.finished_at,
        "StartedAt": ev.started_at,
    }


EVALUATION = Kind(Evaluation, "EvaluationId", "EvaluationName", render_evaluation)


def _evaluate(ctx: RequestContext, state: MachineLearningState, ev: Evaluation, model: MLModel, ds: DataSource) -> None:
    """Job: score the data source with the model once both are ready."""
    with state.lock:
        if not dependencies_ready(ev, model, ds):
            return
        trained, dataset = model.trained, ds.dataset
        training = state.data_sources.get(model.training_data_source_id)
        baseline = _target_mean(training.statistics if training else None, trained.schema.target)
    metrics, insights = work(ctx, ev, f"{JOBS}:evaluation_metrics", trained, dataset, baseline)
    with state.lock:
        if ev.deleted:
            return
        ev.metrics = metrics
        ev.insights = insights
        ev.finish("COMPLETED")


def _target_mean(statistics: dict[str, Any] | None, target: str) -> float | None:
    """The training target's mean from a data source's statistics (regression baseline)."""
    for attribute in (statistics or {}).get("attributes", []):
        if attribute.get("attributeName") == target and "mean" in attribute:
            return float(attribute["mean"])
    return None


class EvaluationOperations:
    """The evaluation operations of the ``machinelearning`` provider."""

    def create_evaluation(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Check the data has the model's target; evaluate in the background after both."""
        state = state_of(ctx)
        with state.lock:
            if (answer := replay(state, EVALUATION, request)) is not None:
                return answer
            model = lookup(state, "MLModel", request["MLModelId"])
            ds = lookup(state, "DataSource", request["EvaluationDataSourceId"])
            if ds.schema is not None and model.schema_text is not None:
                target = parse_schema(model.schema_text).target
                if target not in ds.schema.names:
                    raise invalid(f"Evaluation DataSource {ds.id} has no attribute '{target}', "
                                  f"the target of MLModel {model.id}")
            ev = Evaluation(id=request["EvaluationId"], name=request.get("EvaluationName"),
                            created_by=iam_user(ctx), request=request, ml_model_id=model.id, data_source_id=ds.id,
                            input_location=ds.location_s3)
            ev.tags = {**ds.tags, **model.tags}
            state.evaluations[ev.id] = ev
            submit(ctx, state, ev, lambda: _evaluate(ctx, state, ev, model, ds), after=[model.future, ds.future])
        wait(ctx, ev)
        return {"EvaluationId": ev.id}

    def get_evaluation(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """The evaluation (even DELETED)."""
        return get_object(ctx, EVALUATION, request)

    def describe_evaluations(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """One filtered, sorted page of evaluations."""
        return describe_objects(ctx, EVALUATION, request)

    def update_evaluation(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Rename an evaluation."""
        return update_object(ctx, EVALUATION, request)

    def delete_evaluation(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Mark an evaluation DELETED."""
        return delete_object(ctx, EVALUATION, request)
