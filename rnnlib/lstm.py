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

import numbers
from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from ._checks import as_float_array, check_float_dtype, check_mask, check_params, check_positive_int, check_shape
from .rnn import _check_state, rnn_loss
from .losses import softmax

GATES = ("i", "f", "o", "g")
PARAM_NAMES = tuple(f"{M}_{k}" for k in GATES for M in ("W", "U", "b")) + ("V", "c")
STEP_PARAM_NAMES = PARAM_NAMES[:-2]


# ----------------------------------------------------------------------------------------------
# Checking and initialising parameters (shared with the GRU, whose gates are z, r, h)
# ----------------------------------------------------------------------------------------------
def check_gated_params(params, gates, output=True):
    """Validate a params dict with W_k (m, m), U_k (m, d), b_k (m,) for each gate k (plus V, c).

    Returns (dtype, m, d, C) (C is None when output is False).
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


def init_gated(d, m, C, gates, seed=0, dtype=np.float64):
    """W_k (m, m) ~ N(0, 1/m), U_k (m, d) ~ N(0, 1/d), b_k = 0 for each gate; V ~ N(0, 1/m), c = 0."""
    d = check_positive_int("d", d)
    m = check_positive_int("m", m)
    C = check_positive_int("C", C)
    dtype = check_float_dtype(dtype)
    rng = np.random.default_rng(seed)
    params = {}
    for k in gates:
        params[f"W_{k}"] = (rng.standard_normal((m, m)) / np.sqrt(m)).astype(dtype)    # (m, m)
        params[f"U_{k}"] = (rng.standard_normal((m, d)) / np.sqrt(d)).astype(dtype)    # (m, d)
        params[f"b_{k}"] = np.zeros(m, dtype=dtype)                                   # (m,)
    params["V"] = (rng.standard_normal((C, m)) / np.sqrt(m)).astype(dtype)             # (C, m)
    params["c"] = np.zeros(C, dtype=dtype)                                            # (C,)
    return params


def init_lstm(d, m, C, seed=0, dtype=np.float64, forget_bias=1.0):
    """Random parameters of an LSTM with input size d, hidden size m and C output classes.

    Weights as for the RNN (N(0, 1/fan_in)), biases zero except the forget gate's b_f, which is
    ``forget_bias`` (default 1, so the cell starts by remembering). Same seed, same numbers.
    """
    if isinstance(forget_bias, bool) or not isinstance(forget_bias, numbers.Real) or not np.isfinite(forget_bias):
        raise TypeError(f"forget_bias must be a finite number, got {forget_bias!r}")
    params = init_gated(d, m, C, GATES, seed=seed, dtype=dtype)
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


def check_gated_sequence(x, h0, mask, dtype, m, d, name_h0="h0"):
    """Validate x (T, B, d) or (T, d), h0, mask; returns (x, h0, h0_shape, mask, single)."""
    x = as_float_array("x", x, dtype=dtype, ndim=(2, 3))
    single = x.ndim == 2
    x = x[:, None, :] if single else x                                                # (T, B, d)
    T, B, d_x = x.shape
    if T == 0:
        raise ValueError(f"x has zero time steps (shape {x.shape}); a recurrent net needs T >= 1")
    if B == 0:
        raise ValueError(f"x has an empty batch (shape {x.shape}); B must be at least 1")
    if d_x != d:
        shown = (T, d_x) if single else x.shape
        raise ValueError(f"x must have shape (T, B, d) with d={d} from the U matrices, got {shown}")
    h0_shape = (m,) if (h0 is not None and np.ndim(h0) == 1) else (B, m)
    h0 = _check_state(name_h0, h0, B, m, dtype)                                       # (B, m)
    if single and mask is not None and np.ndim(mask) == 1:
        mask = np.asarray(mask)[:, None]                                              # (T,) -> (T, 1)
    mask = check_mask(mask, T, B)
    return x, h0, h0_shape, mask, single


def check_step_inputs(params_dtype, d, m, x_t, mask_t):
    """Validate x_t (B, d) or (d,) and mask_t (B,); returns (x_t (B, d), mask_t, single, B)."""
    x_t = as_float_array("x_t", x_t, dtype=params_dtype, ndim=(1, 2))
    single = x_t.ndim == 1
    x_t = x_t[None, :] if single else x_t                                             # (B, d)
    check_shape("x_t", x_t, (None, d), f"(B, d) with d={d} from the U matrices")
    B = x_t.shape[0]
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
    """sigmoid(a) = (1 + tanh(a/2)) / 2, computed in place (no overflow, dtype kept, fast)."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1
    a *= 0.5
    return a


