"""``aws-ml-emulator snapshot save FILE`` / ``snapshot load FILE``: one portable archive
(tar.gz) of a data directory: a consistent copy of the database plus every body file."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tarfile
import tempfile
import time

from emulator.persistence.disk import DB_NAME, LOCK_NAME, DataDir, DirLock


def save(data_dir: str, archive: str) -> int:
    """Write ``archive`` from ``data_dir`` (safe while an emulator is running on it); files written."""
    if not os.path.exists(os.path.join(data_dir, DB_NAME)):
        raise FileNotFoundError(f"{data_dir} holds no emulator data ({DB_NAME} missing)")
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, DB_NAME)
        source = sqlite3.connect(os.path.join(data_dir, DB_NAME))
        try:
            dest = sqlite3.connect(copy)
            source.backup(dest)  # consistent even while the emulator writes
            dest.execute("PRAGMA journal_mode=DELETE")
            dest.close()
        finally:
            source.close()
        count = 1
        partial = archive + ".partial"
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(copy, arcname=DB_NAME)
            blobs = os.path.join(data_dir, "blobs")
            for dirpath, _, files in os.walk(blobs):
                for name in sorted(files):
                    if not name.startswith(".tmp-"):
                        path = os.path.join(dirpath, name)
                        tar.add(path, arcname=os.path.relpath(path, data_dir))
                        count += 1
        os.replace(partial, archive)
    return count


def unpack(archive: str, parent: str) -> str:
    """Extract ``archive`` into a new directory under ``parent`` and check it opens (format
    version, database integrity); the directory's path. Only the database and ``blobs/``
    files are accepted, extracted with tarfile's ``data`` filter (no links, no escaping)."""
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=".snapshot-")
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar.getmembers():
                if not (member.isfile() and (member.name == DB_NAME or member.name.startswith("blobs/"))):
                    raise ValueError(f"{archive}: unexpected entry {member.name!r}; not an emulator snapshot")
            tar.extractall(staging, filter="data")
        DataDir(staging).close()  # refuses a newer format or a corrupt database
        os.unlink(os.path.join(staging, LOCK_NAME))
        return staging
    except tarfile.TarError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ValueError(f"{archive}: not a readable snapshot archive ({exc})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load(archive: str, data_dir: str) -> str | None:
    """Replace ``data_dir`` with the archive's content. Refuses (``DataDirInUseError``) while
    an emulator runs on ``data_dir``: load over HTTP then (``PUT /_emulator/snapshot``).
    A previous directory is kept as ``DIR.before-snapshot-<time>``; its path is returned."""
    lock = DirLock(data_dir) if os.path.isdir(data_dir) else None  # before any work: fail fast
    try:
        staging = unpack(archive, os.path.dirname(os.path.abspath(data_dir)) or ".")
        kept = None
        if os.path.exists(data_dir):
            kept = f"{os.path.abspath(data_dir).rstrip(os.sep)}.before-snapshot-{time.strftime('%Y%m%d-%H%M%S')}"
            os.rename(data_dir, kept)
        os.rename(staging, data_dir)
        return kept
    finally:
        if lock is not None:
            lock.release()
