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
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ._checks import as_float_array, check_mask, check_params, check_positive_int, check_shape
from .losses import softmax
from .patterns import recurrence_backward, recurrence_forward
from .rnn import _check_state, rnn_loss


def _normal(rng, shape, fan_in, dtype):
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a float dtype such as float64 or float32, got {dtype}")
    return dtype


def _check_input(x, dtype, d):
    x = as_float_array("x", x, dtype=dtype, ndim=3)                      # (T, B, d)
    T, B, _ = x.shape
    if T == 0 or B == 0:
        raise ValueError(f"x must have at least one step and one example, got shape {x.shape}")
    check_shape("x", x, (T, B, d), f"(T, B, d) with d={d} from the parameters")
    return x


# ----------------------------------------------------------------------------------------------
# Stacked RNN
# ----------------------------------------------------------------------------------------------
def init_stacked_rnn(d, m, C, layers=2, seed=0, dtype=np.float64):
    """Parameters of an L-layer stacked RNN: W_l (m, m), U_1 (m, d), U_l (m, m), b_l (m,), V (C, m), c (C,)."""
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    layers = check_positive_int("layers", layers)
    dtype = _check_dtype(dtype)
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, layers + 1):
        d_in = d if l == 1 else m
        params[f"W{l}"] = _normal(rng, (m, m), m, dtype)                 # (m, m)
        params[f"U{l}"] = _normal(rng, (m, d_in), d_in, dtype)           # (m, d) or (m, m)
        params[f"b{l}"] = np.zeros(m, dtype=dtype)                       # (m,)
    params["V"] = _normal(rng, (C, m), m, dtype)                         # (C, m)
    params["c"] = np.zeros(C, dtype=dtype)                               # (C,)
    return params


def stacked_layers(params):
    """The number of layers L of a stacked RNN's params (keys W1..WL)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of NumPy arrays, got {type(params).__name__}")
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    if L == 0:
        raise KeyError("params has no 'W1': a stacked RNN needs W1, U1, b1, ..., V, c")
    return L


@dataclass
class StackedCache:
    """The forward record of a stacked RNN: one RecurrenceCache per layer (bottom first)."""

    layers: list                # L RecurrenceCache
    o: np.ndarray               # (T, B, C)
    y_hat: np.ndarray           # (T, B, C)
    mask: Optional[np.ndarray]  # (T, B)
    h0_given: bool

    @property
    def h(self):
        """The top layer's hidden states (T+1, B, m)."""
        return self.layers[-1].h

    def __getitem__(self, key):
        return getattr(self, key)


def stacked_forward(params, x, h0=None, mask=None):
    """Run the stacked RNN. x (T, B, d); h0 (L, B, m) or None; mask (T, B) or None."""
    L = stacked_layers(params)
    keys = [k for l in range(1, L + 1) for k in (f"W{l}", f"U{l}", f"b{l}")] + ["V", "c"]
    dtype = check_params(params, keys)
    m, d, C = params["W1"].shape[0], params["U1"].shape[1], params["V"].shape[0]
    for l in range(1, L + 1):
        check_shape(f"params['W{l}']", params[f"W{l}"], (m, m), f"(m, m) with m={m}")
        check_shape(f"params['U{l}']", params[f"U{l}"], (m, d if l == 1 else m), "(m, d) for layer 1, (m, m) above")
        check_shape(f"params['b{l}']", params[f"b{l}"], (m,), f"(m,) with m={m}")
    check_shape("params['V']", params["V"], (C, m), f"(C, m) with m={m}")
    check_shape("params['c']", params["c"], (C,), f"(C,) with C={C}")
    x = _check_input(x, dtype, d)                                        # (T, B, d)
    T, B, _ = x.shape
    mask = check_mask(mask, T, B)
    if h0 is None:
        h0_all = np.zeros((L, B, m), dtype=dtype)                        # (L, B, m)
    else:
        h0_all = as_float_array("h0", h0, dtype=dtype, ndim=3)
        check_shape("h0", h0_all, (L, B, m), f"(L, B, m) = ({L}, {B}, {m})")
    V, c = params["V"], params["c"]

    caches, layer_input = [], x                                          # (T, B, d)
    for l in range(1, L + 1):
        W, U, b = params[f"W{l}"], params[f"U{l}"], params[f"b{l}"]
        cache = recurrence_forward(W, U, b, layer_input, h0_all[l - 1], mask)  # h (T+1, B, m)
        caches.append(cache)
        layer_input = cache.h[1:]                                        # (T, B, m) h_l feeds layer l+1
    o = layer_input @ V.T + c                                            # (T, B, C) from the top layer
    return StackedCache(caches, o, softmax(o), mask, h0 is not None)


