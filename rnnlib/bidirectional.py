"""Bidirectional RNNs (Deep Learning book 10.3).

Taught in the chapter "Design patterns and deep RNNs" (section "Bidirectional RNNs"). A
forward RNN reads x^(1), ..., x^(T); a second RNN reads the sequence backwards, x^(T), ...,
x^(1); the output at step t sees both states, so it depends on the whole input, past and future:

    h^(t) = tanh(b_h + W_h h^(t-1) + U_h x^(t)),   t = 1..T,   h^(0) given     (forward)
    g^(t) = tanh(b_g + W_g g^(t+1) + U_g x^(t)),   t = T..1,   g^(T+1) given   (backward)
    o^(t) = c + V [h^(t); g^(t)],   y_hat^(t) = softmax(o^(t))

(the book's names: h for the forward state, g for the backward one). Parameters: W_h, W_g (m, m),
U_h, U_g (m, d), b_h, b_g (m,), V (C, 2m), c (C,), keyed "Wh", "Uh", "bh", "Wg", "Ug", "bg",
"V", "c". The initial state is one vector h0 = [h^(0); g^(T+1)] of size 2m (the state of a
bidirectional RNN is the concatenation), and its gradient is grads["h0"].

Variable-length batches: ``mask`` (T, B) is True at a real step, padded steps at the end. The
backward RNN runs over the reversed sequence with the reversed mask; the padded steps then come
first and leave its state unchanged, so each sequence's backward RNN starts from g^(T+1) at its
own last real step, exactly as if it had not been padded (tests/test_bidirectional.py checks
this against each sequence run alone). Padded steps add no loss.

The task :func:`make_lookahead` needs the future: the target at step t is the input at step
t + lag. A one-directional RNN cannot know it (chance, 1/K, on those steps); a bidirectional one
can. The dtype follows the parameters. Every public function checks its arguments once and calls
the plain function of the same name with a leading underscore.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    as_sequence,
    as_generator,
    check_activation,
    check_allocation,
    check_cache,
    check_float_dtype,
    check_mask,
    check_params,
    check_positive_int,
    check_shape,
)
from .losses import _softmax
from .patterns import RecurrenceCache, _recurrence_backward, _recurrence_forward
from .rnn import _check_loss_inputs, _rnn_loss, _warn_backward_nonfinite, _warn_overflow

__all__ = ["BIDIRECTIONAL_PARAMS", "init_bidirectional", "BidirectionalCache",
           "bidirectional_forward", "bidirectional_backward", "make_lookahead"]

BIDIRECTIONAL_PARAMS = ("Wh", "Uh", "bh", "Wg", "Ug", "bg", "V", "c")


def _init_bidirectional(d, m, C, rng, dtype):
    """W ~ N(0, 1/m), U ~ N(0, 1/d), V ~ N(0, 1/(2m)), biases 0 (the forward
    RNN's first). Arguments are checked by `init_bidirectional`."""
    def normal(shape, fan_in):
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)

    return {
        "Wh": normal((m, m), m), "Uh": normal((m, d), d),   # forward RNN
        "bh": np.zeros(m, dtype=dtype),
        "Wg": normal((m, m), m), "Ug": normal((m, d), d),   # backward RNN
        "bg": np.zeros(m, dtype=dtype),
        "V": normal((C, 2 * m), 2 * m),                  # (C, 2m) reads [h; g]
        "c": np.zeros(C, dtype=dtype),                   # (C,)
    }


