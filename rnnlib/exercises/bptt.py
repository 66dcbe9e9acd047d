"""Checkers for the exercises of the chapter "Backpropagation through time".

Labels (the sphinx-exercise label is ``ex-bptt-<label>``):

* ``rnn-step-backward``  implement one step's backward pass, rnnlib's contract
  ``rnn_step_backward(params, dh_t, cache) -> (dx_t, dh_prev, grads)``;
* ``bptt-loop``          implement BPTT for a whole sequence, ``(params, cache, y) -> (loss, grads)``;
* ``tk-contribution``    compute one (t, k) term of dJ/dU by hand;
* ``bptt-memory``        the bytes of BPTT's cache, ``bptt_memory(T, B, m, d, C, dtype) -> int``;
* ``bptt-perplexity``    perplexity and bits per character from rnnlib's loss,
  ``perplexity_and_bits(J, T) -> (perplexity, bits)``;
* ``truncation-bias``    (written) why truncated BPTT's gradient is biased.

Each checker compares with rnnlib's reference on fixed and fresh random cases and recognises the usual
mistakes (a forgotten tanh derivative, a transposed W, gradients not summed over the batch or over
time, h0's gradient missing, an off-by-one step, ...).
"""
from __future__ import annotations

import numpy as np

from . import Case, Checker, Mistake, compare, describe, exercise, first_match, is_sequence, register
from ._common import copy_params, fields, rebuild, seed as _seed
from ..bptt import bptt_contributions, bptt_memory_bytes, cache_nbytes
from ..rnn import RNNCache, StepCache, init_rnn, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

CHAPTER = "bptt"


def _random_params(d, m, C, seed):
    rng = np.random.default_rng(seed + 100)
    params = init_rnn(d, m, C, seed=seed)
    params["b"] += 0.1 * rng.standard_normal(m)
    params["c"] += 0.1 * rng.standard_normal(C)
    return params


# ----------------------------------------------------------------------------------------------
# Exercise: one step's backward pass
# ----------------------------------------------------------------------------------------------
def _step_case(B, d, m, seed, context=""):
    rng = np.random.default_rng(seed)
    params = _random_params(d, m, 2, seed)
    x_t = rng.standard_normal((B, d))                                    # (B, d)
    h_prev = 0.8 * rng.standard_normal((B, m))                           # (B, m)
    dh_t = rng.standard_normal((B, m))                                   # (B, m)
    _, cache = rnn_step_forward(params, x_t, h_prev)
    return Case(context or f"B={B}, d={d}, m={m}", (params, dh_t, fields(cache)))


def _check_grads_dict(grads, keys, context):
    if not isinstance(grads, dict) or set(grads) == {"opaque"}:
        raise Mistake(f"grads should be a dict with keys {list(keys)} ({context}), got {describe(grads)}")
    missing = [key for key in keys if key not in grads]
    if missing:
        raise Mistake(f"grads is missing {missing} ({context}); it should have the keys {list(keys)}")


class _CacheChecker(Checker):
    """prepare rebuilds the rnnlib cache (args[cache_index]) from its plain fields."""

    cache_index, cache_class = 2, StepCache

    def prepare(self, case):
        args = list(case.args)
        args[0] = copy_params(args[0])
        args[self.cache_index] = rebuild(self.cache_class, args[self.cache_index])
        args = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        return tuple(args), {}


@exercise("rnn-step-backward", chapter=CHAPTER, points=2, answer_name="rnn_step_backward",
          title="Implement the backward pass of one step")
