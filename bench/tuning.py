"""Benchmarks of hyperparameter tuning and batch transform, measured side by side in one run.

    python bench/tuning.py [--jobs 10] [--parallel 2] [--seeds 5] [--budget 20] [--records 3000]

Prints
(a) the wall time of a 10-job, 2-parallel BlazingText tuning job (seed 002's ranges and
    Bayesian strategy, on the generated review corpus) next to the same 10 configurations
    trained one after the other as plain training jobs, and the ratio (target <= 0.6 on
    2 cores); then where the time goes, per job, in both runs (start-up before training,
    training, upload; the coordinator's delay between a slot freeing and the next child's
    creation; one Bayesian suggestion);
(b) Bayesian vs Random search with the same budget, best objective averaged over seeds,
    on two tasks where a surrogate should help (Branin; a 3-D Hartmann function);
(c) batch transform throughput (records/s, k-NN on iris rows, MultiRecord) next to the
    same records sent through InvokeEndpoint one by one.
The emulator runs in this process (``clients.testing.running_emulator``).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import uuid

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from clients.examples.review_corpus import splits  # noqa: E402
from clients.testing import running_emulator  # noqa: E402
from emulator import workers  # noqa: E402
from emulator.config import Config  # noqa: E402
from emulator.engines.tuning import make_strategy, parse_ranges  # noqa: E402
from tests.sagemaker_helpers import BLAZINGTEXT_IMAGE, KNN_IMAGE, ROLE, channel, iris_split, training_request  # noqa: E402


def _wait(describe, key: str, deadline: float = 3600, interval: float = 0.5) -> dict:
    """Poll until the job ends. The durations compared are the server's own timestamps, so
    the poll interval does not add to them; a slow poll keeps the client's CPU off the jobs."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        described = describe()
        if described[key] in ("Completed", "Failed", "Stopped"):
            return described
        time.sleep(interval)
    raise TimeoutError(key)


def bench_parallel_tuning(emu, jobs: int, parallel: int) -> None:
    s3, sm = emu.client("s3"), emu.client("sagemaker")
    bucket = f"bench-tuning-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    for name, lines in splits().items():
        s3.put_object(Bucket=bucket, Key=f"bt/{name}/{name}.txt", Body=("\n".join(lines) + "\n").encode())
    channels = [channel("train", f"s3://{bucket}/bt/train/", "text/plain"),
                channel("validation", f"s3://{bucket}/bt/validation/", "text/plain")]
    static = {"mode": "supervised", "epochs": "20", "min_count": "2"}
    name = f"bench-{uuid.uuid4().hex[:8]}"
    workers.warm_up().join()  # the one-by-one jobs run with warm worker processes: so does the tuning job
    started = time.perf_counter()
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian", "RandomSeed": 0,
            "ResourceLimits": {"MaxNumberOfTrainingJobs": jobs, "MaxParallelTrainingJobs": parallel},
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
            "ParameterRanges": {
                "ContinuousParameterRanges": [{"Name": "learning_rate", "MinValue": "0.01", "MaxValue": "0.08"}],
                "IntegerParameterRanges": [{"Name": "vector_dim", "MinValue": "100", "MaxValue": "200"}],
                "CategoricalParameterRanges": [{"Name": "word_ngrams", "Values": ["1", "2", "3"]}]}},
        TrainingJobDefinition={
            "StaticHyperParameters": static,
            "AlgorithmSpecification": {"TrainingImage": BLAZINGTEXT_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE, "InputDataConfig": channels, "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/out"},
            "ResourceConfig": {"InstanceType": "ml.c5.4xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600}})
    described = _wait(lambda: sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
                      "HyperParameterTuningJobStatus")
    client_tuning_seconds = time.perf_counter() - started
    tuning_seconds = (described["HyperParameterTuningEndTime"] - described["CreationTime"]).total_seconds()
    children = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name, MaxResults=100)
    configs = [c["TunedHyperParameters"] for c in children["TrainingJobSummaries"]]
    started = time.perf_counter()
    sequential = []
    for index, tuned in enumerate(configs):
        job = f"{name}-seq-{index}"
        sequential.append(job)
        sm.create_training_job(**training_request(job, BLAZINGTEXT_IMAGE, {**static, **tuned}, channels,
                                                  f"s3://{bucket}/seq"))
        _wait(lambda: sm.describe_training_job(TrainingJobName=job), "TrainingJobStatus")
    client_sequential_seconds = time.perf_counter() - started
    sequential_seconds = sum(_server_seconds(sm.describe_training_job(TrainingJobName=job)) for job in sequential)
    print(f"(a) tuning {jobs} jobs, {parallel} parallel: {tuning_seconds:.1f} s "
          f"({described['TrainingJobStatusCounters']['Completed']} completed); the same {len(configs)} jobs one by one: "
          f"{sequential_seconds:.1f} s; ratio {tuning_seconds / sequential_seconds:.2f} "
          f"(server timestamps; as seen by the polling client {client_tuning_seconds:.1f} s vs "
          f"{client_sequential_seconds:.1f} s) (load average {os.getloadavg()[0]:.1f})")
    children = [c["TrainingJobName"] for c in children["TrainingJobSummaries"]]
    logs = emu.client("logs")
    for label, names in (("tuning children", children), ("one by one", sequential)):
        print(f"    {label}: " + _phases([sm.describe_training_job(TrainingJobName=n) for n in names], parallel
                                          if label == "tuning children" else None)
              + f"; of the training, fastText's own fit {statistics.mean(_fit_seconds(logs, n) for n in names):.2f} s")
    print(f"    one Bayesian suggestion after {len(configs) - 1} results: {_suggest_seconds(configs) * 1000:.0f} ms")


def _fit_seconds(logs, job: str) -> float:
    """The fastText fit's wall time, as the job logged it ("Total training time in seconds")."""
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{job}/")
    for stream in streams["logStreams"]:
        events = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream["logStreamName"],
                                     startFromHead=True)["events"]
        for event in events:
            if "Total training time in seconds:" in event["message"]:
                return float(event["message"].rsplit(":", 1)[1])
    return float("nan")


