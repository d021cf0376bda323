"""Splitting one Amazon ML CSV data file into rows and cells.

A row is a non-blank line (``str.strip()`` empty lines are skipped, a header line is
skipped when the schema says so); lines end at ``\\n`` with one trailing ``\\r`` removed;
a line with a ``"`` is read by :mod:`csv` (strict), others split on ``,``. Each row keeps
its line number and the byte offset of its line (random splits hash it).

Two readers give exactly that: :func:`_vectorised_rows` (NumPy over the bytes and one
``str.split`` for all cells) for files without quotes, unusual whitespace or bare ``\\r``,
which is what data sets normally are, and :func:`_python_rows` (line by line) otherwise.
"""
from __future__ import annotations

import csv
import io
import mmap
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from .errors import DataProcessingError

_BOM = b"\xef\xbb\xbf"
# ASCII bytes the vectorised reader cannot treat like the line-by-line one: quotes, and
# whitespace other than space/tab/CR/LF (``str.strip`` strips them too)
_AWKWARD = np.zeros(256, dtype=bool)
_AWKWARD[[ord('"'), 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x1F]] = True
_BLANK = np.zeros(256, dtype=bool)
_BLANK[[ord(" "), ord("\t"), ord("\r"), ord("\n")]] = True
_NON_ASCII_SPACE = re.compile(r"[^\S\x00-\x7f]")


@dataclass
class FileRows:
    """The data rows of one file: ``valid`` (right column count and quoting) per row, the
    cells of the valid rows (object array, one row each), and each row's byte offset and
    line number."""

    valid: np.ndarray
    cells: np.ndarray
    offsets: np.ndarray
    line_nos: np.ndarray


def read_rows(name: str, content: bytes, ncols: int, contains_header: bool) -> FileRows:
    """Rows of one file; raises DataProcessingError for a line that is not UTF-8."""
    data = bytes(content)
    return _vectorised_rows(data, ncols, contains_header) or _python_rows(name, data, ncols, contains_header)


@dataclass
class _Layout:
    """The line structure of a file the vectorised readers can take."""

    data: bytes
    start: int  # after a BOM
    text: str  # the decoded data when it is not ASCII, else ""
    begins: np.ndarray  # byte position (after ``start``) of every line
    ends: np.ndarray  # byte position of every line's end (its newline or the end of the data)
    line_index: np.ndarray  # the data rows' line indices (non-blank lines, header excluded)
    valid: np.ndarray  # per data row: the schema's column count
    carriage: bool  # some line ends with CR LF


TABLE_CHUNK_ROWS = 1 << 16
"""Rows pandas' reader parses at a time into a file's columns."""

_CHUNK = 1 << 23
"""Bytes scanned at a time: the scans' temporaries stay a few MB, not a multiple of the file."""


@dataclass
class _Scan:
    """What one pass over a file's bytes finds: line ends, CR positions, and per line end
    the commas and blank bytes before it."""

    ends: np.ndarray
    carriage: np.ndarray
    commas: np.ndarray  # commas before each line end
    blanks: np.ndarray  # blank bytes (space, tab, CR, LF) before each line end
    total_commas: int
    total_blanks: int
    non_ascii: bool


