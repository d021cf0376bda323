"""Cost of running job work in a worker process (emulator/workers.py).

    python bench/workers.py [--calls 50]

Prints the forkserver's boot (it imports NumPy, pandas, scikit-learn and xgboost once),
then p50/p95 of a no-op job in a worker next to the same call in-thread, and of a
small real job (k-NN training on iris) both ways, with the overhead. Jobs are measured
back to back and spaced by 50 ms (time for the background refill to start the next spare
worker, as a job's own work gives it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "bench"))

from emulator import workers  # noqa: E402
from emulator.engines import sagemaker as engine  # noqa: E402


def _iris_channels() -> dict:
    from tests.sagemaker_helpers import iris_split

    train, _ = iris_split()
    return {"train": engine.Channel("train", "text/csv", [("t.csv", train.to_csv(header=False, index=False).encode())])}


def latencies(call, calls: int, gap_s: float = 0.0) -> tuple[float, float]:
    """p50 and p95 in milliseconds of ``calls`` timed calls, ``gap_s`` apart."""
    times = []
    for _ in range(calls):
        time.sleep(gap_s)
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.95))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    begin = time.perf_counter()
    workers.run(workers._noop)
    print(f"forkserver boot + first job: {time.perf_counter() - begin:.2f} s")
    hyper = {"k": "3", "sample_size": "200", "predictor_type": "classifier"}
    channels = _iris_channels()
    rows = [
        ("no-op", lambda: workers.run(workers._noop), lambda: workers._noop()),
        ("k-NN train (iris)", lambda: workers.run(engine.train, "knn", hyper, channels),
         lambda: engine.train("knn", hyper, channels)),
    ]
    for name, in_worker, in_thread in rows:
        t50, t95 = latencies(in_thread, args.calls)
        for spacing, gap in (("back to back", 0.0), ("50 ms apart", 0.05)):
            w50, w95 = latencies(in_worker, args.calls, gap)
            print(f"{name:18s} {spacing:12s} worker p50 {w50:7.1f} ms p95 {w95:7.1f} ms | in-thread p50 "
                  f"{t50:7.2f} ms p95 {t95:7.2f} ms | p50 overhead {w50 - t50:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
