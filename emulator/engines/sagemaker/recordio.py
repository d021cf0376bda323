"""``application/x-recordio-protobuf``: the default data format of AWS's first-party
algorithms (k-NN, Linear Learner, ...) and of the SageMaker SDK's ``record_set`` /
``RecordSerializer`` / ``RecordDeserializer``.

Pure Python + numpy (no ``protobuf`` package, no SDK): a wire-format reader/writer for
exactly the ``aialgs.data.Record`` schema, plus MXNet/dmlc RecordIO framing.

Schema (``sagemaker/amazon/record.proto``)::

    Float32Tensor { repeated float  values = 1 [packed]; repeated uint64 keys = 2 [packed];
                    repeated uint64 shape = 3 [packed]; }
    Float64Tensor { repeated double values = 1 [packed]; keys = 2; shape = 3 }
    Int32Tensor   { repeated int32  values = 1 [packed]; keys = 2; shape = 3 }
    Bytes         { repeated bytes value = 1; string content_type = 2; }
    Value { oneof value { Float32Tensor float32_tensor = 2; Float64Tensor float64_tensor = 3;
                          Int32Tensor int32_tensor = 7; Bytes bytes = 9; } }
    Record { map<string, Value> features = 1; map<string, Value> label = 2;
             string uid = 3; string metadata = 4; string configuration = 5; }

RecordIO framing: per record ``uint32 magic 0xced7230a`` (little-endian), ``uint32
lrecord`` whose upper 3 bits are the continuation flag (0 whole record, 1 first part,
2 middle part, 3 last part; parts are joined with the magic number in between, as
dmlc-core's reader does) and lower 29 bits the payload length, then the payload,
zero-padded to a multiple of 4 bytes. The writer, like the SDK's ``_write_recordio``,
always writes whole records (flag 0).

Features are read from ``features["values"]`` (the key the SDK writes and AWS's
algorithms read; a record with a single differently-named feature key is accepted too),
labels from ``label["values"]``. Sparse tensors (``keys`` + ``shape``) are densified.
"""
from __future__ import annotations

import math
import struct

import numpy as np

from .common import AlgorithmError

CONTENT_TYPE = "application/x-recordio-protobuf"
MAGIC = 0xCED7230A
MAGIC_BYTES = struct.pack("<I", MAGIC)
_LENGTH_MASK = (1 << 29) - 1
_U64 = (1 << 64) - 1
MAX_DIM = 10_000_000          # densified feature dimension cap
MAX_CELLS = 200_000_000       # rows x dim cap of a densified matrix


class RecordIOError(ValueError):
    """Malformed RecordIO-protobuf bytes (callers turn it into AlgorithmError/ModelError)."""


class Tensor:
    """One decoded ``Value``: ``kind`` is float32/float64/int32/bytes."""

    __slots__ = ("kind", "values", "keys", "shape")

    def __init__(self, kind: str, values, keys: list[int] | None, shape: list[int] | None):
        self.kind = kind
        self.values = values
        self.keys = keys
        self.shape = shape

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Tensor({self.kind}, values={self.values!r}, keys={self.keys!r}, shape={self.shape!r})"


class Record:
    __slots__ = ("features", "label")

    def __init__(self, features: dict[str, Tensor], label: dict[str, Tensor]):
        self.features = features
        self.label = label


def looks_like_recordio(data: bytes) -> bool:
    return len(data) >= 8 and data[:4] == MAGIC_BYTES


# ----------------------------------------------------------------- RecordIO framing
def iter_recordio(data: bytes):
    """Yield each record's payload (multi-part records joined as dmlc-core does)."""
    view = memoryview(data)
    n = len(data)
    pos = 0
    index = 0
    parts: list[bytes] | None = None
    while pos < n:
        if n - pos < 8:
            raise RecordIOError(f"truncated RecordIO header at byte {pos} ({n - pos} trailing bytes)")
        magic, word = struct.unpack_from("<II", data, pos)
        if magic != MAGIC:
            raise RecordIOError(
                f"invalid RecordIO magic number 0x{magic:08x} at byte {pos} (expected 0x{MAGIC:08x})")
        cflag = word >> 29
        length = word & _LENGTH_MASK
        if cflag > 3:
            raise RecordIOError(f"invalid RecordIO continuation flag {cflag} at byte {pos}")
        start = pos + 8
        if start + length > n:
            raise RecordIOError(
                f"truncated RecordIO record at byte {pos}: length {length} but only {n - start} bytes left")
        payload = bytes(view[start:start + length])
        pos = min(start + ((length + 3) & ~3), n)   # padding to 4 bytes (tolerated missing at EOF)
        if cflag == 0:
            if parts is not None:
                raise RecordIOError(f"multi-part RecordIO record not terminated before byte {start - 8}")
            index += 1
            yield payload
        else:
            if parts is None:
                parts = []
            parts.append(payload)
            if cflag == 3:
                index += 1
                yield MAGIC_BYTES.join(parts)
                parts = None
    if parts is not None:
        raise RecordIOError("truncated multi-part RecordIO record at end of data")


