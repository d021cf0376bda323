"""Server core over HTTP: moto-served services, identity, accounts, errors, health."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

from clients.testing import RunningEmulator


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_health_reports_version_and_services(emulator: RunningEmulator) -> None:
    with urllib.request.urlopen(f"{emulator.url}/_emulator/health") as response:
        health = json.loads(response.read())
    assert health["version"]
    assert health["services"]["sts"]["implemented"] >= 1
    assert health["services"]["s3"]["provider"] == "moto"
    assert health["engines"] in ("warming", "ready")  # the background engine import's progress


def test_s3_put_get_through_boto3(aws, bucket: str) -> None:
    s3 = aws("s3")
    s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"hello")
    assert s3.get_object(Bucket=bucket, Key="a/b.txt")["Body"].read() == b"hello"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["a/b.txt"]


def test_s3_virtual_host_addressing(emulator: RunningEmulator, aws, bucket: str) -> None:
    import http.client

    aws("s3").put_object(Bucket=bucket, Key="v.txt", Body=b"virtual")
    port = int(emulator.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/v.txt", headers={
        "Host": f"{bucket}.localhost:{port}",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"})
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"virtual")


def test_aws_cli_copies_and_lists(emulator: RunningEmulator, bucket: str, tmp_path) -> None:
    source = tmp_path / "data.csv"
    source.write_text("a,b\n1,2\n")
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    cli = [sys.executable, "-m", "awscli", "--endpoint-url", emulator.url]
    subprocess.run([*cli, "s3", "cp", str(source), f"s3://{bucket}/in/data.csv"], check=True, env=env, capture_output=True)
    listing = subprocess.run([*cli, "s3", "ls", f"s3://{bucket}/in/"], check=True, env=env, capture_output=True, text=True)
    assert "data.csv" in listing.stdout
    back = tmp_path / "back.csv"
    subprocess.run([*cli, "s3", "cp", f"s3://{bucket}/in/data.csv", str(back)], check=True, env=env, capture_output=True)
    assert back.read_text() == "a,b\n1,2\n"


def test_logs_create_put_get(aws) -> None:
    logs = aws("logs")
    logs.create_log_group(logGroupName="/test/core")
    logs.create_log_stream(logGroupName="/test/core", logStreamName="s1")
    logs.put_log_events(logGroupName="/test/core", logStreamName="s1",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "hello"}])
    events = logs.get_log_events(logGroupName="/test/core", logStreamName="s1", startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["hello"]


def test_sts_caller_identity_is_an_assumed_role(aws) -> None:
    identity = aws("sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert ":assumed-role/" in identity["Arn"]


def test_twelve_digit_access_key_selects_the_account(aws) -> None:
    other = aws("sts", access_key="111122223333").get_caller_identity()
    assert other["Account"] == "111122223333"


def test_accounts_do_not_see_each_others_buckets(aws) -> None:
    mine, theirs = aws("s3", access_key="222233334444"), aws("s3", access_key="333344445555")
    mine.create_bucket(Bucket="account-isolation-mine")
    assert "account-isolation-mine" in [b["Name"] for b in mine.list_buckets()["Buckets"]]
    assert "account-isolation-mine" not in [b["Name"] for b in theirs.list_buckets()["Buckets"]]


def test_every_response_has_a_request_id(emulator: RunningEmulator) -> None:
    status, headers, body = _post(emulator.url + "/", b"Action=GetCallerIdentity&Version=2011-06-15",
                               {"Content-Type": "application/x-www-form-urlencoded",
                                "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request"})
    assert status == 200
    assert b"<Account>123456789012</Account>" in body
    assert any(k.lower() == "x-amzn-requestid" for k in headers)


def test_unknown_target_is_a_4xx(emulator: RunningEmulator) -> None:
    status, _, body = _post(emulator.url + "/", b"{}", {"X-Amz-Target": "NoSuchService.DoIt",
                                                        "Content-Type": "application/x-amz-json-1.1"})
    assert 400 <= status < 500
    assert json.loads(body)["__type"] == "UnknownOperationException"