def stacked_backward(params, cache, y):
    """Loss and gradients of the stacked RNN: BPTT in the top layer, whose dJ/dx is the dJ/dh
    arriving at the layer below, and so on down. Returns (loss, grads) with "h0" (L, B, m)."""
    L = stacked_layers(params)
    if not isinstance(cache, StackedCache) or len(cache.layers) != L:
        raise TypeError("cache must be the StackedCache returned by stacked_forward with these params")
    V = params["V"]
    loss, do = rnn_loss(cache, y)                                        # do: (T, B, C)
    top = cache.layers[-1].h[1:]                                         # (T, B, m)
    T, B, m = top.shape
    grads = {"V": do.reshape(T * B, -1).T @ top.reshape(T * B, m),      # (C, m)
             "c": do.sum(axis=(0, 1))}                                   # (C,)
    dh = do @ V                                                          # (T, B, m) into layer L
    dh0 = np.empty((L, B, m), dtype=top.dtype)                           # (L, B, m)
    for l in range(L, 0, -1):
        W, U = params[f"W{l}"], params[f"U{l}"]
        dh, dh0[l - 1], layer_grads = recurrence_backward(W, U, cache.layers[l - 1], dh)  # dh: into layer l-1
        for k, g in layer_grads.items():
            grads[f"{k}{l}"] = g
    grads["h0"] = dh0
    return loss, grads


# ----------------------------------------------------------------------------------------------
# Deep input, deep transition (with or without skip), deep output
# ----------------------------------------------------------------------------------------------
def init_deep_rnn(d, m, C, deep_input=False, deep_transition=False, skip=False, deep_output=False,
                  mlp_size=None, seed=0, dtype=np.float64):
    """Parameters of an RNN with the chosen kinds of depth (see the module docstring).

    mlp_size: width of the input and output MLPs' hidden layers (default m). ``skip`` needs
    ``deep_transition``.
    """
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    k = m if mlp_size is None else check_positive_int("mlp_size", mlp_size)
    if skip and not deep_transition:
        raise ValueError("skip=True needs deep_transition=True: the skip bypasses the transition MLP")
    dtype = _check_dtype(dtype)
    rng = np.random.default_rng(seed)
    params = {}
    d_x = d
    if deep_input:
        params["Ui"] = _normal(rng, (k, d), d, dtype)                    # (k, d)
        params["bi"] = np.zeros(k, dtype=dtype)                          # (k,)
        d_x = k
    params["W"] = _normal(rng, (m, m), m, dtype)                         # (m, m)
    params["U"] = _normal(rng, (m, d_x), d_x, dtype)                     # (m, d') d' = k or d
    params["b"] = np.zeros(m, dtype=dtype)                               # (m,)
    if deep_transition:
        params["W2"] = _normal(rng, (m, m), m, dtype)                    # (m, m)
        params["b2"] = np.zeros(m, dtype=dtype)                          # (m,)
        if skip:
            params["Ws"] = _normal(rng, (m, m), m, dtype)                 # (m, m) skip h^(t-1) -> h^(t)
    d_h = m
    if deep_output:
        params["Vq"] = _normal(rng, (k, m), m, dtype)                    # (k, m)
        params["bq"] = np.zeros(k, dtype=dtype)                          # (k,)
        d_h = k
    params["V"] = _normal(rng, (C, d_h), d_h, dtype)                     # (C, k) or (C, m)
    params["c"] = np.zeros(C, dtype=dtype)                               # (C,)
    return params


