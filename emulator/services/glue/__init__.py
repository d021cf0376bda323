"""AWS Glue. The Data Catalog is served by moto for now, behind the emulator's validation.

Crawlers, FindMatches ML transforms and ETL job runs arrive in later issues as
methods of ``GlueProvider``; every Glue request is already validated against the
botocore model before moto sees it.
"""

from __future__ import annotations

from emulator.services.base import Provider


class GlueProvider(Provider):
    """Glue operations owned by the emulator (none yet: moto serves the catalog)."""

    service_name = "glue"
