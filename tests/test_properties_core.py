"""Property-based tests of every public function of rnnlib's core modules (issue 18).

For each function in the ``__all__`` of rnn, lstm, gru, optim, losses, activations, gradcheck,
train and text, hypothesis generates valid inputs of edge sizes (T, B, d, m, C down to 1, float64
and float32, masks, h0 as None, (m,) or (B, m), single sequences) and inputs with one argument
wrong at a time (shapes, dtypes, NaN and inf, wrong types, seeds, empty arrays, caches of another
model or size). Each example asserts one of two things:

* a ValueError, TypeError or KeyError (or the documented FloatingPointError / RuntimeWarning for
  numerics that overflow) whose message names the argument, or
* a result equal to an independent reference written here: a hand-unrolled per-example loop of
  the lecture's equations, a closed form, or centred finite differences in float64
  (relative error < 1e-7).

It also checks the structure issue 12 asks for: the plain functions the chapters show contain no
argument checks and fit the book's 80-column code listing, and a params dict is validated once
per public call.

Budget: a few dozen to a few hundred examples per function, the whole file well under a minute
on one core. ``HYPOTHESIS_PROFILE=ci`` (derandomized, the same examples every run) is what CI
uses; the default profile draws fresh examples. ``test_zz_summary`` prints how many public
functions were covered and how many inputs were tried.
"""
from __future__ import annotations

import collections
import importlib
import inspect
import math
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rnnlib
from rnnlib import _checks

