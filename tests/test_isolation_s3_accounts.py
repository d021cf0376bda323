"""S3 enforces accounts: a bucket belongs to the account that created it; another
account's S3 calls, data sources, training channels and model artefacts are denied."""

from __future__ import annotations

import uuid

import botocore.exceptions
import pytest

from tests.sagemaker_helpers import KNN_IMAGE, channel, iris_split, training_request

OWNER, OTHER = "111111111111", "222222222222"


@pytest.fixture(scope="module")
def owned(emulator) -> str:
    """A bucket of account OWNER with iris training data and a trained k-NN model."""
    s3, sm = emulator.client("s3", access_key=OWNER), emulator.client("sagemaker", access_key=OWNER)
    bucket = f"owned-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    train, _ = iris_split()
    s3.put_object(Bucket=bucket, Key="train/train.csv", Body=train.to_csv(header=False, index=False))
    sm.create_training_job(**training_request("owner-knn", KNN_IMAGE, {
        "k": "3", "sample_size": "200", "predictor_type": "classifier"},
        [channel("train", f"s3://{bucket}/train/")], f"s3://{bucket}/out"))
    assert sm.describe_training_job(TrainingJobName="owner-knn")["TrainingJobStatus"] == "Completed"
    return bucket


def _denied(call, **kwargs) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(**kwargs)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert info.value.response["Error"]["Code"] in ("AccessDenied", "403")


def test_other_account_s3_calls_are_access_denied(emulator, owned: str) -> None:
    other = emulator.client("s3", access_key=OTHER)
    _denied(other.get_object, Bucket=owned, Key="train/train.csv")
    _denied(other.put_object, Bucket=owned, Key="intruder", Body=b"x")
    _denied(other.delete_object, Bucket=owned, Key="train/train.csv")
    _denied(other.list_objects_v2, Bucket=owned)
    _denied(other.head_object, Bucket=owned, Key="train/train.csv")
    _denied(other.delete_bucket, Bucket=owned)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        other.create_bucket(Bucket=owned)
    assert (info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]) \
        == ("BucketAlreadyExists", 409)
    mine = emulator.client("s3", access_key=OWNER)
    assert mine.get_object(Bucket=owned, Key="train/train.csv")["Body"].read()
    assert [o["Key"] for o in mine.list_objects_v2(Bucket=owned, Prefix="intruder").get("Contents", [])] == []


def test_other_account_jobs_cannot_read_the_bucket(emulator, owned: str) -> None:
    ml = emulator.client("machinelearning", access_key=OTHER)
    sm = emulator.client("sagemaker", access_key=OTHER)
    schema = ('{"version":"1.0","dataFormat":"CSV","targetAttributeName":"y","attributes":['
              '{"attributeName":"y","attributeType":"CATEGORICAL"},'
              + ",".join(f'{{"attributeName":"x{i}","attributeType":"NUMERIC"}}' for i in range(4)) + "]}")
    ml.create_data_source_from_s3(DataSourceId="foreign-ds", ComputeStatistics=True, DataSpec={
        "DataLocationS3": f"s3://{owned}/train/train.csv", "DataSchema": schema})
    ds = ml.get_data_source(DataSourceId="foreign-ds")
    assert ds["Status"] == "FAILED" and "Access Denied" in ds["Message"]

    sm.create_training_job(**training_request("foreign-knn", KNN_IMAGE, {
        "k": "3", "sample_size": "200", "predictor_type": "classifier"},
        [channel("train", f"s3://{owned}/train/")], f"s3://{owned}/out"))
    job = sm.describe_training_job(TrainingJobName="foreign-knn")
    assert job["TrainingJobStatus"] == "Failed" and "Access Denied" in job["FailureReason"]

    artefact = emulator.client("sagemaker", access_key=OWNER).describe_training_job(
        TrainingJobName="owner-knn")["ModelArtifacts"]["S3ModelArtifacts"]
    sm.create_model(ModelName="foreign-model", ExecutionRoleArn="arn:aws:iam::222222222222:role/r",
                    PrimaryContainer={"Image": KNN_IMAGE, "ModelDataUrl": artefact})
    sm.create_endpoint_config(EndpointConfigName="foreign-config", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "foreign-model", "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName="foreign-endpoint", EndpointConfigName="foreign-config")
    endpoint = sm.describe_endpoint(EndpointName="foreign-endpoint")
    assert endpoint["EndpointStatus"] == "Failed" and "Access Denied" in endpoint["FailureReason"]
