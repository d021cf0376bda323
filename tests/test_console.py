"""The web console at /_emulator/console, driven in a real headless Chromium (Playwright).

Every number a page shows is checked against the API (boto3) or an independent
computation (scikit-learn on Predict's answers); actions taken in the browser are
checked through the API. Screenshots go to ``$CONSOLE_SCREENSHOTS`` (default: a
pytest temporary directory).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from sklearn.metrics import confusion_matrix, f1_score

from clients.testing import RunningEmulator

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IRIS = os.path.join(REPO, "clients", "examples", "data", "iris.csv")


def fresh_account() -> str:
    """A 12-digit access key = an account of its own, so tests see only their resources."""
    return str(uuid.uuid4().int)[:12].rjust(12, "1")


def until(check: Callable[[], Any], what: str, deadline: float = 60.0) -> Any:
    """Poll ``check`` until it returns something truthy."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def ml_status(ml: Any, getter: str, key: str, value: str) -> Callable[[], bool]:
    def check() -> bool:
        status = getattr(ml, getter)(**{key: value})["Status"]
        assert status != "FAILED", f"{value} FAILED"
        return status == "COMPLETED"
    return check


def iris_flow(emulator: RunningEmulator, account: str, model_type: str) -> dict[str, Any]:
    """Seed 001's flow (upload, 70/30 split with statistics, model, evaluation, endpoint) on iris.

    MULTICLASS predicts Species; BINARY predicts ``virginica`` (0/1), a column added to the file."""
    s3 = emulator.client("s3", access_key=account)
    ml = emulator.client("machinelearning", access_key=account)
    bucket, stamp = f"learn-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:6]
    s3.create_bucket(Bucket=bucket)
    with open(IRIS, encoding="utf-8") as handle:
        lines = handle.read().strip().splitlines()
    attributes = [{"attributeName": name, "attributeType": "NUMERIC"} for name in lines[0].split(",")[:4]]
    if model_type == "REGRESSION":
        target = "Petal.Width"
        attributes = [{**a, "attributeType": "NUMERIC"} for a in attributes]
        attributes.append({"attributeName": "Species", "attributeType": "CATEGORICAL"})
    elif model_type == "BINARY":
        lines = [lines[0].rsplit(",", 1)[0] + ",virginica"] + [
            row.rsplit(",", 1)[0] + ("," + ("1" if row.endswith("virginica") else "0")) for row in lines[1:]]
        target = "virginica"
        attributes.append({"attributeName": target, "attributeType": "BINARY"})
    if model_type == "MULTICLASS":
        target = "Species"
        attributes.append({"attributeName": target, "attributeType": "CATEGORICAL"})
    s3.put_object(Bucket=bucket, Key="uploads/iris.csv", Body="\n".join(lines).encode(), ServerSideEncryption="AES256")
    schema = json.dumps({"version": "1.0", "targetAttributeName": target, "dataFormat": "CSV",
                         "dataFileContainsHeader": True, "attributes": attributes})
    ids = {"train": f"mds-{stamp}", "eval": f"eds-{stamp}", "model": f"ml-{stamp}", "ev": f"ev-{stamp}"}
    for key, complement in (("train", False), ("eval", True)):
        ml.create_data_source_from_s3(
            DataSourceId=ids[key], DataSourceName=f"{key} {stamp}", ComputeStatistics=True,
            DataSpec={"DataLocationS3": f"s3://{bucket}/uploads/iris.csv", "DataSchema": schema,
                      "DataRearrangement": json.dumps({"splitting": {"percentBegin": 0, "percentEnd": 70,
                                                                     "strategy": "random", "complement": complement}})})
    ml.create_ml_model(MLModelId=ids["model"], MLModelName=f"model {stamp}", MLModelType=model_type,
                       TrainingDataSourceId=ids["train"], Parameters={"sgd.maxPasses": "20", "sgd.shuffleType": "auto"})
    ml.create_evaluation(EvaluationId=ids["ev"], MLModelId=ids["model"], EvaluationDataSourceId=ids["eval"])
    until(ml_status(ml, "get_evaluation", "EvaluationId", ids["ev"]), "the evaluation")
    endpoint = ml.create_realtime_endpoint(MLModelId=ids["model"])["RealtimeEndpointInfo"]
    until(lambda: ml.get_ml_model(MLModelId=ids["model"])["EndpointInfo"]["EndpointStatus"] == "READY", "the endpoint")
    return {**ids, "ml": ml, "s3": s3, "bucket": bucket, "target": target, "endpoint": endpoint["EndpointUrl"]}


def evaluation_records(emulator: RunningEmulator, account: str, ds_id: str) -> list[dict[str, str]]:
    """The records the evaluation data source selected (emulator's read-only route)."""
    import urllib.request

    url = f"{emulator.url}/_emulator/machinelearning/{account}/us-east-1/datasources/{ds_id}/records"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())["Records"]