class StepBackward(_CacheChecker):
    """answer(params, dh_t, cache) -> (dx_t, dh_prev, grads) (any sequence of three)."""

    references = ("rnnlib.rnn.rnn_step_backward", "rnnlib.rnn._rnn_step_backward")

    def cases(self, rng):
        cases = [_step_case(B, d, m, seed) for B, d, m, seed in ((3, 4, 5, 0), (1, 2, 3, 1), (4, 3, 3, 2))]
        for _ in range(3):
            B, d, m = (int(v) for v in rng.integers(1, 6, size=3))
            cases.append(_step_case(B, d, m, _seed(rng), f"B={B}, d={d}, m={m} (random)"))
        return cases

    def judge(self, case, observed):
        params, dh_t, plain_cache = case.args
        cache = rebuild(StepCache, plain_cache)
        B = dh_t.shape[0]
        context = case.context
        out = observed.get("returned")
        if not is_sequence(out, 3):
            raise Mistake(f"return a tuple (dx_t, dh_prev, grads) ({context}); got {describe(out)}")
        dx_t, dh_prev, grads = out
        if dh_prev is None or (isinstance(dh_prev, np.ndarray) and dh_prev.ndim and dh_prev.dtype.kind in "biuf"
                               and np.allclose(dh_prev.astype(float), 0)):
            raise Mistake(f"dh_prev is {'None' if dh_prev is None else 'zero'} ({context}): the gradient "
                          "must flow on to h^(t-1) (and finally to h0), dJ/dh^(t-1) = W^T dJ/da^(t). "
                          "Without it BPTT stops after one step.")
        W, U = params["W"], params["U"]
        x_t, h_prev, a_t, h_t = cache.x_t, cache.h_prev, cache.a_t, cache.h_t
        da = dh_t * (1 - h_t ** 2)                                        # (B, m) the right one
        ref_dx, ref_dh_prev, ref = rnn_step_backward(params, dh_t, cache)

        hint = first_match(dh_prev, [
            ("dh_prev: you forgot the derivative of tanh. dJ/da^(t) = dJ/dh^(t) * (1 - h^(t)**2) "
             "comes before multiplying by W.", lambda: dh_t @ W),
            ("dh_prev: W is transposed. With row vectors, dJ/dh^(t-1) = W^T da for a column is "
             "`da @ W` for a batch of rows (not `da @ W.T`).", lambda: da @ W.T),
            ("dh_prev: the tanh derivative must be computed from h^(t) = tanh(a^(t)) as 1 - h**2 "
             "(you used 1 - a**2).", lambda: (dh_t * (1 - a_t ** 2)) @ W),
            ("dh_prev: you passed dh_t straight through; the recurrence multiplies by W^T and by "
             "tanh'.", lambda: dh_t),
        ], unless=ref_dh_prev)
        if hint:
            raise Mistake(hint)
        compare(dh_prev, ref_dh_prev, name="dh_prev", context=context)

        hint = first_match(dx_t, [
            ("dx_t: you forgot the derivative of tanh.", lambda: dh_t @ U),
            ("dx_t: U is transposed; dJ/dx^(t) for a batch of rows is `da @ U`.", lambda: da @ U.T),
        ], unless=ref_dx)
        if hint:
            raise Mistake(hint)
        compare(dx_t, ref_dx, name="dx_t", context=context)

        _check_grads_dict(grads, ("W", "U", "b"), context)
        gW = grads["W"]
        hint = first_match(gW, [
            ("grads['W']: you forgot the derivative of tanh (use da = dh_t * (1 - h_t**2)).",
             lambda: dh_t.T @ h_prev),
            ("grads['W'] is transposed: dJ/dW = da h^(t-1)^T, i.e. `da.T @ h_prev` (m, m).",
             lambda: h_prev.T @ da),
            ("grads['W'] uses h^(t) where it needs the input of the step, h^(t-1) "
             "(a^(t) = b + W h^(t-1) + U x^(t)).", lambda: da.T @ h_t),
            ("grads['W'] is averaged over the batch; the loss already carries the 1/B, so the "
             "step's gradients are summed over the batch.", lambda: da.T @ h_prev / B if B > 1 else None),
            ("grads['W'] holds one gradient per example: sum them over the batch (the parameters "
             "are shared by every example).", lambda: np.einsum("bi,bj->bij", da, h_prev)),
            ("grads['W'] is the first example's gradient only: sum over the whole batch.",
             lambda: np.outer(da[0], h_prev[0]) if B > 1 else None),
        ], unless=ref["W"])
        if hint:
            raise Mistake(hint)
        compare(gW, ref["W"], name="grads['W']", context=context)
        hint = first_match(grads["U"], [
            ("grads['U'] is transposed: dJ/dU = da x^(t)^T, i.e. `da.T @ x_t` (m, d).", lambda: x_t.T @ da),
            ("grads['U']: you forgot the derivative of tanh.", lambda: dh_t.T @ x_t),
            ("grads['U'] is averaged over the batch: sum it.", lambda: da.T @ x_t / B if B > 1 else None),
            ("grads['U'] holds one gradient per example: sum them over the batch.",
             lambda: np.einsum("bi,bj->bij", da, x_t)),
        ], unless=ref["U"])
        if hint:
            raise Mistake(hint)
        compare(grads["U"], ref["U"], name="grads['U']", context=context)
        hint = first_match(grads["b"], [
            ("grads['b'] is not summed over the batch: `da.sum(axis=0)`, shape (m,).", lambda: da),
            ("grads['b'] is averaged over the batch: sum it.", lambda: da.mean(axis=0) if B > 1 else None),
            ("grads['b']: you forgot the derivative of tanh.", lambda: dh_t.sum(axis=0)),
        ], unless=ref["b"])
        if hint:
            raise Mistake(hint)
        compare(grads["b"], ref["b"], name="grads['b']", context=context)


