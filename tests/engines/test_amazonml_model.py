"""Training, prediction, evaluation, persistence and batch output of the Amazon ML engine."""
import json
import math
import time

import numpy as np
import pytest
from sklearn import datasets
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import f1_score, mean_squared_error, roc_auc_score
from sklearn.preprocessing import StandardScaler

from emulator.engines.amazonml.batch import batch_prediction_csv, format_score, manifest_json
from emulator.engines.amazonml.datasets import load_dataset
from emulator.engines.amazonml.errors import DataProcessingError, EngineInputError
from emulator.engines.amazonml.metrics import evaluate
from emulator.engines.amazonml.model import TrainedModel
from emulator.engines.amazonml.schema import parse_schema
from emulator.engines.amazonml.sgd import train_model, validate_parameters

CASES = {
    "BINARY": (datasets.load_breast_cancer, "BINARY", lambda t: str(int(t))),
    "MULTICLASS": (datasets.load_wine, "CATEGORICAL", lambda t: f"c{int(t)}"),
    "REGRESSION": (datasets.load_diabetes, "NUMERIC", lambda t: repr(float(t))),
}


def make_source(model_type):
    loader, ttype, label = CASES[model_type]
    d = loader()
    names = [f"f{i}" for i in range(d.data.shape[1])]
    lines = [",".join(names + ["target"])]
    lines += [",".join(repr(float(v)) for v in row) + "," + label(t) for row, t in zip(d.data, d.target)]
    attrs = [{"attributeName": n, "attributeType": "NUMERIC"} for n in names]
    attrs.append({"attributeName": "target", "attributeType": ttype})
    schema = parse_schema(json.dumps({"version": "1.0", "targetAttributeName": "target", "dataFormat": "CSV",
                                      "dataFileContainsHeader": True, "attributes": attrs}))
    return ("data.csv", ("\n".join(lines) + "\n").encode()), schema


def split(files, schema, seed, complement):
    return load_dataset(files, schema, json.dumps({"splitting": {
        "percentBegin": 0, "percentEnd": 70, "strategy": "random", "complement": complement,
        "strategyParams": {"randomSeed": seed}}}))


_trained = {}


def trained(model_type, seed="", params=None):
    key = (model_type, seed, json.dumps(params or {}))
    if key not in _trained:
        f, schema = make_source(model_type)
        tr, te = split([f], schema, seed, False), split([f], schema, seed, True)
        _trained[key] = (train_model(tr, model_type, params or {}, None), tr, te)
    return _trained[key]


def sklearn_reference(model_type, tr, te):
    feats = [c for c in tr.frame.columns if c != "target"]
    sc = StandardScaler().fit(tr.frame[feats])
    xtr, xte = sc.transform(tr.frame[feats]), sc.transform(te.frame[feats])
    ytr, yte = tr.frame["target"], te.frame["target"]
    if model_type == "BINARY":
        return roc_auc_score(yte, LogisticRegression(max_iter=5000).fit(xtr, ytr).predict_proba(xte)[:, 1])
    if model_type == "MULTICLASS":
        return f1_score(yte, LogisticRegression(max_iter=5000).fit(xtr, ytr).predict(xte), average="macro")
    return math.sqrt(mean_squared_error(yte, LinearRegression().fit(xtr, ytr).predict(xte)))


@pytest.mark.parametrize("model_type", ["BINARY", "MULTICLASS", "REGRESSION"])
@pytest.mark.parametrize("seed", ["", "s2"])
@pytest.mark.parametrize("params", [{}, {"sgd.maxPasses": "20", "sgd.shuffleType": "auto"}])
def test_accuracy_close_to_sklearn(model_type, seed, params):
    model, tr, te = trained(model_type, seed, params)
    metrics = evaluate(model, te)
    ref = sklearn_reference(model_type, tr, te)
    (key, value), = metrics.items()
    value = float(value)
    assert_close_to_reference(model_type, key, value, ref)


def assert_close_to_reference(model_type: str, key: str, value: float, ref: float) -> None:
    """The README's tolerances, two-sided: AUC and macro F1 within 0.02 of scikit-learn,
    RMSE within 2 % of ordinary least squares."""
    print(f"{key}: emulator {value:.4f} scikit-learn {ref:.4f}")
    if model_type == "REGRESSION":
        assert key == "RegressionRMSE" and abs(value / ref - 1) <= 0.02
    else:
        assert key == ("BinaryAUC" if model_type == "BINARY" else "MulticlassAvgFScore")
        assert abs(value - ref) <= 0.02


