"""Property-based tests of every public function of rnnlib's model and analysis modules (issue 18).

For each function in the ``__all__`` of deep, seq2seq, patterns, bptt, remedies, jacobians,
recursive, dynamics and data, hypothesis generates valid inputs of edge sizes (T, B, d, m, C
down to 1, float64 and float32, masks, one-leaf trees, single sequences) and inputs with one
argument wrong at a time (shapes, dtypes, NaN and inf, wrong types, seeds, empty arrays, caches
of another model or size, incomplete params). Each example asserts one of two things:

* a ValueError, TypeError or KeyError whose message names the argument, or
* a result equal to an independent reference written here: a hand-unrolled per-example loop of
  the lecture's equations, a closed form, plain recursion over nested pairs, or centred finite
  differences in float64 (relative error < 1e-7).

It also checks issue 12's structure (the plain functions the chapters show have no argument
checks and fit 80 columns; a params dict is validated once per public call), that the tree and
unfolding helpers work at depth 100,000, and the size guards. ``test_zz_summary`` prints how many
public functions were covered and how many inputs were tried. Budget: well under a minute on
one core (``HYPOTHESIS_PROFILE=ci`` derandomizes, as in test_properties_core.py).
"""
from __future__ import annotations

import collections
import importlib
import inspect
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnlib
from rnnlib import _checks

settings.register_profile("ci", deadline=None, database=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

MODULES = {name: importlib.import_module(f"rnnlib.{name}") for name in
           ("deep", "seq2seq", "patterns", "bptt", "remedies", "jacobians", "recursive", "dynamics",
            "data")}
D, S, P, BP = MODULES["deep"], MODULES["seq2seq"], MODULES["patterns"], MODULES["bptt"]
R, J, REC, DYN, DATA = (MODULES[k] for k in ("remedies", "jacobians", "recursive", "dynamics", "data"))

TRIED = collections.Counter()           # "module.name" -> inputs tried (in this process)
COVERED = set()                         # "module.name" some test below exercises


def covers(module, *names):
    COVERED.update(f"{module}.{n}" for n in names)
    return lambda fn: fn


def tried(module, name):
    TRIED[f"{module}.{name}"] += 1


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
    return info.value


def close(got, want, dtype=np.float64):
    tol = dict(rtol=1e-10, atol=1e-12) if np.dtype(dtype) == np.float64 else dict(rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(want, np.float64), **tol)


def central(f, a, i, h=1e-4):
    """df/da[i] by the five-point centred difference (error O(h^4)); f() may return an array."""
    saved = a[i]
    values = []
    for step in (h, -h, 2 * h, -2 * h):
        a[i] = saved + step
        values.append(np.asarray(f(), dtype=np.float64))
    a[i] = saved
    return (8 * (values[0] - values[1]) - (values[2] - values[3])) / (12 * h)


def fd_grad(f, arrays):
    """Finite differences of the scalar f() for every entry of the float64 arrays (in place)."""
    out = {}
    for key, a in arrays.items():
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            g[i] = central(f, a, i)
        out[key] = g
    return out


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else np.linalg.norm(a - b) / denominator


def rel_floor(a, b, scale):
    """rel(a, b) with the denominator at least a thousandth of ``scale`` (a saturated tanh makes a
    Jacobian tiny; centred differences keep ~1e-10 absolute error)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-3 * scale, 1e-12)


def assert_fd(f, arrays, grads, tol=1e-7):
    """Every analytic gradient equals finite differences of f (float64): relative error < tol.

    The error of each key is relative to its own size, or to a hundredth of the whole gradient's
    when that key's gradient is tiny (centred differences lose ~1e-10 absolute to rounding)."""
    numeric = fd_grad(f, arrays)
    total = np.sqrt(sum(np.sum(np.square(np.asarray(grads[k], float))) for k in arrays))
    errors = {}
    for k in arrays:
        a, b = np.asarray(grads[k], float), numeric[k]
        scale = max(np.linalg.norm(a) + np.linalg.norm(b), 1e-2 * total, 1e-12)
        errors[k] = np.linalg.norm(a - b) / scale
    assert max(errors.values()) < tol, errors


def perturb(params, rng, scale=0.3):
    """Non-zero biases and larger weights, so every term of the equations matters."""
    for value in params.values():
        value += (scale * rng.standard_normal(value.shape)).astype(value.dtype)
    return params


ACT = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0), "identity": lambda a: a}


