"""What the Amazon ML operations share: errors, lookup, idempotency, background jobs,
S3 URIs, and one Get/Describe/Update/Delete implementation for the four object types."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import urlparse

from emulator import workers
from emulator.aws.s3 import S3AccessError
from emulator.context import RequestContext
from emulator.engines import lazy
from emulator.engines.amazonml.errors import DataProcessingError, EngineInputError
from emulator.lifecycle import job_created, job_status
from emulator.protocol.errors import ServiceError

from .describe import describe
from .state import DataSource, MachineLearningState, MLModel, Resource

log = logging.getLogger("emulator.services.machinelearning.provider")

# Engine entry points used by several modules; imported on first call (start-up time).
parse_schema = lazy("emulator.engines.amazonml.schema", "parse_schema")

DEFAULT_SCORE_THRESHOLD = 0.5

JOBS = "emulator.engines.amazonml.jobs"
"""The module of the job steps that run in worker processes (named, so the server imports no engine)."""

Render = Callable[[Any], dict[str, Any]]


# ---------------------------------------------------------------------- errors
def invalid(message: str) -> ServiceError:
    """An InvalidInputException."""
    return ServiceError("InvalidInputException", message, status=400)


def not_found(kind: str, resource_id: str) -> ServiceError:
    """A ResourceNotFoundException for object ``resource_id`` of type ``kind``."""
    return ServiceError("ResourceNotFoundException", f"No {kind} with id {resource_id} exists", status=400)


def engine_input(fn: Callable[[], Any]) -> Any:
    """Run an engine validation; EngineInputError -> InvalidInputException."""
    try:
        return fn()
    except EngineInputError as exc:
        raise invalid(str(exc)) from None


# ---------------------------------------------------------------------- S3
def check_s3_uri(uri: str, member: str) -> None:
    """InvalidInputException unless ``uri`` is ``s3://bucket/...``."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise invalid(f"{member} must be an S3 URI of the form s3://bucket/key, got '{uri}'")


def join_uri(base: str, *parts: str) -> str:
    """``base`` and ``parts`` joined by single slashes."""
    return base.rstrip("/") + "/" + "/".join(parts)


def read_s3_text(ctx: RequestContext, uri: str, member: str) -> str:
    """The UTF-8 text of the S3 object named by request member ``member``."""
    check_s3_uri(uri, member)
    try:
        return ctx.s3().get_uri(uri).decode("utf-8-sig")
    except S3AccessError as exc:
        raise invalid(f"Cannot read {member} {uri}: {exc}") from None
    except UnicodeDecodeError:
        raise invalid(f"{member} {uri} is not UTF-8 text") from None


# ---------------------------------------------------------------------- objects
@dataclass(frozen=True)
class Kind:
    """One Amazon ML object type, as the generic operations below need it."""

    cls: type[Resource]
    id_member: str    # e.g. "DataSourceId"
    name_member: str  # e.g. "DataSourceName", the member Update* sets
    render: Render    # the Describe* result shape (Get* starts from it)

    @property
    def name(self) -> str:
        """The type name of messages and of the tag ``ResourceType``, e.g. "DataSource"."""
        return self.cls.kind


def state_of(ctx: RequestContext) -> MachineLearningState:
    """The caller's account and region state."""
    return ctx.state(MachineLearningState)


def iam_user(ctx: RequestContext) -> str:
    """CreatedByIamUser of objects the caller creates."""
    return f"arn:aws:iam::{ctx.account_id}:root"


def lookup(state: MachineLearningState, kind: str, resource_id: str, allow_deleted: bool = False) -> Any:
    """Under the lock: the object, or ResourceNotFoundException (also when DELETED, unless allowed)."""
    obj = state.table(kind).get(resource_id)
    if obj is None or (obj.deleted and not allow_deleted):
        raise not_found(kind, resource_id)
    return obj


def _normal(value: Any) -> Any:
    """A create request for idempotency checks: members at their default (absent, None,
    false, empty) compare equal."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v not in (None, False, "", {}, [])}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def replay(state: MachineLearningState, kind: Kind, request: dict[str, Any]) -> dict[str, Any] | None:
    """Under the lock: None when Create*'s ID is new, else the idempotent answer (or its error)."""
    existing = state.table(kind.name).get(request[kind.id_member])
    if existing is None:
        return None
    if existing.deleted:
        raise invalid(f"{existing.kind} {existing.id} has been deleted; its ID cannot be reused")
    if _normal(existing.request) != _normal(request):
        raise ServiceError("IdempotentParameterMismatchException",
                           f"A {existing.kind} with id {existing.id} already exists with different parameters",
                           status=400)
    return {kind.id_member: existing.id}


def status_text(obj: Resource) -> str:
    """``"<Kind> <id> is <STATUS>[: <Message>]"``, for a dependency that is not usable."""
    return f"{obj.kind} {obj.id} is {obj.status}" + (f": {obj.message}" if obj.message else "")


