"""Deep recurrent networks (chapter "Design patterns and deep RNNs"; Deep Learning book ch. 10.5,
Pascanu et al. 2014, "How to construct deep recurrent neural networks").

**Stacked RNN** (the hidden state in hierarchical groups): layer l reads the hidden states of
layer l-1 at the same step, the first layer reads x, the output reads the top layer L:

    h_1^(t) = tanh(b_1 + W_1 h_1^(t-1) + U_1 x^(t))
    h_l^(t) = tanh(b_l + W_l h_l^(t-1) + U_l h_{l-1}^(t))        l = 2..L
    o^(t)   = c + V h_L^(t)

Params "W1", "U1", "b1", ..., "WL", "UL", "bL", "V", "c"; h0 is (L, B, m).

**Deeper computation inside one step** (the three kinds of depth; each optional):

    x'^(t) = tanh(b_i + U_i x^(t))                 deep input-to-hidden   (else x' = x)
    z^(t)  = tanh(b + W h^(t-1) + U x'^(t))        the first transition layer
    h^(t)  = tanh(b_2 + W_2 z^(t) [+ W_s h^(t-1)]) deep hidden-to-hidden  (else h = z);
                                                   W_s is the skip connection
    q^(t)  = tanh(b_q + V_q h^(t))                 deep hidden-to-output  (else q = h)
    o^(t)  = c + V q^(t)

The model's architecture is read from the keys of its params: "Ui"/"bi" deep input, "W2"/"b2"
deep transition, "Ws" the skip connection, "Vq"/"bq" deep output. The deep transition doubles
the number of edges between h^(t-1) and h^(t); the skip W_s adds one edge back, so the shortest
path between distant steps is as short as in a shallow RNN (:func:`shortest_path`).

Padded steps (mask False) keep h^(t) = h^(t-1) and add no loss; the loss is the one of rnnlib.rnn
(sum over steps, mean over the batch). Activations are tanh. The dtype follows the parameters.

Every public function checks its arguments once and then calls the plain function of the same
name with a leading underscore (``_stacked_forward``, ``_deep_backward``, ``_shortest_path``,
...), whose body is the math; internal calls go to the plain functions.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    as_generator,
    check_allocation,
    check_bool,
    check_cache,
    check_float_dtype,
    check_mask,
    check_params,
    check_positive_int,
    check_shape,
)
from .losses import _softmax
from .patterns import (
    RecurrenceCache,
    _check_step_targets,
    _check_x,
    _normal,
    _recurrence_backward,
    _recurrence_forward,
)
from .rnn import _check_initial, _rnn_loss

__all__ = [
    "init_stacked_rnn", "stacked_layers", "StackedCache", "stacked_forward", "stacked_backward",
    "init_deep_rnn", "deep_architecture", "DeepCache", "deep_forward", "deep_backward",
    "deep_step_jacobians", "unrolled_graph", "shortest_path", "path_between_steps", "hidden_path",
]

#: the largest unrolled graph built by default (nodes); unrolled_graph(..., max_nodes=) raises it
DEFAULT_MAX_NODES = 1_000_000


# ----------------------------------------------------------------------------------------------
# Stacked RNN
# ----------------------------------------------------------------------------------------------
def _init_stacked_rnn(d, m, C, layers, rng, dtype):
    """W_l (m, m), U_1 (m, d), U_l (m, m) ~ N(0, 1/fan_in); b_l = 0; V (C, m),
    c = 0. Arguments are checked by `init_stacked_rnn`."""
    params = {}
    for l in range(1, layers + 1):
        d_in = d if l == 1 else m                              # layer 1 reads x
        params[f"W{l}"] = _normal(rng, (m, m), m, dtype)       # (m, m)
        params[f"U{l}"] = _normal(rng, (m, d_in), d_in, dtype)  # (m, d_in)
        params[f"b{l}"] = np.zeros(m, dtype=dtype)             # (m,)
    params["V"] = _normal(rng, (C, m), m, dtype)               # (C, m)
    params["c"] = np.zeros(C, dtype=dtype)                     # (C,)
    return params


def init_stacked_rnn(d, m, C, layers=2, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Parameters of an L-layer stacked RNN: W_l (m, m), U_1 (m, d), U_l (m, m), b_l (m,), V (C, m), c (C,).

    seed: None, a non-negative int or a np.random.Generator; dtype float64 or float32;
    max_bytes: the largest size of the parameters allowed (raise it for huge models).
    """
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    layers = check_positive_int("layers", layers)
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    shapes = [(m, m), (m, d), (m,)] + [(m, m), (m, m), (m,)] * (layers - 1) + [(C, m), (C,)]
    check_allocation(f"d={d}, m={m}, C={C}, layers={layers}", shapes, dtype, max_bytes)
    return _init_stacked_rnn(d, m, C, layers, rng, dtype)


