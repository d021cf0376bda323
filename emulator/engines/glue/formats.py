"""Classify one file and infer its schema, as Glue's classifiers do: custom classifiers
first (grok, JSON, CSV, in the crawler's order), then the built-in Parquet, JSON and CSV
ones. Bytes in, a ``FileSchema`` out; a file no classifier recognises raises
``UnreadableFile``.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterable

from emulator.engines.glue.grok import GrokError, compile_grok
from emulator.engines.glue.types import HiveType, arrow_type, json_type, merge, merge_fields, text_type

SAMPLE_RECORDS = 1000  # Glue infers CSV types from the first 1000 records
BUILTIN_DELIMITERS = (",", "|", "\t", ";", "\x01")
_COLUMN_NAME = re.compile(r"^[^\x00-\x1f]{1,149}$")


class UnreadableFile(ValueError):
    """No classifier recognises the file (or it is corrupt); the message says why."""


@dataclass
class FileSchema:
    """What the crawler learnt from one file."""

    classification: str
    columns: list[tuple[str, HiveType | None]]
    record_count: int
    size: int
    compression: str = "none"
    serde: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    """Format details the table needs: delimiter, header, quoted, quote_char, grok pattern ..."""

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]


def decompress(data: bytes) -> tuple[bytes, str]:
    """The uncompressed bytes and Glue's compressionType (``none``, ``gzip``, ``bzip2``)."""
    try:
        if data[:2] == b"\x1f\x8b":
            return gzip.decompress(data), "gzip"
        if data[:3] == b"BZh":
            return bz2.decompress(data), "bzip2"
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise UnreadableFile(f"corrupt compressed file: {exc}") from exc
    return data, "none"


def classify(key: str, data: bytes, classifiers: Iterable[dict[str, Any]] = ()) -> FileSchema:
    """The schema of one object (``key`` only names it in messages)."""
    size = len(data)
    if data[:4] == b"PAR1":
        return _parquet(key, data, size)
    raw, compression = decompress(data)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if not _looks_like_text(raw):
            raise UnreadableFile(f"{key} is neither Parquet nor text ({exc.reason} at byte {exc.start})") from exc
        text = raw.decode("latin-1")  # single-byte text (Latin-1 / Windows exports)
    if not text.strip():
        raise UnreadableFile(f"{key} is empty")
    for classifier in classifiers:
        found = _custom(classifier, text)
        if found is not None:
            found.size, found.compression = size, compression
            return found
    for reader in (_json_builtin, _csv_builtin):
        found = reader(text)
        if found is not None:
            found.size, found.compression = size, compression
            return found
    raise UnreadableFile(f"{key}: no classifier recognised the data (not Parquet, JSON or delimited text "
                         "with at least two columns)")


def classify_many(files: list[tuple[str, bytes]], classifiers: list[dict[str, Any]]) -> list[FileSchema | str]:
    """``classify`` for a batch of (key, bytes) in one call (a crawl hands each batch to a
    worker process): the schema of each file, or why it cannot be read."""
    results: list[FileSchema | str] = []
    for key, data in files:
        try:
            results.append(classify(key, data, classifiers))
        except UnreadableFile as exc:
            results.append(str(exc))
    return results


def _looks_like_text(raw: bytes) -> bool:
    """No NUL byte and (almost) no control characters in the first 64 KB."""
    head = raw[:1 << 16]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return b"\x00" not in head and controls <= len(head) // 100


# ---- Parquet ----------------------------------------------------------------------------------------

PARQUET_EXTRA = "parquet"
NO_PYARROW = (f"reading Parquet needs pyarrow, which is not installed: "
              f"pip install 'aws-ml-emulator[{PARQUET_EXTRA}]'")
"""Why a Parquet file cannot be read without the optional ``parquet`` extra (pyarrow)."""


def _parquet(key: str, data: bytes, size: int) -> FileSchema:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UnreadableFile(f"{key} is a Parquet file and {NO_PYARROW}") from None

    try:
        meta = pq.ParquetFile(io.BytesIO(data))
        schema = meta.schema_arrow
        rows = meta.metadata.num_rows
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UnreadableFile(f"corrupt Parquet file: {exc}") from exc
    columns = [(f.name.lower(), arrow_type(f.type)) for f in schema]
    return FileSchema("parquet", columns, rows, size, "none",
                      "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")


