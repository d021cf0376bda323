"""AWS Glue: the emulator's own operations in ``provider.py`` (one mixin per object type);
every other operation (most of the Data Catalog) is served by moto, behind the
emulator's validation.

Layout: ``provider.py`` composes the mixins; ``catalog.py`` is the one way emulator code
reads and writes the Data Catalog (whoever stores it); ``catalog_ops.py`` serves the
catalog reads moto cannot page; ``crawlers.py`` / ``crawl.py`` / ``classifiers.py`` are
crawlers (state in ``crawler_state.py``, schema inference in ``emulator.engines.glue``);
``common.py`` has the error wording and paging; ``tags.py`` keeps crawler tags where
moto's tagger finds them. ETL jobs: ``jobs.py`` (operations), ``job_state.py``,
``job_runs.py`` (one run's life), ``script_process.py`` (the child process group) and
``script_launcher.py`` (its entry). FindMatches: ``mltransforms.py`` (ML transforms,
``load_model`` for ETL), ``taskruns.py`` (their task runs), ``ml_state.py``,
``ml_common.py``; ``table_data.py`` reads a catalog table's rows from S3 (csv / parquet /
json). ``tagging.py`` serves TagResource / UntagResource / GetTags for every Glue ARN type.
"""

from __future__ import annotations

from emulator.services.glue.provider import GlueProvider

__all__ = ["GlueProvider"]
