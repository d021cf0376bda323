"""Benchmark: reading a query result for an RDS/Redshift data source, streamed vs fetched whole.

    python bench/database_staging.py [--rows 200000]

Starts a throw-away PostgreSQL (tests/db_servers.py; needs its server binaries), fills a
table of ``--rows`` rows x 12 columns, then, side by side in one run:
(a) the emulator's reader (``emulator.databases.query_rows``: server-side cursor, 1,000-row
    batches) iterating every row, (b) the same query fetched whole (``fetchall``), each with
    its wall time and Python peak memory (tracemalloc); (c) staging the result as CSV parts
    in (in-process, moto) S3 with ``stage_query``: rows/s and peak memory.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from typing import Callable

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from emulator.databases import database_url, query_rows  # noqa: E402
from tests.db_servers import DATABASE, PASSWORD, USER, start_postgres  # noqa: E402

QUERY = "SELECT * FROM wide ORDER BY id"


def measured(label: str, work: Callable[[], int]) -> tuple[float, float]:
    """Wall time of one run, then Python peak memory of a second run under tracemalloc
    (which slows allocation-heavy code several-fold, so it is not timed)."""
    started = time.perf_counter()
    rows = work()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"{label:<38} {rows:>9} rows {seconds:7.2f} s {rows / seconds:>10.0f} rows/s  peak {peak:8.1f} MiB")
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    rows = parser.parse_args().rows
    with start_postgres() as server:
        conn = server.connect()
        conn.execute("CREATE TABLE wide AS SELECT g AS id, " + ", ".join(
            f"(g * {i + 1}) % 997 / 7.0 AS x{i}" for i in range(10)) + ", md5(g::text) AS tag "
            f"FROM generate_series(1, {rows}) AS g")
        conn.close()
        url = database_url(server.url, USER, PASSWORD, DATABASE)

        def streamed() -> int:
            with query_rows(url, QUERY) as result:
                return sum(len(batch) for batch in result.batches)

        def whole() -> int:
            import sqlalchemy
            engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
            with engine.connect() as connection:
                count = len(connection.exec_driver_sql(QUERY).fetchall())
            engine.dispose()
            return count

        def staged() -> int:
            from moto.s3.models import s3_backends

            from emulator.aws.s3 import S3Store
            from emulator.services.machinelearning.database_sources import stage_query
            backend = s3_backends["123456789012"]["aws"]
            if "bench-staging" not in backend.buckets:
                backend.create_bucket("bench-staging", "us-east-1")
            return stage_query(url, QUERY, S3Store("123456789012"), "s3://bench-staging/staging/ds-1/", None).rows

        s_time, s_peak = measured("(a) streamed (server-side cursor)", streamed)
        w_time, w_peak = measured("(b) fetched whole (fetchall)", whole)
        measured("(c) staged as CSV parts in S3", staged)
        print(f"streamed / whole: time {s_time / w_time:.2f}x, peak memory {s_peak / w_peak:.3f}x")


if __name__ == "__main__":
    main()