def _scan(data: Any, start: int) -> _Scan | None:
    """One pass over ``data[start:]``, ``_CHUNK`` bytes at a time (the temporaries stay a few
    MB); a memory map's pages are given back as soon as they are scanned, so the scan never
    holds the file. None when the file has a quote or an awkward control byte."""
    raw = np.frombuffer(data, dtype=np.uint8)[start:]
    mapped = isinstance(data, mmap.mmap)
    released = 0
    ends, carriage, commas, blanks = [], [], [], []
    total_commas = total_blanks = 0
    non_ascii = False
    for a in range(0, raw.size, _CHUNK):
        chunk = raw[a:a + _CHUNK]
        # the control bytes (line ends, CR, tabs, the awkward ones) are few: found once and
        # classified, instead of a table lookup over every byte
        low = np.flatnonzero(chunk < 0x20)
        low_bytes = chunk[low]
        if _AWKWARD[low_bytes].any() or data.find(b'"', start + a, start + a + chunk.size) >= 0:
            return None
        non_ascii = non_ascii or bool((chunk >= 0x80).any())
        line_ends = low[low_bytes == 10]
        comma_at = np.flatnonzero(chunk == ord(","))
        blank_at = np.sort(np.concatenate((np.flatnonzero(chunk == ord(" ")), low[_BLANK[low_bytes]])))
        ends.append(line_ends + a)
        carriage.append(low[low_bytes == 13] + a)
        commas.append(total_commas + np.searchsorted(comma_at, line_ends))
        blanks.append(total_blanks + np.searchsorted(blank_at, line_ends))
        total_commas += comma_at.size
        total_blanks += blank_at.size
        del chunk, low, low_bytes, comma_at, blank_at
        if mapped:
            done = min(start + a + _CHUNK, len(data)) // mmap.PAGESIZE * mmap.PAGESIZE
            if done > released:
                data.madvise(mmap.MADV_DONTNEED, released, done - released)
                released = done

    def joined(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    return _Scan(joined(ends), joined(carriage), joined(commas), joined(blanks), total_commas, total_blanks, non_ascii)


def _layout(data: Any, ncols: int, contains_header: bool) -> _Layout | None:
    """The line structure of ``data`` (bytes, or a memory map of a file)."""
    start = 3 if bytes(data[:3]) == _BOM else 0
    size = len(data) - start
    scan = _scan(data, start)
    if scan is None:
        return None
    ends, carriage = scan.ends, scan.carriage
    if carriage.size and not np.all(np.isin(carriage + 1, ends) | (carriage + 1 == size)):
        return None  # a CR inside a line
    text = ""
    if scan.non_ascii:
        try:
            text = bytes(data[start:]).decode("utf-8")
        except UnicodeDecodeError:
            return None  # the line-by-line reader names the line
        if _NON_ASCII_SPACE.search(text):
            return None
    commas_before, blanks_before = scan.commas, scan.blanks
    if size and (not ends.size or ends[-1] != size - 1):  # a last line without its line end
        ends = np.append(ends, size)
        commas_before = np.append(commas_before, scan.total_commas)
        blanks_before = np.append(blanks_before, scan.total_blanks)
    begins = np.concatenate(([0], ends[:-1] + 1)) if ends.size else np.zeros(0, dtype=np.int64)
    # per line (its bytes before its line end): non-blank bytes and commas, from the counts
    # before each line end (a line starts after the previous line end, itself a blank byte)
    blanks_at_begin = np.concatenate(([0], blanks_before[:-1] + 1))
    filled = (ends - begins) - (blanks_before - blanks_at_begin)
    commas = np.diff(commas_before, prepend=0)
    line_index = np.flatnonzero(filled > 0)
    del filled, blanks_at_begin
    if contains_header and line_index.size:
        line_index = line_index[1:]
    valid = commas[line_index] == ncols - 1
    return _Layout(data, start, text, begins, ends, line_index, valid, bool(carriage.size))


def _vectorised_rows(data: bytes, ncols: int, contains_header: bool) -> FileRows | None:
    lay = _layout(data, ncols, contains_header)
    if lay is None:
        return None
    lines = (lay.text or data[lay.start:].decode("ascii")).split("\n")
    good_lines = lay.line_index[lay.valid]
    kept = [lines[i] for i in good_lines.tolist()]
    if lay.carriage:
        kept = [line[:-1] if line.endswith("\r") else line for line in kept]
    cells = np.array(",".join(kept).split(",") if kept else [], dtype=object).reshape(len(kept), ncols)
    return FileRows(valid=lay.valid, cells=cells, offsets=lay.begins[lay.line_index] + lay.start,
                    line_nos=lay.line_index + 1)


@dataclass
class FileTable:
    """The data rows of one file, typed column by column: ``valid``/``offsets``/``line_nos``
    as in :class:`FileRows`; ``columns`` holds one array per attribute over the valid rows
    (NUMERIC: float64 with NaN for an empty cell; other types: a pandas Categorical of the
    verbatim cell texts, or for ``text_columns`` an object array of them)."""

    valid: np.ndarray
    offsets: np.ndarray
    line_nos: np.ndarray
    columns: dict[str, Any]


def read_table(data: Any, names: list[str], numeric: set[str], text_columns: set[str],
               contains_header: bool, path: str | None = None) -> FileTable | None:
    """:func:`read_rows` of a file the vectorised reader takes, cells parsed by pandas' C
    reader into typed columns; None when the file needs the line-by-line reader or a
    NUMERIC cell is not a plain finite number (then cell texts are needed).

    ``data``: bytes, or a read-only memory map of the file at ``path``; then when the
    data rows are the file's last lines without a gap, the pages the line scan touched are
    given back and pandas reads the file itself (never a second copy of it in memory)."""
    ncols = len(names)
    lay = _layout(data if isinstance(data, (bytes, mmap.mmap)) else bytes(data), ncols, contains_header)
    if lay is None:
        return None
    good = lay.line_index[lay.valid]
    offsets, line_nos = lay.begins[lay.line_index] + lay.start, lay.line_index + 1
    if not good.size:
        return FileTable(lay.valid, offsets, line_nos, {n: (np.zeros(0) if n in numeric else
                                                            (np.zeros(0, dtype=object) if n in text_columns
                                                             else pd.Categorical([]))) for n in names})
    # runs of consecutive good lines, each one slice of the data
    breaks = np.flatnonzero(np.diff(good) != 1)
    firsts = np.concatenate(([good[0]], good[breaks + 1]))
    lasts = np.concatenate((good[breaks], [good[-1]]))
    size = len(lay.data) - lay.start
    if len(firsts) == 1 and int(lasts[0]) == len(lay.ends) - 1 and int(lay.ends[-1]) == size - 1:
        # one run of lines up to the file's final line end: those bytes as they are
        offset = lay.start + int(lay.begins[firsts[0]])
        if isinstance(lay.data, mmap.mmap) and path is not None:
            lay.data.madvise(mmap.MADV_DONTNEED)
            source: Any = open(path, "rb")
        else:
            source = io.BytesIO(lay.data)  # shares the bytes
        source.seek(offset)
    else:
        body = memoryview(lay.data)[lay.start:]
        pieces = [body[lay.begins[f]:lay.ends[l]] for f, l in zip(firsts.tolist(), lasts.tolist())]
        source = io.BytesIO(b"\n".join(pieces + [b""]))
        del body, pieces
    valid, rows = lay.valid, good.size
    del lay, good, firsts, lasts, breaks  # the line positions: no longer needed while pandas reads
    dtypes: dict[int, Any] = {j: ("float64" if n in numeric else object if n in text_columns else "category")
                              for j, n in enumerate(names)}
    columns: dict[str, Any] = {n: np.empty(rows, dtype=np.float64) for n in names if n in numeric}
    pieces: dict[str, list[Any]] = {n: [] for n in names if n not in numeric}
    filled = 0
    try:
        with source, pd.read_csv(source, header=None, names=list(range(ncols)), dtype=dtypes, engine="c",
                                 quoting=csv.QUOTE_NONE, keep_default_na=False,
                                 na_values={j: [""] for j, n in enumerate(names) if n in numeric},
                                 skip_blank_lines=False, encoding="utf-8", index_col=False,
                                 chunksize=TABLE_CHUNK_ROWS) as reader:
            # chunk by chunk into the final arrays: never the parser's chunks and their
            # concatenation (twice the columns) at once
            for chunk in reader:
                count = len(chunk)
                if filled + count > rows:
                    return None
                for j, name in enumerate(names):
                    col = chunk[j]
                    if name in numeric:
                        values = col.to_numpy(dtype=np.float64)
                        if np.isinf(values).any():
                            return None
                        columns[name][filled:filled + count] = values
                    else:
                        pieces[name].append(col.to_numpy(dtype=object) if name in text_columns else col.array)
                filled += count
                del chunk
    except (ValueError, pd.errors.ParserError):
        return None
    if filled != rows:
        return None
    for name, parts in pieces.items():
        columns[name] = (np.concatenate(parts) if name in text_columns
                         else union_categoricals(_with_common_dtype(parts), sort_categories=False))
    columns = {name: columns[name] for name in names}
    return FileTable(valid, offsets, line_nos, columns)


def _with_common_dtype(parts: list[pd.Categorical]) -> list[pd.Categorical]:
    """Give a chunk whose cells were all empty (no categories) the other chunks' category
    dtype, as pandas does before joining its own chunks (``union_categoricals`` refuses
    object next to string categories)."""
    populated = {p.categories.dtype for p in parts if len(p.categories)}
    if len(populated) != 1:
        return parts
    dtype = populated.pop()
    return [p if len(p.categories) else p.set_categories(p.categories.astype(dtype)) for p in parts]


def _split_line(line: str) -> list[str] | None:
    if '"' not in line:
        return line.split(",")
    try:
        rows = list(csv.reader([line], strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


def _python_rows(name: str, data: bytes, ncols: int, contains_header: bool) -> FileRows:
    valid: list[bool] = []
    cells: list[list[str]] = []
    offsets: list[int] = []
    line_nos: list[int] = []
    pos = 3 if data.startswith(_BOM) else 0
    header_pending = contains_header
    line_no = 0
    length = len(data)
    while pos < length:
        nl = data.find(b"\n", pos)
        end = length if nl < 0 else nl
        raw = data[pos:end]
        line_no += 1
        start = pos
        pos = end + 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataProcessingError(
                f"Data file '{name}' is not valid UTF-8 text (line {line_no}, byte {start + exc.start})") from None
        if not line.strip():
            continue
        if header_pending:
            header_pending = False
            continue
        row = _split_line(line)
        ok = row is not None and len(row) == ncols
        valid.append(ok)
        if ok:
            cells.append(row)
        offsets.append(start)
        line_nos.append(line_no)
    matrix = np.empty((len(cells), ncols), dtype=object)
    for i, row in enumerate(cells):
        matrix[i, :] = row
    return FileRows(valid=np.asarray(valid, dtype=bool), cells=matrix,
                    offsets=np.asarray(offsets, dtype=np.int64), line_nos=np.asarray(line_nos, dtype=np.int64))
