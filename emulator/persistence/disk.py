"""The on-disk layout of ``--data-dir``: one SQLite database in WAL mode for metadata
and content-addressed, atomically renamed files for bodies.

    DIR/emulator.sqlite3      format version, state objects, S3 buckets and keys
    DIR/blobs/ab/abcdef...    bodies and large values, named by their SHA-256

A write is a transaction (SQLite's WAL makes it atomic); a body file is written under
a temporary name, flushed to the device (``fdatasync``), renamed into place and its directory
flushed too, all before the transaction that references it commits; SQLite runs with
``synchronous=FULL``, so a commit is on the device before the response is sent. A crash or
a power cut therefore leaves at most an unreferenced file, removed at the next start.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import threading
from typing import Any, BinaryIO, Iterable, Iterator

FORMAT_VERSION = 1
"""Bumped whenever the layout changes; older versions are migrated on open."""

DB_NAME = "emulator.sqlite3"
_DIGEST = re.compile(r"[0-9a-f]{64}")
DATA_SYNC_MODES = ("full", "normal")
"""``full``: bodies and commits flushed to the device before the answer (power-cut safe);
``normal``: written to the OS before the answer (safe when the process dies, not the machine)."""
LOCK_NAME = "emulator.lock"
"""Held (``flock``) by the process that has the directory open; holds its PID."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS states (kind TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (kind, account, region));
CREATE TABLE IF NOT EXISTS entries (kind TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
    attr TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, account, region, attr, key));
