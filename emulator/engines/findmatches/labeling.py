"""Labeling-set generation: small sets of similar records for a person to label.

Each set is built around a seed pair of candidate records plus their nearest
neighbours, so it mixes likely matches and likely non-matches. Before any labels
exist the seed pairs are spread over the range of record similarity; once a model
is trained they are the pairs it is least sure about (closest to its threshold),
which teach it the most (active learning). Records already labelled are not offered again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .columns import column_specs
from .labels import LABEL, LABELING_SET_ID, clean_labels
from .model import FindMatchesModel, FindMatchesParams, MatchTable

DEFAULT_SETS = 10
DEFAULT_SET_SIZE = 10


def generate_labeling_sets(records: pd.DataFrame, params: FindMatchesParams, schema: dict[str, str] | None = None,
                           labels: pd.DataFrame | None = None, model: FindMatchesModel | None = None,
                           n_sets: int = DEFAULT_SETS, set_size: int = DEFAULT_SET_SIZE, seed: int = 0,
                           set_id_prefix: str = "set", table: MatchTable | None = None) -> pd.DataFrame:
    """The labeling file: ``labeling_set_id``, ``label`` (empty), then the records' columns."""
    columns = model.columns if model is not None else column_specs(records, params.primary_key, schema)
    table = table or MatchTable(records, columns, params.primary_key)
    n = len(table)
    left, right, features = table.candidate_features(params.blocking)
    if model is not None:
        score = model.logits(features)
        priority = np.argsort(np.abs(score - model.threshold_logit), kind="stable")
    else:
        from .blocking import pair_cosines

        score = pair_cosines(table.vectors, left, right)
        priority = _spread(score, np.random.default_rng(seed))
    labelled = set(clean_labels(labels, params.primary_key)[params.primary_key]) if labels is not None and len(labels) else set()
    used = np.array([k in labelled for k in table.keys.tolist()], dtype=bool) if labelled else np.zeros(n, dtype=bool)
    neighbours = _Neighbours(left, right, score if model is None else -np.abs(score - model.threshold_logit))
    sets: list[np.ndarray] = []
    for p in priority.tolist():
        if len(sets) >= n_sets:
            break
        a, b = int(left[p]), int(right[p])
        if used[a] or used[b]:
            continue
        members = [a, b]
        used[a] = used[b] = True
        for r in _interleave(neighbours.get(a, []), neighbours.get(b, [])):
            if len(members) >= set_size:
                break
            if not used[r]:
                members.append(r)
                used[r] = True
        sets.append(np.array(members))
    if not sets:  # too few candidate pairs: random small sets
        rng = np.random.default_rng(seed)
        free = rng.permutation(np.flatnonzero(~used))
        sets = [free[i:i + set_size] for i in range(0, min(free.size, n_sets * set_size), set_size)]
        sets = [s for s in sets if s.size >= 2]
    rows, ids = [], []
    for number, members in enumerate(sets):
        rows.append(members)
        ids += [f"{set_id_prefix}-{number:03d}"] * members.size
    picked = table.records.iloc[np.concatenate(rows)] if rows else table.records.iloc[:0]
    out = picked.reset_index(drop=True)
    out.insert(0, LABEL, "")
    out.insert(0, LABELING_SET_ID, ids)
    return out


def _spread(score: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pair order for a first round: alternately the most similar remaining pair and a pair
    drawn from the rest of the similarity range, so sets hold both matches and near misses."""
    by_score = np.argsort(-score, kind="stable")
    others = rng.permutation(by_score[by_score.size // 20:])
    return np.array(_interleave(by_score.tolist(), others.tolist()), dtype=np.int64)


class _Neighbours:
    """Each row's candidate partners, best first (looked up on demand)."""

    def __init__(self, left: np.ndarray, right: np.ndarray, score: np.ndarray) -> None:
        a = np.concatenate([left, right])
        b = np.concatenate([right, left])
        s = np.concatenate([score, score])
        order = np.lexsort((-s, a))
        self._rows, self._partners = a[order], b[order]

    def get(self, row: int, default: list[int]) -> list[int]:
        start, end = np.searchsorted(self._rows, [row, row + 1])
        return self._partners[start:end].tolist() if end > start else default


def _interleave(first: list[int], second: list[int]) -> list[int]:
    out = []
    for i in range(max(len(first), len(second))):
        out += first[i:i + 1] + second[i:i + 1]
    return out
