"""Checkers for the exercises of the chapter "Where recurrence went".

Labels (the sphinx-exercise label is ``ex-`` + label):

* ``where-attend``       attend(s, H, W_a) -> (weights (B, T_x), context (B, m)): Luong's score
                         e_j = s . W_a h_e^(j), weights softmax_j e_j, context sum_j a_j h_e^(j);
* ``where-combine``      combine(first, second) -> (a, u): the step maps h -> a h + u composed,
                         first then second: (a2 a1, a2 u1 + u2);
* ``where-scan``         scan(lam, u) -> h (T+1, n): h^(t) = lam * h^(t-1) + u^(t), h^(0) = 0,
                         by a parallel (Hillis-Steele) scan;
* ``where-scan-work``    (written) the scan's depth and work against the loop's;
* ``where-convolution``  (written) a linear recurrence is a convolution of its inputs;
* ``where-state-cost``   (written) what attention and a linear recurrence keep while generating.

The checkers compare with rnnlib.attention and rnnlib.linear_recurrence on fixed and fresh random
cases (real and complex lambda, float32 and float64 inputs) and recognise the usual mistakes: a
softmax over the batch instead of the source steps, raw scores used as weights, W_a transposed or
left out, an overflowing softmax (no max subtracted), weights transposed, the two maps composed
in the wrong order or the second map's coefficient forgotten, a level of the scan that reads
values the same level has already overwritten, a scan stopped one level early, h^(0) left out.
"""
from __future__ import annotations

import numpy as np

from . import Case, Checker, Mistake, compare, describe, exercise, first_match, is_sequence, register
from ._common import float_dtype, seed as _seed
from ..attention import _attend
from ..linear_recurrence import _linear_recurrence_loop

CHAPTER = "where_recurrence_went"


# ----------------------------------------------------------------------------------------------
# Exercise: attention weights and context
# ----------------------------------------------------------------------------------------------
def _attend_reference(s, H, W_a):
    """(weights (B, T_x), context (B, m)) from rnnlib.attention's plain function."""
    weights, context = _attend(s[None], H, H @ W_a.T, None)      # (1, B, T_x), (1, B, m)
    return weights[0], context[0]


def _attend_case(T_x, B, m, seed, dtype=np.float64, scale=1.0, context=""):
    rng = np.random.default_rng(seed)
    H = np.tanh(rng.standard_normal((T_x, B, m))).astype(dtype)                   # (T_x, B, m)
    s = np.tanh(rng.standard_normal((B, m))).astype(dtype)                        # (B, m)
    W_a = (scale * rng.standard_normal((m, m)) / np.sqrt(m)).astype(dtype)        # not symmetric
    what = context or f"T_x={T_x} source steps, B={B}, m={m}, {np.dtype(dtype).name}"
    return Case(what, (s, H, W_a))


