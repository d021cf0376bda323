"""The Data Catalog as emulator code sees it: tables and partitions of one account and region.

moto stores the catalog (and serves its operations over HTTP); emulator code (crawlers,
ML transforms, ETL jobs) reads and writes it only through these functions, so the storage
can change without touching them.
"""

from __future__ import annotations

from typing import Any


class CatalogEntityNotFound(Exception):
    """A database or table that does not exist; the message is Glue's."""


def _backend(account_id: str, region: str) -> Any:
    from moto.glue.models import glue_backends

    return glue_backends[account_id][region]


def get_table(account_id: str, region: str, database: str, table: str) -> dict[str, Any]:
    """The table as GetTable returns it (Name, StorageDescriptor, PartitionKeys ...)."""
    from moto.glue.exceptions import DatabaseNotFoundException, TableNotFoundException

    try:
        return _backend(account_id, region).get_table(database, table).as_dict()
    except DatabaseNotFoundException as exc:
        raise CatalogEntityNotFound(f"Database {database} not found.") from exc
    except TableNotFoundException as exc:
        raise CatalogEntityNotFound(f"Table {table} not found.") from exc
