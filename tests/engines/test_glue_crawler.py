"""The crawler engine without HTTP: classification, type inference, table grouping."""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emulator.engines import glue as engine
from emulator.engines.glue.layout import glob_regex


def _types(schema: engine.FileSchema) -> dict[str, str]:
    return {c["Name"]: c["Type"] for c in engine.columns([schema])}


def test_diabetes_csv_has_a_header_and_numeric_types() -> None:
    data = _diabetes()
    schema = engine.classify("diabetes.csv", data)
    frame = pd.read_csv(io.BytesIO(data))
    assert schema.classification == "csv" and schema.options["header"] is True
    assert schema.record_count == len(frame)
    types = _types(schema)
    assert list(types) == [c.lower() for c in frame.columns]
    for column in frame.columns:
        expected = "bigint" if pd.api.types.is_integer_dtype(frame[column]) else "double"
        assert types[column.lower()] == expected, column


def _diabetes() -> bytes:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for data in (root / "clients" / "examples" / "data", root.parent / "shared" / "data",
                 root.parent.parent / "shared" / "data"):  # shipped, or shared/ beside a clone or a worktree
        if (data / "diabetes.csv").exists():
            return (data / "diabetes.csv").read_bytes()
    pytest.skip("shared/data/diabetes.csv is not beside the checkout")


def test_csv_cell_types_and_widening() -> None:
    """Glue's CSV classifier: bigint, double, boolean, else string (dates and timestamps
    too, unless a custom CSV classifier configures DATE / TIMESTAMP CustomDatatypes)."""
    text = ("a,b,c,d,e,f,g\n"
            "1,1.5,TRUE,2024-01-02,2024-01-02 10:11:12,x,1\n"
            "2,2,false,2024-02-03,2024-01-03 00:00:00.5,y,z\n")
    types = _types(engine.classify("t.csv", text.encode()))
    assert types == {"a": "bigint", "b": "double", "c": "boolean", "d": "string", "e": "string", "f": "string",
                     "g": "string"}
    custom = {"CsvClassifier": {"Name": "c", "CustomDatatypeConfigured": True, "CustomDatatypes": ["DATE", "TIMESTAMP"]}}
    types = _types(engine.classify("t.csv", text.encode(), [custom]))
    assert types["d"] == "date" and types["e"] == "timestamp"


def test_all_string_csv_has_no_header_and_colN_names() -> None:
    schema = engine.classify("t.csv", b"name,city\nann,paris\nbob,rome\n")
    assert not schema.options["header"]
    assert schema.column_names == ["col0", "col1"] and schema.record_count == 3


@pytest.mark.parametrize("delimiter", ["|", "\t", ";"])
def test_builtin_delimiters(delimiter: str) -> None:
    text = delimiter.join(["id", "v", "w"]) + "\n" + delimiter.join(["1", "2.5", "q"]) + "\n"
    schema = engine.classify("t.txt", text.encode())
    assert schema.options["delimiter"] == delimiter
    assert engine.table_input(engine.plan_tables([engine.CrawledFile(("t.txt",), schema)], "t")[0], "t", "s3://b/t/",
                              "c", "arn")["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {"field.delim": delimiter}


def test_quoted_csv_uses_open_csv_serde_and_counts_records() -> None:
    text = 'id,name,score\n1,"Smith, Ann",1.5\n2,"Lee, ""Bo""",2\n3,Kim,3\n'
    schema = engine.classify("q.csv", text.encode())
    assert schema.record_count == 3 and schema.options["quoted"]
    assert _types(schema) == {"id": "bigint", "name": "string", "score": "double"}
    assert schema.serde == "org.apache.hadoop.hive.serde2.OpenCSVSerde"


def test_json_lines_nested_struct_and_arrays() -> None:
    rows = [{"id": 1, "user": {"name": "a", "age": 3}, "tags": ["x"], "big": 2**40, "ok": True, "s": 1},
            {"id": 2, "user": {"name": "b", "zip": "1"}, "tags": [], "big": 1, "ok": False, "s": 2.5,
             "items": [{"k": 1}, {"k": 2, "v": "z"}]}]
    schema = engine.classify("e.json", "\n".join(json.dumps(r) for r in rows).encode())
    assert schema.classification == "json" and schema.record_count == 2
    assert _types(schema) == {"id": "int", "user": "struct<name:string,age:int,zip:string>", "tags": "array<string>",
                              "big": "bigint", "ok": "boolean", "s": "double",
                              "items": "array<struct<k:int,v:string>>"}


def test_parquet_schema_is_read_with_pyarrow() -> None:
    table = pa.table({
        "i64": pa.array([1], pa.int64()), "i32": pa.array([1], pa.int32()), "f": pa.array([1.0], pa.float64()),
        "s": ["x"], "b": [True], "ts": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("us")),
        "d": pa.array([dt.date(2024, 1, 1)], pa.date32()), "l": [[1, 2]], "st": [{"a": 1, "b": "x"}],
        "dec": pa.array([decimal.Decimal("1.23")], pa.decimal128(10, 2))})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    schema = engine.classify("p.parquet", buffer.getvalue())
    assert schema.classification == "parquet" and schema.record_count == 1
    assert _types(schema) == {"i64": "bigint", "i32": "int", "f": "double", "s": "string", "b": "boolean",
                              "ts": "timestamp", "d": "date", "l": "array<bigint>", "st": "struct<a:bigint,b:string>",
                              "dec": "decimal(10,2)"}


