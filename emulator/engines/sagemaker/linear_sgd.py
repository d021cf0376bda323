"""The Linear Learner training loop: ``M`` linear models trained side by side with
mini-batch SGD / Adam / RMSProp in numpy (AWS trains ``num_models`` models in parallel
and keeps the best one).

Everything is vectorised over the model axis: weights are ``(M, d, k)``, biases
``(M, k)``; each model has its own learning rate, L2 (``wd``) and L1 strength.
Objective per model: mean weighted loss + ``wd/2 * ||w||^2`` + ``l1 * ||w||_1``
(the bias gets ``wd * bias_wd_mult`` and no L1). L1 is applied as a proximal
(soft-threshold) step after each update, scaled by the optimiser's per-coordinate
step size, so weights become exactly zero.

Losses (``z`` the raw output, ``y`` the label; regression labels already scaled):
``logistic`` (binary cross-entropy of sigmoid(z)), ``hinge_loss``
(``max(0, margin - s*z)``, ``s = 2y-1``), ``softmax_loss`` (multiclass cross-entropy),
``squared_loss`` (``(z-y)^2/2``), ``absolute_loss``, ``eps_insensitive_squared_loss``,
``eps_insensitive_absolute_loss`` (``loss_insensitivity``), ``quantile_loss``
(``quantile``), ``huber_loss`` (``huber_delta``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

EPS = 1e-8


@dataclass
class LossSpec:
    name: str
    margin: float = 1.0
    quantile: float = 0.5
    insensitivity: float = 0.01
    huber_delta: float = 1.0


@dataclass
class TrainSpec:
    """Everything the loop needs; the per-model arrays have length ``M``."""

    loss: LossSpec
    k: int
    learning_rates: np.ndarray
    wds: np.ndarray
    l1s: np.ndarray
    optimizer: str = "adam"
    momentum: float = 0.0
    beta_1: float = 0.9
    beta_2: float = 0.999
    epochs: int = 15
    mini_batch_size: int = 1000
    lr_scheduler_step: int = 100
    lr_scheduler_factor: float = 0.99
    lr_scheduler_minimum_lr: float = 1e-5
    bias_lr_mult: float = 1.0
    bias_wd_mult: float = 0.0
    use_bias: bool = True
    init_method: str = "uniform"
    init_scale: float = 0.07
    init_sigma: float = 0.01
    init_bias: float = 0.0
    early_stopping_patience: int = 3
    early_stopping_tolerance: float = 0.001
    seed: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def num_models(self) -> int:
        return len(self.learning_rates)


def losses_and_grads(spec: LossSpec, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample loss ``(M, n)`` and dloss/dz ``(M, n, k)`` for raw outputs ``z`` ``(M, n, k)``."""
    name = spec.name
    if name == "softmax_loss":
        zs = z - z.max(axis=2, keepdims=True)
        logp = zs - np.log(np.exp(zs).sum(axis=2, keepdims=True))
        onehot = np.zeros(z.shape[1:])
        onehot[np.arange(len(y)), y.astype(int)] = 1.0
        return -(logp * onehot).sum(axis=2), np.exp(logp) - onehot
    z1 = z[:, :, 0]
    if name == "logistic":
        loss = np.logaddexp(0.0, z1) - y * z1
        grad = 1.0 / (1.0 + np.exp(-np.clip(z1, -500, 500))) - y
    elif name == "hinge_loss":
        s = 2.0 * y - 1.0
        active = spec.margin - s * z1 > 0
        loss = np.maximum(0.0, spec.margin - s * z1)
        grad = np.where(active, -s, 0.0)
    else:
        r = z1 - y
        if name == "squared_loss":
            loss, grad = 0.5 * r * r, r
        elif name == "absolute_loss":
            loss, grad = np.abs(r), np.sign(r)
        elif name == "eps_insensitive_squared_loss":
            excess = np.maximum(np.abs(r) - spec.insensitivity, 0.0)
            loss, grad = 0.5 * excess * excess, np.sign(r) * excess
        elif name == "eps_insensitive_absolute_loss":
            excess = np.abs(r) - spec.insensitivity
            loss, grad = np.maximum(excess, 0.0), np.where(excess > 0, np.sign(r), 0.0)
        elif name == "quantile_loss":
            q = spec.quantile
            loss = np.where(r < 0, -q * r, (1 - q) * r)
            grad = np.where(r < 0, -q, 1 - q)
        elif name == "huber_loss":
            d = spec.huber_delta
            small = np.abs(r) <= d
            loss = np.where(small, 0.5 * r * r, d * (np.abs(r) - 0.5 * d))
            grad = np.where(small, r, d * np.sign(r))
        else:  # pragma: no cover - the caller validates the name
            raise ValueError(name)
    return loss, grad[:, :, None]


