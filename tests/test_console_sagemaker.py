"""The console's SageMaker pages after seed 003 (k-NN on iris through the unmodified SDK)."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import pytest

from clients.testing import RunningEmulator
from tests.test_sagemaker_seed003 import _exact_knn_accuracy


def test_training_job_page_after_seed003_shows_the_metric_and_the_log(
        sagemaker_sdk: RunningEmulator, monkeypatch, capsys, page: Any, shots: str) -> None:
    emulator = sagemaker_sdk
    monkeypatch.setenv("S3_DATASET_BUCKET", "seed003-console")
    sys.modules.pop("clients.examples.seed_003_knn_iris", None)
    import clients.examples.seed_003_knn_iris as seed

    seed.main()
    printed = capsys.readouterr().out
    name = seed.knn.latest_training_job.name
    sm = emulator.client("sagemaker")
    job = sm.describe_training_job(TrainingJobName=name)
    base = f"{emulator.url}/_emulator/console/123456789012/us-east-1"
    page.goto(f"{base}/sagemaker/training-jobs")
    page.click(f"text={name}")
    page.screenshot(path=os.path.join(shots, "sagemaker-training-job.png"), full_page=True)
    shown = float(page.inner_text("[data-metric='test:accuracy']"))
    api_value = next(m["Value"] for m in job["FinalMetricDataList"] if m["MetricName"] == "test:accuracy")
    assert shown == pytest.approx(api_value, abs=1e-12)
    assert shown == pytest.approx(_exact_knn_accuracy(), abs=1e-12)  # 0.9736842105263158 on seed 003's split
    log = page.inner_text("#log")
    sdk_lines = [line.strip() for line in printed.splitlines() if "#test_score" in line or "#quality_metric" in line]
    assert len(sdk_lines) >= 2 and all(line in log for line in sdk_lines)
    assert [t.split(" ")[0] for t in page.locator("#timeline li strong").all_inner_texts()] == \
        [t["Status"] for t in job["SecondaryStatusTransitions"]]
    hyper = dict(zip(page.locator("table.kv").nth(1).locator("th").all_inner_texts(),
                     page.locator("table.kv").nth(1).locator("td").all_inner_texts()))
    assert hyper["k"] == job["HyperParameters"]["k"] == "1"
    page.click("#artefact")
    assert "model.tar.gz" in page.inner_text("h1")

    # An endpoint made with boto3 from the job's artefact, invoked from the console.
    image = job["AlgorithmSpecification"]["TrainingImage"]
    sm.create_model(ModelName="console-knn", ExecutionRoleArn=job["RoleArn"],
                    PrimaryContainer={"Image": image, "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]})
    sm.create_endpoint_config(EndpointConfigName="console-knn", ProductionVariants=[{
        "VariantName": "v", "ModelName": "console-knn", "InitialInstanceCount": 1, "InstanceType": "ml.t2.medium"}])
    sm.create_endpoint(EndpointName="console-knn", EndpointConfigName="console-knn")
    deadline = time.monotonic() + 60
    while sm.describe_endpoint(EndpointName="console-knn")["EndpointStatus"] != "InService":
        assert time.monotonic() < deadline, "endpoint not InService"
        time.sleep(0.05)
    page.goto(f"{base}/sagemaker/endpoints")
    page.click("text=console-knn")
    page.fill("#body", "6.7,3.0,5.2,2.3\n5.0,3.4,1.5,0.2")
    page.click("text=InvokeEndpoint")
    expected = emulator.client("sagemaker-runtime").invoke_endpoint(
        EndpointName="console-knn", ContentType="text/csv", Accept="application/json",
        Body=b"6.7,3.0,5.2,2.3\n5.0,3.4,1.5,0.2")["Body"].read().decode()
    assert page.inner_text("#invocation") == expected
    labels = [p["predicted_label"] for p in json.loads(expected)["predictions"]]
    assert labels == [2.0, 0.0]  # the seed codes virginica 2, setosa 0
    page.screenshot(path=os.path.join(shots, "sagemaker-endpoint.png"), full_page=True)
    sm.delete_endpoint(EndpointName="console-knn")