def write_recordio(payloads) -> bytes:
    out = bytearray()
    for payload in payloads:
        length = len(payload)
        if length > _LENGTH_MASK:
            raise ValueError("record too large for RecordIO framing")
        out += struct.pack("<II", MAGIC, length)
        out += payload
        out += b"\x00" * ((-length) % 4)
    return bytes(out)


# ------------------------------------------------------------ protobuf wire format
def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise RecordIOError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result & _U64, pos
        shift += 7
        if shift >= 70:
            raise RecordIOError("varint longer than 10 bytes")


def _skip(buf: bytes, pos: int, end: int, wire: int) -> int:
    if wire == 0:
        return _varint(buf, pos, end)[1]
    if wire == 1:
        pos += 8
    elif wire == 5:
        pos += 4
    elif wire == 2:
        length, pos = _varint(buf, pos, end)
        pos += length
    else:
        raise RecordIOError(f"unsupported protobuf wire type {wire}")
    if pos > end:
        raise RecordIOError("truncated protobuf field")
    return pos


def _delimited(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    length, pos = _varint(buf, pos, end)
    if pos + length > end:
        raise RecordIOError("length-delimited protobuf field runs past the end of its message")
    return pos, pos + length


def _varints(buf: bytes, pos: int, end: int) -> list[int]:
    out = []
    while pos < end:
        value, pos = _varint(buf, pos, end)
        out.append(value)
    return out


_FIXED = {"float32": ("<f4", 4, 5), "float64": ("<f8", 8, 1)}


def _parse_tensor(buf: bytes, pos: int, end: int, kind: str, into: Tensor | None) -> Tensor:
    """Parse a Float32/Float64/Int32 tensor, merging into ``into`` (protobuf merge semantics)."""
    chunks: list = [] if into is None or into.kind != kind else [into.values]
    keys: list[int] = [] if into is None or into.kind != kind or into.keys is None else list(into.keys)
    shape: list[int] = [] if into is None or into.kind != kind or into.shape is None else list(into.shape)
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        field, wire = tag >> 3, tag & 7
        if field == 1:
            if kind in _FIXED:
                dtype, size, single = _FIXED[kind]
                if wire == 2:
                    start, stop = _delimited(buf, pos, end)
                    if (stop - start) % size:
                        raise RecordIOError(f"packed {kind} values of {stop - start} bytes"
                                            f" (not a multiple of {size})")
                    chunks.append(np.frombuffer(buf, dtype=dtype, count=(stop - start) // size, offset=start))
                    pos = stop
                elif wire == single:
                    if pos + size > end:
                        raise RecordIOError(f"truncated {kind} value")
                    chunks.append(np.frombuffer(buf, dtype=dtype, count=1, offset=pos))
                    pos += size
                else:
                    raise RecordIOError(f"{kind} tensor values with wire type {wire}")
            else:  # int32: varints, negative numbers as 64-bit two's complement
                if wire == 2:
                    start, stop = _delimited(buf, pos, end)
                    raw = _varints(buf, start, stop)
                    pos = stop
                elif wire == 0:
                    value, pos = _varint(buf, pos, end)
                    raw = [value]
                else:
                    raise RecordIOError(f"int32 tensor values with wire type {wire}")
                chunks.append(np.array([((v & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000 for v in raw],
                                       dtype=np.int32))
        elif field in (2, 3):
            target = keys if field == 2 else shape
            if wire == 2:
                start, stop = _delimited(buf, pos, end)
                target.extend(_varints(buf, start, stop))
                pos = stop
            elif wire == 0:
                value, pos = _varint(buf, pos, end)
                target.append(value)
            else:
                raise RecordIOError(f"tensor {'keys' if field == 2 else 'shape'} with wire type {wire}")
        else:
            pos = _skip(buf, pos, end, wire)
    dtype = {"float32": np.float32, "float64": np.float64, "int32": np.int32}[kind]
    values = (np.concatenate(chunks) if len(chunks) > 1 else chunks[0]) if chunks else np.zeros(0, dtype)
    return Tensor(kind, values, keys or None, shape or None)


_VALUE_FIELDS = {2: "float32", 3: "float64", 7: "int32"}


def _parse_value(buf: bytes, pos: int, end: int) -> Tensor | None:
    tensor: Tensor | None = None
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        field, wire = tag >> 3, tag & 7
        if field in _VALUE_FIELDS or field == 9:
            if wire != 2:
                raise RecordIOError(f"Value field {field} with wire type {wire}")
            start, stop = _delimited(buf, pos, end)
            if field == 9:
                tensor = Tensor("bytes", None, None, None)
            else:
                tensor = _parse_tensor(buf, start, stop, _VALUE_FIELDS[field], tensor)
            pos = stop
        else:
            pos = _skip(buf, pos, end, wire)
    return tensor


def _parse_entry(buf: bytes, pos: int, end: int) -> tuple[str, Tensor | None]:
    key = ""
    value = None
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        field, wire = tag >> 3, tag & 7
        if field == 1 and wire == 2:
            start, stop = _delimited(buf, pos, end)
            try:
                key = buf[start:stop].decode("utf-8")
            except UnicodeDecodeError:
                raise RecordIOError("map key is not valid UTF-8") from None
            pos = stop
        elif field == 2 and wire == 2:
            start, stop = _delimited(buf, pos, end)
            value = _parse_value(buf, start, stop)
            pos = stop
        else:
            pos = _skip(buf, pos, end, wire)
    return key, value


def parse_record(payload: bytes) -> Record:
    """Decode one serialized ``aialgs.data.Record``."""
    features: dict[str, Tensor] = {}
    label: dict[str, Tensor] = {}
    pos, end = 0, len(payload)
    while pos < end:
        tag, pos = _varint(payload, pos, end)
        field, wire = tag >> 3, tag & 7
        if field in (1, 2):
            if wire != 2:
                raise RecordIOError(f"Record field {field} with wire type {wire}")
            start, stop = _delimited(payload, pos, end)
            key, value = _parse_entry(payload, start, stop)
            if value is None:
                value = Tensor("float32", np.zeros(0, np.float32), None, None)
            (features if field == 1 else label)[key] = value
            pos = stop
        elif field == 0:
            raise RecordIOError("invalid protobuf field number 0")
        else:
            pos = _skip(payload, pos, end, wire)
    return Record(features, label)


def parse_records(data: bytes) -> list[Record]:
    """All records of a RecordIO-protobuf byte string (RecordIOError names the bad record)."""
    records = []
    for number, payload in enumerate(iter_recordio(data), start=1):
        try:
            records.append(parse_record(payload))
        except RecordIOError as exc:
            raise RecordIOError(f"record {number} is not a valid Record protobuf: {exc}") from None
    return records


# ------------------------------------------------------------------ densify
def _pick(mapping: dict[str, Tensor], what: str, number: int) -> Tensor | None:
    if not mapping:
        return None
    if "values" in mapping:
        return mapping["values"]
    if len(mapping) == 1:
        return next(iter(mapping.values()))
    raise RecordIOError(f"record {number} has {what} keys {sorted(mapping)!r} but no 'values' key")


def _tensor_width(t: Tensor) -> int | None:
    return math.prod(t.shape) if t.shape else None


def records_to_matrix(records: list[Record], feature_dim: int | None = None,
                      dtype=np.float32) -> tuple[np.ndarray, np.ndarray | None]:
    """``(X [n, dim], labels [n] float64 with NaN where missing, or None if no record has one)``."""
    n = len(records)
    tensors: list[Tensor] = []
    dim = None
    sparse_max = -1
    for number, rec in enumerate(records, start=1):
        t = _pick(rec.features, "features", number)
        if t is None:
            raise RecordIOError(f"record {number} has no features")
        if t.kind == "bytes":
            raise RecordIOError(f"record {number} has bytes features; numeric tensors are required")
        width = _tensor_width(t)
        if t.keys is None and width and len(t.values) == 0:
            t.keys = []              # an all-zero sparse row: shape, but no keys and no values
        if t.keys is not None:
            if len(t.keys) != len(t.values):
                raise RecordIOError(f"record {number} is a sparse tensor with {len(t.keys)} keys"
                                    f" but {len(t.values)} values")
            if t.keys:
                sparse_max = max(sparse_max, max(t.keys))
        else:
            if width is not None and width != len(t.values):
                raise RecordIOError(f"record {number} has shape {t.shape} but {len(t.values)} values")
            width = len(t.values)
        if width is not None:
            if dim is None:
                dim = width
            elif width != dim:
                raise RecordIOError(f"record {number} has {width} features, expected {dim}"
                                    " (every record must have the same feature dimension)")
        tensors.append(t)
    if dim is None:
        dim = feature_dim if feature_dim is not None else sparse_max + 1
    if sparse_max >= dim:
        raise RecordIOError(f"sparse feature index {sparse_max} is out of range for feature dimension {dim}")
    if dim > MAX_DIM or n * dim > MAX_CELLS:
        raise RecordIOError(f"feature dimension {dim} x {n} records is too large to densify")
    with np.errstate(over="ignore", invalid="ignore"):   # float64 beyond float32 range -> inf
        if all(t.keys is None for t in tensors) and n and all(t.values.dtype == tensors[0].values.dtype
                                                              for t in tensors):
            X = np.vstack([t.values for t in tensors]).astype(dtype, copy=False) if dim else np.zeros((n, 0), dtype)
        else:
            X = np.zeros((n, dim), dtype=dtype)
            for i, t in enumerate(tensors):
                if t.keys is not None:
                    X[i, np.asarray(t.keys, dtype=np.int64)] = t.values
                else:
                    X[i] = t.values
    labels = None
    if any(rec.label for rec in records):
        labels = np.full(n, np.nan)
        for i, rec in enumerate(records):
            t = _pick(rec.label, "label", i + 1)
            if t is None:
                continue
            if t.kind == "bytes" or len(t.values) == 0:
                raise RecordIOError(f"record {i + 1} has an empty or non-numeric label")
            labels[i] = float(t.values[0])
    return X, labels


def read_records(data: bytes, *, feature_dim: int | None = None, error=AlgorithmError,
                 what: str = "the data", dtype=np.float32) -> tuple[np.ndarray, np.ndarray | None]:
    """Decode RecordIO-protobuf bytes into ``(features [n, dim], labels or None)``.

    Malformed input raises ``error`` (AlgorithmError for channels, ModelError for requests)."""
    try:
        records = parse_records(bytes(data))
        if not records:
            raise RecordIOError("no records found")
        return records_to_matrix(records, feature_dim, dtype)
    except RecordIOError as exc:
        raise error(f"Unable to read {what} as {CONTENT_TYPE}: {exc}.") from None


# ------------------------------------------------------------------ writer
def _varint_bytes(value: int) -> bytes:
    value &= _U64
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint_bytes((number << 3) | 2) + _varint_bytes(len(payload)) + payload


def _float32_value(values, keys=None, shape=None) -> bytes:
    """A ``Value`` holding a Float32Tensor (empty packed fields omitted, like protobuf)."""
    arr = np.atleast_1d(np.asarray(values, dtype="<f4"))
    tensor = _field(1, arr.tobytes()) if arr.size else b""
    if keys is not None and len(keys):
        tensor += _field(2, b"".join(_varint_bytes(int(k)) for k in keys))
    if shape is not None and len(shape):
        tensor += _field(3, b"".join(_varint_bytes(int(s)) for s in shape))
    return _field(2, tensor)


def _map(number: int, mapping: dict) -> bytes:
    out = b""
    for key, values in mapping.items():
        out += _field(number, _field(1, str(key).encode("utf-8")) + _field(2, _float32_value(values)))
    return out


def encode_record(features: dict | None = None, label: dict | None = None) -> bytes:
    """Serialize one Record whose map values are float32 tensors (scalars or sequences)."""
    return _map(1, features or {}) + _map(2, label or {})


def write_records(label_maps: list[dict], feature_maps: list[dict] | None = None) -> bytes:
    """One Record per row: ``label_maps[i]`` -> its ``label`` map (e.g. ``predicted_label``)."""
    feature_maps = feature_maps or [None] * len(label_maps)
    return write_recordio(encode_record(f, l) for f, l in zip(feature_maps, label_maps))


def write_dense(X, labels=None) -> bytes:
    """Dense float32 training/inference records (``features["values"]``, ``label["values"]``)."""
    X = np.asarray(X, dtype="<f4")
    payloads = []
    for i, row in enumerate(X):
        label = None if labels is None else {"values": [labels[i]]}
        payloads.append(encode_record({"values": row}, label))
    return write_recordio(payloads)
