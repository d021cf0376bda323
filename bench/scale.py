"""Speed at scale: Amazon ML and SageMaker XGBoost next to the libraries they wrap.

    python bench/scale.py [--sizes 10000 100000] [--million] [--skip-ml] [--skip-xgb]

(needs the ``bench`` extra: ``pip install -e '.[bench]'``, for psutil)

For each size, one synthetic binary data set (10 numeric, 2 categorical, 1 binary target
column; fixed seed) is written to S3 of a fresh emulator process, then side by side in one run:

(a) Amazon ML: training data source (70 %, statistics) + evaluation data source (the
    complement) + BINARY model + evaluation, each timed from its Create call to COMPLETED;
(b) scikit-learn on the same rows and split: read the CSV (pandas), one-hot the categoricals,
    scale, then ``SGDClassifier(loss="log_loss")`` and ``LogisticRegression``; AUCs on the
    evaluation rows (Amazon ML's is its evaluation's BinaryAUC);
(c) a SageMaker XGBoost training job (label-first CSV, 50 rounds) next to ``xgb.train`` with
    the same parameters on the same CSV read by pandas, and next to the same ``xgb.train``
    evaluating the training data every round (the work SageMaker's container does too).

The references run in a child process at the workers' CPU priority (nice +10), as the
emulator's job steps do. Prints the times, the ratios emulator / library, the AUCs, and the peak resident memory of
the server process tree (server + worker processes, sampled every 50 ms), RSS and PSS, over the
whole run and, apart, the Amazon ML jobs' peak over the tree's memory once the CSV is in S3
(the upload's own cost is the server's S3 store's). Each size uses a
fresh server, timed only once its background start-up (engine imports, the worker
forkserver's preloads) is over: start-up is ``bench/bench.py``'s figure. Each boto3 client
makes one cheap call before timing (its own first-call set-up is the client's, not the job's). One run each (the
machine may be shared: compare ratios of one run, and repeat).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

# like the emulator's workers: idle OpenMP threads sleep, so the direct xgb.train and
# scikit-learn references are not slowed by spinning on a shared machine (set before
# any OpenMP runtime loads)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import boto3  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psutil  # noqa: E402

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::123456789012:role/bench"
NUMERIC = [f"n{i}" for i in range(10)]
CATEGORICAL = ["colour", "shape"]
XGB_PARAMS = {"objective": "binary:logistic", "max_depth": 5, "eta": 0.2, "eval_metric": "auc"}
XGB_ROUNDS = 50


def synthetic(rows: int, seed: int = 7) -> pd.DataFrame:
    """10 numeric, 2 categorical, 1 binary target with a noisy linear + categorical signal."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, len(NUMERIC)))
    colour = rng.choice(["red", "green", "blue", "amber", "violet"], size=rows)
    shape = rng.choice([f"s{i}" for i in range(12)], size=rows)
    weights = np.linspace(1.0, -0.8, len(NUMERIC))
    logit = X @ weights + np.where(colour == "red", 1.0, 0.0) - np.where(shape == "s3", 1.2, 0.0)
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(np.round(X, 5), columns=NUMERIC)
    frame["colour"], frame["shape"], frame["target"] = colour, shape, y
    return frame


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A fresh ``python -m emulator`` with a sampler of the process tree's resident memory."""

    def __init__(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port)], cwd=REPO,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_emulator/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.process.kill()
                    raise RuntimeError("emulator did not start") from None
                time.sleep(0.02)
        self.warm_seconds = self._wait_until_idle()
        self.peak = 0
        self.peak_pss = 0
        self.base_parts = self._tree_parts(lambda p: p.memory_full_info().pss)
        self.base_pss = sum(self.base_parts.values())
        self.peak_parts: dict[str, int] = {}
        self.stage = self.peak_stage = "start"  # what the client is doing (set by the flows)
        self.mark_rss, self.mark_pss = self.rss(), self.base_pss
        self.peak_since_mark = self.peak_pss_since_mark = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _wait_until_idle(self, deadline_s: float = 90) -> float:
        """Wait for the background start-up (engine imports, the worker forkserver preloading
        NumPy, pandas, scikit-learn and xgboost) to finish: the process tree uses under 10 %
        of a core over half a second. Returns the seconds waited (reported, not timed)."""
        started = time.monotonic()
        root = psutil.Process(self.process.pid)

        def cpu() -> float:
            total = 0.0
            for proc in [root, *root.children(recursive=True)]:
                try:
                    times = proc.cpu_times()
                    total += times.user + times.system
                except psutil.Error:
                    pass
            return total

        time.sleep(0.5)  # the forkserver starts in a background thread
        before = cpu()
        while time.monotonic() - started < deadline_s:
            time.sleep(0.5)
            now = cpu()
            if now - before < 0.05 and len(root.children(recursive=True)) > 0:
                break
            before = now
        return time.monotonic() - started

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                total = self.rss()
                parts = self._tree_parts(lambda p: p.memory_full_info().pss)
                pss = sum(parts.values())
                self.peak, self.peak_since_mark = max(self.peak, total), max(self.peak_since_mark, total)
                if pss > self.peak_pss:
                    self.peak_parts, self.peak_stage = parts, self.stage
                self.peak_pss, self.peak_pss_since_mark = max(self.peak_pss, pss), max(self.peak_pss_since_mark, pss)
            except psutil.Error:
                pass
            self._stop.wait(0.05)

    def _tree_parts(self, measure) -> dict[str, int]:
        """``measure(process)`` of the server and of its live descendants, by role."""
        root = psutil.Process(self.process.pid)
        parts: dict[str, int] = {}
        for proc in [root, *root.children(recursive=True)]:
            try:
                command = " ".join(proc.cmdline())
                role = ("server" if proc.pid == root.pid else "workers" if proc.ppid() != root.pid  # a job's child
                        else "forkserver" if "forkserver" in command else "helpers")
                parts[role] = parts.get(role, 0) + measure(proc)
            except psutil.NoSuchProcess:
                pass
        return parts

    def peak_breakdown(self) -> str:
        """Where the tree's PSS was at its peak, over the idle start of each role."""
        return f"during {self.peak_stage}: " + ", ".join(f"{role} {value / 1e6:.0f} MB (+{(value - self.base_parts.get(role, 0)) / 1e6:.0f})"
                         for role, value in sorted(self.peak_parts.items()))

    def mark(self) -> None:
        """Start the peaks "since mark" from the tree's memory now (e.g. once the data is in S3)."""
        self.mark_rss, self.mark_pss = self.rss(), self.pss()
        self.peak_since_mark, self.peak_pss_since_mark = self.mark_rss, self.mark_pss

    def _tree_sum(self, measure) -> int:
        """``measure(process)`` summed over the server and its live descendants (a worker
        that ends while it is read counts no more)."""
        root = psutil.Process(self.process.pid)
        total = 0
        for proc in [root, *root.children(recursive=True)]:
            try:
                total += measure(proc)
            except psutil.NoSuchProcess:
                pass
        return total

    def rss(self) -> int:
        return self._tree_sum(lambda p: p.memory_info().rss)

    def pss(self) -> int:
        """Proportional set size of the tree: pages a forked worker shares with its parent
        are counted once (RSS counts them in every process)."""
        return self._tree_sum(lambda p: p.memory_full_info().pss)

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def close(self) -> None:
        self._stop.set()
        self._sampler.join()
        self.process.terminate()
        self.process.wait()


