"""Columns kept in files instead of being pickled between processes.

A job's worker writes the arrays of a parsed file or of a data set as NumPy ``.npy``
files into a directory its caller chose (the server names it by a hash or a random id,
never from a user string; the files inside are numbered). The object then pickles as
that directory plus a small manifest, and the next job's worker memory-maps the files
(``np.load(mmap_mode="r", allow_pickle=False)``) on first use of a stored field, so
neither the server nor the pipes between it and its workers carry the columns.

Numeric and boolean arrays are stored as they are; a pandas ``Categorical`` as its codes
(and its categories in the manifest); an object array of strings with few distinct values
as codes into them; other object arrays (text columns, row ids) travel inline, as before.
Nothing is ever unpickled from these files.
"""
from __future__ import annotations

import io
import json
import os
from typing import Any

import numpy as np
import pandas as pd


def _is_text_list(values: list[Any]) -> bool:
    return all(isinstance(v, str) for v in values)


class _Writer:
    """Encodes values into a JSON-able manifest, writing arrays through ``save``."""

    def __init__(self, save: Any) -> None:
        self.save = save  # save(index, array) -> None
        self.count = 0
        self.inline: list[Any] = []

    def array(self, values: np.ndarray) -> dict[str, Any]:
        index = self.count
        self.count += 1
        self.save(index, np.ascontiguousarray(values))
        return {"npy": index}

    def encode(self, value: Any) -> Any:
        if isinstance(value, pd.DataFrame):
            return {"frame": [[str(name), self.encode(value[name].array if isinstance(value[name].dtype, pd.CategoricalDtype)
                                                      else value[name].to_numpy())] for name in value.columns]}
        if isinstance(value, pd.Categorical):
            categories = value.categories.tolist()
            out: dict[str, Any] = {"categorical": self.array(np.asarray(value.codes))}
            if _is_text_list(categories):
                out["categories"] = categories
                out["categories_dtype"] = "str" if str(value.categories.dtype) == "str" else "object"
            else:
                out["categories_inline"] = self._inline(np.asarray(value.categories, dtype=object))
            return out
        if isinstance(value, dict):
            return {"dict": [[key, self.encode(item)] for key, item in value.items()]}
        if isinstance(value, np.ndarray):
            if value.dtype != object:
                return self.array(value)
            codes, uniques = pd.factorize(value, use_na_sentinel=False)
            uniques = list(uniques)
            if len(value) > 64 and len(uniques) * 4 <= len(value) and _is_text_list(uniques):
                return {"coded": self.array(codes.astype(np.int32)), "values": uniques}
            return {"inline": self._inline(value)}
        raise TypeError(f"cannot store a {type(value).__name__}")

    def _inline(self, value: Any) -> int:
        self.inline.append(value)
        return len(self.inline) - 1


def _decode(spec: Any, load: Any, inline: list[Any]) -> Any:
    if "npy" in spec:
        return load(spec["npy"])
    if "frame" in spec:
        # copy=False: the columns stay as they are (memory-mapped), never consolidated into a copy
        return pd.DataFrame({name: _decode(item, load, inline) for name, item in spec["frame"]}, copy=False)
    if "categorical" in spec:
        categories = (pd.Index(spec["categories"], dtype=spec.get("categories_dtype", "object"))
                      if "categories" in spec
                      else pd.Index(inline[spec["categories_inline"]], dtype=object))
        return pd.Categorical.from_codes(np.asarray(load(spec["categorical"]["npy"])), categories=categories)
    if "dict" in spec:
        return {key: _decode(item, load, inline) for key, item in spec["dict"]}
    if "coded" in spec:
        values = np.empty(len(spec["values"]), dtype=object)
        values[:] = spec["values"]
        return values[np.asarray(load(spec["coded"]["npy"]))]
    return inline[spec["inline"]]


