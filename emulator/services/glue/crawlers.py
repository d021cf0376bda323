"""Crawlers: CRUD, schedules, StartCrawler (a real crawl on the job runner), StopCrawler,
ListCrawls and GetCrawlerMetrics."""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

from emulator.context import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.services.glue import tags
from emulator.services.glue.common import invalid, lookup, page
from emulator.services.glue.crawl import LOG_GROUP, CrawlRun, now
from emulator.services.glue.crawler_state import CrawlerState

TARGET_KINDS = ("S3Targets", "JdbcTargets", "MongoDBTargets", "DynamoDBTargets", "CatalogTargets", "DeltaTargets",
                "IcebergTargets", "HudiTargets")
_CRON = re.compile(r"^cron\((\S+\s+){5}\S+\)$")
_UPDATABLE = ("Role", "DatabaseName", "Description", "Targets", "Classifiers", "TablePrefix", "SchemaChangePolicy",
              "RecrawlPolicy", "LineageConfiguration", "LakeFormationConfiguration", "Configuration",
              "CrawlerSecurityConfiguration")


def _schedule(expression: str | None, state: str = "SCHEDULED") -> dict[str, str] | None:
    if not expression:
        return None
    if not _CRON.match(expression.strip()):
        raise invalid(f"Invalid schedule expression: {expression}. Use cron(Minutes Hours Day-of-month Month "
                      "Day-of-week Year).")
    return {"ScheduleExpression": expression, "State": state}


def _targets(targets: dict[str, Any] | None) -> dict[str, Any]:
    full = {kind: copy.deepcopy((targets or {}).get(kind) or []) for kind in TARGET_KINDS}
    if not any(full.values()):
        raise invalid("Crawler must have at least one target")
    for target in full["S3Targets"]:
        target.setdefault("Exclusions", [])
    return full


def _check_policies(crawler: dict[str, Any]) -> None:
    recrawl = (crawler.get("RecrawlPolicy") or {}).get("RecrawlBehavior", "CRAWL_EVERYTHING")
    policy = crawler.get("SchemaChangePolicy") or {}
    if recrawl == "CRAWL_NEW_FOLDERS_ONLY" and (policy.get("UpdateBehavior") != "LOG" or policy.get("DeleteBehavior") != "LOG"):
        raise invalid("The SchemaChangePolicy for \"Crawl new folders only\" Amazon S3 target can have only LOG "
                      "DeleteBehavior value and LOG UpdateBehavior value.")
    if crawler.get("Configuration"):
        try:
            config = json.loads(crawler["Configuration"])
        except json.JSONDecodeError as exc:
            raise invalid(f"Crawler configuration not valid: {exc}") from exc
        if not isinstance(config, dict) or "Version" not in config:
            raise invalid("Crawler configuration not valid: a JSON object with a Version is required")
        grouping = config.get("Grouping") or {}
        level = grouping.get("TableLevelConfiguration")
        if level is not None and (not isinstance(level, int) or isinstance(level, bool) or level < 1):
            raise invalid("Crawler configuration not valid: TableLevelConfiguration must be a positive integer")
        if grouping.get("TableGroupingPolicy") not in (None, "CombineCompatibleSchemas"):
            raise invalid("Crawler configuration not valid: TableGroupingPolicy can only be CombineCompatibleSchemas")
        tables = ((config.get("CrawlerOutput") or {}).get("Tables") or {}).get("AddOrUpdateBehavior")
        if tables not in (None, "MergeNewColumns"):
            raise invalid("Crawler configuration not valid: Tables.AddOrUpdateBehavior can only be MergeNewColumns")


