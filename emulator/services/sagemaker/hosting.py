"""Models, endpoint configurations and endpoints; endpoints load models into memory."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from emulator.aws.s3 import S3AccessError, S3Store
from emulator.context import RequestContext
from emulator.engines import sagemaker as engine
from emulator.lifecycle import job_created, job_status
from emulator.services.sagemaker.errors import validation
from emulator.services.sagemaker.listing import list_page
from emulator.services.sagemaker.state import HostedVariant, SageMakerState


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Kind:
    """One hosting resource type: where it lives and how AWS names it."""

    table: str        # SageMakerState attribute
    name_key: str     # e.g. "ModelName"
    arn_key: str      # e.g. "ModelArn"
    arn_type: str     # e.g. "model" in arn:...:model/<name>
    label: str        # e.g. "endpoint configuration" in AWS's messages
    list_key: str     # e.g. "Models" in List* output
    summary_keys: tuple[str, ...]
    status_key: str | None = None


MODEL = Kind("models", "ModelName", "ModelArn", "model", "model", "Models",
             ("ModelName", "ModelArn", "CreationTime"))
CONFIG = Kind("endpoint_configs", "EndpointConfigName", "EndpointConfigArn", "endpoint-config",
              "endpoint configuration", "EndpointConfigs", ("EndpointConfigName", "EndpointConfigArn", "CreationTime"))
ENDPOINT = Kind("endpoints", "EndpointName", "EndpointArn", "endpoint", "endpoint", "Endpoints",
                ("EndpointName", "EndpointArn", "CreationTime", "LastModifiedTime", "EndpointStatus"), "EndpointStatus")


def _find(ctx: RequestContext, state: SageMakerState, kind: Kind, name: str) -> dict[str, Any]:
    """The record, or AWS's 'Could not find model "arn".' ValidationException."""
    record = getattr(state, kind.table).get(name)
    if record is None:
        raise validation(f'Could not find {kind.label} "{ctx.arn("sagemaker", f"{kind.arn_type}/{name.lower()}")}".')
    return record


def _describe(ctx: RequestContext, kind: Kind, name: str) -> dict[str, Any]:
    state = ctx.state(SageMakerState)
    with state.lock:
        return copy.deepcopy(_find(ctx, state, kind, name))


def _list(ctx: RequestContext, kind: Kind, request: dict[str, Any]) -> dict[str, Any]:
    state = ctx.state(SageMakerState)
    with state.lock:
        records = list(getattr(state, kind.table).values())
    page, token = list_page(records, request, name_key=kind.name_key, status_key=kind.status_key,
                            summary=lambda r: {k: r.get(k) for k in kind.summary_keys})
    return {kind.list_key: page, "NextToken": token}


def _delete(ctx: RequestContext, kind: Kind, name: str) -> dict[str, Any]:
    state = ctx.state(SageMakerState)
    with state.lock:
        record = _find(ctx, state, kind, name)
        del getattr(state, kind.table)[name]
        state.tags.pop(record[kind.arn_key], None)
        return record


