"""Recurrence as a dynamical system, and its unfolding.

Taught in the chapter "Recurrence and unfolding" (book/recurrence.ipynb); the hidden-state
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
"""

from __future__ import annotations

from functools import reduce

import numpy as np

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
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    return ACTIVATIONS[activation]


def _check_steps(T, name="T"):
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(T).__name__}")
    if T < 0:
        raise ValueError(f"{name} must be >= 0, got {T}")
    return int(T)


def _check_callable(f):
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")


def _as_array(value, name):
    array = np.asarray(value)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf")
    return array


def _check_square(W):
    W = _as_array(W, "W")
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix (m, m), got shape {W.shape}")
    return W


# --------------------------------------------------------------------------------------------
# Unfolding as explicit composition
# --------------------------------------------------------------------------------------------
def compose(*functions):
    """compose(f, g, h)(s) = f(g(h(s))): the rightmost function is applied first."""
    if not functions:
        raise ValueError("compose needs at least one function")
    for f in functions:
        _check_callable(f)
    return reduce(lambda f, g: (lambda s: f(g(s))), functions)


def unfold(f, T):
    """The unfolded map g^(T) = f o f o ... o f (T copies): g^(T)(s^(0)) = s^(T).

    Built as an explicit composition of T copies of the same f (the same theta at every step);
    T = 0 gives the identity.
    """
    _check_callable(f)
    T = _check_steps(T)
    if T == 0:
        return lambda s: s
    return compose(*([f] * T))


def unfold_driven(f, T):
    """The unfolded driven system g^(T)(s^(0), x) = f(...f(f(s^(0), x^(1)), x^(2))..., x^(T)),
    where x[t-1] is x^(t); x must have at least T steps."""
    _check_callable(f)
    T = _check_steps(T)

    def g(s0, x):
        if len(x) < T:
            raise ValueError(f"x must have at least T = {T} steps, got {len(x)}")
        steps = [(lambda t: (lambda s: f(s, x[t - 1])))(t) for t in range(T, 0, -1)]
        return compose(*steps)(s0) if steps else s0

    return g


def unfolded_expression(T, driven=False, state="s", start=0):
    """LaTeX for s^(start+T) unfolded back to s^(start), e.g. T=2, start=1:
    ``f(f(s^{(1)}; \\theta); \\theta)``; driven: ``f(f(s^{(1)}, x^{(2)}; \\theta), x^{(3)};
    \\theta)``."""
    T = _check_steps(T)
    _check_steps(start, "start")
    expression = f"{state}^{{({start})}}"
    for t in range(start + 1, start + T + 1):
        expression = (f"f({expression}, x^{{({t})}}; \\theta)" if driven
                      else f"f({expression}; \\theta)")
    return expression


def trajectory(f, s0, T):
    """s^(0..T) of s^(t) = f(s^(t-1)) as an array (T+1, *s0.shape)."""
    _check_callable(f)
    T = _check_steps(T)
    s = _as_array(s0, "s0")
    states = [s]
    for _ in range(T):
        s = np.asarray(f(s), dtype=np.float64)
        states.append(s)
    return np.stack(states)                                       # (T+1, ...)


def driven_trajectory(f, s0, x):
    """s^(0..T) of s^(t) = f(s^(t-1), x^(t)) for x[t-1] = x^(t): array (T+1, *s0.shape)."""
    _check_callable(f)
    s = _as_array(s0, "s0")
    x = _as_array(x, "x")
    if x.ndim == 0:
        raise ValueError("x must have a leading time axis, got a scalar")
    states = [s]
    for x_t in x:
        s = np.asarray(f(s, x_t), dtype=np.float64)
        states.append(s)
    return np.stack(states)                                       # (T+1, ...)


