"""Decoding of training channels and inference payloads.

Training CSV follows the SageMaker built-in convention: no header, label in the first
column, every value numeric. ``application/x-recordio-protobuf`` (``recordio.py``) is
read for the algorithms that pass it in ``supported`` (k-NN, Linear Learner). A
channel without a content type is RecordIO-protobuf when the algorithm supports it and
the data starts with the RecordIO magic number (AWS's default for k-NN/Linear Learner,
and what the SDK's ``record_set`` uploads without a content type), ``text/csv`` otherwise.
"""
from __future__ import annotations

import io
import json

import numpy as np

from . import recordio
from .common import AlgorithmError, Channel, ModelError, base_content_type

CSV_TYPES = {"text/csv", "text/x-csv", "csv"}
LIBSVM_TYPES = {"text/libsvm", "text/x-libsvm", "libsvm"}
RECORDIO_TYPES = {"application/x-recordio-protobuf", "application/x-recordio"}
PROTOBUF = recordio.CONTENT_TYPE


def require_channel(channels: dict[str, Channel], name: str, allowed: list[str]) -> Channel:
    unknown = sorted(set(channels) - set(allowed))
    if unknown:
        raise AlgorithmError(
            "Unable to initialize the algorithm. Failed to validate input data configuration."
            f" (caused by ValidationError) Caused by: Additional properties are not allowed"
            f" ({', '.join(repr(u) for u in unknown)} were unexpected)"
        )
    if name not in channels:
        raise AlgorithmError(
            "Unable to initialize the algorithm. Failed to validate input data configuration."
            f" (caused by ValidationError) Caused by: '{name}' is a required property"
            f" ('{name}' is a required channel)"
        )
    return channels[name]


def channel_bytes(channel: Channel) -> bytes:
    """Concatenate a channel's objects (in key order), making sure records don't merge."""
    parts = []
    for _key, data in sorted(channel.objects, key=lambda kv: kv[0]):
        if not data:
            continue
        parts.append(data if data.endswith(b"\n") else data + b"\n")
    data = b"".join(parts)
    if not data.strip():
        raise AlgorithmError(f"No training data found in channel '{channel.name}'")
    return data


def channel_format(channel: Channel, supported: set[str], default: str = "text/csv") -> str:
    ctype, _params = base_content_type(channel.content_type)
    if ctype is None:
        if PROTOBUF in supported and _first_bytes(channel).startswith(recordio.MAGIC_BYTES):
            return PROTOBUF
        return default
    if ctype in CSV_TYPES:
        ctype = "text/csv"
    elif ctype in LIBSVM_TYPES:
        ctype = "text/libsvm"
    if ctype not in supported:
        extra = ""
        if ctype in RECORDIO_TYPES and PROTOBUF not in supported:
            extra = " (application/x-recordio-protobuf is not supported by this emulator; use text/csv)"
        raise AlgorithmError(
            f"Content type {channel.content_type} is not supported by this algorithm.{extra}"
            f" Channel '{channel.name}' supports: {', '.join(sorted(supported))}."
        )
    return ctype


def _first_bytes(channel: Channel) -> bytes:
    for _key, data in sorted(channel.objects, key=lambda kv: kv[0]):
        if data:
            return data[:8]
    return b""


