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

import warnings
from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    as_generator,
    check_activation,
    check_allocation,
    check_cache,
    check_float_dtype,
    check_mask,
    check_params,
    check_positive_int,
    check_shape,
    check_targets,
    nonfinite_ignored,
)
from .activations import _activate, _activation_derivative
from .losses import _log_softmax, _softmax

__all__ = ["init_rnn", "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
           "rnn_loss", "RNNCache", "StepCache"]

PARAM_NAMES = ("W", "U", "V", "b", "c")


# ----------------------------------------------------------------------------------------------
# Step 1 of training: initialise the parameters
# ----------------------------------------------------------------------------------------------
def _init_rnn(d, m, C, rng, dtype):
    """W, U, V ~ N(0, 1/fan_in), b = c = 0; checked by `init_rnn`."""
    def normal(shape, fan_in):
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)

    return {
        "W": normal((m, m), m),                          # (m, m)
        "U": normal((m, d), d),                          # (m, d)
        "V": normal((C, m), m),                          # (C, m)
        "b": np.zeros(m, dtype=dtype),                   # (m,)
        "c": np.zeros(C, dtype=dtype),                   # (C,)
    }


def init_rnn(d, m, C, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Random parameters of a vanilla RNN with input size d, hidden size m and C output classes.

    W (m, m), U (m, d) and V (C, m) are drawn from N(0, 1/fan_in) (so W's spectral radius is
    about 1); the biases b (m,) and c (C,) start at zero. Same seed, same numbers.
    seed: None, a non-negative int or a np.random.Generator; dtype: float64 or float32.
    max_bytes: refuse (before allocating) parameters larger than this (default 2 GiB).
    """
    d = check_positive_int("d", d)
    m = check_positive_int("m", m)
    C = check_positive_int("C", C)
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    check_allocation(f"d={d}, m={m}, C={C}", [(m, m), (m, d), (C, m), (m,), (C,)],
                     np.float64, max_bytes)
    return _init_rnn(d, m, C, rng, dtype)


def check_rnn_params(params, required=PARAM_NAMES):
    """Validate an RNN params dict; return (dtype, m, d, C) (C is None when V is not required).

    Every key present, one float dtype, all entries finite, W square (m, m), U (m, d),
    b (m,), V (C, m), c (C,).
    """
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


def _check_initial(name, value, B, m, dtype):
    """An initial state as given: (B, m), or (m,) shared by the batch; None means zeros (B, m)."""
    if value is None:
        return np.zeros((B, m), dtype=dtype)
    state = as_float_array(name, value, dtype=dtype, ndim=(1, 2))
    if state.ndim == 1:
        check_shape(name, state, (m,), f"(m,) with m={m}")
    else:
        check_shape(name, state, (B, m), f"(B, m) with B={B} from x and m={m} from W")
    return state


def _check_state(name, value, B, m, dtype):
    """A hidden state: (B, m), or (m,) for a single sequence. None means zeros. Returns (B, m)."""
    state = _check_initial(name, value, B, m, dtype)
    if state.ndim == 1:
        return np.broadcast_to(state, (B, m)).copy()
    return state


def _first_nonfinite_step(values):
    """1-based index t of the first step (axis 0) holding NaN or inf, or None."""
    bad = ~np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)
    return int(np.argmax(bad)) + 1 if bad.any() else None


def _warn_overflow(made_by, cache, activation):
    """Warn once if the forward pass overflowed, naming the first step t with NaN or inf.

    Silent inside ``np.errstate(invalid="ignore")``: the caller handles non-finite values.
    """
    if nonfinite_ignored() or np.isfinite(cache.o).all():
        return
    t_h = _first_nonfinite_step(cache.h[1:])
    where = "the hidden state h" if t_h is not None else "the output o"
    t = t_h if t_h is not None else _first_nonfinite_step(cache.o)
    hint = (" (an unbounded activation with recurrent weights of spectral radius above 1 grows "
            "exponentially: use tanh, smaller weights or a shorter sequence)"
            if activation in ("relu", "identity") else " (weights or inputs too large)")
    warnings.warn(
        f"{made_by}: {where} overflowed to inf/NaN at step t={t} of T={cache.o.shape[0]}{hint}; "
        f"the loss and gradients of this pass would be NaN",
        RuntimeWarning, stacklevel=3,
    )


def _warn_nonfinite_cache(where, cache, stacklevel=3):
    """Warn once if a cache's outputs o hold NaN or inf (an overflowed forward pass)."""
    if nonfinite_ignored() or np.isfinite(cache.o).all():
        return False
    t = _first_nonfinite_step(cache.o)
    warnings.warn(
        f"{where}: the cache holds NaN or inf outputs o from step t={t} on (of "
        f"T={cache.o.shape[0]}): its forward pass overflowed, so the loss and gradients are "
        f"NaN; use smaller weights, a bounded activation (tanh) or a shorter sequence",
        RuntimeWarning, stacklevel=stacklevel)
    return True


def _warn_backward_nonfinite(where, cache, loss, grads):
    """Warn once if a backward pass's loss or gradients are inf/NaN, saying why.

    Only the loss and the (parameter-sized) gradients are checked unless one is non-finite.
    """
    if nonfinite_ignored():
        return
    bad = [k for k, g in grads.items() if not np.isfinite(g).all()]
    if not bad and np.isfinite(loss):
        return
    if _warn_nonfinite_cache(where, cache, stacklevel=4):
        return
    what = f"gradients {bad}" if bad else "the loss"
    warnings.warn(
        f"{where}: {what} overflowed to inf/NaN (loss {loss}); the gradients explode over "
        f"this many steps: clip them, use smaller weights or truncate the sequence",
        RuntimeWarning, stacklevel=3)


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


def _rnn_step_forward(params, x_t, h_prev, mask_t=None, activation="tanh"):
    """One step of the recurrence (arguments are checked by `rnn_step_forward`).

        a^(t) = b + W h^(t-1) + U x^(t)
        h^(t) = act(a^(t))          (h^(t) = h^(t-1) where mask_t is False)

    x_t (B, d), h_prev (B, m), mask_t (B,) bool or None. Returns (h_t, cache).
    """
    W, U, b = params["W"], params["U"], params["b"]
    a_t = b + h_prev @ W.T + x_t @ U.T                   # (B, m)
    h_t = _activate(a_t, activation)                     # (B, m)
    if mask_t is not None:
        h_t = np.where(mask_t[:, None], h_t, h_prev)     # (B, m) padded: keep h
    cache = StepCache(x_t, h_prev, a_t, h_t, mask_t, activation, False)
    return h_t, cache


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
    if B == 0:
        raise ValueError(f"x_t has an empty batch (shape {x_t.shape}); B must be at least 1")
    h_prev = _check_state("h_prev", h_prev, B, m, dtype)                   # (B, m)
    if mask_t is not None:
        mask_t = check_mask(mask_t, B, name="mask_t")                      # (B,) bool
    with np.errstate(over="ignore", invalid="ignore"):
        h_t, cache = _rnn_step_forward(params, x_t, h_prev, mask_t, activation)
    if not nonfinite_ignored() and not np.isfinite(h_t).all():
        warnings.warn("rnn_step_forward: h_t overflowed to inf/NaN (weights or inputs too large)",
                      RuntimeWarning, stacklevel=2)
    if single:
        return h_t[0], cache._replace(single=True)
    return h_t, cache


def _rnn_step_backward(params, dh_t, cache):
    """Local gradients of one step (checked by `rnn_step_backward`).

        da^(t)      = dh^(t) * act'(a^(t))
        dh^(t-1)    = W^T da^(t)   (+ dh^(t) at a padded step)
        dx^(t)      = U^T da^(t)
        dW = da h^(t-1)^T,  dU = da x^(t)^T,  db = da   (summed over B)

    dh_t (B, m). Returns (dx_t, dh_prev, grads) with grads keyed W, U, b.
    """
    W, U = params["W"], params["U"]
    x_t, h_prev, a_t, h_t, mask_t, activation, _ = cache
    da = dh_t * _activation_derivative(a_t, h_t, activation)  # (B, m)
    if mask_t is not None:
        da *= mask_t[:, None]                            # (B, m) padded: 0
    dh_prev = da @ W                                     # (B, m)
    if mask_t is not None:
        dh_prev += dh_t * ~mask_t[:, None]               # (B, m) h passes on
    dx_t = da @ U                                        # (B, d)
    dW = da.T @ h_prev                                   # (m, m)
    dU = da.T @ x_t                                      # (m, d)
    db = da.sum(axis=0)                                  # (m,)
    return dx_t, dh_prev, {"W": dW, "U": dU, "b": db}


def rnn_step_backward(params, dh_t, cache):
    """Local gradients of one step, given dJ/dh^(t).

        da^(t)      = dh^(t) * act'(a^(t))
        dJ/dh^(t-1) = W^T da^(t)          (plus dh^(t) itself at a padded step)
        dJ/dx^(t)   = U^T da^(t)
        dJ/dW = da^(t) h^(t-1)^T,  dJ/dU = da^(t) x^(t)^T,  dJ/db = da^(t)   (summed over the batch)

    dh_t: shaped like h_t ((B, m), or (m,) for one example); cache: rnn_step_forward's.
    Returns (dx_t, dh_prev, grads) with grads keyed W, U, b.
    """
    dtype, m, d, _ = check_rnn_params(params, ("W", "U", "b"))
    check_cache(cache, StepCache, "rnn_step_forward",
                {"x_t": (None, d), "h_prev": (None, m), "a_t": (None, m), "h_t": (None, m)}, dtype)
    check_activation(cache.activation)
    h_t = cache.h_t
    dh_t = as_float_array("dh_t", dh_t, dtype=dtype, ndim=(1, 2))
    dh_t = dh_t[None, :] if dh_t.ndim == 1 else dh_t                      # (B, m)
    check_shape("dh_t", dh_t, h_t.shape, "(B, m), the shape of h_t")
    dx_t, dh_prev, grads = _rnn_step_backward(params, dh_t, cache)
    if cache.single:
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


def _check_x(x, dtype, d, what="an RNN", d_from=None):
    """x (T, B, d), or (T, d) for one sequence; returns (x (T, B, d), single)."""
    x = as_float_array("x", x, dtype=dtype, ndim=(2, 3))
    single = x.ndim == 2
    x = x[:, None, :] if single else x                                   # (T, B, d)
    T, B, d_x = x.shape
    if T == 0:
        raise ValueError(f"x has zero time steps (shape {x.shape}); {what} needs T >= 1")
    if B == 0:
        raise ValueError(f"x has an empty batch (shape {x.shape}); B must be at least 1")
    if d_x != d:
        shown = (T, d_x) if single else x.shape
        raise ValueError(f"x must have shape (T, B, d) with d={d} {d_from}, got {shown}")
    return x, single


def _check_sequence_mask(mask, single, T, B):
    if single and mask is not None and np.ndim(mask) == 1:
        mask = np.asarray(mask)[:, None]                                  # (T,) -> (T, 1)
    return check_mask(mask, T, B)


def _check_rnn_inputs(dims, x, h0, mask, activation, max_bytes=DEFAULT_MAX_BYTES):
    """Check rnn_forward's data against params dims (dtype, m, d, C); return (x, h0, mask).

    x becomes (T, B, d) and mask (T, B) bool or None; h0 stays (B, m) or (m,) as given
    (None becomes zeros (B, m)).
    """
    dtype, m, d, C = dims
    check_activation(activation)
    U_shape = (m, d)
    x, single = _check_x(x, dtype, d, "an RNN", f"(params['U'] is (m, d) = {U_shape})")
    T, B, _ = x.shape
    check_allocation(f"x of shape {x.shape} with m={m}, C={C}",
                     [(T + 1, B, m), (T, B, m), (T, B, C), (T, B, C)], dtype, max_bytes)
    h0 = _check_initial("h0", h0, B, m, dtype)                           # (B, m) or (m,)
    mask = _check_sequence_mask(mask, single, T, B)
    return x, h0, mask


def _check_sequence(params, x, h0, mask, activation):
    """rnn_forward's checks; returns (x, h0 (B, m), h0_shape, mask, dtype, (T, B, d, m, C))."""
    dims = check_rnn_params(params)
    x, h0, mask = _check_rnn_inputs(dims, x, h0, mask, activation)
    dtype, m, d, C = dims
    T, B, _ = x.shape
    h0_shape = h0.shape
    return x, np.broadcast_to(h0, (B, m)).copy(), h0_shape, mask, dtype, (T, B, d, m, C)


def _rnn_forward(params, x, h0, mask=None, activation="tanh"):
    """Run the RNN over all T steps (arguments are checked by `rnn_forward`).

        a^(t) = b + W h^(t-1) + U x^(t),   h^(t) = act(a^(t))
        o^(t) = c + V h^(t),               y_hat^(t) = softmax(o^(t))

    x (T, B, d), h0 (B, m) or (m,), mask (T, B) bool or None.
    """
    W, U, V, b, c = (params[k] for k in ("W", "U", "V", "b", "c"))
    (T, B, d), m = x.shape, W.shape[0]
    Ux_b = (x.reshape(T * B, d) @ U.T).reshape(T, B, m) + b  # (T, B, m)
    h = np.empty((T + 1, B, m), dtype=W.dtype)           # (T+1, B, m)
    a = np.empty((T, B, m), dtype=W.dtype)               # (T, B, m)
    h[0] = h0                                            # (B, m)
    for t in range(1, T + 1):
        np.add(Ux_b[t - 1], h[t - 1] @ W.T, out=a[t - 1])  # (B, m) a^(t)
        _activate(a[t - 1], activation, out=h[t])        # (B, m) h^(t)
        if mask is not None:                             # padded: keep h
            np.copyto(h[t], h[t - 1], where=~mask[t - 1][:, None])
    o = h[1:] @ V.T + c                                  # (T, B, C)
    y_hat = _softmax(o)                                  # (T, B, C)
    return RNNCache(x, h, a, o, y_hat, mask, activation, np.shape(h0))


def rnn_forward(params, x, h0=None, mask=None, activation="tanh", max_bytes=DEFAULT_MAX_BYTES):
    """Run the RNN over a batch of sequences and keep what the backward pass needs.

    params: W (m, m), U (m, d), V (C, m), b (m,), c (C,).
    x:      (T, B, d) inputs, or (T, d) for one sequence (then B = 1).
    h0:     (B, m) or (m,) initial state; None means zeros.
    mask:   (T, B) bool, True at real steps; None means every step is real.
    activation: "tanh", "relu" or "identity".
    max_bytes: refuse (before allocating) a cache larger than this (default 2 GiB).
    Returns an RNNCache with a (T, B, m), h (T+1, B, m), o (T, B, C), y_hat (T, B, C).
    If the hidden state overflows (relu or identity over many steps), one RuntimeWarning names
    the first step t holding inf/NaN (and rnn_backward then refuses the cache).
    """
    dims = check_rnn_params(params)
    x, h0, mask = _check_rnn_inputs(dims, x, h0, mask, activation, max_bytes)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _rnn_forward(params, x, h0, mask, activation)
    _warn_overflow("rnn_forward", cache, activation)
    return cache


def _check_loss_inputs(cache, y, name="cache"):
    """Check a forward cache (o, y_hat (T, B, C), mask) and targets y; returns checked y."""
    if cache is None or not all(hasattr(cache, k) for k in ("o", "y_hat", "mask")):
        raise TypeError(f"{name} must be a forward pass's cache (RNNCache, LSTMCache, GRUCache, "
                        f"...) with o, y_hat and mask, got {type(cache).__name__}")
    o = cache.o
    if not isinstance(o, np.ndarray) or o.ndim != 3 or np.shape(cache.y_hat) != o.shape:
        raise ValueError(f"{name}.o and {name}.y_hat must be arrays of shape (T, B, C), got "
                         f"{np.shape(o)} and {np.shape(cache.y_hat)}")
    T, B, C = o.shape
    if np.ndim(y) == 1 and B == 1 and np.shape(y) == (T,):
        y = np.reshape(y, (T, 1))                                          # (T,) -> (T, 1)
    return check_targets(y, T, B, C, cache.mask)


def _rnn_loss(cache, y):
    """J and dJ/do (T, B, C) from a forward cache (checked by `rnn_loss`).

        J = (1/B) sum_b sum_{real t} -log y_hat^(t)[y^(t)]
        dJ/do^(t) = (y_hat^(t) - onehot(y^(t))) / B     (0 at padded steps)
    """
    T, B, C = cache.o.shape
    dtype, tiny = cache.o.dtype, np.finfo(cache.o.dtype).tiny
    if cache.mask is None:
        weight = np.full(T * B, 1 / B, dtype=dtype)      # (T*B,)
    else:
        weight = cache.mask.reshape(-1).astype(dtype) / B  # (T*B,) 0 if padded
    rows = np.arange(T * B)                              # (T*B,)
    y_flat = np.where(weight > 0, y.reshape(-1), 0)      # (T*B,) padded: any y
    y_hat = cache.y_hat.reshape(T * B, C)                # (T*B, C)
    p_y = y_hat[rows, y_flat]                            # (T*B,) y_hat[y]
    nll = -np.log(np.maximum(p_y, tiny))                 # (T*B,)
    low = p_y < tiny                                     # y_hat[y] ~ 0: exact
    if low.any():
        logp = _log_softmax(cache.o.reshape(T * B, C)[low])  # (n, C)
        nll[low] = -logp[np.arange(low.sum()), y_flat[low]]
    do = y_hat * weight[:, None]                         # (T*B, C) w y_hat
    do[rows, y_flat] -= weight                           # w (y_hat - onehot)
    return dtype.type(np.dot(nll, weight)), do.reshape(T, B, C)


def rnn_loss(cache, y):
    """J = (1/B) sum_b sum_{real t} -log y_hat^(t)[y^(t)] and dJ/do (T, B, C), from a forward cache.

    Reuses the forward pass's softmax: dJ/do^(t) = (y_hat^(t) - onehot(y^(t))) / B, and
    -log y_hat[y] directly wherever y_hat[y] is a normal float; rows where it underflowed (logits
    thousands apart) get the exact log-softmax instead, so J stays finite and exact.
    Works for any cache with ``o``, ``y_hat`` (T, B, C) and ``mask`` (LSTM, GRU, deep RNNs too).
    y: (T, B) int targets in [0, C) (any value at padded steps), or (T,) when B = 1.
    """
    y = _check_loss_inputs(cache, y)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, do = _rnn_loss(cache, y)
    if not np.isfinite(loss):
        _warn_nonfinite_cache("rnn_loss", cache)
    return loss, do


def _rnn_backward(params, cache, y):
    """BPTT for the whole sequence (arguments are checked by `rnn_backward`).

        dJ/do^(t) = (y_hat^(t) - onehot(y^(t))) / B
        dJ/dh^(t) = V^T dJ/do^(t) + W^T dJ/da^(t+1)
        dJ/da^(t) = dJ/dh^(t) * act'(a^(t))
        dJ/dW = sum_t dJ/da^(t) h^(t-1)^T, and so on

    y (T, B) checked ints. Returns (loss, grads), grads with dJ/dh0.
    """
    W, V = params["W"], params["V"]
    x, h, a, mask = cache.x, cache.h, cache.a, cache.mask
    (T, B, d), m, C = x.shape, W.shape[0], V.shape[0]
    loss, do = _rnn_loss(cache, y)                       # (T, B, C)
    dact = _activation_derivative(a, h[1:], cache.activation)  # (T, B, m)
    if mask is not None:
        dact *= mask[:, :, None]                         # (T, B, m) padded: 0
        keep = ~mask[:, :, None]                         # (T, B, 1) h passes on
    dh_out = do @ V                                      # (T, B, m) V^T do^(t)
    da = np.empty_like(a)                                # (T, B, m)
    dh_next = np.zeros((B, m), dtype=a.dtype)            # (B, m) from t+1
    for t in range(T - 1, -1, -1):
        dh = dh_out[t] + dh_next                         # (B, m) dJ/dh^(t)
        np.multiply(dh, dact[t], out=da[t])              # (B, m) dJ/da^(t)
        dh_next = da[t] @ W                              # (B, m) W^T da^(t)
        if mask is not None:
            dh_next += dh * keep[t]                      # (B, m)
    da_ = da.reshape(T * B, m)                           # (T*B, m)
    shared = cache.h0_shape == (m,)                      # one h0 for the batch
    grads = {
        "W": da_.T @ h[:-1].reshape(T * B, m),           # (m, m)
        "U": da_.T @ x.reshape(T * B, d),                # (m, d)
        "V": do.reshape(T * B, C).T @ h[1:].reshape(T * B, m),  # (C, m)
        "b": da_.sum(axis=0),                            # (m,)
        "c": do.sum(axis=(0, 1)),                        # (C,)
        "h0": dh_next.sum(axis=0) if shared else dh_next,  # (m,) or (B, m)
    }
    return loss, grads


def _check_rnn_cache(cache, dims):
    """The RNNCache made by rnn_forward with params of these dims (dtype, m, d, C)."""
    dtype, m, d, C = dims
    check_cache(cache, RNNCache, "rnn_forward",
                {"x": (None, None, d), "h": (None, None, m), "a": (None, None, m),
                 "o": (None, None, C)}, dtype)
    T, B, _ = cache.x.shape
    check_cache(cache, RNNCache, "rnn_forward",
                {"h": (T + 1, B, m), "a": (T, B, m), "o": (T, B, C), "y_hat": (T, B, C)})
    check_activation(cache.activation)
    return cache


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
    A cache from an overflowed forward pass, or gradients that overflow, give one RuntimeWarning
    (the loss and gradients are then NaN/inf; clipping, the optimisers and train refuse them).
    """
    dims = check_rnn_params(params)
    _check_rnn_cache(cache, dims)
    y = _check_loss_inputs(cache, y)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _rnn_backward(params, cache, y)
    _warn_backward_nonfinite("rnn_backward", cache, loss, grads)
    return loss, grads
