"""Checkers for the exercises of the chapter "The RNN's equations and parameters".

* ``rnn-step-forward``: implement one step, h^(t) = tanh(b + W h^(t-1) + U x^(t)), batched as
  ``h_t = tanh(b + h_prev @ W.T + x_t @ U.T)``.
* ``rnn-n-params``: count the parameters, n_params(m, d, C) = m*m + m*d + C*m + m + C.
* ``rnn-hidden-states``: unroll the recurrence over a sequence, h (T+1, B, m) with h[0] = h0.
* ``rnn-shared-theta`` (written): why θ is the same at every time step.
* ``rnn-perplexity``: the perplexity and bits per character of per-step losses (T, B) with a
  mask (T, B): L = the mean over the real steps, exp(L) and L / ln 2, returned as a tuple or list.

Each checker runs the answer on fixed edge cases (B=1, d != m, T=1, float32) and fresh random
ones against the reference implementation in rnnlib, and recognises the usual mistakes by comparing
the answer's output with what each mistake would produce. The dtype rule of
:mod:`rnnlib.exercises` holds: a float64 answer for float32 inputs is compared at float32's
tolerance and passes.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..activations import sigmoid
from ..rnn import init_rnn, rnn_forward, rnn_step_forward
from . import (Case, Checker, Mistake, changed_argument, compare, describe, exercise, first_match,
               is_sequence, register, signature_error, snapshot, tolerance)

CHAPTER = "rnn_equations"


# ----------------------------------------------------------------------------------------------
# Test cases shared by the checkers
# ----------------------------------------------------------------------------------------------
def _random_params(d, m, C, seed, dtype):
    """init_rnn's parameters with a non-zero bias b (so a missing bias is detectable).

    W from init_rnn is not symmetric, so h_prev @ W and h_prev @ W.T differ.
    """
    params = init_rnn(d, m, C, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 100)
    params["W"] *= 1.5                                               # (m, m) beyond tanh's linear range
    params["b"][:] = rng.standard_normal(m).astype(dtype)            # (m,)
    params["c"][:] = rng.standard_normal(C).astype(dtype)            # (C,)
    return params


# (context, B, d, m, dtype): the first case has d == m, so swapped or transposed U is detectable
STEP_CASES = (
    ("B=3, d=4, m=4", 3, 4, 4, np.float64),
    ("B=2, d=3, m=5", 2, 3, 5, np.float64),
    ("B=1, d=6, m=3", 1, 6, 3, np.float64),
    ("B=4, d=5, m=7, float32", 4, 5, 7, np.float32),
)

_ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0),
    "sigmoid": sigmoid,
    "identity": lambda a: a,
}

_STEP_MISTAKES = {
    "W_transposed": "you multiplied by W transposed: with one example per row, W h^(t-1) for every "
                    "row is `h_prev @ W.T`, not `h_prev @ W` (W is not symmetric).",
    "U_transposed": "you multiplied by U transposed: U x^(t) for every row is `x_t @ U.T`.",
    "swapped": "you swapped U and W: W (m, m) multiplies the previous hidden state h^(t-1) and "
               "U (m, d) multiplies the input x^(t).",
    "no_bias": "the bias b is missing: a^(t) = b + W h^(t-1) + U x^(t).",
    "relu": "you used ReLU, but this exercise asks for tanh: h^(t) = tanh(a^(t)).",
    "sigmoid": "you used the sigmoid, but this exercise asks for tanh: h^(t) = tanh(a^(t)).",
    "identity": "you returned the pre-activation a^(t): apply the activation, h^(t) = tanh(a^(t)).",
    "no_h": "your h_t does not depend on h_prev: the term W h^(t-1) is missing, and without it "
            "there is no recurrence.",
    "no_x": "your h_t does not depend on x_t: the input term U x^(t) is missing.",
}


def _step_variant(params, x_t, h_prev, flags, activation):
    """What an answer with the given mistakes returns (may raise for impossible shapes)."""
    W, U, b = params["W"], params["U"], params["b"]
    h_matrix, x_matrix = (U, W) if "swapped" in flags else (W, U)
    h_term = h_prev @ (h_matrix if "W_transposed" in flags else h_matrix.T)       # (B, m)
    x_term = x_t @ (x_matrix if "U_transposed" in flags else x_matrix.T)          # (B, m)
    a_t = (0 if "no_h" in flags else h_term) + (0 if "no_x" in flags else x_term)
    a_t = a_t if "no_bias" in flags else a_t + b                                  # (B, m)
    return _ACTIVATIONS[activation](a_t)


def _step_variants(params, x_t, h_prev):
    """(feedback, output) for every combination of up to three typical mistakes, fewest first."""
    structural = ("W_transposed", "U_transposed", "swapped", "no_bias", "no_h", "no_x")
    combos = []
    for activation in _ACTIVATIONS:
        for count in range(0, 4):
            for flags in itertools.combinations(structural, count):
                if activation == "tanh" and not flags:
                    continue
                if "no_h" in flags and "no_x" in flags:
                    continue
                mistakes = list(flags) + ([] if activation == "tanh" else [activation])
                combos.append((len(mistakes), flags, activation, mistakes))
    combos.sort(key=lambda item: item[0])
    for _, flags, activation, mistakes in combos:
        feedback = "\n".join(f"- {_STEP_MISTAKES[name]}" for name in mistakes)
        yield feedback, (lambda f=flags, act=activation: _step_variant(params, x_t, h_prev, f, act))


def _first_array(result):
    """Accept h_t or an (h_t, cache) tuple, as rnnlib's rnn_step_forward returns."""
    if isinstance(result, (tuple, list)) and len(result) >= 1 and not np.isscalar(result[0]):
        return result[0]
    return result


