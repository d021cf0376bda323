"""moto's S3 buckets and objects on disk, without forking moto.

Buckets are stored as their attributes (minus keys and uploads in progress); each key as
the list of its versions' attributes plus the SHA-256 of the body file. After a restart
a key's body is a :class:`BlobBuffer` reading the file on demand, so RSS does not grow
with the bytes stored; a write to it (moto never rewrites a key in place, but may)
switches it to a private temporary file first.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
from typing import Any

from emulator.persistence.codec import Decoder, Encoder
from emulator.persistence.disk import DataDir

log = logging.getLogger(__name__)

BUCKETS, KEYS = "s3-bucket", "s3-key"
_KEY_SKIP = {"_value_buffer", "lock", "multipart", "value"}
_BUCKET_SKIP = {"keys", "multiparts"}


class BlobBuffer(io.RawIOBase):
    """A read-only file-like view of a body file, opened per read (no descriptor kept)."""

    def __init__(self, path: str, max_size: int) -> None:
        super().__init__()
        self.path = path
        self._pos = 0
        self._max_size = max_size
        self._copy: Any = None  # a SpooledTemporaryFile once written to

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        if self._copy is not None:
            return self._copy.seek(pos, whence)
        if whence == 1:
            pos += self._pos
        elif whence == 2:
            pos += os.path.getsize(self.path)
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._copy.tell() if self._copy is not None else self._pos

    def read(self, size: int = -1) -> bytes:
        if self._copy is not None:
            return self._copy.read(size)
        with open(self.path, "rb") as f:
            f.seek(self._pos)
            data = f.read() if size is None or size < 0 else f.read(size)
        self._pos += len(data)
        return data

    def _detach(self) -> Any:
        if self._copy is None:
            copy = tempfile.SpooledTemporaryFile(max_size=self._max_size)
            with open(self.path, "rb") as f:
                while block := f.read(1 << 20):
                    copy.write(block)
            copy.seek(self._pos)
            self._copy = copy
        return self._copy

    def truncate(self, size: int | None = None) -> int:
        return self._detach().truncate(size)

    def write(self, data: Any) -> int:
        return self._detach().write(data)

    def close(self) -> None:
        if self._copy is not None:
            self._copy.close()
        super().close()


def _backend(account: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account]["aws"]


def s3_accounts() -> list[str]:
    from moto.s3.models import s3_backends

    return list(s3_backends.keys())


class S3Persistence:
    """Writes the difference between moto's S3 and what is on disk; restores it."""

    def __init__(self, disk: DataDir, encoder: Encoder) -> None:
        self.disk = disk
        self.encoder = encoder
        self._buckets: dict[tuple[str, str], str] = {}  # (account, bucket) -> stored JSON
        self._keys: dict[tuple[str, str], dict[str, tuple[Any, ...]]] = {}  # -> key -> version fingerprint

    def forget(self) -> None:
        self._buckets.clear()
        self._keys.clear()

    # --------------------------------------------------------------- capture
    def capture(self, tx: Any, account: str, bucket_names: list[str] | None = None) -> None:
        """Queue in ``tx`` every change of ``account``'s buckets (all, or the named ones)."""
        try:
            buckets = dict(_backend(account).buckets)
        except KeyError:
            return
        stored = {name for (acct, name) in self._buckets if acct == account}
        names = set(buckets) | stored if bucket_names is None else set(bucket_names)
        for name in names:
            bucket = buckets.get(name)
            if bucket is None:
                if (account, name) in self._buckets:
                    tx.delete_record(BUCKETS, account, name)
                    tx.delete_records_with_prefix(KEYS, account, name + "/")
                    tx.on_commit(lambda name=name: (self._buckets.pop((account, name), None),
                                                    self._keys.pop((account, name), None)))
                continue
            self._capture_bucket(tx, account, name, bucket)

    def _capture_bucket(self, tx: Any, account: str, name: str, bucket: Any) -> None:
        data = {k: self.encoder.encode(v) for k, v in vars(bucket).items() if k not in _BUCKET_SKIP}
        text = json.dumps(data, sort_keys=True)
        if self._buckets.get((account, name)) != text:
            tx.put_record(BUCKETS, account, name, data)
            tx.on_commit(lambda: self._buckets.__setitem__((account, name), text))
        known = self._keys.get((account, name), {})
        current: dict[str, list[Any]] = {k: list(bucket.keys.getlist(k)) for k in list(bucket.keys.keys())}
        changes: dict[str, tuple[Any, ...] | None] = {}
        for key in set(known) - set(current):
            tx.delete_record(KEYS, account, f"{name}/{key}")
            changes[key] = None
        for key, versions in current.items():
            fingerprint = tuple((id(v), getattr(v, "last_modified", None), getattr(v, "_etag", None)) for v in versions)
            if known.get(key) == fingerprint:
                continue
            tx.put_record(KEYS, account, f"{name}/{key}", [self._version(v) for v in versions])
            changes[key] = fingerprint

        def remember() -> None:
            cache = self._keys.setdefault((account, name), {})
            for key, fingerprint in changes.items():
                if fingerprint is None:
                    cache.pop(key, None)
                else:
                    cache[key] = fingerprint

        if changes:
            tx.on_commit(remember)

    def _version(self, key: Any) -> dict[str, Any]:
        from moto.s3.models import FakeKey

        attrs = {k: self.encoder.encode(v) for k, v in vars(key).items() if k not in _KEY_SKIP}
        entry: dict[str, Any] = {"cls": f"{type(key).__module__}:{type(key).__qualname__}", "d": attrs}
        if isinstance(key, FakeKey):
            buffer = key._value_buffer
            if isinstance(buffer, BlobBuffer) and buffer._copy is None:
                digest, size = os.path.basename(buffer.path), os.path.getsize(buffer.path)
            else:
                with key.lock:
                    buffer.seek(0)
                    digest, size = self.disk.put_stream(buffer)
                    # the body now lives on disk: drop moto's in-memory copy
                    key._value_buffer = BlobBuffer(self.disk.blob_path(digest), key._max_buffer_size)
                    buffer.close()
            entry.update(blob=digest, size=size)
        return entry

    # --------------------------------------------------------------- restore
    def restore(self, decoder: Decoder) -> set[str]:
        """Rebuild every stored bucket and key in moto; the set of body digests in use."""
        import threading

        from moto.s3.models import FakeKey, s3_backends
        from moto.s3.utils import _VersionedKeyStore

        from emulator.persistence.codec import resolve_class

        used: set[str] = set()
        buckets: dict[tuple[str, str], Any] = {}
        for account, name, data in self.disk.records(BUCKETS):
            bucket = resolve_class("moto.s3.models:FakeBucket").__new__(resolve_class("moto.s3.models:FakeBucket"))
            bucket.__dict__.update({k: decoder.decode(v) for k, v in data.items()})
            from moto.s3.models import MultipartDict

            bucket.keys = _VersionedKeyStore()
            bucket.multiparts = MultipartDict()
            _backend(account).buckets[name] = bucket
            s3_backends.bucket_accounts[name] = (bucket.partition, account)
            buckets[(account, name)] = bucket
            self._buckets[(account, name)] = json.dumps(data, sort_keys=True)
        for account, full_name, versions in self.disk.records(KEYS):
            bucket_name, _, key_name = full_name.partition("/")
            bucket = buckets.get((account, bucket_name))
            if bucket is None:
                continue
            restored = []
            for entry in versions:
                cls = resolve_class(entry["cls"])
                key = cls.__new__(cls)
                key.__dict__.update({k: decoder.decode(v) for k, v in entry["d"].items()})
                if isinstance(key, FakeKey):
                    self.disk.check_blob(entry["blob"], entry.get("size"))
                    key.lock = threading.Lock()
                    key.multipart = None
                    key._value_buffer = BlobBuffer(self.disk.blob_path(entry["blob"]), key._max_buffer_size)
                    used.add(entry["blob"])
                restored.append(key)
            dict.__setitem__(bucket.keys, key_name, restored)
            self._keys.setdefault((account, bucket_name), {})[key_name] = tuple(
                (id(v), getattr(v, "last_modified", None), getattr(v, "_etag", None)) for v in restored)
        return used
