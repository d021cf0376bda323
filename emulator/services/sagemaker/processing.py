"""Processing jobs: the user's processing script runs in a child process on the host, with its
``/opt/ml/processing`` paths mapped into the job's own directory (see emulator/scriptmode/processing_paths.py)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from emulator.aws.logs import LogWriter
from emulator.aws.s3 import S3AccessError, S3Store, split_s3_uri
from emulator.context import RequestContext
from emulator.lifecycle import job_created, job_status
from emulator.persistence.interrupted import end_interrupted
from emulator.scriptmode import contract
from emulator.scriptmode.archives import UnsafeArchive, extract_tar
from emulator.scriptmode.frameworks import check_framework, framework_image
from emulator.scriptmode.processing_paths import PathMapper
from emulator.scriptmode.process import run_streaming
from emulator.services.sagemaker.errors import in_use, validation
from emulator.services.sagemaker.listing import list_page
from emulator.services.sagemaker.script_mode import child_environment, error_message, relative_key, work_root

LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
PYTHONS = {"python", "python3"} | {f"python3.{minor}" for minor in range(6, 16)}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class ProcessingState:
    """Processing jobs of one account and region."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    futures: dict[str, Future] = field(default_factory=dict)
    stop_requested: set[str] = field(default_factory=set)

    def after_restart(self, account_id: str, region: str) -> None:
        """--data-dir restart: jobs cut off by the restart end Failed (Stopped if being stopped)."""
        end_interrupted(self.jobs.values(), "ProcessingJobStatus", ("InProgress", "Stopping"), "Stopping", "Stopped",
                        "Failed", "FailureReason", ("ProcessingEndTime", "LastModifiedTime"))


class ProcessingFailure(Exception):
    """The job cannot run or its script failed; ``message`` becomes FailureReason."""


