"""The lecture's remedies for exploding and vanishing gradients, as options.

Taught in the chapter "Exploding and vanishing gradients".

1. Clipping (exploding gradients): ``rnnlib.optim.clip_grad_norm`` (g <- g min(1, c/||g||)) and
   ``rnnlib.optim.clip_grad_value`` (g <- clip(g, -c, c)); ``rnnlib.train`` takes ``clip_norm`` /
   ``clip_value``. Not repeated here.
2. ReLU with identity initialisation (IRNN, Le, Jaitly & Hinton 2015): h^(t) = relu(a^(t)) with
   W = I and b = 0 at the start, so dh^(t)/dh^(t-1) = diag(1[a^(t) > 0]) I: the Jacobian neither
   shrinks nor grows along active units. ``init_irnn`` + ``rnn_forward(..., activation="relu")``.
3. Skip connections through time: h^(t) is also fed from h^(t-s), s >= 1,

       a^(t) = b + W h^(t-1) + W_s h^(t-s) + U x^(t)      for t >= s  (h^(t-s) = h^(0) at t = s)
       a^(t) = b + W h^(t-1) + U x^(t)                    for t < s
       h^(t) = act(a^(t)),  o^(t) = c + V h^(t),  y_hat^(t) = softmax(o^(t))

   A gradient reaching h^(t) now gets back to h^(k) in about (t-k)/s Jacobian factors instead of
   t-k, so its geometric decay is s times slower. Backward, dJ/dh^(k) collects from a^(k+1)
   through W and from a^(k+s) through W_s:

       dJ/da^(t)   = dJ/dh^(t) * act'(a^(t))
       dJ/dh^(k)   = V^T dJ_k/do^(k) + W^T dJ/da^(k+1) + W_s^T dJ/da^(k+s)
       dJ/dW_s     = sum_{t >= s} dJ/da^(t) h^(t-s)^T        (the rest as in the vanilla RNN)

   Padded steps (mask False) keep h^(t) = h^(t-1) and add no loss, as in the vanilla RNN.
4. Gated cells (LSTM, GRU): ``rnnlib.lstm``, ``rnnlib.gru`` (chapter "Gated cells").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._checks import check_positive_int, check_shape
from .activations import activate, activation_derivative
from .rnn import _check_sequence, init_rnn, rnn_loss

SKIP_PARAM_NAMES = ("W", "W_s", "U", "V", "b", "c")


# ----------------------------------------------------------------------------------------------
# IRNN: ReLU with identity initialisation
# ----------------------------------------------------------------------------------------------
def init_irnn(d, m, C, seed=0, dtype=np.float64, scale=1.0):
    """Parameters of an IRNN: W = scale * I (m, m), b = 0; U, V, c as ``init_rnn``.

    Use with ``rnn_forward(params, x, activation="relu")``. With scale = 1 and b = 0 the step
    Jacobian diag(1[a > 0]) W is the identity on every active unit.
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.floating)) or not np.isfinite(scale):
        raise TypeError(f"scale must be a finite number, got {scale!r}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    params = init_rnn(d, m, C, seed=seed, dtype=dtype)
    params["W"] = (scale * np.eye(m)).astype(params["W"].dtype)             # (m, m)
    return params


# ----------------------------------------------------------------------------------------------
# Skip connections through time
# ----------------------------------------------------------------------------------------------
def init_skip_rnn(d, m, C, skip, seed=0, dtype=np.float64):
    """Parameters of a skip-RNN: those of ``init_rnn`` plus W_s (m, m); W and W_s ~ N(0, 1/(2m)).

    Splitting the variance between W and W_s keeps a^(t)'s scale that of the vanilla RNN.
    """
    check_positive_int("skip", skip)
    params = init_rnn(d, m, C, seed=seed, dtype=dtype)
    rng = np.random.default_rng([seed, 1])
    params["W"] = (params["W"] / np.sqrt(2)).astype(params["W"].dtype)      # (m, m)
    params["W_s"] = (rng.standard_normal((m, m)) / np.sqrt(2 * m)).astype(params["W"].dtype)  # (m, m)
    return params


@dataclass
class SkipRNNCache:
    """The skip-RNN forward pass's record (time-major, like RNNCache) plus the skip step s."""

    x: np.ndarray               # (T, B, d)
    h: np.ndarray               # (T+1, B, m), h[0] = h0
    a: np.ndarray               # (T, B, m)
    o: np.ndarray               # (T, B, C)
    y_hat: np.ndarray           # (T, B, C)
    mask: Optional[np.ndarray]  # (T, B) bool or None
    activation: str
    h0_shape: tuple
    skip: int

    def __getitem__(self, key):
        return getattr(self, key)


def _check_skip_params(params):
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of NumPy arrays, got {type(params).__name__}")
    if "W_s" not in params:
        raise KeyError(f"params is missing ['W_s']; expected keys {list(SKIP_PARAM_NAMES)} (see init_skip_rnn)")
    W = params.get("W")
    if isinstance(W, np.ndarray) and isinstance(params["W_s"], np.ndarray):
        check_shape("params['W_s']", params["W_s"], W.shape, "(m, m), the shape of W")


def skip_rnn_forward(params, x, skip, h0=None, mask=None, activation="tanh"):
    """Run the skip-RNN: a^(t) = b + W h^(t-1) + W_s h^(t-s) + U x^(t) (skip term for t >= s).

    params: W, W_s (m, m), U (m, d), V (C, m), b (m,), c (C,).  x: (T, B, d) or (T, d).
    skip: the step s >= 1.  h0, mask, activation as ``rnn_forward``.  Returns a SkipRNNCache.
    """
    skip = check_positive_int("skip", skip)
    _check_skip_params(params)
    x, h0, h0_shape, mask, dtype, (T, B, d, m, C) = _check_sequence(params, x, h0, mask, activation)
    if params["W_s"].dtype != dtype:
        raise TypeError(f"params['W_s'] must have the dtype of the other parameters ({dtype}), got {params['W_s'].dtype}")
    W, W_s, U, V, b, c = (params[k] for k in SKIP_PARAM_NAMES)

    Ux_b = (x.reshape(T * B, d) @ U.T).reshape(T, B, m) + b              # (T, B, m)
    h = np.empty((T + 1, B, m), dtype=dtype)                             # (T+1, B, m)
    a = np.empty((T, B, m), dtype=dtype)                                 # (T, B, m)
    h[0] = h0
    for t in range(1, T + 1):
        a[t - 1] = Ux_b[t - 1] + h[t - 1] @ W.T                          # (B, m) b + W h^(t-1) + U x^(t)
        if t >= skip:
            a[t - 1] += h[t - skip] @ W_s.T                              # (B, m) + W_s h^(t-s)
        h[t] = activate(a[t - 1], activation)                            # (B, m)
        if mask is not None:
            h[t] = np.where(mask[t - 1][:, None], h[t], h[t - 1])        # padded step: h^(t) = h^(t-1)
    o = h[1:] @ V.T + c                                                  # (T, B, C)
    from .losses import softmax

    y_hat = softmax(o)                                                   # (T, B, C)
    return SkipRNNCache(x=x, h=h, a=a, o=o, y_hat=y_hat, mask=mask, activation=activation,
                        h0_shape=h0_shape, skip=skip)


def skip_rnn_backward(params, cache, y):
    """Backpropagation through time for the skip-RNN; returns (loss, grads) keyed like params + "h0"."""
    _check_skip_params(params)
    if not isinstance(cache, SkipRNNCache):
        raise TypeError(f"cache must be the SkipRNNCache returned by skip_rnn_forward, got {type(cache).__name__}")
    W, W_s, U, V = params["W"], params["W_s"], params["U"], params["V"]
    x, h, a, mask, s = cache.x, cache.h, cache.a, cache.mask, cache.skip
    T, B, d = x.shape
    m, C = W.shape[0], V.shape[0]
    if h.shape[2] != m or cache.o.shape[2] != C or d != U.shape[1]:
        raise ValueError("cache does not match params: it was made by skip_rnn_forward with other parameter shapes")

    loss, do = rnn_loss(cache, y)                                        # do: (T, B, C)
    dact = activation_derivative(a, h[1:], cache.activation)            # (T, B, m)
    keep = None
    if mask is not None:
        dact *= mask[:, :, None]                                         # (T, B, m) padded: no update
        keep = ~mask[:, :, None]                                         # (T, B, 1)
    dh = np.zeros((T + 1, B, m), dtype=a.dtype)                          # (T+1, B, m) dJ/dh^(t)
    dh[1:] = do @ V                                                      # (T, B, m) V^T dJ_t/do^(t)
    da = np.empty_like(a)                                                # (T, B, m)
    for t in range(T, 0, -1):                                            # dh[t] is complete here
        np.multiply(dh[t], dact[t - 1], out=da[t - 1])                   # (B, m) dJ/da^(t)
        dh[t - 1] += da[t - 1] @ W                                       # (B, m) W^T dJ/da^(t)
        if keep is not None:
            dh[t - 1] += dh[t] * keep[t - 1]                             # (B, m) padded: h passes on
        if t >= s:
            dh[t - s] += da[t - 1] @ W_s                                 # (B, m) W_s^T dJ/da^(t)

    da_flat = da.reshape(T * B, m)                                       # (T*B, m)
    grads = {
        "W": da_flat.T @ h[:-1].reshape(T * B, m),                       # (m, m)
        "W_s": (da[s - 1:].reshape(-1, m).T @ h[:T - s + 1].reshape(-1, m)  # (m, m) sum_{t>=s} da^(t) h^(t-s)^T
                if s <= T else np.zeros_like(W)),
        "U": da_flat.T @ x.reshape(T * B, d),                            # (m, d)
        "V": do.reshape(T * B, C).T @ h[1:].reshape(T * B, m),           # (C, m)
        "b": da_flat.sum(axis=0),                                        # (m,)
        "c": do.sum(axis=(0, 1)),                                        # (C,)
        "h0": dh[0].sum(axis=0) if cache.h0_shape == (m,) else dh[0],    # (m,) or (B, m)
    }
    return loss, grads
