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

    a^(t) = b + W h^(t-1) + U x^(t),   h^(t) = tanh(a^(t))          for t = 1..tau
    o = c + V h^(tau),   y_hat = softmax(o),   J = -log y_hat[y]      (averaged over the batch)

With a mask, tau is each sequence's last real step (padded steps leave h unchanged).
The loss reaches the recurrence only at h^(tau):  dJ/dh^(tau) = V^T (y_hat - onehot(y)) / B.

The hidden recurrence alone, without outputs (``recurrence_forward`` / ``recurrence_backward``),
is shared by pattern 3, the deep RNNs (rnnlib.deep) and the encoder-decoder (rnnlib.seq2seq):
its backward pass takes dJ/dh^(t) arriving from outside the recurrence (outputs, a layer above,
a decoder) and runs backpropagation through time.

Arrays are time-major; the dtype follows the parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._checks import (
    as_float_array,
    check_activation,
    check_mask,
    check_params,
    check_positive_int,
    check_shape,
    check_targets,
)
from .activations import activate, activation_derivative
from .losses import cross_entropy, softmax
from .rnn import _check_sequence, check_rnn_params, rnn_backward, rnn_forward, rnn_loss

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


def recurrence_forward(W, U, b, x, h0, mask=None, activation="tanh"):
    """h^(t) = act(b + W h^(t-1) + U x^(t)) for t = 1..T (h^(t) = h^(t-1) at padded steps).

    W (m, m), U (m, d), b (m,); x (T, B, d); h0 (B, m); mask (T, B) bool or None.
    Returns a RecurrenceCache with h (T+1, B, m) and a (T, B, m).
    """
    check_activation(activation)
    m = W.shape[0]
    check_shape("W", W, (m, m), "(m, m)")
    check_shape("U", U, (m, None), f"(m, d) with m={m}")
    check_shape("b", b, (m,), f"(m,) with m={m}")
    T, B, d = x.shape
    check_shape("x", x, (T, B, U.shape[1]), f"(T, B, d) with d={U.shape[1]} from U")
    check_shape("h0", h0, (B, m), f"(B, m) with B={B}, m={m}")
    mask = check_mask(mask, T, B)

    Ux_b = (x.reshape(T * B, d) @ U.T).reshape(T, B, m) + b              # (T, B, m)
    h = np.empty((T + 1, B, m), dtype=W.dtype)                           # (T+1, B, m)
    a = np.empty((T, B, m), dtype=W.dtype)                               # (T, B, m)
    h[0] = h0
    for t in range(1, T + 1):
        a[t - 1] = Ux_b[t - 1] + h[t - 1] @ W.T                          # (B, m) a^(t)
        h[t] = activate(a[t - 1], activation)                            # (B, m) h^(t)
        if mask is not None:
            h[t] = np.where(mask[t - 1][:, None], h[t], h[t - 1])        # (B, m) padded: keep h
    return RecurrenceCache(x=x, h=h, a=a, mask=mask, activation=activation)


def recurrence_backward(W, U, cache, dh):
    """Backpropagation through time, given dh (T, B, m): dJ/dh^(t) from outside the recurrence.

        g^(t)       = dh^(t) + W^T da^(t+1)          (the total dJ/dh^(t))
        da^(t)      = g^(t) * act'(a^(t))            (0 at a padded step, where g^(t) passes on)
        dJ/dW = sum_t da^(t) h^(t-1)^T,  dJ/dU = sum_t da^(t) x^(t)^T,  dJ/db = sum_t da^(t)

    Returns (dx (T, B, d), dh0 (B, m), grads {W, U, b}).
    """
    if not isinstance(cache, RecurrenceCache):
        raise TypeError(f"cache must be a RecurrenceCache from recurrence_forward, got {type(cache).__name__}")
    x, h, a, mask = cache.x, cache.h, cache.a, cache.mask
    T, B, d = x.shape
    m = W.shape[0]
    check_shape("dh", dh, (T, B, m), "(T, B, m), like h[1:]")

    dact = activation_derivative(a, h[1:], cache.activation)            # (T, B, m)
    if mask is not None:
        dact = dact * mask[:, :, None]                                   # (T, B, m) padded: no update
        keep = ~mask[:, :, None]                                         # (T, B, 1)
    da = np.empty_like(a)                                                # (T, B, m)
    dh_next = np.zeros((B, m), dtype=a.dtype)                            # (B, m) W^T da^(t+1)
    for t in range(T - 1, -1, -1):
        g = dh[t] + dh_next                                              # (B, m) dJ/dh^(t)
        da[t] = g * dact[t]                                              # (B, m) dJ/da^(t)
        dh_next = da[t] @ W                                              # (B, m)
        if mask is not None:
            dh_next = dh_next + g * keep[t]                              # (B, m) h^(t) = h^(t-1)
    da_flat = da.reshape(T * B, m)                                       # (T*B, m)
    grads = {
        "W": da_flat.T @ h[:-1].reshape(T * B, m),                       # (m, m)
        "U": da_flat.T @ x.reshape(T * B, d),                            # (m, d)
        "b": da_flat.sum(axis=0),                                        # (m,)
    }
    dx = (da_flat @ U).reshape(T, B, d)                                  # (T, B, d)
    return dx, dh_next, grads


