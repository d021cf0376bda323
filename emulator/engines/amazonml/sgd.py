"""Training parameters and the SGD trainer (logistic / softmax / linear regression).

Decisions on [U]/conflicting items:

* Parameter ranges follow the API reference: ``sgd.maxPasses`` 1..10000 (default
  10), ``sgd.maxMLModelSizeInBytes`` 100000..2147483648 (default 33554432),
  ``sgd.shuffleType`` auto|none (default none), L1/L2 >= 0 and mutually exclusive
  (default L2 1e-6 when neither is given).  Unknown keys are rejected.
* The echo (``validate_parameters``) contains the user keys (normalised) plus every
  default and ``"algorithm": "sgd"``; when L1 is given no L2 default is added.
* Trainer: mini-batch SGD (100 batches of n/100 rows per pass) with AdaGrad per-coordinate
  step sizes, at most
  ``maxPasses`` passes with early stop on convergence (relative loss change < 1e-5),
  iterate averaging over the last pass.  ``auto`` shuffles the rows once (fixed seed)
  before training; ``none`` visits rows in input order.  Regression trains on a
  standardised target.  Rows with a missing target are ignored; ``rowWeight`` values
  are sample weights (missing -> 1, negative -> 0).  Quantile bins of a numeric that the
  recipe also outputs as a number get an extra L2 of ``CORRECTION_L2`` (they correct the
  linear term only where the data show it is not linear).
* MULTICLASS with more than 100 classes, or a classification target with a single
  class, is a DataProcessingError; so is a model larger than maxMLModelSizeInBytes.
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from threadpoolctl import ThreadpoolController

from ..memory import release_mapped
from .datasets import Dataset, rows_with_target
from .errors import DataProcessingError, EngineInputError
from .model import TrainedModel, _sigmoid, _softmax
from .recipes import Design, FeaturePipeline, default_recipe, parse_recipe
from .schema import check_target_for_model_type

MAX_CLASSES = 100
# L2 strength on quantile-bin features that correct a numeric the recipe also outputs as
# a number (the default recipe): with the default L2 of 1e-6 such bins overfit linear
# data (2,100 rows of make_regression: RMSE 12 % above ordinary least squares).
CORRECTION_L2 = 0.15
BATCHES_PER_PASS = 100
"""Mini-batches per pass (of n/100 rows each, at least 1): the number of steps does not grow
with the data, each step is one larger vectorised product."""
DENSE_LIMIT = 20_000_000
"""Multiclass training matrices of at most this many cells (rows x features) are trained
dense. One-output models (logistic, linear) always train on a :class:`Design` (numerics
dense, one-token outputs as feature indices), never on the whole matrix."""
DEFAULTS = {"sgd.maxPasses": "10", "sgd.maxMLModelSizeInBytes": "33554432", "sgd.shuffleType": "none"}
_KEYS = ("sgd.maxPasses", "sgd.maxMLModelSizeInBytes", "sgd.shuffleType",
         "sgd.l1RegularizationAmount", "sgd.l2RegularizationAmount")


def _int_param(params: dict[str, str], key: str, lo: int, hi: int) -> int:
    raw = params[key]
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise EngineInputError(f"Training parameter '{key}' must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise EngineInputError(f"Training parameter '{key}' must be between {lo} and {hi}, got {raw!r}")
    return value


def _float_param(params: dict[str, str], key: str) -> float:
    raw = params[key]
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise EngineInputError(f"Training parameter '{key}' must be a number, got {raw!r}") from None
    if not np.isfinite(value) or value < 0:
        raise EngineInputError(f"Training parameter '{key}' must be a finite number >= 0, got {raw!r}")
    return value


def validate_parameters(params: dict[str, str] | None) -> dict[str, str]:
    """Validate CreateMLModel ``Parameters``; return the ``TrainingParameters`` echo."""
    params = dict(params or {})
    for key in params:
        if key not in _KEYS:
            raise EngineInputError(f"Unknown training parameter '{key}'; valid keys are {', '.join(_KEYS)}")
        if not isinstance(params[key], str):
            raise EngineInputError(f"Training parameter '{key}' must be a string value")
    echo = dict(params)
    for key, value in DEFAULTS.items():
        echo.setdefault(key, value)
    _int_param(echo, "sgd.maxPasses", 1, 10000)
    _int_param(echo, "sgd.maxMLModelSizeInBytes", 100000, 2147483648)
    shuffle = echo["sgd.shuffleType"].strip().lower()
    if shuffle not in ("auto", "none"):
        raise EngineInputError(f"Training parameter 'sgd.shuffleType' must be 'auto' or 'none', got {echo['sgd.shuffleType']!r}")
    l1 = "sgd.l1RegularizationAmount" in params
    l2 = "sgd.l2RegularizationAmount" in params
    if l1 and l2:
        raise EngineInputError("Training parameters 'sgd.l1RegularizationAmount' and "
                               "'sgd.l2RegularizationAmount' are mutually exclusive")
    if l1:
        _float_param(echo, "sgd.l1RegularizationAmount")
    else:
        echo.setdefault("sgd.l2RegularizationAmount", "1e-6")
        _float_param(echo, "sgd.l2RegularizationAmount")
    echo["algorithm"] = "sgd"
    return echo


def _sgd(X: sp.csr_matrix | np.ndarray | Design, Y: np.ndarray, w: np.ndarray, kind: str, passes: int, shuffle: bool,
         l1: float, l2: float, extra_l2: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mini-batch AdaGrad SGD; Y is (n,) for logistic/linear, (n,k) one-hot for softmax.
    ``extra_l2`` (d,) adds a per-feature L2 strength on top of ``l2``."""
    if isinstance(X, Design):  # one output (see train_model)
        n, d = len(X.dense), X.n_features
        order = np.random.default_rng(0).permutation(n) if shuffle else np.arange(n)
        reg = (np.full(d, l2) if extra_l2 is None else l2 + extra_l2) if (l2 or extra_l2 is not None) else None
        batches = _design_batches(X, order, max(1, n // BATCHES_PER_PASS), Y, w)
        W1, b1 = _sgd_one_output(batches, d + 1, kind, passes, l1, None if reg is None else np.append(reg, 0.0))
        return W1[:d, None], np.array([b1])
    n, d = X.shape
    k = Y.shape[1] if Y.ndim == 2 else 1
    order = np.random.default_rng(0).permutation(n) if shuffle else np.arange(n)
    bs = max(1, n // BATCHES_PER_PASS)
    if n * d <= DENSE_LIMIT:
        X = X.toarray()  # small problems: dense slicing is much faster per step
    if k == 1:
        reg = (np.full(d, l2) if extra_l2 is None else l2 + extra_l2) if (l2 or extra_l2 is not None) else None
        if isinstance(X, np.ndarray):
            batches = [_batch(X, order[s:s + bs], Y, w) for s in range(0, n, bs)]
        else:
            batches = _sparse_batches(X, order, bs, Y, w)
        W1, b1 = _sgd_one_output(batches, d, kind, passes, l1, reg)
        return W1[:, None], np.array([b1])
    batches = [_batch(X, order[s:s + bs], Y, w) for s in range(0, n, bs)]
    W = np.zeros((d, k))
    b = np.zeros(k)
    gW = np.full((d, k), 1e-8)
    gb = np.full(k, 1e-8)
    lr = 0.2
    prev_loss = np.inf
    avg_W, avg_b, avg_n = np.zeros_like(W), np.zeros_like(b), 0
    for epoch in range(passes):
        total = 0.0
        sum_W, sum_b = np.zeros_like(W), np.zeros_like(b)
        for forward, backward, yb, wb, wsum in batches:
            if wsum <= 0:
                continue
            P = _softmax(forward(W) + b)
            g = (P - yb) * wb[:, None]
            total += float(-(wb * np.log((P * yb).sum(axis=1) + 1e-12)).sum())
            grad_W = backward(g) / wsum
            grad_b = g.sum(axis=0) / wsum
            if l2:
                grad_W += l2 * W
            if extra_l2 is not None:
                grad_W += extra_l2[:, None] * W
            gW += grad_W * grad_W
            gb += grad_b * grad_b
            step = lr / np.sqrt(gW)
            W -= step * grad_W
            b -= lr / np.sqrt(gb) * grad_b
            if l1:
                W = np.sign(W) * np.maximum(np.abs(W) - step * l1, 0.0)
            sum_W += W
            sum_b += b
        if epoch >= passes // 2 or avg_n == 0:
            avg_W, avg_b, avg_n = avg_W + sum_W, avg_b + sum_b, avg_n + len(batches)
        if _converged(prev_loss, total):
            break
        prev_loss = total
    return avg_W / avg_n, avg_b / avg_n


def _converged(previous: float, total: float) -> bool:
    """End of a pass: the loss changed by less than 1e-5 (relative); a non-finite loss
    is a DataProcessingError."""
    if not np.isfinite(total):
        raise DataProcessingError("SGD diverged while training the ML model (non-finite loss)")
    return previous < np.inf and abs(previous - total) <= 1e-5 * max(abs(previous), 1e-12)


def _sgd_one_output(batches: list, d: int, kind: str, passes: int, l1: float, reg: np.ndarray | None
                    ) -> tuple[np.ndarray, float]:
    """:func:`_sgd` for a logistic or linear model (one output), on 1-D weights with as few
    NumPy calls per step as the same updates allow."""
    W = np.zeros(d)
    b = 0.0
    gW = np.full(d, 1e-8)
    gb = 1e-8
    lr = 0.2 if kind == "logistic" else 0.1
    logistic = kind == "logistic"
    prev_loss = np.inf
    avg_W, avg_b, avg_n = np.zeros(d), 0.0, 0
    grad_sq = np.empty(d)  # scratch for the step's element-wise products
    step = np.empty(d)
    for epoch in range(passes):
        total = 0.0
        sum_W, sum_b = np.zeros(d), 0.0
        for forward, backward, yb, wb, wsum in batches:
            if wsum <= 0:
                continue
            z = forward(W)
            z += b
            if logistic:
                r = expit(z)
                r -= yb  # p - y
                # -log(p) for y=1, -log(1-p) for y=0: -log(1 - |p - y|)
                total -= float(np.dot(wb, np.log(1.0 + 1e-12 - np.abs(r))))
            else:
                r = z - yb
                total += float(np.dot(wb, r * r)) / 2
            g = r * wb
            grad_W = backward(g)
            grad_W /= wsum
            grad_b = float(g.sum()) / wsum
            if reg is not None:
                np.multiply(reg, W, out=grad_sq)
                grad_W += grad_sq
            np.multiply(grad_W, grad_W, out=grad_sq)
            gW += grad_sq
            gb += grad_b * grad_b
            np.sqrt(gW, out=step)
            np.divide(lr, step, out=step)
            np.multiply(step, grad_W, out=grad_sq)
            W -= grad_sq
            b -= lr / np.sqrt(gb) * grad_b
            if l1:
                W = np.sign(W) * np.maximum(np.abs(W) - step * l1, 0.0)
            sum_W += W
            sum_b += b
        if epoch >= passes // 2 or avg_n == 0:
            avg_W, avg_b, avg_n = avg_W + sum_W, avg_b + sum_b, avg_n + len(batches)
        if _converged(prev_loss, total):
            break
        prev_loss = total
    return avg_W / avg_n, avg_b / avg_n


def _sparse_batches(X: sp.csr_matrix, order: np.ndarray, bs: int, Y: np.ndarray, w: np.ndarray) -> list:
    """The one-output mini-batches of a sparse ``X`` (rows visited in ``order``, ``bs`` at a
    time), each as in :func:`_batch`: the rows are reordered once, every batch is a row slice
    of them, and a step is SciPy's compiled CSR products (``rows @ W``, ``rows.T @ G``; the
    same sums in the same order as a per-non-zero ``bincount``, a few times faster)."""
    identity = bool(len(order)) and bool((order == np.arange(len(order))).all())
    xo = X if identity else X[order]
    yo, wo = Y[order], w[order]
    out = []
    for s in range(0, len(order), bs):
        xb = _row_slice(xo, s, s + bs)
        xt = xb.T
        wb = wo[s:s + bs]
        out.append((xb.__matmul__, xt.__matmul__, yo[s:s + bs], wb, float(wb.sum())))
    return out


def _design_batches(design: Design, order: np.ndarray, bs: int, Y: np.ndarray, w: np.ndarray) -> list:
    """The one-output mini-batches of a :class:`Design` (rows visited in ``order``, ``bs`` at
    a time), each as in :func:`_batch` over weights of length ``n_features + 1`` (the last
    one stands for "no feature": its gradient is always 0, so it stays 0). A step is a
    dense product for the numerics, a gather and a ``bincount`` for the one-token outputs
    and SciPy's CSR products for the rest: the same gradients as the whole sparse matrix,
    summed in another order."""
    identity = bool(len(order)) and bool((order == np.arange(len(order))).all())
    dense, indices, rest = design.dense, design.indices, design.rest
    if not identity:
        dense, indices = dense[order], indices[order]
        rest = rest[order] if rest is not None else None
    yo, wo = Y[order], w[order]
    d = design.n_features
    at, q = design.dense_features, indices.shape[1]
    out = []
    for s in range(0, len(order), bs):
        db, ib, wb = dense[s:s + bs], indices[s:s + bs], wo[s:s + bs]
        flat = ib.reshape(-1)  # a view: the rows are contiguous
        rb = _row_slice(rest, s, s + bs) if rest is not None else None

        def forward(W, db=db, ib=ib, rb=rb):
            z = db @ W[at]
            if q:
                z += W[ib].sum(axis=1)
            if rb is not None:
                z += rb @ W[:d]
            return z

        def backward(g, db=db, flat=flat, rb=rb):
            grad = np.bincount(flat, weights=np.repeat(g, q), minlength=d + 1) if q else np.zeros(d + 1)
            grad[at] += db.T @ g
            if rb is not None:
                grad[:d] += rb.T @ g
            grad[d] = 0.0
            return grad

        out.append((forward, backward, yo[s:s + bs], wb, float(wb.sum())))
    return out


def _row_slice(X: sp.csr_matrix, start: int, stop: int) -> sp.csr_matrix:
    """Rows ``start:stop`` of a CSR matrix sharing its data and indices (a view: the
    same stored entries in the same order as SciPy's slicing copy)."""
    stop = min(stop, X.shape[0])
    lo, hi = int(X.indptr[start]), int(X.indptr[stop])
    return sp.csr_matrix((X.data[lo:hi], X.indices[lo:hi], X.indptr[start:stop + 1] - lo),
                         shape=(stop - start, X.shape[1]), copy=False)


def _batch(X: sp.csr_matrix | np.ndarray, idx: np.ndarray, Y: np.ndarray, w: np.ndarray
           ) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray], np.ndarray, np.ndarray, float]:
    """One mini-batch: (rows @ W, rows.T @ G, targets, weights, weight sum); the batch's
    rows (and for sparse rows their transpose) are built once. Sparse one-output models
    use :func:`_sparse_batches` instead."""
    xb, yb, wb = X[idx], Y[idx], w[idx]
    if isinstance(xb, np.ndarray):
        return (lambda W: xb @ W), (lambda G: xb.T @ G), yb, wb, float(wb.sum())
    xb = xb.tocsr()
    xt = xb.T.tocsr()
    return (lambda W: np.asarray(xb @ W)), (lambda G: np.asarray(xt @ G)), yb, wb, float(wb.sum())


@functools.cache
def native_threadpools() -> ThreadpoolController:
    """The process's native thread pools, inspected once (about 30 ms a time in a fresh
    process); made when the worker forkserver imports this module, so every job's
    worker inherits it."""
    return ThreadpoolController()


def train_model(dataset: Dataset, model_type: str, parameters: dict[str, str] | None,
                recipe_text: str | None) -> TrainedModel:
    """Train an Amazon ML model on ``dataset`` (its frame = training rows)."""
    echo = validate_parameters(parameters)
    schema = dataset.schema
    check_target_for_model_type(schema, model_type)
    recipe_text = recipe_text if recipe_text and recipe_text.strip() else default_recipe(dataset)
    recipe = parse_recipe(recipe_text, schema)
    frame = dataset.frame
    frame = rows_with_target(frame, schema.target, model_type)
    if len(frame) == 0:
        raise DataProcessingError(f"No training records have a value for target attribute '{schema.target}'")
    y_raw = frame[schema.target]
    classes: list[str] = []
    if model_type == "BINARY":
        Y = y_raw.to_numpy(dtype=float)
        if len(np.unique(Y)) < 2:
            raise DataProcessingError(f"Target attribute '{schema.target}' has a single value in the training data; "
                                      "a BINARY model needs both 0 and 1")
        kind = "logistic"
    elif model_type == "MULTICLASS":
        labels = y_raw.astype(str).to_numpy()
        classes = sorted(set(labels))
        if len(classes) > MAX_CLASSES:
            raise DataProcessingError(f"Target attribute '{schema.target}' has {len(classes)} distinct values; "
                                      f"a MULTICLASS model supports at most {MAX_CLASSES} classes")
        if len(classes) < 2:
            raise DataProcessingError(f"Target attribute '{schema.target}' has a single value in the training data; "
                                      "a MULTICLASS model needs at least 2 classes")
        pos = {c: i for i, c in enumerate(classes)}
        Y = np.zeros((len(labels), len(classes)))
        Y[np.arange(len(labels)), [pos[c] for c in labels]] = 1.0
        kind = "softmax"
    else:
        Y = y_raw.to_numpy(dtype=float)
        kind = "linear"
    if schema.row_weight:
        sw = frame[schema.row_weight].to_numpy(dtype=float).copy()
        sw[np.isnan(sw)] = 1.0
        sw = np.maximum(sw, 0.0)
        if sw.sum() <= 0:
            raise DataProcessingError(f"All row weights ('{schema.row_weight}') are zero or negative")
    else:
        sw = np.ones(len(frame))
    pipeline = FeaturePipeline(recipe)
    cache: dict = {}
    pipeline.fit(frame, cache)
    shuffle = echo["sgd.shuffleType"].strip().lower() == "auto"
    order = None
    if kind != "softmax":  # at every size: 2-3x faster than a dense matrix at 10k rows, far less memory
        release_mapped(frame)  # fit read every column; the design reads the numerics once more
        # the design's rows in the visiting order of the passes (no reordered copy of it later)
        order = np.random.default_rng(0).permutation(len(frame)) if shuffle else None
        X = pipeline.design(frame, cache, order)
        shuffle = False
    else:
        X = pipeline.transform(frame, cache).tocsr()
    del cache
    release_mapped(frame)
    y_mean, y_std = 0.0, 1.0
    if kind == "linear":
        y_mean, y_std = float(np.average(Y, weights=sw)), float(Y.std()) or 1.0
        Y = (Y - y_mean) / y_std
    l1 = float(echo.get("sgd.l1RegularizationAmount", 0) or 0)
    l2 = float(echo.get("sgd.l2RegularizationAmount", 0) or 0)
    extra_l2 = CORRECTION_L2 * pipeline.correction_columns()
    # thousands of tiny products: BLAS threads only add hand-offs (on a busy CPU each one
    # waits for a time slice), so the loop runs on one thread
    with native_threadpools().limit(limits=1, user_api="blas"):
        if order is not None:
            Y, sw = Y[order], sw[order]
        W, b = _sgd(X, Y, sw, kind, int(echo["sgd.maxPasses"]), shuffle, l1, l2,
                    extra_l2 if extra_l2.any() else None)
    if kind == "linear":
        W, b = W * y_std, b * y_std + y_mean
    model = TrainedModel(model_type=model_type, schema=schema, recipe=recipe_text, pipeline=pipeline,
                         weights=W, intercept=b, classes=classes, training_parameters=echo)
    limit = int(echo["sgd.maxMLModelSizeInBytes"])
    if model.size_in_bytes > limit:
        raise DataProcessingError(f"The trained ML model is {model.size_in_bytes} bytes, larger than "
                                  f"sgd.maxMLModelSizeInBytes ({limit}); use a simpler recipe or raise the limit")
    return model
