"""The vanilla recurrent neural network.

Taught in the chapter "The RNN's equations and parameters"; its backward pass is derived in
"Backpropagation through time".

For t = 1, ..., T, starting from a given h^(0):

    a^(t)     = b + W h^(t-1) + U x^(t)        pre-activation
    h^(t)     = tanh(a^(t))                     hidden state (or relu, identity)
    o^(t)     = c + V h^(t)                     output (logits)
    y_hat^(t) = softmax(o^(t))                  predicted distribution over C classes
    J         = sum_t J_t,   J_t = -log y_hat^(t)[y^(t)]   (averaged over the batch)

Parameters, shared by every time step: W (m, m) hidden-to-hidden, U (m, d) input-to-hidden,
V (C, m) hidden-to-output, b (m,) and c (C,) biases.

Index mapping (arrays are time-major, rows of a batch are examples):

    x^(t) -> x[t-1]  (T, B, d)      h^(t) -> h[t]  (T+1, B, m), h[0] = h^(0)
    a^(t) -> a[t-1]  (T, B, m)      o^(t) -> o[t-1], y_hat^(t) -> y_hat[t-1]  (T, B, C)

so the column-vector equation a = b + W h + U x reads, for a batch of row vectors,
``a = b + h @ W.T + x @ U.T``.

Variable-length batches: ``mask`` (T, B) is True at a real step. A padded step leaves the hidden
state unchanged (h^(t) = h^(t-1)) and adds no loss, so a padded batch gives exactly the loss and
gradients of its unpadded sequences. The loss is J = (1/B) sum_b sum_{real t} J_t^(b).

The dtype of every array follows the parameters' dtype (float64 or float32).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from ._checks import (
    as_float_array,
    check_activation,
    check_float_dtype,
    check_mask,
    check_params,
    check_positive_int,
    check_shape,
    check_targets,
)
from .activations import activate, activation_derivative
from .losses import log_softmax, softmax

PARAM_NAMES = ("W", "U", "V", "b", "c")


# ----------------------------------------------------------------------------------------------
# Step 1 of training: initialise the parameters
# ----------------------------------------------------------------------------------------------
def init_rnn(d, m, C, seed=0, dtype=np.float64):
    """Random parameters of a vanilla RNN with input size d, hidden size m and C output classes.

    W (m, m), U (m, d) and V (C, m) are drawn from N(0, 1/fan_in) (so W's spectral radius is
    about 1); the biases b (m,) and c (C,) start at zero. Same seed, same numbers.
    """
    d = check_positive_int("d", d)
    m = check_positive_int("m", m)
    C = check_positive_int("C", C)
    dtype = check_float_dtype(dtype)
    rng = np.random.default_rng(seed)
    return {
        "W": (rng.standard_normal((m, m)) / np.sqrt(m)).astype(dtype),   # (m, m)
        "U": (rng.standard_normal((m, d)) / np.sqrt(d)).astype(dtype),   # (m, d)
        "V": (rng.standard_normal((C, m)) / np.sqrt(m)).astype(dtype),   # (C, m)
        "b": np.zeros(m, dtype=dtype),                                   # (m,)
        "c": np.zeros(C, dtype=dtype),                                   # (C,)
    }


def check_rnn_params(params, required=PARAM_NAMES):
    """Validate an RNN params dict; return (dtype, m, d, C) (C is None when V is not required)."""
    dtype = check_params(params, required)
    W, U, b = params["W"], params["U"], params["b"]
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"params['W'] must be square (m, m), got shape {W.shape}")
    m = W.shape[0]
    check_shape("params['U']", U, (m, None), f"(m, d) with m={m} from W")
    check_shape("params['b']", b, (m,), f"(m,) with m={m} from W")
    d = U.shape[1]
    C = None
    if "V" in required:
        V, c = params["V"], params["c"]
        check_shape("params['V']", V, (None, m), f"(C, m) with m={m} from W")
        C = V.shape[0]
        check_shape("params['c']", c, (C,), f"(C,) with C={C} from V")
    return dtype, m, d, C


def _check_state(name, value, B, m, dtype):
    """A hidden state: (B, m), or (m,) for a single sequence. None means zeros."""
    if value is None:
        return np.zeros((B, m), dtype=dtype)
    state = as_float_array(name, value, dtype=dtype, ndim=(1, 2))
    if state.ndim == 1:
        check_shape(name, state, (m,), f"(m,) with m={m}")
        return np.broadcast_to(state, (B, m)).copy() if B != 1 else state[None, :].copy()
    check_shape(name, state, (B, m), f"(B, m) with B={B} from x and m={m} from W")
    return state


# ----------------------------------------------------------------------------------------------
# One time step: a^(t) = b + W h^(t-1) + U x^(t),  h^(t) = act(a^(t))
# ----------------------------------------------------------------------------------------------
class StepCache(NamedTuple):
    """What rnn_step_backward needs from rnn_step_forward."""

    x_t: np.ndarray                 # (B, d)
    h_prev: np.ndarray              # (B, m)
    a_t: np.ndarray                 # (B, m)
    h_t: np.ndarray                 # (B, m)
    mask_t: Optional[np.ndarray]    # (B,) bool or None
    activation: str
    single: bool                    # inputs were one example, (d,) and (m,)


def rnn_step_forward(params, x_t, h_prev, mask_t=None, activation="tanh"):
    """One step of the recurrence.

        a^(t) = b + W h^(t-1) + U x^(t)
        h^(t) = act(a^(t))            (h^(t) = h^(t-1) where mask_t is False)

    params: needs W (m, m), U (m, d), b (m,).  x_t: (B, d) or (d,).  h_prev: (B, m) or (m,).
    mask_t: (B,) bool or None.  Returns (h_t, cache), h_t shaped like h_prev.
    """
    dtype, m, d, _ = check_rnn_params(params, ("W", "U", "b"))
    check_activation(activation)
    x_t = as_float_array("x_t", x_t, dtype=dtype, ndim=(1, 2))
    single = x_t.ndim == 1
    x_t = x_t[None, :] if single else x_t                                 # (B, d)
    check_shape("x_t", x_t, (None, d), f"(B, d) with d={d} from U")
    B = x_t.shape[0]
    h_prev = _check_state("h_prev", h_prev, B, m, dtype)                   # (B, m)
    if mask_t is not None:
        mask_t = check_mask(mask_t, B, name="mask_t")                      # (B,) bool
    W, U, b = params["W"], params["U"], params["b"]

    a_t = b + h_prev @ W.T + x_t @ U.T                                    # (B, m)
    h_t = activate(a_t, activation)                                       # (B, m)
    if mask_t is not None:
        h_t = np.where(mask_t[:, None], h_t, h_prev)                      # (B, m) padded: keep h

    cache = StepCache(x_t, h_prev, a_t, h_t, mask_t, activation, single)
    return (h_t[0] if single else h_t), cache


def rnn_step_backward(params, dh_t, cache):
    """Local gradients of one step, given dJ/dh^(t).

        da^(t)      = dh^(t) * act'(a^(t))
        dJ/dh^(t-1) = W^T da^(t)          (plus dh^(t) itself at a padded step)
        dJ/dx^(t)   = U^T da^(t)
        dJ/dW = da^(t) h^(t-1)^T,  dJ/dU = da^(t) x^(t)^T,  dJ/db = da^(t)   (summed over the batch)

    Returns (dx_t, dh_prev, grads) with grads keyed W, U, b.
    """
    check_rnn_params(params, ("W", "U", "b"))
    if not isinstance(cache, StepCache):
        raise TypeError(f"cache must be the StepCache returned by rnn_step_forward, got {type(cache).__name__}")
    x_t, h_prev, a_t, h_t, mask_t, activation, single = cache
    W, U = params["W"], params["U"]
    dh_t = as_float_array("dh_t", dh_t, dtype=h_t.dtype, ndim=(1, 2))
    dh_t = dh_t[None, :] if dh_t.ndim == 1 else dh_t                      # (B, m)
    check_shape("dh_t", dh_t, h_t.shape, "(B, m), the shape of h_t")

    da = dh_t * activation_derivative(a_t, h_t, activation)              # (B, m)
    if mask_t is not None:
        da *= mask_t[:, None]                                             # (B, m) padded: no update
    dh_prev = da @ W                                                      # (B, m)
    if mask_t is not None:
        dh_prev += dh_t * ~mask_t[:, None]                                # (B, m) h^(t) = h^(t-1)
    dx_t = da @ U                                                         # (B, d)
    grads = {"W": da.T @ h_prev, "U": da.T @ x_t, "b": da.sum(axis=0)}   # (m, m), (m, d), (m,)
    if single:
        return dx_t[0], dh_prev[0], grads
    return dx_t, dh_prev, grads


# ----------------------------------------------------------------------------------------------
# The whole sequence
# ----------------------------------------------------------------------------------------------
@dataclass
class RNNCache:
    """The forward pass's record: every array the backward pass needs (time-major)."""

    x: np.ndarray               # (T, B, d)
    h: np.ndarray               # (T+1, B, m), h[0] = h0
    a: np.ndarray               # (T, B, m)
    o: np.ndarray               # (T, B, C)
    y_hat: np.ndarray           # (T, B, C)
    mask: Optional[np.ndarray]  # (T, B) bool or None
    activation: str
    h0_shape: tuple             # the shape h0 was given in, for its gradient

    def __getitem__(self, key):
        return getattr(self, key)


