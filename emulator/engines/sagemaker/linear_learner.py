"""Linear Learner built-in algorithm (image ``linear-learner``).

Trained by a real epoch loop (``linear_sgd.py``): ``num_models`` linear models side by
side with mini-batch SGD / Adam / RMSProp in numpy, on standardised features
(``normalize_data``), with early stopping on the validation channel (or the training
loss) and the best model chosen by ``binary_classifier_model_selection_criteria`` (binary)
or the loss. Binary classifiers calibrate their decision threshold like AWS does
(``accuracy``, ``f_beta``, ``precision_at_target_recall``, ``recall_at_target_precision``;
``loss_function`` keeps 0.5) on the first ``num_calibration_samples`` rows of the
validation channel, or of the train channel without one.
Hyperparameters set to ``auto`` (``learning_rate``, ``wd``, ``l1``, ``num_models``) make the
models differ: every combination of learning rate {0.1, 0.01} x wd {1e-4, 1e-2} x
l1 {0, 1e-3} over the ``auto`` ones (at most 8 models). A hyperparameter tuning job
(``_tuning_objective_metric`` present) trains one model, as AWS does.
Log lines are AWS's: per epoch ``#quality_metric: host=algo-1, epoch=3, train
binary_classification_cross_entropy_objective <loss>=0.2`` (and ``validation``, of the best
model at that epoch), ``#early_stopping_criteria_metric``, ``#progress_metric``; at the end
``#quality_metric: host=algo-1, test binary_classification_accuracy <score>=0.97``.
The parameters are stored as plain arrays (``model_algo-1.npz``, loaded with
``allow_pickle=False``) + ``model_algo-1.json``; no pickle.
Data: ``text/csv`` (label first) or ``application/x-recordio-protobuf`` for training;
requests in CSV, JSON, JSON lines or RecordIO-protobuf; answers in JSON, JSON lines or
RecordIO-protobuf (one Record per row, ``label`` map with ``score`` and, for
classifiers, ``predicted_label``).
"""
from __future__ import annotations

import io
import itertools
import json
import re

import numpy as np

from .channels import PROTOBUF, check_width, parse_features_payload, read_labelled, require_channel
from .common import AlgorithmError, Hyper, Log, ModelError, TrainingResult, base_content_type, dumps
from .linear_sgd import LossSpec, TrainSpec, losses_and_grads, raw_outputs, train_models
from .metrics import metric_definitions
from .recordio import write_records

FORMATS = {"text/csv", PROTOBUF}
KNOWN = {
    "predictor_type", "feature_dim", "num_classes", "epochs", "mini_batch_size", "learning_rate",
    "l1", "wd", "loss", "normalize_data", "normalize_label", "optimizer", "use_bias",
    "binary_classifier_model_selection_criteria", "target_recall", "target_precision",
    "positive_example_weight_mult", "num_models", "num_calibration_samples", "init_method",
    "init_scale", "init_sigma", "init_bias", "lr_scheduler_step", "lr_scheduler_factor",
    "lr_scheduler_minimum_lr", "momentum", "beta_1", "beta_2", "bias_lr_mult", "bias_wd_mult",
    "early_stopping_patience", "early_stopping_tolerance", "margin", "quantile", "loss_insensitivity",
    "huber_delta", "unbias_data", "unbias_label", "num_point_for_scaler", "accuracy_top_k",
    "f_beta", "balance_multiclass_weights",
}

LOSSES = {
    "binary_classifier": ("logistic", ["logistic", "hinge_loss"]),
    "multiclass_classifier": ("softmax_loss", ["softmax_loss"]),
    "regressor": ("squared_loss", ["squared_loss", "absolute_loss", "eps_insensitive_squared_loss",
                                   "eps_insensitive_absolute_loss", "quantile_loss", "huber_loss"]),
}
ALL_LOSSES = ["auto", "logistic", "squared_loss", "absolute_loss", "hinge_loss",
              "eps_insensitive_squared_loss", "eps_insensitive_absolute_loss", "quantile_loss",
              "huber_loss", "softmax_loss"]
