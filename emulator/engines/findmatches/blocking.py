"""Blocking: the candidate pairs worth comparing, found without comparing all pairs.

Every record's tokens are its per-column whole values and character 3-grams, weighted
by inverse document frequency and scaled by the record's norm (a TF-IDF vector). Only
*rare* tokens are kept (shared by 2 to ``MAX_TOKEN_RECORDS`` records): a record queries
its ``query_tokens`` rarest tokens held by at most ``df_cap`` records, and the records
sharing them are scored by the weights of what they share (a sparse matrix product over
the rare tokens, in row chunks). Each record keeps its ``neighbours`` best. Every token
used is held by a bounded number of records, so the work grows linearly with the number
of records. ``AccuracyCostTradeoff`` widens (towards 1) or narrows (towards 0) the search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .columns import ColumnSpec, as_text

MIN_QUERY_TOKENS = 3  # a record whose tokens are all common still queries its rarest ones
MAX_TOKEN_RECORDS = 1000  # tokens held by more records are never followed (bounded blocks)
CHUNK_ROWS = 4096
HISTOGRAM_BINS = 256
REACH_PER_DF_CAP = 5
MAX_BLOCKING_CHARS = 64  # longer values are blocked on their first 64 characters


@dataclass(frozen=True)
class BlockingSettings:
    """How wide the candidate search is."""

    neighbours: int
    query_tokens: int
    df_cap: int
    reach: int  # at most this many records reached through one record's query tokens (summed)

    @classmethod
    def from_tradeoff(cls, accuracy_cost_tradeoff: float) -> "BlockingSettings":
        """0 -> 3 neighbours found through each record's 8 rarest tokens; 0.5 -> 11 through 24;
        1 -> 19 through 40 (tokens shared by more than ``df_cap`` records are not followed, nor
        more tokens once ``reach`` records are reached)."""
        t = min(1.0, max(0.0, float(accuracy_cost_tradeoff)))
        df_cap = int(round(50 + 150 * t))
        return cls(neighbours=int(round(3 + 16 * t)), query_tokens=int(round(8 + 32 * t)), df_cap=df_cap,
                   reach=REACH_PER_DF_CAP * df_cap)


@dataclass
class RareTokens:
    """The rare tokens of every record: ``vectors`` (rows x tokens, TF-IDF weights scaled by
    each record's norm over *all* its tokens) and ``df`` (records holding each token)."""

    vectors: sp.csr_matrix
    df: np.ndarray


def rare_tokens(records: pd.DataFrame, columns: list[ColumnSpec]) -> RareTokens:
    """The whole values and 3-grams of every column (one vocabulary for all columns, so a
    value moved to another column still matches); common tokens count in the norms only."""
    n = len(records)
    texts = [as_text(records[spec.name]) for spec in columns]
    if not texts:
        return RareTokens(sp.csr_matrix((n, 0), dtype=np.float32), np.zeros(0, dtype=np.int64))
    blocks, dfs, norm2 = [], [], np.zeros(n)
    for binary in (whole_values(texts), char_trigrams(texts)):
        if binary.shape[1] == 0:
            continue
        df = np.bincount(binary.indices, minlength=binary.shape[1])
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        norm2 += np.bincount(np.repeat(np.arange(n), np.diff(binary.indptr)), weights=idf[binary.indices] ** 2,
                             minlength=n)
        keep = np.flatnonzero((df >= 2) & (df <= MAX_TOKEN_RECORDS))
        block = binary[:, keep]
        block.data = idf[keep][block.indices].astype(np.float32)
        blocks.append(block)
        dfs.append(df[keep])
    if not blocks:
        return RareTokens(sp.csr_matrix((n, 0), dtype=np.float32), np.zeros(0, dtype=np.int64))
    vectors = sp.hstack(blocks, format="csr", dtype=np.float32)
    scale = np.where(norm2 > 0, 1.0 / np.sqrt(np.maximum(norm2, 1e-30)), 0.0).astype(np.float32)
    vectors = sp.diags(scale) @ vectors
    return RareTokens(vectors.tocsr(), np.concatenate(dfs))


def whole_values(texts: list[np.ndarray]) -> sp.csr_matrix:
    """Binary (rows x distinct non-empty values) matrix over the columns ``texts``."""
    n = texts[0].size
    codes, uniques = pd.factorize(np.concatenate(texts))
    present = np.concatenate(texts) != ""
    rows = np.tile(np.arange(n), len(texts))[present]
    codes, ncodes = _compact(codes[present], len(uniques))
    return _binary(rows, codes, n, ncodes)


def char_trigrams(texts: list[np.ndarray], max_chars: int = MAX_BLOCKING_CHARS) -> sp.csr_matrix:
    """Binary (rows x distinct 3-grams) matrix of the UTF-8 bytes of ``" value "`` (first
    ``max_chars`` characters) over the columns ``texts``, computed by pyarrow and numpy."""
    n = texts[0].size
    rows_all, codes_all = [], []
    for text in texts:
        offsets, data_bytes = _padded_utf8(text, max_chars)
        grams = np.where(text != "", np.maximum(np.diff(offsets) - 2, 0), 0)
        total = int(grams.sum())
        if total == 0:
            continue
        data = data_bytes[offsets[0]:offsets[-1]].astype(np.uint32)
        # position of each 3-gram: its row's start plus its rank within the row
        position = np.repeat(offsets[:-1] - offsets[0] - (np.cumsum(grams) - grams), grams) + np.arange(total)
        rows_all.append(np.repeat(np.arange(n), grams))
        codes_all.append((data[position] << 16) | (data[position + 1] << 8) | data[position + 2])
    if not rows_all:
        return sp.csr_matrix((n, 0), dtype=np.float32)
    rows = np.concatenate(rows_all)
    codes, ncodes = _compact(np.concatenate(codes_all), 1 << 24)
    return _binary(rows, codes, n, ncodes)


def _padded_utf8(text: np.ndarray, max_chars: int) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of ``" " + value[:max_chars] + " "`` for every value, concatenated, and the
    row offsets into them (``n + 1`` int64). pyarrow's string kernels when the ``parquet``
    extra is installed; the same bytes from Python's codec otherwise."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        encoded = [(" " + value[:max_chars] + " ").encode("utf-8") for value in text.tolist()]
        lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return offsets, np.frombuffer(b"".join(encoded), dtype=np.uint8)
    arr = pa.array(text.tolist(), type=pa.large_string())
    space, empty = pa.scalar(" ", pa.large_string()), pa.scalar("", pa.large_string())
    arr = pc.binary_join_element_wise(space, pc.utf8_slice_codeunits(arr, 0, max_chars), space, empty)
    _, offsets_buffer, data_buffer = arr.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[arr.offset:arr.offset + text.size + 1]
    return offsets, np.frombuffer(data_buffer, dtype=np.uint8)


def _binary(rows: np.ndarray, codes: np.ndarray, n: int, ncodes: int) -> sp.csr_matrix:
    """Binary rows x codes matrix (an entry repeated in a row counts once)."""
    binary = sp.coo_matrix((np.ones(rows.size, dtype=np.float32), (rows, codes)), shape=(n, ncodes)).tocsr()
    binary.sum_duplicates()
    binary.data[:] = 1.0
    return binary


def _compact(codes: np.ndarray, space: int) -> tuple[np.ndarray, int]:
    """Codes renumbered 0..k-1 over the values that occur (a lookup table over ``space``)."""
    if codes.size == 0:
        return codes.astype(np.int32), 0
    if codes.size < space // 16:  # few codes: sorting them is cheaper than a table over the space
        uniques, inverse = np.unique(codes, return_inverse=True)
        return inverse.astype(np.int32), int(uniques.size)
    present = np.zeros(space, dtype=bool)
    present[codes] = True
    ids = np.cumsum(present, dtype=np.int32) - 1
    return ids[codes], int(ids[-1]) + 1


def _indptr(rows: np.ndarray, n: int) -> np.ndarray:
    """CSR row pointers of entries given in row order."""
    return np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)


