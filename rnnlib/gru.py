"""The gated recurrent unit (GRU).

Taught in the chapter "Gated cells: LSTM and GRU", as a lighter alternative to the LSTM
(three gate blocks instead of four, no separate cell state).

For t = 1, ..., T, starting from a given h^(0):

    z^(t)       = sigmoid(b_z + W_z h^(t-1) + U_z x^(t))               update gate
    r^(t)       = sigmoid(b_r + W_r h^(t-1) + U_r x^(t))               reset gate
    h_tilde^(t) = tanh(b_h + W_h (r^(t) * h^(t-1)) + U_h x^(t))        candidate state
    h^(t)       = (1 - z^(t)) * h^(t-1) + z^(t) * h_tilde^(t)          (* is element-wise)
    o^(t)       = c + V h^(t),   y_hat^(t) = softmax(o^(t)),   J as for the RNN

Convention: z^(t) is the share of the *new* state (z = 0 keeps h^(t-1) exactly, z = 1 replaces
it), as in Chung et al. (2014); some libraries (PyTorch) write h = (1 - z) h_tilde + z h_prev,
which is the same cell with z and 1 - z exchanged. The reset gate multiplies h^(t-1) before W_h
(Cho et al., 2014).

Parameters: for each block k in (z, r, h) W_k (m, m), U_k (m, d), b_k (m,); the output layer
V (C, m), c (C,). Arrays are time-major as for the RNN: x (T, B, d), h (T+1, B, m) with
h[0] = h0, gates z, r and candidate h_tilde (T, B, m), o and y_hat (T, B, C).

Variable-length batches: ``mask`` (T, B) is True at a real step; a padded step leaves h unchanged
and adds no loss. The dtype follows the parameters' (float64 or float32). Internally the update
and reset gates are stacked into one (2m, m) matrix, and all three input projections are one
product before the loop.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from ._checks import DEFAULT_MAX_BYTES, check_cache
from .losses import _softmax
from .lstm import (
    _check_gated_inputs,
    _sigmoid_,
    check_gated_params,
    check_step_inputs,
    check_upstream,
    init_gated,
    stack_gates,
    state_grad,
    unstack_grads,
)
from .rnn import (
    _check_loss_inputs,
    _check_state,
    _rnn_loss,
    _warn_backward_nonfinite,
    _warn_overflow,
)

__all__ = ["init_gru", "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
           "GRUCache", "GRUStepCache"]

GATES = ("z", "r", "h")
PARAM_NAMES = tuple(f"{M}_{k}" for k in GATES for M in ("W", "U", "b")) + ("V", "c")
STEP_PARAM_NAMES = PARAM_NAMES[:-2]


def init_gru(d, m, C, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Random parameters of a GRU with input size d, hidden size m and C output classes.

    W_k (m, m) ~ N(0, 1/m), U_k (m, d) ~ N(0, 1/d), b_k = 0 for k in z, r, h; V ~ N(0, 1/m),
    c = 0. Same seed, same numbers. seed: None, a non-negative int or a np.random.Generator;
    dtype: float64 or float32; max_bytes: refuse (before allocating) parameters larger than
    this (default 2 GiB).
    """
    return init_gated(d, m, C, GATES, seed=seed, dtype=dtype, max_bytes=max_bytes)