def deep_architecture(params):
    """Which kinds of depth params has: dict deep_input, deep_transition, skip, deep_output."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of NumPy arrays, got {type(params).__name__}")
    arch = {"deep_input": "Ui" in params, "deep_transition": "W2" in params,
            "skip": "Ws" in params, "deep_output": "Vq" in params}
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


def deep_forward(params, x, h0=None, mask=None):
    """Run the deep RNN (kinds of depth read from params). x (T, B, d); h0 (B, m), (m,) or None."""
    arch, dtype, d, m, C = _check_deep_params(params)
    x = _check_input(x, dtype, d)                                        # (T, B, d)
    T, B, _ = x.shape
    mask = check_mask(mask, T, B)
    h0_shape = (m,) if (h0 is not None and np.ndim(h0) == 1) else (B, m)
    h0 = _check_state("h0", h0, B, m, dtype)                              # (B, m)
    W, U, b, V, c = (params[k] for k in ("W", "U", "b", "V", "c"))

    if arch["deep_input"]:
        Ui, bi = params["Ui"], params["bi"]
        xp = np.tanh(bi + x @ Ui.T)                                      # (T, B, k) x'^(t)
    else:
        xp = x                                                           # (T, B, d)
    Ux_b = xp @ U.T + b                                                  # (T, B, m)
    h = np.empty((T + 1, B, m), dtype=dtype)                             # (T+1, B, m)
    z = np.empty((T, B, m), dtype=dtype)                                 # (T, B, m)
    h[0] = h0
    for t in range(1, T + 1):
        z[t - 1] = np.tanh(Ux_b[t - 1] + h[t - 1] @ W.T)                 # (B, m) z^(t)
        if arch["deep_transition"]:
            s = params["b2"] + z[t - 1] @ params["W2"].T                 # (B, m)
            if arch["skip"]:
                s = s + h[t - 1] @ params["Ws"].T                        # (B, m) the skip
            h[t] = np.tanh(s)                                            # (B, m) h^(t)
        else:
            h[t] = z[t - 1]                                              # (B, m)
        if mask is not None:
            h[t] = np.where(mask[t - 1][:, None], h[t], h[t - 1])        # (B, m) padded: keep h
    if arch["deep_output"]:
        Vq, bq = params["Vq"], params["bq"]
        q = np.tanh(bq + h[1:] @ Vq.T)                                   # (T, B, k) q^(t)
    else:
        q = h[1:]                                                        # (T, B, m)
    o = q @ V.T + c                                                      # (T, B, C)
    return DeepCache(x, xp, z, h, q, o, softmax(o), mask, arch, h0_shape)


def deep_backward(params, cache, y):
    """Loss and gradients of the deep RNN. y (T, B) int. Returns (loss, grads) with "h0".

    Backwards through one step (deep transition with skip; drop the parts a model lacks):

        dJ/dq = V^T dJ/do,  dJ/dh += V_q^T (dJ/dq * (1 - q^2))        (deep output)
        ds    = g * (1 - h^2)           where g is the total dJ/dh^(t)
        da    = (W_2^T ds) * (1 - z^2)
        dJ/dh^(t-1) = W^T da + W_s^T ds,    dJ/dx' = U^T da,   dJ/dx = U_i^T (dJ/dx' * (1 - x'^2))
    """
    arch, dtype, d, m, C = _check_deep_params(params)
    if not isinstance(cache, DeepCache) or cache.arch != arch:
        raise TypeError("cache must be the DeepCache returned by deep_forward with params of this architecture")
    W, U, V = params["W"], params["U"], params["V"]
    x, xp, z, h, q, mask = cache.x, cache.xp, cache.z, cache.h, cache.q, cache.mask
    T, B, _ = x.shape
    if h.shape[2] != m or cache.o.shape[2] != C:
        raise ValueError("cache does not match params: it was made with other parameter shapes")

    loss, do = rnn_loss(cache, y)                                        # (T, B, C)
    flat = lambda arr: arr.reshape(T * B, arr.shape[2])                  # noqa: E731  (T*B, n)
    grads = {"V": flat(do).T @ flat(q), "c": do.sum(axis=(0, 1))}        # (C, k), (C,)
    dq = do @ V                                                          # (T, B, k)
    if arch["deep_output"]:
        dr = dq * (1 - q * q)                                            # (T, B, k)
        grads["Vq"] = flat(dr).T @ flat(h[1:])                           # (k, m)
        grads["bq"] = dr.sum(axis=(0, 1))                                # (k,)
        dh_out = dr @ params["Vq"]                                       # (T, B, m)
    else:
        dh_out = dq                                                      # (T, B, m)

    real = np.ones((T, B, 1), dtype=dtype) if mask is None else mask[:, :, None].astype(dtype)  # (T, B, 1)
    da = np.empty((T, B, m), dtype=dtype)                                # (T, B, m)
    ds = np.zeros((T, B, m), dtype=dtype)                                # (T, B, m)
    dh_next = np.zeros((B, m), dtype=dtype)                              # (B, m)
    for t in range(T - 1, -1, -1):
        g = dh_out[t] + dh_next                                          # (B, m) dJ/dh^(t+1)
        if arch["deep_transition"]:
            ds[t] = g * (1 - h[t + 1] ** 2) * real[t]                    # (B, m)
            da[t] = (ds[t] @ params["W2"]) * (1 - z[t] ** 2)             # (B, m)
            dh_next = da[t] @ W                                          # (B, m)
            if arch["skip"]:
                dh_next = dh_next + ds[t] @ params["Ws"]                 # (B, m)
        else:
            da[t] = g * (1 - z[t] ** 2) * real[t]                        # (B, m)
            dh_next = da[t] @ W                                          # (B, m)
        dh_next = dh_next + g * (1 - real[t])                            # (B, m) padded: h passes on

    grads["W"] = flat(da).T @ flat(h[:-1])                               # (m, m)
    grads["U"] = flat(da).T @ flat(xp)                                   # (m, d')
    grads["b"] = da.sum(axis=(0, 1))                                     # (m,)
    if arch["deep_transition"]:
        grads["W2"] = flat(ds).T @ flat(z)                               # (m, m)
        grads["b2"] = ds.sum(axis=(0, 1))                                # (m,)
        if arch["skip"]:
            grads["Ws"] = flat(ds).T @ flat(h[:-1])                      # (m, m)
    if arch["deep_input"]:
        dxi = (da @ U) * (1 - xp * xp)                                   # (T, B, k)
        grads["Ui"] = flat(dxi).T @ flat(x)                              # (k, d)
        grads["bi"] = dxi.sum(axis=(0, 1))                               # (k,)
    grads["h0"] = dh_next.sum(axis=0) if cache.h0_shape == (m,) else dh_next  # (m,) or (B, m)
    return loss, grads


def deep_step_jacobians(params, cache):
    """The Jacobians dh^(t)/dh^(t-1) of every step, (T, B, m, m): row i, column j is
    d h_i^(t) / d h_j^(t-1).

        shallow:           diag(1 - z^2) W                     (h = z)
        deep transition:   diag(1 - h^2) (W_2 diag(1 - z^2) W [+ W_s])

    At a padded step h^(t) = h^(t-1), so the Jacobian is the identity. Their product over steps
    k+1..t is dh^(t)/dh^(k), the factor by which backpropagation through time scales a gradient
    travelling from step t back to step k.
    """
    arch, dtype, d, m, C = _check_deep_params(params)
    if not isinstance(cache, DeepCache) or cache.arch != arch or cache.h.shape[2] != m:
        raise TypeError("cache must be the DeepCache returned by deep_forward with these params")
    W = params["W"]
    z, h, mask = cache.z, cache.h, cache.mask
    T, B, _ = z.shape
    inner = (1 - z * z)[..., None] * W                                  # (T, B, m, m) dz/dh_prev
    if arch["deep_transition"]:
        outer = np.einsum("ij,tbjk->tbik", params["W2"], inner)          # (T, B, m, m) W_2 dz/dh_prev
        if arch["skip"]:
            outer = outer + params["Ws"]                                 # (T, B, m, m) + W_s
        jac = (1 - h[1:] ** 2)[..., None] * outer                        # (T, B, m, m)
    else:
        jac = inner                                                      # (T, B, m, m)
    if mask is not None:
        jac = np.where(mask[:, :, None, None], jac, np.eye(m, dtype=dtype))  # padded: identity
    return jac


# ----------------------------------------------------------------------------------------------
# The unrolled graph and its shortest paths
# ----------------------------------------------------------------------------------------------
def unrolled_graph(T, layers=1, transition_depth=1, skip=False, input_depth=1, output_depth=1):
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
    """
    T = check_positive_int("T", T)
    layers = check_positive_int("layers", layers)
    transition_depth = check_positive_int("transition_depth", transition_depth)
    input_depth = check_positive_int("input_depth", input_depth)
    output_depth = check_positive_int("output_depth", output_depth)
    if skip and transition_depth == 1:
        raise ValueError("skip=True needs transition_depth >= 2: with one layer the skip is the edge itself")
    graph = {}

    def edge(u, v):
        graph.setdefault(u, []).append(v)
        graph.setdefault(v, [])

    for l in range(1, layers + 1):
        graph.setdefault(("h", l, 0), [])
    for t in range(1, T + 1):
        chain = [("x", t)] + [("xi", t, i) for i in range(1, input_depth)]
        for u, v in zip(chain, chain[1:]):
            edge(u, v)
        below = chain[-1]                                                # what feeds layer 1
        for l in range(1, layers + 1):
            steps = [("z", l, t, i) for i in range(1, transition_depth)] + [("h", l, t)]
            edge(("h", l, t - 1), steps[0])
            edge(below, steps[0])
            for u, v in zip(steps, steps[1:]):
                edge(u, v)
            if skip:
                edge(("h", l, t - 1), ("h", l, t))
            below = ("h", l, t)
        chain = [below] + [("q", t, i) for i in range(1, output_depth)] + [("o", t)]
        for u, v in zip(chain, chain[1:]):
            edge(u, v)
    return graph


def shortest_path(graph, source, target):
    """The number of edges on the shortest directed path from source to target (breadth-first
    search); None when target cannot be reached."""
    if not isinstance(graph, dict):
        raise TypeError(f"graph must be a dict {{node: [successors]}}, got {type(graph).__name__}")
    for name, node in (("source", source), ("target", target)):
        if node not in graph:
            raise KeyError(f"{name} {node!r} is not a node of the graph")
    distance, queue = {source: 0}, deque([source])
    while queue:
        u = queue.popleft()
        if u == target:
            return distance[u]
        for v in graph[u]:
            if v not in distance:
                distance[v] = distance[u] + 1
                queue.append(v)
    return None


def path_between_steps(k, layers=1, transition_depth=1, skip=False, input_depth=1, output_depth=1):
    """Shortest path, in edges, from x^(1) to o^(1+k) of the unrolled graph: how many
    nonlinear steps separate an input from the output k steps later."""
    k = check_positive_int("k", k, minimum=0)
    graph = unrolled_graph(k + 1, layers, transition_depth, skip, input_depth, output_depth)
    return shortest_path(graph, ("x", 1), ("o", k + 1))


def hidden_path(k, layers=1, transition_depth=1, skip=False):
    """Shortest path, in edges, from h_L^(1) to h_L^(1+k) in the top layer."""
    k = check_positive_int("k", k, minimum=0)
    graph = unrolled_graph(k + 1, layers, transition_depth, skip)
    return shortest_path(graph, ("h", layers, 1), ("h", layers, k + 1))
