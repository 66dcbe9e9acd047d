"""Checkers for the exercises of the chapter "Gated cells: LSTM and GRU".

* ``lstm-step-forward``: implement one LSTM step, returning (h_t, s_t):
  i, f, q = sigmoid(b_k + W_k h^(t-1) + U_k x^(t)) for k = i, f, o; g = tanh(... k = g ...);
  s^(t) = f * s^(t-1) + i * g; h^(t) = q * tanh(s^(t)).
  The checker recognises swapped gates (the parameters of one gate used for another), a missing
  forget gate, tanh and sigmoid mixed up, a missing output gate or tanh on the cell state,
  transposed weights, and (s_t, h_t) returned in the wrong order.
* ``gated-n-params``: count the parameters of an LSTM and a GRU, (n_lstm, n_gru) for (d, m, C).
* ``lstm-forget-bias`` (written): why initialise the forget gate's bias to 1.
* ``lstm-cec`` (written): the constant error carousel.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..gru import init_gru
from ..lstm import init_lstm, lstm_step_forward
from . import (Case, Checker, Mistake, changed_argument, compare, describe, exercise, is_sequence, register,
               signature_error, snapshot)
from ._common import float_dtype, seed as _seed

CHAPTER = "gated_cells"
GATES = ("i", "f", "o", "g")
GATE_NAMES = {"i": "input gate i", "f": "forget gate f", "o": "output gate q", "g": "candidate g"}


# ----------------------------------------------------------------------------------------------
# LSTM step
# ----------------------------------------------------------------------------------------------
def _random_params(d, m, seed, dtype):
    """init_lstm's parameters with every bias non-zero and distinct, so that each gate differs."""
    params = init_lstm(d, m, 3, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 100)
    for k in GATES:
        params[f"W_{k}"] *= 1.5                                              # (m, m) beyond linear range
        params[f"b_{k}"] += rng.standard_normal(m).astype(dtype)             # (m,)
    return params


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


_ACT = {"sigmoid": _sigmoid, "tanh": np.tanh, "identity": lambda a: a}

_MISTAKES = {
    "no_forget": "the forget gate is missing: the cell state is s^(t) = f^(t) * s^(t-1) + i^(t) * g^(t); "
                 "you added s^(t-1) unchanged (f = 1), so the cell can never forget.",
    "no_memory": "the old cell state is missing: s^(t) = f^(t) * s^(t-1) + i^(t) * g^(t); yours keeps only "
                 "i * g, so nothing is carried from one step to the next.",
    "g_sigmoid": "the candidate g uses the sigmoid: g^(t) = tanh(b_g + W_g h^(t-1) + U_g x^(t)) (values in "
                 "(-1, 1), so the cell can be pushed down as well as up); only the three gates use sigmoid.",
    "gates_tanh": "the gates i, f and q use tanh: a gate is a sigmoid, with values in (0, 1), a fraction "
                  "of what passes through.",
    "h_no_tanh": "h^(t) = q^(t) * tanh(s^(t)): you left out the tanh of the cell state.",
    "h_sigmoid": "h^(t) = q^(t) * tanh(s^(t)): you squashed the cell state with sigmoid instead of tanh.",
    "h_no_q": "h^(t) = q^(t) * tanh(s^(t)): the output gate q is missing.",
    "transposed": "you multiplied h_prev by the transposed weights: W_k h^(t-1) for a batch of rows "
                  "is `h_prev @ W_k.T`, not `h_prev @ W_k` (W_k is not symmetric).",
}


