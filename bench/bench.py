"""Latency bench: the emulator's hot paths next to a trivial Flask app, and start-up next to moto.

    python bench/bench.py [--starts 5] [--calls 400] [--chunk 20]

(a) Start -> first answer: a fresh ``python -m emulator`` until ``/_emulator/health``
answers, then its first API answer (sagemaker ListModels); median of N starts, each
alternated with a fresh ``python -m moto.server`` until its first answer (if moto is
installed). Wall time, and the CPU time the server process had used when it answered
(less sensitive to other load on the machine). The emulator's modules are byte-compiled
first, as ``pip install`` does (with ``PYTHONDONTWRITEBYTECODE`` set, a checkout would
otherwise recompile every module at every start).
(b) Latency p50/p95 of one boto3 client call each, all measured in ONE run, interleaved
in chunks of ``--chunk`` calls (the order rotating every round) so that machine load hits
every target alike:
  floor     a separate trivial Flask app (bench/floor_app.py: the same werkzeug server,
            threaded, started the same way) answering a small fixed JSON body, called with a
            boto3 sagemaker ListModels; and the same app called with exactly the Predict and
            InvokeEndpoint calls below ("same-call floors": the client's own work, larger for a
            30-attribute Predict than for ListModels, is then the same on both sides);
  Predict   Amazon ML Predict on a trained BINARY model's real-time endpoint;
  Invoke    sagemaker-runtime InvokeEndpoint, one CSV row to a k-NN endpoint;
  ListModels sagemaker ListModels (a cheap awsJson call of the emulator);
  STS       sts GetCallerIdentity (query protocol, XML).
Measurement starts only once the emulator's background engine import has finished
(health ``engines`` == ``ready``). Ratios are to the floor's p50 and p95, and for Predict
and InvokeEndpoint also to their same-call floor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Callable

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import boto3  # noqa: E402
from botocore.config import Config as BotoConfig  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_answer(url: str, started: float, deadline_seconds: float = 60.0) -> float:
    """Poll ``url`` until any HTTP answer; return seconds since ``started``."""
    deadline = time.perf_counter() + deadline_seconds
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return time.perf_counter() - started
        except urllib.error.HTTPError:  # an answer all the same
            return time.perf_counter() - started
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer")


def spawn(argv: list[str]) -> tuple[subprocess.Popen, float]:
    started = time.perf_counter()
    return subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), started


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def client(service: str, url: str):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=BotoConfig(retries={"max_attempts": 1}))


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the process has used so far (Linux /proc; else nan)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def start_emulator(port: int) -> tuple[subprocess.Popen, float, float, float]:
    """A fresh emulator: the process, seconds to its first health answer, the CPU seconds it
    had used then, and seconds to its first API answer."""
    models = client("sagemaker", f"http://127.0.0.1:{port}")
    process, started = spawn([sys.executable, "-m", "emulator", "--port", str(port)])
    try:
        health = wait_answer(f"http://127.0.0.1:{port}/_emulator/health", started)
        cpu = cpu_seconds(process.pid)
        models.list_models(MaxResults=1)
        first_api = time.perf_counter() - started
    except BaseException:
        stop(process)
        raise
    return process, health, cpu, first_api


def start_times(count: int) -> None:
    """(a): median start -> first answer of the emulator, alternated with moto's server."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(REPO, "emulator")], check=False,
                   stdout=subprocess.DEVNULL)
    has_moto = shutil.which("moto_server") is not None or _importable("moto.server")
    health, health_cpu, api, moto, moto_cpu = [], [], [], [], []
    for _ in range(count):
        process, to_health, cpu, to_api = start_emulator(free_port())
        stop(process)
        health.append(to_health)
        health_cpu.append(cpu)
        api.append(to_api)
        if has_moto:
            port = free_port()
            process, started = spawn([sys.executable, "-m", "moto.server", "-p", str(port)])
            try:
                moto.append(wait_answer(f"http://127.0.0.1:{port}/", started))
                moto_cpu.append(cpu_seconds(process.pid))
            finally:
                stop(process)

    def fmt(values: list[float]) -> str:
        return (f"median {statistics.median(values) * 1000:5.0f} ms (min {min(values) * 1000:.0f}, "
                f"max {max(values) * 1000:.0f})")

    print(f"start -> first answer over {count} fresh processes each (load average {os.getloadavg()[0]:.2f}):")
    print(f"  emulator /_emulator/health        {fmt(health)}; CPU used by then {fmt(health_cpu)}")
    print(f"  emulator first API (ListModels)   {fmt(api)}")
    if moto:
        print(f"  moto.server first answer          {fmt(moto)}; CPU used by then {fmt(moto_cpu)}")
        print(f"  emulator / moto: wall {statistics.median(health) / statistics.median(moto):.2f}x, "
              f"CPU {statistics.median(health_cpu) / statistics.median(moto_cpu):.2f}x")
    else:
        print("  moto.server: not installed")


