"""Optimisers and gradient clipping (step 5 of training; clipping is taught in the chapter
"Exploding and vanishing gradients").

Each optimiser updates a params dict in place from a grads dict with the same keys:

    SGD:      θ ← θ - η g
    Adagrad:  G ← G + g²,                          θ ← θ - η g / (√G + ε)
    Adam:     m ← β1 m + (1-β1) g,  v ← β2 v + (1-β2) g²,
              θ ← θ - η m̂ / (√v̂ + ε)   with m̂ = m/(1-β1^k), v̂ = v/(1-β2^k)

Keys of grads that params lacks (such as "h0") are ignored. Clipping:

    by global norm:  g ← g · min(1, max_norm / ||g||),  ||g|| over all arrays together
    by value:        g ← clip(g, -value, value), element-wise

The global norm is computed after dividing by the largest |entry| (s = max |g_i|,
||g|| = s · sqrt(sum (g_i / s)²)), so gradients of 1e200 give the right norm instead of inf.
Non-finite gradients (NaN or inf) are refused with a clear error by clipping, the norm and
every optimiser, before anything is changed: params and optimiser state stay as they were.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_grads, check_number, nonfinite_ignored

__all__ = ["Optimizer", "SGD", "Adagrad", "Adam", "global_norm", "clip_grad_norm",
           "clip_grad_value"]


def _check_positive(name, value):
    return check_number(name, value, low=0, low_open=True)


class Optimizer:
    """Base class: ``step(params, grads)`` updates every key of params found in grads."""

    def __init__(self, lr):
        self.lr = _check_positive("lr", lr)
        self.state = {}

    def check_state(self, params):
        """params: a dict of finite float arrays, matching the shapes this optimiser has seen."""
        check_grads(params, "params")
        for key, theta in params.items():
            state = self.state.get(key)
            shapes = [np.shape(s) for s in (state if isinstance(state, tuple) else (state,))
                      if s is not None]
            if any(shape != theta.shape for shape in shapes):
                raise ValueError(
                    f"this optimiser's state for {key!r} has shape {shapes[0]} but params[{key!r}] "
                    f"has shape {theta.shape}; use a new optimiser for a new model")

    def check_step(self, params, grads):
        """The checks of ``step``: float arrays, finite, every key of params in grads, shapes."""
        self.check_state(params)
        check_grads(grads)
        missing = [k for k in params if k not in grads]
        if missing:
            raise KeyError(f"grads is missing {missing}; it must have every key of params")
        for key, theta in params.items():
            g = grads[key]
            if g.shape != theta.shape:
                raise ValueError(f"grads[{key!r}] must have the shape of params[{key!r}] "
                                 f"{theta.shape}, got {g.shape}")

    def _step(self, params, grads):
        """θ ← update(θ, g) for every key of params (checked by `step`)."""
        for key, theta in params.items():
            self.update(key, theta, grads[key].astype(theta.dtype, copy=False))

    def step(self, params, grads):
        """Update params in place from grads (refused, with nothing changed, if any is non-finite)."""
        self.check_step(params, grads)
        with np.errstate(over="ignore", invalid="ignore"):
            self._step(params, grads)
        bad = [k for k, theta in params.items() if not np.isfinite(theta).all()]
        if bad:
            raise FloatingPointError(
                f"the update made params {bad} non-finite (the step overflowed): use a smaller "
                f"learning rate than lr={self.lr} or clip the gradients")

    def update(self, key, theta, g):  # pragma: no cover - overridden
        raise NotImplementedError


class SGD(Optimizer):
    """θ ← θ - η g"""

    def update(self, key, theta, g):
        theta -= self.lr * g


class Adagrad(Optimizer):
    """G ← G + g²,  θ ← θ - η g / (√G + ε)   (the optimiser of min-char-rnn)."""

    def __init__(self, lr=0.1, eps=1e-8):
        super().__init__(lr)
        self.eps = _check_positive("eps", eps)

    def update(self, key, theta, g):
        G = self.state.setdefault(key, np.zeros_like(theta))
        G += g * g
        theta -= self.lr * g / (np.sqrt(G) + self.eps)


class Adam(Optimizer):
    """Adam with bias correction."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = check_number("beta1", beta1, low=0, high=1, high_open=True)
        self.beta2 = check_number("beta2", beta2, low=0, high=1, high_open=True)
        self.eps = _check_positive("eps", eps)
        self.k = {}

    def update(self, key, theta, g):
        m, v = self.state.setdefault(key, (np.zeros_like(theta), np.zeros_like(theta)))
        k = self.k[key] = self.k.get(key, 0) + 1
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1 ** k)
        v_hat = v / (1 - self.beta2 ** k)
        theta -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def _global_norm(grads):
    """||g|| over every array, computed as s * sqrt(sum (g / s)^2) with
    s = max |g_i| so that no square overflows (checked by `global_norm`).
    Non-finite entries give inf or nan.
    """
    arrays = [g.astype(np.float64) for g in grads.values() if g.size]
    s = max((np.max(np.abs(g)) for g in arrays), default=0.0)  # max |g_i|
    if s == 0 or not np.isfinite(s):
        return float(s)                                  # 0, inf or nan
    total = sum(np.sum(np.square(g / s)) for g in arrays)  # each term <= 1
    return float(s * np.sqrt(total))


def global_norm(grads):
    """||g|| = sqrt(sum over every array of the sum of its squares), without overflow.

    grads: a dict of finite float arrays (NaN or inf raises a ValueError naming the key).
    Inside ``np.errstate(invalid="ignore")`` (a loop that watches for divergence itself) a
    non-finite entry gives an inf or NaN norm instead.
    """
    check_grads(grads, finite=not nonfinite_ignored())
    return _global_norm(grads)


def _clip_grad_norm(grads, max_norm):
    """g ← g · min(1, max_norm / ||g||) in place; returns ||g|| before clipping.

    Arguments are checked by `clip_grad_norm`.
    """
    norm = _global_norm(grads)                           # ||g|| over all arrays
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm                         # same direction
    return norm


def clip_grad_norm(grads, max_norm):
    """Scale every gradient by min(1, max_norm / ||g||) in place; return ||g|| before clipping.

    The direction of the joint gradient is kept; below the threshold nothing changes.
    grads: a dict of finite float arrays; max_norm: a positive number.
    """
    max_norm = _check_positive("max_norm", max_norm)
    check_grads(grads)
    return _clip_grad_norm(grads, max_norm)


def _clip_grad_value(grads, value):
    """g ← clip(g, -value, value) element-wise, in place.

    Arguments are checked by `clip_grad_value`.
    """
    for g in grads.values():
        np.clip(g, -value, value, out=g)
    return grads


def clip_grad_value(grads, value):
    """Clip every entry of every gradient to [-value, value] in place; return grads.

    grads: a dict of finite float arrays; value: a positive number.
    """
    value = _check_positive("value", value)
    check_grads(grads)
    return _clip_grad_value(grads, value)
