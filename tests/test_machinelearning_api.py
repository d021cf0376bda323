"""Amazon ML API behaviours: validation, idempotency, tags, deletion, Describe filters, batch output."""

from __future__ import annotations

import gzip
import json
import uuid

import botocore.exceptions
import numpy as np
import pytest

SCHEMA = {
    "version": "1.0", "targetAttributeName": "y", "dataFormat": "CSV", "dataFileContainsHeader": True,
    "attributes": [{"attributeName": "x1", "attributeType": "NUMERIC"},
                   {"attributeName": "x2", "attributeType": "NUMERIC"},
                   {"attributeName": "color", "attributeType": "CATEGORICAL"},
                   {"attributeName": "y", "attributeType": "BINARY"}],
}


def binary_csv(n: int = 300, seed: int = 0, bad_rows: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["x1,x2,color,y"]
    for _ in range(n):
        x1, x2 = rng.normal(size=2)
        color = rng.choice(["red", "green", "blue"])
        y = int(x1 + 0.5 * x2 + (0.5 if color == "red" else 0) + rng.normal(scale=0.3) > 0)
        lines.append(f"{x1:.4f},{x2:.4f},{color},{'yes' if y else 'no'}")
    lines += ["oops,1,red,1"] * bad_rows
    return ("\n".join(lines) + "\n").encode()


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def code_of(info) -> tuple[str, int]:
    return info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def ml(aws):
    return aws("machinelearning")


@pytest.fixture
def data(aws, bucket) -> str:
    aws("s3").put_object(Bucket=bucket, Key="in/data.csv", Body=binary_csv())
    return f"s3://{bucket}/in/data.csv"


def make_ds(ml, location: str, stats: bool = True, rearrangement: str | None = None, **kw) -> str:
    ds_id = uid("ds")
    spec = {"DataLocationS3": location, "DataSchema": json.dumps(SCHEMA)}
    if rearrangement:
        spec["DataRearrangement"] = rearrangement
    ml.create_data_source_from_s3(DataSourceId=ds_id, DataSpec=spec, ComputeStatistics=stats, **kw)
    return ds_id


def test_validation_errors(ml, data) -> None:
    cases = [
        lambda: ml.describe_data_sources(Limit=500),
        lambda: ml.create_ml_model(MLModelId=uid("m"), MLModelType="FOO", TrainingDataSourceId="x"),
        lambda: ml.create_data_source_from_s3(DataSourceId=uid("ds"), DataSpec={
            "DataLocationS3": data, "DataSchema": '{"attributes": [{"attributeName": "a", "attributeType": "WORD"}]}'}),
        lambda: ml.create_data_source_from_s3(DataSourceId=uid("ds"), DataSpec={
            "DataLocationS3": data, "DataSchema": "{not json"}),
        lambda: ml.create_data_source_from_s3(DataSourceId=uid("ds"), DataSpec={
            "DataLocationS3": data, "DataSchema": json.dumps(SCHEMA),
            "DataRearrangement": '{"splitting": {"percentBegin": 80, "percentEnd": 20}}'}),
        lambda: ml.describe_ml_models(NextToken="garbage"),
    ]
    for call in cases:
        with pytest.raises(botocore.exceptions.ClientError) as info:
            call()
        assert code_of(info) == ("InvalidInputException", 400)
    # a missing required member, sent without client-side validation
    import boto3
    from botocore.config import Config
    raw = boto3.client("machinelearning", endpoint_url=ml.meta.endpoint_url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(parameter_validation=False))
    with pytest.raises(botocore.exceptions.ClientError) as info:
        raw.create_ml_model(MLModelId=uid("m"), MLModelType="BINARY")
    assert code_of(info) == ("InvalidInputException", 400)


def test_model_create_time_errors(ml, data) -> None:
    ds = make_ds(ml, data)
    bad = [
        dict(Recipe='{"groups": {}, "assignments": {}, "outputs": ["quantile_bin(nope, 10)"]}'),
        dict(Recipe="this is not a recipe"),
        dict(Parameters={"sgd.l1RegularizationAmount": "0.01", "sgd.l2RegularizationAmount": "0.01"}),
        dict(Parameters={"sgd.maxPasses": "zero"}),
        dict(MLModelType="REGRESSION"),  # target y is BINARY
    ]
    for extra in bad:
        args = {"MLModelId": uid("m"), "MLModelType": "BINARY", "TrainingDataSourceId": ds, **extra}
        with pytest.raises(botocore.exceptions.ClientError) as info:
            ml.create_ml_model(**args)
        assert code_of(info) == ("InvalidInputException", 400), extra
    no_stats = make_ds(ml, data, stats=False)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.create_ml_model(MLModelId=uid("m"), MLModelType="BINARY", TrainingDataSourceId=no_stats)
    assert code_of(info) == ("InvalidInputException", 400)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.create_ml_model(MLModelId=uid("m"), MLModelType="BINARY", TrainingDataSourceId="missing-ds")
    assert code_of(info) == ("ResourceNotFoundException", 400)


def test_binary_model_threshold_predict_and_batch(aws, ml, data, bucket) -> None:
    s3 = aws("s3")
    s3.put_object(Bucket=bucket, Key="batch/part-1.csv", Body=binary_csv(40, seed=3, bad_rows=2))
    s3.put_object(Bucket=bucket, Key="batch/part-2.csv", Body=binary_csv(25, seed=4))
    train = make_ds(ml, data)
    batch_ds = make_ds(ml, f"s3://{bucket}/batch/", stats=False)
    got = ml.get_data_source(DataSourceId=batch_ds)
    assert got["Status"] == "COMPLETED" and got["NumberOfFiles"] == 2
    assert "2 of 67 records were rejected" in got["Message"]
    model_id = uid("m")
    ml.create_ml_model(MLModelId=model_id, MLModelType="BINARY", TrainingDataSourceId=train)
    model = ml.get_ml_model(MLModelId=model_id)
    assert model["Status"] == "COMPLETED" and model["ScoreThreshold"] == 0.5
    assert "ScoreThresholdLastUpdatedAt" not in model and "Recipe" not in model
    assert model["TrainingParameters"]["algorithm"] == "sgd"
    ml.create_realtime_endpoint(MLModelId=model_id)
    record = {"x1": "0.05", "x2": "0", "color": "green"}
    endpoint = ml.get_ml_model(MLModelId=model_id)["EndpointInfo"]["EndpointUrl"]
    pred = ml.predict(MLModelId=model_id, Record=record, PredictEndpoint=endpoint)["Prediction"]
    (label, score), = pred["predictedScores"].items()
    assert label == pred["predictedLabel"] == ("1" if score >= 0.5 else "0")
    assert pred["details"] == {"PredictiveModelType": "BINARY", "Algorithm": "SGD"}
    # a threshold above the score flips the label to 0, keyed by "0" but still holding P(1)
    ml.update_ml_model(MLModelId=model_id, ScoreThreshold=min(score + 0.01, 1.0), MLModelName="renamed")
    updated = ml.get_ml_model(MLModelId=model_id)
    assert updated["Name"] == "renamed" and "ScoreThresholdLastUpdatedAt" in updated
    pred2 = ml.predict(MLModelId=model_id, Record=record, PredictEndpoint=endpoint)["Prediction"]
    assert pred2["predictedScores"] == {"0": pytest.approx(score)}
    ml.update_ml_model(MLModelId=model_id, ScoreThreshold=0.5)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.predict(MLModelId=model_id, Record={"nothing": "1"}, PredictEndpoint=endpoint)
    assert code_of(info) == ("InvalidInputException", 400)

    bp_id = uid("bp")
    ml.create_batch_prediction(BatchPredictionId=bp_id, MLModelId=model_id, BatchPredictionDataSourceId=batch_ds,
                               OutputUri=f"s3://{bucket}/out/")
    ml.get_waiter("batch_prediction_available").wait(FilterVariable="MLModelId", EQ=model_id,
                                                     WaiterConfig={"Delay": 1, "MaxAttempts": 1})
    bp = ml.get_batch_prediction(BatchPredictionId=bp_id)
    assert bp["Status"] == "COMPLETED"
    assert (bp["TotalRecordCount"], bp["InvalidRecordCount"]) == (67, 2)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"out/batch-prediction/{bp_id}.manifest")["Body"].read())
    assert manifest == {
        f"s3://{bucket}/batch/part-1.csv": f"s3://{bucket}/out/batch-prediction/result/{bp_id}-part-1.csv.gz",
        f"s3://{bucket}/batch/part-2.csv": f"s3://{bucket}/out/batch-prediction/result/{bp_id}-part-2.csv.gz"}
    body = s3.get_object(Bucket=bucket, Key=f"out/batch-prediction/result/{bp_id}-part-1.csv.gz")["Body"].read()
    lines = gzip.decompress(body).decode().split("\n")
    assert lines[0] == "trueLabel,bestAnswer,score"
    rows = lines[1:-1]
    assert len(rows) == 42 and rows[-2:] == ["", ""]  # two rejected rows -> blank lines
    true, best, score_text = rows[0].split(",")
    assert true in ("0", "1") and best in ("0", "1") and "E" in score_text
    assert (best == "1") == (float(score_text) >= 0.5)


