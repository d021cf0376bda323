"""Benchmarks: start-up, the no-op floor, and the hot paths next to it.

    python bench/bench.py [--starts 5] [--calls 300]

Prints (a) server start -> first answered request, median of N cold starts;
(b) p50/p95 of no-op calls from one boto3 client: sts GetCallerIdentity and an empty
sagemaker ListModels (the floor the ratios use: same awsJson protocol as the hot paths);
(c) Amazon ML Predict p50/p95 and (d) sagemaker-runtime InvokeEndpoint p50/p95 (one
CSV row, k-NN), each with its ratio to the floor. The emulator runs in its own process.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from typing import Callable

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import boto3  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int) -> tuple[subprocess.Popen, float]:
    """Start ``python -m emulator`` and return it with the seconds to its first health answer."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port)], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = started + 60
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health", timeout=1):
                return process, time.perf_counter() - started
        except OSError:
            time.sleep(0.005)
    process.kill()
    raise RuntimeError("emulator did not start")


def latencies(call: Callable[[], object], count: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds after a short warm-up."""
    for _ in range(10):
        call()
    samples = []
    for _ in range(count):
        begin = time.perf_counter()
        call()
        samples.append((time.perf_counter() - begin) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def client(service: str, url: str):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def prepare_amazonml(url: str) -> Callable[[], object]:
    """Train a small BINARY model with a realtime endpoint; return one Predict call."""
    from sklearn.datasets import load_breast_cancer

    s3, ml = client("s3", url), client("machinelearning", url)
    s3.create_bucket(Bucket="bench-ml")
    data = load_breast_cancer()
    names = [f"f{i}" for i in range(data.data.shape[1])]
    rows = [",".join(names + ["label"])] + [",".join([f"{v:.6g}" for v in x] + [str(int(y))])
                                             for x, y in zip(data.data, data.target)]
    s3.put_object(Bucket="bench-ml", Key="data.csv", Body="\n".join(rows))
    schema = {"version": "1.0", "targetAttributeName": "label", "dataFormat": "CSV", "dataFileContainsHeader": True,
              "attributes": [{"attributeName": n, "attributeType": "NUMERIC"} for n in names]
              + [{"attributeName": "label", "attributeType": "BINARY"}]}
    import json
    ml.create_data_source_from_s3(DataSourceId="bench-ds", ComputeStatistics=True, DataSpec={
        "DataLocationS3": "s3://bench-ml/data.csv", "DataSchema": json.dumps(schema)})
    ml.create_ml_model(MLModelId="bench-model", MLModelType="BINARY", TrainingDataSourceId="bench-ds")
    endpoint = ml.create_realtime_endpoint(MLModelId="bench-model")["RealtimeEndpointInfo"]["EndpointUrl"]
    record = dict(zip(names, [f"{v:.6g}" for v in data.data[0]]))
    return lambda: ml.predict(MLModelId="bench-model", Record=record, PredictEndpoint=endpoint)


def prepare_knn(url: str) -> Callable[[], object]:
    """Train and deploy k-NN on iris; return one InvokeEndpoint call with one CSV row."""
    import pandas as pd

    s3, sm, runtime = client("s3", url), client("sagemaker", url), client("sagemaker-runtime", url)
    s3.create_bucket(Bucket="bench-knn")
    df = pd.read_csv(os.path.join(REPO, "clients", "examples", "data", "iris.csv"))
    df = df[["Species", "Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]]
    df["Species"] = df["Species"].map({"setosa": 0, "versicolor": 1, "virginica": 2})
    s3.put_object(Bucket="bench-knn", Key="train/train.csv", Body=df.to_csv(header=False, index=False))
    image = "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1"
    sm.create_training_job(
        TrainingJobName="bench-knn", RoleArn="arn:aws:iam::123456789012:role/bench",
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        HyperParameters={"k": "1", "sample_size": "1000", "predictor_type": "classifier"},
        InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": "s3://bench-knn/train/"}}}],
        OutputDataConfig={"S3OutputPath": "s3://bench-knn/out"},
        ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600})
    artefact = sm.describe_training_job(TrainingJobName="bench-knn")["ModelArtifacts"]["S3ModelArtifacts"]
    sm.create_model(ModelName="bench-knn", ExecutionRoleArn="arn:aws:iam::123456789012:role/bench",
                    PrimaryContainer={"Image": image, "ModelDataUrl": artefact})
    sm.create_endpoint_config(EndpointConfigName="bench-knn", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "bench-knn", "InitialInstanceCount": 1, "InstanceType": "ml.t2.medium"}])
    sm.create_endpoint(EndpointName="bench-knn", EndpointConfigName="bench-knn")
    return lambda: runtime.invoke_endpoint(EndpointName="bench-knn", ContentType="text/csv",
                                           Accept="application/json", Body="5.8,2.8,5.1,2.4")["Body"].read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()

    starts = []
    for _ in range(args.starts):
        process, seconds = start_server(free_port())
        starts.append(seconds)
        process.terminate()
        process.wait()
    print(f"start -> first answered request: median {statistics.median(starts) * 1000:.0f} ms "
          f"over {args.starts} cold starts (min {min(starts) * 1000:.0f}, max {max(starts) * 1000:.0f})")

    port = free_port()
    process, _ = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        sts = client("sts", url)
        sts50, sts95 = latencies(sts.get_caller_identity, args.calls)
        print(f"floor  sts GetCallerIdentity (query/XML)  p50 {sts50:6.2f} ms  p95 {sts95:6.2f} ms")
        models = client("sagemaker", url)
        floor50, floor95 = latencies(lambda: models.list_models(MaxResults=1), args.calls)
        print(f"floor  sagemaker ListModels (awsJson)     p50 {floor50:6.2f} ms  p95 {floor95:6.2f} ms  (ratios below)")
        for label, prepare in (("machinelearning Predict        ", prepare_amazonml),
                               ("sagemaker-runtime InvokeEndpoint", prepare_knn)):
            try:
                call = prepare(url)
            except Exception as exc:  # report, keep benchmarking the rest
                print(f"{label} could not be prepared: {exc}")
                continue
            p50, p95 = latencies(call, args.calls)
            print(f"{label}        p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  ratio to floor p50 {p50 / floor50:4.2f}x "
                  f"p95 {p95 / floor95:4.2f}x")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
