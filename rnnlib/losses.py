"""Softmax and the cross-entropy loss (chapter "The RNN's equations and parameters").

    y_hat = softmax(o),   y_hat_k = exp(o_k) / sum_j exp(o_j)
    J_t   = -log y_hat_{y_t}

Both are computed through the log-sum-exp with the maximum logit subtracted, so they stay
finite and exact at logits of +-1e4 (a naive exp overflows at about 710).
The gradient of -log softmax(o)_y with respect to o is y_hat - onehot(y).

Logits must be finite (an inf logit has no softmax: inf - inf is NaN); integer logits are
computed in float64, so every result, gradients included, is a float array.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._checks import as_float_array, check_shape

__all__ = ["softmax", "log_softmax", "cross_entropy"]


def _check_logits(o, axis):
    """o: a finite real array with at least one entry along ``axis``; returns (o, axis)."""
    o = as_float_array("o", o)
    if o.ndim == 0:
        raise ValueError("o must have at least 1 dimension (the classes), got a scalar")
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an integer, got {type(axis).__name__} {axis!r}")
    if not -o.ndim <= axis < o.ndim:
        raise ValueError(f"axis must be in [-{o.ndim}, {o.ndim}) for o of shape {o.shape}, "
                         f"got {axis}")
    if o.shape[axis] == 0:
        raise ValueError(f"o has no classes along axis {axis} (shape {o.shape}); softmax needs "
                         f"at least one")
    return o, int(axis)


def _log_softmax(o, axis=-1):
    """log softmax(o) along ``axis``; checked by `log_softmax`."""
    shifted = o - np.max(o, axis=axis, keepdims=True)   # largest entry is 0
    lse = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return shifted - lse


def log_softmax(o, axis=-1):
    """log softmax(o) along ``axis``, stable for any finite logits (o: a real array)."""
    o, axis = _check_logits(o, axis)
    return _log_softmax(o, axis)


def _softmax(o, axis=-1):
    """softmax(o) along ``axis``; checked by `softmax`."""
    e = np.exp(o - np.max(o, axis=axis, keepdims=True))  # no overflow
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax(o, axis=-1):
    """softmax(o) along ``axis``: non-negative, sums to 1, no overflow (o: a real array)."""
    o, axis = _check_logits(o, axis)
    return _softmax(o, axis)


def _cross_entropy(o, y, weight=None):
    """Summed (weighted) cross entropy and dJ/do; checked by `cross_entropy`.

    o (N, C), y (N,) ints in [0, C), weight (N,) or None.
    """
    rows = np.arange(o.shape[0])                         # (N,)
    logp = _log_softmax(o)                               # (N, C)
    nll = -logp[rows, y]                                 # (N,)
    do = np.exp(logp)                                    # (N, C) y_hat
    do[rows, y] -= 1                                     # y_hat - onehot(y)
    if weight is not None:
        nll = nll * weight                               # (N,)
        do *= weight[:, None]                            # (N, C)
    return nll.sum(), do


def cross_entropy(o, y, weight=None):
    """Summed cross entropy and its gradient with respect to the logits.

    o: (N, C) finite logits (integers are computed in float64); y: (N,) int targets in [0, C);
    weight: (N,) finite per-row weight (e.g. mask / B), or None for weight 1. Returns
    (loss, do) with loss = sum_n weight_n * -log softmax(o_n)[y_n] and do (N, C) its gradient,
    both in o's float dtype.
    """
    o = as_float_array("o", o, ndim=2)
    N, C = o.shape
    if C == 0:
        raise ValueError(f"o has no classes (shape {o.shape}); C must be at least 1")
    y = _check_class_indices(y, N, C)
    if weight is not None:
        weight = as_float_array("weight", weight, dtype=o.dtype, ndim=1)
        check_shape("weight", weight, (N,), f"(N,) with N={N} from o")
    return _cross_entropy(o, y, weight)


def _check_class_indices(y, N, C):
    """y: (N,) integer class indices in [0, C) (floats holding integers are accepted)."""
    if isinstance(y, (str, bytes, dict)) or y is None:
        raise TypeError(f"y must be an integer array of shape ({N},), got {type(y).__name__}")
    y = np.asarray(y)
    if y.dtype == bool or not np.issubdtype(y.dtype, np.number):
        raise TypeError(f"y must hold integer class indices, got dtype {y.dtype}")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise TypeError(f"y must hold integer class indices, got non-integer values of "
                            f"dtype {y.dtype}")
        y = y.astype(np.int64)
    check_shape("y", y, (N,), f"(N,) with N={N} from o: one target class per row")
    if y.size and (y.min() < 0 or y.max() >= C):
        raise ValueError(f"y must hold class indices in [0, C) = [0, {C}), got values from "
                         f"{y.min()} to {y.max()}")
    return y