# ----------------------------------------------------------------------------------------------
# Pattern 2: output-to-hidden recurrence, teacher forcing
# ----------------------------------------------------------------------------------------------
OUTPUT_RECURRENCE_PARAMS = ("W", "U", "V", "b", "c")


def init_output_recurrence(d, m, C, seed=0, dtype=np.float64):
    """Random parameters of pattern 2: W (m, C) output-to-hidden, U (m, d), V (C, m), b, c."""
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a float dtype, got {dtype}")
    rng = np.random.default_rng(seed)
    return {
        "W": rng.standard_normal((m, C)).astype(dtype),                  # (m, C) a one-hot input
        "U": (rng.standard_normal((m, d)) / np.sqrt(d)).astype(dtype),   # (m, d)
        "V": (rng.standard_normal((C, m)) / np.sqrt(m)).astype(dtype),   # (C, m)
        "b": np.zeros(m, dtype=dtype),                                   # (m,)
        "c": np.zeros(C, dtype=dtype),                                   # (C,)
    }


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


def teacher_forcing_inputs(y, C, dtype=np.float64):
    """The fed-back outputs under teacher forcing: the targets shifted one step right.

    y (T, B) int targets.  Returns y_prev (T, B, C) with y_prev[0] = 0 (nothing before the first
    step) and y_prev[t] = onehot(y[t-1]) for t >= 1.
    """
    C = check_positive_int("C", C)
    y = np.asarray(y)
    if y.ndim != 2 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be an integer array of shape (T, B), got dtype {y.dtype} shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= C):
        raise ValueError(f"y must hold class indices in [0, C) = [0, {C}), got {y.min()} to {y.max()}")
    T, B = y.shape
    y_prev = np.zeros((T, B, C), dtype=dtype)                            # (T, B, C)
    y_prev[1:] = np.eye(C, dtype=dtype)[y[:-1]]                          # (T-1, B, C) onehot(y^(t-1))
    return y_prev


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


def _check_x(x, dtype, d):
    x = as_float_array("x", x, dtype=dtype, ndim=3)
    T, B, d_x = x.shape
    if T == 0 or B == 0:
        raise ValueError(f"x must have at least one step and one example, got shape {x.shape}")
    check_shape("x", x, (T, B, d), f"(T, B, d) with d={d} from params['U']")
    return x


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
    W, U, V, b, c = (params[k] for k in OUTPUT_RECURRENCE_PARAMS)

    a = b + y_prev @ W.T + x @ U.T                                       # (T, B, m) every step at once
    h = np.zeros((T + 1, B, m), dtype=dtype)                             # (T+1, B, m)
    h[1:] = activate(a, activation)                                      # (T, B, m)
    o = h[1:] @ V.T + c                                                  # (T, B, C)
    y_hat = softmax(o)                                                   # (T, B, C)
    return OutputRecurrenceCache(x, y_prev, a, h, o, y_hat, mask, activation)


