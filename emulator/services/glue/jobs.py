"""Glue ETL jobs: definitions (CreateJob ... DeleteJob), runs that really execute
(StartJobRun ... BatchStopJobRun, see ``job_runs.py``) and job bookmarks."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from emulator.context import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.services.glue.job_runs import ACTIVE_STATES, LOG_GROUP, RUNNING_STATES, JobRunExecution, now
from emulator.services.glue.job_state import GlueJobState
from emulator.services.paging import BadNextToken, paginate

RUNNABLE_COMMANDS = ("glueetl", "pythonshell")
DEFAULT_TIMEOUT_MINUTES = 2880


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidInputException", message)


def not_found(message: str) -> ServiceError:
    return ServiceError("EntityNotFoundException", message)


def _job_arn(ctx: RequestContext, name: str) -> str:
    return ctx.arn("glue", f"job/{name}")


def _tagger(ctx: RequestContext) -> Any:
    """moto's Glue tagging service of the caller (TagResource / GetTags are served by moto)."""
    from moto.glue.models import glue_backends

    return glue_backends[ctx.account_id][ctx.region].tagger


def _definition(spec: dict[str, Any], name: str, created: Any) -> dict[str, Any]:
    """A GetJob-shaped record from CreateJob's request or UpdateJob's JobUpdate, with AWS's defaults."""
    if spec.get("MaxCapacity") is not None and (spec.get("WorkerType") or spec.get("NumberOfWorkers")):
        raise invalid("Please set either MaxCapacity or WorkerType/NumberOfWorkers, not both.")
    if bool(spec.get("WorkerType")) != bool(spec.get("NumberOfWorkers")):
        raise invalid("Both WorkerType and NumberOfWorkers must be set.")
    command = dict(spec.get("Command") or {})
    kind = command.get("Name") or "glueetl"
    command["Name"] = kind
    if kind == "pythonshell":
        command.setdefault("PythonVersion", "3")
        capacity = spec.get("MaxCapacity", 0.0625)
        if capacity not in (0.0625, 1.0):
            raise invalid("MaxCapacity for a Python shell job must be 0.0625 or 1.")
    else:
        default = None if spec.get("WorkerType") else float(spec.get("AllocatedCapacity") or 10)
        capacity = spec.get("MaxCapacity", default)
    job = {key: copy.deepcopy(value) for key, value in spec.items() if key not in ("Tags", "Name", "JobName")}
    job.update(Name=name, Command=command, CreatedOn=created, LastModifiedOn=now(),
               ExecutionProperty={"MaxConcurrentRuns": 1, **(spec.get("ExecutionProperty") or {})},
               MaxRetries=spec.get("MaxRetries", 0), Timeout=spec.get("Timeout", DEFAULT_TIMEOUT_MINUTES),
               DefaultArguments=dict(spec.get("DefaultArguments") or {}), JobMode=spec.get("JobMode", "SCRIPT"))
    if capacity is not None:
        job["MaxCapacity"] = capacity
        if kind == "glueetl":
            job["AllocatedCapacity"] = int(capacity)
    return job


