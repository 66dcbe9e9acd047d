"""The long short-term memory (LSTM) cell.

Taught in the chapter "Gated cells: LSTM and GRU" (the remedy for vanishing gradients in
"Exploding and vanishing gradients").

For t = 1, ..., T, starting from given h^(0) and cell state s^(0):

    i^(t)     = sigmoid(b_i + W_i h^(t-1) + U_i x^(t))     input gate
    f^(t)     = sigmoid(b_f + W_f h^(t-1) + U_f x^(t))     forget gate
    q^(t)     = sigmoid(b_o + W_o h^(t-1) + U_o x^(t))     output gate
    g^(t)     = tanh(b_g + W_g h^(t-1) + U_g x^(t))        candidate (the new content)
    s^(t)     = f^(t) * s^(t-1) + i^(t) * g^(t)            cell state (* is element-wise)
    h^(t)     = q^(t) * tanh(s^(t))                        hidden state
    o^(t)     = c + V h^(t)                                output (logits), as in the RNN
    y_hat^(t) = softmax(o^(t))
    J         = sum_t J_t,   J_t = -log y_hat^(t)[y^(t)]   (averaged over the batch)

The output gate is written q (its parameters keep the subscript o: W_o, U_o, b_o) because o^(t)
is already the output, and the cell state is written s because c is the output bias; the
argument ``c0`` (the name most libraries use) is s^(0).

Parameters, shared by every time step: for each gate k in (i, f, o, g) W_k (m, m), U_k (m, d),
b_k (m,); the output layer V (C, m), c (C,). Arrays are time-major as for the RNN:
x^(t) -> x[t-1] (T, B, d); h^(t) -> h[t] and s^(t) -> s[t] (T+1, B, m); gates i, f, q, g (T, B, m);
o, y_hat (T, B, C).

The constant error carousel: along the cell state, ds^(t-1) = f^(t) * ds^(t) (plus what enters
through h), an element-wise product with no weight matrix and no squashing derivative, so with
f ≈ 1 the gradient survives many steps. Initialising b_f to 1 (``forget_bias``) starts the
forget gates near sigmoid(1) ≈ 0.73, open.

Variable-length batches: ``mask`` (T, B) is True at a real step; a padded step leaves h and s
unchanged and adds no loss. The dtype of every array follows the parameters' (float64 or float32).
Internally the four gates are stacked into one (4m, m) matrix so each step is one product, and
each step works in place on preallocated arrays (sigmoid(a) is computed as (1 + tanh(a/2)) / 2).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    as_generator,
    check_allocation,
    check_cache,
    check_float_dtype,
    check_mask,
    check_number,
    check_params,
    check_positive_int,
    check_shape,
)
from .losses import _softmax
from .rnn import (
        _check_initial,
    _check_loss_inputs,
    _check_sequence_mask,
    _check_state,
    _warn_backward_nonfinite,
    _check_x,
    _rnn_loss,
    _warn_overflow,
)

__all__ = ["init_lstm", "lstm_step_forward", "lstm_step_backward", "lstm_forward",
           "lstm_backward", "LSTMCache", "LSTMStepCache"]

GATES = ("i", "f", "o", "g")
PARAM_NAMES = tuple(f"{M}_{k}" for k in GATES for M in ("W", "U", "b")) + ("V", "c")
STEP_PARAM_NAMES = PARAM_NAMES[:-2]


# ----------------------------------------------------------------------------------------------
# Checking and initialising parameters (shared with the GRU, whose gates are z, r, h)
# ----------------------------------------------------------------------------------------------
def check_gated_params(params, gates, output=True):
    """Validate a params dict with W_k (m, m), U_k (m, d), b_k (m,) for each gate k (plus V, c).

    Every key present, one float dtype, all entries finite. Returns (dtype, m, d, C) (C is
    None when output is False).
    """
    names = [f"{M}_{k}" for k in gates for M in ("W", "U", "b")] + (["V", "c"] if output else [])
    dtype = check_params(params, names)
    W0 = params[f"W_{gates[0]}"]
    if W0.ndim != 2 or W0.shape[0] != W0.shape[1]:
        raise ValueError(f"params['W_{gates[0]}'] must be square (m, m), got shape {W0.shape}")
    m = W0.shape[0]
    U0 = params[f"U_{gates[0]}"]
    check_shape(f"params['U_{gates[0]}']", U0, (m, None), f"(m, d) with m={m} from W_{gates[0]}")
    d = U0.shape[1]
    for k in gates:
        check_shape(f"params['W_{k}']", params[f"W_{k}"], (m, m), f"(m, m) with m={m} from W_{gates[0]}")
        check_shape(f"params['U_{k}']", params[f"U_{k}"], (m, d), f"(m, d) with m={m}, d={d} from U_{gates[0]}")
        check_shape(f"params['b_{k}']", params[f"b_{k}"], (m,), f"(m,) with m={m} from W_{gates[0]}")
    C = None
    if output:
        check_shape("params['V']", params["V"], (None, m), f"(C, m) with m={m} from W_{gates[0]}")
        C = params["V"].shape[0]
        check_shape("params['c']", params["c"], (C,), f"(C,) with C={C} from V")
    return dtype, m, d, C


def _init_gated(d, m, C, gates, rng, dtype):
    """W_k, U_k ~ N(0, 1/fan_in), b_k = 0 per gate; V ~ N(0, 1/m), c = 0.

    Arguments are checked by `init_gated`.
    """
    def normal(shape, fan_in):
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)

    params = {}
    for k in gates:
        params[f"W_{k}"] = normal((m, m), m)             # (m, m)
        params[f"U_{k}"] = normal((m, d), d)             # (m, d)
        params[f"b_{k}"] = np.zeros(m, dtype=dtype)      # (m,)
    params["V"] = normal((C, m), m)                      # (C, m)
    params["c"] = np.zeros(C, dtype=dtype)               # (C,)
    return params


def init_gated(d, m, C, gates, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """W_k (m, m) ~ N(0, 1/m), U_k (m, d) ~ N(0, 1/d), b_k = 0 for each gate; V ~ N(0, 1/m), c = 0.

    seed: None, a non-negative int or a np.random.Generator; dtype: float64 or float32;
    max_bytes: refuse (before allocating) parameters larger than this (default 2 GiB).
    """
    d = check_positive_int("d", d)
    m = check_positive_int("m", m)
    C = check_positive_int("C", C)
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    G = len(gates)
    check_allocation(f"d={d}, m={m}, C={C}", [(G * m, m), (G * m, d), (C, m), (G * m,), (C,)],
                     np.float64, max_bytes)
    return _init_gated(d, m, C, gates, rng, dtype)


def init_lstm(d, m, C, seed=0, dtype=np.float64, forget_bias=1.0, max_bytes=DEFAULT_MAX_BYTES):
    """Random parameters of an LSTM with input size d, hidden size m and C output classes.

    Weights as for the RNN (N(0, 1/fan_in)), biases zero except the forget gate's b_f, which is
    ``forget_bias`` (default 1, so the cell starts by remembering). Same seed, same numbers.
    seed: None, a non-negative int or a np.random.Generator; dtype: float64 or float32;
    max_bytes: refuse (before allocating) parameters larger than this (default 2 GiB).
    """
    forget_bias = check_number("forget_bias", forget_bias)
    params = init_gated(d, m, C, GATES, seed=seed, dtype=dtype, max_bytes=max_bytes)
    params["b_f"] += params["b_f"].dtype.type(forget_bias)                           # (m,)
    return params


def stack_gates(params, gates):
    """The per-gate matrices stacked: W (G*m, m), U (G*m, d), b (G*m,), gates in ``gates`` order."""
    W = np.concatenate([params[f"W_{k}"] for k in gates])                             # (G*m, m)
    U = np.concatenate([params[f"U_{k}"] for k in gates])                             # (G*m, d)
    b = np.concatenate([params[f"b_{k}"] for k in gates])                             # (G*m,)
    return W, U, b


def unstack_grads(dW, dU, db, gates):
    """Split stacked gradients (G*m, m), (G*m, d), (G*m,) back into per-gate keys."""
    G = len(gates)
    grads = {}
    for k, dW_k, dU_k, db_k in zip(gates, np.split(dW, G), np.split(dU, G), np.split(db, G)):
        grads[f"W_{k}"], grads[f"U_{k}"], grads[f"b_{k}"] = dW_k, dU_k, db_k
    return grads


def _check_gated_inputs(x, h0, mask, dtype, m, d, C=None, name_h0="h0",
                        max_bytes=DEFAULT_MAX_BYTES, per_step=4):
    """x (T, B, d) or (T, d), h0, mask; returns (x (T, B, d), h0 as given or zeros, mask, single).

    per_step: arrays of (B, m) the forward pass keeps per step (for the size guard).
    """
    x, single = _check_x(x, dtype, d, "a recurrent net", "from the U matrices")
    T, B, _ = x.shape
    if C is not None:
        check_allocation(f"x of shape {x.shape} with m={m}, C={C}",
                         [(T + 1, B, per_step * m), (T, B, 2 * C)], dtype, max_bytes)
    h0 = _check_initial(name_h0, h0, B, m, dtype)                                     # (B, m) or (m,)
    mask = _check_sequence_mask(mask, single, T, B)
    return x, h0, mask, single


def check_gated_sequence(x, h0, mask, dtype, m, d, name_h0="h0"):
    """Validate x (T, B, d) or (T, d), h0, mask; returns (x, h0 (B, m), h0_shape, mask, single)."""
    x, h0, mask, single = _check_gated_inputs(x, h0, mask, dtype, m, d, name_h0=name_h0)
    h0_shape = h0.shape
    return x, np.broadcast_to(h0, (x.shape[1], m)).copy(), h0_shape, mask, single


def check_step_inputs(params_dtype, d, m, x_t, mask_t):
    """Validate x_t (B, d) or (d,) and mask_t (B,); returns (x_t (B, d), mask_t, single, B)."""
    x_t = as_float_array("x_t", x_t, dtype=params_dtype, ndim=(1, 2))
    single = x_t.ndim == 1
    x_t = x_t[None, :] if single else x_t                                             # (B, d)
    check_shape("x_t", x_t, (None, d), f"(B, d) with d={d} from the U matrices")
    B = x_t.shape[0]
    if B == 0:
        raise ValueError(f"x_t has an empty batch (shape {x_t.shape}); B must be at least 1")
    if mask_t is not None:
        mask_t = check_mask(mask_t, B, name="mask_t")                                 # (B,) bool
    return x_t, mask_t, single, B


def check_upstream(name, value, shape, dtype):
    """An upstream gradient shaped like the state it belongs to ((B, m), or (m,) for one example)."""
    value = as_float_array(name, value, dtype=dtype, ndim=(1, 2))
    value = value[None, :] if value.ndim == 1 else value                              # (B, m)
    check_shape(name, value, shape, "(B, m), the shape of the state")
    return value


def state_grad(dstate, shape):
    """Gradient of an initial state given as (m,) (shared by the batch) or (B, m)."""
    return dstate.sum(axis=0) if len(shape) == 1 else dstate


# ----------------------------------------------------------------------------------------------
# The cell's math, shared by the step functions and the sequence loop
# ----------------------------------------------------------------------------------------------
def _sigmoid_(a):
    """sigmoid(a) = (1 + tanh(a/2)) / 2 in place (no overflow, dtype kept)."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1
    a *= 0.5
    return a