def output_recurrence_backward(params, cache, y):
    """Gradients of pattern 2 under teacher forcing: y_prev is data, so each step stands alone.

        dJ/do^(t) = (y_hat^(t) - onehot(y^(t))) / B,  dJ/da^(t) = V^T dJ/do^(t) * act'(a^(t))
        dJ/dW = sum_t dJ/da^(t) y^(t-1)^T,  dJ/dU = sum_t dJ/da^(t) x^(t)^T,  dJ/dV = sum_t dJ/do^(t) h^(t)^T

    y (T, B) int. Returns (loss, grads) keyed W, U, V, b, c.
    """
    _check_output_recurrence_params(params)
    if not isinstance(cache, OutputRecurrenceCache):
        raise TypeError(f"cache must be an OutputRecurrenceCache, got {type(cache).__name__}")
    V = params["V"]
    x, y_prev, a, h, mask = cache.x, cache.y_prev, cache.a, cache.h, cache.mask
    T, B, d = x.shape
    C, m = V.shape
    if a.shape[2] != m or y_prev.shape[2] != C:
        raise ValueError("cache does not match params: it was made with other parameter shapes")

    loss, do = rnn_loss(cache, y)                                        # do: (T, B, C), 0 at padding
    da = (do @ V) * activation_derivative(a, h[1:], cache.activation)   # (T, B, m)
    da_flat = da.reshape(T * B, m)                                       # (T*B, m)
    grads = {
        "W": da_flat.T @ y_prev.reshape(T * B, C),                       # (m, C)
        "U": da_flat.T @ x.reshape(T * B, d),                            # (m, d)
        "V": do.reshape(T * B, C).T @ h[1:].reshape(T * B, m),           # (C, m)
        "b": da_flat.sum(axis=0),                                        # (m,)
        "c": do.sum(axis=(0, 1)),                                        # (C,)
    }
    return loss, grads


def output_recurrence_generate(params, x, mask=None, activation="tanh", feedback="argmax"):
    """Run pattern 2 free: feed back its own previous output instead of the target.

    feedback: "argmax" feeds onehot(argmax y_hat^(t-1)); "probs" feeds y_hat^(t-1) itself.
    Returns (predictions (T, B) int, cache) with cache.y_prev the outputs that were fed back.
    """
    dtype, m, d, C = _check_output_recurrence_params(params)
    check_activation(activation)
    if feedback not in ("argmax", "probs"):
        raise ValueError(f"feedback must be 'argmax' or 'probs', got {feedback!r}")
    x = _check_x(x, dtype, d)                                            # (T, B, d)
    T, B, _ = x.shape
    mask = check_mask(mask, T, B)
    W, U, V, b, c = (params[k] for k in OUTPUT_RECURRENCE_PARAMS)

    y_prev = np.zeros((T, B, C), dtype=dtype)                            # (T, B, C)
    a = np.empty((T, B, m), dtype=dtype)                                 # (T, B, m)
    h = np.zeros((T + 1, B, m), dtype=dtype)                             # (T+1, B, m)
    o = np.empty((T, B, C), dtype=dtype)                                 # (T, B, C)
    for t in range(1, T + 1):
        a[t - 1] = b + y_prev[t - 1] @ W.T + x[t - 1] @ U.T             # (B, m)
        h[t] = activate(a[t - 1], activation)                            # (B, m)
        o[t - 1] = c + h[t] @ V.T                                        # (B, C)
        if t < T:
            p = softmax(o[t - 1])                                        # (B, C)
            y_prev[t] = p if feedback == "probs" else np.eye(C, dtype=dtype)[p.argmax(axis=1)]
    y_hat = softmax(o)                                                   # (T, B, C)
    cache = OutputRecurrenceCache(x, y_prev, a, h, o, y_hat, mask, activation)
    return y_hat.argmax(axis=2), cache


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
    last: np.ndarray            # (B,) int: tau, each sequence's last real step (h[tau] is read)
    o: np.ndarray               # (B, C)
    y_hat: np.ndarray           # (B, C)
    activation: str
    h0_shape: tuple

    def __getitem__(self, key):
        return getattr(self, key)


def last_real_step(mask, T, B):
    """tau (B,) int: the index t (1-based, so h[tau] is its state) of each sequence's last real step."""
    if mask is None:
        return np.full(B, T, dtype=np.int64)
    mask = check_mask(mask, T, B)
    if not mask.any(axis=0).all():
        empty = np.flatnonzero(~mask.any(axis=0)).tolist()
        raise ValueError(f"mask has sequences with no real step (columns {empty}); each needs at least one")
    return T - np.argmax(mask[::-1], axis=0)                             # (B,) 1..T


