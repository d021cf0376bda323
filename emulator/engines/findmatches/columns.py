"""Column kinds and the plain-text form of records the matcher compares.

A column's kind picks its similarity features: ``string`` (edit distances, token
overlap), ``numeric`` (scaled difference), ``date`` (days apart), ``boolean`` (equality).
Kinds come from the Glue schema types when given, otherwise from the pandas dtypes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NUMERIC_TYPES = ("tinyint", "smallint", "int", "integer", "bigint", "float", "double", "decimal", "long", "short")
DATE_TYPES = ("date", "timestamp")


@dataclass(frozen=True)
class ColumnSpec:
    """One compared column: its name, kind and the scale of a numeric difference."""

    name: str
    kind: str  # "string" | "numeric" | "date" | "boolean"
    scale: float = 1.0

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "scale": self.scale}

    @classmethod
    def from_dict(cls, data: dict) -> "ColumnSpec":
        return cls(str(data["name"]), str(data["kind"]), float(data.get("scale", 1.0)))


def kind_of(glue_type: str | None, series: pd.Series) -> str:
    """The matcher kind of a column from its Glue type (preferred) or its values."""
    if glue_type:
        base = glue_type.strip().lower().split("(")[0]
        if base in NUMERIC_TYPES:
            return "numeric"
        if base in DATE_TYPES:
            return "date"
        if base == "boolean":
            return "boolean"
        return "string"
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    return "string"


def column_specs(records: pd.DataFrame, primary_key: str, schema: dict[str, str] | None = None) -> list[ColumnSpec]:
    """Every column but the primary key, with its kind and (numeric) scale."""
    specs = []
    for name in records.columns:
        if name == primary_key:
            continue
        kind = kind_of((schema or {}).get(name), records[name])
        scale = 1.0
        if kind == "numeric":
            values = pd.to_numeric(records[name], errors="coerce").to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            if values.size:
                q75, q25 = np.percentile(values, [75, 25])
                scale = float(q75 - q25) or float(np.std(values)) or 1.0
        specs.append(ColumnSpec(str(name), kind, scale))
    return specs


def as_text(series: pd.Series) -> np.ndarray:
    """Lower-cased, trimmed text of every value; missing values are ''."""
    text = series.astype("string").fillna("").str.strip().str.lower()
    return text.to_numpy(dtype=object)


def as_number(series: pd.Series, kind: str) -> np.ndarray:
    """Float values (dates as days since the epoch); NaN where missing or unreadable."""
    if kind == "date":
        parsed = pd.to_datetime(series, errors="coerce", utc=True)
        days = (parsed - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds() / 86400.0
        return days.to_numpy(dtype=float, na_value=np.nan)
    if kind == "boolean":
        text = as_text(series)
        return np.array([1.0 if t in ("true", "1", "yes", "t") else 0.0 if t in ("false", "0", "no", "f") else np.nan
                         for t in text])
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def key_text(values: pd.Series) -> np.ndarray:
    """Primary-key values as canonical strings (2.0 and "2" are the same key)."""
    out = []
    for v in values.tolist():
        if v is None or (not isinstance(v, str) and bool(pd.isna(v))):
            out.append("")
        elif isinstance(v, (float, np.floating)) and float(v).is_integer():
            out.append(str(int(v)))
        else:
            text = str(v).strip()
            try:
                number = float(text)
                if number.is_integer() and "e" not in text.lower() and text not in ("",):
                    text = str(int(number))
            except ValueError:
                pass
            out.append(text)
    return np.array(out, dtype=object)
