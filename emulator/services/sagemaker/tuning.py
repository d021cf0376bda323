"""Hyperparameter tuning jobs: a real search whose children are ordinary training jobs.

A coordinator thread per tuning job asks the strategy (``emulator.engines.tuning``)
for hyperparameters, starts children through ``start_training_job`` (so they are
``TrainingJobRun`` jobs like any other, visible with ``DescribeTrainingJob`` and
their ``TuningJobArn``), keeps at most ``MaxParallelTrainingJobs`` running, tells the
strategy each child's final objective, and ends the tuning job. Children run on a
pool of their own (one worker per CPU), so tuning cannot starve the API's job runner.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import secrets
import threading
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import wait as wait_futures
from typing import TYPE_CHECKING, Any

from emulator.context import RequestContext
from emulator.engines import sagemaker as algorithms
from emulator.jobs import JobRunner
from emulator.services.paging import BadNextToken, paginate
from emulator.services.sagemaker.errors import in_use, not_found, validation
from emulator.services.sagemaker.listing import list_page
from emulator.services.sagemaker.state import SageMakerState
from emulator.services.sagemaker.training import request_stop, start_training_job
from emulator.services.sagemaker.tuning_config import MAX_PARENTS, OBJECTIVE_KEY, Definition, parse_definitions

if TYPE_CHECKING:  # the tuning engine (NumPy) is imported by the first tuning job
    from emulator.engines.tuning import Proposal, Strategy

_CHILD_KEYS = ("RoleArn", "InputDataConfig", "VpcConfig", "OutputDataConfig", "StoppingCondition",
               "EnableNetworkIsolation", "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining",
               "CheckpointConfig", "RetryStrategy", "Environment")
_TERMINAL = ("Completed", "Failed", "Stopped")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class TuningOperations:
    """Create/Describe/List/Stop/Delete HyperParameterTuningJob and ListTrainingJobsForHyperParameterTuningJob."""

    _children_runner: JobRunner | None = None
    _children_runner_lock = threading.Lock()

    def _tuning_runner(self) -> JobRunner:
        """The pool children train on: separate from (and as wide as the machine, unlike) the API's job runner."""
        with self._children_runner_lock:
            if self._children_runner is None:
                self._children_runner = JobRunner(max_workers=os.cpu_count() or 2,
                                                  grace_seconds=self.emulator.jobs.grace_seconds)  # type: ignore[attr-defined]
            return self._children_runner

    def create_hyper_parameter_tuning_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        name = request["HyperParameterTuningJobName"]
        arn = ctx.arn("sagemaker", f"hyper-parameter-tuning-job/{name.lower()}")
        definitions = parse_definitions(request)
        config = copy.deepcopy(request["HyperParameterTuningJobConfig"])
        config.setdefault("TrainingJobEarlyStoppingType", "Off")
        if config.get("ParameterRanges") is not None:
            config["ParameterRanges"] = _all_range_lists(config["ParameterRanges"])
        if config["Strategy"] == "Grid":
            config["ResourceLimits"]["MaxNumberOfTrainingJobs"] = sum(d.space.grid_size() for d in definitions)
        with state.lock:
            if name in state.tuning_jobs:
                raise in_use(f"Hyperparameter tuning job names must be unique within an AWS account and region, and a "
                             f"hyperparameter tuning job with this name already exists ({state.tuning_jobs[name]['HyperParameterTuningJobArn']})")
            priors = _warm_start_priors(state, request.get("WarmStartConfig"), definitions)
            now = _now()
            record: dict[str, Any] = {
                "HyperParameterTuningJobName": name, "HyperParameterTuningJobArn": arn,
                "HyperParameterTuningJobConfig": config, "HyperParameterTuningJobStatus": "InProgress",
                "CreationTime": now, "LastModifiedTime": now, "WarmStartConfig": request.get("WarmStartConfig"),
            }
            described = [_described_definition(d) for d in definitions]
            if request.get("TrainingJobDefinition"):
                record["TrainingJobDefinition"] = described[0]
            else:
                record["TrainingJobDefinitions"] = described
            state.tuning_jobs[name] = record
            state.tuning_children[name] = []
            state.tags[arn] = {t["Key"]: t.get("Value", "") for t in request.get("Tags") or []}
        run = TuningJobRun(ctx, state, name, definitions, config, priors, self._tuning_runner(),
                           self.emulator.jobs)  # type: ignore[attr-defined]
        future: Future = Future()
        state.tuning_futures[name] = future
        threading.Thread(target=run.run, args=(future,), name=f"tuning-{name}", daemon=True).start()
        self.emulator.jobs.wait(future)  # type: ignore[attr-defined]
        return {"HyperParameterTuningJobArn": arn}

    def describe_hyper_parameter_tuning_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        with state.lock:
            record = _find(state, request["HyperParameterTuningJobName"])
            out = copy.deepcopy(record)
            out.update(_progress(state, record))
        return out

    def list_hyper_parameter_tuning_jobs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        with state.lock:
            records = [{**r, **_progress(state, r)} for r in state.tuning_jobs.values()]
        keys = ("HyperParameterTuningJobName", "HyperParameterTuningJobArn", "HyperParameterTuningJobStatus",
                "CreationTime", "HyperParameterTuningEndTime", "LastModifiedTime", "TrainingJobStatusCounters",
                "ObjectiveStatusCounters")

        def summary(r: dict[str, Any]) -> dict[str, Any]:
            config = r["HyperParameterTuningJobConfig"]
            return {**{k: r.get(k) for k in keys}, "Strategy": config["Strategy"], "ResourceLimits": config["ResourceLimits"]}

        page, token = list_page(records, request, name_key="HyperParameterTuningJobName",
                                status_key="HyperParameterTuningJobStatus", summary=summary)
        return {"HyperParameterTuningJobSummaries": page, "NextToken": token}

    def list_training_jobs_for_hyper_parameter_tuning_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        with state.lock:
            record = _find(state, request["HyperParameterTuningJobName"])
            summaries = _child_summaries(state, record)
        if request.get("StatusEquals"):
            summaries = [s for s in summaries if s["TrainingJobStatus"] == request["StatusEquals"]]
        sort_by = request.get("SortBy", "Name")
        descending = request.get("SortOrder", "Ascending") == "Descending"
        if sort_by == "FinalObjectiveMetricValue":  # jobs without an objective are not listed, as AWS documents
            summaries = [s for s in summaries if s.get("FinalHyperParameterTuningJobObjectiveMetric")]
            summaries.sort(key=lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"], reverse=descending)
        else:
            key = {"Name": "TrainingJobName", "CreationTime": "CreationTime", "Status": "TrainingJobStatus"}[sort_by]
            summaries.sort(key=lambda s: s[key], reverse=descending)
        try:
            page, token = paginate(summaries, request.get("NextToken"), int(request.get("MaxResults", 10)))
        except BadNextToken as exc:
            raise validation(str(exc)) from exc
        return {"TrainingJobSummaries": page, "NextToken": token}

    def stop_hyper_parameter_tuning_job(self, ctx: RequestContext, request: dict[str, Any]) -> None:
        state = ctx.state(SageMakerState)
        with state.lock:
            record = _find(state, request["HyperParameterTuningJobName"])
            if record["HyperParameterTuningJobStatus"] != "InProgress":
                raise validation(f"The request was rejected because the hyperparameter tuning job is in status "
                                 f"{record['HyperParameterTuningJobStatus']}.")
            record.update(HyperParameterTuningJobStatus="Stopping", LastModifiedTime=_now())
            for child in state.tuning_children[record["HyperParameterTuningJobName"]]:
                request_stop(state, child["TrainingJobName"])
        return None

    def delete_hyper_parameter_tuning_job(self, ctx: RequestContext, request: dict[str, Any]) -> None:
        """Forget a finished tuning job; its training jobs and their artefacts stay, as AWS documents."""
        state = ctx.state(SageMakerState)
        with state.lock:
            record = _find(state, request["HyperParameterTuningJobName"])
            name = record["HyperParameterTuningJobName"]
            if record["HyperParameterTuningJobStatus"] not in _TERMINAL:
                raise validation(f"The request was rejected because the hyperparameter tuning job is in status "
                                 f"{record['HyperParameterTuningJobStatus']}. Only a Completed, Stopped or Failed "
                                 f"hyperparameter tuning job can be deleted.")
            del state.tuning_jobs[name]
            state.tuning_children.pop(name, None)
            state.tuning_futures.pop(name, None)
            state.tags.pop(record["HyperParameterTuningJobArn"], None)
        return None


class TuningJobRun:
    """The coordinator of one tuning job (runs in its own thread)."""

    def __init__(self, ctx: RequestContext, state: SageMakerState, name: str, definitions: list[Definition],
                 config: dict[str, Any], priors: list[list[tuple[dict[str, str], float]]], runner: JobRunner,
                 api_jobs: JobRunner) -> None:
        self.ctx, self.state, self.name, self.definitions, self.config = ctx, state, name, definitions, config
        self.runner = runner
        self.maximize = definitions[0].objective["Type"] == "Maximize"
        seed = config.get("RandomSeed")
        seed = int(seed) if seed is not None else secrets.randbelow(2 ** 31)
        from emulator.engines.tuning import MedianStoppingRule, make_strategy

        self.strategies: list[Strategy] = []
        for index, definition in enumerate(definitions):
            strategy = make_strategy(config["Strategy"], definition.space, seed + index,
                                     min_resource=definition.min_resource, max_resource=definition.max_resource)
            for values, value in priors[index]:
                strategy.tell_prior(values, value if self.maximize else -value)
            self.strategies.append(strategy)
        limits = config["ResourceLimits"]
        self.max_jobs = int(limits["MaxNumberOfTrainingJobs"])
        self.max_parallel = int(limits["MaxParallelTrainingJobs"])
        self.max_runtime = limits.get("MaxRuntimeInSeconds")
        criteria = config.get("TuningJobCompletionCriteria") or {}
        self.target = criteria.get("TargetObjectiveMetricValue")
        self.not_improving = (criteria.get("BestObjectiveNotImproving") or {}).get("MaxNumberOfTrainingJobsNotImproving")
        self.started = _now()
        # one rule per definition: each has its own objective
        self.early_stopping = [MedianStoppingRule(self.maximize) for _ in definitions] \
            if config.get("TrainingJobEarlyStoppingType") == "Auto" else None

    @property
    def record(self) -> dict[str, Any]:
        return self.state.tuning_jobs[self.name]

    def run(self, done: Future) -> None:
        try:
            self._search()
        except Exception as exc:  # a bug must still end the tuning job
            self._finish("Failed", f"InternalError: {type(exc).__name__}: {exc}")
        finally:
            done.set_result(None)

    def _search(self) -> None:
        running: dict[Future, tuple[int, Proposal, str]] = {}
        launched, exhausted, turn = 0, [False] * len(self.definitions), 0
        best: float | None = None
        since_best = 0
        ending: str | None = None  # why no more jobs start: "stop" | "criteria" | "runtime"
        while True:
            if ending is None:
                ending = self._ending_reason(best, since_best)
                if ending is not None:
                    self._stop_children()
            while ending is None and len(running) < self.max_parallel and launched < self.max_jobs \
                    and not all(exhausted):
                index = turn % len(self.definitions)
                turn += 1
                if exhausted[index]:
                    continue
                if self._stopping():  # StopHyperParameterTuningJob arrived: start nothing new
                    break
                proposal = self.strategies[index].ask()
                if proposal is None:
                    exhausted[index] = True
                    continue
                launched += 1
                child, future = self._launch(index, proposal, launched)
                running[future] = (index, proposal, child)
            if not running:
                break
            finished, _ = wait_futures(list(running), timeout=0.25, return_when=FIRST_COMPLETED)
            for future in finished:
                index, proposal, child = running.pop(future)
                if self.early_stopping is not None:
                    self.early_stopping[index].end(child)
                value = self._objective(child, self.definitions[index])
                self.strategies[index].tell(proposal.key, None if value is None else (value if self.maximize else -value))
                if value is not None:
                    improved = best is None or (value > best if self.maximize else value < best)
                    best, since_best = (value, 0) if improved else (best, since_best + 1)
        self._conclude(ending)

    def _stopping(self) -> bool:
        with self.state.lock:
            return self.record["HyperParameterTuningJobStatus"] == "Stopping"

    def _ending_reason(self, best: float | None, since_best: int) -> str | None:
        if self._stopping():
            return "stop"
        if best is not None and self.target is not None and \
                (best >= self.target if self.maximize else best <= self.target):
            return "criteria"
        if self.not_improving and since_best >= int(self.not_improving):
            return "criteria"
        if self.max_runtime and (_now() - self.started).total_seconds() > float(self.max_runtime):
            return "runtime"
        return None

    def _stop_children(self) -> None:
        with self.state.lock:
            for child in self.state.tuning_children[self.name]:
                request_stop(self.state, child["TrainingJobName"])

    def _launch(self, index: int, proposal: Proposal, number: int) -> tuple[str, Future]:
        definition = self.definitions[index]
        child = f"{self.name}-{number:03d}-{secrets.token_hex(4)}"
        spec = definition.spec
        hyperparameters = {**(spec.get("StaticHyperParameters") or {}), **proposal.values,
                           OBJECTIVE_KEY: definition.objective["MetricName"]}
        if proposal.resource is not None and definition.resource_key:
            hyperparameters[definition.resource_key] = str(proposal.resource)
        algorithm = {k: v for k, v in (spec.get("AlgorithmSpecification") or {}).items()
                     if k in ("TrainingImage", "TrainingInputMode", "AlgorithmName", "MetricDefinitions")}
        request = {"TrainingJobName": child, "AlgorithmSpecification": algorithm, "HyperParameters": hyperparameters,
                   "ResourceConfig": _resource_config(spec), **{k: spec[k] for k in _CHILD_KEYS if k in spec}}
        arn = self.ctx.arn("sagemaker", f"training-job/{child.lower()}")
        with self.state.lock:
            tuned = dict(proposal.values)
            if proposal.resource is not None and definition.resource_key:
                tuned[definition.resource_key] = str(proposal.resource)
            self.state.tuning_children[self.name].append(
                {"TrainingJobName": child, "DefinitionName": definition.name, "Tuned": tuned, "Definition": index})
        start_training_job(self.ctx, self.state, self.runner, request, arn,
                           tuning_job_arn=self.record["HyperParameterTuningJobArn"],
                           progress=self._epoch_listener(child, index))
        return child, self.state.training_futures[child]

    def _epoch_listener(self, child: str, index: int):
        """With early stopping Auto: reads the objective from each epoch's log lines (the
        metric definition's regex, as SageMaker reads it from the log) and applies the
        median rule. None for algorithms that report no epochs (AWS lists which do)."""
        definition = self.definitions[index]
        if self.early_stopping is None or definition.algorithm not in algorithms.EARLY_STOPPING:
            return None
        rule = self.early_stopping[index]
        regex = _objective_regex(definition)
        if regex is None:
            return None

        def on_epoch(lines: list[str]) -> bool:
            value = None
            for line in lines:
                match = regex.search(line)
                if match:
                    try:
                        value = float(match.group(1))
                    except (ValueError, IndexError):
                        continue
            return value is not None and rule.observe(child, value)

        return on_epoch

    def _objective(self, child: str, definition: Definition) -> float | None:
        with self.state.lock:
            job = self.state.training_jobs[child]
            return _objective_value(job, definition.objective["MetricName"])

    def _conclude(self, ending: str | None) -> None:
        with self.state.lock:
            children = [self.state.training_jobs[c["TrainingJobName"]] for c in self.state.tuning_children[self.name]]
        if ending == "stop":
            self._finish("Stopped")
        elif children and all(c["TrainingJobStatus"] == "Failed" for c in children):
            reasons = sorted({c.get("FailureReason", "") for c in children})
            self._finish("Failed", f"All training jobs failed. {reasons[0]}"[:1024])
        else:
            self._finish("Completed")

    def _finish(self, status: str, reason: str | None = None) -> None:
        now = _now()
        with self.state.lock:
            record = self.record
            record.update(HyperParameterTuningJobStatus=status, HyperParameterTuningEndTime=now, LastModifiedTime=now)
            if reason:
                record["FailureReason"] = reason


def _objective_regex(definition: Definition) -> re.Pattern | None:
    spec = definition.spec.get("AlgorithmSpecification") or {}
    metrics = list(spec.get("MetricDefinitions") or []) + algorithms.metric_definitions(definition.algorithm or "")
    for metric in metrics:
        if metric.get("Name") == definition.objective["MetricName"]:
            try:
                return re.compile(metric["Regex"])
            except re.error:
                return None
    return None


def _objective_value(job: dict[str, Any], metric: str) -> float | None:
    for item in job.get("FinalMetricDataList") or []:
        if item["MetricName"] == metric:
            return float(item["Value"])
    return None


def _resource_config(spec: dict[str, Any]) -> dict[str, Any]:
    if spec.get("ResourceConfig"):
        return dict(spec["ResourceConfig"])
    tuning = spec.get("HyperParameterTuningResourceConfig") or {}
    first = (tuning.get("InstanceConfigs") or [{}])[0]
    out = {"InstanceType": tuning.get("InstanceType") or first.get("InstanceType") or "ml.m5.large",
           "InstanceCount": tuning.get("InstanceCount") or first.get("InstanceCount") or 1,
           "VolumeSizeInGB": tuning.get("VolumeSizeInGB") or first.get("VolumeSizeInGB") or 30}
    if tuning.get("VolumeKmsKeyId"):
        out["VolumeKmsKeyId"] = tuning["VolumeKmsKeyId"]
    return out


def _described_definition(definition: Definition) -> dict[str, Any]:
    """The definition as DescribeHyperParameterTuningJob returns it: the objective key injected into
    StaticHyperParameters, and a ResourceConfig (the SDK's attach reads it)."""
    out = copy.deepcopy(definition.spec)
    if out.get("HyperParameterRanges") is not None:
        out["HyperParameterRanges"] = _all_range_lists(out["HyperParameterRanges"])
    algorithm_spec = out.setdefault("AlgorithmSpecification", {})
    if not algorithm_spec.get("MetricDefinitions") and definition.algorithm:
        algorithm_spec["MetricDefinitions"] = algorithms.metric_definitions(definition.algorithm)
    out["StaticHyperParameters"] = {**(out.get("StaticHyperParameters") or {}),
                                    OBJECTIVE_KEY: definition.objective["MetricName"]}
    out.setdefault("ResourceConfig", _resource_config(definition.spec))
    out.setdefault("OutputDataConfig", {})
    return out


def _all_range_lists(ranges: dict[str, Any]) -> dict[str, Any]:
    """AWS describes every kind of range, empty or not (the SDK's attach indexes all three)."""
    return {"IntegerParameterRanges": [], "ContinuousParameterRanges": [], "CategoricalParameterRanges": [], **ranges}


def _find(state: SageMakerState, name: str) -> dict[str, Any]:
    record = state.tuning_jobs.get(name)
    if record is None:
        raise not_found(f"Amazon SageMaker can't find a tuning job with name {name}")
    return record


def _child_summaries(state: SageMakerState, record: dict[str, Any]) -> list[dict[str, Any]]:
    name = record["HyperParameterTuningJobName"]
    definitions = record.get("TrainingJobDefinitions") or [record["TrainingJobDefinition"]]
    config = record["HyperParameterTuningJobConfig"]
    summaries = []
    for child in state.tuning_children.get(name, []):
        job = state.training_jobs[child["TrainingJobName"]]
        definition = definitions[child["Definition"]]
        objective = definition.get("TuningObjective") or config.get("HyperParameterTuningJobObjective")
        value = _objective_value(job, objective["MetricName"])
        summary = {
            "TrainingJobDefinitionName": child["DefinitionName"], "TrainingJobName": job["TrainingJobName"],
            "TrainingJobArn": job["TrainingJobArn"], "TuningJobName": name, "CreationTime": job["CreationTime"],
            "TrainingStartTime": job.get("TrainingStartTime"), "TrainingEndTime": job.get("TrainingEndTime"),
            "TrainingJobStatus": job["TrainingJobStatus"], "TunedHyperParameters": dict(child["Tuned"]),
            "FailureReason": job.get("FailureReason"), "ObjectiveStatus": _objective_status(job, value),
        }
        if value is not None:
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": objective["Type"], "MetricName": objective["MetricName"], "Value": value}
        summaries.append(summary)
    return summaries


def _objective_status(job: dict[str, Any], value: float | None) -> str:
    if value is not None:
        return "Succeeded"
    return "Pending" if job["TrainingJobStatus"] in ("InProgress", "Stopping") else "Failed"


def _progress(state: SageMakerState, record: dict[str, Any]) -> dict[str, Any]:
    """Counters, best job and consumed time, computed from the children as they are now."""
    summaries = _child_summaries(state, record)
    statuses = [s["TrainingJobStatus"] for s in summaries]
    objectives = [s["ObjectiveStatus"] for s in summaries]
    out: dict[str, Any] = {
        "TrainingJobStatusCounters": {
            "Completed": statuses.count("Completed"), "InProgress": statuses.count("InProgress") + statuses.count("Stopping"),
            "RetryableError": 0, "NonRetryableError": statuses.count("Failed"), "Stopped": statuses.count("Stopped")},
        "ObjectiveStatusCounters": {"Succeeded": objectives.count("Succeeded"), "Pending": objectives.count("Pending"),
                                    "Failed": objectives.count("Failed")},
        "ConsumedResources": {"RuntimeInSeconds": int(sum(
            state.training_jobs[s["TrainingJobName"]].get("TrainingTimeInSeconds", 0) for s in summaries))},
    }
    best = _best(summaries)
    if best is not None:
        out["BestTrainingJob"] = best
    parents = [p["HyperParameterTuningJobName"] for p in
               ((record.get("WarmStartConfig") or {}).get("ParentHyperParameterTuningJobs") or [])]
    if parents:
        everything = list(summaries)
        for parent in parents:
            if parent in state.tuning_jobs:
                everything.extend(_child_summaries(state, state.tuning_jobs[parent]))
        overall = _best(everything)
        if overall is not None:
            out["OverallBestTrainingJob"] = overall
    return out


def _best(summaries: list[dict[str, Any]]) -> dict[str, Any] | None:
    scored = [s for s in summaries if s.get("FinalHyperParameterTuningJobObjectiveMetric")
              and s["TrainingJobStatus"] in ("Completed", "Stopped")]
    if not scored:
        return None
    maximize = scored[0]["FinalHyperParameterTuningJobObjectiveMetric"]["Type"] == "Maximize"
    sign = 1.0 if maximize else -1.0
    best = max(scored, key=lambda s: (sign * s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
                                      -s["CreationTime"].timestamp()))
    return {k: v for k, v in best.items() if k != "TuningJobName"} | {"TuningJobName": best["TuningJobName"]}


def _warm_start_priors(state: SageMakerState, warm: dict[str, Any] | None,
                       definitions: list[Definition]) -> list[list[tuple[dict[str, str], float]]]:
    """The parents' (tuned values, objective) per definition, validated as AWS does."""
    priors: list[list[tuple[dict[str, str], float]]] = [[] for _ in definitions]
    if not warm:
        return priors
    parents = warm["ParentHyperParameterTuningJobs"]
    if not parents or len(parents) > MAX_PARENTS:
        raise validation(f"WarmStartConfig.ParentHyperParameterTuningJobs must list between 1 and {MAX_PARENTS} jobs.")
    for parent in parents:
        name = parent.get("HyperParameterTuningJobName")
        record = state.tuning_jobs.get(name or "")
        if record is None:
            raise validation(f"The parent hyperparameter tuning job {name} does not exist.")
        if record["HyperParameterTuningJobStatus"] not in _TERMINAL:
            raise validation(f"The parent hyperparameter tuning job {name} must be Completed, Stopped or Failed, "
                             f"but it is {record['HyperParameterTuningJobStatus']}.")
        parent_definition = record.get("TrainingJobDefinition") or (record.get("TrainingJobDefinitions") or [{}])[0]
        if warm["WarmStartType"] == "IdenticalDataAndAlgorithm":
            own = definitions[0].spec
            if (parent_definition.get("AlgorithmSpecification") or {}).get("TrainingImage") != \
                    (own.get("AlgorithmSpecification") or {}).get("TrainingImage") or \
                    parent_definition.get("InputDataConfig") != own.get("InputDataConfig"):
                raise validation(f"IdenticalDataAndAlgorithm warm start requires the same training image and input "
                                 f"data as the parent hyperparameter tuning job {name}.")
        for summary in _child_summaries(state, record):
            metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric")
            if not metric:
                continue
            for index, definition in enumerate(definitions):
                if definition.objective["MetricName"] == metric["MetricName"]:
                    priors[index].append((summary["TunedHyperParameters"], float(metric["Value"])))
    return priors
