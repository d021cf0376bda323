"""Amazon ML recipes: parsing, validation, default recipe and the fitted feature pipeline.

Decisions on [U] items (see DG *Recipe Format Reference* / *Data Transformations*):

* Only the sections ``groups``, ``assignments`` and ``outputs`` are allowed;
  ``outputs`` must be a non-empty list.  ``//`` comments are stripped both outside
  JSON strings and at the end of expression strings.
* ``group(...)`` members may be attributes or earlier/built-in groups (not
  ``ALL_INPUTS``); ``group_remove(G, a, ...)`` removes attributes from group ``G``.
  Group/assignment names: start with a letter, at most 64 characters, must not
  clash with attributes, built-in groups or other definitions.
* Target, rowId, rowWeight and excluded attributes are silently dropped wherever they
  are referenced.  ``ALL_INPUTS`` may only be used as a whole output entry.
* Types: lowercase/no_punct take TEXT or CATEGORICAL; ngram/osb take TEXT, n in
  2..10; quantile_bin takes NUMERIC, n in 2..1000; normalize takes NUMERIC;
  cartesian takes two TEXT/CATEGORICAL/BINARY (or token) inputs.  Applied to a
  group, a transform applies to each member; cartesian of two groups forms every
  member pair.
* ngram tokens (words joined by a space) include the unigrams; osb emits only the
  pairs (``w1_w2``, ``w1__w3`` ...; unigrams come from listing the raw variable).
* quantile_bin edges are training-data quantiles; missing numerics go to a
  ``missing`` bin.  Missing categorical/text values produce no feature.
* Features: every categorical/text/token output becomes one-hot ``name=token``
  features (vocabulary learned on training data; unseen tokens ignored); every
  numeric output becomes one real-valued feature standardised with training
  mean/std (missing -> 0, i.e. the mean).  BINARY outputs are one-hot ``0``/``1``.
* The default recipe quantile-bins numerics (bin count per variable from 10, 20,
  50, 100, 200, 500: the largest with at least 50 training rows per bin and not
  more bins than distinct values; numerics with fewer than 500 values are not
  binned because such bins only add noise) and, to train well with a linear model, also
  outputs the raw (standardised) numerics via ``ALL_NUMERIC``; text is
  ``lowercase(no_punct(ALL_TEXT))``.
"""
from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..memory import release_mapped
from . import columns
from .errors import EngineInputError
from .recipe_parser import Call, Name, parse_expression, quote_name, render
from .schema import DataSchema

BUILTIN_GROUPS = {"ALL_TEXT": "TEXT", "ALL_NUMERIC": "NUMERIC", "ALL_CATEGORICAL": "CATEGORICAL",
                  "ALL_BINARY": "BINARY", "ALL_INPUTS": None}
# name -> (arity, integer-arg range or None, accepted input types, output type or None = same)
FUNCTIONS: dict[str, tuple[int, tuple[int, int] | None, tuple[str, ...], str | None]] = {
    "lowercase": (1, None, ("TEXT", "CATEGORICAL"), None),
    "no_punct": (1, None, ("TEXT", "CATEGORICAL"), None),
    "ngram": (2, (2, 10), ("TEXT",), "TOKENS"),
    "osb": (2, (2, 10), ("TEXT",), "TOKENS"),
    "quantile_bin": (2, (2, 1000), ("NUMERIC",), "CATEGORICAL"),
    "normalize": (1, None, ("NUMERIC",), "NUMERIC"),
    "cartesian": (2, None, ("TEXT", "CATEGORICAL", "BINARY", "TOKENS"), "TOKENS"),
}
_NAME_RE = re.compile(r"^[A-Za-z].{0,63}$", re.S)
_BIN_CHOICES = (10, 20, 50, 100, 200, 500)
_ROWS_PER_BIN = 50


def _strip_punct(token: str) -> str:
    start, end = 0, len(token)
    while start < end and not token[start].isalnum():
        start += 1
    while end > start and not token[end - 1].isalnum():
        end -= 1
    return token[start:end]


def no_punct_text(text: str) -> str:
    """no_punct(x): strip leading/trailing punctuation of each whitespace token."""
    return " ".join(t for t in (_strip_punct(tok) for tok in text.split()) if t)


