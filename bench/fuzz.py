"""Schema-driven fuzz of a running emulator (tests/fuzzing.py), the long version of
tests/test_isolation_fuzz.py.

    python bench/fuzz.py [--requests 10000] [--seed 1]

Starts ``python -m emulator`` in its own process, sends the requests across
machinelearning, glue, sagemaker and sagemaker-runtime, and prints the status counts,
the requests per second and every answer outside the contract (5xx other than 501, a
4xx error name outside the service's model and the common AWS errors). Exit status 1
when there is any.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "bench"))

from bench import free_port, start_server  # noqa: E402

from tests.fuzzing import Fuzzer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    port = free_port()
    process, _ = start_server(port)
    try:
        started = time.perf_counter()
        report = Fuzzer(f"http://127.0.0.1:{port}", seed=args.seed).run(args.requests)
        seconds = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(15)
    print(f"{report.requests} requests in {seconds:.1f} s ({report.requests / seconds:.0f}/s), seed {args.seed}")
    print("statuses:", ", ".join(f"{status or 'not sendable'}: {n}" for status, n in sorted(report.statuses.items())))
    grouped = collections.Counter((f.service, f.operation, f.status, f.error) for f in report.findings)
    print(f"answers outside the contract: {len(report.findings)}")
    for (service, operation, status, error), count in grouped.most_common():
        print(f"  {count:5d}  {service}.{operation} -> {status} {error}")
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main())
