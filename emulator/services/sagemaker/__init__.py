"""Amazon SageMaker: training jobs (built-in algorithms and script mode), hyperparameter tuning, batch transform,
processing jobs, hosting and tags."""

from __future__ import annotations

from emulator.services.base import Provider
from emulator.services.sagemaker.hosting import HostingOperations
from emulator.services.sagemaker.processing import ProcessingOperations
from emulator.services.sagemaker.tagging import TaggingOperations
from emulator.services.sagemaker.training import TrainingOperations
from emulator.services.sagemaker.transform import TransformOperations
from emulator.services.sagemaker.tuning import TuningOperations


class SageMakerProvider(TrainingOperations, TuningOperations, TransformOperations, HostingOperations,
                        ProcessingOperations, TaggingOperations, Provider):
    """The ``sagemaker`` control plane; operations it lacks fall back to moto."""

    service_name = "sagemaker"