def synthetic_source(model_type: str, n_rows: int, seed: int, shuffle_labels: bool = False):
    """``n_rows`` of make_regression / make_classification as a data source (optionally
    with the labels permuted: a random-label control)."""
    if model_type == "REGRESSION":
        X, y = datasets.make_regression(n_samples=n_rows, n_features=10, n_informative=6, noise=10,
                                        random_state=seed)
        ttype, label = "NUMERIC", lambda t: repr(float(t))
    else:
        X, y = datasets.make_classification(n_samples=n_rows, n_features=10, n_informative=5,
                                            n_classes=2 if model_type == "BINARY" else 3,
                                            flip_y=0.05, random_state=seed)
        ttype, label = ("BINARY", lambda t: str(int(t))) if model_type == "BINARY" else (
            "CATEGORICAL", lambda t: f"c{int(t)}")
    if shuffle_labels:
        y = np.random.default_rng(seed).permutation(y)
    names = [f"f{i}" for i in range(X.shape[1])]
    lines = [",".join(names + ["target"])]
    lines += [",".join(repr(float(v)) for v in row) + "," + label(t) for row, t in zip(X, y)]
    attrs = [{"attributeName": n, "attributeType": "NUMERIC"} for n in names]
    attrs.append({"attributeName": "target", "attributeType": ttype})
    schema = parse_schema(json.dumps({"version": "1.0", "targetAttributeName": "target", "dataFormat": "CSV",
                                      "dataFileContainsHeader": True, "attributes": attrs}))
    return ("data.csv", ("\n".join(lines) + "\n").encode()), schema


@pytest.mark.parametrize("model_type", ["BINARY", "MULTICLASS", "REGRESSION"])
@pytest.mark.parametrize("seed", [0, 1])
def test_accuracy_close_to_sklearn_with_quantile_bins(model_type, seed):
    """3,000 rows (2,100 train): the default recipe quantile-bins every numeric."""
    f, schema = synthetic_source(model_type, 3000, seed)
    tr, te = split([f], schema, str(seed), False), split([f], schema, str(seed), True)
    model = train_model(tr, model_type, {}, None)
    assert "quantile_bin(" in model.recipe and "ALL_NUMERIC" in model.recipe
    (key, value), = evaluate(model, te).items()
    assert_close_to_reference(model_type, key, float(value), sklearn_reference(model_type, tr, te))


@pytest.mark.parametrize("model_type", ["BINARY", "MULTICLASS", "REGRESSION"])
def test_random_labels_score_chance(model_type):
    """Random-label control: nothing to learn, so AUC ~ 0.5, macro F1 ~ 1/3 at most,
    RMSE ~ the target's standard deviation (a constant metric cannot pass both tests)."""
    f, schema = synthetic_source(model_type, 3000, 5, shuffle_labels=True)
    tr, te = split([f], schema, "r", False), split([f], schema, "r", True)
    (key, value), = evaluate(train_model(tr, model_type, {}, None), te).items()
    value = float(value)
    print(key, value)
    if model_type == "BINARY":
        assert abs(value - 0.5) <= 0.06
    elif model_type == "MULTICLASS":
        assert 0.15 <= value <= 1 / 3 + 0.06
    else:
        spread = float(te.frame["target"].std(ddof=0))
        assert 0.98 * spread <= value <= 1.08 * spread


