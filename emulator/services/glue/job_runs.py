"""One Glue job run, for real: the script from S3 runs in its own process group.

STARTING (script and ``--extra-py-files`` fetched from S3) -> RUNNING (child process,
stdout/stderr streamed to CloudWatch Logs under the run id) -> SUCCEEDED, FAILED (the
script's exception in ``ErrorMessage``), STOPPED (BatchStopJobRun) or TIMEOUT (the
job's ``Timeout`` minutes passed). The child reaches the emulator's S3 and Glue over HTTP
with the job's account, through the ``awsglue`` package shipped with this project.
"""

from __future__ import annotations

import atexit
import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import weakref
from typing import Any, Callable

from emulator.aws.logs import LogWriter
from emulator.aws.s3 import S3AccessError, S3Store, split_s3_uri
from emulator.services.glue.job_state import GlueJobState
from emulator.services.glue.script_process import ScriptProcess

LOG_GROUP = "/aws-glue/jobs"
OUTPUT_LOG_GROUP = f"{LOG_GROUP}/output"
ERROR_LOG_GROUP = f"{LOG_GROUP}/error"
LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "script_launcher.py")
RUNNING_STATES = ("STARTING", "RUNNING", "STOPPING")
ACTIVE_STATES = (*RUNNING_STATES, "WAITING")
SPARK_MASTER_ENV = "GLUE_SPARK_MASTER"


_LIVE: "weakref.WeakSet[JobRunExecution]" = weakref.WeakSet()


@atexit.register
def _stop_live_runs() -> None:
    """No job process outlives the server process."""
    for execution in list(_LIVE):
        execution.stop()


class RunFailed(Exception):
    """The run cannot start or ended badly; the message becomes ``ErrorMessage``."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def resolved_arguments(job: dict[str, Any], run_arguments: dict[str, str] | None) -> dict[str, str]:
    """DefaultArguments, overridden by the run's Arguments, overridden by NonOverridableArguments."""
    return {**(job.get("DefaultArguments") or {}), **(run_arguments or {}), **(job.get("NonOverridableArguments") or {})}


def missing_spark_runtime() -> str | None:
    """Why a ``glueetl`` run cannot start here (no PySpark, no Java), or None."""
    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append('PySpark is not installed (pip install "aws-ml-emulator[spark]")')
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and os.path.exists(os.path.join(java_home, "bin", "java"))):
        missing.append("no Java runtime was found (install Java 17 and put java on PATH or set JAVA_HOME)")
    return "; ".join(missing) or None


