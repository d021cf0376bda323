"""A local implementation of AWS Glue's ``awsglue`` library on PySpark, shipped by aws-ml-emulator.

Job scripts written for AWS Glue run unmodified: ``GlueContext``, ``DynamicFrame``,
``Job``, ``getResolvedOptions`` and ``awsglue.transforms``. A DynamicFrame here wraps a
Spark DataFrame (Spark has no choice types, so ``resolveChoice`` casts). ``s3://`` paths
and the Data Catalog are the ones of the emulator (or AWS) that boto3 is configured for
(``AWS_ENDPOINT_URL``); Spark runs ``local[*]`` unless ``GLUE_SPARK_MASTER`` names a master.
"""

from awsglue._spark import configure_defaults

configure_defaults()

from awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection  # noqa: E402

__all__ = ["DynamicFrame", "DynamicFrameCollection"]
