"""Service providers. ``PROVIDERS`` lists the classes the emulator mounts."""

from __future__ import annotations

from emulator.services.base import Provider


def provider_classes() -> list[type[Provider]]:
    """Every provider class, imported lazily so one broken provider names itself."""
    from emulator.services.glue import GlueProvider
    from emulator.services.machinelearning import MachineLearningProvider
    from emulator.services.sagemaker import SageMakerProvider
    from emulator.services.sagemaker.runtime import SageMakerRuntimeProvider
    from emulator.services.sts import StsProvider

    classes: list[type[Provider]] = [StsProvider, GlueProvider, SageMakerProvider, SageMakerRuntimeProvider,
                                     MachineLearningProvider]
    return classes
