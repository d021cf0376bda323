"""The ``glue`` provider: one mixin per object type (crawlers, classifiers, catalog reads ...)."""

from __future__ import annotations

from emulator.services.base import Provider
from emulator.services.glue.catalog_ops import CatalogOperations
from emulator.services.glue.classifiers import ClassifierOperations
from emulator.services.glue.crawlers import CrawlerOperations
from emulator.services.glue.jobs import JobOperations
from emulator.services.glue.mltransforms import MLTransformOperations
from emulator.services.glue.tagging import GlueTaggingOperations
from emulator.services.glue.taskruns import MLTaskRunOperations


class GlueProvider(CrawlerOperations, ClassifierOperations, CatalogOperations, JobOperations, MLTransformOperations,
                   MLTaskRunOperations, GlueTaggingOperations, Provider):
    """Glue operations owned by the emulator; the rest of the Data Catalog is moto's."""

    service_name = "glue"