OBJECTIVE_NAMES = {
    "logistic": "binary_classification_cross_entropy_objective",
    "hinge_loss": "binary_classification_hinge_loss_objective",
    "softmax_loss": "multiclass_cross_entropy_objective",
    "squared_loss": "mse_objective",
    "absolute_loss": "absolute_loss_objective",
    "eps_insensitive_squared_loss": "eps_insensitive_squared_loss_objective",
    "eps_insensitive_absolute_loss": "eps_insensitive_absolute_loss_objective",
    "quantile_loss": "quantile_loss_objective",
    "huber_loss": "huber_loss_objective",
}
CRITERIA = ["accuracy", "f_beta", "precision_at_target_recall", "recall_at_target_precision", "loss_function"]
LR_GRID, WD_GRID, L1_GRID = (0.1, 0.01), (1e-4, 1e-2), (0.0, 1e-3)
# hyperparameter -> (the setting it belongs to, test); set outside it, it has no effect
_ONLY_WITH = {
    "margin": ("loss=hinge_loss", lambda c: c["loss"] == "hinge_loss"),
    "quantile": ("loss=quantile_loss", lambda c: c["loss"] == "quantile_loss"),
    "loss_insensitivity": ("an eps_insensitive_* loss", lambda c: c["loss"].startswith("eps_insensitive")),
    "huber_delta": ("loss=huber_loss", lambda c: c["loss"] == "huber_loss"),
    "momentum": ("optimizer=sgd", lambda c: c["optimizer"] == "sgd"),
    "beta_1": ("optimizer=adam", lambda c: c["optimizer"] == "adam"),
    "beta_2": ("optimizer=adam", lambda c: c["optimizer"] == "adam"),
    "init_scale": ("init_method=uniform", lambda c: c["init_method"] == "uniform"),
    "init_sigma": ("init_method=normal", lambda c: c["init_method"] == "normal"),
    "target_recall": ("binary_classifier_model_selection_criteria=precision_at_target_recall",
                      lambda c: c["criteria"] == "precision_at_target_recall"),
    "target_precision": ("binary_classifier_model_selection_criteria=recall_at_target_precision",
                         lambda c: c["criteria"] == "recall_at_target_precision"),
    "early_stopping_tolerance": ("early stopping (early_stopping_patience <= epochs)",
                                 lambda c: c["patience"] <= c["epochs"]),
}
_ONLY_FOR = {  # hyperparameter -> predictor types it applies to
    "positive_example_weight_mult": ("binary_classifier",),
    "binary_classifier_model_selection_criteria": ("binary_classifier",),
    "num_calibration_samples": ("binary_classifier",),
    "target_recall": ("binary_classifier",), "target_precision": ("binary_classifier",),
    "num_classes": ("multiclass_classifier",),
    "balance_multiclass_weights": ("multiclass_classifier",),
    "accuracy_top_k": ("multiclass_classifier",),
    "normalize_label": ("regressor",), "unbias_label": ("regressor",),
    "margin": ("binary_classifier",),
    "quantile": ("regressor",), "loss_insensitivity": ("regressor",), "huber_delta": ("regressor",),
}


def _refuse(message: str) -> AlgorithmError:
    return AlgorithmError("Unable to initialize the algorithm. Failed to validate input hyperparameters."
                          f" (caused by ValidationError) Caused by: {message}")


def _auto_or(hp: Hyper, name: str, parse):
    return None if hp.raw(name) in (None, "auto") else parse()


