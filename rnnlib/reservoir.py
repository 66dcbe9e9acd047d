"""Echo state networks and leaky units (Deep Learning book 10.8 and 10.9).

Taught in the section "Echo state networks and leaky units", after the chapter on the hidden
state's dynamics ("Recurrence and unfolding"), whose spectral radius it uses.

**Leaky units** mix the old state with the new one:

    h^(t) = (1 - alpha) * h^(t-1) + alpha * tanh(b + W h^(t-1) + U x^(t))
    o^(t) = c + V h^(t),   y_hat^(t) = softmax(o^(t))

alpha in (0, 1], one number or one per unit (m,) (units with several time scales). With
alpha = 1 this is the vanilla RNN. Near h = 0 the state's Jacobian is (1 - alpha) I + alpha W,
so an impulse fades like max_i |1 - alpha + alpha lambda_i(W)|^t (:func:`leaky_decay_rate`);
with a small W that is (1 - alpha)^t, a time scale of -1/log(1 - alpha), about 1/alpha steps
(:func:`leaky_impulse_response` and :func:`fit_time_constant` measure it). The backward pass:

    dJ/dh^(t) = V^T do^(t) + (1 - alpha) dJ/dh^(t+1) + W^T da^(t+1)
    da^(t) = alpha * dJ/dh^(t) * (1 - tanh^2(a^(t)))

:func:`leaky_forward` / :func:`leaky_backward` (trainable with rnnlib's ``train``, pass
``alpha=...``); :func:`reservoir_states` runs the recurrence alone.

**Echo state networks** (reservoir computing) never train W and U: W is random and rescaled to a
chosen spectral radius (below 1 gives the "echo state": the state forgets its start), U is
random, and only the linear readout y^(t) = c + V h^(t) is fitted, by ridge regression in closed
form (:func:`fit_readout`):

    [V c] = argmin sum_t ||c + V h^(t) - y^(t)||^2 + ridge ||V||^2
          = solve(Z^T Z + ridge D, Z^T Y),  Z = [H 1],  D = diag(1, ..., 1, 0)

:func:`init_reservoir`, :func:`esn_predict`; two tasks it solves, :func:`make_narma` (the
NARMA-10 series) and :func:`make_delay_recall` (recall the input k steps back). Errors are
reported as NRMSE (``rnnlib.metrics.nrmse``).

The dtype follows the parameters (float64 or float32). Every public function checks its
arguments once and calls the plain function of the same name with a leading underscore.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    as_sequence,
    as_generator,
    check_allocation,
    check_cache,
    check_float_dtype,
    check_mask,
    check_number,
    check_params,
    check_positive_int,
    check_shape,
    nonfinite_ignored,
)
from .losses import _softmax
from .rnn import _check_loss_inputs, _rnn_loss

__all__ = [
    "RESERVOIR_PARAMS", "LEAKY_PARAMS", "init_reservoir", "init_leaky", "reservoir_states",
    "LeakyCache", "leaky_forward", "leaky_backward", "fit_readout", "esn_predict",
    "leaky_impulse_response", "fit_time_constant", "leaky_decay_rate", "make_narma",
    "make_delay_recall",
]

RESERVOIR_PARAMS = ("W", "U", "b")
LEAKY_PARAMS = ("W", "U", "b", "V", "c")


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------
def _init_reservoir(d, m, rng, rho, input_scale, bias_scale, dtype):
    """W ~ N(0, 1/m) rescaled to spectral radius rho, U ~ U[-s, s], b ~
    U[-s_b, s_b]. Arguments are checked by `init_reservoir`."""
    W = rng.standard_normal((m, m)) / np.sqrt(m)         # (m, m)
    radius = np.max(np.abs(np.linalg.eigvals(W)))        # rho(W)
    W = W * (rho / radius) if radius > 0 else W          # (m, m) rho(W) = rho
    U = rng.uniform(-input_scale, input_scale, (m, d))   # (m, d)
    b = rng.uniform(-bias_scale, bias_scale, m)          # (m,)
    return {"W": W.astype(dtype), "U": U.astype(dtype), "b": b.astype(dtype)}


def init_reservoir(d, m, spectral_radius=0.9, input_scale=1.0, bias_scale=0.0, seed=0,
                   dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """A fixed random reservoir: W (m, m) Gaussian rescaled to exactly ``spectral_radius``
    (>= 0; below 1 for the echo state property), U (m, d) uniform in [-input_scale,
    input_scale], b (m,) uniform in [-bias_scale, bias_scale]. Only a readout is trained
    (:func:`fit_readout`). seed: None, a non-negative int or a Generator."""
    d, m = check_positive_int("d", d), check_positive_int("m", m)
    rho = check_number("spectral_radius", spectral_radius, low=0)
    input_scale = check_number("input_scale", input_scale, low=0)
    bias_scale = check_number("bias_scale", bias_scale, low=0)
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    check_allocation(f"d={d}, m={m}", [(m, m)] * 4 + [(m, d), (m,)], np.float64, max_bytes)
    return _init_reservoir(d, m, rng, rho, input_scale, bias_scale, dtype)


def _init_leaky(d, m, C, rng, dtype):
    """W, U, V ~ N(0, 1/fan_in), b = c = 0 (like init_rnn). Arguments are
    checked by `init_leaky`."""
    def normal(shape, fan_in):
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)

    return {"W": normal((m, m), m),                      # (m, m)
            "U": normal((m, d), d),                      # (m, d)
            "b": np.zeros(m, dtype=dtype),               # (m,)
            "V": normal((C, m), m),                      # (C, m)
            "c": np.zeros(C, dtype=dtype)}               # (C,)


def init_leaky(d, m, C, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Parameters of a leaky-unit RNN (the shapes of init_rnn: W (m, m), U (m, d), b (m,),
    V (C, m), c (C,)); alpha is an argument of the forward pass, not a parameter."""
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    check_allocation(f"d={d}, m={m}, C={C}", [(m, m), (m, d), (m,), (C, m), (C,)], dtype,
                     max_bytes)
    return _init_leaky(d, m, C, rng, dtype)


