"""Hive column types as Glue's crawler infers them: values in, type trees out.

A type is a scalar name (``bigint``, ``double``, ``string``, ``boolean``, ``date``,
``timestamp``, ``int`` ...), ``("array", element)`` or ``("struct", [(name, type), ...])``;
``None`` is "no evidence yet" (only nulls seen). ``render`` gives Glue's text
(``array<struct<a:int,b:string>>``).
"""

from __future__ import annotations

import re
from typing import Any, Union

HiveType = Union[str, tuple]  # "bigint" | ("array", HiveType) | ("struct", [(name, HiveType), ...])

_INT = re.compile(r"^[+-]?\d{1,18}$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?$")
_INT32 = (-(2**31), 2**31 - 1)
_NUMERIC_RANK = {"tinyint": 0, "smallint": 1, "int": 2, "bigint": 3, "float": 4, "double": 5}


def text_type(value: str, temporal: frozenset[str] = frozenset()) -> HiveType | None:
    """The type of one CSV cell (None for an empty cell), as Glue's CSV classifier infers it:
    ``boolean``, ``bigint``, ``double`` or ``string``. Dates and timestamps stay strings
    unless ``temporal`` holds ``date`` / ``timestamp`` (a custom classifier's CustomDatatypes)."""
    value = value.strip()
    if not value:
        return None
    if value.lower() in ("true", "false"):
        return "boolean"
    if _INT.match(value):
        return "bigint"
    if _FLOAT.match(value):
        return "double"
    if "date" in temporal and _DATE.match(value) and _valid_date(value):
        return "date"
    if "timestamp" in temporal and _TIMESTAMP.match(value) and _valid_date(value[:10]):
        return "timestamp"
    return "string"


def _valid_date(value: str) -> bool:
    import datetime as dt

    try:
        dt.date.fromisoformat(value)
        return True
    except ValueError:
        return False


def json_type(value: Any) -> HiveType | None:
    """The type of one decoded JSON value, as the JSON classifier names it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int" if _INT32[0] <= value <= _INT32[1] else "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        element: HiveType | None = None
        for item in value:
            element = merge(element, json_type(item))
        return ("array", element)
    if isinstance(value, dict):
        return ("struct", [(str(k), json_type(v)) for k, v in value.items()])
    return "string"


def merge(a: HiveType | None, b: HiveType | None) -> HiveType | None:
    """The narrowest type holding both: numbers widen, structs union their fields, else string."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    if isinstance(a, str) and isinstance(b, str):
        if a in _NUMERIC_RANK and b in _NUMERIC_RANK:
            return a if _NUMERIC_RANK[a] >= _NUMERIC_RANK[b] else b
        return "string"
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0]:
        if a[0] == "array":
            return ("array", merge(a[1], b[1]))
        return ("struct", merge_fields(a[1], b[1]))
    return "string"


def merge_fields(a: list[tuple[str, HiveType | None]], b: list[tuple[str, HiveType | None]]) -> list[tuple[str, HiveType | None]]:
    """Union of two field lists by name, in order of first appearance, types merged."""
    merged = dict(a)
    for name, kind in b:
        merged[name] = merge(merged.get(name), kind) if name in merged else kind
    return list(merged.items())


def render(kind: HiveType | None) -> str:
    """Glue's type text; a type seen only as null is ``string``."""
    if kind is None:
        return "string"
    if isinstance(kind, str):
        return kind
    if kind[0] == "array":
        return f"array<{render(kind[1])}>"
    return "struct<" + ",".join(f"{name}:{render(t)}" for name, t in kind[1]) + ">"


def arrow_type(arrow: Any) -> str:
    """Glue's type text for a pyarrow type (as the crawler maps Parquet schemas)."""
    import pyarrow.types as pat

    if pat.is_boolean(arrow):
        return "boolean"
    for check, name in ((pat.is_int8, "tinyint"), (pat.is_int16, "smallint"), (pat.is_int32, "int"),
                        (pat.is_int64, "bigint"), (pat.is_uint8, "smallint"), (pat.is_uint16, "int"),
                        (pat.is_uint32, "bigint"), (pat.is_uint64, "bigint"), (pat.is_float16, "float"),
                        (pat.is_float32, "float"), (pat.is_float64, "double"), (pat.is_date, "date"),
                        (pat.is_timestamp, "timestamp"), (pat.is_binary, "binary"),
                        (pat.is_large_binary, "binary"), (pat.is_fixed_size_binary, "binary")):
        if check(arrow):
            return name
    if pat.is_decimal(arrow):
        return f"decimal({arrow.precision},{arrow.scale})"
    if pat.is_list(arrow) or pat.is_large_list(arrow) or pat.is_fixed_size_list(arrow):
        return f"array<{arrow_type(arrow.value_type)}>"
    if pat.is_struct(arrow):
        return "struct<" + ",".join(f"{arrow.field(i).name}:{arrow_type(arrow.field(i).type)}"
                                    for i in range(arrow.num_fields)) + ">"
    if pat.is_map(arrow):
        return f"map<{arrow_type(arrow.key_type)},{arrow_type(arrow.item_type)}>"
    if pat.is_dictionary(arrow):
        return arrow_type(arrow.value_type)
    return "string"