def console(emulator: RunningEmulator, account: str, path: str = "") -> str:
    return f"{emulator.url}/_emulator/console/{account}/us-east-1/{path}"


def test_multiclass_evaluation_page_shows_the_confusion_matrix_and_macro_f1(
        emulator: RunningEmulator, page: Any, shots: str) -> None:
    account = fresh_account()
    flow = iris_flow(emulator, account, "MULTICLASS")
    ml = flow["ml"]
    page.goto(console(emulator, account, f"machinelearning/evaluations/{flow['ev']}"))
    page.screenshot(path=os.path.join(shots, "ml-evaluation-multiclass.png"), full_page=True)
    cells = [int(v) for v in page.locator("#confusion td.cell").evaluate_all("els => els.map(e => e.dataset.cell)")]
    classes = page.locator("#confusion tr:first-child th").all_inner_texts()[1:-1]
    matrix = [cells[i * len(classes):(i + 1) * len(classes)] for i in range(len(classes))]
    # Independent reference: every evaluation record through Predict, scikit-learn's confusion matrix.
    records = evaluation_records(emulator, account, flow["eval"])
    truth, predicted = [], []
    for record in records:
        answer = ml.predict(MLModelId=flow["model"], PredictEndpoint=flow["endpoint"],
                            Record={k: v for k, v in record.items() if k != "Species"})
        truth.append(record["Species"])
        predicted.append(answer["Prediction"]["predictedLabel"])
    assert sum(cells) == len(records) == int(page.inner_text("#records"))
    assert matrix == confusion_matrix(truth, predicted, labels=classes).tolist()
    api_f1 = float(ml.get_evaluation(EvaluationId=flow["ev"])["PerformanceMetrics"]["Properties"]["MulticlassAvgFScore"])
    assert float(page.inner_text("#macro-f1")) == pytest.approx(api_f1, abs=1e-12)
    assert api_f1 == pytest.approx(f1_score(truth, predicted, average="macro"), abs=1e-12)
    shown_f1 = {e.get_attribute("data-class"): float(e.inner_text()) for e in page.locator("#confusion td.f1").all()}
    for label, value in zip(classes, f1_score(truth, predicted, labels=classes, average=None)):
        assert shown_f1[label] == pytest.approx(value, abs=1e-4)

    # The data source page: per-attribute statistics equal to the data's, and a chart per attribute.
    page.goto(console(emulator, account, f"machinelearning/datasources/{flow['eval']}"))
    page.screenshot(path=os.path.join(shots, "ml-datasource.png"), full_page=True)
    rows = {r.locator("td").first.inner_text().split(" ")[0]: r.locator("td").all_inner_texts()
            for r in page.locator("#attributes tr").all()[1:]}
    lengths = [float(r["Petal.Length"]) for r in records]
    assert int(rows["Petal.Length"][2]) == len(records)
    assert float(rows["Petal.Length"][5]) == pytest.approx(min(lengths), rel=1e-3)
    assert float(rows["Petal.Length"][7]) == pytest.approx(sum(lengths) / len(lengths), rel=1e-3)
    assert page.locator(".charts canvas").count() == 5

    # Predict from the model page gives the API's answer.
    page.goto(console(emulator, account, f"machinelearning/models/{flow['model']}"))
    page.fill("#record", "Sepal.Length=6.7\nSepal.Width=3.0\nPetal.Length=5.2\nPetal.Width=2.3")
    page.click("#predict")
    shown = json.loads(page.inner_text("#prediction"))
    expected = ml.predict(MLModelId=flow["model"], PredictEndpoint=flow["endpoint"], Record={
        "Sepal.Length": "6.7", "Sepal.Width": "3.0", "Petal.Length": "5.2", "Petal.Width": "2.3"})["Prediction"]
    assert shown["predictedLabel"] == expected["predictedLabel"] == "virginica"


