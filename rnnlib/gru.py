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

from .losses import softmax
from .lstm import (
    _sigmoid_,
    check_gated_params,
    check_gated_sequence,
    check_step_inputs,
    check_upstream,
    init_gated,
    stack_gates,
    state_grad,
    unstack_grads,
)
from .rnn import _check_state, rnn_loss

GATES = ("z", "r", "h")
PARAM_NAMES = tuple(f"{M}_{k}" for k in GATES for M in ("W", "U", "b")) + ("V", "c")
STEP_PARAM_NAMES = PARAM_NAMES[:-2]


def init_gru(d, m, C, seed=0, dtype=np.float64):
    """Random parameters of a GRU with input size d, hidden size m and C output classes.

    W_k (m, m) ~ N(0, 1/m), U_k (m, d) ~ N(0, 1/d), b_k = 0 for k in z, r, h; V ~ N(0, 1/m),
    c = 0. Same seed, same numbers.
    """
    return init_gated(d, m, C, GATES, seed=seed, dtype=dtype)


# ----------------------------------------------------------------------------------------------
# The cell's math, shared by the step functions and the sequence loop
# ----------------------------------------------------------------------------------------------
def _gru_cell(a, h_prev, W_zr, W_h, rh, h):
    """One GRU cell update, in place.

    a (B, 3m) holds the stacked input terms b_k + U_k x^(t), k = z, r, h, and becomes
    [z, r, h_tilde]:

        z, r    = sigmoid(a_z + W_z h^(t-1)), sigmoid(a_r + W_r h^(t-1))
        h_tilde = tanh(a_h + W_h (r * h^(t-1)))
        h^(t)   = (1 - z) * h^(t-1) + z * h_tilde  =  h^(t-1) + z * (h_tilde - h^(t-1))

    r * h^(t-1) and h^(t) are written into rh and h (B, m). Returns views z, r, h_tilde.
    """
    m = h_prev.shape[1]
    a[:, : 2 * m] += h_prev @ W_zr.T                                                  # (B, 2m) + W_z h, W_r h
    _sigmoid_(a[:, : 2 * m])                                                          # (B, 2m) z, r
    z, r, h_tilde = a[:, :m], a[:, m: 2 * m], a[:, 2 * m:]                            # (B, m) views
    np.multiply(r, h_prev, out=rh)                                                    # (B, m) r * h^(t-1)
    h_tilde += rh @ W_h.T                                                             # (B, m) + W_h (r * h^(t-1))
    np.tanh(h_tilde, out=h_tilde)                                                     # (B, m) candidate
    np.subtract(h_tilde, h_prev, out=h)                                               # (B, m)
    h *= z
    h += h_prev                                                                       # (B, m) (1-z) h_prev + z h_tilde
    return z, r, h_tilde


def _gru_cell_backward(dh, h_prev, z, r, h_tilde, W_zr, W_h):
    """dJ/d(pre-activations) (B, 3m) in the order z, r, h, and dJ/dh^(t-1) (B, m)."""
    da_h = dh * z * (1 - h_tilde * h_tilde)                                           # (B, m) through h_tilde
    d_rh = da_h @ W_h                                                                 # (B, m) dJ/d(r * h_prev)
    da_z = dh * (h_tilde - h_prev) * z * (1 - z)                                      # (B, m)
    da_r = d_rh * h_prev * r * (1 - r)                                                # (B, m)
    da_zr = np.concatenate([da_z, da_r], axis=1)                                      # (B, 2m)
    dh_prev = dh * (1 - z) + d_rh * r + da_zr @ W_zr                                  # (B, m)
    return np.concatenate([da_zr, da_h], axis=1), dh_prev                             # (B, 3m), (B, m)


