"""Emulator settings: command-line options mirrored by environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from emulator.workers import default_memory_mb

DEFAULT_PORT = 4599
"""Default port: clear of LocalStack's 4566 and moto's 5000."""


@dataclass
class Config:
    """How one emulator instance runs."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    region: str = "us-east-1"
    data_dir: str | None = None
    move_broken_data_aside: bool = False  # start empty if --data-dir cannot be loaded (keeps it as DIR.broken-*)
    data_sync: str = "full"
    """``full``: an answered write survives a power cut (bodies and commits flushed to the device);
    ``normal``: it survives the process dying (kill -9), not a power cut, and costs less."""
    job_grace_seconds: float = 10.0
    max_workers: int = 8
    log_level: str = "info"
    log_format: str = "text"
    # RDS InstanceIdentifier / Redshift ClusterIdentifier (or endpoint "host[:port]") -> database URL
    databases: dict[str, str] = field(default_factory=dict)
    job_memory_mb: int = field(default_factory=default_memory_mb)
    glue_job_minute_seconds: float = 60.0
    """Seconds in one minute of a Glue job's ``Timeout`` (lower it to test timeouts quickly)."""

    ENV = {
        "host": "EMULATOR_HOST",
        "port": "EMULATOR_PORT",
        "region": "EMULATOR_REGION",
        "data_dir": "EMULATOR_DATA_DIR",
        "data_sync": "EMULATOR_DATA_SYNC",
        "job_grace_seconds": "EMULATOR_JOB_GRACE_SECONDS",
        "max_workers": "EMULATOR_MAX_WORKERS",
        "log_level": "EMULATOR_LOG_LEVEL",
        "log_format": "EMULATOR_LOG_FORMAT",
        "job_memory_mb": "EMULATOR_JOB_MEMORY_MB",
        "glue_job_minute_seconds": "EMULATOR_GLUE_JOB_MINUTE_SECONDS",
    }
    DATABASES_ENV = "EMULATOR_DATABASES"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Config":
        """Defaults overridden by ``EMULATOR_*`` environment variables."""
        env = os.environ if env is None else env
        config = cls()
        for attr, var in cls.ENV.items():
            if env.get(var):
                current = getattr(config, attr)
                kind = type(current) if current is not None else str
                setattr(config, attr, kind(env[var]))
        config.databases = parse_databases((env.get(cls.DATABASES_ENV) or "").split())
        return config

    def prepare(self) -> None:
        """Create the data directory if one is configured."""
        if self.data_dir:
            os.makedirs(self.data_dir, exist_ok=True)


def parse_databases(entries: Iterable[str]) -> dict[str, str]:
    """``ID=URL`` entries, or paths of files holding one such entry per line (``#`` comments),
    as a mapping; ValueError for an entry that is neither."""
    mapping: dict[str, str] = {}
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        if "=" not in entry.split("://", 1)[0]:
            if not os.path.isfile(entry):
                raise ValueError(f"database entry {entry!r} is neither ID=URL nor a readable file")
            with open(entry, encoding="utf-8") as f:
                lines = [line.split("#", 1)[0].strip() for line in f]
            mapping.update(parse_databases(line for line in lines if line))
            continue
        key, _, url = entry.partition("=")
        if not key.strip() or "://" not in url:
            raise ValueError(f"database entry {entry!r} must be ID=URL, e.g. my-db=mysql://user@127.0.0.1:3306")
        mapping[key.strip()] = url.strip()
    return mapping
