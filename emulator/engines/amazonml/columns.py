"""Column representations of recipe variables, for whole data sets at once.

A recipe variable over ``n`` rows is one of:

* a float array (NUMERIC / BINARY values, NaN = missing);
* :class:`Strings`: one string per row as integer codes into ``uniques`` (CATEGORICAL and
  TEXT values, quantile bins), so string functions (``lowercase``, ``no_punct``, word
  splitting, n-grams) run once per distinct value, not once per row;
* :class:`Tokens`: zero or more tokens per row as (row, code) pairs into ``uniques``
  (``ngram``, ``osb``, ``cartesian`` outputs and the tokens of any other variable).

The per-value functions are the one-record (Predict) functions of :mod:`.recipes`, so a
row's tokens here are exactly the record path's tokens (a test compares the features).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd


@dataclass
class Strings:
    """One string per row: ``uniques[codes[i]]`` ("" = missing)."""

    codes: np.ndarray
    uniques: np.ndarray  # object array of str

    def map(self, fn: Callable[[str], str]) -> "Strings":
        """``fn`` applied to every row's string (computed once per distinct value)."""
        return Strings(self.codes, np.array([fn(u) for u in self.uniques.tolist()], dtype=object))

    def ragged(self, fn: Callable[[str], list[str]]) -> "Tokens":
        """Tokens ``fn(value)`` of every row (computed once per distinct value)."""
        per_unique = [fn(u) for u in self.uniques.tolist()]
        lengths = np.fromiter((len(t) for t in per_unique), dtype=np.int64, count=len(per_unique))
        flat = [t for toks in per_unique for t in toks]
        tok_codes, tok_uniques = pd.factorize(np.array(flat, dtype=object)) if flat else \
            (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))
        starts = np.cumsum(lengths) - lengths
        counts = lengths[self.codes]
        total = int(counts.sum())
        rows = np.repeat(np.arange(len(self.codes), dtype=np.int64), counts)
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        positions = np.repeat(starts[self.codes], counts) + within
        return Tokens(rows, np.asarray(tok_codes, dtype=np.int64)[positions],
                      np.asarray(tok_uniques, dtype=object), single=bool(lengths.max(initial=0) <= 1))

    def nonempty_tokens(self) -> "Tokens":
        """The row's whole string as its one token, none when it is empty."""
        present = np.array([u != "" for u in self.uniques.tolist()], dtype=bool)
        rows = np.flatnonzero(present[self.codes]) if len(self.uniques) else np.zeros(0, dtype=np.int64)
        return Tokens(rows, self.codes[rows], self.uniques, single=True)


@dataclass
class Tokens:
    """Zero or more tokens per row: row ``rows[j]`` has token ``uniques[codes[j]]``
    (``rows`` ascending; ``single``: at most one token per row)."""

    rows: np.ndarray
    codes: np.ndarray
    uniques: np.ndarray
    single: bool = False


def strings_of(column: pd.Series) -> Strings:
    """A frame column of strings (object or categorical dtype; None/NaN = "")."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy().astype(np.int32)
        uniques = np.array([str(c) for c in column.cat.categories.tolist()] + [""], dtype=object)
        codes[codes < 0] = len(uniques) - 1
        return Strings(codes, uniques)
    values = column.to_numpy(dtype=object)
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = ""
    codes, uniques = pd.factorize(values)
    uniques = np.array([u if isinstance(u, str) else str(u) for u in uniques.tolist()], dtype=object)
    return Strings(np.asarray(codes, dtype=np.int64), uniques)


def empty_strings(n: int) -> Strings:
    """``n`` missing strings."""
    return Strings(np.zeros(n, dtype=np.int64), np.array([""], dtype=object))


def binary_tokens(values: np.ndarray) -> Tokens:
    """Tokens "0"/"1" (``str(int(v))``) of a BINARY column; none where missing."""
    rows = np.flatnonzero(~np.isnan(values))
    ints = values[rows].astype(np.int64)
    uniq, codes = np.unique(ints, return_inverse=True)
    return Tokens(rows, codes.astype(np.int64).reshape(-1),
                  np.array([str(int(u)) for u in uniq.tolist()], dtype=object), single=True)


def quantile_bins(values: np.ndarray, edges: np.ndarray) -> Strings:
    """``b<i>`` (i = edges at or below the value) per row, ``missing`` for NaN."""
    ids = np.searchsorted(edges, values, side="right").astype(np.int32)  # at most 1001 bins
    ids[np.isnan(values)] = len(edges) + 1
    return Strings(ids, np.array([f"b{i}" for i in range(len(edges) + 1)] + ["missing"], dtype=object))


def cartesian(left: Tokens, right: Tokens, n: int) -> Tokens:
    """Every (left token, right token) pair of each row, joined with '_'."""
    order = np.argsort(right.rows, kind="stable")
    r_rows, r_codes = right.rows[order], right.codes[order]
    per_row = np.bincount(r_rows, minlength=n)
    first = np.cumsum(per_row) - per_row
    repeat = per_row[left.rows]
    left_idx = np.repeat(np.arange(len(left.rows), dtype=np.int64), repeat)
    within = np.arange(int(repeat.sum()), dtype=np.int64) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    right_idx = first[left.rows][left_idx] + within
    width = max(len(right.uniques), 1)
    pairs = left.codes[left_idx] * width + r_codes[right_idx]
    uniq, codes = np.unique(pairs, return_inverse=True)
    l_u, r_u = left.uniques.tolist(), right.uniques.tolist()
    names = np.array([f"{l_u[p // width]}_{r_u[p % width]}" for p in uniq.tolist()], dtype=object)
    rows = left.rows[left_idx]
    if not np.all(rows[1:] >= rows[:-1]):
        sort = np.argsort(rows, kind="stable")
        rows, codes = rows[sort], codes.reshape(-1)[sort]
    return Tokens(rows, codes.astype(np.int64).reshape(-1), names, single=left.single and right.single)


def token_features(tokens: Tokens, vocab: dict[str, int], n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, feature indices) of the tokens in ``vocab``, each (row, feature) once."""
    lookup = np.array([vocab.get(u, -1) for u in tokens.uniques.tolist()], dtype=np.int64)
    feats = lookup[tokens.codes] if len(lookup) else np.zeros(0, dtype=np.int64)
    keep = feats >= 0
    rows, feats = tokens.rows[keep], feats[keep]
    if not tokens.single and len(rows):
        keys = np.unique(rows * np.int64(max(n_features, 1)) + feats)
        rows, feats = keys // max(n_features, 1), keys % max(n_features, 1)
    return rows, feats


def present_tokens(tokens: Tokens) -> list[str]:
    """The distinct tokens that occur in some row, sorted."""
    used = np.unique(tokens.codes)
    return sorted(set(tokens.uniques[used].tolist())) if len(used) else []
