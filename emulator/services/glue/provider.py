"""The ``glue`` provider: one mixin per object type (crawlers, ML transforms, jobs ...)."""

from __future__ import annotations

from emulator.services.base import Provider
from emulator.services.glue.mltransforms import MLTransformOperations
from emulator.services.glue.tagging import GlueTaggingOperations
from emulator.services.glue.taskruns import MLTaskRunOperations


class GlueProvider(MLTransformOperations, MLTaskRunOperations, GlueTaggingOperations, Provider):
    """Glue operations owned by the emulator; the rest (the Data Catalog today) are moto's."""

    service_name = "glue"
