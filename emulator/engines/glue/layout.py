"""From the objects under an include path to tables and partitions, as Glue groups them.

Glue compares the schemas it inferred per folder: when every file under a folder has the
same format and similar columns (a partition threshold of 70%) at the same depth, the
folder is one table and the folders below it are partitions (``key=value`` names give the
partition keys, others become ``partition_0``, ``partition_1`` ...); otherwise each
subfolder is looked at on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from emulator.engines.glue.formats import FileSchema

SIMILARITY = 0.7


@dataclass
class CrawledFile:
    """One object: its path parts below the include path and its schema."""

    parts: tuple[str, ...]
    schema: FileSchema


@dataclass
class PartitionPlan:
    """One partition: its values, folder (relative to the table) and files."""

    values: tuple[str, ...]
    folder: str
    files: list[FileSchema] = field(default_factory=list)


@dataclass
class TablePlan:
    """One table: name (not yet sanitised or prefixed), folder relative to the include
    path ('' for the include path itself), partition keys, partitions and files."""

    name: str
    folder: str
    partition_keys: list[str]
    files: list[FileSchema]
    partitions: list[PartitionPlan]


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Glue's exclude glob: ``*`` within a folder, ``**`` across folders, ``?``, ``[...]``, ``{a,b}``."""
    out, i, depth = [], 0, 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1:end]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        elif char == "{":
            out.append("(?:")
            depth += 1
        elif char == "}" and depth:
            out.append(")")
            depth -= 1
        elif char == "," and depth:
            out.append("|")
        elif char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 1
        else:
            out.append(re.escape(char))
        i += 1
    try:
        return re.compile("".join(out) + ")" * depth + r"\Z")
    except re.error:
        return re.compile(re.escape(pattern) + r"\Z")


def excluded(relative_key: str, patterns: list[str]) -> bool:
    """Whether an object path (relative to the include path) matches an exclusion.
    A pattern matching a folder excludes everything in it."""
    regexes = [glob_regex(p) for p in patterns]
    parts = relative_key.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(r.match(c) for r in regexes for c in candidates)


def ignored(relative_key: str) -> bool:
    """Hadoop's hidden files and folders (``_SUCCESS``, ``.crc`` ...) and folder markers."""
    return relative_key.endswith("/") or any(part.startswith(("_", ".")) for part in relative_key.split("/") if part)


def _signature(schema: FileSchema) -> tuple:
    options = schema.options
    return (schema.classification, schema.compression, options.get("delimiter"), options.get("json_path"),
            options.get("grok_pattern"))


def similar(files: list[FileSchema], threshold: float = SIMILARITY) -> bool:
    """Same format, and every file shares at least ``threshold`` of its columns with the first."""
    if len({_signature(f) for f in files}) > 1:
        return False
    reference = set(files[0].column_names)
    for other in files[1:]:
        names = set(other.column_names)
        if len(reference & names) < threshold * max(len(reference), len(names)):
            return False
    return True


def plan_tables(files: list[CrawledFile], root_name: str, combine: bool = False, table_level: int | None = None,
                root_depth: int = 0) -> list[TablePlan]:
    """Tables for the files under one include path named ``root_name``.

    ``combine`` is the crawler's ``CombineCompatibleSchemas`` grouping (same format is
    enough); ``table_level`` its ``TableLevelConfiguration``: tables sit at that absolute
    folder level from the bucket (1 = the top folder), the include path being
    ``root_depth`` folders deep.
    """
    threshold = 0.0 if combine else SIMILARITY
    if not table_level or table_level <= root_depth:
        return _plan("", root_name, files, threshold)
    depth = table_level - root_depth
    groups: dict[tuple[str, ...], list[CrawledFile]] = {}
    shallow = [f for f in files if len(f.parts) <= depth]
    for f in files:
        if len(f.parts) > depth:
            groups.setdefault(f.parts[:depth], []).append(CrawledFile(f.parts[depth:], f.schema))
    tables = _plan("", root_name, shallow, threshold)
    for head, below in groups.items():
        folder = "".join(p + "/" for p in head)
        if len({len(f.parts) for f in below}) == 1:  # the table is here, whatever the schemas below
            tables.append(_table(folder, head[-1], below))
        else:
            tables += _plan(folder, head[-1], below, threshold)
    return tables


def _plan(folder: str, name: str, files: list[CrawledFile], threshold: float) -> list[TablePlan]:
    if not files:
        return []
    heads = {f.parts[0] for f in files}
    if len(heads) == 1 and all(len(f.parts) > 1 for f in files) and "=" not in next(iter(heads)):
        child = heads.pop()  # a lone, non-Hive folder: the table is below it, named after it
        return _plan(f"{folder}{child}/", child, [CrawledFile(f.parts[1:], f.schema) for f in files], threshold)
    depths = {len(f.parts) for f in files}
    if len(depths) == 1 and similar([f.schema for f in files], threshold):
        return [_table(folder, name, files)]
    tables: list[TablePlan] = []
    direct = [f for f in files if len(f.parts) == 1]
    clusters = _clusters(direct, threshold)
    for cluster in clusters:  # files beside incompatible subfolders: a table per kind of file
        label = name if len(clusters) == 1 else _file_name(cluster[0].parts[0])
        tables.append(_table(folder, label, cluster))
    children: dict[str, list[CrawledFile]] = {}
    for f in files:
        if len(f.parts) > 1:
            children.setdefault(f.parts[0], []).append(CrawledFile(f.parts[1:], f.schema))
    for child, below in children.items():
        tables += _plan(f"{folder}{child}/", child, below, threshold)
    return tables


def _clusters(files: list[CrawledFile], threshold: float) -> list[list[CrawledFile]]:
    clusters: list[list[CrawledFile]] = []
    for f in files:
        for cluster in clusters:
            if similar([cluster[0].schema, f.schema], threshold):
                cluster.append(f)
                break
        else:
            clusters.append([f])
    return clusters


def _file_name(file_name: str) -> str:
    return file_name.replace(".", "_")


def _table(folder: str, name: str, files: list[CrawledFile]) -> TablePlan:
    levels = len(files[0].parts) - 1
    keys = []
    for level in range(levels):
        names = {f.parts[level].split("=", 1)[0] for f in files}
        hive = all("=" in f.parts[level] for f in files) and len(names) == 1
        keys.append(names.pop() if hive else f"partition_{level}")
    partitions: dict[tuple[str, ...], PartitionPlan] = {}
    for f in files:
        folders = f.parts[:levels]
        values = tuple(unquote(p.split("=", 1)[1]) if keys[i] != f"partition_{i}" else p  # Hive escapes as %XX
                       for i, p in enumerate(folders))
        plan = partitions.setdefault(values, PartitionPlan(values, "".join(p + "/" for p in folders)))
        plan.files.append(f.schema)
    return TablePlan(name, folder, keys, [f.schema for f in files], list(partitions.values()) if levels else [])