def _server_seconds(job: dict) -> float:
    """Creation to end of one training job, by the server's clock."""
    return (job["TrainingEndTime"] - job["CreationTime"]).total_seconds()


def _phases(jobs: list[dict], parallel: int | None) -> str:
    """Mean seconds per job before training (Starting + Downloading), training, upload; for a
    tuning job also the delay between a slot freeing and the next child's creation."""
    def span(job: dict, status: str) -> float:
        return sum((t["EndTime"] - t["StartTime"]).total_seconds()
                   for t in job["SecondaryStatusTransitions"] if t["Status"] == status and "EndTime" in t)

    out = (f"start-up {statistics.mean(span(j, 'Starting') + span(j, 'Downloading') for j in jobs):.2f} s, "
           f"training {statistics.mean(span(j, 'Training') for j in jobs):.2f} s, "
           f"upload {statistics.mean(span(j, 'Uploading') for j in jobs):.2f} s per job")
    if parallel:
        created = sorted(j["CreationTime"] for j in jobs)
        ended = sorted(j["TrainingEndTime"] for j in jobs)
        gaps = [(created[i] - ended[i - parallel]).total_seconds() for i in range(parallel, len(jobs))]
        out += f"; slot freed -> next child created: mean {statistics.mean(gaps) * 1000:.0f} ms, max {max(gaps) * 1000:.0f} ms"
    return out


def _suggest_seconds(configs: list[dict]) -> float:
    space = parse_ranges({
        "ContinuousParameterRanges": [{"Name": "learning_rate", "MinValue": "0.01", "MaxValue": "0.08"}],
        "IntegerParameterRanges": [{"Name": "vector_dim", "MinValue": "100", "MaxValue": "200"}],
        "CategoricalParameterRanges": [{"Name": "word_ngrams", "Values": ["1", "2", "3"]}]})
    strategy = make_strategy("Bayesian", space, 0)
    for index, values in enumerate(configs[:-1]):
        strategy.tell_prior(values, float(index % 3))
    started = time.perf_counter()
    strategy.ask()
    return time.perf_counter() - started


def _branin(values: dict[str, str]) -> float:
    x, y = float(values["x"]), float(values["y"])
    return -((y - 5.1 / (4 * np.pi ** 2) * x ** 2 + 5 / np.pi * x - 6) ** 2 + 10 * (1 - 1 / (8 * np.pi)) * np.cos(x) + 10)


_H_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H_C = np.array([1.0, 1.2, 3.0, 3.2])
_H_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])


def _hartmann3(values: dict[str, str]) -> float:
    x = np.array([float(values[k]) for k in ("a", "b", "c")])
    return float(np.sum(_H_C * np.exp(-np.sum(_H_A * (x - _H_P) ** 2, axis=1))))  # maximum 3.8628


