"""The Amazon ML job steps that run in a worker process (:mod:`emulator.workers`).

Module-level functions of plain, picklable data (our own ``Dataset`` / ``TrainedModel``
objects, bytes, strings), so the service's job threads hand them to a child process.
"""
from __future__ import annotations

from typing import Any

from .batch import batch_prediction_csv
from .datasets import Dataset, load_dataset
from .metrics import evaluate_with_insights
from .model import TrainedModel
from .schema import DataSchema
from .sgd import train_model
from .statistics import compute_statistics


def load_data_source(files: list[tuple[str, bytes]], schema: DataSchema, rearrangement: str | None,
                     with_statistics: bool, split_names: list[str] | None = None
                     ) -> tuple[Dataset, dict[str, Any] | None]:
    """Parse and select the records of a data source, with its statistics if asked
    (``split_names``: the names random splits hash, see ``load_dataset``)."""
    dataset = load_dataset(files, schema, rearrangement, split_names)
    return dataset, compute_statistics(dataset) if with_statistics else None


def train(dataset: Dataset, model_type: str, parameters: dict[str, str] | None,
          recipe_text: str | None) -> TrainedModel:
    """Train an ML model (see ``sgd.train_model``)."""
    return train_model(dataset, model_type, parameters, recipe_text)


def evaluation_metrics(model: TrainedModel, dataset: Dataset, baseline: float | None = None
                       ) -> tuple[dict[str, str], dict[str, Any]]:
    """An evaluation's PerformanceMetrics properties, and what the console charts of it
    (``baseline``: the training target's mean, for the regression baseline)."""
    return evaluate_with_insights(model, dataset, baseline)


def batch_predictions(model: TrainedModel, dataset: Dataset, score_threshold: float) -> list[tuple[str, str]]:
    """(input file name, result CSV text) for every file of the data source."""
    return [(name, batch_prediction_csv(model, dataset, name, score_threshold)[0]) for name in dataset.layout]
