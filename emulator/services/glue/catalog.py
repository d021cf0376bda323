"""The Data Catalog as emulator code sees it: databases, tables and partitions of one
account and region.

moto stores the catalog (and serves the operations the provider does not implement);
emulator code (crawlers, ML transforms, ETL jobs, the provider's paginated catalog reads)
reads and writes it only through these functions, so the storage can change without
touching them. Failures raise ``CatalogError`` carrying Glue's error name.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

_LOCK = threading.RLock()  # moto's catalog is plain dicts; crawls write while requests read


class CatalogError(Exception):
    """A catalog failure with Glue's error name (``code``) and message."""

    code = "InvalidInputException"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class CatalogEntityNotFound(CatalogError):
    """A database or table that does not exist; the message is Glue's."""

    code = "EntityNotFoundException"


class CatalogAlreadyExists(CatalogError):
    """A database, table or partition that already exists."""

    code = "AlreadyExistsException"


def _backend(account_id: str, region: str) -> Any:
    from moto.glue.models import glue_backends

    return glue_backends[account_id][region]


@contextlib.contextmanager
def _moto_errors() -> Iterator[None]:
    """Translate moto's Glue exceptions into CatalogError (same name and message)."""
    from moto.core.exceptions import JsonRESTError

    with _LOCK:
        try:
            yield
        except JsonRESTError as exc:
            kind = {"EntityNotFoundException": CatalogEntityNotFound,
                    "AlreadyExistsException": CatalogAlreadyExists}.get(exc.error_type, CatalogError)
            raise kind(exc.message, exc.error_type) from exc
        except NotImplementedError as exc:  # moto's partition filter lacks some expressions
            raise CatalogError(f"Unsupported expression: {exc}") from exc


def get_table(account_id: str, region: str, database: str, table: str) -> dict[str, Any]:
    """The table as GetTable returns it (Name, StorageDescriptor, PartitionKeys ...)."""
    with _moto_errors():
        return _backend(account_id, region).get_table(database, table).as_dict()


def database_exists(account_id: str, region: str, database: str) -> bool:
    with _LOCK:
        return database in _backend(account_id, region).databases


def get_databases(account_id: str, region: str) -> list[dict[str, Any]]:
    """Every database, in creation order, as GetDatabases lists them."""
    with _moto_errors():
        return [d.as_dict() for d in _backend(account_id, region).get_databases()]


def get_tables(account_id: str, region: str, database: str, expression: str | None = None) -> list[dict[str, Any]]:
    """The database's tables (names matching ``expression``, Glue's regex with ``*``)."""
    import re

    with _moto_errors():
        try:
            return [t.as_dict() for t in _backend(account_id, region).get_tables(database, expression)]
        except re.error as exc:
            raise CatalogError(f"Invalid Expression {expression!r}: {exc}") from exc


def create_table(account_id: str, region: str, database: str, table_input: dict[str, Any],
                 open_table_format_input: dict[str, Any] | None = None) -> None:
    """Create a table from a TableInput."""
    with _moto_errors():
        _backend(account_id, region).create_table(database, table_input["Name"], table_input, open_table_format_input)


def update_table(account_id: str, region: str, database: str, table_input: dict[str, Any]) -> None:
    """Replace a table's definition (a new table version)."""
    with _moto_errors():
        _backend(account_id, region).update_table(database, table_input["Name"], table_input)


def delete_table(account_id: str, region: str, database: str, table: str) -> None:
    with _moto_errors():
        _backend(account_id, region).delete_table(database, table)


def table_versions(account_id: str, region: str, database: str, table: str) -> list[dict[str, Any]]:
    """Every version of a table, oldest first, as GetTableVersions lists them."""
    with _moto_errors():
        versions = _backend(account_id, region).get_table_versions(database, table)
        return [{"Table": data, "VersionId": version} for version, data in versions.items()]


def get_partitions(account_id: str, region: str, database: str, table: str,
                   expression: str | None = None) -> list[dict[str, Any]]:
    """The table's partitions (those matching Glue's partition ``expression``)."""
    with _moto_errors():
        return [p.as_dict() for p in _backend(account_id, region).get_partitions(database, table, expression)]


def create_partitions(account_id: str, region: str, database: str, table: str,
                      partition_inputs: list[dict[str, Any]]) -> None:
    """Add partitions; one that already exists is replaced."""
    with _moto_errors():
        backend = _backend(account_id, region)
        existing = backend.get_table(database, table).partitions
        for partition in partition_inputs:
            if str(partition["Values"]) in existing:
                backend.update_partition(database, table, partition, partition["Values"])
            else:
                backend.create_partition(database, table, partition)


def delete_partition(account_id: str, region: str, database: str, table: str, values: list[str]) -> None:
    with _moto_errors():
        _backend(account_id, region).delete_partition(database, table, values)