def _lstm_cell(z, s_prev, s, tanh_s, h):
    """One LSTM cell update, in place.

    z (B, 4m) holds the stacked pre-activations b_k + W_k h^(t-1) + U_k x^(t), k = i, f, o, g,
    and becomes the gates:

        i, f, q = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o),   g = tanh(z_g)
        s^(t) = f * s^(t-1) + i * g,                          h^(t) = q * tanh(s^(t))

    s^(t), tanh(s^(t)) and h^(t) are written into s, tanh_s and h (B, m). Returns views i, f, q, g.
    """
    m = s_prev.shape[1]
    _sigmoid_(z[:, : 3 * m])                                                          # (B, 3m) i, f, q
    np.tanh(z[:, 3 * m:], out=z[:, 3 * m:])                                           # (B, m) g
    i, f, q, g = z[:, :m], z[:, m: 2 * m], z[:, 2 * m: 3 * m], z[:, 3 * m:]           # (B, m) views
    np.multiply(f, s_prev, out=s)                                                     # (B, m) f * s^(t-1)
    s += i * g                                                                        # (B, m) s^(t) = f s^(t-1) + i g
    np.tanh(s, out=tanh_s)                                                            # (B, m)
    np.multiply(q, tanh_s, out=h)                                                     # (B, m) h^(t) = q tanh(s^(t))
    return i, f, q, g


def _lstm_cell_backward(dh, ds_next, i, f, q, g, s_prev, tanh_s, dz):
    """Write dJ/dz (B, 4m) into dz; return the gradient reaching s^(t-1) through the forget gate.

    dh: dJ/dh^(t); ds_next: dJ/ds^(t) from later steps (not through h^(t)).
    """
    m = s_prev.shape[1]
    ds = ds_next + dh * q * (1 - tanh_s * tanh_s)                                     # (B, m) dJ/ds^(t)
    np.multiply(ds * g, i * (1 - i), out=dz[:, :m])                                   # (B, m) di * sigmoid'
    np.multiply(ds * s_prev, f * (1 - f), out=dz[:, m: 2 * m])                        # (B, m) df * sigmoid'
    np.multiply(dh * tanh_s, q * (1 - q), out=dz[:, 2 * m: 3 * m])                    # (B, m) dq * sigmoid'
    np.multiply(ds * i, 1 - g * g, out=dz[:, 3 * m:])                                 # (B, m) dg * tanh'
    return ds * f                                                                     # (B, m)


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
    W, U, b = stack_gates(params, GATES)                                              # (4m, m), (4m, d), (4m,)

    z = b + h_prev @ W.T + x_t @ U.T                                                  # (B, 4m) all gates
    s_t, tanh_s, h_t = (np.empty((B, m), dtype=dtype) for _ in range(3))              # (B, m) each
    i, f, q, g = _lstm_cell(z, s_prev, s_t, tanh_s, h_t)                              # (B, m) each
    if mask_t is not None:
        h_t = np.where(mask_t[:, None], h_t, h_prev)                                  # (B, m) padded: keep h
        s_t = np.where(mask_t[:, None], s_t, s_prev)                                  # (B, m) padded: keep s

    cache = LSTMStepCache(x_t, h_prev, s_prev, i, f, q, g, tanh_s, mask_t, single)
    if single:
        return h_t[0], s_t[0], cache
    return h_t, s_t, cache


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
    check_gated_params(params, GATES, output=False)
    if not isinstance(cache, LSTMStepCache):
        raise TypeError(f"cache must be the LSTMStepCache returned by lstm_step_forward, got {type(cache).__name__}")
    x_t, h_prev, s_prev, i, f, q, g, tanh_s, mask_t, single = cache
    W, U, _ = stack_gates(params, GATES)                                              # (4m, m), (4m, d)
    dh_t = check_upstream("dh_t", dh_t, h_prev.shape, h_prev.dtype)                   # (B, m)
    ds_t = check_upstream("ds_t", ds_t, s_prev.shape, s_prev.dtype)                   # (B, m)

    dz = np.empty((dh_t.shape[0], 4 * h_prev.shape[1]), dtype=h_prev.dtype)           # (B, 4m)
    ds_prev = _lstm_cell_backward(dh_t, ds_t, i, f, q, g, s_prev, tanh_s, dz)         # (B, m)
    if mask_t is not None:
        dz *= mask_t[:, None]                                                         # (B, 4m) padded: no update
    dh_prev = dz @ W                                                                  # (B, m)
    dx_t = dz @ U                                                                     # (B, d)
    if mask_t is not None:
        dh_prev = np.where(mask_t[:, None], dh_prev, dh_t)                            # (B, m) h^(t) = h^(t-1)
        ds_prev = np.where(mask_t[:, None], ds_prev, ds_t)                            # (B, m) s^(t) = s^(t-1)
    grads = unstack_grads(dz.T @ h_prev, dz.T @ x_t, dz.sum(axis=0), GATES)         # (m, m), (m, d), (m,)
    if single:
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


