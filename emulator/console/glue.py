"""Glue pages: databases, tables (schema, partitions) and crawlers (runs, tables, log)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for

from .scope import api, page

CRAWLER_TABLES_CAP = 1000
"""A crawler page lists at most this many of its database's tables."""


def crawler_tables(database: str | None, crawler: str) -> list[dict[str, Any]]:
    """Tables of ``database`` last written by ``crawler`` (Parameters.UPDATED_BY_CRAWLER)."""
    if not database:
        return []
    glue, found, token, seen = api("glue"), [], None, 0
    while seen < CRAWLER_TABLES_CAP:
        answer = glue.get_tables(DatabaseName=database, MaxResults=100, **({"NextToken": token} if token else {}))
        tables = answer.get("TableList", [])
        seen += len(tables)
        found += [t for t in tables if (t.get("Parameters") or {}).get("UPDATED_BY_CRAWLER") == crawler]
        token = answer.get("NextToken")
        if not token:
            break
    return found


def register(bp: Blueprint) -> None:
    """Mount the Glue pages."""

    @bp.get("/<account>/<region>/glue/databases")
    def glue_databases():  # noqa: ANN202
        items, next_token = page(api("glue").get_databases, "DatabaseList")
        return render_template("console/glue_databases.html", items=items, next_token=next_token)

    @bp.get("/<account>/<region>/glue/databases/<database>")
    def glue_database(database: str):  # noqa: ANN202
        glue = api("glue")
        db = glue.get_database(Name=database)["Database"]
        tables, next_token = page(glue.get_tables, "TableList", DatabaseName=database)
        return render_template("console/glue_database.html", db=db, tables=tables, next_token=next_token)

    @bp.get("/<account>/<region>/glue/databases/<database>/tables/<table>")
    def glue_table(database: str, table: str):  # noqa: ANN202
        glue = api("glue")
        found = glue.get_table(DatabaseName=database, Name=table)["Table"]
        partitions, next_token = page(glue.get_partitions, "Partitions", DatabaseName=database, TableName=table)
        return render_template("console/glue_table.html", table=found, database=database, partitions=partitions,
                               next_token=next_token)

    @bp.get("/<account>/<region>/glue/crawlers")
    def glue_crawlers():  # noqa: ANN202
        items, next_token = page(api("glue").get_crawlers, "Crawlers")
        return render_template("console/glue_crawlers.html", items=items, next_token=next_token)

    @bp.get("/<account>/<region>/glue/crawlers/<name>")
    def glue_crawler(name: str):  # noqa: ANN202
        glue = api("glue")
        crawler = glue.get_crawler(Name=name)["Crawler"]
        crawls = glue.list_crawls(CrawlerName=name, MaxResults=20).get("Crawls", [])
        running = crawler.get("State") in ("RUNNING", "STOPPING")
        return render_template("console/glue_crawler.html", crawler=crawler, crawls=crawls,
                               tables=crawler_tables(crawler.get("DatabaseName"), name), refresh=3 if running else None)

    @bp.post("/<account>/<region>/glue/crawlers/<name>/start")
    def glue_start_crawler(name: str):  # noqa: ANN202
        api("glue").start_crawler(Name=name)
        return redirect(url_for("console.glue_crawler", name=name, notice=f"Crawler {name} started"))
