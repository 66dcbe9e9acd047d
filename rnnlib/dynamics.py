"""Recurrence as a dynamical system, and its unfolding.

Taught in the chapter "Recurrence and unfolding"; the hidden-state
dynamics widget (rnnlib.widgets.hidden_state) is built on it.

A dynamical system updates its state s with the same function f and parameters theta at every
step, and unfolding writes the recurrence out as an explicit composition:

    s^(t) = f(s^(t-1); theta),          s^(3) = f(s^(2); theta) = f(f(s^(1); theta); theta).

Driven by an input x^(t), the state summarises the past inputs:

    s^(t) = f(s^(t-1), x^(t); theta),   h^(t) = g^(t)(x^(t), ..., x^(1)) = f(h^(t-1), x^(t); theta).

For the RNN (no outputs), f is one step of the hidden-state update, batched over rows of h:

    h^(t) = act(b + W h^(t-1) + U x^(t)).

Its behaviour depends on the spectral radius rho(W) = max |eigenvalue of W|: a linear map
(act = identity) contracts when rho < 1 and explodes when rho > 1; tanh saturates instead of
exploding. Fixed points h* = f(h*) are stable when the Jacobian df/dh = diag(act'(a*)) W has
spectral radius below 1, and the largest Lyapunov exponent

    lambda = lim (1/T) log ||J_T ... J_1 v||

is the rate at which nearby trajectories converge (lambda < 0) or diverge (lambda > 0).

Unfolding is written as a loop, not as nested calls, so any T works (T = 100,000 copies of f
compose without a recursion limit). Every public function checks its arguments once and then
calls the plain function of the same name with a leading underscore (``_unfold``,
``_hidden_trajectories``, ...), whose body is the math. Functions whose result grows with T
refuse, before allocating, more than ``max_bytes`` (2 GiB by default).
"""

from __future__ import annotations

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_generator,
    check_allocation,
    check_bool,
    check_number,
    check_positive_int,
)

__all__ = [
    "compose", "unfold", "unfold_driven", "unfolded_expression", "trajectory",
    "driven_trajectory", "rnn_map", "hidden_trajectories", "spectral_radius",
    "scale_to_spectral_radius", "random_recurrent_matrix", "jacobian", "fixed_point",
    "is_stable", "separation", "lyapunov_exponent", "ACTIVATIONS",
]

ACTIVATIONS = {
    # name: (function, derivative as a function of the pre-activation a)
    "tanh": (np.tanh, lambda a: 1.0 - np.tanh(a) ** 2),
    "relu": (lambda a: np.maximum(0.0, a), lambda a: (a > 0).astype(float)),
    "identity": (lambda a: a, lambda a: np.ones_like(a)),
}


def _check_activation(activation):
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    return ACTIVATIONS[activation]


def _check_steps(T, name="T"):
    if isinstance(T, (bool, np.bool_)) or not isinstance(T, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(T).__name__}")
    if T < 0:
        raise ValueError(f"{name} must be >= 0, got {T}")
    return int(T)


def _check_callable(f, name="f"):
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {type(f).__name__}")


def _as_array(value, name):
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype == object or array.dtype == bool or not np.issubdtype(array.dtype, np.number) \
            or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf")
    return array


def _check_square(W):
    W = _as_array(W, "W")
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix (m, m), got shape {W.shape}")
    if W.shape[0] == 0:
        raise ValueError(f"W is empty (shape {W.shape}); m must be at least 1")
    return W


def _check_bias(b, m):
    b = np.zeros(m) if b is None else _as_array(b, "b")
    if b.shape != (m,):
        raise ValueError(f"b must have shape ({m},), got {b.shape}")
    return b


def _check_input_matrix(U, m):
    U = _as_array(U, "U")
    if U.ndim != 2 or U.shape[0] != m:
        raise ValueError(f"U must have shape ({m}, d), got {U.shape}")
    return U


def _as_state(value, shape, t, name="f"):
    """f's result at step t as a float array of the state's shape (a clear error otherwise)."""
    try:
        state = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must return a numeric state, got {type(value).__name__} at step {t}") from error
    if state.shape != shape:
        raise ValueError(f"{name} must return a state of the shape of s0 {shape}, got {state.shape} at step {t}")
    return state


