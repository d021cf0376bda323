"""FindMatchesModel: fit on labelled records, then match a whole table into groups.

The fitted model is plain data (JSON-able dict: column kinds, scaler, logistic
regression weights, threshold, provided labels), never a pickle, so another process
(a Glue ETL job's ``FindMatches.apply``) loads it with :meth:`FindMatchesModel.from_dict`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import ThreadpoolController

from .blocking import BlockingSettings, RareTokens, candidate_pairs, rare_tokens
from .clustering import components, group_ids, split_edges, upper_pairs
from .columns import ColumnSpec, column_specs, key_text
from .features import PreparedColumns, column_of_feature, feature_names, pair_features
from .labels import LabelError, LabelledPairs, clean_labels, labelled_pairs

FORMAT_VERSION = 2  # 2: per-column features only (1 had a whole-record cosine)
MAX_COMPLETED_COMPONENT = 50  # components up to this size get every internal pair scored
FEATURE_CACHE_PAIRS = 500_000  # candidate features kept for reuse up to this many pairs
FEATURE_CHUNK = 200_000  # pairs whose features are computed at once
LOGIT_SHIFT = 6.0  # PrecisionRecallTradeoff 0..1 moves the decision logit by -3..+3


@dataclass(frozen=True)
class FindMatchesParams:
    """The FindMatchesParameters of a transform."""

    primary_key: str
    precision_recall_tradeoff: float = 0.5
    accuracy_cost_tradeoff: float = 0.5
    enforce_provided_labels: bool = False

    @classmethod
    def from_glue(cls, parameters: dict[str, Any]) -> "FindMatchesParams":
        """From Glue's ``FindMatchesParameters`` (absent trade-offs are 0.5)."""
        def bounded(name: str) -> float:
            value = parameters.get(name)
            return 0.5 if value is None else float(value)

        return cls(str(parameters["PrimaryKeyColumnName"]), bounded("PrecisionRecallTradeoff"),
                   bounded("AccuracyCostTradeoff"), bool(parameters.get("EnforceProvidedLabels") or False))

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def threshold_logit(self) -> float:
        return LOGIT_SHIFT * (self.precision_recall_tradeoff - 0.5)

    @property
    def blocking(self) -> BlockingSettings:
        return BlockingSettings.from_tradeoff(self.accuracy_cost_tradeoff)


