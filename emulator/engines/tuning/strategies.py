"""Search strategies of SageMaker automatic model tuning, as ask/tell optimisers.

``ask()`` proposes the next training job (hyperparameter strings, plus a resource
such as epochs for Hyperband) or None when the strategy has nothing left to try;
``tell(key, score)`` reports its objective (higher is better: the caller negates a
``Minimize`` objective; None when the job gave no objective). Every strategy is
reproducible from its seed when results arrive in the same order.

* Random: independent uniform draws in the scaled space (without repeats when the
  space is finite).
* Grid: every combination of categorical values, in order.
* Bayesian: a Gaussian process (scikit-learn, Matern 5/2 + white noise, normalised
  targets) fitted on the results so far, next point = the expected-improvement
  maximiser among random and local candidates; running jobs count as their
  predicted mean ("kriging believer") so parallel proposals spread out. The first
  few points are random.
* Hyperband: asynchronous successive halving (ASHA, the asynchronous form of
  Hyperband): new configurations start with ``MinResource``; whenever a slot is free
  a configuration in the top 1/eta of its rung is promoted to the next rung
  (eta times the resource, up to ``MaxResource``), so weak configurations stop early.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
from threadpoolctl import threadpool_limits

from .space import SearchSpace


@dataclass(frozen=True)
class Proposal:
    """One training job to run."""

    key: int
    values: dict[str, str]
    resource: int | None = None


@dataclass
class _Told:
    values: dict[str, str]
    score: float | None
    resource: int | None = None


class Strategy:
    """Base: keeps proposals and results."""

    def __init__(self, space: SearchSpace, seed: int) -> None:
        self.space = space
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self._keys: Iterator[int] = itertools.count()
        self.pending: dict[int, Proposal] = {}
        self.results: dict[int, _Told] = {}
        self.priors: list[_Told] = []

    def ask(self) -> Proposal | None:
        values_resource = self._next()
        if values_resource is None:
            return None
        values, resource = values_resource
        proposal = Proposal(next(self._keys), values, resource)
        self.pending[proposal.key] = proposal
        return proposal

    def tell(self, key: int, score: float | None) -> None:
        proposal = self.pending.pop(key)
        self.results[key] = _Told(proposal.values, None if score is None or not math.isfinite(score) else score,
                                  proposal.resource)

    def tell_prior(self, values: dict[str, str], score: float | None) -> None:
        """A result from earlier tuning jobs (warm start)."""
        if score is not None and math.isfinite(score) and self.space.encode(values) is not None:
            self.priors.append(_Told(self.space.canonical(values), score))

    def _seen(self) -> set[tuple[tuple[str, str], ...]]:
        told = [t.values for t in self.results.values()] + [p.values for p in self.pending.values()]
        return {tuple(sorted(v.items())) for v in told + [t.values for t in self.priors]}

    def _random(self, avoid_repeats: bool = True) -> dict[str, str] | None:
        seen = self._seen() if avoid_repeats else set()
        for _ in range(200):
            values = self.space.decode(self.space.sample_unit(self.rng, 1)[0])
            if tuple(sorted(values.items())) not in seen:
                return values
        if self.space.categorical_only or _finite_and_exhausted(self.space, seen):
            return None
        return self.space.decode(self.space.sample_unit(self.rng, 1)[0])

    def _next(self) -> tuple[dict[str, str], int | None] | None:
        raise NotImplementedError


def _finite_and_exhausted(space: SearchSpace, seen: set) -> bool:
    size = 1
    for r in space.ranges:
        if hasattr(r, "values"):
            size *= len(r.values)  # type: ignore[union-attr]
        elif r.integer:  # type: ignore[union-attr]
            size *= int(r.high - r.low) + 1  # type: ignore[union-attr]
        else:
            return False
    return len(seen) >= size


class RandomSearch(Strategy):
    def _next(self) -> tuple[dict[str, str], int | None] | None:
        values = self._random()
        return None if values is None else (values, None)


class GridSearch(Strategy):
    def __init__(self, space: SearchSpace, seed: int) -> None:
        super().__init__(space, seed)
        self._grid = space.grid()

    def _next(self) -> tuple[dict[str, str], int | None] | None:
        values = next(self._grid, None)
        return None if values is None else (values, None)


class BayesianSearch(Strategy):
    """Gaussian-process regression + expected improvement (scikit-learn)."""

    def __init__(self, space: SearchSpace, seed: int, initial_random: int = 3, candidates: int = 2000) -> None:
        super().__init__(space, seed)
        self.initial_random = initial_random
        self.candidates = candidates

    def _next(self) -> tuple[dict[str, str], int | None] | None:
        scored = [t for t in list(self.priors) + list(self.results.values()) if t.score is not None]
        if len(scored) < self.initial_random or self.space.dimensions == 0:
            values = self._random()
            return None if values is None else (values, None)
        with threadpool_limits(1):  # tiny matrices: BLAS threads only cost (10x on a busy 2-core machine)
            return self._model_based(scored)

    def _model_based(self, scored: list[_Told]) -> tuple[dict[str, str], int | None] | None:
        X = np.array([self.space.encode(t.values) for t in scored])
        y = np.array([t.score for t in scored], dtype=float)
        gp = _fit_gp(X, y, self.seed)
        pending = [self.space.encode(p.values) for p in self.pending.values()]
        pending = [p for p in pending if p is not None]
        if pending:  # kriging believer: running jobs return their predicted mean
            P = np.array(pending)
            X2, y2 = np.vstack([X, P]), np.concatenate([y, gp.predict(P)])
            gp = _fit_gp(X2, y2, self.seed, kernel=gp.kernel_)
        candidates = self._candidates(X, y)
        mean, std = gp.predict(candidates, return_std=True)
        improvement = _expected_improvement(mean, std, float(y.max()))
        seen = self._seen()
        for index in np.argsort(-improvement):
            values = self.space.decode(candidates[index])
            if tuple(sorted(values.items())) not in seen:
                return values, None
        values = self._random()
        return None if values is None else (values, None)

    def _candidates(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        broad = self.space.sample_unit(self.rng, self.candidates)
        best = X[np.argsort(-y)[:3]]
        local = np.repeat(best, 100, axis=0)
        numeric = self._numeric_mask()
        noise = self.rng.normal(0.0, 0.05, size=local.shape) * numeric
        local = np.clip(local + noise, 0.0, 1.0)
        return np.vstack([broad, local])

    def _numeric_mask(self) -> np.ndarray:
        mask: list[float] = []
        for r in self.space.ranges:
            mask.extend([0.0] * len(r.values) if hasattr(r, "values") else [1.0])  # type: ignore[union-attr]
        return np.array(mask)


def _fit_gp(X: np.ndarray, y: np.ndarray, seed: int, kernel=None):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    optimise = kernel is None
    if kernel is None:
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(length_scale=np.full(X.shape[1], 0.3),
                                                           length_scale_bounds=(1e-2, 1e2), nu=2.5) \
            + WhiteKernel(1e-3, (1e-6, 1e-1))
    gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=seed,
                                  n_restarts_optimizer=1 if optimise else 0,
                                  optimizer="fmin_l_bfgs_b" if optimise else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        gp.fit(X, y)
    return gp


def _expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.01) -> np.ndarray:
    from scipy.stats import norm

    std = np.maximum(std, 1e-12)
    gain = mean - best - xi * max(abs(best), 1e-9)
    z = gain / std
    return gain * norm.cdf(z) + std * norm.pdf(z)


@dataclass
class _Rung:
    resource: int
    scores: dict[int, float] = field(default_factory=dict)  # configuration id -> score
    promoted: set[int] = field(default_factory=set)


class HyperbandSearch(Strategy):
    """Asynchronous successive halving over rungs MinResource * eta^k (capped at MaxResource)."""

    def __init__(self, space: SearchSpace, seed: int, min_resource: int, max_resource: int, eta: int = 3) -> None:
        super().__init__(space, seed)
        self.eta = eta
        resources = []
        r = min_resource
        while r < max_resource:
            resources.append(r)
            r *= eta
        resources.append(max_resource)
        self.rungs = [_Rung(res) for res in resources]
        self.configs: list[dict[str, str]] = []
        self._proposal_config: dict[int, tuple[int, int]] = {}  # key -> (config id, rung)

    def _next(self) -> tuple[dict[str, str], int | None] | None:
        for level in range(len(self.rungs) - 2, -1, -1):
            rung = self.rungs[level]
            ranked = sorted(rung.scores.items(), key=lambda item: -item[1])
            for config, _ in ranked[: len(ranked) // self.eta]:
                if config not in rung.promoted:
                    rung.promoted.add(config)
                    self._staged = (config, level + 1)
                    return self.configs[config], self.rungs[level + 1].resource
        values = self._random(avoid_repeats=False)
        if values is None:
            return None
        self.configs.append(values)
        self._staged = (len(self.configs) - 1, 0)
        return values, self.rungs[0].resource

    def ask(self) -> Proposal | None:
        proposal = super().ask()
        if proposal is not None:
            self._proposal_config[proposal.key] = self._staged
        return proposal

    def tell(self, key: int, score: float | None) -> None:
        super().tell(key, score)
        config, level = self._proposal_config.pop(key)
        if score is not None and math.isfinite(score):
            self.rungs[level].scores[config] = score


def make_strategy(strategy: str, space: SearchSpace, seed: int, *, min_resource: int | None = None,
                  max_resource: int | None = None) -> Strategy:
    """The strategy named as in ``HyperParameterTuningJobConfig.Strategy``."""
    if strategy == "Bayesian":
        return BayesianSearch(space, seed)
    if strategy == "Random":
        return RandomSearch(space, seed)
    if strategy == "Grid":
        return GridSearch(space, seed)
    if strategy == "Hyperband":
        if not min_resource or not max_resource:
            raise ValueError("Hyperband needs MinResource and MaxResource")
        return HyperbandSearch(space, seed, min_resource, max_resource)
    raise ValueError(f"Unknown strategy {strategy}")
