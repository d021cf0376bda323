"""XGBoost through the engine == xgboost called directly on the same rows: metrics,
predictions of the stored model, instance weights (csv_weights), and a random-label control."""
import json

import numpy as np
import pytest
import xgboost as xgb
from sklearn import datasets
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from emulator.engines import sagemaker as sm
from emulator.engines.sagemaker import AlgorithmError, Channel


def csv(y, X):
    return "\n".join(",".join(repr(float(v)) for v in [a, *row]) for a, row in zip(y, X)).encode()


def channels(Xtr, ytr, Xva, yva):
    return {"train": Channel("train", "text/csv", [("t.csv", csv(ytr, Xtr))]),
            "validation": Channel("validation", "text/csv", [("v.csv", csv(yva, Xva))])}


def direct(params, Xtr, ytr, rounds, weights=None):
    return xgb.train({"nthread": 2, "seed": 0, **params}, xgb.DMatrix(Xtr, label=ytr, weight=weights),
                     num_boost_round=rounds)


@pytest.fixture(scope="module")
def binary():
    X, y = datasets.make_classification(n_samples=900, n_features=8, n_informative=4, flip_y=0.05, random_state=0)
    return X[:600], y[:600], X[600:], y[600:]


def test_binary_metrics_and_predictions_equal_direct_xgboost(binary):
    Xtr, ytr, Xva, yva = binary
    hp = {"num_round": "25", "objective": "binary:logistic", "max_depth": "3", "eta": "0.2",
          "eval_metric": "auc,accuracy,f1"}
    res = sm.train("xgboost", hp, channels(Xtr, ytr, Xva, yva))
    m = dict(res.metrics)
    booster = direct({"objective": "binary:logistic", "max_depth": 3, "eta": 0.2}, Xtr, ytr, 25)
    p = booster.predict(xgb.DMatrix(Xva))
    assert m["validation:auc"] == pytest.approx(roc_auc_score(yva, p), abs=1e-5)
    assert m["validation:accuracy"] == pytest.approx(accuracy_score(yva, p > 0.5), abs=1e-5)
    assert m["validation:f1"] == pytest.approx(f1_score(yva, p > 0.5), abs=1e-5)
    predictor = sm.load_predictor("xgboost", sm.make_model_tar_gz(res.model_files))
    body, _ = predictor.invoke("\n".join(",".join(repr(float(v)) for v in r) for r in Xva[:20]).encode(), "text/csv", "text/csv")
    assert np.array([float(v) for v in body.decode().splitlines()]) == pytest.approx(p[:20], abs=1e-6)
    body, _ = predictor.invoke(json.dumps({"instances": [{"features": list(r)} for r in Xva[:5]]}).encode(),
                               "application/json", "application/json")
    assert [q["score"] for q in json.loads(body)["predictions"]] == pytest.approx(p[:5], abs=1e-6)


def test_regression_rmse_equals_direct_xgboost():
    X, y = datasets.make_regression(n_samples=600, n_features=6, noise=5, random_state=1)
    hp = {"num_round": "30", "max_depth": "4", "eval_metric": "rmse,mae"}
    m = dict(sm.train("xgboost", hp, channels(X[:400], y[:400], X[400:], y[400:])).metrics)
    p = direct({"max_depth": 4}, X[:400], y[:400], 30).predict(xgb.DMatrix(X[400:]))
    assert m["validation:rmse"] == pytest.approx(float(np.sqrt(np.mean((p - y[400:]) ** 2))), rel=1e-4)
    assert m["validation:mae"] == pytest.approx(float(np.mean(np.abs(p - y[400:]))), rel=1e-4)


def test_random_labels_score_chance(binary):
    Xtr, ytr, Xva, yva = binary
    rng = np.random.default_rng(3)
    m = dict(sm.train("xgboost", {"num_round": "20", "objective": "binary:logistic", "eval_metric": "auc,accuracy"},
                      channels(Xtr, rng.permutation(ytr), Xva, rng.permutation(yva))).metrics)
    assert abs(m["validation:auc"] - 0.5) <= 0.08 and abs(m["validation:accuracy"] - 0.5) <= 0.08


