"""Large one-output models train on the matrix in parts (``FeaturePipeline.design``):
numerics dense, one-token outputs as feature indices, text tokens sparse. The parts are
exactly the rows of ``transform``, and training on them gives the weights of training on
the whole sparse matrix (the same sums in another order)."""
import json

import numpy as np
import pytest

from emulator.engines.amazonml import sgd
from emulator.engines.amazonml.datasets import load_dataset
from emulator.engines.amazonml.recipes import Design, FeaturePipeline, parse_recipe
from emulator.engines.amazonml.schema import parse_schema

from .test_amazonml_columnar_features import ASSIGNMENTS, GROUPS, RECIPES, SCHEMA, rows

OUTPUTS = [o for group in RECIPES.values() for o in group]
TRAIN = load_dataset([("t.csv", rows(11, 600).encode())], SCHEMA, None)


def whole(design: Design) -> np.ndarray:
    """The design's rows as one dense matrix."""
    n, d = len(design.indices), design.n_features
    X = np.zeros((n, d + 1))
    X[:, design.dense_features] = design.dense
    for k in range(design.indices.shape[1]):
        X[np.arange(n), design.indices[:, k]] += 1.0
    if design.rest is not None:
        X[:, :d] += design.rest.toarray()
    assert not X[:, d].any() or (design.indices == d).any()
    return X[:, :d]


@pytest.mark.parametrize("outputs", [OUTPUTS, ["ALL_NUMERIC", "ALL_CATEGORICAL", "ALL_BINARY", "quantile_bin(age,7)"]],
                         ids=["every function", "no text"])
@pytest.mark.parametrize("ordered", [False, True], ids=["frame order", "given order"])
def test_design_rows_equal_transform_rows(outputs: list[str], ordered: bool) -> None:
    recipe = parse_recipe(json.dumps({"groups": GROUPS, "assignments": ASSIGNMENTS, "outputs": outputs}), SCHEMA)
    pipe = FeaturePipeline(recipe)
    cache: dict = {}
    pipe.fit(TRAIN.frame, cache)
    order = np.random.default_rng(5).permutation(len(TRAIN.frame)) if ordered else None
    design = pipe.design(TRAIN.frame, cache, order)
    assert design.indices.shape[1] > 0 and len(design.dense_features) > 0
    assert (design.rest is None) == (outputs != OUTPUTS)
    assert (design.indices == pipe.n_features).any()  # missing categoricals / bins: no feature
    expected = FeaturePipeline(recipe).fit(TRAIN.frame).transform(TRAIN.frame).toarray()
    assert np.array_equal(whole(design), expected if order is None else expected[order])


@pytest.mark.parametrize("model_type", ["BINARY", "REGRESSION"])
@pytest.mark.parametrize("shuffle", ["none", "auto"])
def test_training_on_parts_gives_the_whole_matrix_weights(monkeypatch, model_type: str, shuffle: str) -> None:
    recipe = json.dumps({"groups": GROUPS, "assignments": ASSIGNMENTS, "outputs": OUTPUTS})
    params = {"sgd.shuffleType": shuffle, "sgd.maxPasses": "3"}
    if model_type == "REGRESSION":
        doc = SCHEMA.to_dict()
        doc["attributes"] = [dict(a, attributeType="NUMERIC") if a["attributeName"] == "y" else a
                             for a in doc["attributes"]]
        schema = parse_schema(json.dumps(doc))
        frame = TRAIN.frame.copy()
        frame["y"] = frame["age"].fillna(40.0) * 0.1 + frame["y"]
        dataset = type(TRAIN)(**{**{k: v for k, v in vars(TRAIN).items() if not k.startswith("_")},
                                 "frame": frame, "schema": schema})
    else:
        dataset = TRAIN
    designs = []
    real_design = FeaturePipeline.design
    monkeypatch.setattr(FeaturePipeline, "design", lambda self, *a: designs.append(1) or real_design(self, *a))
    monkeypatch.setattr(sgd, "DENSE_LIMIT", 0)  # the reference below: CSR, not dense
    parts = sgd.train_model(dataset, model_type, params, recipe)
    assert designs
    whole_sparse = []
    real_sgd = sgd._sgd
    # the whole matrix in the design's row order (the passes' visiting order)
    monkeypatch.setattr(FeaturePipeline, "design", lambda self, frame, cache, order=None: whole_sparse.append(1) or
                        self.transform(frame, cache).tocsr()[slice(None) if order is None else order])
    monkeypatch.setattr(sgd, "_sgd", real_sgd)
    reference = sgd.train_model(dataset, model_type, params, recipe)  # the CSR path (DENSE_LIMIT 0: not dense)
    assert whole_sparse and parts.weights.shape == reference.weights.shape
    assert np.abs(reference.weights).max() > 0.01
    np.testing.assert_allclose(parts.weights, reference.weights, rtol=0, atol=1e-9)
    np.testing.assert_allclose(parts.intercept, reference.intercept, rtol=0, atol=1e-9)
