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

# name -> (logged name pattern, tag) of the final "#quality_metric" lines, as AWS defines them
_LINEAR_FINAL = {
    "binary_classification_accuracy": ("binary_classification_accuracy", "score"),
    "binary_f_beta": (r"binary_f_\S+", "score"), "precision": ("precision", "score"),
    "recall": ("recall", "score"), "multiclass_accuracy": ("multiclass_accuracy", "score"),
    "multiclass_top_k_accuracy": (r"multiclass_top_k_accuracy_\S+", "score"), "dcg": ("dcg", "score"),
    "macro_f_beta": (r"macro_f_\S+", "score"), "macro_precision": ("macro_precision", "score"),
    "macro_recall": ("macro_recall", "score"), "mse": ("mse", "loss"), "rmse": ("rmse", "loss"),
    "absolute_loss": ("absolute_loss", "loss"),
}
_LINEAR = (
    [{"Name": f"{channel}:{name}", "Regex": rf"#quality_metric: host=\S+, {channel} {pattern} <{tag}>=(\S+)"}
     for channel in ("test", "validation") for name, (pattern, tag) in _LINEAR_FINAL.items()]
    + [{"Name": "test:objective_loss", "Regex": r"#quality_metric: host=\S+, test \S+_objective <loss>=(\S+)"}]
    + [{"Name": f"{channel}:objective_loss",
        "Regex": rf"#quality_metric: host=\S+, epoch=\S+, {channel} \S+_objective <loss>=(\S+)"}
       for channel in ("train", "validation")]
    + [{"Name": f"{channel}:objective_loss:final",
        "Regex": rf"#quality_metric: host=\S+, {channel} \S+_objective <loss>=(\S+)"}
       for channel in ("train", "validation")]
    + [{"Name": "train:progress", "Regex": r"#progress_metric: host=\S+, completed (\S+) %"}]
)

_BY_ALGO = {"knn": _KNN, "blazingtext": _BLAZINGTEXT, "xgboost": _XGBOOST, "linear-learner": _LINEAR}


def metric_definitions(algorithm: str) -> list[dict]:
    return [dict(d) for d in _BY_ALGO.get(algorithm, [])]