def seq_to_one_forward(params, x, h0=None, mask=None, activation="tanh"):
    """Pattern 3: h^(t) = act(b + W h^(t-1) + U x^(t)) over the sequence, then o = c + V h^(tau).

    params: W (m, m), U (m, d), V (C, m), b (m,), c (C,) (the shapes of init_rnn).
    x (T, B, d); h0 (B, m), (m,) or None; mask (T, B) or None.
    Returns a SeqToOneCache with o and y_hat (B, C).
    """
    x, h0, h0_shape, mask, dtype, (T, B, d, m, C) = _check_sequence(params, x, h0, mask, activation)
    W, U, V, b, c = (params[k] for k in ("W", "U", "V", "b", "c"))

    rec = recurrence_forward(W, U, b, x, h0, mask, activation)           # h (T+1, B, m)
    last = last_real_step(mask, T, B)                                    # (B,)
    h_last = rec.h[last, np.arange(B)]                                   # (B, m) h^(tau)
    o = h_last @ V.T + c                                                 # (B, C)
    y_hat = softmax(o)                                                   # (B, C)
    return SeqToOneCache(x, rec.h, rec.a, mask, last, o, y_hat, activation, h0_shape)


def seq_to_one_dh(V, y_hat, y, last, T):
    """dJ/dh^(t) from the single output, for J = (1/B) sum_b -log y_hat_b[y_b]:

        dJ/dh^(tau_b) = V^T (y_hat_b - onehot(y_b)) / B   at each sequence's last real step,
        dJ/dh^(t)     = 0                                  at every other step.

    V (C, m); y_hat (B, C); y (B,) int; last (B,) the steps tau (1-based); T the number of steps.
    Returns dh (T, B, m), indexed like h[1:].
    """
    B, C = y_hat.shape
    do = y_hat.copy()                                                    # (B, C)
    do[np.arange(B), y] -= 1                                             # y_hat - onehot(y)
    do /= B
    dh = np.zeros((T, B, V.shape[1]), dtype=y_hat.dtype)                 # (T, B, m)
    dh[last - 1, np.arange(B)] = do @ V                                  # (B, m) only at tau_b
    return dh


def seq_to_one_backward(params, cache, y):
    """Loss and gradients of pattern 3; y (B,) int, one class per sequence.

        J = (1/B) sum_b -log y_hat_b[y_b],   dJ/do = (y_hat - onehot(y)) / B
        dJ/dV = dJ/do^T h^(tau),  dJ/dc = sum_b dJ/do,  then BPTT from dJ/dh^(tau) (seq_to_one_dh).

    Returns (loss, grads) keyed W, U, V, b, c and h0.
    """
    check_rnn_params(params)
    if not isinstance(cache, SeqToOneCache):
        raise TypeError(f"cache must be the SeqToOneCache returned by seq_to_one_forward, got {type(cache).__name__}")
    W, U, V = params["W"], params["U"], params["V"]
    T, B, d = cache.x.shape
    m, C = W.shape[0], V.shape[0]
    if cache.h.shape[2] != m or cache.o.shape[1] != C or d != U.shape[1]:
        raise ValueError("cache does not match params: it was made with other parameter shapes")
    y = check_targets(np.reshape(y, (1, -1)) if np.ndim(y) == 1 else y, 1, B, C)[0]  # (B,)

    loss, do = cross_entropy(cache.o, y, np.full(B, 1 / B, dtype=cache.o.dtype))  # do: (B, C)
    h_last = cache.h[cache.last, np.arange(B)]                           # (B, m)
    dh = seq_to_one_dh(V, cache.y_hat, y, cache.last, T)                 # (T, B, m)
    rec = RecurrenceCache(cache.x, cache.h, cache.a, cache.mask, cache.activation)
    _, dh0, grads = recurrence_backward(W, U, rec, dh)
    grads["V"] = do.T @ h_last                                           # (C, m)
    grads["c"] = do.sum(axis=0)                                          # (C,)
    grads["h0"] = dh0.sum(axis=0) if cache.h0_shape == (m,) else dh0     # (m,) or (B, m)
    return cache.o.dtype.type(loss), grads


def seq_to_one_predict(params, x, h0=None, mask=None, activation="tanh"):
    """The predicted class (B,) of each sequence."""
    return seq_to_one_forward(params, x, h0, mask, activation).y_hat.argmax(axis=1)