CREATE TABLE IF NOT EXISTS records (space TEXT NOT NULL, account TEXT NOT NULL, name TEXT NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (space, account, name));
"""


class DataDirError(RuntimeError):
    """The data directory cannot be used (corrupt, or written by a newer emulator)."""


class NewerFormatError(DataDirError):
    """The directory was written by a newer emulator."""


class CorruptDataError(DataDirError):
    """A file of the directory is damaged; the message names it."""


class DataDirInUseError(DataDirError):
    """Another process (a running emulator) has the directory open."""


class DirLock:
    """An exclusive ``flock`` on ``DIR/emulator.lock``, released by :meth:`release` or when
    the process dies (kill -9 included: the kernel drops it, no stale lock survives)."""

    def __init__(self, path: str) -> None:
        self.path = os.path.join(os.path.abspath(path), LOCK_NAME)
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._fd)
            self._fd = None
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            pid = holder_pid(path)
            raise DataDirInUseError(
                f"{os.path.abspath(path)} is in use by a running aws-ml-emulator"
                f"{f' (PID {pid})' if pid else ''}; stop it first") from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def holder_pid(path: str) -> int | None:
    """The PID written in ``DIR/emulator.lock`` (meaningful only while the lock is held)."""
    try:
        with open(os.path.join(path, LOCK_NAME)) as f:
            return int(f.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


class DataDir:
    """Thread-safe access to one data directory."""

    def __init__(self, path: str, sync: str = "full") -> None:
        if sync not in DATA_SYNC_MODES:
            raise ValueError(f"data sync mode must be one of {', '.join(DATA_SYNC_MODES)}, not {sync!r}")
        self.sync = sync
        self.path = os.path.abspath(path)
        os.makedirs(os.path.join(self.path, "blobs"), exist_ok=True)
        self.db_path = os.path.join(self.path, DB_NAME)
        self._lock = threading.RLock()
        self.dir_lock = DirLock(self.path)  # one process at a time: raises DataDirInUseError
        try:
            self._open()
        except BaseException:
            db = getattr(self, "_db", None)
            if db is not None:
                db.close()
            self.dir_lock.release()
            raise

    def _open(self) -> None:
        try:
            self._db = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: each commit syncs the WAL, so an answered write survives a power cut too
            # (NORMAL in WAL mode survives a process crash but may lose the last commits)
            self._db.execute(f"PRAGMA synchronous={self.sync.upper()}")
            check = self._db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise CorruptDataError(f"{self.db_path}: database is corrupt ({check})")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise CorruptDataError(f"{self.db_path}: {exc}") from None
        self._check_version()

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('format', ?)", (str(FORMAT_VERSION),))
            return
        try:
            version = int(row[0])
        except ValueError:
            raise CorruptDataError(f"{self.db_path}: unreadable format version {row[0]!r}") from None
        if version > FORMAT_VERSION:
            raise NewerFormatError(
                f"{self.path} was written by a newer aws-ml-emulator (data format {version}; this build reads "
                f"up to {FORMAT_VERSION}). Upgrade the emulator, or start with another --data-dir.")
        if version < FORMAT_VERSION:  # no older format exists yet; migrations go here
            self._db.execute("UPDATE meta SET value=? WHERE key='format'", (str(FORMAT_VERSION),))

    def close(self) -> None:
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._db.close()
            self.dir_lock.release()

    # ------------------------------------------------------------------ blobs
    def blob_path(self, digest: str) -> str:
        if not _DIGEST.fullmatch(digest):
            raise CorruptDataError(f"{self.db_path}: invalid blob reference {digest!r}")
        return os.path.join(self.path, "blobs", digest[:2], digest)

    def put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.blob_path(digest)
        if not os.path.exists(path):
            self._write_atomically(path, [data])
        return digest

    def put_stream(self, stream: BinaryIO, chunk: int = 1 << 20) -> tuple[str, int]:
        """Copy a readable stream into a blob; (digest, size)."""
        fd, tmp = tempfile.mkstemp(dir=os.path.join(self.path, "blobs"), prefix=".tmp-")
        sha, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    block = stream.read(chunk)
                    if not block:
                        break
                    sha.update(block)
                    size += len(block)
                    out.write(block)
                out.flush()
                if self.sync == "full":
                    os.fdatasync(out.fileno())  # the bytes and the size; mtime is not needed
            digest = sha.hexdigest()
            path = self.blob_path(digest)
            self._make_dir(os.path.dirname(path))
            os.replace(tmp, path)
            self._sync_dir(os.path.dirname(path))
            return digest, size
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def _make_dir(self, path: str) -> None:
        """Create a blob subdirectory durably (its entry in ``blobs/`` flushed too)."""
        if not os.path.isdir(path):
            os.makedirs(path, exist_ok=True)
            self._sync_dir(os.path.dirname(path))

    def _sync_dir(self, path: str) -> None:
        if self.sync == "full":
            _fsync_dir(path)

    def _write_atomically(self, path: str, chunks: Iterable[bytes]) -> None:
        self._make_dir(os.path.dirname(path))
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                if self.sync == "full":
                    os.fdatasync(out.fileno())  # the bytes and the size; mtime is not needed
            os.replace(tmp, path)
            self._sync_dir(os.path.dirname(path))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def get_bytes(self, digest: str) -> bytes:
        path = self.blob_path(digest)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise CorruptDataError(f"{path}: missing or unreadable ({exc.strerror})") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise CorruptDataError(f"{path}: content does not match its checksum")
        return data

    def check_blob(self, digest: str, size: int | None = None) -> None:
        """Cheap start-up check of a body file: present, and of the recorded size."""
        path = self.blob_path(digest)
        try:
            actual = os.path.getsize(path)
        except OSError:
            raise CorruptDataError(f"{path}: missing body file") from None
        if size is not None and actual != size:
            raise CorruptDataError(f"{path}: {actual} bytes on disk, {size} expected")

    def collect_garbage(self, referenced: set[str]) -> int:
        """Delete blob files no row references (and stray temporary files); how many."""
        removed = 0
        root = os.path.join(self.path, "blobs")
        for dirpath, _, files in os.walk(root):
            for name in files:
                if name.startswith(".tmp-") or name not in referenced:
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
        return removed

    # ------------------------------------------------------------------- rows
    def transaction(self) -> "_Transaction":
        return _Transaction(self)

    def states(self) -> Iterator[tuple[str, str, str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT kind, account, region, data FROM states").fetchall()
        for kind, account, region, data in rows:
            yield kind, account, region, self._json(data, f"state {kind} of {account}/{region}")

    def entries(self) -> Iterator[tuple[str, str, str, str, Any, Any]]:
        """(kind, account, region, attribute, key, value) of every stored dict entry of a state."""
        with self._lock:
            rows = self._db.execute("SELECT kind, account, region, attr, key, data FROM entries").fetchall()
        for kind, account, region, attr, key, data in rows:
            what = f"entry {attr}[{key}] of state {kind} of {account}/{region}"
            yield kind, account, region, attr, self._json(key, what), self._json(data, what)

    def records(self, space: str) -> Iterator[tuple[str, str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT account, name, data FROM records WHERE space=?", (space,)).fetchall()
        for account, name, data in rows:
            yield account, name, self._json(data, f"{space} record {name} of {account}")

    def _json(self, text: str, what: str) -> Any:
        try:
            return json.loads(text)
        except ValueError as exc:
            raise CorruptDataError(f"{self.db_path}: {what} is not valid JSON ({exc})") from None

    def wipe(self) -> None:
        """Forget everything (reset): rows and blob files."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM states")
            self._db.execute("DELETE FROM entries")
            self._db.execute("DELETE FROM records")
            self._db.execute("COMMIT")
        shutil.rmtree(os.path.join(self.path, "blobs"), ignore_errors=True)
        os.makedirs(os.path.join(self.path, "blobs"), exist_ok=True)

    def backup_to(self, target_db: str) -> None:
        """A consistent copy of the database (SQLite's online backup)."""
        with self._lock:
            dest = sqlite3.connect(target_db)
            try:
                self._db.backup(dest)
            finally:
                dest.close()


