"""Activation functions and their derivatives (chapter "The RNN's equations and parameters").

The hidden state of a vanilla RNN is h = act(a), with act one of

    tanh:      h = tanh(a),        dh/da = 1 - h**2
    relu:      h = max(0, a),      dh/da = 1 if a > 0 else 0
    identity:  h = a,              dh/da = 1

Each derivative sits beside its function; both work element-wise on arrays of any shape and keep
their dtype (float32 stays float32; integer or bool input is computed in float64). NaN and inf
pass through element-wise (tanh(inf) = 1), as NumPy's functions do.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_activation, check_shape

__all__ = ["activate", "activation_derivative", "sigmoid"]


def _activate(a, activation="tanh", out=None):
    """h = act(a), element-wise, into ``out`` if given (see `activate`)."""
    if activation == "tanh":
        return np.tanh(a, out=out)
    if activation == "relu":
        return np.maximum(a, 0, out=out)
    if out is None:
        return a.copy()
    out[...] = a
    return out


def activate(a, activation="tanh", out=None):
    """h = act(a), element-wise (written into ``out`` when given, as in the time loop).

    a: a real array of any shape (ints are computed in float64); activation: "tanh", "relu" or
    "identity"; out: None or a float array of a's shape.
    """
    check_activation(activation)
    a = as_float_array("a", a, allow_nonfinite=True)
    if out is not None:
        if not isinstance(out, np.ndarray) or not np.issubdtype(out.dtype, np.floating):
            raise TypeError(f"out must be a float NumPy array of a's shape {a.shape}, "
                            f"got {type(out).__name__}")
        check_shape("out", out, a.shape, "the shape of a")
    return _activate(a, activation, out)


def _activation_derivative(a, h, activation="tanh"):
    """dh/da from a and h = act(a); checked by `activation_derivative`."""
    if activation == "tanh":
        return 1 - h * h
    if activation == "relu":
        return (a > 0).astype(a.dtype)
    return np.ones_like(a)


def activation_derivative(a, h, activation="tanh"):
    """dh/da, element-wise, from the pre-activation a and the activation h = act(a).

    a and h: real arrays of one shape (h = activate(a, activation)).
    """
    check_activation(activation)
    a = as_float_array("a", a, allow_nonfinite=True)
    h = as_float_array("h", h, dtype=a.dtype, allow_nonfinite=True)
    check_shape("h", h, a.shape, "the shape of a (h = act(a))")
    return _activation_derivative(a, h, activation)


def _sigmoid(a):
    """sigma(a) = 1 / (1 + exp(-a)) without overflow; checked by `sigmoid`."""
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1 / (1 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1 + e)
    return out


def sigmoid(a):
    """sigma(a) = 1 / (1 + exp(-a)), computed without overflow for large |a|.

    a: a real array (or number) of any shape; float32 stays float32, other input is float64.
    """
    return _sigmoid(as_float_array("a", a, allow_nonfinite=True))