def wait_for(describe, key: str, terminal=("COMPLETED", "FAILED"), deadline_s: float = 3600) -> dict:
    deadline = time.monotonic() + deadline_s
    while True:
        doc = describe()
        if doc[key] in terminal:
            return doc
        if time.monotonic() > deadline:
            raise TimeoutError(f"still {doc[key]}")
        time.sleep(0.05)


def split(complement: bool) -> str:
    return json.dumps({"splitting": {"percentBegin": 0, "percentEnd": 70, "strategy": "random",
                                     "randomSeed": "bench", "complement": complement}})


def amazonml(server: Server, csv: bytes) -> dict:
    """Time the Amazon ML flow; return stage seconds and the evaluation's AUC."""
    s3, ml = server.client("s3"), server.client("machinelearning")
    ml.describe_data_sources(Limit=1)  # boto3's first call (service model, signer) is not the job's time
    s3.create_bucket(Bucket="scale")
    server.stage = "upload"
    s3.put_object(Bucket="scale", Key="data.csv", Body=csv)
    server.mark()  # the S3 upload's own memory (the server's S3 store) apart from Amazon ML's
    schema = {"version": "1.0", "targetAttributeName": "target", "dataFormat": "CSV",
              "dataFileContainsHeader": True,
              "attributes": [{"attributeName": n, "attributeType": "NUMERIC"} for n in NUMERIC]
              + [{"attributeName": c, "attributeType": "CATEGORICAL"} for c in CATEGORICAL]
              + [{"attributeName": "target", "attributeType": "BINARY"}]}
    times: dict = {}
    for ds_id, complement in (("train", False), ("eval", True)):
        server.stage = f"data source ({ds_id})"
        started = time.perf_counter()
        ml.create_data_source_from_s3(DataSourceId=ds_id, ComputeStatistics=not complement, DataSpec={
            "DataLocationS3": "s3://scale/data.csv", "DataSchema": json.dumps(schema),
            "DataRearrangement": split(complement)})
        doc = wait_for(lambda: ml.get_data_source(DataSourceId=ds_id), "Status")
        assert doc["Status"] == "COMPLETED", doc.get("Message")
        times[f"data source ({ds_id})"] = time.perf_counter() - started
    server.stage = "model"
    started = time.perf_counter()
    ml.create_ml_model(MLModelId="model", MLModelType="BINARY", TrainingDataSourceId="train")
    doc = wait_for(lambda: ml.get_ml_model(MLModelId="model"), "Status")
    assert doc["Status"] == "COMPLETED", doc.get("Message")
    times["model"] = time.perf_counter() - started
    server.stage = "evaluation"
    started = time.perf_counter()
    ml.create_evaluation(EvaluationId="evaluation", MLModelId="model", EvaluationDataSourceId="eval")
    doc = wait_for(lambda: ml.get_evaluation(EvaluationId="evaluation"), "Status")
    assert doc["Status"] == "COMPLETED", doc.get("Message")
    times["evaluation"] = time.perf_counter() - started
    times["auc"] = float(doc["PerformanceMetrics"]["Properties"]["BinaryAUC"])
    return times


