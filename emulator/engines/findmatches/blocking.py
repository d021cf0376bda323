"""Blocking: the candidate pairs worth comparing, found without comparing all pairs.

Every record becomes a sparse TF-IDF vector of per-column character 3-grams and whole
values. A record is paired with its ``k`` most similar records among those sharing at
least one *rare* token (document frequency at most ``df_cap``), found through an
inverted index (a sparse matrix product over the rare tokens only), so the work grows
with the number of records times ``k`` and ``df_cap``, not with its square.
``AccuracyCostTradeoff`` widens (towards 1) or narrows (towards 0) ``k`` and ``df_cap``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from .columns import ColumnSpec, as_text

MIN_QUERY_TOKENS = 3  # a record whose tokens are all common still queries its rarest ones
CHUNK_ROWS = 4096
MAX_BLOCKING_CHARS = 64  # longer values are blocked on their first 64 characters
RESCORED = 3  # shortlist of RESCORED x neighbours per record, re-ranked by full cosine


@dataclass(frozen=True)
class BlockingSettings:
    """How wide the candidate search is."""

    neighbours: int
    query_tokens: int
    df_cap: int

    @classmethod
    def from_tradeoff(cls, accuracy_cost_tradeoff: float) -> "BlockingSettings":
        """0 -> 2 neighbours found through each record's 8 rarest tokens; 0.5 -> 10 through 24;
        1 -> 18 through 40 (tokens shared by more than ``df_cap`` records are not followed)."""
        t = min(1.0, max(0.0, float(accuracy_cost_tradeoff)))
        return cls(neighbours=int(round(2 + 16 * t)), query_tokens=int(round(8 + 32 * t)),
                   df_cap=int(round(50 + 150 * t)))


def record_vectors(records: pd.DataFrame, columns: list[ColumnSpec]) -> sp.csr_matrix:
    """L2-normalised TF-IDF rows over every column's 3-grams and whole values."""
    n = len(records)
    blocks = []
    for spec in columns:
        text = as_text(records[spec.name])
        present = text != ""
        if not present.any():
            continue
        codes, _ = pd.factorize(text)
        codes = np.where(present, codes, -1)
        keep = codes >= 0
        ncodes = int(codes.max()) + 1
        blocks.append(sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32), (np.flatnonzero(keep), codes[keep])),
                                    shape=(n, ncodes)))
        blocks.append(char_trigrams(text))
    if not blocks:
        return sp.csr_matrix((n, 1), dtype=np.float32)
    binary = sp.hstack(blocks, format="csr", dtype=np.float32)
    binary.data[:] = 1.0
    df = np.asarray(binary.sum(axis=0)).ravel()
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    weighted = binary @ sp.diags(idf)
    return normalize(weighted.tocsr(), norm="l2", copy=False)


def char_trigrams(text: np.ndarray, max_chars: int = MAX_BLOCKING_CHARS, chunk: int = 100_000) -> sp.csr_matrix:
    """Binary (rows x distinct 3-grams) matrix of the UTF-8 bytes of ``" value "`` (first
    ``max_chars`` characters), computed with array operations (in row chunks) instead of a
    Python loop per value."""
    n = text.size
    keys = [_trigram_keys(text[start:start + chunk], max_chars) + (start << 24) for start in range(0, n, chunk)]
    keys_all = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    rows, grams = keys_all >> 24, keys_all & 0xFFFFFF
    columns, vocabulary = pd.factorize(grams)
    return sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, columns)), shape=(n, vocabulary.size))


