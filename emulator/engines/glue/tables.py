"""The Data Catalog entries a crawler writes: TableInput and PartitionInput dicts with the
StorageDescriptor, SerDe and Parameters Glue puts on crawled tables."""

from __future__ import annotations

import re
from typing import Any

from emulator.engines.glue.formats import FileSchema
from emulator.engines.glue.layout import PartitionPlan, TablePlan
from emulator.engines.glue.types import HiveType, merge_fields, render

TEXT_FORMATS = ("org.apache.hadoop.mapred.TextInputFormat", "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat")
PARQUET_FORMATS = ("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                   "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat")


def catalog_name(text: str) -> str:
    """A table or column name as the crawler writes it: lower case, ``[a-z0-9_]`` only."""
    return re.sub(r"[^a-z0-9_]", "_", text.lower()) or "_"


def columns(files: list[FileSchema]) -> list[dict[str, str]]:
    """The union of the files' columns in order of first appearance, types merged."""
    merged: list[tuple[str, HiveType | None]] = []
    for schema in files:
        merged = merge_fields(merged, schema.columns)
    return [{"Name": name, "Type": render(kind)} for name, kind in merged]


def parameters(files: list[FileSchema], crawler_name: str) -> dict[str, str]:
    """Table (and partition) Parameters: classification, counts, sizes, format details."""
    first = files[0]
    records = sum(f.record_count for f in files)
    size = sum(f.size for f in files)
    params = {
        "CrawlerSchemaDeserializerVersion": "1.0",
        "CrawlerSchemaSerializerVersion": "1.0",
        "UPDATED_BY_CRAWLER": crawler_name,
        "averageRecordSize": str(size // records if records else 0),
        "classification": first.classification,
        "compressionType": first.compression,
        "objectCount": str(len(files)),
        "recordCount": str(records),
        "sizeKey": str(size),
        "typeOfData": "file",
    }
    if first.classification == "csv":
        params.update({"delimiter": first.options["delimiter"], "columnsOrdered": "true",
                       "areColumnsQuoted": "true" if first.options.get("quoted") else "false"})
        if first.options.get("header"):
            params["skip.header.line.count"] = "1"
    return params


def _serde(first: FileSchema, cols: list[dict[str, str]]) -> dict[str, Any]:
    options = first.options
    if first.classification == "parquet":
        serde_params = {"serialization.format": "1"}
    elif first.classification == "json":
        serde_params = {"paths": ",".join(sorted(c["Name"] for c in cols))}
    elif "grok_pattern" in options:
        serde_params = {"input.format": options["grok_pattern"]}
        if options.get("custom_patterns"):
            serde_params["input.grokCustomPatterns"] = options["custom_patterns"]
    elif options.get("quoted"):
        serde_params = {"separatorChar": options["delimiter"], "quoteChar": options.get("quote_char") or '"'}
    else:
        serde_params = {"field.delim": options.get("delimiter", ",")}
    return {"SerializationLibrary": first.serde, "Parameters": serde_params}


def storage_descriptor(files: list[FileSchema], location: str, crawler_name: str,
                       cols: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A StorageDescriptor for files at ``location``."""
    first = files[0]
    cols = cols if cols is not None else columns(files)
    input_format, output_format = PARQUET_FORMATS if first.classification == "parquet" else TEXT_FORMATS
    return {
        "Columns": cols,
        "Location": location,
        "InputFormat": input_format,
        "OutputFormat": output_format,
        "Compressed": first.compression != "none",
        "NumberOfBuckets": -1,
        "SerdeInfo": _serde(first, cols),
        "BucketColumns": [],
        "SortColumns": [],
        "Parameters": parameters(files, crawler_name),
        "StoredAsSubDirectories": False,
    }


def table_input(plan: TablePlan, name: str, location: str, crawler_name: str, created_by: str) -> dict[str, Any]:
    """The TableInput (plus CreatedBy) the crawler writes for ``plan``."""
    return {
        "Name": name,
        "Owner": "owner",
        "Retention": 0,
        "StorageDescriptor": storage_descriptor(plan.files, location, crawler_name),
        "PartitionKeys": [{"Name": catalog_name(k), "Type": "string"} for k in plan.partition_keys],
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters(plan.files, crawler_name),
        "CreatedBy": created_by,
        "IsRegisteredWithLakeFormation": False,
    }


def partition_input(plan: TablePlan, partition: PartitionPlan, table_location: str, crawler_name: str) -> dict[str, Any]:
    """The PartitionInput for one partition of ``plan``; its columns are the table's."""
    location = table_location.rstrip("/") + "/" + partition.folder
    return {
        "Values": list(partition.values),
        "StorageDescriptor": storage_descriptor(partition.files, location, crawler_name, columns(plan.files)),
        "Parameters": parameters(partition.files, crawler_name),
    }