def _lstm_cell(z, s_prev, s, tanh_s, h):
    """One LSTM cell update, in place.

    z (B, 4m) holds the stacked b_k + W_k h^(t-1) + U_k x^(t), k = i, f, o, g,
    and becomes the gates:

        i, f, q = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o),   g = tanh(z_g)
        s^(t) = f * s^(t-1) + i * g,       h^(t) = q * tanh(s^(t))

    s^(t), tanh(s^(t)) and h^(t) go into s, tanh_s, h (B, m).
    Returns the views i, f, q, g.
    """
    m = s_prev.shape[1]
    _sigmoid_(z[:, : 3 * m])                             # (B, 3m) i, f, q
    np.tanh(z[:, 3 * m:], out=z[:, 3 * m:])              # (B, m) g
    i, f = z[:, :m], z[:, m: 2 * m]                      # (B, m) views
    q, g = z[:, 2 * m: 3 * m], z[:, 3 * m:]              # (B, m) views
    np.multiply(f, s_prev, out=s)                        # (B, m) f * s^(t-1)
    s += i * g                                           # (B, m) s^(t)
    np.tanh(s, out=tanh_s)                               # (B, m) tanh(s^(t))
    np.multiply(q, tanh_s, out=h)                        # (B, m) h^(t)
    return i, f, q, g


