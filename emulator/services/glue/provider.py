"""The ``glue`` provider: one mixin per object type (crawlers, ML transforms, jobs ...)."""

from __future__ import annotations

from emulator.services.base import Provider
from emulator.services.glue.jobs import JobOperations


class GlueProvider(JobOperations, Provider):
    """Glue operations owned by the emulator; the rest (the Data Catalog today) are moto's."""

    service_name = "glue"
