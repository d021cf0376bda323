"""Describe* filtering, sorting and paging shared by the four object types."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from emulator.protocol.errors import ServiceError
from emulator.services.paging import BadNextToken, paginate

from .state import BatchPrediction, DataSource, Evaluation, MLModel, Resource

OPERATORS = ("EQ", "GT", "LT", "GE", "LE", "NE", "Prefix")

_COMMON: dict[str, Callable[[Any], Any]] = {
    "CreatedAt": lambda r: r.created_at,
    "LastUpdatedAt": lambda r: r.last_updated_at,
    "Status": lambda r: r.status,
    "Name": lambda r: r.name or "",
    "IAMUser": lambda r: r.created_by,
}

_MODEL_JOB: dict[str, Callable[[Any], Any]] = {
    **_COMMON, "MLModelId": lambda r: r.ml_model_id, "DataSourceId": lambda r: r.data_source_id,
    "DataURI": lambda r: r.input_location or ""}

FILTERS: dict[type, dict[str, Callable[[Any], Any]]] = {
    DataSource: {**_COMMON, "DataLocationS3": lambda r: r.location_s3 or ""},
    MLModel: {**_COMMON,
              "TrainingDataSourceId": lambda r: r.training_data_source_id,
              "RealtimeEndpointStatus": lambda r: (r.endpoint or {}).get("EndpointStatus", "NONE"),
              "MLModelType": lambda r: r.model_type,
              "Algorithm": lambda r: "sgd",
              "TrainingDataURI": lambda r: r.input_location or ""},
    Evaluation: _MODEL_JOB,
    BatchPrediction: _MODEL_JOB,
}


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidInputException", message, status=400)


def parse_time(text: str, operator: str) -> datetime:
    """A filter value for a date variable: epoch seconds (or ms) or ISO-8601."""
    value = text.strip()
    try:
        number = float(value)
        if number > 1e11:  # milliseconds
            number /= 1000.0
        return datetime.fromtimestamp(number, timezone.utc)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"{operator} value '{text}' is not a date (epoch seconds or ISO-8601)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def describe(objects: Iterable[Resource], resource_type: type, request: dict[str, Any],
             render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Apply FilterVariable/operators, SortOrder, Limit and NextToken; render one page."""
    getters = FILTERS[resource_type]
    variable = request.get("FilterVariable")
    conditions = [(op, request[op]) for op in OPERATORS if request.get(op) is not None]
    if conditions and variable is None:
        raise _invalid("A comparison operator requires FilterVariable")
    getter = getters.get(variable or "CreatedAt")
    if getter is None:  # the model's enum is checked upstream; stay defensive
        raise _invalid(f"Invalid FilterVariable '{variable}'")
    is_time = (variable or "CreatedAt") in ("CreatedAt", "LastUpdatedAt")
    prepared = []
    for op, raw in conditions:
        prepared.append((op, raw, parse_time(raw, op) if is_time and op != "Prefix" else raw))

    def keep(obj: Resource) -> bool:
        if obj.deleted and variable != "Status":
            return False
        value = getter(obj)
        for op, raw, target in prepared:
            if op == "Prefix":
                text = value.isoformat() if isinstance(value, datetime) else str(value)
                if not text.startswith(raw):
                    return False
                continue
            ok = {"EQ": value == target, "NE": value != target, "GT": value > target, "LT": value < target,
                  "GE": value >= target, "LE": value <= target}[op]
            if not ok:
                return False
        return True

    selected = [o for o in objects if keep(o)]
    selected.sort(key=lambda o: (getter(o), o.created_at, o.id), reverse=request.get("SortOrder") == "dsc")
    try:
        page, token = paginate(selected, request.get("NextToken"), int(request.get("Limit") or 100))
    except BadNextToken as exc:
        raise _invalid(str(exc)) from None
    return {"Results": [render(o) for o in page], "NextToken": token}