def _lstm_variant(params, x_t, h_prev, s_prev, perm=GATES, flags=()):
    """(h_t, s_t) of an answer that uses gate ``perm[j]``'s parameters for role GATES[j]."""
    def pre(k):
        W, U, b = params[f"W_{k}"], params[f"U_{k}"], params[f"b_{k}"]
        if "transposed" in flags:
            return b + h_prev @ W + x_t @ U.T
        return b + h_prev @ W.T + x_t @ U.T

    gate = _ACT["tanh" if "gates_tanh" in flags else "sigmoid"]
    i, f, q = (gate(pre(k)) for k in perm[:3])
    g = _ACT["sigmoid" if "g_sigmoid" in flags else "tanh"](pre(perm[3]))
    if "no_forget" in flags:
        s = s_prev + i * g
    elif "no_memory" in flags:
        s = i * g
    else:
        s = f * s_prev + i * g
    squash = _ACT["identity" if "h_no_tanh" in flags else "sigmoid" if "h_sigmoid" in flags else "tanh"]
    h = squash(s) if "h_no_q" in flags else q * squash(s)
    return h, s


def _perm_feedback(perm):
    wrong = [(GATES[j], k) for j, k in enumerate(perm) if GATES[j] != k]
    parts = [f"for the {GATE_NAMES[role]} you used W_{k}, U_{k}, b_{k} (the parameters of the "
             f"{GATE_NAMES[k]})" for role, k in wrong]
    return "the gates are swapped: " + "; ".join(parts) + ". Each gate has its own W, U and b."


def _variants(params, x_t, h_prev, s_prev):
    """(feedback, (h, s)) for every known mistake and pairs of them, fewest mistakes first."""
    perms = [p for p in itertools.permutations(GATES) if p != GATES]
    singles = [(GATES, (flag,)) for flag in _MISTAKES] + [(p, ()) for p in perms]
    pairs = [(GATES, pair) for pair in itertools.combinations(_MISTAKES, 2)
             if not ({"no_forget", "no_memory"} <= set(pair) or {"h_no_tanh", "h_sigmoid"} <= set(pair))]
    pairs += [(p, (flag,)) for p in perms for flag in _MISTAKES]
    for perm, flags in singles + pairs:
        if "g_sigmoid" in flags and "gates_tanh" in flags:
            feedback = ["tanh and sigmoid are mixed up: the three gates i, f, q use the sigmoid (values in "
                        "(0, 1)), the candidate g uses tanh (values in (-1, 1))."]
            flags_left = [f for f in flags if f not in ("g_sigmoid", "gates_tanh")]
        else:
            feedback, flags_left = [], list(flags)
        feedback += [_MISTAKES[flag] for flag in flags_left]
        if perm != GATES:
            feedback.append(_perm_feedback(perm))
        text = "\n".join(f"- {line}" for line in feedback)
        yield text, (lambda p=perm, f=flags: _lstm_variant(params, x_t, h_prev, s_prev, p, f))


def _matches(h_s, output):
    h, s = h_s
    return all(np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-4, atol=1e-6)
               for a, b in zip((h, s), output))


# (context, B, d, m, dtype): the first case has d == m, so transposed U is detectable
STEP_CASES = (
    ("B=3, d=4, m=4", 3, 4, 4, np.float64),
    ("B=2, d=3, m=5", 2, 3, 5, np.float64),
    ("B=1, d=6, m=3", 1, 6, 3, np.float64),
    ("B=4, d=5, m=7, float32", 4, 5, 7, np.float32),
)


def _step_case(context, B, d, m, dtype, seed, state_seed):
    params = _random_params(d, m, seed=seed, dtype=dtype)
    rng = np.random.default_rng(state_seed)
    x_t = rng.standard_normal((B, d)).astype(dtype)                      # (B, d)
    h_prev = rng.uniform(-1, 1, (B, m)).astype(dtype)                    # (B, m)
    s_prev = rng.uniform(-2, 2, (B, m)).astype(dtype)                    # (B, m)
    return Case(context, (params, x_t, h_prev, s_prev))


@exercise("lstm-step-forward", chapter=CHAPTER, points=3, answer_name="my_lstm_step",
          title="Implement one step of the LSTM")
