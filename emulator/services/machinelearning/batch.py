"""Batch predictions: Create/Get/Describe/Update/DeleteBatchPrediction."""

from __future__ import annotations

import gzip
import posixpath
from typing import Any
from urllib.parse import urlparse

from emulator.aws.s3 import S3Store
from emulator.context import RequestContext
from emulator.engines import lazy

from .common import (JOBS, DEFAULT_SCORE_THRESHOLD, Kind, check_s3_uri, delete_object, dependencies_ready,
                     describe_objects, get_object, iam_user, invalid, join_uri, lookup, replay, state_of, submit,
                     update_object, wait, work)
from .state import BatchPrediction, DataSource, MachineLearningState, MLModel

_ENGINE = "emulator.engines.amazonml"
manifest_json = lazy(f"{_ENGINE}.batch", "manifest_json")


def result_uri(output_uri: str, bp_id: str, input_key: str) -> str:
    """``<OutputUri>/batch-prediction/result/<bpId>-<input basename>.gz``."""
    return join_uri(output_uri, "batch-prediction", "result", f"{bp_id}-{posixpath.basename(input_key)}.gz")


def render_batch(bp: BatchPrediction) -> dict[str, Any]:
    """A BatchPrediction as Describe/GetBatchPrediction show it."""
    return {
        "BatchPredictionId": bp.id, "MLModelId": bp.ml_model_id, "BatchPredictionDataSourceId": bp.data_source_id,
        "InputDataLocationS3": bp.input_location, "CreatedByIamUser": bp.created_by,
        "CreatedAt": bp.created_at, "LastUpdatedAt": bp.last_updated_at, "Name": bp.name, "Status": bp.status,
        "OutputUri": bp.output_uri, "Message": bp.message, "ComputeTime": bp.compute_time,
        "FinishedAt": bp.finished_at, "StartedAt": bp.started_at, "TotalRecordCount": bp.total_records,
        "InvalidRecordCount": bp.invalid_records,
    }


BATCH_PREDICTION = Kind(BatchPrediction, "BatchPredictionId", "BatchPredictionName", render_batch)


def _batch(ctx: RequestContext, state: MachineLearningState, bp: BatchPrediction, model: MLModel, ds: DataSource, s3: S3Store) -> None:
    """Job: write one gzipped result file per input file and the manifest."""
    with state.lock:
        if not dependencies_ready(bp, model, ds):
            return
        trained, dataset = model.trained, ds.dataset
        threshold = model.score_threshold if model.score_threshold is not None else DEFAULT_SCORE_THRESHOLD
        bucket = urlparse(ds.location_s3).netloc
    manifest: dict[str, str] = {}
    for name, text in work(ctx, bp, f"{JOBS}:batch_predictions", trained, dataset, threshold):
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


class BatchPredictionOperations:
    """The batch prediction operations of the ``machinelearning`` provider."""

    def create_batch_prediction(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Check OutputUri; predict in the background after the model and data source."""
        state = state_of(ctx)
        with state.lock:
            if (answer := replay(state, BATCH_PREDICTION, request)) is not None:
                return answer
        output_uri = request["OutputUri"]
        check_s3_uri(output_uri, "OutputUri")
        key = urlparse(output_uri).path
        if any(bad in key for bad in (":", "//", "/./", "/../")):
            raise invalid(f"OutputUri key must not contain ':', '//', '/./' or '/../': {output_uri}")
        s3 = ctx.s3()
        with state.lock:
            if (answer := replay(state, BATCH_PREDICTION, request)) is not None:
                return answer
            model = lookup(state, "MLModel", request["MLModelId"])
            ds = lookup(state, "DataSource", request["BatchPredictionDataSourceId"])
            bp = BatchPrediction(id=request["BatchPredictionId"], name=request.get("BatchPredictionName"),
                                 created_by=iam_user(ctx), request=request, ml_model_id=model.id,
                                 data_source_id=ds.id, input_location=ds.location_s3, output_uri=output_uri)
            bp.tags = {**ds.tags, **model.tags}
            state.batch_predictions[bp.id] = bp
            submit(ctx, state, bp, lambda: _batch(ctx, state, bp, model, ds, s3), after=[model.future, ds.future])
        wait(ctx, bp)
        return {"BatchPredictionId": bp.id}

    def get_batch_prediction(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """The batch prediction (even DELETED)."""
        return get_object(ctx, BATCH_PREDICTION, request)

    def describe_batch_predictions(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """One filtered, sorted page of batch predictions."""
        return describe_objects(ctx, BATCH_PREDICTION, request)

    def update_batch_prediction(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Rename a batch prediction."""
        return update_object(ctx, BATCH_PREDICTION, request)

    def delete_batch_prediction(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Mark a batch prediction DELETED (its output files stay)."""
        return delete_object(ctx, BATCH_PREDICTION, request)