settings.register_profile("ci", deadline=None, database=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

MODULES = {name: importlib.import_module(f"rnnlib.{name}") for name in
           ("rnn", "lstm", "gru", "optim", "losses", "activations", "gradcheck", "train", "text")}
rnn_mod, lstm_mod, gru_mod = MODULES["rnn"], MODULES["lstm"], MODULES["gru"]
optim_mod, losses_mod, act_mod = MODULES["optim"], MODULES["losses"], MODULES["activations"]
gc_mod, train_mod, text_mod = MODULES["gradcheck"], MODULES["train"], MODULES["text"]

TRIED = collections.Counter()           # public name -> inputs tried (in this process)
COVERED = set()                         # public names some test below exercises


def covers(*names):
    COVERED.update(names)
    return lambda fn: fn


def tried(name):
    TRIED[name] += 1


def names(message, *words):
    """True if the message names one of the words (as a word, not inside another)."""
    return any(re.search(r"(?<![A-Za-z0-9_])" + re.escape(w) + r"(?![A-Za-z0-9_])", message)
               for w in words)


def expect_error(fn, *words, types=(ValueError, TypeError, KeyError)):
    """fn() must raise one of ``types`` with a message naming one of ``words``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(types) as info:
            fn()
    message = str(info.value)
    assert names(message, *words), f"{words} not named in {type(info.value).__name__}: {message}"
    assert "Traceback" not in message
    return info.value


def close(got, want, dtype):
    tol = dict(rtol=1e-10, atol=1e-12) if np.dtype(dtype) == np.float64 else dict(rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, **tol)


# ==============================================================================================
# Independent references: the lecture's equations, one example and one step at a time
# ==============================================================================================
def sig(z):
    return 0.5 * (1 + np.tanh(z / 2))                    # sigma(z), a different formula from rnnlib's


ACT = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0), "identity": lambda a: a}


def f64(params):
    return {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}


def ref_rnn_step(p, x_t, h_prev, act="tanh"):
    return ACT[act](p["b"] + p["W"] @ h_prev + p["U"] @ x_t)


def ref_lstm_step(p, x_t, h_prev, s_prev):
    z = {k: p[f"b_{k}"] + p[f"W_{k}"] @ h_prev + p[f"U_{k}"] @ x_t for k in "ifog"}
    i, f, q, g = sig(z["i"]), sig(z["f"]), sig(z["o"]), np.tanh(z["g"])
    s = f * s_prev + i * g
    return q * np.tanh(s), s


def ref_gru_step(p, x_t, h_prev):
    z = sig(p["b_z"] + p["W_z"] @ h_prev + p["U_z"] @ x_t)
    r = sig(p["b_r"] + p["W_r"] @ h_prev + p["U_r"] @ x_t)
    h_tilde = np.tanh(p["b_h"] + p["W_h"] @ (r * h_prev) + p["U_h"] @ x_t)
    return (1 - z) * h_prev + z * h_tilde


def ref_forward(kind, p, x, h0, c0=None, mask=None, act="tanh"):
    """Hidden states (T+1, B, m) [and cell states] and logits (T, B, C), per example and step."""
    p = f64(p)
    T, B, _ = x.shape
    m = p["V"].shape[1]
    H = np.zeros((T + 1, B, m))
    S = np.zeros((T + 1, B, m))
    H[0] = 0 if h0 is None else h0
    S[0] = 0 if c0 is None else c0
    for n in range(B):
        for t in range(T):
            if mask is not None and not mask[t, n]:
                H[t + 1, n], S[t + 1, n] = H[t, n], S[t, n]
            elif kind == "rnn":
                H[t + 1, n] = ref_rnn_step(p, x[t, n], H[t, n], act)
            elif kind == "lstm":
                H[t + 1, n], S[t + 1, n] = ref_lstm_step(p, x[t, n], H[t, n], S[t, n])
            else:
                H[t + 1, n] = ref_gru_step(p, x[t, n], H[t, n])
    O = np.einsum("cm,tbm->tbc", p["V"], H[1:]) + p["c"]
    return H, S, O


def ref_loss(O, y, mask):
    """J = (1/B) sum over real steps of -log softmax(o)[y], closed form per entry."""
    T, B, C = O.shape
    J = 0.0
    for t in range(T):
        for n in range(B):
            if mask is None or mask[t, n]:
                o = O[t, n]
                J += (math.log(sum(math.exp(v - o.max()) for v in o)) + o.max() - o[y[t, n]]) / B
    return J


def fd_grad(f, arrays, eps=1e-6):
    """Centred differences of the scalar f() for every entry of the float64 arrays (in place)."""
    out = {}
    for key, a in arrays.items():
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            saved = a[i]
            a[i] = saved + eps
            plus = f()
            a[i] = saved - eps
            minus = f()
            a[i] = saved
            g[i] = (plus - minus) / (2 * eps)
        out[key] = g
    return out


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else np.linalg.norm(a - b) / denominator


# ==============================================================================================
# Models: generated cases
# ==============================================================================================
MODELS = {
    "rnn": dict(init=rnnlib.init_rnn, forward=rnnlib.rnn_forward, backward=rnnlib.rnn_backward,
                step_forward=rnnlib.rnn_step_forward, step_backward=rnnlib.rnn_step_backward,
                cache=rnnlib.RNNCache, gates=None),
    "lstm": dict(init=rnnlib.init_lstm, forward=rnnlib.lstm_forward, backward=rnnlib.lstm_backward,
                 step_forward=rnnlib.lstm_step_forward, step_backward=rnnlib.lstm_step_backward,
                 cache=rnnlib.LSTMCache, gates="ifog"),
    "gru": dict(init=rnnlib.init_gru, forward=rnnlib.gru_forward, backward=rnnlib.gru_backward,
                step_forward=rnnlib.gru_step_forward, step_backward=rnnlib.gru_step_backward,
                cache=rnnlib.GRUCache, gates="zrh"),
}


class Case:
    pass


@st.composite
def model_cases(draw, kind, dtypes=(np.float64, np.float32)):
    c = Case()
    c.kind = kind
    c.T, c.B = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    c.d, c.m, c.C = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    c.dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    c.params = MODELS[kind]["init"](c.d, c.m, c.C, seed=seed, dtype=c.dtype)
    for key, value in c.params.items():                  # non-zero biases, larger weights
        value += (0.3 * rng.standard_normal(value.shape)).astype(c.dtype)
    c.x = rng.standard_normal((c.T, c.B, c.d)).astype(c.dtype)
    h0_kind = draw(st.sampled_from(["none", "vector", "batch"]))
    c.h0 = {"none": None, "vector": rng.standard_normal(c.m).astype(c.dtype) * 0.5,
            "batch": rng.standard_normal((c.B, c.m)).astype(c.dtype) * 0.5}[h0_kind]
    c.c0 = None
    if kind == "lstm" and draw(st.booleans()):
        c.c0 = rng.standard_normal((c.B, c.m)).astype(c.dtype) * 0.5
    c.mask = rng.random((c.T, c.B)) < 0.7 if draw(st.booleans()) else None
    c.y = rng.integers(0, c.C, size=(c.T, c.B))
    c.activation = draw(st.sampled_from(["tanh", "relu", "identity"])) if kind == "rnn" else "tanh"
    c.rng = rng
    return c


def forward_kwargs(c):
    kw = dict(h0=c.h0, mask=c.mask)
    if c.kind == "rnn":
        kw["activation"] = c.activation
    if c.kind == "lstm":
        kw["c0"] = c.c0
    return kw


def run_forward(c, **overrides):
    kw = {**forward_kwargs(c), **overrides}
    params = kw.pop("params", c.params)
    x = kw.pop("x", c.x)
    return MODELS[c.kind]["forward"](params, x, **kw)


# ---------------------------------------------------------------------------------- valid input
@covers("rnn_forward", "lstm_forward", "gru_forward", "rnn_loss", "rnn_backward", "lstm_backward",
        "gru_backward")
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@settings(max_examples=120)
@given(data=st.data())
def test_forward_and_loss_equal_the_hand_written_loop(kind, data):
    c = data.draw(model_cases(kind))
    tried(f"{kind}_forward")
    cache = run_forward(c)
    H, S, O = ref_forward(kind, c.params, c.x, c.h0, c.c0, c.mask, c.activation)
    close(cache.h, H, c.dtype)
    close(cache.o, O, c.dtype)
    close(cache.y_hat.sum(axis=-1), np.ones((c.T, c.B)), c.dtype)
    if kind == "lstm":
        close(cache.s, S, c.dtype)
    assert cache.h.dtype == c.dtype and cache.o.dtype == c.dtype
    tried("rnn_loss")
    loss, do = rnnlib.rnn_loss(cache, c.y)
    J = ref_loss(O, c.y, c.mask)
    close(loss, J, c.dtype)
    tried(f"{kind}_backward")
    loss_b, grads = MODELS[kind]["backward"](c.params, cache, c.y)
    close(loss_b, J, c.dtype)
    assert all(g.dtype == c.dtype for g in grads.values())


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@settings(max_examples=40)
@given(data=st.data())
def test_single_sequence_equals_a_batch_of_one(kind, data):
    c = data.draw(model_cases(kind))
    tried(f"{kind}_forward")
    x1, y1 = c.x[:, 0], c.y[:, 0]
    mask1 = None if c.mask is None else c.mask[:, 0]
    h1 = None if c.h0 is None else (c.h0 if c.h0.ndim == 1 else c.h0[0])
    kw = dict(h0=h1, mask=mask1)
    if kind == "rnn":
        kw["activation"] = c.activation
    cache1 = MODELS[kind]["forward"](c.params, x1, **kw)
    H, _, O = ref_forward(kind, c.params, c.x[:, :1], h1, None, None if mask1 is None else mask1[:, None],
                          c.activation)
    close(cache1.h, H, c.dtype)
    loss, grads = MODELS[kind]["backward"](c.params, cache1, y1)
    close(loss, ref_loss(O, y1[:, None], None if mask1 is None else mask1[:, None]), c.dtype)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@settings(max_examples=25)
@given(data=st.data())
def test_backward_equals_finite_differences_float64(kind, data):
    c = data.draw(model_cases(kind, dtypes=(np.float64,)))
    tried(f"{kind}_backward")
    cache = run_forward(c)
    _, grads = MODELS[kind]["backward"](c.params, cache, c.y)
    arrays = {k: v.copy() for k, v in c.params.items()}
    h0 = np.zeros((c.B, c.m)) if c.h0 is None else c.h0.copy()
    c0 = np.zeros((c.B, c.m)) if c.c0 is None else c.c0.copy()
    arrays["h0"] = h0
    if kind == "lstm":
        arrays["c0"] = c0

    def J():
        params = {k: v for k, v in arrays.items() if k not in ("h0", "c0")}
        _, _, O = ref_forward(kind, params, c.x, arrays["h0"], arrays.get("c0"), c.mask, c.activation)
        return ref_loss(O, c.y, c.mask)

    numeric = fd_grad(J, arrays)
    if c.h0 is None:                                     # rnnlib returns dJ/dh0 for zeros (B, m)
        assert grads["h0"].shape == (c.B, c.m)
    for key, g in numeric.items():
        assert grads[key].shape == g.shape, key
        if kind == "rnn" and c.activation == "relu" and np.any(np.abs(cache.a) < 1e-5):
            continue                                     # a kink within eps: differences are off
        floor = 1e-9 * max(1.0, abs(J()))                # the differences' own rounding noise
        assert rel(grads[key], g) < 1e-7 or np.abs(grads[key] - g).max() < floor, (key, rel(grads[key], g))


@covers("rnn_step_forward", "rnn_step_backward", "lstm_step_forward", "lstm_step_backward",
        "gru_step_forward", "gru_step_backward")
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@settings(max_examples=40)
@given(data=st.data())
def test_step_functions_equal_the_equations_and_finite_differences(kind, data):
    c = data.draw(model_cases(kind, dtypes=(np.float64,)))
    tried(f"{kind}_step_forward")
    tried(f"{kind}_step_backward")
    M = MODELS[kind]
    p = {k: v for k, v in c.params.items() if k not in ("V", "c")}
    x_t = c.x[0].copy()
    h_prev = c.rng.standard_normal((c.B, c.m))
    s_prev = c.rng.standard_normal((c.B, c.m))
    mask_t = None if c.mask is None else c.mask[0]
    G = c.rng.standard_normal((c.B, c.m))                # J = sum(G * h_t) (+ sum(Gs * s_t))
    Gs = c.rng.standard_normal((c.B, c.m))

    def ref(p_, x_, h_, s_):
        hs, ss = np.empty_like(h_), np.empty_like(s_)
        for n in range(c.B):
            if mask_t is not None and not mask_t[n]:
                hs[n], ss[n] = h_[n], s_[n]
            elif kind == "rnn":
                hs[n], ss[n] = ref_rnn_step(p_, x_[n], h_[n], c.activation), s_[n]
            elif kind == "lstm":
                hs[n], ss[n] = ref_lstm_step(p_, x_[n], h_[n], s_[n])
            else:
                hs[n], ss[n] = ref_gru_step(p_, x_[n], h_[n]), s_[n]
        return hs, ss

    h_want, s_want = ref(p, x_t, h_prev, s_prev)
    if kind == "rnn":
        h_t, cache = M["step_forward"](p, x_t, h_prev, mask_t, c.activation)
        dx, dh, grads = M["step_backward"](p, G, cache)
    elif kind == "lstm":
        h_t, s_t, cache = M["step_forward"](p, x_t, h_prev, s_prev, mask_t)
        np.testing.assert_allclose(s_t, s_want, rtol=1e-12, atol=1e-12)
        dx, dh, ds, grads = M["step_backward"](p, G, Gs, cache)
        grads = {**grads, "s_prev": ds}
    else:
        h_t, cache = M["step_forward"](p, x_t, h_prev, mask_t)
        dx, dh, grads = M["step_backward"](p, G, cache)
    np.testing.assert_allclose(h_t, h_want, rtol=1e-12, atol=1e-12)
    arrays = {**{k: v.copy() for k, v in p.items()}, "x_t": x_t, "h_prev": h_prev, "s_prev": s_prev}

    def J():
        hs, ss = ref({k: arrays[k] for k in p}, arrays["x_t"], arrays["h_prev"], arrays["s_prev"])
        return float(np.sum(G * hs) + (np.sum(Gs * ss) if kind == "lstm" else 0.0))

    numeric = fd_grad(J, arrays)
    analytic = {**grads, "x_t": dx, "h_prev": dh}
    if kind == "rnn" and c.activation == "relu" and np.any(np.abs(cache.a_t) < 1e-5):
        return
    floor = 1e-9 * max(1.0, abs(J()))                    # the differences' own rounding noise
    for key in analytic:
        ok = rel(analytic[key], numeric[key]) < 1e-7 or np.abs(analytic[key] - numeric[key]).max() < floor
        assert ok, (key, rel(analytic[key], numeric[key]))


# ---------------------------------------------------------------------------------- bad input
def bad_arrays(value, allow_none=False):
    """(label, bad value, expected exception types) for an array argument shaped like value."""
    out = [("a string", "abc", TypeError), ("a dict", {}, TypeError),
           ("strings", np.full(value.shape, "a"), TypeError),
           ("complex", value.astype(complex), TypeError),
           ("objects", np.array([object()] * max(1, value.size), dtype=object), TypeError),
           ("two more dimensions", value.reshape((1, 1) + value.shape), ValueError),
           ("last axis + 1", np.concatenate([value, value[..., :1]], axis=-1), ValueError)]
    if not allow_none:
        out.append(("None", None, TypeError))
    if value.size:
        for label, v in (("NaN", np.nan), ("inf", np.inf), ("-inf", -np.inf)):
            bad = value.astype(np.float64)
            bad.flat[bad.size // 2] = v
            out.append((label, bad, ValueError))
    return out


def bad_params(params, gates):
    """(label, bad params, words to be named, exception types), one defect at a time."""
    keys = list(params)
    out = [("not a dict", list(params.values()), ("params",), TypeError),
           ("a string", "params", ("params",), TypeError)]
    for key in keys:
        p = dict(params)
        del p[key]
        out.append((f"missing {key}", p, (key,), KeyError))
        for label, v in (("NaN", np.nan), ("inf", np.inf)):
            p = dict(params)
            p[key] = params[key].copy()
            p[key].flat[0] = v
            out.append((f"{label} in {key}", p, (key,), ValueError))
        out.append((f"int {key}", {**params, key: params[key].astype(np.int64)}, (key,), TypeError))
        out.append((f"list {key}", {**params, key: params[key].tolist()}, (key,), TypeError))
        other = np.float32 if params[key].dtype == np.float64 else np.float64
        if len(keys) > 1:
            out.append((f"mixed dtype {key}", {**params, key: params[key].astype(other)},
                        ("params", "dtypes"), TypeError))
    W0 = "W" if gates is None else f"W_{gates[0]}"
    m = params[W0].shape[0]
    out.append(("W not square", {**params, W0: np.ones((m, m + 1), params[W0].dtype)}, (W0,), ValueError))
    for key in keys:
        if key.startswith("b") or key == "c":
            out.append((f"{key} too long", {**params, key: np.ones(params[key].shape[0] + 1, params[key].dtype)},
                        (key,), ValueError))
        if key.startswith("U"):
            shape = params[key].shape
            out.append((f"{key} rows", {**params, key: np.ones((shape[0] + 1, shape[1]), params[key].dtype)},
                        (key,), ValueError))
    return out


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@settings(max_examples=250)
@given(data=st.data())
def test_forward_refuses_one_bad_argument_naming_it(kind, data):
    c = data.draw(model_cases(kind))
    tried(f"{kind}_forward")
    gates = MODELS[kind]["gates"]
    choices = [("params", p, words, exc) for _, p, words, exc in bad_params(c.params, gates)]
    choices += [("x", v, ("x",), exc) for _, v, exc in bad_arrays(c.x)]
    choices += [("x", c.x[:0], ("x",), ValueError), ("x", c.x[:, :0], ("x",), ValueError)]
    h0 = c.h0 if c.h0 is not None else np.zeros((c.B, c.m), c.dtype)
    choices += [("h0", v, ("h0",), exc) for _, v, exc in bad_arrays(h0, allow_none=True)]
    choices += [("h0", np.zeros((c.B + 1, c.m)), ("h0",), ValueError)]
    choices += [("mask", np.full((c.T, c.B), 0.5), ("mask",), TypeError),
                ("mask", np.ones((c.T + 1, c.B), bool), ("mask",), ValueError),
                ("mask", "abc", ("mask",), TypeError),
                ("max_bytes", 8, ("max_bytes",), ValueError),
                ("max_bytes", -1, ("max_bytes",), TypeError)]
    if kind == "rnn":
        choices += [("activation", a, ("activation",), ValueError) for a in ("sigmoid", 3, None, "")]
    if kind == "lstm":
        choices += [("c0", v, ("c0",), exc) for _, v, exc in bad_arrays(h0, allow_none=True)]
    name, bad, words, exc = data.draw(st.sampled_from(choices))
    expect_error(lambda: run_forward(c, **{name: bad}), *words, types=exc)


def other_cache(c):
    """A cache of the same model made with params of another hidden size."""
    p = MODELS[c.kind]["init"](c.d, c.m + 1, c.C, seed=1, dtype=c.dtype)
    return MODELS[c.kind]["forward"](p, c.x)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@settings(max_examples=200)
@given(data=st.data())
def test_backward_and_loss_refuse_one_bad_argument_naming_it(kind, data):
    c = data.draw(model_cases(kind))
    tried(f"{kind}_backward")
    cache = run_forward(c)
    other_kind = {"rnn": "lstm", "lstm": "gru", "gru": "rnn"}[kind]
    other_c = Case()
    other_c.__dict__.update(c.__dict__, kind=other_kind)
    other_c.params = MODELS[other_kind]["init"](c.d, c.m, c.C, dtype=c.dtype)
    other_c.h0 = other_c.c0 = None
    wrong_model = MODELS[other_kind]["forward"](other_c.params, c.x)
    other_dtype = np.float32 if c.dtype == np.float64 else np.float64
    p_other_dtype = {k: v.astype(other_dtype) for k, v in c.params.items()}
    real = c.mask is None or c.mask.any()
    y_bad = [("y", "abc", TypeError), ("y", None, TypeError), ("y", c.y.astype(bool), TypeError),
             ("y", c.y + 0.5, TypeError), ("y", c.y[:, :0], ValueError), ("y", c.y[:-1] if c.T > 1 else c.y[:, :0], ValueError),
             ("y", np.full((c.T, c.B), np.nan), TypeError)]
    if real:
        y_bad += [("y", np.full((c.T, c.B), -1), ValueError), ("y", np.full((c.T, c.B), c.C), ValueError)]
    if c.B == 1 and c.T > 1:
        y_bad += [("y", c.y[:-1, 0], ValueError)]        # 1-D of the wrong length
    choices = [("cache", None, TypeError), ("cache", {"h": 1}, TypeError), ("cache", wrong_model, TypeError),
               ("cache", other_cache(c), ValueError)] + [(n, v, e) for n, v, e in y_bad]
    choices += [("params", p, exc, words) for _, p, words, exc in bad_params(c.params, MODELS[kind]["gates"])]
    choices += [("cache-dtype", p_other_dtype, TypeError, ("cache",))]
    pick = data.draw(st.sampled_from(choices))
    backward = MODELS[kind]["backward"]
    if pick[0] == "params":
        _, p, exc, words = pick
        expect_error(lambda: backward(p, cache, c.y), *words, types=exc)
    elif pick[0] == "cache-dtype":
        _, p, exc, words = pick
        expect_error(lambda: backward(p, cache, c.y), *words, types=exc)
    elif pick[0] == "cache":
        _, bad, exc = pick
        expect_error(lambda: backward(c.params, bad, c.y), "cache", types=exc)
        if exc is TypeError and bad is not wrong_model:
            tried("rnn_loss")
            expect_error(lambda: rnnlib.rnn_loss(bad, c.y), "cache", types=exc)
    else:
        _, bad, exc = pick
        expect_error(lambda: backward(c.params, cache, bad), "y", types=exc)
        tried("rnn_loss")
        expect_error(lambda: rnnlib.rnn_loss(cache, bad), "y", types=exc)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@settings(max_examples=150)
@given(data=st.data())
def test_step_functions_refuse_one_bad_argument_naming_it(kind, data):
    c = data.draw(model_cases(kind))
    tried(f"{kind}_step_forward")
    M = MODELS[kind]
    p = {k: v for k, v in c.params.items() if k not in ("V", "c")}
    x_t, h_prev = c.x[0], np.zeros((c.B, c.m), c.dtype)
    extra = (h_prev,) if kind == "lstm" else ()
    kw = {"activation": c.activation} if kind == "rnn" else {}

    def step(p_=p, x_=x_t, h_=h_prev, mask_=None, **over):
        args = (p_, x_, h_) + ((over.pop("s_prev", h_prev),) if kind == "lstm" else ())
        return M["step_forward"](*args, mask_, **{**kw, **over})

    choices = [(lambda v=v: step(p_=v), words, exc) for _, v, words, exc in bad_params(p, M["gates"])]
    choices += [(lambda v=v: step(x_=v), ("x_t",), exc) for _, v, exc in bad_arrays(x_t)]
    choices += [(lambda v=v: step(h_=v), ("h_prev",), exc) for _, v, exc in bad_arrays(h_prev, allow_none=True)]
    choices += [(lambda: step(mask_=np.ones(c.B + 1, bool)), ("mask_t",), ValueError),
                (lambda: step(mask_=np.full(c.B, 0.5)), ("mask_t",), TypeError),
                (lambda: step(x_=x_t[:0]), ("x_t",), ValueError)]
    if kind == "lstm":
        choices += [(lambda v=v: step(s_prev=v), ("s_prev",), exc) for _, v, exc in bad_arrays(h_prev, allow_none=True)]
    if kind == "rnn":
        choices += [(lambda: step(activation="softplus"), ("activation",), ValueError)]
    # backward: bad upstream gradients and caches
    out = step()
    cache = out[-1]
    tried(f"{kind}_step_backward")
    ups = (np.ones((c.B, c.m), c.dtype),) * (2 if kind == "lstm" else 1)
    back = M["step_backward"]
    big = MODELS[kind]["init"](c.d, c.m + 1, c.C, dtype=c.dtype)
    p_big = {k: v for k, v in big.items() if k not in ("V", "c")}
    other = {"rnn": rnnlib.StepCache, "lstm": rnnlib.LSTMStepCache, "gru": rnnlib.GRUStepCache}
    wrong_kind = {"rnn": "gru", "lstm": "rnn", "gru": "lstm"}[kind]
    wp = {k: v for k, v in MODELS[wrong_kind]["init"](c.d, c.m, c.C, dtype=c.dtype).items() if k not in ("V", "c")}
    wrong_args = (wp, x_t, h_prev) + ((h_prev,) if wrong_kind == "lstm" else ())
    wrong_cache = MODELS[wrong_kind]["step_forward"](*wrong_args)[-1]
    assert not isinstance(wrong_cache, other[kind])
    choices += [(lambda: back(p, *ups, None), ("cache",), TypeError),
                (lambda: back(p, *ups, wrong_cache), ("cache",), TypeError),
                (lambda: back(p_big, *(np.ones((c.B, c.m + 1), c.dtype),) * len(ups), cache), ("cache",), ValueError)]
    for k, _ in enumerate(ups):
        label = "dh_t" if k == 0 else "ds_t"
        for _, v, exc in bad_arrays(ups[k]):
            bad_ups = list(ups)
            bad_ups[k] = v
            choices.append((lambda b=tuple(bad_ups): back(p, *b, cache), (label,), exc))
    fn, words, exc = data.draw(st.sampled_from(choices))
    expect_error(fn, *words, types=exc)


# ---------------------------------------------------------------------------------- init
@covers("init_rnn", "init_lstm", "init_gru")
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@settings(max_examples=150)
@given(d=st.integers(1, 4), m=st.integers(1, 4), C=st.integers(1, 4), seed=st.integers(0, 2 ** 63),
       dtype=st.sampled_from([np.float64, np.float32, "float64", "float32"]), data=st.data())
def test_init_is_seeded_shaped_and_refuses_bad_sizes_seeds_dtypes(kind, d, m, C, seed, dtype, data):
    init = MODELS[kind]["init"]
    tried(f"init_{kind}")
    p = init(d, m, C, seed=seed, dtype=dtype)
    q = init(d, m, C, seed=np.random.default_rng(seed), dtype=dtype)
    assert all(np.array_equal(p[k], q[k]) for k in p)   # an int seed and its Generator agree
    assert all(v.dtype == np.dtype(dtype) for v in p.values())
    gates = MODELS[kind]["gates"] or [None]
    for k in gates:
        s = "" if k is None else f"_{k}"
        assert p[f"W{s}"].shape == (m, m) and p[f"U{s}"].shape == (m, d) and p[f"b{s}"].shape == (m,)
    assert p["V"].shape == (C, m) and p["c"].shape == (C,)
    bad = data.draw(st.sampled_from(
        [("d", dict(d=v)) for v in (0, -1, 1.5, True, "3", None)]
        + [("m", dict(m=v)) for v in (0, -2, 2.0, np.float64(2))]
        + [("C", dict(C=v)) for v in (0, False, [3])]
        + [("seed", dict(seed=v)) for v in (-1, 1.5, "x", True, [1, 2], np.float64(1))]
        + [("dtype", dict(dtype=v)) for v in ("foo", int, "int32", np.float16, None, complex, bool)]
        + [("max_bytes", dict(m=30000)), ("max_bytes", dict(max_bytes=16))]))
    name, kw = bad
    args = {**dict(d=d, m=m, C=C, seed=seed, dtype=dtype), **kw}
    error = expect_error(lambda: init(**args), name)
    if name in "dmC":
        assert str(error).strip("'\"").startswith(f"{name} must")


# ==============================================================================================
# Numerics that fail loudly: overflow in a forward pass, diverging training
# ==============================================================================================
@settings(max_examples=15)
@given(T=st.integers(300, 1200), radius=st.floats(1.5, 3.0))
def test_relu_rnn_overflow_warns_once_with_the_step(T, radius):
    tried("rnn_forward")
    m = 4
    p = rnnlib.init_rnn(2, m, 3, seed=0)
    p["W"] = np.eye(m) * radius
    p["U"] = np.abs(p["U"]) + 0.1
    x = np.ones((T, 1, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache = rnnlib.rnn_forward(p, x, activation="relu")
    messages = [str(w.message) for w in caught]
    H = np.zeros(m)                                      # the first step t at which h is inf/NaN
    first = None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, T + 1):
            H = np.maximum(p["b"] + p["W"] @ H + p["U"] @ x[t - 1, 0], 0)
            if not np.all(np.isfinite(H)):
                first = t
                break
    if first is None:
        assert messages == [] and np.isfinite(cache.h).all()
        return
    assert len(messages) == 1, messages                 # once, not a stream of NumPy warnings
    assert f"t={first} " in messages[0], (first, messages[0])
    assert not np.all(np.isfinite(cache.h[first])) and np.isfinite(cache.h[first - 1]).all()


# ==============================================================================================
# Optimisers, clipping, the global norm
# ==============================================================================================
@st.composite
def grad_dicts(draw, scale_exp=(-300, 300)):
    n = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    exponent = draw(st.integers(*scale_exp))
    dtype = draw(st.sampled_from([np.float64, np.float32])) if abs(exponent) < 30 else np.float64
    grads = {}
    for k in range(n):
        shape = tuple(draw(st.lists(st.integers(0 if k else 1, 3), min_size=0, max_size=2)))
        grads[f"g{k}"] = np.asarray(rng.standard_normal(shape) * 10.0 ** exponent).astype(dtype)
    return grads


def hypot_norm(grads):
    return math.hypot(*[float(v) for g in grads.values() for v in g.ravel()])


@covers("global_norm", "clip_grad_norm", "clip_grad_value")
@settings(max_examples=300)
@given(grads=grad_dicts(), max_norm=st.floats(1e-3, 1e3), value=st.floats(1e-3, 1e3))
def test_global_norm_and_clipping_equal_closed_forms_at_any_scale(grads, max_norm, value):
    tried("global_norm")
    norm = rnnlib.global_norm(grads)
    want = hypot_norm(grads)                             # Python's hypot never overflows
    assert norm == pytest.approx(want, rel=1e-12) if want > 1e-300 else abs(norm - want) <= 1e-300
    tried("clip_grad_norm")
    clipped = {k: g.copy() for k, g in grads.items()}
    before = rnnlib.clip_grad_norm(clipped, max_norm)
    assert before == norm
    after = hypot_norm(clipped)
    if want > max_norm:
        assert after == pytest.approx(max_norm, rel=1e-5)
        for k in grads:                                  # the same direction
            np.testing.assert_allclose(clipped[k], grads[k] * (max_norm / want), rtol=1e-5, atol=0)
    else:
        assert all(np.array_equal(clipped[k], grads[k]) for k in grads)
    tried("clip_grad_value")
    by_value = rnnlib.clip_grad_value({k: g.copy() for k, g in grads.items()}, value)
    for k, g in grads.items():
        np.testing.assert_array_equal(by_value[k], np.minimum(np.maximum(g, -value), value).astype(g.dtype))


@settings(max_examples=200)
@given(grads=grad_dicts(scale_exp=(-5, 5)), data=st.data())
def test_clipping_and_norm_refuse_bad_grads_and_thresholds_touching_nothing(grads, data):
    key = data.draw(st.sampled_from(sorted(k for k, g in grads.items() if g.size)))
    kind = data.draw(st.sampled_from(["nan", "inf", "int", "list", "notdict", "threshold"]))
    bad = {k: g.copy() for k, g in grads.items()}
    if kind in ("nan", "inf"):
        bad[key].flat[0] = np.nan if kind == "nan" else np.inf
        words, exc = (key,), ValueError
    elif kind == "int":
        bad[key] = bad[key].astype(np.int64)
        words, exc = (key,), TypeError
    elif kind == "list":
        bad[key] = bad[key].tolist()
        words, exc = (key,), TypeError
    elif kind == "notdict":
        bad = list(bad.values())
        words, exc = ("grads",), TypeError
    snapshot = [np.array(g, copy=True) for g in (bad.values() if isinstance(bad, dict) else bad)]
    for name, fn in (("global_norm", lambda g: rnnlib.global_norm(g)),
                     ("clip_grad_norm", lambda g: rnnlib.clip_grad_norm(g, 1e-3)),
                     ("clip_grad_value", lambda g: rnnlib.clip_grad_value(g, 1e-3))):
        tried(name)
        if kind == "threshold":
            if name == "global_norm":
                continue
            threshold = data.draw(st.sampled_from([0, -1.0, np.nan, np.inf, "1", None, True]))
            arg = "max_norm" if name == "clip_grad_norm" else "value"
            f = rnnlib.clip_grad_norm if name == "clip_grad_norm" else rnnlib.clip_grad_value
            expect_error(lambda: f({k: g.copy() for k, g in grads.items()}, threshold), arg)
            continue
        expect_error(lambda: fn(bad), *words, types=exc)
        after = list(bad.values()) if isinstance(bad, dict) else bad
        for s, a in zip(snapshot, after):                # nothing was changed
            np.testing.assert_array_equal(np.asarray(a), s)


def reference_updates(name, theta, gs, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """The optimiser's equations, written out for a list of gradients."""
    theta = theta.astype(np.float64).copy()
    G = np.zeros_like(theta)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for k, g in enumerate(gs, start=1):
        if name == "SGD":
            theta = theta - lr * g
        elif name == "Adagrad":
            G = G + g ** 2
            theta = theta - lr * g / (np.sqrt(G) + eps)
        else:
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g ** 2
            theta = theta - lr * (m / (1 - beta1 ** k)) / (np.sqrt(v / (1 - beta2 ** k)) + eps)
    return theta


@covers("SGD", "Adagrad", "Adam", "Optimizer")
@pytest.mark.parametrize("name", ["SGD", "Adagrad", "Adam"])
@settings(max_examples=150)
@given(steps=st.integers(1, 4), shape=st.lists(st.integers(1, 3), max_size=2), lr=st.floats(1e-4, 1.0),
       seed=st.integers(0, 2 ** 16), data=st.data())
def test_optimisers_follow_their_equations_and_refuse_bad_steps_untouched(name, steps, shape, lr, seed, data):
    tried(name)
    rng = np.random.default_rng(seed)
    cls = getattr(rnnlib, name)
    opt = cls(lr=lr)
    theta0 = rng.standard_normal(shape)
    params = {"w": theta0.copy()}
    gs = [rng.standard_normal(shape) for _ in range(steps)]
    for g in gs:
        opt.step(params, {"w": g.copy(), "h0": np.ones(3)})   # extra keys are ignored
    np.testing.assert_allclose(params["w"], reference_updates(name, theta0, gs, lr), rtol=1e-12, atol=1e-12)
    # one bad gradient or argument: a clear error, params and state untouched
    state_before = {k: tuple(np.copy(s) for s in (v if isinstance(v, tuple) else (v,))) for k, v in opt.state.items()}
    w_before = params["w"].copy()
    kind = data.draw(st.sampled_from(["nan", "inf", "shape", "missing", "int", "notdict", "params-nan"]))
    g = rng.standard_normal(shape)
    if kind in ("nan", "inf"):
        g.flat[0] = np.nan if kind == "nan" else -np.inf
        call, words, exc = (lambda: opt.step(params, {"w": g})), ("w",), ValueError
    elif kind == "shape":
        call, words, exc = (lambda: opt.step(params, {"w": np.ones(tuple(shape) + (2,))})), ("w",), ValueError
    elif kind == "missing":
        call, words, exc = (lambda: opt.step(params, {"v": g})), ("w",), KeyError
    elif kind == "int":
        call, words, exc = (lambda: opt.step(params, {"w": g.astype(int)})), ("w",), TypeError
    elif kind == "notdict":
        call, words, exc = (lambda: opt.step(params, [g])), ("grads",), TypeError
    else:
        bad_params = {"w": params["w"].copy()}
        bad_params["w"].flat[0] = np.nan
        call, words, exc = (lambda: opt.step(bad_params, {"w": g})), ("w",), ValueError
    expect_error(call, *words, types=exc)
    np.testing.assert_array_equal(params["w"], w_before)
    for k, v in opt.state.items():
        for a, b in zip(v if isinstance(v, tuple) else (v,), state_before[k]):
            np.testing.assert_array_equal(a, b)
    bad_lr = data.draw(st.sampled_from([0, -1, np.nan, np.inf, "0.1", None, True]))
    expect_error(lambda: cls(lr=bad_lr), "lr")
    if name == "Adam":
        for arg in ("beta1", "beta2"):
            expect_error(lambda: cls(**{arg: data.draw(st.sampled_from([1.0, -0.1, 2, "0.9", np.nan]))}), arg)
    if name != "SGD":
        expect_error(lambda: cls(eps=data.draw(st.sampled_from([0, -1e-8, np.inf]))), "eps")


# ==============================================================================================
# Losses and activations
# ==============================================================================================
@st.composite
def logits(draw, ndim_min=1):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim_min, max_size=3)))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    scale = 10.0 ** draw(st.integers(-2, 4))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    return (rng.standard_normal(shape) * scale).astype(dtype)