# ----------------------------------------------------------------------------------------------
# The cell's math, shared by the step functions and the sequence loop
# ----------------------------------------------------------------------------------------------
def _gru_cell(a, h_prev, W_zr, W_h, rh, h):
    """One GRU cell update, in place.

    a (B, 3m) holds the stacked input terms b_k + U_k x^(t), k = z, r, h,
    and becomes [z, r, h_tilde]:

        z, r    = sigmoid(a_z + W_z h^(t-1)), sigmoid(a_r + W_r h^(t-1))
        h_tilde = tanh(a_h + W_h (r * h^(t-1)))
        h^(t)   = (1 - z) * h^(t-1) + z * h_tilde
                = h^(t-1) + z * (h_tilde - h^(t-1))

    r * h^(t-1) and h^(t) go into rh and h (B, m). Returns z, r, h_tilde.
    """
    m = h_prev.shape[1]
    a[:, : 2 * m] += h_prev @ W_zr.T                     # (B, 2m) + W_zr h
    _sigmoid_(a[:, : 2 * m])                             # (B, 2m) z, r
    z, r, h_tilde = a[:, :m], a[:, m: 2 * m], a[:, 2 * m:]  # (B, m) views
    np.multiply(r, h_prev, out=rh)                       # (B, m) r * h^(t-1)
    h_tilde += rh @ W_h.T                                # (B, m) + W_h (r h)
    np.tanh(h_tilde, out=h_tilde)                        # (B, m) candidate
    np.subtract(h_tilde, h_prev, out=h)                  # (B, m)
    h *= z                                               # (B, m)
    h += h_prev                                          # (B, m) h^(t)
    return z, r, h_tilde


def _gru_cell_backward(dh, h_prev, z, r, h_tilde, W_zr, W_h):
    """dJ/d(pre-activations) (B, 3m), order z, r, h, and dJ/dh^(t-1) (B, m)."""
    da_h = dh * z * (1 - h_tilde * h_tilde)              # (B, m) via h_tilde
    d_rh = da_h @ W_h                                    # (B, m) dJ/d(r h)
    da_z = dh * (h_tilde - h_prev) * z * (1 - z)         # (B, m)
    da_r = d_rh * h_prev * r * (1 - r)                   # (B, m)
    da_zr = np.concatenate([da_z, da_r], axis=1)         # (B, 2m)
    dh_prev = dh * (1 - z) + d_rh * r + da_zr @ W_zr     # (B, m)
    da = np.concatenate([da_zr, da_h], axis=1)           # (B, 3m)
    return da, dh_prev


def _weight_grads(da, h_prev, rh, x):
    """Weight gradients from da (N, 3m), h^(t-1) (N, m), r * h^(t-1) (N, m)
    and x (N, d)."""
    m = h_prev.shape[1]
    dW_zr = da[:, : 2 * m].T @ h_prev                    # (2m, m)
    dW_h = da[:, 2 * m:].T @ rh                          # (m, m)
    dW = np.concatenate([dW_zr, dW_h])                   # (3m, m)
    return unstack_grads(dW, da.T @ x, da.sum(axis=0), GATES)


# ----------------------------------------------------------------------------------------------
# One time step
# ----------------------------------------------------------------------------------------------
class GRUStepCache(NamedTuple):
    """What gru_step_backward needs from gru_step_forward."""

    x_t: np.ndarray                 # (B, d)
    h_prev: np.ndarray              # (B, m)
    z: np.ndarray                   # (B, m) update gate
    r: np.ndarray                   # (B, m) reset gate
    rh: np.ndarray                  # (B, m) r * h^(t-1)
    h_tilde: np.ndarray             # (B, m) candidate
    mask_t: Optional[np.ndarray]    # (B,) bool or None
    single: bool                    # inputs were one example, (d,) and (m,)


def _gru_step_forward(params, x_t, h_prev, mask_t=None):
    """One GRU step (arguments are checked by `gru_step_forward`).

        z, r    = sigmoid(b + W h^(t-1) + U x^(t))   (update, reset)
        h_tilde = tanh(b_h + W_h (r * h^(t-1)) + U_h x^(t))
        h^(t)   = (1 - z) * h^(t-1) + z * h_tilde

    x_t (B, d), h_prev (B, m), mask_t (B,) bool or None.
    """
    W, U, b = stack_gates(params, GATES)                 # (3m, m), (3m, d)
    B, m = h_prev.shape
    a = x_t @ U.T + b                                    # (B, 3m)
    rh = np.empty((B, m), dtype=a.dtype)                 # (B, m)
    h_t = np.empty((B, m), dtype=a.dtype)                # (B, m)
    z, r, h_tilde = _gru_cell(a, h_prev, W[: 2 * m], W[2 * m:], rh, h_t)
    if mask_t is not None:
        h_t = np.where(mask_t[:, None], h_t, h_prev)     # (B, m) padded: keep h
    cache = GRUStepCache(x_t, h_prev, z, r, rh, h_tilde, mask_t, False)
    return h_t, cache


