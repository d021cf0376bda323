"""The one place where ``awsglueml`` calls the emulator's FindMatches engine.

``fit_and_match`` trains the transform's matcher on its labels and input table, then
groups the records of a frame. It is deterministic, so it reproduces the model the
emulator trained for the transform. The engine is ``emulator.engines.findmatches``
("fit on labels, then match a whole table into groups"); this is the only function to
change if its API changes.
"""

from __future__ import annotations

from typing import Any


class EngineUnavailable(RuntimeError):
    """The emulator's FindMatches engine is not installed alongside awsglueml."""


def engine_module() -> Any:
    """``emulator.engines.findmatches``, or EngineUnavailable."""
    try:
        from emulator.engines import findmatches
    except ImportError as exc:
        raise EngineUnavailable("FindMatches needs the emulator's matching engine (emulator.engines.findmatches), "
                                "which is not installed here.") from exc
    return findmatches


def fit_and_match(training_records: Any, labels: Any, records: Any, find_matches_parameters: dict[str, Any],
                  schema: dict[str, str] | None = None) -> Any:
    """``records`` (pandas) with ``match_id`` and ``match_confidence_score`` added.

    ``training_records``: the transform's input table; ``labels``: its labels
    (``labeling_set_id``, ``label`` and the primary key column); the parameters are
    Glue's ``FindMatchesParameters``; ``schema``: column name -> Glue type."""
    engine = engine_module()
    params = engine.FindMatchesParams.from_glue(find_matches_parameters)
    model = engine.FindMatchesModel.fit(training_records, labels, params, schema=schema)
    return model.match(records)
