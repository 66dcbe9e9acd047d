"""The three design patterns of recurrent networks (Goodfellow, Bengio and Courville, *Deep
Learning*, ch. 10.2), taught in the chapter "Design patterns and deep RNNs".

Pattern 1, recurrence between hidden units, an output at every step (the vanilla RNN of
rnnlib.rnn, reused here as ``hidden_recurrence_forward`` / ``hidden_recurrence_backward``):

    a^(t) = b + W h^(t-1) + U x^(t),   h^(t) = tanh(a^(t)),   o^(t) = c + V h^(t)

Pattern 2, recurrence only from the output at one step to the hidden units at the next:

    a^(t) = b + W y^(t-1) + U x^(t),   h^(t) = tanh(a^(t)),   o^(t) = c + V h^(t)

with W (m, C) now output-to-hidden. Trained with *teacher forcing*: y^(t-1) is the true previous
target as a one-hot vector (zeros at t = 1), so the steps do not depend on each other and the
gradient needs no backpropagation through time. At test time the model runs *free*: y^(t-1) is
its own previous prediction (one-hot of the argmax, or the distribution y_hat^(t-1)).

Pattern 3, recurrence between hidden units, read the whole sequence, then a single output:

    a^(t) = b + W h^(t-1) + U x^(t),   h^(t) = tanh(a^(t))          for t = 1..T_b
    o = c + V h^(T_b),   y_hat = softmax(o),   J = -log y_hat[y]      (averaged over the batch)

With a mask, T_b is each sequence's last real step (padded steps leave h unchanged).
The loss reaches the recurrence only at h^(T_b):  dJ/dh^(T_b) = V^T (y_hat - onehot(y)) / B.

The hidden recurrence alone, without outputs (``recurrence_forward`` / ``recurrence_backward``),
is shared by pattern 3, the deep RNNs (rnnlib.deep) and the encoder-decoder (rnnlib.seq2seq):
its backward pass takes dJ/dh^(t) arriving from outside the recurrence (outputs, a layer above,
a decoder) and runs backpropagation through time.

Every public function checks its arguments once and then calls the plain function of the same
name with a leading underscore (``_recurrence_forward``, ``_seq_to_one_forward``, ...), whose
body is the math; internal calls go to the plain functions. Arrays are time-major; the dtype
follows the parameters.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    as_generator,
    check_activation,
    check_allocation,
    check_cache,
    check_float_dtype,
    check_mask,
    check_params,
    check_positive_int,
    check_shape,
    check_targets,
    nonfinite_ignored,
)
from .activations import _activate, _activation_derivative
from .losses import _cross_entropy, _softmax
from .rnn import _check_rnn_inputs, _rnn_loss, check_rnn_params, rnn_backward, rnn_forward

__all__ = [
    "hidden_recurrence_forward", "hidden_recurrence_backward",
    "RecurrenceCache", "recurrence_forward", "recurrence_backward",
    "OUTPUT_RECURRENCE_PARAMS", "init_output_recurrence", "teacher_forcing_inputs",
    "OutputRecurrenceCache", "output_recurrence_forward", "output_recurrence_backward",
    "output_recurrence_generate",
    "SeqToOneCache", "last_real_step", "seq_to_one_forward", "seq_to_one_dh",
    "seq_to_one_backward", "seq_to_one_predict",
]


# ----------------------------------------------------------------------------------------------
# Boundary checks shared by the model modules (patterns, deep, seq2seq, remedies)
# ----------------------------------------------------------------------------------------------
def _check_x(x, dtype, d, name="x", dims="(T, B, d)", source="params['U']"):
    """x as a (T, B, d) float array of ``dtype`` with T, B >= 1 and d from the parameters."""
    x = as_float_array(name, x, dtype=dtype, ndim=3)                    # (T, B, d)
    T, B, _ = x.shape
    if T == 0 or B == 0:
        raise ValueError(f"{name} must have at least one step and one example, got shape {x.shape}")
    check_shape(name, x, (T, B, d), f"{dims} with d={d} from {source}")
    return x


def _warn_overflow(made_by, h, o, activation):
    """One RuntimeWarning if a forward pass overflowed (h or o hold NaN or inf), naming the first
    step t; quiet inside np.errstate(invalid="ignore") (the caller watches for it)."""
    if nonfinite_ignored() or (np.isfinite(h).all() and np.isfinite(o).all()):
        return
    bad = ~np.isfinite(h[1:].reshape(h.shape[0] - 1, -1)).all(axis=1)
    where = f"the hidden state h overflowed to inf/NaN at step t={int(np.argmax(bad)) + 1}" \
        if bad.any() else "the output o overflowed to inf/NaN"
    hint = (" (an unbounded activation with recurrent weights of spectral radius above 1 grows "
            "exponentially: use tanh, smaller weights or a shorter sequence)"
            if activation in ("relu", "identity") else " (weights or inputs too large)")
    warnings.warn(f"{made_by}: {where} of T={h.shape[0] - 1}{hint}; the loss and gradients "
                  "would be NaN", RuntimeWarning, stacklevel=3)


def _warn_nonfinite_grads(made_by, loss, grads):
    """One RuntimeWarning if a backward pass's loss or gradients are NaN or inf."""
    if nonfinite_ignored():
        return
    bad = [k for k, g in grads.items() if not np.isfinite(g).all()]
    if bad or not np.isfinite(loss):
        what = f"gradients {bad}" if bad else "the loss"
        warnings.warn(f"{made_by}: {what} overflowed to inf/NaN (loss {loss}); clip the gradients, "
                      "use smaller weights or a shorter sequence", RuntimeWarning, stacklevel=3)


