"""Glue ETL jobs really run: the job API, run states, arguments, logs, stop and timeout
(Python shell jobs: no Spark start-up). Spark jobs are in tests/test_glue_spark_jobs.py."""

from __future__ import annotations

import textwrap

import pytest
from botocore.exceptions import ClientError

from clients.testing import running_emulator
from emulator.config import Config
from tests.glue_job_helpers import log_lines, make_job, wait_for_log, wait_run

ARGUMENTS_SCRIPT = textwrap.dedent("""
    import sys, boto3
    from awsglue.utils import getResolvedOptions
    args = getResolvedOptions(sys.argv, ["JOB_NAME", "JOB_RUN_ID", "bucket", "greeting", "level"])
    import helper_lib
    body = "|".join([args["JOB_NAME"], args["JOB_RUN_ID"], args["greeting"], args["level"], helper_lib.shout("ok")])
    boto3.client("s3").put_object(Bucket=args["bucket"], Key="out/args.txt", Body=body.encode())
    print("wrote", body)
""")


def test_job_definition_api(aws, bucket) -> None:
    glue = aws("glue")
    name = make_job(aws, bucket, "print('hi')", DefaultArguments={"--a": "1"}, Tags={"team": "ml"}, MaxRetries=1,
                    Timeout=30, ExecutionProperty={"MaxConcurrentRuns": 3})
    job = glue.get_job(JobName=name)["Job"]
    assert job["Command"]["Name"] == "pythonshell" and job["MaxCapacity"] == 0.0625
    assert job["DefaultArguments"] == {"--a": "1"} and job["Timeout"] == 30 and job["MaxRetries"] == 1
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 3}
    assert job["CreatedOn"] <= job["LastModifiedOn"]
    with pytest.raises(ClientError) as exc:
        make_job(aws, bucket, "", name=name)
    assert exc.value.response["Error"]["Code"] == "AlreadyExistsException"
    other = make_job(aws, bucket, "print(1)", kind="glueetl")
    assert glue.get_job(JobName=other)["Job"]["MaxCapacity"] == 10.0

    assert name in glue.list_jobs(Tags={"team": "ml"})["JobNames"]
    assert other not in glue.list_jobs(Tags={"team": "ml"})["JobNames"]
    assert glue.get_tags(ResourceArn=f"arn:aws:glue:us-east-1:123456789012:job/{name}")["Tags"] == {"team": "ml"}
    found = glue.batch_get_jobs(JobNames=[name, "no-such-job"])
    assert [j["Name"] for j in found["Jobs"]] == [name] and found["JobsNotFound"] == ["no-such-job"]
    page = glue.get_jobs(MaxResults=1)
    assert len(page["Jobs"]) == 1 and page["NextToken"]

    glue.update_job(JobName=name, JobUpdate={"Role": "r", "Command": job["Command"], "Timeout": 5,
                                             "DefaultArguments": {"--b": "2"}})
    updated = glue.get_job(JobName=name)["Job"]
    assert updated["Timeout"] == 5 and updated["DefaultArguments"] == {"--b": "2"}
    assert updated["CreatedOn"] == job["CreatedOn"]
    with pytest.raises(ClientError) as exc:
        glue.update_job(JobName="no-such-job", JobUpdate={"Role": "r", "Command": job["Command"]})
    assert exc.value.response["Error"]["Code"] == "EntityNotFoundException"

    with pytest.raises(ClientError) as exc:
        glue.create_job(Name="both", Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://b/k.py"},
                        MaxCapacity=2.0, WorkerType="G.1X", NumberOfWorkers=2)
    assert exc.value.response["Error"]["Code"] == "InvalidInputException"
    assert glue.delete_job(JobName=name)["JobName"] == name
    with pytest.raises(ClientError) as exc:
        glue.get_job(JobName=name)
    assert exc.value.response["Error"]["Code"] == "EntityNotFoundException"
    assert glue.delete_job(JobName=name)["JobName"] == name  # AWS: deleting a missing job succeeds


