"""ML task runs: labeling-set generation, label import and export, evaluation.

Each Start*TaskRun records a run (STARTING) and runs it on the job runner (RUNNING ->
SUCCEEDED / FAILED with an ErrorString / STOPPED after CancelMLTaskRun), logging to
CloudWatch group ``/aws-glue/ml-transforms``, stream ``<TransformId>/<TaskRunId>``.
The heavy work is the pure engine (``emulator.engines.findmatches``); this module reads
the input table and the label files from S3, writes the generated files, keeps labels.
"""

from __future__ import annotations

import copy
import importlib
import io
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator

from emulator import workers
from emulator.aws.logs import LogWriter
from emulator.aws.s3 import S3AccessError, S3Store, split_s3_uri
from emulator.context import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.services.glue.ml_common import (get_transform, input_table, invalid, new_id, not_found, not_ready, now,
                                              state_of)
from emulator.services.glue.ml_state import MLTransformState
from emulator.services.glue.table_data import TableDataError, read_table
from emulator.services.paging import BadNextToken, paginate

if TYPE_CHECKING:  # pandas is imported where a task uses it (it takes ~1 s to import)
    import pandas as pd

LOG_GROUP = "/aws-glue/ml-transforms"
MAX_LABEL_FILE_MB = 100
ACTIVE = ("STARTING", "RUNNING", "STOPPING")
SORT_KEYS = {"TASK_RUN_TYPE": lambda r: r["Properties"]["TaskType"], "STATUS": lambda r: r["Status"],
             "STARTED": lambda r: r["StartedOn"]}


class _LazyEngine:
    """``emulator.engines.findmatches``, imported on first use (server start-up time)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("emulator.engines.findmatches"), name)


engine = _LazyEngine()


class TaskFailed(Exception):
    """Ends a task run FAILED with this message as its ErrorString."""


class TaskStopped(Exception):
    """CancelMLTaskRun was called, or the transform deleted, while the run was going."""


class TaskTimedOut(Exception):
    """The run went past its transform's Timeout (minutes): between phases, or its worker ended."""


