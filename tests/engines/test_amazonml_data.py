"""Schema, rearrangement, CSV loading and statistics of the Amazon ML engine."""
import json

import numpy as np
import pandas as pd
import pytest

from emulator.engines.amazonml.datasets import load_dataset, parse_record
from emulator.engines.amazonml.errors import DataProcessingError, EngineInputError
from emulator.engines.amazonml.rearrangement import parse_rearrangement
from emulator.engines.amazonml.schema import check_target_for_model_type, parse_schema
from emulator.engines.amazonml.statistics import compute_statistics


def schema_json(attrs, **extra):
    doc = {"version": "1.0", "dataFormat": "CSV", "dataFileContainsHeader": False,
           "attributes": [{"attributeName": n, "attributeType": t} for n, t in attrs]}
    doc.update(extra)
    return json.dumps(doc)


SIMPLE = schema_json([("id", "CATEGORICAL"), ("x", "NUMERIC"), ("b", "BINARY")], targetAttributeName="b")


def test_schema_echo_has_null_rowid_and_weight():
    s = parse_schema(SIMPLE)
    out = json.loads(s.to_json())
    assert out["rowId"] is None and out["rowWeight"] is None
    assert out["targetAttributeName"] == "b"
    assert out["attributes"][1] == {"attributeName": "x", "attributeType": "NUMERIC"}


def test_legacy_schema_keys():
    legacy = json.dumps({"version": "1.0", "recordAnnotationFieldName": "id", "targetFieldName": "y",
                         "dataFormat": "CSV", "dataFileContainsHeader": "true",
                         "variables": [{"fieldName": "id", "fieldType": "CATEGORICAL"},
                                       {"fieldName": "t", "fieldType": "WEIGHTED_STRING_SEQUENCE"},
                                       {"fieldName": "y", "fieldType": "NUMERIC"}],
                         "excludedVariableNames": ["t"]})
    s = parse_schema(legacy)
    d = s.to_dict()
    assert d["rowId"] == "id" and d["targetAttributeName"] == "y" and d["excludedAttributeNames"] == ["t"]
    assert s.type_of("t") == "TEXT" and s.contains_header is True


@pytest.mark.parametrize("doc,needle", [
    (schema_json([("a", "NUMBER")]), "'a'"),
    (schema_json([("a", "NUMERIC"), ("a", "TEXT")]), "more than once"),
    (schema_json([("a", "NUMERIC")], targetAttributeName="zz"), "targetAttributeName"),
    (schema_json([("a", "NUMERIC"), ("w", "TEXT")], rowWeight="w"), "rowWeight"),
    (schema_json([]), "at least one"),
    (schema_json([(f"a{i}", "NUMERIC") for i in range(1001)]), "1000"),
    ("{not json", "not valid JSON"),
])
def test_schema_validation_errors(doc, needle):
    with pytest.raises(EngineInputError, match=needle):
        parse_schema(doc)


def test_target_type_must_match_model_type():
    s = parse_schema(SIMPLE)
    check_target_for_model_type(s, "BINARY")
    with pytest.raises(EngineInputError, match="CATEGORICAL"):
        check_target_for_model_type(s, "MULTICLASS")
    with pytest.raises(EngineInputError, match="targetAttributeName"):
        check_target_for_model_type(parse_schema(schema_json([("a", "NUMERIC")])), "REGRESSION")


def _rows(n):
    return ("".join(f"r{i},{i},1\n" for i in range(n))).encode()


@pytest.mark.parametrize("strategy", ["random", "sequential"])
def test_split_and_complement_are_disjoint_and_cover(strategy):
    s = parse_schema(SIMPLE)
    files = [("a.csv", _rows(700)), ("b.csv", _rows(300))]
    split = {"percentBegin": 10, "percentEnd": 80, "strategy": strategy,
             "strategyParams": {"randomSeed": "seed"}}
    a = load_dataset(files, s, json.dumps({"splitting": split}))
    b = load_dataset(files, s, json.dumps({"splitting": {**split, "complement": "true"}}))
    ka = set(zip(a.origins, a.frame["id"]))
    kb = set(zip(b.origins, b.frame["id"]))
    assert not ka & kb
    assert len(ka | kb) == 1000 and a.total_record_count + b.total_record_count == 1000
    assert 600 < len(ka) < 800
    # order preserved
    ids_a = [int(x[1:]) for x in a.frame["id"][a.origins == "a.csv"]]
    assert ids_a == sorted(ids_a)
    if strategy == "sequential":
        assert len(ka) == 700 and a.frame["id"].iloc[0] == "r100"


def test_random_split_is_deterministic_and_seed_dependent():
    s = parse_schema(SIMPLE)
    files = [("a.csv", _rows(500))]
    r = lambda seed: list(load_dataset(files, s, json.dumps({"splitting": {
        "percentBegin": 0, "percentEnd": 50, "strategy": "random", "randomSeed": seed}})).frame["id"])
    assert r("x") == r("x") and r("x") != r("y")