def ref_log_softmax(o, axis):
    o = np.moveaxis(np.asarray(o, np.float64), axis, -1)
    out = np.empty_like(o)
    for i in np.ndindex(o.shape[:-1]):
        row = o[i]
        top = max(row)
        lse = top + math.log(math.fsum(math.exp(v - top) for v in row))
        out[i] = [v - lse for v in row]
    return np.moveaxis(out, -1, axis)


@covers("softmax", "log_softmax")
@settings(max_examples=250)
@given(o=logits(), data=st.data())
def test_softmax_and_log_softmax_equal_the_closed_form_or_refuse(o, data):
    axis = data.draw(st.integers(-o.ndim, o.ndim - 1))
    tried("softmax")
    tried("log_softmax")
    want = ref_log_softmax(o, axis)
    got_log = rnnlib.log_softmax(o, axis=axis)
    got = rnnlib.softmax(o, axis=axis)
    assert np.issubdtype(got.dtype, np.floating) and np.issubdtype(got_log.dtype, np.floating)
    dt = got.dtype if got.dtype == np.float32 else np.float64
    tol = 1e-10 if dt == np.float64 else 1e-3
    np.testing.assert_allclose(got_log, want, rtol=tol, atol=tol * (1 + np.abs(want).max()))
    np.testing.assert_allclose(got, np.exp(want), rtol=tol, atol=tol)
    bad = data.draw(st.sampled_from(["nan", "inf", "str", "empty", "axis", "axis-type", "scalar", "none"]))
    for fn in (rnnlib.softmax, rnnlib.log_softmax):
        if bad in ("nan", "inf"):
            o2 = o.astype(np.float64)
            o2.flat[0] = np.nan if bad == "nan" else np.inf
            expect_error(lambda: fn(o2), "o")
        elif bad == "str":
            expect_error(lambda: fn(np.full(o.shape, "a")), "o")
        elif bad == "empty":
            expect_error(lambda: fn(np.zeros(o.shape[:-1] + (0,))), "o")
        elif bad == "axis":
            expect_error(lambda: fn(o, axis=o.ndim), "axis")
        elif bad == "axis-type":
            expect_error(lambda: fn(o, axis=0.5), "axis")
        elif bad == "scalar":
            expect_error(lambda: fn(np.float64(1.0)), "o")
        else:
            expect_error(lambda: fn(None), "o")


