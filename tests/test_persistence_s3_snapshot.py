"""--data-dir, continued: S3 object tags, ACLs, versions and multipart uploads in progress
survive kill -9; snapshots over HTTP (``/_emulator/snapshot``); one process per data dir
(``snapshot load`` and a second server refuse while one runs).

Every server runs in its own process (tests/server_process.py) so it can be killed -9.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import urllib.error
import urllib.request

from emulator.persistence.disk import DB_NAME
from tests.sagemaker_helpers import KNN_IMAGE, ROLE
from tests.server_process import ServerProcess
from tests.test_persistence import _main

PART_1 = os.urandom(5 << 20)  # S3's minimum size of every part but the last
PART_2 = b"the last part" * 100


def _tags(answer: dict) -> dict:
    return {t["Key"]: t["Value"] for t in answer["TagSet"]}


def test_s3_tags_acls_versions_and_multipart_uploads_survive_kill_9(tmp_path) -> None:
    data = str(tmp_path / "data")
    with ServerProcess(data) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="kept")
        s3.put_bucket_versioning(Bucket="kept", VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_tagging(Bucket="kept", Tagging={"TagSet": [{"Key": "env", "Value": "dev"}]})
        first = s3.put_object(Bucket="kept", Key="doc.txt", Body=b"version one", Metadata={"owner": "ana"})["VersionId"]
        second = s3.put_object(Bucket="kept", Key="doc.txt", Body=b"version two")["VersionId"]
        s3.put_object_tagging(Bucket="kept", Key="doc.txt", Tagging={"TagSet": [{"Key": "team", "Value": "ml"}]})
        s3.put_object_acl(Bucket="kept", Key="doc.txt", ACL="public-read")  # the latest version, changed in place
        upload = s3.create_multipart_upload(Bucket="kept", Key="big.bin", Tagging="origin=multipart",
                                            Metadata={"kind": "model"})["UploadId"]
        etag_1 = s3.upload_part(Bucket="kept", Key="big.bin", UploadId=upload, PartNumber=1, Body=PART_1)["ETag"]
        server.kill()
        port = server.port

    with ServerProcess(data, port=port) as server:
        s3 = server.client("s3")
        assert _tags(s3.get_bucket_tagging(Bucket="kept")) == {"env": "dev"}
        assert s3.get_bucket_versioning(Bucket="kept")["Status"] == "Enabled"
        assert _tags(s3.get_object_tagging(Bucket="kept", Key="doc.txt")) == {"team": "ml"}
        versions = s3.list_object_versions(Bucket="kept", Prefix="doc.txt")["Versions"]
        assert [v["VersionId"] for v in versions] == [second, first]
        old = s3.get_object(Bucket="kept", Key="doc.txt", VersionId=first)
        assert old["Body"].read() == b"version one" and old["Metadata"] == {"owner": "ana"}
        grants = s3.get_object_acl(Bucket="kept", Key="doc.txt")["Grants"]
        assert {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"} in [g["Grantee"] for g in grants]
        assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="kept")["Uploads"]] == [upload]
        assert [p["ETag"] for p in s3.list_parts(Bucket="kept", Key="big.bin", UploadId=upload)["Parts"]] == [etag_1]
        s3.put_object_acl(Bucket="kept", Key="doc.txt", ACL="authenticated-read")  # a restored key, changed in place
        etag_2 = s3.upload_part(Bucket="kept", Key="big.bin", UploadId=upload, PartNumber=2, Body=PART_2)["ETag"]
        s3.complete_multipart_upload(Bucket="kept", Key="big.bin", UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": etag_1}, {"PartNumber": 2, "ETag": etag_2}]})
        server.kill()

    with ServerProcess(data, port=port) as server:  # the completed upload is an object now, the upload gone
        s3 = server.client("s3")
        big = s3.get_object(Bucket="kept", Key="big.bin")
        assert big["Body"].read() == PART_1 + PART_2 and big["Metadata"] == {"kind": "model"}
        assert big["ETag"].endswith('-2"')
        assert _tags(s3.get_object_tagging(Bucket="kept", Key="big.bin")) == {"origin": "multipart"}
        assert s3.list_multipart_uploads(Bucket="kept").get("Uploads", []) == []
        grantees = [g["Grantee"].get("URI") for g in s3.get_object_acl(Bucket="kept", Key="doc.txt")["Grants"]]
        assert "http://acs.amazonaws.com/groups/global/AuthenticatedUsers" in grantees
        assert "http://acs.amazonaws.com/groups/global/AllUsers" not in grantees
        server.kill()


def _post(url: str, body: bytes | None = None, method: str = "POST") -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def _snapshot_cli(*args: str) -> int:
    """``aws-ml-emulator snapshot ...`` in-process (the command line's own function)."""
    from emulator.persistence.cli import snapshot_main

    return snapshot_main(list(args))


def test_snapshot_over_http_and_one_process_per_data_dir(tmp_path, capsys) -> None:
    data = str(tmp_path / "data")
    with ServerProcess(data) as server:
        s3, sm = server.client("s3"), server.client("sagemaker")
        s3.create_bucket(Bucket="shared")
        s3.put_object(Bucket="shared", Key="rows.csv", Body=b"1,2\n3,4\n")
        s3.put_object_tagging(Bucket="shared", Key="rows.csv", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
        sm.create_model(ModelName="shared-model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": KNN_IMAGE})

        status, archive, headers = _post(f"{server.url}/_emulator/snapshot")
        assert status == 200 and headers["Content-Type"] == "application/gzip"
        assert "attachment" in headers["Content-Disposition"]
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            names = tar.getnames()
        assert DB_NAME in names and any(n.startswith("blobs/") for n in names)
        path = str(tmp_path / "pod.tar.gz")
        with open(path, "wb") as f:
            f.write(archive)

        # while this server runs, the CLI refuses to replace its directory, and a second server refuses it
        assert _snapshot_cli("load", path, "--data-dir", data) == 3
        err = capsys.readouterr().err
        assert "in use by a running aws-ml-emulator" in err and f"PID {server.process.pid}" in err
        assert os.listdir(tmp_path).count("data") == 1 and not [p for p in os.listdir(tmp_path) if "before-snapshot" in p]
        assert _main("--data-dir", data) == 2  # a second server refuses the directory too
        assert "in use by a running aws-ml-emulator" in capsys.readouterr().err

        # the state changes, then the archive put back over HTTP replaces it
        s3.delete_object(Bucket="shared", Key="rows.csv")
        s3.put_object(Bucket="shared", Key="later.csv", Body=b"later")
        sm.delete_model(ModelName="shared-model")
        status, body, _ = _post(f"{server.url}/_emulator/snapshot", b"not an archive", method="PUT")
        assert status == 400 and json.loads(body)["__type"] == "InvalidSnapshot"
        assert s3.get_object(Bucket="shared", Key="later.csv")["Body"].read() == b"later"  # nothing changed
        status, body, _ = _post(f"{server.url}/_emulator/snapshot", archive, method="PUT")
        assert status == 200 and json.loads(body)["status"] == "loaded"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="shared")["Contents"]] == ["rows.csv"]
        assert s3.get_object(Bucket="shared", Key="rows.csv")["Body"].read() == b"1,2\n3,4\n"
        assert _tags(s3.get_object_tagging(Bucket="shared", Key="rows.csv")) == {"k": "v"}
        assert sm.describe_model(ModelName="shared-model")["PrimaryContainer"]["Image"] == KNN_IMAGE
        s3.put_object(Bucket="shared", Key="after-load.csv", Body=b"kept")  # persisted into the loaded directory
        status, _, _ = _post(f"{server.url}/_emulator/snapshot/load", archive)  # the POST spelling
        assert status == 200
        s3.put_object(Bucket="shared", Key="after-load.csv", Body=b"kept")
        server.kill()
        port = server.port

    with ServerProcess(data, port=port) as server:
        s3 = server.client("s3")
        assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="shared")["Contents"]) == ["after-load.csv", "rows.csv"]
        assert server.client("sagemaker").describe_model(ModelName="shared-model")["ModelName"] == "shared-model"
        server.kill()

    assert _snapshot_cli("load", path, "--data-dir", data) == 0  # stopped: the CLI loads it
    assert [p for p in os.listdir(tmp_path) if p.startswith("data.before-snapshot-")]


