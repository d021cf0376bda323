"""Console pages with 10,000 resources: page times stay flat because lists page.

    python bench/console.py [N]

Creates N Glue databases and N S3 objects in one account (in-process boto3 clients,
no sockets), then times the home page, the first and a later page of the database
list and of the S3 prefix listing over HTTP, side by side with the same pages on an
empty account.
"""

from __future__ import annotations

import statistics
import sys
import time
import urllib.request

from clients.testing import running_emulator
from emulator.console.api import ApiClients


def fetch_ms(url: str, repeat: int = 5) -> float:
    """Median milliseconds of GET url."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=120) as response:
            response.read()
            assert response.status == 200, url
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(n: int = 10_000) -> None:
    with running_emulator() as emu:
        clients = ApiClients(lambda: emu.app.wsgi_app)
        full, empty = "222233334444", "555566667777"
        glue = clients.client("glue", full, "us-east-1", emu.url)
        s3 = clients.client("s3", full, "us-east-1", emu.url)
        s3.create_bucket(Bucket="many")
        started = time.perf_counter()
        for i in range(n):
            glue.create_database(DatabaseInput={"Name": f"db{i:05d}"})
            s3.put_object(Bucket="many", Key=f"rows/{i:05d}.csv", Body=b"a\n1\n")
        print(f"created {n} databases and {n} objects in {time.perf_counter() - started:.1f} s")
        clients.client("s3", empty, "us-east-1", emu.url).create_bucket(Bucket="few")
        for label, path in (("home", "/"), ("databases, page 1", "/glue/databases"),
                            ("S3 prefix, page 1", "/s3/{bucket}?prefix=rows/")):
            urls = {account: f"{emu.url}/_emulator/console/{account}/us-east-1{path}".replace(
                "{bucket}", "many" if account == full else "few") for account in (full, empty)}
            fetch_ms(urls[full], 1)  # warm clients
            fetch_ms(urls[empty], 1)
            print(f"{label:20s} {n} resources: {fetch_ms(urls[full]):7.1f} ms   empty account: "
                  f"{fetch_ms(urls[empty]):7.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