@covers("cross_entropy")
@settings(max_examples=250)
@given(N=st.integers(1, 5), C=st.integers(1, 5), seed=st.integers(0, 2 ** 16),
       dtype=st.sampled_from([np.float64, np.float32, np.int64, np.int32]), weighted=st.booleans(), data=st.data())
def test_cross_entropy_equals_the_closed_form_or_refuses(N, C, seed, dtype, weighted, data):
    tried("cross_entropy")
    rng = np.random.default_rng(seed)
    o = (rng.standard_normal((N, C)) * 3).astype(dtype)
    y = rng.integers(0, C, N)
    w = rng.random(N) if weighted else None
    loss, do = rnnlib.cross_entropy(o, y, w)
    assert np.issubdtype(do.dtype, np.floating)          # integer logits give float gradients
    logp = ref_log_softmax(o, -1)
    ww = np.ones(N) if w is None else w
    want_loss = -sum(ww[n] * logp[n, y[n]] for n in range(N))
    want_do = np.array([[ww[n] * (math.exp(logp[n, k]) - (k == y[n])) for k in range(C)] for n in range(N)])
    tol = 1e-10 if do.dtype == np.float64 else 1e-4
    assert float(loss) == pytest.approx(want_loss, rel=tol, abs=tol)
    np.testing.assert_allclose(do, want_do, rtol=tol, atol=tol)
    choices = [("y", np.full(N, -1), ValueError), ("y", np.full(N, C), ValueError), ("y", y + 0.5, TypeError),
               ("y", y[:-1] if N > 1 else np.zeros(2, int), ValueError), ("y", y.astype(bool), TypeError),
               ("y", "abc", TypeError), ("y", None, TypeError),
               ("o", o[0], ValueError), ("o", np.full((N, C), "x"), TypeError), ("o", np.zeros((N, 0)), ValueError),
               ("o", np.where(np.arange(C) == 0, np.nan, o.astype(float)), ValueError),
               ("weight", np.ones(N + 1), ValueError), ("weight", np.full(N, np.inf), ValueError),
               ("weight", "w", TypeError)]
    name, bad, exc = data.draw(st.sampled_from(choices))
    args = dict(o=o, y=y, weight=w)
    args[name] = bad
    expect_error(lambda: rnnlib.cross_entropy(**args), name, types=exc)