# ----------------------------------------------------------------------------------------------
# Exercise: BPTT over the whole sequence
# ----------------------------------------------------------------------------------------------
def _sequence_case(T, B, d, m, C, seed):
    rng = np.random.default_rng(seed)
    params = _random_params(d, m, C, seed)
    x = rng.standard_normal((T, B, d))                                   # (T, B, d)
    h0 = 0.5 * rng.standard_normal((B, m))                               # (B, m)
    y = rng.integers(0, C, size=(T, B))                                  # (T, B)
    return params, rnn_forward(params, x, h0), y


def _variant_backward(params, cache, y, *, recurrent=True, dtanh=True, W_T=False, scale=1.0):
    """rnn_backward with one mistake built in: the outputs the usual wrong loops produce."""
    W, V = params["W"], params["V"]
    x, h = cache.x, cache.h
    T, B, _ = x.shape
    do = (cache.y_hat.copy())                                            # (T, B, C)
    do[np.arange(T)[:, None], np.arange(B)[None, :], y] -= 1
    do *= scale / B
    da = np.zeros_like(cache.a)                                          # (T, B, m)
    dh_next = np.zeros_like(h[0])                                        # (B, m)
    for t in range(T - 1, -1, -1):
        dh = do[t] @ V + (dh_next if recurrent else 0)
        da[t] = dh * (1 - h[t + 1] ** 2) if dtanh else dh
        dh_next = da[t] @ (W.T if W_T else W)
    return {"W": np.einsum("tbi,tbj->ij", da, h[:-1]), "U": np.einsum("tbi,tbj->ij", da, x),
            "b": da.sum(axis=(0, 1)), "h0": dh_next,
            "da": da, "dh0": dh_next}


def _plain_sequence_case(T, B, d, m, C, seed, context):
    params, cache, y = _sequence_case(T, B, d, m, C, seed)
    return Case(context, (params, fields(cache), y))


@exercise("bptt-loop", chapter=CHAPTER, points=2, answer_name="bptt_backward",
          title="Backpropagate through the whole sequence")