def ngram_tokens(text: str, n: int) -> list[str]:
    """ngram(x, n): unigrams plus every 2..n-gram (words joined by a space)."""
    words = text.split()
    out = list(words)
    for size in range(2, n + 1):
        out.extend(" ".join(words[i:i + size]) for i in range(len(words) - size + 1))
    return out


def osb_tokens(text: str, n: int) -> list[str]:
    """osb(x, n): each word paired with each of the next n-1 words, one '_' per gap."""
    words = text.split()
    out = []
    for i, w in enumerate(words):
        for gap in range(1, n):
            if i + gap >= len(words):
                break
            out.append(w + "_" * gap + words[i + gap])
    return out


def cartesian_tokens(left: Iterable[str], right: Iterable[str]) -> list[str]:
    """cartesian(a, b): every pair of values/tokens joined with '_'."""
    right = list(right)
    return [f"{a}_{b}" for a in left for b in right]


# ------------------------------------------------------------------ recipe model
@dataclass(frozen=True)
class Var:
    """A derived variable: raw attribute or a transform applied to other variables."""

    key: str
    type: str
    op: str = "raw"
    children: tuple = ()
    n: int = 0


@dataclass
class Recipe:
    """A validated recipe resolved against a schema."""

    text: str
    schema: DataSchema
    groups: dict[str, list[str]]
    assignments: dict[str, list[Var]]
    outputs: list[Var]


def _strip_json_comments(text: str) -> str:
    out, i, n, in_str = [], 0, len(text), False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