def test_arguments_extra_py_files_and_output_log(aws, bucket) -> None:
    glue, s3 = aws("glue"), aws("s3")
    s3.put_object(Bucket=bucket, Key="lib/helper_lib.py", Body=b"def shout(text):\n    return text.upper() + '!'\n")
    name = make_job(aws, bucket, ARGUMENTS_SCRIPT,
                    DefaultArguments={"--bucket": bucket, "--greeting": "default", "--level": "low",
                                      "--extra-py-files": f"s3://{bucket}/lib/helper_lib.py"})
    run_id = glue.start_job_run(JobName=name, Arguments={"--greeting": "hello"})["JobRunId"]
    run = wait_run(aws, name, run_id)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    body = s3.get_object(Bucket=bucket, Key="out/args.txt")["Body"].read().decode()
    assert body == f"{name}|{run_id}|hello|low|OK!"  # the run's argument wins over the default
    assert run["Arguments"] == {"--greeting": "hello"}
    assert run["Attempt"] == 0 and run["ExecutionTime"] >= 0 and run["CompletedOn"] >= run["StartedOn"]
    assert run["LogGroupName"] == "/aws-glue/jobs"
    assert f"wrote {body}" in log_lines(aws, "/aws-glue/jobs/output", run_id)
    runs = glue.get_job_runs(JobName=name)["JobRuns"]
    assert [r["Id"] for r in runs] == [run_id]


@pytest.mark.parametrize("script, error", [
    ("x = 1\nif x = 2:\n    pass\n", "SyntaxError: invalid syntax"),
    ("def load():\n    raise ValueError('bad record 42')\nload()\n", "ValueError: bad record 42"),
])
def test_failing_script_ends_failed_with_error_and_traceback(aws, bucket, script, error) -> None:
    glue = aws("glue")
    name = make_job(aws, bucket, script)
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    run = wait_run(aws, name, run_id)
    assert run["JobRunState"] == "FAILED"
    assert error in run["ErrorMessage"]
    lines = wait_for_log(aws, "/aws-glue/jobs/error", run_id, error.split(":")[0])
    assert any("Traceback" in line for line in lines) or "SyntaxError" in error
    assert glue.get_job(JobName=name)["Job"]["Name"] == name  # the server keeps serving


def test_failed_run_is_retried_up_to_max_retries(aws, bucket) -> None:
    glue = aws("glue")
    name = make_job(aws, bucket, "raise RuntimeError('always')", MaxRetries=1)
    first = glue.start_job_run(JobName=name)["JobRunId"]
    wait_run(aws, name, first)

    def retried():
        runs = glue.get_job_runs(JobName=name)["JobRuns"]
        return len(runs) == 2 and all(r["JobRunState"] == "FAILED" for r in runs) and runs

    import time
    deadline = time.monotonic() + 60
    while not (runs := retried()):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    second = next(r for r in runs if r["Id"] != first)
    assert second["Attempt"] == 1 and second["PreviousRunId"] == first


def test_missing_script_fails_and_unknown_job_is_not_found(aws, bucket) -> None:
    glue = aws("glue")
    glue.create_job(Name="no-script-object", Role="r",
                    Command={"Name": "pythonshell", "ScriptLocation": f"s3://{bucket}/missing.py"})
    run_id = glue.start_job_run(JobName="no-script-object")["JobRunId"]
    run = wait_run(aws, "no-script-object", run_id)
    assert run["JobRunState"] == "FAILED" and "missing.py" in run["ErrorMessage"]
    with pytest.raises(ClientError) as exc:
        glue.start_job_run(JobName="never-created")
    assert exc.value.response["Error"]["Code"] == "EntityNotFoundException"
    with pytest.raises(ClientError) as exc:
        glue.get_job_run(JobName="no-script-object", RunId="jr_nope")
    assert exc.value.response["Error"]["Code"] == "EntityNotFoundException"


def test_stop_kills_the_process_group_and_concurrency_is_limited(aws, bucket) -> None:
    glue = aws("glue")
    script = textwrap.dedent("""
        import os, subprocess, sys, time, boto3
        from awsglue.utils import getResolvedOptions
        args = getResolvedOptions(sys.argv, ["bucket"])
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        boto3.client("s3").put_object(Bucket=args["bucket"], Key="pids", Body=f"{os.getpid()} {child.pid}".encode())
        print("working", flush=True)
        time.sleep(600)
    """)
    name = make_job(aws, bucket, script, DefaultArguments={"--bucket": bucket})
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    wait_for_log(aws, "/aws-glue/jobs/output", run_id, "working")  # streamed while the job runs
    assert glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]["JobRunState"] == "RUNNING"
    with pytest.raises(ClientError) as exc:
        glue.start_job_run(JobName=name)
    assert exc.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"

    pids = [int(p) for p in aws("s3").get_object(Bucket=bucket, Key="pids")["Body"].read().split()]
    answer = glue.batch_stop_job_run(JobName=name, JobRunIds=[run_id, "jr_unknown"])
    assert answer["SuccessfulSubmissions"] == [{"JobName": name, "JobRunId": run_id}]
    assert answer["Errors"][0]["JobRunId"] == "jr_unknown"
    run = wait_run(aws, name, run_id)
    assert run["JobRunState"] == "STOPPED"
    for pid in pids:  # the script and its own child are gone: the whole group was killed
        assert not _alive(pid), pid
    again = glue.batch_stop_job_run(JobName=name, JobRunIds=[run_id])
    assert again["Errors"][0]["ErrorDetail"]["ErrorCode"] == "InvalidInputException"