def _settings(hp: Hyper, log: Log) -> dict:
    """Parse and cross-check every hyperparameter (range checks stay in ``Hyper``)."""
    c: dict = {}
    ptype = c["ptype"] = hp.choice("predictor_type", list(LOSSES), required=True)
    for name, types in _ONLY_FOR.items():
        # normalize_label / unbias_label "false" (or auto) is what a classifier does anyway
        off = name in ("normalize_label", "unbias_label") and (hp.raw(name) or "").lower() in ("false", "auto")
        if hp.has(name) and ptype not in types and not off:
            raise _refuse(f"hyperparameter '{name}' applies only to predictor_type"
                          f" {' or '.join(types)}, not {ptype}")
    c["feature_dim"] = _auto_or(hp, "feature_dim", lambda: hp.int("feature_dim", minimum=1))
    c["num_classes"] = hp.int("num_classes", required=True, minimum=3) if ptype == "multiclass_classifier" else None
    default_loss, allowed = LOSSES[ptype]
    loss = hp.choice("loss", ALL_LOSSES, "auto")
    if loss == "auto":
        loss = default_loss
    elif loss not in allowed:
        raise _refuse(f"loss '{loss}' is not valid for predictor_type '{ptype}' (valid: auto, {', '.join(allowed)})")
    c["loss"] = loss
    c["optimizer"] = hp.choice("optimizer", ["auto", "sgd", "adam", "rmsprop"], "auto")
    if c["optimizer"] == "auto":
        c["optimizer"] = "adam"
    c["epochs"] = hp.int("epochs", 15, minimum=1)
    c["mini_batch_size"] = hp.int("mini_batch_size", 1000, minimum=1)
    c["learning_rate"] = _auto_or(hp, "learning_rate", lambda: hp.float("learning_rate", minimum=0, exclusive_minimum=True))
    c["wd"] = _auto_or(hp, "wd", lambda: hp.float("wd", minimum=0))
    c["l1"] = _auto_or(hp, "l1", lambda: hp.float("l1", minimum=0))
    c["num_models"] = _auto_or(hp, "num_models", lambda: hp.int("num_models", minimum=1))
    c["tuning"] = "_tuning_objective_metric" in hp.values
    c["momentum"] = hp.float("momentum", 0.0, minimum=0, maximum=1)
    c["beta_1"] = hp.float("beta_1", 0.9, minimum=0, maximum=1)
    c["beta_2"] = hp.float("beta_2", 0.999, minimum=0, maximum=1)
    c["lr_scheduler_step"] = _auto_or(hp, "lr_scheduler_step", lambda: hp.int("lr_scheduler_step", minimum=1)) or 100
    c["lr_scheduler_factor"] = _auto_or(hp, "lr_scheduler_factor", lambda: hp.float("lr_scheduler_factor", minimum=0, maximum=1, exclusive_minimum=True)) or 0.99
    c["lr_scheduler_minimum_lr"] = _auto_or(hp, "lr_scheduler_minimum_lr", lambda: hp.float("lr_scheduler_minimum_lr", minimum=0)) or 1e-5
    c["bias_lr_mult"] = _auto_or(hp, "bias_lr_mult", lambda: hp.float("bias_lr_mult", minimum=0, exclusive_minimum=True)) or 1.0
    bias_wd = _auto_or(hp, "bias_wd_mult", lambda: hp.float("bias_wd_mult", minimum=0))
    c["bias_wd_mult"] = 0.0 if bias_wd is None else bias_wd
    c["use_bias"] = hp.bool("use_bias", True)
    c["init_method"] = hp.choice("init_method", ["uniform", "normal", "xavier"], "uniform")
    c["init_scale"] = hp.float("init_scale", 0.07, minimum=0)
    c["init_sigma"] = hp.float("init_sigma", 0.01, minimum=0)
    c["init_bias"] = hp.float("init_bias", 0.0)
    c["patience"] = hp.int("early_stopping_patience", 3, minimum=1)
    c["tolerance"] = hp.float("early_stopping_tolerance", 0.001, minimum=0)
    c["margin"] = hp.float("margin", 1.0, minimum=0)
    c["quantile"] = hp.float("quantile", 0.5, minimum=0, maximum=1, exclusive_minimum=True)
    c["loss_insensitivity"] = hp.float("loss_insensitivity", 0.01, minimum=0)
    c["huber_delta"] = hp.float("huber_delta", 1.0, minimum=0, exclusive_minimum=True)
    c["f_beta"] = hp.float("f_beta", 1.0, minimum=0, exclusive_minimum=True)
    c["criteria"] = hp.choice("binary_classifier_model_selection_criteria", CRITERIA, "accuracy")
    c["target_recall"] = hp.float("target_recall", 0.8, minimum=0, maximum=1)
    c["target_precision"] = hp.float("target_precision", 0.8, minimum=0, maximum=1)
    pew = hp.raw("positive_example_weight_mult")
    c["positive_weight"] = ("balanced" if pew == "balanced" else
                            hp.float("positive_example_weight_mult", 1.0, minimum=0, exclusive_minimum=True))
    c["num_calibration_samples"] = hp.int("num_calibration_samples", 10_000_000, minimum=1)
    c["balance_multiclass_weights"] = hp.bool("balance_multiclass_weights", False)
    c["accuracy_top_k"] = hp.int("accuracy_top_k", 3, minimum=1)
    c["normalize_data"] = hp.bool("normalize_data", True)
    c["unbias_data"] = hp.bool("unbias_data", c["normalize_data"]) if hp.raw("unbias_data") != "auto" else c["normalize_data"]
    c["normalize_label"] = hp.bool("normalize_label", ptype == "regressor") if hp.raw("normalize_label") != "auto" else ptype == "regressor"
    c["unbias_label"] = hp.bool("unbias_label", c["normalize_label"]) if hp.raw("unbias_label") != "auto" else c["normalize_label"]
    c["num_point_for_scaler"] = hp.int("num_point_for_scaler", 10_000, minimum=1)
    for name, (setting, applies) in _ONLY_WITH.items():
        if hp.has(name) and not applies(c):
            log.warning(f"Hyperparameter '{name}' has no effect without {setting}.")
    return c


