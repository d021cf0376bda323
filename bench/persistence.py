"""Benchmark of ``--data-dir`` persistence: what write-through costs, how fast a restart is.

    python bench/persistence.py [--calls 100] [--megabytes 256]

Two emulators run side by side in their own processes, one without and one with
``--data-dir``; requests alternate between them so machine load hits both alike.
Prints (a) p50 latency of a cheap create (SageMaker CreateModel) and of PutObject of 1 MB,
off vs on, with the ratio (target <= 1.5x); (b) with ``--megabytes`` of objects in a
bucket (mixed sizes: 64 MB objects for a quarter, 1 MB objects for the rest): kill -9,
then restart -> first answer (HeadObject of one object) and the time of a ListObjectsV2 of
the whole bucket (moto renders it), next to the same restart of a
directory holding one 1 MB object (so imports, moto's S3 and the listing cost the same in
both), and the RSS of both restarted processes (bodies stay on disk, so RSS must not grow
with them). ``--megabytes 1024`` is the issue's 1 GB figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import boto3  # noqa: E402

from tests.server_process import free_port  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/bench"
IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1"


started_at = [0.0]  # when the last start() launched its process


def start(data_dir: str | None, port: int, *extra: str) -> tuple[subprocess.Popen, float]:
    args = [sys.executable, "-m", "emulator", "--port", str(port), "--log-level", "warning", *extra]
    if data_dir:
        args += ["--data-dir", data_dir]
    started = started_at[0] = time.perf_counter()
    process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health", timeout=2).read()
            return process, time.perf_counter() - started
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"emulator exited with {process.returncode}")
            time.sleep(0.02)


def client(service: str, port: int):  # noqa: ANN201
    return boto3.client(service, endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def fill_bucket(s3, megabytes: int, large: int | None = None) -> tuple[int, int]:  # noqa: ANN001
    """Bucket "big" with ``megabytes`` of mixed sizes: a quarter in objects of 64 MB (at least
    one), the rest in 1 MB objects. Bodies differ (no two share a content-addressed file)."""
    s3.create_bucket(Bucket="big")
    large = max(1, megabytes // 4 // 64) if large is None else large
    small = max(0, megabytes - large * 64)
    total = 0
    block = os.urandom(1 << 20)
    for i in range(large):
        body = block * 63 + os.urandom(1 << 20)
        s3.put_object(Bucket="big", Key=f"large/{i:03d}.bin", Body=body)
        total += len(body)
    for i in range(small):
        body = block[:-8] + i.to_bytes(8, "big")
        s3.put_object(Bucket="big", Key=f"small/{i:05d}.bin", Body=body)
        total += len(body)
    return total, large + small


def count_keys(s3, bucket: str) -> int:  # noqa: ANN001
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sum(page["KeyCount"] for page in pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--megabytes", type=int, default=1024, help="object bytes for the restart figure (0: latency only)")
    parser.add_argument("--restarts", type=int, default=2, help="restarts of each directory (alternating)")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="bench-persist-")
    data = os.path.join(root, "data")
    ports = {"off": free_port(), "on": free_port(), "normal": free_port()}
    servers = {"off": start(None, ports["off"])[0], "on": start(data, ports["on"])[0],
               "normal": start(os.path.join(root, "normal"), ports["normal"], "--data-sync", "normal")[0]}
    try:
        sm = {k: client("sagemaker", p) for k, p in ports.items()}
        s3 = {k: client("s3", p) for k, p in ports.items()}
        for k in ports:
            s3[k].create_bucket(Bucket="bench")
            sm[k].create_model(ModelName="warm", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE})
            s3[k].put_object(Bucket="bench", Key="warm", Body=b"x")
        create: dict[str, list[float]] = {k: [] for k in ports}
        put: dict[str, list[float]] = {k: [] for k in ports}
        body = os.urandom(1 << 20)
        orders = (("off", "on", "normal"), ("on", "normal", "off"), ("normal", "off", "on"))
        for i in range(args.calls):
            for k in orders[i % 3]:
                t = time.perf_counter()
                sm[k].create_model(ModelName=f"m{i}", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE})
                create[k].append(time.perf_counter() - t)
                t = time.perf_counter()
                s3[k].put_object(Bucket="bench", Key=f"obj{i}", Body=body)
                put[k].append(time.perf_counter() - t)
        print(f"write latency p50 over {args.calls} calls each, persistence off -> on (--data-sync full, the "
              f"default) | on with --data-sync normal:")
        for label, samples in (("CreateModel (cheap create)", create), ("PutObject 1 MB", put)):
            off, on, normal = p50(samples["off"]), p50(samples["on"]), p50(samples["normal"])
            print(f"  {label:28s} {off:7.1f} ms -> {on:7.1f} ms ({on / off:.2f}x) | {normal:7.1f} ms ({normal / off:.2f}x)")
        servers["normal"].send_signal(signal.SIGKILL)
        servers["normal"].wait()

        if args.megabytes <= 0:
            return
        servers["off"].send_signal(signal.SIGKILL)
        servers["off"].wait()
        body_bytes, objects = fill_bucket(s3["on"], args.megabytes)
        stored = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(data) for f in fs) / (1 << 20)
        servers["on"].send_signal(signal.SIGKILL)
        servers["on"].wait()
        tiny = os.path.join(root, "tiny")  # the reference: the same restart with one 1 MB object
        servers["off"], _ = start(tiny, ports["off"])
        fill_bucket(client("s3", ports["off"]), 1, large=0)
        servers["off"].send_signal(signal.SIGKILL)
        servers["off"].wait()
        print(f"restart after kill -9 -> first answer (HeadObject of one object), then ListObjectsV2 of the bucket "
              f"(all pages): {body_bytes / (1 << 20):.0f} MB of bodies in "
              f"{objects} objects ({stored:.0f} MB on disk) vs one 1 MB object; RSS 5 s later (background warm-up done)")
        for attempt in range(args.restarts):
            figures = {}
            for label, directory, key in (("1 GB", data, "on"), ("1 object", tiny, "off"))[::1 if attempt % 2 else -1]:
                servers[key], _ = start(directory, ports[key])
                client("s3", ports[key]).head_object(Bucket="big", Key="small/00000.bin")
                first = time.perf_counter() - started_at[0]
                t = time.perf_counter()
                listed = count_keys(client("s3", ports[key]), "big")
                figures[label] = (first, listed, time.perf_counter() - t)
                time.sleep(5)
                figures[label] += (rss_mb(servers[key].pid),)
                servers[key].send_signal(signal.SIGKILL)
                servers[key].wait()
            (big_s, big_n, big_list, big_rss), (small_s, small_n, small_list, small_rss) = figures["1 GB"], figures["1 object"]
            print(f"  first answer {big_s:5.2f} s vs {small_s:5.2f} s; listing {big_n} keys {big_list:4.2f} s "
                  f"vs {small_n} key {small_list:4.2f} s;   "
                  f"RSS {big_rss:4.0f} MB vs {small_rss:4.0f} MB ({big_rss - small_rss:+.0f} MB for "
                  f"{body_bytes / (1 << 20):.0f} MB of bodies)")
    finally:
        for process in servers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
