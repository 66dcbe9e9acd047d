"""Jacobians of the hidden state and gradient norms through time.

Taught in the chapter "Exploding and vanishing gradients".

The vanilla RNN's step h^(t) = act(a^(t)), a^(t) = b + W h^(t-1) + U x^(t), has the Jacobian

    dh^(t)/dh^(t-1) = diag(act'(a^(t))) W                              (m, m)

so, by the chain rule, for k <= t

    dh^(t)/dh^(k) = prod_{j=t}^{k+1} diag(act'(a^(j))) W                (newest factor on the left)

and ||dh^(t)/dh^(k)||_2 <= (max|act'| * ||W||_2)^(t-k). The gradient of the loss with respect
to an earlier state is a sum over every later loss term,

    dJ_t/dh^(k) = (dh^(t)/dh^(k))^T dJ_t/dh^(t),     dJ_t/dh^(t) = V^T dJ_t/do^(t)
    dJ/dh^(k)   = sum_{t >= k} dJ_t/dh^(k),

so each term shrinks (vanishing) or grows (exploding) geometrically with t - k.

Skip connections (``rnnlib.remedies``, a^(t) = b + W h^(t-1) + W_s h^(t-s) + U x^(t) for t >= s)
add a second path; the total Jacobian then obeys

    dh^(t)/dh^(k) = diag(act'(a^(t))) (W dh^(t-1)/dh^(k) + W_s dh^(t-s)/dh^(k)),   dh^(k)/dh^(k) = I,

with dh^(j)/dh^(k) = 0 for j < k. Every function here accepts the caches of ``rnn_forward`` and
``skip_rnn_forward``. At a padded step (mask False) h^(t) = h^(t-1), whose Jacobian is I.

Array conventions: batched Jacobians are (B, m, m) with entry [b, i, j] = dh_i/dh_j for example
b; ``hidden_jacobians`` returns P (T+1, T+1, B, m, m) with P[t, k] = dh^(t)/dh^(k) (zero for
k > t). Per-step gradients are indexed like h: entry k belongs to h^(k), k = 0, ..., T.

Every public function checks its arguments once (params, the cache and that they belong
together, y, sizes: the Jacobian arrays grow like T^2 B m^2, so functions that build them refuse,
before allocating, more than ``max_bytes``) and then calls the plain function of the same name
with a leading underscore (``_hidden_jacobians``, ``_state_gradients``, ...), whose body is the
math.
"""
from __future__ import annotations

import warnings

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    check_allocation,
    check_bool,
    check_cache,
    check_number,
    check_params,
    check_positive_int,
    check_shape,
    nonfinite_ignored,
)
from .activations import _activation_derivative
from .remedies import SkipRNNCache
from .rnn import RNNCache, _rnn_loss, check_rnn_params
from .train import History

__all__ = [
    "ACTIVATION_DERIVATIVE_MAX", "gated_step_jacobians", "step_jacobians", "hidden_jacobians",
    "last_state_jacobians", "jacobian_norms", "jacobian_singular_values", "spectral_radius",
    "jacobian_bound_rate", "loss_term_gradients", "state_gradients", "gradient_norms",
    "train_with_gradient_norms",
]

ACTIVATION_DERIVATIVE_MAX = {"tanh": 1.0, "relu": 1.0, "identity": 1.0}

GATES = {"lstm": ("i", "f", "o", "g"), "gru": ("z", "r", "h")}


# ----------------------------------------------------------------------------------------------
# Boundary checks: params and cache belong together
# ----------------------------------------------------------------------------------------------
def _gated_kind(cache):
    """"lstm", "gru" or None (the RNN and the skip-RNN), from the cache's type."""
    from .gru import GRUCache
    from .lstm import LSTMCache

    if isinstance(cache, LSTMCache):
        return "lstm"
    if isinstance(cache, GRUCache):
        return "gru"
    return None


