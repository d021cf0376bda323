"""k-NN built-in algorithm (image ``knn``).

Nearest-neighbour search with numpy, emulating the faiss indexes of the AWS container:

* ``faiss.Flat``: exact search.
* ``faiss.IVFFlat``: an inverted file: k-means (scikit-learn, seed 0) splits the stored
  points into ``faiss_index_ivf_nlists`` lists (``auto``: sqrt(n)); a query searches only
  the ``_faiss_index_nprobe`` (default 5) lists with the nearest centroids, so results are
  approximate like faiss'.
* ``faiss.IVFPQ``: the same inverted file, and every stored vector is replaced by its
  product-quantisation code (``faiss_index_pq_m`` sub-vectors, 256 centroids each, or as
  many as there are points; ``auto``: the largest divisor of the dimension up to 16):
  distances are computed to the decoded vectors, as faiss does.
  ``faiss_index_ivf_nlists`` / ``faiss_index_pq_m`` with an index that has no use for
  them are reported in the log.

* ``sample_size``: when the train channel has more rows, that many are sampled without
  replacement with a fixed seed (0).
* ``index_metric``: ``L2`` (default) reports squared Euclidean distances like faiss'
  ``IndexFlatL2``; ``INNER_PRODUCT`` ranks by largest inner product and reports it;
  ``COSINE`` ranks by largest cosine similarity and reports it.
* ``dimension_reduction_type`` (``sign``/``fjlt``) + ``dimension_reduction_target``:
  a Gaussian random projection (seed 0) stored in the artefact.
* classifier: majority vote among the k neighbours; a tie between labels goes to the
  tied label whose first occurrence is nearest (neighbours ordered by distance, stable
  by training-row order). regressor: mean of the k labels.
* Data: ``text/csv`` (label first) or ``application/x-recordio-protobuf`` (``recordio.py``)
  for training; requests in CSV, JSON, JSON lines or RecordIO-protobuf, answers in JSON,
  JSON lines or RecordIO-protobuf (one Record per row, ``label`` map with
  ``predicted_label`` and, with ``verbose=true``, ``labels`` and ``distances``).
* Artefact: ``model_algo-1.npz`` (numpy, loaded with ``allow_pickle=False``) + ``model_algo-1.json``.
"""
from __future__ import annotations

import io
import json

import numpy as np

from .channels import PROTOBUF, check_width, parse_features_payload, read_labelled, require_channel
from .common import AlgorithmError, Hyper, Log, ModelError, TrainingResult, base_content_type, dumps
from .recordio import write_records

KNOWN = {
    "feature_dim", "k", "predictor_type", "sample_size", "index_type", "index_metric",
    "dimension_reduction_type", "dimension_reduction_target", "mini_batch_size",
    "faiss_index_ivf_nlists", "faiss_index_pq_m", "_kvstore", "_num_gpus", "_num_kv_servers",
    "_faiss_index_nprobe", "_enable_profiler", "_tuning_objective_metric",
}
FORMATS = {"text/csv", PROTOBUF}
METRICS = ("L2", "INNER_PRODUCT", "COSINE")
MODEL_NPZ = "model_algo-1.npz"
MODEL_JSON = "model_algo-1.json"


def _project(X: np.ndarray, projection: np.ndarray | None) -> np.ndarray:
    return X if projection is None else X @ projection