def test_predict_structures_and_speed():
    model, _, _ = trained("BINARY")
    rec = {f"f{i}": "1.0" for i in range(30)}
    out = model.predict_record(rec, 0.5)
    assert set(out) == {"predictedLabel", "predictedScores", "details"}
    assert out["details"] == {"PredictiveModelType": "BINARY", "Algorithm": "SGD"}
    (label, score), = out["predictedScores"].items()
    assert label == out["predictedLabel"] and label == ("1" if score >= 0.5 else "0")
    assert model.predict_record(rec, 0.0)["predictedLabel"] == "1"
    assert model.predict_record(rec, 1.0 + 1e-9)["predictedLabel"] == "0"
    assert model.predict_record({"junk": "x", "f0": "notanumber"})["predictedLabel"] in ("0", "1")
    start = time.perf_counter()
    for _ in range(200):
        model.predict_record(rec)
    assert (time.perf_counter() - start) / 200 < 0.005

    mc, _, te = trained("MULTICLASS")
    out = mc.predict_record({f"f{i}": str(v) for i, v in enumerate(te.frame.iloc[0, :-1])})
    assert set(out["predictedScores"]) == {"c0", "c1", "c2"}
    assert abs(sum(out["predictedScores"].values()) - 1) < 1e-9
    assert out["predictedLabel"] == max(out["predictedScores"], key=out["predictedScores"].get)
    assert out["details"]["PredictiveModelType"] == "MULTICLASS"

    rg, _, _ = trained("REGRESSION")
    out = rg.predict_record({"f0": "0.01"})
    assert set(out) == {"predictedValue", "details"} and isinstance(out["predictedValue"], float)


def test_safe_round_trip():
    model, _, te = trained("MULTICLASS")
    blob = model.to_bytes()
    assert model.size_in_bytes == len(blob)
    np.load(__import__("io").BytesIO(blob), allow_pickle=False)  # loads without pickle
    again = TrainedModel.from_bytes(blob)
    assert evaluate(again, te) == evaluate(model, te)
    assert again.recipe == model.recipe and again.training_parameters == model.training_parameters
    with pytest.raises(DataProcessingError):
        TrainedModel.from_bytes(b"garbage")


def test_parameters():
    echo = validate_parameters({"sgd.maxPasses": "20", "sgd.shuffleType": "auto"})
    assert echo == {"sgd.maxPasses": "20", "sgd.shuffleType": "auto", "sgd.maxMLModelSizeInBytes": "33554432",
                    "sgd.l2RegularizationAmount": "1e-6", "algorithm": "sgd"}
    assert "sgd.l2RegularizationAmount" not in validate_parameters({"sgd.l1RegularizationAmount": "1e-4"})
    for bad, needle in [({"sgd.foo": "1"}, "sgd.foo"), ({"sgd.maxPasses": "0"}, "sgd.maxPasses"),
                        ({"sgd.maxPasses": "x"}, "sgd.maxPasses"), ({"sgd.shuffleType": "full"}, "sgd.shuffleType"),
                        ({"sgd.maxMLModelSizeInBytes": "10"}, "sgd.maxMLModelSizeInBytes"),
                        ({"sgd.l2RegularizationAmount": "-1"}, "sgd.l2RegularizationAmount"),
                        ({"sgd.l1RegularizationAmount": "1", "sgd.l2RegularizationAmount": "1"}, "mutually exclusive")]:
        with pytest.raises(EngineInputError, match=needle):
            validate_parameters(bad)


def test_model_size_limit_and_class_limit():
    schema = parse_schema(json.dumps({"targetAttributeName": "y", "attributes": [
        {"attributeName": "t", "attributeType": "TEXT"}, {"attributeName": "y", "attributeType": "CATEGORICAL"}]}))
    rows = "".join(f"{' '.join(f'w{i}_{j}' for j in range(40))},k{i % 101}\n" for i in range(400))
    ds = load_dataset([("f.csv", rows.encode())], schema, None)
    with pytest.raises(DataProcessingError, match="at most 100 classes"):
        train_model(ds, "MULTICLASS", {}, None)
    rng = np.random.default_rng(0)
    rows = "".join(f"{' '.join(rng.bytes(6).hex() for _ in range(100))},k{i % 3}\n" for i in range(400))
    ds = load_dataset([("f.csv", rows.encode())], schema, None)
    with pytest.raises(DataProcessingError, match="maxMLModelSizeInBytes"):
        train_model(ds, "MULTICLASS", {"sgd.maxMLModelSizeInBytes": "100000", "sgd.maxPasses": "1"}, None)
    with pytest.raises(EngineInputError, match="CATEGORICAL"):
        train_model(ds, "BINARY", {}, None)


