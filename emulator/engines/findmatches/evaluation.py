"""Evaluation: held-out labelled pairs scored by a model trained on the other labels.

Labeling sets are split into three folds (each fold trains on about 70 % of the sets
and tests on the rest, as AWS's 70/30 sample does), so every labelled pair is scored
once by a model that never saw its set. Metrics cover labelled pairs only, like AWS's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from .columns import column_specs
from .labels import LabelError, labelled_pairs
from .model import FindMatchesModel, FindMatchesParams, MatchTable

FOLDS = 3


def evaluate(records: pd.DataFrame, labels: pd.DataFrame, params: FindMatchesParams,
             schema: dict[str, str] | None = None, seed: int = 0, table: MatchTable | None = None) -> dict[str, Any]:
    """``FindMatchesMetrics``: AreaUnderPRCurve, Precision, Recall, F1, ConfusionMatrix, ColumnImportances."""
    table = table or MatchTable(records, column_specs(records, params.primary_key, schema), params.primary_key)
    pairs = labelled_pairs(labels, table.keys, params.primary_key)
    if len(pairs) == 0:
        raise LabelError("No labelled pairs to evaluate: label at least two records in one labeling set")
    set_ids = np.unique(pairs.labeling_set)
    rng = np.random.default_rng(seed)
    if set_ids.size >= FOLDS:
        fold_of_set = dict(zip(rng.permutation(set_ids).tolist(), [i % FOLDS for i in range(set_ids.size)]))
        fold = np.array([fold_of_set[s] for s in pairs.labeling_set.tolist()])
    else:  # too few sets to hold whole sets out: hold out pairs
        fold = rng.permutation(len(pairs)) % FOLDS
    logits = np.full(len(pairs), np.nan)
    for k in range(FOLDS):
        train, test = fold != k, fold == k
        if not test.any() or np.unique(pairs.match[train]).size < 2:
            continue
        model = FindMatchesModel.fit_pairs(table, pairs.subset(train), params)
        logits[test] = model.pair_logits(table, pairs.left[test], pairs.right[test])
    scored = ~np.isnan(logits)
    if not scored.any():
        raise LabelError("The labels need matching and non-matching pairs in several labeling sets to evaluate the "
                         "transform on held-out labels")
    truth = pairs.match[scored]
    predicted = (logits[scored] >= params.threshold_logit).astype(int)
    tp = int(((predicted == 1) & (truth == 1)).sum())
    fp = int(((predicted == 1) & (truth == 0)).sum())
    tn = int(((predicted == 0) & (truth == 0)).sum())
    fn = int(((predicted == 0) & (truth == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    auprc = float(average_precision_score(truth, logits[scored])) if truth.any() else 0.0
    full = FindMatchesModel.fit_pairs(table, pairs, params) if np.unique(pairs.match).size == 2 else None
    return {
        "AreaUnderPRCurve": round(auprc, 6), "Precision": round(precision, 6), "Recall": round(recall, 6),
        "F1": round(f1, 6),
        "ConfusionMatrix": {"NumTruePositives": tp, "NumFalsePositives": fp, "NumTrueNegatives": tn,
                            "NumFalseNegatives": fn},
        "ColumnImportances": full.column_importances()[:100] if full is not None else [],
    }
