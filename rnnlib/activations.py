"""Activation functions and their derivatives (chapter "The RNN's equations and parameters").

The hidden state of a vanilla RNN is h = act(a), with act one of

    tanh:      h = tanh(a),        dh/da = 1 - h**2
    relu:      h = max(0, a),      dh/da = 1 if a > 0 else 0
    identity:  h = a,              dh/da = 1

Each derivative sits beside its function; both work element-wise on arrays of any shape and keep
their dtype.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_activation


def activate(a, activation="tanh", out=None):
    """h = act(a), element-wise (written into ``out`` when given, as in the time loop)."""
    check_activation(activation)
    if activation == "tanh":
        return np.tanh(a, out=out)
    if activation == "relu":
        return np.maximum(a, 0, out=out)
    if out is None:
        return a.copy()
    out[...] = a
    return out


def activation_derivative(a, h, activation="tanh"):
    """dh/da, element-wise, from the pre-activation a and the activation h = act(a)."""
    check_activation(activation)
    if activation == "tanh":
        return 1 - h * h
    if activation == "relu":
        return (a > 0).astype(a.dtype)
    return np.ones_like(a)


def sigmoid(a):
    """sigma(a) = 1 / (1 + exp(-a)), computed without overflow for large |a|."""
    a = np.asarray(a)
    out = np.empty_like(a, dtype=np.result_type(a.dtype, np.float32))
    pos = a >= 0
    out[pos] = 1 / (1 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1 + e)
    return out
