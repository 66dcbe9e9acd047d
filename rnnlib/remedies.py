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

Every public function checks its arguments once and then calls the plain function of the same
name with a leading underscore (``_init_irnn``, ``_skip_rnn_forward``, ``_skip_rnn_backward``),
whose body is the math.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_generator,
    check_allocation,
    check_cache,
    check_float_dtype,
    check_activation,
    check_number,
    check_positive_int,
    check_seed,
    check_shape,
)
from .activations import _activate, _activation_derivative
from .losses import _softmax
from .patterns import _check_step_targets, _warn_nonfinite_grads, _warn_overflow
from .rnn import _check_rnn_inputs, _init_rnn, _rnn_loss, check_rnn_params

__all__ = ["SKIP_PARAM_NAMES", "init_irnn", "init_skip_rnn", "SkipRNNCache", "skip_rnn_forward",
           "skip_rnn_backward"]

SKIP_PARAM_NAMES = ("W", "W_s", "U", "V", "b", "c")


def _check_init(d, m, C, seed, dtype, max_bytes, extra_mm=0):
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    seed = check_seed(seed)
    dtype = check_float_dtype(dtype)
    shapes = [(m, m)] * (1 + extra_mm) + [(m, d), (C, m), (m,), (C,)]
    check_allocation(f"d={d}, m={m}, C={C}", shapes, dtype, max_bytes)
    return d, m, C, seed, dtype


# ----------------------------------------------------------------------------------------------
# IRNN: ReLU with identity initialisation
# ----------------------------------------------------------------------------------------------
def _init_irnn(d, m, C, seed, dtype, scale):
    """IRNN: W = scale I, b = 0; U, V ~ N(0, 1/fan_in), c = 0 as init_rnn.
    Arguments are checked by `init_irnn`."""
    params = _init_rnn(d, m, C, as_generator(seed), dtype)     # U, V, b, c
    params["W"] = (scale * np.eye(m)).astype(dtype)            # (m, m) W = s I
    return params


def init_irnn(d, m, C, seed=0, dtype=np.float64, scale=1.0, max_bytes=DEFAULT_MAX_BYTES):
    """Parameters of an IRNN: W = scale * I (m, m), b = 0; U, V, c as ``init_rnn``.

    Use with ``rnn_forward(params, x, activation="relu")``. With scale = 1 and b = 0 the step
    Jacobian diag(1[a > 0]) W is the identity on every active unit. seed: None, a non-negative
    int or a np.random.Generator; max_bytes: the largest size of the parameters allowed.
    """
    scale = check_number("scale", scale, low=0, low_open=True)
    d, m, C, seed, dtype = _check_init(d, m, C, seed, dtype, max_bytes)
    return _init_irnn(d, m, C, seed, dtype, scale)


# ----------------------------------------------------------------------------------------------
# Skip connections through time
# ----------------------------------------------------------------------------------------------
def _init_skip_rnn(d, m, C, seed, seed_s, dtype):
    """init_rnn's parameters (from seed) with W and W_s ~ N(0, 1/(2m)), W_s
    drawn from seed_s. Arguments are checked by `init_skip_rnn`."""
    params = _init_rnn(d, m, C, as_generator(seed), dtype)     # W, U, V, b, c
    params["W"] = (params["W"] / np.sqrt(2)).astype(dtype)     # (m, m)
    rng = np.random.default_rng(seed_s)
    W_s = rng.standard_normal((m, m)) / np.sqrt(2 * m)         # (m, m)
    params["W_s"] = W_s.astype(dtype)
    return params


