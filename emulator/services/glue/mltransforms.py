"""ML transforms: Create/Get/GetMany/List/Update/DeleteMLTransform (FIND_MATCHES).

A transform is NOT_READY until imported labels hold both a matching and a
non-matching pair; it is then trained and READY. Its fitted model is kept as plain
data in the state; :func:`load_model` hands it to other Glue code (ETL FindMatches).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from emulator.context import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.services.glue.ml_common import (get_transform, input_table, invalid, new_id, not_found, not_ready, now,
                                              state_of, transform_arn)
from emulator.services.glue.ml_state import MLTransformState
from emulator.services.glue.table_data import table_schema
from emulator.services.paging import BadNextToken, paginate

MAX_COLUMNS = 100
DEFAULTS = {"GlueVersion": "1.0", "Timeout": 2880, "MaxRetries": 0}
DEFAULT_MAX_CAPACITY = 10.0
SORT_KEYS = {"NAME": "Name", "TRANSFORM_TYPE": None, "STATUS": "Status", "CREATED": "CreatedOn",
             "LAST_MODIFIED": "LastModifiedOn"}


def _check_capacity(request: dict[str, Any]) -> None:
    if request.get("MaxCapacity") is not None and (request.get("WorkerType") or request.get("NumberOfWorkers") is not None):
        raise invalid("Cannot set Max Capacity and Worker Num/Type at the same time.")
    if (request.get("WorkerType") is None) != (request.get("NumberOfWorkers") is None):
        raise invalid("If WorkerType is set, then NumberOfWorkers is required (and vice versa).")
    for member in ("NumberOfWorkers", "MaxCapacity"):
        if request.get(member) is not None and request[member] < 1:
            raise invalid(f"{member} must be at least 1.")


def _check_parameters(parameters: dict[str, Any], schema: list[dict[str, str]]) -> dict[str, Any]:
    fm = parameters.get("FindMatchesParameters") or {}
    key = fm.get("PrimaryKeyColumnName")
    if not key:
        raise invalid("A primary key must be specified in Find Matches parameters.")
    if key not in {c["Name"] for c in schema}:
        raise invalid("Schema should contain given primary key")
    return {"TransformType": parameters["TransformType"], "FindMatchesParameters": dict(fm)}


def _schema_of(ctx: RequestContext, tables: list[dict[str, Any]]) -> list[dict[str, str]]:
    if len(tables) != 1:
        raise invalid("Exactly one input record table must be provided.")
    table = input_table(ctx.account_id, ctx.region, {"InputRecordTables": tables})
    schema = table_schema(table)
    if len(schema) > MAX_COLUMNS:
        raise invalid(f"The input table has {len(schema)} columns; a transform accepts at most {MAX_COLUMNS}.")
    return schema


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    """The GetMLTransform answer (internal keys dropped)."""
    return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}


class MLTransformOperations:
    """The ML transform resource itself (task runs are in ``taskruns.py``)."""

    def create_ml_transform(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        _check_capacity(request)
        schema = _schema_of(ctx, request["InputRecordTables"])
        parameters = _check_parameters(request["Parameters"], schema)
        state = state_of(ctx)
        created = now()
        transform_id = new_id("tfm")
        capacity = {"MaxCapacity": request.get("MaxCapacity")}
        if request.get("WorkerType"):
            capacity = {"WorkerType": request["WorkerType"], "NumberOfWorkers": request["NumberOfWorkers"]}
        elif capacity["MaxCapacity"] is None:
            capacity["MaxCapacity"] = DEFAULT_MAX_CAPACITY
        record = {
            "TransformId": transform_id, "Name": request["Name"], "Description": request.get("Description"),
            "Status": "NOT_READY", "CreatedOn": created, "LastModifiedOn": created,
            "InputRecordTables": copy.deepcopy(request["InputRecordTables"]), "Parameters": parameters,
            "LabelCount": 0, "Schema": schema, "Role": request["Role"],
            "GlueVersion": request.get("GlueVersion") or DEFAULTS["GlueVersion"], **capacity,
            "Timeout": request.get("Timeout") or DEFAULTS["Timeout"],
            "MaxRetries": request.get("MaxRetries") if request.get("MaxRetries") is not None else DEFAULTS["MaxRetries"],
            "TransformEncryption": copy.deepcopy(request.get("TransformEncryption")),
        }
        with state.lock:
            if any(t["Name"] == request["Name"] for t in state.transforms.values()):
                raise ServiceError("AlreadyExistsException", f"Transform with name {request['Name']} already exists.")
            state.transforms[transform_id] = {k: v for k, v in record.items() if v is not None}
            state.task_runs[transform_id] = {}
            state.tags[transform_arn(ctx, transform_id)] = dict(request.get("Tags") or {})
        return {"TransformId": transform_id}

    def get_ml_transform(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = state_of(ctx)
        with state.lock:
            return public_view(get_transform(state, request["TransformId"]))

    def get_ml_transforms(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        records, token = self._page(ctx, request)
        return {"Transforms": [public_view(r) for r in records], "NextToken": token}

    def list_ml_transforms(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        records, token = self._page(ctx, request, tags=request.get("Tags"))
        return {"TransformIds": [r["TransformId"] for r in records], "NextToken": token}

    def _page(self, ctx: RequestContext, request: dict[str, Any],
              tags: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], str | None]:
        state = state_of(ctx)
        with state.lock:
            records = [r for r in state.transforms.values() if r["Status"] != "DELETING"]
            records = [r for r in records if _matches(r, request.get("Filter") or {})]
            if tags:
                records = [r for r in records
                           if all(state.tags.get(transform_arn(ctx, r["TransformId"]), {}).get(k) == v for k, v in tags.items())]
            records = sorted(records, key=lambda r: (r["CreatedOn"], r["TransformId"]))
            sort = request.get("Sort")
            if sort and SORT_KEYS[sort["Column"]]:
                key = SORT_KEYS[sort["Column"]]
                records = sorted(records, key=lambda r: r[key], reverse=sort["SortDirection"] == "DESCENDING")
            elif sort and sort["SortDirection"] == "DESCENDING":
                records = records[::-1]
            try:
                return paginate(records, request.get("NextToken"), request.get("MaxResults") or 100)
            except BadNextToken as exc:
                raise invalid(str(exc)) from None

    def update_ml_transform(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = state_of(ctx)
        _check_capacity(request)
        with state.lock:
            record = get_transform(state, request["TransformId"])
            schema = record["Schema"]
        parameters = _check_parameters(request["Parameters"], schema) if request.get("Parameters") else None
        with state.lock:
            record = get_transform(state, request["TransformId"])
            name = request.get("Name")
            if name and name != record["Name"] and any(t["Name"] == name for t in state.transforms.values()):
                raise ServiceError("AlreadyExistsException", f"Transform with name {name} already exists.")
            for member in ("Name", "Description", "Role", "GlueVersion", "Timeout", "MaxRetries"):
                if request.get(member) is not None:
                    record[member] = request[member]
            if request.get("MaxCapacity") is not None:
                record["MaxCapacity"] = request["MaxCapacity"]
                record.pop("WorkerType", None)
                record.pop("NumberOfWorkers", None)
            elif request.get("WorkerType"):
                record.update(WorkerType=request["WorkerType"], NumberOfWorkers=request["NumberOfWorkers"])
                record.pop("MaxCapacity", None)
            if parameters is not None:
                old_key = record["Parameters"]["FindMatchesParameters"]["PrimaryKeyColumnName"]
                record["Parameters"] = parameters
                if parameters["FindMatchesParameters"]["PrimaryKeyColumnName"] != old_key:
                    # the labels and the model were keyed by the old column: train again on the next import
                    state.models.pop(record["TransformId"], None)
                    record["Status"] = "NOT_READY"
                    record.pop("EvaluationMetrics", None)
            record["LastModifiedOn"] = now()
        return {"TransformId": request["TransformId"]}

    def delete_ml_transform(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = state_of(ctx)
        transform_id = request["TransformId"]
        with state.lock:
            record = get_transform(state, transform_id)
            record["Status"] = "DELETING"
            for run_id, run in state.task_runs.get(transform_id, {}).items():
                if run["Status"] in ("STARTING", "RUNNING"):
                    state.stop_requested.add(run_id)
            state.transforms.pop(transform_id)
            state.task_runs.pop(transform_id, None)
            state.labels.pop(transform_id, None)
            state.models.pop(transform_id, None)
            state.tags.pop(transform_arn(ctx, transform_id), None)
        return {"TransformId": transform_id}


def _matches(record: dict[str, Any], criteria: dict[str, Any]) -> bool:
    """Whether a transform passes a TransformFilterCriteria."""
    checks = [
        ("Name", lambda v: record["Name"] == v),
        ("TransformType", lambda v: record["Parameters"]["TransformType"] == v),
        ("Status", lambda v: record["Status"] == v),
        ("GlueVersion", lambda v: record.get("GlueVersion") == v),
        ("CreatedBefore", lambda v: record["CreatedOn"] < v),
        ("CreatedAfter", lambda v: record["CreatedOn"] > v),
        ("LastModifiedBefore", lambda v: record["LastModifiedOn"] < v),
        ("LastModifiedAfter", lambda v: record["LastModifiedOn"] > v),
        ("Schema", lambda v: all(any(c["Name"].lower() == (want.get("Name") or "").lower() and
                                     (not want.get("DataType") or c["DataType"].lower() == want["DataType"].lower())
                                     for c in record["Schema"]) for want in v)),
    ]
    return all(check(criteria[name]) for name, check in checks if criteria.get(name) is not None)


def load_model(emulator: Any, account_id: str, region: str, transform_id: str) -> Any:
    """The transform's fitted ``FindMatchesModel`` with its current parameters, for other Glue
    code (ETL ``FindMatches.apply``: ``load_model(...).match(records_dataframe)``).

    Raises EntityNotFoundException / MLTransformNotReadyException like AWS."""
    from emulator.engines.findmatches import FindMatchesModel, FindMatchesParams

    state: MLTransformState = emulator.store.get(MLTransformState, account_id, region)
    with state.lock:
        record = state.transforms.get(transform_id)
        if record is None:
            raise not_found(f"Transform with id {transform_id} not found.")
        model_data = state.models.get(transform_id)
        if record["Status"] != "READY" or model_data is None:
            raise not_ready()
        params = FindMatchesParams.from_glue(record["Parameters"]["FindMatchesParameters"])
    return dataclasses.replace(FindMatchesModel.from_dict(model_data), params=params)
