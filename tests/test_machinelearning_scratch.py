"""Amazon ML keeps parsed files and data sets as .npy files in the server's private scratch
directory (the server holds their paths): the directories are named by the emulator, never
after a user string; DeleteDataSource removes the data set's files, a reset removes
everything, and the model trained from the files is the model of the records."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request

import numpy as np
import pytest

from clients.testing import running_emulator
from emulator.config import Config
from emulator.scratch import SCRATCH, Scratch
from emulator.services.machinelearning.state import MachineLearningState

ACCOUNT, REGION = "123456789012", "us-east-1"
KEY = "../../tmp/evil name.csv"  # a key a careless implementation would turn into a path
SCHEMA = {"version": "1.0", "targetAttributeName": "y", "dataFormat": "CSV", "dataFileContainsHeader": True,
          "attributes": [{"attributeName": "../x", "attributeType": "NUMERIC"},
                         {"attributeName": "c", "attributeType": "CATEGORICAL"},
                         {"attributeName": "y", "attributeType": "BINARY"}]}


def data() -> bytes:
    rng = np.random.default_rng(4)
    x = rng.normal(size=400)
    c = rng.choice(["p", "q", "r"], size=400)
    y = (x + (c == "p") + rng.normal(scale=0.5, size=400) > 0.3).astype(int)
    return ("../x,c,y\n" + "".join(f"{a:.4f},{b},{t}\n" for a, b, t in zip(x, c, y))).encode()


def split(complement: bool) -> str:
    return json.dumps({"splitting": {"percentBegin": 0, "percentEnd": 70, "strategy": "random",
                                     "randomSeed": "k", "complement": complement}})


def wait_for(check, what: str, deadline_s: float = 60.0):
    deadline = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def completed(ml, ds_id: str) -> None:
    doc = wait_for(lambda: (d := ml.get_data_source(DataSourceId=ds_id))["Status"] in ("COMPLETED", "FAILED") and d,
                   f"data source {ds_id}")
    assert doc["Status"] == "COMPLETED", doc.get("Message")


@pytest.fixture(scope="module")
def server():
    with running_emulator(Config(job_grace_seconds=20.0)) as running:
        yield running


def test_data_sets_live_in_scratch_files_removed_with_their_data_source_and_on_reset(server) -> None:
    s3, ml = server.client("s3"), server.client("machinelearning")
    s3.create_bucket(Bucket="scratch-test")
    s3.put_object(Bucket="scratch-test", Key=KEY, Body=data())
    for ds_id, complement in (("sc-train", False), ("sc-eval", True)):
        ml.create_data_source_from_s3(DataSourceId=ds_id, ComputeStatistics=not complement, DataSpec={
            "DataLocationS3": f"s3://scratch-test/{KEY}", "DataSchema": json.dumps(SCHEMA),
            "DataRearrangement": split(complement)})
        completed(ml, ds_id)
    state = server.app.emulator.store.get(MachineLearningState, ACCOUNT, REGION)
    train, evaluation = state.data_sources["sc-train"].dataset, state.data_sources["sc-eval"].dataset
    mine = {train.store_directory, evaluation.store_directory}
    parses = [entry.parsed.store_directory for entry in state.parsed_files._entries.values()]
    assert len(parses) == 1  # the evaluation data source reused the training one's parse
    mine.add(parses[0])
    for directory in mine:
        assert os.path.dirname(directory) == SCRATCH.root
        assert re.fullmatch(r"(dataset|parsed)-[0-9a-f]{32}", os.path.basename(directory)), directory
        assert all(re.fullmatch(r"\d+\.npy", name) for name in os.listdir(directory))
    assert "frame" not in vars(train)  # the server holds the path, not the rows
    # the records route reads the files for its answer only
    url = f"{server.url}/_emulator/machinelearning/{ACCOUNT}/{REGION}/datasources/sc-eval/records"
    with urllib.request.urlopen(url) as answer:
        records = json.loads(answer.read())["Records"]
    assert len(records) == len(evaluation.load_stored()["frame"]) > 50 and "frame" not in vars(evaluation)

    # a model and an evaluation from the files: the evaluation's AUC is far from a coin's
    ml.create_ml_model(MLModelId="sc-model", MLModelType="BINARY", TrainingDataSourceId="sc-train")
    ml.create_evaluation(EvaluationId="sc-ev", MLModelId="sc-model", EvaluationDataSourceId="sc-eval")
    doc = wait_for(lambda: (e := ml.get_evaluation(EvaluationId="sc-ev"))["Status"] in ("COMPLETED", "FAILED") and e,
                   "evaluation")
    assert doc["Status"] == "COMPLETED", doc.get("Message")
    assert float(doc["PerformanceMetrics"]["Properties"]["BinaryAUC"]) > 0.75

    eval_dir = evaluation.store_directory
    del train, evaluation, state
    ml.delete_data_source(DataSourceId="sc-eval")
    wait_for(lambda: not os.path.exists(eval_dir), "the deleted data source's files to go")
    assert all(os.path.isdir(d) for d in mine - {eval_dir})
    server.reset()
    wait_for(lambda: not any(os.path.exists(d) for d in mine), "every file of the reset state to go")


def test_the_root_of_a_dead_process_is_removed_by_the_next(tmp_path) -> None:
    import subprocess
    import sys
    import tempfile

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(child.stdout)  # exited: its pid is free (reused within this test: practically never)
    prefix = "aws-ml-emulator-scratch-sweep-"
    stale = tempfile.mkdtemp(prefix=f"{prefix}{dead}-")
    alive = tempfile.mkdtemp(prefix=f"{prefix}{os.getppid()}-")  # a live process's root stays
    scratch = Scratch(prefix=prefix)
    try:
        assert scratch.root.startswith(os.path.join(os.path.realpath(tempfile.gettempdir()), f"{prefix}{os.getpid()}-"))
        assert not os.path.exists(stale) and os.path.isdir(alive)
    finally:
        scratch.remove_all()
        os.rmdir(alive)


def test_scratch_removes_only_its_own_directories(tmp_path) -> None:
    scratch = Scratch(prefix="aws-ml-emulator-scratch-test-")
    try:
        directory = scratch.new_directory("dataset")
        assert os.path.dirname(directory) == scratch.root and not os.path.exists(directory)
        with pytest.raises(ValueError):
            scratch.new_directory("../x")
        os.makedirs(directory)
        outside = tmp_path / "keep"
        outside.mkdir()
        for path in (str(outside), scratch.root, os.path.join(scratch.root, "..")):
            scratch.remove(path)
        assert outside.is_dir() and os.path.isdir(scratch.root) and os.path.isdir(directory)

        class Owner:
            pass

        owner = Owner()
        scratch.own(owner, directory)
        assert os.path.isdir(directory)
        del owner
        assert not os.path.exists(directory)
    finally:
        root = scratch.root
        scratch.remove_all()
        assert not os.path.exists(root)
