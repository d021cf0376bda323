"""GlueContext: reads and writes DynamicFrames from S3 and the Data Catalog.

``s3://`` objects are fetched through boto3 into local scratch files that Spark reads
(and written back the same way), so a job run in the emulator uses the emulator's S3
and Glue Data Catalog with the job's account. Catalog reads list the table's
partitions through GetPartitions and evaluate ``push_down_predicate`` (Spark SQL) on
the partition values alone, so only matching partitions are ever downloaded.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import sys
from typing import Any, Iterable
from urllib.parse import quote

from awsglue import _aws, _bookmarks, _formats
from awsglue._spark import spark_context
from awsglue.dynamicframe import DynamicFrame, _spark_type

_PARTITION_SAFE = " &,;()+-._~!$@"
_SERDES = {
    "parquet": ("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
    "orc": ("org.apache.hadoop.hive.ql.io.orc.OrcInputFormat", "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
            "org.apache.hadoop.hive.ql.io.orc.OrcSerde"),
    "json": ("org.apache.hadoop.mapred.TextInputFormat", "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
             "org.openx.data.jsonserde.JsonSerDe"),
    "csv": ("org.apache.hadoop.mapred.TextInputFormat", "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"),
}


def _uri(obj: dict[str, Any]) -> str:
    return f"s3://{obj['Bucket']}/{obj['Key']}"


class _Logger:
    """``glueContext.get_logger()``: info/warn/error lines on stderr (the run's error log)."""

    def _emit(self, level: str, message: Any) -> None:
        print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S} {level} {message}", file=sys.stderr, flush=True)

    def info(self, message: Any) -> None:
        self._emit("INFO", message)

    def warn(self, message: Any) -> None:
        self._emit("WARN", message)

    warning = warn

    def error(self, message: Any) -> None:
        self._emit("ERROR", message)