@pytest.mark.parametrize("doc,needle", [
    ({"splitting": {"percentBegin": 80, "percentEnd": 20}}, "percentBegin"),
    ({"splitting": {"percentEnd": 120}}, "percentEnd"),
    ({"splitting": {"strategy": "stratified"}}, "strategy"),
    ({"splitting": {"complement": "maybe"}}, "complement"),
])
def test_rearrangement_errors(doc, needle):
    with pytest.raises(EngineInputError, match=needle):
        parse_rearrangement(json.dumps(doc))


def test_binary_parsing_and_invalid_rows():
    s = parse_schema(schema_json([("t", "TEXT"), ("x", "NUMERIC"), ("b", "BINARY")], dataFileContainsHeader=True))
    data = ("t,x,b\n"
            '"hello, world",1.5, Yes \n'
            "a,,f\n"
            "\n"
            "b,2,TRUE\r\n"
            "c,3,N\n"
            "d,notnum,1\n"
            "e,4,maybe\n"
            "f,5\n").encode()
    d = load_dataset([("f.csv", data)], s, None)
    assert list(d.frame["b"]) == [1.0, 0.0, 1.0, 0.0]
    assert d.frame["t"].iloc[0] == "hello, world"
    assert np.isnan(d.frame["x"].iloc[1])
    assert d.total_record_count == 7 and d.invalid_record_count == 3
    assert list(d.layout["f.csv"]) == [0, 1, 2, 3, -1, -1, -1]
    assert any("'x'" in e for e in d.invalid_examples)


def test_more_than_10000_invalid_rows_fails():
    s = parse_schema(schema_json([("x", "NUMERIC")]))
    ok = load_dataset([("f.csv", b"1\n" + b"bad\n" * 10000)], s, None)
    assert ok.invalid_record_count == 10000 and len(ok.frame) == 1
    with pytest.raises(DataProcessingError, match="rejected 10001 records"):
        load_dataset([("f.csv", b"1\n" + b"bad\n" * 10001)], s, None)


def test_empty_and_undecodable_data():
    s = parse_schema(schema_json([("x", "NUMERIC")]))
    with pytest.raises(DataProcessingError, match="no data records"):
        load_dataset([("f.csv", b"\n\n")], s, None)
    with pytest.raises(DataProcessingError, match="UTF-8"):
        load_dataset([("f.csv", b"1\n\xff\xfe\n")], s, None)
    with pytest.raises(DataProcessingError, match="no valid records"):
        load_dataset([("f.csv", b"a\nb\n")], s, None)


def test_parse_record_lenient():
    s = parse_schema(SIMPLE)
    f = parse_record({"x": "abc", "b": "yes", "extra": "1"}, s)
    assert len(f) == 1 and np.isnan(f["x"].iloc[0]) and f["b"].iloc[0] == 1.0 and f["id"].iloc[0] == ""


def test_statistics():
    s = parse_schema(schema_json([("c", "CATEGORICAL"), ("x", "NUMERIC"), ("t", "TEXT"), ("y", "BINARY")],
                                 targetAttributeName="y"))
    rows = "".join(f"{'ab'[i % 2]},{i % 2 + (i / 1000)},w{i % 3} z,{i % 2}\n" for i in range(100)) + "a,,,1\n"
    st = compute_statistics(load_dataset([("f.csv", rows.encode())], s, None))
    json.dumps(st)
    by = {a["attributeName"]: a for a in st["attributes"]}
    assert by["x"]["missing"] == 1 and by["x"]["count"] == 100
    x = pd.Series([i % 2 + (i / 1000) for i in range(100)])
    assert by["x"]["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert by["x"]["median"] == pytest.approx(x.median(), rel=1e-12)
    assert by["x"]["stddev"] == pytest.approx(x.std(ddof=0), rel=1e-12)  # population, as documented
    assert (by["x"]["min"], by["x"]["max"]) == (x.min(), x.max())
    counts, edges = np.histogram(x, bins=len(by["x"]["histogram"]["counts"]))
    assert by["x"]["histogram"]["counts"] == counts.tolist()
    assert by["x"]["histogram"]["binEdges"] == pytest.approx(edges.tolist())
    assert by["c"]["valueCounts"] == {"a": 51, "b": 50}
    assert by["t"]["topTokens"]["z"] == 100
    assert by["x"]["targetCorrelation"] > 0.9 and by["c"]["targetCorrelation"] > 0.9
    assert st["totalRecordCount"] == 101


def test_statistics_count_invalid_values_per_attribute():
    from emulator.engines.amazonml.statistics import compute_statistics

    schema = parse_schema(json.dumps({
        "version": "1.0", "targetAttributeName": "y", "dataFormat": "CSV", "dataFileContainsHeader": False,
        "attributes": [{"attributeName": "x", "attributeType": "NUMERIC"},
                       {"attributeName": "flag", "attributeType": "BINARY"},
                       {"attributeName": "y", "attributeType": "CATEGORICAL"}]}))
    data = b"1,yes,a\nabc,no,b\n2,maybe,a\n3,t,b\nzz,perhaps,a\n4,f\n"
    dataset = load_dataset([("d.csv", data)], schema, None)
    stats = {a["attributeName"]: a for a in compute_statistics(dataset)["attributes"]}
    assert dataset.invalid_record_count == 4
    assert (stats["x"]["invalid"], stats["flag"]["invalid"], stats["y"]["invalid"]) == (2, 2, 0)
    assert stats["x"]["count"] == 2
