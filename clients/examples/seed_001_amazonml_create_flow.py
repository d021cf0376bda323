"""Seed 001 as a script: the ``rake ml:learn`` Loader (Ruby, AWS SDK v2) ported to boto3 call for call.

    aws-ml-emulator &
    AWS_ENDPOINT_URL=http://127.0.0.1:4599 python clients/examples/seed_001_amazonml_create_flow.py [features.csv]

Steps as in ``Machine::Loader.perform``: upload the features file to S3 with
server-side encryption AES256, create two data sources from it (random 0-70 split
and its complement, both with compute_statistics), a MULTICLASS model with
``sgd.maxPasses`` "20" and ``sgd.shuffleType`` "auto", an evaluation, a real-time
endpoint, then print the ``export`` lines for the predict code (seed 004).

The default data file is the shipped ``data/iris.csv`` (target ``Species``). For
another CSV with a header, the schema is derived from it: the target is
``$AWS_ML_TARGET`` or the first column, columns that parse as numbers are NUMERIC,
the others CATEGORICAL. The bucket (``$AWS_ML_BUCKET``) is created when missing.
"""

import csv
import json
import os
import sys
import time

import boto3
from botocore.exceptions import ClientError

EXAMPLE_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(EXAMPLE_DIR, "data", "iris.csv")

os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:4599")


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


class Loader:
    """The seed's ``Machine::Loader``."""

    def __init__(self):
        self.timestamp = str(int(time.time()))
        self.bucket_name = os.environ.get("AWS_ML_BUCKET", "aws-ml-emulator-learn")
        self.ml_client = boto3.client("machinelearning")
        self.s3_client = boto3.client("s3")

    @classmethod
    def perform(cls, filename=DEFAULT_DATA):
        instance = cls()
        instance.upload_data_to_s3(filename)
        instance.create_data_sources()
        instance.create_model()
        instance.create_evaluation()
        instance.create_realtime_endpoint()

    # -- Upload Data to S3
    def upload_data_to_s3(self, filename):
        print(f"uploading {filename} to S3...")
        self.data_file = filename
        try:
            self.s3_client.head_bucket(Bucket=self.bucket_name)
        except ClientError:
            self.s3_client.create_bucket(Bucket=self.bucket_name)
        with open(filename, "rb") as f:
            self.s3_client.put_object(Bucket=self.bucket_name, Key=f"uploads/{os.path.basename(filename)}",
                                      ServerSideEncryption="AES256", Body=f)

    @property
    def data_location(self):
        return f"s3://{self.bucket_name}/uploads/{os.path.basename(self.data_file)}"

    # -- Create Data Sources
    def create_data_sources(self):
        print("Creating data sources from S3...")
        self.model_data_source_id = f"learn-mds-{self.timestamp}"
        self.evaluation_data_source_id = f"learn-eds-{self.timestamp}"
        # Training
        self.ml_client.create_data_source_from_s3(
            DataSourceId=self.model_data_source_id,
            DataSourceName=f"Model Source: LearnSample 0-70 {self.timestamp}",
            ComputeStatistics=True,  # Required to create ML Model
            DataSpec={"DataLocationS3": self.data_location,
                      "DataSchema": json.dumps(self.data_schema()),
                      "DataRearrangement": json.dumps(self.data_rearrangement())})
        self.wait_for_ml("data_source_available")  # Block until complete
        # Evaluation
        self.ml_client.create_data_source_from_s3(
            DataSourceId=self.evaluation_data_source_id,
            DataSourceName=f"Evaluation Source: LearnSample 70-100 {self.timestamp}",
            ComputeStatistics=True,
            DataSpec={"DataLocationS3": self.data_location,
                      "DataSchema": json.dumps(self.data_schema()),
                      "DataRearrangement": json.dumps(self.data_rearrangement(True))})
        self.wait_for_ml("data_source_available")

    def data_rearrangement(self, complement=False):
        return {"splitting": {"percentBegin": 0, "percentEnd": 70, "strategy": "random", "complement": complement}}

    def data_schema(self):
        with open(self.data_file, newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            first = next(reader)
        target = os.environ.get("AWS_ML_TARGET") or ("Species" if "Species" in header else header[0])
        attributes = [{"attributeName": name,
                       "attributeType": "CATEGORICAL" if name == target or not _is_number(value) else "NUMERIC"}
                      for name, value in zip(header, first)]
        return {"version": "1.0", "rowId": None, "rowWeight": None, "targetAttributeName": target,
                "dataFormat": "CSV", "dataFileContainsHeader": True, "attributes": attributes,
                "excludedAttributeNames": []}

    # -- Create Model From Data Source
    def create_model(self):
        print("Creating model...")
        self.ml_model_id = f"learn-ml-{self.timestamp}"
        self.ml_client.create_ml_model(
            MLModelId=self.ml_model_id,
            MLModelName=f"ML model: LearnSample {self.timestamp}",
            MLModelType="MULTICLASS",
            TrainingDataSourceId=self.model_data_source_id,
            Parameters={"sgd.maxPasses": "20", "sgd.shuffleType": "auto"})
        self.wait_for_ml("ml_model_available")

    # -- Create Evaluation
    def create_evaluation(self):
        print("Creating evaluation...")
        self.evaluation_id = f"learn-ev-{self.timestamp}"
        self.ml_client.create_evaluation(
            EvaluationId=self.evaluation_id,
            EvaluationName=f"Evaluation: LearnSample {self.timestamp}",
            MLModelId=self.ml_model_id,
            EvaluationDataSourceId=self.evaluation_data_source_id)
        self.wait_for_ml("evaluation_available")
        metrics = self.ml_client.get_evaluation(EvaluationId=self.evaluation_id)["PerformanceMetrics"]
        print(f"Evaluation: {json.dumps(metrics['Properties'])}")

    # -- Create Realtime Endpoint
    def create_realtime_endpoint(self):
        print("Creating realtime endpoint...")
        response = self.ml_client.create_realtime_endpoint(MLModelId=self.ml_model_id)
        print("Machine Learning Complete! Update your ENV variables with the following:")
        print()
        print(f"export AWS_ML_MODEL_ID={self.ml_model_id}")
        print(f"export AWS_ML_PREDICTION_URL={response['RealtimeEndpointInfo']['EndpointUrl']}")
        print()

    def wait_for_ml(self, waiter_name):
        """The seed's wait_for_ml: block on the SDK waiter (all listed objects COMPLETED)."""
        self.ml_client.get_waiter(waiter_name).wait(WaiterConfig={"Delay": 2, "MaxAttempts": 150})


if __name__ == "__main__":
    Loader.perform(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DATA)
