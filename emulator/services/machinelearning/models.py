"""ML models and their real-time endpoints: Create/Get/Describe/Update/DeleteMLModel,
Create/DeleteRealtimeEndpoint and Predict."""

from __future__ import annotations

from typing import Any

from emulator.context import RequestContext
from emulator.engines import lazy
from emulator.protocol.errors import ServiceError

from .common import (JOBS, DEFAULT_SCORE_THRESHOLD, Kind, delete_object, describe_objects, engine_input, get_object,
                     iam_user, invalid, lookup, read_s3_text, replay, state_of, status_text, submit, update_object,
                     wait, work)
from .state import DataSource, MachineLearningState, MLModel, now

_ENGINE = "emulator.engines.amazonml"
check_target_for_model_type = lazy(f"{_ENGINE}.schema", "check_target_for_model_type")
parse_recipe = lazy(f"{_ENGINE}.recipes", "parse_recipe")
validate_parameters = lazy(f"{_ENGINE}.sgd", "validate_parameters")

NO_ENDPOINT = {"EndpointStatus": "NONE", "PeakRequestsPerSecond": 0}


def render_model(model: MLModel, describe_shape: bool = True) -> dict[str, Any]:
    """An MLModel as DescribeMLModels shows it (GetMLModel: ``describe_shape=False``, no Algorithm)."""
    out = {
        "MLModelId": model.id, "TrainingDataSourceId": model.training_data_source_id,
        "CreatedByIamUser": model.created_by, "CreatedAt": model.created_at,
        "LastUpdatedAt": model.last_updated_at, "Name": model.name, "Status": model.status,
        "SizeInBytes": model.size_in_bytes, "EndpointInfo": dict(model.endpoint or NO_ENDPOINT),
        "TrainingParameters": dict(model.parameters), "InputDataLocationS3": model.input_location,
        "MLModelType": model.model_type, "ScoreThreshold": model.score_threshold,
        "ScoreThresholdLastUpdatedAt": model.score_threshold_updated_at, "Message": model.message,
        "ComputeTime": model.compute_time, "FinishedAt": model.finished_at, "StartedAt": model.started_at,
    }
    if describe_shape:
        out["Algorithm"] = "sgd"
    return out


ML_MODEL = Kind(MLModel, "MLModelId", "MLModelName", render_model)


def _endpoint_after_training(model: MLModel) -> None:
    """Under the lock: an UPDATING endpoint follows its model to READY or FAILED."""
    if model.endpoint and model.endpoint["EndpointStatus"] == "UPDATING":
        model.endpoint["EndpointStatus"] = "READY" if model.status == "COMPLETED" else "FAILED"


def _train(ctx: RequestContext, state: MachineLearningState, model: MLModel, ds: DataSource) -> None:
    """Job: train once the data source is loaded."""
    with state.lock:
        if model.deleted:
            return
        model.start()
        dataset = ds.dataset
        if ds.status != "COMPLETED" or dataset is None:
            model.finish("FAILED", f"Training {status_text(ds)}")
            _endpoint_after_training(model)
            return
    trained = work(ctx, model, f"{JOBS}:train", dataset, model.model_type, model.request.get("Parameters"),
                   model.recipe_text)
    with state.lock:
        if model.deleted:
            return
        model.trained = trained
        model.recipe_text = trained.recipe
        model.size_in_bytes = trained.size_in_bytes
        model.finish("COMPLETED")
        _endpoint_after_training(model)


def _verbose(model: MLModel) -> dict[str, Any]:
    return {"Recipe": model.recipe_text, "Schema": model.schema_text}


def _release(model: MLModel) -> None:
    model.endpoint = None