def _random_dims(rng, T=False):
    """Random sizes for a fresh case: B in 1..5, d and m in 1..7 with d != m."""
    B, d = int(rng.integers(1, 6)), int(rng.integers(1, 8))
    m = int(rng.choice([k for k in range(1, 8) if k != d]))
    dtype = np.float32 if rng.random() < 0.3 else np.float64
    return (int(rng.integers(1, 8)), B, d, m, dtype) if T else (B, d, m, dtype)


def _name(dtype):
    return "" if np.dtype(dtype) == np.float64 else f", {np.dtype(dtype).name}"


def _step_case(context, B, d, m, dtype, seed, state_seed):
    params = _random_params(d, m, 3, seed=seed, dtype=dtype)
    rng = np.random.default_rng(state_seed)
    x_t = rng.standard_normal((B, d)).astype(dtype)                 # (B, d)
    h_prev = rng.uniform(-1, 1, (B, m)).astype(dtype)               # (B, m)
    return Case(context, (params, x_t, h_prev))


@exercise("rnn-step-forward", chapter=CHAPTER, points=2, answer_name="rnn_step_forward",
          title="Implement one step of the RNN")
class StepForward(Checker):
    """answer(params, x_t, h_prev) -> h_t (B, m), or (h_t, cache)."""

    references = ("rnnlib.rnn.rnn_step_forward", "rnnlib.rnn._rnn_step_forward")

    def cases(self, rng):
        cases = [_step_case(context, B, d, m, dtype, B * 10 + d, B + 7 * m)
                 for context, B, d, m, dtype in STEP_CASES]
        for _ in range(3):
            B, d, m, dtype = _random_dims(rng)
            cases.append(_step_case(f"B={B}, d={d}, m={m}{_name(dtype)} (random)", B, d, m, dtype,
                                    int(rng.integers(2 ** 31)), int(rng.integers(2 ** 31))))
        return cases

    def observe(self, returned, case, args):
        return {"h_t": snapshot(_first_array(returned)),
                "changed": changed_argument(case.args, args, ("params", "x_t", "h_prev"))}

    def judge(self, case, observed):
        params, x_t, h_prev = case.args
        context = case.context
        h_t, changed = observed.get("h_t"), observed.get("changed")
        if changed:
            raise Mistake(f"your function changed its argument {changed} in place ({context}); "
                          "compute a new array instead (e.g. `a_t = b + ...`, not `b += ...`).")
        expected, _ = rnn_step_forward(params, x_t, h_prev)             # (B, m)
        if isinstance(h_t, np.ndarray) and h_t.shape == expected.shape and h_t.dtype.kind in "biuf" \
                and not np.allclose(h_t.astype(np.float64), expected.astype(np.float64), rtol=1e-4, atol=1e-5):
            known = first_match(h_t.astype(np.float64), _step_variants(
                {k: v.astype(np.float64) for k, v in params.items()},
                x_t.astype(np.float64), h_prev.astype(np.float64)), rtol=1e-4, atol=1e-5)
            if known:
                raise Mistake(f"Your h_t is wrong ({context}):\n{known}")
        compare(h_t, expected, name="your h_t", context=context, dtype=x_t.dtype)


