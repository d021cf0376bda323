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
from emulator.persistence.disk import CorruptDataError, DataDir, DataDirInUseError
from emulator.persistence.moto_state import MotoPersistence
from emulator.persistence.s3 import S3Persistence, s3_accounts
from emulator.persistence.tracking import ALL, TrackingDict, recorder, set_recorder
from emulator.store import StateKey

log = logging.getLogger(__name__)

READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Search", "Predict", "Invoke", "BatchGet", "Query", "Head")
RESTART_REASON = "The emulator restarted while this job was running"


class Persistence:
    """Connects one emulator's store, job runner and moto's backends to a data directory."""

    def __init__(self, emulator: Any, path: str) -> None:
        self.emulator = emulator
        self.disk = DataDir(path, sync=emulator.config.data_sync)
        self.encoder = Encoder(self.disk)
        self.s3 = S3Persistence(self.disk, self.encoder)
        self.moto = MotoPersistence(self.disk, self.encoder)
        self._local = threading.local()
        self._flush_lock = threading.Lock()
        self._prepare_lock = threading.Lock()
        self._head_text: dict[StateKey, str] = {}  # last written plain attributes per state
        self._entry_text: dict[tuple[StateKey, str, str], str] = {}  # last written text per dict entry
        self._stored_keys: dict[tuple[StateKey, str], set[str]] = {}  # entry keys on disk per dict
        self._prepared: set[int] = set()  # states whose dicts are tracked
        self.restored = 0

    # -------------------------------------------------------------- loading
    def load(self) -> None:
        """Rebuild the store, S3 and moto's backends from disk; end interrupted jobs."""
        started = time.monotonic()
        decoder = Decoder(self.disk)
        used: set[str] = set()
        store = self.emulator.store
        heads: dict[StateKey, Any] = {}
        tables: dict[StateKey, dict[str, TrackingDict]] = {}
        try:
            for kind, account, region, data in self.disk.states():
                heads[(kind, account, region)] = data
                used.update(_blob_refs(data))
            for kind, account, region, attr, key, data in self.disk.entries():
                skey = (kind, account, region)
                table = tables.setdefault(skey, {}).setdefault(attr, TrackingDict(token=(skey, attr)))
                dict.__setitem__(table, decoder.decode(key), decoder.decode(data))
                self._entry_text[(skey, attr, json.dumps(key))] = json.dumps(data)
                used.update(_blob_refs(data))
            for skey, head in heads.items():
                state_type = resolve_class(skey[0])
                state = self._decode_state(state_type, head, tables.get(skey, {}), skey, decoder)
                store.put(state_type, skey[1], skey[2], state)
                self._prepared.add(id(state))
                self._head_text[skey] = json.dumps(head)
                self.restored += 1
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
    def _decode_state(state_type: type, head: dict[str, Any], tables: dict[str, TrackingDict], key: StateKey,
                      decoder: Decoder) -> Any:
        state = state_type()
        transient = set(getattr(state_type, "transient_fields", ()))
        try:
            for name, value in head["attrs"].items():
                if name in transient:
                    continue
                decoded = decoder.decode(value)
                if decoded is None and getattr(state, name, None) is not None:
                    continue  # a lock or future: the fresh instance's own
                setattr(state, name, decoded)
            for name in head["tables"]:
                if name not in transient:
                    setattr(state, name, tables.get(name) or TrackingDict(token=(key, name)))
        except CodecError as exc:
            raise CodecError(f"state {key[0]} of {key[1]}/{key[2]}: {exc}") from None
        except (KeyError, TypeError) as exc:
            raise CodecError(f"state {key[0]} of {key[1]}/{key[2]}: malformed ({exc})") from None
        return state

    # ------------------------------------------------------ request tracking
    def touched(self, key: StateKey) -> None:
        """Called by the store whenever a state is looked up: record it, track its dicts."""
        current = getattr(self._local, "touched", None)
        if current is not None:
            current.add(key)
        state = self.emulator.store.peek(key)
        if state is not None and id(state) not in self._prepared:
            with self._prepare_lock:
                if id(state) not in self._prepared:
                    _track_dicts(state, key)
                    self._prepared.add(id(state))

    def begin(self) -> None:
        self._local.touched = set()
        set_recorder(set())

    def end(self) -> tuple[set[StateKey], set[tuple[Any, str, Any]]]:
        touched = getattr(self._local, "touched", None) or set()
        entries = recorder() or set()
        self._local.touched = None
        set_recorder(None)
        return touched, entries

    def wrap_job(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """A job that, when done, flushes the states and entries of the request that submitted
        it and every entry it reached itself."""
        touched = set(getattr(self._local, "touched", None) or ())
        submitted = set(recorder() or ())

        def run() -> Any:
            entries = set(submitted)
            set_recorder(entries)
            try:
                return fn()
            finally:
                set_recorder(None)
                try:
                    self.flush(touched, entries, s3_accounts=None, moto_all=True)
                except Exception:  # noqa: BLE001 - never kill the worker
                    log.exception("persisting a job's result failed")

        return run

    # -------------------------------------------------------------- writing
    def flush(self, states: Iterable[StateKey], entries: Iterable[tuple[Any, str, Any]] | None = (),
              s3_accounts: list[tuple[str, list[str] | None]] | None = (),
              moto: Iterable[tuple[str, str]] = (), moto_all: bool = False,
              s3_keys: set[tuple[str, str]] = frozenset()) -> None:
        """Write the given states (their marked entries; all when ``entries`` is None), S3
        accounts (None: all; ``s3_keys``: (bucket, key) rewritten even if unchanged) and moto
        backends in one transaction."""
        marked: dict[StateKey, dict[str, set[Any]]] = {}
        for skey, attr, key in entries or ():
            marked.setdefault(skey, {}).setdefault(attr, set()).add(key)
        states = set(states)
        with self._flush_lock:
            for attempt in range(5):
                try:
                    self._flush_once(states, marked, entries is None, s3_accounts, list(moto), moto_all, s3_keys)
                    return
                except RuntimeError as exc:  # a dict changed size while being read: read it again
                    if "changed size" not in str(exc) or attempt == 4:
                        raise

    def _flush_once(self, states: set[StateKey], marked: dict[StateKey, dict[str, set[Any]]], everything: bool,
                    s3_accounts: list[tuple[str, list[str] | None]] | None, moto: Iterable[tuple[str, str]],
                    moto_all: bool, s3_keys: set[tuple[str, str]] = frozenset()) -> None:
        """Queue everything, then commit; in-memory caches change only once it committed."""
        tx = self.disk.transaction()
        for skey in states | set(marked):
            state = self.emulator.store.peek(skey)
            if state is not None:
                self._queue_state(tx, skey, state, None if everything else marked.get(skey, {}))
        if s3_accounts is None:
            for account in _all_s3_accounts():
                self.s3.capture(tx, account)
        else:
            for account, buckets in s3_accounts:
                self.s3.capture(tx, account, buckets, s3_keys)
        if moto_all:
            self.moto.capture_all(tx)
        else:
            for service, account in moto:
                self.moto.capture(tx, service, account)
        tx.commit()

    def flush_all(self) -> None:
        self.flush([key for key, _ in self.emulator.store.items()], None, s3_accounts=None, moto_all=True)

    def _queue_state(self, tx: Any, skey: StateKey, state: Any, marked: dict[str, set[Any]] | None) -> None:
        """Queue the state's plain attributes and the marked (None: all) entries of its dicts."""
        transient = set(getattr(type(state), "transient_fields", ()))
        with _lock_of(state):
            attrs, tables = {}, []
            for name, value in list(vars(state).items()):
                if name in transient:
                    continue
                if type(value) is dict:  # replaced since it was tracked: track the new one, write it all
                    value = TrackingDict(value, token=(skey, name))
                    setattr(state, name, value)
                    marked = {**(marked or {}), name: {ALL}} if marked is not None else None
                if isinstance(value, TrackingDict):
                    tables.append(name)
                    keys = None if marked is None else marked.get(name, set())
                    self._queue_entries(tx, skey, name, value, keys)
                else:
                    attrs[name] = self.encoder.encode(value)
        head = json.dumps({"attrs": attrs, "tables": sorted(tables)})
        if self._head_text.get(skey) != head:
            tx.put_state(*skey, head)
            tx.on_commit(lambda: self._head_text.__setitem__(skey, head))

    def _queue_entries(self, tx: Any, skey: StateKey, attr: str, table: TrackingDict, keys: set[Any] | None) -> None:
        """Queue writes of the given entries (None or ALL: every entry, and deletions of the gone)."""
        stored = self._stored_keys.get((skey, attr), set())
        current = dict(dict.items(table))
        written: dict[str, str | None] = {}  # key text -> entry text, None for deleted
        if keys is None or ALL in keys:
            key_texts = {json.dumps(self.encoder.encode(k)): k for k in current}
            written.update({gone: None for gone in stored - set(key_texts)})
            items = list(key_texts.items())
        else:
            items = [(json.dumps(self.encoder.encode(k)), k) for k in keys if _hashable(k)]
        for ktext, key in items:
            if key in current:
                text = json.dumps(self.encoder.encode(current[key]))
                if self._entry_text.get((skey, attr, ktext)) != text:
                    written[ktext] = text
            else:
                written[ktext] = None
        for ktext, text in written.items():
            if text is None:
                tx.delete_entry(*skey, attr, ktext)
            else:
                tx.put_entry(*skey, attr, ktext, text)

        def remember() -> None:
            on_disk = self._stored_keys.setdefault((skey, attr), set())
            for ktext, text in written.items():
                if text is None:
                    on_disk.discard(ktext)
                    self._entry_text.pop((skey, attr, ktext), None)
                else:
                    on_disk.add(ktext)
                    self._entry_text[(skey, attr, ktext)] = text

        if written:
            tx.on_commit(remember)

    def wipe(self) -> None:
        """Forget everything on disk (reset)."""
        with self._flush_lock:
            self.disk.wipe()
            self._head_text.clear()
            self._entry_text.clear()
            self._stored_keys.clear()
            self._prepared.clear()
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


def _track_dicts(state: Any, key: StateKey) -> None:
    transient = set(getattr(type(state), "transient_fields", ()))
    for name, value in list(vars(state).items()):
        if type(value) is dict and name not in transient:
            setattr(state, name, TrackingDict(value, token=(key, name)))


def _hashable(key: Any) -> bool:
    try:
        hash(key)
        return key is not ALL
    except TypeError:
        return False


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
    persistence = None
    try:
        persistence = Persistence(emulator, path)
        persistence.load()
        return persistence
    except Exception as exc:
        if persistence is not None:
            persistence.disk.close()  # releases the directory's lock
        if not start_empty or isinstance(exc, DataDirInUseError):  # never move a live directory
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