class LSTMStepForward(Checker):
    """answer(params, x_t, h_prev, s_prev) -> (h_t, s_t), each (B, m) (or (h_t, s_t, cache))."""

    references = ("rnnlib.lstm.lstm_step_forward", "rnnlib.lstm._lstm_step_forward", "rnnlib.lstm._lstm_cell")

    def cases(self, rng):
        cases = [_step_case(context, B, d, m, dtype, B * 10 + d, B + 7 * m) for context, B, d, m, dtype in STEP_CASES]
        for _ in range(3):
            B, d = int(rng.integers(1, 5)), int(rng.integers(1, 7))
            m = int(rng.choice([k for k in range(1, 7) if k != d]))
            dtype = float_dtype(rng)
            name = "" if dtype == np.float64 else ", float32"
            cases.append(_step_case(f"B={B}, d={d}, m={m}{name} (random)", B, d, m, dtype, _seed(rng), _seed(rng)))
        return cases

    def observe(self, returned, case, args):
        observed = {"changed": changed_argument(case.args, args, ("params", "x_t", "h_prev", "s_prev"))}
        if is_sequence(returned) and len(returned) >= 2:
            observed.update(pair=True, h_t=snapshot(returned[0]), s_t=snapshot(returned[1]))
        else:
            observed.update(pair=False, returned=snapshot(returned))
        return observed

    def judge(self, case, observed):
        params, x_t, h_prev, s_prev = case.args
        context = case.context
        B, m = h_prev.shape
        changed = observed.get("changed")
        if changed:
            what = changed if changed.startswith("params") else f"argument {changed}"
            raise Mistake(f"your function changed its {what} in place ({context}); compute new arrays instead.")
        if not observed.get("pair"):
            raise Mistake(f"your function should return the pair (h_t, s_t) ({context}), got "
                          f"{describe(observed.get('returned'))}")
        h_t, s_t = observed.get("h_t"), observed.get("s_t")
        h_ref, s_ref, _ = lstm_step_forward(params, x_t, h_prev, s_prev)
        both = all(isinstance(a, np.ndarray) and a.shape == (B, m) and a.dtype.kind in "biuf" for a in (h_t, s_t))
        if both and not (np.allclose(h_t, h_ref, rtol=1e-4, atol=1e-5) and np.allclose(s_t, s_ref, rtol=1e-4, atol=1e-5)):
            if np.allclose(h_t, s_ref, rtol=1e-4, atol=1e-5) and np.allclose(s_t, h_ref, rtol=1e-4, atol=1e-5):
                raise Mistake(f"you returned (s_t, h_t); return (h_t, s_t), the hidden state first ({context}).")
            p64 = {k: v.astype(np.float64) for k, v in params.items()}
            args64 = (x_t.astype(np.float64), h_prev.astype(np.float64), s_prev.astype(np.float64))
            h64, s64 = h_t.astype(np.float64), s_t.astype(np.float64)
            for feedback, output in _variants(p64, *args64):
                try:
                    candidate = output()
                except Exception:
                    continue
                if _matches((h64, s64), candidate):
                    raise Mistake(f"Your LSTM step is wrong ({context}):\n{feedback}")
        compare(s_t, s_ref, name="your s_t (the cell state)", context=context, dtype=x_t.dtype)
        compare(h_t, h_ref, name="your h_t", context=context, dtype=x_t.dtype)


# ----------------------------------------------------------------------------------------------
# Counting parameters
# ----------------------------------------------------------------------------------------------
def gated_params_reference(d, m, C):
    """(n_lstm, n_gru): 4 or 3 blocks of W (m, m), U (m, d), b (m,), plus V (C, m) and c (C,)."""
    block = m * m + m * d + m
    return 4 * block + C * m + C, 3 * block + C * m + C


def _count_mistakes(d, m, C):
    block = m * m + m * d + m
    out = C * m + C
    return (
        ("you forgot the biases b_k (m numbers per gate block).", lambda n: n * (m * m + m * d) + out),
        ("you forgot the output layer V (C, m) and c (C,).", lambda n: n * block),
        ("you forgot the output bias c.", lambda n: n * block + C * m),
        ("you counted W_k as (m, d): W_k multiplies h^(t-1), so it is (m, m).",
         lambda n: n * (2 * m * d + m) + out),
        ("you counted U_k as (m, m): U_k multiplies x^(t), so it is (m, d).",
         lambda n: n * (2 * m * m + m) + out),
        ("you counted the initial states as parameters: h^(0) and s^(0) are inputs, not learned.",
         lambda n: n * block + out + (2 * m if n == 4 else m)),
    )