def _alive(pid: int) -> bool:
    import os
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        try:  # a zombie (not yet reaped) counts as gone
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().split(")")[-1].split()[0] == "Z":
                    return False
        except OSError:
            return False
        time.sleep(0.05)
    return True


def test_timeout_in_minutes_is_honoured() -> None:
    """With one job-minute lasting 1 s (EMULATOR_GLUE_JOB_MINUTE_SECONDS), Timeout=2 stops a run after ~2 s."""
    with running_emulator(Config(glue_job_minute_seconds=1.0)) as fast:
        fast.client("s3").create_bucket(Bucket="timeouts")
        name = make_job(fast.client, "timeouts", "import time\nprint('start', flush=True)\ntime.sleep(600)\n", Timeout=2)
        run_id = fast.client("glue").start_job_run(JobName=name)["JobRunId"]
        run = wait_run(fast.client, name, run_id, deadline_seconds=60)
        assert run["JobRunState"] == "TIMEOUT"
        assert "2 minutes" in run["ErrorMessage"]
        assert 2 <= run["ExecutionTime"] <= 30

        lingering = make_job(fast.client, "timeouts", "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(600)\n")
        run_id = fast.client("glue").start_job_run(JobName=lingering)["JobRunId"]
        pid = int(wait_for_log(fast.client, "/aws-glue/jobs/output", run_id, "")[0])
    assert not _alive(pid)  # shutting the emulator down stopped its running job


def test_bookmark_api(aws, bucket) -> None:
    glue = aws("glue")
    name = make_job(aws, bucket, "print(1)")
    with pytest.raises(ClientError) as exc:
        glue.get_job_bookmark(JobName=name)
    assert exc.value.response["Error"]["Code"] == "EntityNotFoundException"
    entry = glue.reset_job_bookmark(JobName=name)["JobBookmarkEntry"]
    assert entry["JobName"] == name and entry["JobBookmark"] == "{}"
    assert glue.get_job_bookmark(JobName=name)["JobBookmarkEntry"]["JobBookmark"] == "{}"
    with pytest.raises(ClientError) as exc:
        glue.reset_job_bookmark(JobName="never-created")
    assert exc.value.response["Error"]["Code"] == "EntityNotFoundException"


def test_queued_runs_wait_for_the_running_one(aws, bucket) -> None:
    glue, s3 = aws("glue"), aws("s3")
    script = textwrap.dedent("""
        import sys, time, boto3
        from awsglue.utils import getResolvedOptions
        args = getResolvedOptions(sys.argv, ["bucket"])
        s3 = boto3.client("s3")
        while "Contents" not in s3.list_objects_v2(Bucket=args["bucket"], Prefix="go"):
            time.sleep(0.05)
    """)
    name = make_job(aws, bucket, script, DefaultArguments={"--bucket": bucket}, JobRunQueuingEnabled=True)
    first = glue.start_job_run(JobName=name)["JobRunId"]
    second = glue.start_job_run(JobName=name)["JobRunId"]
    third = glue.start_job_run(JobName=name)["JobRunId"]
    assert glue.get_job_run(JobName=name, RunId=second)["JobRun"]["JobRunState"] == "WAITING"
    assert glue.batch_stop_job_run(JobName=name, JobRunIds=[third])["SuccessfulSubmissions"]
    assert glue.get_job_run(JobName=name, RunId=third)["JobRun"]["JobRunState"] == "STOPPED"
    wait_run(aws, name, first, until={"RUNNING"})
    assert glue.get_job_run(JobName=name, RunId=second)["JobRun"]["JobRunState"] == "WAITING"
    s3.put_object(Bucket=bucket, Key="go", Body=b"")
    assert wait_run(aws, name, first)["JobRunState"] == "SUCCEEDED"
    assert wait_run(aws, name, second)["JobRunState"] == "SUCCEEDED"