def test_text_and_weights_train():
    schema = parse_schema(json.dumps({"targetAttributeName": "y", "rowWeight": "w", "attributes": [
        {"attributeName": "t", "attributeType": "TEXT"}, {"attributeName": "w", "attributeType": "NUMERIC"},
        {"attributeName": "y", "attributeType": "BINARY"}]}))
    rng = np.random.default_rng(1)
    rows = []
    for i in range(600):
        y = i % 2
        words = rng.choice(["Good!", "great", "fine"] if y else ["bad", "Awful.", "poor"], 3)
        rows.append(f"{' '.join(words)} {rng.choice(['the', 'a'])},1,{'yes' if y else 'no'}\n")
    ds = load_dataset([("f.csv", "".join(rows).encode())], schema, None)
    model = train_model(ds, "BINARY", {"sgd.shuffleType": "auto"}, None)
    assert float(evaluate(model, ds)["BinaryAUC"]) > 0.99
    assert model.predict_record({"t": "GOOD great"})["predictedLabel"] == "1"
    assert model.predict_record({"t": "awful"})["predictedLabel"] == "0"


def test_batch_csv_layout():
    schema = parse_schema(json.dumps({"targetAttributeName": "y", "rowId": "user_id", "attributes": [
        {"attributeName": "user_id", "attributeType": "CATEGORICAL"},
        {"attributeName": "x", "attributeType": "NUMERIC"}, {"attributeName": "y", "attributeType": "BINARY"}]}))
    train = "".join(f"u{i},{i % 10},{int(i % 10 >= 5)}\n" for i in range(300))
    model = train_model(load_dataset([("t.csv", train.encode())], schema, None), "BINARY", {}, None)
    ds = load_dataset([("a.csv", b"u1,9,1\nu2,bad,1\nu3,0,0\n"), ("b.csv", b"u4,8,\n")], schema, None)
    text, total, invalid = batch_prediction_csv(model, ds, "a.csv")
    lines = text.split("\n")
    assert lines[0] == "user_id,trueLabel,bestAnswer,score"
    assert lines[1].startswith("u1,1,1,") and lines[2] == "" and lines[3].startswith("u3,0,0,")
    assert (total, invalid) == (3, 1) and len(lines) == 5 and lines[4] == ""
    score = lines[1].split(",")[3]
    assert "E" in score and float(score) > 0.5
    text_b, total_b, _ = batch_prediction_csv(model, ds, "b.csv")
    assert text_b.split("\n")[1].startswith("u4,,1,") and total_b == 1

    rg_schema = parse_schema(json.dumps({"targetAttributeName": "y", "attributes": [
        {"attributeName": "x", "attributeType": "NUMERIC"}, {"attributeName": "y", "attributeType": "NUMERIC"}]}))
    rg = train_model(load_dataset([("t.csv", "".join(f"{i},{2 * i}\n" for i in range(100)).encode())],
                                  rg_schema, None), "REGRESSION", {}, None)
    nolabel = parse_schema(json.dumps({"attributes": [{"attributeName": "x", "attributeType": "NUMERIC"}]}))
    text, _, _ = batch_prediction_csv(rg, load_dataset([("p.csv", b"3\n")], nolabel, None), "p.csv")
    assert text.split("\n")[0] == "score"

    mc, _, te = trained("MULTICLASS")
    text, total, invalid = batch_prediction_csv(mc, te, "data.csv")
    assert text.split("\n")[0] == "trueLabel,c0,c1,c2" and total == len(te.frame) and invalid == 0


def test_format_score_and_manifest():
    assert format_score(0.0087642) == "8.7642E-3"
    assert format_score(0.5) == "5.0000E-1"
    assert json.loads(manifest_json({"s3://b/in.csv": "s3://b/out/bp-1-in.csv.gz"})) == {
        "s3://b/in.csv": "s3://b/out/bp-1-in.csv.gz"}


@pytest.mark.parametrize("model_type", ["BINARY", "MULTICLASS", "REGRESSION"])
def test_predict_record_agrees_with_predict_frame(model_type):
    """The one-record hot path computes exactly what the vectorised path does."""
    model, _, te = trained(model_type)
    frame = te.frame.iloc[:20]
    batch = model.predict_frame(frame, 0.5)
    for i in range(len(frame)):
        record = {c: ("" if v != v else str(v)) for c, v in frame.iloc[i].items() if c != "target"}
        single = model.predict_record(record, 0.5)
        if model_type == "REGRESSION":
            assert single["predictedValue"] == pytest.approx(float(batch.values[i]), rel=1e-9, abs=1e-9)
        else:
            assert single["predictedLabel"] == str(batch.labels[i])
