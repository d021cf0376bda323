"""What the ML transform operations share: errors, lookups, ids, the input table, the model."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from emulator.context import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.services.glue import catalog
from emulator.services.glue.ml_state import MLTransformState

NOT_READY_MESSAGE = "This operation can only be applied to a transform that is in a READY state."


def now() -> dt.datetime:
    """The current time to the millisecond, as the wire carries it (so filters compare what clients saw)."""
    current = dt.datetime.now(dt.timezone.utc)
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


def new_id(prefix: str) -> str:
    """``tfm-`` / ``tsk-`` followed by 40 hex digits, the form of Glue's ids."""
    return f"{prefix}-{secrets.token_hex(20)}"


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidInputException", message)


def not_found(message: str) -> ServiceError:
    return ServiceError("EntityNotFoundException", message)


def not_ready() -> ServiceError:
    return ServiceError("MLTransformNotReadyException", NOT_READY_MESSAGE)


def state_of(ctx: RequestContext) -> MLTransformState:
    return ctx.state(MLTransformState)


def transform_arn(ctx: RequestContext, transform_id: str) -> str:
    return ctx.arn("glue", f"mlTransform/{transform_id}")


def get_transform(state: MLTransformState, transform_id: str) -> dict[str, Any]:
    """Under the lock: the transform record, or EntityNotFoundException."""
    record = state.transforms.get(transform_id)
    if record is None or record["Status"] == "DELETING":
        raise not_found(f"Transform with id {transform_id} not found.")
    return record


def input_table(account_id: str, region: str, transform: dict[str, Any]) -> dict[str, Any]:
    """The transform's one input table from the Data Catalog (InvalidInputException if gone)."""
    ref = transform["InputRecordTables"][0]
    try:
        return catalog.get_table(account_id, region, ref["DatabaseName"], ref["TableName"])
    except catalog.CatalogEntityNotFound as exc:
        raise invalid(str(exc)) from None
