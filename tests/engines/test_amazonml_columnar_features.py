"""The column-wise recipe pipeline (fit/transform over a whole data set) gives every row
exactly the features the one-record Predict path gives that record, for every recipe
function, group and built-in group."""
import json

import numpy as np
import pandas as pd
import pytest

from emulator.engines.amazonml.datasets import coerce_record, load_dataset, value_to_text
from emulator.engines.amazonml.recipes import FeaturePipeline, default_recipe, parse_recipe
from emulator.engines.amazonml.schema import parse_schema

SCHEMA = parse_schema(json.dumps({
    "version": "1.0", "targetAttributeName": "y", "rowId": "rid", "dataFormat": "CSV",
    "dataFileContainsHeader": False,
    "attributes": [{"attributeName": n, "attributeType": t} for n, t in [
        ("rid", "CATEGORICAL"), ("title", "TEXT"), ("note", "TEXT"), ("age", "NUMERIC"), ("income", "NUMERIC"),
        ("country", "CATEGORICAL"), ("city", "CATEGORICAL"), ("flag", "BINARY"), ("y", "BINARY")]]}))
WORDS = ["Great", "movie", "great", "MOVIE!", "(bad)", "plot;", "it's", "e-mail", "...", "the", "the", "a"]


def rows(seed: int, count: int) -> str:
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(count):
        title = " ".join(rng.choice(WORDS, size=rng.integers(0, 7)))  # repeated words, punctuation, empty
        note = " ".join(rng.choice(WORDS + [f"w{seed}x{i % 9}"], size=rng.integers(0, 4)))  # unseen words
        age = "" if rng.random() < 0.1 else f"{rng.normal(40, 12):.3f}"
        income = "" if rng.random() < 0.1 else f"{rng.lognormal(10, 1):.2f}"
        country = rng.choice(["FR", " fr ", "De", "", "US", f"X{seed}"])
        city = rng.choice(["Paris!", "paris", "", "Köln", "New York"])
        flag = rng.choice(["1", "0", "yes", "", "F"])
        lines.append(f"r{i},{title},{note},{age},{income},{country},{city},{flag},{i % 2}\n")
    return "".join(lines)


RECIPES = {
    "raw and built-in groups": ["ALL_INPUTS"],
    "ALL_TEXT ALL_CATEGORICAL ALL_BINARY ALL_NUMERIC": ["ALL_TEXT", "ALL_CATEGORICAL", "ALL_BINARY", "ALL_NUMERIC"],
    "lowercase": ["lowercase(ALL_TEXT)", "lowercase(ALL_CATEGORICAL)"],
    "no_punct": ["no_punct(title)", "no_punct(city)", "lowercase(no_punct(ALL_TEXT))"],
    "ngram": ["ngram(title,2)", "ngram(lowercase(no_punct(note)),4)"],
    "osb": ["osb(title,2)", "osb(lowercase(note),5)"],
    "quantile_bin": ["quantile_bin(age,7)", "quantile_bin(ALL_NUMERIC,50)", "lowercase(quantile_bin(income,3))"],
    "normalize": ["normalize(age)", "normalize(ALL_NUMERIC)"],
    "cartesian": ["cartesian(country,flag)", "cartesian(title,city)", "cartesian(ngram(note,2),osb(title,3))",
                  "cartesian(quantile_bin(age,4),lowercase(country))", "cartesian(ALL_CATEGORICAL,ALL_TEXT)"],
    "groups and assignments": ["G", "cx", "quantile_bin(N,5)"],
}
GROUPS = {"G": "group(title, country, flag)", "N": "group_remove(ALL_NUMERIC, income)"}
ASSIGNMENTS = {"cx": "cartesian(lowercase(no_punct(city)), quantile_bin(income, 6))"}


def record_matrix(pipe: FeaturePipeline, frame: pd.DataFrame) -> np.ndarray:
    dense = np.zeros((len(frame), pipe.n_features))
    types = {a.name: a.type for a in SCHEMA.attributes}
    for i, rec in enumerate(frame.to_dict("records")):
        record = {k: value_to_text(v, types[k]) for k, v in rec.items()}  # as a Predict Record
        idx, vals = pipe.record_features(coerce_record(record, SCHEMA))
        assert len(set(idx.tolist())) == len(idx)
        dense[i, idx] = vals
    return dense


def raw_record_matrix(pipe: FeaturePipeline, text: str) -> np.ndarray:
    """Predict's way: each CSV line as a Record of strings."""
    names = [a.name for a in SCHEMA.attributes]
    dense = []
    for line in text.splitlines():
        record = dict(zip(names, line.split(",")))
        idx, vals = pipe.record_features(coerce_record(record, SCHEMA))
        row = np.zeros(pipe.n_features)
        row[idx] = vals
        dense.append(row)
    return np.array(dense)


