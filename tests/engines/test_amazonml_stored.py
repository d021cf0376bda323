"""Columns kept in files between worker processes (``emulator.engines.amazonml.stored``):
a stored parse or data set pickles as its directory, reads back memory-mapped with the
same values and dtypes, trains the bit-identical model, never names a file after a user
string; ``to_bytes`` (``--data-dir``) round-trips without pickle; the split hashes
computed on several cores are the one-core ones."""
import json
import os
import pickle
import re

import numpy as np
import pandas as pd
import pytest

from emulator.engines.amazonml import rearrangement
from emulator.engines.amazonml.datasets import Dataset, ParsedFile, parse_file, select_dataset
from emulator.engines.amazonml.jobs import load_data_source_files
from emulator.engines.amazonml.rearrangement import parse_rearrangement, row_bucket, row_buckets
from emulator.engines.amazonml.schema import parse_schema
from emulator.engines.amazonml.sgd import train_model

# attribute names and a file name a careless implementation would turn into paths
SCHEMA = parse_schema(json.dumps({
    "version": "1.0", "targetAttributeName": "y", "rowId": "rid", "dataFormat": "CSV",
    "dataFileContainsHeader": False,
    "attributes": [{"attributeName": n, "attributeType": t} for n, t in [
        ("rid", "CATEGORICAL"), ("../../etc/passwd", "TEXT"), ("x", "NUMERIC"), ("z", "NUMERIC"),
        ("colour", "CATEGORICAL"), ("b", "BINARY"), ("y", "BINARY")]]}))
SPLIT = json.dumps({"splitting": {"percentBegin": 10, "percentEnd": 80, "strategy": "random",
                                  "randomSeed": "s%d"}})
FILE_NAME = "../up/data.csv"


def csv(count: int, seed: int = 3) -> bytes:
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(count):
        x = "" if rng.random() < 0.05 else f"{rng.normal():.4f}"
        x = "oops" if i % 97 == 5 else x  # rejected rows
        words = " ".join(rng.choice(["a", "b!", "Cd", "e f"], size=rng.integers(0, 4)))
        colour = rng.choice(["red", " blue", "green ", ""])
        b = rng.choice(["yes", "0", "", "t"])
        y = int(rng.random() < 0.5)
        lines.append(f"r{i},{words},{x},{rng.normal():.3f},{colour},{b},{y}\n")
    return "".join(lines).encode()


def files_under(directory: str) -> list[str]:
    return [os.path.relpath(os.path.join(root, name), directory)
            for root, _, names in os.walk(directory) for name in names]


def assert_same_dataset(a: Dataset, b: Dataset) -> None:
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    assert list(a.frame.dtypes) == list(b.frame.dtypes)
    assert a.layout.keys() == b.layout.keys()
    assert all(np.array_equal(a.layout[k], b.layout[k]) for k in a.layout)
    assert list(a.origins) == list(b.origins)
    assert (a.total_record_count, a.invalid_record_count, a.invalid_examples, a.invalid_by_attribute) == \
        (b.total_record_count, b.invalid_record_count, b.invalid_examples, b.invalid_by_attribute)


def test_stored_data_set_pickles_as_its_directory_and_reads_back_identical(tmp_path) -> None:
    content = csv(3000)
    inputs = [(FILE_NAME, content, str(tmp_path / "parsed"))]
    stored, stats, parsed, _ = load_data_source_files(inputs, SCHEMA, SPLIT, True, None, None, True,
                                                      str(tmp_path / "dataset"))
    plain, plain_stats, _, _ = load_data_source_files([(FILE_NAME, content)], SCHEMA, SPLIT, True)
    assert stats == plain_stats
    shipped = pickle.dumps(stored)
    assert len(shipped) < len(pickle.dumps(plain)) / 4  # the numeric columns stay in the files
    back = pickle.loads(shipped)
    assert "frame" not in vars(back) and back.store_directory == str(tmp_path / "dataset")
    assert_same_dataset(back, plain)
    assert not back.frame["x"].isna().all() and back.frame["colour"].dtype == "category"
    # the files are numbered, never named after an attribute or a file of the user
    for directory in ("parsed", "dataset"):
        names = files_under(str(tmp_path / directory))
        assert names and all(re.fullmatch(r"\d+\.npy", n) for n in names), names
    # a parse given back stored (the evaluation data source's case) selects the same rows
    again = pickle.loads(pickle.dumps(parsed[0]))
    assert "typed" not in vars(again)
    complement = SPLIT.replace('"randomSeed"', '"complement": true, "randomSeed"')
    from_files, _, _, _ = load_data_source_files([again], SCHEMA, complement, False)
    from_bytes, _, _, _ = load_data_source_files([(FILE_NAME, content)], SCHEMA, complement, False)
    assert_same_dataset(from_files, from_bytes)


