"""FindMatchesModel: fit on labelled records, then match a whole table into groups.

The fitted model is plain data (JSON-able dict: column kinds, scaler, logistic
regression weights, threshold, provided labels), never a pickle, so another process
(a Glue ETL job's ``FindMatches.apply``) loads it with :meth:`FindMatchesModel.from_dict`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from .blocking import BlockingSettings, candidate_pairs, pair_cosines, record_vectors
from .clustering import components, lowest_key, split_component, stable_id, upper_pairs
from .columns import ColumnSpec, column_specs, key_text
from .features import PreparedColumns, column_of_feature, feature_names, pair_features
from .labels import LabelError, LabelledPairs, clean_labels, labelled_pairs

FORMAT_VERSION = 1
MAX_COMPLETED_COMPONENT = 50  # components up to this size get every internal pair scored
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
    """One table prepared for matching: keys, TF-IDF vectors, per-column values."""

    def __init__(self, records: pd.DataFrame, columns: list[ColumnSpec], primary_key: str) -> None:
        absent = [c.name for c in columns if c.name not in records.columns]
        if primary_key not in records.columns:
            absent.insert(0, primary_key)
        if absent:
            raise LabelError(f"The records lack the column(s) {', '.join(absent)} the transform was trained on")
        self.records = records.reset_index(drop=True)
        self.columns = columns
        self.keys = key_text(self.records[primary_key])
        self.vectors = record_vectors(self.records, columns)
        self.prepared = PreparedColumns.of(self.records, columns)
        self._candidates: dict[BlockingSettings, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.records)

    def features(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Feature matrix of the row pairs."""
        return pair_features(self.prepared, self.columns, left, right, pair_cosines(self.vectors, left, right))

    def candidates(self, settings: BlockingSettings) -> tuple[np.ndarray, np.ndarray]:
        """Candidate pairs (i < j) of row positions (computed once per setting)."""
        left, right, _ = self.candidate_features(settings)
        return left, right

    def candidate_features(self, settings: BlockingSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate pairs and their feature matrix, computed once per setting and reused by
        labeling rounds, fitting and matching on the same table."""
        if settings not in self._candidates:
            left, right = candidate_pairs(self.vectors, settings)
            self._candidates[settings] = (left, right, self.features(left, right))
        return self._candidates[settings]


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
        left, right, x = table.candidate_features(self.params.blocking)
        prob = _sigmoid(self.logits(x))
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
            extra_l, extra_r = _internal_pairs(comp, small)
            extra = _sigmoid(self.pair_logits(table, extra_l, extra_r))
            known.add(extra_l, extra_r, extra, keep_existing=True)
        group = np.arange(n)
        same = comp[known.left] == comp[known.right]
        pl, pr, pp = known.left[same], known.right[same], known.prob[same]
        order = np.argsort(comp[pl], kind="stable")
        pl, pr, pp = pl[order], pr[order], pp[order]
        starts = np.searchsorted(comp[pl], np.arange(sizes.size), side="left")
        ends = np.searchsorted(comp[pl], np.arange(sizes.size), side="right")
        must_set = set(zip(must[0].tolist(), must[1].tolist()))
        cannot_set = set(zip(cannot[0].tolist(), cannot[1].tolist()))
        members_of = _members(comp, sizes)
        for c in np.flatnonzero(sizes >= 2):
            rows = members_of[c]
            if sizes[c] == 2:
                group[rows] = rows[0]
                continue
            local = {r: i for i, r in enumerate(rows.tolist())}
            s = rows.size
            matrix = np.zeros((s, s))
            blocked = np.zeros((s, s), dtype=bool)
            li = np.array([local[r] for r in pl[starts[c]:ends[c]].tolist()], dtype=int)
            ri = np.array([local[r] for r in pr[starts[c]:ends[c]].tolist()], dtype=int)
            matrix[li, ri] = matrix[ri, li] = pp[starts[c]:ends[c]]
            local_must = [(local[a], local[b]) for a, b in must_set if a in local and b in local]
            for a, b in cannot_set:
                if a in local and b in local:
                    blocked[local[a], local[b]] = blocked[local[b], local[a]] = True
            sub = split_component(matrix, blocked, local_must, threshold)
            for g in np.unique(sub):
                members = rows[sub == g]
                group[members] = members[0]
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
        same = group[known.left] == group[known.right]
        total = np.bincount(group[known.left[same]], weights=known.prob[same], minlength=n)
        count = np.bincount(group[known.left[same]], minlength=n)
        best_other = np.zeros(n)
        np.maximum.at(best_other, known.left[~same], known.prob[~same])
        np.maximum.at(best_other, known.right[~same], known.prob[~same])
        sizes = np.bincount(group, minlength=n)
        confidence = np.where(count[group] > 0, total[group] / np.maximum(count[group], 1), 1.0 - best_other)
        confidence = np.where(sizes[group] == 1, 1.0 - best_other, confidence)
        ids = np.zeros(n, dtype=np.int64)
        keys = table.keys
        for g, members in _members(group, np.bincount(group, minlength=n)).items():
            ids[members] = stable_id(lowest_key([str(k) for k in keys[members]]))
        return ids, np.round(np.clip(confidence, 0.0, 1.0), 6)

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


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def _members(labels: np.ndarray, sizes: np.ndarray) -> dict[int, np.ndarray]:
    """Rows of each label with at least one row, in row order."""
    order = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return {int(g): order[bounds[g]:bounds[g + 1]] for g in np.flatnonzero(sizes)}


def _internal_pairs(comp: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    members = _members(comp, np.bincount(comp))
    left, right = [], []
    for c in chosen.tolist():
        rows = members[c]
        i, j = upper_pairs(rows.size)
        left.append(rows[i])
        right.append(rows[j])
    return np.concatenate(left), np.concatenate(right)


__all__ = ["FindMatchesModel", "FindMatchesParams", "MatchTable", "LabelError", "clean_labels"]
