"""Script mode without Docker: SDK framework estimators, inference handlers and processing jobs
run the user's own code in child processes (see emulator/scriptmode/)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from clients.testing import RunningEmulator
from tests.sagemaker_helpers import IRIS_CSV


def test_sklearn_processing_training_and_endpoint_match_a_reference_forest(sagemaker_sdk: RunningEmulator) -> None:
    import boto3

    from clients.examples import scriptmode_sklearn_example as example

    outcome = example.main()
    job, train, test = outcome["job"], outcome["train"], outcome["test"]
    # the processing job's split is the one scikit-learn makes of the raw file
    raw = pd.read_csv(IRIS_CSV)[["Species", "Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]]
    raw["Species"] = raw["Species"].map({"setosa": 0, "versicolor": 1, "virginica": 2})
    ref_train, ref_test = train_test_split(raw, test_size=0.25, shuffle=True, random_state=0)
    np.testing.assert_allclose(train.to_numpy(), ref_train.to_numpy())
    np.testing.assert_allclose(test.to_numpy(), ref_test.to_numpy())
    # training ran the user's script: its metric and its model are the reference forest's
    assert job["TrainingJobStatus"] == "Completed"
    reference = RandomForestClassifier(n_estimators=20, random_state=7)
    reference.fit(train.iloc[:, 1:].to_numpy(), train.iloc[:, 0].to_numpy())
    expected = reference.predict(test.iloc[:, 1:].to_numpy())
    assert outcome["accuracy"] == pytest.approx(float(np.mean(expected == test.iloc[:, 0].to_numpy())), abs=1e-6)
    np.testing.assert_array_equal(outcome["predictions"], expected)
    # a random-label control: a forest on shuffled labels predicts differently
    control = RandomForestClassifier(n_estimators=20, random_state=7).fit(
        train.iloc[:, 1:].to_numpy(), np.random.default_rng(0).permutation(train.iloc[:, 0].to_numpy()))
    assert (control.predict(test.iloc[:, 1:].to_numpy()) != outcome["predictions"]).any()
    sm = boto3.client("sagemaker")
    assert sm.list_endpoints(NameContains=outcome["endpoint"])["Endpoints"] == []
    processing = sm.list_processing_jobs(SortBy="CreationTime", SortOrder="Descending")["ProcessingJobSummaries"][0]
    assert processing["ProcessingJobStatus"] == "Completed"


# ------------------------------------------------------------------ boto3-level contract tests
import io  # noqa: E402
import json  # noqa: E402
import tarfile  # noqa: E402
import time  # noqa: E402
from typing import Any, Callable  # noqa: E402

SKLEARN_IMAGE = "683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/AmazonSageMaker-ExecutionRole-Emulator"


def _sourcedir(files: dict[str, str], extra: Callable[[tarfile.TarFile], None] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if extra:
            extra(archive)
    return buffer.getvalue()


def _wait(describe: Callable[[], dict[str, Any]], key: str, deadline: float = 120) -> dict[str, Any]:
    end = time.monotonic() + deadline
    while True:
        record = describe()
        if record[key] not in ("InProgress", "Stopping", "Creating"):
            return record
        assert time.monotonic() < end, f"still {record[key]}"
        time.sleep(0.2)


def _train(aws, bucket: str, name: str, files: dict[str, str], hyperparameters: dict[str, str] | None = None,
           image: str = SKLEARN_IMAGE, program: str = "train.py", source: bytes | None = None,
           wait: bool = True, **extra: Any) -> dict[str, Any]:
    s3, sm = aws("s3"), aws("sagemaker")
    s3.put_object(Bucket=bucket, Key=f"{name}/source/sourcedir.tar.gz", Body=source or _sourcedir(files))
    s3.put_object(Bucket=bucket, Key=f"{name}/data/train/rows.csv", Body=b"1,2\n3,4\n")
    hps = {"sagemaker_program": json.dumps(program),
           "sagemaker_submit_directory": json.dumps(f"s3://{bucket}/{name}/source/sourcedir.tar.gz"),
           **(hyperparameters or {})}
    sm.create_training_job(
        TrainingJobName=name, AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        HyperParameters=hps, RoleArn=ROLE, OutputDataConfig={"S3OutputPath": f"s3://{bucket}/{name}/out"},
        InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{name}/data/train/"}}}],
        ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5},
        StoppingCondition=extra.pop("StoppingCondition", {"MaxRuntimeInSeconds": 600}), **extra)
    if not wait:
        return {}
    return _wait(lambda: sm.describe_training_job(TrainingJobName=name), "TrainingJobStatus")


def _log_text(aws, group: str, prefix: str) -> str:
    logs = aws("logs")
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=prefix)["logStreams"]
    return "\n".join(e["message"] for s in streams
                     for e in logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])["events"])


def _tar_members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}


CONTRACT_SCRIPT = """
import json, os, sys
env = {k: v for k, v in os.environ.items() if k.startswith("SM_")}
files = sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"]))
config = {n: json.load(open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], n)))
          for n in ("hyperparameters.json", "resourceconfig.json")}
