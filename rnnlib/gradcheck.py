"""Checking gradients against finite differences (used by every chapter's tests).

The centred difference

    df/dθ_i  ≈  (f(θ + ε e_i) - f(θ - ε e_i)) / (2ε)

has error O(ε²) from the Taylor series plus O(δ/ε) from rounding (δ ≈ 1e-16 in float64), so
ε = 1e-6 gives about 1e-10 relative accuracy: enough to tell a correct float64 gradient
(relative error well below 1e-7) from a wrong one (typically 1e-2 or worse).
"""
from __future__ import annotations

import numpy as np


def rel_error(a, b):
    """||a - b|| / (||a|| + ||b||), 0 when both are zero: scale-free, symmetric, in [0, 1]."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of one shape, got {a.shape} and {b.shape}")
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def numerical_gradient(f, inputs, eps=1e-6, keys=None):
    """Centred finite differences of the scalar f(inputs) for every entry of every array.

    f: a function of a dict of arrays returning a scalar; inputs: that dict (float64 arrays are
    expected; entries are perturbed in place and restored). keys: which entries (default all).
    """
    if not isinstance(inputs, dict):
        raise TypeError(f"inputs must be a dict of arrays, got {type(inputs).__name__}")
    keys = list(inputs) if keys is None else list(keys)
    grads = {}
    for key in keys:
        if key not in inputs:
            raise KeyError(f"inputs has no entry {key!r}; it has {list(inputs)}")
        theta = inputs[key]
        if not isinstance(theta, np.ndarray) or not np.issubdtype(theta.dtype, np.floating):
            raise TypeError(f"inputs[{key!r}] must be a float NumPy array, got {type(theta).__name__}")
        grad = np.zeros_like(theta, dtype=np.float64)
        for i in np.ndindex(theta.shape):
            saved = theta[i]
            theta[i] = saved + eps
            f_plus = float(f(inputs))
            theta[i] = saved - eps
            f_minus = float(f(inputs))
            theta[i] = saved
            grad[i] = (f_plus - f_minus) / (2 * eps)
        grads[key] = grad
    return grads


def gradcheck(f, inputs, grads, eps=1e-6, keys=None):
    """Relative error between analytic ``grads`` and finite differences of f, for each key.

    Returns {key: rel_error}. A correct float64 gradient gives errors below 1e-7.
    """
    keys = list(grads) if keys is None else list(keys)
    missing = [k for k in keys if k not in grads]
    if missing:
        raise KeyError(f"grads is missing {missing}")
    numeric = numerical_gradient(f, inputs, eps=eps, keys=keys)
    return {k: rel_error(grads[k], numeric[k]) for k in keys}