def _check_reservoir_params(params, required=RESERVOIR_PARAMS):
    """Return (dtype, m, d, C or None)."""
    dtype = check_params(params, required)
    W = params["W"]
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(f"params['W'] must be square (m, m) with m >= 1, got shape {W.shape}")
    m = W.shape[0]
    check_shape("params['U']", params["U"], (m, None), f"(m, d) with m={m} from W")
    d = params["U"].shape[1]
    if d == 0:
        raise ValueError("params['U'] must have shape (m, d) with d >= 1, got d = 0")
    check_shape("params['b']", params["b"], (m,), f"(m,) with m={m} from W")
    C = None
    if "V" in required:
        check_shape("params['V']", params["V"], (None, m), f"(C, m) with m={m} from W")
        C = params["V"].shape[0]
        if C == 0:
            raise ValueError("params['V'] must have shape (C, m) with C >= 1, got C = 0")
        check_shape("params['c']", params["c"], (C,), f"(C,) with C={C} from V")
    return dtype, m, d, C


def _check_alpha(alpha, m, dtype):
    """alpha: a number in (0, 1] or an (m,) array with entries in (0, 1]."""
    if np.ndim(alpha) == 0 and not isinstance(alpha, np.ndarray):
        return dtype.type(check_number("alpha", alpha, low=0, high=1, low_open=True))
    a = as_float_array("alpha", alpha, dtype=dtype, ndim=(0, 1))
    if a.ndim == 1:
        check_shape("alpha", a, (m,), f"(m,) with m={m}: one leak rate per unit, or a number")
    if a.size and (a.min() <= 0 or a.max() > 1):
        raise ValueError(f"alpha must lie in (0, 1], got values from {a.min()} to {a.max()}")
    return a