# ---------------------------------------------------------------------- jobs
def submit(ctx: RequestContext, state: MachineLearningState, obj: Resource, body: Callable[[], None],
           after: Iterable[Any] = (), cleanup: Callable[[], None] | None = None) -> None:
    """Under the lock: run ``body`` as ``obj``'s background job once the ``after`` futures end."""
    job_created(obj.label, obj.id, obj.status)
    obj.future = ctx.emulator.jobs.submit(lambda: guard(state, obj, body, cleanup),
                                          after=[f for f in after if f is not None])


WAITING_MESSAGE = "Waiting for a free worker process"


def work(ctx: RequestContext, obj: Resource, fn: str, *args: Any) -> Any:
    """In a job: ``fn(*args)`` in a worker process, cancelled when ``obj`` is deleted;
    while it waits for a worker, the object's Message says so."""
    state = state_of(ctx)

    def note(message: str | None) -> Callable[[], None]:
        def set_message() -> None:
            with state.lock:
                if obj.message in (None, WAITING_MESSAGE):
                    obj.message = message
        return set_message

    return ctx.emulator.jobs.work(fn, *args, cancel=lambda: obj.deleted, on_wait=note(WAITING_MESSAGE),
                                  on_start=note(None))


def wait(ctx: RequestContext, obj: Resource) -> None:
    """Outside the lock: wait for ``obj``'s job as far as the emulator's job runner waits."""
    ctx.emulator.jobs.wait(obj.future)


def guard(state: MachineLearningState, obj: Resource, body: Callable[[], None],
          cleanup: Callable[[], None] | None = None) -> None:
    """Run a job body; any failure ends ``obj`` FAILED with a Message (never stuck).
    ``cleanup`` then runs under the lock whatever happened."""
    try:
        body()
    except (DataProcessingError, EngineInputError, S3AccessError) as exc:
        with state.lock:
            if not obj.deleted:
                obj.finish("FAILED", str(exc))
    except workers.WorkerCancelled as exc:
        with state.lock:
            if not obj.deleted:
                obj.finish("FAILED", f"{obj.kind} {obj.id} was not completed: {exc.reason}")
    except workers.WorkerOutOfMemory as exc:
        with state.lock:
            if not obj.deleted:
                obj.finish("FAILED", f"{obj.kind} {obj.id} needed more memory than the emulator allows a job "
                                     f"({exc.limit_mb} MB, --job-memory-mb): out of memory")
    except Exception as exc:  # noqa: BLE001 - a job must never leave a resource stuck
        log.exception("Amazon ML job for %s %s failed", obj.kind, obj.id)
        with state.lock:
            if not obj.deleted:
                obj.finish("FAILED", f"Internal error while processing {obj.kind} {obj.id}: {exc}")
    finally:
        if cleanup is not None:
            with state.lock:
                cleanup()


def dependencies_ready(obj: Resource, model: MLModel, ds: DataSource) -> bool:
    """Under the lock: start ``obj`` or fail it when its model or data source is not usable."""
    if obj.deleted:
        return False
    obj.start()
    problem = None
    if model.status != "COMPLETED" or model.trained is None:
        problem = status_text(model)
    elif ds.status != "COMPLETED" or ds.dataset is None:
        problem = status_text(ds)
    if problem:
        obj.finish("FAILED", problem)
        return False
    return True


# ---------------------------------------------------------------------- Get/Describe/Update/Delete
def get_object(ctx: RequestContext, kind: Kind, request: dict[str, Any], render: Render | None = None,
               verbose: Render | None = None) -> dict[str, Any]:
    """Get*: the object (even DELETED) as ``render`` (default ``kind.render``) plus LogUri,
    plus ``verbose(obj)`` when the request sets Verbose."""
    state = state_of(ctx)
    with state.lock:
        obj = lookup(state, kind.name, request[kind.id_member], allow_deleted=True)
        out = (render or kind.render)(obj)
        out["LogUri"] = obj.log_uri
        if verbose is not None and request.get("Verbose"):
            out.update(verbose(obj))
    return out


def describe_objects(ctx: RequestContext, kind: Kind, request: dict[str, Any]) -> dict[str, Any]:
    """Describe*: one filtered, sorted page (see ``describe.py``)."""
    state = state_of(ctx)
    with state.lock:
        return describe(list(state.table(kind.name).values()), kind.cls, request, kind.render)


def update_object(ctx: RequestContext, kind: Kind, request: dict[str, Any],
                  change: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """Update*: ``change(obj)`` (default: set the name member) on a live object."""
    state = state_of(ctx)
    with state.lock:
        obj = lookup(state, kind.name, request[kind.id_member])
        if change is None:
            obj.name = request[kind.name_member]
        else:
            change(obj)
        obj.touch()
    return {kind.id_member: obj.id}


def delete_object(ctx: RequestContext, kind: Kind, request: dict[str, Any],
                  release: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """Delete*: mark the object DELETED (repeating is fine), then ``release(obj)`` its payload."""
    state = state_of(ctx)
    with state.lock:
        obj = lookup(state, kind.name, request[kind.id_member], allow_deleted=True)
        if not obj.deleted:
            obj.status = "DELETED"
            obj.touch()
            job_status(obj.label, obj.id, "DELETED", final=True)
        if release is not None:
            release(obj)
    return {kind.id_member: obj.id}