_LAYER_KEY = re.compile(r"^([WUb])([0-9]+)$")


def stacked_layers(params):
    """The number of layers L of a stacked RNN's params (keys W1, U1, b1, ..., WL, UL, bL).

    Raises a KeyError naming the missing keys when a layer is incomplete (e.g. U2 and b2 without
    W2): a stacked RNN never silently runs fewer layers than its params describe.
    """
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of NumPy arrays, got {type(params).__name__}")
    found = [(k, int(match.group(2))) for k in params
             if isinstance(k, str) and (match := _LAYER_KEY.match(k))]
    if any(l == 0 for _, l in found):
        zero = sorted(k for k, l in found if l == 0)
        raise KeyError(f"params has {zero}: the layers of a stacked RNN are numbered from 1 "
                       "(W1, U1, b1, ...)")
    if not found:
        raise KeyError("params has no 'W1': a stacked RNN needs W1, U1, b1, ..., V, c")
    L = max(l for _, l in found)
    missing = [f"{k}{l}" for l in range(1, L + 1) for k in "WUb" if f"{k}{l}" not in params]
    if missing:
        raise KeyError(f"params is missing {missing}: its keys describe {L} layer(s), and each "
                       f"layer l needs Wl, Ul and bl (W1, U1, b1, ..., W{L}, U{L}, b{L}, V, c)")
    return L


def _check_stacked_params(params):
    """Validate a stacked RNN's params (once); return (L, dtype, d, m, C)."""
    L = stacked_layers(params)
    keys = [k for l in range(1, L + 1) for k in (f"W{l}", f"U{l}", f"b{l}")] + ["V", "c"]
    dtype = check_params(params, keys)
    W1 = params["W1"]
    if W1.ndim != 2 or W1.shape[0] != W1.shape[1]:
        raise ValueError(f"params['W1'] must be square (m, m), got shape {W1.shape}")
    m = W1.shape[0]
    check_shape("params['U1']", params["U1"], (m, None), f"(m, d) with m={m} from W1")
    d = params["U1"].shape[1]
    check_shape("params['V']", params["V"], (None, m), f"(C, m) with m={m}")
    C = params["V"].shape[0]
    for l in range(1, L + 1):
        check_shape(f"params['W{l}']", params[f"W{l}"], (m, m), f"(m, m) with m={m}")
        check_shape(f"params['U{l}']", params[f"U{l}"], (m, d if l == 1 else m),
                    "(m, d) for layer 1, (m, m) above")
        check_shape(f"params['b{l}']", params[f"b{l}"], (m,), f"(m,) with m={m}")
    check_shape("params['c']", params["c"], (C,), f"(C,) with C={C}")
    return L, dtype, d, m, C


@dataclass
class StackedCache:
    """The forward record of a stacked RNN: one RecurrenceCache per layer (bottom first)."""

    layers: list                # L RecurrenceCache
    o: np.ndarray               # (T, B, C)
    y_hat: np.ndarray           # (T, B, C)
    mask: Optional[np.ndarray]  # (T, B)

    @property
    def h(self):
        """The top layer's hidden states (T+1, B, m)."""
        return self.layers[-1].h

    def __getitem__(self, key):
        return getattr(self, key)


def _stacked_forward(params, x, h0, mask):
    """Layer l runs the recurrence on the states of layer l-1 (on x for l = 1);
    the output reads the top layer L. Arguments are checked by
    `stacked_forward`."""
    L = h0.shape[0]
    V, c = params["V"], params["c"]
    caches, below = [], x                                      # (T, B, d)
    for l in range(1, L + 1):
        W, U, b = params[f"W{l}"], params[f"U{l}"], params[f"b{l}"]
        rec = _recurrence_forward(W, U, b, below, h0[l - 1], mask, "tanh")
        caches.append(rec)                                     # h (T+1, B, m)
        below = rec.h[1:]                                      # (T, B, m) h_l
    o = below @ V.T + c                                        # (T, B, C)
    return StackedCache(caches, o, _softmax(o), mask)


