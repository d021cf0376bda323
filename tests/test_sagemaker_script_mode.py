"""Script mode without Docker: SDK framework estimators, inference handlers and processing jobs
run the user's own code in child processes (see emulator/scriptmode/)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from clients.testing import RunningEmulator


def test_sklearn_estimator_trains_deploys_and_predicts_like_a_reference_forest(sagemaker_sdk: RunningEmulator) -> None:
    from clients.examples import scriptmode_sklearn_example as example

    outcome = example.main()
    job, train, test = outcome["job"], outcome["train"], outcome["test"]
    assert job["TrainingJobStatus"] == "Completed"
    reference = RandomForestClassifier(n_estimators=20, random_state=7)
    reference.fit(train.iloc[:, 1:].to_numpy(), train.iloc[:, 0].to_numpy())
    expected = reference.predict(test.iloc[:, 1:].to_numpy())
    assert outcome["accuracy"] == pytest.approx(float(np.mean(expected == test.iloc[:, 0].to_numpy())), abs=1e-6)
    np.testing.assert_array_equal(outcome["predictions"], expected)