json.dump({"argv": sys.argv[1:], "env": env, "files": files, "config": config, "cwd": os.getcwd()},
          open(os.path.join(os.environ["SM_MODEL_DIR"], "contract.json"), "w"))
open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "extra.txt"), "w").write("side output")
print("loss: 0.25"); print("loss: 0.125")
"""


def test_training_toolkit_contract(aws, bucket: str) -> None:
    sm = aws("sagemaker")
    s3 = aws("s3")
    s3.put_object(Bucket=bucket, Key="contract-job/source/sourcedir.tar.gz", Body=_sourcedir({"train.py": CONTRACT_SCRIPT}))
    s3.put_object(Bucket=bucket, Key="contract-job/data/train/part/rows.csv", Body=b"1,2\n")
    sm.create_training_job(
        TrainingJobName="contract-job",
        AlgorithmSpecification={"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File",
                                "MetricDefinitions": [{"Name": "loss", "Regex": r"loss: ([0-9.]+)"}]},
        HyperParameters={"sagemaker_program": '"train.py"', "epochs": "3", "lr": "0.5", "name": '"adam"',
                         "sagemaker_submit_directory": f'"s3://{bucket}/contract-job/source/sourcedir.tar.gz"'},
        RoleArn=ROLE, OutputDataConfig={"S3OutputPath": f"s3://{bucket}/out"},
        InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/contract-job/data/train"}}}],
        ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.c5.xlarge", "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600})
    job = _wait(lambda: sm.describe_training_job(TrainingJobName="contract-job"), "TrainingJobStatus")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{bucket}/out/contract-job/output/model.tar.gz"
    assert [(m["MetricName"], m["Value"]) for m in job["FinalMetricDataList"]] == [("loss", 0.125)]
    contract = json.loads(_tar_members(s3.get_object(Bucket=bucket, Key="out/contract-job/output/model.tar.gz")
                                       ["Body"].read())["contract.json"])
    assert contract["argv"] == ["--epochs", "3", "--lr", "0.5", "--name", "adam"]
    env = contract["env"]
    assert json.loads(env["SM_HPS"]) == {"epochs": 3, "lr": 0.5, "name": "adam"}
    assert env["SM_HP_EPOCHS"] == "3" and env["SM_HP_NAME"] == "adam"
    assert json.loads(env["SM_CHANNELS"]) == ["train"] and json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert env["SM_CURRENT_HOST"] == "algo-1" and env["SM_CURRENT_INSTANCE_TYPE"] == "ml.c5.xlarge"
    assert json.loads(env["SM_USER_ARGS"]) == contract["argv"] and int(env["SM_NUM_CPUS"]) >= 1
    assert env["SM_MODEL_DIR"].endswith("/model") and env["SM_OUTPUT_DATA_DIR"].endswith("/output/data")
    assert contract["files"] == ["part"]  # the key path below the prefix is kept
    assert contract["config"]["hyperparameters.json"]["epochs"] == "3"
    assert contract["config"]["resourceconfig.json"]["current_host"] == "algo-1"
    assert contract["cwd"].endswith("/code")
    assert _tar_members(s3.get_object(Bucket=bucket, Key="out/contract-job/output/output.tar.gz")["Body"].read()) == \
        {"extra.txt": b"side output"}
    assert "loss: 0.125" in _log_text(aws, "/aws/sagemaker/TrainingJobs", "contract-job/")


def test_a_script_that_raises_fails_the_job_with_its_exception(aws, bucket: str) -> None:
    script = "def helper():\n    raise ValueError('the data has no label column')\nprint('starting')\nhelper()\n"
    job = _train(aws, bucket, "raising-job", {"train.py": script})
    assert job["TrainingJobStatus"] == "Failed"
    assert "ExecuteUserScriptError" in job["FailureReason"]
    assert "ValueError: the data has no label column" in job["FailureReason"]
    text = _log_text(aws, "/aws/sagemaker/TrainingJobs", "raising-job/")
    assert "starting" in text and "Traceback (most recent call last)" in text and "in helper" in text
    # the server is unaffected: the next job runs
    ok = _train(aws, bucket, "after-raising-job", {"train.py": "print('fine')"})
    assert ok["TrainingJobStatus"] == "Completed"


def test_the_failure_file_becomes_the_failure_reason(aws, bucket: str) -> None:
    script = ("import os, sys\nopen(os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure'), 'w')"
              ".write('bad hyperparameter: depth')\nsys.exit(2)\n")
    job = _train(aws, bucket, "failure-file-job", {"train.py": script})
    assert job["TrainingJobStatus"] == "Failed" and "bad hyperparameter: depth" in job["FailureReason"]


def test_stop_training_job_kills_the_process_group(aws, bucket: str) -> None:
    script = ("import os, subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
              "open(os.path.join(os.environ['SM_CHANNEL_TRAIN'], '..', 'pids'), 'w')"
              ".write(f'{os.getpid()} {child.pid}')\nprint('sleeping', flush=True)\ntime.sleep(300)\n")
    _train(aws, bucket, "stopped-job", {"train.py": script}, wait=False)
    sm = aws("sagemaker")
    end = time.monotonic() + 60
    while "sleeping" not in _log_text(aws, "/aws/sagemaker/TrainingJobs", "stopped-job/"):
        assert time.monotonic() < end
        time.sleep(0.2)
    sm.stop_training_job(TrainingJobName="stopped-job")
    job = _wait(lambda: sm.describe_training_job(TrainingJobName="stopped-job"), "TrainingJobStatus", 30)
    assert job["TrainingJobStatus"] == "Stopped"


def test_max_runtime_kills_the_script(aws, bucket: str) -> None:
    job = _train(aws, bucket, "timed-out-job", {"train.py": "import time\ntime.sleep(300)\n"},
                 StoppingCondition={"MaxRuntimeInSeconds": 1})
    assert job["TrainingJobStatus"] == "Stopped" and job["SecondaryStatus"] == "MaxRuntimeExceeded"


def test_a_tar_slip_source_dir_is_refused(aws, bucket: str, tmp_path) -> None:
    def escape(archive: tarfile.TarFile) -> None:
        info = tarfile.TarInfo("../../escaped.py")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"#"))

    job = _train(aws, bucket, "slip-job", {}, source=_sourcedir({"train.py": "print(1)"}, escape))
    assert job["TrainingJobStatus"] == "Failed" and "outside the directory" in job["FailureReason"]


def test_a_missing_framework_is_named(aws, bucket: str) -> None:
    pytest.importorskip("sklearn")
    try:
        import torch  # noqa: F401
        pytest.skip("torch is installed")
    except ImportError:
        pass
    image = "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.1-cpu-py310"
    job = _train(aws, bucket, "no-torch-job", {"train.py": "print(1)"}, image=image)
    assert job["TrainingJobStatus"] == "Failed"
    assert "pip install torch==2.1.*" in job["FailureReason"]


def test_an_unsatisfiable_requirement_is_named(aws, bucket: str) -> None:
    job = _train(aws, bucket, "requirements-job", {"train.py": "print(1)",
                                                   "requirements.txt": "scikit-learn>=999\n"})
    assert job["TrainingJobStatus"] == "Failed" and "scikit-learn" in job["FailureReason"]


INFERENCE_SCRIPT = """
import json, os
import numpy as np

