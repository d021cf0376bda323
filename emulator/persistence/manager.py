"""Write-through persistence of a running emulator to ``--data-dir``.

Every state object a request reached through the ``StateStore`` is written (as one
SQLite transaction with the S3 and moto changes of that request) after the request
is handled and before its response leaves, so an acknowledged write survives kill -9.
A background job flushes the states of the request that started it when it ends.
State classes need no declaration: their attributes are encoded generically
(``codec.py``); an attribute named in the class's ``transient_fields`` is not stored
(it comes back as in a fresh instance), and an ``after_restart(account, region)``
method lets a state end jobs the crash interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Any, Callable, Iterable

from emulator.persistence.codec import CodecError, Decoder, Encoder, resolve_class
from emulator.persistence.disk import CorruptDataError, DataDir
from emulator.persistence.moto_state import MotoPersistence
from emulator.persistence.s3 import S3Persistence, s3_accounts

log = logging.getLogger(__name__)

READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Search", "Predict", "Invoke", "BatchGet", "Query", "Head")
RESTART_REASON = "The emulator restarted while this job was running"


def _transient_value(value: Any) -> bool:
    return False


class Persistence:
    """Connects one emulator's store, job runner and moto's backends to a data directory."""

    def __init__(self, emulator: Any, path: str) -> None:
        self.emulator = emulator
        self.disk = DataDir(path)
        self.encoder = Encoder(self.disk)
        self.s3 = S3Persistence(self.disk, self.encoder)
        self.moto = MotoPersistence(self.disk, self.encoder)
        self._local = threading.local()
        self._flush_lock = threading.Lock()
        self._state_text: dict[tuple[str, str, str], str] = {}
        self.restored = 0

    # -------------------------------------------------------------- loading
    def load(self) -> None:
        """Rebuild the store, S3 and moto's backends from disk; end interrupted jobs."""
        started = time.monotonic()
        decoder = Decoder(self.disk)
        used: set[str] = set()
        store = self.emulator.store
        for kind, account, region, data in self.disk.states():
            try:
                state_type = resolve_class(kind)
                state = self._decode_state(state_type, data, decoder)
            except CodecError as exc:
                raise CorruptDataError(f"{self.disk.db_path}: state {kind} of {account}/{region}: {exc}") from None
            store.put(state_type, account, region, state)
            self._state_text[(kind, account, region)] = json.dumps(data, sort_keys=True)
            used.update(_blob_refs(data))
            self.restored += 1
        try:
            used |= self.s3.restore(decoder)
            used |= self.moto.restore(decoder)
        except CodecError as exc:
            raise CorruptDataError(f"{self.disk.db_path}: {exc}") from None
        for (kind, account, region), state in store.items():
            hook = getattr(state, "after_restart", None)
            if callable(hook):
                hook(account, region)
        self.disk.collect_garbage(used)
        self.flush_all()  # interrupted jobs now recorded as failed
        log.info("restored %d state objects from %s in %.2f s", self.restored, self.disk.path,
                 time.monotonic() - started)

    @staticmethod
    def _decode_state(state_type: type, data: dict[str, Any], decoder: Decoder) -> Any:
        state = state_type()
        transient = set(getattr(state_type, "transient_fields", ()))
        for name, value in data.items():
            if name in transient:
                continue
            decoded = decoder.decode(value)
            current = getattr(state, name, None)
            if decoded is None and current is not None and type(current).__name__ in ("lock", "RLock", "Future"):
                continue
            setattr(state, name, decoded)
        return state

    # ------------------------------------------------------ request tracking
    def touched(self, key: tuple[str, str, str]) -> None:
        """Called by the store whenever a state is looked up."""
        current = getattr(self._local, "touched", None)
        if current is not None:
            current.add(key)

    def begin(self) -> set[tuple[str, str, str]]:
        touched: set[tuple[str, str, str]] = set()
        self._local.touched = touched
        return touched

    def end(self) -> set[tuple[str, str, str]]:
        touched = getattr(self._local, "touched", None) or set()
        self._local.touched = None
        return touched

    def wrap_job(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """A job that, when done, flushes the states of the request that submitted it."""
        touched = set(getattr(self._local, "touched", None) or ())

        def run() -> Any:
            try:
                return fn()
            finally:
                try:
                    self.flush(touched, s3_accounts=None, moto_all=True)
                except Exception:  # noqa: BLE001 - never kill the worker
                    log.exception("persisting a job's result failed")

        return run

    # -------------------------------------------------------------- writing
    def flush(self, states: Iterable[tuple[str, str, str]], s3_accounts: list[tuple[str, list[str] | None]] | None = (),
              moto: Iterable[tuple[str, str]] = (), moto_all: bool = False) -> None:
        """Write the given states, S3 accounts (None: all) and moto backends in one transaction."""
        with self._flush_lock:
            tx = self.disk.transaction()
            for key in states:
                state = self.emulator.store.peek(key)
                if state is not None:
                    self._queue_state(tx, key, state)
            if s3_accounts is None:
                for account in _all_s3_accounts():
                    self.s3.capture(tx, account)
            else:
                for account, buckets in s3_accounts:
                    self.s3.capture(tx, account, buckets)
            if moto_all:
                self.moto.capture_all(tx)
            else:
                for service, account in moto:
                    self.moto.capture(tx, service, account)
            tx.commit()

    def flush_all(self) -> None:
        self.flush([key for key, _ in self.emulator.store.items()], s3_accounts=None, moto_all=True)

    def _queue_state(self, tx: Any, key: tuple[str, str, str], state: Any) -> None:
        transient = set(getattr(type(state), "transient_fields", ()))
        with _lock_of(state):
            data = {name: self.encoder.encode(value) for name, value in vars(state).items() if name not in transient}
        text = json.dumps(data, sort_keys=True)
        if self._state_text.get(key) != text:
            tx.put_state(*key, data)
            self._state_text[key] = text

    def wipe(self) -> None:
        """Forget everything on disk (reset)."""
        with self._flush_lock:
            self.disk.wipe()
            self._state_text.clear()
            self.s3.forget()
            self.moto.forget()
            self.encoder.forget()

    def close(self) -> None:
        try:
            self.flush_all()
        finally:
            self.disk.close()


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _lock_of(state: Any) -> Any:
    lock = getattr(state, "lock", None)
    return lock if hasattr(lock, "__enter__") else _NoLock()


def _all_s3_accounts() -> list[str]:
    return s3_accounts()


def _blob_refs(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        if value.get("$t") == "blob":
            yield value["v"]
        for v in value.values():
            yield from _blob_refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _blob_refs(v)


def open_data_dir(emulator: Any, path: str, start_empty: bool = False) -> Persistence:
    """Open (and load) ``path``; with ``start_empty`` a directory that cannot be loaded is
    moved aside (``PATH.broken-<time>``) and an empty one is used instead."""
    try:
        persistence = Persistence(emulator, path)
        persistence.load()
        return persistence
    except Exception as exc:
        if not start_empty:
            raise
        aside = f"{os.path.abspath(path).rstrip(os.sep)}.broken-{time.strftime('%Y%m%d-%H%M%S')}"
        log.error("cannot load %s (%s); moved it to %s and starting empty", path, exc, aside)
        os.rename(path, aside)
        from emulator.aws.moto_bridge import reset_moto

        reset_moto()
        emulator.store.clear()
        persistence = Persistence(emulator, path)
        persistence.load()
        return persistence