def _check_step_targets(y, T, B, C, mask):
    """y (T, B) int class indices ((T,) when B = 1), in [0, C) at every real step."""
    if np.ndim(y) == 1 and B == 1 and not isinstance(y, (str, bytes)):
        y = np.reshape(y, (T, 1)) if np.size(y) == T else y
    return check_targets(y, T, B, C, mask)


def _check_int(name, value, low, high=None):
    """An integer in [low, high) (high None: no upper bound), not a bool or a float such as 1.5."""
    value = check_positive_int(name, value, minimum=low)
    if high is not None and value >= high:
        raise ValueError(f"{name} must be in [{low}, {high}), got {value}")
    return value


def _check_int_array(name, value, ndim, meaning):
    """An integer array (integral floats are accepted) with ``ndim`` dimensions."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise TypeError(f"{name} must be an integer array {meaning}, got {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number) \
            or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be an integer array {meaning}, got dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.integer):
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise TypeError(f"{name} must hold integers {meaning}, got non-integer values of "
                            f"dtype {array.dtype}")
        array = array.astype(np.int64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be an integer array {meaning}, got shape {array.shape}")
    return array


def _normal(rng, shape, fan_in, dtype):
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)


# ----------------------------------------------------------------------------------------------
# Pattern 1: the vanilla RNN itself
# ----------------------------------------------------------------------------------------------
hidden_recurrence_forward = rnn_forward
hidden_recurrence_backward = rnn_backward


# ----------------------------------------------------------------------------------------------
# The hidden recurrence alone: h^(t) = act(b + W h^(t-1) + U x^(t))
# ----------------------------------------------------------------------------------------------
@dataclass
class RecurrenceCache:
    """What recurrence_backward needs from recurrence_forward."""

    x: np.ndarray               # (T, B, d)
    h: np.ndarray               # (T+1, B, m), h[0] = h0
    a: np.ndarray               # (T, B, m)
    mask: Optional[np.ndarray]  # (T, B) bool or None
    activation: str

    def __getitem__(self, key):
        return getattr(self, key)


def _recurrence_forward(W, U, b, x, h0, mask, activation):
    """h^(t) = act(b + W h^(t-1) + U x^(t)), t = 1..T; h^(t) = h^(t-1) where
    mask is False. Arguments are checked by `recurrence_forward`."""
    T, B, d = x.shape
    m = W.shape[0]
    Ux_b = (x.reshape(T * B, d) @ U.T).reshape(T, B, m) + b    # (T, B, m)
    h = np.empty((T + 1, B, m), dtype=W.dtype)                 # (T+1, B, m)
    a = np.empty((T, B, m), dtype=W.dtype)                     # (T, B, m)
    h[0] = h0                                                  # (B, m)
    for t in range(1, T + 1):
        a[t - 1] = Ux_b[t - 1] + h[t - 1] @ W.T                # (B, m) a^(t)
        h[t] = _activate(a[t - 1], activation)                  # (B, m) h^(t)
        if mask is not None:
            keep = ~mask[t - 1][:, None]                       # (B, 1) padded
            h[t] = np.where(keep, h[t - 1], h[t])              # (B, m)
    return RecurrenceCache(x=x, h=h, a=a, mask=mask, activation=activation)


def recurrence_forward(W, U, b, x, h0, mask=None, activation="tanh"):
    """h^(t) = act(b + W h^(t-1) + U x^(t)) for t = 1..T (h^(t) = h^(t-1) at padded steps).

    W (m, m), U (m, d), b (m,); x (T, B, d); h0 (B, m); mask (T, B) bool or None.
    The dtype follows W (integer weights are computed in float64). Returns a RecurrenceCache
    with h (T+1, B, m) and a (T, B, m).
    """
    check_activation(activation)
    W = as_float_array("W", W, ndim=2)                                  # (m, m)
    dtype = W.dtype
    m = W.shape[0]
    check_shape("W", W, (m, m), "(m, m)")
    U = as_float_array("U", U, dtype=dtype, ndim=2)                     # (m, d)
    check_shape("U", U, (m, None), f"(m, d) with m={m}")
    b = as_float_array("b", b, dtype=dtype, ndim=1)                     # (m,)
    check_shape("b", b, (m,), f"(m,) with m={m}")
    x = _check_x(x, dtype, U.shape[1], source="U")                      # (T, B, d)
    T, B, _ = x.shape
    h0 = as_float_array("h0", h0, dtype=dtype, ndim=2)
    check_shape("h0", h0, (B, m), f"(B, m) with B={B}, m={m}")
    mask = check_mask(mask, T, B)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _recurrence_forward(W, U, b, x, h0, mask, activation)
    _warn_overflow("recurrence_forward", cache.h, cache.h, activation)
    return cache


def _recurrence_backward(W, U, cache, dh):
    """BPTT through the recurrence, given dh (T, B, m) = dJ/dh^(t) from outside.
    Arguments are checked by `recurrence_backward`."""
    x, h, a, mask = cache.x, cache.h, cache.a, cache.mask
    T, B, d = x.shape
    m = W.shape[0]
    dact = _activation_derivative(a, h[1:], cache.activation)   # (T, B, m)
    if mask is not None:
        dact = dact * mask[:, :, None]                         # (T, B, m)
        keep = ~mask[:, :, None]                               # (T, B, 1)
    da = np.empty_like(a)                                      # (T, B, m)
    dh_next = np.zeros((B, m), dtype=a.dtype)                  # (B, m)
    for t in range(T - 1, -1, -1):
        g = dh[t] + dh_next                                    # (B, m) dJ/dh
        da[t] = g * dact[t]                                    # (B, m) dJ/da
        dh_next = da[t] @ W                                    # (B, m)
        if mask is not None:
            dh_next = dh_next + g * keep[t]                    # (B, m) padded
    da_flat = da.reshape(T * B, m)                             # (T*B, m)
    grads = {
        "W": da_flat.T @ h[:-1].reshape(T * B, m),             # (m, m)
        "U": da_flat.T @ x.reshape(T * B, d),                  # (m, d)
        "b": da_flat.sum(axis=0),                              # (m,)
    }
    dx = (da_flat @ U).reshape(T, B, d)                        # (T, B, d)
    return dx, dh_next, grads


def recurrence_backward(W, U, cache, dh):
    """Backpropagation through time, given dh (T, B, m): dJ/dh^(t) from outside the recurrence.

        g^(t)       = dh^(t) + W^T da^(t+1)          (the total dJ/dh^(t))
        da^(t)      = g^(t) * act'(a^(t))            (0 at a padded step, where g^(t) passes on)
        dJ/dW = sum_t da^(t) h^(t-1)^T,  dJ/dU = sum_t da^(t) x^(t)^T,  dJ/db = sum_t da^(t)

    Returns (dx (T, B, d), dh0 (B, m), grads {W, U, b}).
    """
    check_cache(cache, RecurrenceCache, "recurrence_forward")
    T, B, d = np.shape(cache.x)
    dtype = cache.h.dtype
    W = as_float_array("W", W, dtype=dtype, ndim=2)                     # (m, m)
    m = W.shape[0]
    check_shape("W", W, (m, m), "(m, m)")
    U = as_float_array("U", U, dtype=dtype, ndim=2)                     # (m, d)
    check_shape("U", U, (m, d), f"(m, d) = ({m}, {d}) from W and cache.x")
    check_cache(cache, RecurrenceCache, "recurrence_forward",
                shapes={"h": (T + 1, B, m), "a": (T, B, m)})
    dh = as_float_array("dh", dh, dtype=dtype, ndim=3)
    check_shape("dh", dh, (T, B, m), "(T, B, m), like h[1:]")
    with np.errstate(over="ignore", invalid="ignore"):
        dx, dh0, grads = _recurrence_backward(W, U, cache, dh)
    _warn_nonfinite_grads("recurrence_backward", 0.0, dict(grads, x=dx, h0=dh0))
    return dx, dh0, grads


# ----------------------------------------------------------------------------------------------
# Pattern 2: output-to-hidden recurrence, teacher forcing
# ----------------------------------------------------------------------------------------------
OUTPUT_RECURRENCE_PARAMS = ("W", "U", "V", "b", "c")


def _init_output_recurrence(d, m, C, rng, dtype):
    """W (m, C) ~ N(0, 1) (it reads a one-hot vector), U (m, d) ~ N(0, 1/d),
    V (C, m) ~ N(0, 1/m), b = 0, c = 0. Arguments are checked by
    `init_output_recurrence`."""
    return {
        "W": rng.standard_normal((m, C)).astype(dtype),        # (m, C)
        "U": _normal(rng, (m, d), d, dtype),                   # (m, d)
        "V": _normal(rng, (C, m), m, dtype),                   # (C, m)
        "b": np.zeros(m, dtype=dtype),                         # (m,)
        "c": np.zeros(C, dtype=dtype),                         # (C,)
    }


def init_output_recurrence(d, m, C, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Random parameters of pattern 2: W (m, C) output-to-hidden, U (m, d), V (C, m), b, c.

    seed: None, a non-negative int or a np.random.Generator; dtype float64 or float32;
    max_bytes: the largest size of the parameters allowed (raise it for huge models).
    """
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    check_allocation(f"d={d}, m={m}, C={C}", [(m, C), (m, d), (C, m), (m,), (C,)], dtype,
                     max_bytes)
    return _init_output_recurrence(d, m, C, rng, dtype)