class CrawlerOperations:
    """CreateCrawler ... GetCrawlerMetrics, ListCrawls and the crawler schedule operations."""

    def create_crawler(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        name = request["Name"]
        stamp = now()
        crawler = {
            "Name": name,
            "Role": request["Role"],
            "Targets": _targets(request.get("Targets")),
            "DatabaseName": request.get("DatabaseName"),
            "Description": request.get("Description"),
            "Classifiers": list(request.get("Classifiers") or []),
            "RecrawlPolicy": request.get("RecrawlPolicy") or {"RecrawlBehavior": "CRAWL_EVERYTHING"},
            "SchemaChangePolicy": {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "DEPRECATE_IN_DATABASE",
                                   **(request.get("SchemaChangePolicy") or {})},
            "LineageConfiguration": request.get("LineageConfiguration") or {"CrawlerLineageSettings": "DISABLE"},
            "State": "READY",
            "TablePrefix": request.get("TablePrefix"),
            "Schedule": _schedule(request.get("Schedule")),
            "CrawlElapsedTime": 0,
            "CreationTime": stamp,
            "LastUpdated": stamp,
            "Version": 1,
            "Configuration": request.get("Configuration"),
            "CrawlerSecurityConfiguration": request.get("CrawlerSecurityConfiguration"),
            "LakeFormationConfiguration": request.get("LakeFormationConfiguration")
            or {"UseLakeFormationCredentials": False, "AccountId": ""},
        }
        _check_policies(crawler)
        with state.lock:
            if name in state.crawlers:
                raise ServiceError("AlreadyExistsException", f"{name} already exists")
            state.crawlers[name] = crawler
            state.crawls[name] = []
        tags.tag(ctx.account_id, ctx.region, ctx.arn("glue", f"crawler/{name}"), request.get("Tags"))
        return {}

    def _crawler(self, state: CrawlerState, name: str) -> dict[str, Any]:
        return lookup(state.crawlers, name, "Crawler")

    def _idle_crawler(self, state: CrawlerState, name: str, refusal: str) -> dict[str, Any]:
        """The crawler, or CrawlerRunningException (``refusal``) while it crawls."""
        crawler = self._crawler(state, name)
        if crawler["State"] != "READY":
            raise ServiceError("CrawlerRunningException", f"Crawler with name {name} {refusal}")
        return crawler

    def get_crawler(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            return {"Crawler": _view(state, self._crawler(state, request["Name"]))}

    def get_crawlers(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            crawlers = [_view(state, c) for _, c in sorted(state.crawlers.items())]
        items, token = page(crawlers, request)
        return {"Crawlers": items, "NextToken": token}

    def batch_get_crawlers(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            names = list(dict.fromkeys(request["CrawlerNames"]))
            return {"Crawlers": [_view(state, state.crawlers[n]) for n in names if n in state.crawlers],
                    "CrawlersNotFound": [n for n in names if n not in state.crawlers]}

    def list_crawlers(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            names = sorted(state.crawlers)
        wanted = request.get("Tags") or {}
        if wanted:
            names = [n for n in names if _has_tags(tags.tags_of(ctx.account_id, ctx.region,
                                                                ctx.arn("glue", f"crawler/{n}")), wanted)]
        items, token = page(names, request)
        return {"CrawlerNames": items, "NextToken": token}

    def update_crawler(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            crawler = self._idle_crawler(state, request["Name"], "has already started")
            updated = copy.deepcopy(crawler)
            for key in _UPDATABLE:
                if key in request:
                    updated[key] = request[key]
            if "Targets" in request:
                updated["Targets"] = _targets(request["Targets"])
            if "SchemaChangePolicy" in request:
                updated["SchemaChangePolicy"] = {**crawler["SchemaChangePolicy"], **request["SchemaChangePolicy"]}
            if "Schedule" in request:
                updated["Schedule"] = _schedule(request["Schedule"])
            _check_policies(updated)
            updated["Version"] = crawler["Version"] + 1
            updated["LastUpdated"] = now()
            state.crawlers[request["Name"]] = updated
        return {}

    def delete_crawler(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        name = request["Name"]
        with state.lock:
            self._idle_crawler(state, name, "is running and cannot be deleted")
            for store in (state.crawlers, state.crawls, state.metrics, state.futures):
                store.pop(name, None)
        tags.untag_all(ctx.account_id, ctx.region, ctx.arn("glue", f"crawler/{name}"))
        return {}

    def start_crawler(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        name = request["Name"]
        crawl_id = str(uuid.uuid4())
        with state.lock:
            crawler = self._idle_crawler(state, name, "has already started")
            crawler["State"] = "RUNNING"
            state.crawls[name].append({"CrawlId": crawl_id, "State": "RUNNING", "StartTime": now(),
                                       "LogGroup": LOG_GROUP, "LogStream": name, "MessagePrefix": crawl_id,
                                       "DPUHour": 0.0})
            run = CrawlRun(state, name, crawl_id, ctx.account_id, ctx.region, ctx.s3(), ctx.logs(),
                           self.emulator.jobs)  # type: ignore[attr-defined]
            future = state.futures[name] = self.emulator.jobs.submit(run.run)  # type: ignore[attr-defined]
        self.emulator.jobs.wait(future)  # type: ignore[attr-defined]
        return {}

    def stop_crawler(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        name = request["Name"]
        with state.lock:
            crawler = self._crawler(state, name)
            if crawler["State"] == "STOPPING":
                raise ServiceError("CrawlerStoppingException", f"Crawler with name {name} is stopping")
            if crawler["State"] != "RUNNING":
                raise ServiceError("CrawlerNotRunningException", f"Crawler with name {name} isn't running")
            crawler["State"] = "STOPPING"
            state.stop_requested.add(name)
        return {}

    def get_crawler_metrics(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            names = request.get("CrawlerNameList") or sorted(state.crawlers)
            metrics = [{**(state.metrics.get(n) or _no_metrics(n)), "StillEstimating": state.crawlers[n]["State"] != "READY"}
                       for n in names if n in state.crawlers]
        items, token = page(metrics, request)
        return {"CrawlerMetricsList": items, "NextToken": token}

    def list_crawls(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            self._crawler(state, request["CrawlerName"])
            crawls = [copy.deepcopy(c) for c in reversed(state.crawls.get(request["CrawlerName"], []))]
        for condition in request.get("Filters") or []:
            crawls = [c for c in crawls if _matches(c, condition)]
        items, token = page(crawls, request, default=20)
        return {"Crawls": items, "NextToken": token}

    def update_crawler_schedule(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            crawler = self._crawler(state, request["CrawlerName"])
            previous = (crawler.get("Schedule") or {}).get("State", "SCHEDULED")
            crawler["Schedule"] = _schedule(request.get("Schedule"), previous)
            crawler["Version"] += 1
            crawler["LastUpdated"] = now()
        return {}

    def start_crawler_schedule(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return self._set_schedule_state(ctx, request["CrawlerName"], "SCHEDULED")

    def stop_crawler_schedule(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return self._set_schedule_state(ctx, request["CrawlerName"], "NOT_SCHEDULED")

    def _set_schedule_state(self, ctx: RequestContext, name: str, target: str) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            schedule = self._crawler(state, name).get("Schedule")
            if not schedule:
                if target == "SCHEDULED":
                    raise ServiceError("NoScheduleException", f"Crawler with name {name} has no schedule")
                raise ServiceError("SchedulerNotRunningException", f"Schedule for crawler {name} is not running")
            if schedule["State"] == target:
                code = "SchedulerRunningException" if target == "SCHEDULED" else "SchedulerNotRunningException"
                raise ServiceError(code, f"Schedule for crawler {name} is already {target}")
            schedule["State"] = target
        return {}


def _view(state: CrawlerState, crawler: dict[str, Any]) -> dict[str, Any]:
    """A copy of a crawler record, CrawlElapsedTime (ms) counting while a crawl runs."""
    view = copy.deepcopy(crawler)
    crawls = state.crawls.get(crawler["Name"]) or []
    if crawler["State"] != "READY" and crawls:
        view["CrawlElapsedTime"] = int((now() - crawls[-1]["StartTime"]).total_seconds() * 1000)
    return view


def _no_metrics(name: str) -> dict[str, Any]:
    return {"CrawlerName": name, "TimeLeftSeconds": 0.0, "StillEstimating": False, "LastRuntimeSeconds": 0.0,
            "MedianRuntimeSeconds": 0.0, "TablesCreated": 0, "TablesUpdated": 0, "TablesDeleted": 0}


def _has_tags(have: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(k in have and (not v or have[k] == v) for k, v in wanted.items())


_FIELDS = {"CRAWL_ID": "CrawlId", "STATE": "State", "START_TIME": "StartTime", "END_TIME": "EndTime", "DPU_HOUR": "DPUHour"}


def _matches(crawl: dict[str, Any], condition: dict[str, Any]) -> bool:
    """One ListCrawls filter (FieldName, FilterOperator, FieldValue)."""
    import datetime as dt

    field, operator, raw = _FIELDS.get(condition.get("FieldName", "")), condition.get("FilterOperator"), condition.get("FieldValue")
    if field is None or operator is None or raw is None:
        raise invalid("Each filter needs FieldName, FilterOperator and FieldValue")
    have = crawl.get(field)
    if have is None:
        return False
    want: Any = raw
    try:
        if field in ("StartTime", "EndTime"):
            want = dt.datetime.fromisoformat(raw.replace("Z", "+00:00")) if not raw.isdigit() else \
                dt.datetime.fromtimestamp(int(raw) / (1000 if len(raw) > 10 else 1), dt.timezone.utc)
            if want.tzinfo is None:
                want = want.replace(tzinfo=dt.timezone.utc)
        elif field == "DPUHour":
            want = float(raw)
    except ValueError as exc:
        raise invalid(f"Invalid FieldValue {raw!r} for {condition['FieldName']}") from exc
    if field in ("CrawlId", "State") and operator not in ("EQ", "NE"):
        raise invalid(f"Operator {operator} is not supported for {condition['FieldName']}")
    return {"EQ": have == want, "NE": have != want, "GT": have > want, "GE": have >= want,
            "LT": have < want, "LE": have <= want}[operator]
