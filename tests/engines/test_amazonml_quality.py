"""Amazon ML's SGD models on ~10k rows against scikit-learn's LogisticRegression /
LinearRegression on the same split (two-sided: AUC and macro F1 within 0.01, RMSE within
2 %), with a random-label control. Data sets from scikit-learn's generators plus
categorical columns, not the benchmark's and not tuned on."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import f1_score, mean_squared_error, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from emulator.engines.amazonml.datasets import load_dataset
from emulator.engines.amazonml.metrics import evaluate
from emulator.engines.amazonml.schema import parse_schema
from emulator.engines.amazonml.sgd import train_model

ROWS = 10_000


def data(kind: str, seed: int) -> tuple[pd.DataFrame, str]:
    rng = np.random.default_rng(seed)
    if kind == "REGRESSION":
        X, y = make_regression(n_samples=ROWS, n_features=8, n_informative=6, noise=25.0, random_state=seed)
    else:
        X, y = make_classification(n_samples=ROWS, n_features=8, n_informative=5, n_redundant=1,
                                   n_classes=2 if kind == "BINARY" else 4, n_clusters_per_class=1,
                                   flip_y=0.08, class_sep=0.7, random_state=seed)
    frame = pd.DataFrame(np.round(X * rng.uniform(0.5, 20, size=X.shape[1]) + rng.normal(0, 5, size=X.shape[1]), 4),
                         columns=[f"x{i}" for i in range(X.shape[1])])
    region = rng.choice(["north", "south", "east", "west", "centre"], size=ROWS)
    effect = {"north": 0.8, "south": -0.6, "east": 0.0, "west": 0.3, "centre": -0.2}
    frame["region"] = region
    frame["plan"] = rng.choice(["a", "b", "c"], size=ROWS)
    if kind == "REGRESSION":
        frame["y"] = np.round(y + 40 * np.vectorize(effect.get)(region), 4)
    elif kind == "BINARY":
        flip = (rng.random(ROWS) < 0.15 * (region == "north"))
        frame["y"] = np.where(flip, 1, y)
    else:
        frame["y"] = np.array(["red", "green", "blue", "grey"])[y]
    target_type = {"BINARY": "BINARY", "MULTICLASS": "CATEGORICAL", "REGRESSION": "NUMERIC"}[kind]
    schema = json.dumps({"version": "1.0", "targetAttributeName": "y", "dataFormat": "CSV",
                         "dataFileContainsHeader": True,
                         "attributes": [{"attributeName": c, "attributeType": "NUMERIC"} for c in frame.columns[:8]]
                         + [{"attributeName": "region", "attributeType": "CATEGORICAL"},
                            {"attributeName": "plan", "attributeType": "CATEGORICAL"},
                            {"attributeName": "y", "attributeType": target_type}]})
    return frame, schema


def split(complement: bool) -> str:
    return json.dumps({"splitting": {"percentBegin": 0, "percentEnd": 70, "strategy": "random",
                                     "randomSeed": "quality", "complement": complement}})


def run(kind: str, frame: pd.DataFrame, schema_text: str) -> tuple[float, float]:
    """(Amazon ML's metric, scikit-learn's metric) on the same rows."""
    schema = parse_schema(schema_text)
    content = frame.to_csv(index=False).encode()
    train = load_dataset([("d.csv", content)], schema, split(False))
    test = load_dataset([("d.csv", content)], schema, split(True))
    model = train_model(train, kind, None, None)
    metrics = evaluate(model, test)
    features = [c for c in frame.columns if c != "y"]
    prepare = ColumnTransformer([("num", StandardScaler(), features[:8]),
                                 ("cat", OneHotEncoder(handle_unknown="ignore"), ["region", "plan"])])
    tr, te = train.frame, test.frame
    if kind == "REGRESSION":
        ref = make_pipeline(prepare, LinearRegression()).fit(tr[features], tr["y"])
        rmse = float(np.sqrt(mean_squared_error(te["y"], ref.predict(te[features]))))
        return float(metrics["RegressionRMSE"]), rmse
    ref = make_pipeline(prepare, LogisticRegression(max_iter=3000)).fit(tr[features], tr["y"].astype(str))
    if kind == "BINARY":
        score = ref.predict_proba(te[features])[:, list(ref.classes_).index("1.0")]
        return float(metrics["BinaryAUC"]), float(roc_auc_score(te["y"], score))
    return float(metrics["MulticlassAvgFScore"]), float(f1_score(te["y"].astype(str), ref.predict(te[features]),
                                                                 average="macro"))


@pytest.mark.parametrize("kind,seed", [("BINARY", 11), ("MULTICLASS", 12), ("REGRESSION", 13)])
def test_quality_matches_scikit_learn_on_the_same_split(kind: str, seed: int) -> None:
    frame, schema = data(kind, seed)
    ours, reference = run(kind, frame, schema)
    if kind == "REGRESSION":
        assert abs(ours - reference) <= 0.02 * reference, (ours, reference)
        baseline = float(frame["y"].std())
        assert ours < 0.5 * baseline  # it learned something
    else:
        assert abs(ours - reference) <= 0.01, (ours, reference)
        assert reference > (0.75 if kind == "BINARY" else 0.5)


def test_random_labels_give_chance_quality() -> None:
    frame, schema = data("BINARY", 14)
    frame["y"] = np.random.default_rng(0).permutation(frame["y"].to_numpy())
    ours, reference = run("BINARY", frame, schema)
    assert abs(ours - 0.5) < 0.04 and abs(reference - 0.5) < 0.04, (ours, reference)
