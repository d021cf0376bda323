"""Amazon ML: the seed 001 create flow and the seed 004 predict call, over HTTP with boto3."""

from __future__ import annotations

import io
import json
import time
import urllib.request
from pathlib import Path

import botocore.exceptions
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

IRIS = Path(__file__).resolve().parents[1] / "clients" / "examples" / "data" / "iris.csv"
ACCOUNT = "123456789012"
REGION = "us-east-1"

IRIS_SCHEMA = {
    "version": "1.0", "rowId": "id", "rowWeight": None, "targetAttributeName": "Species",
    "dataFormat": "CSV", "dataFileContainsHeader": True,
    "attributes": [{"attributeName": "id", "attributeType": "CATEGORICAL"}]
    + [{"attributeName": n, "attributeType": "NUMERIC"}
       for n in ("Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width")]
    + [{"attributeName": "Species", "attributeType": "CATEGORICAL"}],
    "excludedAttributeNames": [],
}


def iris_with_ids() -> bytes:
    lines = IRIS.read_text().strip().splitlines()
    out = ["id," + lines[0]] + [f"r{i}," + line for i, line in enumerate(lines[1:])]
    return ("\n".join(out) + "\n").encode()


def rearrangement(complement: bool) -> str:
    return json.dumps({"splitting": {"percentBegin": 0, "percentEnd": 70, "strategy": "random",
                                     "complement": complement}})


def emulator_json(url: str) -> dict:
    with urllib.request.urlopen(url) as response:
        return json.loads(response.read())