class GlueContext:
    """The entry point of a Glue script (wraps a SparkContext)."""

    def __init__(self, sparkContext: Any = None, **options: Any) -> None:  # noqa: N803 - AWS's name
        from pyspark.sql import SparkSession

        self._sc = sparkContext if sparkContext is not None else spark_context()
        self.spark_session = SparkSession.builder.getOrCreate()
        self.create_dynamic_frame = DynamicFrameReader(self)
        self.write_dynamic_frame = DynamicFrameWriter(self)
        self.create_data_frame = DataFrameReader(self)

    @property
    def sparkContext(self) -> Any:  # noqa: N802
        return self._sc

    def get_logger(self) -> _Logger:
        return _Logger()

    # ------------------------------------------------------------------ catalog
    def catalog_table(self, database: str, table_name: str, catalog_id: str | None = None) -> dict[str, Any]:
        """GetTable of the Data Catalog (the emulator's, inside a job run)."""
        request = {"DatabaseName": database, "Name": table_name, **({"CatalogId": catalog_id} if catalog_id else {})}
        return _aws.client("glue").get_table(**request)["Table"]

    def _partitions(self, database: str, table_name: str, catalog_id: str | None) -> list[dict[str, Any]]:
        request = {"DatabaseName": database, "TableName": table_name, **({"CatalogId": catalog_id} if catalog_id else {})}
        found: list[dict[str, Any]] = []
        for page in _aws.client("glue").get_paginator("get_partitions").paginate(**request):
            found.extend(page.get("Partitions", []))
        return found

    def prune_partitions(self, partitions: list[dict[str, Any]], keys: list[dict[str, Any]], predicate: str) -> list[dict[str, Any]]:
        """The partitions whose values satisfy the Spark SQL ``predicate`` (nothing is read)."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import IntegerType, StringType, StructField, StructType

        if not predicate or not partitions:
            return partitions
        kept = _prune_with_sqlite(partitions, keys, predicate)
        if kept is not None:
            return kept
        schema = StructType([StructField("__index", IntegerType())] + [StructField(k["Name"], StringType()) for k in keys])
        rows = [(i, *p["Values"]) for i, p in enumerate(partitions)]
        values = self.spark_session.createDataFrame(rows, schema)
        typed = values.select("__index", *[F.col(f"`{k['Name']}`").cast(_spark_type(k.get("Type", "string"))).alias(k["Name"])
                                           for k in keys])
        keep = {row["__index"] for row in typed.filter(predicate).select("__index").collect()}
        return [p for i, p in enumerate(partitions) if i in keep]

    def read_catalog(self, database: str, table_name: str, transformation_ctx: str = "", push_down_predicate: str = "",
                     additional_options: dict[str, Any] | None = None, catalog_id: str | None = None) -> Any:
        """A Spark DataFrame of a catalog table (only the partitions the predicates select)."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import StructField, StructType

        additional_options = additional_options or {}
        table = self.catalog_table(database, table_name, catalog_id)
        fmt, options = _formats.catalog_format(table)
        descriptor = table.get("StorageDescriptor") or {}
        columns = descriptor.get("Columns") or []
        keys = table.get("PartitionKeys") or []
        bookmarks = _bookmarks.current()
        if keys:
            partitions = self._partitions(database, table_name, catalog_id)
            for predicate in (push_down_predicate, additional_options.get("catalogPartitionPredicate")):
                partitions = self.prune_partitions(partitions, keys, predicate or "")
            located = [(p["Values"], (p.get("StorageDescriptor") or {}).get("Location")) for p in partitions]
        else:
            located = [([], descriptor.get("Location"))]
        directory = _formats.scratch_dir()
        files = []
        for values, location in located:
            if not location:
                continue
            objects = [{"Bucket": _aws.split(location)[0], **o} for o in _aws.list_objects(location)]
            objects = bookmarks.unseen(transformation_ctx, objects, _uri)
            folder = os.path.join(directory, *[f"{k['Name']}={quote(str(v), safe=_PARTITION_SAFE)}"
                                               for k, v in zip(keys, values)])
            for obj in objects:
                target = os.path.join(folder, f"{len(files):06d}-{os.path.basename(obj['Key']).lstrip('.') or 'part'}")
                _aws.download(obj["Bucket"], obj["Key"], target, obj.get("ETag"))
                files.append(target)
        all_columns = columns + keys
        if not files:
            schema = StructType([StructField(c["Name"], _parse_type(c.get("Type", "string"))) for c in all_columns])
            return self.spark_session.createDataFrame([], schema)
        spark = self.spark_session
        inference = spark.conf.get("spark.sql.sources.partitionColumnTypeInference.enabled")
        spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        try:
            reader_options = {**options, **additional_options}
            names = [c["Name"] for c in columns] if fmt == "csv" and not reader_options.get("withHeader") else None
            frame = _formats.read_local(spark, [directory] if keys else files, fmt,
                                        reader_options, names)
        finally:
            spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", inference)
        casts = {c["Name"]: _spark_type(c.get("Type", "string")) for c in all_columns}
        types = dict(frame.dtypes)
        return frame.select(*[F.col(f"`{name}`").cast(casts[name]).alias(name)
                              if name in casts and types[name] == "string" and casts[name] != "string"
                              else F.col(f"`{name}`") for name in frame.columns])

    def add_partitions(self, database: str, table_name: str, frame: Any, keys: list[str], location: str,
                       catalog_id: str | None = None) -> int:
        """Create the catalog partitions of ``frame``'s distinct key values that do not exist yet."""
        if not keys:
            return 0
        table = self.catalog_table(database, table_name, catalog_id)
        existing = {tuple(p["Values"]) for p in self._partitions(database, table_name, catalog_id)}
        values = {tuple("" if v is None else str(v) for v in row) for row in frame.select(*[f"`{k}`" for k in keys]).distinct().collect()}
        descriptor = {k: v for k, v in (table.get("StorageDescriptor") or {}).items() if k != "Location"}
        new = []
        for value in sorted(values - existing):
            folder = "/".join(f"{k}={quote(v, safe=_PARTITION_SAFE)}" for k, v in zip(keys, value))
            new.append({"Values": list(value), "StorageDescriptor": {**descriptor, "Location": f"{location.rstrip('/')}/{folder}/"}})
        client = _aws.client("glue")
        for start in range(0, len(new), 100):
            request = {"DatabaseName": database, "TableName": table_name, "PartitionInputList": new[start:start + 100]}
            if catalog_id:
                request["CatalogId"] = catalog_id
            response = client.batch_create_partition(**request)
            if response.get("Errors"):
                raise RuntimeError(f"Could not add partitions to {database}.{table_name}: {response['Errors']}")
        return len(new)

    def upsert_table(self, database: str, table_name: str, frame: Any, keys: list[str], location: str, fmt: str,
                     options: dict[str, Any], catalog_id: str | None = None) -> None:
        """Create the catalog table for a sink's output, or update its columns (UPDATE_IN_DATABASE)."""
        input_format, output_format, serde = _SERDES[fmt]
        serde_parameters = {"field.delim": options.get("separator", ",")} if fmt == "csv" else {}
        fields = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
        table_input = {
            "Name": table_name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": fmt},
            "PartitionKeys": [{"Name": k, "Type": fields.get(k, "string")} for k in keys],
            "StorageDescriptor": {
                "Columns": [{"Name": n, "Type": t} for n, t in fields.items() if n not in keys],
                "Location": location, "InputFormat": input_format, "OutputFormat": output_format,
                "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_parameters},
                "Compressed": False, "StoredAsSubDirectories": False,
            },
        }
        client = _aws.client("glue")
        extra = {"CatalogId": catalog_id} if catalog_id else {}
        try:
            client.get_table(DatabaseName=database, Name=table_name, **extra)
        except client.exceptions.EntityNotFoundException:
            client.create_table(DatabaseName=database, TableInput=table_input, **extra)
        else:
            client.update_table(DatabaseName=database, TableInput=table_input, **extra)

    # ------------------------------------------------------------------ S3
    def read_s3(self, connection_options: dict[str, Any], fmt: str, format_options: dict[str, Any] | None,
                transformation_ctx: str = "") -> Any:
        """A Spark DataFrame of the objects under ``connection_options["paths"]``."""
        from pyspark.sql.types import StructType

        paths = connection_options.get("paths") or ([connection_options["path"]] if connection_options.get("path") else [])
        if not paths:
            raise ValueError('connection_options must name S3 "paths" to read.')
        exclusions = connection_options.get("exclusions") or []
        if isinstance(exclusions, str):
            import json

            exclusions = json.loads(exclusions)
        objects = []
        for path in paths:
            bucket, _ = _aws.split(path)
            for obj in _aws.list_objects(path):
                uri = f"s3://{bucket}/{obj['Key']}"
                if not any(fnmatch.fnmatch(uri, pattern) for pattern in exclusions):
                    objects.append({"Bucket": bucket, **obj})
        objects = _bookmarks.current().unseen(transformation_ctx, objects, _uri)
        if not objects:
            return self.spark_session.createDataFrame([], StructType([]))
        _, files = _formats.fetch((o["Bucket"], o["Key"], o.get("ETag")) for o in objects)
        return _formats.read_local(self.spark_session, files, fmt, format_options or {})

    def purge_s3_path(self, s3_path: str, options: dict[str, Any] | None = None, transformation_ctx: str = "") -> None:
        """Delete the objects under ``s3_path`` older than ``retentionPeriod`` hours (default 168)."""
        options = options or {}
        cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=float(options.get("retentionPeriod", 168)))
        excluded = set(options.get("excludeStorageClasses") or [])
        bucket, _ = _aws.split(s3_path)
        doomed = [o["Key"] for o in _aws.list_objects(s3_path)
                  if o["LastModified"] <= cutoff and o.get("StorageClass", "STANDARD") not in excluded]
        client = _aws.client("s3")
        for start in range(0, len(doomed), 1000):
            client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in doomed[start:start + 1000]]})

    # ------------------------------------------------------------------ AWS's flat method names
    def create_dynamic_frame_from_catalog(self, database: str, table_name: str, redshift_tmp_dir: str = "",
                                          transformation_ctx: str = "", push_down_predicate: str = "",
                                          additional_options: dict | None = None, catalog_id: str | None = None,
                                          **kwargs: Any) -> DynamicFrame:
        frame = self.read_catalog(database, table_name, transformation_ctx, push_down_predicate,
                                  additional_options, catalog_id)
        return DynamicFrame(frame, self, transformation_ctx or table_name)

    def create_dynamic_frame_from_options(self, connection_type: str, connection_options: dict | None = None,
                                          format: str | None = None, format_options: dict | None = None,  # noqa: A002
                                          transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        if connection_type != "s3":
            raise ValueError(f"connection_type {connection_type!r} is not supported by the emulator's awsglue (use s3).")
        frame = self.read_s3(connection_options or {}, format or "json", format_options, transformation_ctx)
        return DynamicFrame(frame, self, transformation_ctx)

    def write_dynamic_frame_from_options(self, frame: DynamicFrame, connection_type: str,
                                         connection_options: dict | None = None, format: str | None = None,  # noqa: A002
                                         format_options: dict | None = None, transformation_ctx: str = "",
                                         **kwargs: Any) -> DynamicFrame:
        if connection_type != "s3":
            raise ValueError(f"connection_type {connection_type!r} is not supported by the emulator's awsglue (use s3).")
        options = connection_options or {}
        if not options.get("path"):
            raise ValueError('connection_options must name the S3 "path" to write.')
        _formats.write(_df(frame), options["path"], format or "json", format_options or {}, list(options.get("partitionKeys") or []))
        return frame

    def write_dynamic_frame_from_catalog(self, frame: DynamicFrame, database: str, table_name: str,
                                         redshift_tmp_dir: str = "", transformation_ctx: str = "",
                                         additional_options: dict | None = None, catalog_id: str | None = None,
                                         **kwargs: Any) -> DynamicFrame:
        additional_options = additional_options or {}
        table = self.catalog_table(database, table_name, catalog_id)
        fmt, options = _formats.catalog_format(table)
        location = (table.get("StorageDescriptor") or {}).get("Location")
        if not location:
            raise ValueError(f"Table {database}.{table_name} has no StorageDescriptor.Location to write to.")
        keys = list(additional_options.get("partitionKeys") or [k["Name"] for k in table.get("PartitionKeys") or []])
        dataframe = _df(frame)
        _formats.write(dataframe, location, fmt, {**options, **additional_options}, keys)
        self.add_partitions(database, table_name, dataframe, keys, location, catalog_id)
        return frame

    def getSink(self, connection_type: str, format: str | None = None, transformation_ctx: str = "",  # noqa: N802,A002
                **options: Any) -> "DataSink":
        return DataSink(self, connection_type, format, options)

    def getSource(self, connection_type: str, format: str | None = None, transformation_ctx: str = "",  # noqa: N802,A002
                  push_down_predicate: str = "", **options: Any) -> "DataSource":
        return DataSource(self, connection_type, format, transformation_ctx, options)


_SQLITE_TYPES = {"tinyint": int, "smallint": int, "int": int, "integer": int, "bigint": int, "long": int,
                 "float": float, "double": float, "string": str, "varchar": str, "char": str}


def _prune_with_sqlite(partitions: list[dict[str, Any]], keys: list[dict[str, Any]], predicate: str) -> list[dict[str, Any]] | None:
    """The partitions matching a simple SQL predicate (comparisons, AND/OR/NOT, IN, BETWEEN
    on string and numeric keys), evaluated by SQLite without a Spark job; None when the
    predicate or a key type needs Spark SQL (functions, LIKE, dates, casts...)."""
    import re
    import sqlite3

    kinds = [_SQLITE_TYPES.get(_spark_type(k.get("Type", "string")).split("(")[0]) for k in keys]
    calls = {word.lower() for word in re.findall(r"([A-Za-z_]\w*)\s*\(", predicate)}
    if None in kinds or calls - {"in"} or re.search(r"\"|`|;|--|\b(?:r?like|regexp|glob|ilike)\b", predicate, re.I):
        return None  # functions, quoted identifiers, and LIKE (case-insensitive in SQLite) need Spark
    names = [k["Name"] for k in keys]
    if any(not re.fullmatch(r"[A-Za-z_]\w*", n) for n in names):
        return None
    try:
        rows = [(i, *[kind(v) for kind, v in zip(kinds, p["Values"])]) for i, p in enumerate(partitions)]
        with sqlite3.connect(":memory:") as db:
            columns = ", ".join(f"{n} {'TEXT' if kind is str else 'NUMERIC'}" for n, kind in zip(names, kinds))
            db.execute(f"CREATE TABLE p (__index INTEGER, {columns})")
            db.executemany(f"INSERT INTO p VALUES ({', '.join('?' * (len(names) + 1))})", rows)
            keep = {row[0] for row in db.execute(f"SELECT __index FROM p WHERE {predicate}")}
    except (sqlite3.Error, ValueError):
        return None
    return [p for i, p in enumerate(partitions) if i in keep]


def _df(frame: Any) -> Any:
    return frame.toDF() if isinstance(frame, DynamicFrame) else frame


def _parse_type(name: str) -> Any:
    from pyspark.sql.types import _parse_datatype_string

    try:
        return _parse_datatype_string(_spark_type(name))
    except Exception:
        from pyspark.sql.types import StringType

        return StringType()


class DynamicFrameReader:
    """``glueContext.create_dynamic_frame``."""

    def __init__(self, glue_context: GlueContext) -> None:
        self._glue_context = glue_context

    def from_catalog(self, database: str | None = None, table_name: str | None = None, redshift_tmp_dir: str = "",
                     transformation_ctx: str = "", push_down_predicate: str = "", additional_options: dict | None = None,
                     catalog_id: str | None = None, name_space: str | None = None, **kwargs: Any) -> DynamicFrame:
        """A table of the Data Catalog; ``push_down_predicate`` prunes partitions before reading."""
        return self._glue_context.create_dynamic_frame_from_catalog(
            database or name_space, table_name, redshift_tmp_dir, transformation_ctx, push_down_predicate,
            additional_options, catalog_id)

    def from_options(self, connection_type: str, connection_options: dict | None = None, format: str | None = None,  # noqa: A002
                     format_options: dict | None = None, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        """S3 objects (``connection_options={"paths": [...]}``) in csv / json / parquet / orc."""
        return self._glue_context.create_dynamic_frame_from_options(
            connection_type, connection_options, format, format_options, transformation_ctx)

    def from_rdd(self, data: Any, name: str, schema: Any = None, sample_ratio: float | None = None,
                 transformation_ctx: str = "") -> DynamicFrame:
        frame = self._glue_context.spark_session.createDataFrame(data, schema, sample_ratio)
        return DynamicFrame(frame, self._glue_context, name)


class DataFrameReader:
    """``glueContext.create_data_frame``: the same sources as Spark DataFrames."""

    def __init__(self, glue_context: GlueContext) -> None:
        self._glue_context = glue_context

    def from_catalog(self, database: str, table_name: str, **kwargs: Any) -> Any:
        return self._glue_context.create_dynamic_frame.from_catalog(database, table_name, **kwargs).toDF()

    def from_options(self, connection_type: str, connection_options: dict | None = None, format: str | None = None,  # noqa: A002
                     format_options: dict | None = None, transformation_ctx: str = "", **kwargs: Any) -> Any:
        return self._glue_context.create_dynamic_frame.from_options(
            connection_type, connection_options, format, format_options, transformation_ctx).toDF()


class DynamicFrameWriter:
    """``glueContext.write_dynamic_frame``."""

    def __init__(self, glue_context: GlueContext) -> None:
        self._glue_context = glue_context

    def from_options(self, frame: DynamicFrame, connection_type: str, connection_options: dict | None = None,
                     format: str | None = None, format_options: dict | None = None,  # noqa: A002
                     transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        """Write to ``connection_options["path"]``, Hive-partitioned by ``partitionKeys``."""
        return self._glue_context.write_dynamic_frame_from_options(
            frame, connection_type, connection_options, format, format_options, transformation_ctx)

    def from_catalog(self, frame: DynamicFrame, database: str | None = None, table_name: str | None = None,
                     redshift_tmp_dir: str = "", transformation_ctx: str = "", additional_options: dict | None = None,
                     catalog_id: str | None = None, name_space: str | None = None, **kwargs: Any) -> DynamicFrame:
        """Write to a catalog table's location and format; new partitions are added to the table."""
        return self._glue_context.write_dynamic_frame_from_catalog(
            frame, database or name_space, table_name, redshift_tmp_dir, transformation_ctx, additional_options, catalog_id)


class DataSource:
    """``glueContext.getSource("s3", paths=[...])``; ``setFormat`` then ``getFrame``."""

    def __init__(self, glue_context: GlueContext, connection_type: str, fmt: str | None, ctx: str,
                 options: dict[str, Any]) -> None:
        self._glue_context, self._type, self._format, self._ctx, self._options = glue_context, connection_type, fmt, ctx, options
        self._format_options: dict[str, Any] = {}

    def setFormat(self, format: str, **options: Any) -> None:  # noqa: N802,A002
        self._format, self._format_options = format, options

    def getFrame(self, **kwargs: Any) -> DynamicFrame:  # noqa: N802
        return self._glue_context.create_dynamic_frame_from_options(
            self._type, self._options, self._format, self._format_options, self._ctx)


class DataSink:
    """``glueContext.getSink("s3", path=..., partitionKeys=[...], enableUpdateCatalog=True)``;
    ``setFormat``, ``setCatalogInfo`` then ``writeFrame``."""

    def __init__(self, glue_context: GlueContext, connection_type: str, fmt: str | None, options: dict[str, Any]) -> None:
        if connection_type != "s3":
            raise ValueError(f"connection_type {connection_type!r} is not supported by the emulator's awsglue (use s3).")
        self._glue_context, self._format, self._options = glue_context, fmt, options
        self._format_options: dict[str, Any] = {}
        self._catalog: tuple[str, str, str | None] | None = None

    def setFormat(self, format: str, **options: Any) -> None:  # noqa: N802,A002
        self._format, self._format_options = format, options

    def setCatalogInfo(self, catalogDatabase: str, catalogTableName: str, catalogId: str | None = None) -> None:  # noqa: N802,N803
        self._catalog = (catalogDatabase, catalogTableName, catalogId)

    def writeFrame(self, dynamic_frame: DynamicFrame, info: str = "") -> DynamicFrame:  # noqa: N802
        """Write the frame; with catalog info and ``enableUpdateCatalog`` the table and its partitions follow."""
        path = self._options.get("path")
        if not path:
            raise ValueError('getSink needs the S3 "path" to write.')
        fmt = _formats.normalise_format(self._format or "json")
        keys = list(self._options.get("partitionKeys") or [])
        frame = _df(dynamic_frame)
        _formats.write(frame, path, fmt, self._format_options, keys)
        update = str(self._options.get("enableUpdateCatalog", False)).lower() == "true"
        if self._catalog and update:
            database, table, catalog_id = self._catalog
            if self._options.get("updateBehavior", "UPDATE_IN_DATABASE") == "UPDATE_IN_DATABASE":
                self._glue_context.upsert_table(database, table, frame, keys, path, fmt, self._format_options, catalog_id)
            self._glue_context.add_partitions(database, table, frame, keys, path, catalog_id)
        return dynamic_frame

    def write(self, dynamic_frame: DynamicFrame) -> DynamicFrame:
        return self.writeFrame(dynamic_frame)


__all__: Iterable[str] = ["GlueContext", "DynamicFrameReader", "DynamicFrameWriter", "DataSink", "DataSource"]