def bench_bayesian_vs_random(seeds: int, budget: int) -> None:
    tasks = {
        "Branin (max -0.398)": (_branin, {"ContinuousParameterRanges": [
            {"Name": "x", "MinValue": "-5", "MaxValue": "10"}, {"Name": "y", "MinValue": "0", "MaxValue": "15"}]}),
        "Hartmann-3 (max 3.863)": (_hartmann3, {"ContinuousParameterRanges": [
            {"Name": k, "MinValue": "0", "MaxValue": "1"} for k in ("a", "b", "c")]}),
    }
    for task, (objective, ranges) in tasks.items():
        space = parse_ranges(ranges)
        results = {}
        for strategy_name in ("Bayesian", "Random"):
            bests = []
            for seed in range(seeds):
                strategy = make_strategy(strategy_name, space, seed)
                best = -np.inf
                for _ in range(budget):
                    proposal = strategy.ask()
                    value = objective(proposal.values)
                    strategy.tell(proposal.key, value)
                    best = max(best, value)
                bests.append(best)
            results[strategy_name] = (statistics.mean(bests), statistics.pstdev(bests))
        wins = "Bayesian" if results["Bayesian"][0] > results["Random"][0] else "Random"
        print(f"(b) {task}, {budget} evaluations x {seeds} seeds: best found, mean (sd): "
              f"Bayesian {results['Bayesian'][0]:.3f} ({results['Bayesian'][1]:.3f}), "
              f"Random {results['Random'][0]:.3f} ({results['Random'][1]:.3f}) -> {wins} wins")


def bench_transform(emu, n_records: int) -> None:
    s3, sm, runtime = emu.client("s3"), emu.client("sagemaker"), emu.client("sagemaker-runtime")
    bucket = f"bench-transform-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    train, test = iris_split()
    buffer = io.StringIO()
    train.to_csv(buffer, header=False, index=False)
    s3.put_object(Bucket=bucket, Key="train/train.csv", Body=buffer.getvalue().encode())
    features = test.iloc[:, 1:].values
    rows = [",".join(str(v) for v in features[i % len(features)]) for i in range(n_records)]
    s3.put_object(Bucket=bucket, Key="batch/rows.csv", Body=("\n".join(rows) + "\n").encode())
    job = f"bench-knn-{uuid.uuid4().hex[:8]}"
    sm.create_training_job(**training_request(job, KNN_IMAGE, {"k": "3", "sample_size": "200", "predictor_type": "classifier",
                                                               "feature_dim": "4"},
                                              [channel("train", f"s3://{bucket}/train/")], f"s3://{bucket}/model"))
    artefact = _wait(lambda: sm.describe_training_job(TrainingJobName=job), "TrainingJobStatus")["ModelArtifacts"]
    sm.create_model(ModelName=job, PrimaryContainer={"Image": KNN_IMAGE, "ModelDataUrl": artefact["S3ModelArtifacts"]},
                    ExecutionRoleArn=ROLE)
    started = time.perf_counter()
    sm.create_transform_job(
        TransformJobName=job, ModelName=job, BatchStrategy="MultiRecord", MaxPayloadInMB=6,
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/batch/"}},
                        "ContentType": "text/csv", "SplitType": "Line"},
        TransformOutput={"S3OutputPath": f"s3://{bucket}/out", "AssembleWith": "Line", "Accept": "application/jsonlines"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1})
    status = _wait(lambda: sm.describe_transform_job(TransformJobName=job), "TransformJobStatus")
    transform_rate = n_records / (time.perf_counter() - started)
    assert status["TransformJobStatus"] == "Completed", status.get("FailureReason")
    sm.create_endpoint_config(EndpointConfigName=job, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": job, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName=job, EndpointConfigName=job)
    _wait(lambda: {"s": sm.describe_endpoint(EndpointName=job)["EndpointStatus"].replace("InService", "Completed")}, "s")
    sample = min(n_records, 1000)
    started = time.perf_counter()
    for row in rows[:sample]:
        runtime.invoke_endpoint(EndpointName=job, ContentType="text/csv", Accept="application/json", Body=row)
    invoke_rate = sample / (time.perf_counter() - started)
    print(f"(c) batch transform: {transform_rate:,.0f} records/s ({n_records} records, MultiRecord); "
          f"InvokeEndpoint one by one: {invoke_rate:,.0f} records/s ({sample} calls); "
          f"ratio {transform_rate / invoke_rate:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--only-tuning", action="store_true", help="run (a) only")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with running_emulator(Config(job_grace_seconds=0.0)) as emu:
        bench_parallel_tuning(emu, args.jobs, args.parallel)
        if not args.only_tuning:
            bench_transform(emu, args.records)
    if not args.only_tuning:
        bench_bayesian_vs_random(args.seeds, args.budget)


if __name__ == "__main__":
    main()