class BPTTLoop(_CacheChecker):
    """answer(params, cache, y) -> (loss, grads) with grads W, U, V, b, c, h0."""

    cache_index, cache_class = 1, RNNCache
    references = ("rnnlib.rnn.rnn_backward", "rnnlib.rnn._rnn_backward", "rnnlib.rnn.rnn_step_backward",
                  "rnnlib.rnn._rnn_step_backward", "rnnlib.rnn.rnn_loss", "rnnlib.rnn._rnn_loss")

    def cases(self, rng):
        cases = [_plain_sequence_case(T, B, d, m, C, seed, f"T={T}, B={B}, d={d}, m={m}, C={C}")
                 for T, B, d, m, C, seed in ((5, 3, 4, 6, 3, 0), (1, 1, 2, 3, 2, 1), (7, 2, 3, 4, 5, 2))]
        for _ in range(3):
            T, B, d, m = int(rng.integers(2, 9)), int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.integers(2, 6))
            C = int(rng.integers(2, 6))
            cases.append(_plain_sequence_case(T, B, d, m, C, _seed(rng), f"T={T}, B={B}, d={d}, m={m}, C={C} (random)"))
        return cases

    def judge(self, case, observed):
        params, plain_cache, y = case.args
        cache = rebuild(RNNCache, plain_cache)
        T, B, _ = cache.x.shape
        context = case.context
        out = observed.get("returned")
        if not is_sequence(out, 2):
            raise Mistake(f"return a tuple (loss, grads) ({context}); got {describe(out)}")
        loss, grads = out
        ref_loss, ref = rnn_backward(params, cache, y)
        if not isinstance(grads, dict) or set(grads) == {"opaque"}:
            raise Mistake(f"grads should be a dict ({context}), got {describe(grads)}")
        if "h0" not in grads:
            raise Mistake("grads has no 'h0': the gradient reaching the initial state, dJ/dh^(0) = "
                          "W^T dJ/da^(1), is part of BPTT's answer (it is what flows into an earlier "
                          "chunk or a learned initial state).")
        _check_grads_dict(grads, ("W", "U", "V", "b", "c", "h0"), context)
        hint = first_match(loss, [
            ("The loss is averaged over time as well; J = sum_t J_t sums over the steps and "
             "averages over the batch only.", lambda: ref_loss / T if T > 1 else None),
            ("The loss is summed over the batch; rnnlib averages it over the batch (1/B).",
             lambda: ref_loss * B if B > 1 else None),
        ], unless=ref_loss)
        if hint:
            raise Mistake(hint)
        if isinstance(loss, bool) or not isinstance(loss, (int, float, np.ndarray)):
            raise Mistake(f"the loss should be a number ({context}), got {describe(loss)}")
        compare(np.asarray(loss, dtype=float).reshape(()) if np.size(loss) == 1 else loss, np.asarray(ref_loss),
                name="loss", context=context)
        if T > 1:
            da = _variant_backward(params, cache, y)["da"]
            only_last = {"W": da[-1].T @ cache.h[-2], "U": da[-1].T @ cache.x[-1]}
            only_first = {"W": da[0].T @ cache.h[0], "U": da[0].T @ cache.x[0]}
        for key in ("W", "U", "b", "h0"):
            variants = []
            if T > 1 and key in ("W", "U"):
                variants += [
                    (f"grads['{key}'] is the last step's term only (T={T}): the parameters are shared by "
                     "every step, so their gradient is summed over time, dJ/dP = sum_t ... "
                     "(accumulate with +=, don't overwrite).", only_last[key]),
                    (f"grads['{key}'] is the first step's term only (you overwrote it at every step): "
                     "the parameters are shared, so their gradient is summed over time (use +=).",
                     only_first[key]),
                ]
            if T > 1 and key == "b":
                variants.append(("grads['b'] is not summed over time: sum dJ/da^(t) over t and the batch.",
                                 lambda: _variant_backward(params, cache, y)["da"][0].sum(axis=0)))
            if T > 1:
                variants.append((f"grads['{key}'] misses the recurrent term: dJ/dh^(t) = V^T dJ/do^(t) + "
                                 "W^T dJ/da^(t+1); the second part carries later errors back in time.",
                                 _variant_backward(params, cache, y, recurrent=False)[key]))
            variants += [
                (f"grads['{key}']: you forgot the derivative of tanh, dJ/da^(t) = dJ/dh^(t) * (1 - h^(t)**2).",
                 _variant_backward(params, cache, y, dtanh=False)[key]),
                (f"grads['{key}']: W is transposed in the recurrence; for a batch of rows "
                 "dJ/dh^(t-1) = `da @ W`.", _variant_backward(params, cache, y, W_T=True)[key] if T > 1 else None),
                (f"grads['{key}'] is summed over the batch without the 1/B of the loss.",
                 _variant_backward(params, cache, y, scale=B)[key] if B > 1 else None),
            ]
            if key == "h0":
                variants.insert(0, ("grads['h0'] is zero: the gradient must flow back to the initial state, "
                                    "dJ/dh^(0) = W^T dJ/da^(1).", np.zeros_like(ref["h0"])))
            hint = first_match(grads[key], [(f, v) for f, v in variants if v is not None], unless=ref[key])
            if hint:
                raise Mistake(hint)
            compare(grads[key], ref[key], name=f"grads['{key}']", context=context)
        for key in ("V", "c"):
            compare(grads[key], ref[key], name=f"grads['{key}']", context=context)


# ----------------------------------------------------------------------------------------------
# Exercise: one (t, k) contribution by hand
# ----------------------------------------------------------------------------------------------
def _contribution_case(T, B, d, m, C, seed, t, k, context=""):
    params, cache, y = _sequence_case(T, B, d, m, C, seed)
    return Case(context or f"t={t}, k={k}, T={T}, B={B}", (params, fields(cache), y, t, k))