# ----------------------------------------------------------------------------------------------
# Counting the parameters
# ----------------------------------------------------------------------------------------------
def n_params_reference(m, d, C):
    """W (m, m) + U (m, d) + V (C, m) + b (m,) + c (C,)."""
    return m * m + m * d + C * m + m + C


_COUNT_MISTAKES = (
    ("you forgot both biases: b has m entries and c has C.",
     lambda m, d, C: m * m + m * d + C * m),
    ("you forgot the bias b (m entries).", lambda m, d, C: m * m + m * d + C * m + C),
    ("you forgot the output bias c (C entries).", lambda m, d, C: m * m + m * d + C * m + m),
    ("you forgot the output layer: V (C, m) and c (C,) are parameters too.",
     lambda m, d, C: m * m + m * d + m),
    ("you forgot V, the (C, m) hidden-to-output matrix.", lambda m, d, C: m * m + m * d + m + C),
    ("you forgot W, the (m, m) hidden-to-hidden matrix.", lambda m, d, C: m * d + C * m + m + C),
    ("you counted W as m*d entries: W maps h^(t-1) (m entries) to a^(t) (m entries), so it is "
     "(m, m).", lambda m, d, C: 2 * m * d + C * m + m + C),
    ("you counted U as d*d entries: U maps x^(t) (d entries) to a^(t) (m entries), so it is "
     "(m, d).", lambda m, d, C: m * m + d * d + C * m + m + C),
    ("you counted V as m*m entries: V maps h^(t) (m entries) to o^(t) (C entries), so it is "
     "(C, m).", lambda m, d, C: 2 * m * m + m * d + m + C),
    ("you counted the initial state h^(0) (m entries) as a parameter; in this chapter it is "
     "given, not learned.", lambda m, d, C: n_params_reference(m, d, C) + m),
    ("you added the two dimensions of each matrix instead of multiplying them: a (rows, columns) "
     "matrix has rows*columns entries.", lambda m, d, C: (m + m) + (m + d) + (C + m) + m + C),
)

N_PARAMS_CASES = ((6, 3, 10), (1, 1, 1), (2, 10, 3), (128, 65, 65), (7, 7, 7), (100, 1, 2))


@exercise("rnn-n-params", chapter=CHAPTER, points=1, answer_name="n_params",
          title="Count the parameters")
class NParams(Checker):
    """answer(m, d, C) -> the number of trainable numbers in W, U, V, b, c."""

    references = ()

    def cases(self, rng):
        cases = [Case(f"m={m}, d={d}, C={C}", (m, d, C)) for m, d, C in N_PARAMS_CASES]
        for _ in range(4):
            m, d, C = (int(v) for v in rng.integers(1, 200, size=3))
            cases.append(Case(f"m={m}, d={d}, C={C}", (m, d, C)))
        return cases

    def judge_error(self, case, record):
        message = signature_error(record)
        if message is None:
            return
        missing = [n for n in ("T", "t", "tau", "steps", "length") if f"'{n}'" in message]
        if missing or "takes 3 positional" in message and "4 were given" in message:
            raise Mistake(f"your function takes more arguments than (m, d, C) ({message}): the count "
                          "does not depend on the number of time steps T, because the same parameters "
                          "θ are used at every step.")
        raise Mistake(f"your function must take three arguments (m, d, C) ({message}).")

    def judge(self, case, observed):
        m, d, C = case.args
        count = observed.get("returned")
        if isinstance(count, bool) or not isinstance(count, (int, float)):
            raise Mistake(f"n_params({m}, {d}, {C}) should return a number, got {describe(count)}")
        if not float(count).is_integer():
            raise Mistake(f"n_params({m}, {d}, {C}) returned {count}, which is not a whole number: "
                          "a parameter count is an integer.")
        expected = n_params_reference(m, d, C)
        count = int(count)
        if count == expected:
            return
        for feedback, variant in _COUNT_MISTAKES:
            if count == variant(m, d, C):
                raise Mistake(f"n_params({m}, {d}, {C}) returned {count}, expected {expected}: {feedback}")
        if count % expected == 0 and count // expected > 1:
            raise Mistake(f"n_params({m}, {d}, {C}) returned {count}, {count // expected} times the "
                          "right count: did you count the parameters once per time step? The same "
                          "θ is used at every t, so each parameter counts once.")
        raise Mistake(f"n_params({m}, {d}, {C}) returned {count}, expected {expected}. List the "
                      "parameters with their shapes (W, U, V, b, c) and multiply out each shape.")