class Stored:
    """Mixin: :meth:`store_in` writes the fields named in ``stored_fields`` to a
    directory; pickling then leaves them out, and they are memory-mapped back on first
    use in whichever process reads them."""

    stored_fields: tuple[str, ...] = ()

    def store_in(self, directory: str) -> None:
        """Write the stored fields into ``directory`` (created if needed; chosen by the caller)."""
        os.makedirs(directory, exist_ok=True)
        writer = _Writer(lambda i, a: np.save(os.path.join(directory, f"{i}.npy"), a, allow_pickle=False))
        manifest = {name: writer.encode(getattr(self, name)) for name in self.stored_fields}
        self.__dict__["_store"] = {"directory": directory, "manifest": manifest, "inline": writer.inline}

    @property
    def store_directory(self) -> str | None:
        """The directory holding the stored fields, or None when they live in memory only."""
        store = self.__dict__.get("_store")
        return store["directory"] if store else None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if state.get("_store"):
            for name in self.stored_fields:
                state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __getattr__(self, name: str) -> Any:
        store = self.__dict__.get("_store")
        if store is None or name not in type(self).stored_fields:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        loaded = self.load_stored()
        self.__dict__.update(loaded)
        return loaded[name]

    def fields(self) -> dict[str, Any]:
        """The stored fields: those held in memory, else memory-mapped from their directory
        without keeping them; dict values are shallow copies (a caller may pop from them to
        let go of a column early)."""
        held = self.__dict__
        if self.store_directory and not all(name in held for name in self.stored_fields):
            return self.load_stored()
        return {name: dict(held[name]) if isinstance(held[name], dict) else held[name] for name in self.stored_fields}

    def release(self) -> None:
        """Drop the stored fields held in memory (they are memory-mapped back on next use);
        nothing happens to fields that live in memory only."""
        if self.store_directory:
            for name in self.stored_fields:
                self.__dict__.pop(name, None)

    def load_stored(self) -> dict[str, Any]:
        """The stored fields read from their directory (memory-mapped), without keeping them."""
        store = self.__dict__["_store"]
        directory = store["directory"]

        def load(index: int) -> np.ndarray:
            # a plain ndarray viewing the map (np.memmap's subclass behaviour is not wanted)
            return np.asarray(np.load(os.path.join(directory, f"{int(index)}.npy"), mmap_mode="r", allow_pickle=False))

        return {name: _decode(spec, load, store["inline"]) for name, spec in store["manifest"].items()}


# ------------------------------------------------------------ self-contained bytes
def pack(values: dict[str, Any], meta: dict[str, Any]) -> bytes:
    """``values`` (arrays, frames, Categoricals, dicts of them) and JSON ``meta`` as one
    ``.npz`` archive; object arrays of strings become JSON lists. No pickle."""
    arrays: dict[str, np.ndarray] = {}

    def save(index: int, array: np.ndarray) -> None:
        arrays[f"a{index}"] = array

    writer = _Writer(save)
    manifest = {name: writer.encode(value) for name, value in values.items()}
    inline = []
    for item in writer.inline:
        texts = item.tolist()
        if not _is_text_list(texts):
            raise TypeError("only strings can be packed")
        inline.append(texts)
    header = json.dumps({"manifest": manifest, "inline": inline, "meta": meta}).encode("utf-8")
    buffer = io.BytesIO()
    np.savez(buffer, header=np.frombuffer(header, dtype=np.uint8), **arrays)
    return buffer.getvalue()


def unpack(data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inverse of :func:`pack`: (values, meta)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        header = json.loads(archive["header"].tobytes().decode("utf-8"))
        arrays = {name: archive[name] for name in archive.files if name != "header"}
    inline = []
    for texts in header["inline"]:
        values = np.empty(len(texts), dtype=object)
        values[:] = texts
        inline.append(values)
    load = lambda index: arrays[f"a{int(index)}"]  # noqa: E731
    return {name: _decode(spec, load, inline) for name, spec in header["manifest"].items()}, header["meta"]