def _softmax(e, axis):
    z = np.exp(e - e.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


@exercise("where-attend", chapter=CHAPTER, points=2, answer_name="attend",
          title="Attention weights and the context vector")
class Attend(Checker):
    """answer(s, H, W_a) -> (weights (B, T_x), context (B, m)), any sequence of two."""

    references = ("rnnlib.attention._attend", "rnnlib.attention.attention_forward",
                  "rnnlib.attention._attention_forward", "rnnlib.attention._attention_step",
                  "rnnlib.attention.attention_generate")

    def cases(self, rng):
        cases = [_attend_case(5, 3, 4, 0), _attend_case(1, 2, 3, 1),
                 _attend_case(6, 1, 5, 2, np.float32),
                 _attend_case(4, 3, 4, 3, scale=3000.0,
                              context="T_x=4, B=3, m=4 with large scores (W_a scaled by 3000)")]
        for _ in range(3):
            T_x, B, m = (int(v) for v in (rng.integers(2, 9), rng.integers(1, 5), rng.integers(2, 7)))
            cases.append(_attend_case(T_x, B, m, _seed(rng), float_dtype(rng),
                                      context=f"T_x={T_x}, B={B}, m={m} (random)"))
        return cases

    def judge(self, case, observed):
        s, H, W_a = case.args
        context = case.context
        out = observed.get("returned")
        if not is_sequence(out, 2):
            raise Mistake(f"return a pair (weights, context) ({context}); got {describe(out)}")
        weights, ctx = out
        ref_w, ref_c = _attend_reference(s, H, W_a)
        T_x, B, m = H.shape
        s64, H64, Wa64 = (v.astype(np.float64) for v in (s, H, W_a))
        scores = np.einsum("bm,jbm->bj", s64, H64 @ Wa64.T)                     # (B, T_x)
        with np.errstate(all="ignore"):
            naive = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        if isinstance(weights, np.ndarray) and weights.shape == (B, m) and \
                isinstance(ctx, np.ndarray) and ctx.shape == (B, T_x) and m != T_x:
            raise Mistake(f"the pair is in the wrong order ({context}): return (weights, context), "
                          "the weights (B, T_x) first")
        hint = first_match(weights, [
            ("the weights are transposed: return them as (B, T_x), one row of T_x weights per "
             "example", lambda: ref_w.T),
            ("you normalised over the batch: the softmax runs over the source steps j "
             "(axis 1 of the (B, T_x) scores), so each example's weights sum to 1",
             lambda: _softmax(scores, axis=0)),
            ("the weights are the raw scores e_j: apply the softmax over j, so that they are "
             "positive and sum to 1", lambda: scores),
            ("W_a is transposed: the score is e_j = s^T W_a h_e^(j), i.e. "
             "`(H @ W_a.T)` against s, not `(H @ W_a)`",
             lambda: _softmax(np.einsum("bm,jbm->bj", s64, H64 @ Wa64), axis=1)),
            ("W_a is missing: Luong's general score is e_j = s^T W_a h_e^(j), not the plain dot "
             "product s . h_e^(j)", lambda: _softmax(np.einsum("bm,jbm->bj", s64, H64), axis=1)),
        ], unless=ref_w)
        if hint:
            raise Mistake(f"{hint} ({context}).")
        if isinstance(weights, np.ndarray) and weights.shape == (B, T_x) and \
                not np.isfinite(weights).all() and not np.isfinite(naive).all():
            raise Mistake(f"your weights hold NaN or inf ({context}): exp of a large score "
                          "overflows. Subtract each row's largest score before the exp; the "
                          "softmax does not change, and exp never exceeds 1")
        compare(weights, ref_w, name="weights", context=context, dtype=H.dtype)
        hint = first_match(ctx, [
            ("the context sums the encoder states with the raw scores: weight them with the "
             "softmax weights a_j", lambda: np.einsum("bj,jbm->bm", scores, H64)),
            ("the context is the plain mean of the encoder states: weight them with a_j",
             lambda: H64.mean(axis=0)),
            ("the context is the last encoder state (the fixed-size context of seq2seq): attention "
             "takes the weighted sum sum_j a_j h_e^(j)", lambda: H64[-1]),
        ], unless=ref_c)
        if hint:
            raise Mistake(f"{hint} ({context}).")
        compare(ctx, ref_c, name="context", context=context, dtype=H.dtype)


# ----------------------------------------------------------------------------------------------
# Exercise: compose two steps of a linear recurrence
# ----------------------------------------------------------------------------------------------
def _step(rng, n, complex_, dtype):
    a = rng.uniform(0.2, 0.99, n) * (np.exp(1j * rng.uniform(0, 2 * np.pi, n)) if complex_ else
                                     rng.choice([-1.0, 1.0], n))
    u = rng.standard_normal(n) + (1j * rng.standard_normal(n) if complex_ else 0)
    if complex_:
        cdtype = np.complex64 if dtype == np.float32 else np.complex128
        return a.astype(cdtype), u.astype(cdtype)
    return a.astype(dtype), u.astype(dtype)


def _combine_case(n, seed, complex_=False, dtype=np.float64, context=""):
    rng = np.random.default_rng(seed)
    first, second = _step(rng, n, complex_, dtype), _step(rng, n, complex_, dtype)
    kind = "complex" if complex_ else np.dtype(dtype).name
    return Case(context or f"n={n} channels, {kind}", (first, second))


@exercise("where-combine", chapter=CHAPTER, points=1, answer_name="combine",
          title="Compose two steps of a linear recurrence")
class Combine(Checker):
    """answer(first, second) -> (a, u) with (a2 a1, a2 u1 + u2); first = (a1, u1),
    second = (a2, u2), arrays (n,), real or complex; any sequence of two."""

    references = ("rnnlib.linear_recurrence._linear_recurrence_scan",
                  "rnnlib.linear_recurrence.linear_recurrence_scan",
                  "rnnlib.linear_recurrence._linear_recurrence_tree_scan")

    def cases(self, rng):
        cases = [_combine_case(4, 0), _combine_case(1, 1), _combine_case(3, 2, complex_=True),
                 _combine_case(5, 3, dtype=np.float32)]
        for _ in range(3):
            n = int(rng.integers(1, 8))
            complex_ = bool(rng.random() < 0.5)
            cases.append(_combine_case(n, _seed(rng), complex_, float_dtype(rng),
                                       context=f"n={n} channels, "
                                               f"{'complex' if complex_ else 'real'} (random)"))
        return cases

    def judge(self, case, observed):
        (a1, u1), (a2, u2) = case.args
        context = case.context
        out = observed.get("returned")
        if not is_sequence(out, 2):
            raise Mistake(f"return a pair (a, u), the composed map h -> a h + u ({context}); got "
                          f"{describe(out)}")
        a, u = out
        ref_a, ref_u = a2 * a1, a2 * u1 + u2
        hint = first_match(a, [
            ("a: you added the coefficients; composing h -> a1 h + u1 and h -> a2 h + u2 "
             "multiplies them, a = a2 a1", lambda: a1 + a2),
        ], unless=ref_a)
        if hint:
            raise Mistake(f"{hint} ({context}).")
        compare(a, ref_a, name="a", context=context)
        hint = first_match(u, [
            ("u: you composed in the wrong order (second, then first): apply first, then second, "
             "so h -> a2 (a1 h + u1) + u2 and u = a2 u1 + u2", lambda: a1 * u2 + u1),
            ("u: the second step also multiplies what the first one added: "
             "a2 (a1 h + u1) + u2, so u = a2 u1 + u2, not u1 + u2", lambda: u1 + u2),
            ("u: the first step's offset u1 is missing: u = a2 u1 + u2", lambda: u2),
        ], unless=ref_u)
        if hint:
            raise Mistake(f"{hint} ({context}).")
        compare(u, ref_u, name="u", context=context)


# ----------------------------------------------------------------------------------------------
# Exercise: the parallel scan
# ----------------------------------------------------------------------------------------------
def _scan_case(T, n, seed, complex_=False, dtype=np.float64, context=""):
    rng = np.random.default_rng(seed)
    r = rng.uniform(0.3, 0.99, n)
    lam = r * np.exp(1j * rng.uniform(0, 2 * np.pi, n)) if complex_ else r * rng.choice([-1, 1], n)
    u = rng.standard_normal((T, n)) + (1j * rng.standard_normal((T, n)) if complex_ else 0)
    if complex_:
        cdtype = np.complex64 if dtype == np.float32 else np.complex128
        lam, u = lam.astype(cdtype), u.astype(cdtype)
    else:
        lam, u = lam.astype(dtype), u.astype(dtype)
    kind = "complex" if complex_ else np.dtype(dtype).name
    return Case(context or f"T={T} steps, n={n} channels, {kind}", (lam, u))


def _scan_variant(lam, u, a_first=False, sequential=False, stop_early=False):
    """What a Hillis-Steele scan with one of the usual slips returns (h (T+1, n), h^(0) = 0)."""
    T = u.shape[0]
    a = np.array(np.broadcast_to(lam, u.shape))
    b = u.copy()
    k = 1
    while (2 * k < T) if stop_early else (k < T):
        if sequential:                       # in place, t increasing: reads this level's results
            for t in range(k, T):
                b[t] = a[t] * b[t - k] + b[t]
                a[t] = a[t] * a[t - k]
        elif a_first:                        # a updated first, then b reads the new a
            a[k:] = a[k:] * a[:-k]
            b[k:] = a[k:] * b[:-k] + b[k:]
        else:
            b[k:] = a[k:] * b[:-k] + b[k:]
            a[k:] = a[k:] * a[:-k]
        k *= 2
    return np.concatenate([np.zeros((1,) + u.shape[1:], u.dtype), b])


@exercise("where-scan", chapter=CHAPTER, points=2, answer_name="scan",
          title="The parallel scan of a linear recurrence")
class Scan(Checker):
    """answer(lam, u) -> h (T+1, n) with h[0] = 0 and h^(t) = lam * h^(t-1) + u^(t)."""

    references = ("rnnlib.linear_recurrence._linear_recurrence_scan",
                  "rnnlib.linear_recurrence.linear_recurrence_scan",
                  "rnnlib.linear_recurrence._linear_recurrence_tree_scan",
                  "rnnlib.linear_recurrence._linear_recurrence_loop",
                  "rnnlib.linear_recurrence.linear_recurrence_loop")
    note = ("The checker compares values only: a loop over t passes too. Count your levels: a "
            "scan over T steps needs ceil(log2 T) of them.")

    def cases(self, rng):
        cases = [_scan_case(8, 3, 0), _scan_case(1, 2, 1), _scan_case(2, 1, 2),
                 _scan_case(13, 4, 3, complex_=True), _scan_case(6, 2, 4, dtype=np.float32)]
        for _ in range(3):
            T, n = int(rng.integers(3, 40)), int(rng.integers(1, 6))
            complex_ = bool(rng.random() < 0.5)
            cases.append(_scan_case(T, n, _seed(rng), complex_, float_dtype(rng),
                                    context=f"T={T} steps, n={n} channels, "
                                            f"{'complex' if complex_ else 'real'} (random)"))
        return cases

    def judge(self, case, observed):
        lam, u = case.args
        context = case.context
        T, n = u.shape
        out = observed.get("returned")
        expected = _linear_recurrence_loop(lam, u, np.zeros(n, u.dtype))          # (T+1, n)
        if isinstance(out, np.ndarray) and out.shape == (T, n) and T > 1:
            if np.allclose(out, expected[1:], rtol=1e-4, atol=1e-5):
                raise Mistake(f"your h has shape {out.shape} ({context}): it holds h^(1..T); "
                              f"return ({T + 1}, {n}) with h^(0) = 0 as its first row, "
                              "the book's h[0] = h0 convention")
        hint = first_match(out, [
            ("a level reads values that the same level has already overwritten (an in-place "
             "update with t increasing): every position must combine with the previous level's "
             "values, as one vectorised assignment `b[k:] = a[k:] * b[:-k] + b[k:]` does",
             lambda: _scan_variant(lam, u, sequential=True)),
            ("you updated a before b: b[k:] = a[k:] * b[:-k] + b[k:] needs the coefficients of "
             "the previous level, so update b first (or keep a copy of a)",
             lambda: _scan_variant(lam, u, a_first=True)),
            ("your scan stops one level early: continue while the offset k < T (offsets "
             "1, 2, 4, ... up to the largest power of 2 below T)",
             lambda: _scan_variant(lam, u, stop_early=True)),
            ("your h is the running sum of u: lambda is missing, h^(t) = lam * h^(t-1) + u^(t) "
             "(the coefficients multiply as the levels compose)",
             lambda: np.concatenate([np.zeros((1, n), u.dtype), np.cumsum(u, axis=0)])),
        ], unless=expected)
        if hint:
            raise Mistake(f"{hint} ({context}).")
        compare(out, expected, name="h", context=context)


# ----------------------------------------------------------------------------------------------
# Written exercises (graded by hand; solutions in the chapter)
# ----------------------------------------------------------------------------------------------
register("where-scan-work", chapter=CHAPTER, kind="written", points=1,
         title="Depth and work of the scan against the loop")
register("where-convolution", chapter=CHAPTER, kind="written", points=1,
         title="A linear recurrence is a convolution")
register("where-state-cost", chapter=CHAPTER, kind="written", points=1,
         title="What attention and a linear recurrence keep while generating")