def train(hyperparameters: dict, channels: dict) -> TrainingResult:
    hp = Hyper(hyperparameters, KNOWN)
    log = Log()
    log.info(f"Hyperparameters: {hp.values}")
    train_ch = require_channel(channels, "train", ["train", "test"])
    k = hp.int("k", required=True, minimum=1)
    predictor_type = hp.choice("predictor_type", ["classifier", "regressor"], required=True)
    sample_size = hp.int("sample_size", required=True, minimum=1)
    feature_dim = None if hp.raw("feature_dim") in (None, "auto") else hp.int("feature_dim", minimum=1)
    metric = hp.choice("index_metric", list(METRICS), "L2", case_insensitive=True)
    index_type = hp.choice("index_type", ["faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ"], "faiss.Flat")
    nlists = None if hp.raw("faiss_index_ivf_nlists") in (None, "auto") else hp.int("faiss_index_ivf_nlists", minimum=1)
    pq_m = None if hp.raw("faiss_index_pq_m") in (None, "auto") else hp.int("faiss_index_pq_m", minimum=1)
    nprobe = hp.int("_faiss_index_nprobe", 5, minimum=1)
    if index_type == "faiss.Flat" and (hp.has("faiss_index_ivf_nlists") or hp.has("_faiss_index_nprobe")):
        log.warning("faiss_index_ivf_nlists/_faiss_index_nprobe have no effect with index_type faiss.Flat.")
    if index_type != "faiss.IVFPQ" and hp.has("faiss_index_pq_m"):
        log.warning("faiss_index_pq_m has no effect unless index_type is faiss.IVFPQ.")
    dr_type = hp.choice("dimension_reduction_type", ["sign", "fjlt"], None)
    dr_target = hp.int("dimension_reduction_target", None, minimum=1)
    hp.int("mini_batch_size", 5000, minimum=1)
    if dr_type and dr_target is None:
        raise AlgorithmError("No value for 'dimension_reduction_target' hyperparameter"
                             " (required when dimension_reduction_type is set)")

    X, y = read_labelled(train_ch, FORMATS, feature_dim)
    if feature_dim is not None and X.shape[1] != feature_dim:
        raise AlgorithmError(
            f"Customer Error: The feature_dim hyperparameter ({feature_dim}) does not match the"
            f" number of features ({X.shape[1]}) in channel 'train'."
        )
    n_total = X.shape[0]
    if n_total > sample_size:
        idx = np.sort(np.random.default_rng(0).choice(n_total, size=sample_size, replace=False))
        X, y = X[idx], y[idx]
    if np.isnan(X).any():
        raise AlgorithmError("Missing feature values in channel 'train' are not supported by k-NN.")
    if k > X.shape[0]:
        log.warning(f"k ({k}) is larger than the number of stored points ({X.shape[0]}); using all points")
    log.info(f"Number of training records read: {n_total}; sampled {X.shape[0]} (sample_size={sample_size})")

    projection = None
    if dr_type:
        if dr_target >= X.shape[1]:
            raise AlgorithmError(
                f"dimension_reduction_target ({dr_target}) must be smaller than feature_dim ({X.shape[1]})")
        rng = np.random.default_rng(0)
        projection = rng.standard_normal((X.shape[1], dr_target)) / np.sqrt(dr_target)

    stored = _project(X, projection)
    ivf = None
    if index_type != "faiss.Flat":
        stored, ivf = _build_ivf(stored, index_type, nlists, pq_m, nprobe, log)
    model = KnnModel(stored, y, k, predictor_type, metric, X.shape[1], projection, ivf)
    metrics: list[tuple[str, float]] = []
    if "test" in channels:
        test_ch = channels["test"]
        Xt, yt = read_labelled(test_ch, FORMATS, X.shape[1])
        if Xt.shape[1] != X.shape[1]:
            raise AlgorithmError(
                f"Customer Error: channel 'test' has {Xt.shape[1]} features, channel 'train' has {X.shape[1]}.")
        pred = model.predict(Xt)["predicted_label"]
        if predictor_type == "classifier":
            from sklearn.metrics import f1_score

            acc = float(np.mean(pred == yt))
            f1 = float(f1_score(yt, pred, average="macro"))
            log.info(f"#test_score (algo-1) : ('accuracy', {acc!r})")
            log.info(f"#test_score (algo-1) : ('macro_f_1.000', {f1!r})")
            log.info(f"#quality_metric: host=algo-1, test accuracy <score>={acc!r}")
            metrics.append(("test:accuracy", acc))
        else:
            mse = float(np.mean((pred - yt) ** 2))
            log.info(f"#test_score (algo-1) : ('mse', {mse!r})")
            log.info(f"#quality_metric: host=algo-1, test mse <loss>={mse!r}")
            metrics.append(("test:mse", mse))
    log.info("Serializing model to model_algo-1.npz and model_algo-1.json")
    return TrainingResult(model.to_files(), metrics, log.lines)