def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def prepare_amazonml(url: str, floor_url: str) -> tuple[Callable[[], object], Callable[[], object]]:
    """Train a small BINARY model with a realtime endpoint; return one Predict call, and the
    same call to the floor app."""
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
    ml.create_data_source_from_s3(DataSourceId="bench-ds", ComputeStatistics=True, DataSpec={
        "DataLocationS3": "s3://bench-ml/data.csv", "DataSchema": json.dumps(schema)})
    ml.create_ml_model(MLModelId="bench-model", MLModelType="BINARY", TrainingDataSourceId="bench-ds")
    wait_for(lambda: ml.get_ml_model(MLModelId="bench-model")["Status"] == "COMPLETED", "the Amazon ML model")
    endpoint = ml.create_realtime_endpoint(MLModelId="bench-model")["RealtimeEndpointInfo"]["EndpointUrl"]
    record = dict(zip(names, [f"{v:.6g}" for v in data.data[0]]))
    call = lambda: ml.predict(MLModelId="bench-model", Record=record, PredictEndpoint=endpoint)  # noqa: E731
    wait_for(lambda: _succeeds(call), "the real-time endpoint")
    floor_ml = client("machinelearning", floor_url)
    return call, lambda: floor_ml.predict(MLModelId="bench-model", Record=record, PredictEndpoint=floor_url)


def prepare_knn(url: str, floor_url: str) -> tuple[Callable[[], object], Callable[[], object]]:
    """Train and deploy k-NN on iris; return one InvokeEndpoint call with one CSV row, and the
    same call to the floor app."""
    s3, sm, runtime = client("s3", url), client("sagemaker", url), client("sagemaker-runtime", url)
    s3.create_bucket(Bucket="bench-knn")
    species = {"setosa": 0, "versicolor": 1, "virginica": 2}
    with open(os.path.join(REPO, "clients", "examples", "data", "iris.csv"), encoding="utf-8") as handle:
        header, *lines = [line.strip().split(",") for line in handle if line.strip()]
    header = [h.strip('"') for h in header]
    columns = [header.index(c) for c in ("Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width")]
    label = header.index("Species")
    body = "\n".join(",".join([str(species[row[label].strip('"')])] + [row[c] for c in columns]) for row in lines)
    s3.put_object(Bucket="bench-knn", Key="train/train.csv", Body=body + "\n")
    image = "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1"
    sm.create_training_job(
        TrainingJobName="bench-knn", RoleArn="arn:aws:iam::123456789012:role/bench",
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        HyperParameters={"k": "1", "sample_size": "1000", "predictor_type": "classifier", "feature_dim": "4"},
        InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": "s3://bench-knn/train/"}}}],
        OutputDataConfig={"S3OutputPath": "s3://bench-knn/out"},
        ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600})
    wait_for(lambda: sm.describe_training_job(TrainingJobName="bench-knn")["TrainingJobStatus"] == "Completed",
             "the k-NN training job")
    artefact = sm.describe_training_job(TrainingJobName="bench-knn")["ModelArtifacts"]["S3ModelArtifacts"]
    sm.create_model(ModelName="bench-knn", ExecutionRoleArn="arn:aws:iam::123456789012:role/bench",
                    PrimaryContainer={"Image": image, "ModelDataUrl": artefact})
    sm.create_endpoint_config(EndpointConfigName="bench-knn", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "bench-knn", "InitialInstanceCount": 1, "InstanceType": "ml.t2.medium"}])
    sm.create_endpoint(EndpointName="bench-knn", EndpointConfigName="bench-knn")
    wait_for(lambda: sm.describe_endpoint(EndpointName="bench-knn")["EndpointStatus"] == "InService", "the endpoint")
    floor_runtime = client("sagemaker-runtime", floor_url)
    return (lambda: runtime.invoke_endpoint(EndpointName="bench-knn", ContentType="text/csv",
                                            Accept="application/json", Body="5.8,2.8,5.1,2.4")["Body"].read(),
            lambda: floor_runtime.invoke_endpoint(EndpointName="bench-knn", ContentType="text/csv",
                                                  Accept="application/json", Body="5.8,2.8,5.1,2.4")["Body"].read())


