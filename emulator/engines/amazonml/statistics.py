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

from .datasets import Dataset


def _eta(values: np.ndarray, groups: np.ndarray) -> float | None:
    """Correlation ratio of numeric ``values`` across categorical ``groups``."""
    ok = ~np.isnan(values)
    v, g = values[ok], groups[ok]
    if len(v) < 2 or v.var() == 0:
        return None
    total = ((v - v.mean()) ** 2).sum()
    between = sum(len(v[g == k]) * (v[g == k].mean() - v.mean()) ** 2 for k in np.unique(g))
    return float(np.sqrt(between / total))


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float | None:
    table = pd.crosstab(a, b).to_numpy(dtype=float)
    if table.shape[0] < 2 or table.shape[1] < 2:
        return None
    n = table.sum()
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / (n * (min(table.shape) - 1))))


def _as_groups(col: pd.Series, typ: str) -> np.ndarray:
    if typ == "BINARY":
        return np.array(["" if v != v else str(int(v)) for v in col], dtype=object)
    return col.astype(str).to_numpy(dtype=object)


def compute_statistics(dataset: Dataset) -> dict[str, Any]:
    """Statistics of a loaded dataset (see module docstring)."""
    frame, schema = dataset.frame, dataset.schema
    target = schema.target
    ttype = schema.type_of(target) if target else None
    attrs: list[dict[str, Any]] = []
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
                vc = Counter(str(int(v)) for v in ok)
                stat.update(valueCounts=dict(vc.most_common(100)), distinctValues=len(vc))
        else:
            values = ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in col]
            present = [v for v in values if v != ""]
            stat.update(count=len(present), missing=len(values) - len(present), invalid=dataset.invalid_by_attribute.get(a.name, 0))
            if a.type == "TEXT":
                tokens = Counter()
                lengths = []
                for v in present:
                    toks = v.split()
                    tokens.update(toks)
                    lengths.append(len(toks))
                stat.update(topTokens=dict(tokens.most_common(100)),
                            meanTokenCount=float(np.mean(lengths)) if lengths else 0.0)
            else:
                vc = Counter(present)
                stat.update(valueCounts=dict(vc.most_common(100)), distinctValues=len(vc))
        if target and a.name != target and a.name != schema.row_id and a.type != "TEXT":
            stat["targetCorrelation"] = _target_corr(frame, a.name, a.type, target, ttype)
        attrs.append(stat)
    return {"totalRecordCount": dataset.total_record_count,
            "invalidRecordCount": dataset.invalid_record_count,
            "validRecordCount": int(len(frame)),
            "dataSizeInBytes": dataset.size_in_bytes,
            "numberOfFiles": dataset.number_of_files,
            "targetAttributeName": target,
            "attributes": attrs}


def _target_corr(frame: pd.DataFrame, name: str, typ: str, target: str, ttype: str) -> float | None:
    try:
        if ttype == "NUMERIC":
            y = frame[target].to_numpy(dtype=float)
            if typ in ("NUMERIC", "BINARY"):
                x = frame[name].to_numpy(dtype=float)
                ok = ~np.isnan(x) & ~np.isnan(y)
                if ok.sum() < 2 or x[ok].std() == 0 or y[ok].std() == 0:
                    return None
                return float(abs(np.corrcoef(x[ok], y[ok])[0, 1]))
            return _eta(y, _as_groups(frame[name], typ))
        groups = _as_groups(frame[target], ttype)
        if typ == "NUMERIC":
            return _eta(frame[name].to_numpy(dtype=float), groups)
        return _cramers_v(_as_groups(frame[name], typ), groups)
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return None
