"""Backpropagation through time, term by term, truncated, and what it costs.

Taught in the chapter "Backpropagation through time". The unfolded network shares its
parameters across steps and its loss is a sum over steps, so every gradient is a double sum:

    J = sum_t J_t,        dJ/dU = sum_t dJ_t/dU,

    dJ_t/dU = sum_{k=1}^{t} dJ_t/do^(t) do^(t)/dh^(t) dh^(t)/dh^(k) d+h^(k)/dU

where d+h^(k)/dU is the *immediate* partial (h^(k-1) held fixed) and

    dh^(t)/dh^(k) = prod_{j=k+1}^{t} diag(act'(a^(j))) W        (the identity when t = k).

:func:`bptt_contributions` returns every term of that double sum as an array (T, T, ...),
indexed [t-1, k-1] (zero for k > t); the terms add up to ``rnn_backward``'s gradient.

Truncated BPTT, TBPTT(k1, k2): run k1 steps forward, then backpropagate the loss of those k1
steps through at most the last k2 steps (k2 >= k1), treating the hidden state k2 steps back as
a constant; carry the hidden state on to the next k1 steps. Its gradient keeps only the
contributions (t, k) with k inside the window of t's segment, so it drops the long-range terms
(it is biased) but needs memory for k2 steps instead of T. With k2 >= T it is full BPTT.

Memory: the forward pass keeps x (T,B,d), h (T+1,B,m), a (T,B,m), o and y_hat (T,B,C), so

    bytes = itemsize * (T B d + (T+1) B m + T B m + 2 T B C)        (+ T B for a mask)

grows linearly in T (:func:`bptt_memory_bytes`, measured by :func:`cache_nbytes`).

Masks (variable-length batches) are not supported here: use ``rnn_backward`` for those.

Every public function checks its arguments once and then calls the plain function of the same
name with a leading underscore (``_bptt_contributions``, ``_tbptt`` for :func:`tbptt`,
``_tbptt_segments`` for :func:`tbptt_segments`, ...), whose body is the math.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    check_activation,
    check_allocation,
    check_bool,
    check_cache,
    check_float_dtype,
    check_number,
    check_positive_int,
    check_shape,
    check_targets,
    nonfinite_ignored,
)
from .activations import _activation_derivative
from .losses import _cross_entropy
from .optim import Optimizer, _clip_grad_norm, _clip_grad_value, _global_norm
from .patterns import _warn_nonfinite_grads
from .rnn import RNNCache, _rnn_forward, _rnn_loss, check_rnn_params

__all__ = [
    "CONTRIBUTION_PARAMS", "hidden_jacobian", "bptt_contributions", "contribution_norms",
    "backprop_from_outputs", "Segment", "SegmentResult", "tbptt_segments", "tbptt",
    "tbptt_gradient", "train_tbptt", "cache_nbytes", "bptt_memory_bytes",
]

CONTRIBUTION_PARAMS = ("W", "U", "b")


def _check_cache(params, cache, allow_mask=False):
    """Check params (once) and that cache is an unmasked RNNCache made with params of these
    sizes; return (dtype, T, B, m, d, C)."""
    dtype, m, d, C = check_rnn_params(params)
    check_cache(cache, RNNCache, "rnn_forward")
    W, U, V = params["W"], params["U"], params["V"]
    shapes = [np.shape(getattr(cache, k)) for k in ("h", "x", "o")]
    if any(len(shape) != 3 for shape in shapes) or shapes[0][2] != m or shapes[1][2] != d \
            or shapes[2][2] != C:
        raise ValueError(
            "cache does not match params: it was made by rnn_forward with other parameter shapes "
            f"(cache h {shapes[0]}, x {shapes[1]}, o {shapes[2]}; W {W.shape}, U {U.shape}, V {V.shape})"
        )
    T, B, _ = cache.x.shape
    check_cache(cache, RNNCache, "rnn_forward", dtype=dtype,
                shapes={"h": (T + 1, B, m), "a": (T, B, m), "o": (T, B, C), "y_hat": (T, B, C)})
    if cache.mask is not None and not allow_mask:
        raise ValueError("cache has a mask; the functions of rnnlib.bptt handle unmasked sequences only "
                         "(use rnn_backward for variable-length batches)")
    return dtype, T, B, m, d, C


def _check_y(y, T, B, C):
    if np.ndim(y) == 1 and B == 1 and np.size(y) == T and not isinstance(y, (str, bytes)):
        y = np.reshape(y, (T, 1))
    return check_targets(y, T, B, C)


# ----------------------------------------------------------------------------------------------
# The chain rule, term by term
# ----------------------------------------------------------------------------------------------
def _hidden_jacobian(params, cache, t, k):
    """dh^(t)/dh^(k) = prod_{j=k+1}^{t} diag(act'(a^(j))) W for every example.
    Arguments are checked by `hidden_jacobian`."""
    W = params["W"]
    B, m = cache.h.shape[1:]
    dact = _activation_derivative(cache.a, cache.h[1:], cache.activation)
    J = np.broadcast_to(np.eye(m, dtype=W.dtype), (B, m, m)).copy()  # (B, m, m)
    for j in range(k + 1, t + 1):
        J = dact[j - 1][:, :, None] * (W @ J)                  # (B, m, m)
    return J


def _check_step(name, value, low, high):
    value = check_positive_int(name, value, minimum=low)
    if value > high:
        raise ValueError(f"{name} must be a step in [{low}, {high}] (T = {high}), got {value}")
    return value


def hidden_jacobian(params, cache, t, k):
    """dh^(t)/dh^(k) = prod_{j=k+1}^{t} diag(act'(a^(j))) W for every example: (B, m, m).

    t, k: 1-based steps with 0 <= k <= t <= T (k = 0 is h^(0)); the identity when t = k.
    """
    dtype, T, B, m, d, C = _check_cache(params, cache)
    t = _check_step("t", t, 0, T)
    k = _check_step("k", k, 0, T)
    if k > t:
        raise ValueError(f"k must be at most t (h^(t) depends only on earlier states), got t={t}, k={k}")
    with np.errstate(over="ignore", invalid="ignore"):
        J = _hidden_jacobian(params, cache, t, k)
    _warn_nonfinite_grads("hidden_jacobian", 0.0, {"dh(t)/dh(k)": J})
    return J


def _bptt_contributions(params, cache, y, wrt):
    """Every term dJ_t/do^(t) do^(t)/dh^(t) dh^(t)/dh^(k) d+h^(k)/dP, from T
    backward sweeps run side by side: G[t-1] = dJ_t/dh^(k) for all t >= k.
    Arguments are checked by `bptt_contributions`."""
    W, V = params["W"], params["V"]
    x, h, a = cache.x, cache.h, cache.a
    T, B, m = a.shape
    _, do = _rnn_loss(cache, y)                                 # (T, B, C)
    dact = _activation_derivative(a, h[1:], cache.activation)   # (T, B, m)
    dh_out = do @ V                                            # (T, B, m)
    shape = (T, T) + params[wrt].shape
    terms = np.zeros(shape, dtype=a.dtype)                     # (T, T, *P)
    G = np.zeros((T, B, m), dtype=a.dtype)                     # (T, B, m)
    for k in range(T, 0, -1):
        G[k - 1] = dh_out[k - 1]                               # J_k enters
        da = G[k - 1:] * dact[k - 1]                           # (T-k+1, B, m)
        daT = da.transpose(0, 2, 1)                            # (T-k+1, m, B)
        if wrt == "U":
            terms[k - 1:, k - 1] = daT @ x[k - 1]              # da x^(k)^T
        elif wrt == "W":
            terms[k - 1:, k - 1] = daT @ h[k - 1]              # da h^(k-1)^T
        else:
            terms[k - 1:, k - 1] = da.sum(axis=1)              # (T-k+1, m)
        G[k - 1:] = da @ W                                     # dJ_t/dh^(k-1)
    return terms


def bptt_contributions(params, cache, y, wrt="U", max_bytes=DEFAULT_MAX_BYTES):
    """Every term of dJ/dP = sum_t sum_{k<=t} dJ_t/do^(t) do^(t)/dh^(t) dh^(t)/dh^(k) d+h^(k)/dP.

    wrt: "U", "W" or "b". Returns an array (T, T, *params[wrt].shape) whose entry [t-1, k-1] is the
    contribution of P's use at step k to the error at step t (zero for k > t). The sum over both
    axes equals rnn_backward's grads[wrt]; the sum over k alone is dJ_t/dP. The loss is the one of
    rnn_backward (mean over the batch), so each term is summed over the batch and divided by B.

    The terms come from T backward sweeps run together: G[t] = dJ_t/dh^(k) for every t >= k,
    stepped from k = t down to k = 1 with G[t] <- (G[t] * act'(a^(k))) W.
    The result grows like T^2: beyond ``max_bytes`` (2 GiB) it raises before allocating.
    """
    dtype, T, B, m, d, C = _check_cache(params, cache)
    if not isinstance(wrt, str) or wrt not in CONTRIBUTION_PARAMS:
        raise ValueError(f"wrt must be one of {CONTRIBUTION_PARAMS}, got {wrt!r}")
    y = _check_y(y, T, B, C)
    check_allocation(f"T={T}, params[{wrt!r}] of shape {params[wrt].shape}",
                     [(T, T) + params[wrt].shape, (T, B, m), (T, B, m)], dtype, max_bytes)
    with np.errstate(over="ignore", invalid="ignore"):
        terms = _bptt_contributions(params, cache, y, wrt)
    _warn_nonfinite_grads("bptt_contributions", 0.0, {wrt: terms})
    return terms


def _contribution_norms(terms):
    """||term (t, k)||_F: (T, T).
    Arguments are checked by `contribution_norms`."""
    T = terms.shape[0]
    flat = terms.reshape(T, T, -1)                             # (T, T, P)
    return np.sqrt(np.sum(flat ** 2, axis=2))                  # (T, T)


def contribution_norms(terms):
    """Frobenius norm of each (t, k) term of :func:`bptt_contributions`: (T, T)."""
    terms = as_float_array("terms", terms, allow_nonfinite=True)
    if terms.ndim < 3 or terms.shape[0] != terms.shape[1] or terms.shape[0] == 0:
        raise ValueError(f"terms must have shape (T, T, ...) from bptt_contributions, got {terms.shape}")
    return _contribution_norms(terms)


# ----------------------------------------------------------------------------------------------
# Backward from the logits' gradient (the workhorse of truncated BPTT)
# ----------------------------------------------------------------------------------------------
def _backprop_from_outputs(params, cache, do):
    """BPTT through a whole cache given dJ/do^(t) (T, B, C).
    Arguments are checked by `backprop_from_outputs`."""
    W, V = params["W"], params["V"]
    x, h, a = cache.x, cache.h, cache.a
    T, B, d = x.shape
    m, C = W.shape[0], V.shape[0]
    dact = _activation_derivative(a, h[1:], cache.activation)   # (T, B, m)
    dh_out = do @ V                                            # (T, B, m)
    da = np.empty_like(a)                                      # (T, B, m)
    dh_next = np.zeros((B, m), dtype=a.dtype)                  # (B, m)
    for t in range(T - 1, -1, -1):
        da[t] = (dh_out[t] + dh_next) * dact[t]                # (B, m) dJ/da
        dh_next = da[t] @ W                                    # (B, m) dJ/dh
    da_flat = da.reshape(T * B, m)                             # (T*B, m)
    return {
        "W": da_flat.T @ h[:-1].reshape(T * B, m),             # (m, m)
        "U": da_flat.T @ x.reshape(T * B, d),                  # (m, d)
        "V": do.reshape(T * B, C).T @ h[1:].reshape(T * B, m),  # (C, m)
        "b": da_flat.sum(axis=0),                              # (m,)
        "c": do.sum(axis=(0, 1)),                              # (C,)
        "h0": dh_next,                                         # (B, m)
    }


def backprop_from_outputs(params, cache, do):
    """BPTT through a whole (unmasked) cache, given dJ/do^(t) for every step: (T, B, C).

    The same recursion as rnn_backward (dJ/dh^(t) = V^T dJ/do^(t) + W^T dJ/da^(t+1),
    dJ/da^(t) = dJ/dh^(t) * act'(a^(t))), but the caller chooses which steps' losses enter
    (zero rows of ``do`` add nothing). Returns grads keyed W, U, V, b, c, h0 (h0 as (B, m)).
    """
    dtype, T, B, m, d, C = _check_cache(params, cache)
    do_shape = np.shape(do)
    if do_shape != (T, B, C):
        raise ValueError(f"do must have shape (T, B, C) = {(T, B, C)} like cache.o, got {do_shape}")
    do = as_float_array("do", do, dtype=dtype, ndim=3)                   # (T, B, C)
    with np.errstate(over="ignore", invalid="ignore"):
        grads = _backprop_from_outputs(params, cache, do)
    _warn_nonfinite_grads("backprop_from_outputs", 0.0, grads)
    return grads


# ----------------------------------------------------------------------------------------------
# Truncated BPTT: k1 steps forward, k2 steps back, the hidden state carried
# ----------------------------------------------------------------------------------------------
class Segment(NamedTuple):
    """One update of TBPTT(k1, k2), in 0-based half-open step indices of x.

    The losses of steps [loss_start, end) are backpropagated through the window
    [window_start, end); the state h[window_start] enters as a constant.
    """

    window_start: int
    loss_start: int
    end: int


class SegmentResult(NamedTuple):
    """What :func:`tbptt` yields for each segment."""

    segment: Segment
    loss: float              # (1/B) sum over the segment's steps of J_t
    grads: dict              # truncated gradient of that loss: W, U, V, b, c
    h: np.ndarray            # (B, m) hidden state at the segment's end (carried on)
    cache: RNNCache          # the window's forward cache (k2 steps at most: the memory TBPTT needs)


def _tbptt_segments(T, k1, k2):
    """Segment s: the losses of steps s k1 .. min((s+1) k1, T) - 1, through
    the last k2 steps up to its end. Arguments are checked by
    `tbptt_segments`."""
    segments = []
    for start in range(0, T, k1):
        end = min(start + k1, T)                               # loss steps end
        window_start = max(0, end - k2)                        # k2 steps back
        segments.append(Segment(window_start, start, end))
    return segments


def _check_segments(T, k1, k2):
    T = check_positive_int("T", T)
    k1 = check_positive_int("k1", k1)
    k2 = check_positive_int("k2", k2)
    if k2 < k1:
        raise ValueError(f"k2 must be at least k1 (every loss of a segment is backpropagated), got k1={k1}, k2={k2}")
    return T, k1, k2


def tbptt_segments(T, k1, k2):
    """The segments of TBPTT(k1, k2) over T steps: a list of :class:`Segment`.

    Segment s has the losses of steps s*k1 .. min((s+1)*k1, T) - 1 (0-based) and a backward
    window of the last k2 steps up to its end (from step 0 if that is nearer), so every loss is
    backpropagated through at most k2 steps, and with k2 >= T through all of them (full BPTT).
    With k1 = k2 = k and T a multiple of k the windows are consecutive chunks of k steps.
    """
    return _tbptt_segments(*_check_segments(T, k1, k2))


def _check_sequence(params, x, y, h0):
    dtype, m, d, C = check_rnn_params(params)
    x = as_float_array("x", x, dtype=dtype, ndim=3)                     # (T, B, d)
    T, B, _ = x.shape
    if T == 0 or B == 0:
        raise ValueError(f"x must have at least one step and one example, got shape {x.shape}")
    check_shape("x", x, (T, B, d), f"(T, B, d) with d={d} from params['U']")
    y = _check_y(y, T, B, C)                                             # (T, B)
    if h0 is None:
        h0 = np.zeros((B, m), dtype=dtype)
    else:
        h0 = as_float_array("h0", h0, dtype=dtype, ndim=2)
        check_shape("h0", h0, (B, m), f"(B, m) with B={B} from x and m={m} from W")
    return x, y, h0


def _tbptt(params, x, y, h0, segments, activation):
    """TBPTT(k1, k2): for each segment, the forward pass over its window
    from the stored state, then BPTT of the segment's losses only.
    Arguments are checked by `tbptt`."""
    B = x.shape[1]
    states = {0: h0}                                           # step -> (B, m)
    for s, seg in enumerate(segments):
        ws, ls, end = seg                                      # window, losses
        cache = _rnn_forward(params, x[ws:end], states[ws], None,
                             activation)                       # window forward
        n_old = ls - ws                                        # not our losses
        C = cache.o.shape[2]
        o_new = cache.o[n_old:].reshape(-1, C)                 # ((end-ls)*B, C)
        weight = np.full(o_new.shape[0], 1 / B, dtype=o_new.dtype)
        y_new = y[ls:end].reshape(-1)                          # ((end-ls)*B,)
        loss, do_new = _cross_entropy(o_new, y_new, weight)
        do = np.zeros_like(cache.o)                            # (window, B, C)
        do[n_old:] = do_new.reshape(end - ls, B, C)            # our losses
        grads = _backprop_from_outputs(params, cache, do)
        grads.pop("h0")                                        # a constant
        if s + 1 < len(segments):
            nxt = segments[s + 1].window_start
            states = {nxt: cache.h[nxt - ws].copy()}           # (B, m) carried
        h_end = cache.h[-1].copy()                             # (B, m)
        yield SegmentResult(seg, float(loss), grads, h_end, cache)


def tbptt(params, x, y, k1, k2, h0=None, activation="tanh"):
    """Truncated BPTT over one long batch of sequences, one segment at a time (an iterator).

    x (T, B, d), y (T, B) int, h0 (B, m) or None. For each :class:`Segment` it runs the forward
    pass over the window (from the stored state at the window's start, a constant), backpropagates
    the segment's losses through the window and yields a :class:`SegmentResult`. The parameters
    are read when each segment is computed, so a caller may update them in between (training);
    states stored for later windows were computed with the parameters of their time. When
    k2 > k1, the k2 - k1 older steps of each window are recomputed forward.
    """
    x, y, h0 = _check_sequence(params, x, y, h0)
    segments = _tbptt_segments(*_check_segments(x.shape[0], k1, k2))   # checks k1, k2 now
    check_activation(activation)
    return _warn_nonfinite_segments("tbptt", _tbptt(params, x, y, h0, segments, activation))


def _warn_nonfinite_segments(made_by, results):
    """Yield the segments, each computed without NumPy's floating-point warnings; warn once if a
    segment's loss is NaN or inf (quiet inside np.errstate(invalid="ignore"))."""
    quiet, warned = nonfinite_ignored(), False
    while True:
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                result = next(results)
            except StopIteration:
                return
        if not (quiet or warned or np.isfinite(result.loss)):
            seg = result.segment
            warnings.warn(f"{made_by}: the loss of segment steps {seg.loss_start} to {seg.end - 1} "
                          f"is {result.loss}: the forward pass overflowed (use tanh, smaller "
                          "weights or clipping)", RuntimeWarning, stacklevel=2)
            warned = True
        yield result


def _tbptt_gradient(params, x, y, h0, segments, activation):
    """The sum over segments of TBPTT's losses and gradients.
    Arguments are checked by `tbptt_gradient`."""
    total, grads = 0.0, None
    for result in _tbptt(params, x, y, h0, segments, activation):
        total += result.loss                                   # J = sum J_t
        if grads is None:
            grads = result.grads
        else:
            grads = {k: grads[k] + g for k, g in result.grads.items()}
    return total, grads


def tbptt_gradient(params, x, y, k1, k2, h0=None, activation="tanh"):
    """The sum over segments of TBPTT(k1, k2)'s gradients at fixed parameters: (loss, grads).

    The loss is the full J; with k2 >= T the gradient is exactly full BPTT's.
    """
    x, y, h0 = _check_sequence(params, x, y, h0)
    segments = _tbptt_segments(*_check_segments(x.shape[0], k1, k2))
    check_activation(activation)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _tbptt_gradient(params, x, y, h0, segments, activation)
    _warn_nonfinite_grads("tbptt_gradient", loss, grads)
    return loss, grads


def _train_tbptt(params, x, y, segments, optimizer, num_passes, h0, activation,
                 clip_norm, clip_value, progress, desc):
    """The training loop of `train_tbptt` (arguments checked there)."""
    from tqdm.auto import tqdm

    from .train import History

    history = History()
    total = num_passes * len(segments)
    bar = tqdm(total=total, desc=desc, disable=not progress, mininterval=0.5)
    with bar:
        for p in range(num_passes):
            results = _tbptt(params, x, y, h0, segments, activation)
            for s, result in enumerate(results):
                seg = result.segment
                if not np.isfinite(result.loss):
                    raise FloatingPointError(
                        f"train_tbptt: the loss became {result.loss} at "
                        f"segment {s} (steps {seg.loss_start} to {seg.end - 1})"
                        f" of pass {p + 1}: the parameters diverged; try a "
                        "smaller learning rate or clip_norm")
                grads = result.grads
                norm = _global_norm(grads)                     # before clipping
                if not np.isfinite(norm):
                    raise FloatingPointError(
                        f"train_tbptt: the gradient norm became {norm} at "
                        f"segment {s} of pass {p + 1}: try a smaller learning "
                        "rate or clip_norm")
                history.grad_norm.append(norm)
                if clip_norm is not None:
                    _clip_grad_norm(grads, clip_norm)
                if clip_value is not None:
                    _clip_grad_value(grads, clip_value)
                optimizer._step(params, grads)                 # update
                n_steps = seg.end - seg.loss_start
                history.loss.append(result.loss / n_steps)     # per step
                bar.update(1)
    return history


def train_tbptt(params, x, y, k1, k2, optimizer, num_passes=1, h0=None, activation="tanh",
                clip_norm=None, clip_value=None, progress=True, desc="TBPTT"):
    """Train params in place with TBPTT(k1, k2): one update per segment, num_passes over x.

    Each pass starts from h0 (zeros by default) and carries the hidden state from segment to
    segment. Returns a History of the segments' losses (per step: divided by the segment length)
    and gradient norms before clipping. A non-finite loss stops training with a
    FloatingPointError naming the segment (try a smaller learning rate or clipping).
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an rnnlib optimiser (SGD, Adagrad, Adam), got {type(optimizer).__name__}")
    num_passes = check_positive_int("num_passes", num_passes)
    x, y, h0 = _check_sequence(params, x, y, h0)
    segments = _tbptt_segments(*_check_segments(x.shape[0], k1, k2))
    check_activation(activation)
    if clip_norm is not None:
        clip_norm = check_number("clip_norm", clip_norm, low=0, low_open=True)
    if clip_value is not None:
        clip_value = check_number("clip_value", clip_value, low=0, low_open=True)
    progress = check_bool("progress", progress)
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {type(desc).__name__}")
    optimizer.check_state(params)
    with np.errstate(over="ignore", invalid="ignore"):
        return _train_tbptt(params, x, y, segments, optimizer, num_passes, h0, activation,
                            clip_norm, clip_value, progress, desc)


# ----------------------------------------------------------------------------------------------
# What BPTT costs in memory
# ----------------------------------------------------------------------------------------------
def _cache_nbytes(cache):
    """The bytes of the cache's arrays. Arguments are checked by
    `cache_nbytes`."""
    arrays = (cache.x, cache.h, cache.a, cache.o, cache.y_hat, cache.mask)
    return int(sum(array.nbytes for array in arrays if array is not None))


def cache_nbytes(cache):
    """Bytes held by the arrays of an RNNCache (x, h, a, o, y_hat and the mask if any)."""
    check_cache(cache, RNNCache, "rnn_forward")
    return _cache_nbytes(cache)


def _bptt_memory_bytes(T, B, m, d, C, dtype, mask):
    """itemsize (T B d + (T+1) B m + T B m + 2 T B C) (+ T B for a mask).
    Arguments are checked by `bptt_memory_bytes`."""
    floats = T * B * d + (T + 1) * B * m + T * B * m + 2 * T * B * C
    return int(floats * dtype.itemsize + (T * B if mask else 0))


def bptt_memory_bytes(T, B, m, d, C, dtype=np.float64, mask=False):
    """Bytes of the cache BPTT keeps for T steps: itemsize * (T B d + (T+1) B m + T B m + 2 T B C).

    x (T,B,d), h (T+1,B,m), a (T,B,m), o and y_hat (T,B,C); plus T*B bytes for a bool mask.
    """
    T, B, m, d, C = (check_positive_int(n, v) for n, v in zip("TBmdC", (T, B, m, d, C)))
    dtype = check_float_dtype(dtype)
    mask = check_bool("mask", mask)
    return _bptt_memory_bytes(T, B, m, d, C, dtype, mask)