def gru_step_forward(params, x_t, h_prev, mask_t=None):
    """One GRU step (the module docstring's equations for one t).

    params: needs W_k (m, m), U_k (m, d), b_k (m,) for k in z, r, h (V and c are not used).
    x_t: (B, d) or (d,).  h_prev: (B, m) or (m,) (None means zeros).  mask_t: (B,) bool or None.
    Returns (h_t, cache), h_t shaped like h_prev.
    """
    dtype, m, d, _ = check_gated_params(params, GATES, output=False)
    x_t, mask_t, single, B = check_step_inputs(dtype, d, m, x_t, mask_t)
    h_prev = _check_state("h_prev", h_prev, B, m, dtype)                             # (B, m)
    with np.errstate(over="ignore", invalid="ignore"):
        h_t, cache = _gru_step_forward(params, x_t, h_prev, mask_t)
    if single:
        return h_t[0], cache._replace(single=True)
    return h_t, cache


def _gru_step_backward(params, dh_t, cache):
    """Local gradients of one GRU step (checked by `gru_step_backward`).

        da_h     = dh z (1 - h_tilde²),   d(r h) = W_h^T da_h
        da_z     = dh (h_tilde - h^(t-1)) z (1 - z)
        da_r     = d(r h) h^(t-1) r (1 - r)
        dh^(t-1) = (1 - z) dh + r d(r h) + W_z^T da_z + W_r^T da_r

    dh_t (B, m). Returns (dx_t, dh_prev, grads).
    """
    W, U, _ = stack_gates(params, GATES)                 # (3m, m), (3m, d)
    x_t, h_prev, z, r, rh, h_tilde, mask_t, _ = cache
    m = h_prev.shape[1]
    da, dh_prev = _gru_cell_backward(dh_t, h_prev, z, r, h_tilde,
                                     W[: 2 * m], W[2 * m:])  # (B, 3m), (B, m)
    if mask_t is not None:
        da *= mask_t[:, None]                            # (B, 3m) padded: 0
        dh_prev = np.where(mask_t[:, None], dh_prev, dh_t)  # (B, m) passes on
    dx_t = da @ U                                        # (B, d)
    return dx_t, dh_prev, _weight_grads(da, h_prev, rh, x_t)


def gru_step_backward(params, dh_t, cache):
    """Local gradients of one GRU step, given dJ/dh^(t).

        dJ/dh_tilde = dh z,           da_h = dJ/dh_tilde * (1 - h_tilde²)
        da_z        = dh (h_tilde - h^(t-1)) z (1 - z)
        d(r h)      = W_h^T da_h,     da_r = d(r h) * h^(t-1) * r (1 - r)
        dJ/dh^(t-1) = (1 - z) dh + r d(r h) + W_z^T da_z + W_r^T da_r
        dJ/dW_z = da_z h^(t-1)^T,  dJ/dW_r = da_r h^(t-1)^T,  dJ/dW_h = da_h (r h^(t-1))^T, ...

    At a padded example the gradient passes straight to h^(t-1).
    Returns (dx_t, dh_prev, grads) with grads keyed W_k, U_k, b_k for k in z, r, h.
    """
    dtype, m, d, _ = check_gated_params(params, GATES, output=False)
    state = (None, m)
    check_cache(cache, GRUStepCache, "gru_step_forward",
                {"x_t": (None, d), "h_prev": state, "z": state, "r": state, "rh": state,
                 "h_tilde": state}, dtype)
    dh_t = check_upstream("dh_t", dh_t, cache.h_prev.shape, dtype)                  # (B, m)
    dx_t, dh_prev, grads = _gru_step_backward(params, dh_t, cache)
    if cache.single:
        return dx_t[0], dh_prev[0], grads
    return dx_t, dh_prev, grads


