"""Property-based tests of every public function of the issue-19 modules (the issue-18 rules).

Modules: bidirectional, metrics, beam_search, reservoir, attention, linear_recurrence. For each
public function (everything in a module's ``__all__`` that is a function), hypothesis draws a
valid call of small random sizes (float64 and float32) and then one argument wrong at a time:
wrong kinds (None, strings, dicts, bools for numbers), wrong shapes (one size changed, a
dimension added or dropped), NaN and inf, empty arrays, integer or float16 dtypes, seeds -1 and
1.5, params with a missing key, a NaN entry, an integer entry or a wrong shape, caches of another
model or of other sizes. Each must raise a ValueError, TypeError or KeyError whose message names
the argument (or the parameter's key). Valid inputs are compared with independent references
written here (hand-written loops, closed forms, brute force).

It also checks the structure of issue 12: the plain functions the chapters show contain no
argument checks, fit 80 columns, say which public function checks their arguments and are
defined directly above it. ``HYPOTHESIS_PROFILE=ci`` makes the examples derandomized;
``test_zz_summary`` prints how many public functions were covered and inputs tried.
"""
from __future__ import annotations

import collections
import importlib
import inspect
import itertools
import math
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlib import data as D
from rnnlib import seq2seq

settings.register_profile("ci", deadline=None, database=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

NAMES = ("bidirectional", "metrics", "beam_search", "reservoir", "attention", "linear_recurrence")
MODULES = {name: importlib.import_module(f"rnnlib.{name}") for name in NAMES}
BI, ME, BS = MODULES["bidirectional"], MODULES["metrics"], MODULES["beam_search"]
RE, AT, LR = MODULES["reservoir"], MODULES["attention"], MODULES["linear_recurrence"]

TRIED = collections.Counter()
COVERED = set()


def names(message, *words):
    return any(re.search(r"(?<![A-Za-z0-9_])" + re.escape(w) + r"(?![A-Za-z0-9_])", message)
               for w in words)


def expect_error(fn, *words):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises((ValueError, TypeError, KeyError)) as info:
            fn()
    message = str(info.value)
    assert names(message, *words), f"{words} not named in {type(info.value).__name__}: {message}"
    assert "Traceback" not in message
    return info.value


def public_functions():
    out = []
    for mod_name, module in MODULES.items():
        for n in module.__all__:
            v = getattr(module, n)
            if inspect.isfunction(v):
                out.append((mod_name, n))
    return out


# ==============================================================================================
# Valid calls: small random sizes; each returns (function, kwargs, spec of bad values)
# ==============================================================================================
BAD_INT = [0, -1, 1.5, "3", True, None]
BAD_INT0 = [-1, 1.5, "3", True, None]           # for arguments that may be 0
BAD_SEED = [-1, 1.5, "x", True, [1.5]]
BAD_DTYPE = ["foo", int, None, np.float16, "int32", bool]
BAD_NUMBER = [float("nan"), float("inf"), "x", True, None]


def bad_arrays(valid, drop_ok=False):
    """Wrong versions of a float array: kinds, NaN/inf, a changed size, an extra or a missing
    dimension (unless ``drop_ok``: the function accepts it, e.g. x (T, d) or h0 (m,)), empty."""
    valid = np.asarray(valid)
    out = [None, "x", {"a": 1}, np.array(["a"] * max(valid.size, 1)).reshape(valid.shape or (1,))]
    if valid.size:
        kind = np.result_type(valid.dtype, np.float64)
        nan, inf = valid.astype(kind), valid.astype(kind)
        nan.flat[0], inf.flat[-1] = np.nan, np.inf
        out += [nan, inf]
    if valid.ndim:
        shape = list(valid.shape)
        shape[-1] += 1
        out.append(np.ones(shape))
        out.append(np.ones(valid.shape + (7,)))            # 7: larger than any size drawn
    if not drop_ok:
        out.append(np.ones(valid.shape[1:] if valid.ndim > 1 else (2, 2, 2, 2)))
    out.append(np.ones((0,) + valid.shape[1:]))
    return out


def bad_params(params, keys=None):
    """params dicts with one problem: not a dict, a missing key, a NaN, an integer array, a wrong
    shape. Each comes with the words its error must name."""
    keys = list(params) if keys is None else keys
    out = [(None, ("params",)), ("params", ("params",)), ([1, 2], ("params",))]
    for key in keys:
        missing = {k: v for k, v in params.items() if k != key}
        out.append((missing, ("params", key)))
        nan = dict(params)
        nan[key] = params[key].copy()
        nan[key].flat[0] = np.nan
        out.append((nan, ("params", key, f"params['{key}']")))
        ints = dict(params, **{key: np.ones(params[key].shape, dtype=np.int64)})
        out.append((ints, ("params", key, f"params['{key}']")))
        shape = list(params[key].shape)
        shape[0] += 1
        wrong = dict(params, **{key: np.ones(shape, dtype=params[key].dtype)})
        out.append((wrong, ("params", key, f"params['{key}']", "params['W']", "params['Wh']",
                            "params['Wd']", "params['U_z']", "params['lam']", "params['V']",
                            "params['W_q']")))
    return out


def bad_masks(T, B):
    return [np.ones((T, B + 1), bool), np.ones((T + 1, B), bool), np.full((T, B), 2), "x",
            np.ones(T * B + 1, bool)]


class Call:
    """A valid call and its bad variants: bad[arg] = [(value, words), ...]."""

    def __init__(self, fn, **kwargs):
        self.fn, self.kwargs, self.bad = fn, kwargs, collections.defaultdict(list)

    def add(self, arg, values, words=None):
        for v in values:
            self.bad[arg].append((v, words or (arg,)))
        return self

    def add_params(self, arg="params", keys=None, params=None):
        for v, words in bad_params(self.kwargs[arg] if params is None else params, keys):
            self.bad[arg].append((v, words + (arg,)))
        return self

    def run(self, **changes):
        return self.fn(**{**self.kwargs, **changes})


@st.composite
def sizes(draw):
    return dict(T=draw(st.integers(1, 5)), B=draw(st.integers(1, 3)), d=draw(st.integers(1, 3)),
                m=draw(st.integers(1, 4)), C=draw(st.integers(2, 5)),
                dtype=draw(st.sampled_from([np.float64, np.float32])),
                seed=draw(st.integers(0, 2 ** 16)))


def noisy(params, rng):
    return {k: (v + 0.3 * rng.standard_normal(v.shape)).astype(v.dtype) for k, v in params.items()}


def calls(name, s):
    """The valid call of public function ``name`` for sizes s, with its bad arguments."""
    T, B, d, m, C, dtype, seed = (s[k] for k in ("T", "B", "d", "m", "C", "dtype", "seed"))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, d)).astype(dtype)
    y = rng.integers(0, C, (T, B))
    mask = rng.random((T, B)) < 0.7
    mask[0] = True
    sizes_bad = dict(d=BAD_INT, m=BAD_INT, C=BAD_INT, n=BAD_INT, f=BAD_INT, seed=BAD_SEED,
                     dtype=BAD_DTYPE)

    def init_call(fn, **kw):
        c = Call(fn, **kw, seed=seed, dtype=dtype)
        for k in list(kw) + ["seed", "dtype"]:
            c.add(k, sizes_bad.get(k, BAD_INT))
        return c

    # ------------------------------------------------------------------ bidirectional
    if name == "init_bidirectional":
        return init_call(BI.init_bidirectional, d=d, m=m, C=C)
    if name in ("bidirectional_forward", "bidirectional_backward"):
        p = noisy(BI.init_bidirectional(d, m, C, seed=seed, dtype=dtype), rng)
        h0 = rng.standard_normal(2 * m).astype(dtype)
        if name == "bidirectional_forward":
            return (Call(BI.bidirectional_forward, params=p, x=x, h0=h0, mask=mask)
                    .add_params().add("x", bad_arrays(x, True)).add("h0", bad_arrays(h0)[1:])
                    .add("mask", bad_masks(T, B)).add("activation", ["sigmoid", None, 3]))
        cache = BI.bidirectional_forward(p, x, h0, mask)
        other = BI.bidirectional_forward(BI.init_bidirectional(d, m + 1, C, dtype=dtype), x)
        return (Call(BI.bidirectional_backward, params=p, cache=cache, y=y).add_params()
                .add("cache", [None, "x", other, LR.gated_linear_forward(
                    LR.init_gated_linear(d, m, m, C, dtype=dtype), x)])
                .add("y", [None, "y", y[:, :1] if B > 1 else y[:1] if T > 1 else np.ones((2, 2), int),
                           y + 0.5, np.where(mask, C, 0), np.where(mask, -1, 0), y.astype(bool)]))
    if name == "make_lookahead":
        return (Call(BI.make_lookahead, n=B, T=T + 3, lag=1, K=C, min_length=2, seed=seed,
                     dtype=dtype)
                .add("n", BAD_INT).add("T", BAD_INT + [1]).add("K", BAD_INT).add("lag", BAD_INT + [2])
                .add("min_length", BAD_INT[:-1] + [T + 4, 1]).add("seed", BAD_SEED).add("dtype", BAD_DTYPE))
    # ------------------------------------------------------------------ metrics
    if name == "per_step_loss":
        return (Call(ME.per_step_loss, loss=1.5, mask=mask)
                .add("loss", BAD_NUMBER + [-1.0])
                .add("mask", [np.zeros((T, B), bool), np.ones(3, bool), np.full((T, B), 2), "x"]))
    if name in ("perplexity", "bits_per_character"):
        return Call(getattr(ME, name), mean_loss=0.7).add("mean_loss", BAD_NUMBER + [-0.1])
    if name in ("uniform_perplexity", "uniform_bits"):
        return Call(getattr(ME, name), C=C).add("C", BAD_INT)
    if name == "step_accuracy":
        y_hat = rng.random((T, B, C))
        return (Call(ME.step_accuracy, y_hat=y_hat, y=y, mask=mask)
                .add("y_hat", bad_arrays(y_hat)[:6] + [np.ones((T, B))])
                .add("y", [None, "y", y[:-1] if T > 1 else np.ones((2, B), int), y + 0.5, y + C,
                           y.astype(bool)])
                .add("mask", bad_masks(T, B) + [np.zeros((T, B), bool)]))
    if name == "nrmse":
        target = rng.standard_normal((T + 2, 2))
        return (Call(ME.nrmse, prediction=target + 0.1, target=target)
                .add("prediction", bad_arrays(target)[:-1])
                .add("target", [None, "x", np.ones((T + 2, 2))]))
    # ------------------------------------------------------------------ beam search
    if name in ("beam_search", "sequence_logprob", "encoder_decoder_beam_search",
                "vector_decoder_beam_search"):
        if name == "encoder_decoder_beam_search":
            p = noisy(seq2seq.init_encoder_decoder(d, m, C + 1, seed=seed, dtype=dtype), rng)
            return (Call(BS.encoder_decoder_beam_search, params=p, x=x, bos=0, eos=1, max_len=4,
                         width=2, x_mask=mask).add_params()
                    .add("x", bad_arrays(x)).add("x_mask", bad_masks(T, B))
                    .add("bos", [C + 1, -1, 1.5, None]).add("eos", [C + 1, 1.0])
                    .add("max_len", BAD_INT).add("width", BAD_INT)
                    .add("length_penalty", [-1.0, "x", float("nan")]))
        p = noisy(seq2seq.init_vector_decoder(d, m, C + 1, seed=seed, dtype=dtype), rng)
        if name == "vector_decoder_beam_search":
            v = rng.standard_normal((B, d)).astype(dtype)
            return (Call(BS.vector_decoder_beam_search, params=p, v=v, bos=0, eos=1, max_len=4)
                    .add_params().add("v", bad_arrays(v)[:-2]).add("max_len", BAD_INT))
        s0 = rng.standard_normal((B, m)).astype(dtype)
        decoder = {k: p[k] for k in seq2seq.DECODER_PARAMS}
        if name == "beam_search":
            return (Call(BS.beam_search, params=decoder, s0=s0, bos=0, eos=1, max_len=T, width=2)
                    .add_params().add("s0", bad_arrays(s0)[:-2] + [np.ones((B, m + 1))])
                    .add("bos", [C + 1, -1, 1.5, None, True]).add("eos", [C + 1, "x"])
                    .add("max_len", BAD_INT).add("width", BAD_INT)
                    .add("length_penalty", [-0.5, "x", float("inf"), None]))
        ids = rng.integers(0, C + 1, (T, B))
        return (Call(BS.sequence_logprob, params=decoder, s0=s0, ids=ids, bos=0, eos=1)
                .add_params().add("s0", bad_arrays(s0)[:-2])
                .add("ids", [None, "x", ids + 0.5, ids + C + 1, -ids - 1, ids[:, :0],
                             np.ones((T, B + 1), int)])
                .add("bos", [C + 1, 1.5]).add("eos", [None, -1]))
    # ------------------------------------------------------------------ reservoir
    if name == "init_reservoir":
        return (init_call(RE.init_reservoir, d=d, m=m)
                .add("spectral_radius", BAD_NUMBER + [-0.5]).add("input_scale", [-1.0, "x"])
                .add("bias_scale", [-1.0, float("nan")]))
    if name == "init_leaky":
        return init_call(RE.init_leaky, d=d, m=m, C=C)
    if name in ("reservoir_states", "leaky_forward", "leaky_backward", "esn_predict",
                "leaky_impulse_response", "leaky_decay_rate"):
        p = noisy(RE.init_leaky(d, m, C, seed=seed, dtype=dtype), rng)
        res = {k: p[k] for k in RE.RESERVOIR_PARAMS}
        h0 = rng.standard_normal((B, m)).astype(dtype)
        alpha = rng.uniform(0.1, 1.0, m)
        bad_alpha = [0.0, 1.5, -0.1, "x", True, None, float("nan"), np.zeros(m), np.ones(m + 1),
                     np.full(m, 2.0)]
        if name == "reservoir_states":
            return (Call(RE.reservoir_states, params=res, x=x, h0=h0, alpha=alpha, mask=mask)
                    .add_params().add("x", bad_arrays(x, True)).add("h0", bad_arrays(h0, True)[1:])
                    .add("alpha", bad_alpha).add("mask", bad_masks(T, B)))
        if name == "leaky_forward":
            return (Call(RE.leaky_forward, params=p, x=x, h0=h0, mask=mask, alpha=0.5)
                    .add_params().add("x", bad_arrays(x, True)).add("h0", bad_arrays(h0, True)[1:])
                    .add("alpha", bad_alpha).add("mask", bad_masks(T, B)))
        if name == "leaky_backward":
            cache = RE.leaky_forward(p, x, h0, mask, alpha=alpha)
            other = RE.leaky_forward(RE.init_leaky(d, m + 1, C, dtype=dtype), x)
            return (Call(RE.leaky_backward, params=p, cache=cache, y=y).add_params()
                    .add("cache", [None, "x", other, BI.bidirectional_forward(
                        BI.init_bidirectional(d, m, C, dtype=dtype), x)])
                    .add("y", [None, "y", y + 0.5, np.where(mask, C, 0), y.astype(bool)]))
        if name == "esn_predict":
            readout = {"V": rng.standard_normal((2, m)).astype(dtype), "c": np.zeros(2, dtype)}
            return (Call(RE.esn_predict, params=res, readout=readout, x=x, alpha=0.7)
                    .add_params().add_params("readout", params=readout)
                    .add("readout", [{"V": readout["V"].astype(np.float16 if dtype == np.float64
                                                                else np.float64), "c": readout["c"]}],
                         ("readout",))
                    .add("x", bad_arrays(x, True)).add("alpha", bad_alpha))
        if name == "leaky_impulse_response":
            return (Call(RE.leaky_impulse_response, params=res, alpha=0.3, T=T + 2)
                    .add_params().add("alpha", bad_alpha).add("T", BAD_INT)
                    .add("size", [0.0, -1.0, "x"]))
        return (Call(RE.leaky_decay_rate, params=res, alpha=0.3).add_params()
                .add("alpha", bad_alpha + [alpha]))
    if name == "fit_readout":
        h = rng.standard_normal((T + 3, B, m)).astype(dtype)
        target = rng.standard_normal((T + 3, B, 2))
        return (Call(RE.fit_readout, h=h, y=target, ridge=1e-3, washout=1, mask=None)
                .add("h", bad_arrays(h)[:6] + [np.ones((T + 3, B)), np.ones((T + 3, B, 0)),
                               np.ones((T + 3, B, m, 2))])
                .add("y", bad_arrays(target)[:4] + [np.ones((T + 4, B, 2)), np.ones((T + 3, B, 0))])
                .add("ridge", BAD_NUMBER + [-1.0]).add("washout", BAD_INT0 + [T + 3])
                .add("mask", bad_masks(T + 3, B)))
    if name == "fit_time_constant":
        response = np.exp(-np.arange(T + 4) / 3.0)
        return (Call(RE.fit_time_constant, response=response, start=1, stop=T + 3)
                .add("response", bad_arrays(response)[:6] + [-response, np.ones((2, 2))])
                .add("start", BAD_INT0 + [T + 3]).add("stop", BAD_INT[:-1] + [T + 9, 1]))
    if name == "make_narma":
        return (Call(RE.make_narma, T=T + 5, order=3, seed=seed, dtype=dtype)
                .add("T", BAD_INT + [1]).add("order", BAD_INT + [T + 5]).add("seed", BAD_SEED)
                .add("dtype", BAD_DTYPE))
    if name == "make_delay_recall":
        return (Call(RE.make_delay_recall, T=T + 5, delays=(0, 2), seed=seed, dtype=dtype)
                .add("T", BAD_INT).add("delays", [(), 3, "ab", (1.5,), (-1,), (T + 5,), None])
                .add("seed", BAD_SEED).add("dtype", BAD_DTYPE))
    # ------------------------------------------------------------------ attention
    if name == "init_attention":
        return init_call(AT.init_attention, d=d, m=m, C=C)
    if name in ("attention_forward", "attention_backward", "attention_generate"):
        p = noisy(AT.init_attention(d, m, C + 2, seed=seed, dtype=dtype), rng)
        yy = rng.integers(0, C + 2, (T, B))
        y_in = seq2seq.decoder_inputs(yy, C + 2, 0, dtype=dtype)
        if name == "attention_forward":
            return (Call(AT.attention_forward, params=p, x=x, y_in=y_in, x_mask=mask, y_mask=mask)
                    .add_params().add("x", bad_arrays(x)).add("y_in", bad_arrays(y_in)[:-1])
                    .add("x_mask", bad_masks(T, B) + [np.zeros((T, B), bool)])
                    .add("y_mask", bad_masks(T, B)))
        if name == "attention_generate":
            return (Call(AT.attention_generate, params=p, x=x, bos=0, eos=1, max_len=T,
                         x_mask=mask).add_params().add("x", bad_arrays(x))
                    .add("bos", [C + 2, -1, 1.5]).add("eos", [None]).add("max_len", BAD_INT)
                    .add("x_mask", bad_masks(T, B)))
        cache = AT.attention_forward(p, x, y_in, mask, mask)
        other = AT.attention_forward(AT.init_attention(d, m + 1, C + 2, dtype=dtype), x, y_in)
        s2s = seq2seq.encoder_decoder_forward(
            seq2seq.init_encoder_decoder(d, m, C + 2, dtype=dtype), x, y_in)
        return (Call(AT.attention_backward, params=p, cache=cache, y=yy).add_params()
                .add("cache", [None, "x", other, s2s])
                .add("y", [None, "y", yy + 0.5, np.where(mask, C + 2, 0), yy[:, :0]]))
    if name == "make_digit_translation":
        return (Call(AT.make_digit_translation, n=B, lengths=(1, T), seed=seed)
                .add("n", BAD_INT).add("lengths", [(0, 2), (3, 1), (1.5, 2), "ab", (1, 2, 3), None, 0])
                .add("seed", BAD_SEED))
    if name == "decode_accuracy":
        tgt = AT.make_digit_translation(B, (1, T), seed=seed)[1]
        return (Call(AT.decode_accuracy, ids=tgt.ids, y=tgt.ids, y_mask=tgt.mask)
                .add("ids", [None, "x", tgt.ids + 0.5, tgt.ids[:, :0], np.ones((2, B + 1), int)])
                .add("y", [None, tgt.ids.astype(float) + 0.5, tgt.ids[None]])
                .add("y_mask", [None, np.zeros_like(tgt.mask)] + bad_masks(*tgt.ids.shape)))
    # ------------------------------------------------------------------ linear recurrence
    n = m
    complex_ = bool(seed % 2)
    lam = rng.uniform(0.2, 0.95, n) * (np.exp(1j * rng.uniform(0, 6, n)) if complex_ else 1)
    u = rng.standard_normal((T, B, n))
    if name in ("linear_recurrence_loop", "linear_recurrence_scan"):
        c = (Call(getattr(LR, name), lam=lam, u=u, h0=np.zeros(n))
             .add("lam", bad_arrays(lam)[:6] + [np.ones(n + 1), np.ones((T + 1, B, n)), np.ones((0,))])
             .add("u", bad_arrays(u, True)[:-1] + [np.ones(n)])
             .add("h0", bad_arrays(np.zeros((B, n)), True)[1:-1]))
        if name == "linear_recurrence_scan":
            c.add("algorithm", ["blellock", None, 1])
        return c
    if name == "linear_recurrence_backward":
        h = LR.linear_recurrence_scan(lam, u)
        return (Call(LR.linear_recurrence_backward, lam=lam, h=h, dh=u)
                .add("lam", [None, "x", np.ones(n + 1), np.full(n, np.nan)])
                .add("h", [None, "x", h[:1], np.ones(n), h[:, :, :0] if n else None])
                .add("dh", [None, "x", u[:-1] if T > 1 else np.ones((3, B, n)), np.full(u.shape, np.inf)])
                .add("algorithm", ["scan", None]))
    if name in ("scan_depth", "scan_schedule"):
        c = Call(getattr(LR, name), T=T + 3).add("T", BAD_INT)
        if name == "scan_depth":
            c.add("algorithm", ["tree", None])
        else:
            c.add("max_pairs", BAD_INT + [1])
        return c
    if name == "spectral_radius":
        return Call(LR.spectral_radius, lam=lam).add("lam", [None, "x", np.ones(0), np.full(2, np.nan)])
    if name == "init_diagonal_recurrence":
        return (init_call(LR.init_diagonal_recurrence, d=d, n=n)
                .add("r_min", [-0.1, "x", float("nan")]).add("r_max", [-1.0, None])
                .add("complex", [1, "yes", None]))
    if name in ("diagonal_recurrence_forward", "diagonal_recurrence_backward"):
        p = LR.init_diagonal_recurrence(d, n, complex=complex_, seed=seed, dtype=dtype)
        if name == "diagonal_recurrence_forward":
            return (Call(LR.diagonal_recurrence_forward, params=p, x=x, h0=None)
                    .add_params().add("x", bad_arrays(x)).add("h0", bad_arrays(np.zeros((B, n)), True)[1:-1])
                    .add("method", ["parallel", None]))
        cache = LR.diagonal_recurrence_forward(p, x)
        other = LR.diagonal_recurrence_forward(LR.init_diagonal_recurrence(d, n + 1, complex=complex_,
                                                                           dtype=dtype), x)
        return (Call(LR.diagonal_recurrence_backward, params=p, cache=cache, dh=cache.h[1:])
                .add_params().add("cache", [None, "x", other])
                .add("dh", [None, "x", cache.h, np.full(cache.h[1:].shape, np.nan)]))
    if name == "init_gated_linear":
        return init_call(LR.init_gated_linear, d=d, n=n, m=m, C=C).add("gate_bias", BAD_NUMBER)
    if name in ("gated_linear_forward", "gated_linear_backward"):
        p = noisy(LR.init_gated_linear(d, n, m, C, seed=seed, dtype=dtype), rng)
        h0 = rng.standard_normal(n).astype(dtype)
        if name == "gated_linear_forward":
            return (Call(LR.gated_linear_forward, params=p, x=x, h0=h0, mask=mask)
                    .add_params().add("x", bad_arrays(x, True)).add("h0", bad_arrays(h0)[1:])
                    .add("mask", bad_masks(T, B)).add("method", ["tree", None]))
        cache = LR.gated_linear_forward(p, x, h0, mask)
        other = LR.gated_linear_forward(LR.init_gated_linear(d, n + 1, m, C, dtype=dtype), x)
        return (Call(LR.gated_linear_backward, params=p, cache=cache, y=y).add_params()
                .add("cache", [None, "x", other, RE.leaky_forward(RE.init_leaky(d, m, C, dtype=dtype), x)])
                .add("y", [None, "y", y + 0.5, np.where(mask, C, 0), y.astype(bool)]))
    if name == "recall_batch":
        return (Call(LR.recall_batch, step=seed, L=T, B=B, K=C, seed=1, dtype=dtype)
                .add("step", BAD_INT0).add("L", BAD_INT).add("B", BAD_INT).add("K", BAD_INT)
                .add("seed", [-1, 1.5, "x"]).add("dtype", BAD_DTYPE))
    if name == "recall_accuracy":
        xx, yy = LR.recall_batch(0, T, B=B)
        y_hat = rng.random((T + 1, B, 5))
        return (Call(LR.recall_accuracy, y_hat=y_hat, y=yy)
                .add("y_hat", bad_arrays(y_hat)[:6] + [np.ones((T + 1, B))])
                .add("y", [None, "y", yy[:-1], yy + 0.5]))
    if name == "impulse_response":
        return (Call(LR.impulse_response, lam=lam, T=T)
                .add("lam", [None, "x", np.ones(0), np.full(2, np.inf)]).add("T", BAD_INT))
    if name == "memory_length":
        return (Call(LR.memory_length, lam=lam, threshold=0.05)
                .add("lam", [None, "x", np.ones(0), np.full(2, np.nan)])
                .add("threshold", BAD_NUMBER + [0.0, 1.0, -0.5, 2.0]))
    if name == "memory_grid":
        return (Call(LR.memory_grid, moduli=np.array([0.0, 0.5, 0.99]), angles=np.linspace(0, 3, T),
                     T=T + 2, threshold=0.1)
                .add("moduli", [None, "x", np.ones(0), np.array([-0.5, 0.5]), np.ones((2, 2)),
                                np.array([np.nan])])
                .add("angles", [None, np.ones(0), np.ones((2, 2)), np.array([np.inf])])
                .add("T", BAD_INT).add("threshold", BAD_NUMBER + [0.0, 1.5]))
    raise AssertionError(f"no valid call written for {name}")