@covers("activate", "activation_derivative", "sigmoid")
@settings(max_examples=250)
@given(shape=st.lists(st.integers(0, 3), max_size=3), seed=st.integers(0, 2 ** 16),
       activation=st.sampled_from(["tanh", "relu", "identity"]),
       dtype=st.sampled_from([np.float64, np.float32, np.int64, bool]), scale=st.integers(-3, 3), data=st.data())
def test_activations_equal_their_closed_forms_or_refuse(shape, seed, activation, dtype, scale, data):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(shape) * 10.0 ** scale).astype(dtype)
    tried("activate")
    h = rnnlib.activate(a, activation)
    af = a.astype(np.float64)
    want = {"tanh": np.vectorize(math.tanh, otypes=[float]), "relu": lambda v: np.where(v > 0, v, 0.0),
            "identity": lambda v: v}[activation](af) if af.size else af
    assert h.shape == a.shape and np.issubdtype(h.dtype, np.floating)
    tol = 1e-6 if h.dtype == np.float32 else 1e-15
    np.testing.assert_allclose(h, want, rtol=tol, atol=tol)
    tried("activation_derivative")
    dh = rnnlib.activation_derivative(a, h, activation)
    want_d = {"tanh": 1 - want ** 2, "relu": (af > 0).astype(float), "identity": np.ones_like(af)}[activation]
    np.testing.assert_allclose(dh, want_d, rtol=1e-5 if h.dtype == np.float32 else 1e-12, atol=1e-6)
    tried("sigmoid")
    s = rnnlib.sigmoid(a)
    want_s = np.vectorize(lambda v: 1 / (1 + math.exp(-v)) if v > -700 else math.exp(v),
                          otypes=[float])(af) if af.size else af
    np.testing.assert_allclose(s, want_s.astype(s.dtype), rtol=1e-6 if s.dtype == np.float32 else 1e-14,
                               atol=float(np.finfo(s.dtype).tiny))   # float32 underflows below 1e-38
    bad = data.draw(st.sampled_from(["activation", "str", "none", "complex", "out", "h-shape"]))
    if bad == "activation":
        expect_error(lambda: rnnlib.activate(a, data.draw(st.sampled_from(["sigmoid", "", None, 1]))), "activation")
        expect_error(lambda: rnnlib.activation_derivative(a, h, "softmax"), "activation")
    elif bad == "str":
        for fn in (rnnlib.activate, rnnlib.sigmoid):
            expect_error(lambda: fn("x"), "a")
    elif bad == "none":
        for fn in (rnnlib.activate, rnnlib.sigmoid):
            expect_error(lambda: fn(None), "a")
    elif bad == "complex":
        expect_error(lambda: rnnlib.sigmoid(af + 1j), "a")
    elif bad == "out":
        expect_error(lambda: rnnlib.activate(af, activation, out=np.empty(af.shape + (2,))), "out")
    else:
        expect_error(lambda: rnnlib.activation_derivative(af, np.zeros(af.shape + (2,)), activation), "h")