def _check_output_recurrence_params(params):
    dtype = check_params(params, OUTPUT_RECURRENCE_PARAMS)
    W, U, V, b, c = (params[k] for k in OUTPUT_RECURRENCE_PARAMS)
    check_shape("params['V']", V, (None, None), "(C, m)")
    C, m = V.shape
    check_shape("params['W']", W, (m, C), f"(m, C) = ({m}, {C}) from V: output-to-hidden")
    check_shape("params['U']", U, (m, None), f"(m, d) with m={m} from V")
    check_shape("params['b']", b, (m,), f"(m,) with m={m}")
    check_shape("params['c']", c, (C,), f"(C,) with C={C}")
    return dtype, m, U.shape[1], C


def _teacher_forcing_inputs(y, C, dtype):
    """y_prev[0] = 0, y_prev[t] = onehot(y^(t-1)) for t >= 1.
    Arguments are checked by `teacher_forcing_inputs`."""
    T, B = y.shape
    y_prev = np.zeros((T, B, C), dtype=dtype)                  # (T, B, C)
    y_prev[1:] = np.eye(C, dtype=dtype)[y[:-1]]                # (T-1, B, C)
    return y_prev


def _check_id_matrix(y, C):
    """y (T, B) of integer dtype with ids in [0, C) (ValueError otherwise, as the ids index C)."""
    if isinstance(y, (str, bytes, dict)) or y is None:
        raise TypeError(f"y must be an integer array of shape (T, B), got {type(y).__name__}")
    y = np.asarray(y)
    if y.ndim != 2 or y.dtype == bool or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be an integer array of shape (T, B), got dtype {y.dtype} shape {y.shape}")
    if y.size == 0:
        raise ValueError(f"y is empty (shape {y.shape}); it needs at least one step and one example")
    if y.min() < 0 or y.max() >= C:
        raise ValueError(f"y must hold class indices in [0, C) = [0, {C}), got {y.min()} to {y.max()}")
    return y


