"""XGBoost built-in algorithm (images ``sagemaker-xgboost`` and legacy ``xgboost``).

* Training data: ``text/csv`` (no header, label first; empty cells are missing values)
  or ``text/libsvm``. Channels ``train`` (required) and ``validation``.
* Log lines copy what the AWS container shows in CloudWatch, where the tab between
  metrics is rendered ``#011``: ``[3]#011train-auc:0.99#011validation-auc:0.98``; the
  MetricDefinitions regexes (``.*\\[[0-9]+\\].*#011validation-auc:(...)``) match them.
  Final metrics are the values of the last round (best round with early stopping).
* SageMaker-only metrics ``accuracy``, ``f1``, ``mse``, ``r2``, ``precision``, ``recall``,
  ``balanced_accuracy`` are computed by the engine (threshold 0.5 / argmax).
* ``csv_weights=1``: the column after the label holds the instance weights (train and
  validation CSV), as AWS's container reads them; with libsvm input it has no effect
  (a warning in the log says so).
* Hyperparameters this xgboost (3.x, CPU) cannot apply are refused, never ignored:
  ``lambda_bias``/``sketch_eps`` (removed from xgboost), ``silent`` (use ``verbosity``),
  ``dsplit``/``prob_buffer_row`` (legacy), GPU-only switches set to true
  (``single_precision_histogram``, ``deterministic_histogram``, ``use_dask_gpu_training``),
  ``save_model_on_termination=true`` and AWS's internal ``_kfold``/``_num_cv_round``.
* Artefact ``xgboost-model``: the booster in xgboost's JSON format (never pickle).
* Inference: text/csv, text/libsvm, application/json (``{"instances":[{"features":[..]}]}``)
  and application/jsonlines in; text/csv (default; one score per line,
  comma-separated class probabilities for multi:softprob), application/json
  (``{"predictions":[{"score": ...}]}``) or application/jsonlines out.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import warnings

import numpy as np

from ..cores import available_cores
from .channels import (channel_format, parse_features_payload, read_labelled_csv, read_libsvm,
                       require_channel)
from .common import AlgorithmError, Hyper, Log, ModelError, Progress, TrainingResult, base_content_type, dumps

OBJECTIVES = [
    "reg:squarederror", "reg:linear", "reg:logistic", "reg:squaredlogerror", "reg:pseudohubererror",
    "reg:absoluteerror", "reg:gamma", "reg:tweedie", "binary:logistic", "binary:logitraw",
    "binary:hinge", "count:poisson", "multi:softmax", "multi:softprob", "rank:pairwise",
    "rank:ndcg", "rank:map", "survival:cox",
]
FLOAT_PARAMS = {"eta": (0, 1), "gamma": (0, None), "min_child_weight": (0, None),
                "max_delta_step": (0, None), "subsample": (0, 1), "colsample_bytree": (0, 1),
                "colsample_bylevel": (0, 1), "colsample_bynode": (0, 1), "lambda": (0, None),
                "alpha": (0, None), "scale_pos_weight": (0, None), "base_score": (None, None),
                "tweedie_variance_power": (1, 2), "max_bin": (1, None),
                "rate_drop": (0, 1), "skip_drop": (0, 1)}
INT_PARAMS = {"max_depth": 0, "num_class": 1, "seed": None, "max_leaves": 0, "num_parallel_tree": 1,
              "verbosity": 0, "nthread": 1, "one_drop": 0, "refresh_leaf": 0, "max_bin": 2}
STR_PARAMS = {"booster", "tree_method", "grow_policy", "process_type", "sample_type",
              "normalize_type", "updater", "interaction_constraints", "monotone_constraints"}
# refused: name -> (value that is still accepted, or None for "any value is refused"; why)
REFUSED = {
    "lambda_bias": (None, "it was removed from XGBoost (1.0+); use 'lambda' and 'alpha'"),
    "sketch_eps": (None, "it was removed from XGBoost (1.6+); use 'max_bin'"),
    "silent": (None, "it was removed from XGBoost; use 'verbosity'"),
    "dsplit": (None, "distributed column splitting is not supported"),
    "prob_buffer_row": (None, "it is not supported by XGBoost 1.0+"),
    "single_precision_histogram": ("false", "it applies only to GPU training, which this emulator does not offer"),
    "deterministic_histogram": ("false", "it applies only to GPU training, which this emulator does not offer"),
    "use_dask_gpu_training": ("false", "it applies only to GPU training, which this emulator does not offer"),
    "save_model_on_termination": ("false", "a stopped training job saves no model here"),
    "_kfold": (None, "cross-validation training is not supported"),
    "_num_cv_round": (None, "cross-validation training is not supported"),
}
CUSTOM = {"accuracy", "f1", "mse", "r2", "precision", "recall", "balanced_accuracy"}
KNOWN = set(FLOAT_PARAMS) | set(INT_PARAMS) | STR_PARAMS | set(REFUSED) | {
    "num_round", "objective", "eval_metric", "early_stopping_rounds", "csv_weights"}


def _read(channel, n_features=None, csv_weights=False):
    """``(X, y, weights or None)``; with ``csv_weights`` the CSV column after the label is
    the instance weight."""
    fmt = channel_format(channel, {"text/csv", "text/libsvm"})
    if fmt == "text/csv":
        X, y = read_labelled_csv(channel, min_columns=3 if csv_weights else 2)
        if not csv_weights:
            return X, y, None
        weights = X[:, 0]
        if np.isnan(weights).any() or (weights < 0).any():
            raise AlgorithmError(f"csv_weights=1: the weight column (column 2) of channel '{channel.name}'"
                                 " must hold non-negative numbers on every row.")
        return X[:, 1:], y, weights
    X, y = read_libsvm(channel, n_features)
    return X, y, None


def _custom_values(metrics, preds, y, objective):
    if objective.startswith("multi:"):
        labels = preds.argmax(axis=1) if preds.ndim == 2 else preds
    elif objective.startswith("binary:") or objective == "reg:logistic":
        labels = (preds > (0.0 if objective == "binary:logitraw" else 0.5)).astype(float)
    else:
        labels = preds
    out = []
    from sklearn import metrics as skm
    for m in metrics:
        if m == "accuracy":
            out.append((m, float(np.mean(labels == y))))
        elif m == "balanced_accuracy":
            out.append((m, float(skm.balanced_accuracy_score(y, labels))))
        elif m in ("f1", "precision", "recall"):
            avg = "binary" if len(np.unique(y)) <= 2 and not objective.startswith("multi:") else "macro"
            fn = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}[m]
            out.append((m, float(fn(y, labels, average=avg, zero_division=0))))
        elif m == "mse":
            out.append((m, float(np.mean((preds - y) ** 2))))
        elif m == "r2":
            out.append((m, float(skm.r2_score(y, preds))))
    return out


def _round_logger(log: Log):
    """An xgboost callback writing each boosting round's metrics as AWS logs them
    (``[3]#011train-auc:0.99#011validation-auc:0.98``) when the round ends, and
    telling ``log``'s listener, which may stop training there (a tuning job's early stopping)."""
    import xgboost as xgb

    class RoundLogger(xgb.callback.TrainingCallback):
        stopped_at: int | None = None

        def after_iteration(self, model, epoch: int, evals_log) -> bool:
            parts = [f"[{epoch}]"]
            for channel, values in evals_log.items():
                for metric, history in values.items():
                    value = history[-1][0] if isinstance(history[-1], tuple) else history[-1]
                    parts.append(f"{channel}-{metric}:{float(value):.5f}")
            log.raw("#011".join(parts))
            if log.epoch_end():
                self.stopped_at = epoch
                return True
            return False

    return RoundLogger()


def train(hyperparameters: dict, channels: dict, progress: Progress | None = None) -> TrainingResult:
    import xgboost as xgb

    hp = Hyper(hyperparameters, KNOWN)
    log = Log(progress)
    train_ch = require_channel(channels, "train", ["train", "validation"])
    num_round = hp.int("num_round", required=True, minimum=1)
    objective = hp.choice("objective", OBJECTIVES, "reg:squarederror")
    if objective == "reg:linear":
        objective = "reg:squarederror"
    # threads for training: every core this process may use (OpenMP waits passively, see
    # ``emulator/_forkserver_init.py``, so idle threads never spin against other work)
    params: dict = {"objective": objective, "nthread": available_cores()}
    for name, (lo, hi) in FLOAT_PARAMS.items():
        value = hp.float(name, None, minimum=lo, maximum=hi)
        if value is not None:
            params[name] = value
    for name, lo in INT_PARAMS.items():
        value = hp.int(name, None, minimum=lo)
        if value is not None:
            params[name] = value
    for name in STR_PARAMS:
        if hp.has(name):
            params[name] = hp.raw(name)
    for name, (accepted, why) in REFUSED.items():
        if hp.has(name) and (accepted is None or hp.raw(name).lower() not in (accepted, "0")):
            raise AlgorithmError(
                "Unable to initialize the algorithm. Failed to validate input hyperparameters."
                f" (caused by ValidationError) Caused by: hyperparameter '{name}' is not supported: {why}.")
    csv_weights = hp.int("csv_weights", 0, minimum=0, maximum=1) == 1
    params.setdefault("seed", 0)
    if objective.startswith("multi:") and "num_class" not in params:
        raise AlgorithmError("No value for 'num_class' hyperparameter (required for multi:* objectives)")
    early = hp.int("early_stopping_rounds", None, minimum=1)
    eval_metrics = [m.strip() for m in (hp.raw("eval_metric") or "").split(",") if m.strip()]
    native = [m for m in eval_metrics if m.split("@")[0] not in CUSTOM]
    custom = [m for m in eval_metrics if m in CUSTOM]
    if native:
        params["eval_metric"] = native

    X, y, weights = _read(train_ch, csv_weights=csv_weights)
    if csv_weights and weights is None:
        log.warning("csv_weights=1 has no effect: the train channel is not text/csv.")
    elif csv_weights:
        log.info(f"csv_weights=1: column 2 of the train data holds instance weights (sum {float(weights.sum())!r})")
    dtrain = xgb.DMatrix(X, label=y, weight=weights, missing=np.nan)
    evals = [(dtrain, "train")]
    data = {"train": (dtrain, y)}
    if "validation" in channels:
        Xv, yv, wv = _read(channels["validation"], X.shape[1], csv_weights)
        if Xv.shape[1] != X.shape[1]:
            raise AlgorithmError(
                f"Feature shape mismatch: channel 'validation' has {Xv.shape[1]} features,"
                f" channel 'train' has {X.shape[1]}.")
        dval = xgb.DMatrix(Xv, label=yv, weight=wv, missing=np.nan)
        evals.append((dval, "validation"))
        data["validation"] = (dval, yv)
    if early and "validation" not in data:
        raise AlgorithmError("early_stopping_rounds requires a 'validation' channel.")
    if objective.startswith("multi:"):
        labels = np.unique(y)  # never np.arange(num_class): num_class may be huge
        bad = labels[(labels < 0) | (labels >= params["num_class"]) | (labels != np.floor(labels))]
        if bad.size:
            raise AlgorithmError(f"label must be in [0, num_class), found {bad[0]!r} (num_class={params['num_class']})")
    if objective in ("binary:logistic", "binary:logitraw", "binary:hinge") and ((y < 0) | (y > 1)).any():
        raise AlgorithmError("label must be in [0,1] for logistic loss")

    custom_fn = None
    if custom:
        def custom_fn(preds, dmat):
            return _custom_values(custom, preds, dmat.get_label(), objective)

    history: dict = {}
    rounds_logger = _round_logger(log)
    printed = io.StringIO()
    try:
        # xgboost's own messages (how many depends on ``verbosity``) go to the training log
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed), \
                xgb.config_context(verbosity=params.get("verbosity", 1)):
            warnings.simplefilter("always")
            booster = xgb.train(params, dtrain, num_boost_round=num_round, evals=evals,
                                evals_result=history, early_stopping_rounds=early,
                                custom_metric=custom_fn, verbose_eval=False, callbacks=[rounds_logger])
    except xgb.core.XGBoostError as exc:
        raise AlgorithmError(f"XGBoost training failed: {str(exc).splitlines()[0]}") from None
    for message in [str(w.message) for w in caught] + printed.getvalue().splitlines():
        for line in message.strip().splitlines():
            if line.strip():
                log.raw(line.strip())

    names = list(history.get("train", {}))
    rounds = len(history["train"][names[0]]) if names else 0
    if rounds_logger.stopped_at is not None:
        log.info(f"The hyperparameter tuning job stopped training after round [{rounds_logger.stopped_at}]"
                 f" (its objective was worse than the median of completed training jobs).")
    final = getattr(booster, "best_iteration", None) if early else None
    idx = final if final is not None else rounds - 1
    metrics = [(f"{channel}:{m}", round(float(history[channel][m][idx]), 5))
               for channel in history for m in history[channel]] if rounds else []
    if early and final is not None:
        log.info(f"Stopping. Best iteration: [{final}]")
        booster = booster[: final + 1]
    model = booster.save_raw("json")
    return TrainingResult({"xgboost-model": bytes(model)}, metrics, log.lines,
                          stopped_early=rounds_logger.stopped_at is not None)


class XGBoostPredictor:
    def __init__(self, files: dict[str, bytes]):
        import xgboost as xgb

        self.xgb = xgb
        data = files.get("xgboost-model")
        if data is None:
            raise AlgorithmError("Unable to load model: xgboost-model not found in model.tar.gz")
        try:
            self.booster = xgb.Booster(params={"nthread": 1})
            self.booster.load_model(bytearray(data))
        except (xgb.core.XGBoostError, ValueError) as exc:  # ValueError: undecodable bytes
            raise AlgorithmError(f"Unable to load model: {str(exc).splitlines()[0]}") from None
        self.n_features = self.booster.num_features()
        config = json.loads(self.booster.save_config())
        self.objective = config["learner"]["objective"]["name"]

    def invoke(self, body: bytes, content_type: str | None, accept: str | None,
               custom_attributes: str | None = None) -> tuple[bytes, str]:
        accept_type, _ = base_content_type(accept)
        if accept_type in (None, "*/*"):
            accept_type = "text/csv"
        if accept_type not in ("text/csv", "application/json", "application/jsonlines"):
            raise ModelError(f"Accept type {accept} is not supported by this algorithm.", 406)
        X = parse_features_payload(body, content_type)
        if X.shape[1] > self.n_features or (not hasattr(X, "tocsr") and X.shape[1] != self.n_features):
            raise ModelError(
                f"Feature size of the input ({X.shape[1]}) does not match the model ({self.n_features}).")
        if hasattr(X, "tocsr") and X.shape[1] < self.n_features:
            X.resize((X.shape[0], self.n_features))
        try:
            preds = self.booster.predict(self.xgb.DMatrix(X, missing=np.nan))
        except (self.xgb.core.XGBoostError, ValueError) as exc:
            raise ModelError(f"Unable to predict: {str(exc).splitlines()[0]}") from None
        scores = [[float(v) for v in row] if np.ndim(row) else float(row) for row in preds]
        if accept_type == "text/csv":
            lines = [",".join(repr(v) for v in s) if isinstance(s, list) else repr(s) for s in scores]
            return ("\n".join(lines)).encode(), "text/csv"
        predictions = [{"score": s} for s in scores]
        if accept_type == "application/jsonlines":
            return b"".join(dumps(p) + b"\n" for p in predictions), "application/jsonlines"
        return dumps({"predictions": predictions}), "application/json"


def load_predictor(files: dict[str, bytes]) -> XGBoostPredictor:
    return XGBoostPredictor(files)