class TaskRun:
    """One task run's background work, its log lines and its terminal state."""

    def __init__(self, ctx: RequestContext, state: MLTransformState, transform_id: str, run_id: str) -> None:
        self.account_id, self.region, self.jobs = ctx.account_id, ctx.region, ctx.emulator.jobs
        self.state, self.transform_id, self.run_id = state, transform_id, run_id
        self.s3: S3Store = ctx.s3()
        self.logs: LogWriter = ctx.logs()
        self.lines: list[str] = []
        self.started = now()

    # ------------------------------------------------------------------ lifecycle
    def run(self, work: Callable[["TaskRun"], None]) -> None:
        started = self.started = now()
        try:
            self.checkpoint()
            self._set(Status="RUNNING")
            self.log(f"Task run {self.run_id} of transform {self.transform_id} started")
            work(self)
            self.checkpoint()
            self._finish("SUCCEEDED", started)
        except TaskStopped:
            self.log("Task run stopped")
            self._finish("STOPPED", started)
        except TaskTimedOut as exc:
            self.log(f"ERROR {exc}")
            self._finish("TIMEOUT", started, str(exc))
        except TaskFailed as exc:
            self.log(f"ERROR {exc}")
            self._finish("FAILED", started, str(exc))
        except Exception as exc:  # an engine bug still ends the run
            self.log(f"ERROR InternalError: {type(exc).__name__}: {exc}")
            self._finish("FAILED", started, f"InternalError: {type(exc).__name__}: {exc}")
        finally:
            self.logs.write(LOG_GROUP, f"{self.transform_id}/{self.run_id}", self.lines)

    def checkpoint(self) -> None:
        """Raise TaskStopped if the run was cancelled or its transform deleted, TaskTimedOut past its Timeout."""
        with self.state.lock:
            if self.run_id in self.state.stop_requested or self.transform_id not in self.state.transforms:
                raise TaskStopped()
            minutes = self.state.transforms[self.transform_id].get("Timeout") or 2880
        if (now() - self.started).total_seconds() > minutes * 60:
            raise TaskTimedOut(f"Task run exceeded the transform's Timeout of {minutes} minutes")

    def log(self, line: str) -> None:
        self.lines.append(line)

    def work(self, step: str, *args: Any) -> Any:
        """``emulator.engines.findmatches.jobs:<step>(*args)`` in a worker process; a cancel or
        the transform's Timeout ends the process at once."""
        self.checkpoint()
        with self.state.lock:
            minutes = (self.state.transforms.get(self.transform_id) or {}).get("Timeout") or 2880
        remaining = minutes * 60 - (now() - self.started).total_seconds()

        def cancelled() -> bool:
            with self.state.lock:
                return self.run_id in self.state.stop_requested or self.transform_id not in self.state.transforms

        try:
            return self.jobs.work(f"emulator.engines.findmatches.jobs:{step}", *args, cancel=cancelled,
                                  timeout=max(remaining, 0.001))
        except workers.WorkerTimeout:
            raise TaskTimedOut(f"Task run exceeded the transform's Timeout of {minutes} minutes") from None
        except workers.WorkerCancelled as exc:
            if cancelled():
                raise TaskStopped() from None
            raise TaskFailed(f"InternalError: {exc}") from None
        except workers.WorkerError as exc:  # out of memory, crashed: the run fails, the server does not
            raise TaskFailed(f"InternalError: {exc}") from None

    def _set(self, **fields: Any) -> None:
        with self.state.lock:
            run = self.state.task_runs.get(self.transform_id, {}).get(self.run_id)
            if run is not None:
                run.update(fields, LastModifiedOn=now())

    def _finish(self, status: str, started: Any, error: str | None = None) -> None:
        finished = now()
        fields: dict[str, Any] = {"Status": status, "CompletedOn": finished,
                                  "ExecutionTime": max(0, int(round((finished - started).total_seconds())))}
        if error:
            fields["ErrorString"] = error
        self._set(**fields)
        with self.state.lock:
            self.state.stop_requested.discard(self.run_id)

    # ------------------------------------------------------------------ inputs
    def transform(self) -> dict[str, Any]:
        with self.state.lock:
            record = self.state.transforms.get(self.transform_id)
            if record is None:
                raise TaskStopped()
            return copy.deepcopy(record)

    def params(self) -> Any:
        return engine.FindMatchesParams.from_glue(self.transform()["Parameters"]["FindMatchesParameters"])

    def records(self) -> tuple[pd.DataFrame, dict[str, str]]:
        """The input table's rows and its {column: type} schema."""
        transform = self.transform()
        try:
            table = input_table(self.account_id, self.region, transform)
        except ServiceError as exc:
            raise TaskFailed(f"The input table cannot be found: {exc.message}") from None
        try:
            records = read_table(self.s3, table)
        except TableDataError as exc:
            raise TaskFailed(f"The input table's data cannot be read: {exc}") from None
        key = transform["Parameters"]["FindMatchesParameters"]["PrimaryKeyColumnName"]
        if key not in records.columns:
            raise TaskFailed("Schema should contain given primary key")
        self.log(f"Read {len(records)} records with {records.shape[1]} columns from the input table")
        schema = {c["Name"]: c["DataType"] for c in transform["Schema"]}
        return records, schema

    @contextmanager
    def updating_transform(self) -> Iterator[dict[str, Any]]:
        """The transform's record under the state lock, to record a result; TaskStopped if the
        run was cancelled or the transform deleted meanwhile."""
        self.checkpoint()
        with self.state.lock:
            record = self.state.transforms.get(self.transform_id)
            if record is None:
                raise TaskStopped()
            yield record

    def labels(self) -> pd.DataFrame:
        with self.state.lock:
            rows = list(self.state.labels.get(self.transform_id, []))
        import pandas as pd

        return pd.DataFrame(rows, dtype=object)