def lstm_forward(params, x, h0=None, c0=None, mask=None):
    """Run the LSTM over a batch of sequences and keep what the backward pass needs.

    params: W_k (m, m), U_k (m, d), b_k (m,) for k in i, f, o, g; V (C, m), c (C,).
    x:      (T, B, d) inputs, or (T, d) for one sequence (then B = 1).
    h0, c0: (B, m) or (m,) initial hidden and cell state; None means zeros.
    mask:   (T, B) bool, True at real steps; None means every step is real.
    Returns an LSTMCache with h, s (T+1, B, m), gates i, f, q, g (T, B, m), o, y_hat (T, B, C).
    """
    dtype, m, d, C = check_gated_params(params, GATES)
    x, h0, h0_shape, mask, _ = check_gated_sequence(x, h0, mask, dtype, m, d)
    T, B, _ = x.shape
    c0_shape = (m,) if (c0 is not None and np.ndim(c0) == 1) else (B, m)
    c0 = _check_state("c0", c0, B, m, dtype)                                          # (B, m)
    W, U, b = stack_gates(params, GATES)                                              # (4m, m), (4m, d), (4m,)
    V, c = params["V"], params["c"]

    gates = (x.reshape(T * B, d) @ U.T).reshape(T, B, 4 * m)                         # (T, B, 4m) all steps at once
    gates += b                                                                        # b + U x^(t), becomes [i, f, q, g]
    h = np.empty((T + 1, B, m), dtype=dtype)                                          # (T+1, B, m)
    s = np.empty((T + 1, B, m), dtype=dtype)                                          # (T+1, B, m)
    tanh_s = np.empty((T, B, m), dtype=dtype)                                         # (T, B, m)
    h[0], s[0] = h0, c0
    for t in range(1, T + 1):
        z = gates[t - 1]                                                              # (B, 4m) view
        z += h[t - 1] @ W.T                                                           # b + W h^(t-1) + U x^(t)
        _lstm_cell(z, s[t - 1], s[t], tanh_s[t - 1], h[t])                            # gates, s^(t), h^(t)
        if mask is not None:
            padded = ~mask[t - 1][:, None]                                            # (B, 1)
            np.copyto(h[t], h[t - 1], where=padded)                                   # padded: h^(t) = h^(t-1)
            np.copyto(s[t], s[t - 1], where=padded)                                   # padded: s^(t) = s^(t-1)
    i, f, q, g = (gates[:, :, k * m: (k + 1) * m] for k in range(4))                 # (T, B, m) views
    o = h[1:] @ V.T + c                                                               # (T, B, C) o^(t) = c + V h^(t)
    y_hat = softmax(o)                                                                # (T, B, C)
    return LSTMCache(x=x, h=h, s=s, i=i, f=f, q=q, g=g, tanh_s=tanh_s, o=o, y_hat=y_hat, mask=mask,
                     h0_shape=h0_shape, c0_shape=c0_shape)