def emulator_split(csv: bytes) -> np.ndarray:
    """The rows (after the header) the training data source keeps, by the documented rule
    (README, Amazon ML notes): ``sha256(seed \\0 S3 key \\0 byte offset of the row)``, first
    8 bytes big-endian, mod 100, kept in [percentBegin, percentEnd)."""
    ends = np.flatnonzero(np.frombuffer(csv, dtype=np.uint8) == ord("\n"))
    starts = np.concatenate([[0], ends + 1])
    starts = starts[starts < len(csv)][1:]  # drop the header line
    prefix = b"bench\x00data.csv\x00"
    heads = b"".join(hashlib.sha256(prefix + b"%d" % o).digest()[:8] for o in starts.tolist())
    return (np.frombuffer(heads, dtype=">u8") % 100) < 70


def sklearn_flow(csv: bytes, train_mask: np.ndarray) -> dict:
    """Read + prepare + fit on the same split; seconds and AUCs."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    out: dict = {}
    for name, estimator in (("SGDClassifier", SGDClassifier(loss="log_loss", random_state=0)),
                            ("LogisticRegression", LogisticRegression(max_iter=1000))):
        started = time.perf_counter()
        frame = pd.read_csv(io.BytesIO(csv))
        X, y = frame.drop(columns="target"), frame["target"].to_numpy()
        prepare = ColumnTransformer([("num", StandardScaler(), NUMERIC),
                                     ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
        model = make_pipeline(prepare, estimator).fit(X[train_mask], y[train_mask])
        scores = model.predict_proba(X[~train_mask])[:, 1]
        out[name] = (time.perf_counter() - started, float(roc_auc_score(y[~train_mask], scores)))
    return out


def xgboost_job(server: Server, label_first: bytes) -> float:
    s3, sm = server.client("s3"), server.client("sagemaker")
    sm.list_training_jobs(MaxResults=1)  # boto3's first call (service model, signer) is not the job's time
    s3.create_bucket(Bucket="scale-xgb")
    s3.put_object(Bucket="scale-xgb", Key="train/train.csv", Body=label_first)
    params = {k: str(v) for k, v in XGB_PARAMS.items() if k != "eval_metric"} | {"num_round": str(XGB_ROUNDS)}
    started = time.perf_counter()
    sm.create_training_job(
        TrainingJobName="scale-xgb", RoleArn=ROLE, HyperParameters=params,
        AlgorithmSpecification={"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": "s3://scale-xgb/train/"}}}],
        OutputDataConfig={"S3OutputPath": "s3://scale-xgb/out"},
        ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600})
    job = wait_for(lambda: sm.describe_training_job(TrainingJobName="scale-xgb"), "TrainingJobStatus",
                   ("Completed", "Failed", "Stopped"))
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    return time.perf_counter() - started


def xgboost_direct(label_first: bytes, evaluate_train: bool = False) -> float:
    """``xgb.train`` on the CSV read by pandas; with ``evaluate_train`` it also evaluates the
    training data every round, as SageMaker's XGBoost container does (it logs
    ``[n]#011train-<metric>`` each round and reports ``train:<metric>``), so the emulator must."""
    import xgboost as xgb

    started = time.perf_counter()
    frame = pd.read_csv(io.BytesIO(label_first), header=None)
    matrix = xgb.DMatrix(frame.iloc[:, 1:].to_numpy(), label=frame.iloc[:, 0].to_numpy())
    xgb.train({k: v for k, v in XGB_PARAMS.items() if k != "eval_metric"}, matrix, XGB_ROUNDS,
              evals=[(matrix, "train")] if evaluate_train else (), verbose_eval=False)
    return time.perf_counter() - started