# ---------------------------------------------------------------------- the four kinds of work
def generate_labeling_set(task: TaskRun, output: str) -> None:
    records, schema = task.records()
    with task.state.lock:
        model = task.state.models.get(task.transform_id)
    sets = task.work("labeling_sets", records, task.params(), schema, task.labels(), model,
                     int(task.run_id[4:12], 16), task.run_id[4:12])
    key = f"{output.rstrip('/')}/labeling-set-{task.run_id}.csv"
    task.checkpoint()
    _put(task, key, sets)
    how = "uncertain pairs of the trained model" if model is not None else "pairs spread over record similarity"
    task.log(f"Wrote {sets['labeling_set_id'].nunique()} labeling sets of {len(sets)} records ({how}) to {key}")


def import_labels(task: TaskRun, path: str, replace: bool) -> None:
    import pandas as pd

    files = _label_files(task.s3, path)
    frames = []
    for key, data in files:
        try:
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise TaskFailed(f"The label file {key} is not a valid CSV file: {exc}") from None
        frames.append(frame)
    incoming = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    transform = task.transform()
    key_column = transform["Parameters"]["FindMatchesParameters"]["PrimaryKeyColumnName"]
    try:
        cleaned = engine.clean_labels(incoming, key_column)
    except engine.LabelError as exc:
        raise TaskFailed(str(exc)) from None
    if cleaned.empty:
        raise TaskFailed(f"The label file at {path} has no labelled rows (every row needs a labeling_set_id, a label "
                         f"and a {key_column} value)")
    labelled = incoming.copy()
    for column in ("labeling_set_id", "label", key_column):
        labelled[column] = labelled[column].astype(str).str.strip()
    labelled = labelled[(labelled["label"] != "") & (labelled["labeling_set_id"] != "") & (labelled[key_column] != "")]
    new_rows = labelled.to_dict(orient="records")
    with task.state.lock:
        existing = [] if replace else list(task.state.labels.get(task.transform_id, []))
    combined = _deduplicate(existing + new_rows, key_column)
    records, schema = task.records()
    try:
        model, pair_count, matching = task.work("fit_labels", records, schema, task.params(),
                                                pd.DataFrame(combined, dtype=object))
    except engine.LabelError as exc:
        raise TaskFailed(str(exc)) from None
    with task.updating_transform() as record:
        task.state.labels[task.transform_id] = combined
        record["LabelCount"] = len(combined)
        record["LastModifiedOn"] = now()
        if model is not None:
            task.state.models[task.transform_id] = model
            record["Status"] = "READY"
        else:
            task.state.models.pop(task.transform_id, None)
            record["Status"] = "NOT_READY"
    task.log(f"Imported {len(new_rows)} labelled records from {path} ({'replacing' if replace else 'appending to'} "
             f"the existing labels); the transform has {len(combined)} labels in {pair_count} labelled "
             f"pairs ({matching} matching)")
    task.log("The transform was trained and is READY" if model is not None else
             "The labels do not yet hold both a matching and a non-matching pair: the transform stays NOT_READY")


def export_labels(task: TaskRun, output: str) -> None:
    with task.state.lock:
        rows = list(task.state.labels.get(task.transform_id, []))
    if not rows:
        raise TaskFailed(f"No labelset exists for transformId {task.transform_id}")
    import pandas as pd

    frame = pd.DataFrame(rows, dtype=object).fillna("")
    ordered = ["labeling_set_id", "label"] + [c for c in frame.columns if c not in ("labeling_set_id", "label")]
    stamp = now().strftime("%Y%m%d%H%M%S")
    key = f"{output.rstrip('/')}/{task.transform_id}_labels_{stamp}_{uuid.uuid4()}.csv"
    _put(task, key, frame[ordered])
    task.log(f"Exported {len(frame)} labels to {key}")


