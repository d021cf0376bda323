"""Benchmark of the Glue crawler engine: classifying one file (type inference over the
first 1000 records plus a full record count) next to reading the same bytes with pandas /
pyarrow, measured side by side in one run.

    python bench/glue_crawler.py [--rows 200000]

Prints, for CSV, gzip CSV, JSON lines and Parquet: size, crawler seconds, reference
seconds and their ratio (crawler / reference; below 1 means the crawler is faster than
loading the data).
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
import time
from typing import Callable

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from emulator.engines import glue as engine  # noqa: E402


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    rows = parser.parse_args().rows
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": np.arange(rows), "price": rng.random(rows) * 100,
                          "name": [f"item {i % 977}" for i in range(rows)], "flag": rng.random(rows) > 0.5,
                          "day": pd.date_range("2020-01-01", periods=rows, freq="min").strftime("%Y-%m-%d")})
    csv_bytes = frame.to_csv(index=False).encode()
    gz_bytes = gzip.compress(csv_bytes)
    json_bytes = frame.to_json(orient="records", lines=True).encode()
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    parquet_bytes = buffer.getvalue()
    cases = [
        ("csv", csv_bytes, lambda: pd.read_csv(io.BytesIO(csv_bytes))),
        ("csv.gz", gz_bytes, lambda: pd.read_csv(io.BytesIO(gz_bytes), compression="gzip")),
        ("json lines", json_bytes, lambda: pd.read_json(io.BytesIO(json_bytes), lines=True)),
        ("parquet", parquet_bytes, lambda: pq.read_table(io.BytesIO(parquet_bytes))),
    ]
    print(f"{rows} rows, 5 columns")
    print(f"{'format':<12}{'MB':>8}{'crawler s':>12}{'reference s':>14}{'ratio':>8}")
    for name, data, reference in cases:
        schema = engine.classify(name, data)
        assert schema.record_count == rows, (name, schema.record_count)
        crawler = best_of(lambda: engine.classify(name, data))
        baseline = best_of(reference)
        print(f"{name:<12}{len(data) / 1e6:>8.1f}{crawler:>12.3f}{baseline:>14.3f}{crawler / baseline:>8.2f}")


if __name__ == "__main__":
    main()