def _lstm_cell_backward(dh, ds_next, i, f, q, g, s_prev, tanh_s, dz):
    """Write dJ/dz (B, 4m) into dz; return the gradient reaching s^(t-1).

    dh: dJ/dh^(t); ds_next: dJ/ds^(t) from later steps (not through h^(t)).
    """
    m = s_prev.shape[1]
    ds = ds_next + dh * q * (1 - tanh_s * tanh_s)        # (B, m) dJ/ds^(t)
    di, df = ds * g, ds * s_prev                         # (B, m) each
    dq, dg = dh * tanh_s, ds * i                         # (B, m) each
    np.multiply(di, i * (1 - i), out=dz[:, :m])          # (B, m) di sigmoid'
    np.multiply(df, f * (1 - f), out=dz[:, m: 2 * m])    # (B, m) df sigmoid'
    np.multiply(dq, q * (1 - q), out=dz[:, 2 * m: 3 * m])  # (B, m) dq sigmoid'
    np.multiply(dg, 1 - g * g, out=dz[:, 3 * m:])        # (B, m) dg tanh'
    return ds * f                                        # (B, m) dJ/ds^(t-1)


# ----------------------------------------------------------------------------------------------
# One time step
# ----------------------------------------------------------------------------------------------
class LSTMStepCache(NamedTuple):
    """What lstm_step_backward needs from lstm_step_forward."""

    x_t: np.ndarray                 # (B, d)
    h_prev: np.ndarray              # (B, m)
    s_prev: np.ndarray              # (B, m)
    i: np.ndarray                   # (B, m) input gate
    f: np.ndarray                   # (B, m) forget gate
    q: np.ndarray                   # (B, m) output gate
    g: np.ndarray                   # (B, m) candidate
    tanh_s: np.ndarray              # (B, m) tanh(s^(t))
    mask_t: Optional[np.ndarray]    # (B,) bool or None
    single: bool                    # inputs were one example, (d,) and (m,)