def _model_grid(c: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Learning rate, wd and l1 of each parallel model."""
    grids = [LR_GRID if c["learning_rate"] is None else (c["learning_rate"],),
             WD_GRID if c["wd"] is None else (c["wd"],),
             L1_GRID if c["l1"] is None else (c["l1"],)]
    combos = list(itertools.product(*grids))
    m = 1 if c["tuning"] else (c["num_models"] or len(combos))
    chosen = [combos[i % len(combos)] for i in range(m)]
    return tuple(np.array([combo[i] for combo in chosen], dtype=float) for i in range(3))


def _sample_weights(c: dict, y: np.ndarray) -> np.ndarray:
    w = np.ones(len(y))
    if c["ptype"] == "binary_classifier":
        mult = c["positive_weight"]
        if mult == "balanced":
            n_pos = float((y == 1).sum())
            mult = (len(y) - n_pos) / n_pos if n_pos else 1.0
        w[y == 1] = mult
    elif c["ptype"] == "multiclass_classifier" and c["balance_multiclass_weights"]:
        counts = np.bincount(y.astype(int), minlength=c["num_classes"]).astype(float)
        present = counts > 0
        per_class = np.zeros_like(counts)
        per_class[present] = len(y) / (present.sum() * counts[present])
        w = per_class[y.astype(int)]
    return w


def calibrate(scores: np.ndarray, y: np.ndarray, c: dict) -> tuple[float, float]:
    """(threshold, value) for the binary selection criterion: predicted label is
    ``score >= threshold``; value is the criterion's metric at that threshold."""
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], y[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # cut after each distinct score
    tp = np.cumsum(t)[last]
    fp = (last + 1) - tp
    pos, n = float(t.sum()), len(t)
    neg = n - pos
    cuts_tp = np.r_[0.0, tp]
    cuts_fp = np.r_[0.0, fp]
    thresholds = np.r_[np.inf, s[last]]
    precision = np.where(cuts_tp + cuts_fp > 0, cuts_tp / np.maximum(cuts_tp + cuts_fp, 1), 1.0)
    recall = cuts_tp / pos if pos else np.zeros_like(cuts_tp)
    crit = c["criteria"]
    if crit == "accuracy":
        value = (cuts_tp + neg - cuts_fp) / n
    elif crit == "f_beta":
        b2 = c["f_beta"] ** 2
        denom = b2 * precision + recall
        value = np.where(denom > 0, (1 + b2) * precision * recall / np.where(denom > 0, denom, 1), 0.0)
    elif crit == "precision_at_target_recall":
        value = np.where(recall >= c["target_recall"], precision, -1.0)
    else:  # recall_at_target_precision
        value = np.where(precision >= c["target_precision"], recall, -1.0)
    best = int(np.argmax(value))
    return float(thresholds[best]), float(max(value[best], 0.0))


def train(hyperparameters: dict, channels: dict, progress: Progress | None = None) -> TrainingResult:
    hp = Hyper(hyperparameters, KNOWN)
    log = Log(progress)
    train_ch = require_channel(channels, "train", ["train", "validation", "test"])
    c = _settings(hp, log)
    ptype, feature_dim, num_classes = c["ptype"], c["feature_dim"], c["num_classes"]

    X, y = read_labelled(train_ch, FORMATS, feature_dim)
    if feature_dim is not None and X.shape[1] != feature_dim:
        raise AlgorithmError(
            f"Customer Error: The feature_dim hyperparameter ({feature_dim}) does not match the"
            f" number of features ({X.shape[1]}) in channel 'train'.")
    _check_data(X, y, c, "train")
    evals = {}
    for name in ("validation", "test"):
        if name in channels:
            Xe, ye = read_labelled(channels[name], FORMATS, X.shape[1])
            if Xe.shape[1] != X.shape[1]:
                raise AlgorithmError(f"Customer Error: channel '{name}' has {Xe.shape[1]} features, expected {X.shape[1]}.")
            _check_data(Xe, ye, c, name)
            evals[name] = (Xe, ye)

    scaler_rows = X[: c["num_point_for_scaler"]]
    mean = scaler_rows.mean(axis=0) if c["unbias_data"] else np.zeros(X.shape[1])
    std = scaler_rows.std(axis=0) if c["normalize_data"] else np.ones(X.shape[1])
    std[std == 0] = 1.0
    y_mean = float(y[: c["num_point_for_scaler"]].mean()) if c["unbias_label"] else 0.0
    y_std = float(y[: c["num_point_for_scaler"]].std() or 1.0) if c["normalize_label"] else 1.0
    log.info(f"Scaler computed on {len(scaler_rows)} rows (normalize_data={c['normalize_data']},"
             f" unbias_data={c['unbias_data']}, normalize_label={c['normalize_label']})")

    lrs, wds, l1s = _model_grid(c)
    scale = y_std if ptype == "regressor" else 1.0
    loss_spec = LossSpec(c["loss"], c["margin"], c["quantile"], c["loss_insensitivity"] / scale,
                         c["huber_delta"] / scale)
    k = num_classes if ptype == "multiclass_classifier" else 1
    spec = TrainSpec(loss_spec, k, lrs, wds, l1s, c["optimizer"], c["momentum"], c["beta_1"], c["beta_2"],
                     c["epochs"], c["mini_batch_size"], c["lr_scheduler_step"], c["lr_scheduler_factor"],
                     c["lr_scheduler_minimum_lr"], c["bias_lr_mult"], c["bias_wd_mult"], c["use_bias"],
                     c["init_method"], c["init_scale"], c["init_sigma"], c["init_bias"],
                     c["patience"], c["tolerance"])
    if c["tuning"]:
        log.info("Hyperparameter tuning job: training a single model (num_models=1), as AWS does.")
    log.info(f"Training {spec.num_models} model(s) for up to {c['epochs']} epochs on {len(y)} rows,"
             f" mini_batch_size={c['mini_batch_size']}, optimizer={c['optimizer']}, loss={c['loss']}")

    Z = (X - mean) / std
    yt = (y - y_mean) / y_std if ptype == "regressor" else y
    weights = _sample_weights(c, y)
    objective = OBJECTIVE_NAMES[c["loss"]]
    val = evals.get("validation")
    Zv = (val[0] - mean) / std if val is not None else None
    by_criterion = ptype == "binary_classifier" and c["criteria"] != "loss_function"
    crit_name = (("sampled_" + c["criteria"]) if by_criterion and val is not None else objective)

    def model_for(W, b, m):
        return LinearModel(ptype, c["loss"], W[m].T * (y_std if ptype == "regressor" else 1.0),
                           b[m] * (y_std if ptype == "regressor" else 1.0) + (y_mean if ptype == "regressor" else 0.0),
                           mean, std, X.shape[1])

    def validation_losses(W, b):
        z = raw_outputs(Zv, W, b)
        loss, _ = losses_and_grads(loss_spec, z, (val[1] - y_mean) / y_std if ptype == "regressor" else val[1])
        return _report_scale(c["loss"], loss.mean(axis=1), scale)

    def criterion(W, b, train_loss):
        if val is None:
            return train_loss
        if by_criterion:
            scores = _binary_scores(c["loss"], raw_outputs(Zv, W, b)[:, :, 0])
            n_cal = c["num_calibration_samples"]
            return -np.array([calibrate(s[:n_cal], val[1][:n_cal], c)[1] for s in scores])
        return validation_losses(W, b)

    def on_epoch(report, W, b):
        best = int(np.argmin(report.criteria))
        log.info(f"#quality_metric: host=algo-1, epoch={report.epoch}, train {objective} <loss>="
                 f"{float(_report_scale(c['loss'], report.train_loss[best], scale))!r}")
        if val is not None:
            log.info(f"#quality_metric: host=algo-1, epoch={report.epoch}, validation {objective} <loss>="
                     f"{float(validation_losses(W, b)[best])!r}")
        value = report.criteria[best]
        if val is None:
            value = _report_scale(c["loss"], value, scale)
        elif by_criterion:
            value = -value
        log.info(f"#early_stopping_criteria_metric: host=algo-1, epoch={report.epoch}, criteria={crit_name},"
                 f" value={float(value)!r}")
        if report.improved:
            log.info(f"Epoch {report.epoch}: Loss improved. Updating best model")
        else:
            log.info(f"Epoch {report.epoch}: Loss has not improved for {report.stale} epochs.")
        log.info(f"#progress_metric: host=algo-1, completed {100 * (report.epoch + 1) // c['epochs']} % of epochs")
        train_losses.append(report.train_loss)
        if log.epoch_end():
            stopped.append(report.epoch)
            return True
        return False

    train_losses: list[np.ndarray] = []
    stopped: list[int] = []
    W, b, epochs_run = train_models(Z, yt, weights, spec, criterion, on_epoch)
    if stopped:
        log.info(f"The hyperparameter tuning job stopped training after epoch {stopped[0]}"
                 f" (its objective was worse than the median of completed training jobs).")
    elif epochs_run < c["epochs"]:
        log.info(f"Early stop condition met. Stopping training after epoch {epochs_run - 1}.")
    # choose the model: the criterion at each model's best epoch, on validation (or train) data
    if val is not None:
        final_crit = criterion(W, b, None)
    else:
        z_train = raw_outputs(Z, W, b)
        loss, _ = losses_and_grads(loss_spec, z_train, yt)
        if by_criterion:
            scores = _binary_scores(c["loss"], z_train[:, :, 0])
            n_cal = c["num_calibration_samples"]
            final_crit = -np.array([calibrate(s[:n_cal], y[:n_cal], c)[1] for s in scores])
        else:
            final_crit = (loss * weights).sum(axis=1) / weights.sum()
    final_crit = np.where(np.isfinite(final_crit), final_crit, np.inf)
    chosen = int(np.argmin(final_crit))
    model = model_for(W, b, chosen)
    if ptype == "binary_classifier":
        cal_X, cal_y = (val if val is not None else (X, y))
        n_cal = c["num_calibration_samples"]
        if c["criteria"] == "loss_function":
            model.threshold = model.default_threshold
        else:
            model.threshold, value = calibrate(model.scores(cal_X[:n_cal]), cal_y[:n_cal], c)
            log.info(f"Calibrated the decision threshold on {min(n_cal, len(cal_y))} rows of the"
                     f" {'validation' if val is not None else 'train'} channel for {c['criteria']}:"
                     f" threshold={float(model.threshold)!r} ({c['criteria']}={float(value)!r})")
    log.info("Best model found for hyperparameters: " + json.dumps({
        "optimizer": c["optimizer"], "learning_rate": float(lrs[chosen]), "wd": float(wds[chosen]),
        "l1": float(l1s[chosen]), "lr_scheduler_step": c["lr_scheduler_step"],
        "lr_scheduler_factor": c["lr_scheduler_factor"], "lr_scheduler_minimum_lr": c["lr_scheduler_minimum_lr"]}))
    log.info(f"#quality_metric: host=algo-1, train {objective} <loss>={float(model.objective_loss(X, y, loss_spec, scale))!r}")
    for name, (Xe, ye) in evals.items():
        for metric, value in model.evaluate(Xe, ye, c, loss_spec, scale):
            tag = "loss" if metric.endswith("_objective") or metric in ("mse", "rmse", "absolute_loss") else "score"
            log.info(f"#quality_metric: host=algo-1, {name} {metric} <{tag}>={float(value)!r}")
    return TrainingResult(model.to_files(), metrics_from_log(log.lines), log.lines, stopped_early=bool(stopped))


def metrics_from_log(lines: list[str]) -> list[tuple[str, float]]:
    """The final value of every built-in MetricDefinition (its last match in the log),
    exactly what SageMaker extracts from the training log."""
    out = []
    for definition in metric_definitions("linear-learner"):
        regex = re.compile(definition["Regex"])
        value = None
        for line in lines:
            match = regex.search(line)
            if match:
                value = float(match.group(1))
        if value is not None:
            out.append((definition["Name"], value))
    return out


def _report_scale(loss: str, value, scale: float):
    """Objective in label units: squared losses scale by ``scale**2`` (and are reported as
    mean squared error, not half of it), the others by ``scale``."""
    if loss in ("squared_loss", "eps_insensitive_squared_loss"):
        return value * 2 * scale * scale
    return value * scale


def _binary_scores(loss: str, z: np.ndarray) -> np.ndarray:
    return z if loss == "hinge_loss" else 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def _check_data(X, y, c, channel: str) -> None:
    if np.isnan(X).any():
        raise AlgorithmError(f"Customer Error: missing feature values in channel '{channel}' are not"
                             " supported by Linear Learner.")
    if np.isnan(y).any():
        raise AlgorithmError(f"Customer Error: missing label values in channel '{channel}'.")
    if c["ptype"] == "binary_classifier" and not np.isin(y, [0, 1]).all():
        raise AlgorithmError("Customer Error: binary_classifier labels must be 0 or 1.")
    if c["ptype"] == "multiclass_classifier" and not np.isin(y, np.arange(c["num_classes"])).all():
        raise AlgorithmError(f"Customer Error: multiclass labels must be integers in [0, {c['num_classes'] - 1}].")
    if channel == "train" and c["ptype"] == "binary_classifier" and len(np.unique(y)) == 1:
        raise AlgorithmError("Customer Error: the train channel contains only one class.")


class LinearModel:
    """A trained linear model on the original feature scale: ``raw = ((X - mean) / std) @ coef.T + intercept``."""

    def __init__(self, ptype, loss, coef, intercept, mean, std, feature_dim, threshold=None):
        self.ptype = ptype
        self.loss = loss
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        self.feature_dim = int(feature_dim)
        self.threshold = self.default_threshold if threshold is None else float(threshold)

    @property
    def default_threshold(self) -> float:
        return 0.0 if self.loss == "hinge_loss" else 0.5

    def raw(self, X):
        return ((X - self.mean) / self.std) @ self.coef.T + self.intercept

    def scores(self, X):
        """Binary: P(y=1) (logistic) or the margin (hinge_loss); multiclass: class
        probabilities; regressor: the prediction."""
        z = self.raw(X)
        if self.ptype == "binary_classifier":
            return _binary_scores(self.loss, z[:, 0])
        if self.ptype == "multiclass_classifier":
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        return z[:, 0]

    def predicted_labels(self, scores):
        if self.ptype == "binary_classifier":
            return (scores >= self.threshold).astype(int)
        return scores.argmax(axis=1)

    def objective_loss(self, X, y, loss_spec: LossSpec, scale: float) -> float:
        """Mean training objective (without regularisation) in label units."""
        spec = LossSpec(loss_spec.name, loss_spec.margin, loss_spec.quantile,
                        loss_spec.insensitivity * scale, loss_spec.huber_delta * scale)
        loss, _ = losses_and_grads(spec, self.raw(X)[None, :, :], y)
        return float(_report_scale(self.loss, float(loss.mean()), 1.0))

    def evaluate(self, X, y, c: dict, loss_spec: LossSpec, scale: float):
        """AWS's final metrics: ``[(log name, value)]``."""
        from sklearn import metrics as skm

        s = self.scores(X)
        out = [(OBJECTIVE_NAMES[self.loss], self.objective_loss(X, y, loss_spec, scale))]
        beta = f"{c['f_beta']:.3f}"
        if self.ptype == "binary_classifier":
            pred = self.predicted_labels(s)
            out += [("binary_classification_accuracy", float(np.mean(pred == y))),
                    (f"binary_f_{beta}", float(skm.fbeta_score(y, pred, beta=c["f_beta"], zero_division=0))),
                    ("precision", float(skm.precision_score(y, pred, zero_division=0))),
                    ("recall", float(skm.recall_score(y, pred, zero_division=0)))]
            if len(np.unique(y)) == 2:
                out.append(("roc_auc_score", float(skm.roc_auc_score(y, s))))
        elif self.ptype == "multiclass_classifier":
            pred = self.predicted_labels(s)
            yi = y.astype(int)
            top_k = min(c["accuracy_top_k"], s.shape[1])
            ranks = (s > s[np.arange(len(yi)), yi][:, None]).sum(axis=1)  # 0 = best
            out += [("multiclass_accuracy", float(np.mean(pred == yi))),
                    (f"multiclass_top_k_accuracy_{top_k}", float(np.mean(ranks < top_k))),
                    ("dcg", float(np.mean(1.0 / np.log2(ranks + 2)))),
                    (f"macro_f_{beta}", float(skm.fbeta_score(yi, pred, beta=c["f_beta"], average="macro", zero_division=0))),
                    ("macro_precision", float(skm.precision_score(yi, pred, average="macro", zero_division=0))),
                    ("macro_recall", float(skm.recall_score(yi, pred, average="macro", zero_division=0)))]
        else:
            mse = float(np.mean((s - y) ** 2))
            out += [("mse", mse), ("rmse", float(np.sqrt(mse))), ("absolute_loss", float(np.mean(np.abs(s - y))))]
        return out

    def to_files(self):
        buf = io.BytesIO()
        np.savez_compressed(buf, coef=self.coef, intercept=self.intercept, mean=self.mean, std=self.std)
        params = {"predictor_type": self.ptype, "loss": self.loss, "threshold": self.threshold,
                  "feature_dim": self.feature_dim, "format": "aws-ml-emulator-linear-learner-2"}
        return {"model_algo-1.npz": buf.getvalue(), "model_algo-1.json": json.dumps(params).encode()}

    @classmethod
    def from_files(cls, files):
        try:
            params = json.loads(files["model_algo-1.json"])
            with np.load(io.BytesIO(files["model_algo-1.npz"]), allow_pickle=False) as npz:
                return cls(params["predictor_type"], params.get("loss", "logistic"), npz["coef"],
                           npz["intercept"], npz["mean"], npz["std"], params["feature_dim"],
                           params.get("threshold"))
        except (KeyError, ValueError, OSError, TypeError) as exc:
            raise AlgorithmError(f"Unable to load Linear Learner model: {exc!r}") from None


class LinearLearnerPredictor:
    def __init__(self, files):
        self.model = LinearModel.from_files(files)

    def invoke(self, body: bytes, content_type: str | None, accept: str | None,
               custom_attributes: str | None = None) -> tuple[bytes, str]:
        accept_type, _ = base_content_type(accept)
        if accept_type in (None, "*/*"):
            accept_type = "application/json"
        if accept_type not in ("application/json", "application/jsonlines", PROTOBUF):
            raise ModelError(f"Accept type {accept} is not supported by this algorithm.", 406)
        X = parse_features_payload(body, content_type, recordio_protobuf=True,
                                   feature_dim=self.model.feature_dim)
        check_width(X, self.model.feature_dim)
        if np.isnan(X).any():
            raise ModelError("Invalid input: missing feature values are not supported.")
        s = self.model.scores(X)
        labels = self.model.predicted_labels(s) if self.model.ptype != "regressor" else None
        preds = []
        for i, row in enumerate(s):
            if self.model.ptype == "binary_classifier":
                preds.append({"score": float(row), "predicted_label": int(labels[i])})
            elif self.model.ptype == "multiclass_classifier":
                preds.append({"score": [float(v) for v in row], "predicted_label": int(labels[i])})
            else:
                preds.append({"score": float(row)})
        if accept_type == PROTOBUF:
            return write_records([{k: (v if isinstance(v, list) else [v]) for k, v in p.items()}
                                  for p in preds]), PROTOBUF
        if accept_type == "application/jsonlines":
            return b"".join(dumps(p) + b"\n" for p in preds), "application/jsonlines"
        return dumps({"predictions": preds}), "application/json"


def load_predictor(files) -> LinearLearnerPredictor:
    return LinearLearnerPredictor(files)
