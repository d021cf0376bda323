"""Built-in MetricDefinitions (as AWS fills them into AlgorithmSpecification).

Each regex matches a line this engine writes to the training log (see the algorithm
modules); the first group is the value.
"""
from __future__ import annotations

_NUM = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"

_KNN = [
    {"Name": "test:accuracy", "Regex": r"#test_score \(algo-\d+\) : \('accuracy', (\S+)\)"},
    {"Name": "test:mse", "Regex": r"#test_score \(algo-\d+\) : \('mse', (\S+)\)"},
]

_BLAZINGTEXT = [
    {"Name": "train:mean_rho", "Regex": r"#mean_rho: (\S+)"},
    {"Name": "validation:accuracy", "Regex": r"#validation_accuracy: (\S+)"},
]

XGBOOST_METRICS = [
    "accuracy", "auc", "aucpr", "error", "f1", "gamma-deviance", "gamma-nloglik", "logloss",
    "mae", "map", "merror", "mlogloss", "mse", "ndcg", "poisson-nloglik", "rmse", "rmsle",
    "tweedie-nloglik", "mape", "cox-nloglik", "balanced_accuracy", "precision", "recall", "r2",
]
_XGBOOST = [
    {"Name": f"{channel}:{m}", "Regex": rf".*\[[0-9]+\].*#011{channel}-{m}:{_NUM}.*"}
    for channel in ("train", "validation") for m in XGBOOST_METRICS
]

LINEAR_LEARNER_METRICS = {
    # name -> tag used in the "#quality_metric" line
    "objective_loss": "loss", "binary_classification_accuracy": "score",
    "binary_f_beta": "score", "precision": "score", "recall": "score",
    "roc_auc_score": "score", "multiclass_accuracy": "score", "multiclass_top_k_accuracy": "score",
    "dcg": "score", "macro_f_beta": "score", "macro_precision": "score", "macro_recall": "score",
    "mse": "loss", "rmse": "loss", "absolute_loss": "loss", "r2": "score",
    "binary_classification_cross_entropy": "loss", "multiclass_cross_entropy": "loss",
}
_LINEAR = [
    {"Name": f"{channel}:{m}",
     "Regex": rf"#quality_metric: host=\S+, {channel} {m} <{tag}>=(\S+)"}
    for channel in ("test", "validation") for m, tag in LINEAR_LEARNER_METRICS.items()
] + [{"Name": "train:objective_loss", "Regex": r"#quality_metric: host=\S+, epoch=\S+, train objective_loss <loss>=(\S+)"}]

_BY_ALGO = {"knn": _KNN, "blazingtext": _BLAZINGTEXT, "xgboost": _XGBOOST, "linear-learner": _LINEAR}


def metric_definitions(algorithm: str) -> list[dict]:
    return [dict(d) for d in _BY_ALGO.get(algorithm, [])]