def _lstm_step_forward(params, x_t, h_prev, s_prev, mask_t=None):
    """One LSTM step (arguments are checked by `lstm_step_forward`).

        z = b + W h^(t-1) + U x^(t)      the four gates stacked, (B, 4m)
        i, f, q, g = sigmoid, sigmoid, sigmoid, tanh of z's blocks
        s^(t) = f * s^(t-1) + i * g,     h^(t) = q * tanh(s^(t))

    x_t (B, d), h_prev and s_prev (B, m), mask_t (B,) bool or None.
    """
    W, U, b = stack_gates(params, GATES)                 # (4m, m), (4m, d)
    B, m = h_prev.shape
    z = b + h_prev @ W.T + x_t @ U.T                     # (B, 4m)
    s_t = np.empty((B, m), dtype=z.dtype)                # (B, m)
    tanh_s = np.empty((B, m), dtype=z.dtype)             # (B, m)
    h_t = np.empty((B, m), dtype=z.dtype)                # (B, m)
    i, f, q, g = _lstm_cell(z, s_prev, s_t, tanh_s, h_t)  # (B, m) each
    if mask_t is not None:
        h_t = np.where(mask_t[:, None], h_t, h_prev)     # (B, m) padded: keep h
        s_t = np.where(mask_t[:, None], s_t, s_prev)     # (B, m) padded: keep s
    cache = LSTMStepCache(x_t, h_prev, s_prev, i, f, q, g, tanh_s, mask_t,
                          False)
    return h_t, s_t, cache


def lstm_step_forward(params, x_t, h_prev, s_prev, mask_t=None):
    """One LSTM step (the module docstring's equations for one t).

    params: needs W_k (m, m), U_k (m, d), b_k (m,) for k in i, f, o, g (V and c are not used).
    x_t: (B, d) or (d,).  h_prev, s_prev: (B, m) or (m,) (None means zeros).  mask_t: (B,) bool
    or None; where False, h and s stay unchanged.
    Returns (h_t, s_t, cache), h_t and s_t shaped like x_t's batch: (B, m), or (m,) for one example.
    """
    dtype, m, d, _ = check_gated_params(params, GATES, output=False)
    x_t, mask_t, single, B = check_step_inputs(dtype, d, m, x_t, mask_t)
    h_prev = _check_state("h_prev", h_prev, B, m, dtype)                             # (B, m)
    s_prev = _check_state("s_prev", s_prev, B, m, dtype)                             # (B, m)
    with np.errstate(over="ignore", invalid="ignore"):
        h_t, s_t, cache = _lstm_step_forward(params, x_t, h_prev, s_prev, mask_t)
    if single:
        return h_t[0], s_t[0], cache._replace(single=True)
    return h_t, s_t, cache