def _check_sequence(params, x, h0, mask, activation):
    dtype, m, d, C = check_rnn_params(params)
    check_activation(activation)
    x = as_float_array("x", x, dtype=dtype, ndim=(2, 3))
    single = x.ndim == 2
    x = x[:, None, :] if single else x                                   # (T, B, d)
    T, B, d_x = x.shape
    if T == 0:
        raise ValueError("x has zero time steps (shape {}); an RNN needs T >= 1".format(x.shape))
    if B == 0:
        raise ValueError(f"x has an empty batch (shape {x.shape}); B must be at least 1")
    if d_x != d:
        raise ValueError(f"x must have shape (T, B, d) with d={d} (params['U'] is (m, d) = {params['U'].shape}), got {x.shape if not single else x.shape[::2]}")
    h0_shape = (m,) if (h0 is not None and np.ndim(h0) == 1) else (B, m)
    h0 = _check_state("h0", h0, B, m, dtype)                              # (B, m)
    if single and mask is not None and np.ndim(mask) == 1:
        mask = np.asarray(mask)[:, None]                                  # (T,) -> (T, 1)
    mask = check_mask(mask, T, B)
    return x, h0, h0_shape, mask, dtype, (T, B, d, m, C)


def rnn_forward(params, x, h0=None, mask=None, activation="tanh"):
    """Run the RNN over a batch of sequences and keep what the backward pass needs.

    params: W (m, m), U (m, d), V (C, m), b (m,), c (C,).
    x:      (T, B, d) inputs, or (T, d) for one sequence (then B = 1).
    h0:     (B, m) or (m,) initial state; None means zeros.
    mask:   (T, B) bool, True at real steps; None means every step is real.
    activation: "tanh", "relu" or "identity".
    Returns an RNNCache with a (T, B, m), h (T+1, B, m), o (T, B, C), y_hat (T, B, C).
    """
    x, h0, h0_shape, mask, dtype, (T, B, d, m, C) = _check_sequence(params, x, h0, mask, activation)
    W, U, V, b, c = (params[k] for k in PARAM_NAMES)

    Ux_b = (x.reshape(T * B, d) @ U.T).reshape(T, B, m) + b              # (T, B, m) all steps at once
    h = np.empty((T + 1, B, m), dtype=dtype)                             # (T+1, B, m)
    a = np.empty((T, B, m), dtype=dtype)                                 # (T, B, m)
    h[0] = h0
    for t in range(1, T + 1):
        np.add(Ux_b[t - 1], h[t - 1] @ W.T, out=a[t - 1])                # a^(t) = b + W h^(t-1) + U x^(t)
        activate(a[t - 1], activation, out=h[t])                         # h^(t) = act(a^(t))
        if mask is not None:
            h[t] = np.where(mask[t - 1][:, None], h[t], h[t - 1])        # padded step: h^(t) = h^(t-1)
    o = h[1:] @ V.T + c                                                  # (T, B, C) o^(t) = c + V h^(t)
    y_hat = softmax(o)                                                   # (T, B, C)
    return RNNCache(x=x, h=h, a=a, o=o, y_hat=y_hat, mask=mask, activation=activation, h0_shape=h0_shape)