def lstm_backward(params, cache, y):
    """Backpropagation through time for the LSTM.

    y: (T, B) int targets in [0, C) (any value at padded steps), or (T,) for one sequence.
    Returns (loss, grads): the loss J (the same loss as rnn_backward) and its gradient for every
    parameter plus "h0" and "c0" (shaped as they were given).

    Going backwards in time, each step applies lstm_step_backward's equations to
    dJ/dh^(t) = V^T dJ/do^(t) + W^T dz^(t+1) and dJ/ds^(t) from step t+1; every weight gradient
    is then one product over all steps, e.g. dJ/dW_k = sum_t dz_k^(t) h^(t-1)^T.
    """
    dtype, m, d, C = check_gated_params(params, GATES)
    if not isinstance(cache, LSTMCache):
        raise TypeError(f"cache must be the LSTMCache returned by lstm_forward, got {type(cache).__name__}")
    x, h, s, mask = cache.x, cache.h, cache.s, cache.mask
    T, B, _ = x.shape
    if h.shape[2] != m or cache.o.shape[2] != C or x.shape[2] != d:
        raise ValueError("cache does not match params: it was made by lstm_forward with other parameter shapes")
    W, U, _ = stack_gates(params, GATES)                                              # (4m, m), (4m, d)
    V = params["V"]

    loss, do = rnn_loss(cache, y)                                                     # do: (T, B, C)
    dh_out = do @ V                                                                   # (T, B, m) V^T dJ/do^(t)
    dz = np.empty((T, B, 4 * m), dtype=dtype)                                         # (T, B, 4m)
    dh_next = np.zeros((B, m), dtype=dtype)                                           # (B, m) from step t+1
    ds_next = np.zeros((B, m), dtype=dtype)                                           # (B, m) from step t+1
    for t in range(T - 1, -1, -1):
        dh = dh_out[t] + dh_next                                                      # (B, m) dJ/dh^(t)
        ds_prev = _lstm_cell_backward(dh, ds_next, cache.i[t], cache.f[t], cache.q[t], cache.g[t],
                                      s[t], cache.tanh_s[t], dz[t])                   # dz^(t) (B, 4m)
        if mask is not None:
            real = mask[t][:, None]                                                   # (B, 1)
            dz[t] *= real                                                             # padded: no update
            dh_next = np.where(real, dz[t] @ W, dh)                                   # (B, m)
            ds_next = np.where(real, ds_prev, ds_next)                                # (B, m)
        else:
            dh_next = dz[t] @ W                                                       # (B, m) W^T dz^(t)
            ds_next = ds_prev                                                         # (B, m) f * dJ/ds^(t)

    dz_flat = dz.reshape(T * B, 4 * m)                                                # (T*B, 4m)
    grads = unstack_grads(
        dz_flat.T @ h[:-1].reshape(T * B, m),                                         # (4m, m) sum_t dz^(t) h^(t-1)^T
        dz_flat.T @ x.reshape(T * B, d),                                              # (4m, d) sum_t dz^(t) x^(t)^T
        dz_flat.sum(axis=0),                                                          # (4m,)
        GATES,
    )
    grads["V"] = do.reshape(T * B, C).T @ h[1:].reshape(T * B, m)                     # (C, m)
    grads["c"] = do.sum(axis=(0, 1))                                                  # (C,)
    grads["h0"] = state_grad(dh_next, cache.h0_shape)                                 # (m,) or (B, m)
    grads["c0"] = state_grad(ds_next, cache.c0_shape)                                 # (m,) or (B, m)
    return loss, grads