class HostingOperations:
    """CreateModel ... DeleteEndpoint."""

    # ---------------------------------------------------------------- models
    def create_model(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        name = request["ModelName"]
        arn = ctx.arn("sagemaker", f"model/{name.lower()}")
        if not request.get("PrimaryContainer") and not request.get("Containers"):
            raise validation("Either PrimaryContainer or Containers must be specified.")
        with state.lock:
            if name in state.models:
                raise validation(f'Cannot create already existing model "{arn}".')
            state.models[name] = {
                "ModelName": name, "ModelArn": arn, "PrimaryContainer": request.get("PrimaryContainer"),
                "Containers": request.get("Containers"), "InferenceExecutionConfig": request.get("InferenceExecutionConfig"),
                "ExecutionRoleArn": request.get("ExecutionRoleArn"), "VpcConfig": request.get("VpcConfig"),
                "EnableNetworkIsolation": bool(request.get("EnableNetworkIsolation", False)), "CreationTime": _now(),
            }
            _set_tags(state, arn, request.get("Tags"))
        return {"ModelArn": arn}

    def describe_model(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return _describe(ctx, MODEL, request["ModelName"])

    def list_models(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return _list(ctx, MODEL, request)

    def delete_model(self, ctx: RequestContext, request: dict[str, Any]) -> None:
        _delete(ctx, MODEL, request["ModelName"])

    # ------------------------------------------------------ endpoint configs
    def create_endpoint_config(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        name = request["EndpointConfigName"]
        arn = ctx.arn("sagemaker", f"endpoint-config/{name.lower()}")
        with state.lock:
            if name in state.endpoint_configs:
                raise validation(f'Cannot create already existing endpoint configuration "{arn}".')
            variants = []
            for variant in request["ProductionVariants"]:
                if variant.get("ModelName"):
                    _find(ctx, state, MODEL, variant["ModelName"])
                variants.append({"InitialVariantWeight": 1.0, **variant})
            names = [v["VariantName"] for v in variants]
            if len(set(names)) != len(names):
                raise validation("Variant names must be unique within an endpoint configuration.")
            state.endpoint_configs[name] = {
                "EndpointConfigName": name, "EndpointConfigArn": arn, "ProductionVariants": variants,
                "DataCaptureConfig": request.get("DataCaptureConfig"), "KmsKeyId": request.get("KmsKeyId"),
                "AsyncInferenceConfig": request.get("AsyncInferenceConfig"), "ExplainerConfig": request.get("ExplainerConfig"),
                "ShadowProductionVariants": request.get("ShadowProductionVariants"),
                "ExecutionRoleArn": request.get("ExecutionRoleArn"), "VpcConfig": request.get("VpcConfig"),
                "EnableNetworkIsolation": request.get("EnableNetworkIsolation"), "CreationTime": _now(),
            }
            _set_tags(state, arn, request.get("Tags"))
        return {"EndpointConfigArn": arn}

    def describe_endpoint_config(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return _describe(ctx, CONFIG, request["EndpointConfigName"])

    def list_endpoint_configs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return _list(ctx, CONFIG, request)

    def delete_endpoint_config(self, ctx: RequestContext, request: dict[str, Any]) -> None:
        _delete(ctx, CONFIG, request["EndpointConfigName"])

    # -------------------------------------------------------------- endpoints
    def create_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        name = request["EndpointName"]
        arn = ctx.arn("sagemaker", f"endpoint/{name.lower()}")
        with state.lock:
            if name in state.endpoints:
                raise validation(f'Cannot create already existing endpoint "{arn}".')
            config = _find(ctx, state, CONFIG, request["EndpointConfigName"])
            now = _now()
            state.endpoints[name] = {
                "EndpointName": name, "EndpointArn": arn, "EndpointConfigName": config["EndpointConfigName"],
                "EndpointStatus": "Creating", "CreationTime": now, "LastModifiedTime": now,
                "DataCaptureConfig": _capture_summary(config),
            }
            _set_tags(state, arn, request.get("Tags"))
        job_created("endpoint", name, "Creating")
        self._deploy(ctx, state, name, copy.deepcopy(config), "Creating")
        return {"EndpointArn": arn}

    def update_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        with state.lock:
            endpoint = _find(ctx, state, ENDPOINT, request["EndpointName"])
            if endpoint["EndpointStatus"] not in ("InService", "Failed"):
                raise validation(f"Cannot update in-progress endpoint \"{endpoint['EndpointArn']}\".")
            config = _find(ctx, state, CONFIG, request["EndpointConfigName"])
            endpoint["EndpointStatus"] = "Updating"
            endpoint["LastModifiedTime"] = _now()
            endpoint.pop("FailureReason", None)
        job_status("endpoint", request["EndpointName"], "Updating")
        self._deploy(ctx, state, request["EndpointName"], copy.deepcopy(config), "Updating")
        return {"EndpointArn": endpoint["EndpointArn"]}

    def _deploy(self, ctx: RequestContext, state: SageMakerState, name: str, config: dict[str, Any], phase: str) -> None:
        """Load every variant's model in the background; InService or Failed."""
        with state.lock:
            models = {v["VariantName"]: copy.deepcopy(state.models.get(v.get("ModelName", ""))) for v in config["ProductionVariants"]}
        s3 = ctx.s3()
        load = variant_loader(ctx, name)

        def deploy() -> None:
            try:
                hosted = [HostedVariant(v["VariantName"], float(v.get("InitialVariantWeight", 1.0)),
                                        load(s3, models[v["VariantName"]], v["VariantName"]))
                          for v in config["ProductionVariants"]]
            except (engine.AlgorithmError, S3AccessError, ValueError) as exc:
                self._endpoint_failed(state, name, config, phase, str(exc))
                return
            except Exception as exc:  # keep the endpoint out of "Creating" forever
                self._endpoint_failed(state, name, config, phase, f"{type(exc).__name__}: {exc}")
                return
            with state.lock:
                endpoint = state.endpoints.get(name)
                if endpoint is None:  # deleted meanwhile
                    _close_variants(hosted)
                    return
                _close_variants(state.hosted.get(name))
                state.hosted[name] = hosted
                endpoint.update(EndpointStatus="InService", EndpointConfigName=config["EndpointConfigName"],
                                LastModifiedTime=_now(), ProductionVariants=_variant_summaries(config, models))
            job_status("endpoint", name, "InService", final=True)

        self.emulator.jobs.wait(self.emulator.jobs.submit(deploy))  # type: ignore[attr-defined]

    @staticmethod
    def _endpoint_failed(state: SageMakerState, name: str, config: dict[str, Any], phase: str, reason: str) -> None:
        with state.lock:
            endpoint = state.endpoints.get(name)
            if endpoint is None:
                return
            if phase == "Updating" and name in state.hosted:
                endpoint.update(EndpointStatus="InService", FailureReason=f"Update failed: {reason}")
            else:
                endpoint.update(EndpointStatus="Failed", FailureReason=reason)
            endpoint["LastModifiedTime"] = _now()
        job_status("endpoint", name, endpoint["EndpointStatus"], endpoint["FailureReason"], final=True)

    def describe_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return _describe(ctx, ENDPOINT, request["EndpointName"])

    def list_endpoints(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return _list(ctx, ENDPOINT, request)

    def delete_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> None:
        state = ctx.state(SageMakerState)
        with state.lock:
            _delete(ctx, ENDPOINT, request["EndpointName"])
            _close_variants(state.hosted.pop(request["EndpointName"], None))


def variant_loader(ctx: RequestContext, endpoint: str) -> Any:
    """``load(s3, model, variant_name)``: script-mode models get a worker process, built-in ones load in memory."""
    def load(s3: S3Store, model: dict[str, Any] | None, variant: str) -> Any:
        from emulator.services.sagemaker import script_hosting

        if script_hosting.is_script_model(model):
            return script_hosting.load_script_predictor(s3, ctx.logs(), model or {}, endpoint, variant,
                                                        ctx.emulator.config.data_dir)
        return load_model_predictor(s3, model)
    return load


def _close_variants(hosted: list[HostedVariant] | None) -> None:
    """Stop the worker processes of replaced or deleted variants (built-in predictors have none)."""
    for variant in hosted or []:
        close = getattr(variant.predictor, "close", None)
        if close is not None:
            close()


def load_model_predictor(s3: S3Store, model: dict[str, Any] | None) -> Any:
    """The in-memory predictor of a model record (its primary container); shared by endpoints and batch transform."""
    if model is None:
        raise ValueError("The model of this production variant no longer exists.")
    container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
    algorithm = engine.algorithm_from_image(container.get("Image"))
    if algorithm is None:
        raise ValueError(f"The container image {container.get('Image')!r} is not a built-in algorithm the emulator hosts.")
    if not container.get("ModelDataUrl"):
        raise ValueError("The container has no ModelDataUrl to load.")
    return engine.load_predictor(algorithm, s3.get_uri(container["ModelDataUrl"]))


def _variant_summaries(config: dict[str, Any], models: dict[str, Any]) -> list[dict[str, Any]]:
    summaries = []
    for variant in config["ProductionVariants"]:
        model = models.get(variant["VariantName"]) or {}
        image = (model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]).get("Image")
        count = variant.get("InitialInstanceCount", 1)
        summaries.append({
            "VariantName": variant["VariantName"],
            "DeployedImages": [{"SpecifiedImage": image, "ResolvedImage": image, "ResolutionTime": _now()}] if image else [],
            "CurrentWeight": float(variant.get("InitialVariantWeight", 1.0)),
            "DesiredWeight": float(variant.get("InitialVariantWeight", 1.0)),
            "CurrentInstanceCount": count, "DesiredInstanceCount": count,
        })
    return summaries


def _capture_summary(config: dict[str, Any]) -> dict[str, Any] | None:
    capture = config.get("DataCaptureConfig")
    if not capture:
        return None
    return {"EnableCapture": capture.get("EnableCapture", True), "CaptureStatus": "Started",
            "CurrentSamplingPercentage": capture.get("InitialSamplingPercentage", 0),
            "DestinationS3Uri": capture.get("DestinationS3Uri"), "KmsKeyId": capture.get("KmsKeyId")}


def _set_tags(state: SageMakerState, arn: str, tags: list[dict[str, str]] | None) -> None:
    state.tags[arn] = {t["Key"]: t.get("Value", "") for t in tags or []}
