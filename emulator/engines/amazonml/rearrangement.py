"""``DataRearrangement`` parsing and row selection.

Decisions on [U] items:

* ``percentBegin`` defaults to 0, ``percentEnd`` to 100; both may be ints or floats
  (or numeric strings) in 0..100 and ``begin <= end``.
* Selection uses the half-open interval ``[begin, end)`` for both strategies, so a
  split and its complement are exactly disjoint and cover every row.
* ``sequential`` works on row positions: row ``i`` of ``N`` is kept iff
  ``begin <= 100*i/N < end`` (rows counted across all files in order).
* ``random``: ``u = int(sha256(seed \\0 file \\0 byte_offset)) mod 100``; kept iff
  ``begin <= u < end``.  Default seed is ``""`` (the API default).
* ``randomSeed`` is also accepted at the top level of ``splitting`` (API examples).
* Unknown keys inside ``splitting`` are rejected; an empty/absent rearrangement or
  ``{}`` selects every row.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..cores import available_cores
from .errors import EngineInputError

_SPLIT_KEYS = {"percentBegin", "percentEnd", "complement", "strategy", "strategyParams", "randomSeed"}


@dataclass(frozen=True)
class Splitting:
    """A parsed ``splitting`` directive."""

    begin: float = 0.0
    end: float = 100.0
    complement: bool = False
    strategy: str = "sequential"
    seed: str = ""


def _percent(value: Any, key: str) -> float:
    if isinstance(value, bool):
        raise EngineInputError(f"DataRearrangement '{key}' must be a number between 0 and 100")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise EngineInputError(f"DataRearrangement '{key}' must be a number between 0 and 100, got {value!r}") from None
    if not 0 <= number <= 100:
        raise EngineInputError(f"DataRearrangement '{key}' must be between 0 and 100, got {value!r}")
    return number


def parse_rearrangement(text: str | None) -> Splitting | None:
    """Parse a DataRearrangement JSON string; ``None`` means "all rows"."""
    if text is None or not str(text).strip():
        return None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise EngineInputError(f"DataRearrangement is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise EngineInputError("DataRearrangement must be a JSON object")
    unknown = set(doc) - {"splitting"}
    if unknown:
        raise EngineInputError(f"DataRearrangement has unknown key(s): {', '.join(sorted(unknown))}")
    split = doc.get("splitting")
    if split is None:
        return None
    if not isinstance(split, dict):
        raise EngineInputError("DataRearrangement 'splitting' must be an object")
    unknown = set(split) - _SPLIT_KEYS
    if unknown:
        raise EngineInputError(f"DataRearrangement 'splitting' has unknown key(s): {', '.join(sorted(unknown))}")
    begin = _percent(split.get("percentBegin", 0), "percentBegin")
    end = _percent(split.get("percentEnd", 100), "percentEnd")
    if begin > end:
        raise EngineInputError(f"DataRearrangement 'percentBegin' ({begin:g}) must not exceed 'percentEnd' ({end:g})")
    comp = split.get("complement", False)
    if isinstance(comp, str) and comp.strip().lower() in ("true", "false"):
        comp = comp.strip().lower() == "true"
    if not isinstance(comp, bool):
        raise EngineInputError(f"DataRearrangement 'complement' must be true or false, got {comp!r}")
    strategy = split.get("strategy", "sequential")
    if not isinstance(strategy, str) or strategy.lower() not in ("sequential", "random"):
        raise EngineInputError(f"DataRearrangement 'strategy' must be 'sequential' or 'random', got {strategy!r}")
    params = split.get("strategyParams", {}) or {}
    if not isinstance(params, dict):
        raise EngineInputError("DataRearrangement 'strategyParams' must be an object")
    unknown = set(params) - {"randomSeed"}
    if unknown:
        raise EngineInputError(f"DataRearrangement 'strategyParams' has unknown key(s): {', '.join(sorted(unknown))}")
    seed = params.get("randomSeed", split.get("randomSeed", ""))
    if seed is None:
        seed = ""
    if not isinstance(seed, (str, int, float)) or isinstance(seed, bool):
        raise EngineInputError("DataRearrangement 'randomSeed' must be a string")
    return Splitting(begin, end, comp, strategy.lower(), str(seed))


def row_bucket(seed: str, file_name: str, offset: int) -> int:
    """Stable pseudo-random number in 0..99 for a row (seed, file, byte offset)."""
    digest = hashlib.sha256(f"{seed}\x00{file_name}\x00{offset}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 100


PARALLEL_ROWS = 200_000
"""From this many rows of one file, :func:`row_buckets` hashes parts in forked processes."""


def row_buckets(seed: str, file_name: str, offsets: np.ndarray) -> np.ndarray:
    """:func:`row_bucket` of many rows of one file at once (the same numbers): one
    ``hashlib`` call per row, the digests reduced by NumPy a block of rows at a time (no
    per-row objects for the whole file); large files are hashed in parts on every
    available core (forked processes, results joined in order)."""
    template = f"{seed}\x00{file_name}\x00".encode("utf-8").replace(b"%", b"%%") + b"%d"
    offsets = np.asarray(offsets, dtype=np.int64)
    parts = min(available_cores(), max(1, len(offsets) // (PARALLEL_ROWS // 2)))
    buckets = _buckets_in_parts(template, offsets, parts) if parts > 1 else _buckets(template, offsets)
    return buckets.astype(np.int64)


HASH_BLOCK = 65536
"""Rows hashed between two NumPy reductions (bounds the digests held at once)."""


def _buckets(template: bytes, offsets: np.ndarray) -> np.ndarray:
    """The bucket (first 8 bytes of the SHA-256 of ``template % offset``, big-endian, mod 100)
    of every offset, as uint8."""
    sha256 = hashlib.sha256
    out = np.empty(len(offsets), dtype=np.uint8)
    for a in range(0, len(offsets), HASH_BLOCK):
        values = offsets[a:a + HASH_BLOCK].tolist()
        digests = b"".join([sha256(message).digest() for message in map(template.__mod__, values)])
        heads = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 32)[:, :8].copy().view(">u8").ravel()
        out[a:a + len(values)] = heads % 100
    return out


def _buckets_in_parts(template: bytes, offsets: np.ndarray, parts: int) -> np.ndarray:
    """:func:`_buckets`, the first part here and each other part in a forked child that
    writes its buckets to a pipe (any failure: that part is computed here)."""
    bounds = [len(offsets) * i // parts for i in range(parts + 1)]
    children = []
    for i in range(1, parts):
        try:
            read_end, write_end = os.pipe()
            with warnings.catch_warnings():  # Python 3.12+ warns about forking with threads: the
                warnings.simplefilter("ignore", DeprecationWarning)  # child only hashes and exits
                pid = os.fork()
        except OSError:
            children.append((i, None, None))
            continue
        if pid == 0:  # the child: hash its part, write it, leave without any cleanup
            code = 1
            try:
                os.close(read_end)
                with os.fdopen(write_end, "wb") as out:
                    out.write(_buckets(template, offsets[bounds[i]:bounds[i + 1]]).tobytes())
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        children.append((i, pid, read_end))
    chunks = [_buckets(template, offsets[bounds[0]:bounds[1]])]
    for i, pid, read_end in children:
        data = b""
        if pid is not None:
            with os.fdopen(read_end, "rb") as source:
                data = source.read()
            os.waitpid(pid, 0)
        expected = bounds[i + 1] - bounds[i]
        chunks.append(np.frombuffer(data, dtype=np.uint8) if len(data) == expected
                      else _buckets(template, offsets[bounds[i]:bounds[i + 1]]))
    return np.concatenate(chunks)


def selection_mask(split: Splitting | None, file_names: Sequence[str], file_index: np.ndarray,
                   offsets: np.ndarray) -> np.ndarray:
    """Boolean mask over rows (in input order) kept by ``split``; row ``i`` is at byte
    ``offsets[i]`` of file ``file_names[file_index[i]]``."""
    n = len(offsets)
    if split is None:
        return np.ones(n, dtype=bool)
    if split.strategy == "sequential":
        # exact integer comparison avoids float edge effects: begin*N <= 100*i < end*N
        idx100 = np.arange(n, dtype=np.int64) * 100
        keep = (idx100 >= split.begin * n) & (idx100 < split.end * n)
    else:
        buckets = np.empty(n, dtype=np.int64)
        file_index = np.asarray(file_index, dtype=np.int64)
        offsets = np.asarray(offsets, dtype=np.int64)
        for fi, name in enumerate(file_names):
            rows = np.flatnonzero(file_index == fi)
            if rows.size:
                buckets[rows] = row_buckets(split.seed, name, offsets[rows])
        keep = (buckets >= split.begin) & (buckets < split.end)
    return ~keep if split.complement else keep