def softmax_ref(o):
    e = np.exp(o - o.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def ref_recurrence(W, U, b, x, h0, mask=None, act="tanh"):
    """h (T+1, B, m), one example and one step at a time."""
    T, B, _ = x.shape
    h = np.zeros((T + 1, B, W.shape[0]))
    for e in range(B):
        h[0, e] = h0[e] if np.ndim(h0) == 2 else h0
        for t in range(T):
            new = ACT[act](b + W @ h[t, e] + U @ x[t, e])
            h[t + 1, e] = new if mask is None or mask[t, e] else h[t, e]
    return h


def ref_step_loss(O, y, mask):
    """(1/B) sum_b sum_{real t} -log softmax(o)[y]."""
    T, B, _ = O.shape
    total = 0.0
    for t in range(T):
        for e in range(B):
            if mask is None or mask[t, e]:
                o = O[t, e]
                total -= o[y[t, e]] - (o.max() + np.log(np.exp(o - o.max()).sum()))
    return total / B


def ragged(rng, T, B):
    """A mask (T, B) with every sequence at least one step long, or None."""
    lengths = rng.integers(1, T + 1, size=B)
    return np.arange(T)[:, None] < lengths[None, :]


def bad_arrays(value, allow_none=False):
    """(bad value, exception types) for an array argument shaped like value."""
    out = [("abc", TypeError), ({}, TypeError), (np.full(value.shape, "a"), TypeError),
           (value.astype(complex), TypeError),
           (value.reshape((1, 1) + value.shape), ValueError),
           (np.concatenate([value, value[..., :1]], axis=-1), ValueError)]
    if not allow_none:
        out.append((None, TypeError))
    if value.size:
        for v in (np.nan, np.inf):
            bad = value.astype(np.float64)
            bad.flat[bad.size // 2] = v
            out.append((bad, ValueError))
    return out


def bad_params(params, square="W"):
    """(bad params, words named, exception types), one defect at a time."""
    out = [(list(params.values()), ("params",), TypeError), ("params", ("params",), TypeError)]
    for key in params:
        p = dict(params)
        del p[key]
        out.append((p, (key,), KeyError))
        for v in (np.nan, np.inf):
            p = dict(params)
            p[key] = params[key].copy()
            p[key].flat[0] = v
            out.append((p, (key,), ValueError))
        out.append(({**params, key: params[key].astype(np.int64)}, (key,), TypeError))
        out.append(({**params, key: params[key].tolist()}, (key,), TypeError))
    if square in params:
        m = params[square].shape[0]
        out.append(({**params, square: np.ones((m, m + 1), params[square].dtype)}, (square,), ValueError))
    for key in params:
        if key.startswith("b") or key == "c":
            longer = np.ones(params[key].shape[0] + 1, params[key].dtype)
            out.append(({**params, key: longer}, (key,), ValueError))
    return out


BAD_SEEDS = [(-1, ValueError), (1.5, TypeError), ("x", TypeError), (True, TypeError), ([1], TypeError)]
BAD_DTYPES = [("foo", TypeError), (int, TypeError), (np.int32, TypeError), (None, TypeError),
              (np.float16, TypeError), (complex, TypeError)]
BAD_SIZES = [(0, ValueError), (-2, ValueError), (1.5, TypeError), ("3", TypeError), (True, TypeError),
             (None, TypeError)]


class Case:
    pass


# ==============================================================================================
# patterns: the recurrence alone, output-to-hidden recurrence, one output at the end
# ==============================================================================================
@st.composite
def rnn_cases(draw, dtypes=(np.float64, np.float32), activations=("tanh", "relu", "identity")):
    """An RNN's params (init_rnn's shapes), data and options of edge sizes."""
    c = Case()
    c.T, c.B = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    c.d, c.m, c.C = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    c.dtype = draw(st.sampled_from(dtypes))
    c.seed = draw(st.integers(0, 2 ** 16))
    rng = c.rng = np.random.default_rng(c.seed)
    c.params = perturb(rnnlib.init_rnn(c.d, c.m, c.C, seed=c.seed, dtype=c.dtype), rng)
    c.x = rng.standard_normal((c.T, c.B, c.d)).astype(c.dtype)
    c.h0_kind = draw(st.sampled_from(["none", "vector", "batch"]))
    c.h0 = {"none": None, "vector": (0.5 * rng.standard_normal(c.m)).astype(c.dtype),
            "batch": (0.5 * rng.standard_normal((c.B, c.m))).astype(c.dtype)}[c.h0_kind]
    c.mask = ragged(rng, c.T, c.B) if draw(st.booleans()) else None
    c.y = rng.integers(0, c.C, size=(c.T, c.B))
    c.y_seq = rng.integers(0, c.C, size=c.B)
    c.activation = draw(st.sampled_from(activations))
    return c


def h0_of(c):
    return np.zeros((c.B, c.m)) if c.h0 is None else c.h0


@covers("patterns", "recurrence_forward", "recurrence_backward")
@settings(max_examples=60)
@given(data=st.data())
def test_recurrence_equals_the_loop_and_finite_differences(data):
    c = data.draw(rnn_cases())
    tried("patterns", "recurrence_forward")
    p = c.params
    integer = data.draw(st.booleans())
    W, U, b = (p[k] for k in "WUb")
    if integer:                                          # integer weights: computed in float, not truncated
        W, U, b = (c.rng.integers(-1, 2, size=v.shape) for v in (W, U, b))
    h0 = np.asarray(h0_of(c)).reshape(-1, c.m) * np.ones((c.B, 1))
    cache = P.recurrence_forward(W, U, b, c.x, h0.astype(c.dtype), c.mask, c.activation)
    ref = ref_recurrence(*(np.asarray(v, float) for v in (W, U, b, c.x, h0)), c.mask, c.activation)
    assert cache.h.dtype == (np.float64 if integer else c.dtype)
    close(cache.h, ref, np.float64 if integer else c.dtype)
    if c.dtype == np.float64 and c.activation != "relu":
        tried("patterns", "recurrence_backward")
        G = c.rng.standard_normal((c.T, c.B, c.m))
        dx, dh0, grads = P.recurrence_backward(W, U, cache, G)
        arrays = {"W": np.array(W, float), "U": np.array(U, float), "b": np.array(b, float),
                  "x": c.x.copy(), "h0": h0.copy()}
        f = lambda: np.sum(G * ref_recurrence(arrays["W"], arrays["U"], arrays["b"], arrays["x"],  # noqa: E731
                                              arrays["h0"], c.mask, c.activation)[1:])
        assert_fd(f, arrays, dict(grads, x=dx, h0=dh0))


def ref_seq_to_one(c, p, x, h0):
    h = ref_recurrence(p["W"], p["U"], p["b"], x, h0_of(c) if h0 is None else h0, c.mask, c.activation)
    last = [c.T if c.mask is None else int(np.flatnonzero(c.mask[:, e]).max()) + 1 for e in range(c.B)]
    o = np.stack([p["c"] + p["V"] @ h[last[e], e] for e in range(c.B)])
    return o, np.array(last)


@covers("patterns", "seq_to_one_forward", "seq_to_one_backward", "seq_to_one_predict", "last_real_step",
        "seq_to_one_dh")
@settings(max_examples=60)
@given(data=st.data())
def test_seq_to_one_equals_the_loop_and_finite_differences(data):
    c = data.draw(rnn_cases())
    for n in ("seq_to_one_forward", "seq_to_one_predict", "last_real_step", "seq_to_one_dh"):
        tried("patterns", n)
    cache = P.seq_to_one_forward(c.params, c.x, c.h0, c.mask, c.activation)
    p64 = {k: v.astype(float) for k, v in c.params.items()}
    o, last = ref_seq_to_one(c, p64, c.x.astype(float), None if c.h0 is None else c.h0.astype(float))
    close(cache.o, o, c.dtype)
    close(cache.y_hat, softmax_ref(o), c.dtype)
    assert np.array_equal(P.last_real_step(c.mask, c.T, c.B), last)
    predicted = P.seq_to_one_predict(c.params, c.x, c.h0, c.mask, c.activation)
    ok = np.sort(softmax_ref(o), axis=1)
    clear = ok[:, -1] - (ok[:, -2] if c.C > 1 else 0) > 1e-3
    assert np.array_equal(predicted[clear], o.argmax(axis=1)[clear])
    dh = P.seq_to_one_dh(c.params["V"], cache.y_hat, c.y_seq, last, c.T)
    want = np.zeros((c.T, c.B, c.m))
    for e in range(c.B):
        want[last[e] - 1, e] = c.params["V"].T.astype(float) @ (cache.y_hat[e] - np.eye(c.C)[c.y_seq[e]]) / c.B
    close(dh, want, c.dtype)
    if c.dtype == np.float64 and c.activation != "relu":
        tried("patterns", "seq_to_one_backward")
        loss, grads = P.seq_to_one_backward(c.params, cache, c.y_seq)
        arrays = {k: v.copy() for k, v in c.params.items()}
        if c.h0 is not None:
            arrays["h0"] = c.h0.copy()

        def f():
            oo, _ = ref_seq_to_one(c, arrays, c.x, arrays.get("h0"))
            return np.mean([-np.log(softmax_ref(oo[e])[c.y_seq[e]]) for e in range(c.B)])
        assert abs(loss - f()) < 1e-10 * max(1, abs(f()))
        assert_fd(f, arrays, grads)


@covers("patterns", "init_output_recurrence", "teacher_forcing_inputs", "output_recurrence_forward",
        "output_recurrence_backward", "output_recurrence_generate")
@settings(max_examples=50)
@given(data=st.data())
def test_output_recurrence_equals_the_loop_and_finite_differences(data):
    c = data.draw(rnn_cases())
    for n in ("init_output_recurrence", "teacher_forcing_inputs", "output_recurrence_forward",
              "output_recurrence_generate"):
        tried("patterns", n)
    q = perturb(P.init_output_recurrence(c.d, c.m, c.C, seed=c.seed, dtype=c.dtype), c.rng)
    again = P.init_output_recurrence(c.d, c.m, c.C, seed=c.seed, dtype=c.dtype)
    assert again["W"].shape == (c.m, c.C) and again["W"].dtype == c.dtype
    y_prev = P.teacher_forcing_inputs(c.y, c.C, dtype=c.dtype)
    want = np.zeros((c.T, c.B, c.C))
    for t in range(1, c.T):
        for e in range(c.B):
            want[t, e, c.y[t - 1, e]] = 1
    assert np.array_equal(y_prev, want) and y_prev.dtype == c.dtype
    cache = P.output_recurrence_forward(q, c.x, y_prev, c.mask, c.activation)

    def ref_o(qq, x):
        a = qq["b"] + y_prev @ qq["W"].T + x @ qq["U"].T
        return ACT[c.activation](a) @ qq["V"].T + qq["c"]
    q64 = {k: v.astype(float) for k, v in q.items()}
    close(cache.o, ref_o(q64, c.x.astype(float)), c.dtype)
    feedback = data.draw(st.sampled_from(["argmax", "probs"]))
    ids, gen = P.output_recurrence_generate(q, c.x, c.mask, c.activation, feedback)
    prev = np.zeros((c.B, c.C))
    for t in range(c.T):                                 # the free-running loop written out
        o_t = q64["c"] + ACT[c.activation](q64["b"] + prev @ q64["W"].T + c.x[t].astype(float) @ q64["U"].T) @ q64["V"].T
        close(gen.o[t], o_t, c.dtype if c.dtype == np.float64 else np.float32)
        p_t = softmax_ref(gen.o[t].astype(float))
        prev = p_t if feedback == "probs" else np.eye(c.C)[p_t.argmax(axis=1)]
    assert np.array_equal(ids, gen.y_hat.argmax(axis=2))
    if c.dtype == np.float64 and c.activation != "relu":
        tried("patterns", "output_recurrence_backward")
        loss, grads = P.output_recurrence_backward(q, cache, c.y)
        arrays = {k: v.copy() for k, v in q.items()}
        f = lambda: ref_step_loss(ref_o(arrays, c.x), c.y, c.mask)  # noqa: E731
        assert abs(loss - f()) < 1e-10 * max(1, abs(f()))
        assert_fd(f, arrays, grads)


@covers("patterns", "hidden_recurrence_forward", "hidden_recurrence_backward")
def test_pattern_one_is_the_vanilla_rnn():
    tried("patterns", "hidden_recurrence_forward")
    tried("patterns", "hidden_recurrence_backward")
    assert P.hidden_recurrence_forward is rnnlib.rnn_forward
    assert P.hidden_recurrence_backward is rnnlib.rnn_backward


class BadCalls:
    """Collects (function name, function, valid kwargs, argument, bad value, words, exception)."""

    def __init__(self):
        self.calls = []

    def add(self, fname, fn, kwargs, arg, cases, words=None):
        for bad, *rest in cases:
            exc = rest[-1]
            w = rest[0] if len(rest) == 2 else (words or (arg,))
            self.calls.append((fname, fn, kwargs, arg, bad, w, exc))


def patterns_recurrence(c, out):
    p, x = c.params, c.x
    h0 = np.zeros((c.B, c.m), c.dtype)
    rec = dict(W=p["W"], U=p["U"], b=p["b"], x=x, h0=h0, mask=c.mask, activation=c.activation)
    for arg in ("W", "U", "b", "x", "h0"):
        out.add("recurrence_forward", P.recurrence_forward, rec, arg, bad_arrays(rec[arg]))
    out.add("recurrence_forward", P.recurrence_forward, rec, "mask",
            [(np.full((c.T, c.B), 0.5), TypeError), (np.ones((c.T + 1, c.B), bool), ValueError)])
    out.add("recurrence_forward", P.recurrence_forward, rec, "activation",
            [("sigmoid", ValueError), (3, ValueError), (None, ValueError)])
    out.add("recurrence_forward", P.recurrence_forward, rec, "x", [(x[:0], ValueError), (x[:, :0], ValueError)])
    cache = P.recurrence_forward(**rec)
    back = dict(W=p["W"], U=p["U"], cache=cache, dh=np.zeros((c.T, c.B, c.m)))
    out.add("recurrence_backward", P.recurrence_backward, back, "dh", bad_arrays(back["dh"]))
    out.add("recurrence_backward", P.recurrence_backward, back, "cache",
            [({"h": cache.h}, TypeError), (None, TypeError), (P.seq_to_one_forward(p, x), TypeError)])
    out.add("recurrence_backward", P.recurrence_backward, back, "W", [(np.ones((c.m + 1, c.m + 1)), ValueError)])
    out.add("recurrence_backward", P.recurrence_backward, back, "U", [(np.ones((c.m, c.d + 1)), ValueError)])


def patterns_seq_to_one(c, out):
    p, x = c.params, c.x
    h0 = np.zeros((c.B, c.m), c.dtype)
    s2o = dict(params=p, x=x, h0=c.h0, mask=c.mask, activation=c.activation)
    for fname, fn in (("seq_to_one_forward", P.seq_to_one_forward), ("seq_to_one_predict", P.seq_to_one_predict)):
        out.add(fname, fn, s2o, "params", bad_params(p))
        out.add(fname, fn, s2o, "x", bad_arrays(x) + [(x[:0], ValueError)])
        out.add(fname, fn, s2o, "h0", bad_arrays(h0, allow_none=True) + [(np.zeros((c.B + 1, c.m)), ValueError)])
        out.add(fname, fn, s2o, "mask", [(np.zeros((c.T, c.B), bool), ValueError),
                                         (np.full((c.T, c.B), 2), TypeError), ("abc", TypeError)])
        out.add(fname, fn, s2o, "activation", [("gelu", ValueError)])
    s2o_cache = P.seq_to_one_forward(p, x, c.h0, c.mask, c.activation)
    other = rnnlib.init_rnn(c.d, c.m + 1, c.C, seed=1, dtype=c.dtype)
    rec = P.recurrence_forward(p["W"], p["U"], p["b"], x, h0)
    sb = dict(params=p, cache=s2o_cache, y=c.y_seq)
    out.add("seq_to_one_backward", P.seq_to_one_backward, sb, "params", bad_params(p))
    out.add("seq_to_one_backward", P.seq_to_one_backward, sb, "cache",
            [(rec, TypeError), ({}, TypeError), (None, TypeError)])
    out.add("seq_to_one_backward", P.seq_to_one_backward, sb, "params", [(other, ("cache",), ValueError)])
    out.add("seq_to_one_backward", P.seq_to_one_backward, sb, "y",
            [(np.full(c.B, c.C), ValueError), (np.full(c.B + 1, 0), ValueError), (np.full(c.B, 0.5), TypeError),
             ("abc", TypeError), (None, TypeError), (np.full(c.B, -1), ValueError)])
    lr = dict(mask=c.mask, T=c.T, B=c.B)
    out.add("last_real_step", P.last_real_step, lr, "mask",
            [(np.zeros((c.T, c.B), bool), ValueError), (np.ones((c.T, c.B + 1), bool), ValueError)])
    out.add("last_real_step", P.last_real_step, lr, "T", BAD_SIZES)
    dh_kw = dict(V=p["V"], y_hat=s2o_cache.y_hat, y=c.y_seq, last=s2o_cache.last, T=c.T)
    out.add("seq_to_one_dh", P.seq_to_one_dh, dh_kw, "last",
            [(np.full(c.B, c.T + 1), ValueError), (np.zeros(c.B, int), ValueError), (np.full(c.B, 1.5), TypeError)])
    out.add("seq_to_one_dh", P.seq_to_one_dh, dh_kw, "y", [(np.full(c.B, c.C), ValueError)])
    out.add("seq_to_one_dh", P.seq_to_one_dh, dh_kw, "y_hat", [(np.ones((c.B, c.C + 1)), ValueError)])
    out.add("seq_to_one_dh", P.seq_to_one_dh, dh_kw, "T", BAD_SIZES)


def patterns_output(c, out):
    x, y = c.x, c.y
    q = P.init_output_recurrence(c.d, c.m, c.C, seed=0, dtype=c.dtype)
    y_prev = P.teacher_forcing_inputs(y, c.C, dtype=c.dtype)
    init = dict(d=c.d, m=c.m, C=c.C)
    out.add("init_output_recurrence", P.init_output_recurrence, init, "seed", BAD_SEEDS)
    out.add("init_output_recurrence", P.init_output_recurrence, init, "dtype", BAD_DTYPES)
    for arg in ("d", "m", "C"):
        out.add("init_output_recurrence", P.init_output_recurrence, init, arg, BAD_SIZES)
    out.add("init_output_recurrence", P.init_output_recurrence, init, "max_bytes", [(1, ValueError), (-1, TypeError)])
    tf = dict(y=y, C=c.C)
    out.add("teacher_forcing_inputs", P.teacher_forcing_inputs, tf, "y",
            [(y + c.C, ValueError), (y[0], ValueError), (y.astype(float), ValueError), ("abc", TypeError),
             (y[:0], ValueError)])
    out.add("teacher_forcing_inputs", P.teacher_forcing_inputs, tf, "dtype", BAD_DTYPES)
    out.add("teacher_forcing_inputs", P.teacher_forcing_inputs, tf, "C", BAD_SIZES)
    of = dict(params=q, x=x, y_prev=y_prev, mask=c.mask, activation=c.activation)
    out.add("output_recurrence_forward", P.output_recurrence_forward, of, "params", bad_params(q, square=None))
    out.add("output_recurrence_forward", P.output_recurrence_forward, of, "x", bad_arrays(x))
    out.add("output_recurrence_forward", P.output_recurrence_forward, of, "y_prev", bad_arrays(y_prev))
    out.add("output_recurrence_forward", P.output_recurrence_forward, of, "mask",
            [(np.ones((c.T, c.B + 1), bool), ValueError)])
    og = dict(params=q, x=x, mask=c.mask, activation=c.activation, feedback="argmax")
    out.add("output_recurrence_generate", P.output_recurrence_generate, og, "feedback",
            [("sample", ValueError), (None, ValueError), (1, ValueError)])
    out.add("output_recurrence_generate", P.output_recurrence_generate, og, "x", bad_arrays(x))
    out.add("output_recurrence_generate", P.output_recurrence_generate, og, "params", bad_params(q, square=None))
    ocache = P.output_recurrence_forward(q, x, y_prev, c.mask, c.activation)
    ob = dict(params=q, cache=ocache, y=y)
    out.add("output_recurrence_backward", P.output_recurrence_backward, ob, "cache",
            [(P.seq_to_one_forward(c.params, x), TypeError), ("cache", TypeError)])
    out.add("output_recurrence_backward", P.output_recurrence_backward, ob, "y",
            [(y + c.C, ValueError), (y[:, :0], ValueError), (y.astype(float) + 0.5, TypeError)])
    out.add("output_recurrence_backward", P.output_recurrence_backward, ob, "params",
            [(P.init_output_recurrence(c.d, c.m + 1, c.C, seed=0, dtype=c.dtype), ("cache",), ValueError)])


def run_bad_calls(module, data, builders, case):
    """Draw a group of functions, build its bad calls for the case, run one."""
    builder = data.draw(st.sampled_from(builders))
    out = BadCalls()
    builder(case, out)
    fname, fn, kwargs, arg, bad, words, exc = data.draw(st.sampled_from(out.calls))
    tried(module, fname)
    expect_error(lambda: fn(**{**kwargs, arg: bad}), *words, types=exc)


@settings(max_examples=250)
@given(data=st.data())
def test_patterns_refuse_one_bad_argument_naming_it(data):
    c = data.draw(rnn_cases())
    run_bad_calls("patterns", data, [patterns_recurrence, patterns_seq_to_one, patterns_output], c)


# ==============================================================================================
# deep: stacked layers, the three kinds of depth, the unrolled graph
# ==============================================================================================
def ref_stacked(p, x, h0, mask):
    L = D.stacked_layers(p)
    below = x
    for l in range(1, L + 1):
        h = ref_recurrence(p[f"W{l}"], p[f"U{l}"], p[f"b{l}"], below, h0[l - 1], mask)
        below = h[1:]
    return below @ p["V"].T + p["c"]


def ref_deep(p, x, h0, mask):
    """The deep RNN's equations for one example and one step at a time: o (T, B, C)."""
    T, B, _ = x.shape
    m = p["W"].shape[0]
    out = []
    for t_e in range(B):
        h = h0[t_e] if np.ndim(h0) == 2 else h0
        row = []
        for t in range(T):
            xp = np.tanh(p["bi"] + p["Ui"] @ x[t, t_e]) if "Ui" in p else x[t, t_e]
            z = np.tanh(p["b"] + p["W"] @ h + p["U"] @ xp)
            if "W2" in p:
                s = p["b2"] + p["W2"] @ z + (p["Ws"] @ h if "Ws" in p else 0)
                new = np.tanh(s)
            else:
                new = z
            h = new if mask is None or mask[t, t_e] else h
            q = np.tanh(p["bq"] + p["Vq"] @ h) if "Vq" in p else h
            row.append(p["c"] + p["V"] @ q)
        out.append(row)
    return np.array(out).transpose(1, 0, 2).reshape(T, B, -1) if m else None


@covers("deep", "init_stacked_rnn", "stacked_layers", "stacked_forward", "stacked_backward")
@settings(max_examples=40)
@given(c=rnn_cases(activations=("tanh",)), layers=st.integers(1, 3), with_h0=st.booleans())
def test_stacked_rnn_equals_the_loop_and_finite_differences(c, layers, with_h0):
    for n in ("init_stacked_rnn", "stacked_layers", "stacked_forward"):
        tried("deep", n)
    p = perturb(D.init_stacked_rnn(c.d, c.m, c.C, layers=layers, seed=c.seed, dtype=c.dtype), c.rng)
    assert D.stacked_layers(p) == layers
    h0 = (0.5 * c.rng.standard_normal((layers, c.B, c.m))).astype(c.dtype) if with_h0 else None
    cache = D.stacked_forward(p, c.x, h0, c.mask)
    p64 = {k: v.astype(float) for k, v in p.items()}
    h0_64 = np.zeros((layers, c.B, c.m)) if h0 is None else h0.astype(float)
    close(cache.o, ref_stacked(p64, c.x.astype(float), h0_64, c.mask), c.dtype)
    if c.dtype == np.float64:
        tried("deep", "stacked_backward")
        loss, grads = D.stacked_backward(p, cache, c.y)
        arrays = {k: v.copy() for k, v in p.items()}
        arrays["h0"] = h0_64.copy()
        f = lambda: ref_step_loss(ref_stacked(arrays, c.x, arrays["h0"], c.mask), c.y, c.mask)  # noqa: E731
        assert abs(loss - f()) < 1e-10 * max(1, abs(f()))
        assert_fd(f, arrays, grads)


ARCH = st.fixed_dictionaries({"deep_input": st.booleans(), "deep_transition": st.booleans(),
                              "deep_output": st.booleans()}).map(
    lambda a: dict(a, skip=a["deep_transition"] and (hash(tuple(a.values())) % 2 == 0)))


@covers("deep", "init_deep_rnn", "deep_architecture", "deep_forward", "deep_backward", "deep_step_jacobians")
@settings(max_examples=50)
@given(c=rnn_cases(activations=("tanh",)), arch=ARCH, skip=st.booleans(), k=st.integers(1, 3))
def test_deep_rnn_equals_the_loop_and_finite_differences(c, arch, skip, k):
    for n in ("init_deep_rnn", "deep_architecture", "deep_forward", "deep_step_jacobians"):
        tried("deep", n)
    arch = dict(arch, skip=skip and arch["deep_transition"])
    p = perturb(D.init_deep_rnn(c.d, c.m, c.C, mlp_size=k, seed=c.seed, dtype=c.dtype, **arch), c.rng)
    assert D.deep_architecture(p) == arch
    cache = D.deep_forward(p, c.x, c.h0, c.mask)
    p64 = {key: v.astype(float) for key, v in p.items()}
    h0 = np.zeros((c.B, c.m)) if c.h0 is None else c.h0.astype(float)
    close(cache.o, ref_deep(p64, c.x.astype(float), h0, c.mask), c.dtype)
    if c.dtype == np.float64:
        tried("deep", "deep_backward")
        loss, grads = D.deep_backward(p, cache, c.y)
        arrays = {key: v.copy() for key, v in p.items()}
        if c.h0 is not None:
            arrays["h0"] = c.h0.copy()
        f = lambda: ref_step_loss(ref_deep(arrays, c.x, arrays.get("h0", h0), c.mask), c.y, c.mask)  # noqa: E731
        assert_fd(f, arrays, grads)
        if not arch["deep_input"] and not arch["deep_output"] and c.T >= 1:
            jac = D.deep_step_jacobians(p, cache)        # dh^(t)/dh^(t-1) by finite differences
            t = c.T - 1
            one = dict(p64, c=np.zeros(c.m), V=np.eye(c.m))
            step = lambda hp: ref_deep(one, c.x[t:t + 1], hp, None if c.mask is None else c.mask[t:t + 1])[0]  # noqa: E731
            for e in range(c.B):
                numeric = np.zeros((c.m, c.m))
                h_prev = cache.h[t].copy()
                for j in range(c.m):
                    numeric[:, j] = central(lambda: step(h_prev)[e], h_prev, (e, j))
                assert rel_floor(jac[t, e], numeric, np.linalg.norm(p64["W"])) < 1e-7


def ref_bfs_all_pairs(graph, source, target):
    """Bellman-Ford style relaxation over all edges: an algorithm unlike breadth-first search."""
    dist = {u: np.inf for u in graph}
    dist[source] = 0
    for _ in range(len(graph)):
        changed = False
        for u, vs in graph.items():
            for v in vs:
                if dist[u] + 1 < dist[v]:
                    dist[v] = dist[u] + 1
                    changed = True
        if not changed:
            break
    return None if dist[target] == np.inf else int(dist[target])


@covers("deep", "unrolled_graph", "shortest_path", "path_between_steps", "hidden_path")
@settings(max_examples=80)
@given(k=st.integers(0, 5), L=st.integers(1, 3), n=st.integers(1, 3), skip=st.booleans(),
       i=st.integers(1, 3), o=st.integers(1, 3), edges=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)),
                                                                 max_size=15))
def test_graph_paths_equal_closed_forms_and_another_algorithm(k, L, n, skip, i, o, edges):
    for name in ("unrolled_graph", "shortest_path", "path_between_steps", "hidden_path"):
        tried("deep", name)
    skip = skip and n >= 2
    s = 1 if skip else n                                 # edges per step along the top layer
    assert D.path_between_steps(k, L, n, skip, i, o) == i + L * n - 1 + k * s + o
    assert D.hidden_path(k, L, n, skip) == k * s
    graph = D.unrolled_graph(k + 1, L, n, skip, i, o)
    assert len(graph) == L + (k + 1) * (i + L * n + o)
    assert sum(len(v) for v in graph.values()) == (k + 1) * ((i - 1) + L * (n + 1 + skip) + o)
    random_graph = {u: [] for u in range(7)}
    for u, v in edges:
        random_graph[u].append(v)
    for target in range(7):
        assert D.shortest_path(random_graph, 0, target) == ref_bfs_all_pairs(random_graph, 0, target)


def deep_calls(c, out):
    s = D.init_stacked_rnn(c.d, c.m, c.C, layers=2, seed=0, dtype=c.dtype)
    x = c.x
    kw = dict(params=s, x=x, h0=None, mask=c.mask)
    out.add("stacked_forward", D.stacked_forward, kw, "params", bad_params(s, square="W1"))
    incomplete = {k: v for k, v in s.items() if k != "W2"}
    out.add("stacked_forward", D.stacked_forward, kw, "params",
            [(incomplete, ("W2",), KeyError), ({**s, "U3": s["U2"]}, ("W3", "b3"), KeyError),
             ({**s, "W0": s["W1"]}, ("W0",), KeyError), ({"V": s["V"]}, ("W1",), KeyError)])
    out.add("stacked_forward", D.stacked_forward, kw, "x", bad_arrays(x) + [(x[:0], ValueError)])
    out.add("stacked_forward", D.stacked_forward, kw, "h0",
            [(np.zeros((3, c.B, c.m)), ValueError), (np.zeros((c.B, c.m)), ValueError), ("h", TypeError)])
    out.add("stacked_layers", D.stacked_layers, dict(params=s), "params",
            [(incomplete, ("W2",), KeyError), ([1], TypeError)])
    cache = D.stacked_forward(s, x, None, c.mask)
    sb = dict(params=s, cache=cache, y=c.y)
    out.add("stacked_backward", D.stacked_backward, sb, "cache",
            [(D.deep_forward(D.init_deep_rnn(c.d, c.m, c.C, dtype=c.dtype), x), TypeError), ({}, TypeError)])
    out.add("stacked_backward", D.stacked_backward, sb, "params",
            [(D.init_stacked_rnn(c.d, c.m, c.C, layers=3, dtype=c.dtype), ("cache",), ValueError),
             (D.init_stacked_rnn(c.d, c.m + 1, c.C, layers=2, dtype=c.dtype), ("cache",), ValueError)])
    out.add("stacked_backward", D.stacked_backward, sb, "y",
            [(c.y + c.C, ValueError), (c.y[:-1], ValueError), ("y", TypeError)])