def test_snapshot_routes_need_a_data_dir(emulator) -> None:
    for method, path in (("POST", "/_emulator/snapshot"), ("PUT", "/_emulator/snapshot")):
        status, body, _ = _post(f"{emulator.url}{path}", b"x" if method == "PUT" else None, method=method)
        assert status == 400 and json.loads(body)["__type"] == "SnapshotUnavailable"
        assert "--data-dir" in json.loads(body)["message"]


def test_bodies_and_commits_reach_the_device_before_they_are_referenced(tmp_path, monkeypatch) -> None:
    """A body file is flushed, renamed, and its directory flushed (power-cut safe) before
    put_stream returns (the commit referencing it comes after); SQLite commits with FULL sync."""
    import hashlib

    from emulator.persistence.disk import DataDir

    disk = DataDir(str(tmp_path))
    body = os.urandom(10_000)
    final = disk.blob_path(hashlib.sha256(body).hexdigest())
    synced: list[tuple[str, str, bool]] = []  # (sync kind, path synced, body visible under its name yet)

    def recording(kind: str, real):  # noqa: ANN001, ANN202
        def sync(fd: int) -> None:
            synced.append((kind, os.readlink(f"/proc/self/fd/{fd}"), os.path.exists(final)))
            real(fd)
        return sync

    monkeypatch.setattr(os, "fdatasync", recording("data", os.fdatasync))
    monkeypatch.setattr(os, "fsync", recording("full", os.fsync))
    assert disk.put_stream(io.BytesIO(body)) == (os.path.basename(final), len(body))
    # the bytes first, under a temporary name (not yet visible); the renamed-into directory last
    assert synced[0][0] == "data" and os.path.basename(synced[0][1]).startswith(".tmp-") and not synced[0][2]
    assert synced[-1] == ("full", os.path.dirname(final), True)
    assert disk._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    disk.close()

    synced.clear()  # --data-sync normal: written to the OS only (survives kill -9, not a power cut)
    fast = DataDir(str(tmp_path / "normal"), sync="normal")
    fast.put_stream(io.BytesIO(body))
    assert synced == [] and fast._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    fast.close()