def stacked_forward(params, x, h0=None, mask=None):
    """Run the stacked RNN. x (T, B, d); h0 (L, B, m) or None; mask (T, B) or None."""
    L, dtype, d, m, C = _check_stacked_params(params)
    x = _check_x(x, dtype, d, source="the parameters")                   # (T, B, d)
    T, B, _ = x.shape
    mask = check_mask(mask, T, B)
    if h0 is None:
        h0 = np.zeros((L, B, m), dtype=dtype)                            # (L, B, m)
    else:
        h0 = as_float_array("h0", h0, dtype=dtype, ndim=3)
        check_shape("h0", h0, (L, B, m), f"(L, B, m) = ({L}, {B}, {m})")
    return _stacked_forward(params, x, h0, mask)


def _stacked_backward(params, cache, y):
    """BPTT in the top layer; its dJ/dx is the dJ/dh arriving at the layer
    below, and so on down. Arguments are checked by `stacked_backward`."""
    L = len(cache.layers)
    V = params["V"]
    loss, do = _rnn_loss(cache, y)                              # (T, B, C)
    top = cache.layers[-1].h[1:]                               # (T, B, m)
    T, B, m = top.shape
    grads = {"V": do.reshape(T * B, -1).T @ top.reshape(T * B, m),  # (C, m)
             "c": do.sum(axis=(0, 1))}                         # (C,)
    dh = do @ V                                                # (T, B, m)
    dh0 = np.empty((L, B, m), dtype=top.dtype)                 # (L, B, m)
    for l in range(L, 0, -1):
        W, U = params[f"W{l}"], params[f"U{l}"]
        rec = cache.layers[l - 1]
        dh, dh0[l - 1], layer = _recurrence_backward(W, U, rec, dh)
        for k, g in layer.items():                             # dh: to l-1
            grads[f"{k}{l}"] = g                               # W_l, U_l, b_l
    grads["h0"] = dh0                                          # (L, B, m)
    return loss, grads


def stacked_backward(params, cache, y):
    """Loss and gradients of the stacked RNN: BPTT in the top layer, whose dJ/dx is the dJ/dh
    arriving at the layer below, and so on down. Returns (loss, grads) with "h0" (L, B, m)."""
    L, dtype, d, m, C = _check_stacked_params(params)
    check_cache(cache, StackedCache, "stacked_forward")
    if not isinstance(cache.layers, list) or len(cache.layers) != L \
            or not all(isinstance(rec, RecurrenceCache) for rec in cache.layers):
        n = len(cache.layers) if isinstance(cache.layers, list) else type(cache.layers).__name__
        raise ValueError(f"cache does not match params: it was made by stacked_forward with "
                         f"{n} layer(s), these params have {L}")
    T, B = np.shape(cache.o)[:2]
    for l, rec in enumerate(cache.layers, start=1):
        d_in = d if l == 1 else m
        check_cache(rec, RecurrenceCache, "stacked_forward", name=f"cache.layers[{l - 1}]",
                    shapes={"x": (T, B, d_in), "h": (T + 1, B, m), "a": (T, B, m)}, dtype=dtype)
    check_cache(cache, StackedCache, "stacked_forward",
                shapes={"o": (T, B, C), "y_hat": (T, B, C)}, dtype=dtype)
    y = _check_step_targets(y, T, B, C, cache.mask)                      # (T, B)
    return _stacked_backward(params, cache, y)


# ----------------------------------------------------------------------------------------------
# Deep input, deep transition (with or without skip), deep output
# ----------------------------------------------------------------------------------------------
def _init_deep_rnn(d, m, C, arch, k, rng, dtype):
    """The parameters of the kinds of depth in arch, N(0, 1/fan_in) weights
    and zero biases. Arguments are checked by `init_deep_rnn`."""
    params = {}
    d_x = d
    if arch["deep_input"]:
        params["Ui"] = _normal(rng, (k, d), d, dtype)          # (k, d)
        params["bi"] = np.zeros(k, dtype=dtype)                # (k,)
        d_x = k
    params["W"] = _normal(rng, (m, m), m, dtype)               # (m, m)
    params["U"] = _normal(rng, (m, d_x), d_x, dtype)           # (m, d')
    params["b"] = np.zeros(m, dtype=dtype)                     # (m,)
    if arch["deep_transition"]:
        params["W2"] = _normal(rng, (m, m), m, dtype)          # (m, m)
        params["b2"] = np.zeros(m, dtype=dtype)                # (m,)
        if arch["skip"]:
            params["Ws"] = _normal(rng, (m, m), m, dtype)      # (m, m) skip
    d_h = m
    if arch["deep_output"]:
        params["Vq"] = _normal(rng, (k, m), m, dtype)          # (k, m)
        params["bq"] = np.zeros(k, dtype=dtype)                # (k,)
        d_h = k
    params["V"] = _normal(rng, (C, d_h), d_h, dtype)           # (C, d_h)
    params["c"] = np.zeros(C, dtype=dtype)                     # (C,)
    return params