def _fsync_dir(path: str) -> None:
    """Flush a directory's entries (a rename or a new file) to the device."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Transaction:
    """One atomic batch of row writes."""

    def __init__(self, store: DataDir) -> None:
        self.store = store
        self.ops: list[tuple[str, tuple[Any, ...]]] = []
        self.callbacks: list[Any] = []

    def on_commit(self, fn: Any) -> None:
        """Run ``fn`` once the transaction committed (in-memory caches follow the disk)."""
        self.callbacks.append(fn)

    def put_state(self, kind: str, account: str, region: str, text: str) -> None:
        self.ops.append(("INSERT OR REPLACE INTO states VALUES (?, ?, ?, ?)", (kind, account, region, text)))

    def put_entry(self, kind: str, account: str, region: str, attr: str, key: str, text: str) -> None:
        self.ops.append(("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?)", (kind, account, region, attr, key, text)))

    def delete_entry(self, kind: str, account: str, region: str, attr: str, key: str) -> None:
        self.ops.append(("DELETE FROM entries WHERE kind=? AND account=? AND region=? AND attr=? AND key=?",
                         (kind, account, region, attr, key)))

    def put_record(self, space: str, account: str, name: str, data: Any) -> None:
        self.ops.append(("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                         (space, account, name, json.dumps(data, separators=(",", ":")))))

    def delete_record(self, space: str, account: str, name: str) -> None:
        self.ops.append(("DELETE FROM records WHERE space=? AND account=? AND name=?", (space, account, name)))

    def delete_records_with_prefix(self, space: str, account: str, prefix: str) -> None:
        self.ops.append(("DELETE FROM records WHERE space=? AND account=? AND substr(name, 1, ?)=?",
                         (space, account, len(prefix), prefix)))

    def commit(self) -> None:
        if self.ops:
            self._write()
        for fn in self.callbacks:
            fn()
        self.callbacks.clear()

    def _write(self) -> None:
        db = self.store._db
        with self.store._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in self.ops:
                    db.execute(sql, args)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        self.ops.clear()