def _lstm_step_backward(params, dh_t, ds_t, cache):
    """Local gradients of one LSTM step (checked by `lstm_step_backward`).

        ds^(t)   = ds_t + dh_t * q * (1 - tanh²(s^(t)))
        ds^(t-1) = f * ds^(t)          (the constant error carousel)
        dz = [ds g i(1-i), ds s^(t-1) f(1-f), dh tanh(s) q(1-q),
              ds i (1-g²)]
        dh^(t-1) = W^T dz,  dx^(t) = U^T dz,  dW_k = dz_k h^(t-1)^T

    dh_t, ds_t (B, m). Returns (dx_t, dh_prev, ds_prev, grads).
    """
    W, U, _ = stack_gates(params, GATES)                 # (4m, m), (4m, d)
    x_t, h_prev, s_prev, i, f, q, g, tanh_s, mask_t, _ = cache
    B, m = h_prev.shape
    dz = np.empty((B, 4 * m), dtype=h_prev.dtype)        # (B, 4m)
    ds_prev = _lstm_cell_backward(dh_t, ds_t, i, f, q, g, s_prev, tanh_s, dz)
    if mask_t is not None:
        dz *= mask_t[:, None]                            # (B, 4m) padded: 0
    dh_prev = dz @ W                                     # (B, m)
    dx_t = dz @ U                                        # (B, d)
    if mask_t is not None:
        real = mask_t[:, None]                           # (B, 1)
        dh_prev = np.where(real, dh_prev, dh_t)          # (B, m) h passes on
        ds_prev = np.where(real, ds_prev, ds_t)          # (B, m) s passes on
    dW, dU, db = dz.T @ h_prev, dz.T @ x_t, dz.sum(axis=0)  # (4m, m), (4m, d)
    return dx_t, dh_prev, ds_prev, unstack_grads(dW, dU, db, GATES)


def lstm_step_backward(params, dh_t, ds_t, cache):
    """Local gradients of one LSTM step, given dJ/dh^(t) and dJ/ds^(t) from later steps.

        dJ/ds^(t)   = ds_t + dh_t * q * (1 - tanh²(s^(t)))      (the path through h^(t) added)
        dJ/ds^(t-1) = f^(t) * dJ/ds^(t)                        (the constant error carousel)
        dz = [di * i(1-i), df * f(1-f), dq * q(1-q), dg * (1-g²)]  with
             di = ds g, df = ds s^(t-1), dq = dh tanh(s^(t)), dg = ds i
        dJ/dh^(t-1) = W^T dz,  dJ/dx^(t) = U^T dz,  dJ/dW_k = dz_k h^(t-1)^T, ...

    At a padded example (mask_t False) both gradients pass straight to the previous step.
    Returns (dx_t, dh_prev, ds_prev, grads) with grads keyed W_k, U_k, b_k for k in i, f, o, g.
    """
    dtype, m, d, _ = check_gated_params(params, GATES, output=False)
    state = (None, m)
    check_cache(cache, LSTMStepCache, "lstm_step_forward",
                {"x_t": (None, d), "h_prev": state, "s_prev": state, "i": state, "f": state,
                 "q": state, "g": state, "tanh_s": state}, dtype)
    h_prev, s_prev = cache.h_prev, cache.s_prev
    dh_t = check_upstream("dh_t", dh_t, h_prev.shape, dtype)                         # (B, m)
    ds_t = check_upstream("ds_t", ds_t, s_prev.shape, dtype)                         # (B, m)
    dx_t, dh_prev, ds_prev, grads = _lstm_step_backward(params, dh_t, ds_t, cache)
    if cache.single:
        return dx_t[0], dh_prev[0], ds_prev[0], grads
    return dx_t, dh_prev, ds_prev, grads