# --------------------------------------------------------------------------------------------
# The RNN's hidden-state map
# --------------------------------------------------------------------------------------------
def rnn_map(W, U=None, b=None, activation="tanh"):
    """f(h, x=None) = act(b + W h + U x) for h (m,) or rows of h (N, m); x (d,) or (N, d)."""
    W = _check_square(W)
    m = W.shape[0]
    act, _ = _check_activation(activation)
    b = np.zeros(m) if b is None else _as_array(b, "b")
    if b.shape != (m,):
        raise ValueError(f"b must have shape ({m},), got {b.shape}")
    if U is not None:
        U = _as_array(U, "U")
        if U.ndim != 2 or U.shape[0] != m:
            raise ValueError(f"U must have shape ({m}, d), got {U.shape}")

    def f(h, x=None):
        a = b + h @ W.T                                            # (N, m)
        if x is not None:
            if U is None:
                raise ValueError("x given but the map has no input matrix U")
            a = a + x @ U.T                                        # (N, m)
        return act(a)                                              # (N, m)

    return f


def hidden_trajectories(W, h0, T=None, x=None, U=None, b=None, activation="tanh"):
    """h^(0..T) from each initial state: h0 (N, m) or (m,) -> h (T+1, N, m) (or (T+1, m)).

    Without input, give T. With input x: (T, d) is shared by all N trajectories, (T, N, d)
    gives one input sequence per trajectory; U (m, d) is required.
    """
    W = _check_square(W)
    m = W.shape[0]
    h0 = _as_array(h0, "h0")
    if h0.ndim not in (1, 2) or h0.shape[-1] != m:
        raise ValueError(f"h0 must have shape (N, {m}) or ({m},), got {h0.shape}")
    act, _ = _check_activation(activation)
    b = np.zeros(m) if b is None else _as_array(b, "b")
    if b.shape != (m,):
        raise ValueError(f"b must have shape ({m},), got {b.shape}")
    if x is None:
        if T is None:
            raise ValueError("give the number of steps T (or an input x)")
        T = _check_steps(T)
        drive = np.zeros((T, m))                                   # (T, m)
    else:
        if U is None:
            raise ValueError("an input x needs the input matrix U (m, d)")
        U = _as_array(U, "U")
        x = _as_array(x, "x")
        if U.ndim != 2 or U.shape[0] != m:
            raise ValueError(f"U must have shape ({m}, d), got {U.shape}")
        if x.ndim not in (2, 3) or x.shape[-1] != U.shape[1]:
            raise ValueError(f"x must have shape (T, {U.shape[1]}) or (T, N, {U.shape[1]}), "
                             f"got {x.shape}")
        if T is not None and _check_steps(T) != x.shape[0]:
            raise ValueError(f"T = {T} but x has {x.shape[0]} steps")
        T = x.shape[0]
        drive = x @ U.T                                            # (T, m) or (T, N, m)
    h = np.empty((T + 1,) + h0.shape)                              # (T+1, N, m)
    h[0] = h0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, T + 1):
            h[t] = act(b + h[t - 1] @ W.T + drive[t - 1])          # (N, m)
    return h


def spectral_radius(W):
    """rho(W) = max |eigenvalue of W|."""
    W = _check_square(W)
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def scale_to_spectral_radius(W, rho):
    """W * rho / rho(W): the same directions, spectral radius exactly ``rho``."""
    W = _check_square(W)
    if isinstance(rho, bool) or not isinstance(rho, (int, float, np.integer, np.floating)):
        raise TypeError(f"rho must be a number, got {type(rho).__name__}")
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho must be a finite number >= 0, got {rho}")
    current = spectral_radius(W)
    if current == 0:
        raise ValueError("W has spectral radius 0 (nilpotent or zero) and cannot be rescaled")
    return W * (rho / current)


def random_recurrent_matrix(m, rho=1.0, seed=0):
    """A Gaussian (m, m) matrix rescaled to spectral radius ``rho``."""
    m = _check_steps(m, "m")
    if m == 0:
        raise ValueError("m must be >= 1, got 0")
    rng = np.random.default_rng(seed)
    return scale_to_spectral_radius(rng.normal(size=(m, m)) / np.sqrt(m), rho)


