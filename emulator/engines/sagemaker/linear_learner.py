"""Linear Learner built-in algorithm (image ``linear-learner``).

Trained with scikit-learn on standardised features (``normalize_data``, default on):
LogisticRegression (binary / multinomial, L2 strength from ``wd``, L1 via saga when
``l1`` > 0) and Ridge (regressor; ``normalize_label`` standardises the target). The
parameters are stored as plain arrays (``model_algo-1.npz``, loaded with
``allow_pickle=False``) + ``model_algo-1.json``; no pickle.
Metric log lines: ``#quality_metric: host=algo-1, test binary_classification_accuracy <score>=0.97``
(``<loss>`` for losses).
Data: ``text/csv`` (label first) or ``application/x-recordio-protobuf`` for training;
requests in CSV, JSON, JSON lines or RecordIO-protobuf; answers in JSON, JSON lines or
RecordIO-protobuf (one Record per row, ``label`` map with ``score`` and, for
classifiers, ``predicted_label``).
"""
from __future__ import annotations

import io
import json

import numpy as np

from .channels import PROTOBUF, check_width, parse_features_payload, read_labelled, require_channel
from .common import AlgorithmError, Hyper, Log, ModelError, TrainingResult, base_content_type, dumps
from .recordio import write_records
from .metrics import LINEAR_LEARNER_METRICS

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


def train(hyperparameters: dict, channels: dict) -> TrainingResult:
    hp = Hyper(hyperparameters, KNOWN)
    log = Log()
    train_ch = require_channel(channels, "train", ["train", "validation", "test"])
    ptype = hp.choice("predictor_type", ["binary_classifier", "multiclass_classifier", "regressor"], required=True)
    feature_dim = None if hp.raw("feature_dim") in (None, "auto") else hp.int("feature_dim", minimum=1)
    num_classes = None
    if ptype == "multiclass_classifier":
        num_classes = hp.int("num_classes", required=True, minimum=3)
    epochs = hp.int("epochs", 15, minimum=1)
    if hp.raw("learning_rate") not in (None, "auto"):
        hp.float("learning_rate", minimum=0, exclusive_minimum=True)
    hp.int("mini_batch_size", 1000, minimum=1)
    l1 = 0.0 if hp.raw("l1") in (None, "auto") else hp.float("l1", minimum=0)
    wd_auto = hp.raw("wd") in (None, "auto")
    wd = 0.0 if wd_auto else hp.float("wd", minimum=0)
    f_beta = hp.float("f_beta", 1.0, minimum=0, exclusive_minimum=True)
    normalize_data = hp.bool("normalize_data", True)
    normalize_label = hp.bool("normalize_label", ptype == "regressor")

    X, y = read_labelled(train_ch, FORMATS, feature_dim)
    if feature_dim is not None and X.shape[1] != feature_dim:
        raise AlgorithmError(
            f"Customer Error: The feature_dim hyperparameter ({feature_dim}) does not match the"
            f" number of features ({X.shape[1]}) in channel 'train'.")
    if np.isnan(X).any():
        raise AlgorithmError("Customer Error: missing feature values are not supported by Linear Learner.")
    if ptype == "binary_classifier" and not np.isin(y, [0, 1]).all():
        raise AlgorithmError("Customer Error: binary_classifier labels must be 0 or 1.")
    if ptype == "multiclass_classifier":
        if not np.isin(y, np.arange(num_classes)).all():
            raise AlgorithmError(f"Customer Error: multiclass labels must be integers in [0, {num_classes - 1}].")

    mean = X.mean(axis=0) if normalize_data else np.zeros(X.shape[1])
    std = X.std(axis=0) if normalize_data else np.ones(X.shape[1])
    std[std == 0] = 1.0
    Z = (X - mean) / std
    # wd "auto" (AWS tunes it across parallel models): a moderate default that does not
    # overfit separable data; an explicit wd=0 means no regularisation.
    C = 1.0 if wd_auto else (1.0 / (wd * len(y)) if wd > 0 else 1e4)
    if ptype == "regressor":
        from sklearn.linear_model import Ridge

        y_mean = float(y.mean()) if normalize_label else 0.0
        y_std = float(y.std() or 1.0) if normalize_label else 1.0
        reg = Ridge(alpha=max(wd * len(y), 1e-6)).fit(Z, (y - y_mean) / y_std)
        coef = (reg.coef_ * y_std)[None, :]
        intercept = np.array([reg.intercept_ * y_std + y_mean])
    else:
        from sklearn.linear_model import LogisticRegression

        kwargs = dict(C=C, max_iter=max(100, epochs * 20))
        if l1 > 0:
            kwargs.update(solver="saga", l1_ratio=1.0, C=1.0 / (l1 * len(y)))
        clf = LogisticRegression(**kwargs).fit(Z, y.astype(int))
        if ptype == "multiclass_classifier":
            coef = np.zeros((num_classes, X.shape[1]))
            intercept = np.full(num_classes, -1e9)
            coef[clf.classes_] = clf.coef_ if len(clf.classes_) > 2 else np.vstack([-clf.coef_, clf.coef_]) / 2
            intercept[clf.classes_] = clf.intercept_ if len(clf.classes_) > 2 else np.array([-clf.intercept_[0], clf.intercept_[0]]) / 2
        else:
            if len(clf.classes_) == 1:
                raise AlgorithmError("Customer Error: the train channel contains only one class.")
            coef, intercept = clf.coef_, clf.intercept_
    model = LinearModel(ptype, coef, intercept, mean, std, X.shape[1])
    log.info(f"#quality_metric: host=algo-1, epoch={epochs - 1}, train objective_loss <loss>="
             f"{model.objective_loss(X, y)!r}")
    metrics = []
    for name in ("validation", "test"):
        if name not in channels:
            continue
        Xe, ye = read_labelled(channels[name], FORMATS, X.shape[1])
        if Xe.shape[1] != X.shape[1]:
            raise AlgorithmError(f"Customer Error: channel '{name}' has {Xe.shape[1]} features, expected {X.shape[1]}.")
        for metric, value in model.evaluate(Xe, ye, f_beta):
            tag = LINEAR_LEARNER_METRICS[metric]
            log.info(f"#quality_metric: host=algo-1, {name} {metric} <{tag}>={value!r}")
            metrics.append((f"{name}:{metric}", value))
    return TrainingResult(model.to_files(), metrics, log.lines)