# ----------------------------------------------------------------------------------------------
# The whole sequence
# ----------------------------------------------------------------------------------------------
@dataclass
class LSTMCache:
    """The LSTM forward pass's record (time-major), like the RNN's plus the cell state and gates."""

    x: np.ndarray               # (T, B, d)
    h: np.ndarray               # (T+1, B, m), h[0] = h0
    s: np.ndarray               # (T+1, B, m) cell state, s[0] = c0
    i: np.ndarray               # (T, B, m) input gate      (i, f, q, g are views of one
    f: np.ndarray               # (T, B, m) forget gate      (T, B, 4m) array, stacked in
    q: np.ndarray               # (T, B, m) output gate      that order)
    g: np.ndarray               # (T, B, m) candidate
    tanh_s: np.ndarray          # (T, B, m) tanh(s^(t)), t = 1..T
    o: np.ndarray               # (T, B, C)
    y_hat: np.ndarray           # (T, B, C)
    mask: Optional[np.ndarray]  # (T, B) bool or None
    h0_shape: tuple             # the shape h0 was given in, for its gradient
    c0_shape: tuple             # the shape c0 was given in

    def __getitem__(self, key):
        return getattr(self, key)


def _lstm_forward(params, x, h0, c0, mask=None):
    """Run the LSTM over all T steps (arguments are checked by `lstm_forward`).

    For each t: z = b + W h^(t-1) + U x^(t) (the four gates stacked), then
    `_lstm_cell` gives i, f, q, g, s^(t), h^(t); o^(t) = c + V h^(t).
    x (T, B, d), h0 and c0 (B, m) or (m,), mask (T, B) bool or None.
    """
    W, U, b = stack_gates(params, GATES)                 # (4m, m), (4m, d)
    V, c = params["V"], params["c"]
    (T, B, d), m = x.shape, W.shape[1]
    z = (x.reshape(T * B, d) @ U.T).reshape(T, B, 4 * m)  # (T, B, 4m)
    z += b                                               # b + U x^(t)
    h = np.empty((T + 1, B, m), dtype=W.dtype)           # (T+1, B, m)
    s = np.empty((T + 1, B, m), dtype=W.dtype)           # (T+1, B, m)
    tanh_s = np.empty((T, B, m), dtype=W.dtype)          # (T, B, m)
    h[0], s[0] = h0, c0                                  # (B, m)
    for t in range(1, T + 1):
        z[t - 1] += h[t - 1] @ W.T                       # (B, 4m) + W h^(t-1)
        _lstm_cell(z[t - 1], s[t - 1], s[t], tanh_s[t - 1], h[t])
        if mask is not None:                             # padded: keep h, s
            padded = ~mask[t - 1][:, None]               # (B, 1)
            np.copyto(h[t], h[t - 1], where=padded)      # (B, m)
            np.copyto(s[t], s[t - 1], where=padded)      # (B, m)
    i, f, q, g = (z[:, :, k * m: (k + 1) * m] for k in range(4))  # (T, B, m)
    o = h[1:] @ V.T + c                                  # (T, B, C)
    y_hat = _softmax(o)                                  # (T, B, C)
    return LSTMCache(x, h, s, i, f, q, g, tanh_s, o, y_hat, mask,
                     np.shape(h0), np.shape(c0))


def lstm_forward(params, x, h0=None, c0=None, mask=None, max_bytes=DEFAULT_MAX_BYTES):
    """Run the LSTM over a batch of sequences and keep what the backward pass needs.

    params: W_k (m, m), U_k (m, d), b_k (m,) for k in i, f, o, g; V (C, m), c (C,).
    x:      (T, B, d) inputs, or (T, d) for one sequence (then B = 1).
    h0, c0: (B, m) or (m,) initial hidden and cell state; None means zeros.
    mask:   (T, B) bool, True at real steps; None means every step is real.
    max_bytes: refuse (before allocating) a cache larger than this (default 2 GiB).
    Returns an LSTMCache with h, s (T+1, B, m), gates i, f, q, g (T, B, m), o, y_hat (T, B, C).
    """
    dims = check_gated_params(params, GATES)
    x, h0, c0, mask = _check_lstm_inputs(dims, x, h0, c0, mask, max_bytes)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _lstm_forward(params, x, h0, c0, mask)
    _warn_overflow("lstm_forward", cache, "tanh")
    return cache


def _check_lstm_inputs(dims, x, h0, c0, mask, max_bytes=DEFAULT_MAX_BYTES):
    """lstm_forward's data checks against params dims; returns (x, h0, c0, mask)."""
    dtype, m, d, C = dims
    x, h0, mask, _ = _check_gated_inputs(x, h0, mask, dtype, m, d, C, max_bytes=max_bytes,
                                         per_step=7)
    c0 = _check_initial("c0", c0, x.shape[1], m, dtype)                             # (B, m) or (m,)
    return x, h0, c0, mask


