"""Diagonal linear recurrences, the parallel scan, and a small gated linear-recurrence layer.

Taught in the closing chapter "Where recurrence went" (after "Exploding and vanishing
gradients", whose spectral-radius analysis it builds on, and "Recursive networks", whose
balanced tree it mirrors). The state-space models of the 2020s (S4, LRU, Mamba, RWKV) drop the
nonlinearity from the recurrence and make its matrix diagonal:

    h^(t) = lambda * h^(t-1) + u^(t),   u^(t) = B x^(t),   t = 1, ..., T

with ``*`` element-wise and lambda (n,) real or complex. The state matrix is diag(lambda), its
spectral radius is max_i |lambda_i|, and the recurrence is stable (an input's effect decays
like |lambda_i|^t) exactly when every |lambda_i| < 1 (:func:`spectral_radius`).

Such a recurrence trains in parallel: one step is the affine map h -> a h + u, and composing two
steps, (a_1, u_1) then (a_2, u_2), gives the affine map (a_2 a_1, a_2 u_1 + u_2). Composition is
associative, so all T prefixes h^(1), ..., h^(T) come out of a parallel (inclusive) scan in
ceil(log2 T) levels (:func:`scan_depth`), each level one vectorised NumPy operation over all
positions (Hillis and Steele's scan: at level k every position t > 2^k combines with position
t - 2^k; :func:`scan_schedule` lists the pairs, for the diagram beside the recursive chapter's
balanced tree). It works for any T, not only powers of 2. The loop needs T sequential steps.
Hillis and Steele's scan does about T log2 T multiply-adds; ``algorithm="blelloch"`` is the
work-efficient scan over a balanced binary tree (Blelloch 1990: up the tree composing
neighbours, down again filling in prefixes), about 2T multiply-adds in 2 floor(log2 T) levels,
the recursive chapter's balanced tree itself. benchmarks/bench_scan.py measures both against
the loop: in NumPy on one core the scans win when each step is small (the loop is then Python
overhead) and the work-efficient one stays ahead when steps are wide.

The backward pass (the adjoint) is itself a linear recurrence, run backwards in time:

    g^(t) = dh^(t) + conj(a^(t+1)) * g^(t+1),   g^(T+1) = 0
    dJ/du^(t) = g^(t),   dJ/da^(t) = conj(h^(t-1)) * g^(t),   dJ/dh^(0) = conj(a^(1)) * g^(1)

so it is a scan too (:func:`linear_recurrence_backward`). For complex arrays the gradient of the
real loss J is dJ/dRe z + i dJ/dIm z (conj is the identity for real arrays).

Functions: :func:`linear_recurrence_loop` and :func:`linear_recurrence_scan` (the same h), their
backward :func:`linear_recurrence_backward`; the layer with its input matrix B,
:func:`init_diagonal_recurrence`, :func:`diagonal_recurrence_forward` and
:func:`diagonal_recurrence_backward`; the gated layer (a minGRU-like cell with a nonlinear
readout, small, in the spirit of LRU/Mamba/RWKV), :func:`init_gated_linear`,
:func:`gated_linear_forward`, :func:`gated_linear_backward`, trainable with rnnlib's ``train``;
the lag task of "Exploding and vanishing gradients", :func:`recall_batch` (the chapter defines
it in its notebook; here it is a library function so both chapters can share it); and the data
of the eigenvalue widget, :func:`impulse_response`, :func:`memory_length` and
:func:`memory_grid`.

The dtype follows lambda (the parameters): float32/complex64 or float64/complex128; u becomes
complex when either is complex. Every public function checks its arguments once and calls the
plain function of the same name with a leading underscore.
"""
from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Optional

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
    "spectral_radius", "linear_recurrence_loop", "linear_recurrence_scan",
    "linear_recurrence_backward", "scan_depth", "scan_schedule",
    "DIAGONAL_PARAMS", "init_diagonal_recurrence", "DiagonalCache",
    "diagonal_recurrence_forward", "diagonal_recurrence_backward",
    "GATED_LINEAR_PARAMS", "init_gated_linear", "GatedLinearCache", "gated_linear_forward",
    "gated_linear_backward", "recall_batch", "recall_accuracy",
    "impulse_response", "memory_length", "MemoryGrid", "memory_grid",
]

DIAGONAL_PARAMS = ("lam", "B")
GATED_LINEAR_PARAMS = ("U_z", "b_z", "U_h", "b_h", "W_q", "U_q", "b_q", "V", "c")
METHODS = ("scan", "blelloch", "loop")


# ----------------------------------------------------------------------------------------------
# Checks for real or complex arrays (rnnlib's as_float_array refuses complex on purpose)
# ----------------------------------------------------------------------------------------------
_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128)}
_ALLOWED = tuple(_COMPLEX_OF) + tuple(_COMPLEX_OF.values())


def _as_array(name, value, ndim=None):
    """A finite numeric array, real or complex; integers and bools become float64."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except ValueError as error:
        raise TypeError(f"{name} must be a numeric array, got a ragged sequence") from error
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got an array of dtype {array.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            expected = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{name} must have {expected} dimensions, got {array.ndim} "
                             f"(shape {array.shape})")
    if array.dtype not in _ALLOWED:
        if np.issubdtype(array.dtype, np.complexfloating):
            array = array.astype(np.complex128)
        else:
            array = array.astype(np.float64)        # ints, bools, float16 -> float64
    if not np.isfinite(array).all():
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} contains {bad} NaN or inf value(s); all entries must be finite")
    return array


def _result_dtype(lam_dtype, *others):
    """The dtype of h: lam's precision, complex if lam or any other array is complex."""
    real = lam_dtype if lam_dtype in _COMPLEX_OF else np.dtype(
        np.float32 if lam_dtype == np.complex64 else np.float64)
    complex_ = np.issubdtype(lam_dtype, np.complexfloating) or any(
        np.issubdtype(d, np.complexfloating) for d in others)
    return _COMPLEX_OF[real] if complex_ else real


