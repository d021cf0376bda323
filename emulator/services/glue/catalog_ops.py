"""Data Catalog reads that moto answers without paging (or with the wrong error), served
by the emulator over the same catalog (``catalog.py``): GetDatabases, GetTables,
GetTableVersions, GetPartitions (MaxResults / NextToken / Segment), and CreateTable /
UpdateTable (moto fails without a TableInput). Every other catalog operation is moto's."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from emulator.context import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.protocol.models import service_model
from emulator.services.glue import catalog
from emulator.services.glue.common import invalid, page

T = TypeVar("T")


def _catalog_call(ctx: RequestContext, fn: Callable[..., T], *args: Any) -> T:
    """Run a catalog function; its error becomes the operation's modelled exception."""
    try:
        return fn(ctx.account_id, ctx.region, *args)
    except catalog.CatalogError as exc:
        errors = {e.name for e in service_model("glue").operation_model(ctx.operation).error_shapes}
        raise ServiceError(exc.code if exc.code in errors else "InvalidInputException", exc.message) from exc


def _check_catalog(ctx: RequestContext, request: dict[str, Any]) -> None:
    catalog_id = request.get("CatalogId")
    if catalog_id and catalog_id != ctx.account_id:
        raise ServiceError("EntityNotFoundException", f"Catalog {catalog_id} not found.")


class CatalogOperations:
    """GetDatabases, GetTables, GetTableVersions, GetPartitions, CreateTable, UpdateTable."""

    def get_databases(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        _check_catalog(ctx, request)
        databases = _catalog_call(ctx, catalog.get_databases)
        if request.get("AttributesToGet") == ["NAME"]:
            databases = [{"Name": d["Name"]} for d in databases]
        items, token = page(databases, request)
        return {"DatabaseList": items, "NextToken": token}

    def get_tables(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        _check_catalog(ctx, request)
        tables = _catalog_call(ctx, catalog.get_tables, request["DatabaseName"], request.get("Expression"))
        attributes = request.get("AttributesToGet")
        if attributes:
            keep = {"Name", *(a.title().replace("_", "") for a in attributes)}
            tables = [{k: v for k, v in t.items() if k in keep} for t in tables]
        items, token = page(tables, request)
        return {"TableList": items, "NextToken": token}

    def get_table_versions(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        _check_catalog(ctx, request)
        versions = _catalog_call(ctx, catalog.table_versions, request["DatabaseName"], request["TableName"])
        items, token = page(versions, request)
        return {"TableVersions": items, "NextToken": token}

    def get_partitions(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        _check_catalog(ctx, request)
        partitions = _catalog_call(ctx, catalog.get_partitions, request["DatabaseName"], request["TableName"],
                                   request.get("Expression"))
        segment = request.get("Segment")
        if segment:
            number, total = segment["SegmentNumber"], segment["TotalSegments"]
            if number >= total:
                raise invalid(f"SegmentNumber {number} must be less than TotalSegments {total}")
            partitions = partitions[number::total]
        if request.get("ExcludeColumnSchema"):
            for partition in partitions:
                (partition.get("StorageDescriptor") or {}).pop("Columns", None)
        items, token = page(partitions, request, default=1000)
        return {"Partitions": items, "NextToken": token}

    def create_table(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        _check_catalog(ctx, request)
        table_input = dict(request.get("TableInput") or {})
        name = table_input.get("Name") or request.get("Name")
        if not name:
            raise invalid("A table name is required (TableInput.Name or Name)")
        if not request.get("TableInput") and not request.get("OpenTableFormatInput"):
            raise invalid("TableInput is required unless OpenTableFormatInput is given")
        table_input["Name"] = name
        _catalog_call(ctx, catalog.create_table, request["DatabaseName"], table_input, request.get("OpenTableFormatInput"))
        return {}

    def update_table(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        _check_catalog(ctx, request)
        table_input = request.get("TableInput")
        if not table_input:
            raise invalid("TableInput is required")
        current = _catalog_call(ctx, catalog.get_table, request["DatabaseName"], table_input["Name"])
        if request.get("VersionId") and request["VersionId"] != current.get("VersionId"):
            raise ServiceError("ConcurrentModificationException",
                               f"Table version {request['VersionId']} is not the latest ({current.get('VersionId')})")
        _catalog_call(ctx, catalog.update_table, request["DatabaseName"], table_input)
        return {}