def test_gzip_is_decompressed_and_corrupt_files_are_unreadable() -> None:
    schema = engine.classify("x.csv.gz", gzip.compress(b"k,v\na,1\nb,2\n"))
    assert schema.compression == "gzip" and schema.record_count == 2
    with pytest.raises(engine.UnreadableFile):
        engine.classify("x.gz", gzip.compress(b"k,v\na,1\n")[:12])
    with pytest.raises(engine.UnreadableFile):
        engine.classify("x.bin", bytes(range(256)))
    with pytest.raises(engine.UnreadableFile):
        engine.classify("x.parquet", b"PAR1 not really")


def test_custom_classifiers_come_first() -> None:
    log = b"2024-01-01T10:00:00Z INFO 200 /a\n2024-01-01T10:00:01Z WARN 404 /b\n"
    grok = {"GrokClassifier": {"Name": "g", "Classification": "weblog",
                               "GrokPattern": "%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:level} %{INT:status:int} %{PATH:path}"}}
    schema = engine.classify("l.log", log, [grok])
    assert schema.classification == "weblog" and _types(schema) == {"ts": "string", "level": "string",
                                                                     "status": "int", "path": "string"}
    csv_classifier = {"CsvClassifier": {"Name": "c", "Delimiter": ";", "ContainsHeader": "ABSENT",
                                        "Header": ["Alpha", "beta"]}}
    schema = engine.classify("c.txt", b"1;x\n2;y\n", [csv_classifier])
    assert schema.column_names == ["alpha", "beta"] and schema.record_count == 2
    array = json.dumps([{"a": 1}, {"a": 2, "b": "x"}]).encode()
    schema = engine.classify("a.json", array, [{"JsonClassifier": {"Name": "j", "JsonPath": "$[*]"}}])
    assert schema.record_count == 2 and _types(schema) == {"a": "int", "b": "string"}
    with pytest.raises(engine.GrokError):
        engine.compile_grok("%{NOPE:x}")


def _file(path: str, columns: list[str], classification: str = "csv") -> engine.CrawledFile:
    schema = engine.FileSchema(classification, [(c, "bigint") for c in columns], 10, 100, serde="x",
                               options={"delimiter": ","} if classification == "csv" else {})
    return engine.CrawledFile(tuple(path.split("/")), schema)


def test_hive_folders_become_partitions() -> None:
    files = [_file(f"year={y}/month={m}/f.csv", ["a", "b"]) for y in ("2023", "2024") for m in ("01", "02")]
    (plan,) = engine.plan_tables(files, "sales")
    assert plan.name == "sales" and plan.partition_keys == ["year", "month"]
    assert sorted(p.values for p in plan.partitions) == [("2023", "01"), ("2023", "02"), ("2024", "01"), ("2024", "02")]
    assert {p.folder for p in plan.partitions} >= {"year=2023/month=01/"}


def test_grouping_example_of_the_glue_guide() -> None:
    """AWS's own example: {"A": 1, "B": 2} under year=2017 and {"C": 3, "D": 4} under
    year=2018 give tables year_2017 and year_2018; with CombineCompatibleSchemas one table
    with A, B, C, D and partition key year."""
    files = [engine.CrawledFile(("year=2017", "data1.json"), engine.classify("1.json", b'{"A": 1, "B": 2}')),
             engine.CrawledFile(("year=2018", "data2.json"), engine.classify("2.json", b'{"C": 3, "D": 4}'))]
    assert sorted(engine.catalog_name(p.name) for p in engine.plan_tables(files, "table1")) == ["year_2017", "year_2018"]
    (combined,) = engine.plan_tables(files, "table1", combine=True)
    assert engine.columns(combined.files) == [{"Name": n, "Type": "int"} for n in "abcd"]
    assert combined.partition_keys == ["year"]