# ----------------------------------------------------------------------------------------------
# Unrolling over a sequence
# ----------------------------------------------------------------------------------------------
# (context, T, B, d, m, dtype)
SEQUENCE_CASES = (
    ("T=5, B=3, d=4, m=6", 5, 3, 4, 6, np.float64),
    ("T=1, B=2, d=3, m=2", 1, 2, 3, 2, np.float64),
    ("T=7, B=1, d=2, m=5", 7, 1, 2, 5, np.float64),
    ("T=4, B=3, d=5, m=3, float32", 4, 3, 5, 3, np.float32),
)


def _unrolled(params, x, start, from_h0_every_step=False):
    """h (T+1, B, m) of a tanh RNN, by the reference step function."""
    h = [start]
    for t in range(1, x.shape[0] + 1):
        previous = start if from_h0_every_step else h[t - 1]
        h.append(rnn_step_forward(params, x[t - 1], previous)[0])
    return np.stack(h)


def _sequence_case(context, T, B, d, m, dtype, seed, data_seed):
    params = _random_params(d, m, 3, seed=seed, dtype=dtype)
    rng = np.random.default_rng(data_seed)
    x = rng.standard_normal((T, B, d)).astype(dtype)                 # (T, B, d)
    h0 = rng.uniform(-1, 1, (B, m)).astype(dtype)                    # (B, m)
    return Case(context, (params, x, h0))


@exercise("rnn-hidden-states", chapter=CHAPTER, points=2, answer_name="hidden_states",
          title="Unroll the recurrence")
class HiddenStates(Checker):
    """answer(params, x, h0) -> h (T+1, B, m) with h[0] = h0 and h[t] = step(x[t-1], h[t-1])."""

    references = ("rnnlib.rnn.rnn_forward", "rnnlib.rnn._rnn_forward",
                  "rnnlib.rnn.rnn_step_forward", "rnnlib.rnn._rnn_step_forward")

    def cases(self, rng):
        cases = [_sequence_case(context, T, B, d, m, dtype, T + 10 * B, T * 3 + d)
                 for context, T, B, d, m, dtype in SEQUENCE_CASES]
        for _ in range(3):
            T, B, d, m, dtype = _random_dims(rng, T=True)
            cases.append(_sequence_case(f"T={T}, B={B}, d={d}, m={m}{_name(dtype)} (random)", T, B, d, m,
                                        dtype, int(rng.integers(2 ** 31)), int(rng.integers(2 ** 31))))
        return cases

    def prepare(self, case):
        params, x, h0 = case.args
        return ({k: v.copy() for k, v in params.items()}, x.copy(), h0.copy()), {}

    def observe(self, returned, case, args):
        h = returned
        _, x, h0 = case.args
        if isinstance(h, (tuple, list)) and len(h) == x.shape[0] + 1 and all(
                isinstance(state, np.ndarray) and state.shape == h0.shape for state in h):
            h = np.stack(h)                                              # a list of T+1 states is fine
        return {"h": snapshot(h), "changed": changed_argument(case.args, args, ("params", "x", "h0"))}

    def judge(self, case, observed):
        params, x, h0 = case.args
        context = case.context
        T, B, _ = x.shape
        m = h0.shape[1]
        h, changed = observed.get("h"), observed.get("changed")
        if changed:
            raise Mistake(f"your function changed its argument {changed} in place ({context}); "
                          "keep the inputs unchanged.")
        expected = rnn_forward(params, x, h0).h                          # (T+1, B, m)
        if isinstance(h, np.ndarray) and h.shape == expected.shape and h.dtype.kind in "biuf" \
                and np.allclose(h, expected, rtol=1e-4, atol=1e-5):
            compare(h, expected, name="your h", context=context, dtype=x.dtype)
            return
        params64 = {key: value.astype(np.float64) for key, value in params.items()}
        x64, h064, expected64 = x.astype(np.float64), h0.astype(np.float64), expected.astype(np.float64)
        if (isinstance(h, np.ndarray) and h.shape == expected.shape and h.dtype.kind in "biuf"
                and np.allclose(h[1:], expected64[1:], rtol=1e-4, atol=1e-5)):
            raise Mistake(f"Your h is wrong ({context}): h[0] must be h0 (your later states are right).")
        known = first_match(h, [
            ("your array has T entries, not T+1: h[0] must be h0, and h[1], ..., h[T] the hidden "
             "states after each input (the index mapping h^(t) -> h[t]).", expected64[1:]),
            ("you returned only the last hidden state h^(T); return every state, h of shape "
             "(T+1, B, m).", expected64[-1]),
            ("your array is batch-major (B, T+1, m); rnnlib is time-major: h[t] is the state of "
             "every sequence at time t, shape (T+1, B, m).", expected64.transpose(1, 0, 2)),
            ("every step must start from the previous hidden state h^(t-1); yours starts each step "
             "from h0, so nothing is carried through time.",
             lambda: _unrolled(params64, x64, h064, from_h0_every_step=True)),
            ("you started from zeros instead of the given h0.",
             lambda: _unrolled(params64, x64, np.zeros((B, m)))),
        ], rtol=1e-4, atol=1e-5)
        if known:
            raise Mistake(f"Your h is wrong ({context}): {known}")
        compare(h, expected, name="your h", context=context, dtype=x.dtype)