def init_skip_rnn(d, m, C, skip, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Parameters of a skip-RNN: those of ``init_rnn`` plus W_s (m, m); W and W_s ~ N(0, 1/(2m)).

    Splitting the variance between W and W_s keeps a^(t)'s scale that of the vanilla RNN.
    seed: None, a non-negative int or a np.random.Generator; max_bytes: the largest size of the
    parameters allowed.
    """
    check_positive_int("skip", skip)
    d, m, C, seed, dtype = _check_init(d, m, C, seed, dtype, max_bytes, extra_mm=1)
    if isinstance(seed, np.random.Generator):
        seed_s = seed                                    # W_s: the generator's next numbers
    else:
        seed_s = None if seed is None else [seed, 1]     # W_s: its own stream of the seed
    return _init_skip_rnn(d, m, C, seed, seed_s, dtype)


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
    """Validate a skip-RNN's params once; return (dtype, m, d, C)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of NumPy arrays, got {type(params).__name__}")
    missing = [k for k in SKIP_PARAM_NAMES if k not in params]
    if missing:
        raise KeyError(f"params is missing {missing}; a skip-RNN needs {list(SKIP_PARAM_NAMES)} "
                       "(see init_skip_rnn)")
    W, W_s = params["W"], params["W_s"]
    if isinstance(W, np.ndarray) and isinstance(W_s, np.ndarray) and W.dtype != W_s.dtype \
            and np.issubdtype(W.dtype, np.floating) and np.issubdtype(W_s.dtype, np.floating):
        raise TypeError(f"params['W_s'] must have the dtype of the other parameters ({W.dtype}), "
                        f"got {W_s.dtype}")
    dtype, m, d, C = check_rnn_params(params, SKIP_PARAM_NAMES)
    check_shape("params['W_s']", W_s, (m, m), "(m, m), the shape of W")
    return dtype, m, d, C


def _skip_rnn_forward(params, x, skip, h0, mask, activation):
    """a^(t) = b + W h^(t-1) [+ W_s h^(t-s) for t >= s] + U x^(t),
    h^(t) = act(a^(t)), o^(t) = c + V h^(t).
    Arguments are checked by `skip_rnn_forward`."""
    W, W_s, U = params["W"], params["W_s"], params["U"]
    V, b, c = params["V"], params["b"], params["c"]
    s = skip
    T, B, d = x.shape
    m = W.shape[0]
    Ux_b = (x.reshape(T * B, d) @ U.T).reshape(T, B, m) + b    # (T, B, m)
    h = np.empty((T + 1, B, m), dtype=W.dtype)                 # (T+1, B, m)
    a = np.empty((T, B, m), dtype=W.dtype)                     # (T, B, m)
    h[0] = h0                                                  # (B, m)
    for t in range(1, T + 1):
        a[t - 1] = Ux_b[t - 1] + h[t - 1] @ W.T                # (B, m)
        if t >= s:
            a[t - 1] += h[t - s] @ W_s.T                       # (B, m) + W_s h
        h[t] = _activate(a[t - 1], activation)                  # (B, m)
        if mask is not None:
            keep = ~mask[t - 1][:, None]                       # (B, 1) padded
            h[t] = np.where(keep, h[t - 1], h[t])              # (B, m)
    o = h[1:] @ V.T + c                                        # (T, B, C)
    y_hat = _softmax(o)                                         # (T, B, C)
    return SkipRNNCache(x=x, h=h, a=a, o=o, y_hat=y_hat, mask=mask,
                        activation=activation, h0_shape=np.shape(h0),
                        skip=s)


def skip_rnn_forward(params, x, skip, h0=None, mask=None, activation="tanh"):
    """Run the skip-RNN: a^(t) = b + W h^(t-1) + W_s h^(t-s) + U x^(t) (skip term for t >= s).

    params: W, W_s (m, m), U (m, d), V (C, m), b (m,), c (C,).  x: (T, B, d) or (T, d).
    skip: the step s >= 1.  h0, mask, activation as ``rnn_forward``.  Returns a SkipRNNCache.
    """
    skip = check_positive_int("skip", skip)
    dims = _check_skip_params(params)
    x, h0, mask = _check_rnn_inputs(dims, x, h0, mask, activation)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _skip_rnn_forward(params, x, skip, h0, mask, activation)
    _warn_overflow("skip_rnn_forward", cache.h, cache.o, activation)
    return cache


def _skip_rnn_backward(params, cache, y):
    """BPTT for the skip-RNN: dJ/dh^(k) collects V^T dJ_k/do^(k), W^T
    dJ/da^(k+1) and W_s^T dJ/da^(k+s). Arguments are checked by
    `skip_rnn_backward`."""
    W, W_s, V = params["W"], params["W_s"], params["V"]
    x, h, a, mask, s = cache.x, cache.h, cache.a, cache.mask, cache.skip
    T, B, d = x.shape
    m, C = W.shape[0], V.shape[0]
    loss, do = _rnn_loss(cache, y)                              # (T, B, C)
    dact = _activation_derivative(a, h[1:], cache.activation)   # (T, B, m)
    if mask is not None:
        dact = dact * mask[:, :, None]                         # (T, B, m)
        keep = ~mask[:, :, None]                               # (T, B, 1)
    dh = np.zeros((T + 1, B, m), dtype=a.dtype)                # (T+1, B, m)
    dh[1:] = do @ V                                            # (T, B, m)
    da = np.empty_like(a)                                      # (T, B, m)
    for t in range(T, 0, -1):                                  # dh[t] complete
        da[t - 1] = dh[t] * dact[t - 1]                        # (B, m) dJ/da
        dh[t - 1] += da[t - 1] @ W                             # (B, m) via W
        if mask is not None:
            dh[t - 1] += dh[t] * keep[t - 1]                   # (B, m) padded
        if t >= s:
            dh[t - s] += da[t - 1] @ W_s                       # (B, m) via W_s
    da_flat = da.reshape(T * B, m)                             # (T*B, m)
    n = max(T - s + 1, 0)                                      # steps t >= s
    da_s = da[s - 1:].reshape(n * B, m)                        # (n*B, m)
    h_s = h[:n].reshape(n * B, m)                              # (n*B, m)
    shared = cache.h0_shape == (m,)                            # h0 was (m,)
    grads = {
        "W": da_flat.T @ h[:-1].reshape(T * B, m),             # (m, m)
        "W_s": da_s.T @ h_s,                                   # (m, m)
        "U": da_flat.T @ x.reshape(T * B, d),                  # (m, d)
        "V": do.reshape(T * B, C).T @ h[1:].reshape(T * B, m),  # (C, m)
        "b": da_flat.sum(axis=0),                              # (m,)
        "c": do.sum(axis=(0, 1)),                              # (C,)
        "h0": dh[0].sum(axis=0) if shared else dh[0],          # (m,) or (B, m)
    }
    return loss, grads


def skip_rnn_backward(params, cache, y):
    """Backpropagation through time for the skip-RNN; returns (loss, grads) keyed like params + "h0"."""
    dtype, m, d, C = _check_skip_params(params)
    made_by = "skip_rnn_forward"
    check_cache(cache, SkipRNNCache, made_by)
    check_cache(cache, SkipRNNCache, made_by, shapes={"x": (None, None, d)})
    T, B, _ = cache.x.shape
    check_cache(cache, SkipRNNCache, made_by, dtype=dtype,
                shapes={"h": (T + 1, B, m), "a": (T, B, m), "o": (T, B, C), "y_hat": (T, B, C)})
    check_positive_int("cache.skip", cache.skip)
    check_activation(cache.activation)
    y = _check_step_targets(y, T, B, C, cache.mask)                      # (T, B)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _skip_rnn_backward(params, cache, y)
    _warn_nonfinite_grads("skip_rnn_backward", loss, grads)
    return loss, grads