def _lstm_backward(params, cache, y):
    """BPTT for the LSTM (arguments are checked by `lstm_backward`).

    Backwards in time: dJ/dh^(t) = V^T dJ/do^(t) + W^T dz^(t+1), and
    `_lstm_cell_backward` gives dz^(t) and dJ/ds^(t-1); then one product
    per weight over all steps, e.g. dJ/dW_k = sum_t dz_k^(t) h^(t-1)^T.
    """
    W, U, _ = stack_gates(params, GATES)                 # (4m, m), (4m, d)
    V = params["V"]
    x, h, s, mask = cache.x, cache.h, cache.s, cache.mask
    (T, B, d), m, C = x.shape, W.shape[1], V.shape[0]
    loss, do = _rnn_loss(cache, y)                       # (T, B, C)
    dh_out = do @ V                                      # (T, B, m)
    dz = np.empty((T, B, 4 * m), dtype=W.dtype)          # (T, B, 4m)
    dh_next = np.zeros((B, m), dtype=W.dtype)            # (B, m) from t+1
    ds_next = np.zeros((B, m), dtype=W.dtype)            # (B, m) from t+1
    gates = cache.i, cache.f, cache.q, cache.g           # (T, B, m) each
    for t in range(T - 1, -1, -1):
        dh = dh_out[t] + dh_next                         # (B, m) dJ/dh^(t)
        i, f, q, g = (gate[t] for gate in gates)         # (B, m) each
        ds_prev = _lstm_cell_backward(dh, ds_next, i, f, q, g, s[t],
                                      cache.tanh_s[t], dz[t])
        if mask is not None:                             # padded: pass on
            real = mask[t][:, None]                      # (B, 1)
            dz[t] *= real                                # (B, 4m)
            dh_next = np.where(real, dz[t] @ W, dh)      # (B, m)
            ds_next = np.where(real, ds_prev, ds_next)   # (B, m)
        else:
            dh_next = dz[t] @ W                          # (B, m) W^T dz^(t)
            ds_next = ds_prev                            # (B, m)
    dz_ = dz.reshape(T * B, 4 * m)                       # (T*B, 4m)
    dW = dz_.T @ h[:-1].reshape(T * B, m)                # (4m, m)
    dU = dz_.T @ x.reshape(T * B, d)                     # (4m, d)
    grads = unstack_grads(dW, dU, dz_.sum(axis=0), GATES)
    grads["V"] = do.reshape(T * B, C).T @ h[1:].reshape(T * B, m)  # (C, m)
    grads["c"] = do.sum(axis=(0, 1))                     # (C,)
    grads["h0"] = state_grad(dh_next, cache.h0_shape)    # (m,) or (B, m)
    grads["c0"] = state_grad(ds_next, cache.c0_shape)    # (m,) or (B, m)
    return loss, grads


def _check_lstm_cache(cache, dims):
    dtype, m, d, C = dims
    check_cache(cache, LSTMCache, "lstm_forward",
                {"x": (None, None, d), "h": (None, None, m), "o": (None, None, C)}, dtype)
    T, B, _ = cache.x.shape
    state, gate = (T + 1, B, m), (T, B, m)
    check_cache(cache, LSTMCache, "lstm_forward",
                {"h": state, "s": state, "i": gate, "f": gate, "q": gate, "g": gate,
                 "tanh_s": gate, "o": (T, B, C), "y_hat": (T, B, C)})
    return cache


def lstm_backward(params, cache, y):
    """Backpropagation through time for the LSTM.

    y: (T, B) int targets in [0, C) (any value at padded steps), or (T,) for one sequence.
    Returns (loss, grads): the loss J (the same loss as rnn_backward) and its gradient for every
    parameter plus "h0" and "c0" (shaped as they were given).

    Going backwards in time, each step applies lstm_step_backward's equations to
    dJ/dh^(t) = V^T dJ/do^(t) + W^T dz^(t+1) and dJ/ds^(t) from step t+1; every weight gradient
    is then one product over all steps, e.g. dJ/dW_k = sum_t dz_k^(t) h^(t-1)^T.
    """
    dims = check_gated_params(params, GATES)
    _check_lstm_cache(cache, dims)
    y = _check_loss_inputs(cache, y)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _lstm_backward(params, cache, y)
    _warn_backward_nonfinite("lstm_backward", cache, loss, grads)
    return loss, grads