# --------------------------------------------------------------------------------------------
# Unfolding as explicit composition
# --------------------------------------------------------------------------------------------
def _compose(functions):
    """s -> f_1(f_2(...f_n(s))): the rightmost function first, in a loop.
    Arguments are checked by `compose`."""
    def composed(s):
        for f in reversed(functions):                          # f_n first
            s = f(s)
        return s
    return composed


def compose(*functions):
    """compose(f, g, h)(s) = f(g(h(s))): the rightmost function is applied first."""
    if not functions:
        raise ValueError("compose needs at least one function")
    for f in functions:
        _check_callable(f)
    return _compose(functions)


def _unfold(f, T):
    """g^(T) = f o f o ... o f (T copies of f): s^(T) = g^(T)(s^(0)).
    Arguments are checked by `unfold`."""
    def g(s):                                # s = s^(0)
        for _ in range(T):
            s = f(s)                             # s^(t) = f(s^(t-1); theta)
        return s                                 # s^(T)
    return g


def unfold(f, T):
    """The unfolded map g^(T) = f o f o ... o f (T copies): g^(T)(s^(0)) = s^(T).

    The composition of T copies of the same f (the same theta at every step), applied in a loop
    (any T works); T = 0 gives the identity.
    """
    _check_callable(f)
    T = _check_steps(T)
    return _unfold(f, T)


def _unfold_driven(f, T):
    """g^(T)(s^(0), x) = f(...f(f(s^(0), x^(1)), x^(2))..., x^(T)).
    Arguments are checked by `unfold_driven` (and x by g)."""
    def g(s0, x):
        if isinstance(x, (str, bytes, dict)) or not hasattr(x, "__len__"):
            raise TypeError(f"x must be a sequence of at least T = {T} "
                            f"inputs, got {type(x).__name__}")
        if len(x) < T:
            raise ValueError(f"x must have at least T = {T} steps, "
                             f"got {len(x)}")
        s = s0                                                 # s^(0)
        for t in range(1, T + 1):
            s = f(s, x[t - 1])                                 # s^(t)
        return s
    return g


def unfold_driven(f, T):
    """The unfolded driven system g^(T)(s^(0), x) = f(...f(f(s^(0), x^(1)), x^(2))..., x^(T)),
    where x[t-1] is x^(t); x must have at least T steps."""
    _check_callable(f)
    T = _check_steps(T)
    return _unfold_driven(f, T)


def _unfolded_expression(T, driven, state, start, params=r"\theta", inputs="x"):
    """"f(" T times, s^(start), then one closing "; theta)" (with its x^(t)
    when driven) per step. Arguments are checked by `unfolded_expression`."""
    steps = range(start + 1, start + T + 1)
    if driven:
        tails = [f", {inputs}^{{({t})}}; {params})" for t in steps]   # step t
    else:
        tails = [f"; {params})"] * T
    return "f(" * T + f"{state}^{{({start})}}" + "".join(tails)