def rnn_loss(cache, y):
    """J = (1/B) sum_b sum_{real t} -log y_hat^(t)[y^(t)] and dJ/do (T, B, C), from a forward cache.

    Reuses the forward pass's softmax: dJ/do^(t) = (y_hat^(t) - onehot(y^(t))) / B, and
    -log y_hat[y] directly wherever y_hat[y] is a normal float; rows where it underflowed (logits
    thousands apart) get the exact log-softmax instead, so J stays finite and exact.
    Works for any cache with ``o``, ``y_hat`` (T, B, C) and ``mask`` (LSTM, GRU, deep RNNs too).
    """
    T, B, C = cache.o.shape
    y = check_targets(np.reshape(y, (T, 1)) if np.ndim(y) == 1 and B == 1 else y, T, B, C, cache.mask)
    dtype = cache.o.dtype
    weight = np.full(T * B, 1 / B, dtype=dtype) if cache.mask is None else cache.mask.reshape(-1).astype(dtype) / B
    rows = np.arange(T * B)                                              # (T*B,)
    y_flat = np.where(weight > 0, y.reshape(-1), 0)                      # (T*B,) padded targets may be anything
    y_hat = cache.y_hat.reshape(T * B, C)                                # (T*B, C)
    p_y = y_hat[rows, y_flat]                                            # (T*B,) y_hat[y]
    nll = -np.log(np.maximum(p_y, np.finfo(dtype).tiny))                 # (T*B,)
    underflow = p_y < np.finfo(dtype).tiny
    if underflow.any():                                                  # exact where y_hat[y] ~ 0
        nll[underflow] = -log_softmax(cache.o.reshape(T * B, C)[underflow])[np.arange(underflow.sum()), y_flat[underflow]]
    do = y_hat * weight[:, None]                                         # (T*B, C) weight * y_hat
    do[rows, y_flat] -= weight                                           # weight * (y_hat - onehot)
    return dtype.type(np.dot(nll, weight)), do.reshape(T, B, C)


