"""application/x-recordio-protobuf: the pure-Python codec against the SageMaker SDK's own
encoder/decoder (protobuf-generated), malformed input, and k-NN / Linear Learner trained and
invoked with it."""

import io
import json
import struct

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.model_selection import train_test_split

from emulator.engines import sagemaker as sm
from emulator.engines.sagemaker import AlgorithmError, Channel, ModelError
from emulator.engines.sagemaker import recordio

common = pytest.importorskip("sagemaker.amazon.common")
PB = "application/x-recordio-protobuf"


def sdk_dense(X, y=None) -> bytes:
    buf = io.BytesIO()
    common.write_numpy_to_dense_tensor(buf, X, y)
    return buf.getvalue()


def sdk_sparse(X, y=None) -> bytes:
    buf = io.BytesIO()
    common.write_spmatrix_to_sparse_tensor(buf, X, y)
    return buf.getvalue()


def sdk_read(data: bytes):
    return common.read_records(io.BytesIO(data))


# ----------------------------------------------------------------- SDK -> reader
@pytest.mark.parametrize("dtype", ["float32", "float64", int])
def test_reads_sdk_dense_tensors_exactly(dtype):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((25, 6)) * 1000).astype(dtype)
    y = rng.integers(-3, 4, 25).astype(dtype)
    features, labels = recordio.read_records(sdk_dense(X, y), dtype=np.float64)
    assert features.shape == (25, 6)
    assert np.array_equal(features, X.astype(np.float64))
    assert np.array_equal(labels, y.astype(np.float64))
    # default dtype float32; no labels -> None
    features32, none = recordio.read_records(sdk_dense(X.astype("float32")))
    assert features32.dtype == np.float32 and none is None
    assert np.array_equal(features32, X.astype("float32"))


def test_reads_sdk_int32_extremes():
    X = np.array([[-1, 0, 2 ** 31 - 1, -(2 ** 31)]])
    features, labels = recordio.read_records(sdk_dense(X, np.array([-7])), dtype=np.float64)
    assert features.tolist() == [[-1.0, 0.0, 2 ** 31 - 1, -(2 ** 31)]]
    assert labels.tolist() == [-7.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reads_sdk_sparse_tensors_densified(dtype):
    S = sp.random(30, 50, density=0.1, random_state=3, format="lil", dtype=dtype)
    S[4, :] = 0                      # an all-zero row: no keys, no values, still shape [50]
    S[29, 49] = 1.5                  # the last column
    S = S.tocsr()
    y = np.arange(30).astype(dtype)
    features, labels = recordio.read_records(sdk_sparse(S, y), dtype=np.float64)
    assert features.shape == (30, 50)
    assert np.array_equal(features, S.toarray().astype(np.float64))
    assert np.array_equal(labels, y)


def test_sparse_without_shape_uses_feature_dim():
    record = recordio._field(1, recordio._field(1, b"values") + recordio._field(
        2, recordio._float32_value([1.0, 2.0], keys=[0, 3])))
    data = recordio.write_recordio([record])
    assert recordio.read_records(data)[0].tolist() == [[1, 0, 0, 2]]
    assert recordio.read_records(data, feature_dim=6)[0].tolist() == [[1, 0, 0, 2, 0, 0]]


# ----------------------------------------------------------------- writer -> SDK
def test_write_dense_is_byte_identical_to_sdk():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 5)).astype("float32")
    y = rng.integers(0, 2, 10).astype("float32")
    assert recordio.write_dense(X, y) == sdk_dense(X, y)
    assert recordio.write_dense(X) == sdk_dense(X)


def test_write_records_decoded_by_sdk():
    data = recordio.write_records([
        {"predicted_label": [1.0], "score": [0.75]},
        {"predicted_label": 0.0, "labels": [0.0, 1.0, 0.0], "distances": np.array([0.5, 1.25, 2.0])},
        {"predicted_label": [2.0]},
    ])
    assert len(data) % 4 == 0
    records = sdk_read(data)
    assert len(records) == 3
    assert records[0].label["predicted_label"].float32_tensor.values[0] == 1.0
    assert records[0].label["score"].float32_tensor.values[0] == 0.75
    assert list(records[1].label["distances"].float32_tensor.values) == [0.5, 1.25, 2.0]
    assert list(records[1].label["labels"].float32_tensor.values) == [0.0, 1.0, 0.0]
    assert set(records[2].label) == {"predicted_label"} and not records[2].features

    from sagemaker.deserializers import RecordDeserializer

    decoded = RecordDeserializer().deserialize(io.BytesIO(data), PB)
    assert [r.label["predicted_label"].float32_tensor.values[0] for r in decoded] == [1.0, 0.0, 2.0]
    # and the writer's output reads back through our own reader
    assert [r.label["predicted_label"].values[0] for r in recordio.parse_records(data)] == [1.0, 0.0, 2.0]


