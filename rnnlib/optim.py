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
"""
from __future__ import annotations

import numbers

import numpy as np


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return float(value)


def _check_grads(grads, name="grads"):
    if not isinstance(grads, dict):
        raise TypeError(f"{name} must be a dict of NumPy arrays, got {type(grads).__name__}")
    for key, g in grads.items():
        if not isinstance(g, np.ndarray):
            raise TypeError(f"{name}[{key!r}] must be a NumPy array, got {type(g).__name__}")


class Optimizer:
    """Base class: ``step(params, grads)`` updates every key of params found in grads."""

    def __init__(self, lr):
        self.lr = _check_positive("lr", lr)
        self.state = {}

    def step(self, params, grads):
        _check_grads(params, "params")
        _check_grads(grads)
        missing = [k for k in params if k not in grads]
        if missing:
            raise KeyError(f"grads is missing {missing}; it must have every key of params")
        for key, theta in params.items():
            g = grads[key]
            if g.shape != theta.shape:
                raise ValueError(f"grads[{key!r}] must have the shape of params[{key!r}] {theta.shape}, got {g.shape}")
            self.update(key, theta, g.astype(theta.dtype, copy=False))

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
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not (isinstance(beta, numbers.Real) and 0 <= beta < 1):
                raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
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


def global_norm(grads):
    """||g|| = sqrt(sum over every array of the sum of its squares)."""
    _check_grads(grads)
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())))


def clip_grad_norm(grads, max_norm):
    """Scale every gradient by min(1, max_norm / ||g||) in place; return ||g|| before clipping.

    The direction of the joint gradient is kept; below the threshold nothing changes.
    """
    max_norm = _check_positive("max_norm", max_norm)
    norm = global_norm(grads)
    if norm > max_norm:
        scale = max_norm / norm
        for g in grads.values():
            g *= scale
    return norm


def clip_grad_value(grads, value):
    """Clip every entry of every gradient to [-value, value] in place; return grads."""
    value = _check_positive("value", value)
    _check_grads(grads)
    for g in grads.values():
        np.clip(g, -value, value, out=g)
    return grads
