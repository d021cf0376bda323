"""moto's S3 buckets and objects on disk, without forking moto.

Buckets are stored as their attributes (minus keys and uploads in progress); each key as
the list of its versions' attributes (metadata, ACL, storage class ...) plus the SHA-256 of
the body file; each multipart upload in progress as its attributes plus its parts (bodies
as files too); the tags of a bucket and of its objects (moto keeps them in the account's
tagging service, by ARN) as one record per bucket. After a restart
a key's body is a :class:`BlobBuffer` reading the file on demand, so RSS does not grow
with the bytes stored; a write to it (moto never rewrites a key in place, but may)
switches it to a private temporary file first.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import tempfile
import threading
from typing import Any

from emulator.persistence.codec import CodecError, Decoder, Encoder
from emulator.persistence.disk import DataDir

log = logging.getLogger(__name__)

BUCKETS, KEYS, UPLOADS, TAGS = "s3-bucket", "s3-key", "s3-upload", "s3-tags"
_KEY_SKIP = {"_value_buffer", "lock", "multipart", "value"}
_BUCKET_SKIP = {"keys", "multiparts"}
_UPLOAD_SKIP = {"parts"}


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


_PENDING = "_persist_pending"
_MATERIALISE = threading.Lock()
_LAZY_CLASSES: dict[type, type] = {}


def _is_eager(value: Any) -> bool:
    """Stored values a restart decodes at once: scalars and datetimes (what listings read)."""
    return not isinstance(value, (dict, list)) or (isinstance(value, dict) and value.get("$t") == "datetime")


def _eager_value(value: Any) -> Any:
    """Decode a value :func:`_is_eager` accepted (without the generic decoder's overhead)."""
    if isinstance(value, dict):
        try:
            return dt.datetime.fromisoformat(value["v"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CodecError(f"cannot decode a stored datetime: {exc}") from None
    return value


def _lazy_class(cls: type) -> type:
    """A subclass of ``cls`` whose instances decode their remaining stored attributes (ACL,
    metadata ...) on the first access to one of them, then become plain ``cls`` instances.
    A restart with many objects thus only parses what a listing needs."""
    lazy = _LAZY_CLASSES.get(cls)
    if lazy is None:
        def __getattr__(self: Any, name: str) -> Any:  # only called for attributes not found
            if _PENDING not in self.__dict__:
                raise AttributeError(name)
            materialise(self)
            return getattr(self, name)

        lazy = _LAZY_CLASSES[cls] = type(cls.__name__, (cls,), {
            "__getattr__": __getattr__, "__module__": cls.__module__, "__qualname__": cls.__qualname__})
    return lazy


def materialise(obj: Any) -> None:
    """Decode the attributes a restored object deferred (no-op for any other object)."""
    if _PENDING not in obj.__dict__:
        return
    with _MATERIALISE:
        pending, blobs = obj.__dict__.get(_PENDING, (None, None))
        if pending is None:
            return
        decoder = Decoder(blobs)
        # an attribute set since the restart (moto's set_acl ...) is newer than the stored one
        obj.__dict__.update({k: decoder.decode(v) for k, v in json.loads(pending).items() if k not in obj.__dict__})
        del obj.__dict__[_PENDING]
        obj.__class__ = type(obj).__mro__[1]


def _base_class(obj: Any) -> type:
    cls = type(obj)
    return cls.__mro__[1] if cls in _LAZY_CLASSES.values() else cls


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
        self._uploads: dict[tuple[str, str], dict[str, tuple[Any, ...]]] = {}  # -> upload id -> fingerprint
        self._tags: dict[tuple[str, str], str] = {}  # (account, bucket) -> stored JSON of its tags

    def forget(self) -> None:
        self._buckets.clear()
        self._keys.clear()
        self._uploads.clear()
        self._tags.clear()

    # --------------------------------------------------------------- capture
    def capture(self, tx: Any, account: str, bucket_names: list[str] | None = None,
                keys: set[tuple[str, str]] = frozenset()) -> None:
        """Queue in ``tx`` every change of ``account``'s buckets (all, or the named ones).
        Keys are rewritten when they were added, replaced or deleted; the (bucket, key) pairs in
        ``keys`` (the object a request named) always, so in-place changes (ACL, legal hold,
        restore ...) are kept too."""
        try:
            backend = _backend(account)
            buckets = dict(backend.buckets)
        except KeyError:
            return
        stored = {name for (acct, name) in self._buckets if acct == account}
        names = set(buckets) | stored if bucket_names is None else set(bucket_names)
        for name in names:
            bucket = buckets.get(name)
            if bucket is None:
                if (account, name) in self._buckets:
                    tx.delete_record(BUCKETS, account, name)
                    tx.delete_record(TAGS, account, name)
                    tx.delete_records_with_prefix(KEYS, account, name + "/")
                    tx.delete_records_with_prefix(UPLOADS, account, name + "/")
                    tx.on_commit(lambda name=name: [cache.pop((account, name), None) for cache in
                                                    (self._buckets, self._keys, self._uploads, self._tags)])
                continue
            self._capture_bucket(tx, account, name, bucket, {k for b, k in keys if b == name})
            self._capture_uploads(tx, account, name, bucket)
            self._capture_tags(tx, account, name, bucket, backend)

    def _capture_bucket(self, tx: Any, account: str, name: str, bucket: Any, forced: set[str]) -> None:
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
            if known.get(key) == fingerprint and key not in forced:
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

    def _capture_uploads(self, tx: Any, account: str, name: str, bucket: Any) -> None:
        """Queue the multipart uploads in progress that changed (a part added, completed, aborted)."""
        known = self._uploads.get((account, name), {})
        current = dict(bucket.multiparts)
        changes: dict[str, tuple[Any, ...] | None] = {}
        for upload_id in set(known) - set(current):
            tx.delete_record(UPLOADS, account, f"{name}/{upload_id}")
            changes[upload_id] = None
        for upload_id, upload in current.items():
            parts = dict(upload.parts)
            fingerprint = (id(upload), tuple((n, id(p), getattr(p, "_etag", None)) for n, p in sorted(parts.items())))
            if known.get(upload_id) == fingerprint:
                continue
            data = {k: self.encoder.encode(v) for k, v in vars(upload).items() if k not in _UPLOAD_SKIP}
            tx.put_record(UPLOADS, account, f"{name}/{upload_id}", {
                "cls": f"{type(upload).__module__}:{type(upload).__qualname__}", "d": data,
                "parts": [[number, self._version(part)] for number, part in sorted(parts.items())]})
            changes[upload_id] = fingerprint

        def remember() -> None:
            cache = self._uploads.setdefault((account, name), {})
            for upload_id, fingerprint in changes.items():
                if fingerprint is None:
                    cache.pop(upload_id, None)
                else:
                    cache[upload_id] = fingerprint

        if changes:
            tx.on_commit(remember)

    def _capture_tags(self, tx: Any, account: str, name: str, bucket: Any, backend: Any) -> None:
        """Queue the tags of the bucket and of its objects (moto keeps them by ARN) if they changed."""
        prefix = bucket.arn + "/"
        tags = {arn: dict(value) for arn, value in list(backend.tagger.tags.items())
                if value and (arn == bucket.arn or arn.startswith(prefix))}
        text = json.dumps(tags, sort_keys=True)
        if self._tags.get((account, name), "{}") != text:
            if tags:
                tx.put_record(TAGS, account, name, tags)
            else:
                tx.delete_record(TAGS, account, name)
            tx.on_commit(lambda: self._tags.__setitem__((account, name), text))

    def _version(self, key: Any) -> dict[str, Any]:
        from moto.s3.models import FakeKey

        pending = vars(key).get(_PENDING)
        attrs = json.loads(pending[0]) if pending else {}  # not decoded yet: as restored
        attrs.update({k: self.encoder.encode(v) for k, v in vars(key).items() if k not in _KEY_SKIP and k != _PENDING})
        cls = _base_class(key)
        entry: dict[str, Any] = {"cls": f"{cls.__module__}:{cls.__qualname__}", "d": attrs}
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
        """Rebuild every stored bucket, key, upload in progress and tag in moto; the set of
        body digests in use."""
        from moto.s3.models import s3_backends
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
            restored = [self._restore_version(entry, decoder, used) for entry in versions]
            dict.__setitem__(bucket.keys, key_name, restored)
            self._keys.setdefault((account, bucket_name), {})[key_name] = tuple(
                (id(v), getattr(v, "last_modified", None), getattr(v, "_etag", None)) for v in restored)
        for account, full_name, data in self.disk.records(UPLOADS):
            bucket_name, _, upload_id = full_name.partition("/")
            bucket = buckets.get((account, bucket_name))
            if bucket is None:
                continue
            cls = resolve_class(data["cls"])
            upload = cls.__new__(cls)
            upload.__dict__.update({k: decoder.decode(v) for k, v in data["d"].items()})
            upload.parts = {}
            for number, entry in data["parts"]:
                upload.parts[int(number)] = self._restore_version(entry, decoder, used)
            dict.__setitem__(bucket.multiparts, upload_id, upload)
            self._uploads.setdefault((account, bucket_name), {})[upload_id] = (
                id(upload), tuple((n, id(p), getattr(p, "_etag", None)) for n, p in sorted(upload.parts.items())))
        for account, bucket_name, tags in self.disk.records(TAGS):
            if (account, bucket_name) in buckets:
                _backend(account).tagger.tags.update({arn: dict(value) for arn, value in tags.items()})
                self._tags[(account, bucket_name)] = json.dumps(tags, sort_keys=True)
        return used

    def _restore_version(self, entry: dict[str, Any], decoder: Decoder, used: set[str]) -> Any:
        """One stored key version (or multipart part) as moto's object, its body read on demand."""
        import threading

        from moto.s3.models import FakeKey

        from emulator.persistence.codec import resolve_class

        cls = resolve_class(entry["cls"])
        stored = entry["d"]
        pending = {k: v for k, v in stored.items() if not _is_eager(v)}
        key = cls.__new__(_lazy_class(cls) if pending else cls)
        key.__dict__.update({k: _eager_value(v) for k, v in stored.items() if k not in pending})
        if pending:  # kept as compact text: a fraction of the parsed form's memory
            key.__dict__[_PENDING] = (json.dumps(pending, separators=(",", ":")), self.disk)
        if isinstance(key, FakeKey):
            self.disk.check_blob(entry["blob"], entry.get("size"))
            key.lock = threading.Lock()
            key.multipart = None
            key._value_buffer = BlobBuffer(self.disk.blob_path(entry["blob"]), key._max_buffer_size)
            used.add(entry["blob"])
        return key
