"""Mixed load: 16 client threads of create / describe / list / predict / invoke / delete
across Amazon ML and SageMaker, then a cheap call's latency with training jobs running.

    python bench/load.py [--threads 16] [--seconds 60] [--jobs 2]

Prints per operation the count and p50/p99 latency; errors (must be 0); duplicate ids
(must be 0); whether ListModels shows exactly what was created minus what was deleted;
and the p50/p99 of an empty-ish DescribeEndpoint measured side by side with no job
running and with ``--jobs`` XGBoost jobs of a billion rounds training (they are stopped
at the end), with the ratio of the two p50s. The emulator runs in its own process.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import statistics
import sys
import threading
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "bench"))

from bench import client, free_port, start_server  # noqa: E402

from tests.sagemaker_helpers import KNN_IMAGE, ROLE, XGBOOST_IMAGE, channel, iris_split, training_request  # noqa: E402

SCHEMA = ('{"version":"1.0","dataFormat":"CSV","targetAttributeName":"y","attributes":['
          '{"attributeName":"y","attributeType":"CATEGORICAL"},'
          + ",".join(f'{{"attributeName":"x{i}","attributeType":"NUMERIC"}}' for i in range(4)) + "]}")


def prepare(url: str) -> dict[str, str]:
    """Iris in S3, a k-NN endpoint and an Amazon ML model with a realtime endpoint."""
    s3, sm, ml = client("s3", url), client("sagemaker", url), client("machinelearning", url)
    s3.create_bucket(Bucket="load")
    train, _ = iris_split()
    s3.put_object(Bucket="load", Key="train/train.csv", Body=train.to_csv(header=False, index=False))
    sm.create_training_job(**training_request("load-knn", KNN_IMAGE, {
        "k": "3", "sample_size": "200", "predictor_type": "classifier"}, [channel("train", "s3://load/train/")],
        "s3://load/out"))
    while (job := sm.describe_training_job(TrainingJobName="load-knn"))["TrainingJobStatus"] == "InProgress":
        time.sleep(0.2)  # the first job also waits for the worker forkserver to start
    artefact = job["ModelArtifacts"]["S3ModelArtifacts"]
    sm.create_model(ModelName="load-knn", ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": KNN_IMAGE, "ModelDataUrl": artefact})
    sm.create_endpoint_config(EndpointConfigName="load-knn", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "load-knn", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName="load-knn", EndpointConfigName="load-knn")
    while sm.describe_endpoint(EndpointName="load-knn")["EndpointStatus"] == "Creating":
        time.sleep(0.2)
    ml.create_data_source_from_s3(DataSourceId="load-ds", ComputeStatistics=True, DataSpec={
        "DataLocationS3": "s3://load/train/train.csv", "DataSchema": SCHEMA})
    ml.create_ml_model(MLModelId="load-model", MLModelType="MULTICLASS", TrainingDataSourceId="load-ds")
    while ml.get_ml_model(MLModelId="load-model")["Status"] not in ("COMPLETED", "FAILED"):
        time.sleep(0.2)
    endpoint = ml.create_realtime_endpoint(MLModelId="load-model")["RealtimeEndpointInfo"]["EndpointUrl"]
    return {"artefact": artefact, "predict_endpoint": endpoint}


class Load:
    """The mixed workload of one run, with its measurements."""

    def __init__(self, url: str, setup: dict[str, str]) -> None:
        self.url, self.setup = url, setup
        self.samples: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: list[str] = []
        self.created: list[str] = []
        self.deleted: set[str] = set()
        self.lock = threading.Lock()

    def worker(self, seed: int, until: float) -> None:
        rng = random.Random(seed)
        sm, rt = client("sagemaker", self.url), client("sagemaker-runtime", self.url)
        ml_predict = client("machinelearning", self.setup["predict_endpoint"])
        mine: list[str] = []
        while time.monotonic() < until:
            action = rng.choice(("create", "create", "describe", "list", "predict", "invoke", "delete"))
            try:
                begin = time.perf_counter()
                if action == "create":
                    name = f"load-{uuid.uuid4().hex[:12]}"
                    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={
                        "Image": KNN_IMAGE, "ModelDataUrl": self.setup["artefact"]})
                    mine.append(name)
                    with self.lock:
                        self.created.append(name)
                elif action == "describe" and mine:
                    sm.describe_model(ModelName=rng.choice(mine))
                elif action == "list":
                    sm.list_models(MaxResults=100)
                elif action == "predict":
                    ml_predict.predict(MLModelId="load-model", PredictEndpoint=self.setup["predict_endpoint"],
                                       Record={f"x{i}": str(rng.random() * 5) for i in range(4)})
                elif action == "invoke":
                    rt.invoke_endpoint(EndpointName="load-knn", ContentType="text/csv",
                                       Body=",".join(f"{rng.random() * 5:.2f}" for _ in range(4)))
                elif action == "delete" and mine:
                    name = mine.pop(rng.randrange(len(mine)))
                    sm.delete_model(ModelName=name)
                    with self.lock:
                        self.deleted.add(name)
                else:
                    continue
                elapsed = (time.perf_counter() - begin) * 1000
                with self.lock:
                    self.samples[action].append(elapsed)
            except Exception as exc:  # noqa: BLE001 - counted, the run goes on
                with self.lock:
                    self.errors.append(f"{action}: {type(exc).__name__}: {exc}"[:200])


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


def cheap_latency(url: str, count: int) -> tuple[float, float]:
    sm = client("sagemaker", url)
    samples = []
    for _ in range(count):
        begin = time.perf_counter()
        sm.describe_endpoint(EndpointName="load-knn")
        samples.append((time.perf_counter() - begin) * 1000)
    return percentiles(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    port = free_port()
    process, _ = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        load = Load(url, prepare(url))
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=load.worker, args=(i, until)) for i in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(f"{args.threads} threads for {args.seconds:g} s of mixed load")
        for action, samples in sorted(load.samples.items()):
            p50, p99 = percentiles(samples)
            print(f"  {action:9s} {len(samples):6d} calls  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
        print(f"  errors: {len(load.errors)}" + "".join(f"\n    {e}" for e in load.errors[:10]))
        print(f"  duplicate ids: {len(load.created) - len(set(load.created))}")
        sm = client("sagemaker", url)
        listed, token = set(), None
        while True:
            page = sm.list_models(MaxResults=100, **({"NextToken": token} if token else {}))
            listed |= {m["ModelName"] for m in page["Models"] if m["ModelName"].startswith("load-")} - {"load-knn"}
            token = page.get("NextToken")
            if not token:
                break
        print(f"  ListModels consistent with created minus deleted: {listed == set(load.created) - load.deleted}")

        cheap_latency(url, 50)  # warm-up after the load phase
        idle = cheap_latency(url, args.calls)
        train, _ = iris_split()
        for i in range(args.jobs):
            sm.create_training_job(**training_request(f"load-busy-{i}", XGBOOST_IMAGE, {
                "num_round": "1000000000", "objective": "multi:softmax", "num_class": "3"},
                [channel("train", "s3://load/train/")], "s3://load/out"))
        time.sleep(3)  # the jobs are training now
        busy = cheap_latency(url, args.calls)
        for i in range(args.jobs):
            sm.stop_training_job(TrainingJobName=f"load-busy-{i}")
        print(f"DescribeEndpoint, {args.calls} calls: idle p50 {idle[0]:.1f} ms p99 {idle[1]:.1f} ms; "
              f"with {args.jobs} training jobs p50 {busy[0]:.1f} ms p99 {busy[1]:.1f} ms "
              f"(p50 ratio {busy[0] / idle[0]:.2f}x)")
        return 1 if load.errors or len(load.created) != len(set(load.created)) else 0
    finally:
        process.terminate()
        process.wait(15)


if __name__ == "__main__":
    sys.exit(main())