# ==============================================================================================
# Gradient checking
# ==============================================================================================
@covers("rel_error", "numerical_gradient", "gradcheck", "default_eps")
@settings(max_examples=120)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=2), seed=st.integers(0, 2 ** 16),
       dtype=st.sampled_from([np.float64, np.float32]), data=st.data())
def test_gradcheck_on_a_closed_form_and_its_refusals(shape, seed, dtype, data):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal(shape)
    theta = rng.standard_normal(shape).astype(dtype)
    f = lambda inp: float(np.sum(A * np.sin(inp["t"].astype(np.float64))))  # noqa: E731  df/dt = A cos t
    exact = A * np.cos(theta.astype(np.float64))
    tried("numerical_gradient")
    num = rnnlib.numerical_gradient(f, {"t": theta})["t"]
    tried("rel_error")
    assert rnnlib.rel_error(exact, exact) == 0.0
    want_rel = np.linalg.norm(num - exact) / (np.linalg.norm(num) + np.linalg.norm(exact))
    assert rnnlib.rel_error(num, exact) == pytest.approx(want_rel, rel=1e-3, abs=1e-15)
    assert rnnlib.rel_error(2 * exact, exact) == pytest.approx(1 / 3)   # closed form
    tried("gradcheck")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        errors = rnnlib.gradcheck(f, {"t": theta}, {"t": exact})
    if dtype == np.float64:
        assert errors["t"] < 1e-7 and not caught
    else:
        assert len(caught) == 1 and "float32" in str(caught[0].message)   # says so, once
        assert errors["t"] < 1e-2                        # the step size fits float32
    tried("default_eps")
    assert rnnlib.gradcheck.__module__ == "rnnlib.gradcheck"
    assert gc_mod.default_eps(np.float64) == 1e-6 and gc_mod.default_eps(np.float32) == 5e-3
    bad = data.draw(st.sampled_from(["f", "inputs", "key", "int", "nan-f", "str-f", "eps", "grads-shape",
                                     "grads-missing", "rel-shape", "rel-str", "rel-nan", "eps-dtype"]))
    inputs = {"t": theta.copy()}
    if bad == "f":
        expect_error(lambda: rnnlib.numerical_gradient("f", inputs), "f")
    elif bad == "inputs":
        expect_error(lambda: rnnlib.numerical_gradient(f, [theta]), "inputs")
    elif bad == "key":
        expect_error(lambda: rnnlib.numerical_gradient(f, inputs, keys=["u"]), "inputs", types=KeyError)
    elif bad == "int":
        expect_error(lambda: rnnlib.numerical_gradient(f, {"t": theta.astype(int)}), "inputs['t']")
    elif bad == "nan-f":
        expect_error(lambda: rnnlib.numerical_gradient(lambda inp: np.nan, inputs), "f")
    elif bad == "str-f":
        expect_error(lambda: rnnlib.numerical_gradient(lambda inp: "x", inputs), "f")
    elif bad == "eps":
        expect_error(lambda: rnnlib.numerical_gradient(f, inputs, eps=data.draw(st.sampled_from([0, -1e-6, np.nan, "1"]))), "eps")
    elif bad == "grads-shape":
        expect_error(lambda: rnnlib.gradcheck(f, inputs, {"t": np.zeros(tuple(shape) + (2,))}), "grads['t']")
    elif bad == "grads-missing":
        expect_error(lambda: rnnlib.gradcheck(f, inputs, {"t": exact}, keys=["u"]), "grads", types=KeyError)
    elif bad == "rel-shape":
        expect_error(lambda: rnnlib.rel_error(exact, exact[..., :0]), "rel_error")
    elif bad == "rel-str":
        expect_error(lambda: rnnlib.rel_error("a", exact), "a")
    elif bad == "rel-nan":
        expect_error(lambda: rnnlib.rel_error(exact, np.full(exact.shape, np.nan)), "b")
    else:
        expect_error(lambda: gc_mod.default_eps(int), "dtype")


# ==============================================================================================
# Training
# ==============================================================================================
def task(T=3, B=2, C=3):
    def batch(step):
        rng = np.random.default_rng(step)
        s = rng.integers(0, C, (T, B))
        return np.eye(C)[s], np.concatenate([s[:1], s[:-1]])
    return batch


@covers("train", "History")
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@settings(max_examples=25)
@given(steps=st.integers(1, 4), lr=st.floats(1e-3, 0.5), clip=st.sampled_from([None, 0.5]),
       carry=st.booleans(), seed=st.integers(0, 100))
def test_train_equals_the_six_steps_written_out(kind, steps, lr, clip, carry, seed):
    tried("train")
    M = MODELS[kind]
    params = M["init"](3, 4, 3, seed=seed)
    reference = {k: v.copy() for k, v in params.items()}
    batches = task()
    history = rnnlib.train(params, batches, steps, rnnlib.SGD(lr=lr), forward=M["forward"],
                           backward=M["backward"], clip_norm=clip, carry_state=carry, progress=False)
    state = None
    losses = []
    for step in range(steps):                            # the loop, written out
        x, y = batches(step)
        kw = {}
        if carry and state is not None:
            kw = dict(h0=state[0], c0=state[1]) if kind == "lstm" else dict(h0=state[0])
        cache = M["forward"](reference, x, **kw)
        loss, grads = M["backward"](reference, cache, y)
        g = {k: grads[k] for k in reference}
        norm = math.sqrt(sum(float(np.sum(v ** 2)) for v in g.values()))
        scale = min(1.0, clip / norm) if clip is not None else 1.0
        for k in reference:
            reference[k] -= lr * scale * g[k]
        losses.append(loss)
        state = (cache.h[-1], cache.s[-1] if kind == "lstm" else None)
    np.testing.assert_allclose(history.loss, losses, rtol=1e-12)
    for k in params:
        np.testing.assert_allclose(params[k], reference[k], rtol=1e-12, atol=1e-14)
    smooth = history.smoothed(0.5)
    avg, want = 0.0, []
    for k, value in enumerate(history.loss, start=1):
        avg = 0.5 * avg + 0.5 * value
        want.append(avg / (1 - 0.5 ** k))
    np.testing.assert_allclose(smooth, want, rtol=1e-12)