def _check_pair(params, cache, output=False, gated_only=False):
    """Check (params, cache) of the RNN, the skip-RNN, the LSTM or the GRU once.

    output: the params' V, c are needed too (gradients of the loss).
    Returns (kind, dtype, T, B, m, n) with n the state size (2m for the LSTM's [h; s]).
    """
    kind = _gated_kind(cache)
    if kind is None and (gated_only or not isinstance(cache, (RNNCache, SkipRNNCache))):
        expected = ("lstm_forward or gru_forward" if gated_only
                    else "rnn_forward, skip_rnn_forward, lstm_forward or gru_forward")
        raise TypeError(f"cache must be the cache of {expected}, got {type(cache).__name__}")
    if kind is None:
        skip = isinstance(cache, SkipRNNCache)
        required = ("W", "U", "b") + (("W_s",) if skip else ()) + (("V", "c") if output else ())
        dtype, m, d, C = check_rnn_params(params, required)
        if skip:
            check_shape("params['W_s']", params["W_s"], (m, m), f"({m}, {m}) like W")
            check_positive_int("cache.skip", cache.skip)
        made_by = "skip_rnn_forward" if skip else "rnn_forward"
        state_fields = ("a",)
    else:
        from .lstm import check_gated_params

        dtype, m, d, C = check_gated_params(params, GATES[kind], output=output)
        made_by = f"{kind}_forward"
        state_fields = ("i", "f", "q", "g", "tanh_s") if kind == "lstm" else ("z", "r", "h_tilde")
    check_cache(cache, type(cache), made_by, shapes={"h": (None, None, None)})
    if cache.h.shape[2] != m:
        raise ValueError(f"cache does not match params: hidden size {cache.h.shape[2]} in the "
                         f"cache, m={m} in the W matrices")
    T, B = cache.h.shape[0] - 1, cache.h.shape[1]
    shapes = {"x": (T, B, d)}
    shapes.update({name: (T, B, m) for name in state_fields})
    if kind == "lstm":
        shapes["s"] = (T + 1, B, m)
    if output:
        if cache.o.shape[-1] != C:
            raise ValueError(f"cache does not match params: {cache.o.shape[-1]} classes in the "
                             f"cache, C={C} in V")
        shapes.update(o=(T, B, C), y_hat=(T, B, C))
    check_cache(cache, type(cache), made_by, shapes=shapes, dtype=dtype)
    if T < 1:
        raise ValueError(f"cache has no time steps (h of shape {cache.h.shape})")
    n = 2 * m if kind == "lstm" else m
    return kind, dtype, T, B, m, n


def _check_cache_kind(cache):
    """The cache of the RNN, skip-RNN, LSTM or GRU (state_gradients knows these)."""
    if _gated_kind(cache) is None and not isinstance(cache, (RNNCache, SkipRNNCache)):
        raise TypeError(f"forward must return the cache of rnn_forward, skip_rnn_forward, "
                        f"lstm_forward or gru_forward to record state gradients, got "
                        f"{type(cache).__name__} (pass record_states=False)")


def _check_y(y, cache, T, B):
    from .patterns import _check_step_targets

    return _check_step_targets(y, T, B, cache.o.shape[-1], cache.mask)


def _quietly(made_by, compute):
    """compute() without NumPy's floating-point warnings; one RuntimeWarning if the result holds
    inf or NaN (products of step Jacobians overflow when the gradients explode), quiet inside
    np.errstate(invalid="ignore")."""
    with np.errstate(over="ignore", invalid="ignore"):
        result = compute()
    if not nonfinite_ignored() and not np.isfinite(result).all():
        warnings.warn(f"{made_by}: the result holds inf or NaN: the products of step Jacobians "
                      "overflowed (exploding gradients; jacobian_norms reports them as inf)",
                      RuntimeWarning, stacklevel=3)
    return result


def _allocation(names, shapes, dtype, max_bytes):
    check_allocation(names, shapes, dtype, limit_bytes=max_bytes)


# ----------------------------------------------------------------------------------------------
# The step Jacobians
# ----------------------------------------------------------------------------------------------
def _step_factors(params, cache):
    """The pieces of the RNN's and skip-RNN's step Jacobians: W, W_s (None
    without skip), s, gain = act'(a) (0 at padded steps), keep (1 there)."""
    W = params["W"]                                            # (m, m)
    s = getattr(cache, "skip", None)                           # skip-RNN: s
    W_s = params["W_s"] if s is not None else None             # (m, m) or None
    T, B, _ = cache.a.shape
    fprime = _activation_derivative(cache.a, cache.h[1:], cache.activation)
    real = np.ones((T, B), dtype=bool)                         # (T, B)
    if cache.mask is not None:
        real = cache.mask                                      # (T, B)
    gain = fprime * real[:, :, None]                           # (T, B, m)
    keep = (~real).astype(W.dtype)[:, :, None]                 # (T, B, 1)
    return W, W_s, s, gain, keep