def init_deep_rnn(d, m, C, deep_input=False, deep_transition=False, skip=False, deep_output=False,
                  mlp_size=None, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Parameters of an RNN with the chosen kinds of depth (see the module docstring).

    mlp_size: width of the input and output MLPs' hidden layers (default m). ``skip`` needs
    ``deep_transition``. seed: None, a non-negative int or a np.random.Generator; dtype float64
    or float32; max_bytes: the largest size of the parameters allowed.
    """
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    arch = {name: check_bool(name, value) for name, value in
            (("deep_input", deep_input), ("deep_transition", deep_transition), ("skip", skip),
             ("deep_output", deep_output))}
    k = m if mlp_size is None else check_positive_int("mlp_size", mlp_size)
    if arch["skip"] and not arch["deep_transition"]:
        raise ValueError("skip=True needs deep_transition=True: the skip bypasses the transition MLP")
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    shapes = [(m, m), (m, k if arch["deep_input"] else d), (m,), (C, k), (C,)]
    shapes += [(k, d), (k,)] * arch["deep_input"] + [(m, m), (m,)] * arch["deep_transition"]
    shapes += [(m, m)] * arch["skip"] + [(k, m), (k,)] * arch["deep_output"]
    check_allocation(f"d={d}, m={m}, C={C}, mlp_size={k}", shapes, dtype, max_bytes)
    return _init_deep_rnn(d, m, C, arch, k, rng, dtype)


def _deep_architecture(params):
    """Which kinds of depth params has, read from its keys.
    Arguments are checked by `deep_architecture`."""
    return {"deep_input": "Ui" in params, "deep_transition": "W2" in params,
            "skip": "Ws" in params, "deep_output": "Vq" in params}


def deep_architecture(params):
    """Which kinds of depth params has: dict deep_input, deep_transition, skip, deep_output."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of NumPy arrays, got {type(params).__name__}")
    for kind, keys in (("deep input", ("Ui", "bi")), ("deep transition", ("W2", "b2")),
                       ("deep output", ("Vq", "bq"))):
        present = [k for k in keys if k in params]
        if present and len(present) < len(keys):
            missing = [k for k in keys if k not in params]
            raise KeyError(f"params has {present} but is missing {missing}: the {kind} needs both "
                           f"{keys[0]} and {keys[1]} (a model never silently drops part of its depth)")
    arch = _deep_architecture(params)
    if arch["skip"] and not arch["deep_transition"]:
        raise KeyError("params has 'Ws' (skip) but no 'W2'/'b2' (deep transition)")
    return arch


def _check_deep_params(params):
    arch = deep_architecture(params)
    keys = ["W", "U", "b", "V", "c"]
    keys += ["Ui", "bi"] * arch["deep_input"] + ["W2", "b2"] * arch["deep_transition"]
    keys += ["Ws"] * arch["skip"] + ["Vq", "bq"] * arch["deep_output"]
    dtype = check_params(params, keys)
    W = params["W"]
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"params['W'] must be square (m, m), got shape {W.shape}")
    m = W.shape[0]
    check_shape("params['b']", params["b"], (m,), f"(m,) with m={m}")
    check_shape("params['U']", params["U"], (m, None), f"(m, d') with m={m}")
    d = params["U"].shape[1]
    if arch["deep_input"]:
        check_shape("params['Ui']", params["Ui"], (d, None), f"(k, d) with k={d} (U's columns)")
        check_shape("params['bi']", params["bi"], (d,), f"(k,) with k={d}")
        d = params["Ui"].shape[1]
    if arch["deep_transition"]:
        check_shape("params['W2']", params["W2"], (m, m), f"(m, m) with m={m}")
        check_shape("params['b2']", params["b2"], (m,), f"(m,) with m={m}")
    if arch["skip"]:
        check_shape("params['Ws']", params["Ws"], (m, m), f"(m, m) with m={m}")
    d_h = m
    if arch["deep_output"]:
        check_shape("params['Vq']", params["Vq"], (None, m), f"(k, m) with m={m}")
        d_h = params["Vq"].shape[0]
        check_shape("params['bq']", params["bq"], (d_h,), f"(k,) with k={d_h}")
    check_shape("params['V']", params["V"], (None, d_h), f"(C, {d_h})")
    C = params["V"].shape[0]
    check_shape("params['c']", params["c"], (C,), f"(C,) with C={C}")
    return arch, dtype, d, m, C


