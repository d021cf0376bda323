"""One crawl: read the crawler's S3 targets, infer schemas (engine), write the catalog per
the SchemaChangePolicy, log to ``/aws-glue/crawlers``, record LastCrawl and metrics."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import statistics
from typing import Any

from emulator import workers
from emulator.aws.logs import LogWriter
from emulator.aws.s3 import S3AccessError, S3Store
from emulator.engines import glue as engine
from emulator.jobs import JobRunner
from emulator.services.glue import catalog
from emulator.services.glue.crawler_state import CrawlerState

log = logging.getLogger(__name__)
LOG_GROUP = "/aws-glue/crawlers"
_FINAL_STATE = {"SUCCEEDED": "COMPLETED", "CANCELLED": "STOPPED", "FAILED": "FAILED"}
BATCH_BYTES = 64 << 20
"""Files are classified in worker processes, this many bytes (or one larger file) per batch."""


class CrawlStopped(Exception):
    """StopCrawler was called while the crawl ran."""


class CrawlFailed(Exception):
    """The crawl cannot go on; the message becomes LastCrawl.ErrorMessage."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def split_path(path: str) -> tuple[str, str]:
    """An S3 target path (``s3://bucket/prefix`` or ``bucket/prefix``) -> (bucket, key prefix)."""
    rest = path[5:] if path.startswith("s3://") else path
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise S3AccessError(f"Invalid S3 path: {path}")
    return bucket, prefix


