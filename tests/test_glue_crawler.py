"""Glue crawlers against the live emulator with boto3: real crawls of S3 data, the tables,
columns, types and partitions they write, recrawls per SchemaChangePolicy, and errors."""

from __future__ import annotations

import csv
import gzip
import io
import json
import threading
import time
import uuid
from typing import Any, Callable

import botocore.exceptions
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clients.testing import RunningEmulator
from tests.engines.test_glue_crawler import _diabetes

ROLE = "arn:aws:iam::123456789012:role/AWSGlueServiceRole-test"


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _error(call: Callable[..., Any], **kwargs: Any) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"]


def _crawl(glue: Any, name: str, deadline: float = 60.0) -> dict[str, Any]:
    """StartCrawler, then poll GetCrawler until READY (as users do); the crawler record."""
    glue.start_crawler(Name=name)
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        crawler = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == "READY":
            return crawler
        time.sleep(0.05)
    raise AssertionError(f"crawler {name} not READY after {deadline}s")


def _columns(table: dict[str, Any]) -> dict[str, str]:
    return {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}


def _parquet(rows: dict[str, list[Any]]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(rows), buffer)
    return buffer.getvalue()


def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def aws(emulator: RunningEmulator) -> Callable[..., Any]:
    """Clients made once per module (building a boto3 client costs a CPU-bound half second)."""
    cache: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in cache:
            cache[service] = emulator.client(service)
        return cache[service]

    return client


@pytest.fixture
def database(aws: Callable[..., Any]) -> str:
    name = _name("db_")
    aws("glue").create_database(DatabaseInput={"Name": name})
    return name