def _build_ivf(X: np.ndarray, index_type: str, nlists: int | None, pq_m: int | None, nprobe: int,
               log: Log) -> tuple[np.ndarray, dict]:
    """(stored vectors - PQ-decoded for IVFPQ -, the inverted file)."""
    from sklearn.cluster import KMeans

    n, d = X.shape
    nlists = nlists or max(1, int(np.sqrt(n)))
    if nlists > n:
        raise AlgorithmError(f"Customer Error: faiss_index_ivf_nlists ({nlists}) is larger than the number of"
                             f" stored points ({n}); faiss needs at least one training point per list.")
    coarse = KMeans(n_clusters=nlists, n_init=1, random_state=0).fit(X)
    ivf = {"centroids": coarse.cluster_centers_, "assign": coarse.labels_.astype(np.int64),
           "nprobe": min(nprobe, nlists)}
    log.info(f"{index_type}: {nlists} inverted lists, nprobe={ivf['nprobe']}")
    if index_type == "faiss.IVFPQ":
        if pq_m is None:
            pq_m = max(m for m in range(1, min(d, 16) + 1) if d % m == 0)
        if d % pq_m:
            raise AlgorithmError(f"Customer Error: faiss_index_pq_m ({pq_m}) must divide the vector dimension ({d}).")
        decoded = np.empty_like(X)
        width = d // pq_m
        for j in range(pq_m):
            part = X[:, j * width:(j + 1) * width]
            codebook = KMeans(n_clusters=min(256, len(np.unique(part, axis=0))), n_init=1, random_state=0).fit(part)
            decoded[:, j * width:(j + 1) * width] = codebook.cluster_centers_[codebook.labels_]
        log.info(f"faiss.IVFPQ: {pq_m} sub-vectors of {width} dimensions, 8-bit codes")
        X = decoded
    return X, ivf


