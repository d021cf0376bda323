"""Unit tests of the awsglue library and the job-run helpers that need no Spark and no server."""

from __future__ import annotations

import json

import pytest

from awsglue import _bookmarks
from awsglue._formats import catalog_format
from awsglue.context import _prune_with_sqlite
from awsglue.utils import GlueArgumentError, getResolvedOptions
from emulator.services.glue.job_runs import _safe_name, resolved_arguments

PARTITIONS = [{"Values": [str(y), k]} for y, k in [(2020, "click"), (2021, "click"), (2022, "view"), (2022, "bad")]]
KEYS = [{"Name": "year", "Type": "int"}, {"Name": "kind", "Type": "string"}]


def test_get_resolved_options() -> None:
    argv = ["script.py", "--JOB_NAME", "j", "--other", "x", "--size=3", "--extra-py-files", "s3://b/k.py"]
    assert getResolvedOptions(argv, ["JOB_NAME", "size"]) == {"JOB_NAME": "j", "size": "3"}
    with pytest.raises(GlueArgumentError, match="--missing"):
        getResolvedOptions(argv, ["JOB_NAME", "missing"])


def test_arguments_merge_and_safe_names() -> None:
    job = {"DefaultArguments": {"--a": "1", "--b": "1"}, "NonOverridableArguments": {"--c": "fixed"}}
    assert resolved_arguments(job, {"--b": "2", "--c": "try"}) == {"--a": "1", "--b": "2", "--c": "fixed"}
    assert _safe_name("scripts/../../etc/passwd", "x") == "passwd"
    assert _safe_name("dir/..", "x") == "x" and _safe_name("a b$.py", "x") == "a_b_.py"


@pytest.mark.parametrize("predicate, kept", [
    ("year >= 2021 AND kind <> 'bad'", [["2021", "click"], ["2022", "view"]]),
    ("kind == 'click'", [["2020", "click"], ["2021", "click"]]),
    ("kind in ('view', 'bad') or year = 2020", [["2020", "click"], ["2022", "view"], ["2022", "bad"]]),
    ("year between 2021 and 2022 and not kind = 'bad'", [["2021", "click"], ["2022", "view"]]),
    ("kind LIKE 'CL%'", None),  # LIKE is case-insensitive in SQLite: left to Spark SQL
    ("upper(kind) = 'CLICK'", None),
])
def test_partition_pruning_without_spark(predicate, kept) -> None:
    result = _prune_with_sqlite(PARTITIONS, KEYS, predicate)
    assert (None if result is None else [p["Values"] for p in result]) == kept


def test_catalog_formats() -> None:
    csv_table = {"Parameters": {"classification": "csv", "skip.header.line.count": "1"},
                 "StorageDescriptor": {"SerdeInfo": {"Parameters": {"field.delim": "|"}}}}
    assert catalog_format(csv_table) == ("csv", {"separator": "|", "withHeader": True})
    parquet = {"StorageDescriptor": {"InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"}}
    assert catalog_format(parquet) == ("parquet", {})
    with pytest.raises(ValueError):
        catalog_format({"Name": "t", "StorageDescriptor": {}})


def test_bookmarks_skip_processed_objects_and_commit(tmp_path, monkeypatch) -> None:
    state_in, state_out = tmp_path / "in.json", tmp_path / "out.json"
    state_in.write_text(json.dumps({"src": {"processed": ["s3://b/old.csv"]}}))
    monkeypatch.setenv("GLUE_EMULATOR_BOOKMARK_IN", str(state_in))
    monkeypatch.setenv("GLUE_EMULATOR_BOOKMARK_OUT", str(state_out))
    monkeypatch.setattr("sys.argv", ["s.py", "--job-bookmark-option", "job-bookmark-enable"])
    marks = _bookmarks.Bookmarks()
    objects = [{"u": "s3://b/old.csv"}, {"u": "s3://b/new.csv"}]
    assert marks.unseen("src", objects, lambda o: o["u"]) == [{"u": "s3://b/new.csv"}]
    assert marks.unseen("", objects, lambda o: o["u"]) == objects  # no transformation_ctx: no bookmark
    marks.commit()
    assert json.loads(state_out.read_text()) == {"src": {"processed": ["s3://b/new.csv", "s3://b/old.csv"]}}
    monkeypatch.setattr("sys.argv", ["s.py", "--job-bookmark-option", "job-bookmark-pause"])
    paused = _bookmarks.Bookmarks()
    assert paused.unseen("src", objects, lambda o: o["u"]) == [{"u": "s3://b/new.csv"}]
    state_out.unlink()
    paused.commit()
    assert not state_out.exists()  # pause reads the bookmark but never moves it
