"""AWS Glue: the emulator's own operations in ``provider.py`` (one mixin per object type);
the Data Catalog and every operation no mixin implements are served by moto, behind the
emulator's validation.

Layout: ``provider.py`` composes the mixins; ``catalog.py`` is the one way emulator code
reads and writes Data Catalog tables and partitions (whoever stores them). ETL jobs:
``jobs.py`` (operations), ``job_state.py``, ``job_runs.py`` (one run's life),
``script_process.py`` (the child process group) and ``script_launcher.py`` (its entry).
"""

from __future__ import annotations

from emulator.services.glue.provider import GlueProvider

__all__ = ["GlueProvider"]