class KnnModel:
    def __init__(self, X, y, k, predictor_type, metric, feature_dim, projection=None, ivf=None):
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.k = int(k)
        self.predictor_type = predictor_type
        self.metric = metric
        self.feature_dim = int(feature_dim)
        self.projection = projection
        self.ivf = ivf
        if metric == "COSINE":
            norms = np.linalg.norm(self.X, axis=1, keepdims=True)
            self._Xn = self.X / np.where(norms == 0, 1, norms)
        self._sq = np.einsum("ij,ij->i", self.X, self.X)

    # ---------------------------------------------------------- persistence
    def to_files(self) -> dict[str, bytes]:
        buf = io.BytesIO()
        arrays = {"X": self.X, "y": self.y}
        if self.projection is not None:
            arrays["projection"] = self.projection
        if self.ivf is not None:
            arrays["ivf_centroids"], arrays["ivf_assign"] = self.ivf["centroids"], self.ivf["assign"]
        np.savez_compressed(buf, **arrays)
        params = {"k": self.k, "predictor_type": self.predictor_type, "index_metric": self.metric,
                  "feature_dim": self.feature_dim, "format": "aws-ml-emulator-knn-1"}
        if self.ivf is not None:
            params["nprobe"] = self.ivf["nprobe"]
        return {MODEL_NPZ: buf.getvalue(), MODEL_JSON: json.dumps(params, indent=1).encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> "KnnModel":
        try:
            params = json.loads(files[MODEL_JSON])
            with np.load(io.BytesIO(files[MODEL_NPZ]), allow_pickle=False) as npz:
                X, y = npz["X"], npz["y"]
                projection = npz["projection"] if "projection" in npz.files else None
                ivf = ({"centroids": npz["ivf_centroids"], "assign": npz["ivf_assign"], "nprobe": int(params["nprobe"])}
                       if "ivf_centroids" in npz.files else None)
            return cls(X, y, params["k"], params["predictor_type"], params["index_metric"],
                       params["feature_dim"], projection, ivf)
        except (KeyError, ValueError, OSError, TypeError) as exc:
            raise AlgorithmError(f"Unable to load k-NN model from the model artefact: {exc!r}") from None

    # ------------------------------------------------------------ inference
    def neighbours(self, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices (n, k) ordered nearest first, and reported distances."""
        Q = _project(np.asarray(Q, dtype=np.float64), self.projection)
        k = min(self.k, self.X.shape[0])
        all_idx, all_dist = [], []
        for start in range(0, Q.shape[0], 256):
            q = Q[start:start + 256]
            if self.metric == "L2":
                score = (np.einsum("ij,ij->i", q, q)[:, None] - 2 * q @ self.X.T + self._sq[None, :])
                score = np.maximum(score, 0)
                rank = score
            elif self.metric == "INNER_PRODUCT":
                score = q @ self.X.T
                rank = -score
            else:
                qn = q / np.where((n := np.linalg.norm(q, axis=1, keepdims=True)) == 0, 1, n)
                score = qn @ self._Xn.T
                rank = -score
            if self.ivf is not None:
                rank = np.where(self._probed(q), rank, np.inf)
            if rank.shape[1] > 4 * k and rank.shape[1] > 2048:
                part = np.argpartition(rank, k - 1, axis=1)[:, :k]
                order = np.take_along_axis(part, np.argsort(np.take_along_axis(rank, part, 1), 1, kind="stable"), 1)
                # keep training-row order among exact ties
                idx = order
            else:
                idx = np.argsort(rank, axis=1, kind="stable")[:, :k]
            all_idx.append(idx)
            all_dist.append(np.take_along_axis(score, idx, 1))
        return np.vstack(all_idx), np.vstack(all_dist)

    def _probed(self, q: np.ndarray) -> np.ndarray:
        """(len(q), n) mask of the stored points in each query's ``nprobe`` nearest lists."""
        centroids = self.ivf["centroids"]
        d2 = (q * q).sum(1)[:, None] - 2 * q @ centroids.T + (centroids * centroids).sum(1)[None, :]
        lists = np.argsort(d2, axis=1, kind="stable")[:, : self.ivf["nprobe"]]
        chosen = np.zeros((len(q), len(centroids)), dtype=bool)
        np.put_along_axis(chosen, lists, True, axis=1)
        return chosen[:, self.ivf["assign"]]

    def predict(self, Q: np.ndarray, verbose: bool = False) -> dict:
        idx, dist = self.neighbours(Q)
        labels = self.y[idx]
        if self.predictor_type == "regressor":
            pred = labels.mean(axis=1)
        else:
            pred = np.empty(labels.shape[0])
            for i, row in enumerate(labels):
                values, first, counts = np.unique(row, return_index=True, return_counts=True)
                best = counts == counts.max()
                pred[i] = values[best][np.argmin(first[best])]
        out = {"predicted_label": pred}
        if verbose:
            out["labels"] = labels
            out["distances"] = dist
        return out


class KnnPredictor:
    def __init__(self, files: dict[str, bytes]):
        self.model = KnnModel.from_files(files)

    def invoke(self, body: bytes, content_type: str | None, accept: str | None,
               custom_attributes: str | None = None) -> tuple[bytes, str]:
        accept_type, accept_params = base_content_type(accept)
        if accept_type in (None, "*/*", "application/*"):
            accept_type = "application/json"
        if accept_type not in ("application/json", "application/jsonlines", PROTOBUF):
            raise ModelError(f"Accept type {accept} is not supported by this algorithm"
                             f" (supported: application/json, application/jsonlines, {PROTOBUF}).", 406)
        verbose = accept_params.get("verbose", "").lower() in ("true", "1")
        X = parse_features_payload(body, content_type, recordio_protobuf=True,
                                   feature_dim=self.model.feature_dim)
        check_width(X, self.model.feature_dim)
        if np.isnan(X).any():
            raise ModelError("Invalid input: missing feature values are not supported.")
        out = self.model.predict(X, verbose=verbose)
        if accept_type == PROTOBUF:
            labels = []
            for i, label in enumerate(out["predicted_label"]):
                record = {"predicted_label": [label]}
                if verbose:
                    record["labels"] = out["labels"][i]
                    record["distances"] = out["distances"][i]
                labels.append(record)
            return write_records(labels), PROTOBUF
        predictions = []
        for i, label in enumerate(out["predicted_label"]):
            p = {"predicted_label": float(label)}
            if verbose:
                p["distances"] = [float(d) for d in out["distances"][i]]
                p["labels"] = [float(v) for v in out["labels"][i]]
            predictions.append(p)
        if accept_type == "application/jsonlines":
            body = b"".join(dumps(p) + b"\n" for p in predictions)
            return body, "application/jsonlines"
        return dumps({"predictions": predictions}), "application/json"


def load_predictor(files: dict[str, bytes]) -> KnnPredictor:
    return KnnPredictor(files)