class _Resolver:
    def __init__(self, schema: DataSchema):
        self.schema = schema
        self.attrs = {a.name: a.type for a in schema.feature_attributes()}
        self.hidden = {schema.target, schema.row_id, schema.row_weight, *schema.excluded} - {None}
        self.groups: dict[str, list[str]] = {
            g: [n for n, t in self.attrs.items() if t == typ] for g, typ in BUILTIN_GROUPS.items() if typ}
        self.user_groups: dict[str, list[str]] = {}
        self.assignments: dict[str, list[Var]] = {}

    # -- names
    def check_new_name(self, name: str, where: str) -> None:
        if not _NAME_RE.match(name):
            raise EngineInputError(
                f"Recipe {where}: name '{name}' must start with a letter and be 1-64 characters long")
        if name in BUILTIN_GROUPS:
            raise EngineInputError(f"Recipe {where}: built-in group '{name}' cannot be redefined")
        if name in self.attrs or name in self.hidden:
            raise EngineInputError(f"Recipe {where}: name '{name}' is already an attribute of the schema")
        if name in self.user_groups or name in self.assignments:
            raise EngineInputError(f"Recipe {where}: name '{name}' is defined more than once")

    def raw(self, name: str) -> Var:
        return Var(quote_name(name), self.attrs[name])

    # -- groups section
    def group_members(self, node, where: str) -> list[str]:
        if isinstance(node, Name):
            if node.text == "ALL_INPUTS":
                raise EngineInputError(f"Recipe {where}: ALL_INPUTS can only be used in 'outputs'")
            if node.text in self.groups:
                return list(self.groups[node.text])
            if node.text in self.attrs:
                return [node.text]
            if node.text in self.hidden:
                return []
            raise EngineInputError(f"Recipe {where}: unknown variable or group '{node.text}'")
        raise EngineInputError(f"Recipe {where}: function '{node.func}' cannot be used inside group()")

    def define_group(self, name: str, expr: Any) -> None:
        where = f"groups['{name}']"
        self.check_new_name(name, where)
        tree = parse_expression(expr, where)
        if not isinstance(tree, Call) or tree.func not in ("group", "group_remove"):
            raise EngineInputError(f"Recipe {where}: a group must be defined with group(...) or group_remove(...)")
        if tree.func == "group":
            members: list[str] = []
            for arg in tree.args:
                members.extend(self.group_members(arg, where))
        else:
            if len(tree.args) < 2:
                raise EngineInputError(f"Recipe {where}: group_remove needs a group and at least one variable to remove")
            base = tree.args[0]
            if not isinstance(base, Name) or base.text not in self.groups:
                raise EngineInputError(f"Recipe {where}: first argument of group_remove must be a group, got '{render(base)}'")
            removed: set[str] = set()
            for arg in tree.args[1:]:
                removed.update(self.group_members(arg, where))
            members = [m for m in self.groups[base.text] if m not in removed]
        members = list(dict.fromkeys(members))
        self.groups[name] = members
        self.user_groups[name] = members

    # -- expressions
    def resolve(self, node, where: str, top_output: bool = False) -> list[Var]:
        if isinstance(node, Name):
            if node.text == "ALL_INPUTS":
                if not top_output:
                    raise EngineInputError(f"Recipe {where}: ALL_INPUTS can only be used as a whole output entry")
                return [self.raw(n) for n in self.attrs]
            if node.text in self.assignments:
                return list(self.assignments[node.text])
            if node.text in self.groups:
                return [self.raw(n) for n in self.groups[node.text]]
            if node.text in self.attrs:
                return [self.raw(node.text)]
            if node.text in self.hidden:
                return []
            if node.text in ("group", "group_remove") or node.text in FUNCTIONS:
                raise EngineInputError(f"Recipe {where}: function '{node.text}' used without arguments")
            raise EngineInputError(f"Recipe {where}: unknown variable '{node.text}'")
        func = node.func
        if func in ("group", "group_remove"):
            raise EngineInputError(f"Recipe {where}: {func}() can only be used in the 'groups' section")
        if func not in FUNCTIONS:
            raise EngineInputError(
                f"Recipe {where}: unknown function '{func}'; expected one of {', '.join(FUNCTIONS)}")
        arity, nrange, accepted, out_type = FUNCTIONS[func]
        if len(node.args) != arity:
            raise EngineInputError(
                f"Recipe {where}: function '{func}' takes {arity} argument{'s' if arity > 1 else ''}, got {len(node.args)}")
        n = 0
        if nrange is not None:
            arg = node.args[1]
            if not isinstance(arg, Name) or arg.quoted or not arg.text.isdigit():
                raise EngineInputError(
                    f"Recipe {where}: second argument of '{func}' must be an integer, got '{render(arg)}'")
            n = int(arg.text)
            if not nrange[0] <= n <= nrange[1]:
                raise EngineInputError(
                    f"Recipe {where}: '{func}' size {n} is out of range; it must be between {nrange[0]} and {nrange[1]}")
        operands = [self.resolve(a, where) for a in (node.args if func == "cartesian" else node.args[:1])]
        for members in operands:
            for v in members:
                if v.type not in accepted:
                    raise EngineInputError(
                        f"Recipe {where}: '{func}' cannot be applied to {v.key} of type {v.type}; "
                        f"it accepts {'/'.join(t for t in accepted if t != 'TOKENS')}")
        if func == "cartesian":
            return [Var(f"cartesian({a.key},{b.key})", "TOKENS", func, (a, b))
                    for a in operands[0] for b in operands[1] if a.key != b.key]
        out = []
        for v in operands[0]:
            key = f"{func}({v.key},{n})" if nrange else f"{func}({v.key})"
            out.append(Var(key, out_type or v.type, func, (v,), n))
        return out