def _gated_step_jacobians(params, cache):
    """A^(t) = d state^(t) / d state^(t-1) of the LSTM or the GRU (see
    `gated_step_jacobians`). Arguments are checked by `gated_step_jacobians`."""
    kind = _gated_kind(cache)
    m = cache.h.shape[2]
    T, B = cache.x.shape[:2]

    def col(v):                                                # diag(v) M
        return v[..., :, None]

    if kind == "gru":
        W_z, W_r, W_h = params["W_z"], params["W_r"], params["W_h"]
        z, r, h_tilde = cache.z, cache.r, cache.h_tilde        # (T, B, m)
        h_prev = cache.h[:-1]                                  # (T, B, m)
        eye = np.eye(m, dtype=W_z.dtype)                       # (m, m)
        d_rh = col(r) * eye + col(h_prev * r * (1 - r)) * W_r  # (T, B, m, m)
        A = (col(1 - z) * eye
             + col((h_tilde - h_prev) * z * (1 - z)) * W_z
             + col(z * (1 - h_tilde ** 2)) * (W_h @ d_rh))     # (T, B, m, m)
        n = m
    else:
        W_i, W_f, W_o, W_g = (params[f"W_{k}"] for k in "ifog")
        i, f, q, g = cache.i, cache.f, cache.q, cache.g        # (T, B, m)
        tanh_s, s_prev = cache.tanh_s, cache.s[:-1]            # (T, B, m)
        ds_dh = (col(s_prev * f * (1 - f)) * W_f
                 + col(g * i * (1 - i)) * W_i
                 + col(i * (1 - g ** 2)) * W_g)                # (T, B, m, m)
        dtanh = q * (1 - tanh_s ** 2)                          # (T, B, m)
        n = 2 * m
        A = np.zeros((T, B, n, n), dtype=W_i.dtype)            # (T, B, 2m, 2m)
        dh_dh = col(tanh_s * q * (1 - q)) * W_o + col(dtanh) * ds_dh
        A[..., :m, :m] = dh_dh                                 # dh/dh_prev
        diag = np.arange(m)
        A[..., diag, m + diag] = dtanh * f                     # dh/ds_prev
        A[..., m:, :m] = ds_dh                                 # ds/dh_prev
        A[..., m + diag, m + diag] = f                         # ds/ds_prev
    if cache.mask is not None:
        A[~cache.mask] = np.eye(n, dtype=A.dtype)              # padded: I
    return A


def gated_step_jacobians(params, cache, max_bytes=DEFAULT_MAX_BYTES):
    """Step Jacobians of the gated cells, A^(t) = d state^(t) / d state^(t-1), t = 1..T.

    GRU (state h, (T, B, m, m)), with h^(t) = (1-z) h^(t-1) + z h_tilde:

        dh^(t)/dh^(t-1) = diag(1-z) + diag((h_tilde - h^(t-1)) z(1-z)) W_z
                          + diag(z (1-h_tilde^2)) W_h (diag(r) + diag(h^(t-1) r(1-r)) W_r)

    LSTM (state [h; s], (T, B, 2m, 2m)), with s^(t) = f s^(t-1) + i g, h^(t) = q tanh(s^(t)):

        ds^(t)/dh^(t-1) = diag(s^(t-1) f(1-f)) W_f + diag(g i(1-i)) W_i + diag(i (1-g^2)) W_g
        ds^(t)/ds^(t-1) = diag(f)                                  (the constant error carousel)
        dh^(t)/dh^(t-1) = diag(tanh(s^(t)) q(1-q)) W_o + diag(q (1-tanh^2 s^(t))) ds^(t)/dh^(t-1)
        dh^(t)/ds^(t-1) = diag(q (1-tanh^2 s^(t)) f)

    A padded step gives I. max_bytes: the largest result allowed (its temporaries are alike).
    """
    kind, dtype, T, B, m, n = _check_pair(params, cache, gated_only=True)
    _allocation(f"T={T}, B={B}, state size {n}", [(T, B, n, n)] * 2, dtype, max_bytes)
    return _quietly("gated_step_jacobians", lambda: _gated_step_jacobians(params, cache))


def _step_jacobians(params, cache):
    """dh^(t)/dh^(t-1) = diag(act'(a^(t))) W, t = 1..T (I at padded steps);
    the cell's state Jacobians for an LSTM or a GRU.
    Arguments are checked by `step_jacobians`."""
    if _gated_kind(cache) is not None:
        return _gated_step_jacobians(params, cache)            # (T, B, n, n)
    W, _, _, gain, keep = _step_factors(params, cache)
    eye = np.eye(W.shape[0], dtype=W.dtype)                    # (m, m)
    return gain[..., :, None] * W + keep[..., None] * eye      # (T, B, m, m)