def _check_inputs(x, h0, mask, dtype, d, m, extra, max_bytes):
    """x (T, B, d) or (T, d); h0 None, (m,) or (B, m); mask (T, B). Returns (x, h0 (B, m),
    h0_shape, mask)."""
    x, single = as_sequence(x, dtype, d, "params['U']")
    T, B, _ = x.shape
    check_allocation(f"x of shape {x.shape} with m={m}", [(T + 1, B, k) for k in extra], dtype,
                     max_bytes)
    shape = (m,)
    if h0 is not None:
        h0 = as_float_array("h0", h0, dtype=dtype, ndim=(1, 2))
        if h0.shape not in ((m,), (B, m)):
            raise ValueError(f"h0 must have shape (m,) = ({m},) or (B, m) = ({B}, {m}), got "
                             f"{h0.shape}")
        shape = h0.shape
    h0 = np.zeros((B, m), dtype) if h0 is None else np.broadcast_to(h0, (B, m)).copy()
    if single and mask is not None and np.ndim(mask) == 1:
        mask = np.asarray(mask)[:, None]
    return x, h0, shape, check_mask(mask, T, B)


# ----------------------------------------------------------------------------------------------
# Leaky units: forward and backward
# ----------------------------------------------------------------------------------------------
def _leaky_states(params, x, h0, alpha, mask=None):
    """h^(t) = (1 - alpha) h^(t-1) + alpha tanh(b + W h^(t-1) + U x^(t)),
    h^(t) = h^(t-1) where mask is False. Arguments are checked by
    `reservoir_states`. Returns (h (T+1, B, m), r (T, B, m) = tanh(a))."""
    W, U, b = params["W"], params["U"], params["b"]
    T, B, d = x.shape
    m = W.shape[0]
    Ux_b = (x.reshape(T * B, d) @ U.T).reshape(T, B, m) + b  # (T, B, m)
    h = np.empty((T + 1, B, m), dtype=W.dtype)           # (T+1, B, m)
    r = np.empty((T, B, m), dtype=W.dtype)               # (T, B, m)
    h[0] = h0                                            # (B, m)
    for t in range(1, T + 1):
        r[t - 1] = np.tanh(Ux_b[t - 1] + h[t - 1] @ W.T)  # (B, m) tanh(a)
        h[t] = (1 - alpha) * h[t - 1] + alpha * r[t - 1]  # (B, m) leaky
        if mask is not None:                             # padded: keep h
            h[t] = np.where(mask[t - 1][:, None], h[t], h[t - 1])
    return h, r


def _reservoir_states(params, x, h0, alpha, mask=None):
    """The states h (T+1, B, m) of the leaky recurrence; checked by
    `reservoir_states`."""
    return _leaky_states(params, x, h0, alpha, mask)[0]


def reservoir_states(params, x, h0=None, alpha=1.0, mask=None, max_bytes=DEFAULT_MAX_BYTES):
    """The hidden states h (T+1, B, m), h[0] = h0, of the leaky recurrence
    h^(t) = (1 - alpha) h^(t-1) + alpha tanh(b + W h^(t-1) + U x^(t)).

    params: W (m, m), U (m, d), b (m,) (init_reservoir's, or any RNN's). x (T, B, d) or (T, d);
    h0 None (zeros), (m,) or (B, m); alpha in (0, 1], a number or (m,); mask (T, B) bool.
    """
    dtype, m, d, _ = _check_reservoir_params(params)
    x, h0, _, mask = _check_inputs(x, h0, mask, dtype, d, m, (m, m), max_bytes)
    alpha = _check_alpha(alpha, m, dtype)
    return _reservoir_states(params, x, h0, alpha, mask)


@dataclass
class LeakyCache:
    """What leaky_backward needs from leaky_forward."""

    x: np.ndarray                       # (T, B, d)
    h: np.ndarray                       # (T+1, B, m), h[0] = h0
    r: np.ndarray                       # (T, B, m) tanh(a^(t))
    o: np.ndarray                       # (T, B, C)
    y_hat: np.ndarray                   # (T, B, C)
    mask: Optional[np.ndarray]          # (T, B) bool or None
    alpha: Union[float, np.ndarray]     # a number or (m,)
    h0_shape: tuple

    def __getitem__(self, key):
        return getattr(self, key)