def evaluate(task: TaskRun) -> None:
    records, schema = task.records()
    try:
        metrics = task.work("evaluation", records, task.labels(), task.params(), schema)
    except engine.LabelError as exc:
        raise TaskFailed(str(exc)) from None
    with task.updating_transform() as record:
        record["EvaluationMetrics"] = {"TransformType": "FIND_MATCHES", "FindMatchesMetrics": metrics}
        record["LastModifiedOn"] = now()
    task.log(f"Evaluation on held-out labels: precision {metrics['Precision']}, recall {metrics['Recall']}, "
             f"F1 {metrics['F1']}, area under the PR curve {metrics['AreaUnderPRCurve']}")


# ---------------------------------------------------------------------- helpers
def _put(task: TaskRun, uri: str, frame: pd.DataFrame) -> None:
    try:
        task.s3.put_uri(uri, frame.to_csv(index=False).encode("utf-8"))
    except S3AccessError as exc:
        raise TaskFailed(f"Cannot write {uri}: {exc}") from None


def _label_files(s3: S3Store, path: str) -> list[tuple[str, bytes]]:
    try:
        return [(o.key, o.data) for o in s3.read_location(path) if not o.key.rsplit("/", 1)[-1].startswith(("_", "."))]
    except S3AccessError as exc:
        raise TaskFailed(f"Invalid label file path. {exc}") from None