def step_jacobians(params, cache, max_bytes=DEFAULT_MAX_BYTES):
    """dh^(t)/dh^(t-1) = diag(act'(a^(t))) W for t = 1..T: (T, B, m, m); index t-1 holds step t.

    Only the path through W (the vanilla RNN's Jacobian); a padded step gives I. For an LSTM or
    GRU cache, the cell's state Jacobians (``gated_step_jacobians``). max_bytes: the largest
    result allowed.
    """
    kind, dtype, T, B, m, n = _check_pair(params, cache)
    _allocation(f"T={T}, B={B}, state size {n}", [(T, B, n, n)] * 2, dtype, max_bytes)
    return _quietly("step_jacobians", lambda: _step_jacobians(params, cache))


# ----------------------------------------------------------------------------------------------
# Products of step Jacobians
# ----------------------------------------------------------------------------------------------
def _chain_jacobians(A):
    """P[t, k] = A^(t) ... A^(k+1) for the step Jacobians A (T, B, n, n):
    (T+1, T+1, B, n, n), P[t, t] = I, zero for k > t."""
    T, B, n, _ = A.shape
    P = np.zeros((T + 1, T + 1, B, n, n), dtype=A.dtype)  # (T+1, T+1, B, n, n)
    eye = np.eye(n, dtype=A.dtype)                             # (n, n)
    P[0, 0] = eye
    for t in range(1, T + 1):
        P[t, :t] = A[t - 1][None] @ P[t - 1, :t]               # (t, B, n, n)
        P[t, t] = eye
    return P


def _hidden_jacobians(params, cache):
    """P[t, k] = dh^(t)/dh^(k), built forward in t for all k at once:
    P[t] = diag(act'(a^(t))) (W P[t-1] + W_s P[t-s]), P[t, t] = I.
    Arguments are checked by `hidden_jacobians`."""
    if _gated_kind(cache) is not None:
        A = _gated_step_jacobians(params, cache)               # (T, B, n, n)
        return _chain_jacobians(A)                       # (T+1, T+1, B, n, n)
    W, W_s, s, gain, keep = _step_factors(params, cache)
    T, B, m = gain.shape
    P = np.zeros((T + 1, T + 1, B, m, m), dtype=W.dtype)  # (T+1, T+1, B, m, m)
    eye = np.eye(m, dtype=W.dtype)                             # (m, m)
    P[0, 0] = eye
    for t in range(1, T + 1):
        into_a = W @ P[t - 1, :t]                              # (t, B, m, m)
        if s is not None and t - s >= 0:
            into_a += W_s @ P[t - s, :t]                       # (t, B, m, m)
        gain_t = gain[t - 1][None, :, :, None]                 # (1, B, m, 1)
        keep_t = keep[t - 1][None, :, :, None]                 # (1, B, 1, 1)
        P[t, :t] = gain_t * into_a + keep_t * P[t - 1, :t]     # (t, B, m, m)
        P[t, t] = eye                                          # (B, m, m)
    return P


def _check_hidden_jacobians_size(T, B, n, dtype, max_bytes, with_steps):
    shapes = [(T + 1, T + 1, B, n, n), (T, B, n, n)]                    # P and a temporary
    if with_steps:
        shapes.append((T, B, n, n))                                     # the step Jacobians
    _allocation(f"T={T}, B={B}, state size {n}", shapes, dtype, max_bytes)


def hidden_jacobians(params, cache, max_bytes=DEFAULT_MAX_BYTES):
    """Every Jacobian P[t, k] = dh^(t)/dh^(k), t, k = 0..T: (T+1, T+1, B, m, m), zero for k > t.

    Built forward in t for all k at once:
    P[t] = diag(act'(a^(t))) (W P[t-1] + W_s P[t-s]) (+ P[t-1] at padded steps), P[t, t] = I.
    For an LSTM or GRU cache, P[t] = A^(t) P[t-1] with the cell's state Jacobians; the LSTM's
    state is [h; s], so its P is (T+1, T+1, B, 2m, 2m). The result grows like T^2 B m^2
    (T = 2000, B = 4, m = 16: 30 GiB): beyond ``max_bytes`` (2 GiB by default) it raises a
    ValueError before allocating; pass a larger max_bytes if the machine has the memory.
    """
    kind, dtype, T, B, m, n = _check_pair(params, cache)
    _check_hidden_jacobians_size(T, B, n, dtype, max_bytes, kind is not None)
    return _quietly("hidden_jacobians", lambda: _hidden_jacobians(params, cache))