def deep_init_calls(c, out):
    init = dict(d=c.d, m=c.m, C=c.C)
    for fname, fn in (("init_stacked_rnn", D.init_stacked_rnn), ("init_deep_rnn", D.init_deep_rnn)):
        out.add(fname, fn, init, "seed", BAD_SEEDS)
        out.add(fname, fn, init, "dtype", BAD_DTYPES)
        out.add(fname, fn, init, "m", BAD_SIZES + [(30000, ("m", "max_bytes"), ValueError)])
        out.add(fname, fn, init, "d", BAD_SIZES)
    out.add("init_stacked_rnn", D.init_stacked_rnn, init, "layers", BAD_SIZES)
    out.add("init_deep_rnn", D.init_deep_rnn, init, "skip", [(True, ValueError), (1, TypeError)])
    out.add("init_deep_rnn", D.init_deep_rnn, init, "deep_input", [(1, TypeError), ("yes", TypeError)])
    out.add("init_deep_rnn", D.init_deep_rnn, init, "mlp_size", BAD_SIZES[:-1])


def deep_depth_calls(c, out):
    x = c.x
    s = D.init_stacked_rnn(c.d, c.m, c.C, layers=2, seed=0, dtype=c.dtype)
    p = D.init_deep_rnn(c.d, c.m, c.C, deep_transition=True, skip=True, deep_output=True, seed=0, dtype=c.dtype)
    kw = dict(params=p, x=x, h0=c.h0, mask=c.mask)
    out.add("deep_forward", D.deep_forward, kw, "params", bad_params({k: v for k, v in p.items() if k != "Ws"}))
    out.add("deep_forward", D.deep_forward, kw, "params",
            [({k: v for k, v in p.items() if k != "W2"}, ("Ws", "W2"), KeyError),
             ({**p, "Vq": np.ones((2, c.m + 1), c.dtype)}, ("Vq",), ValueError)])
    out.add("deep_forward", D.deep_forward, kw, "x", bad_arrays(x))
    out.add("deep_forward", D.deep_forward, kw, "h0", bad_arrays(np.zeros((c.B, c.m)), allow_none=True))
    out.add("deep_forward", D.deep_forward, kw, "mask", [(np.ones((c.T, c.B + 1), bool), ValueError)])
    cache = D.deep_forward(p, x, c.h0, c.mask)
    shallow = D.init_deep_rnn(c.d, c.m, c.C, dtype=c.dtype)
    for fname, fn in (("deep_backward", D.deep_backward), ("deep_step_jacobians", D.deep_step_jacobians)):
        kw = dict(params=p, cache=cache) if fname == "deep_step_jacobians" else dict(params=p, cache=cache, y=c.y)
        out.add(fname, fn, kw, "cache", [(D.stacked_forward(s, x), TypeError), (None, TypeError)])
        out.add(fname, fn, kw, "params", [(shallow, ("cache",), TypeError)])
        out.add(fname, fn, kw, "params",
                [(D.init_deep_rnn(c.d, c.m + 1, c.C, deep_transition=True, skip=True, deep_output=True,
                                  dtype=c.dtype), ("cache",), ValueError)])
    out.add("deep_backward", D.deep_backward, dict(params=p, cache=cache, y=c.y), "y",
            [(c.y + c.C, ValueError), (c.y.astype(float) + 0.5, TypeError)])
    out.add("deep_step_jacobians", D.deep_step_jacobians, dict(params=p, cache=cache), "max_bytes",
            [(1, ("max_bytes",), ValueError)])
    out.add("deep_architecture", D.deep_architecture, dict(params=p), "params",
            [("p", TypeError), ({"Ws": p["Ws"]}, ("Ws", "W2"), KeyError)])


def graph_calls(c, out):
    g = dict(T=3)
    for arg in ("T", "layers", "transition_depth", "input_depth", "output_depth"):
        out.add("unrolled_graph", D.unrolled_graph, g, arg, BAD_SIZES)
    out.add("unrolled_graph", D.unrolled_graph, g, "skip", [(True, ValueError), ("no", TypeError)])
    out.add("unrolled_graph", D.unrolled_graph, g, "T", [(10 ** 7, ("max_nodes",), ValueError)])
    out.add("unrolled_graph", D.unrolled_graph, g, "max_nodes", [(0, ValueError), (2.5, TypeError)])
    graph = {"a": ["b"], "b": []}
    sp = dict(graph=graph, source="a", target="b")
    out.add("shortest_path", D.shortest_path, sp, "graph",
            [([("a", "b")], TypeError), ({"a": ["c"], "b": []}, ("graph",), ValueError),
             ({"a": "b", "b": []}, ("graph",), TypeError)])
    out.add("shortest_path", D.shortest_path, sp, "source", [("z", KeyError), ([1], TypeError)])
    out.add("shortest_path", D.shortest_path, sp, "target", [("z", KeyError)])
    for fname, fn in (("path_between_steps", D.path_between_steps), ("hidden_path", D.hidden_path)):
        out.add(fname, fn, dict(k=2), "k", [(-1, ValueError), (1.5, TypeError), ("2", TypeError)])
        out.add(fname, fn, dict(k=2), "layers", BAD_SIZES)
        out.add(fname, fn, dict(k=2), "k", [(10 ** 8, ("max_nodes",), ValueError)])


@settings(max_examples=250)
@given(data=st.data())
def test_deep_refuses_one_bad_argument_naming_it(data):
    c = data.draw(rnn_cases(activations=("tanh",)))
    run_bad_calls("deep", data, [deep_calls, deep_init_calls, deep_depth_calls, graph_calls], c)


# ==============================================================================================
# seq2seq: encoder-decoder, vector decoder, greedy decoding
# ==============================================================================================
def ref_decoder_o(p, s0, y_prev_ids, mask):
    """o (T_y, B, C): s^(t) = tanh(b_d + W_d s^(t-1) + U_d onehot(y^(t-1)))."""
    T, B = y_prev_ids.shape
    out = np.zeros((T, B, p["V"].shape[0]))
    for e in range(B):
        s = s0[e]
        for t in range(T):
            new = np.tanh(p["bd"] + p["Wd"] @ s + p["Ud"][:, y_prev_ids[t, e]])
            s = new if mask is None or mask[t, e] else s
            out[t, e] = p["c"] + p["V"] @ s
    return out


def ref_context(p, x, mask):
    h = ref_recurrence(p["We"], p["Ue"], p["be"], x, np.zeros((x.shape[1], p["We"].shape[0])), mask)
    return h[-1]


def ref_greedy(p, s0, bos, eos, max_len):
    B = s0.shape[0]
    ids = np.zeros((max_len, B), dtype=int)
    for e in range(B):
        s, prev, done = s0[e], bos, False
        for t in range(max_len):
            s = np.tanh(p["bd"] + p["Wd"] @ s + p["Ud"][:, prev])
            token = int(np.argmax(p["c"] + p["V"] @ s))
            ids[t, e] = 0 if done else token
            done = done or token == eos
            prev = token
    return ids


@st.composite
def seq2seq_cases(draw):
    c = draw(rnn_cases(activations=("tanh",)))
    c.T_y = draw(st.integers(1, 3))
    c.C = max(c.C, 2)
    c.f = draw(st.integers(1, 3))
    c.y = c.rng.integers(0, c.C, size=(c.T_y, c.B))
    c.bos = int(c.rng.integers(0, c.C))
    c.y_mask = ragged(c.rng, c.T_y, c.B) if draw(st.booleans()) else None
    c.v = c.rng.standard_normal((c.B, c.f)).astype(c.dtype)
    return c


@covers("seq2seq", "init_encoder_decoder", "init_vector_decoder", "decoder_inputs", "encode",
        "encoder_decoder_forward", "encoder_decoder_backward", "vector_decoder_forward", "vector_decoder_backward")
@settings(max_examples=50)
@given(c=seq2seq_cases(), vector=st.booleans())
def test_seq2seq_equals_the_loop_and_finite_differences(c, vector):
    for n in ("init_encoder_decoder", "init_vector_decoder", "decoder_inputs", "encode",
              "encoder_decoder_forward", "vector_decoder_forward"):
        tried("seq2seq", n)
    y_in = S.decoder_inputs(c.y, c.C, c.bos, dtype=c.dtype)
    prev = np.concatenate([np.full((1, c.B), c.bos), c.y[:-1]])
    assert np.array_equal(y_in, np.eye(c.C)[prev]) and y_in.dtype == c.dtype
    if vector:
        p = perturb(S.init_vector_decoder(c.f, c.m, c.C, seed=c.seed, dtype=c.dtype), c.rng)
        cache = S.vector_decoder_forward(p, c.v, y_in, c.y_mask)
        s0 = lambda q: np.tanh(q["bp"] + c.v.astype(float) @ q["P"].T)  # noqa: E731
    else:
        p = perturb(S.init_encoder_decoder(c.d, c.m, c.C, seed=c.seed, dtype=c.dtype), c.rng)
        cache = S.encoder_decoder_forward(p, c.x, y_in, c.mask, c.y_mask)
        close(S.encode(p, c.x, c.mask).h[-1], ref_context({k: v.astype(float) for k, v in p.items()},
                                                          c.x.astype(float), c.mask), c.dtype)
        s0 = lambda q: ref_context(q, c.x.astype(float), c.mask)  # noqa: E731
    p64 = {k: v.astype(float) for k, v in p.items()}
    close(cache.o, ref_decoder_o(p64, s0(p64), prev, c.y_mask), c.dtype)
    if c.dtype == np.float64:
        name = "vector_decoder_backward" if vector else "encoder_decoder_backward"
        tried("seq2seq", name)
        loss, grads = getattr(S, name)(p, cache, c.y)
        arrays = {k: v.copy() for k, v in p.items()}
        f = lambda: ref_step_loss(ref_decoder_o(arrays, s0(arrays), prev, c.y_mask), c.y, c.y_mask)  # noqa: E731
        assert abs(loss - f()) < 1e-10 * max(1, abs(f()))
        assert_fd(f, arrays, grads)


@covers("seq2seq", "greedy_decode", "encoder_decoder_generate", "vector_decoder_generate")
@settings(max_examples=60)
@given(c=seq2seq_cases(), max_len=st.integers(1, 6))
def test_greedy_decoding_equals_the_feedback_loop(c, max_len):
    for n in ("greedy_decode", "encoder_decoder_generate", "vector_decoder_generate"):
        tried("seq2seq", n)
    p = perturb(S.init_encoder_decoder(c.d, c.m, c.C, seed=c.seed), c.rng, scale=1.0)
    eos = int(c.rng.integers(0, c.C))
    s0 = c.rng.standard_normal((c.B, c.m))
    assert np.array_equal(S.greedy_decode(p, s0, c.bos, eos, max_len), ref_greedy(p, s0, c.bos, eos, max_len))
    one = S.greedy_decode(p, s0[0], c.bos, eos, max_len)        # s0 (m,): one sequence, not a batch of m
    assert one.shape == (max_len,) and np.array_equal(one, ref_greedy(p, s0[:1], c.bos, eos, max_len)[:, 0])
    context = ref_context(p, c.x.astype(float), c.mask)
    assert np.array_equal(S.encoder_decoder_generate(p, c.x.astype(float), c.bos, eos, max_len, c.mask),
                          ref_greedy(p, context, c.bos, eos, max_len))
    q = perturb(S.init_vector_decoder(c.f, c.m, c.C, seed=c.seed), c.rng, scale=1.0)
    v = c.v.astype(float)
    assert np.array_equal(S.vector_decoder_generate(q, v, c.bos, eos, max_len),
                          ref_greedy(q, np.tanh(q["bp"] + v @ q["P"].T), c.bos, eos, max_len))


def seq2seq_init_calls(c, out):
    for fname, fn, first in (("init_encoder_decoder", S.init_encoder_decoder, "d"),
                             ("init_vector_decoder", S.init_vector_decoder, "f")):
        init = {first: 2, "m": c.m, "C": c.C}
        out.add(fname, fn, init, "seed", BAD_SEEDS)
        out.add(fname, fn, init, "dtype", BAD_DTYPES)
        out.add(fname, fn, init, first, BAD_SIZES)
        out.add(fname, fn, init, "m", [(10 ** 5, ("max_bytes",), ValueError)])
    di = dict(y=c.y, C=c.C, bos=c.bos)
    out.add("decoder_inputs", S.decoder_inputs, di, "bos", [(c.C, ValueError), (-1, ValueError), (1.5, TypeError),
                                                            ("<bos>", TypeError), (True, TypeError)])
    out.add("decoder_inputs", S.decoder_inputs, di, "y", [(c.y + c.C, ValueError), (c.y[0], ValueError),
                                                          (None, TypeError)])
    out.add("decoder_inputs", S.decoder_inputs, di, "dtype", BAD_DTYPES)


def seq2seq_forward_calls(c, out):
    p = S.init_encoder_decoder(c.d, c.m, c.C, seed=0, dtype=c.dtype)
    q = S.init_vector_decoder(c.f, c.m, c.C, seed=0, dtype=c.dtype)
    y_in = S.decoder_inputs(c.y, c.C, c.bos, dtype=c.dtype)
    enc = dict(params=p, x=c.x, mask=c.mask)
    out.add("encode", S.encode, enc, "params", bad_params(p, square="Wd"))
    out.add("encode", S.encode, enc, "x", bad_arrays(c.x) + [(c.x[:0], ValueError)])
    out.add("encode", S.encode, enc, "mask", [(np.zeros((c.T, c.B), bool), ("mask",), ValueError)])
    ed = dict(params=p, x=c.x, y_in=y_in, x_mask=c.mask, y_mask=c.y_mask)
    out.add("encoder_decoder_forward", S.encoder_decoder_forward, ed, "params", bad_params(p, square="Wd"))
    out.add("encoder_decoder_forward", S.encoder_decoder_forward, ed, "params", [(q, ("We", "Ue", "be"), KeyError)])
    out.add("encoder_decoder_forward", S.encoder_decoder_forward, ed, "x", bad_arrays(c.x))
    out.add("encoder_decoder_forward", S.encoder_decoder_forward, ed, "y_in", bad_arrays(y_in) + [(y_in[:0], ValueError)])
    out.add("encoder_decoder_forward", S.encoder_decoder_forward, ed, "y_mask",
            [(np.ones((c.T_y + 1, c.B), bool), ValueError)])
    vd = dict(params=q, v=c.v, y_in=y_in, y_mask=c.y_mask)
    out.add("vector_decoder_forward", S.vector_decoder_forward, vd, "v", bad_arrays(c.v) + [(c.v[:0], ValueError)])
    out.add("vector_decoder_forward", S.vector_decoder_forward, vd, "params", bad_params(q, square="Wd"))
    out.add("vector_decoder_forward", S.vector_decoder_forward, vd, "y_in", bad_arrays(y_in))


def seq2seq_backward_calls(c, out):
    p = S.init_encoder_decoder(c.d, c.m, c.C, seed=0, dtype=c.dtype)
    q = S.init_vector_decoder(c.f, c.m, c.C, seed=0, dtype=c.dtype)
    y_in = S.decoder_inputs(c.y, c.C, c.bos, dtype=c.dtype)
    ecache = S.encoder_decoder_forward(p, c.x, y_in, c.mask, c.y_mask)
    vcache = S.vector_decoder_forward(q, c.v, y_in, c.y_mask)
    for fname, fn, params, cache, wrong in (
            ("encoder_decoder_backward", S.encoder_decoder_backward, p, ecache, vcache),
            ("vector_decoder_backward", S.vector_decoder_backward, q, vcache, ecache)):
        kw = dict(params=params, cache=cache, y=c.y)
        out.add(fname, fn, kw, "cache", [(wrong, TypeError), ("cache", TypeError)])
        out.add(fname, fn, kw, "y", [(c.y + c.C, ValueError), (c.y[:, :0], ValueError), (c.y * 0.5 + 0.25, TypeError)])
        bigger = (S.init_encoder_decoder(c.d, c.m + 1, c.C, dtype=c.dtype) if params is p
                  else S.init_vector_decoder(c.f, c.m + 1, c.C, dtype=c.dtype))
        out.add(fname, fn, kw, "params", [(bigger, ("cache",), ValueError)])


def seq2seq_generate_calls(c, out):
    p = S.init_encoder_decoder(c.d, c.m, c.C, seed=0, dtype=c.dtype)
    q = S.init_vector_decoder(c.f, c.m, c.C, seed=0, dtype=c.dtype)
    gd = dict(params=p, s0=np.zeros((c.B, c.m)), bos=c.bos, eos=0, max_len=3)
    out.add("greedy_decode", S.greedy_decode, gd, "s0", bad_arrays(gd["s0"]) + [(np.zeros(c.m + 1), ValueError),
                                                                                 (np.zeros((0, c.m)), ValueError)])
    for fname, fn, kw in (("greedy_decode", S.greedy_decode, gd),
                          ("encoder_decoder_generate", S.encoder_decoder_generate,
                           dict(params=p, x=c.x, bos=c.bos, eos=0, max_len=3)),
                          ("vector_decoder_generate", S.vector_decoder_generate,
                           dict(params=q, v=c.v, bos=c.bos, eos=0, max_len=3))):
        out.add(fname, fn, kw, "bos", [(c.C, ValueError), (1.5, TypeError)])
        out.add(fname, fn, kw, "eos", [(c.C, ("eos",), ValueError), (-1, ValueError), ("x", TypeError)])
        out.add(fname, fn, kw, "max_len", BAD_SIZES + [(10 ** 12, ("max_bytes",), ValueError)])
    out.add("encoder_decoder_generate", S.encoder_decoder_generate,
            dict(params=p, x=c.x, bos=c.bos, eos=0, max_len=3), "x", bad_arrays(c.x))
    out.add("vector_decoder_generate", S.vector_decoder_generate,
            dict(params=q, v=c.v, bos=c.bos, eos=0, max_len=3), "v", bad_arrays(c.v))