class JobOperations:
    """CreateJob, UpdateJob, GetJob, GetJobs, ListJobs, BatchGetJobs, DeleteJob, StartJobRun,
    GetJobRun, GetJobRuns, BatchStopJobRun, GetJobBookmark, ResetJobBookmark."""

    # ----------------------------------------------------------------- definitions
    def create_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        name = request["Name"]
        job = _definition(request, name, now())
        with state.lock:
            if name in state.jobs:
                raise ServiceError("AlreadyExistsException", f"Job {name} already exists.")
            state.jobs[name] = job
            state.runs.setdefault(name, {})
        if request.get("Tags"):
            tagger = _tagger(ctx)
            tagger.tag_resource(_job_arn(ctx, name), tagger.convert_dict_to_tags_input(request["Tags"]))
        return {"Name": name}

    def update_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        name = request["JobName"]
        with state.lock:
            old = self._job(state, name)
            update = dict(request["JobUpdate"])
            update.setdefault("Role", old.get("Role"))
            update.setdefault("Command", old.get("Command"))
            state.jobs[name] = _definition(update, name, old["CreatedOn"])
        return {"JobName": name}

    def get_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        with state.lock:
            return {"Job": copy.deepcopy(self._job(state, request["JobName"]))}

    def get_jobs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        with state.lock:
            jobs = [copy.deepcopy(state.jobs[n]) for n in sorted(state.jobs)]
        page, token = _page(jobs, request, 100)
        return {"Jobs": page, "NextToken": token}

    def list_jobs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        with state.lock:
            names = sorted(state.jobs)
        wanted = request.get("Tags") or {}
        if wanted:
            tagger = _tagger(ctx)
            names = [n for n in names if _has_tags(tagger.get_tag_dict_for_resource(_job_arn(ctx, n)), wanted)]
        page, token = _page(names, request, 100)
        return {"JobNames": page, "NextToken": token}

    def batch_get_jobs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        with state.lock:
            found = [copy.deepcopy(state.jobs[n]) for n in request["JobNames"] if n in state.jobs]
            missing = [n for n in request["JobNames"] if n not in state.jobs]
        return {"Jobs": found, "JobsNotFound": missing}

    def delete_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        name = request["JobName"]
        with state.lock:
            existed = state.jobs.pop(name, None) is not None
            runs = state.runs.pop(name, {})
            state.bookmarks.pop(name, None)
            executions = [state.active[r] for r in runs if r in state.active]
        for execution in executions:
            execution.stop()
        if existed:
            _tagger(ctx).delete_all_tags_for_resource(_job_arn(ctx, name))
        return {"JobName": name}

    # ----------------------------------------------------------------- runs
    def start_job_run(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        with state.lock:
            job = self._job(state, request["JobName"])
            previous = None
            if request.get("JobRunId"):
                previous = state.runs[job["Name"]].get(request["JobRunId"])
                if previous is None:
                    raise not_found(f"Job run {request['JobRunId']} not found.")
            overrides = {k: request[k] for k in ("AllocatedCapacity", "Timeout", "MaxCapacity", "WorkerType",
                                                 "NumberOfWorkers", "SecurityConfiguration", "NotificationProperty",
                                                 "ExecutionClass", "ExecutionRoleSessionPolicy",
                                                 "JobRunQueuingEnabled") if k in request}
            run = self._start_run(ctx, state, job, request.get("Arguments") or {}, overrides,
                                  attempt=previous["Attempt"] + 1 if previous else 0,
                                  previous_run_id=previous["Id"] if previous else None)
        return {"JobRunId": run["Id"]}

    def _start_run(self, ctx: RequestContext, state: GlueJobState, job: dict[str, Any], arguments: dict[str, str],
                   overrides: dict[str, Any], attempt: int, previous_run_id: str | None) -> dict[str, Any]:
        """Record a run and start it (caller holds ``state.lock``)."""
        limit = job["ExecutionProperty"].get("MaxConcurrentRuns", 1)
        active = [r for r in state.runs[job["Name"]].values() if r["JobRunState"] in ACTIVE_STATES]
        queuing = bool(overrides.pop("JobRunQueuingEnabled", job.get("JobRunQueuingEnabled", False)))
        if len(active) >= limit and not queuing:
            raise ServiceError("ConcurrentRunsExceededException",
                               f"Concurrent runs exceeded for {job['Name']}: {len(active)} of {limit} running.")
        run_id = "jr_" + secrets.token_hex(32)
        started = now()
        run: dict[str, Any] = {
            "Id": run_id, "Attempt": attempt, "JobName": job["Name"], "JobMode": job.get("JobMode", "SCRIPT"),
            "StartedOn": started, "LastModifiedOn": started, "JobRunState": "STARTING",
            "Arguments": dict(arguments), "PredecessorRuns": [], "ExecutionTime": 0,
            "Timeout": job.get("Timeout", DEFAULT_TIMEOUT_MINUTES), "LogGroupName": LOG_GROUP,
        }
        for key in ("AllocatedCapacity", "MaxCapacity", "WorkerType", "NumberOfWorkers", "GlueVersion",
                    "SecurityConfiguration", "NotificationProperty", "ExecutionClass"):
            if job.get(key) is not None:
                run[key] = copy.deepcopy(job[key])
        run.update(overrides)
        if previous_run_id:
            run["PreviousRunId"] = previous_run_id
        state.runs[job["Name"]][run_id] = run
        if job["Command"]["Name"] not in RUNNABLE_COMMANDS or not job["Command"].get("ScriptLocation"):
            reason = (f"The emulator runs glueetl and pythonshell jobs; {job['Command']['Name']} is not supported."
                      if job["Command"]["Name"] not in RUNNABLE_COMMANDS else "The job has no Command.ScriptLocation.")
            run.update(JobRunState="FAILED", ErrorMessage=reason, CompletedOn=started)
            return run
        execution = JobRunExecution(
            state, copy.deepcopy(job), run_id, account_id=ctx.account_id, region=ctx.region,
            endpoint_url=ctx.base_url, minute_seconds=self.emulator.config.glue_job_minute_seconds,  # type: ignore[attr-defined]
            on_finished=lambda done: self._run_finished(ctx, state, done))
        state.active[run_id] = execution
        self._live_runs().add(execution)
        if len(active) >= limit:  # queued: started when a run of the job ends
            run.update(JobRunState="WAITING", JobRunQueuingEnabled=True,
                       StateDetail=f"Waiting: {len(active)} of {limit} concurrent runs of the job are in progress.")
        else:
            execution.start()
        return run

    def _live_runs(self) -> set[JobRunExecution]:
        """This emulator's runs that may still have a process (for shutdown)."""
        return self.__dict__.setdefault("_glue_live_runs", set())

    def shutdown(self) -> None:
        """Stop every running job run of this emulator (their process groups are killed)."""
        for execution in list(self._live_runs()):
            execution.stop()
        super().shutdown()  # type: ignore[misc]

    def _run_finished(self, ctx: RequestContext, state: GlueJobState, done: JobRunExecution) -> None:
        """A FAILED run is retried up to the job's MaxRetries, as a new run with the next Attempt."""
        self._live_runs().discard(done)
        self._start_waiting(state, done.job["Name"])
        with state.lock:
            job = state.jobs.get(done.job["Name"])
            run = state.runs.get(done.job["Name"], {}).get(done.run_id)
            if not job or not run or run["JobRunState"] != "FAILED" or run["Attempt"] >= job.get("MaxRetries", 0):
                return
            overrides = {k: run[k] for k in ("Timeout", "MaxCapacity", "WorkerType", "NumberOfWorkers") if k in run}
            try:
                self._start_run(ctx, state, job, run["Arguments"], overrides, run["Attempt"] + 1, run["Id"])
            except ServiceError:
                pass

    @staticmethod
    def _start_waiting(state: GlueJobState, name: str) -> None:
        """Start the oldest WAITING (queued) runs of a job while it has room for them."""
        with state.lock:
            job, runs = state.jobs.get(name), state.runs.get(name, {})
            if job is None:
                return
            room = job["ExecutionProperty"].get("MaxConcurrentRuns", 1) - sum(
                r["JobRunState"] in RUNNING_STATES for r in runs.values())
            waiting = sorted((r for r in runs.values() if r["JobRunState"] == "WAITING"), key=lambda r: r["StartedOn"])
            for run in waiting[:max(0, room)]:
                run.update(JobRunState="STARTING", StartedOn=now(), LastModifiedOn=now())
                run.pop("StateDetail", None)
                state.active[run["Id"]].start()

    def get_job_run(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        with state.lock:
            job = self._job(state, request["JobName"])
            run = state.runs[job["Name"]].get(request["RunId"])
            if run is None:
                raise not_found(f"Job run {request['RunId']} not found.")
            return {"JobRun": copy.deepcopy(run)}

    def get_job_runs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        with state.lock:
            job = self._job(state, request["JobName"])
            runs = sorted(state.runs[job["Name"]].values(), key=lambda r: r["StartedOn"], reverse=True)
            runs = copy.deepcopy(runs)
        page, token = _page(runs, request, 100)
        return {"JobRuns": page, "NextToken": token}

    def batch_stop_job_run(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        name = request["JobName"]
        stopped, errors, executions = [], [], []
        with state.lock:
            runs = state.runs.get(name) if name in state.jobs else None
            for run_id in request["JobRunIds"]:
                run = (runs or {}).get(run_id)
                if run is None:
                    errors.append(_stop_error(name, run_id, "EntityNotFoundException",
                                              f"Job {name} not found." if runs is None else f"Job run {run_id} not found."))
                elif run["JobRunState"] not in ("STARTING", "RUNNING", "WAITING"):
                    errors.append(_stop_error(name, run_id, "InvalidInputException",
                                              f"Job run {run_id} is in state {run['JobRunState']} and cannot be stopped."))
                elif run["JobRunState"] == "WAITING":  # never started: stopped at once
                    stamp = now()
                    run.update(JobRunState="STOPPED", LastModifiedOn=stamp, CompletedOn=stamp)
                    run.pop("StateDetail", None)
                    self._live_runs().discard(state.active.pop(run_id, None))
                    stopped.append({"JobName": name, "JobRunId": run_id})
                else:
                    run.update(JobRunState="STOPPING", LastModifiedOn=now())
                    stopped.append({"JobName": name, "JobRunId": run_id})
                    if run_id in state.active:
                        executions.append(state.active[run_id])
        for execution in executions:
            execution.stop()
        return {"SuccessfulSubmissions": stopped, "Errors": errors}

    # ----------------------------------------------------------------- bookmarks
    def get_job_bookmark(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        name = request["JobName"]
        with state.lock:
            entry = state.bookmarks.get(name)
            if entry is None:
                raise not_found(f"Continuation for job {name} not found")
            return {"JobBookmarkEntry": dict(entry)}

    def reset_job_bookmark(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(GlueJobState)
        name = request["JobName"]
        with state.lock:
            self._job(state, name)
            previous = state.bookmarks.get(name) or {"Version": 0, "Run": 0, "Attempt": 0, "RunId": None}
            entry = {"JobName": name, "Version": previous["Version"] + 1, "Run": previous["Run"],
                     "Attempt": previous.get("Attempt", 0), "PreviousRunId": previous.get("RunId"),
                     "RunId": request.get("RunId") or previous.get("RunId"), "JobBookmark": "{}"}
            entry = {k: v for k, v in entry.items() if v is not None}
            state.bookmarks[name] = entry
            return {"JobBookmarkEntry": dict(entry)}

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def _job(state: GlueJobState, name: str) -> dict[str, Any]:
        job = state.jobs.get(name)
        if job is None:
            raise not_found(f"Job {name} not found.")
        return job


def _page(items: list[Any], request: dict[str, Any], default: int) -> tuple[list[Any], str | None]:
    try:
        return paginate(items, request.get("NextToken"), request.get("MaxResults") or default)
    except BadNextToken as exc:
        raise invalid(str(exc)) from exc


def _has_tags(tags: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(key in tags and (value == "" or tags[key] == value) for key, value in wanted.items())


def _stop_error(name: str, run_id: str, code: str, message: str) -> dict[str, Any]:
    return {"JobName": name, "JobRunId": run_id, "ErrorDetail": {"ErrorCode": code, "ErrorMessage": message}}