def niced(fn, *args):
    """``fn(*args)`` in a child process at the emulator workers' CPU priority (nice +10), so a
    busy machine slows the library reference as much as the emulator's job workers."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from emulator.workers import WORKER_NICENESS

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"), initializer=os.nice,
                             initargs=(WORKER_NICENESS,)) as pool:
        return pool.submit(fn, *args).result()


def run(rows: int, do_ml: bool, do_xgb: bool) -> None:
    frame = synthetic(rows)
    csv = frame.to_csv(index=False).encode()
    numeric_mb = rows * (len(NUMERIC) + 1) * 8 / 1e6
    print(f"\n== {rows:,} rows: CSV {len(csv) / 1e6:.1f} MB, numeric arrays {numeric_mb:.1f} MB"
          " (each server: timed once its background start-up is over)")
    if do_ml:
        server = Server()
        try:
            base, warm = server.rss(), server.warm_seconds
            ml = amazonml(server, csv)
            held = server.rss()
            peak = server.peak
            base_pss, peak_pss, held_pss = server.base_pss, server.peak_pss, server.pss()
            marks = (server.mark_rss, server.peak_since_mark, server.mark_pss, server.peak_pss_since_mark)
            breakdown = server.peak_breakdown()
        finally:
            server.close()
        mask = emulator_split(csv)
        ref = niced(sklearn_flow, csv, mask)
        for stage in ("data source (train)", "data source (eval)", "model", "evaluation"):
            print(f"  Amazon ML {stage:20s} {ml[stage]:8.2f} s")
        emu = ml["data source (train)"] + ml["model"]
        sgd_s, sgd_auc = ref["SGDClassifier"]
        lr_s, lr_auc = ref["LogisticRegression"]
        print(f"  scikit-learn read+prepare+SGDClassifier     {sgd_s:8.2f} s  AUC {sgd_auc:.4f}")
        print(f"  scikit-learn read+prepare+LogisticRegression {lr_s:7.2f} s  AUC {lr_auc:.4f}")
        print(f"  ratio Amazon ML (train data source + model) / sklearn SGD: {emu / sgd_s:6.1f}x")
        print(f"  Amazon ML AUC {ml['auc']:.4f}  (LogisticRegression - Amazon ML: {lr_auc - ml['auc']:+.4f})")
        print(f"  server start-up (not timed) {warm:.1f} s; tree memory: start {base / 1e6:.0f} MB, peak {peak / 1e6:.0f} MB "
              f"(+{(peak - base) / 1e6:.0f} MB over start = {(peak - base) / 1e6 / numeric_mb:.1f}x numeric data), held after {held / 1e6:.0f} MB")
        print(f"  tree PSS (shared pages once): start {base_pss / 1e6:.0f} MB, peak {peak_pss / 1e6:.0f} MB "
              f"(+{(peak_pss - base_pss) / 1e6:.0f} MB = {(peak_pss - base_pss) / 1e6 / numeric_mb:.1f}x numeric data), "
              f"held after {held_pss / 1e6:.0f} MB")
        print(f"  at the PSS peak: {breakdown}")
        mark_rss, jobs_rss, mark_pss, jobs_pss = marks
        print(f"  after the S3 upload: RSS {mark_rss / 1e6:.0f} MB (+{(mark_rss - base) / 1e6:.0f}), PSS {mark_pss / 1e6:.0f} MB "
              f"(+{(mark_pss - base_pss) / 1e6:.0f}); Amazon ML jobs' peak over that: RSS +{(jobs_rss - mark_rss) / 1e6:.0f} MB "
              f"({(jobs_rss - mark_rss) / 1e6 / numeric_mb:.1f}x), PSS +{(jobs_pss - mark_pss) / 1e6:.0f} MB "
              f"({(jobs_pss - mark_pss) / 1e6 / numeric_mb:.1f}x numeric data)")
    if do_xgb:
        label_first = frame[["target", *NUMERIC]].to_csv(index=False, header=False).encode()
        server = Server()
        try:
            job = xgboost_job(server, label_first)
            peak = server.peak
        finally:
            server.close()
        direct = niced(xgboost_direct, label_first)
        evaluated = niced(xgboost_direct, label_first, True)
        print(f"  SageMaker XGBoost job {job:8.2f} s   xgb.train (pandas read) {direct:6.2f} s   "
              f"ratio {job / direct:5.2f}x   server tree peak {peak / 1e6:.0f} MB")
        print(f"  xgb.train evaluating the train data each round, as the AWS container does {evaluated:6.2f} s   "
              f"ratio {job / evaluated:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--million", action="store_true", help="also run 1,000,000 rows")
    parser.add_argument("--skip-ml", action="store_true")
    parser.add_argument("--skip-xgb", action="store_true")
    args = parser.parse_args()
    sizes = args.sizes + ([1_000_000] if args.million else [])
    print(f"{os.cpu_count()} cores; 1-minute load {os.getloadavg()[0]:.1f}")
    for rows in sizes:
        run(rows, not args.skip_ml, not args.skip_xgb)


if __name__ == "__main__":
    main()
