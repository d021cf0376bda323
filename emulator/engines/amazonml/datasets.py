"""Loading CSV data for Amazon ML datasources.

Representation of ``Dataset.frame`` (valid rows only, after rearrangement, in
input order, ``RangeIndex``), one column per schema attribute:

* NUMERIC  -> float64, NaN for missing (empty cell);
* BINARY   -> float64 holding 0.0/1.0, NaN for missing (pandas ints cannot hold NaN);
* CATEGORICAL -> pandas categorical of str, surrounding whitespace stripped, ``""`` for missing;
* TEXT     -> str (verbatim), ``""`` for missing;
* the ``rowId`` column is always kept verbatim as str (it is never a feature and is
  copied to batch output as-is).

Counting decisions ([U]):

* ``total_record_count`` = data rows (header and blank lines excluded) selected by
  the rearrangement, valid or not; ``invalid_record_count`` = rejected rows among them.
* A row is rejected when its column count differs from the schema, a BINARY value
  is not one of 1/y/yes/t/true/0/n/no/f/false (case/whitespace-insensitive), a
  NUMERIC value does not parse as a finite float, or the CSV line is malformed.
  Empty cells are missing values, never invalid.
* More than 10,000 rejected rows fails the whole datasource (DataProcessingError).
* Files must be UTF-8 (a BOM is allowed); ``\\r\\n`` line ends are accepted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .csv_rows import read_rows, read_table
from .errors import DataProcessingError
from .rearrangement import parse_rearrangement, selection_mask
from .schema import DataSchema, schema_from_dict
from .stored import Stored, pack, unpack

MAX_INVALID_RECORDS = 10_000
BINARY_VALUES = {"1": 1.0, "y": 1.0, "yes": 1.0, "t": 1.0, "true": 1.0,
                 "0": 0.0, "n": 0.0, "no": 0.0, "f": 0.0, "false": 0.0}


@dataclass
class Dataset(Stored):
    """Parsed, typed and rearranged data of one datasource (its rows, the file of each row
    and each file's layout can live in files: :meth:`Stored.store_in`)."""

    frame: pd.DataFrame
    schema: DataSchema
    total_record_count: int
    invalid_record_count: int
    size_in_bytes: int
    number_of_files: int
    origins: np.ndarray  # file name of each frame row
    # per input file (in order): frame position of each selected row, -1 = invalid row
    layout: dict[str, np.ndarray] = field(default_factory=dict)
    invalid_examples: list[str] = field(default_factory=list)
    # selected rows rejected because of this attribute's value (wrong column counts are not attributable)
    invalid_by_attribute: dict[str, int] = field(default_factory=dict)

    stored_fields = ("frame", "origins", "layout")

    def to_bytes(self) -> bytes:
        """Self-contained bytes (NumPy ``.npz`` and JSON, no pickle) for ``--data-dir``."""
        meta = {"schema": self.schema.to_dict(), "total_record_count": self.total_record_count,
                "invalid_record_count": self.invalid_record_count, "size_in_bytes": self.size_in_bytes,
                "number_of_files": self.number_of_files, "invalid_examples": list(self.invalid_examples),
                "invalid_by_attribute": dict(self.invalid_by_attribute)}
        # a stored data set is read for these bytes only (the server keeps its paths)
        return pack(self.fields(), meta)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Dataset":
        """The inverse of :meth:`to_bytes` (the data set in memory)."""
        values, meta = unpack(data)
        return cls(frame=values["frame"], schema=schema_from_dict(meta["schema"]),
                   total_record_count=int(meta["total_record_count"]),
                   invalid_record_count=int(meta["invalid_record_count"]), size_in_bytes=int(meta["size_in_bytes"]),
                   number_of_files=int(meta["number_of_files"]), origins=values["origins"],
                   layout={k: np.array(v) for k, v in values["layout"].items()},
                   invalid_examples=list(meta["invalid_examples"]),
                   invalid_by_attribute={k: int(v) for k, v in meta["invalid_by_attribute"].items()})


# ---------------------------------------------------------------- cell typing
def convert_column(values: pd.Series, attr_type: str) -> tuple[pd.Series, np.ndarray]:
    """Type a column of raw strings; return (typed series, invalid mask)."""
    if attr_type == "NUMERIC":
        stripped = values.str.strip()
        empty = stripped.eq("").to_numpy()
        nums = pd.to_numeric(stripped, errors="coerce").astype("float64")
        arr = nums.to_numpy(copy=True)
        bad = ~np.isfinite(arr) & ~empty
        arr[bad | empty] = np.nan
        return pd.Series(arr, index=values.index, dtype="float64"), bad
    if attr_type == "BINARY":
        low = values.str.strip().str.lower()
        empty = low.eq("").to_numpy()
        mapped = low.map(BINARY_VALUES).astype("float64")
        bad = mapped.isna().to_numpy() & ~empty
        return mapped, bad
    if attr_type == "CATEGORICAL":
        return values.str.strip().astype(object), np.zeros(len(values), dtype=bool)
    return values.astype(object), np.zeros(len(values), dtype=bool)


def convert_value(value: Any, attr_type: str) -> Any:
    """Type one raw value leniently (invalid -> missing); used for Predict records."""
    if value is None:
        return np.nan if attr_type in ("NUMERIC", "BINARY") else ""
    text = str(value)
    if attr_type == "NUMERIC":
        try:
            number = float(text.strip())
        except ValueError:
            return np.nan
        return number if np.isfinite(number) else np.nan
    if attr_type == "BINARY":
        return BINARY_VALUES.get(text.strip().lower(), np.nan)
    if attr_type == "CATEGORICAL":
        return text.strip()
    return text


def coerce_record(record: Mapping[str, Any], schema: DataSchema) -> dict[str, Any]:
    """Typed values for every schema attribute (missing/unparsable -> missing, extras ignored)."""
    return {a.name: convert_value(record.get(a.name), a.type) for a in schema.attributes}


def parse_record(record: Mapping[str, str], schema: DataSchema) -> pd.DataFrame:
    """One-row typed DataFrame for a real-time Predict ``Record``."""
    typed = coerce_record(record, schema)
    frame = pd.DataFrame({k: [v] for k, v in typed.items()})
    for a in schema.attributes:
        if a.type in ("NUMERIC", "BINARY"):
            frame[a.name] = frame[a.name].astype("float64")
        else:
            frame[a.name] = frame[a.name].astype(object)
    return frame


def value_to_text(value: Any, attr_type: str) -> str:
    """Render a typed value back to its CSV text ("" for missing)."""
    if attr_type in ("NUMERIC", "BINARY"):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        v = float(value)
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def coerce_frame(frame: pd.DataFrame, source: DataSchema, target: DataSchema) -> pd.DataFrame:
    """Coerce a typed frame (typed by ``source``) to the attribute types of ``target``.

    Attributes of ``target`` missing from the frame become all-missing columns; values
    that do not convert become missing (evaluation types follow the training schema).
    """
    src_types = {a.name: a.type for a in source.attributes}
    out: dict[str, Any] = {}
    n = len(frame)
    for a in target.attributes:
        if a.name not in frame.columns:
            out[a.name] = (np.full(n, np.nan) if a.type in ("NUMERIC", "BINARY")
                           else np.array([""] * n, dtype=object))
            continue
        st = src_types.get(a.name, a.type)
        col = frame[a.name]
        if st == a.type or (a.name == source.row_id):
            # the column as it is (a Categorical stays one; a memory-mapped array is not copied)
            out[a.name] = col.array if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
            continue
        texts = pd.Series([value_to_text(v, st) for v in col], dtype=object)
        typed, bad = convert_column(texts, a.type)
        arr = typed.to_numpy(copy=True)
        if a.type in ("NUMERIC", "BINARY"):
            arr[bad] = np.nan
        out[a.name] = arr
    result = pd.DataFrame(out, copy=False)
    for a in target.attributes:
        if a.type in ("NUMERIC", "BINARY"):
            result[a.name] = result[a.name].astype("float64")
    return result


# ---------------------------------------------------------------- CSV reading
@dataclass
class ParsedFile(Stored):
    """One data file parsed and typed by a schema, before any rearrangement: every data
    row's validity (column count, quoting), byte offset and line number, and for the rows
    of the right shape one typed array per attribute (NUMERIC/BINARY: float64 with NaN;
    CATEGORICAL: a pandas Categorical of stripped values; TEXT and the rowId: object
    arrays of the verbatim texts), with the rows each attribute's value rejects and the
    first rejected texts. Plain arrays: cheap to pickle, cache and share between the data
    sources of one file."""

    name: str
    size: int
    valid: np.ndarray
    offsets: np.ndarray
    line_nos: np.ndarray
    typed: dict[str, Any]
    bad: dict[str, np.ndarray]
    bad_examples: dict[str, list[tuple[int, str]]]

    stored_fields = ("valid", "offsets", "line_nos", "typed", "bad")

    @property
    def nbytes(self) -> int:
        """Approximate memory held by the arrays (object arrays: their strings too)."""
        total = self.valid.nbytes + self.offsets.nbytes + self.line_nos.nbytes
        total += sum(b.nbytes for b in self.bad.values())
        for values in self.typed.values():
            total += values.nbytes
            if isinstance(values, np.ndarray) and values.dtype == object and len(values):
                sample = values[:: max(1, len(values) // 1000)].tolist()
                total += len(values) * sum(len(v) + 50 for v in sample) // len(sample)
        return int(total)


def _typed_categories(values: pd.Categorical, attr_type: str) -> tuple[Any, np.ndarray, list[tuple[int, str]]]:
    """Type a Categorical of raw cell texts: work on the categories, gather by the codes."""
    cats = [str(c) for c in values.categories.tolist()]
    codes = np.asarray(values.codes, dtype=np.int64)
    if attr_type == "BINARY":
        mapped, bad_cat = convert_column(pd.Series(cats, dtype=object), "BINARY")
        typed = mapped.to_numpy(dtype=np.float64)[codes] if cats else np.zeros(len(codes))
        bad = bad_cat[codes] if cats else np.zeros(len(codes), dtype=bool)
        examples = [(j, cats[codes[j]]) for j in np.flatnonzero(bad)[:5].tolist()]
        return typed, bad, examples
    stripped = [c.strip() for c in cats]
    inverse, uniques = pd.factorize(np.array(stripped, dtype=object)) if cats else (np.zeros(0, dtype=np.int64), [])
    new_codes = np.asarray(inverse, dtype=np.int64)[codes] if cats else codes
    return (pd.Categorical.from_codes(new_codes, categories=pd.Index(list(uniques), dtype=object)),
            np.zeros(len(codes), dtype=bool), [])


def parse_file(name: str, content: bytes, schema: DataSchema, path: str | None = None) -> ParsedFile:
    """Read and type one CSV file (raises DataProcessingError for a line that is not UTF-8);
    ``content`` may be a read-only memory map of the file at ``path``."""
    names = schema.names
    numeric = {a.name for a in schema.attributes if a.type == "NUMERIC" and a.name != schema.row_id}
    verbatim = {a.name for a in schema.attributes if a.type == "TEXT" or a.name == schema.row_id}
    typed: dict[str, Any] = {}
    bad: dict[str, np.ndarray] = {}
    examples: dict[str, list[tuple[int, str]]] = {}
    table = read_table(content, names, numeric, verbatim, schema.contains_header, path)
    if table is not None:
        for a in schema.attributes:
            values = table.columns[a.name]
            if a.name in numeric or a.name in verbatim:
                typed[a.name] = values
                bad[a.name] = np.zeros(len(values), dtype=bool)
            else:
                typed[a.name], bad[a.name], examples[a.name] = _typed_categories(values, a.type)
        return ParsedFile(name, len(content), table.valid, table.offsets, table.line_nos, typed, bad, examples)
    rows = read_rows(name, content, len(names), schema.contains_header)
    for j, a in enumerate(schema.attributes):
        raw = pd.Series(rows.cells[:, j], dtype=object)
        if a.name in verbatim:
            typed[a.name] = raw.astype(str).to_numpy(dtype=object)
            bad[a.name] = np.zeros(len(raw), dtype=bool)
            continue
        col, mask = convert_column(raw.astype(str), a.type)
        typed[a.name] = (pd.Categorical(col.to_numpy(dtype=object)) if a.type == "CATEGORICAL"
                         else col.to_numpy(dtype=np.float64))
        bad[a.name] = mask
        examples[a.name] = [(k, str(raw.iat[k])) for k in np.flatnonzero(mask)[:5].tolist()]
    return ParsedFile(name, len(content), rows.valid, rows.offsets, rows.line_nos, typed, bad, examples)


def _concat(parts: list[Any]) -> Any:
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], pd.Categorical):
        cats = pd.Index(np.concatenate([np.asarray(p.categories, dtype=object) for p in parts]), dtype=object).unique()
        codes = []
        for p in parts:
            lookup = np.append(cats.get_indexer(np.asarray(p.categories, dtype=object)), -1)
            codes.append(lookup[np.asarray(p.codes, dtype=np.int64)])  # code -1 (none) stays -1
        return pd.Categorical.from_codes(np.concatenate(codes), categories=cats)
    return np.concatenate(parts)


def load_dataset(files: list[tuple[str, bytes]], schema: DataSchema,
                 rearrangement: str | None, split_names: list[str] | None = None) -> Dataset:
    """Read CSV ``files`` (name, content) typed by ``schema`` and apply ``rearrangement``
    (:func:`parse_file` then :func:`select_dataset`)."""
    split = parse_rearrangement(rearrangement)
    return select_dataset([parse_file(name, content, schema) for name, content in files], schema,
                          split, split_names)


def select_dataset(parsed: list[ParsedFile], schema: DataSchema, split, split_names: list[str] | None = None,
                   buckets: np.ndarray | None = None) -> Dataset:
    """Apply a parsed rearrangement (``parse_rearrangement``) to parsed files.

    A random split hashes each row's file name and byte offset; ``split_names`` (one per
    file) replaces the file names there, so data staged under different names (one copy
    per database data source) splits the same way; ``buckets`` (from
    :func:`split_buckets`) saves hashing again.

    Raises DataProcessingError for empty data or more than 10,000 rejected rows.
    """
    ncols = len(schema.attributes)
    names = [p.name for p in parsed]
    size = sum(p.size for p in parsed)
    # each file's fields, memory-mapped when kept in files; a column is let go once taken
    fields = [p.fields() for p in parsed]
    counts = np.array([len(f["valid"]) for f in fields], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)))  # each file's first row (all rows)
    n = int(starts[-1])
    if n == 0:
        raise DataProcessingError("The data source contains no data records"
                                  + (f" (files: {', '.join(names)})" if names else " (no data files)"))
    valid_shape = _join([f["valid"] for f in fields])
    good_idx = np.flatnonzero(valid_shape)
    good_base = np.cumsum([0] + [int(np.count_nonzero(f["valid"])) for f in fields])
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(~valid_shape)[:5].tolist():
        reasons[i] = f"expected {ncols} comma-separated values (or malformed quoting)"
    invalid_good = np.zeros(len(good_idx), dtype=bool)
    bad_by_attribute: dict[str, np.ndarray] = {}
    for a in schema.attributes:
        if a.name == schema.row_id:
            continue
        bad = _join([f["bad"][a.name] for f in fields])
        if bad.any():
            firsts = [(int(good_base[fi]) + j, raw) for fi, p in enumerate(parsed)
                      for j, raw in p.bad_examples.get(a.name, [])][:5]
            for j, raw in firsts:
                gi = int(good_idx[j])
                if len(reasons) < 5 and gi not in reasons:
                    reasons[gi] = f"invalid {a.type} value {raw!r} for attribute '{a.name}'"
            invalid_good |= bad
            bad_by_attribute[a.name] = bad
        else:
            bad_by_attribute[a.name] = np.zeros(0, dtype=bool)  # none: counted as 0 below

    if buckets is not None and split is not None:
        keep = (buckets >= split.begin) & (buckets < split.end)
        selected = ~keep if split.complement else keep
        del keep
    elif split is None:
        selected = np.ones(n, dtype=bool)
    else:
        file_idx = np.repeat(np.arange(len(parsed), dtype=np.int64), counts)
        offsets = _join([f["offsets"] for f in fields])
        selected = selection_mask(split, names if split_names is None else split_names, file_idx, offsets)
        del file_idx, offsets
    selected_good = selected[good_idx]
    kept_good = selected_good & ~invalid_good  # over the typed (good) rows: the frame's rows
    n_invalid = int(selected.sum()) - int(kept_good.sum())
    invalid_by_attribute = {name: int((bad & selected_good).sum()) if bad.size else 0
                            for name, bad in bad_by_attribute.items()}
    del bad_by_attribute, invalid_good, selected_good

    def where(i: int) -> str:
        fi = int(np.searchsorted(starts, i, side="right")) - 1
        return f"'{names[fi]}' line {int(fields[fi]['line_nos'][i - starts[fi]])}"

    examples = [f"{where(i)}: {r}" for i, r in sorted(reasons.items())]
    if n_invalid > MAX_INVALID_RECORDS:
        raise DataProcessingError(
            f"Amazon ML rejected {n_invalid} records, more than the maximum of {MAX_INVALID_RECORDS} "
            f"invalid observations; the data was rejected. First problem: {examples[0] if examples else 'n/a'}")
    take = np.flatnonzero(kept_good)  # positions within the typed (good) arrays of the kept rows
    if len(take) == 0:
        detail = f"; {n_invalid} record(s) were rejected, e.g. {examples[0]}" if n_invalid and examples else ""
        raise DataProcessingError("The data source contains no valid records after applying the schema"
                                  " and DataRearrangement" + detail)
    columns: dict[str, Any] = {}
    for a in schema.attributes:
        values = _concat([f["typed"].pop(a.name) for f in fields])
        columns[a.name] = values[take]
        del values  # this column of the files (a memory map, or a copy joining them) goes now
    # copy=False: each taken column is the frame's own, never consolidated into a second copy
    frame = pd.DataFrame(columns, copy=False)
    del columns, take
    # per file: the frame position of each selected row, -1 for a rejected one
    kept_all = np.zeros(n, dtype=bool)
    kept_all[good_idx[kept_good]] = True
    del kept_good, good_idx
    layout: dict[str, np.ndarray] = {}
    kept_per_file = []
    placed = 0
    for fi, name in enumerate(names):
        lo, hi = int(starts[fi]), int(starts[fi + 1])
        kept_here = kept_all[lo:hi][selected[lo:hi]]
        positions = np.cumsum(kept_here, dtype=np.int64) - 1 + placed
        layout[name] = np.where(kept_here, positions, -1)
        kept_per_file.append(int(np.count_nonzero(kept_here)))
        placed += kept_per_file[-1]
    origins = np.repeat(np.array(names, dtype=object), kept_per_file) if names else np.array([], dtype=object)
    return Dataset(frame=frame, schema=schema, total_record_count=int(selected.sum()),
                   invalid_record_count=n_invalid, size_in_bytes=size, number_of_files=len(parsed),
                   origins=origins, layout=layout, invalid_examples=examples,
                   invalid_by_attribute=invalid_by_attribute)


def _join(parts: list[np.ndarray]) -> np.ndarray:
    """The arrays of each file as one (the array itself for one file: no copy)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def rows_with_target(frame: pd.DataFrame, target: str, model_type: str) -> pd.DataFrame:
    """The rows whose target has a value: a non-empty label for MULTICLASS, a number otherwise."""
    column = frame[target]
    if model_type == "MULTICLASS":
        keep = column.astype(str).str.len().to_numpy() > 0
    else:
        keep = ~np.isnan(column.to_numpy(dtype=float))
    if keep.all():  # no copy of the whole frame (memory-mapped columns stay so)
        return frame
    return frame[keep].reset_index(drop=True)
