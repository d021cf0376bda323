"""In-process (``mock_ml``, no socket) against the HTTP server, side by side in one run.

    python bench/inprocess.py [--calls 300]

For a cheap call (sagemaker ListModels, an empty awsJson answer) and for Amazon ML
Predict (a BINARY model on scikit-learn's breast cancer set, as bench.py trains it),
prints p50/p95 through boto3 against the emulator in its own process over HTTP on
127.0.0.1 and against ``clients.mock_ml`` in this process, and the in-process/HTTP ratio.
"""

from __future__ import annotations

import argparse
import os
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)

import bench  # noqa: E402  (bench/bench.py: server start-up, latencies, Amazon ML model set-up)

IN_PROCESS_URL = "http://127.0.0.1:9"  # never connected to: mock_ml answers every request itself


def measure(url: str, calls: int) -> dict[str, tuple[float, float]]:
    models = bench.client("sagemaker", url)
    cheap = bench.latencies(lambda: models.list_models(MaxResults=1), calls)
    predict = bench.latencies(bench.prepare_amazonml(url), calls)
    return {"sagemaker ListModels     ": cheap, "machinelearning Predict  ": predict}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()

    port = bench.free_port()
    process, _ = bench.start_server(port)
    try:
        over_http = measure(f"http://127.0.0.1:{port}", args.calls)
    finally:
        process.terminate()
        process.wait()

    from clients.mock import mock_ml

    with mock_ml():
        in_process = measure(IN_PROCESS_URL, args.calls)

    for label, (http50, http95) in over_http.items():
        in50, in95 = in_process[label]
        print(f"{label} HTTP p50 {http50:6.2f} ms p95 {http95:6.2f} ms | in-process p50 {in50:6.2f} ms "
              f"p95 {in95:6.2f} ms | in-process/HTTP p50 {in50 / http50:4.2f}x")


if __name__ == "__main__":
    main()
