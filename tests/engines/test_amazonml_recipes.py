"""Recipe language of the Amazon ML engine."""
import json
import re

import pytest

from emulator.engines.amazonml.datasets import load_dataset
from emulator.engines.amazonml.errors import EngineInputError
from emulator.engines.amazonml.recipes import (FeaturePipeline, default_recipe, ngram_tokens, no_punct_text,
                                               osb_tokens, parse_recipe)
from emulator.engines.amazonml.schema import parse_schema

SCHEMA = parse_schema(json.dumps({
    "version": "1.0", "targetAttributeName": "y", "rowId": "rid", "excludedAttributeNames": ["skip"],
    "dataFormat": "CSV", "dataFileContainsHeader": False,
    "attributes": [{"attributeName": n, "attributeType": t} for n, t in [
        ("rid", "CATEGORICAL"), ("title", "TEXT"), ("age", "NUMERIC"), ("income", "NUMERIC"),
        ("country", "CATEGORICAL"), ("flag", "BINARY"), ("skip", "NUMERIC"), ("y", "BINARY")]]}))


def recipe(outputs, groups=None, assignments=None):
    return json.dumps({"groups": groups or {}, "assignments": assignments or {}, "outputs": outputs})


def test_text_transforms():
    assert osb_tokens("I really enjoyed", 3) == ["I_really", "I__enjoyed", "really_enjoyed"]
    assert ngram_tokens("a b c", 2) == ["a", "b", "c", "a b", "b c"]
    assert ngram_tokens("a b c", 3)[-1] == "a b c"
    assert no_punct_text("Hello, (world)! it's e-mail ...") == "Hello world it's e-mail"


def test_groups_assignments_and_nesting():
    r = parse_recipe(recipe(
        ["ALL_CATEGORICAL", "quantile_bin(NUMS,10) // binned numerics",
         "ngram(lowercase(no_punct(title)),2)", "cx", "normalize(age)", "y", "skip"],
        groups={"NUMS": "group_remove(ALL_NUMERIC, 'income')", "TXT": "group('title', y)"},
        assignments={"cx": "cartesian(country, quantile_bin(income, 5))"}), SCHEMA)
    keys = [v.key for v in r.outputs]
    assert keys == ["'country'", "quantile_bin('age',10)", "ngram(lowercase(no_punct('title')),2)",
                    "cartesian('country',quantile_bin('income',5))", "normalize('age')"]
    assert r.groups["NUMS"] == ["age"] and r.groups["TXT"] == ["title"]


def test_comments_outside_strings_and_all_inputs():
    text = '{"groups": {}, // none\n "assignments": {},\n "outputs": ["ALL_INPUTS", // all\n "ALL_TEXT"]}'
    r = parse_recipe(text, SCHEMA)
    assert {v.key for v in r.outputs} == {"'title'", "'age'", "'income'", "'country'", "'flag'"}


@pytest.mark.parametrize("text,needle", [
    (recipe(["foo(title)"]), "unknown function 'foo'"),
    (recipe(["ngram(title)"]), "takes 2 arguments, got 1"),
    (recipe(["ngram(title, 11)"]), "between 2 and 10"),
    (recipe(["quantile_bin(age, 1)"]), "between 2 and 1000"),
    (recipe(["quantile_bin(title, 10)"]), "'title' of type TEXT"),
    (recipe(["lowercase(age)"]), "NUMERIC"),
    (recipe(["nosuchvar"]), "unknown variable 'nosuchvar'"),
    (recipe(["ngram(title, 'x')"]), "must be an integer"),
    (recipe(["ngram(title, 2"]), "expected ')'"),
    (recipe(["title age"]), "unexpected 'age'"),
    (recipe([]), "'outputs' section is empty"),
    (json.dumps({"groups": {}}), "'outputs' section is missing"),
    (recipe(["title"], groups={"ALL_TEXT": "group(title)"}), "cannot be redefined"),
    (recipe(["title"], groups={"G": "group(ALL_INPUTS)"}), "ALL_INPUTS"),
    (recipe(["lowercase(ALL_INPUTS)"]), "ALL_INPUTS"),
    (recipe(["G"], groups={"G": "lowercase(title)"}), "group(...)"),
    (recipe(["y"]), "produce no input variables"),
    (recipe(["'unterminated"]), "unterminated"),
    ('{"outputs": ["title"], "extra": 1}', "unknown section"),
    ("not json", "not valid JSON"),
])
def test_recipe_errors(text, needle):
    with pytest.raises(EngineInputError, match=re.escape(needle)):
        parse_recipe(text, SCHEMA)


def test_pipeline_learns_on_training_and_applies_consistently():
    rows = "".join(f"r{i},Great movie number {i % 3}!,{i},{i * 2},c{i % 4},{i % 2},0,{i % 2}\n" for i in range(200))
    ds = load_dataset([("f.csv", rows.encode())], SCHEMA, None)
    text = default_recipe(ds)
    doc = json.loads(text)
    assert doc["groups"] == {} or all(k.startswith("NUMERIC_VARS_QB_") for k in doc["groups"])
    assert "lowercase(no_punct(ALL_TEXT))" in doc["outputs"] and "ALL_NUMERIC" in doc["outputs"]
    r = parse_recipe(recipe(["quantile_bin(age,4)", "lowercase(no_punct(title))", "age", "flag"]), SCHEMA)
    pipe = FeaturePipeline(r).fit(ds.frame)
    X = pipe.transform(ds.frame)
    assert X.shape == (200, pipe.n_features)
    assert abs(X[:, pipe._offsets[2]].toarray().mean()) < 1e-9  # standardised numeric
    assert X[:, pipe._offsets[0]:pipe._offsets[1]].sum() == 200  # one bin per row
    idx, vals = pipe.record_features({"age": 10.0, "title": "GREAT unseen", "flag": 1.0})
    dense = dict(zip(idx.tolist(), vals.tolist()))
    assert pipe.vocab[1]["great"] in dense and pipe.vocab[3]["1"] in dense
    again = FeaturePipeline.from_dict(r, json.loads(json.dumps(pipe.to_dict())))
    assert (again.transform(ds.frame) != X).nnz == 0


def test_default_recipe_bins_large_numeric_data():
    rows = "".join(f"r{i},t,{i},{i % 7},c,1,0,{i % 2}\n" for i in range(2000))
    ds = load_dataset([("f.csv", rows.encode())], SCHEMA, None)
    doc = json.loads(default_recipe(ds))
    assert doc["groups"]["NUMERIC_VARS_QB_20"] == "group('age')"
    assert "quantile_bin(NUMERIC_VARS_QB_20,20)" in doc["outputs"]
    parse_recipe(json.dumps(doc), SCHEMA)