def test_round_trip_through_sdk_serializer():
    from sagemaker.serializers import RecordSerializer

    X = np.random.default_rng(2).standard_normal((7, 3)).astype("float32")
    body = RecordSerializer().serialize(X).read()
    assert np.array_equal(recordio.read_records(body)[0], X)
    one = RecordSerializer().serialize(X[0]).read()
    assert recordio.read_records(one)[0].shape == (1, 3)


# ----------------------------------------------------------------- framing
def test_continuation_flags_join_parts_with_magic():
    """dmlc-core splits a record whose payload contains the magic number at an aligned
    offset into parts (flags 1, 2, 3); the reader joins them with the magic in between."""
    X = np.array([[1.0, 2.0, 3.0]], dtype="float32")
    X.view("<u4")[0, 1] = recordio.MAGIC          # a float whose bits are the magic number
    payload = sdk_read(sdk_dense(X))[0].SerializeToString()
    at = payload.index(recordio.MAGIC_BYTES)
    first, rest = payload[:at], payload[at + 4:]

    def frame(flag, part):
        return struct.pack("<II", recordio.MAGIC, (flag << 29) | len(part)) + part + b"\0" * (-len(part) % 4)

    data = frame(1, first) + frame(3, rest) + recordio.write_dense(np.ones((1, 3)))
    features, _ = recordio.read_records(data, dtype=np.float64)
    assert features.shape == (2, 3)
    assert features[0].astype("float32").view("<u4")[1] == recordio.MAGIC
    assert features[0, 0] == 1.0 and features[0, 2] == 3.0 and features[1].tolist() == [1, 1, 1]
    parts = list(recordio.iter_recordio(frame(1, b"ab") + frame(2, b"cdef") + frame(3, b"g")))
    assert parts == [b"ab" + recordio.MAGIC_BYTES + b"cdef" + recordio.MAGIC_BYTES + b"g"]


