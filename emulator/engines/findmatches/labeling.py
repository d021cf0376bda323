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
SEED_SAMPLE = 100_000  # candidate pairs considered as seeds (a random sample of larger tables)


def generate_labeling_sets(records: pd.DataFrame, params: FindMatchesParams, schema: dict[str, str] | None = None,
                           labels: pd.DataFrame | None = None, model: FindMatchesModel | None = None,
                           n_sets: int = DEFAULT_SETS, set_size: int = DEFAULT_SET_SIZE, seed: int = 0,
                           set_id_prefix: str = "set", table: MatchTable | None = None) -> pd.DataFrame:
    """The labeling file: ``labeling_set_id``, ``label`` (empty), then the records' columns.

    Seed pairs come from at most ``SEED_SAMPLE`` candidate pairs, so the work after blocking
    does not grow with the table; each seed's neighbours are looked up among all candidates."""
    columns = model.columns if model is not None else column_specs(records, params.primary_key, schema)
    table = table or MatchTable(records, columns, params.primary_key)
    n = len(table)
    settings = params.blocking
    left, right, block_score = table.candidate_pairs(settings)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(left.size, SEED_SAMPLE, replace=False)) if left.size > SEED_SAMPLE else np.arange(left.size)

    def certainty(which: np.ndarray) -> np.ndarray:  # higher = better seed / neighbour
        if model is None:
            return block_score[which]
        return -np.abs(model.logits(table.candidate_features(settings, which)) - model.threshold_logit)

    if model is not None:
        priority = sample[np.argsort(-certainty(sample), kind="stable")]
    else:
        priority = sample[_spread(block_score[sample], rng)]
    labelled = clean_labels(labels, params.primary_key)[params.primary_key] if labels is not None and len(labels) else []
    used = pd.Index(table.keys).isin(list(labelled)) if len(labelled) else np.zeros(n, dtype=bool)
    used = np.array(used, dtype=bool)
    sets: list[np.ndarray] = []
    for p in priority.tolist():
        if len(sets) >= n_sets:
            break
        a, b = int(left[p]), int(right[p])
        if used[a] or used[b]:
            continue
        members = [a, b]
        used[a] = used[b] = True
        for r in _interleave(_neighbours(left, right, a, certainty), _neighbours(left, right, b, certainty)):
            if len(members) >= set_size:
                break
            if not used[r]:
                members.append(r)
                used[r] = True
        sets.append(np.array(members))
    if not sets:  # too few candidate pairs: random small sets
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


def _neighbours(left: np.ndarray, right: np.ndarray, row: int, certainty) -> list[int]:  # noqa: ANN001
    """The candidate partners of ``row``, best first."""
    which = np.flatnonzero((left == row) | (right == row))
    partners = np.where(left[which] == row, right[which], left[which])
    return partners[np.argsort(-certainty(which), kind="stable")].tolist()


def _spread(score: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pair order for a first round: alternately the most similar remaining pair and a pair
    drawn from the rest of the similarity range, so sets hold both matches and near misses."""
    by_score = np.argsort(-score, kind="stable")
    others = rng.permutation(by_score[by_score.size // 20:])
    both = np.full((2, by_score.size), -1, dtype=np.int64)
    both[0], both[1, :others.size] = by_score, others
    order = both.T.ravel()
    return order[order >= 0]


def _interleave(first: list[int], second: list[int]) -> list[int]:
    out = []
    for i in range(max(len(first), len(second))):
        out += first[i:i + 1] + second[i:i + 1]
    return out
