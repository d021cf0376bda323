"""Emulator settings: command-line options mirrored by environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

DEFAULT_PORT = 4599
"""Default port: clear of LocalStack's 4566 and moto's 5000."""


@dataclass
class Config:
    """How one emulator instance runs."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    region: str = "us-east-1"
    data_dir: str | None = None
    job_grace_seconds: float = 10.0
    max_workers: int = 4
    glue_job_minute_seconds: float = 60.0
    """Seconds in one minute of a Glue job's ``Timeout`` (lower it to test timeouts quickly)."""

    ENV = {
        "host": "EMULATOR_HOST",
        "port": "EMULATOR_PORT",
        "region": "EMULATOR_REGION",
        "data_dir": "EMULATOR_DATA_DIR",
        "job_grace_seconds": "EMULATOR_JOB_GRACE_SECONDS",
        "max_workers": "EMULATOR_MAX_WORKERS",
        "glue_job_minute_seconds": "EMULATOR_GLUE_JOB_MINUTE_SECONDS",
    }

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
        return config

    def prepare(self) -> None:
        """Create the data directory if one is configured."""
        if self.data_dir:
            os.makedirs(self.data_dir, exist_ok=True)
