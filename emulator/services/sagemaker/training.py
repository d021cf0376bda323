"""Training jobs: CreateTrainingJob runs the built-in algorithm for real in the background."""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from typing import Any, Callable

from emulator import workers
from emulator.aws.logs import LogWriter
from emulator.aws.metrics import MetricWriter
from emulator.aws.s3 import S3AccessError, S3Store
from emulator.context import RequestContext
from emulator.engines import sagemaker as engine
from emulator.engines.sagemaker.ranges import check_ranges
from emulator.jobs import SHUTDOWN_REASON, JobRunner
from emulator.lifecycle import job_created, job_status
from emulator.scratch import SCRATCH
from emulator.services.sagemaker.channels import ChannelReadError, read_channels
from emulator.services.sagemaker.errors import in_use, validation
from emulator.services.sagemaker.listing import list_page
from emulator.services.sagemaker.state import SageMakerState

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
METRIC_NAMESPACE = "/aws/sagemaker/TrainingJobs"  # where the SDK's TrainingJobAnalytics looks

# (SecondaryStatus, StatusMessage) as the SageMaker console and SDK show them.
STARTING = ("Starting", "Preparing the instances for training")
DOWNLOADING = ("Downloading", "Downloading input data")
TRAINING = ("Training", "Training image download completed. Training in progress.")
UPLOADING = ("Uploading", "Uploading generated training model")
COMPLETED = ("Completed", "Training job completed")
FAILED = ("Failed", "Training job failed")
STOPPING = ("Stopping", "Stopping the training job")
STOPPED = ("Stopped", "Training job stopped")
MAX_RUNTIME_EXCEEDED = ("MaxRuntimeExceeded", "Job stopped because max run time was exceeded.")
SHUT_DOWN = ("Stopped", "Training job stopped because the emulator shut down")
STOPPED_EARLY = ("Stopped", "The hyperparameter tuning job stopped this training job early: its objective metric "
                            "was worse than the median of the completed training jobs at the same epoch")
WAITING = ("Training", "Waiting for a free worker process to start training")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class JobStopped(Exception):
    """StopTrainingJob was called, or MaxRuntimeInSeconds passed, while the job ran."""

    def __init__(self, secondary: tuple[str, str] = STOPPED) -> None:
        super().__init__(secondary[1])
        self.secondary = secondary


