"""Script mode without Docker: SDK framework estimators, inference handlers and processing jobs
run the user's own code in child processes (see emulator/scriptmode/)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from clients.testing import RunningEmulator
from tests.sagemaker_helpers import IRIS_CSV


def test_sklearn_processing_training_and_endpoint_match_a_reference_forest(sagemaker_sdk: RunningEmulator) -> None:
    import boto3

    from clients.examples import scriptmode_sklearn_example as example

    outcome = example.main()
    job, train, test = outcome["job"], outcome["train"], outcome["test"]
    # the processing job's split is the one scikit-learn makes of the raw file
    raw = pd.read_csv(IRIS_CSV)[["Species", "Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]]
    raw["Species"] = raw["Species"].map({"setosa": 0, "versicolor": 1, "virginica": 2})
    ref_train, ref_test = train_test_split(raw, test_size=0.25, shuffle=True, random_state=0)
    np.testing.assert_allclose(train.to_numpy(), ref_train.to_numpy())
    np.testing.assert_allclose(test.to_numpy(), ref_test.to_numpy())
    # training ran the user's script: its metric and its model are the reference forest's
    assert job["TrainingJobStatus"] == "Completed"
    reference = RandomForestClassifier(n_estimators=20, random_state=7)
    reference.fit(train.iloc[:, 1:].to_numpy(), train.iloc[:, 0].to_numpy())
    expected = reference.predict(test.iloc[:, 1:].to_numpy())
    assert outcome["accuracy"] == pytest.approx(float(np.mean(expected == test.iloc[:, 0].to_numpy())), abs=1e-6)
    np.testing.assert_array_equal(outcome["predictions"], expected)
    # a random-label control: a forest on shuffled labels predicts differently
    control = RandomForestClassifier(n_estimators=20, random_state=7).fit(
        train.iloc[:, 1:].to_numpy(), np.random.default_rng(0).permutation(train.iloc[:, 0].to_numpy()))
    assert (control.predict(test.iloc[:, 1:].to_numpy()) != outcome["predictions"]).any()
    sm = boto3.client("sagemaker")
    assert sm.list_endpoints(NameContains=outcome["endpoint"])["Endpoints"] == []
    processing = sm.list_processing_jobs(SortBy="CreationTime", SortOrder="Descending")["ProcessingJobSummaries"][0]
    assert processing["ProcessingJobStatus"] == "Completed"
