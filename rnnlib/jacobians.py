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
b; ``hidden_jacobians`` returns D (T+1, T+1, B, m, m) with D[t, k] = dh^(t)/dh^(k) (zero for
k > t). Per-step gradients are indexed like h: entry k belongs to h^(k), k = 0, ..., T.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_params, check_positive_int, check_shape
from .activations import activation_derivative
from .rnn import RNNCache, check_rnn_params
from .train import History

ACTIVATION_DERIVATIVE_MAX = {"tanh": 1.0, "relu": 1.0, "identity": 1.0}


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _unpack(params, cache):
    """Check a (params, cache) pair of the RNN or the skip-RNN; return the pieces the math uses."""
    skip = getattr(cache, "skip", None)
    if not isinstance(cache, RNNCache) and skip is None:
        raise TypeError(
            f"cache must be the cache of rnn_forward, skip_rnn_forward, lstm_forward or gru_forward, got {type(cache).__name__}"
        )
    required = ("W", "U", "b") + (("W_s",) if skip is not None else ())
    _, m, _, _ = check_rnn_params(params, required)
    if skip is not None and params["W_s"].shape != (m, m):
        raise ValueError(f"params['W_s'] must have shape ({m}, {m}) like W, got {params['W_s'].shape}")
    if cache.h.shape[2] != m:
        raise ValueError(f"cache does not match params: hidden size {cache.h.shape[2]} in the cache, m={m} in W")
    W = params["W"]                                                         # (m, m)
    W_s = params["W_s"] if skip is not None else None                       # (m, m) or None
    T, B, _ = cache.a.shape
    fprime = activation_derivative(cache.a, cache.h[1:], cache.activation)  # (T, B, m) act'(a^(t))
    if cache.mask is None:
        real = np.ones((T, B), dtype=bool)                                  # (T, B)
    else:
        real = cache.mask                                                   # (T, B)
    gain = fprime * real[:, :, None]                                        # (T, B, m) 0 at padded steps
    keep = (~real).astype(W.dtype)[:, :, None]                              # (T, B, 1) 1 at padded steps
    return W, W_s, skip, gain, keep, T, B, m


def _gated_kind(cache):
    """"lstm", "gru" or None (the RNN and the skip-RNN), from the cache's type."""
    from .gru import GRUCache
    from .lstm import LSTMCache

    if isinstance(cache, LSTMCache):
        return "lstm"
    if isinstance(cache, GRUCache):
        return "gru"
    return None


def _direct_state_gradients(params, cache, y, n=None):
    """dJ_t/d(state^(t)) for every t: [V^T dJ_t/do^(t), 0] (T+1, B, n); entry 0 (no loss) is zero.

    n is the state size (m, or 2m for the LSTM's [h; s], whose s part gets no direct gradient).
    """
    from .rnn import rnn_loss

    check_params(params, ("V", "c"))
    V = params["V"]                                                         # (C, m)
    m = cache.h.shape[2]
    check_shape("params['V']", V, (None, m), f"(C, m) with m={m} from the cache")
    if cache.o.shape[2] != V.shape[0]:
        raise ValueError(f"cache does not match params: {cache.o.shape[2]} classes in the cache, C={V.shape[0]} in V")
    _, do = rnn_loss(cache, y)                                              # (T, B, C)
    T, B, _ = do.shape
    g = np.zeros((T + 1, B, m if n is None else n), dtype=do.dtype)         # (T+1, B, n)
    g[1:, :, :m] = do @ V                                                   # (T, B, m) V^T dJ_t/do^(t)
    return g