@dataclass
class DeepCache:
    """The forward record of a deep RNN (arrays present only for the kinds of depth used)."""

    x: np.ndarray               # (T, B, d)
    xp: np.ndarray              # (T, B, d') x' (x itself without deep input)
    z: np.ndarray               # (T, B, m) first transition layer (h itself without deep transition)
    h: np.ndarray               # (T+1, B, m)
    q: np.ndarray               # (T, B, k) output MLP layer (h[1:] without deep output)
    o: np.ndarray               # (T, B, C)
    y_hat: np.ndarray           # (T, B, C)
    mask: Optional[np.ndarray]  # (T, B)
    arch: dict = field(default_factory=dict)
    h0_shape: tuple = ()

    def __getitem__(self, key):
        return getattr(self, key)


def _deep_forward(params, x, h0, mask):
    """The deep RNN's step (module docstring), with the kinds of depth that
    params has. Arguments are checked by `deep_forward`."""
    arch = _deep_architecture(params)
    W, U, b, V, c = (params[k] for k in ("W", "U", "b", "V", "c"))
    T, B, _ = x.shape
    m = W.shape[0]
    if arch["deep_input"]:
        Ui, bi = params["Ui"], params["bi"]
        xp = np.tanh(bi + x @ Ui.T)                            # (T, B, k) x'
    else:
        xp = x                                                 # (T, B, d)
    Ux_b = xp @ U.T + b                                        # (T, B, m)
    h = np.empty((T + 1, B, m), dtype=W.dtype)                 # (T+1, B, m)
    z = np.empty((T, B, m), dtype=W.dtype)                     # (T, B, m)
    h[0] = h0                                                  # (B, m)
    for t in range(1, T + 1):
        z[t - 1] = np.tanh(Ux_b[t - 1] + h[t - 1] @ W.T)       # (B, m) z^(t)
        if arch["deep_transition"]:
            s = params["b2"] + z[t - 1] @ params["W2"].T       # (B, m)
            if arch["skip"]:
                s = s + h[t - 1] @ params["Ws"].T              # (B, m) skip
            h[t] = np.tanh(s)                                  # (B, m) h^(t)
        else:
            h[t] = z[t - 1]                                    # (B, m) h^(t)
        if mask is not None:
            keep = ~mask[t - 1][:, None]                       # (B, 1) padded
            h[t] = np.where(keep, h[t - 1], h[t])              # (B, m)
    if arch["deep_output"]:
        Vq, bq = params["Vq"], params["bq"]
        q = np.tanh(bq + h[1:] @ Vq.T)                         # (T, B, k) q^(t)
    else:
        q = h[1:]                                              # (T, B, m)
    o = q @ V.T + c                                            # (T, B, C)
    y_hat = _softmax(o)                                         # (T, B, C)
    return DeepCache(x, xp, z, h, q, o, y_hat, mask, arch, np.shape(h0))


def deep_forward(params, x, h0=None, mask=None):
    """Run the deep RNN (kinds of depth read from params). x (T, B, d); h0 (B, m), (m,) or None."""
    arch, dtype, d, m, C = _check_deep_params(params)
    x = _check_x(x, dtype, d, source="the parameters")                   # (T, B, d)
    T, B, _ = x.shape
    mask = check_mask(mask, T, B)
    h0 = _check_initial("h0", h0, B, m, dtype)                           # (B, m) or (m,)
    return _deep_forward(params, x, h0, mask)


def _check_deep_cache(params, cache, made_by="deep_forward"):
    arch, dtype, d, m, C = _check_deep_params(params)
    check_cache(cache, DeepCache, made_by)
    if cache.arch != arch:
        raise TypeError(f"cache must be the DeepCache returned by deep_forward with params of this "
                        f"architecture: the cache has {cache.arch}, params have {arch}")
    check_cache(cache, DeepCache, made_by, shapes={"x": (None, None, d)})
    T, B, _ = cache.x.shape
    k = cache.q.shape[2] if np.ndim(cache.q) == 3 else None
    check_cache(cache, DeepCache, made_by, dtype=dtype,
                shapes={"h": (T + 1, B, m), "z": (T, B, m), "xp": (T, B, params["U"].shape[1]),
                        "q": (T, B, k), "o": (T, B, C), "y_hat": (T, B, C)})
    return arch, dtype, d, m, C, T, B


