"""RDS and Redshift data sources: find the database an identifier means, run the
``SelectSqlQuery``, stage the result as CSV under ``S3StagingLocation``; the staged files
then load exactly like an S3 data source (``datasources.load_files``).

Staged layout ([U]; Redshift's UNLOAD names): ``<S3StagingLocation>/<DataSourceId>/0000_part_00``,
``0001_part_00``, ... comma-separated, no header, at most ``PART_BYTES`` per file. The random
split hashes the part's base name, not its full key, so two data sources on the same query
(a split and its complement) select disjoint rows, as on one S3 file.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import decimal
import io
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from emulator.aws.db_endpoints import rds_instance, redshift_cluster
from emulator.aws.s3 import S3Store, split_s3_uri
from emulator.databases import DatabaseError, database_url, query_rows
from emulator.engines.amazonml.errors import DataProcessingError

from .common import join_uri

PART_BYTES = 16 * 1024 * 1024  # bounds the staging buffer
BATCH_ROWS = 1000
TEXT_MIN_MEAN_WORDS = 2.0  # [U] a string column whose values average more words than this is TEXT


@dataclass(frozen=True)
class DatabaseQuery:
    """What a CreateDataSourceFromRDS/FromRedshift request asks to read."""

    service: str      # "rds" or "redshift"
    identifier: str   # InstanceIdentifier / ClusterIdentifier
    database: str
    username: str
    password: str
    query: str


def staging_prefix(staging_location: str, data_source_id: str) -> str:
    """The S3 folder (ending in ``/``) a data source's query result is staged in."""
    return join_uri(staging_location, data_source_id) + "/"


def resolve_url(databases: dict[str, str], account_id: str, region: str, target: DatabaseQuery) -> str:
    """The configured database URL of an identifier; else, for an instance or cluster created
    through the emulator's RDS/Redshift API, the URL configured for its endpoint
    (``address:port`` or ``address``) or its engine on 127.0.0.1 at its port.
    DataProcessingError (AWS's "not found" wording) when neither knows the identifier."""
    if target.identifier in databases:
        return databases[target.identifier]
    lookup = rds_instance if target.service == "rds" else redshift_cluster
    endpoint = lookup(account_id, region, target.identifier)
    if endpoint is None:
        what = "DBInstance" if target.service == "rds" else "Cluster"
        raise DataProcessingError(
            f"{what} {target.identifier} not found. (No {what} of that identifier was created through this "
            f"emulator, and none is mapped with --database {target.identifier}=URL.)")
    for key in (f"{endpoint.address}:{endpoint.port}", endpoint.address):
        if key in databases:
            return databases[key]
    if endpoint.scheme is None:
        raise DataProcessingError(f"DBInstance {target.identifier} runs {endpoint.engine}; Amazon ML reads MySQL "
                                  f"(and, in this emulator, PostgreSQL) databases only")
    return f"{endpoint.scheme}://127.0.0.1:{endpoint.port}"


def _text(value: str) -> str:
    """Newlines, which Amazon ML's CSV cannot hold inside a value, become spaces."""
    if "\n" in value or "\r" in value:
        return value.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return value


_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _text, int: str, float: repr, decimal.Decimal: str, bool: lambda v: "t" if v else "f",
    type(None): lambda v: "",
}


def _cell(value: Any) -> str:
    """A query value as Amazon ML CSV text: NULL empty, booleans t/f (as UNLOAD writes them)."""
    fmt = _FORMATS.get(type(value))
    if fmt is not None:
        return fmt(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return _text(str(value))


@dataclass
class StagedResult:
    """What staging wrote: the part keys, the query's columns and their kinds, word counts."""

    keys: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    mean_words: list[float] = field(default_factory=list)
    rows: int = 0


def stage_query(url: Any, query: str, s3: S3Store, prefix_uri: str, expected_columns: int | None) -> StagedResult:
    """Run ``query`` on ``url`` and write its rows, streamed, as CSV parts under ``prefix_uri``.

    DataProcessingError with the database's message when it refuses, or when the result
    does not have ``expected_columns`` columns (the schema's attribute count)."""
    bucket, prefix = split_s3_uri(prefix_uri)
    staged = StagedResult()
    try:
        with query_rows(url, query, BATCH_ROWS) as result:
            staged.columns = result.columns
            if expected_columns is not None and len(result.columns) != expected_columns:
                raise DataProcessingError(
                    f"The SelectSqlQuery returned {len(result.columns)} columns ({', '.join(result.columns)}) "
                    f"but the data schema declares {expected_columns} attributes")
            words = [0] * len(result.columns)
            counts = [0] * len(result.columns)
            buffer = io.BytesIO()  # UTF-8 CSV of the current part, encoded as it is written
            writer = csv.writer(io.TextIOWrapper(buffer, encoding="utf-8", newline="", write_through=True),
                                lineterminator="\n")

            def flush() -> None:
                key = f"{prefix}{len(staged.keys):04d}_part_00"
                s3.put(bucket, key, buffer.getvalue())
                staged.keys.append(key)
                buffer.seek(0)
                buffer.truncate()

            for batch in result.batches:
                writer.writerows([_cell(v) for v in row] for row in batch)
                if expected_columns is None:  # word counts only serve schema inference
                    for row in batch:
                        for i, value in enumerate(row):
                            if type(value) is str and value.strip():
                                words[i] += len(value.split())
                                counts[i] += 1
                staged.rows += len(batch)
                if buffer.tell() >= PART_BYTES:
                    flush()
            if buffer.tell() or not staged.keys:
                flush()
            staged.kinds = result.kinds
            staged.mean_words = [w / c if c else 0.0 for w, c in zip(words, counts)]
    except DatabaseError as exc:
        raise DataProcessingError(str(exc)) from None
    return staged


def inferred_schema_text(staged: StagedResult) -> str:
    """A schema from the result's column kinds: numbers NUMERIC, booleans BINARY, strings
    CATEGORICAL (TEXT when they average several words); no target, no header."""
    def attribute_type(kind: str, mean_words: float) -> str:
        if kind == "number":
            return "NUMERIC"
        if kind == "boolean":
            return "BINARY"
        return "TEXT" if mean_words > TEXT_MIN_MEAN_WORDS else "CATEGORICAL"

    return json.dumps({
        "version": "1.0", "rowId": None, "rowWeight": None, "targetAttributeName": None, "dataFormat": "CSV",
        "dataFileContainsHeader": False, "excludedAttributeNames": [],
        "attributes": [{"attributeName": name, "attributeType": attribute_type(kind, words)}
                       for name, kind, words in zip(staged.columns, staged.kinds, staged.mean_words)]})


def staged_schema(schema: Any) -> Any:
    """The user's schema for reading the staged files, which never have a header line."""
    return dataclasses.replace(schema, contains_header=False)


def part_names(keys: Iterable[str]) -> list[str]:
    """The base names random splits hash for staged parts."""
    return [key.rsplit("/", 1)[-1] for key in keys]


def connection_url(databases: dict[str, str], account_id: str, region: str, target: DatabaseQuery) -> Any:
    """The SQLAlchemy URL for ``target`` with its credentials and database name."""
    try:
        base = resolve_url(databases, account_id, region, target)
        return database_url(base, target.username, target.password, target.database)
    except DatabaseError as exc:
        raise DataProcessingError(str(exc)) from None

