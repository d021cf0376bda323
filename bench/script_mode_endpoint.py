"""InvokeEndpoint latency: a script-mode scikit-learn model (user's inference handlers in a worker
process) next to the built-in k-NN endpoint (in-process), measured side by side in one run.

    python bench/script_mode_endpoint.py [--calls 300]

Prints p50/p95 of each and the ratio script-mode / k-NN (the target is <= 1.5x at p50)."""

from __future__ import annotations

import argparse
import io
import os
import sys
import tarfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from bench import client, free_port, latencies, prepare_knn, start_server  # noqa: E402

INFERENCE = b"""import os
import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def prepare_script_mode(url: str):
    """A trivial LogisticRegression behind the scikit-learn inference contract; one CSV row per call."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    buffer = io.BytesIO()
    joblib.dump(LogisticRegression(max_iter=500).fit(x, y), buffer)
    s3, sm = client("s3", url), client("sagemaker", url)
    s3.create_bucket(Bucket="bench-script")
    s3.put_object(Bucket="bench-script", Key="model.tar.gz", Body=_tar({"model.joblib": buffer.getvalue()}))
    s3.put_object(Bucket="bench-script", Key="sourcedir.tar.gz", Body=_tar({"inference.py": INFERENCE}))
    sm.create_model(ModelName="bench-script", ExecutionRoleArn="arn:aws:iam::123456789012:role/bench",
                    PrimaryContainer={
                        "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
                        "ModelDataUrl": "s3://bench-script/model.tar.gz",
                        "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                                        "SAGEMAKER_SUBMIT_DIRECTORY": "s3://bench-script/sourcedir.tar.gz"}})
    sm.create_endpoint_config(EndpointConfigName="bench-script", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "bench-script", "InitialInstanceCount": 1,
        "InstanceType": "ml.t2.medium"}])
    sm.create_endpoint(EndpointName="bench-script", EndpointConfigName="bench-script")
    deadline = time.monotonic() + 300
    while sm.describe_endpoint(EndpointName="bench-script")["EndpointStatus"] == "Creating":
        if time.monotonic() > deadline:
            raise RuntimeError("the script-mode endpoint did not come up")
        time.sleep(0.2)
    runtime = client("sagemaker-runtime", url)
    return lambda: runtime.invoke_endpoint(EndpointName="bench-script", ContentType="text/csv",
                                           Accept="application/json", Body="5.8,2.8,5.1,2.4")["Body"].read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    process, _ = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        knn, script = prepare_knn(url), prepare_script_mode(url)
        print(f"k-NN answer {knn()!r}, script-mode answer {script()!r}")
        results: dict[str, list[tuple[float, float]]] = {"knn": [], "script": []}
        for _ in range(args.rounds):  # interleaved, so machine load hits both alike
            results["knn"].append(latencies(knn, args.calls // args.rounds))
            results["script"].append(latencies(script, args.calls // args.rounds))
        figures = {k: (sorted(p50 for p50, _ in v)[len(v) // 2], sorted(p95 for _, p95 in v)[len(v) // 2])
                   for k, v in results.items()}
        for label, key in (("built-in k-NN InvokeEndpoint   ", "knn"), ("script-mode sklearn InvokeEndpoint", "script")):
            print(f"{label}  p50 {figures[key][0]:6.2f} ms  p95 {figures[key][1]:6.2f} ms")
        print(f"ratio script-mode / k-NN: p50 {figures['script'][0] / figures['knn'][0]:4.2f}x  "
              f"p95 {figures['script'][1] / figures['knn'][1]:4.2f}x  (target p50 <= 1.5x)")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