def test_crawl_of_csv_json_partitioned_parquet_and_gzip(aws: Callable[..., Any], bucket: str, database: str) -> None:
    s3, glue = aws("s3"), aws("glue")
    sales = [["id", "name", "price", "sold_on"]] + [[i, f"item {i}", i * 1.25, f"2024-01-{i:02d}"] for i in range(1, 8)]
    s3.put_object(Bucket=bucket, Key="lake/sales/part-0.csv", Body=_csv(sales))
    s3.put_object(Bucket=bucket, Key="lake/sales/_SUCCESS", Body=b"")
    events = [{"id": i, "user": {"name": f"u{i}", "vip": i % 2 == 0}, "tags": ["a", "b"][: i % 3], "score": i / 2}
              for i in range(5)]
    s3.put_object(Bucket=bucket, Key="lake/events/events.json", Body="\n".join(json.dumps(e) for e in events).encode())
    metric_rows = {}
    for year in ("2023", "2024"):
        for month in ("01", "02"):
            rows = {"sensor": ["a", "b", "c"], "value": [1.5, 2.5, float(month)], "count": [1, 2, int(year)]}
            metric_rows[(year, month)] = 3
            s3.put_object(Bucket=bucket, Key=f"lake/metrics/year={year}/month={month}/data.parquet", Body=_parquet(rows))
    logs_csv = _csv([["level", "code"], ["INFO", 1], ["WARN", 2], ["ERROR", 3]])
    s3.put_object(Bucket=bucket, Key="lake/logs/day.csv.gz", Body=gzip.compress(logs_csv))
    s3.put_object(Bucket=bucket, Key="lake/scratch/tmp.csv", Body=_csv(sales))  # excluded
    s3.put_object(Bucket=bucket, Key="lake/broken/blob.bin", Body=bytes(range(256)) * 4)  # unreadable
    crawler = _name("crawler-")
    glue.create_crawler(Name=crawler, Role=ROLE, DatabaseName=database,
                        Targets={"S3Targets": [{"Path": f"s3://{bucket}/lake/", "Exclusions": ["scratch/**"]}]})

    state = _crawl(glue, crawler)

    assert state["LastCrawl"]["Status"] == "SUCCEEDED"
    assert state["LastCrawl"]["LogGroup"] == "/aws-glue/crawlers" and state["LastCrawl"]["LogStream"] == crawler
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=database)["TableList"]}
    assert set(tables) == {"sales", "events", "metrics", "logs"}
    assert _columns(tables["sales"]) == {"id": "bigint", "name": "string", "price": "double", "sold_on": "string"}
    assert _columns(tables["events"]) == {"id": "int", "user": "struct<name:string,vip:boolean>",
                                          "tags": "array<string>", "score": "double"}
    assert _columns(tables["metrics"]) == {"sensor": "string", "value": "double", "count": "bigint"}
    assert tables["metrics"]["PartitionKeys"] == [{"Name": "year", "Type": "string"},
                                                  {"Name": "month", "Type": "string"}]
    assert _columns(tables["logs"]) == {"level": "string", "code": "bigint"}

    sales_params = tables["sales"]["Parameters"]
    assert sales_params["classification"] == "csv" and sales_params["recordCount"] == str(len(sales) - 1)
    assert sales_params["skip.header.line.count"] == "1" and sales_params["delimiter"] == ","
    assert sales_params["sizeKey"] == str(len(_csv(sales))) and sales_params["objectCount"] == "1"
    assert sales_params["UPDATED_BY_CRAWLER"] == crawler and sales_params["CrawlerSchemaSerializerVersion"] == "1.0"
    descriptor = tables["sales"]["StorageDescriptor"]
    assert descriptor["Location"] == f"s3://{bucket}/lake/sales/"
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
    assert tables["events"]["Parameters"]["recordCount"] == str(len(events))
    assert tables["events"]["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert tables["metrics"]["Parameters"]["classification"] == "parquet"
    assert tables["metrics"]["Parameters"]["recordCount"] == str(sum(metric_rows.values()))
    assert tables["logs"]["Parameters"]["compressionType"] == "gzip"
    assert tables["logs"]["Parameters"]["recordCount"] == "3"

    partitions = glue.get_partitions(DatabaseName=database, TableName="metrics")["Partitions"]
    assert sorted(tuple(p["Values"]) for p in partitions) == sorted(metric_rows)
    for partition in partitions:
        year, month = partition["Values"]
        assert partition["StorageDescriptor"]["Location"] == f"s3://{bucket}/lake/metrics/year={year}/month={month}/"
        assert partition["Parameters"]["recordCount"] == "3"
    assert glue.get_partitions(DatabaseName=database, TableName="metrics", Expression="year = '2024'")["Partitions"]

    events_log = aws("logs").get_log_events(logGroupName="/aws-glue/crawlers", logStreamName=crawler)["events"]
    text = "\n".join(e["message"] for e in events_log)
    assert "lake/broken/blob.bin" in text and "Skipping" in text
    assert state["LastCrawl"]["MessagePrefix"] in text

    metrics = glue.get_crawler_metrics(CrawlerNameList=[crawler])["CrawlerMetricsList"][0]
    assert metrics["TablesCreated"] == 4 and metrics["TablesUpdated"] == 0 and metrics["LastRuntimeSeconds"] >= 0
    crawls = glue.list_crawls(CrawlerName=crawler)["Crawls"]
    assert len(crawls) == 1 and crawls[0]["State"] == "COMPLETED"
    assert json.loads(crawls[0]["Summary"])["TABLE"]["ADD"]["Count"] == 4
    state_filter = [{"FieldName": "STATE", "FilterOperator": "EQ", "FieldValue": "FAILED"}]
    assert glue.list_crawls(CrawlerName=crawler, Filters=state_filter)["Crawls"] == []


def test_diabetes_seed_table(aws: Callable[..., Any], bucket: str, database: str) -> None:
    """Seed 000: diabetes.csv at the bucket root, crawled through the bucket (and as one file)."""
    import pandas as pd

    data = _diabetes()
    aws("s3").put_object(Bucket=bucket, Key="diabetes.csv", Body=data)
    glue = aws("glue")
    for crawler, path, prefix in ((_name("seed-"), f"s3://{bucket}", "p_"), (_name("seed-"), f"s3://{bucket}/diabetes.csv", "")):
        glue.create_crawler(Name=crawler, Role=ROLE, DatabaseName=database, TablePrefix=prefix,
                            Targets={"S3Targets": [{"Path": path}]})
        assert _crawl(glue, crawler)["LastCrawl"]["Status"] == "SUCCEEDED"
    frame = pd.read_csv(io.BytesIO(data))
    names = {t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"]}
    assert names == {"p_" + bucket.replace("-", "_"), "diabetes_csv"}
    for name in names:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        columns = _columns(table)
        assert list(columns) == [c.lower() for c in frame.columns]
        assert columns["recordid"] == "bigint" and columns["bmi"] == "double" and columns["outcome"] == "bigint"
        assert table["Parameters"]["recordCount"] == str(len(frame))
    assert glue.get_table(DatabaseName=database, Name="diabetes_csv")["Table"]["StorageDescriptor"]["Location"] == \
        f"s3://{bucket}/diabetes.csv"


@pytest.mark.parametrize("behavior", ["UPDATE_IN_DATABASE", "LOG"])
def test_recrawl_after_schema_change_follows_update_behavior(aws: Callable[..., Any], bucket: str, database: str,
                                                             behavior: str) -> None:
    s3, glue = aws("s3"), aws("glue")
    s3.put_object(Bucket=bucket, Key="t/people/a.csv", Body=_csv([["id", "name"], [1, "a"], [2, "b"]]))
    crawler = _name("recrawl-")
    glue.create_crawler(Name=crawler, Role=ROLE, DatabaseName=database, Targets={"S3Targets": [{"Path": f"s3://{bucket}/t/"}]},
                        SchemaChangePolicy={"UpdateBehavior": behavior, "DeleteBehavior": "LOG"})
    _crawl(glue, crawler)
    assert _columns(glue.get_table(DatabaseName=database, Name="people")["Table"]) == {"id": "bigint", "name": "string"}

    s3.put_object(Bucket=bucket, Key="t/people/a.csv", Body=_csv([["id", "name", "age"], [1, "a", 30], [2, "b", 40],
                                                                   [3, "c", 50]]))
    _crawl(glue, crawler)

    table = glue.get_table(DatabaseName=database, Name="people")["Table"]
    metrics = glue.get_crawler_metrics(CrawlerNameList=[crawler])["CrawlerMetricsList"][0]
    log = "\n".join(e["message"] for e in aws("logs").get_log_events(
        logGroupName="/aws-glue/crawlers", logStreamName=crawler)["events"])
    if behavior == "UPDATE_IN_DATABASE":
        assert _columns(table) == {"id": "bigint", "name": "string", "age": "bigint"}
        assert table["Parameters"]["recordCount"] == "3" and metrics["TablesUpdated"] == 1
        versions = glue.get_table_versions(DatabaseName=database, TableName="people")["TableVersions"]
        assert len(versions) == 2
    else:
        assert _columns(table) == {"id": "bigint", "name": "string"} and table["Parameters"]["recordCount"] == "2"
        assert metrics["TablesUpdated"] == 0 and "not updated" in log
    assert metrics["TablesCreated"] == 0


@pytest.mark.parametrize("behavior", ["DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE", "LOG"])
def test_delete_behavior_when_data_is_gone(aws: Callable[..., Any], bucket: str, database: str, behavior: str) -> None:
    s3, glue = aws("s3"), aws("glue")
    s3.put_object(Bucket=bucket, Key="d/keep/a.csv", Body=_csv([["k", "v"], ["a", 1]]))
    s3.put_object(Bucket=bucket, Key="d/gone/a.json", Body=b'{"x": 1}\n{"x": 2}\n')
    for day in ("1", "2"):
        s3.put_object(Bucket=bucket, Key=f"d/part/day={day}/a.csv", Body=_csv([["k", "v"], ["a", 1]]))
    crawler = _name("delete-")
    glue.create_crawler(Name=crawler, Role=ROLE, DatabaseName=database, Targets={"S3Targets": [{"Path": f"s3://{bucket}/d/"}]},
                        SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": behavior})
    _crawl(glue, crawler)
    assert {t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"]} == {"keep", "gone", "part"}
    s3.delete_object(Bucket=bucket, Key="d/gone/a.json")
    s3.delete_object(Bucket=bucket, Key="d/part/day=2/a.csv")
    _crawl(glue, crawler)

    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=database)["TableList"]}
    days = sorted(p["Values"][0] for p in glue.get_partitions(DatabaseName=database, TableName="part")["Partitions"])
    if behavior == "DELETE_FROM_DATABASE":
        assert set(tables) == {"keep", "part"} and days == ["1"]
    elif behavior == "DEPRECATE_IN_DATABASE":
        assert tables["gone"]["Parameters"]["DEPRECATED_BY_CRAWLER"] == crawler and days == ["1", "2"]
    else:
        assert "DEPRECATED_BY_CRAWLER" not in tables["gone"]["Parameters"] and days == ["1", "2"]


def test_custom_classifiers_are_applied_and_managed(aws: Callable[..., Any], bucket: str, database: str) -> None:
    s3, glue = aws("s3"), aws("glue")
    grok, csv_name = _name("grok-"), _name("csv-")
    glue.create_classifier(GrokClassifier={"Name": grok, "Classification": "applog",
                                           "GrokPattern": "%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:level} %{INT:code:int} %{GREEDYDATA:msg}"})
    glue.create_classifier(CsvClassifier={"Name": csv_name, "Delimiter": ";", "ContainsHeader": "ABSENT",
                                          "Header": ["Key", "Amount"]})
    assert _error(glue.create_classifier, JsonClassifier={"Name": grok, "JsonPath": "$[*]"}) == "AlreadyExistsException"
    assert _error(glue.create_classifier, GrokClassifier={"Name": _name("g"), "Classification": "x",
                                                          "GrokPattern": "%{NOPE:x}"}) == "InvalidInputException"
    assert _error(glue.create_classifier) == "InvalidInputException"
    assert glue.get_classifier(Name=csv_name)["Classifier"]["CsvClassifier"]["Delimiter"] == ";"
    s3.put_object(Bucket=bucket, Key="c/app/log.txt", Body=b"2024-01-01T00:00:00Z INFO 200 started\n"
                                                           b"2024-01-01T00:00:05Z ERROR 500 failed hard\n")
    s3.put_object(Bucket=bucket, Key="c/amounts/a.txt", Body=b"a;1\nb;2\nc;3\n")
    crawler = _name("classify-")
    glue.create_crawler(Name=crawler, Role=ROLE, DatabaseName=database, Classifiers=[grok, csv_name],
                        Targets={"S3Targets": [{"Path": f"s3://{bucket}/c/"}]})
    _crawl(glue, crawler)
    app = glue.get_table(DatabaseName=database, Name="app")["Table"]
    assert app["Parameters"]["classification"] == "applog"
    assert _columns(app) == {"ts": "string", "level": "string", "code": "int", "msg": "string"}
    amounts = glue.get_table(DatabaseName=database, Name="amounts")["Table"]
    assert _columns(amounts) == {"key": "string", "amount": "bigint"} and amounts["Parameters"]["recordCount"] == "3"

    glue.update_classifier(CsvClassifier={"Name": csv_name, "Delimiter": "|"})
    updated = glue.get_classifier(Name=csv_name)["Classifier"]["CsvClassifier"]
    assert updated["Delimiter"] == "|" and updated["Version"] == 2
    names = {next(iter(c.values()))["Name"] for c in glue.get_classifiers()["Classifiers"]}
    assert {grok, csv_name} <= names
    glue.delete_classifier(Name=csv_name)
    assert _error(glue.get_classifier, Name=csv_name) == "EntityNotFoundException"
    assert _error(glue.delete_classifier, Name=csv_name) == "EntityNotFoundException"


def test_crawler_crud_errors_tags_and_paging(aws: Callable[..., Any], bucket: str, database: str) -> None:
    glue = aws("glue")
    name = _name("crud-")
    targets = {"S3Targets": [{"Path": f"s3://{bucket}/x/"}]}
    glue.create_crawler(Name=name, Role=ROLE, DatabaseName=database, Targets=targets, Tags={"team": "data"},
                        Schedule="cron(0 12 * * ? *)")
    crawler = glue.get_crawler(Name=name)["Crawler"]
    assert crawler["State"] == "READY" and crawler["Version"] == 1 and crawler["Schedule"]["State"] == "SCHEDULED"
    assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "DEPRECATE_IN_DATABASE"}
    assert crawler["Targets"]["S3Targets"] == [{"Path": f"s3://{bucket}/x/", "Exclusions": []}]
    assert _error(glue.create_crawler, Name=name, Role=ROLE, Targets=targets) == "AlreadyExistsException"
    assert _error(glue.create_crawler, Name=_name("c"), Role=ROLE, Targets=targets, Schedule="every day") == "InvalidInputException"
    assert _error(glue.create_crawler, Name=_name("c"), Role=ROLE, Targets=targets,
                  RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}) == "InvalidInputException"
    for call in (glue.get_crawler, glue.start_crawler, glue.stop_crawler, glue.delete_crawler):
        assert _error(call, Name="no-such-crawler") == "EntityNotFoundException"
    assert _error(glue.stop_crawler, Name=name) == "CrawlerNotRunningException"

    glue.update_crawler(Name=name, Description="updated", TablePrefix="x_")
    crawler = glue.get_crawler(Name=name)["Crawler"]
    assert crawler["Version"] == 2 and crawler["Description"] == "updated" and crawler["TablePrefix"] == "x_"
    glue.stop_crawler_schedule(CrawlerName=name)
    assert glue.get_crawler(Name=name)["Crawler"]["Schedule"]["State"] == "NOT_SCHEDULED"
    assert _error(glue.stop_crawler_schedule, CrawlerName=name) == "SchedulerNotRunningException"
    glue.start_crawler_schedule(CrawlerName=name)
    assert _error(glue.start_crawler_schedule, CrawlerName=name) == "SchedulerRunningException"

    arn = f"arn:aws:glue:us-east-1:123456789012:crawler/{name}"
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "data"}
    assert name in glue.list_crawlers(Tags={"team": "data"})["CrawlerNames"]
    assert name not in glue.list_crawlers(Tags={"team": "other"})["CrawlerNames"]
    other = _name("crud-")
    glue.create_crawler(Name=other, Role=ROLE, Targets=targets)
    found = glue.batch_get_crawlers(CrawlerNames=[name, "missing-one"])
    assert [c["Name"] for c in found["Crawlers"]] == [name] and found["CrawlersNotFound"] == ["missing-one"]

    seen, token = [], None
    while True:
        page = glue.get_crawlers(MaxResults=1, **({"NextToken": token} if token else {}))
        assert len(page["Crawlers"]) <= 1
        seen += [c["Name"] for c in page["Crawlers"]]
        token = page.get("NextToken")
        if not token:
            break
    assert {name, other} <= set(seen) and len(seen) == len(set(seen))
    assert _error(glue.get_crawlers, NextToken="not-a-token") == "InvalidInputException"

    # a crawl into a database that does not exist fails with a message, and the crawler is READY again
    glue.update_crawler(Name=other, DatabaseName="no_such_database")
    last = _crawl(glue, other)["LastCrawl"]
    assert last["Status"] == "FAILED" and "no_such_database" in last["ErrorMessage"]
    glue.delete_crawler(Name=name)
    assert _error(glue.get_crawler, Name=name) == "EntityNotFoundException"
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {}