class LinearModel:
    def __init__(self, ptype, coef, intercept, mean, std, feature_dim):
        self.ptype = ptype
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        self.feature_dim = int(feature_dim)

    def raw(self, X):
        return ((X - self.mean) / self.std) @ self.coef.T + self.intercept

    def scores(self, X):
        z = self.raw(X)
        if self.ptype == "binary_classifier":
            return 1.0 / (1.0 + np.exp(-np.clip(z[:, 0], -500, 500)))
        if self.ptype == "multiclass_classifier":
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        return z[:, 0]

    def objective_loss(self, X, y) -> float:
        s = self.scores(X)
        if self.ptype == "binary_classifier":
            s = np.clip(s, 1e-12, 1 - 1e-12)
            return float(-np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)))
        if self.ptype == "multiclass_classifier":
            return float(-np.mean(np.log(np.clip(s[np.arange(len(y)), y.astype(int)], 1e-12, None))))
        return float(np.mean((s - y) ** 2))

    def evaluate(self, X, y, f_beta=1.0):
        s = self.scores(X)
        out = [("objective_loss", self.objective_loss(X, y))]
        if self.ptype == "binary_classifier":
            from sklearn.metrics import fbeta_score, precision_score, recall_score, roc_auc_score

            pred = (s > 0.5).astype(int)
            out += [("binary_classification_accuracy", float(np.mean(pred == y))),
                    ("binary_f_beta", float(fbeta_score(y, pred, beta=f_beta, zero_division=0))),
                    ("precision", float(precision_score(y, pred, zero_division=0))),
                    ("recall", float(recall_score(y, pred, zero_division=0)))]
            if len(np.unique(y)) == 2:
                out.append(("roc_auc_score", float(roc_auc_score(y, s))))
        elif self.ptype == "multiclass_classifier":
            from sklearn.metrics import fbeta_score, precision_score, recall_score

            pred = s.argmax(axis=1)
            out += [("multiclass_accuracy", float(np.mean(pred == y))),
                    ("macro_f_beta", float(fbeta_score(y, pred, beta=f_beta, average="macro", zero_division=0))),
                    ("macro_precision", float(precision_score(y, pred, average="macro", zero_division=0))),
                    ("macro_recall", float(recall_score(y, pred, average="macro", zero_division=0)))]
        else:
            mse = float(np.mean((s - y) ** 2))
            out += [("mse", mse), ("rmse", float(np.sqrt(mse))), ("absolute_loss", float(np.mean(np.abs(s - y))))]
        return out

    def to_files(self):
        buf = io.BytesIO()
        np.savez_compressed(buf, coef=self.coef, intercept=self.intercept, mean=self.mean, std=self.std)
        params = {"predictor_type": self.ptype, "feature_dim": self.feature_dim,
                  "format": "aws-ml-emulator-linear-learner-1"}
        return {"model_algo-1.npz": buf.getvalue(), "model_algo-1.json": json.dumps(params).encode()}

    @classmethod
    def from_files(cls, files):
        try:
            params = json.loads(files["model_algo-1.json"])
            with np.load(io.BytesIO(files["model_algo-1.npz"]), allow_pickle=False) as npz:
                return cls(params["predictor_type"], npz["coef"], npz["intercept"], npz["mean"],
                           npz["std"], params["feature_dim"])
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
        preds = []
        for row in s:
            if self.model.ptype == "binary_classifier":
                preds.append({"score": float(row), "predicted_label": int(row > 0.5)})
            elif self.model.ptype == "multiclass_classifier":
                preds.append({"score": [float(v) for v in row], "predicted_label": int(np.argmax(row))})
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
