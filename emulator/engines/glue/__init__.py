"""Pure engine of Glue's crawler: schema inference and table grouping, no HTTP, no S3.

Facade:
    classify(key, data, classifiers) -> FileSchema   (raises UnreadableFile; classify_many for a batch)
    plan_tables(files: [CrawledFile], root_name) -> [TablePlan]
    excluded(relative_key, patterns) / ignored(relative_key) -> bool
    table_input(plan, name, location, crawler, created_by) / partition_input(...) -> dict
    catalog_name(text) -> str; compile_grok(pattern, custom) -> Grok (raises GrokError)
"""

from __future__ import annotations

from emulator.engines.glue.formats import FileSchema, UnreadableFile, classify
from emulator.engines.glue.grok import GrokError, compile_grok
from emulator.engines.glue.layout import CrawledFile, PartitionPlan, TablePlan, excluded, ignored, plan_tables
from emulator.engines.glue.tables import catalog_name, columns, partition_input, table_input

__all__ = ["CrawledFile", "FileSchema", "GrokError", "PartitionPlan", "TablePlan", "UnreadableFile", "catalog_name",
           "classify", "columns", "compile_grok", "excluded", "ignored", "partition_input", "plan_tables",
           "table_input"]
