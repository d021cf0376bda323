"""Pair features: per-column similarities chosen by column kind, computed in bulk.

String columns: Jaro-Winkler, normalised Levenshtein, normalised Levenshtein of the
values with their words sorted (rapidfuzz, one C call per batch), exact equality.
Numeric and date columns: a difference scaled by the column's spread (dates in days),
the Levenshtein similarity of the text, exact equality. Boolean: equality. Every column
adds a flag for "either value missing" (its similarities are 0 then). Each distinct pair
of differing values is compared once (exact and missing pairs need no comparison).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz.distance import JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

from .columns import ColumnSpec, as_number, as_text

STRING_FEATURES = ("jaro_winkler", "levenshtein", "sorted_words_levenshtein", "exact", "missing")
NUMERIC_FEATURES = ("closeness", "text_levenshtein", "exact", "missing")
BOOLEAN_FEATURES = ("exact", "missing")


def feature_names(columns: list[ColumnSpec]) -> list[str]:
    """``column:feature`` names in the order :func:`pair_features` computes them."""
    names = []
    for spec in columns:
        kinds = {"string": STRING_FEATURES, "boolean": BOOLEAN_FEATURES}.get(spec.kind, NUMERIC_FEATURES)
        names += [f"{spec.name}:{k}" for k in kinds]
    return names


@dataclass
class PreparedColumn:
    """One column's distinct non-empty values and each row's code into them (-1: missing)."""

    codes: np.ndarray
    values: np.ndarray
    sorted_words: np.ndarray | None = None  # string columns: each value with its words sorted
    reordered: np.ndarray | None = None  # string columns: whether sorting the words changed the value
    numbers: np.ndarray | None = None  # numeric and date columns: each row's number (NaN if missing)

    @classmethod
    def of(cls, series: pd.Series, spec: ColumnSpec) -> "PreparedColumn":
        text = as_text(series)
        codes, values = pd.factorize(text)
        values = np.asarray(values, dtype=object)
        empty = np.flatnonzero(values == "")
        codes = codes.astype(np.int32)
        if empty.size:  # '' is missing: renumber the others
            codes = np.where(codes == empty[0], -1, codes - (codes > empty[0]))
            values = np.delete(values, empty[0])
        column = cls(codes, values)
        if spec.kind == "string":
            column.sorted_words = values.copy()
            several = np.flatnonzero(pd.Series(values, dtype=object).str.contains(" ", regex=False).to_numpy(dtype=bool))
            column.sorted_words[several] = [" ".join(sorted(v.split())) for v in values[several].tolist()]
            column.reordered = column.sorted_words != values
        elif spec.kind in ("numeric", "date"):
            column.numbers = as_number(series, spec.kind)
        return column


@dataclass
class PreparedColumns:
    """The table's columns, prepared once per table."""

    columns: dict[str, PreparedColumn]

    @classmethod
    def of(cls, records: pd.DataFrame, columns: list[ColumnSpec]) -> "PreparedColumns":
        return cls({c.name: PreparedColumn.of(records[c.name], c) for c in columns})


def _similarity(scorer, values: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """``scorer`` of values[a[i]] and values[b[i]], each distinct unordered pair computed once."""
    if a.size == 0:
        return np.zeros(0)
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    inverse, keys = pd.factorize(lo * values.size + hi)
    left, right = values[keys // values.size], values[keys % values.size]
    return cpdist(left.tolist(), right.tolist(), scorer=scorer, workers=-1, dtype=np.float32)[inverse].astype(np.float64)


def pair_features(prepared: PreparedColumns, columns: list[ColumnSpec], left: np.ndarray, right: np.ndarray
                  ) -> np.ndarray:
    """The feature matrix (pairs x features, float32) of row pairs (left[i], right[i])."""
    out = []
    for spec in columns:
        column = prepared.columns[spec.name]
        a, b = column.codes[left], column.codes[right]
        missing = (a < 0) | (b < 0)
        exact = (a == b) & ~missing
        compare = np.flatnonzero(~missing & ~exact)  # similarities are 1 when exact, 0 when missing
        if spec.kind == "string":
            for scorer in (JaroWinkler.normalized_similarity, Levenshtein.normalized_similarity):
                similarity = exact.astype(np.float32)
                similarity[compare] = _similarity(scorer, column.values, a[compare], b[compare])
                out.append(similarity)
            # with the words sorted: differs from the plain Levenshtein only where a value has several words
            similarity = out[-1].copy()
            compare = compare[column.reordered[a[compare]] | column.reordered[b[compare]]]
            similarity[compare] = _similarity(Levenshtein.normalized_similarity, column.sorted_words, a[compare],
                                              b[compare])
            out.append(similarity)
        elif spec.kind in ("numeric", "date"):
            x, y = column.numbers[left], column.numbers[right]
            unreadable = ~np.isfinite(x) | ~np.isfinite(y)
            scale = spec.scale if spec.kind == "numeric" else 30.0
            with np.errstate(invalid="ignore"):
                closeness = 1.0 / (1.0 + np.abs(x - y) / max(scale, 1e-12))
            out.append(np.where(missing | unreadable, 0.0, closeness).astype(np.float32))
            similarity = exact.astype(np.float32)
            similarity[compare] = _similarity(Levenshtein.normalized_similarity, column.values, a[compare], b[compare])
            similarity[unreadable] = 0.0
            out.append(similarity)
            missing = missing | unreadable
        out.append(exact.astype(np.float32))
        out.append(missing.astype(np.float32))
    return np.column_stack(out) if out else np.zeros((left.size, 0), dtype=np.float32)


def column_of_feature(name: str) -> str:
    """The source column of a feature name."""
    return name.rsplit(":", 1)[0]