# ----------------------------------------------------------------- malformed input
GOOD = recordio.write_dense(np.arange(12, dtype="float32").reshape(4, 3), np.array([0, 1, 0, 1]))
MALFORMED = {
    "empty": (b"", "no records"),
    "csv text": (b"0,1.5,2.5\n1,3.5,4.5\n", "invalid RecordIO magic number"),
    "short header": (GOOD + b"\x0a\xd7", "truncated RecordIO header"),
    "truncated payload": (GOOD[:-9], "truncated RecordIO record"),
    "bad flag": (struct.pack("<II", recordio.MAGIC, (5 << 29) | 4) + b"abcd", "continuation flag"),
    "unterminated parts": (struct.pack("<II", recordio.MAGIC, (1 << 29) | 4) + b"abcd", "multi-part"),
    "garbage protobuf": (recordio.write_recordio([b"\xff\xff\xff"]), "record 1 is not a valid Record"),
    "wire type 3": (recordio.write_recordio([b"\x0b"]), "wire type"),
    "overlong field": (recordio.write_recordio([b"\x0a\x7f\x01"]), "past the end"),
    "packed floats not multiple of 4": (
        recordio.write_recordio([recordio._field(1, recordio._field(1, b"values") + recordio._field(
            2, recordio._field(2, recordio._field(1, b"abc"))))]), "not a multiple of 4"),
    "no features": (recordio.write_records([{"values": [1.0]}]), "has no features"),
    "ragged": (recordio.write_dense(np.ones((1, 3))) + recordio.write_dense(np.ones((1, 4))),
               "record 2 has 4 features, expected 3"),
    "sparse key out of range": (
        recordio.write_recordio([recordio._field(1, recordio._field(1, b"values") + recordio._field(
            2, recordio._float32_value([1.0], keys=[9], shape=[4])))]), "out of range"),
    "keys/values mismatch": (
        recordio.write_recordio([recordio._field(1, recordio._field(1, b"values") + recordio._field(
            2, recordio._float32_value([1.0, 2.0], keys=[1], shape=[4])))]), "1 keys but 2 values"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_bytes_give_clear_errors(case):
    data, message = MALFORMED[case]
    with pytest.raises(AlgorithmError, match="Unable to read the data as application/x-recordio-protobuf") as info:
        recordio.read_records(data)
    assert message in str(info.value)
    with pytest.raises(ModelError) as info:
        recordio.read_records(data, error=ModelError, what="the request payload")
    assert info.value.status_code == 400 and message in info.value.message


def test_random_corruption_never_escapes_as_another_exception():
    rng = np.random.default_rng(7)
    base = bytearray(sdk_sparse(sp.random(6, 9, density=0.4, random_state=1, format="csr", dtype="float32"),
                                np.arange(6, dtype="float32")) + GOOD)
    for _ in range(1500):
        data = bytearray(base)
        for pos in rng.integers(0, len(data), rng.integers(1, 4)):
            data[pos] = int(rng.integers(0, 256))
        if rng.random() < 0.3:
            data = data[: int(rng.integers(0, len(data)))]
        try:
            recordio.read_records(bytes(data))
        except AlgorithmError:
            pass


# ----------------------------------------------------------------- algorithms
@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def _csv(X, y) -> bytes:
    return "".join(",".join(repr(float(v)) for v in [label, *row]) + "\n" for row, label in zip(X, y)).encode()


def _pb_channel(name, X, y, shards=1, content_type=PB):
    objects = [(f"{name}/part-{i}.pbr", recordio.write_dense(Xs, ys))
               for i, (Xs, ys) in enumerate(zip(np.array_split(X, shards), np.array_split(y, shards)))]
    return Channel(name, content_type, objects)


def _accuracy(result) -> float:
    return dict(result.metrics)["test:accuracy"]


def test_knn_recordio_training_matches_csv(iris):
    X_train, X_test, y_train, y_test = iris
    hp = {"k": "5", "sample_size": "500", "predictor_type": "classifier", "feature_dim": "4"}
    from_csv = sm.train("knn", hp, {"train": Channel("train", "text/csv", [("t.csv", _csv(X_train, y_train))]),
                                    "test": Channel("test", "text/csv", [("t.csv", _csv(X_test, y_test))])})
    from_pb = sm.train("knn", hp, {"train": _pb_channel("train", X_train, y_train, shards=3),
                                   "test": _pb_channel("test", X_test, y_test)})
    # no content type: the SDK's record_set channel; detected by the RecordIO magic number
    sniffed = sm.train("knn", hp, {"train": _pb_channel("train", X_train, y_train, content_type=None),
                                   "test": _pb_channel("test", X_test, y_test, content_type=None)})
    assert _accuracy(from_pb) == _accuracy(from_csv) == _accuracy(sniffed) > 0.9

    predictor = sm.load_predictor("knn", sm.make_model_tar_gz(from_pb.model_files))
    body, ctype = predictor.invoke(recordio.write_dense(X_test), PB, PB)
    assert ctype == PB
    predicted = np.array([r.label["predicted_label"].float32_tensor.values[0] for r in sdk_read(body)])
    csv_predictor = sm.load_predictor("knn", sm.make_model_tar_gz(from_csv.model_files))
    csv_body, _ = csv_predictor.invoke(b"\n".join(",".join(repr(float(v)) for v in r).encode() for r in X_test),
                                       "text/csv", "application/json")
    assert predicted.tolist() == [p["predicted_label"] for p in json.loads(csv_body)["predictions"]]
    # recordio request -> JSON answer, JSON request -> recordio answer, verbose recordio answer
    json_body, _ = predictor.invoke(recordio.write_dense(X_test[:3]), PB, "application/json")
    assert [p["predicted_label"] for p in json.loads(json_body)["predictions"]] == predicted[:3].tolist()
    pb_body, _ = predictor.invoke(json.dumps({"instances": [{"features": list(X_test[0])}]}).encode(),
                                  "application/json", PB)
    assert sdk_read(pb_body)[0].label["predicted_label"].float32_tensor.values[0] == predicted[0]
    verbose, _ = predictor.invoke(recordio.write_dense(X_test[:2]), PB, f"{PB}; verbose=true")
    record = sdk_read(verbose)[0].label
    assert len(record["labels"].float32_tensor.values) == 5 == len(record["distances"].float32_tensor.values)


def test_sparse_recordio_training_channel():
    X, y = load_iris(return_X_y=True)
    data = sdk_sparse(sp.csr_matrix(X.astype("float32")), y.astype("float32"))
    result = sm.train("knn", {"k": "1", "sample_size": "500", "predictor_type": "classifier"},
                      {"train": Channel("train", PB, [("s.pbr", data)]), "test": Channel("test", PB, [("s.pbr", data)])})
    assert _accuracy(result) == 1.0


def test_recordio_training_errors(iris):
    X_train, _, y_train, _ = iris
    hp = {"k": "1", "sample_size": "500", "predictor_type": "classifier"}
    with pytest.raises(AlgorithmError, match="have no labels"):
        sm.train("knn", hp, {"train": Channel("train", PB, [("x", recordio.write_dense(X_train))])})
    with pytest.raises(AlgorithmError, match=r"object train/data.csv: invalid RecordIO magic.*set the channel's"
                                             r" ContentType to text/csv"):
        sm.train("knn", hp, {"train": Channel("train", PB, [("train/data.csv", _csv(X_train, y_train))])})
    with pytest.raises(AlgorithmError, match="feature_dim hyperparameter \\(5\\)"):
        sm.train("knn", {**hp, "feature_dim": "5"}, {"train": _pb_channel("train", X_train, y_train)})
    with pytest.raises(AlgorithmError, match="No training data found"):
        sm.train("linear-learner", {"predictor_type": "binary_classifier"}, {"train": Channel("train", PB, [("x", b"")])})
    # algorithms without RecordIO support keep refusing it
    with pytest.raises(AlgorithmError, match="not supported"):
        sm.train("xgboost", {"num_round": "2"}, {"train": _pb_channel("train", X_train, y_train)})


def test_linear_learner_recordio_training_and_inference():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    hp = {"predictor_type": "binary_classifier", "feature_dim": str(X.shape[1]), "mini_batch_size": "100"}
    from_csv = sm.train("linear-learner", hp, {
        "train": Channel("train", "text/csv", [("t.csv", _csv(X_train, y_train))]),
        "test": Channel("test", "text/csv", [("t.csv", _csv(X_test, y_test))])})
    from_pb = sm.train("linear-learner", hp, {"train": _pb_channel("train", X_train, y_train, shards=2),
                                               "test": _pb_channel("test", X_test, y_test)})
    acc_csv = dict(from_csv.metrics)["test:binary_classification_accuracy"]
    acc_pb = dict(from_pb.metrics)["test:binary_classification_accuracy"]
    assert acc_pb > 0.93 and abs(acc_pb - acc_csv) <= 0.02

    predictor = sm.load_predictor("linear-learner", sm.make_model_tar_gz(from_pb.model_files))
    body, ctype = predictor.invoke(recordio.write_dense(X_test), PB, PB)
    records = sdk_read(body)
    assert ctype == PB and len(records) == len(X_test)
    scores = np.array([r.label["score"].float32_tensor.values[0] for r in records])
    labels = np.array([r.label["predicted_label"].float32_tensor.values[0] for r in records])
    # one (calibrated) threshold separates the labels; float32 scores may round onto it
    assert scores[labels == 1].min() >= scores[labels == 0].max()
    assert np.mean(labels == y_test) == pytest.approx(acc_pb, abs=0.01)
    with pytest.raises(ModelError, match="expected 30 features"):
        predictor.invoke(recordio.write_dense(X_test[:, :5]), PB, PB)
    with pytest.raises(ModelError, match="Unable to read the request payload as application/x-recordio-protobuf"):
        predictor.invoke(b"1,2,3", PB, PB)


def test_multiclass_and_regressor_recordio_answers():
    X, y = load_iris(return_X_y=True)
    multi = sm.train("linear-learner", {"predictor_type": "multiclass_classifier", "num_classes": "3"},
                     {"train": _pb_channel("train", X, y)})
    body, _ = sm.load_predictor("linear-learner", sm.make_model_tar_gz(multi.model_files)).invoke(
        recordio.write_dense(X[:2]), PB, PB)
    first = sdk_read(body)[0].label
    assert len(first["score"].float32_tensor.values) == 3
    assert first["predicted_label"].float32_tensor.values[0] == 0.0
    reg = sm.train("linear-learner", {"predictor_type": "regressor"}, {"train": _pb_channel("train", X[:, 1:], X[:, 0])})
    body, _ = sm.load_predictor("linear-learner", sm.make_model_tar_gz(reg.model_files)).invoke(
        recordio.write_dense(X[:2, 1:]), PB, PB)
    assert set(sdk_read(body)[0].label) == {"score"}
    assert sdk_read(body)[0].label["score"].float32_tensor.values[0] == pytest.approx(X[0, 0], abs=0.6)