def raw_outputs(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(M, n, k)`` raw outputs of every model."""
    return np.einsum("nd,mdk->mnk", X, W) + b[:, None, :]


def _init(spec: TrainSpec, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    M, k = spec.num_models, spec.k
    if spec.init_method == "normal":
        W = rng.normal(0.0, spec.init_sigma, (M, d, k))
    elif spec.init_method == "xavier":
        bound = np.sqrt(6.0 / (d + k))
        W = rng.uniform(-bound, bound, (M, d, k))
    else:
        W = rng.uniform(-spec.init_scale, spec.init_scale, (M, d, k))
    b = np.full((M, k), spec.init_bias if spec.use_bias else 0.0)
    return W, b


class _Optimiser:
    """Per-model SGD (momentum) / Adam / RMSProp state for one parameter array."""

    def __init__(self, spec: TrainSpec, shape: tuple[int, ...]):
        self.kind = spec.optimizer
        self.spec = spec
        self.m = np.zeros(shape)
        self.v = np.zeros(shape)
        self.t = 0

    def step(self, grad: np.ndarray, lr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (update to add, per-coordinate step size) for learning rates ``lr`` (M, 1, ...)."""
        self.t += 1
        s = self.spec
        if self.kind == "sgd":
            self.m = s.momentum * self.m - lr * grad
            return self.m, np.broadcast_to(lr, grad.shape)
        if self.kind == "rmsprop":
            self.v = 0.9 * self.v + 0.1 * grad * grad
            size = lr / (np.sqrt(self.v) + EPS)
            return -size * grad, size
        self.m = s.beta_1 * self.m + (1 - s.beta_1) * grad
        self.v = s.beta_2 * self.v + (1 - s.beta_2) * grad * grad
        m_hat = self.m / (1 - s.beta_1 ** self.t)
        v_hat = self.v / (1 - s.beta_2 ** self.t)
        size = lr / (np.sqrt(v_hat) + EPS)
        return -size * m_hat, size


@dataclass
class EpochReport:
    epoch: int
    train_loss: np.ndarray  # (M,) mean weighted training loss over the epoch's batches
    criteria: np.ndarray  # (M,) early-stopping criterion, lower is better
    improved: bool
    stale: int


def train_models(X: np.ndarray, y: np.ndarray, weights: np.ndarray, spec: TrainSpec,
                 criterion: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
                 on_epoch: Callable[[EpochReport, np.ndarray, np.ndarray], bool | None] | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, int]:
    """Run the epoch loop; return each model's weights and biases at its best epoch
    (by ``criterion(W, b, train_loss) -> (M,)``, lower is better) and the number of
    epochs run. Stops early when the best criterion over all models has not improved
    by ``early_stopping_tolerance`` (relative) for ``early_stopping_patience`` epochs,
    or when ``on_epoch`` returns True (a tuning job's early stopping)."""
    n, d = X.shape
    rng = np.random.default_rng(spec.seed)
    W, b = _init(spec, d, rng)
    opt_W, opt_b = _Optimiser(spec, W.shape), _Optimiser(spec, b.shape)
    lr0 = spec.learning_rates.astype(float)
    wd = spec.wds[:, None, None]
    l1 = spec.l1s[:, None, None]
    best_W, best_b = W.copy(), b.copy()
    best_crit = np.full(spec.num_models, np.inf)
    global_best, stale, updates, epochs_run = np.inf, 0, 0, 0
    batch = max(1, min(spec.mini_batch_size, n))
    for epoch in range(spec.epochs):
        order = rng.permutation(n)
        total = np.zeros(spec.num_models)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            xb, yb, wb = X[idx], y[idx], weights[idx]
            wsum = float(wb.sum())
            if wsum <= 0:
                continue
            z = raw_outputs(xb, W, b)
            loss, g = losses_and_grads(spec.loss, z, yb)
            total += (loss * wb).sum(axis=1)
            g = g * (wb / wsum)[None, :, None]
            factor = spec.lr_scheduler_factor ** (updates // max(spec.lr_scheduler_step, 1))
            lr = np.maximum(lr0 * factor, np.minimum(lr0, spec.lr_scheduler_minimum_lr))
            grad_W = np.einsum("nd,mnk->mdk", xb, g) + wd * W
            delta, size = opt_W.step(grad_W, lr[:, None, None])
            W = W + delta
            if np.any(l1 > 0):
                W = np.sign(W) * np.maximum(np.abs(W) - size * l1, 0.0)
            if spec.use_bias:
                grad_b = g.sum(axis=1) + spec.wds[:, None] * spec.bias_wd_mult * b
                delta_b, _ = opt_b.step(grad_b, (lr * spec.bias_lr_mult)[:, None])
                b = b + delta_b
            updates += 1
        if not np.all(np.isfinite(W)):
            bad = ~np.isfinite(W).all(axis=(1, 2))
            W[bad], b[bad] = best_W[bad], best_b[bad]
            total[bad] = np.inf
        train_loss = total / max(float(weights.sum()), EPS)
        crit = np.asarray(criterion(W, b, train_loss), dtype=float)
        crit[~np.isfinite(crit)] = np.inf
        better = crit < best_crit
        best_W[better], best_b[better], best_crit[better] = W[better], b[better], crit[better]
        epochs_run = epoch + 1
        current = float(crit.min())
        threshold = global_best - spec.early_stopping_tolerance * abs(global_best) if np.isfinite(global_best) else np.inf
        improved = current < threshold
        if improved:
            global_best, stale = current, 0
        else:
            stale += 1
        if on_epoch is not None and on_epoch(EpochReport(epoch, train_loss, crit, improved, stale), W, b):
            break
        if stale >= spec.early_stopping_patience:
            break
    return best_W, best_b, epochs_run