def test_idempotency_tags_and_delete(ml, data) -> None:
    ds_id = uid("ds")
    spec = {"DataLocationS3": data, "DataSchema": json.dumps(SCHEMA)}
    assert ml.create_data_source_from_s3(DataSourceId=ds_id, DataSpec=spec, ComputeStatistics=True)["DataSourceId"] == ds_id
    assert ml.create_data_source_from_s3(DataSourceId=ds_id, DataSpec=spec, ComputeStatistics=True)["DataSourceId"] == ds_id
    plain = make_ds(ml, spec["DataLocationS3"], stats=False)
    assert ml.create_data_source_from_s3(DataSourceId=plain, DataSpec=spec)["DataSourceId"] == plain  # default == False
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.create_data_source_from_s3(DataSourceId=ds_id, DataSpec=spec, ComputeStatistics=False)
    assert code_of(info) == ("IdempotentParameterMismatchException", 400)

    ml.add_tags(ResourceId=ds_id, ResourceType="DataSource", Tags=[{"Key": "team", "Value": "ml"}, {"Key": "empty"}])
    ml.add_tags(ResourceId=ds_id, ResourceType="DataSource", Tags=[{"Key": "team", "Value": "ops"}])
    tags = ml.describe_tags(ResourceId=ds_id, ResourceType="DataSource")["Tags"]
    assert sorted(tags, key=lambda t: t["Key"]) == [{"Key": "empty"}, {"Key": "team", "Value": "ops"}]
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.add_tags(ResourceId=ds_id, ResourceType="DataSource", Tags=[{"Key": "aws:owner", "Value": "x"}])
    assert code_of(info) == ("InvalidTagException", 400)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.add_tags(ResourceId=ds_id, ResourceType="DataSource",
                    Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    assert code_of(info) == ("TagLimitExceededException", 400)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.describe_tags(ResourceId=ds_id, ResourceType="MLModel")
    assert code_of(info) == ("ResourceNotFoundException", 400)
    ml.delete_tags(ResourceId=ds_id, ResourceType="DataSource", TagKeys=["empty", "never-there"])
    assert ml.describe_tags(ResourceId=ds_id, ResourceType="DataSource")["Tags"] == [{"Key": "team", "Value": "ops"}]

    model_id = uid("m")
    ml.create_ml_model(MLModelId=model_id, MLModelType="BINARY", TrainingDataSourceId=ds_id)
    assert ml.create_ml_model(MLModelId=model_id, MLModelType="BINARY", TrainingDataSourceId=ds_id)["MLModelId"] == model_id
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.create_ml_model(MLModelId=model_id, MLModelType="BINARY", TrainingDataSourceId=ds_id,
                           Parameters={"sgd.maxPasses": "5"})
    assert code_of(info) == ("IdempotentParameterMismatchException", 400)
    # tags propagate from the data source to the model
    assert ml.describe_tags(ResourceId=model_id, ResourceType="MLModel")["Tags"] == [{"Key": "team", "Value": "ops"}]

    ml.update_data_source(DataSourceId=ds_id, DataSourceName="new name")
    assert ml.get_data_source(DataSourceId=ds_id)["Name"] == "new name"
    assert ml.delete_data_source(DataSourceId=ds_id)["DataSourceId"] == ds_id
    assert ml.get_data_source(DataSourceId=ds_id)["Status"] == "DELETED"
    assert ml.describe_data_sources(FilterVariable="Name", EQ="new name")["Results"] == []
    deleted = ml.describe_data_sources(FilterVariable="Status", EQ="DELETED")["Results"]
    assert ds_id in [d["DataSourceId"] for d in deleted]
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.update_data_source(DataSourceId=ds_id, DataSourceName="again")
    assert code_of(info) == ("ResourceNotFoundException", 400)
    ml.delete_ml_model(MLModelId=model_id)
    assert ml.get_ml_model(MLModelId=model_id)["Status"] == "DELETED"


def test_describe_filters_sort_and_paging(ml, data) -> None:
    prefix = uid("page")
    ids = []
    for i in range(5):
        ids.append(make_ds(ml, data, stats=False, DataSourceName=f"{prefix}-{i}"))
    listed = ml.describe_data_sources(FilterVariable="Name", Prefix=prefix)["Results"]
    assert [d["Name"] for d in listed] == [f"{prefix}-{i}" for i in range(5)]
    assert all("DataSourceSchema" not in d for d in listed)
    desc = ml.describe_data_sources(FilterVariable="Name", Prefix=prefix, SortOrder="dsc")["Results"]
    assert [d["DataSourceId"] for d in desc] == ids[::-1]
    ranged = ml.describe_data_sources(FilterVariable="Name", GE=f"{prefix}-1", LT=f"{prefix}-3")["Results"]
    assert [d["Name"] for d in ranged] == [f"{prefix}-1", f"{prefix}-2"]
    assert len(ml.describe_data_sources(FilterVariable="Name", Prefix=prefix, NE=f"{prefix}-0")["Results"]) == 4
    pages = ml.get_paginator("describe_data_sources").paginate(
        FilterVariable="Name", Prefix=prefix, PaginationConfig={"PageSize": 2})
    seen = [[d["DataSourceId"] for d in page["Results"]] for page in pages]
    assert [len(p) for p in seen] == [2, 2, 1] and sum(seen, []) == ids
    first = ml.describe_data_sources(FilterVariable="CreatedAt", GE="2000-01-01T00:00:00Z", Limit=1)
    assert len(first["Results"]) == 1 and first["NextToken"]


def test_unknown_database_identifiers_fail_the_data_source(ml, bucket) -> None:
    rds_id = uid("rds")
    ml.create_data_source_from_rds(
        DataSourceId=rds_id, RoleARN="arn:aws:iam::123456789012:role/ml", ComputeStatistics=True,
        RDSData={"DatabaseInformation": {"InstanceIdentifier": "db-1", "DatabaseName": "sales"},
                 "SelectSqlQuery": "SELECT * FROM t", "DatabaseCredentials": {"Username": "u", "Password": "password1"},
                 "S3StagingLocation": f"s3://{bucket}/staging/", "DataSchema": json.dumps(SCHEMA),
                 "ResourceRole": "DataPipelineDefaultResourceRole", "ServiceRole": "DataPipelineDefaultRole",
                 "SubnetId": "subnet-1", "SecurityGroupIds": ["sg-1"]})
    got = ml.get_data_source(DataSourceId=rds_id)
    assert got["Status"] == "FAILED" and got["Message"].startswith("DBInstance db-1 not found.")
    assert got["RDSMetadata"]["Database"] == {"InstanceIdentifier": "db-1", "DatabaseName": "sales"}
    rs_id = uid("rs")
    ml.create_data_source_from_redshift(
        DataSourceId=rs_id, RoleARN="arn:aws:iam::123456789012:role/ml",
        DataSpec={"DatabaseInformation": {"DatabaseName": "dev", "ClusterIdentifier": "c-1"},
                  "SelectSqlQuery": "SELECT 1", "DatabaseCredentials": {"Username": "u", "Password": "password1"},
                  "S3StagingLocation": f"s3://{bucket}/staging/"})
    got = ml.get_data_source(DataSourceId=rs_id)
    assert got["Status"] == "FAILED" and got["RedshiftMetadata"]["RedshiftDatabase"]["ClusterIdentifier"] == "c-1"
    assert got["Message"].startswith("Cluster c-1 not found.")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.create_data_source_from_redshift(
            DataSourceId=uid("rs"), RoleARN="arn:aws:iam::123456789012:role/ml",
            DataSpec={"DatabaseInformation": {"DatabaseName": "dev", "ClusterIdentifier": "c-1"},
                      "SelectSqlQuery": "SELECT 1", "DatabaseCredentials": {"Username": "u", "Password": "password1"},
                      "S3StagingLocation": f"s3://{bucket}/staging/", "DataSchema": "{}"})
    assert code_of(info) == ("InvalidInputException", 400)
    # a model on a FAILED data source ends FAILED with a Message
    model_id = uid("m")
    ml.create_ml_model(MLModelId=model_id, MLModelType="BINARY", TrainingDataSourceId=rds_id)
    model = ml.get_ml_model(MLModelId=model_id)
    assert model["Status"] == "FAILED" and rds_id in model["Message"]


def test_failed_data_source_and_account_isolation(emulator, ml, bucket) -> None:
    ds_id = uid("ds")
    ml.create_data_source_from_s3(DataSourceId=ds_id, DataSpec={
        "DataLocationS3": f"s3://{bucket}/nothing-here.csv", "DataSchema": json.dumps(SCHEMA)})
    got = ml.get_data_source(DataSourceId=ds_id)
    assert got["Status"] == "FAILED" and got["Message"]

    other = emulator.client("machinelearning", access_key="111111111111")
    other_s3 = emulator.client("s3", access_key="111111111111")
    other_bucket = uid("other")
    other_s3.create_bucket(Bucket=other_bucket)
    other_s3.put_object(Bucket=other_bucket, Key="d.csv", Body=binary_csv(50))
    iso_id = uid("iso")
    other.create_data_source_from_s3(DataSourceId=iso_id, DataSpec={
        "DataLocationS3": f"s3://{other_bucket}/d.csv", "DataSchema": json.dumps(SCHEMA)})
    assert other.get_data_source(DataSourceId=iso_id)["Status"] == "COMPLETED"
    assert other.get_data_source(DataSourceId=iso_id)["CreatedByIamUser"] == "arn:aws:iam::111111111111:root"
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ml.get_data_source(DataSourceId=iso_id)
    assert code_of(info) == ("ResourceNotFoundException", 400)
    assert iso_id not in [d["DataSourceId"] for d in ml.describe_data_sources()["Results"]]


def test_async_chain_without_grace_period() -> None:
    """With no grace period: objects are listed at once, a model waits for its data source,
    an endpoint created during training is UPDATING and turns READY with the model."""
    import time

    from clients.testing import running_emulator
    from emulator.config import Config

    with running_emulator(Config(job_grace_seconds=0.0)) as running:
        s3, ml = running.client("s3"), running.client("machinelearning")
        s3.create_bucket(Bucket="async-chain")
        s3.put_object(Bucket="async-chain", Key="d.csv", Body=binary_csv(3000))
        ml.create_data_source_from_s3(DataSourceId="ds-async", ComputeStatistics=True, DataSpec={
            "DataLocationS3": "s3://async-chain/d.csv", "DataSchema": json.dumps(SCHEMA)})
        listed = ml.describe_data_sources()["Results"]
        assert [d["DataSourceId"] for d in listed] == ["ds-async"]
        ml.create_ml_model(MLModelId="m-async", MLModelType="BINARY", TrainingDataSourceId="ds-async")
        assert [m["MLModelId"] for m in ml.describe_ml_models()["Results"]] == ["m-async"]
        info = ml.create_realtime_endpoint(MLModelId="m-async")["RealtimeEndpointInfo"]
        assert info["EndpointStatus"] in ("UPDATING", "READY")
        deadline = time.monotonic() + 30
        while ml.get_ml_model(MLModelId="m-async")["EndpointInfo"]["EndpointStatus"] != "READY":
            assert time.monotonic() < deadline, "endpoint never became READY"
            time.sleep(0.05)
        model = ml.get_ml_model(MLModelId="m-async")
        assert model["Status"] == "COMPLETED"
        assert model["StartedAt"] >= ml.get_data_source(DataSourceId="ds-async")["FinishedAt"]
        pred = ml.predict(MLModelId="m-async", Record={"x1": "2", "x2": "1", "color": "red"},
                          PredictEndpoint=info["EndpointUrl"])["Prediction"]
        assert pred["predictedLabel"] == "1"


def test_statistics_route(emulator, ml, data) -> None:
    import urllib.error
    import urllib.request

    base = f"{emulator.url}/_emulator/machinelearning/123456789012/us-east-1/datasources"
    with_stats, without = make_ds(ml, data), make_ds(ml, data, stats=False)
    with urllib.request.urlopen(f"{base}/{with_stats}/statistics") as response:
        stats = json.loads(response.read())["Statistics"]
    assert stats["totalRecordCount"] == 300 and stats["invalidRecordCount"] == 0
    by_name = {a["attributeName"]: a for a in stats["attributes"]}
    assert set(by_name["color"]["valueCounts"]) == {"red", "green", "blue"}
    assert by_name["x1"]["targetCorrelation"] > by_name["x2"]["targetCorrelation"] > 0
    for url, status in ((f"{base}/{without}/statistics", 409), (f"{base}/nope/statistics", 404)):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url)
        assert info.value.code == status