def test_csv_weights_are_instance_weights(binary):
    Xtr, ytr, Xva, yva = binary
    w = np.where(ytr == 1, 5.0, 1.0)
    with_w = np.column_stack([w, Xtr])
    hp = {"num_round": "10", "objective": "binary:logistic", "max_depth": "3", "csv_weights": "1"}
    res = sm.train("xgboost", hp, {"train": Channel("train", "text/csv", [("t", csv(ytr, with_w))])})
    predictor = sm.load_predictor("xgboost", sm.make_model_tar_gz(res.model_files))
    assert predictor.booster.num_features() == Xtr.shape[1]
    body, _ = predictor.invoke("\n".join(",".join(repr(float(v)) for v in r) for r in Xva[:30]).encode(), "text/csv", None)
    ours = np.array([float(v) for v in body.decode().splitlines()])
    weighted = direct({"objective": "binary:logistic", "max_depth": 3}, Xtr, ytr, 10, w).predict(xgb.DMatrix(Xva[:30]))
    unweighted = direct({"objective": "binary:logistic", "max_depth": 3}, Xtr, ytr, 10).predict(xgb.DMatrix(Xva[:30]))
    assert ours == pytest.approx(weighted, abs=1e-6)
    assert not np.allclose(ours, unweighted, atol=1e-3)
    with pytest.raises(AlgorithmError, match="weight column"):
        sm.train("xgboost", hp, {"train": Channel("train", "text/csv", [("t", b"1,-2,3\n0,1,2\n")])})


@pytest.mark.parametrize("name,value", [("lambda_bias", "0.1"), ("sketch_eps", "0.03"), ("silent", "1"),
                                        ("single_precision_histogram", "true"), ("_kfold", "3"),
                                        ("save_model_on_termination", "true"), ("dsplit", "row")])
def test_inapplicable_hyperparameters_are_refused(name, value):
    ch = {"train": Channel("train", "text/csv", [("a", b"1,2\n0,3\n")])}
    with pytest.raises(AlgorithmError, match=f"hyperparameter '{name}' is not supported"):
        sm.train("xgboost", {"num_round": "2", name: value}, ch)
    if name in ("single_precision_histogram", "save_model_on_termination"):
        sm.train("xgboost", {"num_round": "2", name: "false"}, ch)


def test_dart_parameters_reach_xgboost(binary):
    Xtr, ytr, Xva, yva = binary
    base = {"num_round": "10", "objective": "binary:logistic", "booster": "dart", "rate_drop": "0.5"}
    a = sm.train("xgboost", base, channels(Xtr, ytr, Xva, yva)).model_files["xgboost-model"]
    b = sm.train("xgboost", {**base, "one_drop": "1"}, channels(Xtr, ytr, Xva, yva)).model_files["xgboost-model"]
    assert a != b  # one_drop=1 drops at least one tree per round: other trees


PASS_THROUGH = [("alpha", "5"), ("lambda", "20"), ("gamma", "2"), ("eta", "0.05"), ("max_depth", "2"),
                ("min_child_weight", "20"), ("max_delta_step", "0.3"), ("subsample", "0.5"),
                ("colsample_bytree", "0.5"), ("colsample_bylevel", "0.5"), ("colsample_bynode", "0.5"),
                ("scale_pos_weight", "3"), ("base_score", "0.2"), ("max_bin", "8"), ("tree_method", "approx"),
                ("grow_policy", "lossguide"), ("max_leaves", "3"), ("num_parallel_tree", "2"),
                ("monotone_constraints", "(1,0,0,0,0,0,0,-1)"), ("interaction_constraints", "[[0, 1], [2, 3]]"),
                ("booster", "gblinear"), ("seed", "7"), ("nthread", "1")]
_DEFAULT = {}


@pytest.mark.parametrize("name,value", PASS_THROUGH)
def test_each_tree_hyperparameter_reaches_xgboost(name, value, binary):
    """The trained booster differs from the default one, or (nthread, which does not
    change trees) its saved configuration carries the value."""
    Xtr, ytr, _, _ = binary
    ch = {"train": Channel("train", "text/csv", [("t", csv(ytr[:300], Xtr[:300]))])}
    base = {"num_round": "3", "objective": "binary:logistic", "subsample": "0.8", "max_depth": "4"}
    for key in (name,):
        base.pop(key, None)
    key = json.dumps(base)
    if key not in _DEFAULT:
        _DEFAULT[key] = sm.train("xgboost", base, ch).model_files["xgboost-model"]
    changed = sm.train("xgboost", {**base, name: value}, ch).model_files["xgboost-model"]
    if name == "nthread":
        booster = sm.load_predictor("xgboost", sm.make_model_tar_gz({"xgboost-model": changed})).booster
        assert '"nthread": "1"' in json.dumps(json.loads(booster.save_config()))
    else:
        assert changed != _DEFAULT[key]


def test_verbosity_controls_xgboost_messages_in_the_log(binary):
    Xtr, ytr, _, _ = binary
    ch = {"train": Channel("train", "text/csv", [("t", csv(ytr[:200], Xtr[:200]))])}
    hp = {"num_round": "2", "objective": "binary:logistic", "booster": "gblinear", "max_depth": "3"}
    loud = sm.train("xgboost", hp, ch).log_lines
    quiet = sm.train("xgboost", {**hp, "verbosity": "0"}, ch).log_lines
    assert any("max_depth" in l and "not used" in l for l in loud)
    assert not any("not used" in l for l in quiet)
