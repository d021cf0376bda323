"""Evaluation metrics (``PerformanceMetrics.Properties``).

Exactly one key per model type, value ``repr(float)``: BinaryAUC (ROC AUC of
P(y=1)), MulticlassAvgFScore (macro F1 over the classes present in truth or
prediction), RegressionRMSE.  Evaluation data are coerced to the training schema
types; rows with a missing target are skipped.  An evaluation set with a single
class makes AUC undefined -> DataProcessingError.
"""
from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import f1_score, mean_squared_error, roc_auc_score

from .datasets import Dataset, coerce_frame, rows_with_target
from .errors import DataProcessingError
from .model import TrainedModel


def evaluate(model: TrainedModel, dataset: Dataset) -> dict[str, str]:
    """Compute the single Amazon ML metric of ``model`` on ``dataset``."""
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
        return {"BinaryAUC": repr(float(roc_auc_score(yt, pred.scores)))}
    if model.model_type == "MULTICLASS":
        return {"MulticlassAvgFScore": repr(float(f1_score(truth.astype(str).tolist(), pred.labels,
                                                            average="macro", zero_division=0)))}
    rmse = math.sqrt(mean_squared_error(truth.to_numpy(dtype=float), pred.values))
    return {"RegressionRMSE": repr(float(rmse))}