def _weight_grads(da, h_prev, rh, x):
    """Weight gradients from da (N, 3m), h^(t-1) (N, m), r*h^(t-1) (N, m), x (N, d)."""
    m = h_prev.shape[1]
    dW = np.concatenate([da[:, : 2 * m].T @ h_prev, da[:, 2 * m:].T @ rh])            # (3m, m)
    return unstack_grads(dW, da.T @ x, da.sum(axis=0), GATES)                         # per gate


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


def gru_step_forward(params, x_t, h_prev, mask_t=None):
    """One GRU step (the module docstring's equations for one t).

    params: needs W_k (m, m), U_k (m, d), b_k (m,) for k in z, r, h (V and c are not used).
    x_t: (B, d) or (d,).  h_prev: (B, m) or (m,) (None means zeros).  mask_t: (B,) bool or None.
    Returns (h_t, cache), h_t shaped like h_prev.
    """
    dtype, m, d, _ = check_gated_params(params, GATES, output=False)
    x_t, mask_t, single, B = check_step_inputs(dtype, d, m, x_t, mask_t)
    h_prev = _check_state("h_prev", h_prev, B, m, dtype)                             # (B, m)
    W, U, b = stack_gates(params, GATES)                                              # (3m, m), (3m, d), (3m,)

    a = x_t @ U.T + b                                                                 # (B, 3m)
    rh, h_t = np.empty((B, m), dtype=dtype), np.empty((B, m), dtype=dtype)            # (B, m) each
    z, r, h_tilde = _gru_cell(a, h_prev, W[: 2 * m], W[2 * m:], rh, h_t)              # (B, m) each
    if mask_t is not None:
        h_t = np.where(mask_t[:, None], h_t, h_prev)                                  # (B, m) padded: keep h

    cache = GRUStepCache(x_t, h_prev, z, r, rh, h_tilde, mask_t, single)
    return (h_t[0] if single else h_t), cache


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
    check_gated_params(params, GATES, output=False)
    if not isinstance(cache, GRUStepCache):
        raise TypeError(f"cache must be the GRUStepCache returned by gru_step_forward, got {type(cache).__name__}")
    x_t, h_prev, z, r, rh, h_tilde, mask_t, single = cache
    W, U, _ = stack_gates(params, GATES)                                              # (3m, m), (3m, d)
    m = h_prev.shape[1]
    dh_t = check_upstream("dh_t", dh_t, h_prev.shape, h_prev.dtype)                   # (B, m)

    da, dh_prev = _gru_cell_backward(dh_t, h_prev, z, r, h_tilde, W[: 2 * m], W[2 * m:])  # (B, 3m), (B, m)
    if mask_t is not None:
        da *= mask_t[:, None]                                                         # (B, 3m) padded: no update
        dh_prev = np.where(mask_t[:, None], dh_prev, dh_t)                            # (B, m) h^(t) = h^(t-1)
    dx_t = da @ U                                                                     # (B, d)
    grads = _weight_grads(da, h_prev, rh, x_t)
    if single:
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