@settings(max_examples=250)
@given(data=st.data())
def test_seq2seq_refuses_one_bad_argument_naming_it(data):
    c = data.draw(seq2seq_cases())
    run_bad_calls("seq2seq", data, [seq2seq_init_calls, seq2seq_forward_calls, seq2seq_backward_calls,
                                    seq2seq_generate_calls], c)


# ==============================================================================================
# remedies: IRNN and the skip-RNN
# ==============================================================================================
def ref_skip(p, x, s, h0, mask, act):
    """h (T+1, B, m) and o (T, B, C) of the skip-RNN, one example and one step at a time."""
    T, B, _ = x.shape
    m = p["W"].shape[0]
    h = np.zeros((T + 1, B, m))
    for e in range(B):
        h[0, e] = h0[e] if np.ndim(h0) == 2 else h0
        for t in range(1, T + 1):
            a = p["b"] + p["W"] @ h[t - 1, e] + p["U"] @ x[t - 1, e]
            if t >= s:
                a = a + p["W_s"] @ h[t - s, e]
            h[t, e] = ACT[act](a) if mask is None or mask[t - 1, e] else h[t - 1, e]
    return h, h[1:] @ p["V"].T + p["c"]


@covers("remedies", "init_irnn", "init_skip_rnn", "skip_rnn_forward", "skip_rnn_backward")
@settings(max_examples=60)
@given(c=rnn_cases(), skip=st.integers(1, 5), scale=st.floats(0.1, 2.0))
def test_remedies_equal_closed_forms_the_loop_and_finite_differences(c, skip, scale):
    for n in ("init_irnn", "init_skip_rnn", "skip_rnn_forward"):
        tried("remedies", n)
    irnn = R.init_irnn(c.d, c.m, c.C, seed=c.seed, dtype=c.dtype, scale=scale)
    base = rnnlib.init_rnn(c.d, c.m, c.C, seed=c.seed, dtype=c.dtype)
    close(irnn["W"], scale * np.eye(c.m), c.dtype)
    assert all(np.array_equal(irnn[k], base[k]) for k in "UVbc") and irnn["W"].dtype == c.dtype
    sk = R.init_skip_rnn(c.d, c.m, c.C, skip, seed=c.seed, dtype=c.dtype)
    close(sk["W"], base["W"] / np.sqrt(2), c.dtype)
    W_s = np.random.default_rng([c.seed, 1]).standard_normal((c.m, c.m)) / np.sqrt(2 * c.m)
    close(sk["W_s"], W_s, c.dtype)
    p = perturb(sk, c.rng)
    cache = R.skip_rnn_forward(p, c.x, skip, c.h0, c.mask, c.activation)
    p64 = {k: v.astype(float) for k, v in p.items()}
    h0 = np.zeros((c.B, c.m)) if c.h0 is None else c.h0.astype(float)
    h, o = ref_skip(p64, c.x.astype(float), skip, h0, c.mask, c.activation)
    close(cache.h, h, c.dtype)
    close(cache.o, o, c.dtype)
    if c.dtype == np.float64 and c.activation != "relu":
        tried("remedies", "skip_rnn_backward")
        loss, grads = R.skip_rnn_backward(p, cache, c.y)
        arrays = {k: v.copy() for k, v in p.items()}
        if c.h0 is not None:
            arrays["h0"] = c.h0.copy()
        f = lambda: ref_step_loss(ref_skip(arrays, c.x, skip, arrays.get("h0", h0), c.mask, c.activation)[1],  # noqa: E731
                                  c.y, c.mask)
        assert_fd(f, arrays, grads)


def remedies_calls(c, out):
    init = dict(d=c.d, m=c.m, C=c.C)
    out.add("init_irnn", R.init_irnn, init, "scale", [(0, ValueError), (-1.0, ValueError), ("1", TypeError),
                                                      (np.nan, TypeError), (True, TypeError)])
    out.add("init_irnn", R.init_irnn, init, "seed", BAD_SEEDS)
    out.add("init_irnn", R.init_irnn, init, "dtype", BAD_DTYPES)
    out.add("init_irnn", R.init_irnn, init, "m", BAD_SIZES + [(40000, ("max_bytes",), ValueError)])
    sk = dict(init, skip=2)
    out.add("init_skip_rnn", R.init_skip_rnn, sk, "skip", BAD_SIZES)
    out.add("init_skip_rnn", R.init_skip_rnn, sk, "seed", BAD_SEEDS)
    out.add("init_skip_rnn", R.init_skip_rnn, sk, "dtype", BAD_DTYPES)
    p = R.init_skip_rnn(c.d, c.m, c.C, 2, seed=0, dtype=c.dtype)
    fw = dict(params=p, x=c.x, skip=2, h0=c.h0, mask=c.mask, activation=c.activation)
    out.add("skip_rnn_forward", R.skip_rnn_forward, fw, "params", bad_params(p))
    out.add("skip_rnn_forward", R.skip_rnn_forward, fw, "params",
            [({**p, "W_s": p["W_s"].astype(np.float32 if c.dtype == np.float64 else np.float64)}, ("W_s",), TypeError),
             ({**p, "W_s": np.zeros((c.m, c.m + 1), c.dtype)}, ("W_s",), ValueError)])
    out.add("skip_rnn_forward", R.skip_rnn_forward, fw, "skip", BAD_SIZES)
    out.add("skip_rnn_forward", R.skip_rnn_forward, fw, "x", bad_arrays(c.x) + [(c.x[:0], ValueError)])
    out.add("skip_rnn_forward", R.skip_rnn_forward, fw, "h0", bad_arrays(np.zeros((c.B, c.m)), allow_none=True))
    out.add("skip_rnn_forward", R.skip_rnn_forward, fw, "mask", [(np.ones((c.T + 1, c.B), bool), ValueError)])
    out.add("skip_rnn_forward", R.skip_rnn_forward, fw, "activation", [("sigmoid", ValueError)])
    cache = R.skip_rnn_forward(**fw)
    bw = dict(params=p, cache=cache, y=c.y)
    out.add("skip_rnn_backward", R.skip_rnn_backward, bw, "params", bad_params(p))
    out.add("skip_rnn_backward", R.skip_rnn_backward, bw, "cache",
            [(rnnlib.rnn_forward({k: p[k] for k in "WUVbc"}, c.x), ("SkipRNNCache",), TypeError), (None, TypeError)])
    out.add("skip_rnn_backward", R.skip_rnn_backward, bw, "params",
            [(R.init_skip_rnn(c.d, c.m + 1, c.C, 2, dtype=c.dtype), ("cache",), ValueError)])
    out.add("skip_rnn_backward", R.skip_rnn_backward, bw, "y", [(c.y + c.C, ValueError), (c.y[:-1], ValueError)])


@settings(max_examples=150)
@given(data=st.data())
def test_remedies_refuse_one_bad_argument_naming_it(data):
    c = data.draw(rnn_cases())
    run_bad_calls("remedies", data, [remedies_calls], c)


# ==============================================================================================
# jacobians: step Jacobians, their products, gradients with respect to earlier states, norms
# ==============================================================================================
def ref_products(cache, W, act):
    """D[t, k] = prod_{j=t}^{k+1} diag(act'(a^(j))) W (I at padded steps), newest on the left."""
    T, B, m = cache.a.shape
    a = cache.a.astype(float)
    dact = {"tanh": 1 - np.tanh(a) ** 2, "relu": (a > 0).astype(float), "identity": np.ones_like(a)}[act]
    D_ = np.zeros((T + 1, T + 1, B, m, m))
    for e in range(B):
        for k in range(T + 1):
            M = np.eye(m)
            D_[k, k, e] = M
            for t in range(k + 1, T + 1):
                step = np.eye(m) if cache.mask is not None and not cache.mask[t - 1, e] else dact[t - 1, e][:, None] * W
                M = step @ M
                D_[t, k, e] = M
    return D_


@covers("jacobians", "step_jacobians", "hidden_jacobians", "last_state_jacobians", "state_gradients",
        "loss_term_gradients", "gradient_norms")
@settings(max_examples=50)
@given(c=rnn_cases(), skip=st.one_of(st.none(), st.integers(1, 4)))
def test_jacobians_equal_products_and_finite_differences(c, skip):
    for n in ("step_jacobians", "hidden_jacobians", "last_state_jacobians", "state_gradients",
              "loss_term_gradients", "gradient_norms"):
        tried("jacobians", n)
    if skip is None:
        p = c.params
        cache = rnnlib.rnn_forward(p, c.x, c.h0, c.mask, c.activation)
    else:
        p = perturb(R.init_skip_rnn(c.d, c.m, c.C, skip, seed=c.seed, dtype=c.dtype), c.rng)
        cache = R.skip_rnn_forward(p, c.x, skip, c.h0, c.mask, c.activation)
    D_ = J.hidden_jacobians(p, cache)
    S_ = J.step_jacobians(p, cache)
    R_ = J.last_state_jacobians(p, cache)
    assert D_.shape == (c.T + 1, c.T + 1, c.B, c.m, c.m) and D_.dtype == c.dtype
    close(R_, D_[c.T], c.dtype)                          # two algorithms, forward in t and backward in k
    if skip != 1:                                        # (step_jacobians: the path through W only)
        for t in range(1, c.T + 1):
            close(S_[t - 1], D_[t, t - 1], c.dtype)
    if skip is None:
        close(D_, ref_products(cache, p["W"].astype(float), c.activation), c.dtype)
    G = J.loss_term_gradients(p, cache, c.y)
    delta = J.state_gradients(p, cache, c.y)
    close(G.sum(axis=0), delta, c.dtype)
    norms = J.gradient_norms(delta)
    close(norms, np.sqrt((delta.astype(float) ** 2).sum(axis=(1, 2))), c.dtype)
    if c.dtype == np.float64 and c.activation != "relu":
        if skip is None:
            grads = rnnlib.rnn_backward(p, cache, c.y)[1]
        else:
            grads = R.skip_rnn_backward(p, cache, c.y)[1]
        h0_grad = grads["h0"] if np.ndim(grads["h0"]) == 2 else np.broadcast_to(grads["h0"], (c.B, c.m))
        if c.h0 is None or np.ndim(c.h0) == 2:
            close(delta[0], h0_grad, c.dtype)            # delta^(0) is the backward pass's dJ/dh0
        h0 = {"h0": np.zeros((c.B, c.m)) if c.h0 is None else np.broadcast_to(c.h0, (c.B, c.m)).copy()}
        p64 = {k: v.astype(float) for k, v in p.items()}
        f = lambda: ref_step_loss(ref_skip(dict(p64, W_s=p64.get("W_s", np.zeros((c.m, c.m)))), c.x,  # noqa: E731
                                           skip or c.T + 1, h0["h0"], c.mask, c.activation)[1], c.y, c.mask)
        assert_fd(f, h0, {"h0": delta[0]})                # dJ/dh^(0) by finite differences


@covers("jacobians", "gated_step_jacobians")
@settings(max_examples=30)
@given(c=rnn_cases(activations=("tanh",)), kind=st.sampled_from(["lstm", "gru"]))
def test_gated_step_jacobians_equal_finite_differences_of_one_step(c, kind):
    tried("jacobians", "gated_step_jacobians")
    init, forward = ((rnnlib.init_lstm, rnnlib.lstm_forward) if kind == "lstm"
                     else (rnnlib.init_gru, rnnlib.gru_forward))
    p = perturb(init(c.d, c.m, c.C, seed=c.seed), c.rng)
    x = c.x.astype(float)
    cache = forward(p, x, mask=c.mask)
    A = J.gated_step_jacobians(p, cache)
    close(J.step_jacobians(p, cache), A)
    t = c.T - 1
    n = 2 * c.m if kind == "lstm" else c.m
    state = np.concatenate([cache.h[t], cache.s[t]], axis=1) if kind == "lstm" else cache.h[t]

    def step(st_):
        if kind == "lstm":
            out = forward(p, x[t:t + 1], st_[:, :c.m], mask=None if c.mask is None else c.mask[t:t + 1],
                          c0=st_[:, c.m:])
            return np.concatenate([out.h[1], out.s[1]], axis=1)
        return forward(p, x[t:t + 1], st_, mask=None if c.mask is None else c.mask[t:t + 1]).h[1]
    numeric = np.zeros((c.B, n, n))
    for e in range(c.B):
        for j in range(n):
            numeric[e, :, j] = central(lambda: step(state)[e], state, (e, j))
    assert rel_floor(A[t], numeric, np.sqrt(c.m)) < 1e-7


@covers("jacobians", "jacobian_norms", "jacobian_singular_values", "spectral_radius", "jacobian_bound_rate")
@settings(max_examples=100)
@given(shape=st.tuples(st.integers(0, 3), st.integers(1, 4), st.integers(1, 4)), seed=st.integers(0, 2 ** 16),
       nonfinite=st.booleans(), act=st.sampled_from(["tanh", "relu", "identity"]))
def test_norms_and_spectra_equal_numpy_linalg(shape, seed, nonfinite, act):
    for n in ("jacobian_norms", "jacobian_singular_values", "spectral_radius", "jacobian_bound_rate"):
        tried("jacobians", n)
    rng = np.random.default_rng(seed)
    M = rng.standard_normal(shape)
    if nonfinite and M.size:
        M.flat[0] = np.inf
    sv = J.jacobian_singular_values(M)
    assert sv.shape == shape[:1] + (min(shape[1:]),)
    for i in range(shape[0]):
        want = np.full(min(shape[1:]), np.inf) if not np.isfinite(M[i]).all() else np.linalg.svd(M[i], compute_uv=False)
        close(sv[i], want)
        close(J.jacobian_norms(M)[i], want[0])
        close(J.jacobian_norms(M, ord="fro")[i], np.sqrt(np.sum(M[i] ** 2)) if np.isfinite(M[i]).all() else np.inf)
    W = rng.standard_normal((shape[1], shape[1]))
    close(J.spectral_radius(W), np.max(np.abs(np.linalg.eigvals(W))))
    params = rnnlib.init_rnn(2, shape[1], 2, seed=seed)
    params["W"] = W
    close(J.jacobian_bound_rate(params, act), np.linalg.norm(W, 2))


@covers("jacobians", "train_with_gradient_norms")
@settings(max_examples=12)
@given(c=rnn_cases(dtypes=(np.float64,), activations=("tanh",)), steps=st.integers(1, 3), lr=st.floats(0.01, 0.5),
       kind=st.sampled_from(["rnn", "skip", "gru"]))
def test_train_with_gradient_norms_equals_the_loop_written_out(c, steps, lr, kind):
    tried("jacobians", "train_with_gradient_norms")
    if kind == "rnn":
        p, fw, bw, kw = c.params, rnnlib.rnn_forward, rnnlib.rnn_backward, {}
    elif kind == "skip":
        p, fw, bw, kw = R.init_skip_rnn(c.d, c.m, c.C, 2, seed=c.seed), R.skip_rnn_forward, R.skip_rnn_backward, {"skip": 2}
    else:
        p, fw, bw, kw = rnnlib.init_gru(c.d, c.m, c.C, seed=c.seed), rnnlib.gru_forward, rnnlib.gru_backward, {}
    batch = lambda step: (c.x, c.y, c.mask)  # noqa: E731
    mine = {k: v.copy() for k, v in p.items()}
    history, norms = J.train_with_gradient_norms(mine, batch, steps, rnnlib.SGD(lr=lr), forward=fw, backward=bw, **kw)
    ref = {k: v.copy() for k, v in p.items()}
    for step in range(steps):                            # the loop written out with the public functions
        cache = fw(ref, c.x, mask=c.mask, **kw)
        loss, grads = bw(ref, cache, c.y)
        assert abs(history.loss[step] - loss) < 1e-12 * max(1, abs(loss))
        close(norms[step], J.gradient_norms(J.state_gradients(ref, cache, c.y)))
        for k in ref:
            ref[k] -= lr * grads[k]
    for k in ref:
        close(mine[k], ref[k])