def _count_one(name, count, expected, blocks, d, m, C):
    if count == expected:
        return
    block = m * m + m * d + m
    out = C * m + C
    base = f"{name} = {count}, expected {expected} (d={d}, m={m}, C={C}): "
    for feedback, variant in _count_mistakes(d, m, C):
        if count == variant(blocks):
            raise Mistake(base + feedback)
    if count == (7 - blocks) * block + out:
        raise Mistake(base + f"the {'LSTM has 4' if blocks == 4 else 'GRU has 3'} blocks of (W, U, b): "
                      + ("input, forget and output gates and the candidate." if blocks == 4
                         else "update and reset gates and the candidate."))
    if count == (blocks - 1) * block + out:
        raise Mistake(base + "you forgot the candidate's block (W_g, U_g, b_g for the LSTM, W_h, U_h, b_h "
                      "for the GRU): it has parameters like a gate.")
    raise Mistake(base + "list the arrays with their shapes (W_k (m, m), U_k (m, d), b_k (m,) for each "
                  "block, V (C, m), c (C,)) and add up their sizes.")


N_PARAMS_CASES = ((3, 5, 2), (1, 1, 1), (10, 2, 4), (65, 128, 65), (7, 7, 7))


@exercise("gated-n-params", chapter=CHAPTER, points=1, answer_name="gated_params",
          title="Count the parameters of an LSTM and a GRU")
class GatedParams(Checker):
    """answer(d, m, C) -> (n_lstm, n_gru) (any sequence of two)."""

    references = ()

    def cases(self, rng):
        cases = [Case(f"d={d}, m={m}, C={C}", (d, m, C)) for d, m, C in N_PARAMS_CASES]
        for _ in range(4):
            d, m, C = (int(v) for v in rng.integers(1, 150, size=3))
            cases.append(Case(f"d={d}, m={m}, C={C}", (d, m, C)))
        return cases

    def judge_error(self, case, record):
        message = signature_error(record)
        if message is not None:
            raise Mistake(f"your function must take three arguments (d, m, C) ({message}).")

    def judge(self, case, observed):
        d, m, C = case.args
        context = case.context
        result = observed.get("returned")
        if not is_sequence(result, 2):
            raise Mistake(f"gated_params({d}, {m}, {C}) should return a pair (n_lstm, n_gru), got {describe(result)}")
        counts = []
        for name, value in zip(("n_lstm", "n_gru"), result):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
                raise Mistake(f"{name} should be a whole number ({context}), got {describe(value)}")
            counts.append(int(value))
        n_lstm, n_gru = gated_params_reference(d, m, C)
        if (counts[0], counts[1]) == (n_gru, n_lstm) and n_gru != n_lstm:
            raise Mistake(f"you returned (n_gru, n_lstm) for {context}: return the LSTM's count first.")
        if d != m and tuple(counts) == gated_params_reference(m, d, C):
            raise Mistake(f"your counts are those for d and m exchanged ({context}): the arguments are "
                          "(d, m, C) as in init_lstm(d, m, C), input size first.")
        _count_one("n_lstm", counts[0], n_lstm, 4, d, m, C)
        _count_one("n_gru", counts[1], n_gru, 3, d, m, C)


# ----------------------------------------------------------------------------------------------
# Written exercises (graded by hand; registered for the exercise index and the grader)
# ----------------------------------------------------------------------------------------------
register("lstm-forget-bias", chapter=CHAPTER, points=1, kind="written",
         title="Why initialise the forget gate's bias to 1?")
register("lstm-cec", chapter=CHAPTER, points=2, kind="written",
         title="The constant error carousel")