@settings(max_examples=120)
@given(data=st.data())
def test_train_refuses_bad_arguments_before_any_update(data):
    tried("train")
    params = rnnlib.init_rnn(3, 4, 3)
    before = {k: v.copy() for k, v in params.items()}
    x, y = task()(0)
    choices = [("num_steps", dict(num_steps=v)) for v in (0, -1, 1.5, True, "3")]
    choices += [("optimizer", dict(optimizer=v)) for v in ("adam", rnnlib.Adam, 0.1)]
    choices += [("clip_norm", dict(clip_norm=v)) for v in (0, -1.0, np.nan, "1")]
    choices += [("clip_value", dict(clip_value=v)) for v in (0, -5, np.inf)]
    choices += [("carry_state", dict(carry_state=v)) for v in (1, "yes", None)]
    choices += [("progress", dict(progress=v)) for v in (0, "no")]
    choices += [("batches", dict(batches=v)) for v in ([], iter([]), [(x, y)], 5, "abc", None)]
    choices += [("batch", dict(batches=lambda s: [x, y])), ("batch", dict(batches=lambda s: (x,)))]
    choices += [("x", dict(batches=lambda s: (x[..., :2], y))), ("y", dict(batches=lambda s: (x, y + 3))),
                ("mask", dict(batches=lambda s: (x, y, np.full(y.shape, 0.5)))),
                ("y", dict(batches=lambda s: (x, -np.ones_like(y))))]
    choices += [("params", dict(params=p)) for p in ({**params, "W": np.full((4, 4), np.nan)},
                                                    {k: v for k, v in params.items() if k != "V"},
                                                    {**params, "extra": np.ones(2)}, [1, 2])]
    choices += [("activation", dict(activation="sigmoid")), ("forward", dict(forward="rnn_forward"))]
    name, kw = data.draw(st.sampled_from(choices))
    args = dict(params=params, batches=task(), num_steps=3, optimizer=rnnlib.SGD(lr=0.1), progress=False)
    args.update(kw)
    expect_error(lambda: rnnlib.train(**args), name)
    for k in before:                                     # nothing was updated
        np.testing.assert_array_equal(params[k], before[k])
    bad_beta = data.draw(st.sampled_from([1.0, -0.5, np.nan, "0.9"]))
    expect_error(lambda: rnnlib.History(loss=[1.0, 2.0]).smoothed(bad_beta), "beta")


