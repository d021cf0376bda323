"""Data source statistics (what the AWS console shows), computed from an engine Dataset.

Per attribute: type, count (non-missing), missing, and by type numeric
min/max/mean/median/stddev/10-bin histogram, categorical/binary value counts (top
100) and distinct count, text token counts (top 50) and distinct tokens; plus
``correlationToTarget`` = normalised mutual information (0..1) between the
attribute (numerics binned in 10 quantile bins) and the target. Record counts of
the data source are included at the top level.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _codes(series: pd.Series, attr_type: str) -> np.ndarray | None:
    """Discrete codes of a column for mutual information (-1 = missing)."""
    if attr_type in ("NUMERIC", "BINARY"):
        values = series.to_numpy(dtype=float)
        ok = ~np.isnan(values)
        if ok.sum() == 0:
            return None
        if attr_type == "NUMERIC":
            edges = np.unique(np.quantile(values[ok], np.linspace(0, 1, 11)))
            codes = np.full(len(values), -1)
            codes[ok] = np.searchsorted(edges[1:-1], values[ok], side="right")
            return codes
        codes = np.full(len(values), -1)
        codes[ok] = values[ok].astype(int)
        return codes
    return pd.factorize(series.astype(str).replace("", np.nan))[0]


def compute_statistics(dataset: Any) -> dict[str, Any]:
    """JSON-able statistics of ``dataset`` (an engine Dataset)."""
    from sklearn.metrics import normalized_mutual_info_score

    frame: pd.DataFrame = dataset.frame
    schema = dataset.schema
    target = schema.target
    target_codes = None
    if target is not None and target in frame.columns:
        target_codes = _codes(frame[target], schema.type_of(target))
    attributes = []
    for attr in schema.attributes:
        col = frame[attr.name]
        entry: dict[str, Any] = {"attributeName": attr.name, "attributeType": attr.type}
        role = ("target" if attr.name == target else "rowId" if attr.name == schema.row_id
                else "rowWeight" if attr.name == schema.row_weight
                else "excluded" if attr.name in schema.excluded else "input")
        entry["role"] = role
        if attr.type in ("NUMERIC", "BINARY") and attr.name != schema.row_id:
            values = col.to_numpy(dtype=float)
            ok = values[~np.isnan(values)]
            entry["count"] = int(ok.size)
            entry["missing"] = int(len(values) - ok.size)
            if attr.type == "NUMERIC" and ok.size:
                hist, edges = np.histogram(ok, bins=10)
                entry.update({"min": _finite(ok.min()), "max": _finite(ok.max()), "mean": _finite(ok.mean()),
                              "median": _finite(np.median(ok)), "stddev": _finite(ok.std()),
                              "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in hist]}})
            elif attr.type == "BINARY":
                entry["valueCounts"] = {"0": int((ok == 0).sum()), "1": int((ok == 1).sum())}
        elif attr.type == "TEXT":
            texts = col.astype(str)
            present = texts[texts.str.strip() != ""]
            entry["count"] = int(len(present))
            entry["missing"] = int(len(texts) - len(present))
            tokens: Counter[str] = Counter()
            for text in present:
                tokens.update(text.split())
            entry["distinctTokens"] = len(tokens)
            entry["tokenCounts"] = dict(tokens.most_common(50))
        else:
            texts = col.astype(str)
            present = texts[texts != ""]
            entry["count"] = int(len(present))
            entry["missing"] = int(len(texts) - len(present))
            counts = present.value_counts()
            entry["distinctValues"] = int(len(counts))
            entry["valueCounts"] = {str(k): int(v) for k, v in counts.head(100).items()}
        if target_codes is not None and role == "input":
            codes = _codes(col, attr.type)
            if codes is not None:
                both = (codes >= 0) & (target_codes >= 0)
                if both.sum() > 1:
                    entry["correlationToTarget"] = float(normalized_mutual_info_score(target_codes[both], codes[both]))
        attributes.append(entry)
    return {
        "totalRecordCount": int(dataset.total_record_count),
        "invalidRecordCount": int(dataset.invalid_record_count),
        "validRecordCount": int(len(frame)),
        "dataSizeInBytes": int(dataset.size_in_bytes),
        "numberOfFiles": int(dataset.number_of_files),
        "targetAttributeName": target,
        "attributes": attributes,
    }