def _deduplicate(rows: list[dict[str, Any]], key_column: str) -> list[dict[str, str]]:
    """Later rows replace earlier ones of the same labeling set and record."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        clean = {str(k): ("" if v is None or (isinstance(v, float) and v != v) else str(v)) for k, v in row.items()}
        seen[(clean.get("labeling_set_id", ""), clean.get(key_column, ""))] = clean
    return list(seen.values())


def _check_s3_path(path: str) -> None:
    try:
        split_s3_uri(path)
    except S3AccessError:
        raise invalid("Invalid label file path.") from None


class MLTaskRunOperations:
    """Start*TaskRun, GetMLTaskRun(s), CancelMLTaskRun."""

    def _start(self, ctx: RequestContext, transform_id: str, task_type: str, properties: dict[str, Any],
               work: Callable[[TaskRun], None], need_ready: bool = False, exclusive: bool = False) -> dict[str, Any]:
        state = state_of(ctx)
        run_id = new_id("tsk")
        started = now()
        with state.lock:
            transform = get_transform(state, transform_id)
            if need_ready and transform["Status"] != "READY":
                raise not_ready()
            runs = state.task_runs.setdefault(transform_id, {})
            if exclusive and any(r["Status"] in ACTIVE and r["Properties"]["TaskType"] == task_type for r in runs.values()):
                raise ServiceError("ConcurrentRunsExceededException",
                                   f"A {task_type} task run of transform {transform_id} is already running.")
            runs[run_id] = {"TransformId": transform_id, "TaskRunId": run_id, "Status": "STARTING",
                            "LogGroupName": LOG_GROUP, "Properties": {"TaskType": task_type, **properties},
                            "StartedOn": started, "LastModifiedOn": started}
        task = TaskRun(ctx, state, transform_id, run_id)
        future = self.emulator.jobs.submit(lambda: task.run(work))  # type: ignore[attr-defined]
        with state.lock:
            state.futures[run_id] = future
        self.emulator.jobs.wait(future)  # type: ignore[attr-defined]
        return {"TaskRunId": run_id}

    def start_ml_labeling_set_generation_task_run(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        output = request["OutputS3Path"]
        _check_output(output)
        return self._start(ctx, request["TransformId"], "LABELING_SET_GENERATION",
                           {"LabelingSetGenerationTaskRunProperties": {"OutputS3Path": output}},
                           lambda task: generate_labeling_set(task, output), exclusive=True)

    def start_import_labels_task_run(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        path = request["InputS3Path"]
        replace = bool(request.get("ReplaceAllLabels") or False)
        with state_of(ctx).lock:
            get_transform(state_of(ctx), request["TransformId"])
        _check_s3_path(path)
        try:
            files = ctx.s3().read_location(path)
        except S3AccessError:
            raise invalid("Invalid label file path.") from None
        size = sum(len(o.data) for o in files)
        if size == 0:
            raise invalid("Invalid label file of size 0.")
        if size > MAX_LABEL_FILE_MB * 1024 * 1024:
            raise ServiceError("ResourceNumberLimitExceededException",
                               f"Label file has exceeded the limit of {MAX_LABEL_FILE_MB} MB.")
        return self._start(ctx, request["TransformId"], "IMPORT_LABELS",
                           {"ImportLabelsTaskRunProperties": {"InputS3Path": path, "Replace": replace}},
                           lambda task: import_labels(task, path, replace))

    def start_export_labels_task_run(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        output = request["OutputS3Path"]
        _check_output(output)
        state = state_of(ctx)
        with state.lock:
            get_transform(state, request["TransformId"])
            if not state.labels.get(request["TransformId"]):
                raise not_found(f"No labelset exists for transformId {request['TransformId']}")
        return self._start(ctx, request["TransformId"], "EXPORT_LABELS",
                           {"ExportLabelsTaskRunProperties": {"OutputS3Path": output}},
                           lambda task: export_labels(task, output))

    def start_ml_evaluation_task_run(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return self._start(ctx, request["TransformId"], "EVALUATION", {}, evaluate, need_ready=True, exclusive=True)

    def get_ml_task_run(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = state_of(ctx)
        with state.lock:
            return copy.deepcopy(_get_run(state, request["TransformId"], request["TaskRunId"]))

    def get_ml_task_runs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = state_of(ctx)
        criteria = request.get("Filter") or {}
        with state.lock:
            get_transform(state, request["TransformId"])
            runs = [copy.deepcopy(r) for r in state.task_runs.get(request["TransformId"], {}).values()]
        runs = [r for r in runs if _run_matches(r, criteria)]
        sort = request.get("Sort") or {"Column": "STARTED", "SortDirection": "DESCENDING"}
        runs.sort(key=lambda r: (SORT_KEYS[sort["Column"]](r), r["StartedOn"]), reverse=sort["SortDirection"] == "DESCENDING")
        try:
            page, token = paginate(runs, request.get("NextToken"), request.get("MaxResults") or 100)
        except BadNextToken as exc:
            raise invalid(str(exc)) from None
        return {"TaskRuns": page, "NextToken": token}

    def cancel_ml_task_run(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = state_of(ctx)
        with state.lock:
            run = _get_run(state, request["TransformId"], request["TaskRunId"])
            if run["Status"] in ("STARTING", "RUNNING"):
                state.stop_requested.add(run["TaskRunId"])
                run.update(Status="STOPPING", LastModifiedOn=now())
            return {"TransformId": run["TransformId"], "TaskRunId": run["TaskRunId"], "Status": run["Status"]}


def _get_run(state: MLTransformState, transform_id: str, run_id: str) -> dict[str, Any]:
    get_transform(state, transform_id)
    run = state.task_runs.get(transform_id, {}).get(run_id)
    if run is None:
        raise not_found(f"Task run with id {run_id} not found for transform {transform_id}.")
    return run


def _run_matches(run: dict[str, Any], criteria: dict[str, Any]) -> bool:
    if criteria.get("TaskRunType") and run["Properties"]["TaskType"] != criteria["TaskRunType"]:
        return False
    if criteria.get("Status") and run["Status"] != criteria["Status"]:
        return False
    if criteria.get("StartedBefore") and not run["StartedOn"] < criteria["StartedBefore"]:
        return False
    if criteria.get("StartedAfter") and not run["StartedOn"] > criteria["StartedAfter"]:
        return False
    return True


def _check_output(path: str) -> None:
    try:
        bucket, _ = split_s3_uri(path)
    except S3AccessError:
        raise invalid(f"Invalid output path {path}: it must be an S3 path s3://bucket/prefix.") from None