def gated_step_jacobians(params, cache):
    """Step Jacobians of the gated cells, A^(t) = d state^(t) / d state^(t-1), t = 1..T.

    GRU (state h, (T, B, m, m)), with h^(t) = (1-z) h^(t-1) + z h_tilde:

        dh^(t)/dh^(t-1) = diag(1-z) + diag((h_tilde - h^(t-1)) z(1-z)) W_z
                          + diag(z (1-h_tilde^2)) W_h (diag(r) + diag(h^(t-1) r(1-r)) W_r)

    LSTM (state [h; s], (T, B, 2m, 2m)), with s^(t) = f s^(t-1) + i g, h^(t) = q tanh(s^(t)):

        ds^(t)/dh^(t-1) = diag(s^(t-1) f(1-f)) W_f + diag(g i(1-i)) W_i + diag(i (1-g^2)) W_g
        ds^(t)/ds^(t-1) = diag(f)                                  (the constant error carousel)
        dh^(t)/dh^(t-1) = diag(tanh(s^(t)) q(1-q)) W_o + diag(q (1-tanh^2 s^(t))) ds^(t)/dh^(t-1)
        dh^(t)/ds^(t-1) = diag(q (1-tanh^2 s^(t)) f)

    A padded step gives I.
    """
    kind = _gated_kind(cache)
    if kind is None:
        raise TypeError(f"cache must be the cache of lstm_forward or gru_forward, got {type(cache).__name__}")
    from .lstm import check_gated_params

    gates = ("i", "f", "o", "g") if kind == "lstm" else ("z", "r", "h")
    _, m, _, _ = check_gated_params(params, gates, output=False)
    if cache.h.shape[2] != m:
        raise ValueError(f"cache does not match params: hidden size {cache.h.shape[2]} in the cache, m={m} in the W matrices")
    T, B = cache.x.shape[:2]
    col = lambda v: v[..., :, None]                                        # noqa: E731 diag(v) M = v[:, None] * M
    if kind == "gru":
        W_z, W_r, W_h = params["W_z"], params["W_r"], params["W_h"]         # (m, m) each
        z, r, h_tilde, h_prev = cache.z, cache.r, cache.h_tilde, cache.h[:-1]  # (T, B, m) each
        eye = np.eye(m, dtype=W_z.dtype)
        d_rh = col(r) * eye + col(h_prev * r * (1 - r)) * W_r              # (T, B, m, m) d(r h^(t-1))/dh^(t-1)
        A = (col(1 - z) * eye + col((h_tilde - h_prev) * z * (1 - z)) * W_z
             + col(z * (1 - h_tilde ** 2)) * (W_h @ d_rh))                  # (T, B, m, m)
        n = m
    else:
        W_i, W_f, W_o, W_g = (params[f"W_{k}"] for k in gates)             # (m, m) each
        i, f, q, g, tanh_s, s_prev = cache.i, cache.f, cache.q, cache.g, cache.tanh_s, cache.s[:-1]
        ds_dh = (col(s_prev * f * (1 - f)) * W_f + col(g * i * (1 - i)) * W_i
                 + col(i * (1 - g ** 2)) * W_g)                             # (T, B, m, m)
        dtanh = q * (1 - tanh_s ** 2)                                      # (T, B, m)
        n = 2 * m
        A = np.zeros((T, B, n, n), dtype=W_i.dtype)                        # (T, B, 2m, 2m)
        A[..., :m, :m] = col(tanh_s * q * (1 - q)) * W_o + col(dtanh) * ds_dh  # dh/dh_prev
        diag = np.arange(m)
        A[..., diag, m + diag] = dtanh * f                                 # dh/ds_prev
        A[..., m:, :m] = ds_dh                                             # ds/dh_prev
        A[..., m + diag, m + diag] = f                                     # ds/ds_prev
    if cache.mask is not None:
        padded = ~cache.mask                                               # (T, B)
        A[padded] = np.eye(n, dtype=A.dtype)
    return A


# ----------------------------------------------------------------------------------------------
# Jacobians
# ----------------------------------------------------------------------------------------------
def step_jacobians(params, cache):
    """dh^(t)/dh^(t-1) = diag(act'(a^(t))) W for t = 1..T: (T, B, m, m); index t-1 holds step t.

    Only the path through W (the vanilla RNN's Jacobian); a padded step gives I. For an LSTM or
    GRU cache, the cell's state Jacobians (``gated_step_jacobians``).
    """
    if _gated_kind(cache) is not None:
        return gated_step_jacobians(params, cache)
    W, _, _, gain, keep, T, B, m = _unpack(params, cache)
    eye = np.eye(m, dtype=W.dtype)                                          # (m, m)
    return gain[..., :, None] * W + keep[..., None] * eye                  # (T, B, m, m)