def _query_matrix(tokens: RareTokens, settings: BlockingSettings) -> sp.csr_matrix:
    """The rows restricted to their ``query_tokens`` rarest tokens held by at most ``df_cap``
    records (a record with only more common tokens keeps its rarest few)."""
    vectors = tokens.vectors
    rows = np.repeat(np.arange(vectors.shape[0]), np.diff(vectors.indptr))
    token_df = tokens.df[vectors.indices]
    order = np.argsort(rows * (MAX_TOKEN_RECORDS + 1) + token_df, kind="stable")  # by row, rarest first
    rows, cols, data, token_df = rows[order], vectors.indices[order], vectors.data[order], token_df[order]
    start = np.repeat(vectors.indptr[:-1], np.diff(vectors.indptr))
    rank = np.arange(rows.size) - start
    reach = np.cumsum(token_df) - np.repeat(np.concatenate([[0], np.cumsum(token_df)])[vectors.indptr[:-1]],
                                            np.diff(vectors.indptr))  # records reached through the rarer tokens
    keep = ((token_df <= settings.df_cap) & (rank < settings.query_tokens) & (reach <= settings.reach))
    keep |= rank < MIN_QUERY_TOKENS
    return sp.csr_matrix((data[keep], cols[keep], _indptr(rows[keep], vectors.shape[0])), shape=vectors.shape)


