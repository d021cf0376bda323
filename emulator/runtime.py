"""The emulator's shared services: configuration, state store, job runner, providers."""

from __future__ import annotations

from emulator.config import Config
from emulator.jobs import JobRunner
from emulator.services import provider_classes
from emulator.services.base import Provider
from emulator.store import StateStore


class Emulator:
    """One emulator instance; providers reach everything shared through it."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.config.prepare()
        self.store = StateStore()
        self.jobs = JobRunner(self.config.max_workers, self.config.job_grace_seconds)
        self.providers: dict[str, Provider] = {cls.service_name: cls(self) for cls in provider_classes()}

    def provider(self, service_name: str) -> Provider | None:
        """The provider mounted for ``service_name``, if any."""
        return self.providers.get(service_name)

    def shutdown(self) -> None:
        """Release background workers (and stop what providers run outside them)."""
        self.jobs.shutdown()
        for provider in self.providers.values():
            provider.shutdown()
