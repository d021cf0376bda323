"""Pair features: per-column similarities chosen by column kind, computed in bulk.

String columns: Jaro-Winkler, normalised Levenshtein, token-sort ratio (rapidfuzz,
all pairs of a batch in one C call), exact equality. Numeric and date columns: a
difference scaled by the column's spread (dates in days), exact equality. Boolean:
equality. Every column adds a flag for "either value missing" (its similarities are 0
then). A whole-record TF-IDF cosine closes the vector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

from .columns import ColumnSpec, as_number, as_text

STRING_FEATURES = ("jaro_winkler", "levenshtein", "token_sort", "exact", "missing")
NUMERIC_FEATURES = ("closeness", "text_levenshtein", "exact", "missing")
BOOLEAN_FEATURES = ("exact", "missing")
RECORD_FEATURE = "record_cosine"


def feature_names(columns: list[ColumnSpec]) -> list[str]:
    """``column:feature`` names in the order :func:`pair_features` computes them."""
    names = []
    for spec in columns:
        kinds = {"string": STRING_FEATURES, "boolean": BOOLEAN_FEATURES}.get(spec.kind, NUMERIC_FEATURES)
        names += [f"{spec.name}:{k}" for k in kinds]
    return names + [RECORD_FEATURE]


@dataclass
class PreparedColumns:
    """The table's columns as text and numbers, computed once per table."""

    text: dict[str, np.ndarray]
    numbers: dict[str, np.ndarray]

    @classmethod
    def of(cls, records: pd.DataFrame, columns: list[ColumnSpec]) -> "PreparedColumns":
        text = {c.name: as_text(records[c.name]) for c in columns}
        numbers = {c.name: as_number(records[c.name], c.kind) for c in columns if c.kind in ("numeric", "date")}
        return cls(text, numbers)


def _similarity(scorer, left: np.ndarray, right: np.ndarray) -> np.ndarray:  # noqa: ANN001 - a rapidfuzz scorer
    if left.size == 0:
        return np.zeros(0)
    return cpdist(list(left), list(right), scorer=scorer, workers=-1, dtype=np.float32).astype(np.float64)


def pair_features(prepared: PreparedColumns, columns: list[ColumnSpec], left: np.ndarray, right: np.ndarray,
                  record_cosine: np.ndarray) -> np.ndarray:
    """The feature matrix (pairs x features) of row pairs (left[i], right[i])."""
    out = []
    for spec in columns:
        a, b = prepared.text[spec.name][left], prepared.text[spec.name][right]
        missing = (a == "") | (b == "")
        exact = ((a == b) & ~missing).astype(float)
        if spec.kind == "string":
            for scorer in (JaroWinkler.normalized_similarity, Levenshtein.normalized_similarity):
                out.append(np.where(missing, 0.0, _similarity(scorer, a, b)))
            out.append(np.where(missing, 0.0, _similarity(fuzz.token_sort_ratio, a, b) / 100.0))
        elif spec.kind in ("numeric", "date"):
            x, y = prepared.numbers[spec.name][left], prepared.numbers[spec.name][right]
            missing = missing | ~np.isfinite(x) | ~np.isfinite(y)
            scale = spec.scale if spec.kind == "numeric" else 30.0
            with np.errstate(invalid="ignore"):
                closeness = 1.0 / (1.0 + np.abs(x - y) / max(scale, 1e-12))
            out.append(np.where(missing, 0.0, closeness))
            out.append(np.where(missing, 0.0, _similarity(Levenshtein.normalized_similarity, a, b)))
        out.append(exact)
        out.append(missing.astype(float))
    out.append(record_cosine)
    return np.column_stack(out).astype(np.float32) if out else np.zeros((left.size, 0), dtype=np.float32)


def column_of_feature(name: str) -> str | None:
    """The source column of a feature name (None for the whole-record feature)."""
    return None if name == RECORD_FEATURE else name.rsplit(":", 1)[0]