# ---- JSON -------------------------------------------------------------------------------------------

def _records_at(document: Any, path: str) -> list[Any] | None:
    """Records a JSON path (``$``, ``$[*]``, ``$.a.b[*]``, ``$['a']``) selects, or None."""
    tokens = re.findall(r"\.(\w+)|\['([^']*)'\]|\[(\*)\]", path[1:]) if path.startswith("$") else None
    if tokens is None or "".join(f".{a}" if a else (f"['{b}']" if b else "[*]") for a, b, _ in tokens) != path[1:]:
        return None
    current = [document]
    for name, quoted, star in tokens:
        if star:
            current = [item for value in current if isinstance(value, list) for item in value]
        else:
            current = [value[name or quoted] for value in current if isinstance(value, dict) and (name or quoted) in value]
    return current


def _json_documents(text: str, limit: int | None = None) -> tuple[list[Any], int] | None:
    """(the first ``limit`` documents, how many there are): JSON lines, or one JSON document
    spanning the file; None if not JSON. Lines past the sample are counted, not parsed."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        return [json.loads(stripped)], 1
    except json.JSONDecodeError:
        pass
    lines = [line for line in stripped.splitlines() if line.strip()]
    documents = []
    for line in lines[:limit]:
        try:
            documents.append(json.loads(line))
        except json.JSONDecodeError:
            return None
    return documents, len(lines)


def _json_schema(records: list[Any], json_path: str, total: int | None = None) -> FileSchema | None:
    fields: list[tuple[str, HiveType | None]] = []
    for record in records:
        if isinstance(record, dict):
            fields = merge_fields(fields, json_type({str(k).lower(): v for k, v in record.items()})[1])
        elif isinstance(record, list):
            fields = merge_fields(fields, [("array", json_type(record))])
        else:
            return None
    if not records:
        return None
    return FileSchema("json", fields, total if total is not None else len(records), 0,
                      serde="org.openx.data.jsonserde.JsonSerDe", options={"json_path": json_path})


def _json_builtin(text: str) -> FileSchema | None:
    found = _json_documents(text, SAMPLE_RECORDS)
    return _json_schema(found[0], "$", found[1]) if found else None


# ---- CSV --------------------------------------------------------------------------------------------

def _rows(text: str, delimiter: str, quote: str, limit: int | None = None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote or None,
                        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE, strict=False)
    rows = []
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                rows.append(row)
                if limit is not None and len(rows) >= limit:
                    break
    except csv.Error:
        return []
    return rows


def _consistent(rows: list[list[str]], single_column_ok: bool = False) -> bool:
    if not rows:
        return False
    width = len(rows[0])
    return (width >= 2 or single_column_ok) and all(len(row) == width for row in rows)


def _looks_like_header(first: list[str], data: list[list[str]]) -> bool:
    """Glue's rule: every header cell is a string under 150 characters and a valid column
    name, and some data column is not a string (else the header is not distinguishable)."""
    if not data or any(text_type(cell) != "string" or not _COLUMN_NAME.match(cell.strip()) for cell in first):
        return False
    if len({cell.strip().lower() for cell in first}) != len(first):
        return False
    kinds = _column_types(data)
    return any(kind not in (None, "string") for kind in kinds)


def _column_types(rows: list[list[str]], temporal: frozenset[str] = frozenset()) -> list[HiveType | None]:
    kinds: list[HiveType | None] = [None] * len(rows[0])
    for row in rows:
        for i, cell in enumerate(row[:len(kinds)]):
            kinds[i] = merge(kinds[i], text_type(cell, temporal))
    return kinds


def _is_quoted(text: str, delimiter: str, quote: str) -> bool:
    if not quote or quote not in text[:1 << 20]:
        return False
    escaped_delim, escaped_quote = re.escape(delimiter), re.escape(quote)
    return re.search(rf"(^|{escaped_delim}){escaped_quote}", text[:1 << 20], re.MULTILINE) is not None


def _head(text: str, size: int = 1 << 20) -> str:
    """The first ``size`` characters cut at a line end: what Glue samples (1 MB)."""
    if len(text) <= size:
        return text
    head = text[:size]
    return head[:head.rfind("\n") + 1] or head


def _count_records(text: str, delimiter: str, quote: str) -> int:
    """Records in the whole file: lines when nothing is quoted, else a full CSV parse."""
    if quote and quote in text:
        return len(_rows(text, delimiter, quote))
    body = text.rstrip("\r\n")
    blank = f"{re.escape(delimiter)} \t\r"
    if not body:
        return 0
    if re.search(rf"\n[{blank}]*(?:\n|\Z)", "\n" + body) is None:  # no blank line: count line ends
        return body.count("\n") + 1
    return sum(1 for line in body.split("\n") if line.strip(blank))


def _csv_schema(text: str, delimiter: str, quote: str, header: str, names: list[str] | None,
                single_column_ok: bool = False, trim: bool = True, count: bool = True,
                temporal: frozenset[str] = frozenset()) -> FileSchema | None:
    sample = _rows(_head(text), delimiter, quote, SAMPLE_RECORDS + 1)
    if not _consistent(sample, single_column_ok) or (len(sample) < 2 and header != "ABSENT"):
        return None
    has_header = header == "PRESENT" or (header == "UNKNOWN" and _looks_like_header(sample[0], sample[1:]))
    data = sample[1:] if has_header else sample
    if not data:
        return None
    kinds = _column_types(data, temporal)
    if names:
        columns = [n.lower() for n in names][:len(kinds)]
        columns += [f"col{i}" for i in range(len(columns), len(kinds))]
    elif has_header:
        columns = [(c.strip() if trim else c).lower() or f"col{i}" for i, c in enumerate(sample[0])]
    else:
        columns = [f"col{i}" for i in range(len(kinds))]
    total = (_count_records(text, delimiter, quote) if count else len(sample)) - (1 if has_header else 0)
    quoted = _is_quoted(text, delimiter, quote)
    serde = ("org.apache.hadoop.hive.serde2.OpenCSVSerde" if quoted
             else "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe")
    return FileSchema("csv", list(zip(columns, kinds)), total, 0, serde=serde,
                      options={"delimiter": delimiter, "header": has_header, "quoted": quoted, "quote_char": quote})


def _csv_builtin(text: str) -> FileSchema | None:
    best: str | None = None
    widest = 0
    for delimiter in BUILTIN_DELIMITERS:
        found = _csv_schema(text, delimiter, '"', "UNKNOWN", None, count=False)
        if found is not None and len(found.columns) > widest:
            best, widest = delimiter, len(found.columns)
    return _csv_schema(text, best, '"', "UNKNOWN", None) if best else None


# ---- custom classifiers -----------------------------------------------------------------------------

def _custom(classifier: dict[str, Any], text: str) -> FileSchema | None:
    """Apply one CreateClassifier-shaped classifier; None if it does not recognise the data."""
    if "GrokClassifier" in classifier:
        spec = classifier["GrokClassifier"]
        try:
            grok = compile_grok(spec["GrokPattern"], spec.get("CustomPatterns"))
        except GrokError:
            return None
        lines = [line for line in text.splitlines() if line.strip()]
        matches = [grok.match(line) for line in lines[:SAMPLE_RECORDS]]
        if not matches or any(m is None for m in matches):
            return None
        return FileSchema(spec["Classification"], list(grok.columns), len(lines), 0,
                          serde="com.amazonaws.glue.serde.GrokSerDe",
                          options={"grok_pattern": spec["GrokPattern"], "custom_patterns": spec.get("CustomPatterns")})
    if "JsonClassifier" in classifier:
        path = classifier["JsonClassifier"]["JsonPath"]
        found = _json_documents(text)
        if not found:
            return None
        records = [r for d in found[0] for r in (_records_at(d, path) or [])]
        return _json_schema(records, path) if records and all(isinstance(r, dict) for r in records) else None
    if "CsvClassifier" in classifier:
        spec = classifier["CsvClassifier"]
        temporal = frozenset(t.lower() for t in spec.get("CustomDatatypes") or []
                             if spec.get("CustomDatatypeConfigured")) & {"date", "timestamp"}
        return _csv_schema(text, spec.get("Delimiter") or ",", spec.get("QuoteSymbol") or '"',
                           spec.get("ContainsHeader") or "UNKNOWN", spec.get("Header"),
                           bool(spec.get("AllowSingleColumn")), not spec.get("DisableValueTrimming"),
                           temporal=temporal)
    return None  # XML classifiers are stored but the emulator does not crawl XML
