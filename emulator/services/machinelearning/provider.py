"""The ``machinelearning`` provider: the 28 operations of Amazon ML (2014-12-12), one mixin per object type."""

from __future__ import annotations

from emulator.services.base import Provider

from .batch import BatchPredictionOperations
from .datasources import DataSourceOperations
from .evaluations import EvaluationOperations
from .insights import InsightViews
from .models import ModelOperations
from .tagging import TaggingOperations


class MachineLearningProvider(DataSourceOperations, ModelOperations, EvaluationOperations,
                              BatchPredictionOperations, TaggingOperations, InsightViews, Provider):
    """Amazon Machine Learning: data sources, models, evaluations, batch and real-time predictions."""

    service_name = "machinelearning"
    # Predict's PredictEndpoint (shape VipURL) only admits https://...amazonaws.com in the
    # model, while botocore sends Predict to the emulator's own http://host:port.
    unchecked_patterns = frozenset({"VipURL"})