def unfolded_expression(T, driven=False, state="s", start=0, max_bytes=DEFAULT_MAX_BYTES, *,
                        params=r"\theta", inputs="x"):
    """LaTeX for s^(start+T) unfolded back to s^(start), e.g. T=2, start=1:
    ``f(f(s^{(1)}; \\theta); \\theta)``; driven: ``f(f(s^{(1)}, x^{(2)}; \\theta), x^{(3)};
    \\theta)``. state, params, inputs: the LaTeX names of the state, the parameters and the
    inputs (e.g. ``params=r"\\boldsymbol{\\theta}", inputs=r"\\mathbf{x}"`` for the book's bold
    notation). max_bytes: the longest string allowed (it grows like T)."""
    T = _check_steps(T)
    start = _check_steps(start, "start")
    driven = check_bool("driven", driven)
    for name, value in (("state", state), ("params", params), ("inputs", inputs)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str (its LaTeX name), got {type(value).__name__}")
    per_step = 6 + len(params) + (8 + len(inputs) + len(str(start + T)) if driven else 0)
    check_allocation(f"T={T}", (T * per_step + len(state) + 20,), np.uint8, max_bytes)
    return _unfolded_expression(T, driven, state, start, params, inputs)


def _trajectory(f, s0, T):
    """s^(0..T) of s^(t) = f(s^(t-1)). Arguments are checked by `trajectory`
    (f's results as they come)."""
    states = [s0]                                              # s^(0)
    for t in range(1, T + 1):
        states.append(_as_state(f(states[-1]), s0.shape, t))   # s^(t)
    return np.stack(states)                                    # (T+1, ...)


def trajectory(f, s0, T, max_bytes=DEFAULT_MAX_BYTES):
    """s^(0..T) of s^(t) = f(s^(t-1)) as an array (T+1, *s0.shape).

    f must return a state of s0's shape; max_bytes: the largest result allowed.
    """
    _check_callable(f)
    T = _check_steps(T)
    s0 = _as_array(s0, "s0")
    check_allocation(f"T={T} and s0 of shape {s0.shape}", [(T + 1,) + s0.shape] * 2, np.float64,
                     max_bytes)
    return _trajectory(f, s0, T)


def _driven_trajectory(f, s0, x):
    """s^(0..T) of s^(t) = f(s^(t-1), x^(t)), x[t-1] = x^(t).
    Arguments are checked by `driven_trajectory` (f's results as they come)."""
    states = [s0]                                              # s^(0)
    for t, x_t in enumerate(x, start=1):
        s = _as_state(f(states[-1], x_t), s0.shape, t)         # s^(t)
        states.append(s)
    return np.stack(states)                                    # (T+1, ...)


def driven_trajectory(f, s0, x, max_bytes=DEFAULT_MAX_BYTES):
    """s^(0..T) of s^(t) = f(s^(t-1), x^(t)) for x[t-1] = x^(t): array (T+1, *s0.shape)."""
    _check_callable(f)
    s = _as_array(s0, "s0")
    x = _as_array(x, "x")
    if x.ndim == 0:
        raise ValueError("x must have a leading time axis, got a scalar")
    check_allocation(f"T={x.shape[0]} and s0 of shape {s.shape}", [(x.shape[0] + 1,) + s.shape] * 2,
                     np.float64, max_bytes)
    return _driven_trajectory(f, s, x)


# --------------------------------------------------------------------------------------------
# The RNN's hidden-state map
# --------------------------------------------------------------------------------------------
def _rnn_map(W, U, b, act):
    """f(h, x=None) = act(b + W h + U x), rows of h and x.
    Arguments are checked by `rnn_map` (and x by f)."""
    def f(h, x=None):
        a = b + h @ W.T                                        # (N, m)
        if x is not None:
            if U is None:
                raise ValueError("x given but the map has no input matrix U")
            a = a + x @ U.T                                    # (N, m)
        return act(a)                                          # (N, m)
    return f


def rnn_map(W, U=None, b=None, activation="tanh"):
    """f(h, x=None) = act(b + W h + U x) for h (m,) or rows of h (N, m); x (d,) or (N, d)."""
    W = _check_square(W)
    m = W.shape[0]
    act, _ = _check_activation(activation)
    b = _check_bias(b, m)
    if U is not None:
        U = _check_input_matrix(U, m)
    return _rnn_map(W, U, b, act)


def _hidden_trajectories(W, h0, T, drive, b, act):
    """h^(t) = act(b + W h^(t-1) + U x^(t)) from every initial state; drive[t-1]
    = U x^(t) (zeros without input). Arguments are checked by
    `hidden_trajectories`."""
    h = np.empty((T + 1,) + h0.shape)                          # (T+1, N, m)
    h[0] = h0                                                  # (N, m)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, T + 1):
            h[t] = act(b + h[t - 1] @ W.T + drive[t - 1])      # (N, m)
    return h


def _check_trajectories(W, h0, T, x, U, b, activation, max_bytes):
    W = _check_square(W)
    m = W.shape[0]
    h0 = _as_array(h0, "h0")
    if h0.ndim not in (1, 2) or h0.shape[-1] != m or h0.size == 0:
        raise ValueError(f"h0 must have shape (N, {m}) or ({m},), got {h0.shape}")
    act, _ = _check_activation(activation)
    b = _check_bias(b, m)
    if x is None:
        if T is None:
            raise ValueError("give the number of steps T (or an input x)")
        T = _check_steps(T)
        check_allocation(f"T={T} and h0 of shape {h0.shape}", [(T + 1,) + h0.shape], np.float64,
                         max_bytes)
        drive = np.zeros((T, m))                                         # (T, m)
    else:
        if U is None:
            raise ValueError("an input x needs the input matrix U (m, d)")
        U = _check_input_matrix(U, m)
        x = _as_array(x, "x")
        if x.ndim not in (2, 3) or x.shape[-1] != U.shape[1]:
            raise ValueError(f"x must have shape (T, {U.shape[1]}) or (T, N, {U.shape[1]}), "
                             f"got {x.shape}")
        if x.ndim == 3:
            N = h0.shape[0] if h0.ndim == 2 else 1
            if x.shape[1] not in (1, N):
                raise ValueError(f"x must have shape (T, N, {U.shape[1]}) with N={N} (one input "
                                 f"sequence per initial state of h0 {h0.shape}) or N=1, got {x.shape}")
        if T is not None and _check_steps(T) != x.shape[0]:
            raise ValueError(f"T = {T} but x has {x.shape[0]} steps")
        T = x.shape[0]
        out = (T + 1,) + np.broadcast_shapes(h0.shape, x.shape[1:-1] + (m,))
        check_allocation(f"T={T} and h0 of shape {h0.shape}", [out, x.shape[:-1] + (m,)],
                         np.float64, max_bytes)
        drive = x @ U.T                                                  # (T, m) or (T, N, m)
    return W, h0, T, drive, b, act


def hidden_trajectories(W, h0, T=None, x=None, U=None, b=None, activation="tanh",
                        max_bytes=DEFAULT_MAX_BYTES):
    """h^(0..T) from each initial state: h0 (N, m) or (m,) -> h (T+1, N, m) (or (T+1, m)).

    Without input, give T. With input x: (T, d) is shared by all N trajectories, (T, N, d)
    gives one input sequence per trajectory (N = 1: shared); U (m, d) is required.
    max_bytes: the largest result allowed. Trajectories may overflow to inf (an exploding
    linear map): that is their value, not an error.
    """
    W, h0, T, drive, b, act = _check_trajectories(W, h0, T, x, U, b, activation, max_bytes)
    return _hidden_trajectories(W, h0, T, drive, b, act)


def _spectral_radius(W):
    """rho(W) = max |eigenvalue of W|. Arguments are checked by
    `spectral_radius`."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def spectral_radius(W):
    """rho(W) = max |eigenvalue of W|."""
    return _spectral_radius(_check_square(W))


def _check_rho(rho):
    if isinstance(rho, (bool, np.bool_)) or not isinstance(rho, (int, float, np.integer, np.floating)):
        raise TypeError(f"rho must be a number, got {type(rho).__name__}")
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho must be a finite number >= 0, got {rho}")
    return float(rho)


def _scale_to_spectral_radius(W, rho):
    """W rho / rho(W). Arguments are checked by `scale_to_spectral_radius`."""
    return W * (rho / _spectral_radius(W))


def scale_to_spectral_radius(W, rho):
    """W * rho / rho(W): the same directions, spectral radius exactly ``rho``."""
    W = _check_square(W)
    rho = _check_rho(rho)
    if _spectral_radius(W) == 0:
        raise ValueError("W has spectral radius 0 (nilpotent or zero) and cannot be rescaled")
    return _scale_to_spectral_radius(W, rho)


def _random_recurrent_matrix(m, rho, rng):
    """A Gaussian (m, m) matrix N(0, 1/m) rescaled to spectral radius rho.
    Arguments are checked by `random_recurrent_matrix`."""
    W = rng.normal(size=(m, m)) / np.sqrt(m)                   # (m, m)
    return _scale_to_spectral_radius(W, rho)


def random_recurrent_matrix(m, rho=1.0, seed=0, max_bytes=DEFAULT_MAX_BYTES):
    """A Gaussian (m, m) matrix rescaled to spectral radius ``rho``.

    seed: None, a non-negative int or a np.random.Generator; max_bytes: the largest matrix (and
    the temporaries of its eigenvalues) allowed.
    """
    m = _check_steps(m, "m")
    if m == 0:
        raise ValueError("m must be >= 1, got 0")
    rho = _check_rho(rho)
    rng = as_generator(seed)
    check_allocation(f"m={m}", [(m, m)] * 4, np.float64, max_bytes)
    return _random_recurrent_matrix(m, rho, rng)


def _jacobian(W, h_prev, x, U, b, dact):
    """dh^(t)/dh^(t-1) = diag(act'(a^(t))) W, a^(t) = b + W h^(t-1) + U x^(t).
    Arguments are checked by `jacobian`."""
    a = W @ h_prev                                             # (m,)
    if b is not None:
        a = a + b                                              # (m,)
    if x is not None:
        a = a + U @ x                                          # (m,)
    return dact(a)[:, None] * W                                # (m, m)


def _check_jacobian(W, h_prev, x, U, b, activation, name="h_prev"):
    W = _check_square(W)
    m = W.shape[0]
    h_prev = _as_array(h_prev, name)
    if h_prev.shape != (m,):
        raise ValueError(f"{name} must have shape ({m},), got {h_prev.shape}")
    _, dact = _check_activation(activation)
    b = None if b is None else _check_bias(b, m)
    if x is not None:
        if U is None:
            raise ValueError("x given without U")
        U = _check_input_matrix(U, m)
        x = _as_array(x, "x")
        if x.shape != (U.shape[1],):
            raise ValueError(f"x must have shape ({U.shape[1]},) (one input, d from U), got {x.shape}")
    return W, h_prev, x, U, b, dact


def jacobian(W, h_prev, x=None, U=None, b=None, activation="tanh"):
    """dh^(t)/dh^(t-1) = diag(act'(a^(t))) W at one state h_prev (m,): an (m, m) matrix."""
    return _jacobian(*_check_jacobian(W, h_prev, x, U, b, activation))


def _fixed_point(W, b, act, dact, h, tol, max_iter):
    """Newton on r(h) = h - act(b + W h): h <- h - (I - diag(act') W)^-1 r.
    Arguments are checked by `fixed_point`."""
    eye = np.eye(W.shape[0])                                   # (m, m)
    for _ in range(max_iter):
        a = b + W @ h                                          # (m,)
        residual = h - act(a)                                  # (m,) r(h)
        if np.max(np.abs(residual)) < tol:
            return h, True
        J = eye - dact(a)[:, None] * W                         # (m, m) dr/dh
        try:
            h = h - np.linalg.solve(J, residual)               # Newton
        except np.linalg.LinAlgError:
            return h, False                                    # singular J
        if not np.all(np.isfinite(h)):
            return h, False
    a = b + W @ h
    return h, bool(np.max(np.abs(h - act(a))) < tol)


def fixed_point(W, b=None, activation="tanh", h_init=None, tol=1e-12, max_iter=100):
    """A fixed point h* = act(b + W h*) found by Newton's method from ``h_init`` (zeros).

    Returns (h_star, converged). For the identity activation it is the solution of
    (I - W) h* = b.
    """
    W = _check_square(W)
    m = W.shape[0]
    act, dact = _check_activation(activation)
    b = _check_bias(b, m)
    h = np.zeros(m) if h_init is None else _as_array(h_init, "h_init")
    if h.shape != (m,):
        raise ValueError(f"h_init must have shape ({m},), got {h.shape}")
    tol = check_number("tol", tol, low=0, low_open=True)
    max_iter = check_positive_int("max_iter", max_iter)
    return _fixed_point(W, b, act, dact, h, tol, max_iter)


def _is_stable(W, h_star, b, dact):
    """rho(diag(act'(a*)) W) < 1. Arguments are checked by `is_stable`."""
    J = _jacobian(W, h_star, None, None, b, dact)              # (m, m)
    return bool(np.max(np.abs(np.linalg.eigvals(J))) < 1.0)


def is_stable(W, h_star, b=None, activation="tanh"):
    """A fixed point is (locally) stable when rho(diag(act'(a*)) W) < 1."""
    W, h_star, _, _, b, dact = _check_jacobian(W, h_star, None, None, b, activation, "h_star")
    return _is_stable(W, h_star, b, dact)


def _separation(W, h0, delta, T, drive, b, act):
    """||h^(t) - h'^(t)||, h' from h0 + delta, the same input.
    Arguments are checked by `separation`."""
    starts = np.stack([h0, h0 + delta])                        # (2, m)
    h = _hidden_trajectories(W, starts, T, drive, b, act)      # (T+1, 2, m)
    return np.linalg.norm(h[:, 0] - h[:, 1], axis=-1)          # (T+1,)


def separation(W, h0, delta, T, x=None, U=None, b=None, activation="tanh",
               max_bytes=DEFAULT_MAX_BYTES):
    """||h^(t) - h'^(t)|| for t = 0..T, where h' starts at h0 + delta (both (m,)), driven by
    the same input x if given: how fast nearby trajectories converge or diverge."""
    h0 = _as_array(h0, "h0")
    delta = _as_array(delta, "delta")
    if h0.ndim != 1 or delta.shape != h0.shape:
        raise ValueError(f"h0 and delta must be vectors of the same shape, got {h0.shape} and "
                         f"{delta.shape}")
    if x is not None and np.ndim(x) == 3:
        raise ValueError(f"x must have shape (T, d): one input shared by both trajectories, got {np.shape(x)}")
    W, starts, T, drive, b, act = _check_trajectories(W, np.stack([h0, h0 + delta]), T, x, U, b,
                                                      activation, max_bytes)
    return _separation(W, h0, delta, T, drive, b, act)


def _lyapunov_exponent(W, h, x, U, b, dact, v):
    """(1/T) sum_t log ||J_t v_(t-1)||, v renormalised every step, along the
    trajectory h. Arguments are checked by `lyapunov_exponent`."""
    T = h.shape[0] - 1
    v = v / np.linalg.norm(v)                                  # (m,) unit
    total = 0.0
    for t in range(1, T + 1):
        x_t = None if x is None else x[t - 1]                  # (d,) or None
        J = _jacobian(W, h[t - 1], x_t, U, b, dact)            # (m, m) J_t
        v = J @ v                                              # (m,)
        norm = np.linalg.norm(v)
        if norm == 0:
            return -np.inf                                     # collapsed
        total += np.log(norm)
        v = v / norm                                           # renormalise
    return total / T


def lyapunov_exponent(W, h0, T, x=None, U=None, b=None, activation="tanh", seed=0,
                      max_bytes=DEFAULT_MAX_BYTES):
    """The largest Lyapunov exponent along the trajectory from h0 (m,), estimated over T steps:
    the mean of log ||J_t v|| with v renormalised every step. Negative: nearby trajectories
    converge at rate exp(lambda) per step; positive: they diverge."""
    T = _check_steps(T)
    if T == 0:
        raise ValueError("T must be >= 1 for a growth rate")
    if np.ndim(h0) != 1:
        raise ValueError(f"h0 must be a single state (m,), got shape {np.shape(h0)}")
    if x is not None and np.ndim(x) != 2:
        raise ValueError(f"x must have shape (T, d) (one input sequence), got {np.shape(x)}")
    rng = as_generator(seed)
    W, h0, T, drive, b_checked, act = _check_trajectories(W, h0, T, x, U, b, activation, max_bytes)
    _, dact = _check_activation(activation)
    h = _hidden_trajectories(W, h0, T, drive, b_checked, act)           # (T+1, m)
    x = None if x is None else _as_array(x, "x")
    U = None if x is None else _check_input_matrix(U, W.shape[0])
    v = rng.normal(size=W.shape[0])                                     # (m,)
    return _lyapunov_exponent(W, h, x, U, b_checked, dact, v)
