"""Snapshots over HTTP, next to ``POST /_emulator/reset``:

* ``POST /_emulator/snapshot`` answers one archive (tar.gz) of the whole state, the same
  file ``aws-ml-emulator snapshot save`` writes;
* ``PUT /_emulator/snapshot`` (or ``POST /_emulator/snapshot/load``) with such an archive
  as the body replaces the running emulator's whole state by it.

Both need ``--data-dir`` (else 400). A body that is not a snapshot answers 400 and
changes nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

from flask import Flask, jsonify, request, send_file

from emulator.persistence.disk import DataDirError


def _error(status: int, code: str, message: str) -> Any:
    return jsonify({"__type": code, "message": message}), status


def register_snapshot_routes(app: Flask, emulator: Any) -> None:
    from emulator.runtime import SnapshotUnavailable

    def work_dir() -> str:
        """Temporary files beside the data directory (same filesystem, no RAM)."""
        parent = os.path.dirname(emulator.persistence.disk.path)
        return tempfile.mkdtemp(dir=parent, prefix=".snapshot-http-")

    @app.post("/_emulator/snapshot")
    def save_snapshot():  # noqa: ANN202
        """One archive of the whole state, as a download."""
        if emulator.persistence is None:
            return _error(400, "SnapshotUnavailable", "snapshots need --data-dir: this emulator keeps its state in memory only")
        tmp = work_dir()
        try:
            archive = os.path.join(tmp, "snapshot.tar.gz")
            emulator.save_snapshot(archive)
            handle = open(archive, "rb")  # noqa: SIM115 - closed by the response
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # the open handle keeps the bytes readable
        name = f"emulator-snapshot-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz"
        return send_file(handle, mimetype="application/gzip", as_attachment=True, download_name=name)

    @app.put("/_emulator/snapshot")
    @app.post("/_emulator/snapshot/load")
    def load_snapshot():  # noqa: ANN202
        """Replace the whole state by the archive in the request body."""
        if emulator.persistence is None:
            return _error(400, "SnapshotUnavailable", "snapshots need --data-dir: this emulator keeps its state in memory only")
        tmp = work_dir()
        try:
            archive = os.path.join(tmp, "upload.tar.gz")
            with open(archive, "wb") as out:
                while block := request.stream.read(1 << 20):
                    out.write(block)
            if os.path.getsize(archive) == 0:
                return _error(400, "InvalidSnapshot", "the request body must be a snapshot archive (tar.gz)")
            try:
                restored = emulator.load_snapshot(archive)
            except (ValueError, DataDirError) as exc:
                return _error(400, "InvalidSnapshot", str(exc))
            except SnapshotUnavailable as exc:
                return _error(400, "SnapshotUnavailable", str(exc))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return jsonify({"status": "loaded", "restored": restored})
