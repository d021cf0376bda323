"""Amazon SageMaker: training jobs (built-in algorithms and script mode), processing jobs, hosting and tags."""

from __future__ import annotations

from emulator.services.base import Provider
from emulator.services.sagemaker.hosting import HostingOperations
from emulator.services.sagemaker.processing import ProcessingOperations
from emulator.services.sagemaker.tagging import TaggingOperations
from emulator.services.sagemaker.training import TrainingOperations


class SageMakerProvider(TrainingOperations, HostingOperations, ProcessingOperations, TaggingOperations, Provider):
    """The ``sagemaker`` control plane; operations it lacks fall back to moto."""

    service_name = "sagemaker"