PUBLIC = public_functions()


def test_every_public_function_has_a_call():
    s = dict(T=2, B=2, d=2, m=2, C=3, dtype=np.float64, seed=0)
    for _, name in PUBLIC:
        c = calls(name, s)
        assert c.bad, name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            c.run()                                      # the valid call itself runs


@pytest.mark.parametrize("module,name", PUBLIC)
@settings(max_examples=50)
@given(s=sizes(), data=st.data())
def test_one_wrong_argument_at_a_time_names_the_argument(module, name, s, data):
    c = calls(name, s)
    TRIED[name] += 1
    COVERED.add(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        c.run()                                          # the valid call must work
    arg = data.draw(st.sampled_from(sorted(c.bad)))
    value, words = data.draw(st.sampled_from(c.bad[arg]))
    TRIED[name] += 1
    expect_error(lambda: c.run(**{arg: value}), *words)


# ==============================================================================================
# Valid inputs against independent references
# ==============================================================================================
def ref_recurrence(a, u, h0):
    T = u.shape[0]
    a = np.broadcast_to(a, u.shape)
    h = [np.broadcast_to(h0, u.shape[1:]).astype(complex)]
    for t in range(T):
        h.append(a[t] * h[-1] + u[t])
    return np.array(h)


@settings(max_examples=150)
@given(T=st.integers(1, 70), B=st.integers(1, 3), n=st.integers(1, 4), complex_=st.booleans(),
       per_step=st.booleans(), f32=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_loop_and_both_scans_equal_the_reference(T, B, n, complex_, per_step, f32, seed):
    rng = np.random.default_rng(seed)
    shape = (T, B, n) if per_step else (n,)
    lam = rng.uniform(-0.99, 0.99, shape) * (np.exp(1j * rng.uniform(0, 6, shape)) if complex_ else 1)
    u = rng.standard_normal((T, B, n))
    h0 = rng.standard_normal((B, n))
    dtype = (np.complex64 if complex_ else np.float32) if f32 else (np.complex128 if complex_ else np.float64)
    lam, u, h0 = lam.astype(dtype), u.astype(dtype), h0.astype(dtype)
    want = ref_recurrence(lam.astype(complex), u.astype(complex), h0.astype(complex))
    tol = 2e-5 if f32 else 1e-11
    for name, fn in (("loop", LR.linear_recurrence_loop),
                     ("hs", LR.linear_recurrence_scan),
                     ("bl", lambda *a: LR.linear_recurrence_scan(*a, algorithm="blelloch"))):
        TRIED["linear_recurrence_scan" if name != "loop" else "linear_recurrence_loop"] += 1
        h = fn(lam, u, h0)
        assert h.dtype == dtype
        np.testing.assert_allclose(h, want, rtol=tol, atol=tol * max(1, np.abs(want).max()))
    TRIED["linear_recurrence_backward"] += 1
    h = LR.linear_recurrence_scan(lam, u, h0)
    dh = rng.standard_normal((T, B, n)).astype(dtype)
    dlam, du, dh0 = LR.linear_recurrence_backward(lam, h, dh)
    g, nxt = np.zeros((T, B, n), complex), np.zeros((B, n), complex)   # the adjoint, by hand
    a = np.broadcast_to(lam, (T, B, n)).astype(complex)
    for t in range(T - 1, -1, -1):
        nxt = dh[t] + (np.conj(a[t + 1]) * nxt if t + 1 < T else 0)
        g[t] = nxt
    np.testing.assert_allclose(du, g, rtol=10 * tol, atol=10 * tol * max(1, np.abs(g).max()))
    np.testing.assert_allclose(dh0, np.conj(a[0]) * g[0], rtol=10 * tol,
                               atol=10 * tol * max(1, np.abs(g).max()))


@settings(max_examples=60)
@given(T=st.integers(1, 200))
def test_scan_depth_and_schedule_replay(T):
    TRIED["scan_depth"] += 1
    TRIED["scan_schedule"] += 1
    assert LR.scan_depth(T) == math.ceil(math.log2(T))
    assert LR.scan_depth(T, "blelloch") == 2 * math.floor(math.log2(T))
    covered = {t: 1 for t in range(1, T + 1)}            # how many steps position t covers
    for pairs in LR.scan_schedule(T):
        new = dict(covered)
        for t, s in pairs:
            new[t] = covered[t] + covered[s]
        covered = new
    assert all(covered[t] == t for t in covered)


@settings(max_examples=80)
@given(lam=st.complex_numbers(max_magnitude=1.5, allow_nan=False, allow_infinity=False),
       threshold=st.floats(1e-4, 0.9))
def test_memory_length_by_counting(lam, threshold):
    TRIED["memory_length"] += 1
    k = LR.memory_length(np.array([lam]), threshold)[0]
    r = abs(lam)
    if r >= 1:
        assert k == np.inf
        return
    count = 0
    while r ** count >= threshold:
        count += 1
    assert abs(k - count) <= (1 if abs(math.log(threshold) / math.log(r) - round(
        math.log(threshold) / math.log(r))) < 1e-9 else 0) if r > 0 else k == count


@settings(max_examples=60)
@given(s=sizes(), width=st.integers(1, 1))
def test_beam_width_one_is_greedy(s, width):
    TRIED["beam_search"] += 1
    rng = np.random.default_rng(s["seed"])
    p = noisy(seq2seq.init_vector_decoder(2, s["m"], s["C"] + 1, seed=s["seed"], dtype=s["dtype"]), rng)
    s0 = rng.standard_normal((s["B"], s["m"])).astype(s["dtype"])
    greedy = seq2seq.greedy_decode(p, s0, 0, 1, s["T"] + 2)
    np.testing.assert_array_equal(BS.beam_search(p, s0, 0, 1, s["T"] + 2, width=1).ids, greedy)


@settings(max_examples=40)
@given(seed=st.integers(0, 2 ** 16), m=st.integers(1, 3))
def test_exhaustive_beam_is_brute_force(seed, m):
    TRIED["beam_search"] += 1
    TRIED["sequence_logprob"] += 1
    C, L, eos = 3, 3, 2
    rng = np.random.default_rng(seed)
    p = noisy(seq2seq.init_vector_decoder(2, m, C, seed=seed), rng)
    s0 = rng.standard_normal(m)
    best = BS.beam_search(p, s0, 0, eos, L, width=C ** (L - 1))
    candidates = [list(body) + [eos] for k in range(L) for body in itertools.product([0, 1], repeat=k)]
    candidates += [list(q) for q in itertools.product([0, 1], repeat=L)]
    scores = [BS.sequence_logprob(p, s0, np.array(q + [0] * (L - len(q))), 0, eos) for q in candidates]
    assert best.logprob == pytest.approx(max(scores), rel=1e-10, abs=1e-12)


@settings(max_examples=60)
@given(s=sizes())
def test_bidirectional_padded_sequences_equal_their_unpadded_runs(s):
    TRIED["bidirectional_forward"] += 1
    T, B, d, m, C, dtype, seed = (s[k] for k in ("T", "B", "d", "m", "C", "dtype", "seed"))
    rng = np.random.default_rng(seed)
    p = noisy(BI.init_bidirectional(d, m, C, seed=seed, dtype=dtype), rng)
    lengths = rng.integers(1, T + 1, B)
    mask = np.arange(T)[:, None] < lengths[None]
    x = rng.standard_normal((T, B, d)).astype(dtype)
    cache = BI.bidirectional_forward(p, x, mask=mask)
    for b in range(B):
        alone = BI.bidirectional_forward(p, x[: lengths[b], b])
        np.testing.assert_allclose(cache.o[: lengths[b], b], alone.o[:, 0],
                                   rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-5 if dtype == np.float32 else 1e-12)


@settings(max_examples=60)
@given(J=st.floats(0, 100), T=st.integers(1, 50), C=st.integers(1, 1000))
def test_metrics_closed_forms(J, T, C):
    for k in ("per_step_loss", "perplexity", "bits_per_character", "uniform_perplexity", "uniform_bits"):
        TRIED[k] += 1
    L = ME.per_step_loss(J, T=T)
    assert L == pytest.approx(J / T)
    assert ME.perplexity(L) == pytest.approx(math.exp(J / T))
    assert ME.bits_per_character(L) == pytest.approx(J / T / math.log(2))
    assert ME.uniform_perplexity(C) == C
    assert ME.perplexity(math.log(C)) == pytest.approx(C)
    assert ME.bits_per_character(math.log(C)) == pytest.approx(ME.uniform_bits(C))


@settings(max_examples=40)
@given(N=st.integers(3, 40), m=st.integers(1, 4), ridge=st.sampled_from([0.0, 1e-4, 1.0]),
       seed=st.integers(0, 2 ** 16))
def test_fit_readout_is_least_squares(N, m, ridge, seed):
    TRIED["fit_readout"] += 1
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((N, 1, m))
    y = rng.standard_normal((N, 1))
    out = RE.fit_readout(h, y, ridge=ridge)
    Z = np.concatenate([h[:, 0], np.ones((N, 1))], axis=1)
    A = np.concatenate([Z, np.sqrt(ridge) * np.eye(m + 1)[:m]])
    theta = np.linalg.lstsq(A, np.concatenate([y, np.zeros((m, 1))]), rcond=None)[0]
    if N > m + 1 or ridge > 0:                           # a unique solution
        np.testing.assert_allclose(out["V"][0], theta[:m, 0], rtol=1e-6, atol=1e-8)


@settings(max_examples=40)
@given(s=sizes())
def test_leaky_alpha_one_is_the_vanilla_rnn(s):
    from rnnlib import init_rnn, rnn_forward
    TRIED["leaky_forward"] += 1
    T, B, d, m, C, dtype, seed = (s[k] for k in ("T", "B", "d", "m", "C", "dtype", "seed"))
    p = init_rnn(d, m, C, seed=seed, dtype=dtype)
    x = np.random.default_rng(seed).standard_normal((T, B, d)).astype(dtype)
    np.testing.assert_allclose(RE.leaky_forward(p, x, alpha=1.0).o, rnn_forward(p, x).o,
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


@settings(max_examples=40)
@given(s=sizes())
def test_attention_weights_are_a_distribution_over_real_source_steps(s):
    TRIED["attention_forward"] += 1
    T, B, d, m, C, dtype, seed = (s[k] for k in ("T", "B", "d", "m", "C", "dtype", "seed"))
    rng = np.random.default_rng(seed)
    p = noisy(AT.init_attention(d, m, C, seed=seed, dtype=dtype), rng)
    x_mask = np.arange(T)[:, None] < rng.integers(1, T + 1, B)[None]
    y_in = seq2seq.decoder_inputs(rng.integers(0, C, (2, B)), C, 0, dtype=dtype)
    cache = AT.attention_forward(p, rng.standard_normal((T, B, d)), y_in, x_mask)
    np.testing.assert_allclose(cache.weights.sum(axis=2), 1, rtol=1e-5)
    assert np.all(cache.weights[:, ~x_mask.T] == 0)


@settings(max_examples=40)
@given(s=sizes())
def test_step_accuracy_and_decode_accuracy_by_hand(s):
    TRIED["step_accuracy"] += 1
    TRIED["decode_accuracy"] += 1
    T, B, C, seed = s["T"], s["B"], s["C"], s["seed"]
    rng = np.random.default_rng(seed)
    y_hat, y = rng.random((T, B, C)), rng.integers(0, C, (T, B))
    right = [y_hat[t, b].argmax() == y[t, b] for t in range(T) for b in range(B)]
    assert ME.step_accuracy(y_hat, y) == pytest.approx(np.mean(right))
    src, tgt = AT.make_digit_translation(B, (1, T), seed=seed)
    guess = np.where(rng.random(tgt.ids.shape) < 0.3, 3, tgt.ids)
    per = [(guess[t, b] == tgt.ids[t, b]) for b in range(B) for t in range(tgt.lengths[b])]
    exact = [all(guess[t, b] == tgt.ids[t, b] for t in range(tgt.lengths[b])) for b in range(B)]
    assert AT.decode_accuracy(guess, tgt.ids, tgt.mask) == pytest.approx((np.mean(per), np.mean(exact)))


# ==============================================================================================
# Size guards: a clear error naming the keyword that raises the limit, before allocating
# ==============================================================================================
HUGE = [
    ("init_bidirectional", lambda: BI.init_bidirectional(3, 30000, 3), "max_bytes"),
    ("make_lookahead", lambda: BI.make_lookahead(10 ** 5, 10 ** 5), "max_bytes"),
    ("init_reservoir", lambda: RE.init_reservoir(1, 30000), "max_bytes"),
    ("init_leaky", lambda: RE.init_leaky(1, 30000, 2), "max_bytes"),
    ("leaky_impulse_response",
     lambda: RE.leaky_impulse_response(RE.init_reservoir(1, 4), 0.5, T=10 ** 10), "max_bytes"),
    ("make_narma", lambda: RE.make_narma(10 ** 10), "max_bytes"),
    ("make_delay_recall", lambda: RE.make_delay_recall(10 ** 10), "max_bytes"),
    ("init_attention", lambda: AT.init_attention(1, 30000, 3), "max_bytes"),
    ("attention_generate", lambda: AT.attention_generate(
        AT.init_attention(2, 2, 3), np.ones((2, 1, 2)), 0, 1, 10 ** 10), "max_bytes"),
    ("make_digit_translation", lambda: AT.make_digit_translation(10 ** 10), "max_bytes"),
    ("beam_search", lambda: BS.beam_search(seq2seq.init_vector_decoder(2, 2, 3), np.ones(2), 0, 1,
                                           10 ** 5, width=10 ** 5), "max_bytes"),
    ("init_diagonal_recurrence", lambda: LR.init_diagonal_recurrence(10 ** 6, 10 ** 5), "max_bytes"),
    ("init_gated_linear", lambda: LR.init_gated_linear(1, 30000, 30000, 2), "max_bytes"),
    ("recall_batch", lambda: LR.recall_batch(0, 10 ** 6, B=10 ** 4), "max_bytes"),
    ("impulse_response", lambda: LR.impulse_response(np.ones(10 ** 5), 10 ** 5), "max_bytes"),
    ("memory_grid", lambda: LR.memory_grid(np.ones(1000), np.ones(1000), T=10 ** 4), "max_bytes"),
    ("scan_schedule", lambda: LR.scan_schedule(10 ** 9), "max_pairs"),
]


@pytest.mark.parametrize("name,call,keyword", HUGE, ids=[h[0] for h in HUGE])
def test_size_guards_refuse_before_allocating(name, call, keyword):
    TRIED[name] += 1
    error = expect_error(call, keyword)
    assert isinstance(error, ValueError)


# ==============================================================================================
# Structure (issue 12): the plain functions a chapter shows
# ==============================================================================================
PLAIN = {
    "bidirectional": ["_init_bidirectional", "_bidirectional_forward", "_bidirectional_backward",
                      "_make_lookahead"],
    "metrics": ["_per_step_loss", "_perplexity", "_bits_per_character", "_uniform_perplexity",
                "_uniform_bits", "_step_accuracy", "_nrmse"],
    "beam_search": ["_beam_step", "_beam_search", "_encoder_decoder_beam_search", "_vector_decoder_beam_search",
                    "_sequence_logprob"],
    "reservoir": ["_init_reservoir", "_init_leaky", "_leaky_states", "_reservoir_states",
                  "_leaky_forward", "_leaky_backward", "_fit_readout", "_esn_predict",
                  "_leaky_impulse_response", "_fit_time_constant", "_leaky_decay_rate",
                  "_make_narma", "_make_delay_recall"],
    "attention": ["_init_attention", "_attend", "_attention_forward", "_attention_backward",
                  "_attention_step", "_attention_generate", "_make_digit_translation",
                  "_decode_accuracy"],
    "linear_recurrence": ["_spectral_radius", "_linear_recurrence_loop", "_linear_recurrence_scan",
                          "_linear_recurrence_tree_scan", "_linear_recurrence_backward",
                          "_scan_depth", "_scan_schedule", "_init_diagonal_recurrence",
                          "_diagonal_recurrence_forward", "_diagonal_recurrence_backward",
                          "_init_gated_linear", "_gated_linear_forward", "_gated_linear_backward",
                          "_recall_batch", "_impulse_response", "_memory_length", "_memory_grid"],
}
CHECK = re.compile(r"isinstance|\braise\b|\b_?check_[a-z_]*\(|as_float_array|_as_array|assert ")


@pytest.mark.parametrize("module,name", [(m, n) for m, ns in PLAIN.items() for n in ns])
def test_plain_functions_have_no_checks_and_fit_80_columns(module, name):
    M = MODULES[module]
    fn = getattr(M, name)
    lines = inspect.getsource(fn).splitlines()
    assert not [line for line in lines if len(line) > 80]
    assert not [line for line in lines if CHECK.search(line)]
    public = name.lstrip("_")
    if hasattr(M, public):
        doc = fn.__doc__ or ""
        assert f"`{public}`" in doc and "checked by" in doc, doc
        source = inspect.getsource(M)
        assert source.index(f"def {name}(") < source.index(f"def {public}(")


def test_every_module_exports_its_public_functions_and_names_its_chapter():
    for name, M in MODULES.items():
        defined = {n for n, v in vars(M).items() if not n.startswith("_") and callable(v)
                   and getattr(v, "__module__", None) == M.__name__}
        assert not defined - set(M.__all__), (name, defined - set(M.__all__))
        assert "Taught in" in M.__doc__, name


def test_zz_summary():
    covered = {n for _, n in PUBLIC} & COVERED
    print(f"\nissue-19 modules: {len(covered)} of {len(PUBLIC)} public functions covered, "
          f"{sum(TRIED.values())} inputs tried")
    if COVERED:                                          # when the whole file ran
        assert covered == {n for _, n in PUBLIC}