def _deep_backward(params, cache, y):
    """Backwards through every step of the deep RNN (see `deep_backward`).
    Arguments are checked by `deep_backward`."""
    arch = cache.arch
    W, U, V = params["W"], params["U"], params["V"]
    x, xp, z, h, q, mask = (cache.x, cache.xp, cache.z, cache.h, cache.q,
                            cache.mask)
    T, B, _ = x.shape
    m = W.shape[0]

    def flat(arr):                                             # (T*B, n)
        return arr.reshape(T * B, arr.shape[2])

    loss, do = _rnn_loss(cache, y)                              # (T, B, C)
    grads = {"V": flat(do).T @ flat(q), "c": do.sum(axis=(0, 1))}
    dq = do @ V                                                # (T, B, k)
    if arch["deep_output"]:
        dr = dq * (1 - q * q)                                  # (T, B, k)
        grads["Vq"] = flat(dr).T @ flat(h[1:])                 # (k, m)
        grads["bq"] = dr.sum(axis=(0, 1))                      # (k,)
        dh_out = dr @ params["Vq"]                             # (T, B, m)
    else:
        dh_out = dq                                            # (T, B, m)
    real = np.ones((T, B, 1), dtype=W.dtype)                   # (T, B, 1)
    if mask is not None:
        real = mask[:, :, None].astype(W.dtype)                # (T, B, 1)
    da = np.empty((T, B, m), dtype=W.dtype)                    # (T, B, m)
    ds = np.zeros((T, B, m), dtype=W.dtype)                    # (T, B, m)
    dh_next = np.zeros((B, m), dtype=W.dtype)                  # (B, m)
    for t in range(T - 1, -1, -1):
        g = dh_out[t] + dh_next                                # (B, m) dJ/dh
        if arch["deep_transition"]:
            ds[t] = g * (1 - h[t + 1] ** 2) * real[t]          # (B, m)
            da[t] = (ds[t] @ params["W2"]) * (1 - z[t] ** 2)   # (B, m)
            dh_next = da[t] @ W                                # (B, m)
            if arch["skip"]:
                dh_next = dh_next + ds[t] @ params["Ws"]       # (B, m)
        else:
            da[t] = g * (1 - z[t] ** 2) * real[t]              # (B, m)
            dh_next = da[t] @ W                                # (B, m)
        dh_next = dh_next + g * (1 - real[t])                  # (B, m) padded
    grads["W"] = flat(da).T @ flat(h[:-1])                     # (m, m)
    grads["U"] = flat(da).T @ flat(xp)                         # (m, d')
    grads["b"] = da.sum(axis=(0, 1))                           # (m,)
    if arch["deep_transition"]:
        grads["W2"] = flat(ds).T @ flat(z)                     # (m, m)
        grads["b2"] = ds.sum(axis=(0, 1))                      # (m,)
        if arch["skip"]:
            grads["Ws"] = flat(ds).T @ flat(h[:-1])            # (m, m)
    if arch["deep_input"]:
        dxi = (da @ U) * (1 - xp * xp)                         # (T, B, k)
        grads["Ui"] = flat(dxi).T @ flat(x)                    # (k, d)
        grads["bi"] = dxi.sum(axis=(0, 1))                     # (k,)
    shared = cache.h0_shape == (m,)                            # h0 was (m,)
    grads["h0"] = dh_next.sum(axis=0) if shared else dh_next   # (m,) or (B, m)
    return loss, grads


def deep_backward(params, cache, y):
    """Loss and gradients of the deep RNN. y (T, B) int. Returns (loss, grads) with "h0".

    Backwards through one step (deep transition with skip; drop the parts a model lacks):

        dJ/dq = V^T dJ/do,  dJ/dh += V_q^T (dJ/dq * (1 - q^2))        (deep output)
        ds    = g * (1 - h^2)           where g is the total dJ/dh^(t)
        da    = (W_2^T ds) * (1 - z^2)
        dJ/dh^(t-1) = W^T da + W_s^T ds,    dJ/dx' = U^T da,   dJ/dx = U_i^T (dJ/dx' * (1 - x'^2))
    """
    arch, dtype, d, m, C, T, B = _check_deep_cache(params, cache)
    y = _check_step_targets(y, T, B, C, cache.mask)                      # (T, B)
    return _deep_backward(params, cache, y)


