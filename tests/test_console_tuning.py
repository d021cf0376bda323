"""The console's tuning job page: children sorted by the objective as the API sorts them,
the best job, and one scatter plot per tuned hyperparameter."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from clients.testing import RunningEmulator


def test_tuning_job_page(emulator: RunningEmulator, aws: Any, bucket: str, page: Any, shots: str) -> None:
    if emulator.app.emulator.providers["sagemaker"].handler("CreateHyperParameterTuningJob") is None:
        pytest.skip("SageMaker tuning jobs are not implemented on this branch (they come from branch tuning)")
    from tests.test_sagemaker_tuning import _knn_tuning_request, _upload_iris, _wait_tuning

    sm = aws("sagemaker")
    _upload_iris(aws("s3"), bucket)
    name = f"console-{uuid.uuid4().hex[:8]}"
    ranges = {"IntegerParameterRanges": [{"Name": "k", "MinValue": "1", "MaxValue": "40"}],
              "CategoricalParameterRanges": [{"Name": "index_metric", "Values": ["L2", "COSINE"]}]}
    sm.create_hyper_parameter_tuning_job(**_knn_tuning_request(name, bucket, ranges=ranges, RandomSeed=4, max_jobs=5))
    described = _wait_tuning(sm, name)
    base = f"{emulator.url}/_emulator/console/123456789012/us-east-1"
    page.goto(f"{base}/sagemaker/tuning-jobs")
    page.click(f"text={name}")
    page.screenshot(path=os.path.join(shots, "sagemaker-tuning-job.png"), full_page=True)
    shown = [float(v) for v in page.locator("#children td.objective").all_inner_texts()]
    ranked = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending", MaxResults=100)
    assert shown == [c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for c in ranked["TrainingJobSummaries"]]
    assert len(shown) == 5 and shown == sorted(shown, reverse=True)
    assert float(page.inner_text("#best-value")) == \
        described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(shown)
    assert page.locator(".charts canvas").count() == 2  # index_metric and k
    page.click("#children th >> text=test:accuracy")  # ascending now
    assert [float(v) for v in page.locator("#children td.objective").all_inner_texts()] == sorted(shown)
    page.click("#best")
    assert described["BestTrainingJob"]["TrainingJobName"] in page.inner_text("h1")
    assert name in page.inner_text("body")  # the child links back to its tuning job