def hidden_jacobians(params, cache):
    """Every Jacobian D[t, k] = dh^(t)/dh^(k), t, k = 0..T: (T+1, T+1, B, m, m), zero for k > t.

    Built forward in t for all k at once:
    D[t] = diag(act'(a^(t))) (W D[t-1] + W_s D[t-s]) (+ D[t-1] at padded steps), D[t, t] = I.
    For an LSTM or GRU cache, D[t] = A^(t) D[t-1] with the cell's state Jacobians; the LSTM's
    state is [h; s], so its D is (T+1, T+1, B, 2m, 2m).
    """
    if _gated_kind(cache) is not None:
        A = gated_step_jacobians(params, cache)                             # (T, B, n, n)
        T, B, n, _ = A.shape
        D = np.zeros((T + 1, T + 1, B, n, n), dtype=A.dtype)                # (T+1, T+1, B, n, n)
        D[0, 0] = np.eye(n, dtype=A.dtype)
        for t in range(1, T + 1):
            D[t, :t] = A[t - 1][None] @ D[t - 1, :t]                        # (t, B, n, n)
            D[t, t] = np.eye(n, dtype=A.dtype)
        return D
    W, W_s, skip, gain, keep, T, B, m = _unpack(params, cache)
    D = np.zeros((T + 1, T + 1, B, m, m), dtype=W.dtype)                    # (T+1, T+1, B, m, m)
    eye = np.eye(m, dtype=W.dtype)                                          # (m, m)
    D[0, 0] = eye
    for t in range(1, T + 1):
        into_a = np.einsum("ij,kbjl->kbil", W, D[t - 1, :t])                # (t, B, m, m) W dh^(t-1)/dh^(k)
        if skip is not None and t - skip >= 0:
            into_a += np.einsum("ij,kbjl->kbil", W_s, D[t - skip, :t])      # (t, B, m, m) + W_s dh^(t-s)/dh^(k)
        D[t, :t] = gain[t - 1][None, :, :, None] * into_a                   # (t, B, m, m) diag(act') (...)
        D[t, :t] += keep[t - 1][None, :, :, None] * D[t - 1, :t]            # padded: h^(t) = h^(t-1)
        D[t, t] = eye
    return D


def last_state_jacobians(params, cache):
    """R[k] = dh^(T)/dh^(k) for k = 0..T: (T+1, B, m, m), computed backwards in k (cheap).

    R[T] = I and R[k] = R[k+1] diag(act'(a^(k+1))) W + R[k+s] diag(act'(a^(k+s))) W_s
    (+ R[k+1] where step k+1 is padded). For an LSTM cache, R[k] = dh^(T)/d[h^(k); s^(k)]
    (T+1, B, m, 2m): how much h^(T) moves when the whole state at step k moves.
    """
    if _gated_kind(cache) is not None:
        A = gated_step_jacobians(params, cache)                             # (T, B, n, n)
        T, B, n, _ = A.shape
        m = cache.h.shape[2]
        R = np.zeros((T + 1, B, m, n), dtype=A.dtype)                       # (T+1, B, m, n)
        R[T] = np.eye(m, n, dtype=A.dtype)                                  # [I 0]
        for k in range(T - 1, -1, -1):
            R[k] = R[k + 1] @ A[k]                                          # (B, m, n)
        return R
    W, W_s, skip, gain, keep, T, B, m = _unpack(params, cache)
    R = np.zeros((T + 1, B, m, m), dtype=W.dtype)                           # (T+1, B, m, m)
    R[T] = np.eye(m, dtype=W.dtype)
    for k in range(T - 1, -1, -1):
        R[k] = (R[k + 1] * gain[k][:, None, :]) @ W                         # (B, m, m) via a^(k+1)
        R[k] += R[k + 1] * keep[k][:, None, :]                              # padded step k+1
        if skip is not None and k + skip <= T:
            R[k] += (R[k + skip] * gain[k + skip - 1][:, None, :]) @ W_s    # (B, m, m) via a^(k+s)
    return R


