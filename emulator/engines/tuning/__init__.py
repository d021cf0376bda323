"""Pure hyperparameter search for SageMaker automatic model tuning (no HTTP, no S3).

Facade:
    parse_ranges(ParameterRanges) -> SearchSpace   (raises SpaceError with AWS's wording)
    make_strategy(name, space, seed, min_resource=, max_resource=) -> Strategy
        strategy.ask() -> Proposal(key, values, resource) | None
        strategy.tell(key, score)      # higher is better; None = no objective
        strategy.tell_prior(values, score)   # warm start
    MedianStoppingRule(maximize): observe(job, value) -> stop?, end(job)   # early stopping Auto
"""

from __future__ import annotations

from .early_stopping import MedianStoppingRule
from .space import CategoricalRange, NumericRange, SearchSpace, SpaceError, parse_ranges
from .strategies import (BayesianSearch, GridSearch, HyperbandSearch, Proposal, RandomSearch, Strategy,
                         make_strategy)

__all__ = [
    "BayesianSearch", "CategoricalRange", "GridSearch", "HyperbandSearch", "MedianStoppingRule", "NumericRange", "Proposal",
    "RandomSearch", "SearchSpace", "SpaceError", "Strategy", "make_strategy", "parse_ranges",
]