def _check_recurrence(lam, u, h0, max_bytes):
    """Check lam, u, h0 of h^(t) = lam * h^(t-1) + u^(t); return them in one dtype.

    u (T, ..., n) with T >= 1, n >= 1; lam (n,) or u's shape; h0 None, (n,) or u.shape[1:].
    """
    lam = _as_array("lam", lam, ndim=None)
    u = _as_array("u", u)
    if u.ndim < 2:
        raise ValueError(f"u must have shape (T, ..., n) (time first, channels last), got "
                         f"shape {u.shape}")
    if u.size == 0:
        raise ValueError(f"u is empty (shape {u.shape}); T, n and every batch axis must be >= 1")
    n = u.shape[-1]
    if lam.shape != (n,) and lam.shape != u.shape:
        raise ValueError(f"lam must have shape (n,) = ({n},) (one lambda per channel) or "
                         f"{u.shape}, the shape of u (one per step), got {lam.shape}")
    if h0 is not None:
        h0 = _as_array("h0", h0)
        if h0.shape != (n,) and h0.shape != u.shape[1:]:
            raise ValueError(f"h0 must have shape {u.shape[1:]} (u's shape without T) or "
                             f"({n},), got {h0.shape}")
    dtype = _result_dtype(lam.dtype, u.dtype, *(() if h0 is None else (h0.dtype,)))
    check_allocation(f"u of shape {u.shape}", [(u.shape[0] + 1,) + u.shape[1:]] * 3, dtype,
                     max_bytes)
    lam, u = lam.astype(dtype, copy=False), u.astype(dtype, copy=False)
    h0 = np.zeros(u.shape[1:], dtype) if h0 is None else np.broadcast_to(
        h0.astype(dtype, copy=False), u.shape[1:]).copy()
    return lam, u, h0


def _warn_nonfinite(made_by, h):
    """One RuntimeWarning naming the first step t where h overflowed (quiet in np.errstate)."""
    if nonfinite_ignored() or np.isfinite(h).all():
        return
    bad = ~np.isfinite(h.reshape(h.shape[0], -1)).all(axis=1)
    warnings.warn(f"{made_by}: h overflowed to inf/NaN at step t={int(np.argmax(bad))} of "
                  f"T={h.shape[0] - 1}; the recurrence is unstable when some |lambda| >= 1 "
                  f"(spectral radius of diag(lambda) at least 1): use |lambda| < 1",
                  RuntimeWarning, stacklevel=3)


# ----------------------------------------------------------------------------------------------
# Stability: the spectral radius of diag(lambda)
# ----------------------------------------------------------------------------------------------
def _spectral_radius(lam):
    """rho(diag(lambda)) = max_i |lambda_i|; checked by `spectral_radius`."""
    return float(np.max(np.abs(lam)))


def spectral_radius(lam):
    """max_i |lambda_i|, the spectral radius of diag(lambda): the recurrence h^(t) = lambda *
    h^(t-1) + u^(t) is stable (bounded inputs give bounded states, an impulse decays like
    |lambda_i|^t) exactly when it is below 1."""
    lam = _as_array("lam", lam)
    if lam.size == 0:
        raise ValueError("lam is empty; it needs at least one eigenvalue")
    return _spectral_radius(lam)


# ----------------------------------------------------------------------------------------------
# The sequential computation and the parallel scan
# ----------------------------------------------------------------------------------------------
def _linear_recurrence_loop(lam, u, h0):
    """h^(t) = lam * h^(t-1) + u^(t), one step after the other, T sequential
    steps. Arguments are checked by `linear_recurrence_loop`.

    lam (n,) or (T, ..., n), u (T, ..., n), h0 (..., n).
    Returns h (T+1, ..., n).
    """
    T = u.shape[0]
    a = np.broadcast_to(lam, u.shape)                    # (T, ..., n)
    h = np.empty((T + 1,) + u.shape[1:], dtype=u.dtype)  # (T+1, ..., n)
    h[0] = h0                                            # (..., n)
    for t in range(1, T + 1):
        h[t] = a[t - 1] * h[t - 1] + u[t - 1]            # (..., n)
    return h


def linear_recurrence_loop(lam, u, h0=None, max_bytes=DEFAULT_MAX_BYTES):
    """h^(t) = lam * h^(t-1) + u^(t) for t = 1..T, computed step by step.

    lam: (n,) one coefficient per channel, or (T, ..., n) one per step (a gated recurrence);
    real or complex. u: (T, ..., n) the drive B x^(t). h0: None (zeros), (n,) or (..., n).
    Returns h (T+1, ..., n) with h[0] = h0, in lam's precision (complex if lam or u is).
    max_bytes: refuse (before allocating) arrays larger than this.
    """
    lam, u, h0 = _check_recurrence(lam, u, h0, max_bytes)
    with np.errstate(over="ignore", invalid="ignore"):
        h = _linear_recurrence_loop(lam, u, h0)
    _warn_nonfinite("linear_recurrence_loop", h)
    return h


def _linear_recurrence_scan(lam, u, h0):
    """The same h^(t) from a parallel scan in ceil(log2 T) levels (Hillis and
    Steele). Arguments are checked by `linear_recurrence_scan`.

    Step t is the affine map h -> a^(t) h + u^(t); two steps compose as
    (a1, u1) then (a2, u2) = (a2 a1, a2 u1 + u2), which is associative. At
    the level with offset k = 1, 2, 4, ... every t > k takes in t - k, so
    after the last level position t holds steps 1..t composed.
    """
    T = u.shape[0]
    a = np.array(np.broadcast_to(lam, u.shape))          # (T, ..., n)
    b = u.copy()                                         # (T, ..., n)
    b[0] += a[0] * h0                                    # h^(0) into step 1
    k = 1
    while k < T:                                         # ceil(log2 T) levels
        b[k:] = a[k:] * b[:-k] + b[k:]                   # (T-k, ..., n)
        a[k:] = a[k:] * a[:-k]                           # (T-k, ..., n)
        k *= 2
    return np.concatenate([h0[None], b])                 # (T+1, ..., n)