class CrawlRun:
    """The background work of one StartCrawler."""

    def __init__(self, state: CrawlerState, name: str, crawl_id: str, account_id: str, region: str,
                 s3: S3Store, logs: LogWriter, jobs: JobRunner) -> None:
        self.state, self.name, self.crawl_id, self.jobs = state, name, crawl_id, jobs
        self.account_id, self.region, self.s3, self.logs = account_id, region, s3, logs
        self.lines: list[str] = []
        self.counts = {"created": 0, "updated": 0, "deleted": 0, "partitions": 0}
        with state.lock:
            self.crawler = json.loads(json.dumps(state.crawlers[name], default=str))  # a snapshot

    def log(self, level: str, message: str) -> None:
        self.lines.append(f"[{self.crawl_id}] {level} : {message}")

    def check_stop(self) -> None:
        if self.name in self.state.stop_requested:
            raise CrawlStopped()

    def run(self) -> None:
        """The whole crawl; every exit leaves the crawler READY with a LastCrawl."""
        status, error = "SUCCEEDED", None
        self.log("BENCHMARK", f"Running Start Crawl for Crawler {self.name}")
        try:
            database = self.crawler["DatabaseName"]
            if not database or not catalog.database_exists(self.account_id, self.region, database):
                raise CrawlFailed(f"Database {database} not found.")
            plans = self.crawl_targets()
            self.check_stop()
            self.set_state("STOPPING")
            self.log("BENCHMARK", f"Classification complete, writing results to database {database}")
            self.write(database, plans)
        except CrawlStopped:
            status = "CANCELLED"
            self.log("INFO", "Crawler stopped by user request; no tables were written")
        except CrawlFailed as exc:
            status, error = "FAILED", str(exc)
            self.log("ERROR", str(exc))
        except Exception as exc:  # a bug must still leave the crawler READY
            status, error = "FAILED", f"Internal Service Exception: {type(exc).__name__}: {exc}"
            self.log("ERROR", error)
        self.log("BENCHMARK", "Crawler has finished running and is in state READY")
        self.finish(status, error)

    def set_state(self, value: str) -> None:
        with self.state.lock:
            self.state.crawlers[self.name]["State"] = value

    def configuration(self) -> dict[str, Any]:
        """The crawler's Configuration JSON (validated at CreateCrawler / UpdateCrawler)."""
        try:
            return json.loads(self.crawler.get("Configuration") or "{}")
        except json.JSONDecodeError:
            return {}

    # ---- reading --------------------------------------------------------------------------------

    def classifiers(self) -> list[dict[str, Any]]:
        with self.state.lock:
            found = [self.state.classifiers.get(n) for n in self.crawler.get("Classifiers") or []]
        for name, spec in zip(self.crawler.get("Classifiers") or [], found):
            if spec is None:
                self.log("WARN", f"Classifier {name} not found; skipped")
        return [spec for spec in found if spec]

    def crawl_targets(self) -> list[tuple[str, engine.TablePlan]]:
        """(table location root, plan) for every table found under the S3 targets."""
        classifiers = self.classifiers()
        targets = self.crawler.get("Targets") or {}
        for kind, items in targets.items():
            if kind != "S3Targets" and items:
                self.log("WARN", f"{kind} are not crawled by the emulator; skipped")
        plans: list[tuple[str, engine.TablePlan]] = []
        for target in targets.get("S3Targets") or []:
            plans += self.crawl_s3_target(target, classifiers)
        return plans

    def crawl_s3_target(self, target: dict[str, Any], classifiers: list[dict[str, Any]]) -> list[tuple[str, engine.TablePlan]]:
        path = target.get("Path") or ""
        try:
            bucket, prefix = split_path(path)
            single = prefix and not prefix.endswith("/") and prefix in self.s3.list_keys(bucket, prefix)
            if single:  # the path names one object
                parent, _, root = prefix.rpartition("/")
                folder, keys = (parent + "/" if parent else ""), [prefix]
            else:
                folder = prefix if not prefix or prefix.endswith("/") else prefix + "/"
                keys, root = self.s3.list_keys(bucket, folder), (folder.rstrip("/").rsplit("/", 1)[-1] or bucket)
        except S3AccessError as exc:
            self.log("ERROR", f"Cannot read S3 target {path}: {exc}")
            return []
        self.log("INFO", f"Crawling S3 target {path}")
        exclusions = list(target.get("Exclusions") or [])
        sample_size = target.get("SampleSize")
        per_folder: dict[str, int] = {}
        selected: list[str] = []
        for key in keys:
            relative = key[len(folder):]
            if engine.ignored(relative) or engine.excluded(relative, exclusions):
                continue
            parent = relative.rsplit("/", 1)[0] if "/" in relative else ""
            if sample_size and per_folder.get(parent, 0) >= sample_size:
                continue
            per_folder[parent] = per_folder.get(parent, 0) + 1
            selected.append(key)
        files = [engine.CrawledFile(tuple(key[len(folder):].split("/")), schema)
                 for key, schema in self.classify(bucket, selected, classifiers)]
        base = f"s3://{bucket}/{folder}"
        grouping = self.configuration().get("Grouping") or {}
        plans = engine.plan_tables(files, root, combine=grouping.get("TableGroupingPolicy") == "CombineCompatibleSchemas",
                                   table_level=grouping.get("TableLevelConfiguration"),
                                   root_depth=len([p for p in folder.split("/") if p]))
        if single:  # a target naming one object: the table is that object
            return [(f"s3://{bucket}/{prefix}", p) for p in plans]
        return [(base + p.folder, p) for p in plans]

    def classify(self, bucket: str, keys: list[str], classifiers: list[dict[str, Any]]
                 ) -> list[tuple[str, engine.FileSchema]]:
        """(key, schema) of every readable object, classified in worker processes in batches
        of about ``BATCH_BYTES``; unreadable ones are logged and skipped."""
        found: list[tuple[str, engine.FileSchema]] = []
        batch: list[tuple[str, bytes]] = []
        size = 0
        for index, key in enumerate(keys):
            self.check_stop()
            try:
                data = self.s3.get(bucket, key)
            except S3AccessError as exc:
                self.log("WARN", f"Skipping s3://{bucket}/{key}: {exc}")
                data = None
            if data is not None:
                batch.append((key, data))
                size += len(data)
            if batch and (size >= BATCH_BYTES or index == len(keys) - 1):
                found += self._classify_batch(bucket, batch, classifiers)
                batch, size = [], 0
        return found

    def _classify_batch(self, bucket: str, batch: list[tuple[str, bytes]], classifiers: list[dict[str, Any]]
                        ) -> list[tuple[str, engine.FileSchema]]:
        try:
            results = self.jobs.work("emulator.engines.glue.formats:classify_many", batch, classifiers,
                                     cancel=lambda: self.name in self.state.stop_requested)
        except workers.WorkerCancelled as exc:
            if self.name in self.state.stop_requested:
                raise CrawlStopped() from exc
            raise CrawlFailed(f"Crawl cancelled: {exc}") from exc
        except workers.WorkerError as exc:  # out of memory, crashed: the crawl fails, the server does not
            raise CrawlFailed(f"Internal Service Exception: classifying {len(batch)} file(s): {exc}") from exc
        found = []
        for (key, _), result in zip(batch, results):
            if isinstance(result, str):
                self.log("WARN", f"Skipping s3://{bucket}/{key}: {result}")
            else:
                found.append((key, result))
        return found

    # ---- writing --------------------------------------------------------------------------------

    def write(self, database: str, plans: list[tuple[str, engine.TablePlan]]) -> None:
        policy = self.crawler.get("SchemaChangePolicy") or {}
        update = policy.get("UpdateBehavior", "UPDATE_IN_DATABASE")
        created_by = f"arn:aws:sts::{self.account_id}:assumed-role/{self.crawler['Role'].rsplit('/', 1)[-1]}/AWS-Crawler"
        prefix = (self.crawler.get("TablePrefix") or "").lower()
        written: set[str] = set()
        for location, plan in plans:
            name = prefix + engine.catalog_name(plan.name)
            if name in written:  # two folders with the same name: Glue appends a hash
                name = f"{name}_{hashlib.md5(location.encode()).hexdigest()[:8]}"
            written.add(name)
            table = engine.table_input(plan, name, location, self.name, created_by)
            partitions = [engine.partition_input(plan, p, location, self.name) for p in plan.partitions]
            self.write_table(database, table, partitions, update)
        self.retire(database, written, policy.get("DeleteBehavior", "DEPRECATE_IN_DATABASE"))

    def write_table(self, database: str, table: dict[str, Any], partitions: list[dict[str, Any]], update: str) -> None:
        acct, region, name = self.account_id, self.region, table["Name"]
        try:
            existing = catalog.get_table(acct, region, database, name)
        except catalog.CatalogEntityNotFound:
            catalog.create_table(acct, region, database, table)
            self.add_partitions(database, name, partitions, [])
            self.counts["created"] += 1
            self.log("INFO", f"Created table {name} in database {database}")
            return
        old_partitions = catalog.get_partitions(acct, region, database, name)
        changed = any(_differs(existing, table, key) for key in ("StorageDescriptor", "PartitionKeys", "Parameters"))
        if update == "LOG":
            if changed:
                self.log("WARN", f"Table {name} in database {database} has changed; not updated "
                                 "(SchemaChangePolicy.UpdateBehavior LOG)")
            known = {tuple(p["Values"]) for p in old_partitions}
            self.add_partitions(database, name, [p for p in partitions if tuple(p["Values"]) not in known], [])
            return
        tables_config = (self.configuration().get("CrawlerOutput") or {}).get("Tables") or {}
        if tables_config.get("AddOrUpdateBehavior") == "MergeNewColumns":  # keep old columns and types, add new ones
            old_columns = (existing.get("StorageDescriptor") or {}).get("Columns") or []
            known = {c["Name"] for c in old_columns}
            merged = old_columns + [c for c in table["StorageDescriptor"]["Columns"] if c["Name"] not in known]
            for entry in [table] + partitions:
                entry["StorageDescriptor"]["Columns"] = merged
            changed = any(_differs(existing, table, key) for key in ("StorageDescriptor", "PartitionKeys", "Parameters"))
        if changed:
            catalog.update_table(acct, region, database, {**table, "CreatedBy": existing.get("CreatedBy", table["CreatedBy"])})
            self.counts["updated"] += 1
            self.log("INFO", f"Updated table {name} in database {database}")
        self.add_partitions(database, name, partitions, old_partitions)

    def add_partitions(self, database: str, table: str, partitions: list[dict[str, Any]], old: list[dict[str, Any]]) -> None:
        if partitions:
            catalog.create_partitions(self.account_id, self.region, database, table, partitions)
            self.counts["partitions"] += len(partitions)
        current = {tuple(p["Values"]) for p in partitions}
        gone = [p["Values"] for p in old if tuple(p["Values"]) not in current]
        policy = (self.crawler.get("SchemaChangePolicy") or {}).get("DeleteBehavior", "DEPRECATE_IN_DATABASE")
        for values in gone:
            if policy == "DELETE_FROM_DATABASE":
                catalog.delete_partition(self.account_id, self.region, database, table, values)
                self.log("INFO", f"Deleted partition {values} of table {table}: its folder is gone")
            else:
                self.log("WARN", f"Partition {values} of table {table} has no data any more; kept ({policy})")

    def retire(self, database: str, written: set[str], policy: str) -> None:
        """Tables this crawler wrote before whose data is gone, per DeleteBehavior."""
        roots = []
        for target in (self.crawler.get("Targets") or {}).get("S3Targets") or []:
            try:
                bucket, prefix = split_path(target.get("Path") or "")
                roots.append(f"s3://{bucket}/{prefix}")
            except S3AccessError:
                continue
        for table in catalog.get_tables(self.account_id, self.region, database):
            params = table.get("Parameters") or {}
            location = (table.get("StorageDescriptor") or {}).get("Location") or ""
            if (table["Name"] in written or params.get("UPDATED_BY_CRAWLER") != self.name
                    or not any(location == r or location.startswith(r.rstrip("/") + "/") for r in roots)):
                continue
            if policy == "DELETE_FROM_DATABASE":
                catalog.delete_table(self.account_id, self.region, database, table["Name"])
                self.counts["deleted"] += 1
                self.log("INFO", f"Deleted table {table['Name']}: its data is gone")
            elif policy == "DEPRECATE_IN_DATABASE" and "DEPRECATED_BY_CRAWLER" not in params:
                keep = {k: v for k, v in table.items() if k in _TABLE_INPUT_KEYS}
                keep["Parameters"] = {**params, "DEPRECATED_BY_CRAWLER": self.name}
                catalog.update_table(self.account_id, self.region, database, keep)
                self.counts["deleted"] += 1
                self.log("INFO", f"Deprecated table {table['Name']}: its data is gone")
            else:
                self.log("WARN", f"Table {table['Name']} has no data any more; kept ({policy})")

    # ---- the end --------------------------------------------------------------------------------

    def finish(self, status: str, error: str | None) -> None:
        ended = now()
        summary = {"TABLE": {"ADD": {"Count": self.counts["created"]}, "UPDATE": {"Count": self.counts["updated"]},
                             "DELETE": {"Count": self.counts["deleted"]}},
                   "PARTITION": {"ADD": {"Count": self.counts["partitions"]}}}
        if self.lines:
            try:
                self.logs.write(LOG_GROUP, self.name, self.lines)
            except Exception:  # losing the log must not leave the crawler RUNNING
                log.exception("could not write the crawl log of %s", self.name)
        with self.state.lock:
            crawler = self.state.crawlers.get(self.name)
            crawl = next((c for c in self.state.crawls.get(self.name, []) if c["CrawlId"] == self.crawl_id), None)
            seconds = (ended - crawl["StartTime"]).total_seconds() if crawl else 0.0
            if crawl is not None:
                crawl.update(State=_FINAL_STATE[status], EndTime=ended, Summary=json.dumps(summary),
                             DPUHour=round(seconds / 3600 * 2, 6))
                if error:
                    crawl["ErrorMessage"] = error
            if crawler is not None:
                crawler["LastCrawl"] = {"Status": status, "LogGroup": LOG_GROUP, "LogStream": self.name,
                                        "MessagePrefix": self.crawl_id, "StartTime": crawl["StartTime"] if crawl else ended,
                                        **({"ErrorMessage": error} if error else {})}
                crawler["CrawlElapsedTime"] = 0
                crawler["State"] = "READY"
            runtimes = [(c["EndTime"] - c["StartTime"]).total_seconds()
                        for c in self.state.crawls.get(self.name, []) if c.get("EndTime")]
            self.state.metrics[self.name] = {
                "CrawlerName": self.name, "TimeLeftSeconds": 0.0, "StillEstimating": False,
                "LastRuntimeSeconds": round(seconds, 3),
                "MedianRuntimeSeconds": round(statistics.median(runtimes), 3) if runtimes else round(seconds, 3),
                "TablesCreated": self.counts["created"], "TablesUpdated": self.counts["updated"],
                "TablesDeleted": self.counts["deleted"]}
            self.state.stop_requested.discard(self.name)


_TABLE_INPUT_KEYS = ("Name", "Description", "Owner", "LastAccessTime", "LastAnalyzedTime", "Retention",
                     "StorageDescriptor", "PartitionKeys", "ViewOriginalText", "ViewExpandedText", "TableType",
                     "Parameters", "TargetTable", "CreatedBy", "IsRegisteredWithLakeFormation")


def _differs(existing: dict[str, Any], new: dict[str, Any], key: str) -> bool:
    return json.dumps(existing.get(key), sort_keys=True, default=str) != json.dumps(new.get(key), sort_keys=True, default=str)