def _deep_step_jacobians(params, cache):
    """dh^(t)/dh^(t-1) of every step (see `deep_step_jacobians`).
    Arguments are checked by `deep_step_jacobians`."""
    arch = cache.arch
    W = params["W"]
    z, h, mask = cache.z, cache.h, cache.mask
    m = W.shape[0]
    inner = (1 - z * z)[..., None] * W                         # (T, B, m, m)
    if arch["deep_transition"]:
        W2 = params["W2"]
        outer = np.einsum("ij,tbjk->tbik", W2, inner)          # (T, B, m, m)
        if arch["skip"]:
            outer = outer + params["Ws"]                       # (T, B, m, m)
        jac = (1 - h[1:] ** 2)[..., None] * outer              # (T, B, m, m)
    else:
        jac = inner                                            # (T, B, m, m)
    if mask is not None:
        real = mask[:, :, None, None]                          # (T, B, 1, 1)
        jac = np.where(real, jac, np.eye(m, dtype=W.dtype))    # padded: I
    return jac


def deep_step_jacobians(params, cache, max_bytes=DEFAULT_MAX_BYTES):
    """The Jacobians dh^(t)/dh^(t-1) of every step, (T, B, m, m): row i, column j is
    d h_i^(t) / d h_j^(t-1).

        shallow:           diag(1 - z^2) W                     (h = z)
        deep transition:   diag(1 - h^2) (W_2 diag(1 - z^2) W [+ W_s])

    At a padded step h^(t) = h^(t-1), so the Jacobian is the identity. Their product over steps
    k+1..t is dh^(t)/dh^(k), the factor by which backpropagation through time scales a gradient
    travelling from step t back to step k. max_bytes: the largest result (and each of its two
    temporaries) allowed.
    """
    arch, dtype, d, m, C, T, B = _check_deep_cache(params, cache)
    check_allocation(f"T={T}, B={B}, m={m}", (T, B, m, m), dtype, max_bytes)
    return _deep_step_jacobians(params, cache)


# ----------------------------------------------------------------------------------------------
# The unrolled graph and its shortest paths
# ----------------------------------------------------------------------------------------------
def _unrolled_graph(T, layers, transition_depth, skip, input_depth,
                    output_depth):
    """The deep RNN unrolled over T steps as {node: [successors]} (see
    `unrolled_graph`). Arguments are checked by `unrolled_graph`."""
    graph = {}

    def edge(u, v):
        graph.setdefault(u, []).append(v)
        graph.setdefault(v, [])

    for l in range(1, layers + 1):
        graph.setdefault(("h", l, 0), [])                      # h_l^(0)
    for t in range(1, T + 1):
        chain = [("x", t)] + [("xi", t, i) for i in range(1, input_depth)]
        for u, v in zip(chain, chain[1:]):
            edge(u, v)                                         # input MLP
        below = chain[-1]                                      # feeds layer 1
        for l in range(1, layers + 1):
            steps = [("z", l, t, i) for i in range(1, transition_depth)]
            steps.append(("h", l, t))                          # ... -> h_l^(t)
            edge(("h", l, t - 1), steps[0])                    # recurrence
            edge(below, steps[0])                              # from below
            for u, v in zip(steps, steps[1:]):
                edge(u, v)                                     # transition MLP
            if skip:
                edge(("h", l, t - 1), ("h", l, t))             # the skip
            below = ("h", l, t)
        chain = [below] + [("q", t, i) for i in range(1, output_depth)]
        chain.append(("o", t))
        for u, v in zip(chain, chain[1:]):
            edge(u, v)                                         # output MLP
    return graph


def _check_graph_args(T, layers, transition_depth, skip, input_depth, output_depth, max_nodes):
    T = check_positive_int("T", T)
    layers = check_positive_int("layers", layers)
    transition_depth = check_positive_int("transition_depth", transition_depth)
    skip = check_bool("skip", skip)
    input_depth = check_positive_int("input_depth", input_depth)
    output_depth = check_positive_int("output_depth", output_depth)
    if skip and transition_depth == 1:
        raise ValueError("skip=True needs transition_depth >= 2: with one layer the skip is the edge itself")
    max_nodes = check_positive_int("max_nodes", max_nodes)
    nodes = layers + T * (input_depth + layers * transition_depth + output_depth)
    if nodes > max_nodes:
        raise ValueError(
            f"T={T}, layers={layers}, transition_depth={transition_depth}, input_depth={input_depth}, "
            f"output_depth={output_depth} would build a graph of {nodes} nodes, more than "
            f"max_nodes={max_nodes}; choose smaller sizes, or pass a larger max_nodes"
        )
    return T, layers, transition_depth, skip, input_depth, output_depth