def _linear_recurrence_tree_scan(lam, u, h0):
    """The same h^(t) by the work-efficient scan over a balanced binary tree
    (Blelloch's up-sweep and down-sweep, in the odd-even form that needs no
    padding to a power of 2); about 2T compositions instead of T log2 T.
    Arguments are checked by `linear_recurrence_scan`.

    Up: compose neighbours (2i, 2i+1) level by level, T, T/2, T/4, ... maps.
    Down: each level's odd positions take their prefix from the level above,
    its even positions apply their own map to the prefix before them.
    """
    a = np.array(np.broadcast_to(lam, u.shape))          # (T, ..., n)
    b = u.copy()                                         # (T, ..., n)
    b[0] += a[0] * h0                                    # h^(0) into step 1
    levels = []
    while b.shape[0] > 1:                                # up-sweep
        levels.append((a, b))
        L = b.shape[0] // 2 * 2                          # pairs (2i, 2i+1)
        a, b = a[1:L:2] * a[:L:2], a[1:L:2] * b[:L:2] + b[1:L:2]
    h = b                                                # prefix of the root
    for a, b in reversed(levels):                        # down-sweep
        L = b.shape[0]
        out = np.empty_like(b)                           # (L, ..., n)
        out[1::2] = h[:L // 2]                           # from the level above
        out[0] = b[0]
        out[2::2] = a[2::2] * h[:(L - 1) // 2] + b[2::2]  # own map on prefix
        h = out
    return np.concatenate([h0[None], h])                 # (T+1, ..., n)


ALGORITHMS = ("hillis-steele", "blelloch")


#: the computations of h a layer's ``method`` chooses: "scan" (Hillis-Steele), "blelloch", "loop"
RECURRENCES = {"scan": _linear_recurrence_scan, "blelloch": _linear_recurrence_tree_scan,
               "loop": _linear_recurrence_loop}


def _check_algorithm(algorithm):
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    return algorithm


def linear_recurrence_scan(lam, u, h0=None, algorithm="hillis-steele",
                           max_bytes=DEFAULT_MAX_BYTES):
    """h^(t) = lam * h^(t-1) + u^(t) for t = 1..T, computed by a parallel associative scan.

    The same arguments and result as :func:`linear_recurrence_loop` (equal to rounding error).
    algorithm: "hillis-steele" (default; ceil(log2 T) vectorised levels, :func:`scan_depth`,
    about T log2 T multiply-adds) or "blelloch" (the work-efficient scan over a balanced
    binary tree: 2 floor(log2 T) levels, up and down, about 2T multiply-adds; faster in NumPy
    when each step has many channels). The loop needs T sequential steps.
    """
    algorithm = _check_algorithm(algorithm)
    lam, u, h0 = _check_recurrence(lam, u, h0, max_bytes)
    scan = _linear_recurrence_scan if algorithm == "hillis-steele" else \
        _linear_recurrence_tree_scan
    with np.errstate(over="ignore", invalid="ignore"):
        h = scan(lam, u, h0)
    _warn_nonfinite("linear_recurrence_scan", h)
    return h


def _linear_recurrence_backward(lam, h, dh, scan=_linear_recurrence_scan):
    """The adjoint, a linear recurrence backwards in time, by the same scan
    (checked by `linear_recurrence_backward`):

        g^(t) = dh^(t) + conj(a^(t+1)) g^(t+1),  g^(T+1) = 0
        du^(t) = g^(t),  da^(t) = conj(h^(t-1)) g^(t),  dh0 = conj(a^(1)) g^(1)

    lam (n,) or (T, ..., n), h (T+1, ..., n), dh (T, ..., n) = dJ/dh^(t).
    Returns (dlam shaped like lam, du (T, ..., n), dh0 (..., n)).
    """
    a = np.conj(np.broadcast_to(lam, dh.shape))          # (T, ..., n)
    a_next = np.zeros_like(a)                            # (T, ..., n)
    a_next[:-1] = a[1:]                                  # conj(a^(t+1))
    zero = np.zeros_like(dh[0])                          # (..., n)
    g = scan(a_next[::-1], dh[::-1], zero)[1:][::-1]     # (T, ..., n)
    da = np.conj(h[:-1]) * g                             # (T, ..., n)
    dlam = da if np.shape(lam) == dh.shape else da.reshape(
        -1, dh.shape[-1]).sum(axis=0)                    # (n,) summed
    return dlam, g, a[0] * g[0]                          # du = g


def linear_recurrence_backward(lam, h, dh, algorithm="hillis-steele",
                               max_bytes=DEFAULT_MAX_BYTES):
    """Backward pass of h^(t) = lam * h^(t-1) + u^(t), given dh = dJ/dh^(t) from outside.

    lam: as given to the forward pass, (n,) or (T, ..., n); h: (T+1, ..., n), the forward
    result; dh: (T, ..., n), the gradient of J with respect to h^(1..T) (h[1:]).
    Returns (dlam, du, dh0): dlam shaped like lam (summed over steps and batch axes for a
    per-channel lam), du (T, ..., n), dh0 (..., n). The adjoint g^(t) = dh^(t) + conj(a^(t+1))
    g^(t+1) is computed by the same parallel scan (``algorithm`` as in
    :func:`linear_recurrence_scan`), backwards in time. Complex gradients are
    dJ/dRe z + i dJ/dIm z; for a real lam, dlam is real.
    """
    algorithm = _check_algorithm(algorithm)
    lam_given = _as_array("lam", lam)
    h = _as_array("h", h)
    dh = _as_array("dh", dh)
    if h.ndim < 2 or h.shape[0] < 2:
        raise ValueError(f"h must have shape (T+1, ..., n) with T >= 1 (the forward result), "
                         f"got {h.shape}")
    expected = (h.shape[0] - 1,) + h.shape[1:]
    if dh.shape != expected:
        raise ValueError(f"dh must have shape {expected} (like h[1:]), got {dh.shape}")
    lam, dh, _ = _check_recurrence(lam_given, dh, None, max_bytes)
    h = h.astype(_result_dtype(lam.dtype, h.dtype), copy=False)
    lam, dh = lam.astype(h.dtype, copy=False), dh.astype(h.dtype, copy=False)
    scan = _linear_recurrence_scan if algorithm == "hillis-steele" else \
        _linear_recurrence_tree_scan
    with np.errstate(over="ignore", invalid="ignore"):
        dlam, du, dh0 = _linear_recurrence_backward(lam, h, dh, scan)
    if not np.iscomplexobj(lam_given):
        dlam = dlam.real.astype(_result_dtype(lam_given.dtype), copy=False)
    return dlam, du, dh0


def _scan_depth(T, algorithm="hillis-steele"):
    """The scan's sequential levels: ceil(log2 T) for Hillis-Steele, 2
    floor(log2 T) (up and down the tree) for Blelloch; 0 for T = 1.
    Arguments are checked by `scan_depth`."""
    if algorithm == "blelloch":
        return 2 * (T.bit_length() - 1)                  # 2 floor(log2 T)
    return (T - 1).bit_length()                          # ceil(log2 T)


def scan_depth(T, algorithm="hillis-steele"):
    """The number of sequential levels of the parallel scan over T steps, against T steps of
    the loop: ceil(log2 T) for "hillis-steele" (the depth of a balanced tree over T leaves), and
    2 floor(log2 T) for "blelloch" (up the balanced tree and down again); 0 for T = 1."""
    return _scan_depth(check_positive_int("T", T), _check_algorithm(algorithm))


def _scan_schedule(T):
    """For each level (offset k = 1, 2, 4, ...), the pairs (t, t - k) of
    1-based steps that level combines; checked by `scan_schedule`."""
    levels, k = [], 1
    while k < T:
        t = np.arange(k + 1, T + 1)                      # (T-k,) receivers
        levels.append(np.stack([t, t - k], axis=1))      # (T-k, 2)
        k *= 2
    return levels


def scan_schedule(T, max_pairs=10 ** 7):
    """The scan's wiring, for a diagram: a list of ceil(log2 T) arrays, level k's array of
    shape (T - 2^k, 2) holding the pairs (t, t - 2^k) of 1-based steps whose maps it composes
    (position t takes in position t - 2^k). max_pairs: refuse schedules with more pairs.
    """
    T = check_positive_int("T", T)
    max_pairs = check_positive_int("max_pairs", max_pairs)
    pairs = sum(T - 2 ** k for k in range(_scan_depth(T)))
    if pairs > max_pairs:
        raise ValueError(f"T={T} gives a schedule of {pairs} pairs, more than max_pairs="
                         f"{max_pairs}; pass a larger max_pairs")
    return _scan_schedule(T)


# ----------------------------------------------------------------------------------------------
# The diagonal linear recurrence as a layer: h^(t) = lambda * h^(t-1) + B x^(t)
# ----------------------------------------------------------------------------------------------
def _init_diagonal_recurrence(d, n, rng, r_min, r_max, complex_, dtype):
    """lambda with |lambda| uniform in [r_min, r_max] (and angle uniform in
    [0, 2 pi) if complex), B ~ N(0, 1/d). Arguments are
    checked by `init_diagonal_recurrence`."""
    r = rng.uniform(r_min, r_max, size=n)                # (n,) moduli
    B = rng.standard_normal((n, d)) / np.sqrt(d)         # (n, d)
    if not complex_:
        return {"lam": r.astype(dtype), "B": B.astype(dtype)}
    theta = rng.uniform(0, 2 * np.pi, size=n)            # (n,) angles
    cdtype = _COMPLEX_OF[np.dtype(dtype)]
    return {"lam": (r * np.exp(1j * theta)).astype(cdtype),  # (n,)
            "B": B.astype(cdtype)}                       # (n, d)


def init_diagonal_recurrence(d, n, r_min=0.5, r_max=0.99, complex=False, seed=0,
                             dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Parameters of h^(t) = lambda * h^(t-1) + B x^(t): lam (n,) and B (n, d).

    |lambda_i| uniform in [r_min, r_max] (inside the unit disc, so the recurrence is stable);
    with complex=True each lambda_i also gets a uniform angle and the arrays are complex
    (complex128 for dtype float64, complex64 for float32).
    """
    d, n = check_positive_int("d", d), check_positive_int("n", n)
    r_min = check_number("r_min", r_min, low=0)
    r_max = check_number("r_max", r_max, low=r_min)
    if not isinstance(complex, (bool, np.bool_)):
        raise TypeError(f"complex must be True or False, got {type(complex).__name__}")
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    check_allocation(f"d={d}, n={n}", [(n, d), (n,)], np.complex128, max_bytes)
    return _init_diagonal_recurrence(d, n, rng, r_min, r_max, bool(complex), dtype)


@dataclass
class DiagonalCache:
    """What diagonal_recurrence_backward needs from diagonal_recurrence_forward."""

    x: np.ndarray               # (T, B, d)
    h: np.ndarray               # (T+1, B, n), h[0] = h0
    h0_shape: tuple             # the shape h0 was given in

    def __getitem__(self, key):
        return getattr(self, key)


def _diagonal_recurrence_forward(params, x, h0, method="scan"):
    """u^(t) = B x^(t), then h^(t) = lambda * h^(t-1) + u^(t) by the scan (or
    the loop). Arguments are checked by `diagonal_recurrence_forward`."""
    lam, B = params["lam"], params["B"]
    T, Bsz, d = x.shape
    u = (x.reshape(T * Bsz, d) @ B.T).reshape(T, Bsz, -1)  # (T, B, n)
    u = u.astype(np.result_type(u, lam), copy=False)     # complex if lam is
    h = RECURRENCES[method](lam, u, h0)                  # (T+1, B, n) a scan
    return DiagonalCache(x, h, np.shape(h0))


def _check_diagonal_params(params):
    """lam (n,) and B (n, d), one precision; return (dtype of h, n, d)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of NumPy arrays, got {type(params).__name__}")
    missing = [k for k in DIAGONAL_PARAMS if k not in params]
    if missing:
        raise KeyError(f"params is missing {missing}; expected keys {list(DIAGONAL_PARAMS)}")
    for key in DIAGONAL_PARAMS:
        value = params[key]
        if not isinstance(value, np.ndarray):
            raise TypeError(f"params[{key!r}] must be a NumPy array, got {type(value).__name__}")
        if value.dtype not in _ALLOWED:
            raise TypeError(f"params[{key!r}] must be a float32/float64 or complex64/complex128 "
                            f"array, got dtype {value.dtype}")
        if not np.isfinite(value).all():
            raise ValueError(f"params[{key!r}] contains NaN or inf; every parameter must be "
                             f"finite")
    lam, B = params["lam"], params["B"]
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"params['lam'] must have shape (n,), got {lam.shape}")
    n = lam.shape[0]
    check_shape("params['B']", B, (n, None), f"(n, d) with n={n} from params['lam']")
    if B.shape[1] == 0:
        raise ValueError("params['B'] must have shape (n, d) with d >= 1, got d = 0")
    precisions = {np.finfo(v.dtype).bits for v in (lam, B)}
    if len(precisions) > 1:
        raise TypeError(f"params mixes precisions ({lam.dtype} and {B.dtype}); use one")
    return _result_dtype(lam.dtype, B.dtype), n, B.shape[1]


def _check_method(method):
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def _real_dtype(dtype):
    return np.dtype(np.float32) if np.finfo(dtype).bits == 32 else np.dtype(np.float64)


def diagonal_recurrence_forward(params, x, h0=None, method="scan", max_bytes=DEFAULT_MAX_BYTES):
    """h^(t) = lambda * h^(t-1) + B x^(t) for a batch: x (T, B, d) real; h0 None, (n,) or
    (B, n). method "scan" (Hillis-Steele, the default), "blelloch" or "loop". Returns a
    DiagonalCache with h (T+1, B, n) (complex if the params are)."""
    dtype, n, d = _check_diagonal_params(params)
    method = _check_method(method)
    x = as_float_array("x", x, dtype=_real_dtype(dtype), ndim=3)
    T, B, _ = x.shape
    if T == 0 or B == 0:
        raise ValueError(f"x must have at least one step and one example, got shape {x.shape}")
    check_shape("x", x, (T, B, d), f"(T, B, d) with d={d} from params['B']")
    check_allocation(f"x of shape {x.shape} with n={n}", [(T + 1, B, n)] * 4, dtype, max_bytes)
    if h0 is not None:
        h0 = _as_array("h0", h0, ndim=(1, 2))
        if h0.shape not in ((n,), (B, n)):
            raise ValueError(f"h0 must have shape (n,) = ({n},) or (B, n) = ({B}, {n}), "
                             f"got {h0.shape}")
        if np.iscomplexobj(h0) and not np.issubdtype(dtype, np.complexfloating):
            raise TypeError("h0 is complex but params are real; use complex params")
    shape = (n,) if h0 is None else h0.shape
    h0 = np.zeros((B, n), dtype) if h0 is None else np.broadcast_to(
        h0.astype(dtype, copy=False), (B, n)).copy()
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _diagonal_recurrence_forward(params, x, h0, method)
    _warn_nonfinite("diagonal_recurrence_forward", cache.h)
    return DiagonalCache(cache.x, cache.h, shape if shape == (n,) else (B, n))


def _diagonal_recurrence_backward(params, cache, dh):
    """The adjoint scan gives g^(t) = dJ/du^(t); then dB = sum_t g x^T, dx =
    Re(B^H g). Arguments are checked by `diagonal_recurrence_backward`."""
    lam, B = params["lam"], params["B"]
    x, h = cache.x, cache.h
    T, Bsz, d = x.shape
    dlam, g, dh0 = _linear_recurrence_backward(lam, h, dh)  # g (T, B, n)
    g_flat = g.reshape(T * Bsz, -1)                      # (T*B, n)
    dB = g_flat.T @ x.reshape(T * Bsz, d)                # (n, d)
    dx = (g_flat @ np.conj(B)).real.reshape(T, Bsz, d)   # (T, B, d)
    return dx, {"lam": dlam, "B": dB, "h0": dh0}


def diagonal_recurrence_backward(params, cache, dh):
    """Gradients of h^(t) = lambda * h^(t-1) + B x^(t) given dh (T, B, n) = dJ/dh^(t) for
    t = 1..T. Returns (dx (T, B, d), grads) with grads lam (n,), B (n, d) and h0 (shaped as
    h0 was given: (n,) summed over the batch, or (B, n)). Complex gradients are
    dJ/dRe + i dJ/dIm; real params get real gradients."""
    dtype, n, d = _check_diagonal_params(params)
    check_cache(cache, DiagonalCache, "diagonal_recurrence_forward",
                {"x": (None, None, d), "h": (None, None, n)})
    T, B, _ = cache.x.shape
    check_cache(cache, DiagonalCache, "diagonal_recurrence_forward", {"h": (T + 1, B, n)})
    if cache.h.dtype != dtype:
        raise TypeError(f"cache holds {cache.h.dtype} states but params give {dtype}; run "
                        f"diagonal_recurrence_forward with these params")
    dh = _as_array("dh", dh, ndim=3)
    check_shape("dh", dh, (T, B, n), "(T, B, n), like cache.h[1:]")
    dh = dh.astype(dtype, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        dx, grads = _diagonal_recurrence_backward(params, cache, dh)
    if cache.h0_shape == (n,):
        grads["h0"] = grads["h0"].sum(axis=0)
    grads = {k: v.astype(dtype, copy=False) for k, v in grads.items()}
    for key in ("lam", "B"):
        if not np.iscomplexobj(params[key]):
            grads[key] = grads[key].real.copy()
    return dx, grads


# ----------------------------------------------------------------------------------------------
# A small gated linear-recurrence layer (a minGRU-like cell with a nonlinear readout)
# ----------------------------------------------------------------------------------------------
def _init_gated_linear(d, n, m, C, rng, gate_bias, dtype):
    """U_z, U_h, U_q ~ N(0, 1/d), W_q ~ N(0, 1/n), V ~ N(0, 1/m), b_z =
    gate_bias, other biases 0. Arguments are checked by `init_gated_linear`."""
    def normal(shape, fan_in):
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)

    return {
        "U_z": normal((n, d), d),                        # (n, d) gate
        "b_z": np.full(n, gate_bias, dtype=dtype),       # (n,)
        "U_h": normal((n, d), d),                        # (n, d) candidate
        "b_h": np.zeros(n, dtype=dtype),                 # (n,)
        "W_q": normal((m, n), n),                        # (m, n) readout
        "U_q": normal((m, d), d),                        # (m, d)
        "b_q": np.zeros(m, dtype=dtype),                 # (m,)
        "V": normal((C, m), m),                          # (C, m) output
        "c": np.zeros(C, dtype=dtype),                   # (C,)
    }


def init_gated_linear(d, n, m, C, gate_bias=-3.0, seed=0, dtype=np.float64,
                      max_bytes=DEFAULT_MAX_BYTES):
    """Parameters of the gated linear-recurrence layer: input size d, state size n, readout
    size m, C classes.

    gate_bias: the initial b_z; z = sigmoid(-3) = 0.047 keeps 1 - z = 0.95 of the state per
    step at the start, the counterpart of the LSTM's forget_bias=3.0 (sigmoid(3) = 0.95).
    """
    d, n, m, C = (check_positive_int(k, v) for k, v in
                  (("d", d), ("n", n), ("m", m), ("C", C)))
    gate_bias = check_number("gate_bias", gate_bias)
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    check_allocation(f"d={d}, n={n}, m={m}, C={C}",
                     [(n, d), (n,), (n, d), (n,), (m, n), (m, d), (m,), (C, m), (C,)],
                     dtype, max_bytes)
    return _init_gated_linear(d, n, m, C, rng, gate_bias, dtype)


@dataclass
class GatedLinearCache:
    """The forward record of the gated linear-recurrence layer (time-major)."""

    x: np.ndarray               # (T, B, d)
    z: np.ndarray               # (T, B, n) gates
    h_tilde: np.ndarray         # (T, B, n) candidates
    a: np.ndarray               # (T, B, n) coefficients 1 - z (1 at padded steps)
    h: np.ndarray               # (T+1, B, n), h[0] = h0
    q: np.ndarray               # (T, B, m) readout
    o: np.ndarray               # (T, B, C)
    y_hat: np.ndarray           # (T, B, C)
    mask: Optional[np.ndarray]  # (T, B) bool or None
    h0_shape: tuple

    def __getitem__(self, key):
        return getattr(self, key)


def _sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def _gated_linear_forward(params, x, h0, mask=None, method="scan"):
    """The gated linear recurrence (arguments are checked by
    `gated_linear_forward`):

        z^(t) = sigmoid(b_z + U_z x^(t))           gate, from the input only
        h~^(t) = b_h + U_h x^(t)                   candidate, linear
        h^(t) = (1 - z^(t)) * h^(t-1) + z^(t) * h~^(t)      linear in h: a scan
        q^(t) = tanh(b_q + W_q h^(t) + U_q x^(t))  nonlinear readout
        o^(t) = c + V q^(t)

    x (T, B, d), h0 (B, n), mask (T, B) or None (padded: a = 1, u = 0).
    """
    U_z, b_z, U_h, b_h = (params[k] for k in ("U_z", "b_z", "U_h", "b_h"))
    W_q, U_q, b_q, V, c = (params[k] for k in ("W_q", "U_q", "b_q", "V", "c"))
    z = _sigmoid(b_z + x @ U_z.T)                        # (T, B, n)
    h_tilde = b_h + x @ U_h.T                            # (T, B, n)
    if mask is not None:
        z = z * mask[:, :, None]                         # (T, B, n) padded: 0
    a = 1 - z                                            # (T, B, n)
    u = z * h_tilde                                      # (T, B, n)
    h = RECURRENCES[method](a, u, h0)                    # (T+1, B, n) a scan
    q = np.tanh(b_q + h[1:] @ W_q.T + x @ U_q.T)         # (T, B, m)
    o = c + q @ V.T                                      # (T, B, C)
    return GatedLinearCache(x, z, h_tilde, a, h, q, o, _softmax(o), mask,
                            np.shape(h0))


def _check_gated_linear_params(params):
    """Return (dtype, d, n, m, C) after checking every parameter's shape."""
    dtype = check_params(params, GATED_LINEAR_PARAMS)
    U_z = params["U_z"]
    if U_z.ndim != 2 or 0 in U_z.shape:
        raise ValueError(f"params['U_z'] must have shape (n, d) with n, d >= 1, got "
                         f"{U_z.shape}")
    n, d = U_z.shape
    check_shape("params['b_z']", params["b_z"], (n,), f"(n,) with n={n} from U_z")
    check_shape("params['U_h']", params["U_h"], (n, d), f"(n, d) = ({n}, {d}) from U_z")
    check_shape("params['b_h']", params["b_h"], (n,), f"(n,) with n={n} from U_z")
    check_shape("params['W_q']", params["W_q"], (None, n), f"(m, n) with n={n} from U_z")
    m = params["W_q"].shape[0]
    if m == 0:
        raise ValueError("params['W_q'] must have shape (m, n) with m >= 1, got m = 0")
    check_shape("params['U_q']", params["U_q"], (m, d), f"(m, d) = ({m}, {d})")
    check_shape("params['b_q']", params["b_q"], (m,), f"(m,) with m={m} from W_q")
    check_shape("params['V']", params["V"], (None, m), f"(C, m) with m={m} from W_q")
    C = params["V"].shape[0]
    if C == 0:
        raise ValueError("params['V'] must have shape (C, m) with C >= 1, got C = 0")
    check_shape("params['c']", params["c"], (C,), f"(C,) with C={C} from V")
    return dtype, d, n, m, C


def _check_sequence_inputs(x, h0, mask, dtype, d, n, extra, max_bytes):
    """x (T, B, d) or (T, d); h0 None/(n,)/(B, n); mask (T, B). Returns (x, h0, mask, single)."""
    x, single = as_sequence(x, dtype, d, "the params")
    T, B, _ = x.shape
    check_allocation(f"x of shape {x.shape}", [(T + 1, B, k) for k in extra], dtype, max_bytes)
    if h0 is not None:
        h0 = as_float_array("h0", h0, dtype=dtype, ndim=(1, 2))
        if h0.shape not in ((n,), (B, n)):
            raise ValueError(f"h0 must have shape (n,) = ({n},) or (B, n) = ({B}, {n}), "
                             f"got {h0.shape}")
    if single and mask is not None and np.ndim(mask) == 1:
        mask = np.asarray(mask)[:, None]
    mask = check_mask(mask, T, B)
    return x, h0, mask, single


def gated_linear_forward(params, x, h0=None, mask=None, method="scan",
                         max_bytes=DEFAULT_MAX_BYTES):
    """The gated linear-recurrence layer over a batch (see ``_gated_linear_forward`` for the
    equations): x (T, B, d) or (T, d); h0 None (zeros), (n,) or (B, n); mask (T, B) bool,
    padded steps keep h and add no loss; method "scan" (Hillis-Steele, default),
    "blelloch" (the work-efficient tree scan) or "loop".
    Returns a GatedLinearCache with o and y_hat (T, B, C), so rnnlib's ``train`` and
    ``rnn_loss`` work with it."""
    dtype, d, n, m, C = _check_gated_linear_params(params)
    method = _check_method(method)
    x, h0, mask, _ = _check_sequence_inputs(x, h0, mask, dtype, d, n, (n, n, n, n, m, C, C),
                                            max_bytes)
    B = x.shape[1]
    shape = (n,) if h0 is None else h0.shape
    h0 = np.zeros((B, n), dtype) if h0 is None else np.broadcast_to(h0, (B, n)).copy()
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _gated_linear_forward(params, x, h0, mask, method)
    _warn_nonfinite("gated_linear_forward", cache.h)
    cache.h0_shape = shape
    return cache


def _gated_linear_backward(params, cache, y):
    """Loss and gradients (arguments are checked by `gated_linear_backward`):
    through the readout, then the adjoint scan of the linear recurrence,
    then the gate and the candidate.

        dq = V^T do,  dr = dq * (1 - q^2),  dh^(t) = W_q^T dr^(t)
        (da, du) from the adjoint scan;  dz = -da + du * h~,  dh~ = du * z
    """
    W_q, V = params["W_q"], params["V"]
    x, z, h_tilde, a, h, q = (cache[k] for k in
                              ("x", "z", "h_tilde", "a", "h", "q"))
    loss, do = _rnn_loss(cache, y)                       # (T, B, C)
    T, B, d = x.shape
    n, m, C = h.shape[2], q.shape[2], do.shape[2]
    dq = do @ V                                          # (T, B, m)
    dr = dq * (1 - q * q)                                # (T, B, m)
    dh = dr @ W_q                                        # (T, B, n)
    da, du, dh0 = _linear_recurrence_backward(a, h, dh)  # (T, B, n)
    dz = du * h_tilde - da                               # (T, B, n)
    if cache.mask is not None:
        dz = dz * cache.mask[:, :, None]                 # padded: constants
    dpre = dz * z * (1 - z)                              # (T, B, n)
    dh_tilde = du * z                                    # (T, B, n)
    X = x.reshape(T * B, d)                              # (T*B, d)
    flat = {"z": dpre.reshape(T * B, n), "h": dh_tilde.reshape(T * B, n),
            "r": dr.reshape(T * B, m), "o": do.reshape(T * B, C)}
    grads = {
        "U_z": flat["z"].T @ X, "b_z": flat["z"].sum(axis=0),  # (n, d), (n,)
        "U_h": flat["h"].T @ X, "b_h": flat["h"].sum(axis=0),  # (n, d), (n,)
        "W_q": flat["r"].T @ h[1:].reshape(T * B, n),          # (m, n)
        "U_q": flat["r"].T @ X, "b_q": flat["r"].sum(axis=0),  # (m, d), (m,)
        "V": flat["o"].T @ q.reshape(T * B, m),                # (C, m)
        "c": flat["o"].sum(axis=0),                            # (C,)
        "h0": dh0,                                             # (B, n)
    }
    return loss, grads


def gated_linear_backward(params, cache, y):
    """Loss J = (1/B) sum_b sum_{real t} -log y_hat^(t)[y^(t)] and its gradients for every
    parameter and h0 (shaped as h0 was given). y: (T, B) int targets ((T,) for one sequence).
    The state's gradient comes from the adjoint linear recurrence, computed by the scan."""
    dtype, d, n, m, C = _check_gated_linear_params(params)
    check_cache(cache, GatedLinearCache, "gated_linear_forward",
                {"x": (None, None, d), "h": (None, None, n), "q": (None, None, m),
                 "o": (None, None, C)}, dtype)
    T, B, _ = cache.x.shape
    check_cache(cache, GatedLinearCache, "gated_linear_forward",
                {"z": (T, B, n), "h_tilde": (T, B, n), "a": (T, B, n), "h": (T + 1, B, n),
                 "q": (T, B, m), "o": (T, B, C), "y_hat": (T, B, C)})
    y = _check_loss_inputs(cache, y)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _gated_linear_backward(params, cache, y)
    if cache.h0_shape == (n,):
        grads["h0"] = grads["h0"].sum(axis=0)
    return loss, grads


# ----------------------------------------------------------------------------------------------
# The memory task of "Exploding and vanishing gradients": recall the first symbol after L steps
# ----------------------------------------------------------------------------------------------
def _recall_batch(step, L, B, K, seed, dtype):
    """x (L+1, B, K+3): a symbol at t = 1, two noise channels, a query flag at
    t = L+1; y: blank (class K), then the symbol.
    Arguments are checked by `recall_batch`."""
    rng = np.random.default_rng([seed, step])
    x = np.zeros((L + 1, B, K + 3), dtype=dtype)         # (T, B, d)
    symbol = rng.integers(0, K, size=B)                  # (B,)
    x[0, np.arange(B), symbol] = 1
    x[1:, :, K:K + 2] = rng.standard_normal((L, B, 2))   # two noise channels
    x[-1, :, K + 2] = 1                                  # query flag
    y = np.full((L + 1, B), K)                           # (T, B) blank ...
    y[-1] = symbol                                       # ... then the symbol
    return x, y


def recall_batch(step, L, B=32, K=4, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """One batch of the lag task of "Exploding and vanishing gradients" (the same numbers as
    the chapter's ``recall_batch``): the first input is one of K symbols (one-hot), then L
    steps of noise, then a query flag; the target is a "blank" class K before the last step and
    the first symbol at the last step (chance: 1/K). Returns x (L+1, B, K+3) and y (L+1, B).
    step and seed: non-negative ints (batch ``step`` of the stream ``seed``)."""
    step = check_positive_int("step", step, minimum=0)
    L = check_positive_int("L", L)
    B = check_positive_int("B", B)
    K = check_positive_int("K", K)
    seed = check_positive_int("seed", seed, minimum=0)
    dtype = check_float_dtype(dtype)
    check_allocation(f"L={L}, B={B}, K={K}", [(L + 1, B, K + 3), (L + 1, B)], np.float64,
                     max_bytes)
    return _recall_batch(step, L, B, K, seed, dtype)


def recall_accuracy(y_hat, y):
    """The accuracy at the query step: mean(argmax y_hat[-1] == y[-1]); y_hat (T, B, C),
    y (T, B) (from recall_batch)."""
    y_hat = as_float_array("y_hat", y_hat, ndim=3)
    if 0 in y_hat.shape:
        raise ValueError(f"y_hat is empty (shape {y_hat.shape})")
    T, B, C = y_hat.shape
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer) or y.shape != (T, B):
        raise ValueError(f"y must be an integer array of shape (T, B) = ({T}, {B}), got "
                         f"{y.dtype} {y.shape}")
    return float(np.mean(y_hat[-1].argmax(axis=1) == y[-1]))


# ----------------------------------------------------------------------------------------------
# The eigenvalue widget's data: lambda in the unit disc against how long an input is remembered
# ----------------------------------------------------------------------------------------------
def _impulse_response(lam, T):
    """h^(t) for an impulse u^(1) = 1 (h^(0) = 0, u = 0 after): lambda^(t-1),
    by the scan. Arguments are checked by `impulse_response`."""
    u = np.zeros((T,) + lam.shape, dtype=lam.dtype)      # (T, ...)
    u[0] = 1                                             # the impulse
    h0 = np.zeros(lam.shape, dtype=lam.dtype)            # (...)
    return _linear_recurrence_scan(lam, u, h0)           # (T+1, ...)


def _check_lam_grid(lam):
    lam = _as_array("lam", lam)
    if lam.size == 0:
        raise ValueError("lam is empty; it needs at least one eigenvalue")
    return lam.astype(np.complex128)


def impulse_response(lam, T, max_bytes=DEFAULT_MAX_BYTES):
    """h^(t), t = 0..T, of the scalar recurrences h^(t) = lambda h^(t-1) + u^(t) for an
    impulse u^(1) = 1: h^(t) = lambda^(t-1) (h^(0) = 0). lam: any shape, real or complex.
    Returns a complex array (T+1,) + lam.shape; its modulus is |lambda|^(t-1)."""
    lam = _check_lam_grid(lam)
    T = check_positive_int("T", T)
    check_allocation(f"T={T} and lam of shape {lam.shape}", [(T + 1,) + lam.shape] * 3,
                     np.complex128, max_bytes)
    return _impulse_response(lam, T)


def _memory_length(lam, threshold):
    """Steps until |h^(t)| = |lambda|^(t-1) falls below the threshold:
    the first k with |lambda|^k < threshold (inf for |lambda| >= 1).
    Arguments are checked by `memory_length`."""
    r = np.abs(lam)                                      # moduli
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.ceil(np.log(threshold) / np.log(r))   # |lambda|^k < thr
        steps = np.where(r ** steps >= threshold, steps + 1, steps)
    return np.where(r >= 1, np.inf, steps)               # never forgets


def memory_length(lam, threshold=0.01):
    """How long the state remembers an input: the number of steps k after the impulse until
    |h| = |lambda|^k first falls below ``threshold`` (in (0, 1)), ceil(log threshold /
    log |lambda|); np.inf where |lambda| >= 1 (the impulse never fades: unstable or on the
    unit circle), 1 where lambda = 0. A float array shaped like lam. For small 1 - |lambda|
    this is about log(1/threshold) / (1 - |lambda|) steps."""
    lam = _check_lam_grid(lam)
    threshold = check_number("threshold", threshold, low=0, high=1, low_open=True,
                             high_open=True)
    return _memory_length(lam, threshold)


@dataclass
class MemoryGrid:
    """The eigenvalue widget's precomputed data (see :func:`memory_grid`)."""

    moduli: np.ndarray          # (R,) |lambda|
    angles: np.ndarray          # (A,) arg lambda in radians
    lam: np.ndarray             # (R, A) complex, lambda = r exp(i angle)
    t: np.ndarray               # (T+1,) steps 0..T
    response: np.ndarray        # (R, A, T+1) |h^(t)| after an impulse at t = 1
    real: np.ndarray            # (R, A, T+1) Re h^(t) (oscillates for complex lambda)
    memory: np.ndarray          # (R, A) int: steps until |h| < threshold, capped at T + 1
    beyond: np.ndarray          # (R, A) bool: memory longer than the window (capped)
    threshold: float


def _memory_grid(moduli, angles, T, threshold):
    """lambda = r exp(i angle) on the grid, impulse responses by the scan,
    memory from the response. Arguments are checked by `memory_grid`."""
    lam = moduli[:, None] * np.exp(1j * angles[None, :])  # (R, A)
    h = _impulse_response(lam, T)                        # (T+1, R, A)
    response = np.moveaxis(np.abs(h), 0, -1)             # (R, A, T+1)
    below = response[..., 1:] < threshold                # (R, A, T) k = t - 1
    found = below.any(axis=-1)                           # (R, A)
    memory = np.where(found, below.argmax(axis=-1), T + 1)  # (R, A) k
    return MemoryGrid(moduli, angles, lam, np.arange(T + 1), response,
                      np.moveaxis(h.real, 0, -1), memory, ~found, threshold)


def memory_grid(moduli, angles, T=100, threshold=0.01, max_bytes=DEFAULT_MAX_BYTES):
    """The eigenvalue widget's data: for lambda = r exp(i angle) over a grid of moduli r
    (each >= 0) and angles (radians), the impulse response |h^(t)| and Re h^(t), t = 0..T, and
    the memory length (steps k after the impulse until |h| < threshold, from the computed
    response; capped at T + 1, with ``beyond`` True, when it stays above the threshold for
    the whole window, e.g. for |lambda| >= 1). Returns a MemoryGrid."""
    moduli = as_float_array("moduli", moduli, ndim=1)
    angles = as_float_array("angles", angles, ndim=1)
    if moduli.size == 0 or angles.size == 0:
        raise ValueError(f"moduli and angles must not be empty, got {moduli.size} moduli and "
                         f"{angles.size} angles")
    if moduli.min() < 0:
        raise ValueError(f"moduli must be >= 0 (|lambda|), got {moduli.min()}")
    T = check_positive_int("T", T)
    threshold = check_number("threshold", threshold, low=0, high=1, low_open=True,
                             high_open=True)
    check_allocation(f"T={T}, {moduli.size} moduli, {angles.size} angles",
                     [(T + 1, moduli.size, angles.size)] * 5, np.complex128, max_bytes)
    with np.errstate(over="ignore", invalid="ignore"):
        return _memory_grid(moduli, angles, T, threshold)