def gru_forward(params, x, h0=None, mask=None):
    """Run the GRU over a batch of sequences and keep what the backward pass needs.

    params: W_k (m, m), U_k (m, d), b_k (m,) for k in z, r, h; V (C, m), c (C,).
    x:      (T, B, d) inputs, or (T, d) for one sequence (then B = 1).
    h0:     (B, m) or (m,) initial state; None means zeros.
    mask:   (T, B) bool, True at real steps; None means every step is real.
    Returns a GRUCache with h (T+1, B, m), z, r, h_tilde (T, B, m), o, y_hat (T, B, C).
    """
    dtype, m, d, C = check_gated_params(params, GATES)
    x, h0, h0_shape, mask, _ = check_gated_sequence(x, h0, mask, dtype, m, d)
    T, B, _ = x.shape
    W, U, b = stack_gates(params, GATES)                                              # (3m, m), (3m, d), (3m,)
    W_zr, W_h = W[: 2 * m], W[2 * m:]                                                 # (2m, m), (m, m)
    V, c = params["V"], params["c"]

    gates = (x.reshape(T * B, d) @ U.T).reshape(T, B, 3 * m)                         # (T, B, 3m) all steps at once
    gates += b                                                                        # b + U x^(t), becomes [z, r, h_tilde]
    h = np.empty((T + 1, B, m), dtype=dtype)                                          # (T+1, B, m)
    rh = np.empty((T, B, m), dtype=dtype)                                             # (T, B, m)
    h[0] = h0
    for t in range(1, T + 1):
        _gru_cell(gates[t - 1], h[t - 1], W_zr, W_h, rh[t - 1], h[t])                 # gates, h^(t)
        if mask is not None:
            np.copyto(h[t], h[t - 1], where=~mask[t - 1][:, None])                    # padded: h^(t) = h^(t-1)
    z, r, h_tilde = (gates[:, :, k * m: (k + 1) * m] for k in range(3))              # (T, B, m) views
    o = h[1:] @ V.T + c                                                               # (T, B, C) o^(t) = c + V h^(t)
    y_hat = softmax(o)                                                                # (T, B, C)
    return GRUCache(x=x, h=h, z=z, r=r, rh=rh, h_tilde=h_tilde, o=o, y_hat=y_hat, mask=mask,
                    h0_shape=h0_shape)


def gru_backward(params, cache, y):
    """Backpropagation through time for the GRU.

    y: (T, B) int targets in [0, C) (any value at padded steps), or (T,) for one sequence.
    Returns (loss, grads): the loss J (the same loss as rnn_backward) and its gradient for every
    parameter plus "h0". Each step applies gru_step_backward's equations to
    dJ/dh^(t) = V^T dJ/do^(t) + (the gradient from step t+1); weight gradients are one product
    over all steps after the loop.
    """
    dtype, m, d, C = check_gated_params(params, GATES)
    if not isinstance(cache, GRUCache):
        raise TypeError(f"cache must be the GRUCache returned by gru_forward, got {type(cache).__name__}")
    x, h, mask = cache.x, cache.h, cache.mask
    T, B, _ = x.shape
    if h.shape[2] != m or cache.o.shape[2] != C or x.shape[2] != d:
        raise ValueError("cache does not match params: it was made by gru_forward with other parameter shapes")
    W, _, _ = stack_gates(params, GATES)                                              # (3m, m)
    W_zr, W_h = W[: 2 * m], W[2 * m:]                                                 # (2m, m), (m, m)
    V = params["V"]

    loss, do = rnn_loss(cache, y)                                                     # do: (T, B, C)
    dh_out = do @ V                                                                   # (T, B, m) V^T dJ/do^(t)
    da = np.empty((T, B, 3 * m), dtype=dtype)                                         # (T, B, 3m)
    dh_next = np.zeros((B, m), dtype=dtype)                                           # (B, m) from step t+1
    for t in range(T - 1, -1, -1):
        dh = dh_out[t] + dh_next                                                      # (B, m) dJ/dh^(t)
        da[t], dh_prev = _gru_cell_backward(dh, h[t], cache.z[t], cache.r[t], cache.h_tilde[t], W_zr, W_h)
        if mask is not None:
            real = mask[t][:, None]                                                   # (B, 1)
            da[t] *= real                                                             # padded: no update
            dh_prev = np.where(real, dh_prev, dh)                                     # (B, m) h passes on
        dh_next = dh_prev                                                             # (B, m)

    grads = _weight_grads(da.reshape(T * B, 3 * m), h[:-1].reshape(T * B, m),
                          cache.rh.reshape(T * B, m), x.reshape(T * B, d))            # one product each
    grads["V"] = do.reshape(T * B, C).T @ h[1:].reshape(T * B, m)                     # (C, m)
    grads["c"] = do.sum(axis=(0, 1))                                                  # (C,)
    grads["h0"] = state_grad(dh_next, cache.h0_shape)                                 # (m,) or (B, m)
    return loss, grads
