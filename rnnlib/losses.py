"""Softmax and the cross-entropy loss (chapter "The RNN's equations and parameters").

    y_hat = softmax(o),   y_hat_k = exp(o_k) / sum_j exp(o_j)
    J_t   = -log y_hat_{y_t}

Both are computed through the log-sum-exp with the maximum logit subtracted, so they stay
finite and exact at logits of +-1e4 (a naive exp overflows at about 710).
The gradient of -log softmax(o)_y with respect to o is y_hat - onehot(y).
"""
from __future__ import annotations

import numpy as np


def log_softmax(o, axis=-1):
    """log softmax(o) along ``axis``, stable for any finite logits."""
    shifted = o - np.max(o, axis=axis, keepdims=True)                    # largest entry is 0
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(o, axis=-1):
    """softmax(o) along ``axis``: non-negative, sums to 1, no overflow."""
    shifted = o - np.max(o, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def cross_entropy(o, y, weight=None):
    """Summed cross entropy and its gradient with respect to the logits.

    o: (N, C) logits; y: (N,) int targets; weight: (N,) per-row weight (e.g. mask / B), or None
    for weight 1. Returns (loss, do) with loss = sum_n weight_n * -log softmax(o_n)[y_n] and
    do (N, C) its gradient.
    """
    N = o.shape[0]
    logp = log_softmax(o)                                                 # (N, C)
    rows = np.arange(N)
    nll = -logp[rows, y]                                                  # (N,)
    do = np.exp(logp)                                                     # (N, C) y_hat
    do[rows, y] -= 1                                                      # y_hat - onehot(y)
    if weight is not None:
        nll = nll * weight
        do *= weight[:, None]
    return nll.sum(), do
