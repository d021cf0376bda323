import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from emulator.engines import sagemaker as sm
from emulator.engines.sagemaker import AlgorithmError, Channel, ModelError

from tests.sagemaker_helpers import IRIS_CSV as IRIS  # the shipped copy of seed 003's file


@pytest.fixture(scope="module")
def iris_split():
    df = pd.read_csv(IRIS)
    df = df[["Species", "Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]]
    df["Species"] = df["Species"].map({"setosa": 0, "versicolor": 1, "virginica": 2})
    train_df, test_df = train_test_split(df, shuffle=True, random_state=0)
    return train_df, test_df


def _ch(name, df, ctype="text/csv"):
    return Channel(name, ctype, [(f"{name}/data.csv", df.to_csv(header=False, index=False).encode())])


HP = {"k": "1", "sample_size": "1000", "predictor_type": '"classifier"', "feature_dim": "4"}


def test_algorithm_from_image():
    f = sm.algorithm_from_image
    assert f("382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1") == "knn"
    assert f("683313688378.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1") == "xgboost"
    assert f("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1") == "xgboost"
    assert f("811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:latest") == "blazingtext"
    assert f("382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner@sha256:abc") == "linear-learner"
    assert f("123.dkr.ecr.us-east-1.amazonaws.com/my-own:1") is None
    assert f("") is None


def test_knn_iris_matches_sklearn(iris_split):
    train_df, test_df = iris_split
    result = sm.train("knn", HP, {"train": _ch("train", train_df), "test": _ch("test", test_df)})
    ref = KNeighborsClassifier(n_neighbors=1).fit(train_df.iloc[:, 1:].values, train_df.iloc[:, 0].values)
    expected = ref.score(test_df.iloc[:, 1:].values, test_df.iloc[:, 0].values)
    metrics = dict(result.metrics)
    assert metrics["test:accuracy"] == pytest.approx(expected, abs=1e-12)
    # the metric regex matches the log line and yields the same value
    regex = next(d["Regex"] for d in sm.metric_definitions("knn") if d["Name"] == "test:accuracy")
    values = [float(m.group(1)) for line in result.log_lines if (m := re.search(regex, line))]
    assert values == [pytest.approx(expected)]
    assert any("('macro_f_1.000'," in line for line in result.log_lines)

    predictor = sm.load_predictor("knn", sm.make_model_tar_gz(result.model_files))
    body, ctype = predictor.invoke(b"5.8,2.8,5.1,2.4", "text/csv", "application/json")
    assert ctype == "application/json"
    assert json.loads(body)["predictions"][0]["predicted_label"] == 2.0
    # all test rows through CSV, compare with sklearn
    csv = test_df.iloc[:, 1:].to_csv(header=False, index=False).encode()
    preds = [p["predicted_label"] for p in json.loads(predictor.invoke(csv, "text/csv", None)[0])["predictions"]]
    assert np.array_equal(np.array(preds), ref.predict(test_df.iloc[:, 1:].values).astype(float))


def test_knn_verbose_json_and_jsonlines(iris_split):
    train_df, _ = iris_split
    hp = dict(HP, k="3")
    result = sm.train("knn", hp, {"train": _ch("train", train_df)})
    assert result.metrics == []
    predictor = sm.load_predictor("knn", sm.make_model_tar_gz(result.model_files))
    payload = json.dumps({"instances": [{"features": [5.8, 2.8, 5.1, 2.4]}, {"features": [5.0, 3.4, 1.5, 0.2]}]})
    body, _ = predictor.invoke(payload.encode(), "application/json", "application/json; verbose=true")
    preds = json.loads(body)["predictions"]
    assert [p["predicted_label"] for p in preds] == [2.0, 0.0]
    assert len(preds[0]["distances"]) == 3 and len(preds[0]["labels"]) == 3
    assert preds[0]["distances"] == sorted(preds[0]["distances"])
    assert preds[1]["labels"] == [0.0, 0.0, 0.0]
    body, ctype = predictor.invoke(b'{"features":[5.8,2.8,5.1,2.4]}\n{"features":[5.0,3.4,1.5,0.2]}\n',
                                   "application/jsonlines", "application/jsonlines")
    assert ctype == "application/jsonlines"
    assert [json.loads(l)["predicted_label"] for l in body.decode().splitlines()] == [2.0, 0.0]
    with pytest.raises(ModelError):
        predictor.invoke(b"1,2,3", "text/csv", "application/json")
    with pytest.raises(ModelError):
        predictor.invoke(b"{not json", "application/json", "application/json")
    with pytest.raises(ModelError):
        predictor.invoke(b"a,b,c,d", "text/csv", "application/json")


def test_knn_regressor_and_sampling():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    data = np.column_stack([y, X])
    tr = Channel("train", "text/csv;label_size=1", [("a.csv", "\n".join(",".join(map(str, r)) for r in data[:400]).encode())])
    te = Channel("test", "text/csv", [("b.csv", "\n".join(",".join(map(str, r)) for r in data[400:]).encode())])
    res = sm.train("knn", {"k": "5", "predictor_type": "regressor", "sample_size": "300"}, {"train": tr, "test": te})
    mse = dict(res.metrics)["test:mse"]
    assert 0 < mse < 1.0
    files = res.model_files
    with np.load(__import__("io").BytesIO(files["model_algo-1.npz"])) as npz:
        assert npz["X"].shape == (300, 3)


@pytest.mark.parametrize("hp,msg", [
    ({"predictor_type": "classifier", "sample_size": "10"}, "No value for 'k' hyperparameter"),
    ({"k": "1", "sample_size": "10"}, "No value for 'predictor_type' hyperparameter"),
    ({"k": "1", "predictor_type": "classifier"}, "No value for 'sample_size' hyperparameter"),
    ({"k": "0", "predictor_type": "classifier", "sample_size": "10"}, "'k'"),
    ({"k": "1", "predictor_type": "clustering", "sample_size": "10"}, "clustering"),
    ({"k": "1", "predictor_type": "classifier", "sample_size": "10", "feature_dim": "7"}, "feature_dim"),
])
def test_knn_bad_hyperparameters(iris_split, hp, msg):
    with pytest.raises(AlgorithmError, match=re.escape(msg)):
        sm.train("knn", hp, {"train": _ch("train", iris_split[0])})


def test_knn_channel_errors(iris_split):
    with pytest.raises(AlgorithmError, match="'train' is a required"):
        sm.train("knn", HP, {"test": _ch("test", iris_split[1])})
    with pytest.raises(AlgorithmError, match="application/x-foo is not supported"):
        sm.train("knn", HP, {"train": _ch("train", iris_split[0], "application/x-foo")})
    with pytest.raises(AlgorithmError, match="not supported"):
        sm.train("knn", HP, {"train": _ch("train", iris_split[0], "application/x-recordio-protobuf")})
    with pytest.raises(AlgorithmError, match="No training data found in channel 'train'"):
        sm.train("knn", HP, {"train": Channel("train", "text/csv", [("x", b"")])})
    with pytest.raises(AlgorithmError, match="row 2"):
        sm.train("knn", HP, {"train": Channel("train", "text/csv", [("x", b"0,1,2,3,4\n1,a,2,3,4\n")])})
    with pytest.raises(AlgorithmError):
        sm.load_predictor("knn", b"not a tarball")


def _knn_csv(y, X):
    return "\n".join(",".join(repr(float(v)) for v in [a, *row]) for a, row in zip(y, X)).encode()


def test_ivf_indexes_are_approximate_like_faiss():
    """IVFFlat searches only the probed lists; IVFPQ also compares to quantised vectors;
    both agree with exact search on most neighbours, not all; the knobs change the result."""
    from sklearn.neighbors import NearestNeighbors

    from emulator.engines import sagemaker as sm
    from emulator.engines.sagemaker import Channel
    from emulator.engines.sagemaker.knn import KnnModel

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 8))
    y = (X[:, 0] > 0).astype(float)
    Q = rng.normal(size=(200, 8))
    _, exact = NearestNeighbors(n_neighbors=10).fit(X).kneighbors(Q)
    ch = {"train": Channel("train", "text/csv", [("a", _knn_csv(y, X))])}
    base = {"k": "10", "sample_size": "2000", "predictor_type": "classifier"}

    def recall(hp):
        res = sm.train("knn", {**base, **hp}, ch)
        model = KnnModel.from_files(res.model_files)
        idx, _ = model.neighbours(Q)
        return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(idx, exact)]), model, res

    flat, _, _ = recall({})
    assert flat == 1.0
    narrow, _, res = recall({"index_type": "faiss.IVFFlat", "faiss_index_ivf_nlists": "40", "_faiss_index_nprobe": "1"})
    wide, _, _ = recall({"index_type": "faiss.IVFFlat", "faiss_index_ivf_nlists": "40", "_faiss_index_nprobe": "10"})
    assert 0.2 < narrow < wide < 1.0 + 1e-12 and wide > 0.9
    assert any("40 inverted lists, nprobe=1" in l for l in res.log_lines)
    pq2, model2, _ = recall({"index_type": "faiss.IVFPQ", "faiss_index_pq_m": "2", "_faiss_index_nprobe": "40",
                             "faiss_index_ivf_nlists": "40"})
    pq8, model8, _ = recall({"index_type": "faiss.IVFPQ", "faiss_index_pq_m": "8", "_faiss_index_nprobe": "40",
                             "faiss_index_ivf_nlists": "40"})
    assert 0.1 < pq2 < pq8 < 1.0  # finer codes, better neighbours; never exact
    assert not np.allclose(model2.X, X)  # the index keeps decoded vectors only
    with pytest.raises(sm.AlgorithmError, match="must divide"):
        sm.train("knn", {**base, "index_type": "faiss.IVFPQ", "faiss_index_pq_m": "3"}, ch)
    res = sm.train("knn", {**base, "faiss_index_ivf_nlists": "4"}, ch)
    assert any("have no effect with index_type faiss.Flat" in l for l in res.log_lines)