def _safe_name(name: str, default: str) -> str:
    """A file name from the last part of an S3 key, confined to one directory entry."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(name))
    return default if cleaned in ("", ".", "..") else cleaned


class JobRunExecution:
    """Runs one job run to a terminal state; ``stop()`` may be called from another thread."""

    def __init__(self, state: GlueJobState, job: dict[str, Any], run_id: str, *, account_id: str, region: str,
                 endpoint_url: str, minute_seconds: float,
                 on_finished: Callable[["JobRunExecution"], None] | None = None) -> None:
        self.state, self.job, self.run_id = state, job, run_id
        self.account_id, self.region, self.endpoint_url = account_id, region, endpoint_url
        self.minute_seconds = minute_seconds
        self.on_finished = on_finished
        self.s3 = S3Store(account_id)
        self.logs = LogWriter(account_id, region)
        self._stop = threading.Event()
        self._process: ScriptProcess | None = None
        self._log_lock = threading.Lock()
        self.run = state.runs[job["Name"]][run_id]  # the record GetJobRun answers (kept even if the job is deleted)

    def start(self) -> None:
        """Run in a background thread (the work itself is in the child process)."""
        _LIVE.add(self)
        threading.Thread(target=self.execute, daemon=True, name=f"glue-{self.run_id[:12]}").start()

    def stop(self) -> None:
        """Ask the run to stop: its process group is killed and it ends STOPPED."""
        self._stop.set()
        if self._process is not None:
            self._process.stop()

    def execute(self) -> None:
        """The whole run; every exit leaves a terminal state."""
        workdir = tempfile.mkdtemp(prefix="glue-job-run-")
        try:
            final, error = self._execute(workdir)
        except (RunFailed, S3AccessError) as exc:
            final, error = "FAILED", str(exc)
            self._write(ERROR_LOG_GROUP, str(exc))
        except Exception as exc:  # an emulator bug must still end the run
            final, error = "FAILED", f"Internal error running the job: {type(exc).__name__}: {exc}"
        finally:
            if self._process is not None:
                self._process.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        self._finish(final, error)

    def _execute(self, workdir: str) -> tuple[str, str | None]:
        arguments = resolved_arguments(self.job, self.run.get("Arguments"))
        command = self.job["Command"]
        script_path = os.path.join(workdir, _safe_name(split_s3_uri(command["ScriptLocation"])[1], "script.py"))
        with open(script_path, "wb") as handle:
            handle.write(self.s3.get_uri(command["ScriptLocation"]))
        extra_paths = self._fetch_extra_py_files(arguments.get("--extra-py-files", ""), workdir)
        if command["Name"] == "glueetl":
            missing = missing_spark_runtime()
            if missing:
                raise RunFailed(f"Cannot run a glueetl (Spark) job: {missing}.")
        if self._stop.is_set():
            return "STOPPED", None
        result_path = os.path.join(workdir, "result.json")
        bookmark_in, bookmark_out = os.path.join(workdir, "bookmark-in.json"), os.path.join(workdir, "bookmark-out.json")
        with self.state.lock:
            entry = self.state.bookmarks.get(self.job["Name"])
        with open(bookmark_in, "w", encoding="utf-8") as handle:
            json.dump(json.loads(entry["JobBookmark"]) if entry else {}, handle)
        argv = [sys.executable, LAUNCHER, result_path, script_path, *self._job_argv(arguments)]
        env = self._environment(extra_paths, command["Name"], bookmark_in, bookmark_out)
        self._process = ScriptProcess(argv, env, workdir,
                                      lambda line: self._write(OUTPUT_LOG_GROUP, line),
                                      lambda line: self._write(ERROR_LOG_GROUP, line))
        self._process.start()
        with self.state.lock:
            if self._stop.is_set():  # stopped while the process was starting
                self._process.stop()
            elif self.run["JobRunState"] == "STARTING":
                self.run.update(JobRunState="RUNNING", LastModifiedOn=now())
        timeout = int(self.run.get("Timeout") or self.job.get("Timeout") or 2880)
        code = self._process.wait(timeout=timeout * self.minute_seconds)
        if code is None and not self._stop.is_set():
            self._process.stop()
            return "TIMEOUT", f"Job run timed out after {timeout} minutes."
        if self._stop.is_set():
            return "STOPPED", None
        error = _read_error(result_path, code)
        if error is None:
            self._store_bookmark(bookmark_out, arguments)
            return "SUCCEEDED", None
        return "FAILED", error

    def _job_argv(self, arguments: dict[str, str]) -> list[str]:
        argv = ["--JOB_ID", f"j_{self.run_id[3:67]}", "--JOB_RUN_ID", self.run_id, "--JOB_NAME", self.job["Name"]]
        arguments = {"--job-bookmark-option": "job-bookmark-disable", **arguments}
        for key, value in arguments.items():
            argv.extend([key, value])
        return argv

    def _fetch_extra_py_files(self, spec: str, workdir: str) -> list[str]:
        """``--extra-py-files``: comma-separated S3 .py / .zip files, fetched and put on sys.path."""
        if not spec.strip():
            return []
        library = os.path.join(workdir, "extra-py-files")
        os.makedirs(library, exist_ok=True)
        paths = [library]
        for uri in (u.strip() for u in spec.split(",") if u.strip()):
            name = _safe_name(split_s3_uri(uri)[1], "library.py")
            target = os.path.join(library, name)
            with open(target, "wb") as handle:
                handle.write(self.s3.get_uri(uri))
            if name.endswith((".zip", ".egg", ".whl")):
                paths.append(target)
        return paths

    def _environment(self, extra_paths: list[str], command: str, bookmark_in: str, bookmark_out: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        scratch = os.path.join(os.path.dirname(bookmark_in), "scratch")  # removed with the run's directory
        os.makedirs(scratch, exist_ok=True)
        spec = importlib.util.find_spec("awsglue")
        if spec is None or not spec.origin:
            raise RunFailed("The awsglue package of aws-ml-emulator is not installed next to the emulator.")
        project_root = os.path.dirname(os.path.dirname(os.path.abspath(spec.origin)))
        env.update({
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.account_id,  # a 12-digit key is the account
            "AWS_SECRET_ACCESS_KEY": "emulator",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONPATH": os.pathsep.join([project_root, *filter(None, [os.environ.get("PYTHONPATH")])]),
            "PYTHONUNBUFFERED": "1",
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            "GLUE_EMULATOR_PYTHONPATH": os.pathsep.join(extra_paths),
            "GLUE_EMULATOR_COMMAND": command,
            "GLUE_EMULATOR_SCRATCH": scratch,
            "SPARK_LOCAL_DIRS": scratch,
            "GLUE_EMULATOR_BOOKMARK_IN": bookmark_in,
            "GLUE_EMULATOR_BOOKMARK_OUT": bookmark_out,
        })
        return env

    def _store_bookmark(self, bookmark_out: str, arguments: dict[str, str]) -> None:
        """A committed bookmark of a successful run becomes the job's bookmark (unless paused)."""
        if arguments.get("--job-bookmark-option", "job-bookmark-disable") != "job-bookmark-enable":
            return
        if not os.path.exists(bookmark_out):
            return
        with open(bookmark_out, encoding="utf-8") as handle:
            bookmark = json.load(handle)
        name = self.job["Name"]
        with self.state.lock:
            previous = self.state.bookmarks.get(name) or {"Version": 0, "Run": 0, "RunId": None}
            self.state.bookmarks[name] = {
                "JobName": name, "Version": previous["Version"] + 1, "Run": previous["Run"] + 1,
                "Attempt": self.run.get("Attempt", 0), "PreviousRunId": previous.get("RunId"), "RunId": self.run_id,
                "JobBookmark": json.dumps(bookmark, sort_keys=True)}

    def _write(self, group: str, line: str) -> None:
        with self._log_lock:
            self.logs.write(group, self.run_id, [line])

    def _finish(self, final: str, error: str | None) -> None:
        completed = now()
        with self.state.lock:
            run = self.run
            started = run["StartedOn"]
            run.update(JobRunState=final, CompletedOn=completed, LastModifiedOn=completed,
                       ExecutionTime=max(0, int(round((completed - started).total_seconds()))))
            if error:
                run["ErrorMessage"] = error
            self.state.active.pop(self.run_id, None)
        if self.on_finished is not None:
            self.on_finished(self)


def _read_error(result_path: str, code: int) -> str | None:
    """The script's error from the launcher's result file, or why the process ended without one."""
    try:
        with open(result_path, encoding="utf-8") as handle:
            return json.load(handle).get("error")
    except (OSError, ValueError):
        return f"Command failed with exit code {code}" if code else "The job process ended without a result."