def _trigram_keys(text: np.ndarray, max_chars: int) -> np.ndarray:
    """Unique ``row << 24 | trigram`` codes of a block of values (rows relative to the block)."""
    n = text.size
    padded = np.char.add(np.char.add(" ", np.array([t[:max_chars] for t in text.tolist()], dtype=str)), " ")
    encoded = np.char.encode(padded, "utf-8")
    width = encoded.dtype.itemsize
    if n == 0 or width < 3:
        return np.zeros(0, dtype=np.int64)
    raw = np.frombuffer(encoded.tobytes(), dtype=np.uint8).reshape(n, width).astype(np.uint32)
    codes = (raw[:, :-2] << 16) | (raw[:, 1:-1] << 8) | raw[:, 2:]
    lengths = np.char.str_len(encoded)
    valid = np.arange(width - 2)[None, :] < (lengths - 2)[:, None]
    rows = np.nonzero(valid)[0].astype(np.int64)
    return np.unique(rows << 24 | codes[valid].astype(np.int64))


def _query_matrix(vectors: sp.csr_matrix, df: np.ndarray, settings: BlockingSettings) -> sp.csr_matrix:
    """The rows restricted to their ``query_tokens`` rarest tokens shared with another record
    and held by at most ``df_cap`` records (a record with only common tokens keeps its rarest few)."""
    coo = vectors.tocoo()
    token_df = df[coo.col]
    shared = token_df > 1
    coo = sp.coo_matrix((coo.data[shared], (coo.row[shared], coo.col[shared])), shape=coo.shape)
    token_df = token_df[shared]
    order = np.lexsort((token_df, coo.row))
    rows, cols, data, token_df = coo.row[order], coo.col[order], coo.data[order], token_df[order]
    first = np.searchsorted(rows, rows, side="left")
    rank = np.arange(rows.size) - first
    keep = ((token_df <= settings.df_cap) & (rank < settings.query_tokens)) | (rank < MIN_QUERY_TOKENS)
    return sp.csr_matrix((data[keep], (rows[keep], cols[keep])), shape=vectors.shape)


def candidate_pairs(vectors: sp.csr_matrix, settings: BlockingSettings) -> tuple[np.ndarray, np.ndarray]:
    """Unique candidate pairs (i < j) of row positions, each record with up to ``neighbours`` partners."""
    n = vectors.shape[0]
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    binary = vectors.copy()
    binary.data[:] = 1.0
    df = np.asarray(binary.sum(axis=0)).ravel()
    query = _query_matrix(vectors, df, settings)
    postings = vectors.T.tocsr()
    found_i, found_j = [], []
    k = settings.neighbours
    for start in range(0, n, CHUNK_ROWS):
        scores = (query[start:start + CHUNK_ROWS] @ postings).tocoo()
        rows = scores.row.astype(np.int64) + start
        cols = scores.col.astype(np.int64)
        other = cols != rows
        rows, cols = _top_per_row(rows[other], cols[other], scores.data[other], RESCORED * k)
        if rows.size == 0:
            continue
        # re-rank the shortlist by the full TF-IDF cosine (the rare tokens found it, all tokens judge it)
        rows, cols = _top_per_row(rows, cols, pair_cosines(vectors, rows, cols), k)
        found_i.append(rows)
        found_j.append(cols)
    if not found_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    a, b = np.concatenate(found_i), np.concatenate(found_j)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    codes = np.unique(lo * n + hi)
    return codes // n, codes % n


def _top_per_row(rows: np.ndarray, cols: np.ndarray, score: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best-scoring (row, col) entries of each row (scores in 0..1)."""
    order = np.argsort(rows + (1.0 - np.clip(score, 0.0, 1.0)) * 0.999, kind="stable")  # by row, best first
    rows, cols = rows[order], cols[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, rows, side="left")
    keep = rank < k
    return rows[keep], cols[keep]


def pair_cosines(vectors: sp.csr_matrix, left: np.ndarray, right: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """TF-IDF cosine similarity of each (left, right) pair of rows."""
    out = np.zeros(left.size, dtype=np.float64)
    for start in range(0, left.size, chunk):
        a = vectors[left[start:start + chunk]]
        b = vectors[right[start:start + chunk]]
        out[start:start + chunk] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return np.clip(out, 0.0, 1.0)
