"""S3 data in Glue's formats (csv, json, parquet, orc) to and from Spark DataFrames.

Objects are copied between S3 (through boto3, so the emulator's S3 in a job run) and a
local scratch directory that Spark reads and writes natively; no Hadoop S3 connector is
needed. Glue's ``format_options`` map onto Spark's reader and writer options.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Any, Iterable

from awsglue import _aws

FORMATS = ("csv", "json", "parquet", "orc")


def _flag(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def scratch_dir() -> str:
    """A fresh local directory for one read or write (under the job's working directory)."""
    return tempfile.mkdtemp(prefix="awsglue-", dir=os.environ.get("GLUE_EMULATOR_SCRATCH"))


def normalise_format(fmt: str | None) -> str:
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise ValueError(f"Unsupported format {fmt!r}: the emulator's awsglue reads and writes {', '.join(FORMATS)}.")
    return fmt


def fetch(objects: Iterable[tuple[str, str, str | None]]) -> tuple[str, list[str]]:
    """Download (bucket, key, etag) objects into one scratch directory; (directory, local files)."""
    directory = scratch_dir()
    files = []
    for bucket, key, etag in objects:
        target = os.path.join(directory, uuid.uuid4().hex[:8] + "-" + os.path.basename(key).lstrip("."))
        _aws.download(bucket, key, target, etag)
        files.append(target)
    return directory, files


def read_local(spark: Any, files: list[str], fmt: str, options: dict[str, Any], columns: list[str] | None = None) -> Any:
    """A DataFrame of local ``files`` in ``fmt`` with Glue's ``format_options``."""
    fmt = normalise_format(fmt)
    if fmt == "csv":
        reader = spark.read.option("header", _flag(options.get("withHeader")))
        reader = reader.option("sep", options.get("separator", ","))
        quote = options.get("quoteChar", '"')
        reader = reader.option("quote", "" if quote in (-1, "-1") else quote)
        if options.get("escaper"):
            reader = reader.option("escape", options["escaper"])
        reader = reader.option("multiLine", _flag(options.get("multiLine")))
        reader = reader.option("inferSchema", columns is None)
        frame = reader.csv(files)
        if _flag(options.get("skipFirst")) and not _flag(options.get("withHeader")):
            frame = _drop_first_line(frame)
        if not _flag(options.get("withHeader")):
            data_columns = [c for c in frame.columns if c.startswith("_c")]  # the rest come from partition folders
            names = columns if columns and len(columns) == len(data_columns) else [f"col{i}" for i in range(len(data_columns))]
            frame = frame.toDF(*names, *frame.columns[len(data_columns):])
        return frame
    if fmt == "json":
        return spark.read.option("multiLine", _flag(options.get("multiline", options.get("multiLine")))).json(files)
    return spark.read.format(fmt).load(files)


def _drop_first_line(frame: Any) -> Any:
    rdd = frame.rdd.zipWithIndex().filter(lambda pair: pair[1] > 0).map(lambda pair: pair[0])
    return frame.sparkSession.createDataFrame(rdd, frame.schema)


def write(frame: Any, uri: str, fmt: str, options: dict[str, Any], partition_keys: list[str]) -> list[str]:
    """Write a DataFrame under ``uri`` (Hive-style ``key=value/`` folders for ``partition_keys``);
    returns the S3 URIs written."""
    from pyspark.sql import functions as F

    fmt = normalise_format(fmt)
    directory = os.path.join(scratch_dir(), "out")
    writer_frame = frame
    if fmt == "csv" and options.get("quoteChar") in (-1, "-1"):
        # Glue's quoteChar -1: fields joined by the separator, never quoted (e.g. BlazingText input)
        data_columns = [c for c in frame.columns if c not in partition_keys]
        line = F.concat_ws(options.get("separator", ","), *[F.coalesce(F.col(f"`{c}`").cast("string"), F.lit(""))
                                                             for c in data_columns])
        writer_frame = frame.select(line.alias("value"), *[F.col(f"`{k}`") for k in partition_keys])
        writer = writer_frame.write.mode("overwrite")
        if partition_keys:
            writer = writer.partitionBy(*partition_keys)
        if _flag(options.get("writeHeader"), default=False):
            raise ValueError("writeHeader is not supported together with quoteChar -1 by the emulator's awsglue.")
        writer.text(directory)
        return _aws.upload_tree(directory, uri)
    writer = writer_frame.write.mode("overwrite")
    if partition_keys:
        writer = writer.partitionBy(*partition_keys)
    if fmt == "csv":
        writer = (writer.option("header", _flag(options.get("writeHeader"), default=True))
                  .option("sep", options.get("separator", ","))
                  .option("quote", options.get("quoteChar", '"')))
        if options.get("escaper"):
            writer = writer.option("escape", options["escaper"])
    elif fmt in ("parquet", "orc"):
        writer = writer.option("compression", options.get("compression", "snappy"))
    elif options.get("compression"):
        writer = writer.option("compression", options["compression"])
    writer.format(fmt).save(directory)
    return _aws.upload_tree(directory, uri)


def catalog_format(table: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The format and format options of a catalog table (classification, SerDe parameters)."""
    descriptor = table.get("StorageDescriptor") or {}
    parameters = {**(table.get("Parameters") or {}), **(descriptor.get("Parameters") or {})}
    serde = descriptor.get("SerdeInfo") or {}
    hints = " ".join(str(x).lower() for x in (parameters.get("classification"), descriptor.get("InputFormat"),
                                               serde.get("SerializationLibrary")) if x)
    for fmt, words in (("parquet", ("parquet",)), ("orc", ("orc",)), ("json", ("json",)),
                       ("csv", ("csv", "lazysimpleserde", "opencsvserde", "textinputformat"))):
        if any(w in hints for w in words):
            break
    else:
        raise ValueError(f"Cannot tell the format of table {table.get('Name')}: no classification or SerDe.")
    options: dict[str, Any] = {}
    if fmt == "csv":
        serde_parameters = serde.get("Parameters") or {}
        options["separator"] = serde_parameters.get("field.delim") or serde_parameters.get("separatorChar") or ","
        options["withHeader"] = str(parameters.get("skip.header.line.count", "0")) not in ("", "0")
    return fmt, options
