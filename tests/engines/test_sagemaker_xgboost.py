import json
import re

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import train_test_split

from emulator.engines import sagemaker as sm
from emulator.engines.sagemaker import AlgorithmError, Channel, ModelError


def csv(y, X):
    return "\n".join(",".join(repr(float(v)) for v in [a, *row]) for a, row in zip(y, X)).encode()


def test_xgboost_binary_breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, random_state=0)
    ch = {"train": Channel("train", "text/csv", [("t.csv", csv(ytr, Xtr))]),
          "validation": Channel("validation", "text/csv", [("v.csv", csv(yva, Xva))])}
    hp = {"num_round": "30", "objective": "binary:logistic", "eval_metric": "auc,logloss,accuracy",
          "max_depth": "3", "eta": "0.3"}
    res = sm.train("xgboost", hp, ch)
    m = dict(res.metrics)
    assert m["validation:auc"] > 0.95 and m["validation:accuracy"] > 0.9
    regex = next(d["Regex"] for d in sm.metric_definitions("xgboost") if d["Name"] == "validation:auc")
    found = [float(mm.group(1)) for l in res.log_lines if (mm := re.search(regex, l))]
    assert len(found) == 30 and found[-1] == m["validation:auc"]
    assert res.log_lines[0].startswith("[0]#011train-")
    predictor = sm.load_predictor("xgboost", sm.make_model_tar_gz(res.model_files))
    payload = "\n".join(",".join(map(str, r)) for r in Xva).encode()
    body, ctype = predictor.invoke(payload, "text/csv", "text/csv")
    assert ctype == "text/csv"
    scores = np.array([float(v) for v in body.decode().splitlines()])
    assert len(scores) == len(yva) and np.mean((scores > 0.5) == yva) > 0.9
    body, ctype = predictor.invoke(json.dumps({"instances": [{"features": list(Xva[0])}]}).encode(),
                                   "application/json", "application/json")
    assert 0 <= json.loads(body)["predictions"][0]["score"] <= 1
    with pytest.raises(ModelError):
        predictor.invoke(b"1,2,3", "text/csv", "text/csv")


def test_xgboost_regression_libsvm_and_multiclass():
    X, y = load_diabetes(return_X_y=True)
    lines = "\n".join(f"{t} " + " ".join(f"{j}:{v}" for j, v in enumerate(row)) for t, row in zip(y, X))
    res = sm.train("xgboost", {"num_round": "20", "max_depth": "3"},
                   {"train": Channel("train", "text/libsvm", [("a", lines.encode())])})
    assert dict(res.metrics)["train:rmse"] < 50
    X3 = np.vstack([np.random.default_rng(0).normal(loc=c, size=(40, 2)) for c in (0, 3, 6)])
    y3 = np.repeat([0, 1, 2], 40)
    res = sm.train("xgboost", {"num_round": "5", "objective": "multi:softprob", "num_class": "3"},
                   {"train": Channel("train", "text/csv", [("a", csv(y3, X3))])})
    predictor = sm.load_predictor("xgboost", sm.make_model_tar_gz(res.model_files))
    body, _ = predictor.invoke(b"0,0\n6,6", "text/csv", None)
    rows = [list(map(float, l.split(","))) for l in body.decode().splitlines()]
    assert [int(np.argmax(r)) for r in rows] == [0, 2]


def test_xgboost_errors():
    ch = {"train": Channel("train", "text/csv", [("a", b"1,2\n0,3\n")])}
    with pytest.raises(AlgorithmError, match="No value for 'num_round'"):
        sm.train("xgboost", {}, ch)
    with pytest.raises(AlgorithmError, match="not supported"):
        sm.train("xgboost", {"num_round": "2"}, {"train": Channel("train", "application/x-foo", [("a", b"1,2")])})
    with pytest.raises(AlgorithmError, match="num_class"):
        sm.train("xgboost", {"num_round": "2", "objective": "multi:softmax"}, ch)