def jacobians_calls(c, out):
    p = c.params
    cache = rnnlib.rnn_forward(p, c.x, c.h0, c.mask, c.activation)
    other = rnnlib.init_rnn(c.d, c.m + 1, c.C, dtype=c.dtype)
    skip_p = R.init_skip_rnn(c.d, c.m, c.C, 2, dtype=c.dtype)
    skip_cache = R.skip_rnn_forward(skip_p, c.x, 2)
    for fname, fn, extra in (("step_jacobians", J.step_jacobians, {}), ("hidden_jacobians", J.hidden_jacobians, {}),
                             ("last_state_jacobians", J.last_state_jacobians, {}),
                             ("state_gradients", J.state_gradients, {"y": c.y}),
                             ("loss_term_gradients", J.loss_term_gradients, {"y": c.y})):
        kw = dict(params=p, cache=cache, **extra)
        out.add(fname, fn, kw, "params", bad_params(p if extra else {k: p[k] for k in "WUb"}))
        out.add(fname, fn, kw, "params", [(other, ("cache",), ValueError)])
        out.add(fname, fn, kw, "cache", [({"h": cache.h}, TypeError), (None, TypeError),
                                         (skip_cache, ("W_s",), KeyError)])
        if fname != "state_gradients":                   # (its guard is for the gated cells' Jacobians)
            out.add(fname, fn, kw, "max_bytes", [(1, ValueError), (-1.0, TypeError)])
        if extra:
            out.add(fname, fn, kw, "y", [(c.y + c.C, ValueError), (c.y[:-1], ValueError), ("y", TypeError)])
    out.add("loss_term_gradients", J.loss_term_gradients, dict(params=p, cache=cache, y=c.y), "jacobians",
            [(np.zeros((c.T + 3, c.T + 3, c.B, c.m, c.m)), ValueError), ("J", TypeError)])
    out.add("gated_step_jacobians", J.gated_step_jacobians, dict(params=p, cache=cache), "cache",
            [(cache, ("lstm_forward",), TypeError)])
    M = np.ones((2, 3, 3))
    for fname, fn in (("jacobian_norms", J.jacobian_norms), ("jacobian_singular_values", J.jacobian_singular_values)):
        out.add(fname, fn, dict(jacobians=M), "jacobians", [(np.zeros(3), ValueError), ("J", TypeError),
                                                            (np.zeros((2, 0, 3)), ValueError)])
    out.add("jacobian_norms", J.jacobian_norms, dict(jacobians=M), "ord", [(1, ValueError), ("nuc", ValueError)])
    out.add("spectral_radius", J.spectral_radius, dict(W=np.eye(2)), "W",
            [(np.ones((2, 3)), ValueError), (np.array([[np.nan]]), ValueError), ("W", TypeError),
             (np.zeros((0, 0)), ValueError)])
    out.add("jacobian_bound_rate", J.jacobian_bound_rate, dict(params=p), "activation", [("gelu", ValueError)])
    out.add("jacobian_bound_rate", J.jacobian_bound_rate, dict(params=p), "params", bad_params({"W": p["W"]}))
    out.add("gradient_norms", J.gradient_norms, dict(grads_per_step=np.ones((3, 2, 2))), "grads_per_step",
            [(np.ones(3), ValueError), ("g", TypeError)])
    task = lambda step: (c.x, c.y)  # noqa: E731
    tw = dict(params=p, batches=task, num_steps=1, progress=False)
    out.add("train_with_gradient_norms", J.train_with_gradient_norms, tw, "num_steps", BAD_SIZES)
    out.add("train_with_gradient_norms", J.train_with_gradient_norms, tw, "batches", [([task(0)], TypeError)])
    out.add("train_with_gradient_norms", J.train_with_gradient_norms, tw, "optimizer", [("adam", TypeError)])
    out.add("train_with_gradient_norms", J.train_with_gradient_norms, tw, "clip_norm", [(-1, ValueError)])
    out.add("train_with_gradient_norms", J.train_with_gradient_norms, tw, "params", bad_params(p)[:6])


@settings(max_examples=150)
@given(data=st.data())
def test_jacobians_refuse_one_bad_argument_naming_it(data):
    c = data.draw(rnn_cases(activations=("tanh",)))
    run_bad_calls("jacobians", data, [jacobians_calls], c)


# ==============================================================================================
# bptt: the double sum term by term, backward from the logits, truncated BPTT, memory
# ==============================================================================================
@covers("bptt", "hidden_jacobian", "bptt_contributions", "contribution_norms", "backprop_from_outputs",
        "cache_nbytes", "bptt_memory_bytes")
@settings(max_examples=50)
@given(c=rnn_cases(), wrt=st.sampled_from(["U", "W", "b"]))
def test_bptt_terms_add_up_to_rnn_backward(c, wrt):
    for n in ("hidden_jacobian", "bptt_contributions", "contribution_norms", "backprop_from_outputs",
              "cache_nbytes", "bptt_memory_bytes"):
        tried("bptt", n)
    h0 = None if c.h0 is None else np.broadcast_to(c.h0, (c.B, c.m)).copy()
    cache = rnnlib.rnn_forward(c.params, c.x, h0, None, c.activation)
    loss, grads = rnnlib.rnn_backward(c.params, cache, c.y)
    terms = BP.bptt_contributions(c.params, cache, c.y, wrt)
    assert terms.shape == (c.T, c.T) + c.params[wrt].shape
    for t in range(c.T):
        assert np.all(terms[t, t + 1:] == 0)             # the future cannot change the past
    close(terms.sum(axis=(0, 1)), grads[wrt], c.dtype)
    close(BP.contribution_norms(terms), np.sqrt((terms.astype(float) ** 2).reshape(c.T, c.T, -1).sum(axis=2)),
          c.dtype)
    D_ = ref_products(cache, c.params["W"].astype(float), c.activation)
    t, k = c.T, int(c.rng.integers(0, c.T + 1))
    close(BP.hidden_jacobian(c.params, cache, t, k), D_[t, k], c.dtype)
    _, do = rnnlib.rnn_loss(cache, c.y)
    back = BP.backprop_from_outputs(c.params, cache, do)
    for key in "WUVbc":
        close(back[key], grads[key], c.dtype)
    close(back["h0"], np.broadcast_to(grads["h0"], (c.B, c.m)) if np.ndim(grads["h0"]) == 1 else grads["h0"],
          c.dtype)
    item = np.dtype(c.dtype).itemsize
    want = item * (c.T * c.B * c.d + (c.T + 1) * c.B * c.m + c.T * c.B * c.m + 2 * c.T * c.B * c.C)
    assert BP.bptt_memory_bytes(c.T, c.B, c.m, c.d, c.C, c.dtype) == want == BP.cache_nbytes(cache)
    masked = rnnlib.rnn_forward(c.params, c.x, mask=np.ones((c.T, c.B), bool))
    assert BP.cache_nbytes(masked) == want + c.T * c.B == BP.bptt_memory_bytes(c.T, c.B, c.m, c.d, c.C, c.dtype,
                                                                                mask=True)


@covers("bptt", "Segment", "SegmentResult", "tbptt_segments", "tbptt", "tbptt_gradient", "train_tbptt")
@settings(max_examples=50)
@given(c=rnn_cases(dtypes=(np.float64,)), T=st.integers(1, 9), k1=st.integers(1, 4), extra=st.integers(0, 3),
       lr=st.floats(0.01, 0.3))
def test_truncated_bptt_equals_chunks_run_by_hand(c, T, k1, extra, lr):
    for n in ("Segment", "SegmentResult", "tbptt_segments", "tbptt", "tbptt_gradient", "train_tbptt"):
        tried("bptt", n)
    k2 = k1 + extra
    segments = BP.tbptt_segments(T, k1, k2)
    assert [s.loss_start for s in segments] == list(range(0, T, k1))
    assert all(s.end == min(s.loss_start + k1, T) and s.window_start == max(0, s.end - k2) for s in segments)
    assert all(isinstance(s, BP.Segment) for s in segments)
    x = c.rng.standard_normal((T, c.B, c.d))
    y = c.rng.integers(0, c.C, (T, c.B))
    p = c.params
    loss, grads = BP.tbptt_gradient(p, x, y, k1, k2, activation=c.activation)
    full = rnnlib.rnn_backward(p, rnnlib.rnn_forward(p, x, activation=c.activation), y)
    assert abs(loss - full[0]) < 1e-10 * max(1, abs(full[0]))   # the loss is always the full J
    if k2 >= T:
        for key in "WUVbc":
            close(grads[key], full[1][key])
    # each segment by hand: forward from h at the window's start (a constant), losses of the segment only
    h_all = rnnlib.rnn_forward(p, x, activation=c.activation).h
    want = {key: np.zeros_like(p[key]) for key in "WUVbc"}
    for seg, result in zip(segments, BP.tbptt(p, x, y, k1, k2, activation=c.activation)):
        assert isinstance(result, BP.SegmentResult) and result.segment == seg
        window = rnnlib.rnn_forward(p, x[seg.window_start:seg.end], h_all[seg.window_start], activation=c.activation)
        mask = np.zeros((seg.end - seg.window_start, c.B), bool)
        mask[seg.loss_start - seg.window_start:] = True
        yy = y[seg.window_start:seg.end]
        o_loss = ref_step_loss(window.o.astype(float), yy, mask)
        assert abs(result.loss - o_loss) < 1e-10 * max(1, abs(o_loss))
        _, do = rnnlib.rnn_loss(window, yy)
        do[~mask] = 0
        g = BP.backprop_from_outputs(p, window, do)
        for key in want:
            close(result.grads[key], g[key])
            want[key] += g[key]
        close(result.h, h_all[seg.end])
    for key in want:
        close(grads[key], want[key])
    trained = {key: v.copy() for key, v in p.items()}
    history = BP.train_tbptt(trained, x, y, k1, k2, rnnlib.SGD(lr=lr), activation=c.activation, progress=False)
    ref = {key: v.copy() for key, v in p.items()}
    h = np.zeros((c.B, c.m))
    states = {0: h}
    for s, seg in enumerate(segments):                   # one SGD update per segment, state carried
        window = rnnlib.rnn_forward(ref, x[seg.window_start:seg.end], states[seg.window_start],
                                    activation=c.activation)
        _, do = rnnlib.rnn_loss(window, y[seg.window_start:seg.end])
        do[: seg.loss_start - seg.window_start] = 0
        g = BP.backprop_from_outputs(ref, window, do)
        if s + 1 < len(segments):
            nxt = segments[s + 1].window_start
            states = {nxt: window.h[nxt - seg.window_start]}
        for key in "WUVbc":
            ref[key] -= lr * g[key]
    for key in ref:
        close(trained[key], ref[key])
    assert len(history.loss) == len(segments)


def bptt_calls(c, out):
    p = c.params
    cache = rnnlib.rnn_forward(p, c.x, activation=c.activation)
    masked = rnnlib.rnn_forward(p, c.x, mask=np.ones((c.T, c.B), bool))
    other = rnnlib.init_rnn(c.d, c.m + 1, c.C, dtype=c.dtype)
    bc = dict(params=p, cache=cache, y=c.y, wrt="U")
    out.add("bptt_contributions", BP.bptt_contributions, bc, "wrt", [("V", ValueError), (None, ValueError)])
    out.add("bptt_contributions", BP.bptt_contributions, bc, "cache", [({"x": c.x}, TypeError), (masked, ValueError)])
    out.add("bptt_contributions", BP.bptt_contributions, bc, "params", bad_params(p) + [(other, ("cache",), ValueError)])
    out.add("bptt_contributions", BP.bptt_contributions, bc, "y", [(c.y[:-1], ValueError), (c.y + c.C, ValueError)])
    out.add("bptt_contributions", BP.bptt_contributions, bc, "max_bytes", [(1, ValueError)])
    hj = dict(params=p, cache=cache, t=c.T, k=0)
    out.add("hidden_jacobian", BP.hidden_jacobian, hj, "t", [(c.T + 1, ValueError), (-1, ValueError), (1.5, TypeError)])
    out.add("hidden_jacobian", BP.hidden_jacobian, dict(hj, t=0), "k", [(1, ("k", "t"), ValueError), ("0", TypeError)])
    out.add("contribution_norms", BP.contribution_norms, dict(terms=np.zeros((2, 2, 3))), "terms",
            [(np.zeros((2, 3, 3)), ValueError), (np.zeros(3), ValueError), ("t", TypeError)])
    bo = dict(params=p, cache=cache, do=np.zeros((c.T, c.B, c.C)))
    out.add("backprop_from_outputs", BP.backprop_from_outputs, bo, "do",
            [(np.zeros((c.T, c.B, c.C + 1)), ValueError), (np.full((c.T, c.B, c.C), np.nan), ValueError),
             (np.full((c.T, c.B, c.C), "a"), TypeError)])
    out.add("tbptt_segments", BP.tbptt_segments, dict(T=10, k1=3, k2=3), "k2", [(2, ("k1", "k2"), ValueError)] + BAD_SIZES)
    out.add("tbptt_segments", BP.tbptt_segments, dict(T=10, k1=3, k2=3), "T", BAD_SIZES)
    for fname, fn, extra in (("tbptt", BP.tbptt, {}), ("tbptt_gradient", BP.tbptt_gradient, {}),
                             ("train_tbptt", BP.train_tbptt, {"optimizer": rnnlib.SGD(0.1), "progress": False})):
        kw = dict(params=p, x=c.x, y=c.y, k1=2, k2=2, **extra)
        out.add(fname, fn, kw, "k1", BAD_SIZES)
        out.add(fname, fn, kw, "x", bad_arrays(c.x) + [(c.x[:, 0], ValueError)])
        out.add(fname, fn, kw, "y", [(c.y + c.C, ValueError), (c.y[:-1], ValueError)])
        out.add(fname, fn, kw, "h0", [(np.zeros((c.B + 1, c.m)), ValueError), ("h", TypeError)])
        out.add(fname, fn, kw, "activation", [("sigmoid", ValueError)])
        out.add(fname, fn, kw, "params", bad_params(p))
    tt = dict(params=p, x=c.x, y=c.y, k1=2, k2=2, optimizer=rnnlib.SGD(0.1), progress=False)
    out.add("train_tbptt", BP.train_tbptt, tt, "optimizer", [("sgd", TypeError)])
    out.add("train_tbptt", BP.train_tbptt, tt, "num_passes", BAD_SIZES)
    out.add("train_tbptt", BP.train_tbptt, tt, "clip_norm", [(0, ValueError), ("1", TypeError)])
    out.add("cache_nbytes", BP.cache_nbytes, dict(cache=cache), "cache", [(c.x, TypeError), (None, TypeError)])
    mb = dict(T=3, B=1, m=2, d=1, C=1)
    for arg in "TBmdC":
        out.add("bptt_memory_bytes", BP.bptt_memory_bytes, mb, arg, BAD_SIZES)
    out.add("bptt_memory_bytes", BP.bptt_memory_bytes, mb, "dtype", BAD_DTYPES)
    out.add("bptt_memory_bytes", BP.bptt_memory_bytes, mb, "mask", [(1, TypeError)])


@settings(max_examples=150)
@given(data=st.data())
def test_bptt_refuses_one_bad_argument_naming_it(data):
    c = data.draw(rnn_cases())
    run_bad_calls("bptt", data, [bptt_calls], c)


# ==============================================================================================
# recursive: trees, backpropagation through structure, the boolean-expression task
# ==============================================================================================
NESTED = st.recursive(st.just("leaf"), lambda kids: st.tuples(kids, kids), max_leaves=9)


def label(nested):
    """The same shape with leaves named "w0", "w1", ... left to right (plain recursion)."""
    counter = iter(range(10 ** 6))

    def go(item):
        return (go(item[0]), go(item[1])) if isinstance(item, tuple) else f"w{next(counter)}"
    return go(nested)


def ref_tree(nested):
    """(n_leaves, children, depth, leaf depths, nested of node ids) by plain recursion."""
    leaves, pairs = [], []

    def count(item):
        if isinstance(item, tuple):
            count(item[0])
            count(item[1])
        else:
            leaves.append(item)
    count(nested)
    n, ids = len(leaves), iter(range(len(leaves)))
    depths = []

    def build(item, level):
        if not isinstance(item, tuple):
            depths.append(level)
            i = next(ids)
            return i, 0, i
        (lid, lh, ln), (rid, rh, rn) = build(item[0], level + 1), build(item[1], level + 1)
        pairs.append((lid, rid))
        return n + len(pairs) - 1, 1 + max(lh, rh), (ln, rn)
    _, depth, as_ids = build(nested, 0)
    return n, pairs, depth, depths, as_ids


def ref_node_h(p, nested, leaf_vectors):
    """Every node's h in post-order (leaves first by position), by recursion."""
    leaves = iter(leaf_vectors)
    internal = []

    def h(item):
        if not isinstance(item, tuple):
            return next(leaves)
        v = np.tanh(p["W"] @ np.concatenate([h(item[0]), h(item[1])]) + p["b"])
        internal.append(v)
        return v
    root = h(nested)
    return np.vstack([np.asarray(leaf_vectors).reshape(-1, p["W"].shape[0])] + [v[None] for v in internal]), root


@covers("recursive", "Tree", "check_tree", "tree_depth", "chain_tree", "balanced_tree", "tree_from_nested",
        "tree_to_nested")
@settings(max_examples=150)
@given(nested=NESTED, n=st.integers(1, 70))
def test_trees_equal_plain_recursion(nested, n):
    for name in ("Tree", "check_tree", "tree_depth", "chain_tree", "balanced_tree", "tree_from_nested",
                 "tree_to_nested"):
        tried("recursive", name)
    named = label(nested)
    tree, leaves = REC.tree_from_nested(named)
    n_ref, pairs, depth, depths, as_ids = ref_tree(named)
    assert tree.n_leaves == n_ref and tree.children.tolist() == [list(pr) for pr in pairs]
    assert REC.tree_depth(tree) == depth and tree.leaf_depths().tolist() == depths
    assert leaves == [f"w{i}" for i in range(n_ref)]
    assert REC.tree_to_nested(tree, leaves) == named and REC.tree_to_nested(tree) == as_ids
    assert repr(tree) == f"Tree({as_ids!r})"
    assert REC.Tree(n_ref, pairs) == tree and REC.check_tree(tree) is tree
    assert REC.chain_tree(n).depth == n - 1 and REC.chain_tree(n).leaf_depths().tolist() == (
        [n - 1] + list(range(n - 1, 0, -1)) if n > 1 else [0])
    assert REC.balanced_tree(n).depth == int(np.ceil(np.log2(n)))
    assert REC.tree_from_nested(REC.tree_to_nested(REC.balanced_tree(n)))[0] == REC.balanced_tree(n)


@st.composite
def recursive_cases(draw):
    c = Case()
    c.m, c.C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    c.K = draw(st.one_of(st.none(), st.integers(1, 4)))
    c.seed = draw(st.integers(0, 2 ** 16))
    c.dtype = draw(st.sampled_from([np.float64, np.float32]))
    c.rng = np.random.default_rng(c.seed)
    c.params = perturb(REC.init_recursive(c.m, c.C, vocab_size=c.K, seed=c.seed, dtype=c.dtype), c.rng)
    c.nested = [draw(NESTED) for _ in range(draw(st.integers(1, 3)))]
    c.trees = [REC.tree_from_nested(nd)[0] for nd in c.nested]
    c.tokens = draw(st.booleans()) and c.K is not None
    c.x = [c.rng.integers(0, c.K, t.n_leaves) if c.tokens else
           c.rng.standard_normal((t.n_leaves, c.m)).astype(c.dtype) for t in c.trees]
    c.outputs = draw(st.sampled_from(["root", "all"]))
    c.single = draw(st.booleans()) and len(c.trees) == 1
    c.y = (c.rng.integers(0, c.C, len(c.trees)) if c.outputs == "root" else
           [np.where(c.rng.random(t.n_nodes) < 0.3, -1, c.rng.integers(0, c.C, t.n_nodes)) for t in c.trees])
    return c


