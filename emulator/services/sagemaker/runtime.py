"""``sagemaker-runtime`` InvokeEndpoint: the in-memory model of an InService endpoint answers."""

from __future__ import annotations

import random
from typing import Any

from emulator.context import RequestContext
from emulator.engines import sagemaker as engine
from emulator.protocol.errors import ServiceError
from emulator.services.base import Provider
from emulator.services.sagemaker.state import HostedVariant, SageMakerState


class SageMakerRuntimeProvider(Provider):
    """Real-time inference against endpoints created through the ``sagemaker`` provider."""

    service_name = "sagemaker-runtime"

    def invoke_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["EndpointName"]
        variant = self._variant(ctx, name, request.get("TargetVariant"))
        try:
            try:
                body, content_type = variant.predictor.invoke(request.get("Body") or b"", request.get("ContentType"),
                                                              request.get("Accept"), request.get("CustomAttributes"))
            except RecursionError:
                raise engine.ModelError("Unable to parse the payload: it is nested too deeply.") from None
        except engine.ModelError as exc:
            raise ServiceError("ModelError", f"Received {'server' if exc.status_code >= 500 else 'client'} error ({exc.status_code}) from primary with message "
                               f"\"{exc.message}\". See {ctx.arn('logs', 'log-group:/aws/sagemaker/Endpoints/' + name)} "
                               f"in account {ctx.account_id} for more information.", status=424, fields={
                                   "OriginalStatusCode": exc.status_code, "OriginalMessage": exc.message,
                                   "LogStreamArn": ctx.arn("logs", f"log-group:/aws/sagemaker/Endpoints/{name}")}) from exc
        return {"Body": body, "ContentType": content_type, "InvokedProductionVariant": variant.name}

    @staticmethod
    def _variant(ctx: RequestContext, name: str, target: str | None) -> HostedVariant:
        state = ctx.state(SageMakerState)
        with state.lock:
            endpoint = state.endpoints.get(name)
            hosted = state.hosted.get(name)
            if endpoint is not None and not hosted and endpoint.get("EndpointStatus") in ("InService", "Updating"):
                hosted = _reload(ctx, state, endpoint)  # after a --data-dir restart: load on first use
        if endpoint is None or not hosted:
            raise ServiceError("ValidationError", f"Endpoint {name} of account {ctx.account_id} not found.", status=400)
        if target:
            for variant in hosted:
                if variant.name == target:
                    return variant
            raise ServiceError("ValidationError", f"Variant {target} not found for endpoint {name}.", status=400)
        if len(hosted) == 1:
            return hosted[0]
        return random.choices(hosted, weights=[max(v.weight, 0.0) or 1e-9 for v in hosted])[0]


def _reload(ctx: RequestContext, state: SageMakerState, endpoint: dict[str, Any]) -> list[HostedVariant] | None:
    """Load an InService endpoint's variants again (they are not kept across restarts)."""
    from emulator.services.sagemaker.hosting import variant_loader

    load = variant_loader(ctx, endpoint["EndpointName"])
    config = state.endpoint_configs.get(endpoint.get("EndpointConfigName", ""))
    if config is None:
        return None
    try:
        hosted = [HostedVariant(v["VariantName"], float(v.get("InitialVariantWeight", 1.0)),
                                load(ctx.s3(), state.models.get(v.get("ModelName", "")), v["VariantName"]))
                  for v in config["ProductionVariants"]]
    except Exception:  # noqa: BLE001 - the model is gone or unreadable: the endpoint cannot answer
        return None
    state.hosted[endpoint["EndpointName"]] = hosted
    return hosted
