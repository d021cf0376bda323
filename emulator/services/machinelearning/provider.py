"""The ``machinelearning`` provider: the 28 operations of Amazon ML (2014-12-12)."""

from __future__ import annotations

import gzip
import logging
import posixpath
from typing import Any, Callable
from urllib.parse import urlparse

from emulator.aws.s3 import S3AccessError, S3Store
from emulator.engines import lazy
from emulator.engines.amazonml.errors import DataProcessingError, EngineInputError
from emulator.protocol.errors import ServiceError
from emulator.services.base import Provider

from .describe import describe
from .state import BatchPrediction, DataSource, Evaluation, MachineLearningState, MLModel, Resource, now

log = logging.getLogger(__name__)

_ENGINE = "emulator.engines.amazonml"
batch_prediction_csv = lazy(f"{_ENGINE}.batch", "batch_prediction_csv")
manifest_json = lazy(f"{_ENGINE}.batch", "manifest_json")
load_dataset = lazy(f"{_ENGINE}.datasets", "load_dataset")
evaluate = lazy(f"{_ENGINE}.metrics", "evaluate")
parse_rearrangement = lazy(f"{_ENGINE}.rearrangement", "parse_rearrangement")
parse_recipe = lazy(f"{_ENGINE}.recipes", "parse_recipe")
check_target_for_model_type = lazy(f"{_ENGINE}.schema", "check_target_for_model_type")
parse_schema = lazy(f"{_ENGINE}.schema", "parse_schema")
train_model = lazy(f"{_ENGINE}.sgd", "train_model")
validate_parameters = lazy(f"{_ENGINE}.sgd", "validate_parameters")
compute_statistics = lazy(f"{_ENGINE}.statistics", "compute_statistics")

MAX_TAGS = 50
NO_ENDPOINT = {"EndpointStatus": "NONE", "PeakRequestsPerSecond": 0}
DEFAULT_SCORE_THRESHOLD = 0.5


def join_uri(base: str, *parts: str) -> str:
    return base.rstrip("/") + "/" + "/".join(parts)


def result_uri(output_uri: str, bp_id: str, input_key: str) -> str:
    """``<OutputUri>/batch-prediction/result/<bpId>-<input basename>.gz``."""
    return join_uri(output_uri, "batch-prediction", "result", f"{bp_id}-{posixpath.basename(input_key)}.gz")