def test_seed001_flow_then_seed004_predict(emulator, aws, bucket) -> None:
    s3, ml = aws("s3"), aws("machinelearning")
    stamp = str(int(time.time() * 1000))
    # upload_data_to_s3
    s3.put_object(Bucket=bucket, Key="uploads/features.csv", ServerSideEncryption="AES256", Body=iris_with_ids())
    location = f"s3://{bucket}/uploads/features.csv"
    # create_data_sources
    mds, eds = f"learn-mds-{stamp}", f"learn-eds-{stamp}"
    ml.create_data_source_from_s3(DataSourceId=mds, DataSourceName=f"Model Source: LearnSample 0-70 {stamp}",
                                  ComputeStatistics=True,
                                  DataSpec={"DataLocationS3": location, "DataSchema": json.dumps(IRIS_SCHEMA),
                                            "DataRearrangement": rearrangement(False)})
    ml.get_waiter("data_source_available").wait(FilterVariable="Name", EQ=f"Model Source: LearnSample 0-70 {stamp}",
                                                WaiterConfig={"Delay": 1, "MaxAttempts": 1})
    ml.create_data_source_from_s3(DataSourceId=eds, DataSourceName=f"Evaluation Source: LearnSample 70-100 {stamp}",
                                  ComputeStatistics=True,
                                  DataSpec={"DataLocationS3": location, "DataSchema": json.dumps(IRIS_SCHEMA),
                                            "DataRearrangement": rearrangement(True)})
    ml.get_waiter("data_source_available").wait(FilterVariable="DataLocationS3", EQ=location,
                                                WaiterConfig={"Delay": 1, "MaxAttempts": 1})
    train, evaluation = ml.get_data_source(DataSourceId=mds, Verbose=True), ml.get_data_source(DataSourceId=eds)
    assert train["Status"] == evaluation["Status"] == "COMPLETED"
    assert train["ComputeStatistics"] is True and train["NumberOfFiles"] == 1
    assert train["DataSizeInBytes"] == len(iris_with_ids())
    assert json.loads(train["DataSourceSchema"])["targetAttributeName"] == "Species"
    assert "DataSourceSchema" not in evaluation
    for key in ("StartedAt", "FinishedAt", "ComputeTime"):
        assert key in train
    # the random split and its complement: disjoint, covering every row
    base = f"{emulator.url}/_emulator/machinelearning/{ACCOUNT}/{REGION}/datasources"
    train_ids = {r["id"] for r in emulator_json(f"{base}/{mds}/records")["Records"]}
    eval_ids = {r["id"] for r in emulator_json(f"{base}/{eds}/records")["Records"]}
    assert not train_ids & eval_ids
    assert train_ids | eval_ids == {f"r{i}" for i in range(150)}
    assert 0.55 < len(train_ids) / 150 < 0.85
    stats = emulator_json(f"{base}/{mds}/statistics")["Statistics"]
    assert stats["totalRecordCount"] == len(train_ids)
    rows = pd.read_csv(io.BytesIO(iris_with_ids()))
    rows = rows[rows["id"].isin(train_ids)]
    for attribute in stats["attributes"]:
        if attribute["attributeType"] != "NUMERIC":
            continue
        column = rows[attribute["attributeName"]]
        assert attribute["mean"] == pytest.approx(column.mean(), rel=1e-9)
        assert attribute["median"] == pytest.approx(column.median(), rel=1e-9)
        assert attribute["stddev"] == pytest.approx(column.std(ddof=0), rel=1e-9)
        assert (attribute["min"], attribute["max"]) == (column.min(), column.max())
        assert sum(attribute["histogram"]["counts"]) == len(column)
    species = next(a for a in stats["attributes"] if a["attributeName"] == "Species")
    assert species["valueCounts"] == rows["Species"].value_counts().to_dict()
    # create_model
    model_id = f"learn-ml-{stamp}"
    ml.create_ml_model(MLModelId=model_id, MLModelName=f"ML model: LearnSample {stamp}", MLModelType="MULTICLASS",
                       TrainingDataSourceId=mds, Parameters={"sgd.maxPasses": "20", "sgd.shuffleType": "auto"})
    ml.get_waiter("ml_model_available").wait(FilterVariable="Name", EQ=f"ML model: LearnSample {stamp}",
                                             WaiterConfig={"Delay": 1, "MaxAttempts": 1})
    model = ml.get_ml_model(MLModelId=model_id, Verbose=True)
    assert model["Status"] == "COMPLETED" and model["SizeInBytes"] > 0
    assert model["TrainingParameters"]["sgd.maxPasses"] == "20"
    assert model["TrainingParameters"]["sgd.shuffleType"] == "auto"
    assert model["EndpointInfo"] == {"EndpointStatus": "NONE", "PeakRequestsPerSecond": 0}
    # 105 rows: too few to quantile-bin (at least 50 rows per bin), so plain numerics only
    assert json.loads(model["Recipe"])["outputs"] == ["ALL_NUMERIC"]  # the rowId "id" is no feature
    assert json.loads(model["Schema"])["targetAttributeName"] == "Species"
    # create_evaluation
    ev_id = f"learn-ev-{stamp}"
    ml.create_evaluation(EvaluationId=ev_id, EvaluationName=f"Evaluation: LearnSample {stamp}", MLModelId=model_id,
                         EvaluationDataSourceId=eds)
    ml.get_waiter("evaluation_available").wait(FilterVariable="MLModelId", EQ=model_id,
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 1})
    ev = ml.get_evaluation(EvaluationId=ev_id)
    held_out = pd.read_csv(io.BytesIO(iris_with_ids()))
    held_out = held_out[held_out["id"].isin(eval_ids)]
    learn = pd.read_csv(io.BytesIO(iris_with_ids()))
    learn = learn[learn["id"].isin(train_ids)]
    features = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]
    reference = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(learn[features], learn["Species"])
    reference_f1 = f1_score(held_out["Species"], reference.predict(held_out[features]), average="macro")
    assert abs(float(ev["PerformanceMetrics"]["Properties"]["MulticlassAvgFScore"]) - reference_f1) <= 0.02
    # no endpoint yet -> PredictorNotMountedException
    record = {"Sepal.Length": "6.7", "Sepal.Width": "3.1", "Petal.Length": "5.6", "Petal.Width": "2.4"}
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.predict(MLModelId=model_id, Record=record, PredictEndpoint=emulator.url)
    assert info.value.response["Error"]["Code"] == "PredictorNotMountedException"
    # create_realtime_endpoint
    created = ml.create_realtime_endpoint(MLModelId=model_id)
    info_ = created["RealtimeEndpointInfo"]
    assert info_["EndpointStatus"] == "READY" and info_["EndpointUrl"] == emulator.url
    assert info_["PeakRequestsPerSecond"] == 200
    # seed 004: get_ml_model -> EndpointUrl -> predict
    endpoint = ml.get_ml_model(MLModelId=model_id)["EndpointInfo"]["EndpointUrl"]
    prediction = ml.predict(MLModelId=model_id, Record=record, PredictEndpoint=endpoint)["Prediction"]
    assert prediction["predictedLabel"] == "virginica"
    # Predict answers like the reference model on the held-out rows
    agree = 0
    for _, row in held_out.iterrows():
        answer = ml.predict(MLModelId=model_id, PredictEndpoint=endpoint,
                            Record={f: repr(float(row[f])) for f in features})["Prediction"]
        assert answer["predictedLabel"] == max(answer["predictedScores"], key=answer["predictedScores"].get)
        agree += answer["predictedLabel"] == reference.predict(row[features].to_frame().T)[0]
    assert agree >= 0.9 * len(held_out)
    assert set(prediction["predictedScores"]) == {"setosa", "versicolor", "virginica"}
    assert abs(sum(prediction["predictedScores"].values()) - 1) < 1e-6
    assert prediction["details"] == {"PredictiveModelType": "MULTICLASS", "Algorithm": "SGD"}
    setosa = ml.predict(MLModelId=model_id, PredictEndpoint=endpoint,
                        Record={"Sepal.Length": "5.0", "Sepal.Width": "3.5", "Petal.Length": "1.3",
                                "Petal.Width": "0.3", "unknown": "x"})["Prediction"]
    assert setosa["predictedLabel"] == "setosa"
    # delete the endpoint -> not mounted again
    assert ml.delete_realtime_endpoint(MLModelId=model_id)["RealtimeEndpointInfo"]["EndpointStatus"] == "NONE"
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.predict(MLModelId=model_id, Record=record, PredictEndpoint=endpoint)
    assert info.value.response["Error"]["Code"] == "PredictorNotMountedException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_predict_errors(emulator, aws) -> None:
    ml = aws("machinelearning")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.predict(MLModelId="no-such-model", Record={"a": "1"}, PredictEndpoint=emulator.url)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["Error"]["Message"] == "No MLModel with id no-such-model exists"
