"""The Spark session of a job: ``local[*]`` unless ``GLUE_SPARK_MASTER`` names a master."""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import Any

MASTER_ENV = "GLUE_SPARK_MASTER"


class SparkUnavailableError(RuntimeError):
    """PySpark or a Java runtime is missing; the message says which and how to get it."""


def require_spark() -> None:
    """Raise SparkUnavailableError naming what is missing for a Spark job."""
    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append('PySpark is not installed (pip install "aws-ml-emulator[spark]")')
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and os.path.exists(os.path.join(java_home, "bin", "java"))):
        missing.append("no Java runtime was found (Java 17 on PATH or JAVA_HOME)")
    if missing:
        raise SparkUnavailableError("Cannot start Spark: " + "; ".join(missing) + ".")


def configure_defaults() -> None:
    """Let a script's own ``SparkContext()`` start like on AWS Glue (a master, quiet UI)."""
    master = os.environ.get(MASTER_ENV) or "local[*]"
    os.environ.setdefault(
        "PYSPARK_SUBMIT_ARGS",
        f"--master {master} --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false "
        f"--conf spark.sql.shuffle.partitions=8 --conf spark.sql.session.timeZone=UTC pyspark-shell")


def spark_context(app_name: str = "awsglue") -> Any:
    """The active SparkContext, or a new one (quiet logs, small shuffles: one machine)."""
    require_spark()
    from pyspark import SparkConf, SparkContext

    active = SparkContext._active_spark_context  # noqa: SLF001 - reuse what the script made
    if active is not None:
        return active
    conf = (SparkConf().setAppName(app_name)
            .setMaster(os.environ.get(MASTER_ENV) or "local[*]")
            .set("spark.ui.enabled", "false")
            .set("spark.ui.showConsoleProgress", "false")
            .set("spark.sql.shuffle.partitions", os.environ.get("GLUE_SPARK_SHUFFLE_PARTITIONS", "8"))
            .set("spark.sql.session.timeZone", "UTC")
            .set("spark.driver.extraJavaOptions", "-Dlog4j2.level=WARN"))
    context = SparkContext.getOrCreate(conf)
    context.setLogLevel("WARN")
    return context
