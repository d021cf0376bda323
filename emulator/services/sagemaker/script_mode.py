"""Script-mode training jobs: the user's entry point from ``sourcedir.tar.gz`` runs in a child process
with the SageMaker Training Toolkit's contract (see emulator/scriptmode/). The user's code runs on the host."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import threading
from typing import Any

from emulator.aws.s3 import S3AccessError, S3Store, split_s3_uri
from emulator.scriptmode import contract
from emulator.scriptmode.archives import UnsafeArchive, extract_tar, pack_tar_gz
from emulator.scriptmode.frameworks import FrameworkMissing, check_framework, framework_image
from emulator.scriptmode.process import run_streaming
from emulator.scriptmode.requirements import RequirementsError, install_requirements
from emulator.services.sagemaker import training as base
from emulator.services.sagemaker.channels import ChannelReadError, read_channels


class ScriptError(Exception):
    """The job cannot run the user's script (bad source dir, missing framework, ...): ClientError."""


def is_script_mode(image: str | None, hyperparameters: dict[str, str] | None) -> bool:
    """A framework image with a ``sagemaker_program`` hyperparameter (what the SDK's estimators send)."""
    return bool(hyperparameters and "sagemaker_program" in hyperparameters and framework_image(image))


def work_root(data_dir: str | None, kind: str) -> str:
    """Where jobs of ``kind`` get their directories: under the data dir, else the temp dir."""
    root = os.path.join(data_dir, "scriptmode") if data_dir else os.path.join(tempfile.gettempdir(), "emulator-scriptmode")
    path = os.path.join(root, kind)
    os.makedirs(path, exist_ok=True)
    return path


def child_environment(extra: dict[str, str], python_paths: list[str]) -> dict[str, str]:
    """The emulator's environment minus its AWS credentials/endpoint, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EMULATOR_", "SM_"))}
    existing = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join([*python_paths, *([existing] if existing else [])])
    env["PYTHONUNBUFFERED"] = "1"
    # `python` / `python3` in the user's shell scripts is the emulator's Python, as in the container
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", os.defpath)])
    env.update(extra)
    return env


def download_channels(s3: S3Store, input_config: list[dict[str, Any]], dirs: contract.JobDirs) -> None:
    """Each channel's objects under input/data/<channel>/, keyed by their path below the S3 prefix."""
    for spec in input_config:
        name = spec["ChannelName"]
        target = dirs.channel(name)
        os.makedirs(target, exist_ok=True)
        source = spec.get("DataSource", {}).get("S3DataSource") or {}
        if source.get("S3DataType", "S3Prefix") == "S3Prefix":
            uri = source["S3Uri"]
            _, prefix = split_s3_uri(uri)
            try:
                objects = s3.read_prefix(uri)
            except S3AccessError as exc:
                raise ChannelReadError(f"Data download failed:Could not download {uri}: {exc}") from exc
            if not objects:
                raise ChannelReadError(f"Data download failed:No S3 objects found under S3 URL \"{uri}\" given in "
                                       f"input data source. Please ensure that the bucket exists in the selected "
                                       f"region, that objects exist under that S3 prefix, and that the role has "
                                       f"s3:ListBucket permissions.")
            files = [(relative_key(o.key, prefix), o.data) for o in objects if not o.key.endswith("/")]
        else:
            channel = read_channels(s3, [spec])[name]
            files = [(key.rsplit("/", 1)[-1], data) for key, data in channel.objects]
        for relative, data in files:
            path = contract.confined_path(target, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)


def relative_key(key: str, prefix: str) -> str:
    """Where an object lands below its channel directory: its key after the prefix when the prefix names a
    "folder" (``data/train`` or ``data/train/``), else after the prefix's last ``/``."""
    if key == prefix:
        return key.rsplit("/", 1)[-1]
    folder = prefix if prefix.endswith("/") or not prefix else prefix + "/"
    if key.startswith(folder):
        return key[len(folder):]
    return key[prefix.rfind("/") + 1:]


def fetch_source_dir(s3: S3Store, uri: str, destination: str) -> None:
    """Download and safely extract the SDK's sourcedir.tar.gz."""
    if not uri.startswith("s3://"):
        raise ScriptError(f"sagemaker_submit_directory {uri!r} must be an s3:// URI of a sourcedir.tar.gz")
    try:
        extract_tar(s3.get_uri(uri), destination)
    except S3AccessError as exc:
        raise ScriptError(f"Could not download the source directory {uri}: {exc}") from exc
    except UnsafeArchive as exc:
        raise ScriptError(f"Refusing the source directory {uri}: {exc}") from exc


def entry_command(code_dir: str, program: str) -> list[str]:
    """How the toolkit starts the entry point: Python scripts with the job's Python, shell scripts with sh."""
    path = contract.confined_path(code_dir, program)
    if not os.path.isfile(path):
        raise ScriptError(f"The entry point {program!r} is not in the source directory "
                          f"(found: {', '.join(sorted(os.listdir(code_dir))) or 'nothing'})")
    if program.endswith(".sh"):
        return ["/bin/sh", path]
    return [sys.executable, path]