# ----------------------------------------------------------------------------------------------
# The whole sequence
# ----------------------------------------------------------------------------------------------
@dataclass
class GRUCache:
    """The GRU forward pass's record (time-major), like the RNN's plus the gates."""

    x: np.ndarray               # (T, B, d)
    h: np.ndarray               # (T+1, B, m), h[0] = h0
    z: np.ndarray               # (T, B, m) update gate      (z, r, h_tilde are views of
    r: np.ndarray               # (T, B, m) reset gate       one (T, B, 3m) array)
    rh: np.ndarray              # (T, B, m) r^(t) * h^(t-1)
    h_tilde: np.ndarray         # (T, B, m) candidate
    o: np.ndarray               # (T, B, C)
    y_hat: np.ndarray           # (T, B, C)
    mask: Optional[np.ndarray]  # (T, B) bool or None
    h0_shape: tuple             # the shape h0 was given in, for its gradient

    def __getitem__(self, key):
        return getattr(self, key)


def _gru_forward(params, x, h0, mask=None):
    """Run the GRU over all T steps (arguments are checked by `gru_forward`).

    The input terms b_k + U_k x^(t) of all steps in one product, then for
    each t `_gru_cell` gives z, r, h_tilde and h^(t); o^(t) = c + V h^(t).
    x (T, B, d), h0 (B, m) or (m,), mask (T, B) bool or None.
    """
    W, U, b = stack_gates(params, GATES)                 # (3m, m), (3m, d)
    V, c = params["V"], params["c"]
    (T, B, d), m = x.shape, W.shape[1]
    W_zr, W_h = W[: 2 * m], W[2 * m:]                    # (2m, m), (m, m)
    a = (x.reshape(T * B, d) @ U.T).reshape(T, B, 3 * m)  # (T, B, 3m)
    a += b                                               # b + U x^(t)
    h = np.empty((T + 1, B, m), dtype=W.dtype)           # (T+1, B, m)
    rh = np.empty((T, B, m), dtype=W.dtype)              # (T, B, m)
    h[0] = h0                                            # (B, m)
    for t in range(1, T + 1):
        _gru_cell(a[t - 1], h[t - 1], W_zr, W_h, rh[t - 1], h[t])
        if mask is not None:                             # padded: keep h
            np.copyto(h[t], h[t - 1], where=~mask[t - 1][:, None])
    z, r, h_tilde = (a[:, :, k * m: (k + 1) * m] for k in range(3))
    o = h[1:] @ V.T + c                                  # (T, B, C)
    y_hat = _softmax(o)                                  # (T, B, C)
    return GRUCache(x, h, z, r, rh, h_tilde, o, y_hat, mask, np.shape(h0))


def gru_forward(params, x, h0=None, mask=None, max_bytes=DEFAULT_MAX_BYTES):
    """Run the GRU over a batch of sequences and keep what the backward pass needs.

    params: W_k (m, m), U_k (m, d), b_k (m,) for k in z, r, h; V (C, m), c (C,).
    x:      (T, B, d) inputs, or (T, d) for one sequence (then B = 1).
    h0:     (B, m) or (m,) initial state; None means zeros.
    mask:   (T, B) bool, True at real steps; None means every step is real.
    max_bytes: refuse (before allocating) a cache larger than this (default 2 GiB).
    Returns a GRUCache with h (T+1, B, m), z, r, h_tilde (T, B, m), o, y_hat (T, B, C).
    """
    dims = check_gated_params(params, GATES)
    x, h0, mask = _check_gru_inputs(dims, x, h0, mask, max_bytes)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _gru_forward(params, x, h0, mask)
    _warn_overflow("gru_forward", cache, "tanh")
    return cache


