"""The shipped Amazon ML examples (seeds 001 and 004) run as scripts against a live emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "clients" / "examples"


def test_seed001_then_seed004_scripts(emulator, tmp_path) -> None:
    # a fresh account: the seed waits for *every* data source/model of the account
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ENDPOINT_URL": emulator.url, "AWS_ACCESS_KEY_ID": "222233334444",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    created = subprocess.run([sys.executable, str(EXAMPLES / "seed_001_amazonml_create_flow.py")], env=env,
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    model_id = re.search(r"^export AWS_ML_MODEL_ID=(\S+)$", created.stdout, re.M).group(1)
    url = re.search(r"^export AWS_ML_PREDICTION_URL=(\S+)$", created.stdout, re.M).group(1)
    assert url == emulator.url
    assert "MulticlassAvgFScore" in created.stdout

    record = tmp_path / "record.csv"
    record.write_text("6.9,3.1,5.4,2.1\n")
    predicted = subprocess.run([sys.executable, str(EXAMPLES / "seed_004_amazonml_predict.py"), str(record)],
                               env={**env, "AWS_ML_MODEL_ID": model_id}, capture_output=True, text=True, timeout=60)
    assert predicted.returncode == 0, predicted.stdout + predicted.stderr
    assert "Predicted label: virginica" in predicted.stdout

    default = subprocess.run([sys.executable, str(EXAMPLES / "seed_004_amazonml_predict.py")],
                             env={**env, "AWS_ML_MODEL_ID": model_id}, capture_output=True, text=True, timeout=60)
    assert "Predicted label: setosa" in default.stdout, default.stdout + default.stderr


def test_seed004_without_its_model_id_says_what_to_set_and_exits_2(tmp_path) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, str(EXAMPLES / "seed_004_amazonml_predict.py")], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "AWS_ML_MODEL_ID is not set" in result.stderr and "Traceback" not in result.stderr
