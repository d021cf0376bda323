"""The emulator's shared services: configuration, state store, job runner, providers."""

from __future__ import annotations

from emulator import workers
from emulator.aws.moto_bridge import reset_moto
from emulator.config import Config
from emulator.jobs import JobRunner
from emulator.persistence.manager import Persistence, open_data_dir
from emulator.services import provider_classes
from emulator.services.base import Provider
from emulator.store import StateStore


class Emulator:
    """One emulator instance; providers reach everything shared through it."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.config.prepare()
        self.store = StateStore()
        workers.configure(max_processes=self.config.max_workers)
        self.jobs = JobRunner(self.config.max_workers, self.config.job_grace_seconds, self.config.job_memory_mb)
        self.providers: dict[str, Provider] = {cls.service_name: cls(self) for cls in provider_classes()}
        self.persistence: Persistence | None = None
        if self.config.data_dir:
            self.persistence = open_data_dir(self, self.config.data_dir, self.config.move_broken_data_aside)
            self.store.observer = self.persistence.touched
            self.jobs.wrap = self.persistence.wrap_job

    def provider(self, service_name: str) -> Provider | None:
        """The provider mounted for ``service_name``, if any."""
        return self.providers.get(service_name)

    def reset(self) -> None:
        """Forget every resource: the ``StateStore`` emptied, moto's backends reset and,
        with ``--data-dir``, everything persisted deleted.

        Jobs still running finish against the state they started with, which nothing
        reaches any more. moto's state is per process: every emulator in this process
        (and any ``mock_aws``) loses its S3 buckets, IAM roles and logs too.
        """
        self.store.clear()
        reset_moto()
        if self.persistence is not None:
            self.persistence.wipe()

    def shutdown(self, wait_seconds: float = 0.0) -> None:
        """Cancel running jobs (their state says the emulator shut down), release workers and
        stop what providers run outside them (Glue job scripts)."""
        self.jobs.shutdown(wait_seconds)
        for provider in self.providers.values():
            provider.shutdown()
        if self.persistence is not None:  # write the last changes and close the data dir
            self.persistence.close()
            self.persistence = None