def rnn_backward(params, cache, y):
    """Backpropagation through time for the whole sequence.

    y: (T, B) int targets in [0, C) (any value at padded steps), or (T,) for one sequence.
    Returns (loss, grads): the loss J and dJ/dW, dJ/dU, dJ/dV, dJ/db, dJ/dc and dJ/dh0.

    Going backwards in time, with dJ/dh^(T+1)-side term zero:

        dJ/do^(t)   = (y_hat^(t) - onehot(y^(t))) / B
        dJ/dh^(t)   = V^T dJ/do^(t) + W^T dJ/da^(t+1)
        dJ/da^(t)   = dJ/dh^(t) * act'(a^(t))

    and every weight gradient is then one product over all steps, e.g.
    dJ/dW = sum_t dJ/da^(t) h^(t-1)^T.
    """
    check_rnn_params(params)
    if not isinstance(cache, RNNCache):
        raise TypeError(f"cache must be the RNNCache returned by rnn_forward, got {type(cache).__name__}")
    W, U, V = params["W"], params["U"], params["V"]
    x, h, a, mask = cache.x, cache.h, cache.a, cache.mask
    T, B, d = x.shape
    m, C = W.shape[0], V.shape[0]
    if h.shape[2] != m or cache.o.shape[2] != C or x.shape[2] != U.shape[1]:
        raise ValueError("cache does not match params: it was made by rnn_forward with other parameter shapes")

    loss, do = rnn_loss(cache, y)                                        # do: (T, B, C)
    dact = activation_derivative(a, h[1:], cache.activation)            # (T, B, m) act'(a^(t))
    if mask is not None:
        dact *= mask[:, :, None]                                         # (T, B, m) padded: no update
        keep = ~mask[:, :, None]                                         # (T, B, 1) padded: h passes on
    dh_out = do @ V                                                      # (T, B, m) V^T dJ/do^(t)
    da = np.empty_like(a)                                                # (T, B, m)
    dh_next = np.zeros((B, m), dtype=a.dtype)                            # (B, m) from step t+1
    for t in range(T - 1, -1, -1):
        dh = dh_out[t] + dh_next                                         # (B, m) dJ/dh^(t)
        np.multiply(dh, dact[t], out=da[t])                              # (B, m) dJ/da^(t)
        dh_next = da[t] @ W                                              # (B, m) W^T dJ/da^(t)
        if mask is not None:
            dh_next += dh * keep[t]                                      # (B, m)

    da_flat = da.reshape(T * B, m)                                       # (T*B, m)
    grads = {
        "W": da_flat.T @ h[:-1].reshape(T * B, m),                       # (m, m) sum_t da^(t) h^(t-1)^T
        "U": da_flat.T @ x.reshape(T * B, d),                            # (m, d) sum_t da^(t) x^(t)^T
        "V": do.reshape(T * B, C).T @ h[1:].reshape(T * B, m),           # (C, m) sum_t do^(t) h^(t)^T
        "b": da_flat.sum(axis=0),                                        # (m,)
        "c": do.sum(axis=(0, 1)),                                        # (C,)
        "h0": dh_next.sum(axis=0) if cache.h0_shape == (m,) else dh_next,  # (m,) shared h0, else (B, m)
    }
    return loss, grads