def _last_state_jacobians(params, cache):
    """R[k] = dh^(T)/dh^(k), backwards in k from R[T] = I (see
    `last_state_jacobians`). Arguments are checked by `last_state_jacobians`."""
    if _gated_kind(cache) is not None:
        A = _gated_step_jacobians(params, cache)               # (T, B, n, n)
        T, B, n, _ = A.shape
        m = cache.h.shape[2]
        R = np.zeros((T + 1, B, m, n), dtype=A.dtype)          # (T+1, B, m, n)
        R[T] = np.eye(m, n, dtype=A.dtype)                     # [I 0]
        for k in range(T - 1, -1, -1):
            R[k] = R[k + 1] @ A[k]                             # (B, m, n)
        return R
    W, W_s, s, gain, keep = _step_factors(params, cache)
    T, B, m = gain.shape
    R = np.zeros((T + 1, B, m, m), dtype=W.dtype)              # (T+1, B, m, m)
    R[T] = np.eye(m, dtype=W.dtype)                            # dh^(T)/dh^(T)
    for k in range(T - 1, -1, -1):
        R[k] = (R[k + 1] * gain[k][:, None, :]) @ W            # (B, m, m)
        R[k] += R[k + 1] * keep[k][:, None, :]                 # padded k+1
        if s is not None and k + s <= T:
            R_s = R[k + s] * gain[k + s - 1][:, None, :]       # (B, m, m)
            R[k] += R_s @ W_s                                  # via a^(k+s)
    return R


def last_state_jacobians(params, cache, max_bytes=DEFAULT_MAX_BYTES):
    """R[k] = dh^(T)/dh^(k) for k = 0..T: (T+1, B, m, m), computed backwards in k (cheap).

    R[T] = I and R[k] = R[k+1] diag(act'(a^(k+1))) W + R[k+s] diag(act'(a^(k+s))) W_s
    (+ R[k+1] where step k+1 is padded). For an LSTM cache, R[k] = dh^(T)/d[h^(k); s^(k)]
    (T+1, B, m, 2m): how much h^(T) moves when the whole state at step k moves.
    max_bytes: the largest result (and the step Jacobians of a gated cell) allowed.
    """
    kind, dtype, T, B, m, n = _check_pair(params, cache)
    shapes = [(T + 1, B, m, n)] + ([(T, B, n, n)] * 2 if kind is not None else [])
    _allocation(f"T={T}, B={B}, m={m}", shapes, dtype, max_bytes)
    return _quietly("last_state_jacobians", lambda: _last_state_jacobians(params, cache))


# ----------------------------------------------------------------------------------------------
# Norms and spectra
# ----------------------------------------------------------------------------------------------
def _check_matrices(name, value, allow_nonfinite=True):
    J = as_float_array(name, value, allow_nonfinite=allow_nonfinite)
    if J.ndim < 2:
        raise ValueError(f"{name} must have at least two axes (..., p, q), got shape {J.shape}")
    if J.shape[-1] == 0 or J.shape[-2] == 0:
        raise ValueError(f"{name} holds empty matrices (shape {J.shape}); p and q must be at least 1")
    return J


def _jacobian_singular_values(J):
    """Singular values of every matrix J (..., p, q), largest first; inf for
    a matrix with a NaN or inf entry. Arguments are checked by
    `jacobian_singular_values`."""
    ok = np.all(np.isfinite(J), axis=(-2, -1))                 # (...)
    if ok.all():
        return np.linalg.svd(J, compute_uv=False)              # (..., r)
    r = min(J.shape[-2:])                                      # r = min(p, q)
    out = np.full(J.shape[:-2] + (r,), np.inf)                 # (..., r)
    out[ok] = np.linalg.svd(J[ok], compute_uv=False)           # finite ones
    return out


def jacobian_singular_values(jacobians):
    """Singular values of Jacobians (..., p, q) -> (..., min(p, q)), largest first.

    A matrix with a NaN or inf entry (an overflowed product) gets inf singular values.
    """
    J = _check_matrices("jacobians", jacobians)
    return _jacobian_singular_values(J)


def _jacobian_norms(J, ord):
    """||J||_2 (the largest singular value) or ||J||_F of every matrix.
    Arguments are checked by `jacobian_norms`."""
    if ord == "fro":
        return np.sqrt(np.sum(J * J, axis=(-2, -1)))           # (...)
    return _jacobian_singular_values(J)[..., 0]                # (...)


def jacobian_norms(jacobians, ord=2):
    """Matrix norms of Jacobians (..., p, q) -> (...); ord=2 is the spectral norm (largest s.v.)."""
    J = _check_matrices("jacobians", jacobians)
    if isinstance(ord, bool) or ord not in (2, "fro"):
        raise ValueError(f"ord must be 2 (spectral) or 'fro' (Frobenius), got {ord!r}")
    return _jacobian_norms(J, ord)