def _leaky_forward(params, x, h0, alpha, mask=None):
    """Leaky units, then o^(t) = c + V h^(t), y_hat^(t) = softmax(o^(t)).
    Arguments are checked by `leaky_forward`."""
    V, c = params["V"], params["c"]
    h, r = _leaky_states(params, x, h0, alpha, mask)     # (T+1, B, m)
    o = h[1:] @ V.T + c                                  # (T, B, C)
    return LeakyCache(x, h, r, o, _softmax(o), mask, alpha, np.shape(h0))


def leaky_forward(params, x, h0=None, mask=None, alpha=1.0, max_bytes=DEFAULT_MAX_BYTES):
    """The leaky-unit RNN over a batch; the arguments of :func:`reservoir_states`, and params
    also need V (C, m) and c (C,). Returns a LeakyCache (o, y_hat (T, B, C)), so ``train``
    (with ``alpha=...`` as a forward keyword) and ``rnn_loss`` work with it."""
    dtype, m, d, C = _check_reservoir_params(params, LEAKY_PARAMS)
    x, h0, shape, mask = _check_inputs(x, h0, mask, dtype, d, m, (m, m, C, C), max_bytes)
    alpha = _check_alpha(alpha, m, dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _leaky_forward(params, x, h0, alpha, mask)
    cache.h0_shape = shape
    return cache


def _leaky_backward(params, cache, y):
    """BPTT through leaky units (arguments are checked by `leaky_backward`):

        dh^(t) = V^T do^(t) + (1 - alpha) dh^(t+1) + W^T da^(t+1)
        da^(t) = alpha dh^(t) (1 - r^(t)^2),  r = tanh(a)
    """
    W, V = params["W"], params["V"]
    x, h, r, mask, alpha = cache.x, cache.h, cache.r, cache.mask, cache.alpha
    T, B, d = x.shape
    m, C = W.shape[0], V.shape[0]
    loss, do = _rnn_loss(cache, y)                       # (T, B, C)
    dh_out = do @ V                                      # (T, B, m)
    da = np.empty_like(r)                                # (T, B, m)
    dh_next = np.zeros((B, m), dtype=r.dtype)            # (B, m)
    for t in range(T - 1, -1, -1):
        dh = dh_out[t] + dh_next                         # (B, m) dJ/dh^(t)
        da[t] = alpha * dh * (1 - r[t] * r[t])           # (B, m) dJ/da^(t)
        if mask is not None:
            da[t] *= mask[t][:, None]                    # padded: 0
        dh_next = (1 - alpha) * dh + da[t] @ W           # (B, m) to h^(t-1)
        if mask is not None:                             # padded: passes on
            dh_next = np.where(mask[t][:, None], dh_next, dh)
    da_ = da.reshape(T * B, m)                           # (T*B, m)
    grads = {
        "W": da_.T @ h[:-1].reshape(T * B, m),           # (m, m)
        "U": da_.T @ x.reshape(T * B, d),                # (m, d)
        "b": da_.sum(axis=0),                            # (m,)
        "V": do.reshape(T * B, C).T @ h[1:].reshape(T * B, m),  # (C, m)
        "c": do.sum(axis=(0, 1)),                        # (C,)
        "h0": dh_next,                                   # (B, m)
    }
    return loss, grads


def leaky_backward(params, cache, y):
    """Loss J = (1/B) sum_b sum_{real t} -log y_hat^(t)[y^(t)] and its gradients (W, U, b, V,
    c and h0, shaped as h0 was given). y: (T, B) int targets ((T,) for one sequence)."""
    dtype, m, d, C = _check_reservoir_params(params, LEAKY_PARAMS)
    check_cache(cache, LeakyCache, "leaky_forward",
                {"x": (None, None, d), "h": (None, None, m), "o": (None, None, C)}, dtype)
    T, B, _ = cache.x.shape
    check_cache(cache, LeakyCache, "leaky_forward",
                {"h": (T + 1, B, m), "r": (T, B, m), "o": (T, B, C), "y_hat": (T, B, C)})
    _check_alpha(cache.alpha, m, dtype)
    y = _check_loss_inputs(cache, y)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _leaky_backward(params, cache, y)
    if cache.h0_shape == (m,):
        grads["h0"] = grads["h0"].sum(axis=0)
    return loss, grads


# ----------------------------------------------------------------------------------------------
# The readout: ridge regression in closed form
# ----------------------------------------------------------------------------------------------
def _fit_readout(H, Y, ridge):
    """[V c] minimising ||H V^T + c - Y||^2 + ridge ||V||^2 (c not
    penalised), by the normal equations. H (N, m), Y (N, k). Arguments are
    checked by `fit_readout`."""
    N, m = H.shape
    Z = np.concatenate([H, np.ones((N, 1), H.dtype)], axis=1)  # (N, m+1)
    D = np.eye(m + 1, dtype=H.dtype)                     # (m+1, m+1)
    D[m, m] = 0                                          # no penalty on c
    A = Z.T @ Z + ridge * D                              # (m+1, m+1)
    theta = np.linalg.lstsq(A, Z.T @ Y, rcond=None)[0]   # (m+1, k)
    return {"V": theta[:m].T.copy(), "c": theta[m].copy()}  # (k, m), (k,)


def fit_readout(h, y, ridge=1e-6, washout=0, mask=None, max_bytes=DEFAULT_MAX_BYTES):
    """Fit the linear readout y^(t) ~ c + V h^(t) by ridge regression (closed form).

    h: (T, B, m) states (e.g. ``reservoir_states(...)[1:]``); y: (T, B, k) or (T, B) real
    targets; ridge >= 0 (0: ordinary least squares); washout: drop the first steps (the
    reservoir's memory of its initial state); mask (T, B): only real steps count.
    Returns {"V": (k, m), "c": (k,)} in h's dtype. max_bytes: refuse larger design matrices.
    """
    h = as_float_array("h", h, ndim=3)
    T, B, m = h.shape
    if 0 in h.shape:
        raise ValueError(f"h is empty (shape {h.shape}); T, B and m must be at least 1")
    y = as_float_array("y", y, dtype=h.dtype, ndim=(2, 3))
    y = y[:, :, None] if y.ndim == 2 else y                               # (T, B, k)
    check_shape("y", y, (T, B, None), f"(T, B, k) or (T, B) with T={T}, B={B} from h")
    if y.shape[2] == 0:
        raise ValueError("y has k = 0 targets per step; it needs at least one")
    ridge = check_number("ridge", ridge, low=0)
    washout = check_positive_int("washout", washout, minimum=0)
    if washout >= T:
        raise ValueError(f"washout must be smaller than T={T} (steps left to fit), got {washout}")
    keep = np.ones((T, B), dtype=bool) if mask is None else check_mask(mask, T, B)
    keep = keep.copy()
    keep[:washout] = False
    if not keep.any():
        raise ValueError("no step is left to fit (the mask and washout remove every step)")
    check_allocation(f"h of shape {h.shape}", [(T * B, m + 1)] * 2, h.dtype, max_bytes)
    return _fit_readout(h[keep], y[keep], ridge)


def _esn_predict(params, readout, x, h0, alpha):
    """States of the reservoir, then the linear readout c + V h^(t).
    Arguments are checked by `esn_predict`."""
    V, c = readout["V"], readout["c"]
    h = _reservoir_states(params, x, h0, alpha)          # (T+1, B, m)
    return h[1:] @ V.T + c                               # (T, B, k)


def esn_predict(params, readout, x, h0=None, alpha=1.0, max_bytes=DEFAULT_MAX_BYTES):
    """The echo state network's output c + V h^(t), (T, B, k): the reservoir's states for x
    (T, B, d) with leak rate alpha, then the readout {"V": (k, m), "c": (k,)} of fit_readout."""
    dtype, m, d, _ = _check_reservoir_params(params)
    check_params(readout, ("V", "c"), where="readout")
    if readout["V"].dtype != dtype or readout["c"].dtype != dtype:
        raise TypeError(f"readout must have the params' dtype {dtype}, got "
                        f"{readout['V'].dtype} and {readout['c'].dtype}")
    check_shape("readout['V']", readout["V"], (None, m), f"(k, m) with m={m} from params['W']")
    k = readout["V"].shape[0]
    check_shape("readout['c']", readout["c"], (k,), f"(k,) with k={k} from readout['V']")
    x, h0, _, _ = _check_inputs(x, h0, None, dtype, d, m, (m, m, k), max_bytes)
    alpha = _check_alpha(alpha, m, dtype)
    return _esn_predict(params, readout, x, h0, alpha)


# ----------------------------------------------------------------------------------------------
# Time scales of leaky units
# ----------------------------------------------------------------------------------------------
def _leaky_impulse_response(params, alpha, T, size):
    """||h_impulse^(t) - h^(t)||: a small impulse x^(1) = size * 1 against no
    input, both from h^(0) = 0.
    Arguments are checked by `leaky_impulse_response`."""
    d, m = params["U"].shape[1], params["W"].shape[0]
    x = np.zeros((T, 2, d), dtype=params["W"].dtype)     # (T, 2, d)
    x[0, 0] = size                                       # impulse, row 0
    h0 = np.zeros((2, m), dtype=params["W"].dtype)       # (2, m)
    h = _reservoir_states(params, x, h0, alpha)          # (T+1, 2, m)
    return np.linalg.norm(h[1:, 0] - h[1:, 1], axis=1)   # (T,) t = 1..T


def leaky_impulse_response(params, alpha, T=200, size=1e-3, max_bytes=DEFAULT_MAX_BYTES):
    """How an input's effect fades in the leaky recurrence: ||h'^(t) - h^(t)|| for t = 1..T,
    where h' gets the impulse x^(1) = size (every component; small, so the units stay near
    their linear regime) and h gets no input at all. Returns (T,) floats."""
    dtype, m, d, _ = _check_reservoir_params(params)
    alpha = _check_alpha(alpha, m, dtype)
    T = check_positive_int("T", T)
    size = check_number("size", size, low=0, low_open=True)
    check_allocation(f"T={T}, m={m}", [(T + 1, 2, m)] * 2, dtype, max_bytes)
    return _leaky_impulse_response(params, alpha, T, size)


def _fit_time_constant(response, start, stop):
    """tau = -1 / slope of the least-squares line through log response[t]
    over steps start..stop-1. Arguments are checked by `fit_time_constant`."""
    t = np.arange(start, stop)                           # steps
    slope = np.polyfit(t, np.log(response[start:stop]), 1)[0]
    return float(-1 / slope)                             # e-folding steps


def fit_time_constant(response, start=0, stop=None):
    """The time scale tau of a decaying response, response[t] ~ A exp(-t / tau): minus one over
    the slope of a least-squares line through log response[start:stop] (entries must be > 0;
    at least two). A response that does not decay gives a negative or infinite tau."""
    response = as_float_array("response", response, ndim=1)
    n = response.shape[0]
    start = check_positive_int("start", start, minimum=0)
    stop = n if stop is None else check_positive_int("stop", stop, minimum=1)
    if not start + 2 <= stop <= n:
        raise ValueError(f"start and stop must give at least two entries of response (length "
                         f"{n}), got start={start}, stop={stop}")
    if response[start:stop].min() <= 0:
        raise ValueError("response must be positive over start:stop (its log is fitted)")
    return _fit_time_constant(response, start, stop)


def _leaky_decay_rate(W, alpha):
    """max_i |1 - alpha + alpha lambda_i(W)|: the per-step decay of a small
    perturbation near h = 0. Arguments are checked by `leaky_decay_rate`."""
    lam = np.linalg.eigvals(W)                           # (m,)
    return float(np.max(np.abs(1 - alpha + alpha * lam)))


def leaky_decay_rate(params, alpha):
    """The per-step factor by which a small perturbation of h = 0 fades, the spectral radius
    of the Jacobian (1 - alpha) I + alpha W: max_i |1 - alpha + alpha lambda_i(W)| for a number
    alpha; with W = 0 it is 1 - alpha. Its time scale is -1 / log(rate), about
    1 / (alpha (1 - rho(W))) when rho(W) is small."""
    dtype, m, d, _ = _check_reservoir_params(params)
    alpha = _check_alpha(alpha, m, dtype)
    if np.ndim(alpha):
        raise ValueError("alpha must be a number here (per-unit leak rates have no single "
                         "decay rate of this form)")
    return _leaky_decay_rate(params["W"], float(alpha))


# ----------------------------------------------------------------------------------------------
# Tasks an echo state network solves
# ----------------------------------------------------------------------------------------------
def _make_narma(T, order, rng, dtype):
    """u ~ U[0, 0.5]; y^(t+1) = 0.3 y^(t) + 0.05 y^(t) sum_{i<order} y^(t-i)
    + 1.5 u^(t-order+1) u^(t) + 0.1. Arguments are checked by `make_narma`."""
    u = rng.uniform(0, 0.5, T)                           # (T,)
    y = np.zeros(T)                                      # (T,)
    for t in range(order - 1, T - 1):
        window = y[t - order + 1:t + 1].sum()            # last `order` y
        y[t + 1] = (0.3 * y[t] + 0.05 * y[t] * window
                    + 1.5 * u[t - order + 1] * u[t] + 0.1)
    return u.astype(dtype), y.astype(dtype)


def make_narma(T, order=10, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """The NARMA series (Atiya and Parlos 2000), the classic reservoir benchmark: input
    u^(t) ~ U[0, 0.5] and target y^(t+1) = 0.3 y^(t) + 0.05 y^(t) sum_{i=0}^{order-1} y^(t-i)
    + 1.5 u^(t-order+1) u^(t) + 0.1 (NARMA-10 for order 10: a nonlinear function of the last
    10 inputs and outputs). Returns (u (T,), y (T,)); predict y^(t) from u^(1..t)."""
    T = check_positive_int("T", T, minimum=2)
    order = check_positive_int("order", order)
    if order >= T:
        raise ValueError(f"order must be smaller than T={T}, got {order}")
    rng = as_generator(seed)
    dtype = check_float_dtype(dtype)
    check_allocation(f"T={T}", [(T,)] * 4, np.float64, max_bytes)
    return _make_narma(T, order, rng, dtype)


def _make_delay_recall(T, delays, rng, dtype):
    """u ~ U[-0.5, 0.5]; y_k^(t) = u^(t - delay_k) (0 before the start).
    Arguments are checked by `make_delay_recall`."""
    u = rng.uniform(-0.5, 0.5, T)                        # (T,)
    y = np.zeros((T, len(delays)))                       # (T, K)
    for k, delay in enumerate(delays):
        y[delay:, k] = u[:T - delay]                     # u^(t - delay)
    return u.astype(dtype), y.astype(dtype)


def make_delay_recall(T, delays=(1, 5, 10, 20), seed=0, dtype=np.float64,
                      max_bytes=DEFAULT_MAX_BYTES):
    """Recall the input ``delay`` steps back: u^(t) ~ U[-0.5, 0.5] and one target per delay,
    y_k^(t) = u^(t - delay_k) (0 for t <= delay_k). Returns (u (T,), y (T, K))."""
    T = check_positive_int("T", T)
    if isinstance(delays, (str, bytes)) or not hasattr(delays, "__iter__"):
        raise TypeError(f"delays must be a sequence of non-negative integers, got "
                        f"{type(delays).__name__}")
    delays = [check_positive_int("delays", k, minimum=0) for k in delays]
    if not delays:
        raise ValueError("delays must not be empty")
    if max(delays) >= T:
        raise ValueError(f"delays must be smaller than T={T}, got {max(delays)}")
    rng = as_generator(seed)
    dtype = check_float_dtype(dtype)
    check_allocation(f"T={T}, {len(delays)} delays", [(T, len(delays))] * 2, np.float64,
                     max_bytes)
    return _make_delay_recall(T, delays, rng, dtype)