def _check_gru_inputs(dims, x, h0, mask, max_bytes=DEFAULT_MAX_BYTES):
    """gru_forward's data checks against params dims; returns (x, h0, mask)."""
    dtype, m, d, C = dims
    x, h0, mask, _ = _check_gated_inputs(x, h0, mask, dtype, m, d, C, max_bytes=max_bytes,
                                         per_step=5)
    return x, h0, mask


def _gru_backward(params, cache, y):
    """BPTT for the GRU (arguments are checked by `gru_backward`).

    Backwards in time: dJ/dh^(t) = V^T dJ/do^(t) + (the gradient from t+1),
    `_gru_cell_backward` gives da^(t) and dJ/dh^(t-1); the weight gradients
    are one product each over all steps after the loop.
    """
    W, _, _ = stack_gates(params, GATES)                 # (3m, m)
    V = params["V"]
    x, h, mask = cache.x, cache.h, cache.mask
    (T, B, d), m, C = x.shape, W.shape[1], V.shape[0]
    W_zr, W_h = W[: 2 * m], W[2 * m:]                    # (2m, m), (m, m)
    loss, do = _rnn_loss(cache, y)                       # (T, B, C)
    dh_out = do @ V                                      # (T, B, m)
    da = np.empty((T, B, 3 * m), dtype=W.dtype)          # (T, B, 3m)
    dh_next = np.zeros((B, m), dtype=W.dtype)            # (B, m) from t+1
    for t in range(T - 1, -1, -1):
        dh = dh_out[t] + dh_next                         # (B, m) dJ/dh^(t)
        da[t], dh_prev = _gru_cell_backward(
            dh, h[t], cache.z[t], cache.r[t], cache.h_tilde[t], W_zr, W_h)
        if mask is not None:                             # padded: pass on
            real = mask[t][:, None]                      # (B, 1)
            da[t] *= real                                # (B, 3m)
            dh_prev = np.where(real, dh_prev, dh)        # (B, m)
        dh_next = dh_prev                                # (B, m)
    grads = _weight_grads(da.reshape(T * B, 3 * m), h[:-1].reshape(T * B, m),
                          cache.rh.reshape(T * B, m), x.reshape(T * B, d))
    grads["V"] = do.reshape(T * B, C).T @ h[1:].reshape(T * B, m)  # (C, m)
    grads["c"] = do.sum(axis=(0, 1))                     # (C,)
    grads["h0"] = state_grad(dh_next, cache.h0_shape)    # (m,) or (B, m)
    return loss, grads


def _check_gru_cache(cache, dims):
    dtype, m, d, C = dims
    check_cache(cache, GRUCache, "gru_forward",
                {"x": (None, None, d), "h": (None, None, m), "o": (None, None, C)}, dtype)
    T, B, _ = cache.x.shape
    gate = (T, B, m)
    check_cache(cache, GRUCache, "gru_forward",
                {"h": (T + 1, B, m), "z": gate, "r": gate, "rh": gate, "h_tilde": gate,
                 "o": (T, B, C), "y_hat": (T, B, C)})
    return cache


def gru_backward(params, cache, y):
    """Backpropagation through time for the GRU.

    y: (T, B) int targets in [0, C) (any value at padded steps), or (T,) for one sequence.
    Returns (loss, grads): the loss J (the same loss as rnn_backward) and its gradient for every
    parameter plus "h0". Each step applies gru_step_backward's equations to
    dJ/dh^(t) = V^T dJ/do^(t) + (the gradient from step t+1); weight gradients are one product
    over all steps after the loop.
    """
    dims = check_gated_params(params, GATES)
    _check_gru_cache(cache, dims)
    y = _check_loss_inputs(cache, y)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _gru_backward(params, cache, y)
    _warn_backward_nonfinite("gru_backward", cache, loss, grads)
    return loss, grads