class MatchTable:
    """One table prepared for matching: keys, per-column values, and (on first use) the rare
    tokens and candidate pairs of each blocking setting."""

    def __init__(self, records: pd.DataFrame, columns: list[ColumnSpec], primary_key: str) -> None:
        absent = [c.name for c in columns if c.name not in records.columns]
        if primary_key not in records.columns:
            absent.insert(0, primary_key)
        if absent:
            raise LabelError(f"The records lack the column(s) {', '.join(absent)} the transform was trained on")
        self.records = records.reset_index(drop=True)
        self.columns = columns
        self.keys = key_text(self.records[primary_key])
        self.prepared = PreparedColumns.of(self.records, columns)
        self._tokens: RareTokens | None = None
        self._candidates: dict[BlockingSettings, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._features: dict[BlockingSettings, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.records)

    def features(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Feature matrix of the row pairs."""
        return pair_features(self.prepared, self.columns, left, right)

    @property
    def tokens(self) -> RareTokens:
        if self._tokens is None:
            self._tokens = rare_tokens(self.records, self.columns)
        return self._tokens

    def candidate_pairs(self, settings: BlockingSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate pairs (i < j) of row positions and their blocking scores (once per setting)."""
        if settings not in self._candidates:
            self._candidates[settings] = candidate_pairs(self.tokens, settings)
        return self._candidates[settings]

    def candidates(self, settings: BlockingSettings) -> tuple[np.ndarray, np.ndarray]:
        """Candidate pairs (i < j) of row positions."""
        left, right, _ = self.candidate_pairs(settings)
        return left, right

    def candidate_features(self, settings: BlockingSettings, which: np.ndarray | None = None) -> np.ndarray:
        """Features of the candidate pairs (``which``: their positions; default all). A table with
        up to ``FEATURE_CACHE_PAIRS`` candidates keeps them for the next labeling round or match."""
        left, right, _ = self.candidate_pairs(settings)
        if left.size <= FEATURE_CACHE_PAIRS:
            if settings not in self._features:
                self._features[settings] = self.features(left, right)
            cached = self._features[settings]
            return cached if which is None else cached[which]
        which = np.arange(left.size) if which is None else which
        return self.features(left[which], right[which])

    def candidate_logits(self, settings: BlockingSettings, model: "FindMatchesModel") -> np.ndarray:
        """The model's match log-odds of every candidate pair, computed in chunks of pairs
        (only one chunk's features are held at a time)."""
        left, _, _ = self.candidate_pairs(settings)
        if left.size <= FEATURE_CACHE_PAIRS:
            return model.logits(self.candidate_features(settings))
        out = np.empty(left.size)
        for start in range(0, left.size, FEATURE_CHUNK):
            which = np.arange(start, min(start + FEATURE_CHUNK, left.size))
            out[which] = model.logits(self.candidate_features(settings, which))
        return out


@dataclass
class FindMatchesModel:
    """A fitted matcher (see the module docstring)."""

    params: FindMatchesParams
    columns: list[ColumnSpec]
    feature_names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    links: list[tuple[str, str, int]] = field(default_factory=list)  # (key, key, 1 match / 0 not) from labels

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, records: pd.DataFrame, labels: pd.DataFrame, params: FindMatchesParams,
            schema: dict[str, str] | None = None, table: MatchTable | None = None) -> "FindMatchesModel":
        """Train on the labelled pairs of ``labels`` (rows of ``labeling_set_id``, ``label``, key).

        Raises LabelError when the labels name unknown records or lack matches or non-matches."""
        columns = table.columns if table is not None else column_specs(records, params.primary_key, schema)
        table = table or MatchTable(records, columns, params.primary_key)
        pairs = labelled_pairs(labels, table.keys, params.primary_key)
        return cls.fit_pairs(table, pairs, params)

    @classmethod
    def fit_pairs(cls, table: MatchTable, pairs: LabelledPairs, params: FindMatchesParams) -> "FindMatchesModel":
        """Train on already resolved labelled pairs of ``table``."""
        if len(pairs) == 0 or pairs.match.min() == pairs.match.max():
            raise LabelError("The labels need at least one matching pair (same label within a labeling set) and "
                             "one non-matching pair (different labels within a labeling set) to train the transform")
        x = table.features(pairs.left, pairs.right)
        scaler = StandardScaler().fit(x)
        scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
        classifier = LogisticRegression(class_weight="balanced", C=1.0, max_iter=2000)
        with _blas().limit(limits=1):  # a small problem: BLAS threads only contend (10x slower on a busy machine)
            classifier.fit((x - scaler.mean_) / scale, pairs.match)
        links = [(str(table.keys[a]), str(table.keys[b]), int(m)) for a, b, m in zip(pairs.left, pairs.right, pairs.match)]
        return cls(params, table.columns, feature_names(table.columns), scaler.mean_.copy(), scale.copy(),
                   classifier.coef_[0].copy(), float(classifier.intercept_[0]), links)

    # ------------------------------------------------------------------ scoring
    def logits(self, x: np.ndarray) -> np.ndarray:
        """Match log-odds of feature rows."""
        if x.shape[0] == 0:
            return np.zeros(0)
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def pair_logits(self, table: MatchTable, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return self.logits(table.features(left, right))

    @property
    def threshold_logit(self) -> float:
        return self.params.threshold_logit

    def column_importances(self) -> list[dict[str, Any]]:
        """Each column's share of the (standardised) weight magnitude, highest first."""
        weight: dict[str, float] = {}
        for name, c in zip(self.feature_names, self.coef):
            column = column_of_feature(name)
            if column is not None:
                weight[column] = weight.get(column, 0.0) + abs(float(c))
        total = sum(weight.values()) or 1.0
        ranked = sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))
        return [{"ColumnName": k, "Importance": round(v / total, 6)} for k, v in ranked]

    # ------------------------------------------------------------------ matching
    def match(self, records: pd.DataFrame, table: MatchTable | None = None) -> pd.DataFrame:
        """``records`` with ``match_id`` (int64, shared by a group) and ``match_confidence_score`` (0..1)."""
        table = table or MatchTable(records, self.columns, self.params.primary_key)
        group, confidence = self.groups(table)
        out = table.records.copy()
        out["match_id"] = group
        out["match_confidence_score"] = confidence
        return out

    def groups(self, table: MatchTable) -> tuple[np.ndarray, np.ndarray]:
        """(match_id, confidence) of every row of ``table``."""
        n = len(table)
        threshold = 1.0 / (1.0 + math.exp(-self.threshold_logit))
        settings = self.params.blocking
        left, right, _ = table.candidate_pairs(settings)
        prob = _sigmoid(table.candidate_logits(settings, self))
        must, cannot = self._constraints(table)
        known = _PairProbabilities(n)
        known.add(left, right, prob)
        known.add(*must, np.ones(must[0].size))
        known.add(*cannot, np.zeros(cannot[0].size))
        edge = known.prob >= threshold
        comp = components(n, known.left[edge], known.right[edge])
        sizes = np.bincount(comp)
        # score every internal pair of small multi-record components
        small = np.flatnonzero((sizes >= 3) & (sizes <= MAX_COMPLETED_COMPONENT))
        if small.size:
            extra_l, extra_r = _internal_pairs(comp, sizes, small)
            extra = np.concatenate([_sigmoid(self.pair_logits(table, extra_l[i:i + FEATURE_CHUNK], extra_r[i:i + FEATURE_CHUNK]))
                                    for i in range(0, extra_l.size, FEATURE_CHUNK)])
            known.add(extra_l, extra_r, extra, keep_existing=True)
        # two-record components are groups; larger ones are split by average linkage
        first_row = np.full(sizes.size, n)
        np.minimum.at(first_row, comp, np.arange(n))
        kl, kr, kp = known.left, known.right, known.prob
        inside = comp[kl] == comp[kr]
        # a component whose every pair is a match is one group (as average linkage would make it)
        strong = np.bincount(comp[kl[inside & (kp >= threshold)]], minlength=sizes.size)
        whole = (strong == sizes * (sizes - 1) // 2) | (sizes == 2)
        whole[comp[cannot[0]][comp[cannot[0]] == comp[cannot[1]]]] = False
        group = np.where(whole[comp], first_row[comp], np.arange(n))
        large = (sizes >= 3) & ~whole
        if large.any():
            inside &= large[comp[kl]]
            pairs = _by_component(comp, kl[inside], kr[inside], kp[inside])
            must_in = _by_component(comp, *must, np.ones(must[0].size))
            cannot_in = _by_component(comp, *cannot, np.zeros(cannot[0].size))
            order = np.argsort(comp, kind="stable")
            bounds = np.concatenate([[0], np.cumsum(sizes)])
            no_pairs = np.zeros((0, 2), dtype=np.int64)
            for c in np.flatnonzero(large).tolist():
                rows = order[bounds[c]:bounds[c + 1]]  # ascending
                pl, pr, pp = pairs.get(c, (no_pairs[:, 0], no_pairs[:, 1], np.zeros(0)))
                local = lambda x: np.searchsorted(rows, x)  # noqa: E731
                ml, mr, _ = must_in.get(c, (no_pairs[:, 0], no_pairs[:, 1], None))
                cl, cr, _ = cannot_in.get(c, (no_pairs[:, 0], no_pairs[:, 1], None))
                sub = split_edges(rows.size, local(pl), local(pr), pp, np.column_stack([local(ml), local(mr)]),
                                  np.column_stack([local(cl), local(cr)]), threshold)
                first = np.full(int(sub.max()) + 1, n)
                np.minimum.at(first, sub, rows)
                group[rows] = first[sub]
        return self._ids_and_confidence(table, group, known)

    def _constraints(self, table: MatchTable) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        if not self.params.enforce_provided_labels or not self.links:
            return empty, empty
        position: dict[str, int] = {}
        for i, k in enumerate(table.keys.tolist()):
            position.setdefault(k, i)
        must_l, must_r, cannot_l, cannot_r = [], [], [], []
        for a, b, m in self.links:
            if a in position and b in position and position[a] != position[b]:
                lo, hi = sorted((position[a], position[b]))
                (must_l if m else cannot_l).append(lo)
                (must_r if m else cannot_r).append(hi)
        as_arrays = lambda a, b: (np.array(a, dtype=np.int64), np.array(b, dtype=np.int64))  # noqa: E731
        return as_arrays(must_l, must_r), as_arrays(cannot_l, cannot_r)

    @staticmethod
    def _ids_and_confidence(table: MatchTable, group: np.ndarray, known: "_PairProbabilities") -> tuple[np.ndarray, np.ndarray]:
        n = len(table)
        kl, kr, kp = known.left, known.right, known.prob
        same = group[kl] == group[kr]
        total = np.bincount(group[kl[same]], weights=kp[same], minlength=n)
        count = np.bincount(group[kl[same]], minlength=n)
        best_other = np.zeros(n)
        np.maximum.at(best_other, kl[~same], kp[~same])
        np.maximum.at(best_other, kr[~same], kp[~same])
        sizes = np.bincount(group, minlength=n)
        confidence = np.where(count[group] > 0, total[group] / np.maximum(count[group], 1), 1.0 - best_other)
        confidence = np.where(sizes[group] == 1, 1.0 - best_other, confidence)
        return group_ids(table.keys, group), np.round(np.clip(confidence, 0.0, 1.0), 6)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (see :meth:`from_dict`)."""
        return {
            "format": "findmatches-model", "version": FORMAT_VERSION, "params": self.params.to_dict(),
            "columns": [c.to_dict() for c in self.columns], "feature_names": list(self.feature_names),
            "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
            "intercept": self.intercept, "links": [list(link) for link in self.links],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FindMatchesModel":
        if data.get("format") != "findmatches-model" or data.get("version") != FORMAT_VERSION:
            raise ValueError("Not a FindMatches model of a supported version")
        return cls(FindMatchesParams(**data["params"]), [ColumnSpec.from_dict(c) for c in data["columns"]],
                   [str(n) for n in data["feature_names"]], np.asarray(data["mean"], dtype=float),
                   np.asarray(data["scale"], dtype=float), np.asarray(data["coef"], dtype=float),
                   float(data["intercept"]), [(str(a), str(b), int(m)) for a, b, m in data["links"]])

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "FindMatchesModel":
        return cls.from_dict(json.loads(text))


class _PairProbabilities:
    """Unique (i < j) pairs with a probability; later additions override earlier ones."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._codes = np.zeros(0, dtype=np.int64)
        self.prob = np.zeros(0)

    def add(self, left: np.ndarray, right: np.ndarray, prob: np.ndarray, keep_existing: bool = False) -> None:
        if left.size == 0:
            return
        lo, hi = np.minimum(left, right).astype(np.int64), np.maximum(left, right).astype(np.int64)
        codes = np.concatenate([self._codes, lo * self.n + hi] if not keep_existing else [lo * self.n + hi, self._codes])
        probs = np.concatenate([self.prob, prob] if not keep_existing else [prob, self.prob])
        # keep the last occurrence of each code
        rev_codes, rev_index = np.unique(codes[::-1], return_index=True)
        self._codes = rev_codes
        self.prob = probs[::-1][rev_index]

    @property
    def left(self) -> np.ndarray:
        return self._codes // self.n

    @property
    def right(self) -> np.ndarray:
        return self._codes % self.n


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    """The process's BLAS / OpenMP thread pools (looked up once: the lookup scans loaded libraries)."""
    return ThreadpoolController()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def _by_component(comp: np.ndarray, left: np.ndarray, right: np.ndarray, values: np.ndarray
                  ) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The pairs inside one component, per component."""
    left, right = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    inside = comp[left] == comp[right]
    left, right, values = left[inside], right[inside], np.asarray(values)[inside]
    order = np.argsort(comp[left], kind="stable")
    left, right, values = left[order], right[order], values[order]
    keys = comp[left]
    cuts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]])) if keys.size else np.zeros(0, dtype=int)
    ends = np.concatenate([cuts[1:], [keys.size]])
    return {int(keys[s]): (left[s:e], right[s:e], values[s:e]) for s, e in zip(cuts.tolist(), ends.tolist())}


def _internal_pairs(comp: np.ndarray, sizes: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i < j) of rows inside each chosen component."""
    order = np.argsort(comp, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    left, right = [], []
    for c in chosen.tolist():
        rows = order[bounds[c]:bounds[c + 1]]
        i, j = upper_pairs(rows.size)
        left.append(rows[i])
        right.append(rows[j])
    return np.concatenate(left), np.concatenate(right)


__all__ = ["FindMatchesModel", "FindMatchesParams", "MatchTable", "LabelError", "clean_labels"]
