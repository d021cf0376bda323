"""Matched pairs -> groups: connected components of the confident pairs, each split by
average linkage (so one weak link does not chain two groups together), with must-link
and cannot-link constraints from provided labels."""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components


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


def stable_id(key: str) -> int:
    """A non-negative int64 derived from a group's lowest primary key (same group, same id)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") & (2**63 - 1)


def lowest_key(keys: list[str]) -> str:
    """The lowest primary key: numerically when every key is a number, else as text."""
    try:
        return min(keys, key=float)
    except ValueError:
        return min(keys)
