"""Matched pairs -> groups: connected components of the confident pairs, each split by
average linkage (so one weak link does not chain two groups together), with must-link
and cannot-link constraints from provided labels. A component too large for the dense
linkage is first cut by its own stronger links (a higher threshold), so the linkage
only ever runs on pieces of at most ``MAX_LINKAGE_ROWS`` records."""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

MAX_LINKAGE_ROWS = 200


@lru_cache(maxsize=256)
def upper_pairs(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(size, 1)``, cached: groups are small and their sizes repeat."""
    i, j = np.triu_indices(size, k=1)
    i.setflags(write=False)
    j.setflags(write=False)
    return i, j


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected-component id of each of ``n`` rows over the edges (left[i], right[i])."""
    graph = sp.coo_matrix((np.ones(left.size), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def _initial_groups(size: int, must: list[tuple[int, int]]) -> np.ndarray:
    parent = list(range(size))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in must:
        parent[find(a)] = find(b)
    roots = np.array([find(i) for i in range(size)])
    _, group = np.unique(roots, return_inverse=True)
    return group


def split_component(prob: np.ndarray, cannot: np.ndarray, must: list[tuple[int, int]], threshold: float) -> np.ndarray:
    """Average-linkage clusters of one component (``prob``: s x s pair probabilities, 0 where
    unknown; ``cannot``: s x s bool). Clusters merge while their average probability is at
    least ``threshold`` and no cannot-link pair would join; must-linked rows start together."""
    size = prob.shape[0]
    group = _initial_groups(size, must)
    g = int(group.max()) + 1
    member = np.zeros((g, size))
    member[group, np.arange(size)] = 1.0
    counts = member.sum(axis=1)
    avg = member @ prob @ member.T / np.outer(counts, counts)
    blocked = (member @ cannot.astype(float) @ member.T) > 0
    active = np.ones(g, dtype=bool)
    np.fill_diagonal(blocked, True)
    while True:
        masked = np.where(blocked | ~active[:, None] | ~active[None, :], -1.0, avg)
        flat = int(np.argmax(masked))
        a, b = divmod(flat, g)
        if masked[a, b] < threshold:
            break
        merged = (counts[a] * avg[a] + counts[b] * avg[b]) / (counts[a] + counts[b])
        avg[a, :] = merged
        avg[:, a] = merged
        blocked[a, :] |= blocked[b, :]
        blocked[:, a] = blocked[a, :]
        blocked[a, a] = True
        counts[a] += counts[b]
        active[b] = False
        group[group == b] = a
    _, group = np.unique(group, return_inverse=True)
    return group


def split_edges(size: int, left: np.ndarray, right: np.ndarray, prob: np.ndarray, must: np.ndarray,
                cannot: np.ndarray, threshold: float, cut: float | None = None) -> np.ndarray:
    """Cluster labels (0..) of ``size`` rows from their scored pairs (local row numbers, each
    pair once) and must-link / cannot-link pairs (k x 2 arrays), as :func:`split_component`;
    more than ``MAX_LINKAGE_ROWS`` rows are first cut into the components of their stronger
    pairs (``cut``: halfway from the threshold to 1, rising until the pieces are small)."""
    if size <= MAX_LINKAGE_ROWS:
        matrix = np.zeros((size, size))
        matrix[left, right] = matrix[right, left] = prob
        blocked = np.zeros((size, size), dtype=bool)
        blocked[cannot[:, 0], cannot[:, 1]] = blocked[cannot[:, 1], cannot[:, 0]] = True
        return split_component(matrix, blocked, [tuple(p) for p in must.tolist()], threshold)
    cut = (1.0 + (threshold if cut is None else cut)) / 2.0
    strong = prob >= cut
    pieces = components(size, np.concatenate([left[strong], must[:, 0]]), np.concatenate([right[strong], must[:, 1]]))
    if cut > 1.0 - 1e-9:  # nothing left to cut by: the certain links decide
        return pieces
    out = np.zeros(size, dtype=np.int64)
    next_label = 0
    order = np.argsort(pieces, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(pieces))])
    for p in range(bounds.size - 1):
        rows = order[bounds[p]:bounds[p + 1]]  # ascending
        if rows.size == 1:
            sub = np.zeros(1, dtype=np.int64)
        else:
            e = (pieces[left] == p) & (pieces[right] == p)
            m = (pieces[must[:, 0]] == p) & (pieces[must[:, 1]] == p)
            c = (pieces[cannot[:, 0]] == p) & (pieces[cannot[:, 1]] == p)
            sub = split_edges(rows.size, np.searchsorted(rows, left[e]), np.searchsorted(rows, right[e]), prob[e],
                              np.searchsorted(rows, must[m]).reshape(-1, 2),
                              np.searchsorted(rows, cannot[c]).reshape(-1, 2), threshold,
                              cut if rows.size == size else None)
        out[rows] = sub + next_label
        next_label += int(sub.max()) + 1
    return out


def group_ids(keys: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each row's match_id: :func:`stable_id` of its group's lowest primary key (numerically
    when every key of the group is a number, else as text), computed for all groups at once."""
    n = keys.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    numbers = pd.to_numeric(pd.Series(keys, dtype=object), errors="coerce").to_numpy(dtype=float)
    text_rank = np.empty(n, dtype=np.float64)
    text_rank[np.argsort(keys.astype(str), kind="stable")] = np.arange(n)  # code-point order, as UTF-8 bytes sort
    all_numbers = np.bincount(group, weights=np.isnan(numbers), minlength=n) == 0
    rank = np.where(all_numbers[group], numbers, text_rank)
    order = np.lexsort((np.arange(n), rank, group))
    first = order[np.concatenate([[True], group[order][1:] != group[order][:-1]])]
    ids = np.array([stable_id(k) for k in keys[first].tolist()], dtype=np.int64)
    id_of_group = np.zeros(n, dtype=np.int64)
    id_of_group[group[first]] = ids
    return id_of_group[group]


def stable_id(key: str) -> int:
    """A non-negative int64 derived from a group's lowest primary key (same group, same id)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") & (2**63 - 1)


def lowest_key(keys: list[str]) -> str:
    """The lowest primary key: numerically when every key is a number, else as text."""
    try:
        return min(keys, key=float)
    except ValueError:
        return min(keys)