def jacobian_norms(jacobians, ord=2):
    """Matrix norms of Jacobians (..., p, q) -> (...); ord=2 is the spectral norm (largest s.v.)."""
    J = np.asarray(jacobians)
    if J.ndim < 2:
        raise ValueError(f"jacobians must have at least two axes (..., p, q), got shape {J.shape}")
    if ord not in (2, "fro"):
        raise ValueError(f"ord must be 2 (spectral) or 'fro' (Frobenius), got {ord!r}")
    if ord == "fro":
        return np.sqrt(np.sum(J * J, axis=(-2, -1)))
    return jacobian_singular_values(J)[..., 0]


def jacobian_singular_values(jacobians):
    """Singular values of Jacobians (..., p, q) -> (..., min(p, q)), largest first."""
    J = np.asarray(jacobians)
    if J.ndim < 2:
        raise ValueError(f"jacobians must have at least two axes (..., p, q), got shape {J.shape}")
    if not np.all(np.isfinite(J)):
        J = np.nan_to_num(J, nan=np.inf)
        out = np.full(J.shape[:-1], np.inf)
        ok = np.all(np.isfinite(J), axis=(-2, -1))
        out[ok] = np.linalg.svd(J[ok], compute_uv=False)
        return out
    return np.linalg.svd(J, compute_uv=False)