def model_fn(model_dir):
    with open(os.path.join(model_dir, "weights.json")) as f:
        return np.array(json.load(f))

def predict_fn(data, model):
    if data.shape[1] != len(model):
        raise ValueError(f"expected {len(model)} features, got {data.shape[1]}")
    if data[0][0] < 0:
        os._exit(3)  # a hard crash of the model server
    return data @ model
"""


def _model_tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _script_endpoint(aws, bucket: str, name: str, script: str) -> dict[str, Any]:
    s3, sm = aws("s3"), aws("sagemaker")
    s3.put_object(Bucket=bucket, Key=f"{name}/model.tar.gz", Body=_model_tar({"weights.json": b"[1, 10]"}))
    s3.put_object(Bucket=bucket, Key=f"{name}/sourcedir.tar.gz", Body=_sourcedir({"inference.py": script}))
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": SKLEARN_IMAGE, "ModelDataUrl": f"s3://{bucket}/{name}/model.tar.gz",
        "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                        "SAGEMAKER_SUBMIT_DIRECTORY": f"s3://{bucket}/{name}/sourcedir.tar.gz"}})
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return _wait(lambda: sm.describe_endpoint(EndpointName=name), "EndpointStatus")


def test_inference_handlers_model_errors_and_crash_restart(aws, bucket: str) -> None:
    endpoint = _script_endpoint(aws, bucket, "handlers-ep", INFERENCE_SCRIPT)
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")
    runtime = aws("sagemaker-runtime")

    def invoke(body: str | bytes, content_type: str = "text/csv", accept: str = "application/json") -> Any:
        answer = runtime.invoke_endpoint(EndpointName="handlers-ep", Body=body, ContentType=content_type, Accept=accept)
        return answer["ContentType"], answer["Body"].read()

    assert invoke("1,2\n3,4") == ("application/json", b"[21.0, 43.0]")
    assert json.loads(invoke("[[2, 1]]", "application/json")[1]) == [12]
    content_type, csv = invoke("1,2", accept="text/csv")
    assert content_type == "text/csv" and float(csv.decode()) == 21.0
    buffer = io.BytesIO()
    np.save(buffer, np.array([[0.5, 0.25]]))
    content_type, npy = invoke(buffer.getvalue(), "application/x-npy", "application/x-npy")
    assert content_type == "application/x-npy" and np.load(io.BytesIO(npy)).tolist() == [3.0]
    with pytest.raises(runtime.exceptions.ModelError) as error:
        invoke("1,2,3")
    assert "ValueError: expected 2 features, got 3" in error.value.response["Error"]["Message"]
    assert error.value.response["OriginalStatusCode"] == 500
    with pytest.raises(runtime.exceptions.ModelError) as error:
        invoke("1,2", content_type="application/x-parquet")
    assert error.value.response["OriginalStatusCode"] == 415
    with pytest.raises(runtime.exceptions.ModelError) as crashed:
        invoke("-1,2")
    assert "crashed" in crashed.value.response["Error"]["Message"]
    assert invoke("1,2") == ("application/json", b"[21.0]")  # restarted
    text = _log_text(aws, "/aws/sagemaker/Endpoints/handlers-ep", "AllTraffic/")
    assert "Traceback (most recent call last)" in text and "expected 2 features, got 3" in text
    aws("sagemaker").delete_endpoint(EndpointName="handlers-ep")
    with pytest.raises(runtime.exceptions.ClientError):
        invoke("1,2")


def test_a_model_fn_that_raises_fails_the_endpoint(aws, bucket: str) -> None:
    endpoint = _script_endpoint(aws, bucket, "broken-ep", "def model_fn(model_dir):\n    raise OSError('no weights')\n")
    assert endpoint["EndpointStatus"] == "Failed" and "OSError: no weights" in endpoint["FailureReason"]


PROCESS_SCRIPT = """
import json, os, sys
rows = open("/opt/ml/processing/input/data/rows.csv").read().split()
out = sys.argv[sys.argv.index("--out") + 1]
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump({"rows": len(rows), "total": sum(float(r) for r in rows), "mode": os.environ["MODE"],
               "config": os.path.exists(os.environ["CONFIG"])}, f)