def jacobian(W, h_prev, x=None, U=None, b=None, activation="tanh"):
    """dh^(t)/dh^(t-1) = diag(act'(a^(t))) W at one state h_prev (m,): an (m, m) matrix."""
    W = _check_square(W)
    m = W.shape[0]
    h_prev = _as_array(h_prev, "h_prev")
    if h_prev.shape != (m,):
        raise ValueError(f"h_prev must have shape ({m},), got {h_prev.shape}")
    _, dact = _check_activation(activation)
    a = W @ h_prev                                                 # (m,)
    if b is not None:
        a = a + _as_array(b, "b")
    if x is not None:
        if U is None:
            raise ValueError("x given without U")
        a = a + _as_array(U, "U") @ _as_array(x, "x")
    return dact(a)[:, None] * W                                    # (m, m)


def fixed_point(W, b=None, activation="tanh", h_init=None, tol=1e-12, max_iter=100):
    """A fixed point h* = act(b + W h*) found by Newton's method from ``h_init`` (zeros).

    Returns (h_star, converged). For the identity activation it is the solution of
    (I - W) h* = b.
    """
    W = _check_square(W)
    m = W.shape[0]
    act, dact = _check_activation(activation)
    b = np.zeros(m) if b is None else _as_array(b, "b")
    if b.shape != (m,):
        raise ValueError(f"b must have shape ({m},), got {b.shape}")
    h = np.zeros(m) if h_init is None else _as_array(h_init, "h_init")
    if h.shape != (m,):
        raise ValueError(f"h_init must have shape ({m},), got {h.shape}")
    eye = np.eye(m)
    for _ in range(max_iter):
        a = b + W @ h                                              # (m,)
        residual = h - act(a)                                      # (m,)
        if np.max(np.abs(residual)) < tol:
            return h, True
        J = eye - dact(a)[:, None] * W                             # (m, m)
        try:
            h = h - np.linalg.solve(J, residual)
        except np.linalg.LinAlgError:
            return h, False
        if not np.all(np.isfinite(h)):
            return h, False
    a = b + W @ h
    return h, bool(np.max(np.abs(h - act(a))) < tol)


def is_stable(W, h_star, b=None, activation="tanh"):
    """A fixed point is (locally) stable when rho(diag(act'(a*)) W) < 1."""
    J = jacobian(W, h_star, b=b, activation=activation)
    return bool(np.max(np.abs(np.linalg.eigvals(J))) < 1.0)


def separation(W, h0, delta, T, x=None, U=None, b=None, activation="tanh"):
    """||h^(t) - h'^(t)|| for t = 0..T, where h' starts at h0 + delta (both (m,)), driven by
    the same input x if given: how fast nearby trajectories converge or diverge."""
    h0 = _as_array(h0, "h0")
    delta = _as_array(delta, "delta")
    if h0.ndim != 1 or delta.shape != h0.shape:
        raise ValueError(f"h0 and delta must be vectors of the same shape, got {h0.shape} and "
                         f"{delta.shape}")
    starts = np.stack([h0, h0 + delta])                            # (2, m)
    h = hidden_trajectories(W, starts, T=T, x=x, U=U, b=b, activation=activation)
    return np.linalg.norm(h[:, 0] - h[:, 1], axis=-1)              # (T+1,)


def lyapunov_exponent(W, h0, T, x=None, U=None, b=None, activation="tanh", seed=0):
    """The largest Lyapunov exponent along the trajectory from h0 (m,), estimated over T steps:
    the mean of log ||J_t v|| with v renormalised every step. Negative: nearby trajectories
    converge at rate exp(lambda) per step; positive: they diverge."""
    W = _check_square(W)
    T = _check_steps(T)
    if T == 0:
        raise ValueError("T must be >= 1 for a growth rate")
    h = hidden_trajectories(W, h0, T=T, x=x, U=U, b=b, activation=activation)
    if h.ndim != 2:
        raise ValueError(f"h0 must be a single state (m,), got shape {np.shape(h0)}")
    v = np.random.default_rng(seed).normal(size=W.shape[0])      # (m,)
    v /= np.linalg.norm(v)
    total = 0.0
    x_arr = None if x is None else _as_array(x, "x")
    for t in range(1, T + 1):
        x_t = None if x_arr is None else x_arr[t - 1]
        v = jacobian(W, h[t - 1], x=x_t, U=U, b=b, activation=activation) @ v
        norm = np.linalg.norm(v)
        if norm == 0:
            return -np.inf
        total += np.log(norm)
        v /= norm
    return total / T
