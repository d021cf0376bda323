"""A JSON codec with explicit types: no pickle, nothing executed on load.

Encodes what providers keep in their state objects (dicts, lists, sets, tuples,
datetimes, bytes, dataclasses, numpy arrays, pandas frames, engine objects with a
``to_bytes``/``from_bytes`` pair) and moto's model objects (their ``__dict__``).
Decoding only instantiates classes of allow-listed packages (``emulator.``, ``moto.``)
with ``object.__new__`` and fills their attributes; no constructor or ``__setstate__``
runs, so stored bytes can never execute code. Large byte strings go to a blob sink
(content-addressed files) and are referenced by hash.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import datetime as dt
import enum
import functools
import importlib
import logging
import threading
import weakref
from concurrent.futures import Future
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)

ALLOWED_PREFIXES = ("emulator.", "moto.")
SAFE_CLASSES = {"collections:OrderedDict"}
_CASE_INSENSITIVE = {"requests.structures:CaseInsensitiveDict", "moto.utilities.utils:CaseInsensitiveDict"}
"""Header dicts (moto's S3 metadata): stored as their items, rebuilt through their constructor."""
_FACTORIES = {"list": list, "dict": dict, "set": set, "int": int, "str": str}
INLINE_BYTES = 4096
_LOCK_TYPES = {type(threading.Lock()): "lock", type(threading.RLock()): "rlock"}


class CodecError(ValueError):
    """Stored data that cannot be decoded (corrupt, or from an unknown class)."""


class BlobSink(Protocol):
    def put_bytes(self, data: bytes) -> str: ...
    def get_bytes(self, digest: str) -> bytes: ...


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


@functools.lru_cache(maxsize=1024)
def resolve_class(path: str) -> type:
    """The class named ``module:qualname``, only from allow-listed packages."""
    module_name, _, qualname = path.partition(":")
    if path not in SAFE_CLASSES and (not module_name.startswith(ALLOWED_PREFIXES) or not qualname):
        raise CodecError(f"refusing to load class {path!r} (not an emulator or moto class)")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise CodecError(f"unknown class {path!r}: {exc}") from None
    if not isinstance(obj, type):
        raise CodecError(f"{path!r} is not a class")
    return obj


class Encoder:
    """Turns objects into JSON-compatible values; big bytes go to ``blobs``."""

    def __init__(self, blobs: BlobSink | None, transient: Callable[[Any], bool] | None = None) -> None:
        self.blobs = blobs
        self.transient = transient
        self._memo: dict[int, tuple[Any, Any]] = {}  # id -> (weak ref, encoding) of immutable engine objects
        self._seen: dict[int, int] = {}  # objects already encoded in this call (shared or cyclic references)
        self._depth = 0

    def forget(self) -> None:
        self._memo.clear()

    def bytes_value(self, data: bytes) -> Any:
        if self.blobs is not None and len(data) > INLINE_BYTES:
            return {"$t": "blob", "v": self.blobs.put_bytes(data)}
        return {"$t": "bytes", "v": base64.b64encode(data).decode("ascii")}

    def encode(self, value: Any) -> Any:
        """The JSON-compatible form of ``value`` (objects it reaches twice are stored once)."""
        if self._depth == 0:
            self._seen = {}
        self._depth += 1
        try:
            return self._encode(value)
        finally:
            self._depth -= 1

    def _encode(self, value: Any) -> Any:  # noqa: C901 - one branch per supported type
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, enum.Enum):
            if type(value) in (int, float):
                return value
        if isinstance(value, enum.Enum):
            return {"$t": "enum", "cls": class_path(type(value)), "v": self._encode(value.value)}
        if isinstance(value, list):
            return [self._encode(v) for v in value]
        if isinstance(value, collections.defaultdict):
            factory = getattr(value.default_factory, "__name__", None)
            return {"$t": "defaultdict", "f": factory if factory in _FACTORIES else None,
                    "v": [[self._encode(k), self._encode(v)] for k, v in value.items()]}
        if isinstance(value, dict):
            if all(type(k) is str for k in value) and "$t" not in value:
                out = {k: self._encode(v) for k, v in value.items()}
                if type(value) is dict:
                    return out
                return {"$t": "dictsub", "cls": class_path(type(value)), "v": out,
                        "d": self._encode(dict(vars(value))) if hasattr(value, "__dict__") else {}}
            return {"$t": "dict", "v": [[self._encode(k), self._encode(v)] for k, v in value.items()],
                    "cls": None if type(value) is dict else class_path(type(value))}
        if isinstance(value, tuple):
            return {"$t": "tuple", "v": [self._encode(v) for v in value]}
        if isinstance(value, (set, frozenset)):
            return {"$t": "set" if isinstance(value, set) else "frozenset", "v": [self._encode(v) for v in value]}
        if isinstance(value, dt.datetime):
            return {"$t": "datetime", "v": value.isoformat()}
        if isinstance(value, dt.date):
            return {"$t": "date", "v": value.isoformat()}
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self.bytes_value(bytes(value))
        if type(value) in _LOCK_TYPES:
            return {"$t": _LOCK_TYPES[type(value)]}
        if isinstance(value, (Future, threading.Event, threading.Thread)) or (self.transient and self.transient(value)):
            return None
        memo = self._memo.get(id(value))
        if memo is not None and memo[0]() is value:
            return memo[1]
        encoded = self._encode_object(value)
        if encoded.get("$t") in ("bytesobj", "ndarray", "dataframe"):  # engine objects are not mutated once built
            try:  # remembered while the object lives, forgotten with it
                ref = weakref.ref(value, lambda _, key=id(value): self._memo.pop(key, None))
            except TypeError:
                return encoded
            self._memo[id(value)] = (ref, encoded)
        return encoded

    def _encode_object(self, value: Any) -> dict[str, Any]:
        module = type(value).__module__
        if class_path(type(value)) in _CASE_INSENSITIVE:
            return {"$t": "cidict", "cls": class_path(type(value)),
                    "v": [[self._encode(k), self._encode(v)] for k, v in value.items()]}
        if module.startswith("numpy"):
            import numpy as np

            if isinstance(value, np.ndarray):
                if value.dtype.hasobject:
                    return {"$t": "ndarray_obj", "shape": list(value.shape), "v": [self._encode(v) for v in value.ravel().tolist()]}
                return {"$t": "ndarray", "dtype": value.dtype.str, "shape": list(value.shape),
                        "v": self.bytes_value(np.ascontiguousarray(value).tobytes())}
            if isinstance(value, np.generic):
                return {"$t": "npscalar", "dtype": value.dtype.str, "v": self._encode(value.item())}
        if module.startswith("pandas"):
            import pandas as pd

            if isinstance(value, pd.DataFrame):
                columns = []
                for i, name in enumerate(value.columns):
                    series = value.iloc[:, i]
                    dtype = str(series.dtype)
                    data = series.to_numpy(dtype=object if dtype in ("category", "string") else None)
                    columns.append({"name": self._encode(name), "dtype": dtype, "v": self._encode(data)})
                return {"$t": "dataframe", "columns": columns, "index": self._encode(value.index.to_numpy())}
        if hasattr(value, "to_bytes") and hasattr(type(value), "from_bytes") and module.startswith("emulator."):
            return {"$t": "bytesobj", "cls": class_path(type(value)), "v": self.bytes_value(value.to_bytes())}
        if module.startswith(ALLOWED_PREFIXES) and hasattr(value, "__dict__"):
            from moto.core.base_backend import BaseBackend

            if isinstance(value, BaseBackend):  # a model's link to its backend: not data
                return {"$t": "dropped", "type": class_path(type(value))}
            seen = self._seen.get(id(value))
            if seen is not None:
                return {"$t": "ref", "v": seen}
            number = self._seen[id(value)] = len(self._seen)
            return {"$t": "obj", "cls": class_path(type(value)), "id": number,
                    "d": {k: self._encode(v) for k, v in vars(value).items()}}
        log.warning("not persisting a %s (no safe encoding)", class_path(type(value)))
        return {"$t": "dropped", "type": class_path(type(value))}