class TrainingJobRun:
    """One training job's background work: download, train, upload, log."""

    def __init__(self, state: SageMakerState, name: str, s3: S3Store, logs: LogWriter, metrics: MetricWriter,
                 jobs: JobRunner, progress: Callable[[list[str]], bool] | None = None) -> None:
        self.state, self.name, self.s3, self.logs, self.metrics, self.jobs = state, name, s3, logs, metrics, jobs
        self.progress = progress
        """Told each epoch's log lines; True stops training there (a tuning job's early stopping)."""
        self.log_lines: list[str] = []
        self.stream = f"{name}/algo-1-{int(time.time())}"

    @property
    def job(self) -> dict[str, Any]:
        return self.state.training_jobs[self.name]

    def transition(self, secondary: tuple[str, str], status: str | None = None) -> None:
        """Record a SecondaryStatus transition (ending the previous one); raises JobStopped
        instead of entering a new phase once StopTrainingJob was called."""
        if status is None and self.name in self.state.stop_requested:
            raise JobStopped()
        if status is None and self._over_max_runtime():
            raise JobStopped(MAX_RUNTIME_EXCEEDED)
        now = _now()
        with self.state.lock:
            job = self.job
            transitions = job.setdefault("SecondaryStatusTransitions", [])
            if transitions:
                transitions[-1]["EndTime"] = now
            transitions.append({"Status": secondary[0], "StartTime": now, "StatusMessage": secondary[1]})
            job["SecondaryStatus"] = secondary[0]
            if status:
                job["TrainingJobStatus"] = status
            job["LastModifiedTime"] = now
        if status is None:
            job_status("training job", self.name, secondary[0])

    def _over_max_runtime(self) -> bool:
        remaining = self._remaining_runtime()
        return remaining is not None and remaining < 0

    def _remaining_runtime(self) -> float | None:
        """Seconds left before MaxRuntimeInSeconds, None without a limit."""
        job = self.job
        limit = (job.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        started = job.get("TrainingStartTime")
        if not limit or not started:
            return None
        return limit - (_now() - started).total_seconds()

    def _train(self, algorithm: str, hyperparameters: dict[str, str], channels: dict,
               model_path: str) -> engine.TrainingResult:
        """The algorithm in a worker process, which also packs the model.tar.gz into
        ``model_path``; StopTrainingJob and MaxRuntimeInSeconds kill it at once."""
        remaining = self._remaining_runtime()
        try:
            return self.jobs.work(engine.train_to_file, algorithm, hyperparameters, channels, model_path,
                                  cancel=lambda: self.name in self.state.stop_requested,
                                  timeout=None if remaining is None else max(0.01, remaining),
                                  on_wait=lambda: self.note(WAITING), on_start=lambda: self.note(TRAINING),
                                  **({"progress": self.progress} if self.progress is not None else {}))
        except workers.WorkerTimeout:
            raise JobStopped(MAX_RUNTIME_EXCEEDED) from None
        except workers.WorkerCancelled as exc:
            raise JobStopped(SHUT_DOWN if exc.reason == SHUTDOWN_REASON else STOPPED) from None

    def note(self, secondary: tuple[str, str]) -> None:
        """Change the current SecondaryStatus' message (waiting for a worker, and back)."""
        with self.state.lock:
            transitions = self.job.get("SecondaryStatusTransitions") or []
            if transitions and transitions[-1]["Status"] == secondary[0]:
                transitions[-1]["StatusMessage"] = secondary[1]

    def run(self) -> None:
        """The whole job; every exit leaves a terminal status."""
        job = self.job
        try:
            with self.state.lock:
                job["TrainingStartTime"] = _now()
            self.transition(DOWNLOADING)
            algorithm = engine.algorithm_from_image(job["AlgorithmSpecification"].get("TrainingImage"))
            if algorithm is None:
                raise engine.AlgorithmError(
                    f"The training image {job['AlgorithmSpecification'].get('TrainingImage')!r} is not a built-in "
                    f"algorithm the emulator runs (supported: {', '.join(engine.ALGORITHMS)}).")
            self.log("Docker entrypoint called with argument(s): train")
            check_ranges(algorithm, job.get("HyperParameters"))
            channels = read_channels(self.s3, job.get("InputDataConfig", []))
            self.transition(TRAINING)
            with SCRATCH.directory("model") as scratch:
                model_path = os.path.join(scratch, "model.tar.gz")
                result = self._train(algorithm, job.get("HyperParameters", {}), channels, model_path)
                self.log_lines.extend(result.log_lines)
                self.transition(UPLOADING)
                artifact = f"{job['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{self.name}/output/model.tar.gz"
                with open(model_path, "rb") as handle:
                    self.s3.put_uri(artifact, handle.read())
            if result.stopped_early:
                self.finish("Stopped", STOPPED_EARLY, artifact=artifact, metrics=result.metrics)
            else:
                self.finish("Completed", COMPLETED, artifact=artifact, metrics=result.metrics)
        except JobStopped as stop:
            self.finish("Stopped", stop.secondary)
        except (engine.AlgorithmError, ChannelReadError, S3AccessError) as exc:
            self.log(f"ClientError: {exc}")
            self.finish("Failed", FAILED, reason=f"ClientError: {exc}")
        except workers.WorkerOutOfMemory as exc:
            self.log(f"AlgorithmError: {exc}")
            self.finish("Failed", FAILED, reason=f"AlgorithmError: MemoryError: the algorithm ran out of memory "
                                                 f"(the emulator caps each job at {exc.limit_mb} MB, "
                                                 f"--job-memory-mb): out of memory")
        except Exception as exc:  # an algorithm bug must still end the job
            self.log(f"AlgorithmError: {exc}")
            self.finish("Failed", FAILED, reason=f"AlgorithmError: {type(exc).__name__}: {exc}")
        finally:
            self.flush_logs()

    def log(self, line: str) -> None:
        self.log_lines.append(line)

    def finish(self, status: str, secondary: tuple[str, str], artifact: str | None = None,
               metrics: list[tuple[str, float]] | None = None, reason: str | None = None) -> None:
        """Terminal state with times, billable seconds, artefact and final metrics."""
        self.transition(secondary, status)
        now = _now()
        with self.state.lock:
            job = self.job
            transitions = job["SecondaryStatusTransitions"]
            transitions[-1]["EndTime"] = now
            start = job.get("TrainingStartTime") or now
            job["TrainingEndTime"] = now
            seconds = max(1, int(round((now - start).total_seconds())))
            job["TrainingTimeInSeconds"] = seconds
            job["BillableTimeInSeconds"] = seconds
            if artifact:
                job["ModelArtifacts"] = {"S3ModelArtifacts": artifact}
            metrics = [(n, float(v)) for n, v in metrics or [] if math.isfinite(float(v))]  # JSON has no NaN
            if metrics:
                job["FinalMetricDataList"] = [{"MetricName": n, "Value": float(v), "Timestamp": now} for n, v in metrics]
                self.metrics.put(METRIC_NAMESPACE, {"TrainingJobName": self.name}, metrics, now)
            if reason:
                job["FailureReason"] = reason
            self.state.stop_requested.discard(self.name)
        job_status("training job", self.name, status if secondary[0] == status else f"{status} ({secondary[0]})",
                   reason, final=True)

    def flush_logs(self) -> None:
        if self.log_lines:
            self.logs.write(LOG_GROUP, self.stream, self.log_lines)


class TrainingOperations:
    """CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob."""

    def create_training_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        name = request["TrainingJobName"]
        arn = ctx.arn("sagemaker", f"training-job/{name.lower()}")
        job = start_training_job(ctx, state, self.emulator.jobs, request, arn)  # type: ignore[attr-defined]
        self.emulator.jobs.wait(state.training_futures.get(name))  # type: ignore[attr-defined]
        return {"TrainingJobArn": job["TrainingJobArn"]}

    def describe_training_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        with state.lock:
            job = state.training_jobs.get(request["TrainingJobName"])
            if job is None:
                raise validation("Requested resource not found.")
            return _copy(job)

    def list_training_jobs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        with state.lock:
            records = [dict(j) for j in state.training_jobs.values()]
        if request.get("WarmPoolStatusEquals"):
            records = []
        summaries, token = list_page(records, request, name_key="TrainingJobName", status_key="TrainingJobStatus",
                                     summary=training_summary, default_order="Ascending")  # as documented
        return {"TrainingJobSummaries": summaries, "NextToken": token}

    def stop_training_job(self, ctx: RequestContext, request: dict[str, Any]) -> None:
        state = ctx.state(SageMakerState)
        name = request["TrainingJobName"]
        with state.lock:
            job = state.training_jobs.get(name)
            if job is None:
                raise validation("Requested resource not found.")
            if job["TrainingJobStatus"] != "InProgress":
                raise validation(f"The request was rejected because the training job is in status {job['TrainingJobStatus']}.")
            request_stop(state, name)
        return None


def request_stop(state: SageMakerState, name: str) -> bool:
    """Ask an InProgress training job to stop at its next phase (``Stopping``); False if not running."""
    with state.lock:
        job = state.training_jobs.get(name)
        if job is None or job["TrainingJobStatus"] != "InProgress":
            return False
        state.stop_requested.add(name)
        now = _now()
        job["SecondaryStatusTransitions"][-1]["EndTime"] = now
        job["SecondaryStatusTransitions"].append({"Status": STOPPING[0], "StartTime": now, "StatusMessage": STOPPING[1]})
        job.update(TrainingJobStatus="Stopping", SecondaryStatus=STOPPING[0], LastModifiedTime=now)
    job_status("training job", name, STOPPING[0], "a stop was requested")
    return True


def start_training_job(ctx: RequestContext, state: SageMakerState, jobs: JobRunner, request: dict[str, Any],
                       arn: str, tuning_job_arn: str | None = None,
                       progress: Callable[[list[str]], bool] | None = None) -> dict[str, Any]:
    """Record a training job and start it; shared by CreateTrainingJob and tuning jobs
    (``progress``: see :class:`TrainingJobRun`; built-in algorithms only)."""
    name = request["TrainingJobName"]
    spec = dict(request.get("AlgorithmSpecification") or {})
    algorithm = engine.algorithm_from_image(spec.get("TrainingImage"))
    if not spec.get("MetricDefinitions") and algorithm:
        spec["MetricDefinitions"] = engine.metric_definitions(algorithm)
    spec.setdefault("TrainingInputMode", "File")
    spec.setdefault("EnableSageMakerMetricsTimeSeries", False)
    now = _now()
    output = {"KmsKeyId": "", "CompressionType": "GZIP", **request["OutputDataConfig"]}
    resource = {"VolumeSizeInGB": 30, "InstanceCount": 1, "InstanceType": "ml.m5.large",
                **(request.get("ResourceConfig") or {})}
    job = {
        "TrainingJobName": name,
        "TrainingJobArn": arn,
        "TuningJobArn": tuning_job_arn,
        "TrainingJobStatus": "InProgress",
        "SecondaryStatus": STARTING[0],
        "HyperParameters": dict(request.get("HyperParameters") or {}),
        "AlgorithmSpecification": spec,
        "RoleArn": request["RoleArn"],
        "InputDataConfig": [_with_channel_defaults(c) for c in request.get("InputDataConfig") or []],
        "OutputDataConfig": output,
        "ResourceConfig": resource,
        "VpcConfig": request.get("VpcConfig"),
        "StoppingCondition": request.get("StoppingCondition") or {"MaxRuntimeInSeconds": 86400},
        "CreationTime": now,
        "LastModifiedTime": now,
        "SecondaryStatusTransitions": [{"Status": STARTING[0], "StartTime": now, "StatusMessage": STARTING[1]}],
        "EnableNetworkIsolation": bool(request.get("EnableNetworkIsolation", False)),
        "EnableInterContainerTrafficEncryption": bool(request.get("EnableInterContainerTrafficEncryption", False)),
        "EnableManagedSpotTraining": bool(request.get("EnableManagedSpotTraining", False)),
        "CheckpointConfig": request.get("CheckpointConfig"),
        "DebugHookConfig": request.get("DebugHookConfig"),
        "DebugRuleConfigurations": request.get("DebugRuleConfigurations"),
        "TensorBoardOutputConfig": request.get("TensorBoardOutputConfig"),
        "ExperimentConfig": request.get("ExperimentConfig"),
        "ProfilerConfig": request.get("ProfilerConfig"),
        "ProfilerRuleConfigurations": request.get("ProfilerRuleConfigurations"),
        "ProfilingStatus": "Disabled" if not request.get("ProfilerConfig") or
        request["ProfilerConfig"].get("DisableProfiler") else "Enabled",
        "Environment": request.get("Environment"),
        "RetryStrategy": request.get("RetryStrategy"),
        "RemoteDebugConfig": request.get("RemoteDebugConfig"),
        "InfraCheckConfig": request.get("InfraCheckConfig"),
    }
    with state.lock:
        if name in state.training_jobs:
            raise in_use(f"Training job names must be unique within an AWS account and region, and a training job "
                         f"with this name already exists ({state.training_jobs[name]['TrainingJobArn']})")
        state.training_jobs[name] = job
        state.tags[arn] = {t["Key"]: t.get("Value", "") for t in request.get("Tags") or []}
    job_created("training job", name, STARTING[0])
    from emulator.services.sagemaker import script_mode  # user code in a child process (script mode)

    if script_mode.is_script_mode(spec.get("TrainingImage"), job["HyperParameters"]):
        run: TrainingJobRun = script_mode.ScriptTrainingRun(state, name, ctx.s3(), ctx.logs(), ctx.metrics(), jobs,
                                                            data_dir=ctx.emulator.config.data_dir)
    else:
        run = TrainingJobRun(state, name, ctx.s3(), ctx.logs(), ctx.metrics(), jobs, progress=progress)
    state.training_futures[name] = jobs.submit(run.run)
    return job


def training_summary(job: dict[str, Any]) -> dict[str, Any]:
    """A TrainingJobSummary."""
    keys = ("TrainingJobName", "TrainingJobArn", "CreationTime", "TrainingEndTime", "LastModifiedTime",
            "TrainingJobStatus", "SecondaryStatus")
    return {k: job.get(k) for k in keys}


def _with_channel_defaults(channel: dict[str, Any]) -> dict[str, Any]:
    channel = dict(channel)
    channel.setdefault("CompressionType", "None")
    channel.setdefault("RecordWrapperType", "None")
    source = channel.get("DataSource", {}).get("S3DataSource")
    if source is not None:
        source.setdefault("S3DataDistributionType", "FullyReplicated")
    return channel


def _copy(record: dict[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(record)