def error_message(tail: list[str]) -> str:
    """The exception line of a Python traceback (else the last output line)."""
    lines = [ln for ln in tail if ln.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b.*", line) or \
                re.match(r"^[A-Za-z_][\w.]*: ", line):
            return line
    return lines[-1] if lines else ""


class MetricParser:
    """Applies MetricDefinitions (name + regex with one group) to each log line, as SageMaker does."""

    def __init__(self, definitions: list[dict[str, str]]) -> None:
        self.patterns = []
        for definition in definitions or []:
            try:
                self.patterns.append((definition["Name"], re.compile(definition["Regex"])))
            except (KeyError, re.error):
                continue
        self.latest: dict[str, float] = {}

    def feed(self, line: str) -> None:
        for name, pattern in self.patterns:
            match = pattern.search(line)
            if match:
                try:
                    self.latest[name] = float(match.group(1) if match.groups() else match.group(0))
                except (ValueError, IndexError, TypeError):
                    continue


class ScriptTrainingRun(base.TrainingJobRun):
    """A training job that runs the user's entry point; log lines go to CloudWatch as they come."""

    def __init__(self, *args: Any, data_dir: str | None = None) -> None:
        super().__init__(*args)
        self.data_dir = data_dir
        self._log_lock = threading.Lock()

    def log(self, line: str) -> None:
        with self._log_lock:
            self.logs.write(base.LOG_GROUP, self.stream, [line])

    def flush_logs(self) -> None:  # lines were written as they came
        return None

    def _should_stop(self) -> str | None:
        if self.name in self.state.stop_requested:
            return "stop"
        if self._over_max_runtime():
            return "max_runtime"
        return None

    def run(self) -> None:
        job = self.job
        root = os.path.join(work_root(self.data_dir, "training"), self.name)
        shutil.rmtree(root, ignore_errors=True)
        dirs = contract.JobDirs(root)
        try:
            with self.state.lock:
                job["TrainingStartTime"] = base._now()
            self.transition(base.DOWNLOADING)
            self._run(job, dirs)
        except base.JobStopped as stop:
            self.finish("Stopped", stop.secondary)
        except (ScriptError, FrameworkMissing, RequirementsError, ChannelReadError, S3AccessError, ValueError) as exc:
            self.log(f"ClientError: {exc}")
            self.finish("Failed", base.FAILED, reason=f"ClientError: {exc}")
        except Exception as exc:  # the emulator's own bug must still end the job
            self.log(f"InternalServerError: {type(exc).__name__}: {exc}")
            self.finish("Failed", base.FAILED, reason=f"InternalServerError: {type(exc).__name__}: {exc}")
        finally:
            if not self.data_dir:
                shutil.rmtree(root, ignore_errors=True)

    def _run(self, job: dict[str, Any], dirs: contract.JobDirs) -> None:
        spec = job["AlgorithmSpecification"]
        image = framework_image(spec.get("TrainingImage"))
        assert image is not None
        raw_hps = job.get("HyperParameters") or {}
        decoded = contract.decode_hyperparameters(raw_hps)
        program = str(decoded["sagemaker_program"])
        dirs.create()
        resource = contract.write_training_config(dirs, raw_hps, job.get("InputDataConfig") or [],
                                                  job["ResourceConfig"].get("InstanceType", "ml.m5.large"))
        download_channels(self.s3, job.get("InputDataConfig") or [], dirs)
        submit = decoded.get("sagemaker_submit_directory")
        if submit:
            fetch_source_dir(self.s3, str(submit), dirs.code)
        command = entry_command(dirs.code, program)
        python_paths = [dirs.code]
        requirements = os.path.join(dirs.code, "requirements.txt")
        if os.path.isfile(requirements):
            installed = install_requirements(requirements, work_root(self.data_dir, "requirements"), self.log)
            if installed:
                python_paths.append(installed)
        warning = check_framework(image, None, python_paths[1:])
        if warning:
            self.log(warning)
        hps = contract.user_hyperparameters(decoded)
        command += contract.command_line_args(hps)
        env = child_environment({**contract.training_environment(dirs, raw_hps, job.get("InputDataConfig") or [],
                                                                 resource, self.name, submit and str(submit), program),
                                 **(job.get("Environment") or {})}, python_paths)
        self.transition(base.TRAINING)
        self.log(f"Invoking user script\nTraining Env:\n{env['SM_TRAINING_ENV']}")
        self.log(f"Invoking script with the following command:\n{' '.join(command)}")
        metrics = MetricParser(spec.get("MetricDefinitions") or [])

        def on_line(line: str) -> None:
            self.log(line)
            metrics.feed(line)

        result = run_streaming(command, dirs.code, env, on_line, self._should_stop)
        if result.stopped:
            self._upload(job, dirs)
            raise base.JobStopped(base.STOPPED if result.stopped == "stop" else base.MAX_RUNTIME_EXCEEDED)
        failure_file = os.path.join(dirs.output, "failure")
        failure = open(failure_file, encoding="utf-8", errors="replace").read().strip() \
            if os.path.isfile(failure_file) else ""
        if result.exit_code != 0 or failure:
            message = failure or error_message(result.tail)
            reason = (f"AlgorithmError: ExecuteUserScriptError:\nExitCode {result.exit_code}\n"
                      f"ErrorMessage \"{message}\"\nCommand \"{' '.join(command)}\", exit code: {result.exit_code}")
            self.log(f"Reporting training FAILURE\n{reason}")
            self.finish("Failed", base.FAILED, reason=reason if not failure else f"AlgorithmError: {failure}",
                        metrics=list(metrics.latest.items()))
            return
        self.log("Reporting training SUCCESS")
        self.transition(base.UPLOADING)
        artifact = self._upload(job, dirs)
        self.finish("Completed", base.COMPLETED, artifact=artifact, metrics=list(metrics.latest.items()))

    def _upload(self, job: dict[str, Any], dirs: contract.JobDirs) -> str:
        prefix = f"{job['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{self.name}/output"
        artifact = f"{prefix}/model.tar.gz"
        self.s3.put_uri(artifact, pack_tar_gz(dirs.model))
        self.s3.put_uri(f"{prefix}/output.tar.gz", pack_tar_gz(dirs.output_data))
        return artifact