def test_catalog_reads_page_and_answer_modelled_errors(aws: Callable[..., Any], database: str) -> None:
    glue = aws("glue")
    for i in range(5):
        glue.create_table(DatabaseName=database, TableInput={"Name": f"t{i}", "PartitionKeys": [{"Name": "p", "Type": "string"}]})
    for value in ("a", "b", "c"):
        glue.create_partition(DatabaseName=database, TableName="t0", PartitionInput={"Values": [value]})
    names, token = [], None
    while True:
        page = glue.get_tables(DatabaseName=database, MaxResults=2, **({"NextToken": token} if token else {}))
        assert len(page["TableList"]) <= 2
        names += [t["Name"] for t in page["TableList"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == [f"t{i}" for i in range(5)]
    paginator = glue.get_paginator("get_partitions")
    pages = list(paginator.paginate(DatabaseName=database, TableName="t0", PaginationConfig={"PageSize": 2}))
    assert [len(p["Partitions"]) for p in pages] == [2, 1]
    databases = [d["Name"] for p in glue.get_paginator("get_databases").paginate(PaginationConfig={"PageSize": 1})
                 for d in p["DatabaseList"]]
    assert database in databases and len(databases) == len(set(databases))
    assert _error(glue.get_tables, DatabaseName=database, NextToken="garbage") == "InvalidInputException"
    assert _error(glue.get_tables, DatabaseName="no_such_db") == "EntityNotFoundException"
    assert _error(glue.get_partitions, DatabaseName=database, TableName="nope") == "EntityNotFoundException"
    assert _error(glue.get_partitions, DatabaseName=database, TableName="t0", Expression="p = = ") == "InvalidInputException"
    assert _error(glue.create_table, DatabaseName=database, TableInput={"Name": "t0"}) == "AlreadyExistsException"
    assert _error(glue.create_table, DatabaseName="no_such_db", TableInput={"Name": "x"}) == "EntityNotFoundException"
    assert _error(glue.create_table, DatabaseName=database, Name="noinput") == "InvalidInputException"
    assert _error(glue.update_table, DatabaseName=database, Name="t1") == "InvalidInputException"
    glue.update_table(DatabaseName=database, TableInput={"Name": "t1", "Description": "v2"}, VersionId="1")
    assert glue.get_table(DatabaseName=database, Name="t1")["Table"]["Description"] == "v2"
    assert _error(glue.update_table, DatabaseName=database, TableInput={"Name": "t1"}, VersionId="1") == \
        "ConcurrentModificationException"
    # moto serves GetConnections; its "InvalidToken" becomes the model's InvalidInputException
    assert _error(glue.get_connections, NextToken="garbage") == "InvalidInputException"


def test_running_crawler_states_stop_and_double_start(emulator: RunningEmulator, aws: Callable[..., Any], bucket: str,
                                                      database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a crawl is still reading its targets, the crawler stays RUNNING: a second start, an
    update and a delete are refused, StopCrawler moves it to STOPPING and the crawl ends CANCELLED."""
    from emulator.services.glue.crawl import CrawlRun

    glue, jobs = aws("glue"), emulator.app.emulator.jobs
    aws("s3").put_object(Bucket=bucket, Key="s/a/a.csv", Body=_csv([["k", "v"], ["a", 1]]))
    crawler = _name("stop-")
    glue.create_crawler(Name=crawler, Role=ROLE, DatabaseName=database, Targets={"S3Targets": [{"Path": f"s3://{bucket}/s/"}]})
    monkeypatch.setattr(jobs, "grace_seconds", 0.0)
    release = threading.Event()
    reading = CrawlRun.crawl_targets

    def held_crawl_targets(run: CrawlRun) -> Any:  # the crawl reads its targets only once released
        release.wait(30)
        return reading(run)

    monkeypatch.setattr(CrawlRun, "crawl_targets", held_crawl_targets)
    try:
        glue.start_crawler(Name=crawler)
        assert glue.get_crawler(Name=crawler)["Crawler"]["State"] == "RUNNING"
        assert _error(glue.start_crawler, Name=crawler) == "CrawlerRunningException"
        assert _error(glue.update_crawler, Name=crawler, Description="x") == "CrawlerRunningException"
        assert _error(glue.delete_crawler, Name=crawler) == "CrawlerRunningException"
        glue.stop_crawler(Name=crawler)
        assert glue.get_crawler(Name=crawler)["Crawler"]["State"] == "STOPPING"
        assert _error(glue.stop_crawler, Name=crawler) == "CrawlerStoppingException"
    finally:
        release.set()
    deadline = time.monotonic() + 30
    while glue.get_crawler(Name=crawler)["Crawler"]["State"] != "READY":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert glue.get_crawler(Name=crawler)["Crawler"]["LastCrawl"]["Status"] == "CANCELLED"
    assert glue.get_tables(DatabaseName=database)["TableList"] == []
    assert glue.list_crawls(CrawlerName=crawler)["Crawls"][0]["State"] == "STOPPED"


def test_configuration_merge_new_columns_and_table_level(aws: Callable[..., Any], bucket: str, database: str) -> None:
    s3, glue = aws("s3"), aws("glue")
    s3.put_object(Bucket=bucket, Key="m/items/a.csv", Body=_csv([["id", "name"], [1, "a"]]))
    crawler = _name("merge-")
    glue.create_crawler(Name=crawler, Role=ROLE, DatabaseName=database, Targets={"S3Targets": [{"Path": f"s3://{bucket}/m/"}]},
                        Configuration=json.dumps({"Version": 1.0, "CrawlerOutput": {
                            "Tables": {"AddOrUpdateBehavior": "MergeNewColumns"}}}))
    _crawl(glue, crawler)
    s3.put_object(Bucket=bucket, Key="m/items/a.csv", Body=_csv([["id", "price"], [1, 2.5]]))
    _crawl(glue, crawler)
    assert _columns(glue.get_table(DatabaseName=database, Name="items")["Table"]) == \
        {"id": "bigint", "name": "string", "price": "double"}

    for x in ("p", "q"):
        s3.put_object(Bucket=bucket, Key=f"lvl/{x}/day=1/f.csv", Body=_csv([["k", "v"], ["a", 1]]))
    leveled = _name("level-")
    glue.create_crawler(Name=leveled, Role=ROLE, DatabaseName=database, TablePrefix="lvl_",
                        Targets={"S3Targets": [{"Path": f"s3://{bucket}/lvl/"}]},
                        Configuration=json.dumps({"Version": 1.0, "Grouping": {"TableLevelConfiguration": 2}}))
    _crawl(glue, leveled)
    names = {t["Name"] for t in glue.get_tables(DatabaseName=database, Expression="lvl_.*")["TableList"]}
    assert names == {"lvl_p", "lvl_q"}
    assert _error(glue.update_crawler, Name=leveled, Configuration='{"Version": 1.0, "Grouping": '
                  '{"TableLevelConfiguration": 0}}') == "InvalidInputException"
    assert _error(glue.update_crawler, Name=leveled, Configuration="{not json") == "InvalidInputException"