if os.environ["MODE"] == "fail":
    raise RuntimeError("processing went wrong")
"""


def _processing_request(bucket: str, name: str, mode: str, entrypoint: list[str] | None = None) -> dict[str, Any]:
    return {
        "ProcessingJobName": name, "RoleArn": ROLE,
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 5}},
        "AppSpecification": {"ImageUri": SKLEARN_IMAGE,
                             "ContainerEntrypoint": entrypoint or ["python3", "/opt/ml/processing/input/code/p.py"],
                             "ContainerArguments": ["--out", "/opt/ml/processing/output"]},
        "Environment": {"MODE": mode, "CONFIG": "/opt/ml/config/processingjobconfig.json"},
        "ProcessingInputs": [
            {"InputName": "code", "S3Input": {"S3Uri": f"s3://{bucket}/proc/code/p.py",
                                              "LocalPath": "/opt/ml/processing/input/code", "S3DataType": "S3Prefix",
                                              "S3InputMode": "File"}},
            {"InputName": "data", "S3Input": {"S3Uri": f"s3://{bucket}/proc/data/", "S3DataType": "S3Prefix",
                                              "LocalPath": "/opt/ml/processing/input/data", "S3InputMode": "File"}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "summary", "S3Output": {
            "S3Uri": f"s3://{bucket}/proc/{name}/out", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def test_processing_job_maps_container_paths_and_uploads_outputs(aws, bucket: str) -> None:
    s3, sm = aws("s3"), aws("sagemaker")
    s3.put_object(Bucket=bucket, Key="proc/code/p.py", Body=PROCESS_SCRIPT.encode())
    s3.put_object(Bucket=bucket, Key="proc/data/rows.csv", Body=b"1.5\n2.5\n4\n")
    sm.create_processing_job(**_processing_request(bucket, "proc-ok", "ok"))
    job = _wait(lambda: sm.describe_processing_job(ProcessingJobName="proc-ok"), "ProcessingJobStatus")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    summary = json.loads(s3.get_object(Bucket=bucket, Key="proc/proc-ok/out/summary.json")["Body"].read())
    assert summary == {"rows": 3, "total": 8.0, "mode": "ok", "config": True}
    assert job["ProcessingEndTime"] >= job["ProcessingStartTime"]

    sm.create_processing_job(**_processing_request(bucket, "proc-fail", "fail"))
    failed = _wait(lambda: sm.describe_processing_job(ProcessingJobName="proc-fail"), "ProcessingJobStatus")
    assert failed["ProcessingJobStatus"] == "Failed"
    assert "RuntimeError: processing went wrong" in failed["FailureReason"]
    assert "RuntimeError: processing went wrong" in failed["ExitMessage"]
    text = _log_text(aws, "/aws/sagemaker/ProcessingJobs", "proc-fail/")
    assert "Traceback (most recent call last)" in text
    assert not s3.list_objects_v2(Bucket=bucket, Prefix="proc/proc-fail/out").get("Contents")  # no upload on failure

    summaries = sm.list_processing_jobs(StatusEquals="Failed", NameContains="proc-")["ProcessingJobSummaries"]
    assert [s["ProcessingJobName"] for s in summaries] == ["proc-fail"]
    with pytest.raises(sm.exceptions.ClientError) as error:
        sm.stop_processing_job(ProcessingJobName="proc-ok")
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_processing_job_validation_stop_and_unknown_entrypoints(aws, bucket: str) -> None:
    s3, sm = aws("s3"), aws("sagemaker")
    s3.put_object(Bucket=bucket, Key="proc/code/p.py", Body=b"import time\nprint('waiting', flush=True)\ntime.sleep(300)\n")
    s3.put_object(Bucket=bucket, Key="proc/data/rows.csv", Body=b"1\n")
    bad = _processing_request(bucket, "proc-bad-path", "ok")
    bad["ProcessingInputs"][1]["S3Input"]["LocalPath"] = "/etc/data"
    with pytest.raises(sm.exceptions.ClientError) as error:
        sm.create_processing_job(**bad)
    assert error.value.response["Error"]["Code"] == "ValidationException" and "/opt/ml/processing" in str(error.value)
    with pytest.raises(sm.exceptions.ClientError):
        sm.describe_processing_job(ProcessingJobName="proc-bad-path")

    sm.create_processing_job(**_processing_request(bucket, "proc-stop", "ok"))
    end = time.monotonic() + 60
    while "waiting" not in _log_text(aws, "/aws/sagemaker/ProcessingJobs", "proc-stop/"):
        assert time.monotonic() < end
        time.sleep(0.2)
    sm.stop_processing_job(ProcessingJobName="proc-stop")
    stopped = _wait(lambda: sm.describe_processing_job(ProcessingJobName="proc-stop"), "ProcessingJobStatus", 30)
    assert stopped["ProcessingJobStatus"] == "Stopped"

    sm.create_processing_job(**_processing_request(bucket, "proc-binary", "ok", ["/usr/local/bin/my-tool"]))
    binary = _wait(lambda: sm.describe_processing_job(ProcessingJobName="proc-binary"), "ProcessingJobStatus")
    assert binary["ProcessingJobStatus"] == "Failed" and "cannot run without the container" in binary["FailureReason"]


def test_xgboost_framework_mode_runs_the_script_and_warns_on_version(aws, bucket: str) -> None:
    import xgboost

    script = ("import os, numpy as np, xgboost as xgb\n"
              "rows = np.loadtxt(os.path.join(os.environ['SM_CHANNEL_TRAIN'], 'rows.csv'), delimiter=',')\n"
              "booster = xgb.train({'max_depth': int(os.environ['SM_HP_MAX_DEPTH'])},"
              " xgb.DMatrix(rows[:, 1:], label=rows[:, 0]), num_boost_round=2)\n"
              "booster.save_model(os.path.join(os.environ['SM_MODEL_DIR'], 'xgboost-model.json'))\n")
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    job = _train(aws, bucket, "xgb-script-job", {"train.py": script}, {"max_depth": "2"}, image=image)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    model = _tar_members(aws("s3").get_object(Bucket=bucket, Key="xgb-script-job/out/xgb-script-job/output/model.tar.gz")
                         ["Body"].read())
    assert json.loads(model["xgboost-model.json"])["learner"]["gradient_booster"]["model"]["gbtree_model_param"][
        "num_trees"] == "2"
    warned = "framework_version 1.7 was requested" in _log_text(aws, "/aws/sagemaker/TrainingJobs", "xgb-script-job/")
    assert warned == (xgboost.__version__.split(".")[0] != "1")


def test_script_processor_runs_unmodified(sagemaker_sdk: RunningEmulator, tmp_path) -> None:
    import boto3
    import sagemaker
    from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor

    session = sagemaker.Session()
    bucket = session.default_bucket()
    boto3.client("s3").put_object(Bucket=bucket, Key="script-proc/in/words.txt", Body=b"b a c a")
    code = tmp_path / "count.py"
    code.write_text("import collections, json, sys\n"
                    "words = open('/opt/ml/processing/in/words.txt').read().split()\n"
                    "json.dump(collections.Counter(words), open(sys.argv[1] + '/counts.json', 'w'), sort_keys=True)\n")
    processor = ScriptProcessor(command=["python3"], image_uri=SKLEARN_IMAGE, role=ROLE, instance_count=1,
                                instance_type="ml.m5.large", sagemaker_session=session)
    processor.run(code=str(code), inputs=[ProcessingInput(source=f"s3://{bucket}/script-proc/in/",
                                                          destination="/opt/ml/processing/in")],
                  outputs=[ProcessingOutput(source="/opt/ml/processing/out", destination=f"s3://{bucket}/script-proc/out")],
                  arguments=["/opt/ml/processing/out"])
    counts = boto3.client("s3").get_object(Bucket=bucket, Key="script-proc/out/counts.json")["Body"].read()
    assert json.loads(counts) == {"a": 2, "b": 1, "c": 1}
