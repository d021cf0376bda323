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


class SnapshotUnavailable(RuntimeError):
    """A snapshot was asked of an emulator without ``--data-dir``."""


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
            self._open_data_dir(self.config.data_dir, self.config.move_broken_data_aside)

    def _open_data_dir(self, path: str, start_empty: bool = False) -> None:
        """Load ``path`` into the (empty) state and persist every change there from now on."""
        self.persistence = open_data_dir(self, path, start_empty)
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
        self._empty()
        if self.persistence is not None:
            self.persistence.wipe()

    def _empty(self) -> None:
        self.store.clear()
        reset_moto()

    def save_snapshot(self, archive: str) -> int:
        """Write one archive (tar.gz) of the whole state to ``archive``; files written.
        Needs ``--data-dir`` (every answered write is already there: nothing to flush)."""
        from emulator.persistence import snapshot

        if self.persistence is None:
            raise SnapshotUnavailable("snapshots need --data-dir: this emulator keeps its state in memory only")
        return snapshot.save(self.persistence.disk.path, archive)

    def load_snapshot(self, archive: str) -> int:
        """Replace the whole state (memory and ``--data-dir``) by the archive's; state objects
        restored. The archive is checked before anything changes; the previous data is deleted.
        Jobs still running finish against the state they started with, as after :meth:`reset`."""
        import os
        import shutil

        from emulator.persistence import snapshot

        if self.persistence is None:
            raise SnapshotUnavailable("snapshots need --data-dir: this emulator keeps its state in memory only")
        path = self.persistence.disk.path
        staging = snapshot.unpack(archive, os.path.dirname(path))
        aside = staging + ".old"
        old, self.persistence = self.persistence, None
        self.store.observer = None
        self.jobs.wrap = None
        old.disk.close()  # without a last flush: the old state is being discarded
        os.rename(path, aside)
        os.rename(staging, path)
        try:
            self._empty()
            self._open_data_dir(path)
        except BaseException:  # an undecodable record: put the previous data back
            if self.persistence is not None:
                self.persistence.disk.close()
            shutil.rmtree(path, ignore_errors=True)
            os.rename(aside, path)
            self._empty()
            self._open_data_dir(path)
            raise
        shutil.rmtree(aside, ignore_errors=True)
        return self.persistence.restored

    def shutdown(self, wait_seconds: float = 0.0) -> None:
        """Cancel running jobs (their state says the emulator shut down), release workers and
        stop what providers run outside them (Glue job scripts)."""
        self.jobs.shutdown(wait_seconds)
        for provider in self.providers.values():
            provider.shutdown()
        if self.persistence is not None:  # write the last changes and close the data dir
            self.persistence.close()
            self.persistence = None
