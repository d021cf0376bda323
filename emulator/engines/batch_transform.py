"""Batch transform's record plumbing, pure: split an object into records, batch them,
filter and join with the JSONPath subset AWS documents, assemble the output.

AWS's rules (SageMaker "Associate prediction results with input records"):
* ``SplitType`` None (the whole object is one record), Line (one record per line),
  RecordIO (one record per RecordIO record); TFRecord is not supported.
* ``BatchStrategy`` SingleRecord (one record per request) or MultiRecord (as many
  records as fit in ``MaxPayloadInMB``, joined with newlines for Line).
* ``InputFilter`` / ``OutputFilter``: ``$`` (all), ``$[i]``, ``$[i:j]``, ``$[i,j,...]``,
  negative indices, ``$.key``, ``$['k1','k2']``, and chains such as ``$.features[1:]``,
  applied to a CSV line (as a list of fields) or a JSON document.
* ``JoinSource`` Input: CSV input with CSV output -> the input fields followed by the
  output fields; JSON input -> the input object with the output under
  ``SageMakerOutput`` (a JSON array input gets the output appended).
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any, Iterator



class TransformDataError(ValueError):
    """Input or output the transform cannot process (the job fails with this message)."""


# ----------------------------------------------------------------------------- splitting
def split_records(data: bytes, split_type: str | None) -> list[bytes]:
    """The records of one S3 object."""
    if split_type in (None, "None"):
        return [data] if data else []
    if split_type == "Line":
        return [line for line in data.splitlines() if line.strip()]
    if split_type == "RecordIO":
        from emulator.engines.sagemaker.recordio import iter_recordio  # numpy: imported on use

        try:
            return [bytes(r) for r in iter_recordio(data)]
        except Exception as exc:  # noqa: BLE001 - any decoding problem is a data error
            raise TransformDataError(f"Unable to split the input as RecordIO: {exc}") from exc
    raise TransformDataError(f"SplitType {split_type} is not supported by the emulator.")


def batches(records: list[bytes], strategy: str, max_payload_mb: int, split_type: str | None) -> Iterator[list[bytes]]:
    """Group records into requests of at most ``max_payload_mb`` (MultiRecord) or one each."""
    limit = max(1, int(max_payload_mb)) * 1024 * 1024 if max_payload_mb else None
    if strategy != "MultiRecord" or split_type in (None, "None"):
        for record in records:
            if limit and len(record) > limit:
                raise TransformDataError(f"A record of {len(record)} bytes exceeds MaxPayloadInMB={max_payload_mb}.")
            yield [record]
        return
    batch: list[bytes] = []
    size = 0
    for record in records:
        if limit and len(record) > limit:
            raise TransformDataError(f"A record of {len(record)} bytes exceeds MaxPayloadInMB={max_payload_mb}.")
        if batch and limit and size + len(record) + 1 > limit:
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += len(record) + 1
    if batch:
        yield batch


def join_payload(records: list[bytes], split_type: str | None) -> bytes:
    """One request body from a batch."""
    if split_type == "RecordIO":
        from emulator.engines.sagemaker.recordio import write_recordio  # numpy: imported on use

        return write_recordio(records)
    return b"\n".join(records)


def split_response(body: bytes, content_type: str | None, expected: int) -> list[bytes]:
    """A response to ``expected`` records, one item per record (for joins, filters, Line assembly)."""
    if expected == 1:
        return [body]
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("text/csv", "application/jsonlines", "application/x-jsonlines", "text/plain"):
        lines = [line for line in body.splitlines() if line.strip()]
        if len(lines) == expected:
            return lines
    if kind == "application/json":
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        items = None
        if isinstance(document, list):
            items = document
        elif isinstance(document, dict) and len(document) == 1:
            items = next(iter(document.values()))
            key = next(iter(document))
            if isinstance(items, list) and len(items) == expected:
                return [json.dumps({key: [item]}, separators=(",", ":")).encode() for item in items]
        if isinstance(items, list) and len(items) == expected:
            return [json.dumps(item, separators=(",", ":")).encode() for item in items]
    raise TransformDataError(f"Unable to match the algorithm's {content_type} response to the {expected} records of "
                             f"the request; use BatchStrategy SingleRecord.")


# ----------------------------------------------------------------------------- JSONPath subset
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[([^\]]*)\]")


def apply_filter(path: str | None, document: Any) -> Any:
    """``document`` (a list of CSV fields, or parsed JSON) selected by the JSONPath subset."""
    if path in (None, "", "$"):
        return document
    path = path.strip()
    if not path.startswith("$"):
        raise TransformDataError(f"Invalid JSONPath {path!r}: it must start with '$'.")
    position, current = 1, document
    while position < len(path):
        match = _STEP.match(path, position)
        if not match:
            raise TransformDataError(f"Invalid or unsupported JSONPath {path!r} at position {position}.")
        position = match.end()
        if match.group(1) is not None:
            current = _key(current, match.group(1), path)
        else:
            current = _bracket(current, match.group(2).strip(), path)
    return current


def _key(current: Any, key: str, path: str) -> Any:
    if not isinstance(current, dict) or key not in current:
        raise TransformDataError(f"JSONPath {path!r} selects key {key!r}, which the record does not have.")
    return current[key]


def _bracket(current: Any, inside: str, path: str) -> Any:
    if inside.startswith(("'", '"')):
        keys = [k.strip().strip("'\"") for k in inside.split(",")]
        if len(keys) == 1:
            return _key(current, keys[0], path)
        return {k: _key(current, k, path) for k in keys}
    if not isinstance(current, list):
        raise TransformDataError(f"JSONPath {path!r} indexes a record that is not an array.")
    try:
        if ":" in inside:
            start, _, stop = inside.partition(":")
            return current[int(start) if start.strip() else None:int(stop) if stop.strip() else None]
        indices = [int(i) for i in inside.split(",")]
    except ValueError:
        raise TransformDataError(f"Invalid or unsupported JSONPath {path!r}.") from None
    try:
        if len(indices) == 1:
            return current[indices[0]]
        return [current[i] for i in indices]
    except IndexError:
        raise TransformDataError(f"JSONPath {path!r} selects a column the record does not have.") from None


def parse_record(record: bytes, content_type: str | None) -> tuple[str, Any]:
    """("csv", fields) or ("json", document) for filters and joins."""
    kind = (content_type or "").split(";")[0].strip().lower()
    text = record.decode("utf-8-sig", errors="replace").strip()
    if kind in ("application/json", "application/jsonlines", "application/x-jsonlines"):
        try:
            return "json", json.loads(text)
        except ValueError as exc:
            raise TransformDataError(f"Unable to parse the record as JSON: {exc}") from exc
    return "csv", next(csv.reader([text]), [])


def render(kind: str, value: Any) -> bytes:
    """A filtered/joined record back to bytes (CSV fields or JSON)."""
    if kind == "csv":
        values = value if isinstance(value, list) else [value]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow(values)
        return buffer.getvalue().encode()
    return json.dumps(value, separators=(",", ":")).encode()


def filter_input(record: bytes, content_type: str | None, path: str | None) -> bytes:
    if path in (None, "", "$"):
        return record
    kind, value = parse_record(record, content_type)
    return render(kind, apply_filter(path, value))


def join_output(source: bytes, source_type: str | None, output: bytes, output_type: str | None) -> tuple[str, Any]:
    """AWS's JoinSource=Input: the joined record as (kind, value)."""
    in_kind, in_value = parse_record(source, source_type)
    out_kind, out_value = parse_record(output, output_type)
    if in_kind == "csv" and out_kind == "csv":
        return "csv", list(in_value) + list(out_value)
    if in_kind == "json" and isinstance(in_value, dict):
        return "json", {**in_value, "SageMakerOutput": out_value}
    if in_kind == "json" and isinstance(in_value, list):
        return "json", in_value + [out_value]
    # CSV input with a JSON answer: AWS writes a JSON array of the input fields plus the output
    return "json", [_number(v) for v in in_value] + [out_value]


def _number(text: str) -> Any:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def assemble(items: list[bytes], assemble_with: str | None) -> bytes:
    """The ``.out`` object: items concatenated, or one per line with AssembleWith Line."""
    if assemble_with == "Line":
        return b"".join(item if item.endswith(b"\n") else item + b"\n" for item in items)
    return b"".join(items)
