"""FindMatches: the record-matching engine behind Glue's ML transforms (pure: no HTTP, no S3).

Fit on labels, then match a whole table into groups::

    params = FindMatchesParams("id", precision_recall_tradeoff=0.5)
    sets = generate_labeling_sets(records, params)                 # a labeling file to fill in
    model = FindMatchesModel.fit(records, labels, params)          # labels: labeling_set_id, label, id
    matched = model.match(records)                                 # + match_id, match_confidence_score
    FindMatchesModel.from_json(model.to_json())                    # safe to store and reload
    metrics = evaluate(records, labels, params)                    # FindMatchesMetrics

Modules: ``columns`` (column kinds), ``blocking`` (candidate pairs), ``features`` (pair
similarities), ``labels`` (label semantics), ``model`` (classifier and matching),
``clustering`` (pairs -> groups), ``labeling`` (labeling sets), ``evaluation``.
"""

from __future__ import annotations

from .evaluation import evaluate
from .labeling import generate_labeling_sets
from .columns import column_specs
from .labels import LABEL, LABELING_SET_ID, LabelError, clean_labels, labelled_pairs
from .model import FindMatchesModel, FindMatchesParams, MatchTable

__all__ = ["FindMatchesModel", "FindMatchesParams", "MatchTable", "LabelError", "evaluate",
           "generate_labeling_sets", "clean_labels", "labelled_pairs", "column_specs", "LABEL", "LABELING_SET_ID"]
