"""The trained Amazon ML model: prediction structures and safe (non-pickle) persistence.

``to_bytes`` writes a numpy ``.npz`` archive (loaded with ``allow_pickle=False``)
holding the weight arrays plus one uint8 array with UTF-8 JSON metadata (schema,
recipe, fitted pipeline state, classes, training parameters).
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .datasets import coerce_frame, coerce_record
from .errors import DataProcessingError
from .recipes import FeaturePipeline, parse_recipe
from .schema import DataSchema, schema_from_dict

FORMAT_VERSION = 1
DESIGN_CELLS = 20_000_000
"""Frames of more cells (rows x features) are predicted from the matrix in parts
(:meth:`FeaturePipeline.design`), as training does."""


@dataclass
class FramePredictions:
    """Vectorised predictions: ``labels`` (str, classification), ``scores``
    (BINARY: P(y=1) per row; MULTICLASS: n x k probabilities) or ``values``
    (REGRESSION)."""

    labels: list[str] | None = None
    scores: np.ndarray | None = None
    values: np.ndarray | None = None


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class TrainedModel:
    """A linear model trained by SGD plus the recipe pipeline feeding it."""

    model_type: str
    schema: DataSchema
    recipe: str
    pipeline: FeaturePipeline
    weights: np.ndarray  # (n_features, k)
    intercept: np.ndarray  # (k,)
    classes: list[str] = field(default_factory=list)  # MULTICLASS labels, column order
    training_parameters: dict[str, str] = field(default_factory=dict)
    _details: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._details = {"PredictiveModelType": self.model_type, "Algorithm": "SGD"}
        self._features = self.schema.feature_attributes()

    # -- prediction
    def _raw_scores(self, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
        return vals @ self.weights[idx] + self.intercept

    def predict_record(self, record: Mapping[str, str], score_threshold: float = 0.5) -> dict[str, Any]:
        """Amazon ML ``Prediction`` structure for one Predict ``Record`` (str -> str)."""
        typed = coerce_record(record, self.schema)
        idx, vals = self.pipeline.record_features(typed)
        z = self._raw_scores(idx, vals)
        details = dict(self._details)
        if self.model_type == "BINARY":
            p = float(_sigmoid(z)[0])
            label = "1" if p >= score_threshold else "0"
            return {"predictedLabel": label, "predictedScores": {label: p}, "details": details}
        if self.model_type == "MULTICLASS":
            probs = _softmax(z[None, :])[0]
            best = int(np.argmax(probs))
            return {"predictedLabel": self.classes[best],
                    "predictedScores": {c: float(p) for c, p in zip(self.classes, probs)},
                    "details": details}
        return {"predictedValue": float(z[0]), "details": details}

    def predict_frame(self, frame: pd.DataFrame, score_threshold: float = 0.5,
                      source_schema: DataSchema | None = None) -> FramePredictions:
        """Predictions for every row of a typed frame (coerced to the training types
        first when ``source_schema`` differs from the training schema)."""
        if source_schema is not None:
            frame = coerce_frame(frame, source_schema, self.schema)
        if len(frame) * self.pipeline.n_features > DESIGN_CELLS:  # not the whole matrix at once
            z = self.pipeline.design(frame).dot(self.weights) + self.intercept
        else:
            z = np.asarray(self.pipeline.transform(frame) @ self.weights) + self.intercept
        if self.model_type == "BINARY":
            p = _sigmoid(z[:, 0])
            return FramePredictions(labels=np.where(p >= score_threshold, "1", "0").tolist(), scores=p)
        if self.model_type == "MULTICLASS":
            probs = _softmax(z)
            return FramePredictions(labels=[self.classes[i] for i in probs.argmax(axis=1)], scores=probs)
        return FramePredictions(values=z[:, 0])

    # -- persistence
    def to_bytes(self) -> bytes:
        """Safe serialisation (npz + JSON, no pickle)."""
        meta = {"format": FORMAT_VERSION, "model_type": self.model_type, "schema": self.schema.to_dict(),
                "recipe": self.recipe, "pipeline": self.pipeline.to_dict(), "classes": self.classes,
                "training_parameters": self.training_parameters}
        buf = io.BytesIO()
        np.savez_compressed(buf, weights=self.weights.astype(np.float64), intercept=self.intercept.astype(np.float64),
                            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        return buf.getvalue()

    @property
    def size_in_bytes(self) -> int:
        """Length of the safe serialisation."""
        if not hasattr(self, "_size"):
            self._size = len(self.to_bytes())
        return self._size

    @classmethod
    def from_bytes(cls, data: bytes) -> "TrainedModel":
        """Inverse of :meth:`to_bytes` (never unpickles)."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                weights = npz["weights"]
                intercept = npz["intercept"]
                meta = json.loads(npz["meta"].tobytes().decode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - any corruption
            raise DataProcessingError(f"Stored ML model is corrupt or unreadable: {exc}") from None
        schema = schema_from_dict(meta["schema"])
        recipe = parse_recipe(meta["recipe"], schema)
        pipeline = FeaturePipeline.from_dict(recipe, meta["pipeline"])
        return cls(model_type=meta["model_type"], schema=schema, recipe=meta["recipe"], pipeline=pipeline,
                   weights=weights, intercept=intercept, classes=list(meta["classes"]),
                   training_parameters=dict(meta["training_parameters"]))