# ----------------------------------------------------------------------------------------------
# Written exercise (graded by hand; registered for the exercise index and the grader)
# ----------------------------------------------------------------------------------------------
register("rnn-shared-theta", chapter=CHAPTER, points=1, kind="written",
         title="Why is θ the same at every step?")


# ----------------------------------------------------------------------------------------------
# Perplexity and bits per character from per-step losses and a mask
# ----------------------------------------------------------------------------------------------
def _perplexity_case(context, T, lengths, dtype, seed):
    """losses (T, B): -log y_hat at real steps (about 1 to 4 nats), and at padded steps a value
    that is not a loss (what the network happened to predict on padding); mask (T, B) bool."""
    rng = np.random.default_rng(seed)
    B = len(lengths)
    mask = np.arange(T)[:, None] < np.asarray(lengths)[None, :]           # (T, B)
    losses = rng.uniform(0.5, 4.0, (T, B))                               # (T, B) nats
    losses[~mask] = rng.uniform(5.0, 9.0, int((~mask).sum()))             # not losses
    return Case(context, (losses.astype(dtype), mask))


def _scores(mean_loss):
    """(perplexity, bits per character) of a mean loss in nats per step."""
    with np.errstate(over="ignore"):
        return float(np.exp(mean_loss)), float(mean_loss / math.log(2))


# (context, T, lengths, dtype, seed): the first has lengths that differ, so the weighting of a
# mean over sequences differs from the mean over real steps
PERPLEXITY_CASES = (
    ("T=5, B=3, lengths 5, 3, 1", 5, (5, 3, 1), np.float64, 1),
    ("T=4, B=2, no padding", 4, (4, 4), np.float64, 2),
    ("T=6, B=1, length 4", 6, (4,), np.float64, 3),
    ("T=8, B=4, lengths 8, 2, 5, 1, float32", 8, (8, 2, 5, 1), np.float32, 4),
)


@exercise("rnn-perplexity", chapter=CHAPTER, points=2, answer_name="perplexity_and_bits",
          title="Perplexity and bits per character with a mask")