def test_binary_threshold_moves_in_the_browser_and_is_saved_through_update_ml_model(
        emulator: RunningEmulator, page: Any, shots: str) -> None:
    account = fresh_account()
    flow = iris_flow(emulator, account, "BINARY")
    ml = flow["ml"]
    page.goto(console(emulator, account, f"machinelearning/evaluations/{flow['ev']}"))
    auc = float(ml.get_evaluation(EvaluationId=flow["ev"])["PerformanceMetrics"]["Properties"]["BinaryAUC"])
    assert float(page.inner_text("#auc")) == pytest.approx(auc, abs=5e-5)
    # Independent: Predict's scores for every evaluation record, counted at 0.70.
    records = evaluation_records(emulator, account, flow["eval"])
    scores, truth = [], []
    for record in records:
        answer = ml.predict(MLModelId=flow["model"], PredictEndpoint=flow["endpoint"],
                            Record={k: v for k, v in record.items() if k != "virginica"})["Prediction"]
        scores.append(answer["predictedScores"][answer["predictedLabel"]])
        truth.append(int(record["virginica"]))
    page.locator("#threshold").fill("0.7")
    tp = sum(1 for s, t in zip(scores, truth) if s >= 0.7 and t == 1)
    fp = sum(1 for s, t in zip(scores, truth) if s >= 0.7 and t == 0)
    fn = sum(1 for s, t in zip(scores, truth) if s < 0.7 and t == 1)
    tn = len(truth) - tp - fp - fn
    assert (int(page.inner_text("#tp")), int(page.inner_text("#fp")), int(page.inner_text("#fn")),
            int(page.inner_text("#tn"))) == (tp, fp, fn, tn)
    assert float(page.inner_text("#accuracy")) == pytest.approx((tp + tn) / len(truth), abs=1e-4)
    if tp + fp:
        assert float(page.inner_text("#precision")) == pytest.approx(tp / (tp + fp), abs=1e-4)
    assert float(page.inner_text("#recall")) == pytest.approx(tp / (tp + fn), abs=1e-4)
    page.screenshot(path=os.path.join(shots, "ml-evaluation-binary.png"), full_page=True)
    assert ml.get_ml_model(MLModelId=flow["model"])["ScoreThreshold"] == pytest.approx(0.5)
    page.click("#save-threshold")
    page.wait_for_selector("#notice")
    model = ml.get_ml_model(MLModelId=flow["model"])
    assert model["ScoreThreshold"] == pytest.approx(0.7)
    assert "ScoreThresholdLastUpdatedAt" in model
    assert page.inner_text("#current-threshold") == "0.7"
    # The model page's form goes through the same validation as boto3: 1.5 is refused.
    page.goto(console(emulator, account, f"machinelearning/models/{flow['model']}"))
    page.fill("input[name=ScoreThreshold]", "1.5")
    page.click("text=UpdateMLModel")
    assert "InvalidInputException" in page.inner_text("#error")
    assert ml.get_ml_model(MLModelId=flow["model"])["ScoreThreshold"] == pytest.approx(0.7)


def test_regression_evaluation_page_shows_rmse_baseline_and_residuals(
        emulator: RunningEmulator, page: Any, shots: str) -> None:
    account = fresh_account()
    flow = iris_flow(emulator, account, "REGRESSION")
    ml = flow["ml"]
    page.goto(console(emulator, account, f"machinelearning/evaluations/{flow['ev']}"))
    page.screenshot(path=os.path.join(shots, "ml-evaluation-regression.png"), full_page=True)
    rmse = float(ml.get_evaluation(EvaluationId=flow["ev"])["PerformanceMetrics"]["Properties"]["RegressionRMSE"])
    assert float(page.inner_text("#rmse")) == pytest.approx(rmse, abs=5e-5)
    train = [float(r["Petal.Width"]) for r in evaluation_records(emulator, account, flow["train"])]
    test = [float(r["Petal.Width"]) for r in evaluation_records(emulator, account, flow["eval"])]
    mean = sum(train) / len(train)
    baseline = (sum((y - mean) ** 2 for y in test) / len(test)) ** 0.5
    assert float(page.inner_text("#baseline-rmse")) == pytest.approx(baseline, abs=5e-5)
    assert rmse < baseline / 2  # the model beats always predicting the mean
    counts = [int(c) for c in page.get_attribute("#residuals", "data-counts").split(",")]
    assert len(counts) == 20 and sum(counts) == len(test)


def test_home_page_counts_accounts_and_switching(emulator: RunningEmulator, page: Any, shots: str) -> None:
    account = fresh_account()
    glue = emulator.client("glue", access_key=account)
    for i in range(3):
        glue.create_database(DatabaseInput={"Name": f"db{i}"})
    page.goto(f"{emulator.url}/_emulator/console/")
    assert "/_emulator/console/123456789012/us-east-1/" in page.url
    page.fill("input[name=account]", account)
    page.click("text=Switch")
    assert f"/{account}/us-east-1/" in page.url
    assert page.inner_text("[data-count='Databases']") == "3"
    assert page.inner_text("[data-count='Training jobs']") == "0"
    assert account in page.inner_text("body")
    page.screenshot(path=os.path.join(shots, "home.png"), full_page=True)
    page.goto(f"{emulator.url}/_emulator/console/{account}/eu-west-1/")
    assert page.inner_text("[data-count='Databases']") == "0"  # Glue's catalog is per region