def leaf_vectors(c, p, i):
    return p["E"][c.x[i]] if c.tokens else c.x[i]


@covers("recursive", "init_recursive", "check_recursive_params", "chain_to_rnn_params", "recursive_forward",
        "recursive_backward", "recursive_predict", "accuracy")
@settings(max_examples=80)
@given(c=recursive_cases())
def test_recursive_net_equals_recursion_and_finite_differences(c):
    for name in ("init_recursive", "check_recursive_params", "recursive_forward", "recursive_predict"):
        tried("recursive", name)
    p = c.params
    assert REC.check_recursive_params(p) == (np.dtype(c.dtype), c.m, c.C)
    trees, x, y = (c.trees[0], c.x[0], c.y[0] if c.outputs == "all" else int(c.y[0])) if c.single else (c.trees, c.x, c.y)
    cache = REC.recursive_forward(p, trees, x, outputs=c.outputs)
    p64 = {k: v.astype(float) for k, v in p.items()}
    outs = []
    for i, nd in enumerate(c.nested):
        all_h, root = ref_node_h(p64, nd, leaf_vectors(c, p64, i).astype(float))
        close(cache.node_h(i), all_h, c.dtype)
        outs.append(all_h if c.outputs == "all" else root[None])
    o = np.vstack(outs) @ p64["V"].T + p64["c"]
    close(cache.o, o, c.dtype)
    predicted = REC.recursive_predict(p, trees, x)
    roots = np.array([ref_node_h(p64, nd, leaf_vectors(c, p64, i).astype(float))[1] for i, nd in enumerate(c.nested)])
    logits = roots @ p64["V"].T + p64["c"]
    gap = np.sort(logits, axis=1)
    clear = (gap[:, -1] - (gap[:, -2] if c.C > 1 else -np.inf)) > 1e-3
    assert np.array_equal(np.atleast_1d(predicted)[clear], logits.argmax(axis=1)[clear])
    if c.tokens and c.outputs == "root":
        tried("recursive", "accuracy")
        labels = c.rng.integers(0, c.C, len(c.trees))
        want = np.mean(np.atleast_1d(REC.recursive_predict(p, c.trees, c.x)) == labels)
        assert REC.accuracy(p, c.trees, c.x, labels) == want
    if all(t.n_leaves > 1 for t in c.trees[:1]):
        tried("recursive", "chain_to_rnn_params")
        chain = REC.chain_tree(c.trees[0].n_leaves)
        leaves = leaf_vectors(c, p64, 0).astype(float)
        rnn = REC.chain_to_rnn_params(p64)
        h_rnn = rnnlib.rnn_forward(rnn, leaves[1:, None, :], h0=leaves[0]).h[-1, 0]
        close(REC.recursive_forward(p64, chain, leaves).h_root, h_rnn)
    if c.dtype == np.float64:
        tried("recursive", "recursive_backward")
        loss, grads = REC.recursive_backward(p, cache, y)
        arrays = {k: v.copy() for k, v in p.items()}
        if not c.tokens:
            arrays.update({f"x{i}": xi.copy() for i, xi in enumerate(c.x)})
            dx = grads["x"] if not c.single else [grads["x"]]
            grads = dict(grads, **{f"x{i}": g for i, g in enumerate(dx)})

        def f():
            total = 0.0
            for i, nd in enumerate(c.nested):
                vec = arrays["E"][c.x[i]] if c.tokens else arrays[f"x{i}"]
                all_h, root = ref_node_h(arrays, nd, vec)
                rows = all_h if c.outputs == "all" else root[None]
                labels = np.atleast_1d(c.y[i])
                for r, lab in zip(rows, labels):
                    if lab >= 0:
                        oo = arrays["V"] @ r + arrays["c"]
                        total -= oo[lab] - (oo.max() + np.log(np.exp(oo - oo.max()).sum()))
            return total / len(c.nested)
        assert abs(loss - f()) < 1e-10 * max(1, abs(f()))
        keys = [k for k in arrays if k != "E" or c.tokens]
        assert_fd(f, {k: arrays[k] for k in keys}, grads)


def ref_random_expression(rng, max_depth, p_leaf=0.3):
    """The generator written as plain recursion (the lecture's grammar)."""
    def grow(depth, is_root):
        if depth == 0 or (not is_root and rng.random() < p_leaf):
            return "T" if rng.random() < 0.5 else "F"
        op = "and" if rng.random() < 0.5 else "or"
        return (op, (grow(depth - 1, False), grow(depth - 1, False)))
    return grow(max_depth, True)


def ref_rotate(tree, rng, p):
    def noisy(item):
        if not isinstance(item, tuple):
            return item
        left, right = noisy(item[0]), noisy(item[1])
        if rng.random() < p:
            if isinstance(left, tuple):
                return (left[0], (left[1], right))
            if isinstance(right, tuple):
                return ((left, right[0]), right[1])
        return (left, right)
    return noisy(REC.tree_to_nested(tree))


def python_value(e):
    if isinstance(e, str):
        return e == "T"
    op, (left, right) = e
    return (python_value(left) and python_value(right)) if op == "and" else (python_value(left) or python_value(right))


def prefix(e):
    return [e] if isinstance(e, str) else [e[0]] + prefix(e[1][0]) + prefix(e[1][1])


@covers("recursive", "BOOL_VOCAB", "random_expression", "evaluate_expression", "expression_tokens", "parse_prefix",
        "rotate_randomly", "make_expression_data")
@settings(max_examples=120)
@given(seed=st.integers(0, 2 ** 16), max_depth=st.integers(1, 5), p_leaf=st.floats(0, 1), p=st.floats(0, 1),
       nested=NESTED)
def test_expressions_equal_python_and_the_recursive_generator(seed, max_depth, p_leaf, p, nested):
    for name in ("random_expression", "evaluate_expression", "expression_tokens", "parse_prefix",
                 "rotate_randomly", "make_expression_data"):
        tried("recursive", name)
    expr = REC.random_expression(np.random.default_rng(seed), max_depth, p_leaf)
    assert expr == ref_random_expression(np.random.default_rng(seed), max_depth, p_leaf)
    assert REC.evaluate_expression(expr) == python_value(expr)
    tokens = REC.expression_tokens(expr)
    assert [REC.BOOL_VOCAB[t] for t in tokens] == prefix(expr)
    assert REC.parse_prefix(tokens) == REC.tree_from_nested(expr)[0]
    tree = REC.tree_from_nested(label(nested))[0]
    rotated = REC.rotate_randomly(tree, np.random.default_rng(seed), p)
    assert rotated == REC.tree_from_nested(ref_rotate(tree, np.random.default_rng(seed), p))[0]
    tok, trees, labels = REC.make_expression_data(3, max_depth, seed=seed)
    rng = np.random.default_rng(seed)
    exprs = [ref_random_expression(rng, max_depth) for _ in range(3)]
    assert [python_value(e) for e in exprs] == labels.tolist()
    assert all(REC.tree_from_nested(e)[0] == t for e, t in zip(exprs, trees))


@settings(max_examples=8)
@given(seed=st.integers(0, 2 ** 16), steps=st.integers(1, 3), lr=st.floats(0.01, 0.5), batch=st.integers(1, 4))
def test_train_recursive_equals_the_loop_written_out(seed, steps, lr, batch):
    tried("recursive", "train_recursive")
    COVERED.add("recursive.train_recursive")
    tokens, trees, labels = REC.make_expression_data(5, 2, seed=seed)
    p = REC.init_recursive(3, 2, vocab_size=4, seed=seed)
    mine = {k: v.copy() for k, v in p.items()}
    losses = REC.train_recursive(mine, trees, tokens, labels, steps, batch_size=batch, optimizer=rnnlib.SGD(lr),
                                 seed=seed, progress=False)
    rng = np.random.default_rng(seed)
    for step in range(steps):
        idx = rng.choice(5, size=min(batch, 5), replace=False)
        cache = REC.recursive_forward(p, [trees[i] for i in idx], [tokens[i] for i in idx])
        loss, grads = REC.recursive_backward(p, cache, labels[idx])
        assert abs(losses[step] - loss) < 1e-12
        for k in p:
            p[k] = p[k] - lr * grads[k]
    for k in p:
        close(mine[k], p[k])


def recursive_calls(c, out):
    p = c.params
    tree, x = c.trees[0], c.x[0]
    out.add("Tree", REC.Tree, dict(n_leaves=3, children=[(0, 1), (3, 2)]), "children",
            [([(0, 1)], ValueError), ([(0, 4), (3, 2)], ValueError), ([(0, 1), (0, 2)], ValueError),
             ([("a", "b"), (3, 2)], TypeError), ([(0.5, 1), (3, 2)], TypeError), ("ab", TypeError),
             ([(0, 1), (3, -1)], ValueError)])
    out.add("Tree", REC.Tree, dict(n_leaves=3, children=[(0, 1), (3, 2)]), "n_leaves", BAD_SIZES)
    cyclic = ["a", None]
    cyclic[1] = cyclic
    out.add("tree_from_nested", REC.tree_from_nested, dict(nested=("a", "b")), "nested",
            [(("a", "b", "c"), ValueError), (("a", ("b",)), ValueError), (cyclic, ValueError), ((), ValueError)])
    out.add("tree_to_nested", REC.tree_to_nested, dict(tree=tree), "leaves", [(["a"] * (tree.n_leaves + 1), ValueError),
                                                                              (5, TypeError)])
    for fname, fn in (("tree_to_nested", REC.tree_to_nested), ("tree_depth", REC.tree_depth),
                      ("check_tree", REC.check_tree)):
        out.add(fname, fn, dict(tree=tree), "tree", [(("a", "b"), TypeError), (None, TypeError)])
    for fname, fn in (("chain_tree", REC.chain_tree), ("balanced_tree", REC.balanced_tree)):
        out.add(fname, fn, dict(n_leaves=3), "n_leaves", BAD_SIZES + [(10 ** 10, ("max_bytes",), ValueError)])
    init = dict(m=c.m, C=c.C)
    out.add("init_recursive", REC.init_recursive, init, "m", BAD_SIZES)
    out.add("init_recursive", REC.init_recursive, init, "vocab_size", BAD_SIZES[:-1])
    out.add("init_recursive", REC.init_recursive, init, "seed", BAD_SEEDS)
    out.add("init_recursive", REC.init_recursive, init, "dtype", BAD_DTYPES)
    for fname, fn in (("check_recursive_params", REC.check_recursive_params),
                      ("chain_to_rnn_params", REC.chain_to_rnn_params)):
        out.add(fname, fn, dict(params=p), "params", bad_params({k: v for k, v in p.items() if k != "E"}, square=None))
    fw = dict(params=p, trees=c.trees, x=c.x)
    base = {k: v for k, v in p.items() if k != "E"}      # E is optional (only for token ids)
    extra = {"E": p["E"]} if "E" in p else {}
    bad = [({**b, **extra} if isinstance(b, dict) else b, w, e) for b, w, e in bad_params(base, square=None)]
    if extra:
        nan_E = p["E"].copy()
        nan_E.flat[0] = np.nan
        bad += [({**p, "E": nan_E}, ("E",), ValueError), ({**p, "E": np.ones((2, c.m + 1), c.dtype)}, ("E",), ValueError)]
    for fname, fn in (("recursive_forward", REC.recursive_forward), ("recursive_predict", REC.recursive_predict)):
        out.add(fname, fn, fw, "params", bad + [({**p, "W": np.ones((c.m, c.m), c.dtype)}, ("W",), ValueError)])
        out.add(fname, fn, fw, "trees", [([], TypeError), ([("a", "b")] * len(c.trees), TypeError)])
        out.add(fname, fn, fw, "x", [(c.x[:-1] if len(c.x) > 1 else [], ValueError), (np.ones((2, 2)), TypeError),
                                     ([np.full((t.n_leaves, c.m), np.nan) for t in c.trees], ValueError),
                                     ([np.ones((t.n_leaves + 1, c.m)) for t in c.trees], ValueError),
                                     ([np.full(t.n_leaves, 99) for t in c.trees], (KeyError, TypeError, ValueError))])
        out.add(fname, fn, fw, "max_bytes", [(1, ValueError)])
    out.add("recursive_forward", REC.recursive_forward, fw, "outputs", [("leaves", ValueError), (None, ValueError)])
    cache = REC.recursive_forward(p, c.trees, c.x, outputs="root")
    bw = dict(params=p, cache=cache, y=np.zeros(len(c.trees), int))
    out.add("recursive_backward", REC.recursive_backward, bw, "y",
            [(np.zeros(len(c.trees) + 1, int), ValueError), (np.full(len(c.trees), c.C), ValueError),
             (np.full(len(c.trees), 0.5), TypeError), (None, TypeError), (np.full(len(c.trees), -1), ValueError)])
    out.add("recursive_backward", REC.recursive_backward, bw, "cache", [({"h": 1}, TypeError), (None, TypeError)])
    out.add("recursive_backward", REC.recursive_backward, bw, "params",
            [(REC.init_recursive(c.m + 1, c.C, vocab_size=c.K, dtype=c.dtype), ("cache",), ValueError)])
    rng = np.random.default_rng(0)
    out.add("random_expression", REC.random_expression, dict(rng=rng, max_depth=3), "max_depth", BAD_SIZES)
    out.add("random_expression", REC.random_expression, dict(rng=rng, max_depth=3), "p_leaf",
            [(1.5, ValueError), (-0.1, ValueError), ("a", ValueError), (np.nan, ValueError)])
    out.add("random_expression", REC.random_expression, dict(rng=rng, max_depth=60, p_leaf=0.0), "max_nodes",
            [(1000, ("max_nodes",), ValueError), (0, ValueError)])
    out.add("random_expression", REC.random_expression, dict(rng=rng, max_depth=3), "rng", [("r", TypeError),
                                                                                          (-1, ValueError)])
    out.add("evaluate_expression", REC.evaluate_expression, dict(expr="T"), "expr",
            [(("xor", ("T", "F")), ("operator",), ValueError), ("maybe", ("value",), ValueError),
             (("and", "T", "F"), ValueError), (5, ValueError), (("and", ("T",)), ValueError)])
    out.add("expression_tokens", REC.expression_tokens, dict(expr="T"), "expr",
            [(("xor", ("T", "F")), ValueError), (("and", ("and", "T")), ValueError)])
    out.add("parse_prefix", REC.parse_prefix, dict(tokens=[1]), "tokens",
            [([2, 1], ("tokens",), ValueError), ([1, 1], ValueError), ([], ValueError), ([7], ValueError),
             ([1.5], TypeError), ("and T", TypeError), ([True], TypeError)])
    out.add("rotate_randomly", REC.rotate_randomly, dict(tree=tree, rng=rng, p=0.5), "p",
            [(-0.1, ValueError), (2, ValueError), ("p", ValueError)])
    out.add("rotate_randomly", REC.rotate_randomly, dict(tree=tree, rng=rng, p=0.5), "tree", [(("a", "b"), TypeError)])
    out.add("make_expression_data", REC.make_expression_data, dict(n=2, max_depth=2), "n", BAD_SIZES)
    out.add("make_expression_data", REC.make_expression_data, dict(n=2, max_depth=2), "seed", BAD_SEEDS)
    tokens, trees, labels = REC.make_expression_data(3, 2, seed=0)
    q = REC.init_recursive(2, 2, vocab_size=4, seed=0)
    out.add("accuracy", REC.accuracy, dict(params=q, trees=trees, tokens=tokens, labels=labels), "labels",
            [(labels[:1], ("labels",), ValueError), (np.array([0]), ValueError), (labels + 2, ValueError),
             (labels * 0.5, TypeError), ("l", TypeError)])
    out.add("accuracy", REC.accuracy, dict(params=q, trees=trees, tokens=tokens, labels=labels), "tokens",
            [(tokens[:2], ("tokens",), ValueError), ([t + 9 for t in tokens], ValueError),
             ([t.astype(float) for t in tokens], TypeError)])
    out.add("accuracy", REC.accuracy, dict(params=q, trees=trees, tokens=tokens, labels=labels), "params",
            [({k: v for k, v in q.items() if k != "E"}, ("E",), KeyError)])
    tr = dict(params=q, trees=trees, tokens=tokens, labels=labels, num_steps=1, progress=False)
    out.add("train_recursive", REC.train_recursive, tr, "num_steps", BAD_SIZES)
    out.add("train_recursive", REC.train_recursive, tr, "batch_size", BAD_SIZES)
    out.add("train_recursive", REC.train_recursive, tr, "labels", [(labels[:1], ValueError)])
    out.add("train_recursive", REC.train_recursive, tr, "optimizer", [("adam", TypeError)])
    out.add("train_recursive", REC.train_recursive, tr, "seed", BAD_SEEDS)


@settings(max_examples=200)
@given(data=st.data())
def test_recursive_refuses_one_bad_argument_naming_it(data):
    c = data.draw(recursive_cases())
    run_bad_calls("recursive", data, [recursive_calls], c)


