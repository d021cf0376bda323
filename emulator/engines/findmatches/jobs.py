"""The FindMatches task-run steps that run in a worker process (:mod:`emulator.workers`).

Module-level functions of plain, picklable data (DataFrames, the model's JSON-able dict,
parameters), so Glue's task-run threads hand the heavy work to a child process.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from .columns import column_specs
from .evaluation import evaluate
from .labeling import generate_labeling_sets
from .labels import labelled_pairs
from .model import FindMatchesModel, FindMatchesParams, MatchTable


def labeling_sets(records: pd.DataFrame, params: FindMatchesParams, schema: dict[str, str], labels: pd.DataFrame,
                  model: dict[str, Any] | None, seed: int, set_id_prefix: str) -> pd.DataFrame:
    """A labeling file: uncertain pairs of the trained model once there is one."""
    fitted = dataclasses.replace(FindMatchesModel.from_dict(model), params=params) if model else None
    return generate_labeling_sets(records, params, schema=schema, labels=labels if len(labels) else None,
                                  model=fitted, seed=seed, set_id_prefix=set_id_prefix)


def fit_labels(records: pd.DataFrame, schema: dict[str, str], params: FindMatchesParams, labels: pd.DataFrame
               ) -> tuple[dict[str, Any] | None, int, int]:
    """(model dict or None, labelled pairs, matching pairs): a model only when the labels hold
    both a matching and a non-matching pair. Raises ``LabelError`` for unusable labels."""
    table = MatchTable(records, column_specs(records, params.primary_key, schema), params.primary_key)
    pairs = labelled_pairs(labels, table.keys, params.primary_key)
    model = None
    if len(pairs) and pairs.match.min() != pairs.match.max():
        model = FindMatchesModel.fit_pairs(table, pairs, params).to_dict()
    return model, int(pairs.match.size), int(pairs.match.sum())


def evaluation(records: pd.DataFrame, labels: pd.DataFrame, params: FindMatchesParams,
               schema: dict[str, str]) -> dict[str, Any]:
    """``FindMatchesMetrics`` on held-out labels."""
    return evaluate(records, labels, params, schema=schema)