@covers("TrainingDiverged")
@settings(max_examples=20)
@given(radius=st.floats(20, 60), lr=st.floats(1e2, 1e6), seed=st.integers(0, 50))
def test_train_stops_naming_the_step_at_which_it_diverged(radius, lr, seed):
    tried("train")
    params = rnnlib.init_rnn(3, 4, 3, seed=seed)
    params["W"] *= radius
    T = 200
    rng = np.random.default_rng(seed)
    x = np.abs(rng.standard_normal((T, 2, 3)))
    y = rng.integers(0, 3, (T, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # no NumPy warning stream either
        try:
            history = rnnlib.train(params, lambda s: (x, y), 30, rnnlib.SGD(lr=lr), activation="relu",
                                   progress=False)
        except FloatingPointError as error:
            message = str(error)
            assert f"step {error.step} " in message and "learning rate" in message and "clip" in message
            assert len(error.history.loss) == error.step  # the history up to the step, all finite
            assert all(np.isfinite(error.history.loss))
            return
    assert all(np.isfinite(history.loss)) and all(np.isfinite(v).all() for v in params.values())


# ==============================================================================================
# Text: vocabulary, one-hot, batches, sampling
# ==============================================================================================
@covers("Vocabulary", "one_hot", "char_lm_batch", "char_lm_batches", "stdlib_text")
@settings(max_examples=200)
@given(text=st.text(st.characters(codec="ascii"), min_size=1, max_size=40), data=st.data())
def test_vocabulary_one_hot_and_batches_equal_hand_made_ones(text, data):
    tried("Vocabulary")
    vocab = rnnlib.Vocabulary(text)
    assert vocab.chars == sorted(set(text)) and vocab.decode(vocab.encode(text)) == text
    enc = vocab.encode(text)
    C = vocab.size
    tried("one_hot")
    dtype = data.draw(st.sampled_from([np.float64, np.float32]))
    oh = text_mod.one_hot(enc, C, dtype=dtype)
    np.testing.assert_array_equal(oh, np.eye(C, dtype=dtype)[enc])
    assert oh.dtype == dtype
    T = data.draw(st.integers(1, 5))
    B = data.draw(st.integers(1, 3))
    if len(enc) >= T + 1:
        tried("char_lm_batch")
        starts = np.array(data.draw(st.lists(st.integers(0, len(enc) - T - 1), min_size=B, max_size=B)))
        x, y = text_mod.char_lm_batch(enc, T, B, C, starts=starts, dtype=dtype)
        for b in range(B):
            for t in range(T):
                assert x[t, b].argmax() == enc[starts[b] + t] and y[t, b] == enc[starts[b] + t + 1]
        seed = data.draw(st.integers(0, 1000))
        x1, y1 = text_mod.char_lm_batch(enc, T, B, C, seed=seed)
        x2, y2 = text_mod.char_lm_batch(enc, T, B, C, seed=np.random.default_rng(seed))
        assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
        tried("char_lm_batches")
        get = text_mod.char_lm_batches(enc, T, B, C, seed=seed)
        assert np.array_equal(get(3)[1], text_mod.char_lm_batch(enc, T, B, C, seed=np.random.default_rng([seed, 3]))[1])
    bad = data.draw(st.sampled_from([
        ("text", lambda: rnnlib.Vocabulary(5)), ("text", lambda: rnnlib.Vocabulary("")),
        ("text", lambda: vocab.encode(text + "\x00" if "\x00" not in text else 3)),
        ("indices", lambda: vocab.decode([C])), ("indices", lambda: vocab.decode([[0]])),
        ("indices", lambda: vocab.decode([0.5])),
        ("indices", lambda: text_mod.one_hot([C], C)), ("indices", lambda: text_mod.one_hot([-1], C)),
        ("indices", lambda: text_mod.one_hot(["a"], C)), ("C", lambda: text_mod.one_hot(enc, 0)),
        ("dtype", lambda: text_mod.one_hot(enc, C, dtype="foo")), ("dtype", lambda: text_mod.one_hot(enc, C, dtype=int)),
        ("max_bytes", lambda: text_mod.one_hot(enc, C, max_bytes=1)),
        ("T", lambda: text_mod.char_lm_batch(enc, 0, 1, C)), ("encoded", lambda: text_mod.char_lm_batch(enc, len(enc), 1, C)),
        ("encoded", lambda: text_mod.char_lm_batch(enc.astype(float), 1, 1, C)),
        ("seed", lambda: text_mod.char_lm_batch(np.zeros(9, int), 2, 1, C, seed=-1)),
        ("seed", lambda: text_mod.char_lm_batch(np.zeros(9, int), 2, 1, C, seed=1.5)),
        ("starts", lambda: text_mod.char_lm_batch(np.zeros(9, int), 2, 2, C, starts=[0])),
        ("starts", lambda: text_mod.char_lm_batch(np.zeros(9, int), 2, 1, C, starts=[99])),
        ("dtype", lambda: text_mod.char_lm_batch(np.zeros(9, int), 2, 1, C, dtype="int32")),
        ("max_bytes", lambda: text_mod.char_lm_batch(np.zeros(9, int), 2, 1, C, max_bytes=1)),
        ("seed", lambda: text_mod.char_lm_batches(np.zeros(9, int), 2, 1, C, seed="x")),
        ("seed", lambda: text_mod.char_lm_batches(np.zeros(9, int), 2, 1, C, seed=None)),
        ("dtype", lambda: text_mod.char_lm_batches(np.zeros(9, int), 2, 1, C, dtype="foo")),
        ("consecutive", lambda: text_mod.char_lm_batches(np.zeros(9, int), 2, 1, C, consecutive=1)),
        ("step", lambda: text_mod.char_lm_batches(np.zeros(9, int), 2, 1, C)(-1)),
        ("max_chars", lambda: text_mod.stdlib_text(0)), ("max_chars", lambda: text_mod.stdlib_text("10")),
    ]))
    expect_error(bad[1], bad[0])


def test_stdlib_text_is_deterministic_and_bounded():
    tried("stdlib_text")
    a, b = text_mod.stdlib_text(5000), text_mod.stdlib_text(5000)
    assert a == b and 0 < len(a) <= 5000 and set(a) <= set(text_mod.string.printable)


@covers("sample")
@settings(max_examples=80)
@given(m=st.integers(1, 4), C=st.integers(1, 4), length=st.integers(0, 6), seed=st.integers(0, 1000),
       temperature=st.sampled_from([1e-300, 0.5, 1.0, 3.0, 1e300]), h0=st.booleans(),
       activation=st.sampled_from(["tanh", "relu", "identity"]), data=st.data())
def test_sample_equals_the_feedback_loop_written_out(m, C, length, seed, temperature, h0, activation, data):
    tried("sample")
    params = rnnlib.init_rnn(C, m, C, seed=seed)
    start = data.draw(st.integers(0, C - 1))
    h_init = np.random.default_rng(seed).standard_normal(m) * 0.3 if h0 else None
    got = rnnlib.sample(params, start, length, seed=seed, temperature=temperature, h0=h_init,
                        activation=activation)
    rng = np.random.default_rng(seed)
    h = np.zeros(m) if h_init is None else h_init
    index, want = start, []
    for _ in range(length):                              # the feedback loop, written out
        h = ref_rnn_step(params, np.eye(C)[index], h, activation)
        o = params["c"] + params["V"] @ h
        z = (o - o.max()) / temperature
        p = np.exp(z) / np.exp(z).sum()
        index = int(rng.choice(C, p=p))
        want.append(index)
    assert got.dtype == np.int64 and got.tolist() == want
    bad = data.draw(st.sampled_from([
        ("first_index", dict(first_index=C)), ("first_index", dict(first_index=-1)),
        ("first_index", dict(first_index=0.0)), ("first_index", dict(first_index=True)),
        ("length", dict(length=-1)), ("length", dict(length=1.5)), ("max_bytes", dict(length=10 ** 12)),
        ("temperature", dict(temperature=0)), ("temperature", dict(temperature=np.inf)),
        ("temperature", dict(temperature="1")), ("h0", dict(h0=np.zeros(m + 1))),
        ("h0", dict(h0=np.full(m, np.nan))), ("h0", dict(h0="x")), ("activation", dict(activation="elu")),
        ("seed", dict(seed=-1)), ("seed", dict(seed="x")), ("seed", dict(seed=1.5)),
        ("V", dict(params={**params, "V": np.full((C, m), np.inf)})),
        ("d", dict(params=rnnlib.init_rnn(C + 1, m, C))),
    ]))
    args = dict(params=params, first_index=start, length=length, seed=seed)
    args.update(bad[1])
    expect_error(lambda: rnnlib.sample(**args), bad[0])


# ==============================================================================================
# Structure (issue 12): plain functions free of checks; params validated once per public call
# ==============================================================================================
PLAIN = {
    "rnn": ["_init_rnn", "_rnn_step_forward", "_rnn_step_backward", "_rnn_forward", "_rnn_backward",
            "_rnn_loss"],
    "lstm": ["_init_gated", "_sigmoid_", "_lstm_cell", "_lstm_cell_backward", "_lstm_step_forward",
             "_lstm_step_backward", "_lstm_forward", "_lstm_backward"],
    "gru": ["_gru_cell", "_gru_cell_backward", "_weight_grads", "_gru_step_forward", "_gru_step_backward",
            "_gru_forward", "_gru_backward"],
    "optim": ["_global_norm", "_clip_grad_norm", "_clip_grad_value"],
    "losses": ["_log_softmax", "_softmax", "_cross_entropy"],
    "activations": ["_activate", "_activation_derivative", "_sigmoid"],
    "gradcheck": ["_rel_error", "_numerical_gradient"],
    "train": ["_train"],
    "text": ["_one_hot", "_sample"],
}
CHECK = re.compile(r"isinstance|\braise\b|\b_?check_[a-z_]*\(|as_float_array|assert ")


@pytest.mark.parametrize("module,name", [(m, n) for m, ns in PLAIN.items() for n in ns])
def test_plain_functions_have_no_checks_and_fit_80_columns(module, name):
    fn = getattr(MODULES[module], name)
    lines = inspect.getsource(fn).splitlines()
    too_long = [line for line in lines if len(line) > 80]
    assert not too_long, too_long
    checks = [line for line in lines if CHECK.search(line)]
    assert not checks, checks
    public = name.lstrip("_")
    if hasattr(MODULES[module], public):                 # defined directly above its public function
        doc = fn.__doc__ or ""
        assert f"`{public}`" in doc and ("checked by" in doc or "see `" in doc), doc
        source = inspect.getsource(MODULES[module])
        assert source.index(f"def {name}(") < source.index(f"def {public}(")


def test_shown_plain_functions_are_the_ones_listed_in_the_brief():
    for module, name in [("rnn", "_rnn_step_forward"), ("rnn", "_rnn_step_backward"), ("rnn", "_rnn_forward"),
                         ("rnn", "_rnn_backward"), ("lstm", "_lstm_step_forward"), ("lstm", "_lstm_step_backward"),
                         ("gru", "_gru_step_forward"), ("train", "_train"), ("optim", "_clip_grad_norm")]:
        assert name in PLAIN[module]
        lines = inspect.getsource(getattr(MODULES[module], name)).splitlines()
        body = [line for line in lines if "# (" in line]
        assert body or name in ("_train", "_clip_grad_norm"), f"{name} has shape comments"


@pytest.fixture
def count_check_params(monkeypatch):
    """Wrap check_params everywhere the core modules see it; return the call counter."""
    calls = []
    original = _checks.check_params

    def counting(*args, **kwargs):
        calls.append(args[1] if len(args) > 1 else kwargs.get("required"))
        return original(*args, **kwargs)

    monkeypatch.setattr(_checks, "check_params", counting)
    for module in MODULES.values():
        if getattr(module, "check_params", None) is original:
            monkeypatch.setattr(module, "check_params", counting)
    return calls


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_params_are_validated_once_per_public_call(kind, count_check_params):
    M = MODELS[kind]
    params = M["init"](3, 4, 3, seed=0)
    step_params = {k: v for k, v in params.items() if k not in ("V", "c")}
    x, y = task()(0)
    calls = count_check_params
    cache = M["forward"](params, x)
    loss, grads = M["backward"](params, cache, y)
    h = np.zeros((2, 4))
    out = M["step_forward"](step_params, x[0], h, *((h,) if kind == "lstm" else ()))
    M["step_backward"](step_params, *((h,) * (2 if kind == "lstm" else 1)), out[-1])
    assert len(calls) == 4, calls                        # forward, backward, step forward, step backward
    calls.clear()
    rnnlib.train(params, task(), 5, rnnlib.SGD(lr=0.1), forward=M["forward"], backward=M["backward"],
                 progress=False)
    assert len(calls) == 1, calls                        # once for 5 training steps
    if kind == "rnn":
        calls.clear()
        rnnlib.sample(params, 0, 20)
        assert len(calls) == 1, calls                    # once for 20 steps
        calls.clear()
        rnnlib.rnn_loss(cache, y)
        assert calls == []


def test_every_core_module_defines_all_of_its_public_functions():
    for name, module in MODULES.items():
        assert hasattr(module, "__all__"), name
        defined = {n for n, v in vars(module).items() if not n.startswith("_") and callable(v)
                   and getattr(v, "__module__", None) == module.__name__}
        helpers = {"check_rnn_params", "check_gated_params", "init_gated", "stack_gates", "unstack_grads",
                   "check_gated_sequence", "check_step_inputs", "check_upstream", "state_grad"}
        missing = defined - set(module.__all__) - helpers
        assert not missing, (name, missing)


# ==============================================================================================
# Summary: how many public functions were covered and how many inputs tried
# ==============================================================================================
def public_functions():
    out = set()
    for module in MODULES.values():
        for n in module.__all__:
            v = getattr(module, n)
            if callable(v) and not (isinstance(v, type) and n.endswith("Cache")):
                out.add(n)
    return out


def test_zz_summary(capsys):
    public = public_functions()
    assert public <= COVERED, sorted(public - COVERED)
    with capsys.disabled():
        print(f"\n[properties] public functions of the core modules: {len(public)}; covered: "
              f"{len(public & COVERED)}; inputs tried in this process: {sum(TRIED.values())}")
        print("[properties] per function: " + ", ".join(f"{k}={v}" for k, v in sorted(TRIED.items())))