def _check_square(W, name="W"):
    W = as_float_array(name, W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"{name} must be a square matrix (m, m), got shape {W.shape}")
    if W.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {W.shape}); m must be at least 1")
    return W


def _spectral_radius(W):
    """rho(W) = max |eigenvalue of W|. Arguments are checked by
    `spectral_radius`."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def spectral_radius(W):
    """max |eigenvalue| of a square matrix W."""
    return _spectral_radius(_check_square(W))


def _jacobian_bound_rate(W, activation):
    """max|act'| ||W||_2. Arguments are checked by `jacobian_bound_rate`."""
    return ACTIVATION_DERIVATIVE_MAX[activation] * float(np.linalg.norm(W, 2))


def jacobian_bound_rate(params, activation="tanh"):
    """The per-step factor of the bound ||dh^(t)/dh^(k)||_2 <= (max|act'| ||W||_2)^(t-k)."""
    check_params(params, ("W",))
    W = params["W"]
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(f"params['W'] must be square (m, m), got shape {W.shape}")
    if not isinstance(activation, str) or activation not in ACTIVATION_DERIVATIVE_MAX:
        raise ValueError(f"activation must be one of {tuple(ACTIVATION_DERIVATIVE_MAX)}, got {activation!r}")
    return _jacobian_bound_rate(params["W"], activation)


# ----------------------------------------------------------------------------------------------
# Gradients of the loss with respect to earlier hidden states
# ----------------------------------------------------------------------------------------------
def _direct_state_gradients(params, cache, y, n):
    """dJ_t/d(state^(t)) = [V^T dJ_t/do^(t), 0] (T+1, B, n); entry 0 is 0."""
    V = params["V"]                                            # (C, m)
    m = cache.h.shape[2]
    _, do = _rnn_loss(cache, y)                                 # (T, B, C)
    T, B, _ = do.shape
    g = np.zeros((T + 1, B, n), dtype=do.dtype)                # (T+1, B, n)
    g[1:, :, :m] = do @ V                                      # (T, B, m)
    return g


def _loss_term_gradients(params, cache, y, D):
    """G[t, k] = (dh^(t)/dh^(k))^T dJ_t/dh^(t), the h part.
    Arguments are checked by `loss_term_gradients`."""
    m = cache.h.shape[2]
    g = _direct_state_gradients(params, cache, y, D.shape[-1])  # (T+1, B, n)
    G = np.einsum("tbi,tkbij->tkbj", g, D)               # (T+1, T+1, B, n)
    return G[..., :m]                                          # h part


def loss_term_gradients(params, cache, y, jacobians=None, max_bytes=DEFAULT_MAX_BYTES):
    """G[t, k] = dJ_t/dh^(k) = (dh^(t)/dh^(k))^T dJ_t/dh^(t): (T+1, T+1, B, m); zero for k > t, t = 0.

    For an LSTM cache the product runs over the state [h; s] and the h part is returned.
    jacobians: hidden_jacobians(params, cache) if already computed (else computed here, with
    the size guard ``max_bytes`` of hidden_jacobians).
    """
    kind, dtype, T, B, m, n = _check_pair(params, cache, output=True)
    y = _check_y(y, cache, T, B)
    if jacobians is None:
        _check_hidden_jacobians_size(T, B, n, dtype, max_bytes, kind is not None)
        D = _hidden_jacobians(params, cache)                            # (T+1, T+1, B, n, n)
    else:
        D = as_float_array("jacobians", jacobians, dtype=dtype, ndim=5, allow_nonfinite=True)
        check_shape("jacobians", D, (T + 1, T + 1, B, n, n),
                    f"(T+1, T+1, B, n, n) = {(T + 1, T + 1, B, n, n)} from the cache "
                    "(hidden_jacobians(params, cache))")
    _allocation(f"T={T}, B={B}, state size {n}", (T + 1, T + 1, B, n), dtype, max_bytes)
    return _quietly("loss_term_gradients", lambda: _loss_term_gradients(params, cache, y, D))


