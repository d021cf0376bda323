"""Tarballs in and out of a job directory: safe extraction (no path escapes), gzip'd packing."""

from __future__ import annotations

import io
import os
import tarfile


class UnsafeArchive(Exception):
    """An archive member would land outside the destination, or is not a regular file/directory."""


def extract_tar(data: bytes, destination: str) -> None:
    """Extract a (gzip'd or plain) tar into ``destination``; refuses absolute paths, ``..`` escapes,
    links and device files instead of writing anything outside the directory."""
    root = os.path.realpath(destination)
    os.makedirs(root, exist_ok=True)
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    except tarfile.TarError as exc:
        raise UnsafeArchive(f"not a tar archive: {exc}") from exc
    with archive:
        members = archive.getmembers()
        for member in members:
            target = os.path.realpath(os.path.join(root, member.name))
            if os.path.isabs(member.name) or not (target == root or target.startswith(root + os.sep)):
                raise UnsafeArchive(f"archive member {member.name!r} would be written outside the directory")
            if not (member.isfile() or member.isdir()):
                raise UnsafeArchive(f"archive member {member.name!r} is a link or special file")
        archive.extractall(root, members=members, filter="data")


def pack_tar_gz(directory: str) -> bytes:
    """Every file under ``directory`` in a gzip'd tar, paths relative to it (as SageMaker packs model/)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for entry in sorted(os.listdir(directory)):
            archive.add(os.path.join(directory, entry), arcname=entry)
    return buffer.getvalue()