def test_memory_mapped_data_set_trains_the_identical_model(tmp_path) -> None:
    content = csv(2000, seed=5)
    dataset, _, _, _ = load_data_source_files([(FILE_NAME, content)], SCHEMA, None, False)
    stored, _, _, _ = load_data_source_files([(FILE_NAME, content)], SCHEMA, None, False, None, None, False,
                                             str(tmp_path / "ds"))
    mapped = pickle.loads(pickle.dumps(stored))
    one = train_model(dataset, "BINARY", {"sgd.maxPasses": "3"}, None)
    two = train_model(mapped, "BINARY", {"sgd.maxPasses": "3"}, None)
    assert one.weights.shape == two.weights.shape and one.weights.shape[0] > 5
    assert np.array_equal(one.weights, two.weights) and np.array_equal(one.intercept, two.intercept)
    assert one.recipe == two.recipe


def test_to_bytes_round_trips_without_pickle(tmp_path) -> None:
    dataset, _, _, _ = load_data_source_files([(FILE_NAME, csv(500))], SCHEMA, SPLIT, False, None, None, False,
                                              str(tmp_path / "ds"))
    mapped = pickle.loads(pickle.dumps(dataset))
    data = mapped.to_bytes()
    assert "frame" not in vars(mapped)  # read for the bytes only
    with np.load(__import__("io").BytesIO(data), allow_pickle=False) as archive:  # no object arrays inside
        assert "header" in archive.files
    back = Dataset.from_bytes(data)
    assert back.store_directory is None and back.schema.to_dict() == SCHEMA.to_dict()
    assert_same_dataset(back, dataset)


def test_parse_without_a_directory_is_returned_whole() -> None:
    parsed = parse_file("f.csv", csv(50), SCHEMA)
    assert isinstance(parsed, ParsedFile) and parsed.store_directory is None
    copy = pickle.loads(pickle.dumps(parsed))
    assert np.array_equal(copy.offsets, parsed.offsets) and "offsets" in vars(copy)
    one = select_dataset([parsed], SCHEMA, parse_rearrangement(SPLIT))
    assert_same_dataset(one, select_dataset([copy], SCHEMA, parse_rearrangement(SPLIT)))


@pytest.mark.parametrize("seed,name", [("s%d", "a%s.csv"), ("", "ü/x.csv")])
def test_split_hashes_in_parts_equal_one_part(monkeypatch, seed: str, name: str) -> None:
    offsets = np.cumsum(np.random.default_rng(1).integers(1, 90, 6001))
    monkeypatch.setattr(rearrangement, "available_cores", lambda: 3)
    monkeypatch.setattr(rearrangement, "PARALLEL_ROWS", 10**9)
    serial = row_buckets(seed, name, offsets)
    monkeypatch.setattr(rearrangement, "PARALLEL_ROWS", 1000)
    parts = row_buckets(seed, name, offsets)
    assert np.array_equal(parts, serial)
    assert [int(v) for v in serial[::500]] == [row_bucket(seed, name, int(o)) for o in offsets[::500]]
    assert 0 <= serial.min() and serial.max() <= 99 and len(set(serial.tolist())) > 90