def unrolled_graph(T, layers=1, transition_depth=1, skip=False, input_depth=1, output_depth=1,
                   max_nodes=DEFAULT_MAX_NODES):
    """The computational graph of a deep RNN unrolled over T steps, as {node: [successors]}.

    Nodes: ("x", t) inputs, ("h", l, t) hidden states of layer l (t = 0 is h0), ("o", t) outputs,
    and the intermediate layers ("xi", t, i), ("z", l, t, i), ("q", t, i) of the input, transition
    and output MLPs. Edges, at each t = 1..T:
      x^(t) -> [input_depth - 1 MLP layers] -> the first transition node of layer 1;
      h_l^(t-1) -> first transition node of layer l -> ... -> h_l^(t): transition_depth edges;
      skip: also h_l^(t-1) -> h_l^(t) directly (one edge);
      h_{l-1}^(t) -> first transition node of layer l (stacked layers);
      h_L^(t) -> [output_depth - 1 MLP layers] -> o^(t).
    A shallow RNN is all depths 1: x^(t) -> h^(t) -> o^(t) and h^(t-1) -> h^(t).
    max_nodes: the largest graph built (a ValueError beyond it, before building).
    """
    args = _check_graph_args(T, layers, transition_depth, skip, input_depth, output_depth, max_nodes)
    return _unrolled_graph(*args)


def _shortest_path(graph, source, target):
    """Breadth-first search: the number of edges on the shortest path from
    source to target, None when target is unreachable. Arguments are checked
    by `shortest_path`."""
    distance = {source: 0}                                     # node -> edges
    queue = deque([source])                                    # nodes to visit
    while queue:
        u = queue.popleft()
        if u == target:
            return distance[u]
        for v in graph[u]:
            if v not in distance:
                distance[v] = distance[u] + 1                  # one edge more
                queue.append(v)
    return None


def shortest_path(graph, source, target):
    """The number of edges on the shortest directed path from source to target (breadth-first
    search); None when target cannot be reached."""
    if not isinstance(graph, dict):
        raise TypeError(f"graph must be a dict {{node: [successors]}}, got {type(graph).__name__}")
    for name, node in (("source", source), ("target", target)):
        try:
            known = node in graph
        except TypeError as error:
            raise TypeError(f"{name} must be a hashable node of the graph, got "
                            f"{type(node).__name__} {node!r}") from error
        if not known:
            raise KeyError(f"{name} {node!r} is not a node of the graph")
    for u, successors in graph.items():
        if not isinstance(successors, (list, tuple, set, frozenset)):
            raise TypeError(f"graph[{u!r}] must be a list of successor nodes, got "
                            f"{type(successors).__name__}")
        for v in successors:
            try:
                known = v in graph
            except TypeError:
                known = False
            if not known:
                raise ValueError(f"graph: node {u!r} has the successor {v!r}, which is not a node "
                                 f"of the graph (every successor needs its own entry)")
    return _shortest_path(graph, source, target)


def _path_between_steps(k, layers, transition_depth, skip, input_depth,
                        output_depth):
    """Shortest path from x^(1) to o^(1+k) of the unrolled graph.
    Arguments are checked by `path_between_steps`."""
    graph = _unrolled_graph(k + 1, layers, transition_depth, skip, input_depth,
                            output_depth)
    return _shortest_path(graph, ("x", 1), ("o", k + 1))


def path_between_steps(k, layers=1, transition_depth=1, skip=False, input_depth=1, output_depth=1,
                       max_nodes=DEFAULT_MAX_NODES):
    """Shortest path, in edges, from x^(1) to o^(1+k) of the unrolled graph: how many
    nonlinear steps separate an input from the output k steps later."""
    k = check_positive_int("k", k, minimum=0)
    args = _check_graph_args(k + 1, layers, transition_depth, skip, input_depth, output_depth,
                             max_nodes)
    return _path_between_steps(k, *args[1:])


def _hidden_path(k, layers, transition_depth, skip):
    """Shortest path from h_L^(1) to h_L^(1+k) in the top layer.
    Arguments are checked by `hidden_path`."""
    graph = _unrolled_graph(k + 1, layers, transition_depth, skip, 1, 1)
    return _shortest_path(graph, ("h", layers, 1), ("h", layers, k + 1))


def hidden_path(k, layers=1, transition_depth=1, skip=False, max_nodes=DEFAULT_MAX_NODES):
    """Shortest path, in edges, from h_L^(1) to h_L^(1+k) in the top layer."""
    k = check_positive_int("k", k, minimum=0)
    _, layers, transition_depth, skip, _, _ = _check_graph_args(
        k + 1, layers, transition_depth, skip, 1, 1, max_nodes)
    return _hidden_path(k, layers, transition_depth, skip)
