"""Upper and lower bounds of the built-in algorithms' numeric hyperparameters, checked
before a training job starts its worker process (one compact table, apart from the
algorithms' own reading of their hyperparameters).

Sources: AWS's hyperparameter pages (Linear Learner ``num_classes`` 3 to 1,000,000;
``num_round``/``num_class`` of the SageMaker XGBoost container's own validation) and,
where AWS documents only "positive integer", the 32-bit integers of the algorithm
containers ([U]: the emulator's reading). A value outside its range fails the job with
the containers' ``ClientError`` wording, as AWS does; values inside still run under the
worker's memory cap, which turns whatever remains too big into ``AlgorithmError: ...
out of memory``.
"""
from __future__ import annotations

from .common import AlgorithmError, Hyper

INT32 = 2 ** 31 - 1

Bounds = tuple[float | None, float | None]

INTEGER_RANGES: dict[str, dict[str, Bounds]] = {
    "xgboost": {"num_round": (1, INT32), "num_class": (2, INT32), "max_depth": (0, INT32),
                "max_leaves": (0, INT32), "max_bin": (0, INT32), "num_parallel_tree": (1, INT32),
                "early_stopping_rounds": (1, INT32), "nthread": (1, INT32)},
    "linear-learner": {"num_classes": (3, 1_000_000), "feature_dim": (1, INT32), "epochs": (1, INT32),
                       "mini_batch_size": (1, INT32), "accuracy_top_k": (1, INT32), "num_models": (1, INT32),
                       "num_calibration_samples": (1, INT32), "early_stopping_patience": (1, INT32),
                       "num_point_for_scaler": (1, INT32), "unbias_label": (1, INT32)},
    "knn": {"k": (1, INT32), "sample_size": (1, INT32), "feature_dim": (1, INT32),
            "dimension_reduction_target": (1, INT32), "mini_batch_size": (1, INT32)},
    "blazingtext": {"vector_dim": (1, INT32), "buckets": (1, INT32), "epochs": (1, INT32),
                    "min_count": (0, INT32), "window_size": (1, INT32), "negative_samples": (1, INT32),
                    "word_ngrams": (1, INT32), "patience": (1, INT32), "min_epochs": (1, INT32),
                    "min_char": (1, INT32), "max_char": (1, INT32), "batch_size": (1, INT32)},
}


def check_ranges(algorithm: str, hyperparameters: dict[str, str] | None) -> None:
    """AlgorithmError (the job fails with ``ClientError: ...``) for a value out of range."""
    hp = Hyper(hyperparameters)
    for name, (low, high) in INTEGER_RANGES.get(algorithm, {}).items():
        if hp.has(name) and hp.raw(name) != "auto":
            hp.int(name, minimum=low, maximum=high)
    if algorithm == "knn" and hp.has("k") and hp.has("sample_size"):
        k, sample_size = hp.int("k"), hp.int("sample_size")
        if k is not None and sample_size is not None and k > sample_size:
            raise AlgorithmError("Customer Error: k must be less than or equal to sample_size "
                                 f"(k={k}, sample_size={sample_size}).")