def _state_gradients(params, cache, y):
    """delta^(k) = dJ/dh^(k), backwards in k (see `state_gradients`).
    Arguments are checked by `state_gradients`."""
    if _gated_kind(cache) is not None:
        A = _gated_step_jacobians(params, cache)               # (T, B, n, n)
        T, B, n, _ = A.shape
        delta = _direct_state_gradients(params, cache, y, n)   # (T+1, B, n)
        for k in range(T - 1, -1, -1):
            delta[k] += np.einsum("bi,bij->bj", delta[k + 1], A[k])  # A^T delta
        return delta[..., :cache.h.shape[2]]                   # (T+1, B, m)
    W, W_s, s, gain, keep = _step_factors(params, cache)
    T, B, m = gain.shape
    delta = _direct_state_gradients(params, cache, y, m)       # (T+1, B, m)
    for k in range(T - 1, -1, -1):
        delta[k] += (delta[k + 1] * gain[k]) @ W               # (B, m) via W
        delta[k] += delta[k + 1] * keep[k]                     # (B, m) padded
        if s is not None and k + s <= T:
            delta[k] += (delta[k + s] * gain[k + s - 1]) @ W_s  # (B, m) via W_s
    return delta


def state_gradients(params, cache, y, max_bytes=DEFAULT_MAX_BYTES):
    """dJ/dh^(k) for k = 0..T (T+1, B, m): every later loss term's pull on h^(k), by BPTT.

    delta^(k) = dJ_k/dh^(k) + W^T (act'(a^(k+1)) * delta^(k+1)) + W_s^T (act'(a^(k+s)) * delta^(k+s))
    (+ delta^(k+1) where step k+1 is padded). delta^(0) is rnn_backward's grads["h0"].
    For an LSTM or GRU cache, delta^(k) = g^(k) + A^(k+1)^T delta^(k+1) over the cell's state,
    and the h part is returned (for the LSTM, dJ/dh^(k) with s^(k) held fixed, as lstm_backward).
    max_bytes: the largest step Jacobians (T, B, n, n) of a gated cell allowed.
    """
    kind, dtype, T, B, m, n = _check_pair(params, cache, output=True)
    y = _check_y(y, cache, T, B)
    if kind is not None:
        _allocation(f"T={T}, B={B}, state size {n}", [(T, B, n, n)] * 2, dtype, max_bytes)
    return _quietly("state_gradients", lambda: _state_gradients(params, cache, y))


def _gradient_norms(G):
    """||G||_F over the last two axes (B, m): (..., B, m) -> (...).
    Arguments are checked by `gradient_norms`."""
    G2 = np.square(G, dtype=np.float64)                        # (..., B, m)
    return np.sqrt(np.sum(G2, axis=(-2, -1)))                  # (...)


def gradient_norms(grads_per_step):
    """||.|| over everything but the leading axes: (..., B, m) -> (...), the norm of the whole batch."""
    G = as_float_array("grads_per_step", grads_per_step, allow_nonfinite=True)
    if G.ndim < 2:
        raise ValueError(f"grads_per_step must have at least 2 axes (..., B, m), got shape {G.shape}")
    return _gradient_norms(G)


# ----------------------------------------------------------------------------------------------
# Gradient norms during training
# ----------------------------------------------------------------------------------------------
def _train_with_gradient_norms(params, get_batch, num_steps, optimizer, forward,
                               backward, clip_norm, clip_value, progress, desc,
                               record_states):
    """The training loop of `train_with_gradient_norms` (arguments checked
    there; forward and backward check each step's batch)."""
    from tqdm.auto import tqdm

    from .optim import _clip_grad_norm, _clip_grad_value, _global_norm

    history, records = History(), []
    history.diverged = False
    steps = tqdm(range(num_steps), desc=desc, disable=not progress,
                 mininterval=0.5)
    for step in steps:
        x, y, mask = get_batch(step)                           # the batch
        with np.errstate(over="ignore", invalid="ignore"):
            cache = forward(params, x, mask)                   # forward pass
            loss, grads, y = backward(params, cache, y)        # loss, backprop
            norm = _global_norm(grads)
            history.loss.append(float(loss))
            history.grad_norm.append(norm)
            if not (np.isfinite(loss) and np.isfinite(norm)):
                history.diverged = True
                break
            if record_states:
                if step == 0:                                  # a known cache?
                    _check_cache_kind(cache)
                delta = _state_gradients(params, cache, y)     # (T+1, B, m)
                records.append(_gradient_norms(delta))         # (T+1,)
            if clip_norm is not None:
                _clip_grad_norm(grads, clip_norm)
            if clip_value is not None:
                _clip_grad_value(grads, clip_value)
            optimizer._step(params, grads)                     # update
    state_norms = np.array(records) if records else None
    return history, state_norms