def spectral_radius(W):
    """max |eigenvalue| of a square matrix W."""
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix (m, m), got shape {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def jacobian_bound_rate(params, activation="tanh"):
    """The per-step factor of the bound ||dh^(t)/dh^(k)||_2 <= (max|act'| ||W||_2)^(t-k)."""
    _, m, _, _ = check_rnn_params(params, ("W",) if "U" not in params else ("W", "U", "b"))
    if activation not in ACTIVATION_DERIVATIVE_MAX:
        raise ValueError(f"activation must be one of {tuple(ACTIVATION_DERIVATIVE_MAX)}, got {activation!r}")
    return ACTIVATION_DERIVATIVE_MAX[activation] * float(np.linalg.norm(params["W"], 2))


# ----------------------------------------------------------------------------------------------
# Gradients of the loss with respect to earlier hidden states
# ----------------------------------------------------------------------------------------------
def loss_term_gradients(params, cache, y, jacobians=None):
    """G[t, k] = dJ_t/dh^(k) = (dh^(t)/dh^(k))^T dJ_t/dh^(t): (T+1, T+1, B, m); zero for k > t, t = 0.

    For an LSTM cache the product runs over the state [h; s] and the h part is returned.
    """
    D = hidden_jacobians(params, cache) if jacobians is None else jacobians  # (T+1, T+1, B, n, n)
    m = cache.h.shape[2]
    g = _direct_state_gradients(params, cache, y, np.shape(D)[-1])         # (T+1, B, n)
    if D.ndim != 5 or D.shape[:3] != (g.shape[0], g.shape[0], g.shape[1]):
        raise ValueError(f"jacobians must have shape (T+1, T+1, B, n, n) = {g.shape[:1] * 2 + g.shape[1:2]}+(n, n), got {D.shape}")
    return np.einsum("tbi,tkbij->tkbj", g, D)[..., :m]                     # (T+1, T+1, B, m)


def state_gradients(params, cache, y):
    """dJ/dh^(k) for k = 0..T (T+1, B, m): every later loss term's pull on h^(k), by BPTT.

    delta^(k) = dJ_k/dh^(k) + W^T (act'(a^(k+1)) * delta^(k+1)) + W_s^T (act'(a^(k+s)) * delta^(k+s))
    (+ delta^(k+1) where step k+1 is padded). delta^(0) is rnn_backward's grads["h0"].
    For an LSTM or GRU cache, delta^(k) = g^(k) + A^(k+1)^T delta^(k+1) over the cell's state,
    and the h part is returned (for the LSTM, dJ/dh^(k) with s^(k) held fixed, as lstm_backward).
    """
    if _gated_kind(cache) is not None:
        A = gated_step_jacobians(params, cache)                             # (T, B, n, n)
        T, B, n, _ = A.shape
        m = cache.h.shape[2]
        delta = _direct_state_gradients(params, cache, y, n)                # (T+1, B, n)
        for k in range(T - 1, -1, -1):
            delta[k] += np.einsum("bi,bij->bj", delta[k + 1], A[k])         # (B, n) A^T delta^(k+1)
        return delta[..., :m]                                               # (T+1, B, m)
    W, W_s, skip, gain, keep, T, B, m = _unpack(params, cache)
    delta = _direct_state_gradients(params, cache, y)                       # (T+1, B, m) starts as dJ_k/dh^(k)
    for k in range(T - 1, -1, -1):
        delta[k] += (delta[k + 1] * gain[k]) @ W                            # (B, m) W^T da^(k+1)
        delta[k] += delta[k + 1] * keep[k]                                  # (B, m) padded step k+1
        if skip is not None and k + skip <= T:
            delta[k] += (delta[k + skip] * gain[k + skip - 1]) @ W_s        # (B, m) W_s^T da^(k+s)
    return delta


def gradient_norms(grads_per_step):
    """||.|| over everything but the leading axes: (..., B, m) -> (...), the norm of the whole batch."""
    G = np.asarray(grads_per_step)
    if G.ndim < 2:
        raise ValueError(f"grads_per_step must have at least 2 axes (..., B, m), got shape {G.shape}")
    return np.sqrt(np.sum(np.square(G, dtype=np.float64), axis=(-2, -1)))


# ----------------------------------------------------------------------------------------------
# Gradient norms during training
# ----------------------------------------------------------------------------------------------
def train_with_gradient_norms(params, batches, num_steps, optimizer=None, *, forward=None, backward=None,
                              clip_norm=None, clip_value=None, progress=False, desc="training",
                              record_states=True, **forward_kwargs):
    """Train ``params`` in place like ``rnnlib.train`` and also record gradient norms per step.

    Returns (history, state_norms): ``history.loss`` and ``history.grad_norm`` (the global norm
    of the parameter gradient before clipping) at every training step, and ``state_norms``
    (steps, T+1) with ||dJ/dh^(k)|| over the batch for each k (any cache ``state_gradients``
    accepts: RNN, skip-RNN, LSTM, GRU), or None when ``record_states`` is False. A non-finite loss or gradient stops training: the
    history then ends with that step and ``history.diverged`` is True.
    """
    from tqdm.auto import tqdm

    from .optim import Adam, Optimizer, clip_grad_norm, clip_grad_value, global_norm
    from .rnn import rnn_backward, rnn_forward

    num_steps = check_positive_int("num_steps", num_steps)
    forward = rnn_forward if forward is None else forward
    backward = rnn_backward if backward is None else backward
    optimizer = Adam(lr=1e-2) if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an rnnlib optimiser (SGD, Adagrad, Adam), got {type(optimizer).__name__}")
    if not callable(batches):
        raise TypeError(f"batches must be a function step -> (x, y) or (x, y, mask), got {type(batches).__name__}")
    history, records = History(), []
    history.diverged = False
    for step in tqdm(range(num_steps), desc=desc, disable=not progress, mininterval=0.5):
        batch = batches(step)
        x, y, mask = batch if len(batch) == 3 else (*batch, None)
        with np.errstate(over="ignore", invalid="ignore"):
            cache = forward(params, x, mask=mask, **forward_kwargs)              # forward pass
            loss, grads = backward(params, cache, y)                             # loss, backprop
            grads.pop("h0", None)
            grads.pop("c0", None)
            norm = global_norm(grads)
            history.loss.append(float(loss))
            history.grad_norm.append(norm)
            if not (np.isfinite(loss) and np.isfinite(norm)):
                history.diverged = True
                break
            if record_states:
                records.append(gradient_norms(state_gradients(params, cache, y)))  # (T+1,)
            if clip_norm is not None:
                clip_grad_norm(grads, clip_norm)
            if clip_value is not None:
                clip_grad_value(grads, clip_value)
            optimizer.step(params, grads)                                        # update
    state_norms = np.array(records) if records else None
    return history, state_norms