@exercise("tk-contribution", chapter=CHAPTER, points=2, answer_name="contribution",
          title="One (t, k) term of dJ/dU by hand")
class Contribution(_CacheChecker):
    """answer(params, cache, y, t, k) -> the (t, k) term of dJ/dU, (m, d)."""

    cache_index, cache_class = 1, RNNCache
    references = ("rnnlib.bptt.bptt_contributions", "rnnlib.bptt._bptt_contributions")

    def cases(self, rng):
        cases = []
        for T, B, d, m, C, seed, pairs in ((5, 2, 3, 4, 3, 3, ((4, 2), (5, 5), (3, 1))),
                                           (3, 1, 2, 3, 2, 4, ((3, 1), (2, 2)))):
            cases += [_contribution_case(T, B, d, m, C, seed, t, k) for t, k in pairs]
        for _ in range(3):
            T, B, d, m, C = int(rng.integers(2, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 5)), \
                int(rng.integers(2, 6)), int(rng.integers(2, 5))
            t = int(rng.integers(2, T + 1))
            k = int(rng.integers(1, t))
            cases.append(_contribution_case(T, B, d, m, C, _seed(rng), t, k, f"t={t}, k={k}, T={T}, B={B} (random)"))
        return cases

    def judge(self, case, observed):
        params, plain_cache, y, t, k = case.args
        cache = rebuild(RNNCache, plain_cache)
        T, B, _ = cache.x.shape
        context = case.context
        out = observed.get("returned")
        terms = bptt_contributions(params, cache, y, wrt="U")            # (T, T, m, d)
        W, V = params["W"], params["V"]
        h, x = cache.h, cache.x
        do_t = cache.y_hat[t - 1].copy()                              # (B, C)
        do_t[np.arange(B), y[t - 1]] -= 1
        do_t /= B

        def term(x_k=None, last_dtanh=True, jac_T=False, scale=1.0):
            g = do_t @ V * scale                                      # (B, m) dJ_t/dh^(t)
            for j in range(t, k, -1):                                 # through dh^(j)/dh^(j-1)
                g = (g * (1 - h[j] ** 2)) @ (W.T if jac_T else W)
            da = g * (1 - h[k] ** 2) if last_dtanh else g
            return da.T @ (x[k - 1] if x_k is None else x_k)
        hint = first_match(out, [
            ("This is dJ/dU's contribution from step k to *all* later errors (you started from "
             "the full dJ/dh^(t), which already holds the errors after t). Start from J_t alone: "
             "dJ_t/dh^(t) = V^T dJ_t/do^(t).", lambda: terms[t - 1:, k - 1].sum(axis=0) if t < T else None),
            ("This is the sum over all k <= t (dJ_t/dU). The (t, k) term stops at step k's "
             "immediate partial d+h^(k)/dU = diag(tanh'(a^(k))) x^(k)^T.",
             lambda: terms[t - 1, :t].sum(axis=0) if t > 1 else None),
            ("Off by one: x^(k) is x[k-1] in the code (x[0] is the first input).",
             lambda: term(x_k=x[k]) if k < T else None),
            ("Off by one: x^(k) is x[k-1] in the code, not x[k-2].",
             lambda: term(x_k=x[k - 2]) if k >= 2 else None),
            ("You forgot tanh'(a^(k)) at step k itself: d+h^(k)/dU includes diag(1 - h^(k)**2).",
             lambda: term(last_dtanh=False)),
            ("The Jacobians dh^(j)/dh^(j-1) = diag(tanh'(a^(j))) W are transposed: for a batch of "
             "rows, one step back is `(g * (1 - h[j]**2)) @ W`.", lambda: term(jac_T=True) if t > k else None),
            ("Missing the 1/B of the loss (J averages over the batch).", lambda: term(scale=B) if B > 1 else None),
        ], unless=terms[t - 1, k - 1])
        if hint:
            raise Mistake(hint)
        compare(out, terms[t - 1, k - 1], name="your contribution", context=context)


