"""The vectorised row reader of Amazon ML CSV files gives exactly the line-by-line reader's
rows (validity, cells, byte offsets, line numbers), and declines what it cannot do alike."""
from __future__ import annotations

import numpy as np
import pytest

from emulator.engines.amazonml import csv_rows
from emulator.engines.amazonml.errors import DataProcessingError
from tests.engines.test_amazonml_split_pinned import files


def same_rows(a: csv_rows.FileRows, b: csv_rows.FileRows) -> bool:
    return (np.array_equal(a.valid, b.valid) and a.cells.shape == b.cells.shape and a.cells.tolist() == b.cells.tolist()
            and np.array_equal(a.offsets, b.offsets) and np.array_equal(a.line_nos, b.line_nos))


@pytest.mark.parametrize("header", [True, False])
def test_the_pinned_quote_free_files_take_the_vectorised_reader(header: bool) -> None:
    for name, data in files(quoted=False):
        fast = csv_rows._vectorised_rows(data, 4, header)
        assert fast is not None and same_rows(fast, csv_rows._python_rows(name, data, 4, header))
    for _name, data in files(quoted=True):
        assert csv_rows._vectorised_rows(data, 4, header) is None  # quotes: csv module, line by line


@pytest.mark.parametrize("data", [
    b"", b"\n\n", b"h1,h2\n", b"a,b", b"a,b\r", b"a,b\r\nc,d\r\n", b"\xef\xbb\xbfa,b\n \t\r\n,\n1,2,3\n4\n",
    b"x,\xc3\xa9\n\n\ny, z \n", b"a,b\n\t\n  ,  \n",
])
@pytest.mark.parametrize("ncols", [1, 2, 3])
def test_edge_cases_match_the_line_by_line_reader(data: bytes, ncols: int) -> None:
    for header in (True, False):
        fast = csv_rows._vectorised_rows(data, ncols, header)
        assert fast is not None and same_rows(fast, csv_rows._python_rows("f", data, ncols, header))


@pytest.mark.parametrize("data", [
    b'a,"b"\n', b"a,b\rc,d\n", b"a,b\r\r\n", b"a,\x0bb\n", b"a,b\n\x0c\n", b"a,b\n\xc2\xa0\n", b"a\xe2\x80\xa8,b\n",
    b"a,\x1fb\n",
])
def test_what_it_declines_goes_line_by_line(data: bytes) -> None:
    assert csv_rows._vectorised_rows(data, 2, False) is None
    rows = csv_rows.read_rows("f", data, 2, False)
    assert same_rows(rows, csv_rows._python_rows("f", data, 2, False))


def test_undecodable_line_is_named() -> None:
    with pytest.raises(DataProcessingError, match=r"^Data file 'f' is not valid UTF-8 text \(line 2, byte 4\)$"):
        csv_rows.read_rows("f", b"a,b\n\xff,c\n", 2, False)


def test_row_buckets_are_row_bucket_for_every_row() -> None:
    from emulator.engines.amazonml.rearrangement import row_bucket, row_buckets

    offsets = np.random.default_rng(5).integers(0, 10**12, size=2000)
    for seed, name in (("", "data.csv"), ("s1", "dir/part-é.csv"), ("42", "")):
        assert row_buckets(seed, name, offsets).tolist() == [row_bucket(seed, name, int(o)) for o in offsets]


def test_typed_columns_by_pandas_equal_the_cell_by_cell_typing(monkeypatch: pytest.MonkeyPatch) -> None:
    """parse_file's pandas path (typed columns straight from the C reader) and its cell path
    (the rows above, typed cell by cell) give the same values, rejections and examples."""
    import json

    import pandas as pd

    from emulator.engines.amazonml import datasets
    from emulator.engines.amazonml.schema import parse_schema

    schema = parse_schema(json.dumps({
        "version": "1.0", "targetAttributeName": "y", "rowId": "id", "dataFormat": "CSV", "dataFileContainsHeader": True,
        "attributes": [{"attributeName": n, "attributeType": t} for n, t in [
            ("id", "CATEGORICAL"), ("x", "NUMERIC"), ("c", "CATEGORICAL"), ("t", "TEXT"), ("y", "BINARY")]]}))
    rng = np.random.default_rng(3)
    lines = ["id,x,c,t,y"] + [
        f"r{i},{rng.choice(['1.5', ' 2 ', '', '-0.25', '3.14159265358979', '1e3'])},{rng.choice(['a', ' a ', 'B', '', 'é'])},"
        f"{rng.choice(['hi there', ' x ', ''])},{rng.choice(['1', '0', ' yes', 'No', '', 'maybe', 'T'])}"
        for i in range(300)] + ["", "  ", "a,b"]
    for sep in ("\n", "\r\n"):
        data = sep.join(lines).encode()
        fast = datasets.parse_file("f.csv", data, schema)
        with monkeypatch.context() as patch:
            patch.setattr(datasets, "read_table", lambda *args: None)
            slow = datasets.parse_file("f.csv", data, schema)
        assert np.array_equal(fast.valid, slow.valid) and np.array_equal(fast.offsets, slow.offsets)
        assert fast.valid.sum() == 300 and fast.bad["y"].sum() > 10
        for name in schema.names:
            a, b = fast.typed[name], slow.typed[name]
            if isinstance(a, np.ndarray) and a.dtype == float:
                assert np.array_equal(a, b, equal_nan=True)
            else:
                assert list(pd.Series(a, dtype=object)) == list(pd.Series(b, dtype=object))
            assert np.array_equal(fast.bad[name], slow.bad[name])
            assert fast.bad_examples.get(name, []) == slow.bad_examples.get(name, [])


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_chunked_scans_equal_one_scan(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """The line layout scans the bytes a chunk at a time: any chunk size (boundaries inside
    lines, on line ends, on commas and blanks) gives the rows of one whole-file scan and of
    the line-by-line reader."""
    rng = np.random.default_rng(chunk)
    lines = [",".join(rng.choice(["1", " 2", "x y", "", "é", "\t3"], size=rng.integers(1, 5))) for _ in range(300)]
    data = ("\n".join(lines[:150]) + "\n \n\r\n" + "\r\n".join(lines[150:])).encode()
    whole = csv_rows._vectorised_rows(data, 3, True)
    monkeypatch.setattr(csv_rows, "_CHUNK", chunk)
    parts = csv_rows._vectorised_rows(data, 3, True)
    assert whole is not None and parts is not None and whole.valid.any() and not whole.valid.all()
    assert same_rows(parts, whole) and same_rows(parts, csv_rows._python_rows("f", data, 3, True))


def test_row_buckets_in_blocks_and_parts_equal_row_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.engines.amazonml import rearrangement

    offsets = np.random.default_rng(9).integers(0, 10**9, size=1500)
    expected = [rearrangement.row_bucket("s", "f.csv", int(o)) for o in offsets]
    monkeypatch.setattr(rearrangement, "HASH_BLOCK", 7)
    assert rearrangement.row_buckets("s", "f.csv", offsets).tolist() == expected
    template = b"s\x00f.csv\x00%d"
    assert rearrangement._buckets_in_parts(template, offsets, 3).tolist() == expected