@pytest.mark.parametrize("name", list(RECIPES))
def test_batch_features_equal_one_record_features(name: str) -> None:
    train = load_dataset([("t.csv", rows(1, 300).encode())], SCHEMA, None)
    recipe = parse_recipe(json.dumps({"groups": GROUPS, "assignments": ASSIGNMENTS, "outputs": RECIPES[name]}), SCHEMA)
    pipe = FeaturePipeline(recipe).fit(train.frame)
    assert pipe.n_features > 0
    other_text = rows(2, 120)  # other values: unseen tokens and categories
    for frame, text in ((train.frame, rows(1, 300)),
                        (load_dataset([("o.csv", other_text.encode())], SCHEMA, None).frame, other_text)):
        batch = pipe.transform(frame)
        assert batch.shape == (len(frame), pipe.n_features)
        dense = batch.toarray()
        assert np.array_equal(dense, record_matrix(pipe, frame))  # bit-identical, every row
        assert np.array_equal(dense, raw_record_matrix(pipe, text))
        assert dense.any(axis=1).sum() > 0.5 * len(frame)
        assert len(frame) == len(text.splitlines())


def test_columnar_fit_learns_the_record_vocabulary() -> None:
    """Vocabulary: exactly the tokens the record path produces on the training rows."""
    train = load_dataset([("t.csv", rows(3, 200).encode())], SCHEMA, None)
    outputs = [o for group in RECIPES.values() for o in group]
    recipe = parse_recipe(json.dumps({"groups": GROUPS, "assignments": ASSIGNMENTS, "outputs": outputs}), SCHEMA)
    pipe = FeaturePipeline(recipe).fit(train.frame)
    seen: list[set[str]] = [set() for _ in recipe.outputs]
    types = {a.name: a.type for a in SCHEMA.attributes}
    for rec in train.frame.to_dict("records"):
        typed = coerce_record({k: value_to_text(v, types[k]) for k, v in rec.items()}, SCHEMA)
        cols = {a.name: (np.array([typed[a.name]], dtype=float) if a.type in ("NUMERIC", "BINARY")
                         else [typed[a.name] or ""]) for a in SCHEMA.feature_attributes()}
        cache: dict = {}
        for j, var in enumerate(recipe.outputs):
            if var.type != "NUMERIC":
                seen[j].update(pipe._tokens(var, pipe._eval(var, cols, 1, cache, fitting=False))[0])
    assert [set(v) for v in pipe.vocab] == seen
    assert sum(len(v) for v in seen) > 500


def test_default_recipe_features_match_records_on_a_larger_file() -> None:
    text = rows(4, 3000)
    train = load_dataset([("t.csv", text.encode())], SCHEMA, None)
    pipe = FeaturePipeline(parse_recipe(default_recipe(train), SCHEMA)).fit(train.frame)
    assert any(v.op == "quantile_bin" for v in pipe.recipe.outputs)
    sample = train.frame.iloc[::7].reset_index(drop=True)
    assert np.array_equal(pipe.transform(sample).toarray(), record_matrix(pipe, sample))


def test_fit_transform_is_fit_then_transform() -> None:
    train = load_dataset([("t.csv", rows(5, 400).encode())], SCHEMA, None)
    outputs = [o for group in RECIPES.values() for o in group]
    recipe = parse_recipe(json.dumps({"groups": GROUPS, "assignments": ASSIGNMENTS, "outputs": outputs}), SCHEMA)
    one = FeaturePipeline(recipe)
    X = one.fit_transform(train.frame)
    two = FeaturePipeline(recipe).fit(train.frame)
    assert one.to_dict() == two.to_dict()
    assert (X != two.transform(train.frame)).nnz == 0 and X.nnz > 0


def test_kept_parses_are_bounded_least_recently_used_first_out() -> None:
    from emulator.services.machinelearning.parsed_files import ParsedFiles

    kept = ParsedFiles(max_bytes=100)
    kept.put(("b", "k1", "e1"), "p1", 40)
    kept.put(("b", "k2", "e2"), "p2", 40)
    assert kept.get(("b", "k1", "e1")).parsed == "p1"  # k1 now the most recently used
    kept.put(("b", "k3", "e3"), "p3", 40)
    assert kept.get(("b", "k2", "e2")) is None and kept.get(("b", "k1", "e1")) is not None
    kept.put(("b", "k4", "e4"), "p4", 101)  # larger than the bound: not kept
    assert kept.get(("b", "k4", "e4")) is None and kept.get(("b", "k3", "e3")).parsed == "p3"
    assert kept.get(("b", "k1", "e2")) is None  # another ETag is another object