def _model_functions(params, forward, backward, forward_kwargs):
    """(forward(params, x, mask), backward(params, cache, y) -> (loss, grads, checked y)).

    For the RNN, LSTM, GRU and skip-RNN params are checked once, here, and each step runs the
    plain functions after checking its batch; any other model's public functions check
    everything at every step.
    """
    from .patterns import _check_step_targets
    from .remedies import _check_skip_params, _skip_rnn_backward, _skip_rnn_forward, skip_rnn_backward, skip_rnn_forward
    from .rnn import _check_rnn_inputs
    from .train import _MODELS

    def targets(cache, y):
        T, B, C = cache.o.shape
        return _check_step_targets(y, T, B, C, cache.mask)

    model = _MODELS.get((forward, backward))
    if model is not None:
        dims = model.check_params(params)
        step_forward = model.make_forward(dims, **forward_kwargs)

        def run_forward(params, x, mask):
            return step_forward(params, x, None, mask)

        def run_backward(params, cache, y):
            y = targets(cache, y)
            loss, grads = model.backward(params, cache, y)
            grads.pop("h0", None)
            grads.pop("c0", None)
            return loss, grads, y
        return run_forward, run_backward
    if (forward, backward) == (skip_rnn_forward, skip_rnn_backward):
        dims = _check_skip_params(params)
        kwargs = dict(forward_kwargs)
        skip = check_positive_int("skip", kwargs.pop("skip", None))
        activation = kwargs.pop("activation", "tanh")
        if kwargs:
            raise TypeError(f"skip_rnn_forward got unexpected arguments {sorted(kwargs)}")

        def run_forward(params, x, mask):
            x, h0, mask = _check_rnn_inputs(dims, x, None, mask, activation)
            return _skip_rnn_forward(params, x, skip, h0, mask, activation)

        def run_backward(params, cache, y):
            y = targets(cache, y)
            loss, grads = _skip_rnn_backward(params, cache, y)
            grads.pop("h0", None)
            return loss, grads, y
        return run_forward, run_backward

    def run_forward(params, x, mask):
        return forward(params, x, mask=mask, **forward_kwargs)

    def run_backward(params, cache, y):
        loss, grads = backward(params, cache, y)
        grads.pop("h0", None)
        grads.pop("c0", None)
        return loss, grads, targets(cache, y)
    return run_forward, run_backward


def train_with_gradient_norms(params, batches, num_steps, optimizer=None, *, forward=None, backward=None,
                              clip_norm=None, clip_value=None, progress=False, desc="training",
                              record_states=True, **forward_kwargs):
    """Train ``params`` in place like ``rnnlib.train`` and also record gradient norms per step.

    Returns (history, state_norms): ``history.loss`` and ``history.grad_norm`` (the global norm
    of the parameter gradient before clipping) at every training step, and ``state_norms``
    (steps, T+1) with ||dJ/dh^(k)|| over the batch for each k (any cache ``state_gradients``
    accepts: RNN, skip-RNN, LSTM, GRU), or None when ``record_states`` is False. A non-finite loss or gradient stops training: the
    history then ends with that step and ``history.diverged`` is True.
    batches: a function step -> (x, y) or (x, y, mask);
    forward/backward: the model's functions (default rnn_forward, rnn_backward). For the RNN,
    LSTM, GRU and skip-RNN, params are checked once and each step checks only its batch.
    """
    from .optim import Adam, Optimizer
    from .rnn import rnn_backward, rnn_forward
    from .train import _batch_getter

    num_steps = check_positive_int("num_steps", num_steps)
    forward = rnn_forward if forward is None else forward
    backward = rnn_backward if backward is None else backward
    for name, function in (("forward", forward), ("backward", backward)):
        if not callable(function):
            raise TypeError(f"{name} must be a function such as rnn_{name}, got {type(function).__name__}")
    optimizer = Adam(lr=1e-2) if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an rnnlib optimiser (SGD, Adagrad, Adam), got {type(optimizer).__name__}")
    if not callable(batches):
        raise TypeError(f"batches must be a function step -> (x, y) or (x, y, mask), got {type(batches).__name__}")
    if clip_norm is not None:
        clip_norm = check_number("clip_norm", clip_norm, low=0, low_open=True)
    if clip_value is not None:
        clip_value = check_number("clip_value", clip_value, low=0, low_open=True)
    progress = check_bool("progress", progress)
    record_states = check_bool("record_states", record_states)
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {type(desc).__name__}")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of NumPy arrays, got {type(params).__name__}")
    step_forward, step_backward = _model_functions(params, forward, backward, forward_kwargs)
    optimizer.check_state(params)
    get_batch = _batch_getter(batches, num_steps)
    return _train_with_gradient_norms(params, get_batch, num_steps, optimizer, step_forward,
                                      step_backward, clip_norm, clip_value, progress, desc,
                                      record_states)