# ==============================================================================================
# dynamics: unfolding, trajectories, the RNN's map, fixed points, separation, Lyapunov exponents
# ==============================================================================================
def ref_unfolded(T, driven, state, start):
    """The unfolded expression built by plain recursion from the inside out."""
    def go(t):
        if t == start:
            return f"{state}^{{({start})}}"
        inner = go(t - 1)
        return f"f({inner}, x^{{({t})}}; \\theta)" if driven else f"f({inner}; \\theta)"
    return go(start + T)


@covers("dynamics", "compose", "unfold", "unfold_driven", "unfolded_expression", "trajectory", "driven_trajectory",
        "ACTIVATIONS")
@settings(max_examples=80)
@given(T=st.integers(0, 6), theta=st.floats(-1.5, 1.5), shape=st.tuples(st.integers(1, 3)), seed=st.integers(0, 999),
       driven=st.booleans(), start=st.integers(0, 3), state=st.sampled_from(["s", "h", r"\mathbf{h}"]))
def test_unfolding_equals_loops_and_recursion(T, theta, shape, seed, driven, start, state):
    for name in ("compose", "unfold", "unfold_driven", "unfolded_expression", "trajectory", "driven_trajectory"):
        tried("dynamics", name)
    rng = np.random.default_rng(seed)
    f = lambda s: np.tanh(theta * s + 0.1)  # noqa: E731
    g = lambda s, x: np.tanh(theta * s + x)  # noqa: E731
    s0 = rng.standard_normal(shape)
    x = rng.standard_normal((T,) + shape)
    s, states, driven_states = s0, [s0], [s0]
    for t in range(T):
        s = f(s)
        states.append(s)
    close(DYN.unfold(f, T)(s0), s)
    close(DYN.trajectory(f, s0, T), np.stack(states))
    close(DYN.compose(*([f] * T or [lambda v: v]))(s0), s)
    s = s0
    for t in range(T):
        s = g(s, x[t])
        driven_states.append(s)
    close(DYN.unfold_driven(g, T)(s0, x), s)
    if T:
        close(DYN.driven_trajectory(g, s0, x), np.stack(driven_states))
    assert DYN.unfolded_expression(T, driven=driven, state=state, start=start) == ref_unfolded(T, driven, state, start)


def ref_hidden(W, U, b, h0, x, T, act):
    hs = [h0]
    for t in range(T):
        a = b + hs[-1] @ W.T + (0 if x is None else x[t] @ U.T)
        hs.append(ACT[act](a))
    return np.stack(hs)


@covers("dynamics", "rnn_map", "hidden_trajectories", "spectral_radius", "scale_to_spectral_radius",
        "random_recurrent_matrix", "jacobian", "fixed_point", "is_stable", "separation", "lyapunov_exponent")
@settings(max_examples=80)
@given(m=st.integers(1, 4), d=st.integers(1, 3), T=st.integers(1, 6), N=st.integers(1, 3), seed=st.integers(0, 999),
       rho=st.floats(0.1, 2.0), act=st.sampled_from(["tanh", "relu", "identity"]), driven=st.booleans())
def test_hidden_state_dynamics_equal_loops_and_closed_forms(m, d, T, N, seed, rho, act, driven):
    for name in ("rnn_map", "hidden_trajectories", "spectral_radius", "scale_to_spectral_radius",
                 "random_recurrent_matrix", "jacobian", "fixed_point", "is_stable", "separation", "lyapunov_exponent"):
        tried("dynamics", name)
    rng = np.random.default_rng(seed)
    W = DYN.random_recurrent_matrix(m, rho, seed=seed)
    close(np.max(np.abs(np.linalg.eigvals(W))), rho)
    close(DYN.spectral_radius(W), rho)
    close(DYN.scale_to_spectral_radius(W, 0.5), W * 0.5 / rho)
    U, b = rng.standard_normal((m, d)), 0.1 * rng.standard_normal(m)
    h0 = rng.standard_normal((N, m))
    x = rng.standard_normal((T, d)) if driven else None
    h = DYN.hidden_trajectories(W, h0, T=T, x=x, U=U if driven else None, b=b, activation=act)
    close(h, ref_hidden(W, U, b, h0, x, T, act))
    f = DYN.rnn_map(W, U, b, act)
    close(f(h0, x[0]) if driven else f(h0), ref_hidden(W, U, b, h0, x, 1, act)[1])
    hp = rng.standard_normal(m)
    xt = x[0] if driven else None
    jac = DYN.jacobian(W, hp, xt, U if driven else None, b, act)
    if act != "relu":
        numeric = np.zeros((m, m))
        step = lambda: ACT[act](b + W @ hp + (U @ xt if driven else 0))  # noqa: E731
        for j in range(m):
            numeric[:, j] = central(step, hp, j)
        assert rel_floor(jac, numeric, np.linalg.norm(W)) < 1e-7
    h_star, ok = DYN.fixed_point(W, b, act)
    if ok:
        assert np.max(np.abs(h_star - ACT[act](b + W @ h_star))) < 1e-12
        J_star = DYN.jacobian(W, h_star, b=b, activation=act)
        assert DYN.is_stable(W, h_star, b, act) == (np.max(np.abs(np.linalg.eigvals(J_star))) < 1)
    delta = 1e-3 * rng.standard_normal(m)
    sep = DYN.separation(W, h0[0], delta, T, x=x, U=U if driven else None, b=b, activation=act)
    both = ref_hidden(W, U, b, np.stack([h0[0], h0[0] + delta]), x, T, act)
    close(sep, np.linalg.norm(both[:, 0] - both[:, 1], axis=1))
    Q, _ = np.linalg.qr(rng.standard_normal((m, m)))     # identity map with W = rho Q: exactly log rho
    close(DYN.lyapunov_exponent(rho * Q, rng.standard_normal(m), T, activation="identity", seed=seed), np.log(rho))


def dynamics_calls(c, out):
    W = np.eye(3)
    out.calls.append(("compose", lambda **_: DYN.compose(), {}, "x", None, ("at least one",), ValueError))
    out.calls.append(("compose", lambda **_: DYN.compose(np.tanh, 3), {}, "x", None, ("f", "callable"), TypeError))
    out.add("unfold", DYN.unfold, dict(f=np.tanh, T=2), "T", [(2.5, ("T",), TypeError), (-1, ValueError), (True, TypeError)])
    out.add("unfold", DYN.unfold, dict(f=np.tanh, T=2), "f", [(3, ("f",), TypeError)])
    out.add("unfold_driven", DYN.unfold_driven, dict(f=np.tanh, T=2), "T", [("2", TypeError)])
    out.calls.append(("unfold_driven", lambda **k: DYN.unfold_driven(lambda s, x: s, 5)(np.zeros(2), np.zeros((3, 2))),
                      {}, "x", None, ("x",), ValueError))
    out.add("unfolded_expression", DYN.unfolded_expression, dict(T=2), "T", [(-1, ValueError), (1.5, TypeError),
                                                                              (10 ** 10, ("max_bytes",), ValueError)])
    out.add("unfolded_expression", DYN.unfolded_expression, dict(T=2), "state", [(3, TypeError)])
    out.add("unfolded_expression", DYN.unfolded_expression, dict(T=2), "start", [(-1, ValueError)])
    out.add("unfolded_expression", DYN.unfolded_expression, dict(T=2), "driven", [(1, TypeError)])
    out.add("trajectory", DYN.trajectory, dict(f=np.tanh, s0=np.ones(2), T=3), "T", [(-1, ValueError)])
    out.add("trajectory", DYN.trajectory, dict(f=np.tanh, s0=np.ones(2), T=3), "s0",
            [("s", TypeError), (np.array([np.nan]), ValueError)])
    out.add("trajectory", DYN.trajectory, dict(f=np.tanh, s0=np.ones(2), T=3), "f",
            [(lambda s: np.ones(3), ("f", "s0"), ValueError), (lambda s: "x", ("f",), TypeError)])
    out.add("trajectory", DYN.trajectory, dict(f=np.tanh, s0=np.ones(2), T=3), "T", [(10 ** 12, ("max_bytes",), ValueError)])
    out.add("driven_trajectory", DYN.driven_trajectory, dict(f=lambda s, x: s, s0=np.ones(2), x=np.ones((3, 2))), "x",
            [(3.0, ("scalar",), ValueError), ("x", TypeError)])
    out.add("rnn_map", DYN.rnn_map, dict(W=W), "b", [(np.ones(2), ("b",), ValueError)])
    out.add("rnn_map", DYN.rnn_map, dict(W=W), "U", [(np.ones((2, 2)), ("U",), ValueError)])
    out.add("rnn_map", DYN.rnn_map, dict(W=W), "W", [(np.ones((2, 3)), ValueError), (np.array([["a"]]), TypeError),
                                                     (np.zeros((0, 0)), ValueError)])
    out.add("rnn_map", DYN.rnn_map, dict(W=W), "activation", [("gelu", ValueError)])
    ht = dict(W=W, h0=np.ones(3), T=3)
    out.add("hidden_trajectories", DYN.hidden_trajectories, ht, "h0", [(np.ones(4), ValueError), (np.ones((2, 0)), ValueError)])
    out.add("hidden_trajectories", DYN.hidden_trajectories, ht, "T", [(None, ("T",), ValueError), (-2, ValueError)])
    out.add("hidden_trajectories", DYN.hidden_trajectories, dict(ht, x=np.ones((2, 2))), "U", [(None, ("U",), ValueError)])
    out.add("hidden_trajectories", DYN.hidden_trajectories, dict(ht, U=np.ones((3, 2))), "x",
            [(np.ones((2, 5)), ("x",), ValueError), (np.ones((2, 4, 2)), ("x",), ValueError)])
    out.add("hidden_trajectories", DYN.hidden_trajectories, ht, "T", [(10 ** 12, ("max_bytes",), ValueError)])
    out.add("spectral_radius", DYN.spectral_radius, dict(W=W), "W", [(np.ones((2, 3)), ValueError),
                                                                      (np.array([[np.nan]]), ValueError)])
    out.add("scale_to_spectral_radius", DYN.scale_to_spectral_radius, dict(W=W, rho=1.0), "rho",
            [(-1.0, ValueError), ("2", TypeError), (np.inf, ValueError)])
    out.add("scale_to_spectral_radius", DYN.scale_to_spectral_radius, dict(W=W, rho=1.0), "W",
            [(np.zeros((2, 2)), ("spectral radius 0",), ValueError)])
    out.add("random_recurrent_matrix", DYN.random_recurrent_matrix, dict(m=3), "m",
            [(0, ValueError), (2.0, TypeError), (10 ** 6, ("max_bytes",), ValueError)])
    out.add("random_recurrent_matrix", DYN.random_recurrent_matrix, dict(m=3), "seed", BAD_SEEDS)
    out.add("jacobian", DYN.jacobian, dict(W=W, h_prev=np.ones(3)), "h_prev", [(np.ones(2), ValueError)])
    out.add("jacobian", DYN.jacobian, dict(W=W, h_prev=np.ones(3), U=np.ones((3, 2))), "x",
            [(np.ones(3), ("x",), ValueError)])
    out.add("jacobian", DYN.jacobian, dict(W=W, h_prev=np.ones(3)), "x", [(np.ones(2), ("U",), ValueError)])
    out.add("fixed_point", DYN.fixed_point, dict(W=W), "b", [(np.ones(4), ("b",), ValueError)])
    out.add("fixed_point", DYN.fixed_point, dict(W=W), "tol", [(0, ValueError), ("t", TypeError)])
    out.add("fixed_point", DYN.fixed_point, dict(W=W), "max_iter", BAD_SIZES)
    out.add("fixed_point", DYN.fixed_point, dict(W=W), "h_init", [(np.ones(2), ValueError)])
    out.add("is_stable", DYN.is_stable, dict(W=W, h_star=np.ones(3)), "h_star", [(np.ones(2), ValueError)])
    out.add("separation", DYN.separation, dict(W=W, h0=np.ones(3), delta=np.ones(3), T=3), "delta",
            [(np.ones(2), ValueError)])
    out.add("separation", DYN.separation, dict(W=W, h0=np.ones(3), delta=np.ones(3), T=3), "T", [(-1, ValueError)])
    ly = dict(W=W, h0=np.ones(3), T=3)
    out.add("lyapunov_exponent", DYN.lyapunov_exponent, ly, "T", [(0, ValueError), (1.5, TypeError)])
    out.add("lyapunov_exponent", DYN.lyapunov_exponent, ly, "h0", [(np.ones((2, 3)), ValueError)])
    out.add("lyapunov_exponent", DYN.lyapunov_exponent, ly, "seed", BAD_SEEDS)


@settings(max_examples=150)
@given(data=st.data())
def test_dynamics_refuse_one_bad_argument_naming_it(data):
    run_bad_calls("dynamics", data, [dynamics_calls], None)


# ==============================================================================================
# data: encoding, one-hot vectors and the generated data sets
# ==============================================================================================
WORD_VALUES = {w: i for i, w in enumerate(DATA.ONES)}
WORD_VALUES.update({w: 10 * i for i, w in enumerate(DATA.TENS) if w})


def words_to_number(words):
    """An independent reading of English number words (the inverse of number_words)."""
    total, current = 0, 0
    for w in words:
        if w == "hundred":
            current *= 100
        else:
            current += WORD_VALUES[w]
    return total + current


@covers("data", "PAD", "BOS", "EOS", "TokenData", "encode", "one_hot", "number_words", "make_translation",
        "make_parity", "make_time_series", "make_shapes", "make_year", "make_sentiment")
@settings(max_examples=60)
@given(seed=st.integers(0, 2 ** 16), n=st.integers(1, 12), T=st.integers(1, 8), number=st.integers(0, 999),
       dtype=st.sampled_from([np.float64, np.float32]), noise=st.floats(0, 1))
def test_data_sets_equal_their_definitions(seed, n, T, number, dtype, noise):
    for name in ("TokenData", "encode", "one_hot", "number_words", "make_translation", "make_parity",
                 "make_time_series", "make_shapes", "make_year", "make_sentiment"):
        tried("data", name)
    assert words_to_number(DATA.number_words(number)) == number
    source, target = DATA.make_translation(n, seed=seed)
    for b, k in enumerate(target.extra["numbers"]):
        assert words_to_number(source.sentences[b]) == k
        assert target.decode(target.ids[:, b]) == list(str(k)) + [DATA.EOS]
        assert target.sentences[b] == list(str(k)) + [DATA.EOS]
    same = DATA.make_translation([int(k) for k in target.extra["numbers"]])
    assert np.array_equal(same[1].ids, target.ids)
    ids, mask, lengths = DATA.encode(source.sentences, DATA.SOURCE_VOCAB)
    for b, sentence in enumerate(source.sentences):
        assert lengths[b] == len(sentence) and mask[:, b].sum() == len(sentence)
        assert [DATA.SOURCE_VOCAB[i] for i in ids[: len(sentence), b]] == sentence
        assert np.all(ids[len(sentence):, b] == 0)
    oh = DATA.one_hot(ids, len(DATA.SOURCE_VOCAB), dtype=dtype)
    assert oh.dtype == dtype and np.array_equal(oh.argmax(axis=-1), ids) and np.all(oh.sum(axis=-1) == 1)
    x, y, bits = DATA.make_parity(n, T, seed=seed, noise=noise)
    assert np.array_equal(y, np.bitwise_xor.accumulate(bits, axis=0))
    if noise == 0:
        assert np.array_equal(x[:, :, 0], bits)
    xs, clean = DATA.make_time_series(n, T, seed=seed, noise=0.0)
    assert np.array_equal(xs, clean) and clean.shape == (T, n, 1) and np.all(np.abs(clean) <= 2)
    images, captions = DATA.make_shapes(n, seed=seed, noise=0.0)
    for k, (colour, shape, place) in enumerate(captions.extra["attributes"]):
        name = list(DATA.COLOURS)[colour]
        assert captions.sentences[k] == [name, DATA.SHAPES[shape], *DATA.PLACES[place], DATA.EOS]
        lit = np.argwhere(np.abs(images[k]).sum(axis=2) > 0)
        assert np.allclose(images[k][tuple(lit[0])], DATA.COLOURS[name])
        top = DATA.PLACES[place][0] == "top"
        assert (lit[:, 0].max() < 6) == top and (lit[:, 0].min() >= 6) == (not top)
    year = DATA.make_year(n, seed=seed)
    for b, sentence in enumerate(year.sentences):
        assert sentence[year.labels[b]] in DATA.YEARS and year.extra["tags"][year.labels[b], b] == 1
        assert year.extra["tags"][:, b].sum() == 1 and len(sentence) <= DATA.YEAR_MAX_LEN
    sentiment = DATA.make_sentiment(n, seed=seed)
    for b, sentence in enumerate(sentiment.sentences):
        adjectives = [w for w in sentence if w in DATA.POSITIVE + DATA.NEGATIVE]
        form = sentiment.extra["form"][b]
        polarity = [1 if w in DATA.POSITIVE else 0 for w in adjectives]
        want = {"plain": polarity[0], "negated": 1 - polarity[0], "contrast": polarity[0],
                "but": polarity[-1]}[form]
        assert sentiment.labels[b] == want
    again = DATA.make_sentiment(n, seed=seed)
    assert again.sentences == sentiment.sentences and isinstance(again, DATA.TokenData)
    assert DATA.PAD == sentiment.vocab[0] and DATA.BOS == "<bos>"


