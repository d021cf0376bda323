"""AWS Glue: the emulator's own operations in ``provider.py`` (one mixin per object type);
the Data Catalog and every operation no mixin implements are served by moto, behind the
emulator's validation.

Layout: ``provider.py`` composes the mixins; ``catalog.py`` is the one way emulator code
reads and writes Data Catalog tables and partitions (whoever stores them);
``table_data.py`` reads a catalog table's rows from S3 (csv / parquet / json);
``mltransforms.py`` (ML transforms, ``load_model`` for ETL), ``taskruns.py`` (their task
runs), ``ml_state.py`` and ``ml_common.py`` are FindMatches; ``tagging.py`` serves
TagResource / UntagResource / GetTags for every Glue ARN type.
"""

from __future__ import annotations

from emulator.services.glue.provider import GlueProvider

__all__ = ["GlueProvider"]
