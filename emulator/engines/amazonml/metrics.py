"""Evaluation metrics (``PerformanceMetrics.Properties``).

Exactly one key per model type, value ``repr(float)``: BinaryAUC (ROC AUC of
P(y=1)), MulticlassAvgFScore (macro F1 over the classes present in truth or
prediction), RegressionRMSE.  Evaluation data are coerced to the training schema
types; rows with a missing target are skipped.  An evaluation set with a single
class makes AUC undefined -> DataProcessingError.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, mean_squared_error, roc_auc_score

from .datasets import Dataset, coerce_frame, rows_with_target
from .errors import DataProcessingError
from .model import TrainedModel


def evaluate(model: TrainedModel, dataset: Dataset) -> dict[str, str]:
    """Compute the single Amazon ML metric of ``model`` on ``dataset``."""
    return evaluate_with_insights(model, dataset)[0]


def evaluate_with_insights(model: TrainedModel, dataset: Dataset,
                           baseline: float | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    """The metric and what AWS's console draws from the same predictions.

    BINARY: per class, a 100-bin histogram of scores over [0, 1] (bin ``i`` holds
    ``i/100 <= score < (i+1)/100``; 1.0 falls in the last bin), so precision, recall,
    FPR and accuracy can be read at any cut-off on the 0.01 grid.
    MULTICLASS: the confusion matrix (rows = true class, columns = predicted, over
    the sorted union of classes) and each class's F1.
    REGRESSION: a 20-bin residual (truth - prediction) histogram and the baseline
    RMSE of always predicting ``baseline`` (the training target's mean; the
    evaluation target's mean when not given).
    """
    target = model.schema.target
    frame = coerce_frame(dataset.frame, dataset.schema, model.schema)
    if target not in dataset.frame.columns:
        raise DataProcessingError(f"Evaluation data has no target attribute '{target}'")
    frame = rows_with_target(frame, target, model.model_type)
    if len(frame) == 0:
        raise DataProcessingError(f"No evaluation records have a value for target attribute '{target}'")
    pred = model.predict_frame(frame)
    truth = frame[target]
    if model.model_type == "BINARY":
        yt = truth.to_numpy(dtype=float).astype(int)
        if len(np.unique(yt)) < 2:
            raise DataProcessingError(f"Evaluation data contains a single value of target '{target}'; AUC is undefined")
        scores = np.asarray(pred.scores, dtype=float)
        bins = np.minimum((scores * 100).astype(int), 99)
        insights = {"type": "BINARY", "records": int(len(yt)),
                    "histogram": {"0": np.bincount(bins[yt == 0], minlength=100).tolist(),
                                  "1": np.bincount(bins[yt == 1], minlength=100).tolist()}}
        return {"BinaryAUC": repr(float(roc_auc_score(yt, scores)))}, insights
    if model.model_type == "MULTICLASS":
        true_labels = truth.astype(str).tolist()
        classes = sorted(set(true_labels) | set(pred.labels))
        matrix = confusion_matrix(true_labels, pred.labels, labels=classes)
        per_class = f1_score(true_labels, pred.labels, labels=classes, average=None, zero_division=0)
        macro = float(f1_score(true_labels, pred.labels, average="macro", zero_division=0))
        insights = {"type": "MULTICLASS", "records": len(true_labels), "classes": classes,
                    "confusionMatrix": matrix.tolist(), "f1": [float(v) for v in per_class], "macroF1": macro}
        return {"MulticlassAvgFScore": repr(macro)}, insights
    y = truth.to_numpy(dtype=float)
    values = np.asarray(pred.values, dtype=float)
    rmse = math.sqrt(mean_squared_error(y, values))
    base = float(np.mean(y)) if baseline is None else float(baseline)
    counts, edges = np.histogram(y - values, bins=20)
    insights = {"type": "REGRESSION", "records": int(len(y)), "rmse": rmse, "baselineValue": base,
                "baselineRmse": math.sqrt(float(np.mean((y - base) ** 2))),
                "residualHistogram": {"binEdges": [float(e) for e in edges], "counts": [int(c) for c in counts]}}
    return {"RegressionRMSE": repr(float(rmse))}, insights
