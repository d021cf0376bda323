"""Seed 004 as a script: real-time prediction with boto3 (get_ml_model -> EndpointUrl -> predict).

    export AWS_ML_MODEL_ID=learn-ml-...      # as printed by seed_001_amazonml_create_flow.py
    AWS_ENDPOINT_URL=http://127.0.0.1:4599 python clients/examples/seed_004_amazonml_predict.py [record.csv]

As in the seed, the record is the first line of a CSV file (default: a record made
of the first data row of the shipped ``data/iris.csv``); values are named after
``$AWS_ML_RECORD_HEADER`` (comma-separated attribute names; default: the iris
header) instead of the seed's generated ``Var%03d`` names. Prints the Prediction
and the predicted label.
"""

import json
import os
import sys

import boto3

EXAMPLE_DIR = os.path.dirname(os.path.abspath(__file__))

os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:4599")

model_id = os.environ.get("AWS_ML_MODEL_ID")
if not model_id:
    print("AWS_ML_MODEL_ID is not set: set it to the ML model to predict with, e.g. the\n"
          "  export AWS_ML_MODEL_ID=learn-ml-...\n"
          "line printed by clients/examples/seed_001_amazonml_create_flow.py", file=sys.stderr)
    sys.exit(2)
machinelearning = boto3.client("machinelearning")
names = os.environ.get("AWS_ML_RECORD_HEADER", "Sepal.Length,Sepal.Width,Petal.Length,Petal.Width").split(",")

try:
    model = machinelearning.get_ml_model(MLModelId=model_id)
    prediction_endpoint = model.get("EndpointInfo").get("EndpointUrl")
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as f:
            record_str = f.readline().strip()
    else:
        with open(os.path.join(EXAMPLE_DIR, "data", "iris.csv")) as f:
            f.readline()
            record_str = f.readline().strip()
    record = {}
    for index, val in enumerate(record_str.split(",")):
        if index < len(names):
            record[names[index]] = val
    response = machinelearning.predict(MLModelId=model_id, Record=record, PredictEndpoint=prediction_endpoint)
    print(json.dumps(response["Prediction"], indent=2, sort_keys=True))
    label = response.get("Prediction").get("predictedLabel")
    print("Predicted label: %s" % label)
except Exception as e:
    print(e)
    sys.exit(1)