class ProcessingJobRun:
    """One processing job: download inputs, run the entrypoint, upload outputs."""

    def __init__(self, state: ProcessingState, name: str, s3: S3Store, logs: LogWriter, data_dir: str | None) -> None:
        self.state, self.name, self.s3, self.logs, self.data_dir = state, name, s3, logs, data_dir
        self.stream = f"{name}/algo-1-{int(time.time())}"
        self._log_lock = threading.Lock()

    @property
    def job(self) -> dict[str, Any]:
        return self.state.jobs[self.name]

    def log(self, line: str) -> None:
        with self._log_lock:
            self.logs.write(LOG_GROUP, self.stream, [line])

    def _should_stop(self) -> str | None:
        if self.name in self.state.stop_requested:
            return "stop"
        limit = (self.job.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        started = self.job.get("ProcessingStartTime")
        if limit and started and (_now() - started).total_seconds() > limit:
            return "max_runtime"
        return None

    def run(self) -> None:
        root = os.path.join(work_root(self.data_dir, "processing"), self.name)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        try:
            with self.state.lock:
                self.job["ProcessingStartTime"] = _now()
            status, reason, exit_message = self._run(self.job, PathMapper(root))
        except (ProcessingFailure, S3AccessError, UnsafeArchive, ValueError) as exc:
            self.log(f"ClientError: {exc}")
            status, reason, exit_message = "Failed", f"ClientError: {exc}", None
        except Exception as exc:  # the emulator's own bug must still end the job
            status, reason, exit_message = "Failed", f"InternalServerError: {type(exc).__name__}: {exc}", None
        finally:
            if not self.data_dir:
                shutil.rmtree(root, ignore_errors=True)
        self._finish(status, reason, exit_message)

    def _run(self, job: dict[str, Any], paths: PathMapper) -> tuple[str, str | None, str | None]:
        image = framework_image(job["AppSpecification"].get("ImageUri"))
        if image is not None:
            warning = check_framework(image, None)
            if warning:
                self.log(warning)
        for spec in job.get("ProcessingInputs") or []:
            self._download(spec, paths)
        outputs = (job.get("ProcessingOutputConfig") or {}).get("Outputs") or []
        for spec in outputs:
            if spec.get("S3Output"):
                os.makedirs(paths.local(spec["S3Output"]["LocalPath"]), exist_ok=True)
        self._write_config(job, paths)
        command = self._command(job, paths)
        env = child_environment({k: paths.rewrite(v) for k, v in (job.get("Environment") or {}).items()}, [])
        self.log(f"Running: {' '.join(command)}")
        result = run_streaming(command, paths.local("/opt/ml/processing"), env, self.log, self._should_stop)
        if result.stopped:
            return "Stopped", None, None
        if result.exit_code != 0:
            message = error_message(result.tail)
            return "Failed", f"AlgorithmError: {message}, exit code: {result.exit_code}", message
        for spec in outputs:
            self._upload(spec, paths)
        return "Completed", None, None

    def _download(self, spec: dict[str, Any], paths: PathMapper) -> None:
        source = spec.get("S3Input")
        if source is None:
            raise ProcessingFailure(f"Input '{spec.get('InputName')}': only S3Input is supported by the emulator")
        local = paths.local(source["LocalPath"])
        os.makedirs(local, exist_ok=True)
        uri = source["S3Uri"]
        if source.get("S3DataType", "S3Prefix") == "ManifestFile":
            try:
                entries = json.loads(self.s3.get_uri(uri))
                prefix = entries[0]["prefix"]
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise ProcessingFailure(f"Invalid manifest file {uri}: expected [{{\"prefix\": ...}}, \"key\", ...]") from exc
            objects = [(str(key).rsplit("/", 1)[-1], self.s3.get_uri(prefix + str(key))) for key in entries[1:]]
        else:
            _, prefix = split_s3_uri(uri)
            found = self.s3.read_prefix(uri)
            if not found:
                raise ProcessingFailure(f"No S3 objects found under S3 URL \"{uri}\" given in input "
                                        f"'{spec.get('InputName')}'.")
            objects = [(relative_key(o.key, prefix), o.data) for o in found if not o.key.endswith("/")]
        for relative, data in objects:
            target = contract.confined_path(local, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
            if source.get("S3CompressionType") == "Gzip" and target.endswith((".tar.gz", ".tgz")):
                extract_tar(data, local)
        paths.rewrite_python_sources(local)

    def _upload(self, spec: dict[str, Any], paths: PathMapper) -> None:
        output = spec.get("S3Output")
        if output is None:
            return
        local = paths.local(output["LocalPath"])
        destination = output["S3Uri"].rstrip("/")
        for folder, _, files in os.walk(local):
            for name in sorted(files):
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    self.s3.put_uri(f"{destination}/{os.path.relpath(path, local)}", f.read())

    def _write_config(self, job: dict[str, Any], paths: PathMapper) -> None:
        config = os.path.join(paths.root, "config")
        os.makedirs(config, exist_ok=True)
        description = {k: v for k, v in job.items() if not isinstance(v, dt.datetime)}
        with open(os.path.join(config, "processingjobconfig.json"), "w", encoding="utf-8") as f:
            json.dump(description, f, default=str)
        with open(os.path.join(config, "resourceconfig.json"), "w", encoding="utf-8") as f:
            json.dump({"current_host": contract.HOST, "hosts": [contract.HOST]}, f)

    @staticmethod
    def _command(job: dict[str, Any], paths: PathMapper) -> list[str]:
        app = job["AppSpecification"]
        entrypoint = [paths.rewrite(part) for part in app.get("ContainerEntrypoint") or []]
        arguments = [paths.rewrite(part) for part in app.get("ContainerArguments") or []]
        if not entrypoint:
            raise ProcessingFailure("AppSpecification.ContainerEntrypoint is required: without the container the "
                                    "emulator cannot run the image's own entrypoint")
        program = os.path.basename(entrypoint[0])
        if program in PYTHONS:
            return [sys.executable, *entrypoint[1:], *arguments]
        if entrypoint[0].endswith(".py"):
            return [sys.executable, *entrypoint, *arguments]
        if program in ("sh", "bash"):
            return [shutil.which(program) or "/bin/sh", *entrypoint[1:], *arguments]
        if entrypoint[0].endswith(".sh"):
            return [shutil.which("bash") or "/bin/sh", *entrypoint, *arguments]
        raise ProcessingFailure(f"ContainerEntrypoint {app['ContainerEntrypoint'][0]!r} cannot run without the "
                                f"container: the emulator runs python/python3 (or .py and .sh scripts) on the host")

    def _finish(self, status: str, reason: str | None, exit_message: str | None) -> None:
        now = _now()
        with self.state.lock:
            job = self.job
            if status == "Stopped":
                job["ExitMessage"] = "Processing job stopped" if self.name in self.state.stop_requested \
                    else "Job stopped because max run time was exceeded."
            job.update(ProcessingJobStatus=status, ProcessingEndTime=now, LastModifiedTime=now)
            if reason:
                job["FailureReason"] = reason
            if exit_message:
                job["ExitMessage"] = exit_message
            self.state.stop_requested.discard(self.name)
        job_status("processing job", self.name, status, reason, final=True)


def _validate(request: dict[str, Any]) -> None:
    names = [i["InputName"] for i in request.get("ProcessingInputs") or []]
    outputs = (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    names += [o["OutputName"] for o in outputs]
    if len(set(names)) != len(names):
        raise validation("ProcessingInputs and ProcessingOutputs must have unique names.")
    mapper = PathMapper("/")
    for spec in request.get("ProcessingInputs") or []:
        local = (spec.get("S3Input") or {}).get("LocalPath")
        if local:
            try:
                mapper.local(local)
            except ValueError as exc:
                raise validation(f"Input '{spec['InputName']}': {exc}") from exc
    for spec in outputs:
        local = (spec.get("S3Output") or {}).get("LocalPath")
        if local:
            try:
                mapper.local(local)
            except ValueError as exc:
                raise validation(f"Output '{spec['OutputName']}': {exc}") from exc


class ProcessingOperations:
    """CreateProcessingJob, DescribeProcessingJob, ListProcessingJobs, StopProcessingJob."""

    def create_processing_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(ProcessingState)
        name = request["ProcessingJobName"]
        arn = ctx.arn("sagemaker", f"processing-job/{name.lower()}")
        _validate(request)
        now = _now()
        job = {
            "ProcessingJobName": name, "ProcessingJobArn": arn, "ProcessingJobStatus": "InProgress",
            "ProcessingInputs": copy.deepcopy(request.get("ProcessingInputs")),
            "ProcessingOutputConfig": copy.deepcopy(request.get("ProcessingOutputConfig")),
            "ProcessingResources": request["ProcessingResources"],
            "StoppingCondition": request.get("StoppingCondition"),
            "AppSpecification": request["AppSpecification"], "Environment": request.get("Environment"),
            "NetworkConfig": request.get("NetworkConfig"), "RoleArn": request["RoleArn"],
            "ExperimentConfig": request.get("ExperimentConfig"), "CreationTime": now, "LastModifiedTime": now,
        }
        with state.lock:
            if name in state.jobs:
                raise in_use(f"Processing job names must be unique within an AWS account and region, and a "
                             f"processing job with this name already exists ({state.jobs[name]['ProcessingJobArn']})")
            state.jobs[name] = job
        from emulator.services.sagemaker.state import SageMakerState  # tags live with the other resources

        sm_state = ctx.state(SageMakerState)
        with sm_state.lock:
            sm_state.tags[arn] = {t["Key"]: t.get("Value", "") for t in request.get("Tags") or []}
        job_created("processing job", name, "InProgress")
        run = ProcessingJobRun(state, name, ctx.s3(), ctx.logs(), ctx.emulator.config.data_dir)
        state.futures[name] = self.emulator.jobs.submit(run.run)  # type: ignore[attr-defined]
        return {"ProcessingJobArn": arn}

    def describe_processing_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(ProcessingState)
        with state.lock:
            job = state.jobs.get(request["ProcessingJobName"])
            if job is None:
                raise validation(f"Could not find requested job with name {request['ProcessingJobName']}")
            return copy.deepcopy(job)

    def list_processing_jobs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(ProcessingState)
        with state.lock:
            records = [dict(j) for j in state.jobs.values()]
        keys = ("ProcessingJobName", "ProcessingJobArn", "CreationTime", "ProcessingEndTime", "LastModifiedTime",
                "ProcessingJobStatus", "FailureReason", "ExitMessage")
        summaries, token = list_page(records, request, name_key="ProcessingJobName", status_key="ProcessingJobStatus",
                                     summary=lambda j: {k: j.get(k) for k in keys})
        return {"ProcessingJobSummaries": summaries, "NextToken": token}

    def stop_processing_job(self, ctx: RequestContext, request: dict[str, Any]) -> None:
        state = ctx.state(ProcessingState)
        name = request["ProcessingJobName"]
        with state.lock:
            job = state.jobs.get(name)
            if job is None:
                raise validation(f"Could not find requested job with name {name}")
            if job["ProcessingJobStatus"] != "InProgress":
                raise validation(f"The request was rejected because the processing job is in status "
                                 f"{job['ProcessingJobStatus']}.")
            state.stop_requested.add(name)
            job.update(ProcessingJobStatus="Stopping", LastModifiedTime=_now())
        job_status("processing job", name, "Stopping", "StopProcessingJob was called")
        return None