def test_lists_page_with_the_api_tokens(emulator: RunningEmulator, page: Any) -> None:
    account = fresh_account()
    glue = emulator.client("glue", access_key=account)
    names = sorted(f"db{i:03d}" for i in range(57))
    for name in names:
        glue.create_database(DatabaseInput={"Name": name})
    page.goto(console(emulator, account, "glue/databases"))
    first = page.locator("#resources td:first-child a").all_inner_texts()
    assert len(first) == 50
    page.click("a.next")
    second = page.locator("#resources td:first-child a").all_inner_texts()
    assert sorted(first + second) == names
    assert page.locator("a.next").count() == 0


def test_crawler_page_shows_the_tables_it_created_and_its_log(emulator: RunningEmulator, page: Any, shots: str) -> None:
    account = fresh_account()
    s3, glue = emulator.client("s3", access_key=account), emulator.client("glue", access_key=account)
    bucket = f"crawl-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="sales/part-0.csv", Body=b"id,amount,region\n1,2.5,eu\n2,3.0,us\n")
    s3.put_object(Bucket=bucket, Key="people/p.json", Body=b'{"name": "a", "age": 3}\n{"name": "b", "age": 4}\n')
    glue.create_database(DatabaseInput={"Name": "lake"})
    glue.create_crawler(Name="lake-crawler", Role="arn:aws:iam::123456789012:role/glue", DatabaseName="lake",
                        Targets={"S3Targets": [{"Path": f"s3://{bucket}/sales/"}, {"Path": f"s3://{bucket}/people/"}]})
    page.goto(console(emulator, account, "glue/crawlers/lake-crawler"))
    page.click("#start-crawler")  # StartCrawler from the browser
    until(lambda: glue.get_crawler(Name="lake-crawler")["Crawler"].get("LastCrawl", {}).get("Status") == "SUCCEEDED",
          "the crawl")
    until(lambda: glue.get_crawler(Name="lake-crawler")["Crawler"]["State"] == "READY", "the crawler")
    page.goto(console(emulator, account, "glue/crawlers/lake-crawler"))
    page.screenshot(path=os.path.join(shots, "glue-crawler.png"), full_page=True)
    shown = sorted(page.locator("#tables td:first-child a").all_inner_texts())
    api_tables = sorted(t["Name"] for t in glue.get_tables(DatabaseName="lake")["TableList"])
    assert shown == api_tables == ["people", "sales"]
    assert "COMPLETED" in page.inner_text("#crawls")
    page.click("#tables >> text=sales")
    page.wait_for_selector("#columns td")  # the page the click opened (all_inner_texts does not wait)
    assert page.locator("#columns td:nth-child(2)").all_inner_texts() == ["id", "amount", "region"]
    page.goto(console(emulator, account, "glue/crawlers/lake-crawler"))
    page.click("text=Crawler log")
    assert "lake-crawler" in page.inner_text("#log") or page.locator("#log").inner_text().strip()


def test_s3_browser_previews_and_downloads(emulator: RunningEmulator, page: Any) -> None:
    account = fresh_account()
    s3 = emulator.client("s3", access_key=account)
    bucket = f"browse-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    body = b"a,b\n1,x\n2,y\n"
    s3.put_object(Bucket=bucket, Key="data/in/file one.csv", Body=body, ContentType="text/csv")
    s3.put_object(Bucket=bucket, Key="top.json", Body=b'{"k": [1, 2]}')
    page.goto(console(emulator, account, "s3"))
    page.click(f"text={bucket}")
    page.wait_for_selector("#objects td a")  # the bucket's page (all_inner_texts does not wait)
    assert page.locator("#objects td a").all_inner_texts()[:2] == ["data/", "top.json"]
    page.click("text=data/")
    page.click("text=in/")
    page.click("text=file one.csv")
    assert page.locator("#preview tr").count() == 3
    assert page.locator("#preview tr").nth(2).inner_text().split() == ["2", "y"]
    with page.expect_download() as info:
        page.click("#download")
    with open(info.value.path(), "rb") as handle:
        assert handle.read() == body
    # Another account sees none of it.
    page.goto(console(emulator, fresh_account(), "s3"))
    assert bucket not in page.inner_text("#resources")


def test_api_errors_render_as_pages_with_the_aws_error(emulator: RunningEmulator, page: Any) -> None:
    account = fresh_account()
    response = page.goto(console(emulator, account, "machinelearning/models/does-not-exist"))
    with pytest.raises(ClientError) as raised:
        emulator.client("machinelearning", access_key=account).get_ml_model(MLModelId="does-not-exist")
    assert response.status == raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert "ResourceNotFoundException" in page.inner_text("#error")
    response = page.goto(console(emulator, account, "sagemaker/training-jobs/nope"))
    assert response.status == 400 and "ValidationException" in page.inner_text("#error")
    assert page.goto(f"{emulator.url}/_emulator/console/notanaccount/us-east-1/").status == 404