def init_bidirectional(d, m, C, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Parameters of a bidirectional RNN: input size d, hidden size m per direction, C classes.

    Wh, Wg (m, m); Uh, Ug (m, d); bh, bg (m,); V (C, 2m); c (C,). seed: None, a non-negative
    int or a np.random.Generator; dtype float64 or float32."""
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    check_allocation(f"d={d}, m={m}, C={C}", [(m, m), (m, d), (m,)] * 2 + [(C, 2 * m), (C,)],
                     dtype, max_bytes)
    return _init_bidirectional(d, m, C, rng, dtype)


def _check_bidirectional_params(params):
    """Return (dtype, m, d, C)."""
    dtype = check_params(params, BIDIRECTIONAL_PARAMS)
    Wh = params["Wh"]
    if Wh.ndim != 2 or Wh.shape[0] != Wh.shape[1] or Wh.shape[0] == 0:
        raise ValueError(f"params['Wh'] must be square (m, m) with m >= 1, got shape {Wh.shape}")
    m = Wh.shape[0]
    check_shape("params['Uh']", params["Uh"], (m, None), f"(m, d) with m={m} from Wh")
    d = params["Uh"].shape[1]
    if d == 0:
        raise ValueError("params['Uh'] must have shape (m, d) with d >= 1, got d = 0")
    check_shape("params['bh']", params["bh"], (m,), f"(m,) with m={m} from Wh")
    check_shape("params['Wg']", params["Wg"], (m, m), f"(m, m) with m={m} from Wh")
    check_shape("params['Ug']", params["Ug"], (m, d), f"(m, d) = ({m}, {d}) from Uh")
    check_shape("params['bg']", params["bg"], (m,), f"(m,) with m={m} from Wh")
    check_shape("params['V']", params["V"], (None, 2 * m),
                f"(C, 2m) with 2m={2 * m}: V reads [h; g]")
    C = params["V"].shape[0]
    if C == 0:
        raise ValueError("params['V'] must have shape (C, 2m) with C >= 1, got C = 0")
    check_shape("params['c']", params["c"], (C,), f"(C,) with C={C} from V")
    return dtype, m, d, C


@dataclass
class BidirectionalCache:
    """The forward record: both directions' states and the output."""

    x: np.ndarray                   # (T, B, d)
    h: np.ndarray                   # (T+1, B, m) forward states, h[0] = h^(0)
    g: np.ndarray                   # (T+1, B, m) backward states, g[t-1] = g^(t), g[T] = g^(T+1)
    o: np.ndarray                   # (T, B, C)
    y_hat: np.ndarray               # (T, B, C)
    mask: Optional[np.ndarray]      # (T, B) bool or None
    fwd: RecurrenceCache            # the forward RNN's record
    bwd: RecurrenceCache            # the backward RNN's record (over the reversed sequence)
    h0_shape: tuple                 # (2m,) or (B, 2m)

    def __getitem__(self, key):
        return getattr(self, key)


def _bidirectional_forward(params, x, h0, mask=None, activation="tanh"):
    """Both RNNs and the output (arguments are checked by
    `bidirectional_forward`):

        h^(t) = act(b_h + W_h h^(t-1) + U_h x^(t))   forward, from h^(0)
        g^(t) = act(b_g + W_g g^(t+1) + U_g x^(t))   backward, from g^(T+1)
        o^(t) = c + V [h^(t); g^(t)]

    The backward RNN is the forward recurrence run on x[::-1] (and mask[::-1],
    so each padded sequence starts at its own last real step).
    x (T, B, d), h0 (B, 2m) = [h^(0); g^(T+1)], mask (T, B) or None.
    """
    Wh, Uh, bh = params["Wh"], params["Uh"], params["bh"]
    Wg, Ug, bg = params["Wg"], params["Ug"], params["bg"]
    V, c = params["V"], params["c"]
    m = Wh.shape[0]
    rev = None if mask is None else mask[::-1]           # (T, B) reversed
    fwd = _recurrence_forward(Wh, Uh, bh, x, h0[:, :m], mask, activation)
    bwd = _recurrence_forward(Wg, Ug, bg, x[::-1], h0[:, m:], rev, activation)
    h = fwd.h                                            # (T+1, B, m)
    g = bwd.h[::-1]                                      # (T+1, B, m) g^(t)
    state = np.concatenate([h[1:], g[:-1]], axis=2)      # (T, B, 2m) [h; g]
    o = state @ V.T + c                                  # (T, B, C)
    return BidirectionalCache(x, h, g, o, _softmax(o), mask, fwd, bwd,
                              np.shape(h0))


def bidirectional_forward(params, x, h0=None, mask=None, activation="tanh",
                          max_bytes=DEFAULT_MAX_BYTES):
    """Run the bidirectional RNN over a batch and keep what the backward pass needs.

    x: (T, B, d), or (T, d) for one sequence. h0: [h^(0); g^(T+1)], (B, 2m) or (2m,); None
    means zeros. mask: (T, B) bool, True at real steps (padding at the end of a sequence).
    activation: "tanh", "relu" or "identity" (both directions). Returns a BidirectionalCache
    with h, g (T+1, B, m) (the state at step t is [h[t]; g[t-1]]), o and y_hat (T, B, C); it
    works with ``rnn_loss`` and rnnlib's ``train`` (not with ``carry_state=True``: the backward
    RNN starts at the end of each sequence, so there is no state to carry to the next chunk).
    An overflow (relu or identity over many steps) gives one RuntimeWarning naming the step.
    """
    dtype, m, d, C = _check_bidirectional_params(params)
    check_activation(activation)
    x, single = as_sequence(x, dtype, d, "params['Uh']")
    T, B, _ = x.shape
    check_allocation(f"x of shape {x.shape} with m={m}, C={C}",
                     [(T + 1, B, m)] * 6 + [(T, B, 2 * m), (T, B, C), (T, B, C)], dtype,
                     max_bytes)
    shape = (2 * m,)
    if h0 is not None:
        h0 = as_float_array("h0", h0, dtype=dtype, ndim=(1, 2))
        if h0.shape not in ((2 * m,), (B, 2 * m)):
            raise ValueError(f"h0 must have shape (2m,) = ({2 * m},) or (B, 2m) = ({B}, "
                             f"{2 * m}): [h^(0); g^(T+1)], got {h0.shape}")
        shape = h0.shape
    h0 = np.zeros((B, 2 * m), dtype) if h0 is None else np.broadcast_to(
        h0, (B, 2 * m)).copy()
    if single and mask is not None and np.ndim(mask) == 1:
        mask = np.asarray(mask)[:, None]
    mask = check_mask(mask, T, B)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = _bidirectional_forward(params, x, h0, mask, activation)
    _warn_overflow("bidirectional_forward", cache, activation)
    cache.h0_shape = shape
    return cache


def _bidirectional_backward(params, cache, y):
    """BPTT in both directions (arguments are checked by
    `bidirectional_backward`):

        dJ/do^(t) = (y_hat^(t) - onehot(y^(t))) / B
        [dh^(t); dg^(t)] = V^T dJ/do^(t)       (the output's share)
        then BPTT through the forward RNN backwards in time, and through the
        backward RNN forwards in time (its reversed sequence, backwards).
    """
    Wh, Uh, Wg, Ug = (params[k] for k in ("Wh", "Uh", "Wg", "Ug"))
    V = params["V"]
    m = Wh.shape[0]
    T, B, C = cache.o.shape
    loss, do = _rnn_loss(cache, y)                       # (T, B, C)
    ds = do @ V                                          # (T, B, 2m)
    _, dh0, gf = _recurrence_backward(Wh, Uh, cache.fwd, ds[:, :, :m])
    _, dg0, gb = _recurrence_backward(Wg, Ug, cache.bwd, ds[::-1, :, m:])
    state = np.concatenate([cache.h[1:], cache.g[:-1]], axis=2)  # (T, B, 2m)
    grads = {
        "Wh": gf["W"], "Uh": gf["U"], "bh": gf["b"],     # forward RNN
        "Wg": gb["W"], "Ug": gb["U"], "bg": gb["b"],     # backward RNN
        "V": do.reshape(T * B, C).T @ state.reshape(T * B, 2 * m),  # (C, 2m)
        "c": do.sum(axis=(0, 1)),                        # (C,)
        "h0": np.concatenate([dh0, dg0], axis=1),        # (B, 2m)
    }
    return loss, grads


def bidirectional_backward(params, cache, y):
    """Loss J = (1/B) sum_b sum_{real t} -log y_hat^(t)[y^(t)] and its gradients for every
    parameter and h0 = [h^(0); g^(T+1)] (shaped as h0 was given). y: (T, B) int targets in
    [0, C) (any value at padded steps), or (T,) for one sequence."""
    dtype, m, d, C = _check_bidirectional_params(params)
    check_cache(cache, BidirectionalCache, "bidirectional_forward",
                {"x": (None, None, d), "h": (None, None, m), "g": (None, None, m),
                 "o": (None, None, C)}, dtype)
    T, B, _ = cache.x.shape
    check_cache(cache, BidirectionalCache, "bidirectional_forward",
                {"h": (T + 1, B, m), "g": (T + 1, B, m), "o": (T, B, C), "y_hat": (T, B, C)})
    for name, part in (("cache.fwd", cache.fwd), ("cache.bwd", cache.bwd)):
        check_cache(part, RecurrenceCache, "bidirectional_forward",
                    {"x": (T, B, d), "h": (T + 1, B, m), "a": (T, B, m)}, dtype, name=name)
        check_activation(part.activation)
    y = _check_loss_inputs(cache, y)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _bidirectional_backward(params, cache, y)
    _warn_backward_nonfinite("bidirectional_backward", cache, loss, grads)
    if cache.h0_shape == (2 * m,):
        grads["h0"] = grads["h0"].sum(axis=0)
    return loss, grads


# ----------------------------------------------------------------------------------------------
# A task that needs the future
# ----------------------------------------------------------------------------------------------
def _make_lookahead(n, T, lag, K, min_length, rng, dtype):
    """Symbols s^(t) in [0, K), one-hot inputs; target y^(t) = s^(t+lag), or K
    ("end") for the last lag real steps; lengths uniform in [min_length, T].
    Arguments are checked by `make_lookahead`."""
    lengths = rng.integers(min_length, T + 1, size=n)    # (n,)
    mask = np.arange(T)[:, None] < lengths[None, :]      # (T, n) real steps
    s = rng.integers(0, K, size=(T, n))                  # (T, n) symbols
    x = np.eye(K, dtype=dtype)[s] * mask[:, :, None]     # (T, n, K)
    y = np.full((T, n), K)                               # (T, n) "end"
    y[:T - lag] = s[lag:]                                # s^(t+lag)
    future = np.arange(T)[:, None] + lag < lengths[None, :]  # (T, n)
    y = np.where(future, y, K)                           # past the end
    return x, np.where(mask, y, 0), mask, future


def make_lookahead(n, T, lag=2, K=4, min_length=None, seed=0, dtype=np.float64,
                   max_bytes=DEFAULT_MAX_BYTES):
    """A task whose answer lies in the future: read K random symbols (one-hot), and at each
    step t output the symbol of step t + lag (class K, "end", at the last ``lag`` real steps of
    each sequence). Lengths are uniform in [min_length, T] (default: T, no padding); padded
    steps are zero inputs with mask False and target 0.

    Returns (x (T, n, K), y (T, n) int, mask (T, n) bool, future (T, n) bool): ``future``
    marks the real steps whose target is a future symbol (chance on them: 1/K for a model that
    cannot see ahead).
    """
    n, T = check_positive_int("n", n), check_positive_int("T", T)
    K = check_positive_int("K", K)
    lag = check_positive_int("lag", lag)
    min_length = T if min_length is None else check_positive_int("min_length", min_length)
    if min_length > T:
        raise ValueError(f"min_length must be at most T={T}, got {min_length}")
    if lag >= min_length:
        raise ValueError(f"lag must be smaller than min_length={min_length} (else some sequence "
                         f"has no step with a future symbol), got lag={lag}")
    rng = as_generator(seed)
    dtype = check_float_dtype(dtype)
    check_allocation(f"n={n}, T={T}, K={K}", [(T, n, K)] + [(T, n)] * 6, np.float64, max_bytes)
    return _make_lookahead(n, T, lag, K, min_length, rng, dtype)
