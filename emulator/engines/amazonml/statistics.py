"""Datasource statistics (``ComputeStatistics``), JSON-serialisable.

Per attribute: count (non-missing), missing, invalid (selected rows rejected because
of this attribute's value; they are not in the other figures), and by type:

* NUMERIC: min/max/mean/median/stddev (population) and a 10-bin histogram;
* BINARY/CATEGORICAL: value counts (top 100) and number of distinct values;
* TEXT: top 100 whitespace tokens with counts and mean token count per record.

Correlation with the target ("targetCorrelation"), documented choice: numeric
target -> absolute Pearson correlation (numeric/binary attributes) or correlation
ratio eta (categorical attributes); categorical/binary target -> correlation ratio
eta of numeric attributes over the target classes, or Cramer's V between
categorical/binary attributes and the target.  TEXT attributes get none.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from . import columns
from .datasets import Dataset


def _eta(values: np.ndarray, groups: np.ndarray) -> float | None:
    """Correlation ratio of numeric ``values`` across groups (integer codes 0..k-1)."""
    ok = ~np.isnan(values)
    v, g = values[ok], groups[ok]
    if len(v) < 2 or v.var() == 0:
        return None
    mean = v.mean()
    total = ((v - mean) ** 2).sum()
    counts = np.bincount(g)
    sums = np.bincount(g, weights=v)
    seen = counts > 0
    between = (counts[seen] * (sums[seen] / counts[seen] - mean) ** 2).sum()
    return float(np.sqrt(between / total))


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cramer's V between two groupings (integer codes)."""
    ka, kb = int(a.max(initial=-1)) + 1, int(b.max(initial=-1)) + 1
    table = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(float)
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return None
    n = table.sum()
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / (n * (min(table.shape) - 1))))


def _labels(col: pd.Series, typ: str) -> tuple[np.ndarray, list[str]]:
    """Each row's value as text ("" for missing; BINARY as "0"/"1"), as integer codes in
    order of first appearance and the texts."""
    if typ == "BINARY":
        arr = col.to_numpy(dtype=float)
        ints = np.where(np.isnan(arr), -1, np.nan_to_num(arr)).astype(np.int64)
        codes, uniques = pd.factorize(ints)
        return np.asarray(codes, dtype=np.int64), ["" if u < 0 else str(int(u)) for u in uniques.tolist()]
    strings = columns.strings_of(col)
    codes, first = pd.factorize(strings.codes)
    texts = [strings.uniques[u] for u in first.tolist()]
    # equal texts under different codes (an object column's str() of mixed values) merge
    merged, names = pd.factorize(np.array(texts, dtype=object)) if texts else (np.zeros(0, dtype=np.int64), [])
    return np.asarray(merged, dtype=np.int64)[codes], list(names)


def _value_counts(codes: np.ndarray, texts: list[str], skip_empty: bool = True) -> tuple[dict[str, int], int]:
    """Counts of the 100 most frequent values (ties in order of first appearance), and the
    number of distinct values; "" (missing) is not a value."""
    counts = np.bincount(codes, minlength=len(texts)) if len(texts) else np.zeros(0, dtype=np.int64)
    keep = [i for i, t in enumerate(texts) if not (skip_empty and t == "") and counts[i] > 0]
    order = sorted(keep, key=lambda i: -counts[i])
    return {texts[i]: int(counts[i]) for i in order[:100]}, len(keep)


def compute_statistics(dataset: Dataset) -> dict[str, Any]:
    """Statistics of a loaded dataset (see module docstring)."""
    frame, schema = dataset.frame, dataset.schema
    target = schema.target
    ttype = schema.type_of(target) if target else None
    attrs: list[dict[str, Any]] = []
    groups: dict[str, np.ndarray] = {}  # per column: its values as group codes, computed once
    for a in schema.attributes:
        col = frame[a.name]
        stat: dict[str, Any] = {"attributeName": a.name, "attributeType": a.type}
        if a.type in ("NUMERIC", "BINARY") and a.name != schema.row_id:
            arr = col.to_numpy(dtype=float)
            ok = arr[~np.isnan(arr)]
            stat.update(count=int(len(ok)), missing=int(len(arr) - len(ok)), invalid=dataset.invalid_by_attribute.get(a.name, 0))
            if a.type == "NUMERIC" and len(ok):
                counts, edges = np.histogram(ok, bins=10)
                stat.update(min=float(ok.min()), max=float(ok.max()), mean=float(ok.mean()),
                            median=float(np.median(ok)), stddev=float(ok.std()),
                            histogram={"binEdges": [float(e) for e in edges], "counts": [int(c) for c in counts]})
            elif a.type == "BINARY":
                values, distinct = _value_counts(*_labels(col, "BINARY"))
                stat.update(valueCounts=values, distinctValues=distinct)
        else:
            codes, texts = _labels(col, "TEXT")
            empty = [i for i, t in enumerate(texts) if t == ""]
            missing = int(np.isin(codes, empty).sum()) if empty else 0
            stat.update(count=len(codes) - missing, missing=missing, invalid=dataset.invalid_by_attribute.get(a.name, 0))
            if a.type == "TEXT":
                counts = np.bincount(codes, minlength=len(texts)) if len(texts) else np.zeros(0, dtype=np.int64)
                tokens: Counter = Counter()
                total_tokens = 0
                for t, c in zip(texts, counts.tolist()):
                    if t == "" or not c:
                        continue
                    toks = t.split()
                    for tok in toks:
                        tokens[tok] += c
                    total_tokens += c * len(toks)
                present = len(codes) - missing
                stat.update(topTokens=dict(tokens.most_common(100)),
                            meanTokenCount=float(total_tokens / present) if present else 0.0)
            else:
                values, distinct = _value_counts(codes, texts)
                stat.update(valueCounts=values, distinctValues=distinct)
        if target and a.name != target and a.name != schema.row_id and a.type != "TEXT":
            stat["targetCorrelation"] = _target_corr(frame, a.name, a.type, target, ttype, groups)
        attrs.append(stat)
    return {"totalRecordCount": dataset.total_record_count,
            "invalidRecordCount": dataset.invalid_record_count,
            "validRecordCount": int(len(frame)),
            "dataSizeInBytes": dataset.size_in_bytes,
            "numberOfFiles": dataset.number_of_files,
            "targetAttributeName": target,
            "attributes": attrs}


def _target_corr(frame: pd.DataFrame, name: str, typ: str, target: str, ttype: str,
                 groups: dict[str, np.ndarray]) -> float | None:
    def grouping(column: str, column_type: str) -> np.ndarray:
        if column not in groups:
            groups[column] = _labels(frame[column], column_type)[0]
        return groups[column]

    try:
        if ttype == "NUMERIC":
            y = frame[target].to_numpy(dtype=float)
            if typ in ("NUMERIC", "BINARY"):
                x = frame[name].to_numpy(dtype=float)
                ok = ~np.isnan(x) & ~np.isnan(y)
                if ok.sum() < 2 or x[ok].std() == 0 or y[ok].std() == 0:
                    return None
                return float(abs(np.corrcoef(x[ok], y[ok])[0, 1]))
            return _eta(y, grouping(name, typ))
        target_groups = grouping(target, ttype)
        if typ == "NUMERIC":
            return _eta(frame[name].to_numpy(dtype=float), target_groups)
        return _cramers_v(grouping(name, typ), target_groups)
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return None