def test_data_sources_of_a_rewritten_object_read_its_new_bytes(emulator, aws, ml, bucket) -> None:
    """Parses are shared per (object, ETag): a split and its complement of one object cover
    it, and an object written again is read again, not served from the earlier parse."""
    import urllib.request

    base = f"{emulator.url}/_emulator/machinelearning/123456789012/us-east-1/datasources"

    def count(ds_id: str) -> int:
        with urllib.request.urlopen(f"{base}/{ds_id}/statistics") as response:
            return json.loads(response.read())["Statistics"]["totalRecordCount"]

    location = f"s3://{bucket}/in/rewritten.csv"
    split = {"splitting": {"percentBegin": 0, "percentEnd": 60, "strategy": "random", "randomSeed": "k"}}
    aws("s3").put_object(Bucket=bucket, Key="in/rewritten.csv", Body=binary_csv(300, seed=1))
    first = [count(make_ds(ml, location, rearrangement=json.dumps(split))),
             count(make_ds(ml, location, rearrangement=json.dumps({"splitting": {**split["splitting"], "complement": True}})))]
    assert sum(first) == 300 and min(first) > 60
    aws("s3").put_object(Bucket=bucket, Key="in/rewritten.csv", Body=binary_csv(500, seed=2))
    second = [count(make_ds(ml, location, rearrangement=json.dumps(split))),
              count(make_ds(ml, location, rearrangement=json.dumps({"splitting": {**split["splitting"], "complement": True}})))]
    assert sum(second) == 500 and second != first