class ModelOperations:
    """The ML model, real-time endpoint and Predict operations of the ``machinelearning`` provider."""

    def create_ml_model(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Validate the training input now; train in the background after the data source."""
        state = state_of(ctx)
        with state.lock:
            if (answer := replay(state, ML_MODEL, request)) is not None:
                return answer
            ds = lookup(state, "DataSource", request["TrainingDataSourceId"])
        model_type = request["MLModelType"]
        if not ds.compute_statistics:
            raise invalid(f"DataSource {ds.id} was created without ComputeStatistics; "
                          "a training data source must have ComputeStatistics set to true")
        echo = engine_input(lambda: validate_parameters(request.get("Parameters")))
        recipe_text = request.get("Recipe")
        if not recipe_text and request.get("RecipeUri"):
            recipe_text = read_s3_text(ctx, request["RecipeUri"], "RecipeUri")
        if ds.schema is not None:
            engine_input(lambda: check_target_for_model_type(ds.schema, model_type))
            if recipe_text:
                engine_input(lambda: parse_recipe(recipe_text, ds.schema))
        model = MLModel(id=request["MLModelId"], name=request.get("MLModelName"), created_by=iam_user(ctx),
                        request=request, model_type=model_type, training_data_source_id=ds.id,
                        parameters=echo, recipe_text=recipe_text or None, input_location=ds.location_s3,
                        score_threshold=DEFAULT_SCORE_THRESHOLD if model_type == "BINARY" else None,
                        schema_text=ds.schema_text)
        with state.lock:
            if (answer := replay(state, ML_MODEL, request)) is not None:
                return answer
            state.models[model.id] = model
            model.tags = dict(ds.tags)
            submit(ctx, state, model, lambda: _train(ctx, state, model, ds), after=[ds.future],
                   cleanup=lambda: _endpoint_after_training(model))
        wait(ctx, model)
        return {"MLModelId": model.id}

    def get_ml_model(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """The model; with Verbose also its recipe and schema."""
        return get_object(ctx, ML_MODEL, request, render=lambda m: render_model(m, describe_shape=False),
                          verbose=_verbose)

    def describe_ml_models(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """One filtered, sorted page of models."""
        return describe_objects(ctx, ML_MODEL, request)

    def update_ml_model(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Rename a model and/or set its ScoreThreshold (0..1)."""
        threshold = request.get("ScoreThreshold")
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise invalid(f"ScoreThreshold must be between 0 and 1, got {threshold}")

        def change(model: MLModel) -> None:
            if request.get("MLModelName") is not None:
                model.name = request["MLModelName"]
            if threshold is not None:
                model.score_threshold = float(threshold)
                model.score_threshold_updated_at = now()

        return update_object(ctx, ML_MODEL, request, change)

    def delete_ml_model(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Mark a model DELETED and unmount its endpoint."""
        return delete_object(ctx, ML_MODEL, request, release=_release)

    def create_realtime_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Mount an endpoint at the caller's URL: READY, or UPDATING while the model trains."""
        state = state_of(ctx)
        with state.lock:
            model = lookup(state, "MLModel", request["MLModelId"])
            if model.status == "FAILED":
                raise invalid(f"MLModel {model.id} is FAILED; a real-time endpoint needs a trained model")
            if not model.endpoint or model.endpoint["EndpointStatus"] == "FAILED":
                model.endpoint = {"EndpointUrl": ctx.base_url, "PeakRequestsPerSecond": 200, "CreatedAt": now(),
                                  "EndpointStatus": "READY" if model.status == "COMPLETED" else "UPDATING"}
                model.touch()
            return {"MLModelId": model.id, "RealtimeEndpointInfo": dict(model.endpoint)}

    def delete_realtime_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Unmount the model's endpoint (answers NONE also when none was mounted)."""
        state = state_of(ctx)
        with state.lock:
            model = lookup(state, "MLModel", request["MLModelId"])
            if model.endpoint:
                model.endpoint = None
                model.touch()
        return {"MLModelId": model.id, "RealtimeEndpointInfo": dict(NO_ENDPOINT)}

    def predict(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Score one Record with a model whose endpoint is READY."""
        state = state_of(ctx)
        model_id = request["MLModelId"]
        with state.lock:
            model = lookup(state, "MLModel", model_id)
            endpoint = model.endpoint
            trained = model.trained
            threshold = model.score_threshold if model.score_threshold is not None else DEFAULT_SCORE_THRESHOLD
        if not endpoint or endpoint["EndpointStatus"] != "READY" or trained is None:
            raise ServiceError("PredictorNotMountedException",
                               f"No real-time endpoint is mounted for MLModel {model_id}"
                               + (f" (endpoint is {endpoint['EndpointStatus']})" if endpoint else
                                  "; call CreateRealtimeEndpoint first"), status=400)
        record = request["Record"]
        names = trained.schema.names
        if not any(key in record for key in names):
            raise invalid(f"Record contains none of the attributes of MLModel {model_id} "
                          f"(expected some of: {', '.join(names[:20])})")
        try:
            prediction = trained.predict_record(record, threshold)
        except (ValueError, TypeError, KeyError) as exc:
            raise invalid(f"Record cannot be scored: {exc}") from None
        return {"Prediction": prediction}