def data_calls(c, out):
    for fname, fn, kw in (("make_sentiment", DATA.make_sentiment, dict(n=3)), ("make_year", DATA.make_year, dict(n=3)),
                          ("make_time_series", DATA.make_time_series, dict(n=2, T=3)),
                          ("make_shapes", DATA.make_shapes, dict(n=2)), ("make_parity", DATA.make_parity, dict(n=2, T=3)),
                          ("make_translation", DATA.make_translation, dict(numbers=3))):
        out.add(fname, fn, kw, "seed", BAD_SEEDS)
        first = next(iter(kw))
        out.add(fname, fn, kw, first, [(0, ValueError), (1.5, TypeError), ("3", TypeError), (-1, ValueError)])
    for fname, fn, kw in (("make_time_series", DATA.make_time_series, dict(n=2, T=3)),
                          ("make_shapes", DATA.make_shapes, dict(n=2)), ("make_parity", DATA.make_parity, dict(n=2, T=3))):
        out.add(fname, fn, kw, "noise", [(-1, ValueError), (np.nan, ValueError), ("0.1", TypeError), (True, TypeError)])
        out.add(fname, fn, kw, next(iter(kw)), [(10 ** 9, ("max_bytes",), ValueError)])
    out.add("make_translation", DATA.make_translation, dict(numbers=[1, 2]), "numbers",
            [([1.5], ("numbers",), TypeError), ([1000], ValueError), ([], ValueError), ([True], TypeError),
             (["one"], TypeError), ([-3], ValueError), (np.array([2.5, 3.0]), TypeError)])
    out.add("make_year", DATA.make_year, dict(n=3), "positions",
            [([1.5], ("positions",), TypeError), ([12], ValueError), ([], ValueError), ("3", TypeError)])
    out.add("make_sentiment", DATA.make_sentiment, dict(n=3), "forms",
            [(("sarcasm",), ValueError), ("plain", TypeError), ((), ValueError)])
    out.add("make_sentiment", DATA.make_sentiment, dict(n=3), "weights",
            [((1, 0), ValueError), ((-1, 1, 1, 1), ValueError), ((np.inf, 1, 1, 1), ValueError), ("abc", TypeError),
             ((0, 0, 0, 0), ValueError)])
    out.add("number_words", DATA.number_words, dict(number=3), "number",
            [(-1, ValueError), (1000, ValueError), (2.5, ValueError), (True, ValueError), ("3", ValueError)])
    out.add("encode", DATA.encode, dict(sentences=[["a"]], vocab=[DATA.PAD, "a"]), "sentences",
            [([["x"]], ValueError), ([], ValueError), (["a b"], TypeError), ([[]], ValueError), ([[["a"]]], ValueError)])
    out.add("encode", DATA.encode, dict(sentences=[["a"]], vocab=[DATA.PAD, "a"]), "vocab",
            [([DATA.PAD, "a", "a"], ValueError), ("pa", TypeError), ([], TypeError), ([[1]], TypeError)])
    out.add("one_hot", DATA.one_hot, dict(ids=np.array([0, 1]), size=3), "ids",
            [(np.array([3]), ValueError), (np.array([0.5]), TypeError), (np.array([-1]), ValueError), ("0", TypeError),
             (np.array([True]), TypeError)])
    out.add("one_hot", DATA.one_hot, dict(ids=np.array([0, 1]), size=3), "size", BAD_SIZES)
    out.add("one_hot", DATA.one_hot, dict(ids=np.array([0, 1]), size=3), "dtype", BAD_DTYPES)
    out.add("one_hot", DATA.one_hot, dict(ids=np.zeros(10 ** 5, int), size=3), "size", [(10 ** 5, ("max_bytes",), ValueError)])
    token_data = DATA.make_sentiment(2, seed=0)
    out.add("TokenData", token_data.decode, dict(ids=[1]), "ids", [([999], ValueError), ([1.5], TypeError), ("a", TypeError)])
    out.add("TokenData", token_data.index, dict(token="not"), "token", [("zebra", KeyError)])


@settings(max_examples=150)
@given(data=st.data())
def test_data_refuses_one_bad_argument_naming_it(data):
    run_bad_calls("data", data, [data_calls], None)


# ==============================================================================================
# Structure (issue 12): the chapters' plain functions; params validated once per public call
# ==============================================================================================
SHOWN = {                                   # what the chapters literalinclude (their plain functions)
    "patterns": ["_recurrence_forward", "_recurrence_backward", "_output_recurrence_forward",
                 "_seq_to_one_forward", "_seq_to_one_backward"],
    "deep": ["_stacked_forward", "_stacked_backward", "_deep_forward", "_deep_backward", "_shortest_path"],
    "seq2seq": ["_encode", "_decode", "_decoder_step", "_encoder_decoder_forward", "_greedy_decode"],
    "bptt": ["_bptt_contributions", "_tbptt", "_tbptt_segments", "_backprop_from_outputs"],
    "remedies": ["_init_irnn", "_skip_rnn_forward", "_skip_rnn_backward"],
    "jacobians": ["_hidden_jacobians", "_step_factors", "_last_state_jacobians", "_state_gradients"],
    "recursive": ["_recursive_forward", "_recursive_backward", "_levels"],
    "dynamics": ["_unfold", "_compose"],
}
CHECK = re.compile(r"isinstance|\braise\b|\b_?check_[a-z_]*\(|as_float_array|assert ")

# Plain functions allowed a check, with the reason: a loop's runtime guard (a value computed
# inside the loop, not an argument) or the structural test that is the algorithm itself.
RUNTIME_GUARDS = {
    ("bptt", "_train_tbptt"): "stops when the loss or gradient computed in the loop is not finite",
    ("jacobians", "_train_with_gradient_norms"): "checks the first cache the user's forward returns",
    ("recursive", "_train_recursive"): "stops when the gradients computed in the loop are not finite",
    ("recursive", "_random_expression"): "the cap on an expression's growth (max_nodes)",
    ("recursive", "_tree_from_nested"): "isinstance(item, (tuple, list)) is the pair/leaf test",
    ("recursive", "_rotate_randomly"): "isinstance(..., tuple) is the pair/leaf test",
    ("dynamics", "_unfold_driven"): "the returned g checks its own argument x",
    ("dynamics", "_rnn_map"): "the returned f refuses an x without U",
}


def plain_functions():
    for module_name, module in MODULES.items():
        for name, value in vars(module).items():
            if (name.startswith("_") and not name.startswith(("__", "_check")) and inspect.isfunction(value)
                    and value.__module__ == module.__name__ and hasattr(module, name[1:])):
                yield module_name, name


@pytest.mark.parametrize("module,name", sorted(plain_functions()))
def test_plain_functions_have_no_checks_and_fit_80_columns(module, name):
    fn = getattr(MODULES[module], name)
    lines = inspect.getsource(fn).splitlines()
    shown = name in SHOWN.get(module, [])
    if shown:
        too_long = [line for line in lines if len(line) > 80]
        assert not too_long, too_long
    checks = [line for line in lines if CHECK.search(line)]
    if (module, name) in RUNTIME_GUARDS:
        return
    assert not checks, checks
    doc = fn.__doc__ or ""
    public = name[1:]
    assert f"`{public}`" in doc or "checked" in doc, doc
    source = inspect.getsource(MODULES[module])
    assert source.index(f"def {name}(") < source.index(f"def {public}("), "defined directly above"


def test_the_shown_plain_functions_exist_read_like_equations_and_fit_the_listing():
    for module, shown in SHOWN.items():
        for name in shown:
            fn = getattr(MODULES[module], name)
            lines = inspect.getsource(fn).splitlines()
            assert all(len(line) <= 80 for line in lines), (module, name)
            assert not [line for line in lines if CHECK.search(line)], (module, name)
            if name not in ("_shortest_path", "_tbptt_segments", "_compose", "_unfold", "_levels", "_tbptt"):
                assert sum("# (" in line for line in lines) >= 1, f"{module}.{name} has shape comments"


@pytest.fixture
def count_check_params(monkeypatch):
    """Wrap check_params everywhere rnnlib's modules see it; return the list of calls."""
    import sys

    calls = []
    original = _checks.check_params

    def counting(*args, **kwargs):
        calls.append(args[1] if len(args) > 1 else kwargs.get("required"))
        return original(*args, **kwargs)

    monkeypatch.setattr(_checks, "check_params", counting)
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("rnnlib") and getattr(module, "check_params", None) is original:
            monkeypatch.setattr(module, "check_params", counting)
    return calls


def test_params_are_validated_once_per_public_call(count_check_params):
    calls = count_check_params
    rng = np.random.default_rng(0)
    T, B, d, m, C = 4, 2, 3, 3, 3
    x, y, mask = rng.standard_normal((T, B, d)), rng.integers(0, C, (T, B)), ragged(rng, T, B)
    p = rnnlib.init_rnn(d, m, C)
    q = P.init_output_recurrence(d, m, C)
    s = D.init_stacked_rnn(d, m, C, layers=3)
    deep = D.init_deep_rnn(d, m, C, deep_input=True, deep_transition=True, skip=True, deep_output=True)
    e = S.init_encoder_decoder(d, m, C)
    v = S.init_vector_decoder(2, m, C)
    sk = R.init_skip_rnn(d, m, C, 2)
    tokens, trees, labels = REC.make_expression_data(6, 2, seed=0)
    rp = REC.init_recursive(m, 2, vocab_size=4)
    y_in = S.decoder_inputs(y, C, 0)
    cache = rnnlib.rnn_forward(p, x)
    skip_cache = R.skip_rnn_forward(sk, x, 2)
    runs = [                                             # (call, public calls with params in it)
        (lambda: P.seq_to_one_forward(p, x, mask=mask), 1),
        (lambda: P.seq_to_one_backward(p, P.seq_to_one_forward(p, x), y[0]), 2),
        (lambda: P.seq_to_one_predict(p, x), 1),
        (lambda: P.output_recurrence_forward(q, x, P.teacher_forcing_inputs(y, C)), 1),
        (lambda: P.output_recurrence_backward(q, P.output_recurrence_forward(q, x, P.teacher_forcing_inputs(y, C)),
                                              y), 2),
        (lambda: P.output_recurrence_generate(q, x), 1),
        (lambda: D.stacked_forward(s, x, mask=mask), 1),
        (lambda: D.stacked_backward(s, D.stacked_forward(s, x), y), 2),
        (lambda: D.deep_forward(deep, x, mask=mask), 1),
        (lambda: D.deep_backward(deep, D.deep_forward(deep, x), y), 2),
        (lambda: D.deep_step_jacobians(deep, D.deep_forward(deep, x)), 2),
        (lambda: S.encoder_decoder_forward(e, x, y_in), 1),
        (lambda: S.encoder_decoder_backward(e, S.encoder_decoder_forward(e, x, y_in), y), 2),
        (lambda: S.vector_decoder_backward(v, S.vector_decoder_forward(v, np.ones((B, 2)), y_in), y), 2),
        (lambda: S.encoder_decoder_generate(e, x, 0, 1, 5), 1),
        (lambda: S.vector_decoder_generate(v, np.ones((B, 2)), 0, 1, 5), 1),
        (lambda: S.greedy_decode(e, np.zeros((B, m)), 0, 1, 5), 1),
        (lambda: R.skip_rnn_forward(sk, x, 2, mask=mask), 1),
        (lambda: R.skip_rnn_backward(sk, R.skip_rnn_forward(sk, x, 2), y), 2),
        (lambda: J.hidden_jacobians(p, cache), 1),
        (lambda: J.state_gradients(p, cache, y), 1),
        (lambda: J.loss_term_gradients(sk, skip_cache, y), 1),
        (lambda: J.last_state_jacobians(sk, skip_cache), 1),
        (lambda: BP.bptt_contributions(p, cache, y), 1),
        (lambda: BP.tbptt_gradient(p, x, y, 2, 3), 1),
        (lambda: list(BP.tbptt(p, x, y, 1, 1)), 1),
        (lambda: REC.recursive_backward(rp, REC.recursive_forward(rp, trees, tokens), labels), 2),
        (lambda: REC.recursive_predict(rp, trees, tokens), 1),
        (lambda: REC.accuracy(rp, trees, tokens, labels), 1),
    ]
    for run, expected in runs:
        calls.clear()
        run()
        assert len(calls) == expected, (inspect.getsource(run).strip(), calls)
    for train, expected in ((lambda: BP.train_tbptt(p, x, y, 2, 2, rnnlib.SGD(0.1), num_passes=3, progress=False), 1),
                            (lambda: J.train_with_gradient_norms(p, lambda step: (x, y), 5, rnnlib.SGD(0.1)), 1),
                            (lambda: J.train_with_gradient_norms(sk, lambda step: (x, y), 5, rnnlib.SGD(0.1),
                                                                 forward=R.skip_rnn_forward,
                                                                 backward=R.skip_rnn_backward, skip=2), 1),
                            (lambda: REC.train_recursive(rp, trees, tokens, labels, 5, batch_size=3,
                                                         optimizer=rnnlib.SGD(0.1), progress=False), 1)):
        calls.clear()
        train()
        assert len(calls) == expected, calls                 # once for every step of training


def test_every_module_defines_all_of_its_public_functions():
    for name, module in MODULES.items():
        assert hasattr(module, "__all__"), name
        defined = {n for n, v in vars(module).items() if not n.startswith("_") and callable(v)
                   and getattr(v, "__module__", None) == module.__name__}
        assert defined <= set(module.__all__), (name, defined - set(module.__all__))
        assert all(hasattr(module, n) for n in module.__all__)


# ==============================================================================================
# No recursion limits; size guards before allocating
# ==============================================================================================
@covers("recursive", "Tree")
def test_depth_100000_works_everywhere():
    depth = 100_000
    nested = 0
    for i in range(1, depth + 1):
        nested = (nested, i)                             # a left chain: depth 100,000
    tree, leaves = REC.tree_from_nested(nested)
    assert tree.depth == depth and leaves == list(range(depth + 1)) and tree == REC.chain_tree(depth + 1)
    text = repr(tree)
    assert text.startswith("Tree(" + "(" * depth + "0, 1), 2)") and text.endswith(f", {depth}))")
    assert REC.rotate_randomly(tree, np.random.default_rng(0), 0.5).n_leaves == depth + 1
    expr = "T"
    for _ in range(depth):
        expr = ("and", (expr, "T"))
    assert REC.evaluate_expression(expr) is True
    tokens = REC.expression_tokens(expr)
    assert len(tokens) == 2 * depth + 1 and REC.parse_prefix(tokens).depth == 2 * depth
    assert DYN.unfold(lambda s: s + 1, depth)(0) == depth
    assert DYN.compose(*([lambda s: s + 1] * depth))(0) == depth
    assert DYN.unfold_driven(lambda s, x: s + x, depth)(0, np.ones(depth)) == depth
    assert len(DYN.unfolded_expression(depth)) == len("s^{(0)}") + depth * len("f(; \\theta)")
    del nested, expr                                     # deallocating them does not recurse either


def test_size_guards_refuse_before_allocating_and_a_keyword_raises_the_limit():
    params = rnnlib.init_rnn(2, 16, 2)
    cache = rnnlib.rnn_forward(params, np.zeros((2000, 4, 2)))
    error = expect_error(lambda: J.hidden_jacobians(params, cache), "max_bytes", types=ValueError)
    assert "GiB" in str(error) and "T=2000" in str(error)            # 2001^2 * 4 * 16^2 * 8 bytes
    small = rnnlib.rnn_forward(params, np.zeros((3, 1, 2)))
    expect_error(lambda: J.hidden_jacobians(params, small, max_bytes=1000), "max_bytes", types=ValueError)
    assert J.hidden_jacobians(params, small, max_bytes=10 ** 7).shape == (4, 4, 1, 16, 16)
    expect_error(lambda: BP.bptt_contributions(params, cache, np.zeros((2000, 4), int), wrt="W"), "max_bytes",
                 types=ValueError)                   # (T, T, m, m) = 8 GiB
    expect_error(lambda: D.init_stacked_rnn(3, 30000, 3), "max_bytes", types=ValueError)
    expect_error(lambda: REC.random_expression(np.random.default_rng(0), 60, p_leaf=0.0), "max_nodes",
                 types=ValueError)
    assert REC.random_expression(np.random.default_rng(0), 12, p_leaf=0.0, max_nodes=10 ** 4)[0] in ("and", "or")
    expect_error(lambda: D.unrolled_graph(10 ** 7), "max_nodes", types=ValueError)
    expect_error(lambda: DATA.one_hot(np.zeros((1000, 1000), int), 1000), "max_bytes", types=ValueError)
    for n in ("hidden_jacobians", "bptt_contributions", "init_stacked_rnn", "random_expression"):
        tried({"hidden_jacobians": "jacobians", "bptt_contributions": "bptt", "init_stacked_rnn": "deep",
               "random_expression": "recursive"}[n], n)


def test_overflow_warns_once_naming_the_step_never_a_stream():
    params = R.init_skip_rnn(2, 4, 2, 2, seed=0)
    params["W"] = 3 * np.eye(4)
    x = np.ones((800, 1, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache = R.skip_rnn_forward(params, x, 2, activation="relu")
    assert len(caught) == 1 and "step t=" in str(caught[0].message), [str(w.message) for w in caught]
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        R.skip_rnn_forward(params, x, 2, activation="relu")         # quiet: the caller watches for it
    assert not np.isfinite(cache.h).all()


# ==============================================================================================
# Summary: how many public functions were covered and how many inputs tried
# ==============================================================================================
def public_functions():
    out = set()
    for module_name, module in MODULES.items():
        for n in module.__all__:
            v = getattr(module, n)
            if callable(v) and not (isinstance(v, type) and n.endswith("Cache")):
                out.add(f"{module_name}.{n}")
    return out


def test_zz_summary(capsys):
    public = public_functions()
    tried_names = {k for k, v in TRIED.items() if v}
    assert public <= COVERED | tried_names, sorted(public - COVERED - tried_names)
    with capsys.disabled():
        print(f"\n[properties] public functions of the model modules: {len(public)}; covered: "
              f"{len(public & (COVERED | tried_names))}; inputs tried in this process: {sum(TRIED.values())}")
        print("[properties] per function: " + ", ".join(f"{k}={v}" for k, v in sorted(TRIED.items())))