def candidate_pairs(tokens: RareTokens, settings: BlockingSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique candidate pairs (i < j) of row positions, each record with up to ``neighbours``
    partners, and each pair's score (the weight of the rare tokens it shares, 0..1)."""
    n = tokens.vectors.shape[0]
    if n < 2 or tokens.vectors.nnz == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    query = _query_matrix(tokens, settings)
    postings = tokens.vectors.T.tocsr()
    found_i, found_j, found_s = [], [], []
    for start in range(0, n, CHUNK_ROWS):
        scores = query[start:start + CHUNK_ROWS] @ postings
        rows = np.repeat(np.arange(scores.shape[0], dtype=np.int64) + start, np.diff(scores.indptr))
        cols = scores.indices.astype(np.int64)
        other = cols != rows
        rows, cols, score = _top_per_row(rows[other], cols[other], scores.data[other], settings.neighbours)
        found_i.append(rows)
        found_j.append(cols)
        found_s.append(score)
    a, b, s = np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_s)
    codes = np.minimum(a, b) * n + np.maximum(a, b)
    order = np.lexsort((-s, codes))  # each pair once, with its best score
    codes, s = codes[order], s[order]
    first = np.concatenate([[True], codes[1:] != codes[:-1]]) if codes.size else np.zeros(0, dtype=bool)
    codes, s = codes[first], s[first]
    return codes // n, codes % n, np.clip(s.astype(np.float64), 0.0, 1.0)


def _top_per_row(rows: np.ndarray, cols: np.ndarray, score: np.ndarray, k: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best-scoring entries of each row (entries given grouped by row, ascending).

    A per-row histogram of the scores (256 bins up to the row's best) finds each row's cut-off
    bin first, so only the few entries at or above it are sorted."""
    if rows.size == 0:
        return rows, cols, score
    local = rows - rows[0]
    nrows = int(local[-1]) + 1
    starts = np.flatnonzero(np.concatenate([[True], local[1:] != local[:-1]]))
    best = np.zeros(nrows)
    best[local[starts]] = np.maximum.reduceat(score, starts)
    bins = np.minimum((score / np.maximum(best[local], 1e-30) * HISTOGRAM_BINS).astype(np.int64), HISTOGRAM_BINS - 1)
    histogram = np.bincount(local * HISTOGRAM_BINS + bins, minlength=nrows * HISTOGRAM_BINS).reshape(nrows, HISTOGRAM_BINS)
    at_or_above = np.cumsum(histogram[:, ::-1], axis=1)[:, ::-1]  # entries in bins >= j
    cut = np.maximum((at_or_above >= k).sum(axis=1) - 1, 0)
    idx = np.flatnonzero(bins >= cut[local])
    r, s = local[idx], score[idx]
    order = np.argsort(r + (1.0 - np.clip(s / np.maximum(best[r], 1e-30), 0.0, 1.0)) * 0.5, kind="stable")
    r = r[order]
    first = np.flatnonzero(np.concatenate([[True], r[1:] != r[:-1]]))
    rank = np.arange(r.size) - np.repeat(first, np.diff(np.append(first, r.size)))
    chosen = np.sort(idx[order[rank < k]])
    return rows[chosen], cols[chosen], score[chosen]