# ----------------------------------------------------------------------------------------------
# Exercise: the memory of BPTT
# ----------------------------------------------------------------------------------------------
@exercise("bptt-memory", chapter=CHAPTER, points=1, answer_name="bptt_memory",
          title="Estimate the memory BPTT needs")
class Memory(Checker):
    """answer(T, B, m, d, C, dtype) -> bytes. A case holds dtype's name; prepare passes the
    NumPy type (np.float32 or np.float64), as the exercise does.

    Accepted: any count of what BPTT needs, x (T, B, d), h (T+1, B, m) with h0, and y_hat (or o,
    which gives it) (T, B, C), plus, optionally, what rnnlib keeps besides: a (T, B, m; for tanh
    redundant, tanh' = 1 - h^2) and the other of o and y_hat."""

    references = ("rnnlib.bptt.bptt_memory_bytes", "rnnlib.bptt._bptt_memory_bytes",
                  "rnnlib.bptt.cache_nbytes", "rnnlib.bptt._cache_nbytes")
    note = ("BPTT needs x, h (with h^(0)) and y_hat (or o); rnnlib's cache also keeps a (redundant for "
            "tanh: tanh'(a) = 1 - h^2) and o (redundant given y_hat): either count is right.")

    def cases(self, rng):
        cases = [Case(f"T={T}, B={B}, m={m}, d={d}, C={C}, dtype={name}", (T, B, m, d, C, name))
                 for T, B, m, d, C, name in ((10, 3, 8, 4, 5, "float32"), (200, 16, 32, 10, 7, "float64"),
                                             (1, 2, 3, 4, 5, "float64"), (25, 1, 100, 65, 65, "float64"))]
        for _ in range(3):
            T, B, m, d, C = (int(v) for v in rng.integers(2, 60, size=5))
            name = str(rng.choice(["float32", "float64"]))
            cases.append(Case(f"T={T}, B={B}, m={m}, d={d}, C={C}, dtype={name}", (T, B, m, d, C, name)))
        return cases

    def prepare(self, case):
        T, B, m, d, C, name = case.args
        return (T, B, m, d, C, np.dtype(name).type), {}

    def judge(self, case, observed):
        T, B, m, d, C, name = case.args
        dtype = np.dtype(name)
        context = case.context
        out = observed.get("returned")
        if isinstance(out, bool) or not isinstance(out, (int, float)):
            raise Mistake(f"return a number of bytes ({context}); got {describe(out)}")
        params = init_rnn(d, m, C, dtype=dtype)
        kept = cache_nbytes(rnn_forward(params, np.zeros((T, B, d), dtype=dtype)))
        size = dtype.itemsize
        x, h, a, out_C = T * B * d * size, (T + 1) * B * m * size, T * B * m * size, T * B * C * size
        minimal = x + h + out_C
        accepted = (minimal, minimal + a, minimal + out_C, minimal + a + out_C)
        if kept != minimal + a + out_C:  # pragma: no cover - library self-check
            raise AssertionError("cache_nbytes disagrees with x, h, a, o, y_hat")
        if any(out == total for total in accepted):
            return
        variants = []
        for base in accepted:
            variants += [
                ("That is a number of floats, not bytes: multiply by the dtype's itemsize "
                 "(np.dtype(dtype).itemsize).", base / size),
                ("The itemsize is fixed at 8: float32 takes 4 bytes per number.",
                 base / size * 8 if size != 8 else None),
                ("You forgot h^(0): h has T+1 rows (h[0] = h0, the input of the first step, which "
                 "dJ/dW = sum_t da^(t) h^(t-1)^T needs at t = 1).", base - B * m * size),
                ("The hidden states h (T+1, B, m) are missing: dJ/dW = sum_t da^(t) h^(t-1)^T needs them "
                 "(and tanh'(a^(t)) = 1 - h^(t)^2).", base - h),
                ("The inputs x (T, B, d) are in the cache too: dJ/dU = sum_t da^(t) x^(t)^T needs them.",
                 base - x),
                ("The batch size B is missing: every cached array has a batch dimension.",
                 base / B if B > 1 else None),
            ]
        variants += [
            ("Neither y_hat nor o is counted: dJ/do^(t) = y_hat^(t) - onehot(y^(t)) needs y_hat (T, B, C) "
             "(or o, which gives it by the softmax). Needed: x, h (with h^(0)), y_hat; a and o are "
             "redundant (tanh' = 1 - h^2; y_hat = softmax(o)), though rnnlib keeps them.", x + h),
            ("Neither y_hat nor o is counted: dJ/do^(t) = y_hat^(t) - onehot(y^(t)) needs y_hat (T, B, C). "
             "a is redundant for tanh (tanh' = 1 - h^2), y_hat is not.", x + h + a),
        ]
        hint = first_match(out, [(f, v) for f, v in variants if v is not None], rtol=0, atol=0.5)
        if hint:
            raise Mistake(hint)
        raise Mistake(f"your estimate is {out} bytes ({context}). BPTT needs x, h (with h^(0)) and y_hat: "
                      f"{minimal} bytes; the cache rnn_forward keeps (also a and o) holds {kept} bytes.")