def _succeeds(call: Callable[[], object]) -> bool:
    try:
        call()
        return True
    except Exception:  # noqa: BLE001 - not ready yet
        return False


def wait_for(condition: Callable[[], bool], what: str, deadline_seconds: float = 300.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready within {deadline_seconds:.0f} s")


def wait_engines_ready(url: str, deadline_seconds: float = 120.0) -> str:
    """Wait until the emulator's background engine import has finished (health ``engines``)."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/_emulator/health", timeout=5) as response:
            state = json.loads(response.read()).get("engines")
        if state is None:  # a server that does not report it: give the import time to finish
            time.sleep(15)
            return "not reported (waited 15 s)"
        if state == "ready":
            return "ready"
        time.sleep(0.1)
    raise RuntimeError("engine import did not finish")


def measure(targets: dict[str, Callable[[], object]], calls: int, chunk: int) -> dict[str, list[float]]:
    """Milliseconds per call per target, interleaved in chunks (the order rotates each round)."""
    names = list(targets)
    for name in names:  # warm-up: connection pools, first-use caches
        for _ in range(20):
            targets[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    rounds = max(1, calls // chunk)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            call, out = targets[name], samples[name]
            for _ in range(chunk):
                begin = time.perf_counter()
                call()
                out.append((time.perf_counter() - begin) * 1000)
    return samples


def p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def latency(calls: int, chunk: int) -> None:
    """(b): the hot paths and cheap calls next to the trivial Flask floor, interleaved."""
    floor_port, port = free_port(), free_port()
    floor, started = spawn([sys.executable, os.path.join(REPO, "bench", "floor_app.py"), "--port", str(floor_port)])
    emulator = None
    try:
        wait_answer(f"http://127.0.0.1:{floor_port}/", started)
        emulator, _, _, _ = start_emulator(port)
        url = f"http://127.0.0.1:{port}"
        floor_url = f"http://127.0.0.1:{floor_port}"
        floor_client = client("sagemaker", floor_url)
        targets: dict[str, Callable[[], object]] = {"floor (trivial Flask)": lambda: floor_client.list_models(MaxResults=1)}
        for label, prepare in (("machinelearning Predict", prepare_amazonml),
                               ("sagemaker-runtime InvokeEndpoint", prepare_knn)):
            try:
                targets[label], targets[f"floor, same call as {label.split()[-1]}"] = prepare(url, floor_url)
            except Exception as exc:  # noqa: BLE001 - report, keep benchmarking the rest
                print(f"{label} could not be prepared: {exc}")
        models, sts = client("sagemaker", url), client("sts", url)
        targets["sagemaker ListModels (awsJson)"] = lambda: models.list_models(MaxResults=1)
        targets["sts GetCallerIdentity (query)"] = sts.get_caller_identity
        engines = wait_engines_ready(url)
        load = os.getloadavg()
        samples = measure(targets, calls, chunk)
        load_after = os.getloadavg()
    finally:
        if emulator is not None:
            stop(emulator)
        stop(floor)
    floor50, floor95 = p50_p95(samples["floor (trivial Flask)"])
    print(f"latency: {len(samples['floor (trivial Flask)'])} calls per target in chunks of {chunk}, interleaved; "
          f"engine import {engines}; load average {load[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"  {'target':38s} {'p50 ms':>7s} {'p95 ms':>7s} {'p50/floor':>9s} {'p95/floor':>9s}"
          f" {'p50/same-call floor':>20s} {'p95/same-call floor':>20s}")
    for name, values in samples.items():
        p50, p95 = p50_p95(values)
        line = f"  {name:38s} {p50:7.2f} {p95:7.2f} {p50 / floor50:8.2f}x {p95 / floor95:8.2f}x"
        same = samples.get(f"floor, same call as {name.split()[-1]}")
        if same is not None and not name.startswith("floor"):
            same50, same95 = p50_p95(same)
            line += f" {p50 / same50:19.2f}x {p95 / same95:19.2f}x"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5, help="fresh starts measured (0: skip)")
    parser.add_argument("--calls", type=int, default=400, help="calls per latency target (0: skip)")
    parser.add_argument("--chunk", type=int, default=20, help="calls per target per interleaved chunk")
    args = parser.parse_args()
    if args.starts:
        start_times(args.starts)
    if args.calls:
        latency(args.calls, args.chunk)


if __name__ == "__main__":
    main()
