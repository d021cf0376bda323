"""In-process S3 access through moto's backend (the same store boto3 writes to)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar
from urllib.parse import urlparse

_T = TypeVar("_T")


class S3AccessError(Exception):
    """An S3 location that cannot be read or written; the message says why."""


@dataclass(frozen=True)
class S3Object:
    """One object's key and bytes (and its ETag when read from the store: the same key and
    ETag mean the same bytes, so work derived from them can be reused)."""

    key: str
    data: bytes
    etag: str = ""


@dataclass(frozen=True)
class S3Head:
    """One object's key, ETag and size, without its bytes."""

    key: str
    etag: str
    size: int


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); raises S3AccessError for anything else."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise S3AccessError(f"Not an S3 URI: {uri}")
    return parsed.netloc, parsed.path.lstrip("/")


class S3Store:
    """S3 as seen by one account."""

    def __init__(self, account_id: str) -> None:
        from moto.s3.models import s3_backends

        self._backend = s3_backends[account_id]["aws"]

    def _bucket(self, bucket: str):  # noqa: ANN202 - moto's FakeBucket
        from moto.s3.exceptions import AccessDeniedByLock, MissingBucket


        try:
            return self._backend.get_bucket(bucket)
        except MissingBucket as exc:
            raise S3AccessError(f"The specified bucket does not exist: {bucket}") from exc
        except AccessDeniedByLock as exc:
            raise S3AccessError(f"Access Denied: bucket {bucket} belongs to another account") from exc
        except Exception as exc:  # moto raises access errors of its own
            raise S3AccessError(f"Cannot access bucket {bucket}: {exc}") from exc

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        """Keys under ``prefix`` in key order (latest versions, no delete markers)."""
        from moto.s3.models import FakeKey

        found = [name for name, key in self._bucket(bucket).keys.items()
                 if name.startswith(prefix) and isinstance(key, FakeKey)]
        return sorted(found)

    def get(self, bucket: str, key: str) -> bytes:
        """One object's bytes."""
        return self.get_object(bucket, key).data

    def _fake_key(self, bucket: str, key: str):  # noqa: ANN202 - moto's FakeKey
        """moto's object at ``key``, or S3AccessError when the bucket or the key is missing."""
        self._bucket(bucket)
        obj = self._backend.get_object(bucket, key)
        if obj is None or not hasattr(obj, "value"):
            raise S3AccessError(f"The specified key does not exist: s3://{bucket}/{key}")
        return obj

    def get_object(self, bucket: str, key: str) -> S3Object:
        """One object's bytes and ETag."""
        obj = self._fake_key(bucket, key)
        return S3Object(key, bytes(obj.value), str(getattr(obj, "etag", "") or ""))

    def head_object(self, bucket: str, key: str) -> S3Head:
        """One object's key, ETag and size (its bytes are not read)."""
        obj = self._fake_key(bucket, key)
        return S3Head(key, str(getattr(obj, "etag", "") or ""), int(getattr(obj, "size", 0) or 0))

    def _at_location(self, uri: str, fetch: Callable[[str, str], _T]) -> list[_T]:
        """``fetch(bucket, key)`` of one object, or of every object under a prefix ending in
        ``/`` (or a prefix with no exact object), in key order, folder markers skipped."""
        bucket, key = split_s3_uri(uri)
        if not key.endswith("/") and key:
            try:
                return [fetch(bucket, key)]
            except S3AccessError:
                pass
        found = [fetch(bucket, k) for k in self.list_keys(bucket, key) if not k.endswith("/")]
        if not found:
            raise S3AccessError(f"No objects found at {uri}")
        return found

    def heads(self, uri: str) -> list[S3Head]:
        """:meth:`read_location` without the bytes: the objects' keys, ETags and sizes."""
        return self._at_location(uri, self.head_object)

    def get_uri(self, uri: str) -> bytes:
        """Bytes of ``s3://bucket/key``."""
        return self.get(*split_s3_uri(uri))

    def read_location(self, uri: str) -> list[S3Object]:
        """One object, or every object under a prefix ending in ``/`` (or a prefix with no exact object)."""
        return self._at_location(uri, self.get_object)

    def read_prefix(self, uri: str) -> list[S3Object]:
        """Every object whose key starts with the URI's key, in key order (folder markers skipped)."""
        bucket, prefix = split_s3_uri(uri)
        return [self.get_object(bucket, k) for k in self.list_keys(bucket, prefix) if not k.endswith("/")]

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """Write one object."""
        self._bucket(bucket)
        self._backend.put_object(bucket, key, data)

    def put_uri(self, uri: str, data: bytes) -> None:
        """Write ``s3://bucket/key``."""
        self.put(*split_s3_uri(uri), data)