# ----------------------------------------------------------------------------------------------
# Exercise: perplexity and bits per character
# ----------------------------------------------------------------------------------------------
@exercise("bptt-perplexity", chapter=CHAPTER, points=1, answer_name="perplexity_and_bits",
          title="Perplexity and bits per character")
class Perplexity(Checker):
    """answer(J, T) -> (perplexity, bits per character), any sequence of two numbers: J is rnnlib's
    loss of one batch (the sum over T steps of the batch-mean cross entropy, in nats), so the mean
    loss per character is L = J / T, the perplexity exp(L) and the bits per character L / ln 2."""

    references = ("rnnlib.metrics.perplexity", "rnnlib.metrics._perplexity",
                  "rnnlib.metrics.bits_per_character", "rnnlib.metrics._bits_per_character",
                  "rnnlib.metrics.per_step_loss", "rnnlib.metrics._per_step_loss")

    def cases(self, rng):
        cases = [Case(f"J={J:.4g}, T={T}", (float(J), T))
                 for J, T in ((25 * np.log(86), 25), (57.4, 25), (0.0, 10), (3.0, 1), (12.5, 50))]
        for _ in range(3):
            T = int(rng.integers(1, 101))
            J = float(T * rng.uniform(0.05, 6.0))
            cases.append(Case(f"J={J:.4g}, T={T} (random)", (J, T)))
        return cases

    def judge(self, case, observed):
        J, T = case.args
        context = case.context
        got = observed.get("returned")
        if not is_sequence(got, 2) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                              for v in got):
            raise Mistake(f"return two numbers, (perplexity, bits per character), as a tuple or a list "
                          f"({context}); got {describe(got)}")
        ppl, bits = (float(v) for v in got)
        L = J / T                                                            # nats per character
        expected = (float(np.exp(L)), L / np.log(2))

        def near(value, target):
            return bool(np.isclose(value, target, rtol=1e-7, atol=1e-9))

        if near(ppl, expected[0]) and near(bits, expected[1]):
            return
        if near(ppl, expected[1]) and near(bits, expected[0]) and not near(*expected):
            raise Mistake(f"({context}) the two numbers are swapped: return (perplexity, bits).")
        if T > 1 and (near(bits, J / np.log(2)) or (np.isfinite(ppl) and near(ppl, float(np.exp(min(J, 700)))))):
            raise Mistake(f"({context}) J sums the loss over the T = {T} steps: divide by T first, "
                          f"L = J / T is the mean loss per character.")
        if near(bits, L) and not near(L, expected[1]):
            raise Mistake(f"({context}) L = J / T is in nats (natural log); bits per character are "
                          f"L / ln 2.")
        if near(bits, L / np.log(10)) and L > 0:
            raise Mistake(f"({context}) bits are base-2: divide L by ln 2, not by ln 10.")
        if near(ppl, 2 ** L) and L > 0:
            raise Mistake(f"({context}) the perplexity is e^L for L in nats (equal to 2^bits); yours is "
                          f"2^L, which mixes the bases.")
        if not near(ppl, expected[0]):
            raise Mistake(f"({context}) your perplexity is {ppl:.6g}, expected {expected[0]:.6g} "
                          f"(exp of the mean loss per character, J / T).")
        raise Mistake(f"({context}) your bits per character are {bits:.6g}, expected {expected[1]:.6g} "
                      f"(the mean loss per character J / T, divided by ln 2).")


register("truncation-bias", chapter=CHAPTER, kind="written", points=1,
         title="Why truncation biases the gradient")