class Perplexity(Checker):
    """answer(losses, mask) -> (perplexity, bits per character) of the real steps."""

    references = ("rnnlib.metrics.perplexity", "rnnlib.metrics._perplexity",
                  "rnnlib.metrics.bits_per_character", "rnnlib.metrics._bits_per_character",
                  "rnnlib.metrics.per_step_loss", "rnnlib.metrics._per_step_loss")

    def cases(self, rng):
        cases = [_perplexity_case(*spec) for spec in PERPLEXITY_CASES]
        for _ in range(3):
            T, B = int(rng.integers(2, 10)), int(rng.integers(1, 6))
            lengths = tuple(int(v) for v in rng.integers(1, T + 1, size=B))
            dtype = np.float32 if rng.random() < 0.3 else np.float64
            name = "" if dtype == np.float64 else ", float32"
            cases.append(_perplexity_case(
                f"T={T}, B={B}, lengths {', '.join(map(str, lengths))}{name} (random)", T, lengths,
                dtype, int(rng.integers(2 ** 31))))
        return cases

    def observe(self, returned, case, args):
        return {"returned": snapshot(returned),
                "changed": changed_argument(case.args, args, ("losses", "mask"))}

    def judge(self, case, observed):
        losses, mask = case.args
        context = case.context
        out, changed = observed.get("returned"), observed.get("changed")
        if changed:
            raise Mistake(f"your function changed its argument {changed} in place ({context}); "
                          "leave the losses and the mask as they were.")
        if not is_sequence(out, 2):
            raise Mistake(f"return two numbers, (perplexity, bits per character), as a tuple or a "
                          f"list; got {describe(out)} ({context}).")
        try:
            values = [float(np.asarray(v, dtype=np.float64)) for v in out]
        except Exception:
            raise Mistake(f"both entries must be numbers, got {describe(out)} ({context}).") from None
        L = float(losses.astype(np.float64)[mask].mean())                   # nats per real step
        expected = _scores(L)
        rtol, _ = tolerance(losses.dtype)
        if np.allclose(values, expected, rtol=rtol, atol=0):
            return
        x = losses.astype(np.float64)
        lengths = mask.sum(axis=0)                                           # (B,)
        per_sequence = [float(x[:n, b].mean()) for b, n in enumerate(lengths)]
        wrong_means = (
            ("you averaged over every entry, padded steps included: only the real steps "
             "(mask True) count, L = losses[mask].mean().", float(x.mean())),
            ("you zeroed the padded steps but divided by T * B: divide by the number of real "
             "steps, N = mask.sum().", float((x * mask).sum() / x.size)),
            ("you averaged each sequence first and then the sequences: that weights a short "
             "sequence's steps more. Average over all real steps at once, L = losses[mask].mean().",
             float(np.mean(per_sequence))),
            ("you summed the losses instead of averaging them: perplexity is exp of the mean "
             "loss per step.", float(x[mask].sum())),
        )
        for feedback, wrong in wrong_means:
            if not np.isclose(wrong, L, rtol=rtol, atol=0) \
                    and np.isclose(values[0], _scores(wrong)[0], rtol=rtol, atol=0):
                raise Mistake(f"Your perplexity is wrong ({context}): {feedback}")
        mean_of_perplexities = float(np.mean([math.exp(v) for v in per_sequence]))
        if not np.isclose(mean_of_perplexities, expected[0], rtol=rtol, atol=0) \
                and np.isclose(values[0], mean_of_perplexities, rtol=rtol, atol=0):
            raise Mistake(f"Your perplexity is wrong ({context}): you averaged the perplexities of "
                          "the sequences; the perplexity is exp of the mean loss over all real "
                          "steps.")
        if np.allclose(values[::-1], expected, rtol=rtol, atol=0):
            raise Mistake(f"the two numbers are swapped ({context}): return (perplexity, bits per "
                          "character).")
        if np.isclose(values[0], expected[0], rtol=rtol, atol=0):
            bits = values[1]
            if np.isclose(bits, L, rtol=rtol, atol=0):
                raise Mistake(f"Your bits per character are in nats ({context}): divide the mean "
                              "loss by ln 2, bits = L / log(2) (= log2 of the perplexity).")
            if np.isclose(bits, L * math.log(2), rtol=rtol, atol=0):
                raise Mistake(f"Your bits per character are wrong ({context}): divide by ln 2, do "
                              "not multiply: bits = L / log(2).")
            if np.isclose(bits, L / math.log(10), rtol=rtol, atol=0):
                raise Mistake(f"Your bits per character are wrong ({context}): a bit is a base-2 "
                              "digit, bits = L / log(2), not L / log(10).")
            raise Mistake(f"Your perplexity is right but your bits per character are not "
                          f"({context}): expected {expected[1]:.6g}, got {bits:.6g}.")
        if np.isclose(values[0], 2 ** L, rtol=rtol, atol=0):
            raise Mistake(f"Your perplexity is wrong ({context}): the losses are in nats (natural "
                          "logarithms), so the perplexity is exp(L), not 2 ** L.")
        if np.isclose(values[0], L, rtol=rtol, atol=0):
            raise Mistake(f"Your perplexity is the mean loss itself ({context}): the perplexity is "
                          "exp(L).")
        raise Mistake(f"for {context} the mean loss over the real steps is L = {L:.6g} nats, so "
                      f"the answer is (exp(L), L / ln 2) = ({expected[0]:.6g}, {expected[1]:.6g}); "
                      f"you returned ({values[0]:.6g}, {values[1]:.6g}).")