def teacher_forcing_inputs(y, C, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """The fed-back outputs under teacher forcing: the targets shifted one step right.

    y (T, B) int targets.  Returns y_prev (T, B, C) with y_prev[0] = 0 (nothing before the first
    step) and y_prev[t] = onehot(y[t-1]) for t >= 1. max_bytes: the largest result allowed.
    """
    C = check_positive_int("C", C)
    dtype = check_float_dtype(dtype)
    y = _check_id_matrix(y, C)
    check_allocation(f"y of shape {y.shape} and C={C}", y.shape + (C,), dtype, max_bytes)
    return _teacher_forcing_inputs(y, C, dtype)


@dataclass
class OutputRecurrenceCache:
    """The forward record of pattern 2."""

    x: np.ndarray               # (T, B, d)
    y_prev: np.ndarray          # (T, B, C) the fed-back outputs
    a: np.ndarray               # (T, B, m)
    h: np.ndarray               # (T+1, B, m), h[0] = 0 (unused: no hidden-to-hidden recurrence)
    o: np.ndarray               # (T, B, C)
    y_hat: np.ndarray           # (T, B, C)
    mask: Optional[np.ndarray]  # (T, B) bool or None
    activation: str

    def __getitem__(self, key):
        return getattr(self, key)


def _output_recurrence_forward(params, x, y_prev, mask, activation):
    """Pattern 2, teacher forcing: a^(t) = b + W y^(t-1) + U x^(t),
    h^(t) = act(a^(t)), o^(t) = c + V h^(t); every step at once.
    Arguments are checked by `output_recurrence_forward`."""
    W, U, V, b, c = (params[k] for k in ("W", "U", "V", "b", "c"))
    T, B, _ = x.shape
    m = W.shape[0]
    a = b + y_prev @ W.T + x @ U.T                             # (T, B, m)
    h = np.zeros((T + 1, B, m), dtype=W.dtype)                 # (T+1, B, m)
    h[1:] = _activate(a, activation)                            # (T, B, m)
    o = h[1:] @ V.T + c                                        # (T, B, C)
    y_hat = _softmax(o)                                         # (T, B, C)
    return OutputRecurrenceCache(x, y_prev, a, h, o, y_hat, mask, activation)


def output_recurrence_forward(params, x, y_prev, mask=None, activation="tanh"):
    """Pattern 2 given the fed-back outputs (teacher forcing: y_prev = teacher_forcing_inputs(y, C)).

        a^(t) = b + W y^(t-1) + U x^(t),  h^(t) = act(a^(t)),  o^(t) = c + V h^(t)

    x (T, B, d); y_prev (T, B, C); mask (T, B) or None. Returns an OutputRecurrenceCache.
    """
    dtype, m, d, C = _check_output_recurrence_params(params)
    check_activation(activation)
    x = _check_x(x, dtype, d)                                            # (T, B, d)
    T, B, _ = x.shape
    y_prev = as_float_array("y_prev", y_prev, dtype=dtype, ndim=3)       # (T, B, C)
    check_shape("y_prev", y_prev, (T, B, C), f"(T, B, C) = ({T}, {B}, {C}), the fed-back outputs")
    mask = check_mask(mask, T, B)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _output_recurrence_forward(params, x, y_prev, mask, activation)
    _warn_overflow("output_recurrence_forward", cache.h, cache.o, activation)
    return cache


def _check_output_cache(cache, dtype, m, d, C):
    check_cache(cache, OutputRecurrenceCache, "output_recurrence_forward",
                shapes={"x": (None, None, d)})
    T, B, _ = cache.x.shape
    check_cache(cache, OutputRecurrenceCache, "output_recurrence_forward",
                shapes={"y_prev": (T, B, C), "a": (T, B, m), "h": (T + 1, B, m),
                        "o": (T, B, C), "y_hat": (T, B, C)}, dtype=dtype)
    return T, B


def _output_recurrence_backward(params, cache, y):
    """Pattern 2's gradients under teacher forcing: y_prev is data, so every
    step stands alone (no BPTT). Arguments are checked by
    `output_recurrence_backward`."""
    V = params["V"]
    x, y_prev, a, h = cache.x, cache.y_prev, cache.a, cache.h
    T, B, d = x.shape
    C, m = V.shape
    loss, do = _rnn_loss(cache, y)                              # (T, B, C)
    dact = _activation_derivative(a, h[1:], cache.activation)   # (T, B, m)
    da = (do @ V) * dact                                       # (T, B, m)
    da_flat = da.reshape(T * B, m)                             # (T*B, m)
    grads = {
        "W": da_flat.T @ y_prev.reshape(T * B, C),             # (m, C)
        "U": da_flat.T @ x.reshape(T * B, d),                  # (m, d)
        "V": do.reshape(T * B, C).T @ h[1:].reshape(T * B, m),  # (C, m)
        "b": da_flat.sum(axis=0),                              # (m,)
        "c": do.sum(axis=(0, 1)),                              # (C,)
    }
    return loss, grads


def output_recurrence_backward(params, cache, y):
    """Gradients of pattern 2 under teacher forcing: y_prev is data, so each step stands alone.

        dJ/do^(t) = (y_hat^(t) - onehot(y^(t))) / B,  dJ/da^(t) = V^T dJ/do^(t) * act'(a^(t))
        dJ/dW = sum_t dJ/da^(t) y^(t-1)^T,  dJ/dU = sum_t dJ/da^(t) x^(t)^T,  dJ/dV = sum_t dJ/do^(t) h^(t)^T

    y (T, B) int. Returns (loss, grads) keyed W, U, V, b, c.
    """
    dtype, m, d, C = _check_output_recurrence_params(params)
    T, B = _check_output_cache(cache, dtype, m, d, C)
    y = _check_step_targets(y, T, B, C, cache.mask)                      # (T, B)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _output_recurrence_backward(params, cache, y)
    _warn_nonfinite_grads("output_recurrence_backward", loss, grads)
    return loss, grads


def _output_recurrence_generate(params, x, mask, activation, feedback):
    """Pattern 2 run free: y^(t-1) is the model's own previous output,
    onehot(argmax) or the distribution itself. Arguments are checked by
    `output_recurrence_generate`."""
    W, U, V, b, c = (params[k] for k in ("W", "U", "V", "b", "c"))
    T, B, _ = x.shape
    C, m = V.shape
    dtype = W.dtype
    y_prev = np.zeros((T, B, C), dtype=dtype)                  # (T, B, C)
    a = np.empty((T, B, m), dtype=dtype)                       # (T, B, m)
    h = np.zeros((T + 1, B, m), dtype=dtype)                   # (T+1, B, m)
    o = np.empty((T, B, C), dtype=dtype)                       # (T, B, C)
    eye = np.eye(C, dtype=dtype)                               # (C, C)
    for t in range(1, T + 1):
        a[t - 1] = b + y_prev[t - 1] @ W.T + x[t - 1] @ U.T    # (B, m)
        h[t] = _activate(a[t - 1], activation)                  # (B, m)
        o[t - 1] = c + h[t] @ V.T                              # (B, C)
        if t < T:
            p = _softmax(o[t - 1])                              # (B, C)
            fed = p if feedback == "probs" else eye[p.argmax(axis=1)]
            y_prev[t] = fed                                    # (B, C)
    y_hat = _softmax(o)                                         # (T, B, C)
    cache = OutputRecurrenceCache(x, y_prev, a, h, o, y_hat, mask, activation)
    return y_hat.argmax(axis=2), cache                         # (T, B)


def output_recurrence_generate(params, x, mask=None, activation="tanh", feedback="argmax"):
    """Run pattern 2 free: feed back its own previous output instead of the target.

    feedback: "argmax" feeds onehot(argmax y_hat^(t-1)); "probs" feeds y_hat^(t-1) itself.
    Returns (predictions (T, B) int, cache) with cache.y_prev the outputs that were fed back.
    """
    dtype, m, d, C = _check_output_recurrence_params(params)
    check_activation(activation)
    if not isinstance(feedback, str) or feedback not in ("argmax", "probs"):
        raise ValueError(f"feedback must be 'argmax' or 'probs', got {feedback!r}")
    x = _check_x(x, dtype, d)                                            # (T, B, d)
    T, B, _ = x.shape
    mask = check_mask(mask, T, B)
    with np.errstate(over="ignore", invalid="ignore"):
        ids, cache = _output_recurrence_generate(params, x, mask, activation, feedback)
    _warn_overflow("output_recurrence_generate", cache.h, cache.o, activation)
    return ids, cache


# ----------------------------------------------------------------------------------------------
# Pattern 3: read the whole sequence, one output at the end
# ----------------------------------------------------------------------------------------------
@dataclass
class SeqToOneCache:
    """The forward record of pattern 3."""

    x: np.ndarray               # (T, B, d)
    h: np.ndarray               # (T+1, B, m)
    a: np.ndarray               # (T, B, m)
    mask: Optional[np.ndarray]  # (T, B) bool or None
    last: np.ndarray            # (B,) int: T_b, each sequence's last real step (h[T_b] is read)
    o: np.ndarray               # (B, C)
    y_hat: np.ndarray           # (B, C)
    activation: str
    h0_shape: tuple

    def __getitem__(self, key):
        return getattr(self, key)


def _last_real_step(mask, T, B):
    """T_b (B,): the 1-based step of each sequence's last True in mask (T
    without a mask). Arguments are checked by `last_real_step`."""
    if mask is None:
        return np.full(B, T, dtype=np.int64)                   # (B,)
    return T - np.argmax(mask[::-1], axis=0)                   # (B,) 1..T


def _check_every_sequence_real(mask, name="mask"):
    if mask is not None and not mask.any(axis=0).all():
        empty = np.flatnonzero(~mask.any(axis=0)).tolist()
        raise ValueError(f"{name} has sequences with no real step (columns {empty}); each needs at least one")


def last_real_step(mask, T, B):
    """T_b (B,) int: the index t (1-based, so h[T_b] is its state) of each sequence's last real step."""
    T = check_positive_int("T", T)
    B = check_positive_int("B", B)
    mask = check_mask(mask, T, B)
    _check_every_sequence_real(mask)
    return _last_real_step(mask, T, B)


def _seq_to_one_forward(params, x, h0, mask, activation):
    """Pattern 3: the recurrence over the sequence, then one output read at
    each sequence's last real step T_b. Arguments are checked by
    `seq_to_one_forward`."""
    W, U, V, b, c = (params[k] for k in ("W", "U", "V", "b", "c"))
    T, B, _ = x.shape
    rec = _recurrence_forward(W, U, b, x, h0, mask, activation)  # h (T+1, B, m)
    last = _last_real_step(mask, T, B)                         # (B,) T_b
    h_last = rec.h[last, np.arange(B)]                         # (B, m) h^(T_b)
    o = h_last @ V.T + c                                       # (B, C)
    y_hat = _softmax(o)                                         # (B, C)
    return SeqToOneCache(x, rec.h, rec.a, mask, last, o, y_hat, activation,
                         np.shape(h0))


def _check_seq_to_one(params, x, h0, mask, activation):
    dims = check_rnn_params(params)
    x, h0, mask = _check_rnn_inputs(dims, x, h0, mask, activation)
    _check_every_sequence_real(mask)
    return x, h0, mask


def seq_to_one_forward(params, x, h0=None, mask=None, activation="tanh"):
    """Pattern 3: h^(t) = act(b + W h^(t-1) + U x^(t)) over the sequence, then o = c + V h^(T_b).

    params: W (m, m), U (m, d), V (C, m), b (m,), c (C,) (the shapes of init_rnn).
    x (T, B, d); h0 (B, m), (m,) or None; mask (T, B) or None.
    Returns a SeqToOneCache with o and y_hat (B, C).
    """
    x, h0, mask = _check_seq_to_one(params, x, h0, mask, activation)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _seq_to_one_forward(params, x, h0, mask, activation)
    _warn_overflow("seq_to_one_forward", cache.h, cache.o, activation)
    return cache


def _seq_to_one_dh(V, y_hat, y, last, T):
    """dJ/dh^(t) from the single output: V^T (y_hat_b - onehot(y_b)) / B at
    T_b, zero elsewhere. Arguments are checked by `seq_to_one_dh`."""
    B, C = y_hat.shape
    do = y_hat.copy()                                          # (B, C)
    do[np.arange(B), y] -= 1                                   # - onehot(y)
    do /= B                                                    # (B, C) dJ/do
    dh = np.zeros((T, B, V.shape[1]), dtype=y_hat.dtype)       # (T, B, m)
    dh[last - 1, np.arange(B)] = do @ V                        # (B, m) at T_b
    return dh


def seq_to_one_dh(V, y_hat, y, last, T):
    """dJ/dh^(t) from the single output, for J = (1/B) sum_b -log y_hat_b[y_b]:

        dJ/dh^(T_b) = V^T (y_hat_b - onehot(y_b)) / B   at each sequence's last real step,
        dJ/dh^(t)     = 0                                  at every other step.

    V (C, m); y_hat (B, C); y (B,) int; last (B,) the steps T_b (1-based); T the number of steps.
    Returns dh (T, B, m), indexed like h[1:].
    """
    T = check_positive_int("T", T)
    V = as_float_array("V", V, ndim=2)                                   # (C, m)
    C = V.shape[0]
    y_hat = as_float_array("y_hat", y_hat, dtype=V.dtype, ndim=2)        # (B, C)
    check_shape("y_hat", y_hat, (None, C), f"(B, C) with C={C} from V")
    B = y_hat.shape[0]
    y = check_targets(np.reshape(y, (1, -1)) if np.ndim(y) == 1 else y, 1, B, C)[0]  # (B,)
    last = _check_int_array("last", last, 1, "(B,) of steps in [1, T]")
    check_shape("last", last, (B,), f"(B,) with B={B} from y_hat")
    if last.size and (last.min() < 1 or last.max() > T):
        raise ValueError(f"last must hold steps in [1, T] = [1, {T}], got {last.min()} to {last.max()}")
    return _seq_to_one_dh(V, y_hat, y, last, T)


def _seq_to_one_backward(params, cache, y):
    """Pattern 3's loss and gradients: dJ/do = (y_hat - onehot(y)) / B, then
    BPTT from dJ/dh^(T_b). Arguments are checked by `seq_to_one_backward`."""
    W, U, V = params["W"], params["U"], params["V"]
    T, B, _ = cache.x.shape
    weight = np.full(B, 1 / B, dtype=cache.o.dtype)            # (B,) 1/B
    loss, do = _cross_entropy(cache.o, y, weight)               # do (B, C)
    h_last = cache.h[cache.last, np.arange(B)]                 # (B, m) h^(T_b)
    dh = _seq_to_one_dh(V, cache.y_hat, y, cache.last, T)      # (T, B, m)
    rec = RecurrenceCache(cache.x, cache.h, cache.a, cache.mask,
                          cache.activation)
    _, dh0, grads = _recurrence_backward(W, U, rec, dh)        # BPTT
    grads["V"] = do.T @ h_last                                 # (C, m)
    grads["c"] = do.sum(axis=0)                                # (C,)
    shared = cache.h0_shape == (W.shape[0],)                   # h0 was (m,)
    grads["h0"] = dh0.sum(axis=0) if shared else dh0           # (m,) or (B, m)
    return cache.o.dtype.type(loss), grads


def seq_to_one_backward(params, cache, y):
    """Loss and gradients of pattern 3; y (B,) int, one class per sequence.

        J = (1/B) sum_b -log y_hat_b[y_b],   dJ/do = (y_hat - onehot(y)) / B
        dJ/dV = dJ/do^T h^(T_b),  dJ/dc = sum_b dJ/do,  then BPTT from dJ/dh^(T_b) (seq_to_one_dh).

    Returns (loss, grads) keyed W, U, V, b, c and h0.
    """
    dtype, m, d, C = check_rnn_params(params)
    check_cache(cache, SeqToOneCache, "seq_to_one_forward", shapes={"x": (None, None, d)})
    T, B, _ = cache.x.shape
    check_cache(cache, SeqToOneCache, "seq_to_one_forward",
                shapes={"h": (T + 1, B, m), "a": (T, B, m), "o": (B, C), "y_hat": (B, C),
                        "last": (B,)}, dtype=dtype)
    y = check_targets(np.reshape(y, (1, -1)) if np.ndim(y) == 1 else y, 1, B, C)[0]  # (B,)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _seq_to_one_backward(params, cache, y)
    _warn_nonfinite_grads("seq_to_one_backward", loss, grads)
    return loss, grads


def seq_to_one_predict(params, x, h0=None, mask=None, activation="tanh"):
    """The predicted class (B,) of each sequence."""
    x, h0, mask = _check_seq_to_one(params, x, h0, mask, activation)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _seq_to_one_forward(params, x, h0, mask, activation)
    _warn_overflow("seq_to_one_predict", cache.h, cache.o, activation)
    return cache.y_hat.argmax(axis=1)                                   # (B,)
