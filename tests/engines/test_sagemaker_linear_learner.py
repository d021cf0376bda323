import json
import re

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.model_selection import train_test_split

from emulator.engines import sagemaker as sm
from emulator.engines.sagemaker import AlgorithmError, Channel, ModelError


def csv(y, X):
    return "\n".join(",".join(repr(float(v)) for v in [a, *row]) for a, row in zip(y, X)).encode()


def chans(X, y):
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    return {"train": Channel("train", "text/csv", [("a", csv(ytr, Xtr))]),
            "test": Channel("test", "text/csv", [("b", csv(yte, Xte))])}, Xte, yte


def test_linear_binary():
    X, y = load_breast_cancer(return_X_y=True)
    ch, Xte, yte = chans(X, y)
    res = sm.train("linear-learner", {"predictor_type": "binary_classifier", "feature_dim": "auto"}, ch)
    acc = dict(res.metrics)["test:binary_classification_accuracy"]
    assert acc > 0.93
    regex = next(d["Regex"] for d in sm.metric_definitions("linear-learner")
                 if d["Name"] == "test:binary_classification_accuracy")
    assert [float(m.group(1)) for l in res.log_lines if (m := re.search(regex, l))] == [acc]
    p = sm.load_predictor("linear-learner", sm.make_model_tar_gz(res.model_files))
    body, ctype = p.invoke("\n".join(",".join(map(str, r)) for r in Xte).encode(), "text/csv", "application/json")
    preds = json.loads(body)["predictions"]
    assert np.mean(np.array([q["predicted_label"] for q in preds]) == yte) == pytest.approx(acc)
    assert all(isinstance(q["predicted_label"], int) and 0 <= q["score"] <= 1 for q in preds)
    with pytest.raises(ModelError):
        p.invoke(b"1,2", "text/csv", None)


def test_linear_multiclass_and_regressor():
    X, y = load_iris(return_X_y=True)
    ch, Xte, yte = chans(X, y)
    res = sm.train("linear-learner", {"predictor_type": "multiclass_classifier", "num_classes": "3"}, ch)
    assert dict(res.metrics)["test:multiclass_accuracy"] > 0.9
    p = sm.load_predictor("linear-learner", sm.make_model_tar_gz(res.model_files))
    body, _ = p.invoke(json.dumps({"instances": [{"features": list(Xte[0])}]}).encode(), "application/json", None)
    pred = json.loads(body)["predictions"][0]
    assert len(pred["score"]) == 3 and pred["predicted_label"] == int(yte[0])
    X, y = load_diabetes(return_X_y=True)
    ch, _, _ = chans(X, y)
    res = sm.train("linear-learner", {"predictor_type": "regressor"}, ch)
    m = dict(res.metrics)
    assert m["test:rmse"] < 60 and m["test:mse"] == pytest.approx(m["test:rmse"] ** 2)


def test_linear_errors():
    X, y = load_iris(return_X_y=True)
    ch, _, _ = chans(X, y)
    with pytest.raises(AlgorithmError, match="No value for 'predictor_type'"):
        sm.train("linear-learner", {}, ch)
    with pytest.raises(AlgorithmError, match="No value for 'num_classes'"):
        sm.train("linear-learner", {"predictor_type": "multiclass_classifier"}, ch)
    with pytest.raises(AlgorithmError, match="labels must be 0 or 1"):
        sm.train("linear-learner", {"predictor_type": "binary_classifier"}, ch)
    with pytest.raises(AlgorithmError, match="feature_dim"):
        sm.train("linear-learner", {"predictor_type": "regressor", "feature_dim": "9"}, ch)