class Decoder:
    """Inverse of :class:`Encoder`."""

    def __init__(self, blobs: BlobSink | None) -> None:
        self.blobs = blobs
        self._objects: dict[int, Any] = {}
        self._depth = 0

    def bytes_value(self, value: Any) -> bytes:
        if not isinstance(value, dict):
            raise CodecError("expected a bytes value")
        if value.get("$t") == "blob":
            if self.blobs is None:
                raise CodecError("blob reference without a blob store")
            return self.blobs.get_bytes(value["v"])
        return base64.b64decode(value["v"])

    def decode(self, value: Any) -> Any:
        """The object ``value`` encodes."""
        if self._depth == 0:
            self._objects = {}
        self._depth += 1
        try:
            return self._decode(value)
        finally:
            self._depth -= 1

    def _decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        kind = value.get("$t")
        if kind is None:
            return {k: self._decode(v) for k, v in value.items()}
        try:
            return self._decode_typed(kind, value)
        except CodecError:
            raise
        except Exception as exc:  # noqa: BLE001 - malformed stored data of any kind
            raise CodecError(f"cannot decode a stored {kind}: {type(exc).__name__}: {exc}") from None

    def _new(self, path: str) -> Any:
        cls = resolve_class(path)
        return cls.__new__(cls)

    def _decode_typed(self, kind: str, value: dict[str, Any]) -> Any:  # noqa: C901
        if kind == "bytes" or kind == "blob":
            return self.bytes_value(value)
        if kind == "datetime":
            return dt.datetime.fromisoformat(value["v"])
        if kind == "date":
            return dt.date.fromisoformat(value["v"])
        if kind == "tuple":
            return tuple(self._decode(v) for v in value["v"])
        if kind == "set":
            return {self._decode(v) for v in value["v"]}
        if kind == "frozenset":
            return frozenset(self._decode(v) for v in value["v"])
        if kind == "dict":
            if value.get("cls") == "collections:OrderedDict":
                return collections.OrderedDict((self._decode(k), self._decode(v)) for k, v in value["v"])
            out = {} if value.get("cls") is None else self._new(value["cls"])
            for k, v in value["v"]:
                dict.__setitem__(out, self._decode(k), self._decode(v))
            return out
        if kind == "defaultdict":
            out = collections.defaultdict(_FACTORIES.get(value["f"]) if value["f"] else None)
            for k, v in value["v"]:
                out[self._decode(k)] = self._decode(v)
            return out
        if kind == "dictsub":
            if value["cls"] == "collections:OrderedDict":
                return collections.OrderedDict((k, self._decode(v)) for k, v in value["v"].items())
            out = self._new(value["cls"])
            for k, v in value["v"].items():
                dict.__setitem__(out, k, self._decode(v))  # moto's multi-value dicts: the raw item
            out.__dict__.update(self._decode(value.get("d") or {}))
            return out
        if kind == "cidict":
            if value["cls"] not in _CASE_INSENSITIVE:
                raise CodecError(f"refusing to load class {value['cls']!r} as a header dict")
            module_name, _, name = value["cls"].partition(":")
            return getattr(importlib.import_module(module_name), name)((self._decode(k), self._decode(v)) for k, v in value["v"])
        if kind == "lock":
            return threading.Lock()
        if kind == "rlock":
            return threading.RLock()
        if kind == "enum":
            return resolve_class(value["cls"])(self._decode(value["v"]))
        if kind == "dropped":
            return None
        if kind == "ndarray":
            import numpy as np

            return np.frombuffer(self.bytes_value(value["v"]), dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
        if kind == "ndarray_obj":
            import numpy as np

            items = [self._decode(v) for v in value["v"]]
            array = np.empty(len(items), dtype=object)
            array[:] = items
            return array.reshape(value["shape"])
        if kind == "npscalar":
            import numpy as np

            return np.dtype(value["dtype"]).type(self._decode(value["v"]))
        if kind == "dataframe":
            import pandas as pd

            index = self._decode(value["index"])
            data = {}
            for column in value["columns"]:
                series = pd.Series(self._decode(column["v"]), index=index)
                data[self._decode(column["name"])] = series.astype(column["dtype"]) if column["dtype"] != "object" else series
            frame = pd.DataFrame(data, index=index)
            return frame
        if kind == "bytesobj":
            cls = resolve_class(value["cls"])
            return cls.from_bytes(self.bytes_value(value["v"]))  # type: ignore[attr-defined]
        if kind == "ref":
            return self._objects[value["v"]]
        if kind == "obj":
            obj = self._new(value["cls"])
            if "id" in value:
                self._objects[value["id"]] = obj
            obj.__dict__.update({k: self._decode(v) for k, v in value["d"].items()})
            return obj
        raise CodecError(f"unknown stored type {kind!r}")
