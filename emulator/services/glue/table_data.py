"""Read a Data Catalog table's rows from S3 as pandas, the way Glue reads them.

The table's ``StorageDescriptor.Location`` prefix is read object by object (``_`` and
``.`` files skipped, gzip detected by its magic bytes), by the table's
``classification`` (csv with ``field.delim`` / ``separatorChar`` and
``skip.header.line.count``; parquet; json lines), with Hive ``key=value/`` folders as
partition columns, and every column cast to its catalog type.
"""

from __future__ import annotations

import gzip
import io
from typing import TYPE_CHECKING, Any

from emulator.aws.s3 import S3AccessError, S3Store, split_s3_uri
from emulator.engines.glue.formats import NO_PYARROW

if TYPE_CHECKING:  # pandas is imported by the functions that use it (it takes ~1 s to import)
    import pandas as pd

NUMERIC = ("tinyint", "smallint", "int", "integer", "bigint", "float", "double", "decimal", "long")


class TableDataError(Exception):
    """The table's data cannot be read; the message says why."""


def table_schema(table: dict[str, Any]) -> list[dict[str, str]]:
    """[{Name, DataType}] of the table's columns and partition keys, in order."""
    columns = list((table.get("StorageDescriptor") or {}).get("Columns") or []) + list(table.get("PartitionKeys") or [])
    return [{"Name": c["Name"], "DataType": c.get("Type") or "string"} for c in columns]


def _parameter(table: dict[str, Any], name: str) -> str | None:
    sd = table.get("StorageDescriptor") or {}
    for params in (table.get("Parameters"), sd.get("Parameters"), (sd.get("SerdeInfo") or {}).get("Parameters")):
        if params and name in params:
            return str(params[name])
    return None


def classification(table: dict[str, Any]) -> str:
    """csv | parquet | json, from the table's parameters, SerDe or input format."""
    declared = (_parameter(table, "classification") or "").lower()
    if declared:
        return declared
    sd = table.get("StorageDescriptor") or {}
    hints = " ".join(str(x).lower() for x in (sd.get("InputFormat"), (sd.get("SerdeInfo") or {}).get("SerializationLibrary"),
                                             sd.get("Location")))
    if "parquet" in hints:
        return "parquet"
    if "json" in hints:
        return "json"
    return "csv"


def _location(table: dict[str, Any]) -> str:
    location = ((table.get("StorageDescriptor") or {}).get("Location") or "").strip()
    for scheme in ("s3a://", "s3n://"):
        if location.startswith(scheme):
            location = "s3://" + location[len(scheme):]
    if not location.startswith("s3://"):
        raise TableDataError(f"The table's location {location or '(none)'} is not an S3 path")
    return location


def _objects(s3: S3Store, location: str) -> list[tuple[str, bytes]]:
    bucket, key = split_s3_uri(location)
    if key and not key.endswith("/"):
        try:
            return [(key, s3.get(bucket, key))]
        except S3AccessError:
            key += "/"
    out = []
    for k in s3.list_keys(bucket, key):
        name = k.rsplit("/", 1)[-1]
        relative = k[len(key):]
        if not name or name.startswith(("_", ".")) or any(p.startswith(("_", ".")) for p in relative.split("/")[:-1]):
            continue
        out.append((k, s3.get(bucket, k)))
    return out


def _partition_values(relative_key: str) -> dict[str, str]:
    values = {}
    for part in relative_key.split("/")[:-1]:
        if "=" in part:
            name, value = part.split("=", 1)
            values[name] = value
    return values


def read_table(s3: S3Store, table: dict[str, Any]) -> pd.DataFrame:
    """Every row of the table, columns named and typed as the catalog says."""
    schema = table_schema(table)
    partition_names = [c["Name"] for c in table.get("PartitionKeys") or []]
    data_columns = [c["Name"] for c in schema if c["Name"] not in partition_names]
    location = _location(table)
    try:
        objects = _objects(s3, location)
    except S3AccessError as exc:
        raise TableDataError(str(exc)) from None
    if not objects:
        raise TableDataError(f"No data files found at the table's location {location}")
    kind = classification(table)
    prefix = split_s3_uri(location)[1]
    frames = []
    for key, data in objects:
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except OSError as exc:
                raise TableDataError(f"s3://{split_s3_uri(location)[0]}/{key} is not valid gzip: {exc}") from None
        if not data.strip():
            continue
        try:
            frame = _read_object(kind, data, data_columns, table)
        except TableDataError:
            raise
        except Exception as exc:  # the parsers' many error types
            raise TableDataError(f"Cannot read {key} as {kind}: {exc}") from None
        for name, value in _partition_values(key[len(prefix):].lstrip("/")).items():
            if name in partition_names:
                frame[name] = value
        frames.append(frame)
    if not frames:
        raise TableDataError(f"The data files at {location} are empty")
    import pandas as pd

    records = pd.concat(frames, ignore_index=True)
    for column in schema:
        if column["Name"] not in records.columns:
            records[column["Name"]] = None
    records = records[[c["Name"] for c in schema]]
    return _cast(records, schema)


def _read_object(kind: str, data: bytes, columns: list[str], table: dict[str, Any]) -> pd.DataFrame:
    import pandas as pd

    if kind == "parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise TableDataError(f"Cannot read {table.get('Name')}: the table is Parquet and {NO_PYARROW}") from None

        frame = pq.read_table(io.BytesIO(data)).to_pandas()
        return _pick(frame, columns)
    if kind == "json":
        frame = pd.read_json(io.BytesIO(data), lines=True, dtype=False)
        return _pick(frame, columns)
    if kind != "csv":
        raise TableDataError(f"Tables of classification {kind} cannot be read by FindMatches (csv, parquet, json)")
    delimiter = _parameter(table, "field.delim") or _parameter(table, "separatorChar") or ","
    quote = _parameter(table, "quoteChar") or '"'
    skip = int(_parameter(table, "skip.header.line.count") or 0)
    frame = pd.read_csv(io.BytesIO(data), sep=delimiter, quotechar=quote, header=None, skiprows=skip, dtype=str,
                        keep_default_na=False, engine="python" if len(delimiter) > 1 else "c", encoding="utf-8-sig")
    if frame.shape[1] != len(columns):
        raise TableDataError(f"The CSV data has {frame.shape[1]} fields per row but the table has {len(columns)} "
                             f"columns ({', '.join(columns)})")
    frame.columns = columns
    return frame


def _pick(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    lower = {str(c).lower(): c for c in frame.columns}
    return pd.DataFrame({c: frame[lower[c.lower()]] if c.lower() in lower else None for c in columns})


def _cast(records: pd.DataFrame, schema: list[dict[str, str]]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    out = {}
    for column in schema:
        values = records[column["Name"]]
        base = column["DataType"].lower().split("(")[0].strip()
        if base in NUMERIC:
            numbers = pd.to_numeric(values.replace("", np.nan), errors="coerce")
            if base in ("tinyint", "smallint", "int", "integer", "bigint", "long"):
                numbers = numbers.astype("Int64") if bool((numbers.dropna() % 1 == 0).all()) else numbers
            out[column["Name"]] = numbers
        elif base == "boolean":
            out[column["Name"]] = values.map(lambda v: {"true": True, "false": False}.get(str(v).strip().lower()))
        elif base in ("date", "timestamp"):
            out[column["Name"]] = pd.to_datetime(values.replace("", None), errors="coerce")
        elif base == "string" or base in ("varchar", "char"):
            out[column["Name"]] = values.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) or v == ""
                                             else str(v))
        else:
            out[column["Name"]] = values.astype(str)
    return pd.DataFrame(out)