def parse_recipe(text: str, schema: DataSchema) -> Recipe:
    """Parse and validate recipe JSON against ``schema``; raise EngineInputError."""
    if not isinstance(text, str) or not text.strip():
        raise EngineInputError("Recipe is empty")
    try:
        doc = json.loads(_strip_json_comments(text))
    except ValueError as exc:
        raise EngineInputError(f"Recipe is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise EngineInputError("Recipe must be a JSON object with 'groups', 'assignments' and 'outputs'")
    unknown = set(doc) - {"groups", "assignments", "outputs"}
    if unknown:
        raise EngineInputError(f"Recipe has unknown section(s): {', '.join(sorted(unknown))}")
    groups = doc.get("groups") or {}
    assignments = doc.get("assignments") or {}
    outputs = doc.get("outputs")
    if not isinstance(groups, dict):
        raise EngineInputError("Recipe 'groups' must be an object mapping names to group expressions")
    if not isinstance(assignments, dict):
        raise EngineInputError("Recipe 'assignments' must be an object mapping names to expressions")
    if outputs is None:
        raise EngineInputError("Recipe 'outputs' section is missing")
    if not isinstance(outputs, list):
        raise EngineInputError("Recipe 'outputs' must be a list of expressions")
    if not outputs:
        raise EngineInputError("Recipe 'outputs' section is empty")
    res = _Resolver(schema)
    for name, expr in groups.items():
        res.define_group(name, expr)
    for name, expr in assignments.items():
        where = f"assignments['{name}']"
        res.check_new_name(name, where)
        vars_ = res.resolve(parse_expression(expr, where), where)
        if len(vars_) == 1:
            vars_ = [Var(vars_[0].key, vars_[0].type, vars_[0].op, vars_[0].children, vars_[0].n)]
        res.assignments[name] = vars_
    out: dict[str, Var] = {}
    for i, expr in enumerate(outputs):
        where = f"outputs[{i}]"
        if not isinstance(expr, str):
            raise EngineInputError(f"Recipe {where} must be a string")
        if not expr.split("//", 1)[0].strip():
            raise EngineInputError(f"Recipe {where} is an empty expression")
        for v in res.resolve(parse_expression(expr, where), where, top_output=True):
            out.setdefault(v.key, v)
    if not out:
        raise EngineInputError("Recipe 'outputs' produce no input variables (only target/rowId/excluded attributes?)")
    return Recipe(text=text, schema=schema, groups=res.user_groups, assignments=res.assignments,
                  outputs=list(out.values()))


# ------------------------------------------------------------------ default recipe
def _bins_for(values: np.ndarray) -> int:
    """Bin count for a numeric variable; 0 = too little data to bin it."""
    vals = values[~np.isnan(values)]
    distinct = len(np.unique(vals))
    best = 0
    for c in _BIN_CHOICES:
        if c * _ROWS_PER_BIN <= len(vals) and c <= distinct:
            best = c
    return best


def default_recipe(dataset) -> str:
    """The recipe suggested when neither Recipe nor RecipeUri is given (JSON text)."""
    schema: DataSchema = dataset.schema
    feats = schema.feature_attributes()
    groups: dict[int, list[str]] = {}
    for a in feats:
        if a.type == "NUMERIC":
            values = dataset.frame[a.name].to_numpy(dtype=float)
            nb = _bins_for(values)
            release_mapped(values)  # a column read from a file map: its pages until read again
            if nb:
                groups.setdefault(nb, []).append(a.name)
    types = {a.type for a in feats}
    outputs = []
    if "BINARY" in types:
        outputs.append("ALL_BINARY")
    if "CATEGORICAL" in types:
        outputs.append("ALL_CATEGORICAL")
    if "NUMERIC" in types:
        outputs.append("ALL_NUMERIC")
    for nb in sorted(groups):
        outputs.append(f"quantile_bin(NUMERIC_VARS_QB_{nb},{nb})")
    if "TEXT" in types:
        outputs.append("lowercase(no_punct(ALL_TEXT))")
    if not outputs:
        outputs.append("ALL_INPUTS")
    doc = {"groups": {f"NUMERIC_VARS_QB_{nb}": "group(" + ",".join(quote_name(n) for n in groups[nb]) + ")"
                      for nb in sorted(groups)},
           "assignments": {}, "outputs": outputs}
    return json.dumps(doc, indent=2)


# ------------------------------------------------------------------ pipeline
def _columns_from_frame(frame: pd.DataFrame, schema: DataSchema) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    for a in schema.feature_attributes():
        if a.name not in frame.columns:
            continue
        col = frame[a.name]
        if a.type in ("NUMERIC", "BINARY"):
            cols[a.name] = (col.to_numpy() if col.dtype == np.float64  # the frame's own array, no copy
                            else pd.to_numeric(col, errors="coerce").to_numpy(dtype=float))
        else:
            cols[a.name] = columns.strings_of(col)
    return cols


def _quantiles(values: np.ndarray, n: int) -> np.ndarray:
    """The n-1 inner n-quantiles of ``values`` (NumPy's default method). The values are
    sorted first: the same order statistics, but NumPy's selection of hundreds of them is
    several times faster on sorted data."""
    return np.quantile(np.sort(values), np.linspace(0, 1, n + 1)[1:-1])


def _attribute(var: Var) -> str:
    """The attribute name of a raw variable (its key is the quoted name)."""
    return var.key[1:-1].replace("\\'", "'").replace("\\\\", "\\")


def _joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    """The parts concatenated; the list is emptied, so each part is freed once copied."""
    joined = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
    parts.clear()
    return joined


@dataclass
class Design:
    """A training matrix in parts (:meth:`FeaturePipeline.design`): row i's features are
    ``dense[i]`` at ``dense_features``, 1.0 at each of ``indices[i]`` below ``n_features``
    (``n_features`` itself stands for none), and the sparse row ``rest[i]`` when present."""

    dense: np.ndarray  # (n, p) float64
    dense_features: np.ndarray  # (p,)
    indices: np.ndarray  # (n, q) int16 or int32
    rest: sp.csr_matrix | None
    n_features: int

    def dot(self, W: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """``X @ W`` for weights (n_features, k), ``chunk`` rows at a time."""
        n, d, k = len(self.indices), self.n_features, W.shape[1]
        padded = np.vstack([W, np.zeros((1, k))])  # row d: no feature
        at = self.dense_features
        out = np.empty((n, k))
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            z = self.dense[s:e] @ W[at]
            for c in range(self.indices.shape[1]):
                z += padded[self.indices[s:e, c]]
            out[s:e] = z
        if self.rest is not None:
            out += np.asarray(self.rest @ W)
        return out


class FeaturePipeline:
    """Turns typed rows into sparse feature matrices following a recipe.

    ``fit`` learns quantile edges, normalisation statistics, the token vocabulary and
    the numeric feature standardisation on training data; ``transform`` and
    ``record_features`` apply exactly the same transformation afterwards.
    """

    def __init__(self, recipe: Recipe):
        self.recipe = recipe
        self.params: dict[str, Any] = {}
        self.vocab: list[dict[str, int]] = []  # per output var (token vars only)
        self.numeric_stats: dict[int, tuple[float, float]] = {}  # output position -> (mean, std)
        self.n_features = 0
        self._offsets: list[int] = []
        self._edges: dict[str, np.ndarray] = {}  # quantile edges as arrays, per variable

    # -- evaluation of variables on columns
    def _walk(self, var: Var, cols: dict[str, Any], n: int, cache: dict[str, Any],
              apply: Callable[[Var, list], Any], no_text: Callable[[int], Any]):
        """``var`` evaluated bottom-up over ``cols`` (memoised in ``cache``); ``apply`` computes
        one step from its arguments, ``no_text`` stands for a text attribute absent from ``cols``."""
        if var.key in cache:
            return cache[var.key]
        if var.op == "raw":
            val = cols.get(_attribute(var))
            if val is None:
                val = np.full(n, np.nan) if var.type in ("NUMERIC", "BINARY") else no_text(n)
        else:
            val = apply(var, [self._walk(c, cols, n, cache, apply, no_text) for c in var.children])
        cache[var.key] = val
        return val

    def _eval(self, var: Var, cols: dict[str, Any], n: int, cache: dict[str, Any], fitting: bool):
        """``var`` over a few records given as lists (the one-record Predict path)."""
        return self._walk(var, cols, n, cache, lambda v, args: self._apply(v, args, fitting), lambda k: [""] * k)

    def _apply(self, var: Var, args: list, fitting: bool):
        op, x = var.op, args[0]
        if op == "lowercase":
            return [s.lower() for s in x]
        if op == "no_punct":
            return [no_punct_text(s) for s in x]
        if op == "ngram":
            return [ngram_tokens(s, var.n) for s in x]
        if op == "osb":
            return [osb_tokens(s, var.n) for s in x]
        if op == "quantile_bin":
            if fitting and var.key not in self.params:
                vals = x[~np.isnan(x)]
                edges = (np.unique(_quantiles(vals, var.n))
                         if len(vals) else np.array([]))
                self.params[var.key] = [float(e) for e in edges]
            edges = self._edges.get(var.key)
            if edges is None:
                edges = self._edges[var.key] = np.asarray(self.params[var.key], dtype=float)
            if len(x) == 1:  # one record (Predict): bisect beats numpy's per-call overhead
                v = float(x[0])
                return ["missing" if v != v else f"b{bisect.bisect_right(self.params[var.key], v)}"]
            ids = np.searchsorted(edges, x, side="right")
            return ["missing" if v != v else f"b{int(i)}" for v, i in zip(x, ids)]
        if op == "normalize":
            if fitting and var.key not in self.params:
                vals = x[~np.isnan(x)]
                mean = float(vals.mean()) if len(vals) else 0.0
                std = float(vals.std()) if len(vals) else 1.0
                self.params[var.key] = [mean, std if std > 0 else 1.0]
            mean, std = self.params[var.key]
            return (x - mean) / std
        if op == "cartesian":
            a_t = self._tokens(var.children[0], args[0])
            b_t = self._tokens(var.children[1], args[1])
            return [cartesian_tokens(a, b) for a, b in zip(a_t, b_t)]
        raise AssertionError(op)

    @staticmethod
    def _tokens(var: Var, values) -> list[list[str]]:
        if var.type == "TOKENS":
            return values
        if var.type == "TEXT":
            return [s.split() for s in values]
        if var.type == "BINARY":
            return [[] if v != v else [str(int(v))] for v in values]
        return [[s] if s != "" else [] for s in values]

    # -- whole columns (fit / transform)
    def _column(self, var: Var, cols: dict[str, Any], n: int, cache: dict[str, Any], fitting: bool):
        """``var`` over all rows: a float array, :class:`Strings` or :class:`Tokens`."""
        return self._walk(var, cols, n, cache, lambda v, args: self._apply_column(v, args, n, fitting),
                          columns.empty_strings)

    def _apply_column(self, var: Var, args: list, n: int, fitting: bool):
        op, x = var.op, args[0]
        if op == "lowercase":
            return x.map(str.lower)
        if op == "no_punct":
            return x.map(no_punct_text)
        if op == "ngram":
            return x.ragged(lambda s: ngram_tokens(s, var.n))
        if op == "osb":
            return x.ragged(lambda s: osb_tokens(s, var.n))
        if op == "quantile_bin":
            if fitting and var.key not in self.params:
                vals = x[~np.isnan(x)]
                edges = (np.unique(_quantiles(vals, var.n))
                         if len(vals) else np.array([]))
                self.params[var.key] = [float(e) for e in edges]
            return columns.quantile_bins(x, np.asarray(self.params[var.key], dtype=float))
        if op == "normalize":
            return self._apply(var, [x], fitting)
        if op == "cartesian":
            return columns.cartesian(self._column_tokens(var.children[0], args[0]),
                                     self._column_tokens(var.children[1], args[1]), n)
        raise AssertionError(op)

    @staticmethod
    def _column_tokens(var: Var, values) -> "columns.Tokens":
        """Column form of :meth:`_tokens`."""
        if var.type == "TOKENS":
            return values
        if var.type == "TEXT":
            return values.ragged(str.split)
        if var.type == "BINARY":
            return columns.binary_tokens(np.asarray(values, dtype=float))
        return values.nonempty_tokens()

    # -- fit / transform
    def fit(self, frame: pd.DataFrame, cache: dict[str, Any] | None = None) -> "FeaturePipeline":
        """Learn all data-dependent parameters on the training frame (``cache``: filled
        with the columns of every variable, for :meth:`fit_transform`)."""
        cols = _columns_from_frame(frame, self.recipe.schema)
        n = len(frame)
        cache = {} if cache is None else cache
        self.vocab, self.numeric_stats, self._offsets, self._edges = [], {}, [], {}
        index = 0
        for j, var in enumerate(self.recipe.outputs):
            vals = self._column(var, cols, n, cache, fitting=True)
            self._offsets.append(index)
            if var.type == "NUMERIC":
                finite = vals[~np.isnan(vals)]
                mean = float(finite.mean()) if len(finite) else 0.0
                std = float(finite.std()) if len(finite) else 1.0
                self.numeric_stats[j] = (mean, std if std > 1e-12 else 1.0)
                self.vocab.append({})
                index += 1
            else:
                toks = columns.present_tokens(self._column_tokens(var, vals))
                self.vocab.append({t: index + k for k, t in enumerate(toks)})
                index += len(toks)
            # columns read from file maps: their pages until next read (one at a time resident)
            release_mapped(*[values for values in cols.values() if isinstance(values, np.ndarray)])
        self.n_features = index
        return self

    def correction_columns(self) -> np.ndarray:
        """Boolean mask of the features that are quantile bins of a numeric which the
        recipe also outputs as a plain number (the default recipe's layout): the bins
        then only correct the linear term, and training regularises them more."""
        plain = {var.key for var in self.recipe.outputs if var.op == "raw" and var.type == "NUMERIC"}
        mask = np.zeros(self.n_features, dtype=bool)
        for j, var in enumerate(self.recipe.outputs):
            if var.op == "quantile_bin" and var.children and var.children[0].key in plain:
                end = self._offsets[j + 1] if j + 1 < len(self._offsets) else self.n_features
                mask[self._offsets[j]:end] = True
        return mask

    def fit_transform(self, frame: pd.DataFrame) -> sp.csr_matrix:
        """:meth:`fit` then :meth:`transform` of the same frame, each variable computed once."""
        cache: dict[str, Any] = {}
        self.fit(frame, cache)
        return self.transform(frame, cache)

    def transform(self, frame: pd.DataFrame, cache: dict[str, Any] | None = None) -> sp.csr_matrix:
        """Sparse (n_rows x n_features) matrix for a typed frame, built column by column
        (``cache``: the columns :meth:`fit` computed on this same frame)."""
        n = len(frame)
        cols = _columns_from_frame(frame, self.recipe.schema) if cache is None else {}
        cache = {} if cache is None else cache
        row_parts, col_parts, val_parts = [], [], []
        # 32-bit indices when they fit (what SciPy would convert them to anyway): half the
        # memory of the (row, feature) pairs, and no conversion copy
        index = np.int32 if max(n, self.n_features) < np.iinfo(np.int32).max else np.int64
        for j, var in enumerate(self.recipe.outputs):
            vals = self._column(var, cols, n, cache, fitting=False)
            if var.type == "NUMERIC":
                mean, std = self.numeric_stats[j]
                z = (np.asarray(vals, dtype=float) - mean) / std
                z[np.isnan(z)] = 0.0
                row_parts.append(np.arange(n, dtype=index))
                col_parts.append(np.full(n, self._offsets[j], dtype=index))
                val_parts.append(z)
            else:
                rows, feats = columns.token_features(self._column_tokens(var, vals), self.vocab[j], self.n_features)
                row_parts.append(rows.astype(index, copy=False))
                col_parts.append(feats.astype(index, copy=False))
                val_parts.append(np.ones(len(feats)))
        rows, feats, values = _joined(row_parts, index), _joined(col_parts, index), _joined(val_parts, np.float64)
        return sp.csr_matrix((values, (rows, feats)), shape=(n, self.n_features))

    def design(self, frame: pd.DataFrame, cache: dict[str, Any] | None = None,
               order: np.ndarray | None = None) -> "Design":
        """The matrix of :meth:`transform` in parts (``cache``: what :meth:`fit`
        computed on this same frame, emptied as the parts are built): the standardised
        numerics as one dense block, every output with at most one token a row as one
        column of feature indices, and only the other outputs (text tokens) as a sparse
        matrix. About a third of the memory of the whole matrix in float64 CSR.

        ``order`` (a permutation of the frame's rows): row i of the design is frame row
        ``order[i]`` (built so, never a reordered copy). A numeric column read from a file
        map has its pages given back once used."""
        n, d = len(frame), self.n_features
        position = None  # each frame row's row in the design
        if order is not None:
            position = np.empty(n, dtype=np.int64)
            position[order] = np.arange(n, dtype=np.int64)
        outputs = {var.key for var in self.recipe.outputs}
        cols: dict[str, Any] = {}
        if cache is None:
            cols, cache = _columns_from_frame(frame, self.recipe.schema), {}
        for key in [k for k in cache if k not in outputs]:
            del cache[key]  # fit's intermediate variables
        numeric_at = [j for j, var in enumerate(self.recipe.outputs) if var.type == "NUMERIC"]
        dense = np.empty((n, len(numeric_at)))
        # feature indices (and d, "none") in the smallest type that holds them: usually 16 bits
        small = np.int16 if d < np.iinfo(np.int16).max else np.int32
        indices = np.empty((n, sum(var.type != "NUMERIC" for var in self.recipe.outputs)), dtype=small)
        q = 0
        row_parts, col_parts = [], []
        for j, var in enumerate(self.recipe.outputs):
            vals = cache.pop(var.key) if var.key in cache else self._column(var, cols, n, cache, fitting=False)
            cache.pop(var.key, None)
            if var.type == "NUMERIC":
                mean, std = self.numeric_stats[j]
                column = dense[:, numeric_at.index(j)]
                values = np.asarray(vals, dtype=float)
                np.subtract(values if order is None else values[order], mean, out=column)
                column /= std
                column[np.isnan(column)] = 0.0
                release_mapped(values)
                continue
            tokens = self._column_tokens(var, vals)
            del vals
            rows, feats = columns.token_features(tokens, self.vocab[j], d)
            if position is not None:
                rows = position[rows]
            if tokens.single:
                column = indices[:, q]
                column.fill(d)  # d: no feature (a weight held at 0)
                column[rows] = feats
                q += 1
            else:
                row_parts.append(rows)
                col_parts.append(feats)
        rest = None
        if row_parts:
            rows, feats = _joined(row_parts, np.int64), _joined(col_parts, np.int64)
            rest = sp.csr_matrix((np.ones(len(rows)), (rows, feats)), shape=(n, d))
        if q < indices.shape[1]:
            indices = np.ascontiguousarray(indices[:, :q])
        return Design(dense, np.array([self._offsets[j] for j in numeric_at], dtype=np.int64), indices, rest, d)

    def record_features(self, typed: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices, values) of one typed record (see datasets.coerce_record)."""
        cols = {}
        for a in self.recipe.schema.feature_attributes():
            v = typed.get(a.name)
            cols[a.name] = np.array([v], dtype=float) if a.type in ("NUMERIC", "BINARY") else [v or ""]
        # The same computation as _rows for n=1, in plain Python: Predict's hot path.
        cache: dict[str, Any] = {}
        indices: list[int] = []
        values: list[float] = []
        for j, var in enumerate(self.recipe.outputs):
            vals = self._eval(var, cols, 1, cache, fitting=False)
            if var.type == "NUMERIC":
                mean, std = self.numeric_stats[j]
                x = float(vals[0])
                indices.append(self._offsets[j])
                values.append(0.0 if x != x else (x - mean) / std)
            else:
                vocab = self.vocab[j]
                for index in {vocab[t] for t in self._tokens(var, vals)[0] if t in vocab}:
                    indices.append(index)
                    values.append(1.0)
        return np.asarray(indices, dtype=np.int64), np.asarray(values, dtype=float)

    # -- persistence (JSON-able)
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable learned state (the recipe is stored separately)."""
        return {"params": self.params,
                "vocab": [sorted(v, key=v.__getitem__) for v in self.vocab],
                "numeric_stats": {str(k): list(v) for k, v in self.numeric_stats.items()},
                "offsets": self._offsets, "n_features": self.n_features}

    @classmethod
    def from_dict(cls, recipe: Recipe, state: dict[str, Any]) -> "FeaturePipeline":
        """Rebuild a fitted pipeline from ``to_dict`` output."""
        pipe = cls(recipe)
        pipe.params = state["params"]
        pipe._offsets = list(state["offsets"])
        pipe.vocab = [{t: off + k for k, t in enumerate(toks)} for toks, off in zip(state["vocab"], pipe._offsets)]
        pipe.numeric_stats = {int(k): (float(v[0]), float(v[1])) for k, v in state["numeric_stats"].items()}
        pipe.n_features = int(state["n_features"])
        return pipe
