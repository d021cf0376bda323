"""boto3 clients and S3 helpers of a job: the endpoint, account and region come from the
environment (``AWS_ENDPOINT_URL`` etc.), which the emulator sets for every job run."""

from __future__ import annotations

import functools
import os
from typing import Any, Iterator
from urllib.parse import urlparse


@functools.lru_cache(maxsize=None)
def client(service: str) -> Any:
    """A boto3 client configured from the environment (the emulator's, inside a job run)."""
    import boto3

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.client(service, region_name=region)


def split(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` (or s3a / s3n) -> (bucket, key)."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a", "s3n") or not parsed.netloc:
        raise ValueError(f"Not an S3 path: {uri}")
    return parsed.netloc, parsed.path.lstrip("/")


def list_objects(uri: str) -> Iterator[dict[str, Any]]:
    """Objects under an S3 prefix (folder markers and ``_$folder$`` entries skipped)."""
    bucket, prefix = split(uri)
    if prefix and not prefix.endswith("/"):
        single = [o for o in _list(bucket, prefix) if o["Key"] == prefix]
        if single:
            yield from single
            return
        prefix += "/"
    yield from (o for o in _list(bucket, prefix) if not o["Key"].endswith(("/", "_$folder$")))


def _list(bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


_downloaded: dict[tuple[str, str, str], str] = {}


def download(bucket: str, key: str, target: str, etag: str | None = None) -> None:
    """Copy one object to a local file. With the listing's ``etag``, an object this process
    already fetched is linked from the earlier copy instead of fetched again."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    cached = _downloaded.get((bucket, key, etag)) if etag else None
    if cached and os.path.exists(cached):
        try:
            os.link(cached, target)
            return
        except OSError:
            pass
    client("s3").download_file(bucket, key, target)
    if etag:
        _downloaded[(bucket, key, etag)] = target


def upload_tree(local_dir: str, uri: str) -> list[str]:
    """Upload every data file under ``local_dir`` to the prefix ``uri``; Spark's bookkeeping
    files (``_SUCCESS``, ``.crc``) are left out. Returns the S3 URIs written."""
    bucket, prefix = split(uri)
    prefix = prefix.rstrip("/")
    written = []
    for root, _, files in os.walk(local_dir):
        for name in sorted(files):
            if name.startswith(("_", ".")) or name.endswith(".crc"):
                continue
            relative = os.path.relpath(os.path.join(root, name), local_dir).replace(os.sep, "/")
            key = f"{prefix}/{relative}" if prefix else relative
            client("s3").upload_file(os.path.join(root, name), bucket, key)
            written.append(f"s3://{bucket}/{key}")
    return written