def _normal(value: Any) -> Any:
    """A create request for idempotency checks: members at their default (absent, None,
    false, empty) compare equal."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v not in (None, False, "", {}, [])}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidInputException", message, status=400)


def not_found(kind: str, resource_id: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"No {kind} with id {resource_id} exists", status=400)


def _check_s3_uri(uri: str, member: str) -> None:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise invalid(f"{member} must be an S3 URI of the form s3://bucket/key, got '{uri}'")


def _engine_input(fn: Callable[[], Any]) -> Any:
    """Run an engine validation; EngineInputError -> InvalidInputException."""
    try:
        return fn()
    except EngineInputError as exc:
        raise invalid(str(exc)) from None


class MachineLearningProvider(Provider):
    """Amazon Machine Learning: data sources, models, evaluations, batch and real-time predictions."""

    service_name = "machinelearning"
    # Predict's PredictEndpoint (shape VipURL) only admits https://...amazonaws.com in the
    # model, while botocore sends Predict to the emulator's own http://host:port.
    unchecked_patterns = frozenset({"VipURL"})

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _state(ctx: Any) -> MachineLearningState:
        return ctx.state(MachineLearningState)

    @staticmethod
    def _iam_user(ctx: Any) -> str:
        return f"arn:aws:iam::{ctx.account_id}:root"

    @staticmethod
    def _lookup(table: dict[str, Any], kind: str, resource_id: str, allow_deleted: bool = False) -> Any:
        obj = table.get(resource_id)
        if obj is None or (obj.deleted and not allow_deleted):
            raise not_found(kind, resource_id)
        return obj

    @staticmethod
    def _idempotent(existing: Resource, request: dict[str, Any], id_member: str) -> dict[str, Any]:
        if existing.deleted:
            raise invalid(f"{existing.kind} {existing.id} has been deleted; its ID cannot be reused")
        if _normal(existing.request) != _normal(request):
            raise ServiceError("IdempotentParameterMismatchException",
                               f"A {existing.kind} with id {existing.id} already exists with different parameters",
                               status=400)
        return {id_member: existing.id}

    def _read_s3_text(self, ctx: Any, uri: str, member: str) -> str:
        _check_s3_uri(uri, member)
        try:
            return ctx.s3().get_uri(uri).decode("utf-8-sig")
        except S3AccessError as exc:
            raise invalid(f"Cannot read {member} {uri}: {exc}") from None
        except UnicodeDecodeError:
            raise invalid(f"{member} {uri} is not UTF-8 text") from None

    def _run(self, ctx: Any, obj: Resource, job: Callable[[], None], after: list[Any] = ()) -> None:
        obj.future = ctx.emulator.jobs.submit(job, after=[f for f in after if f is not None])

    def _wait(self, ctx: Any, obj: Resource) -> None:
        ctx.emulator.jobs.wait(obj.future)

    @staticmethod
    def _guard(state: MachineLearningState, obj: Resource, body: Callable[[], None]) -> None:
        """Run a job body; any failure ends ``obj`` FAILED with a Message (never stuck)."""
        try:
            body()
        except (DataProcessingError, EngineInputError, S3AccessError) as exc:
            with state.lock:
                if not obj.deleted:
                    obj.finish("FAILED", str(exc))
        except Exception as exc:  # noqa: BLE001 - a job must never leave a resource stuck
            log.exception("Amazon ML job for %s %s failed", obj.kind, obj.id)
            with state.lock:
                if not obj.deleted:
                    obj.finish("FAILED", f"Internal error while processing {obj.kind} {obj.id}: {exc}")
        finally:
            if isinstance(obj, MLModel):
                with state.lock:
                    MachineLearningProvider._endpoint_after_training(obj)

    # ------------------------------------------------------------------ data sources
    def create_data_source_from_s3(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        ds_id = request["DataSourceId"]
        with state.lock:
            if ds_id in state.data_sources:
                return self._idempotent(state.data_sources[ds_id], request, "DataSourceId")
        spec = request["DataSpec"]
        location = spec["DataLocationS3"]
        _check_s3_uri(location, "DataLocationS3")
        if spec.get("DataSchema"):
            schema_text = spec["DataSchema"]
        elif spec.get("DataSchemaLocationS3"):
            schema_text = self._read_s3_text(ctx, spec["DataSchemaLocationS3"], "DataSchemaLocationS3")
        else:
            raise invalid("DataSpec must contain DataSchema or DataSchemaLocationS3")
        schema = _engine_input(lambda: parse_schema(schema_text))
        rearrangement = spec.get("DataRearrangement")
        _engine_input(lambda: parse_rearrangement(rearrangement))
        ds = DataSource(id=ds_id, name=request.get("DataSourceName"), created_by=self._iam_user(ctx),
                        request=request, location_s3=location, rearrangement=rearrangement,
                        schema_text=schema.to_json(), schema=schema,
                        compute_statistics=bool(request.get("ComputeStatistics", False)))
        s3 = ctx.s3()
        with state.lock:
            if ds_id in state.data_sources:
                return self._idempotent(state.data_sources[ds_id], request, "DataSourceId")
            state.data_sources[ds_id] = ds
            self._run(ctx, ds, lambda: self._guard(state, ds, lambda: self._load_data_source(state, ds, s3)))
        self._wait(ctx, ds)
        return {"DataSourceId": ds_id}

    def _load_data_source(self, state: MachineLearningState, ds: DataSource, s3: S3Store) -> None:
        with state.lock:
            ds.start()
        bucket = urlparse(ds.location_s3).netloc
        objects = [o for o in s3.read_location(ds.location_s3) if not o.key.endswith(".schema")]
        if not objects:
            raise DataProcessingError(f"No data files found at {ds.location_s3}")
        dataset = load_dataset([(o.key, o.data) for o in objects], ds.schema, ds.rearrangement)
        statistics = compute_statistics(dataset) if ds.compute_statistics else None
        with state.lock:
            if ds.deleted:
                return
            ds.dataset = dataset
            ds.statistics = statistics
            ds.files = [f"s3://{bucket}/{o.key}" for o in objects]
            ds.data_size = dataset.size_in_bytes
            ds.number_of_files = dataset.number_of_files
            message = None
            if dataset.invalid_record_count:
                message = (f"{dataset.invalid_record_count} of {dataset.total_record_count} records were rejected"
                           + (f"; first: {dataset.invalid_examples[0]}" if dataset.invalid_examples else ""))
            ds.finish("COMPLETED", message)

    def _database_data_source(self, ctx: Any, request: dict[str, Any], spec: dict[str, Any], engine: str,
                              metadata_key: str, metadata: dict[str, Any], target: str) -> dict[str, Any]:
        state = self._state(ctx)
        ds_id = request["DataSourceId"]
        with state.lock:
            if ds_id in state.data_sources:
                return self._idempotent(state.data_sources[ds_id], request, "DataSourceId")
        _check_s3_uri(spec["S3StagingLocation"], "S3StagingLocation")
        schema = None
        if spec.get("DataSchema"):
            schema = _engine_input(lambda: parse_schema(spec["DataSchema"]))
        elif spec.get("DataSchemaUri"):
            text = self._read_s3_text(ctx, spec["DataSchemaUri"], "DataSchemaUri")
            schema = _engine_input(lambda: parse_schema(text))
        _engine_input(lambda: parse_rearrangement(spec.get("DataRearrangement")))
        if not spec["SelectSqlQuery"].strip():
            raise invalid("SelectSqlQuery must not be blank")
        ds = DataSource(id=ds_id, name=request.get("DataSourceName"), created_by=self._iam_user(ctx),
                        request=request, location_s3=spec["S3StagingLocation"],
                        rearrangement=spec.get("DataRearrangement"),
                        schema_text=schema.to_json() if schema else None, schema=schema,
                        compute_statistics=bool(request.get("ComputeStatistics", False)),
                        role_arn=request.get("RoleARN"), **{metadata_key: metadata})
        ds.start()
        ds.finish("FAILED", f"Cannot connect to {engine} {target}: no database is reachable from this "
                            f"emulator, so the query could not be run")
        with state.lock:
            if ds_id in state.data_sources:
                return self._idempotent(state.data_sources[ds_id], request, "DataSourceId")
            state.data_sources[ds_id] = ds
        return {"DataSourceId": ds_id}

    def create_data_source_from_rds(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        spec = request["RDSData"]
        if not spec["SecurityGroupIds"]:
            raise invalid("RDSData.SecurityGroupIds must list at least one security group")
        db = spec["DatabaseInformation"]
        metadata = {"Database": dict(db), "DatabaseUserName": spec["DatabaseCredentials"]["Username"],
                    "SelectSqlQuery": spec["SelectSqlQuery"], "ResourceRole": spec["ResourceRole"],
                    "ServiceRole": spec["ServiceRole"]}
        return self._database_data_source(ctx, request, spec, "Amazon RDS", "rds_metadata", metadata,
                                          f"instance '{db['InstanceIdentifier']}' database '{db['DatabaseName']}'")

    def create_data_source_from_redshift(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        spec = request["DataSpec"]
        db = spec["DatabaseInformation"]
        metadata = {"RedshiftDatabase": dict(db), "DatabaseUserName": spec["DatabaseCredentials"]["Username"],
                    "SelectSqlQuery": spec["SelectSqlQuery"]}
        return self._database_data_source(ctx, request, spec, "Amazon Redshift", "redshift_metadata", metadata,
                                          f"cluster '{db['ClusterIdentifier']}' database '{db['DatabaseName']}'")

    @staticmethod
    def _render_data_source(ds: DataSource) -> dict[str, Any]:
        return {
            "DataSourceId": ds.id, "DataLocationS3": ds.location_s3, "DataRearrangement": ds.rearrangement,
            "CreatedByIamUser": ds.created_by, "CreatedAt": ds.created_at, "LastUpdatedAt": ds.last_updated_at,
            "DataSizeInBytes": ds.data_size, "NumberOfFiles": ds.number_of_files, "Name": ds.name,
            "Status": ds.status, "Message": ds.message, "RedshiftMetadata": ds.redshift_metadata,
            "RDSMetadata": ds.rds_metadata, "RoleARN": ds.role_arn, "ComputeStatistics": ds.compute_statistics,
            "ComputeTime": ds.compute_time, "FinishedAt": ds.finished_at, "StartedAt": ds.started_at,
        }

    def get_data_source(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            ds = self._lookup(state.data_sources, "DataSource", request["DataSourceId"], allow_deleted=True)
            out = self._render_data_source(ds)
            out["LogUri"] = ds.log_uri
            if request.get("Verbose"):
                out["DataSourceSchema"] = ds.schema_text
        return out

    def describe_data_sources(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            return describe(list(state.data_sources.values()), DataSource, request, self._render_data_source)

    def update_data_source(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            ds = self._lookup(state.data_sources, "DataSource", request["DataSourceId"])
            ds.name = request["DataSourceName"]
            ds.touch()
        return {"DataSourceId": ds.id}

    def delete_data_source(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            ds = self._lookup(state.data_sources, "DataSource", request["DataSourceId"], allow_deleted=True)
            self._mark_deleted(ds)
            ds.dataset = None
        return {"DataSourceId": ds.id}

    @staticmethod
    def _mark_deleted(obj: Resource) -> None:
        if not obj.deleted:
            obj.status = "DELETED"
            obj.touch()

    # ------------------------------------------------------------------ ML models
    def create_ml_model(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        model_id = request["MLModelId"]
        with state.lock:
            if model_id in state.models:
                return self._idempotent(state.models[model_id], request, "MLModelId")
            ds = self._lookup(state.data_sources, "DataSource", request["TrainingDataSourceId"])
        model_type = request["MLModelType"]
        if not ds.compute_statistics:
            raise invalid(f"DataSource {ds.id} was created without ComputeStatistics; "
                          "a training data source must have ComputeStatistics set to true")
        echo = _engine_input(lambda: validate_parameters(request.get("Parameters")))
        recipe_text = request.get("Recipe")
        if not recipe_text and request.get("RecipeUri"):
            recipe_text = self._read_s3_text(ctx, request["RecipeUri"], "RecipeUri")
        if ds.schema is not None:
            _engine_input(lambda: check_target_for_model_type(ds.schema, model_type))
            if recipe_text:
                _engine_input(lambda: parse_recipe(recipe_text, ds.schema))
        model = MLModel(id=model_id, name=request.get("MLModelName"), created_by=self._iam_user(ctx),
                        request=request, model_type=model_type, training_data_source_id=ds.id,
                        parameters=echo, recipe_text=recipe_text or None, input_location=ds.location_s3,
                        score_threshold=DEFAULT_SCORE_THRESHOLD if model_type == "BINARY" else None,
                        schema_text=ds.schema_text)
        with state.lock:
            if model_id in state.models:
                return self._idempotent(state.models[model_id], request, "MLModelId")
            state.models[model_id] = model
            model.tags = dict(ds.tags)
            self._run(ctx, model, lambda: self._guard(state, model, lambda: self._train(state, model, ds)),
                      after=[ds.future])
        self._wait(ctx, model)
        return {"MLModelId": model_id}

    def _train(self, state: MachineLearningState, model: MLModel, ds: DataSource) -> None:
        with state.lock:
            if model.deleted:
                return
            model.start()
            dataset = ds.dataset
            if ds.status != "COMPLETED" or dataset is None:
                model.finish("FAILED", f"Training DataSource {ds.id} is {ds.status}"
                                       + (f": {ds.message}" if ds.message else ""))
                self._endpoint_after_training(model)
                return
        trained = train_model(dataset, model.model_type, model.request.get("Parameters"), model.recipe_text)
        with state.lock:
            if model.deleted:
                return
            model.trained = trained
            model.recipe_text = trained.recipe
            model.size_in_bytes = trained.size_in_bytes
            model.finish("COMPLETED")
            self._endpoint_after_training(model)

    @staticmethod
    def _endpoint_after_training(model: MLModel) -> None:
        if model.endpoint and model.endpoint["EndpointStatus"] == "UPDATING":
            model.endpoint["EndpointStatus"] = "READY" if model.status == "COMPLETED" else "FAILED"

    @staticmethod
    def _render_model(model: MLModel, describe_shape: bool = True) -> dict[str, Any]:
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

    def get_ml_model(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            model = self._lookup(state.models, "MLModel", request["MLModelId"], allow_deleted=True)
            out = self._render_model(model, describe_shape=False)
            out["LogUri"] = model.log_uri
            if request.get("Verbose"):
                out["Recipe"] = model.recipe_text
                out["Schema"] = model.schema_text
        return out

    def describe_ml_models(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            return describe(list(state.models.values()), MLModel, request, self._render_model)

    def update_ml_model(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        threshold = request.get("ScoreThreshold")
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise invalid(f"ScoreThreshold must be between 0 and 1, got {threshold}")
        with state.lock:
            model = self._lookup(state.models, "MLModel", request["MLModelId"])
            if request.get("MLModelName") is not None:
                model.name = request["MLModelName"]
            if threshold is not None:
                model.score_threshold = float(threshold)
                model.score_threshold_updated_at = now()
            model.touch()
        return {"MLModelId": model.id}

    def delete_ml_model(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            model = self._lookup(state.models, "MLModel", request["MLModelId"], allow_deleted=True)
            self._mark_deleted(model)
            model.endpoint = None
        return {"MLModelId": model.id}

    # ------------------------------------------------------------------ real-time endpoints
    def create_realtime_endpoint(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            model = self._lookup(state.models, "MLModel", request["MLModelId"])
            if model.status == "FAILED":
                raise invalid(f"MLModel {model.id} is FAILED; a real-time endpoint needs a trained model")
            if not model.endpoint or model.endpoint["EndpointStatus"] == "FAILED":
                model.endpoint = {"EndpointUrl": ctx.base_url, "PeakRequestsPerSecond": 200, "CreatedAt": now(),
                                  "EndpointStatus": "READY" if model.status == "COMPLETED" else "UPDATING"}
                model.touch()
            return {"MLModelId": model.id, "RealtimeEndpointInfo": dict(model.endpoint)}

    def delete_realtime_endpoint(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            model = self._lookup(state.models, "MLModel", request["MLModelId"])
            if model.endpoint:
                model.endpoint = None
                model.touch()
        return {"MLModelId": model.id, "RealtimeEndpointInfo": dict(NO_ENDPOINT)}

    def predict(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        model_id = request["MLModelId"]
        with state.lock:
            model = state.models.get(model_id)
            if model is None or model.deleted:
                raise not_found("MLModel", model_id)
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

    # ------------------------------------------------------------------ evaluations
    def create_evaluation(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        ev_id = request["EvaluationId"]
        with state.lock:
            if ev_id in state.evaluations:
                return self._idempotent(state.evaluations[ev_id], request, "EvaluationId")
            model = self._lookup(state.models, "MLModel", request["MLModelId"])
            ds = self._lookup(state.data_sources, "DataSource", request["EvaluationDataSourceId"])
            if ds.schema is not None and model.schema_text is not None:
                target = parse_schema(model.schema_text).target
                if target not in ds.schema.names:
                    raise invalid(f"Evaluation DataSource {ds.id} has no attribute '{target}', "
                                  f"the target of MLModel {model.id}")
            ev = Evaluation(id=ev_id, name=request.get("EvaluationName"), created_by=self._iam_user(ctx),
                            request=request, ml_model_id=model.id, data_source_id=ds.id,
                            input_location=ds.location_s3)
            ev.tags = {**ds.tags, **model.tags}
            state.evaluations[ev_id] = ev
            self._run(ctx, ev, lambda: self._guard(state, ev, lambda: self._evaluate(state, ev, model, ds)),
                      after=[model.future, ds.future])
        self._wait(ctx, ev)
        return {"EvaluationId": ev_id}

    @staticmethod
    def _dependencies_ready(obj: Resource, model: MLModel, ds: DataSource) -> bool:
        """Under the lock: start ``obj`` or fail it when its model or data source is not usable."""
        if obj.deleted:
            return False
        obj.start()
        problem = None
        if model.status != "COMPLETED" or model.trained is None:
            problem = f"MLModel {model.id} is {model.status}" + (f": {model.message}" if model.message else "")
        elif ds.status != "COMPLETED" or ds.dataset is None:
            problem = f"DataSource {ds.id} is {ds.status}" + (f": {ds.message}" if ds.message else "")
        if problem:
            obj.finish("FAILED", problem)
            return False
        return True

    def _evaluate(self, state: MachineLearningState, ev: Evaluation, model: MLModel, ds: DataSource) -> None:
        with state.lock:
            if not self._dependencies_ready(ev, model, ds):
                return
            trained, dataset = model.trained, ds.dataset
        metrics = evaluate(trained, dataset)
        with state.lock:
            if ev.deleted:
                return
            ev.metrics = metrics
            ev.finish("COMPLETED")

    @staticmethod
    def _render_evaluation(ev: Evaluation) -> dict[str, Any]:
        return {
            "EvaluationId": ev.id, "MLModelId": ev.ml_model_id, "EvaluationDataSourceId": ev.data_source_id,
            "InputDataLocationS3": ev.input_location, "CreatedByIamUser": ev.created_by,
            "CreatedAt": ev.created_at, "LastUpdatedAt": ev.last_updated_at, "Name": ev.name, "Status": ev.status,
            "PerformanceMetrics": {"Properties": dict(ev.metrics)} if ev.metrics is not None else None,
            "Message": ev.message, "ComputeTime": ev.compute_time, "FinishedAt": ev.finished_at,
            "StartedAt": ev.started_at,
        }

    def get_evaluation(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            ev = self._lookup(state.evaluations, "Evaluation", request["EvaluationId"], allow_deleted=True)
            out = self._render_evaluation(ev)
            out["LogUri"] = ev.log_uri
        return out

    def describe_evaluations(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            return describe(list(state.evaluations.values()), Evaluation, request, self._render_evaluation)

    def update_evaluation(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            ev = self._lookup(state.evaluations, "Evaluation", request["EvaluationId"])
            ev.name = request["EvaluationName"]
            ev.touch()
        return {"EvaluationId": ev.id}

    def delete_evaluation(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            ev = self._lookup(state.evaluations, "Evaluation", request["EvaluationId"], allow_deleted=True)
            self._mark_deleted(ev)
        return {"EvaluationId": ev.id}

    # ------------------------------------------------------------------ batch predictions
    def create_batch_prediction(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        bp_id = request["BatchPredictionId"]
        with state.lock:
            if bp_id in state.batch_predictions:
                return self._idempotent(state.batch_predictions[bp_id], request, "BatchPredictionId")
        output_uri = request["OutputUri"]
        _check_s3_uri(output_uri, "OutputUri")
        key = urlparse(output_uri).path
        if any(bad in key for bad in (":", "//", "/./", "/../")):
            raise invalid(f"OutputUri key must not contain ':', '//', '/./' or '/../': {output_uri}")
        s3 = ctx.s3()
        with state.lock:
            if bp_id in state.batch_predictions:
                return self._idempotent(state.batch_predictions[bp_id], request, "BatchPredictionId")
            model = self._lookup(state.models, "MLModel", request["MLModelId"])
            ds = self._lookup(state.data_sources, "DataSource", request["BatchPredictionDataSourceId"])
            bp = BatchPrediction(id=bp_id, name=request.get("BatchPredictionName"), created_by=self._iam_user(ctx),
                                 request=request, ml_model_id=model.id, data_source_id=ds.id,
                                 input_location=ds.location_s3, output_uri=output_uri)
            bp.tags = {**ds.tags, **model.tags}
            state.batch_predictions[bp_id] = bp
            self._run(ctx, bp, lambda: self._guard(state, bp, lambda: self._batch(state, bp, model, ds, s3)),
                      after=[model.future, ds.future])
        self._wait(ctx, bp)
        return {"BatchPredictionId": bp_id}

    def _batch(self, state: MachineLearningState, bp: BatchPrediction, model: MLModel, ds: DataSource,
               s3: S3Store) -> None:
        with state.lock:
            if not self._dependencies_ready(bp, model, ds):
                return
            trained, dataset = model.trained, ds.dataset
            threshold = model.score_threshold if model.score_threshold is not None else DEFAULT_SCORE_THRESHOLD
            bucket = urlparse(ds.location_s3).netloc
        manifest: dict[str, str] = {}
        for name in dataset.layout:
            text, _total, _invalid = batch_prediction_csv(trained, dataset, name, threshold)
            uri = result_uri(bp.output_uri, bp.id, name)
            s3.put_uri(uri, gzip.compress(text.encode("utf-8")))
            manifest[f"s3://{bucket}/{name}"] = uri
        s3.put_uri(join_uri(bp.output_uri, "batch-prediction", f"{bp.id}.manifest"),
                   manifest_json(manifest).encode("utf-8"))
        with state.lock:
            if bp.deleted:
                return
            bp.total_records = dataset.total_record_count
            bp.invalid_records = dataset.invalid_record_count
            bp.finish("COMPLETED")

    @staticmethod
    def _render_batch(bp: BatchPrediction) -> dict[str, Any]:
        return {
            "BatchPredictionId": bp.id, "MLModelId": bp.ml_model_id, "BatchPredictionDataSourceId": bp.data_source_id,
            "InputDataLocationS3": bp.input_location, "CreatedByIamUser": bp.created_by,
            "CreatedAt": bp.created_at, "LastUpdatedAt": bp.last_updated_at, "Name": bp.name, "Status": bp.status,
            "OutputUri": bp.output_uri, "Message": bp.message, "ComputeTime": bp.compute_time,
            "FinishedAt": bp.finished_at, "StartedAt": bp.started_at, "TotalRecordCount": bp.total_records,
            "InvalidRecordCount": bp.invalid_records,
        }

    def get_batch_prediction(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            bp = self._lookup(state.batch_predictions, "BatchPrediction", request["BatchPredictionId"],
                              allow_deleted=True)
            out = self._render_batch(bp)
            out["LogUri"] = bp.log_uri
        return out

    def describe_batch_predictions(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            return describe(list(state.batch_predictions.values()), BatchPrediction, request, self._render_batch)

    def update_batch_prediction(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            bp = self._lookup(state.batch_predictions, "BatchPrediction", request["BatchPredictionId"])
            bp.name = request["BatchPredictionName"]
            bp.touch()
        return {"BatchPredictionId": bp.id}

    def delete_batch_prediction(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            bp = self._lookup(state.batch_predictions, "BatchPrediction", request["BatchPredictionId"],
                              allow_deleted=True)
            self._mark_deleted(bp)
        return {"BatchPredictionId": bp.id}

    # ------------------------------------------------------------------ tags
    def _tag_target(self, state: MachineLearningState, request: dict[str, Any], writing: bool) -> Resource:
        kind = request["ResourceType"]
        obj = self._lookup(state.table(kind), kind, request["ResourceId"], allow_deleted=True)
        if writing and obj.deleted:
            raise invalid(f"{kind} {obj.id} has been deleted; its tags cannot be changed")
        return obj

    def add_tags(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            obj = self._tag_target(state, request, writing=True)
            updates: dict[str, str | None] = {}
            for tag in request["Tags"]:
                key = tag.get("Key")
                if not key:
                    raise ServiceError("InvalidTagException", "Every tag needs a Key of 1 to 128 characters", status=400)
                if key.lower().startswith("aws:"):
                    raise ServiceError("InvalidTagException",
                                       f"Tag key '{key}' uses the reserved prefix 'aws:'", status=400)
                updates[key] = tag.get("Value")
            merged = {**obj.tags, **updates}
            if len(merged) > MAX_TAGS:
                raise ServiceError("TagLimitExceededException",
                                   f"{obj.kind} {obj.id} would have {len(merged)} tags; the limit is {MAX_TAGS}",
                                   status=400)
            obj.tags = merged
        return {"ResourceId": obj.id, "ResourceType": request["ResourceType"]}

    def delete_tags(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            obj = self._tag_target(state, request, writing=True)
            for key in request["TagKeys"]:
                obj.tags.pop(key, None)
        return {"ResourceId": obj.id, "ResourceType": request["ResourceType"]}

    def describe_tags(self, ctx: Any, request: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        with state.lock:
            obj = self._tag_target(state, request, writing=False)
            tags = [{"Key": k, "Value": v} for k, v in obj.tags.items()]
        return {"ResourceId": obj.id, "ResourceType": request["ResourceType"], "Tags": tags}