def read_labelled_recordio(channel: Channel, feature_dim: int | None = None,
                           require_labels: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """``(X, y)`` (float64, lossless for every tensor type) from a channel of RecordIO-protobuf
    objects, each a whole RecordIO stream (e.g. the shards of an SDK ``record_set``)."""
    records = []
    for key, data in sorted(channel.objects, key=lambda kv: kv[0]):
        if not data:
            continue
        try:
            records.extend(recordio.parse_records(data))
        except recordio.RecordIOError as exc:
            hint = ""
            if not recordio.looks_like_recordio(data) and _looks_like_text(data):
                hint = (" The object looks like text: text/csv data is not supported under content type"
                        f" {PROTOBUF}; set the channel's ContentType to text/csv.")
            raise AlgorithmError(
                f"Customer Error: Unable to read data channel '{channel.name}'. Requested content-type is"
                f" '{PROTOBUF}'. Please verify the data matches the requested content-type."
                f" (caused by: object {key}: {exc}).{hint}") from None
    if not records:
        raise AlgorithmError(f"No training data found in channel '{channel.name}'")
    try:
        X, y = recordio.records_to_matrix(records, feature_dim, dtype=np.float64)
    except recordio.RecordIOError as exc:
        raise AlgorithmError(
            f"Customer Error: Unable to read data channel '{channel.name}' ({PROTOBUF}): {exc}.") from None
    if require_labels:
        if y is None:
            raise AlgorithmError(f"Customer Error: the records of channel '{channel.name}' have no labels"
                                 " (label[\"values\"] is required for training).")
        if np.isnan(y).any():
            row = int(np.argmax(np.isnan(y))) + 1
            raise AlgorithmError(f"Missing label on record {row} of channel '{channel.name}'.")
    return X, y


def read_labelled(channel: Channel, supported: set[str], feature_dim: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of a labelled channel in CSV (label first) or RecordIO-protobuf."""
    if channel_format(channel, supported) == PROTOBUF:
        return read_labelled_recordio(channel, feature_dim)
    return read_labelled_csv(channel)


def _looks_like_text(data: bytes) -> bool:
    try:
        data[:256].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AlgorithmError(f"Unable to decode {what} as UTF-8 text.") from None


FAST_CSV_MIN_BYTES = 16 * 1024
"""Below this size CSV is parsed in Python (a one-row payload is faster there)."""

_PLAIN_NUMERIC = b"0123456789.+-eE,\r\n"
_BOM = b"\xef\xbb\xbf"


def fast_csv_matrix(data: bytes) -> np.ndarray | None:
    """Parse plain numeric CSV bytes with a vectorised reader (pyarrow's when installed, else
    pandas' C engine), or ``None`` when the data must take :func:`parse_csv_matrix` (which
    names the bad row) instead.

    Only bytes made of digits, ``.+-eE``, commas and line breaks take this path, and only
    when every non-blank line has as many cells as the first (pyarrow's reader refuses a
    ragged line itself; pandas' pads it, so :func:`_rectangular` checks first): over that alphabet both
    readers' float64 conversions accept exactly the strings Python's ``float`` accepts, with
    the same correctly rounded values (empty cells are NaN, blank lines are skipped, as in
    :func:`parse_csv_matrix`); anything a reader rejects (a bad number) falls back to the
    Python parser, which raises the precise error.
    """
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    if data.translate(None, _PLAIN_NUMERIC):  # what is left once the plain bytes are deleted
        return None
    body = data.lstrip(b"\r\n")
    if not body:
        return None
    first = body.split(b"\n", 1)[0].split(b"\r", 1)[0]
    width = first.count(b",") + 1
    return _fast_reader()(body, width)


def _rectangular(codes: np.ndarray, width: int) -> bool:
    """Whether every non-blank line (``\\n``, ``\\r\\n`` or a bare ``\\r`` ends one) has
    ``width - 1`` commas. Works on the positions of commas and line breaks (a few per
    line), never on per-byte running counts (which cost 8 bytes per byte of data)."""
    n = codes.size
    lf = np.flatnonzero(codes == 10)
    cr = np.flatnonzero(codes == 13)
    after = np.minimum(cr + 1, n - 1)
    bare_cr = cr[(cr + 1 < n) & (codes[after] != 10)]  # a bare CR ends a line; CR LF ends it at the LF
    stops = np.sort(np.concatenate((lf, bare_cr))) if bare_cr.size else lf  # disjoint positions
    if not stops.size or stops[-1] != n - 1:
        stops = np.append(stops, n - 1)  # the last byte ends the last line
    breaks = np.sort(np.concatenate((lf, cr))) if cr.size else lf
    previous = np.concatenate(([-1], stops[:-1]))
    commas = np.diff(np.concatenate(([0], np.searchsorted(np.flatnonzero(codes == 44), stops, side="right"))))
    line_breaks = np.diff(np.concatenate(([0], np.searchsorted(breaks, stops, side="right"))))
    filled = (stops - previous) - line_breaks > 0
    return bool((commas[filled] == width - 1).all())


def _fast_reader():  # noqa: ANN202 - one of the two readers below
    """pyarrow's CSV reader when pyarrow is installed (the ``parquet`` extra), else pandas'."""
    try:
        import pyarrow.csv  # noqa: F401
    except ImportError:
        return _read_with_pandas
    return _read_with_arrow


def _read_with_arrow(body: bytes, width: int) -> np.ndarray | None:
    """pyarrow's multi-threaded reader; a line with another number of cells than ``width``
    raises (so no shape check is needed first). The matrix is column-major (Fortran order):
    each column is one contiguous copy (numpy and xgboost read any layout alike)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = [f"c{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(body),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(quote_char=False, double_quote=False, escape_char=False),
            convert_options=pa_csv.ConvertOptions(column_types={n: pa.float64() for n in names},
                                                  null_values=[""], strings_can_be_null=False))
    except pa.ArrowException:
        return None
    matrix = np.empty((table.num_rows, width), dtype=np.float64, order="F")
    for i, column in enumerate(table.columns):
        matrix[:, i] = column.to_numpy(zero_copy_only=False)
    return matrix


def _round_trip(version: str) -> dict[str, str]:
    """pandas before 3.1 converts correctly rounded only with ``float_precision="round_trip"``
    (3.1 converts every mode that way and deprecates the argument)."""
    major, minor = (int(part) for part in version.split(".")[:2])
    return {} if (major, minor) >= (3, 1) else {"float_precision": "round_trip"}


def _read_with_pandas(body: bytes, width: int) -> np.ndarray | None:
    """pandas' C engine; ``round_trip`` converts with CPython's own (correctly rounded)
    string-to-double, and a cell it cannot convert whole raises. It pads a short line with
    NaN instead of refusing it, hence the shape check first. Around bare CR line breaks it
    shifts or drops cells (``",2\r\r,21"`` gives ``[21, nan]``), so bytes with a bare CR
    take the Python parser."""
    import pandas as pd

    if b"\r" in body and b"\r" in body.replace(b"\r\n", b""):
        return None
    if not _rectangular(np.frombuffer(body, dtype=np.uint8), width):
        return None
    try:
        frame = pd.read_csv(io.BytesIO(body), engine="c", header=None, names=range(width), index_col=False,
                            dtype=np.float64, keep_default_na=False, na_values=[""], quoting=3,
                            skip_blank_lines=True, **_round_trip(pd.__version__))
    except (ValueError, pd.errors.ParserError):
        return None
    return frame.to_numpy(dtype=np.float64, copy=True).reshape(-1, width)


def parse_csv_bytes(data: bytes, what: str, error=AlgorithmError,
                    undecodable: str | None = None) -> np.ndarray:
    """:func:`parse_csv_matrix` of UTF-8 bytes, vectorised for large plain numeric CSV."""
    if len(data) >= FAST_CSV_MIN_BYTES:
        matrix = fast_csv_matrix(data)
        if matrix is not None:
            return matrix
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(undecodable or f"Unable to decode {what} as UTF-8 text.") from None
    return parse_csv_matrix(text, what, error)


def parse_csv_matrix(text: str, what: str, error=AlgorithmError) -> np.ndarray:
    """Parse numeric CSV (no header) into a 2-D float64 array, naming bad rows."""
    rows: list[list[float]] = []
    width = None
    for line_no, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        cells = line.split(",")
        try:
            row = [float(c) if c.strip() != "" else float("nan") for c in cells]
        except ValueError:
            bad = next(c for c in cells if not _is_float(c))
            raise error(
                f"Unable to parse {what}: non-numeric value {bad.strip()!r} on row {line_no}"
                " (CSV must have no header and numeric values only)."
            ) from None
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise error(
                f"Unable to parse {what}: row {line_no} has {len(row)} columns, expected {width}."
            )
        rows.append(row)
    if not rows:
        return np.zeros((0, 0))
    return np.asarray(rows, dtype=np.float64)


def _is_float(cell: str) -> bool:
    if cell.strip() == "":
        return True
    try:
        float(cell)
        return True
    except ValueError:
        return False


def read_labelled_csv(channel: Channel, min_columns: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)`` from a label-first CSV channel."""
    data = channel_bytes(channel)
    matrix = parse_csv_bytes(data, f"channel '{channel.name}'")
    if matrix.size == 0:
        raise AlgorithmError(f"No training data found in channel '{channel.name}'")
    if matrix.shape[1] < min_columns:
        raise AlgorithmError(
            f"Channel '{channel.name}' must have the label in the first column followed by at"
            f" least {min_columns - 1} feature column(s); found {matrix.shape[1]} column(s)."
        )
    if np.isnan(matrix[:, 0]).any():
        row = int(np.argmax(np.isnan(matrix[:, 0]))) + 1
        raise AlgorithmError(f"Missing label on row {row} of channel '{channel.name}'.")
    return matrix[:, 1:], matrix[:, 0]


def read_libsvm(channel: Channel, n_features: int | None = None):
    from sklearn.datasets import load_svmlight_file

    data = channel_bytes(channel)
    try:
        X, y = load_svmlight_file(io.BytesIO(data), n_features=n_features, zero_based=True)
    except Exception as exc:  # sklearn raises ValueError with a precise message
        raise AlgorithmError(f"Unable to parse libsvm data in channel '{channel.name}': {exc}") from None
    return X, y


def read_lines(channel: Channel) -> list[str]:
    data = channel_bytes(channel)
    return [line for line in _decode_text(data, f"channel '{channel.name}'").splitlines() if line.strip()]


# ------------------------------------------------------------------ inference
def parse_features_payload(body: bytes, content_type: str | None, default: str = "text/csv",
                           recordio_protobuf: bool = False, feature_dim: int | None = None) -> np.ndarray:
    """Decode an inference payload (CSV rows, JSON instances, JSON lines, and with
    ``recordio_protobuf`` RecordIO-protobuf records) into a matrix."""
    ctype, _ = base_content_type(content_type)
    ctype = ctype or default
    if ctype in CSV_TYPES and len(body) >= FAST_CSV_MIN_BYTES:
        matrix = fast_csv_matrix(body)
        if matrix is not None:
            return matrix
    if recordio_protobuf and ctype == PROTOBUF:
        X, _labels = recordio.read_records(body, feature_dim=feature_dim, error=ModelError,
                                           what="the request payload", dtype=np.float64)
        return X
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ModelError("Unable to decode the payload as UTF-8 text.") from None
    if ctype in CSV_TYPES:
        matrix = parse_csv_matrix(text, "the CSV payload", error=ModelError)
        if matrix.size == 0:
            raise ModelError("The payload contains no records.")
        return matrix
    if ctype in ("application/json", "application/jsonlines", "application/x-jsonlines", "application/jsonl"):
        if ctype == "application/json":
            try:
                doc = json.loads(text)
            except ValueError as exc:
                raise ModelError(f"Unable to parse the JSON payload: {exc}") from None
            if isinstance(doc, dict) and "instances" in doc:
                records = doc["instances"]
                if not isinstance(records, list):
                    raise ModelError("'instances' must be a list.")
            elif isinstance(doc, dict) and ("features" in doc or "data" in doc):
                records = [doc]
            elif isinstance(doc, list):
                records = doc
            else:
                raise ModelError("JSON payload must be {\"instances\": [{\"features\": [...]}, ...]}.")
        else:
            records = []
            for number, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except ValueError as exc:
                    raise ModelError(f"Unable to parse JSON line {number}: {exc}") from None
        rows = []
        for record in records:
            if isinstance(record, dict):
                features = record.get("features")
                if features is None and isinstance(record.get("data"), dict):
                    features = record["data"].get("features", {}).get("values")
            else:
                features = record
            if not isinstance(features, list):
                raise ModelError("Each instance must have a 'features' list of numbers.")
            try:
                rows.append([float(v) for v in features])
            except (TypeError, ValueError):
                raise ModelError("Feature values must be numbers.") from None
        if not rows:
            raise ModelError("The payload contains no records.")
        width = len(rows[0])
        if any(len(r) != width for r in rows):
            raise ModelError("All instances must have the same number of features.")
        return np.asarray(rows, dtype=np.float64)
    if ctype in LIBSVM_TYPES:
        from sklearn.datasets import load_svmlight_file

        try:
            X, _ = load_svmlight_file(io.BytesIO(body), zero_based=True)
        except Exception as exc:
            raise ModelError(f"Unable to parse libsvm payload: {exc}") from None
        return X
    raise ModelError(f"Content type {content_type} is not supported by this algorithm.", 415)


def check_width(X, expected: int) -> None:
    if X.shape[1] != expected:
        raise ModelError(
            f"Invalid input: expected {expected} features per record but got {X.shape[1]}."
        )