def test_similar_plain_folders_are_partitions_dissimilar_are_tables() -> None:
    (plan,) = engine.plan_tables([_file("a/f.csv", ["x", "y", "z"]), _file("b/g.csv", ["x", "y", "z"])], "root")
    assert plan.partition_keys == ["partition_0"] and sorted(p.values for p in plan.partitions) == [("a",), ("b",)]
    plans = engine.plan_tables([_file("a/f.csv", ["x", "y"]), _file("b/g.json", ["p", "q"], "json")], "root")
    assert sorted((p.name, p.folder, p.partition_keys) for p in plans) == [("a", "a/", []), ("b", "b/", [])]
    # 4 of 5 columns shared (80%) is similar; 1 of 3 is not
    assert len(engine.plan_tables([_file("a/f.csv", list("abcde")), _file("b/f.csv", list("abcdx"))], "r")) == 1
    assert len(engine.plan_tables([_file("a/f.csv", list("abc")), _file("b/f.csv", list("axy"))], "r")) == 2


def test_exclusion_globs_and_hidden_files() -> None:
    assert engine.excluded("a.csv", ["*.csv"]) and not engine.excluded("x/a.csv", ["*.csv"])
    assert engine.excluded("x/y/a.json", ["**.json"]) and engine.excluded("tmp/a/b.csv", ["tmp/**"])
    assert engine.excluded("tmp/a.csv", ["tmp"]) and engine.excluded("b.txt", ["{a,b}.txt"])
    assert not engine.excluded("c.txt", ["{a,b}.txt", "[!c].txt"]) and engine.excluded("d.txt", ["[!c].txt"])
    assert engine.ignored("x/_SUCCESS") and engine.ignored("x/.part.crc") and engine.ignored("folder/")
    assert not engine.ignored("x/part-0.csv")
    assert glob_regex("a?c").match("abc") and not glob_regex("a?c").match("a/c")


def test_table_parameters_count_records_and_bytes() -> None:
    text = b"id,v\n1,2.5\n2,3.5\n3,4\n"
    schema = engine.classify("t.csv", text)
    (plan,) = engine.plan_tables([engine.CrawledFile(("t.csv",), schema)], "My-Table")
    table = engine.table_input(plan, engine.catalog_name(plan.name), "s3://b/t/", "crawler", "arn:x")
    params = table["Parameters"]
    assert table["Name"] == "my_table" and table["TableType"] == "EXTERNAL_TABLE"
    assert params["recordCount"] == "3" and params["sizeKey"] == str(len(text)) and params["objectCount"] == "1"
    assert params["averageRecordSize"] == str(len(text) // 3) and params["skip.header.line.count"] == "1"
    assert params["classification"] == "csv" and params["delimiter"] == "," and params["UPDATED_BY_CRAWLER"] == "crawler"
    assert table["StorageDescriptor"]["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"


def test_a_lone_folder_is_the_table_but_a_lone_hive_folder_is_a_partition() -> None:
    (plan,) = engine.plan_tables([_file("people/a.csv", ["a", "b"])], "root")
    assert (plan.name, plan.folder, plan.partition_keys) == ("people", "people/", [])
    (plan,) = engine.plan_tables([_file("year=2024/a.csv", ["a", "b"])], "root")
    assert (plan.name, plan.folder, plan.partition_keys) == ("root", "", ["year"])


def test_grouping_configuration_combine_and_table_level() -> None:
    files = [_file("a/f.csv", list("abc")), _file("b/f.csv", list("axy"))]
    assert len(engine.plan_tables(files, "r")) == 2
    (combined,) = engine.plan_tables(files, "r", combine=True)
    assert combined.partition_keys == ["partition_0"]
    # include path "data/" (depth 1); tables at absolute level 3: data/<x>/<y>/
    deep = [_file(f"{x}/{y}/day=1/f.csv", ["k", "v"]) for x in ("p", "q") for y in ("m", "n")]
    plans = engine.plan_tables(deep, "data", table_level=3, root_depth=1)
    assert sorted((p.name, p.folder, tuple(p.partition_keys)) for p in plans) == [
        ("m", "p/m/", ("day",)), ("m", "q/m/", ("day",)), ("n", "p/n/", ("day",)), ("n", "q/n/", ("day",))]


def test_windows_line_ends_and_latin1_text_are_read() -> None:
    schema = engine.classify("w.csv", b"id,name\r\n1,a\r\n2,b\r\n")
    assert _types(schema) == {"id": "bigint", "name": "string"} and schema.record_count == 2
    schema = engine.classify("l.csv", "id,city\n1,S\u00e3o Paulo\n2,K\u00f6ln\n".encode("latin-1"))
    assert schema.record_count == 2 and _types(schema) == {"id": "bigint", "city": "string"}


def test_hive_partition_values_are_unescaped() -> None:
    (plan,) = engine.plan_tables([_file("dt=2024-01-01%2010%3A00/f.csv", ["a", "b"])], "t")
    assert plan.partitions[0].values == ("2024-01-01 10:00",) and plan.partitions[0].folder == "dt=2024-01-01%2010%3A00/"
