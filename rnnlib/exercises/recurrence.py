"""Checkers for the exercises of the chapter "Recurrence and unfolding".

* ``recurrence-unfold``: unfold(f, T) returns g^(T) = f o f o ... o f (T copies).
* ``recurrence-spectral-radius``: rescale W to a chosen spectral radius.
* ``recurrence-forget-steps``: how many steps a contracting linear state needs to shrink below
  eps (rho^t <= eps).
* ``recurrence-memory`` (written): what a fixed-size hidden state can and cannot remember.
* ``recurrence-leaky-step``: one step of a leaky unit, h^(t) = (1 - alpha) h^(t-1) + alpha
  tanh(b + W h^(t-1) + U x^(t)), for a batch, with one alpha or one per unit (section "Echo state
  networks and leaky units").

Each checker compares with rnnlib.dynamics on fixed and fresh random cases and names the usual
mistakes (one application too many or too few, the largest singular value or the Frobenius norm in
place of the spectral radius, eigenvalues without their modulus or a complex answer, floor instead
of ceiling, the leak's two weights swapped or the leak inside the tanh). The dtype rule of
:mod:`rnnlib.exercises` holds: a float64 answer for float32 inputs passes when its values are right.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dynamics, reservoir
from . import (Case, Checker, Mistake, call, changed_argument, close, compare, describe, exercise,
               first_match, register, snapshot)

CHAPTER = "recurrence"


# ----------------------------------------------------------------------------------------------
# recurrence-unfold
# ----------------------------------------------------------------------------------------------
def _apply(f, T, s):
    for _ in range(T):
        s = f(s)
    return s


def _tanh_map(A, c):
    return lambda s: np.tanh(A @ s + c)


def _unfold_case(rng, T, m):
    A = rng.normal(size=(m, m))
    c = rng.normal(size=m)
    return Case(f"T={T}, m={m}", (A, c, T, rng.normal(size=m)))


@exercise("recurrence-unfold", chapter=CHAPTER, points=1, answer_name="unfold",
          title="Unfold a recurrence into a composition")
class Unfold(Checker):
    """answer(f, T) -> g with g(s) = f(f(...f(s))) (T copies); T = 0 gives s itself.

    A case holds (A, c, T, s0): prepare builds f(s) = tanh(A s + c) and passes (f, T); observe
    calls the returned g on s0."""

    references = ("rnnlib.dynamics.unfold", "rnnlib.dynamics._unfold", "rnnlib.dynamics.compose")

    def cases(self, rng):
        fixed = np.random.default_rng(7)
        cases = [_unfold_case(fixed, T, 3) for T in (3, 1, 5, 0)]
        cases += [_unfold_case(rng, int(rng.integers(0, 9)), int(rng.integers(2, 6))) for _ in range(3)]
        return cases

    def prepare(self, case):
        A, c, T, _ = case.args
        return (_tanh_map(A.copy(), c.copy()), T), {}

    def observe(self, returned, case, args):
        if not callable(returned):
            return {"g": snapshot(returned), "callable": False}
        s0 = case.args[3]
        return {"callable": True, "out": snapshot(call(returned, s0.copy(), context=f"g(s) for {case.context}"))}

    def judge(self, case, observed):
        A, c, T, s0 = case.args
        context = case.context
        if not observed.get("callable"):
            raise Mistake(f"unfold(f, T) should return a function g with g(s) = s^(T), got "
                          f"{describe(observed.get('g'))} (for {context}). Define an inner function and "
                          "return it (or compose copies of f).")
        f = _tanh_map(A, c)
        out = observed.get("out")
        expected = _apply(f, T, s0)
        if not close(out, expected):
            if T >= 1 and close(out, _apply(f, T - 1, s0)):
                raise Mistake(f"g applies f one time too few ({T - 1} times) for {context}: "
                              "s^(T) needs T applications of f.")
            if close(out, _apply(f, T + 1, s0)):
                raise Mistake(f"g applies f one time too many ({T + 1} times) for {context}: "
                              "s^(T) needs T applications of f (T = 0 is s itself).")
        compare(out, expected, name="g(s)", context=context)


# ----------------------------------------------------------------------------------------------
# recurrence-spectral-radius
# ----------------------------------------------------------------------------------------------
@exercise("recurrence-spectral-radius", chapter=CHAPTER, points=1,
          answer_name="scale_to_spectral_radius",
          title="Rescale W to a chosen spectral radius")
class SpectralRadius(Checker):
    """answer(W, rho) -> W scaled so that its spectral radius is rho."""

    references = ("rnnlib.dynamics.scale_to_spectral_radius", "rnnlib.dynamics._scale_to_spectral_radius",
                  "rnnlib.dynamics.spectral_radius", "rnnlib.dynamics._spectral_radius")

    def cases(self, rng):
        cases = [Case(f"m={m}, rho={rho}", (np.random.default_rng(seed + 11).normal(size=(m, m)), rho))
                 for seed, m, rho in ((0, 4, 0.9), (1, 6, 2.0), (2, 3, 0.5))]
        for _ in range(3):
            m, rho = int(rng.integers(2, 8)), round(float(rng.uniform(0.2, 3.0)), 3)
            cases.append(Case(f"m={m}, rho={rho} (random)", (rng.normal(size=(m, m)), rho)))
        return cases

    def judge(self, case, observed):
        W, rho = case.args
        context = case.context
        out = observed.get("returned")
        expected = dynamics.scale_to_spectral_radius(W, rho)
        if close(out, expected):
            return
        eigenvalues = np.linalg.eigvals(W)
        largest = eigenvalues[np.argmax(np.abs(eigenvalues))]
        known = first_match(out, [
            ("you divided by the largest singular value (np.linalg.norm(W, 2)); the spectral "
             "radius is the largest |eigenvalue|: np.max(np.abs(np.linalg.eigvals(W))).",
             W * rho / np.linalg.norm(W, 2)),
            ("you divided by the Frobenius norm; the spectral radius is the largest |eigenvalue|.",
             W * rho / np.linalg.norm(W)),
            ("eigenvalues can be negative or complex: take their modulus, np.abs, before max.",
             W * rho / np.max(eigenvalues.real)),
            ("you multiplied by the spectral radius instead of dividing by it.",
             W * rho * np.max(np.abs(eigenvalues))),
        ])
        if known:
            raise Mistake(known)
        if isinstance(out, np.ndarray) and out.dtype.kind == "c" and np.any(np.abs(out.imag) > 1e-12):
            raise Mistake(f"your rescaled W is complex ({context}): you divided by an eigenvalue, and the "
                          "eigenvalues of a real matrix can be complex (this W's largest is "
                          f"{complex(largest):.4g}). The spectral radius is a real number, the largest "
                          "modulus: take the modulus first, np.max(np.abs(np.linalg.eigvals(W))), so the "
                          "rescaled W stays real.")
        if close(out, W * rho / largest.real) or close(out, (W * rho / largest).real):
            raise Mistake(f"you divided by the eigenvalue of largest modulus itself ({complex(largest):.4g}), "
                          f"not by its modulus ({context}): the spectral radius is |lambda|, so take np.abs "
                          "before max.")
        compare(out, expected, name="your rescaled W", context=context)


# ----------------------------------------------------------------------------------------------
# recurrence-forget-steps
# ----------------------------------------------------------------------------------------------
def _steps_reference(rho, eps):
    if rho >= 1:
        return math.inf
    t, power = 0, 1.0
    while power > eps:
        power *= rho
        t += 1
    return t


@exercise("recurrence-forget-steps", chapter=CHAPTER, points=1, answer_name="steps_to_forget",
          title="How long does a contracting state remember?")
class ForgetSteps(Checker):
    """answer(rho, eps) -> the smallest t with rho^t <= eps (math.inf for rho >= 1)."""

    references = ()

    def cases(self, rng):
        cases = [Case(f"rho={rho}, eps={eps}", (rho, eps)) for rho, eps in
                 ((0.9, 1e-3), (0.5, 1e-6), (0.99, 0.01), (0.3, 0.2), (1.0, 1e-3), (1.5, 1e-3))]
        for _ in range(4):
            rho = round(float(rng.uniform(0.05, 0.995)), 4)
            eps = float(f"{10 ** rng.uniform(-9, -0.3):.3g}")
            cases.append(Case(f"rho={rho}, eps={eps}", (rho, eps)))
        rho = round(float(rng.uniform(1.0, 2.0)), 3)
        cases.append(Case(f"rho={rho}, eps=0.001", (rho, 1e-3)))
        return cases

    def judge(self, case, observed):
        rho, eps = case.args
        context = case.context
        out = observed.get("returned")
        expected = _steps_reference(rho, eps)
        if expected == math.inf:
            if out != math.inf:
                raise Mistake(f"for rho >= 1 the state never shrinks: return math.inf (got "
                              f"{describe(out)} for {context}).")
            return
        if isinstance(out, float) and not (math.isfinite(out) and out.is_integer()):
            raise Mistake(f"return a whole number of steps (an int), got {out!r} for {context}: "
                          "round the ratio of logarithms up (math.ceil).")
        if isinstance(out, bool) or not isinstance(out, (int, float)):
            raise Mistake(f"return an int, got {describe(out)} for {context}")
        if out == expected - 1:
            raise Mistake(f"one step short for {context}: after {int(out)} steps rho^t = "
                          f"{rho ** out:.3g} is still above eps. Round up (math.ceil), not down.")
        if out != expected:
            raise Mistake(f"for {context} the answer is the smallest t with rho^t <= eps; you "
                          f"returned {out}.")


register("recurrence-memory", chapter=CHAPTER, kind="written", points=2,
         title="What can a fixed-size state remember?")


# ----------------------------------------------------------------------------------------------
# recurrence-leaky-step
# ----------------------------------------------------------------------------------------------
def _leaky_case(context, B, d, m, alpha, dtype, seed):
    """params W (m, m), U (m, d), b (m,) (b non-zero, W beyond tanh's linear range, not
    symmetric), x_t (B, d), h_prev (B, m); alpha a number or "per unit" (m,) drawn here."""
    rng = np.random.default_rng(seed)
    params = {"W": (1.5 * rng.standard_normal((m, m)) / np.sqrt(m)).astype(dtype),
              "U": rng.standard_normal((m, d)).astype(dtype),
              "b": rng.standard_normal(m).astype(dtype)}
    x_t = rng.standard_normal((B, d)).astype(dtype)                      # (B, d)
    h_prev = rng.uniform(-1, 1, (B, m)).astype(dtype)                    # (B, m)
    if isinstance(alpha, str):
        alpha = rng.uniform(0.05, 1.0, m).astype(dtype)                  # (m,) one per unit
    return Case(context, (params, x_t, h_prev, alpha))


def _leaky_variant(params, x_t, h_prev, alpha, mistake):
    """What an answer with one typical mistake returns."""
    W, U, b = params["W"], params["U"], params["b"]
    a = b + h_prev @ W.T + x_t @ U.T                                     # (B, m)
    if mistake == "swapped":
        return alpha * h_prev + (1 - alpha) * np.tanh(a)
    if mistake == "vanilla":
        return np.tanh(a)
    if mistake == "inside":
        return np.tanh((1 - alpha) * h_prev + alpha * a)
    if mistake == "no_tanh":
        return (1 - alpha) * h_prev + alpha * a
    if mistake == "old_unscaled":
        return h_prev + alpha * np.tanh(a)
    if mistake == "new_unscaled":
        return (1 - alpha) * h_prev + np.tanh(a)
    if mistake == "W_transposed":
        return (1 - alpha) * h_prev + alpha * np.tanh(b + h_prev @ W + x_t @ U.T)
    if mistake == "no_bias":
        return (1 - alpha) * h_prev + alpha * np.tanh(a - b)
    raise ValueError(mistake)


_LEAKY_MISTAKES = (
    ("swapped", "you swapped the two weights: the old state keeps the share (1 - alpha), the new "
                "tanh(...) gets alpha, h^(t) = (1 - alpha) h^(t-1) + alpha tanh(a^(t)); a small "
                "alpha is a slow unit."),
    ("vanilla", "you returned tanh(a^(t)), the vanilla RNN's step: the leak is missing, "
                "h^(t) = (1 - alpha) h^(t-1) + alpha tanh(a^(t))."),
    ("inside", "you put the leak inside the tanh; it mixes the states outside it: "
               "h^(t) = (1 - alpha) h^(t-1) + alpha tanh(b + W h^(t-1) + U x^(t))."),
    ("no_tanh", "the tanh is missing: the new part is alpha tanh(a^(t)), not alpha a^(t)."),
    ("old_unscaled", "the old state must be scaled by (1 - alpha): h^(t) = (1 - alpha) h^(t-1) "
                     "+ alpha tanh(a^(t)), a weighted average of the old and the new state."),
    ("new_unscaled", "the new part must be scaled by alpha: h^(t) = (1 - alpha) h^(t-1) + alpha "
                     "tanh(a^(t))."),
    ("W_transposed", "you multiplied by W transposed: with one example per row, W h^(t-1) is "
                     "`h_prev @ W.T`, not `h_prev @ W`."),
    ("no_bias", "the bias b is missing: a^(t) = b + W h^(t-1) + U x^(t)."),
)

# (context, B, d, m, alpha, dtype, seed)
LEAKY_CASES = (
    ("B=3, d=2, m=4, alpha=0.3", 3, 2, 4, 0.3, np.float64, 1),
    ("B=1, d=5, m=3, alpha=1 (the vanilla RNN step)", 1, 5, 3, 1.0, np.float64, 2),
    ("B=2, d=3, m=5, alpha per unit (shape (m,))", 2, 3, 5, "per unit", np.float64, 3),
    ("B=4, d=3, m=6, alpha=0.05, float32", 4, 3, 6, 0.05, np.float32, 4),
)


@exercise("recurrence-leaky-step", chapter=CHAPTER, points=2, answer_name="leaky_step",
          title="One step of a leaky unit")
class LeakyStep(Checker):
    """answer(params, x_t, h_prev, alpha) -> h_t (B, m), with alpha a number or (m,)."""

    references = ("rnnlib.reservoir.reservoir_states", "rnnlib.reservoir._reservoir_states",
                  "rnnlib.reservoir._leaky_states")

    def cases(self, rng):
        cases = [_leaky_case(*spec) for spec in LEAKY_CASES]
        for _ in range(3):
            B, d, m = (int(v) for v in rng.integers(1, 7, size=3))
            dtype = np.float32 if rng.random() < 0.3 else np.float64
            alpha = "per unit" if rng.random() < 0.3 else round(float(rng.uniform(0.02, 0.98)), 3)
            name = "" if dtype == np.float64 else ", float32"
            shown = "per unit (shape (m,))" if alpha == "per unit" else alpha
            cases.append(_leaky_case(f"B={B}, d={d}, m={m}, alpha={shown}{name} (random)",
                                     B, d, m, alpha, dtype, int(rng.integers(2 ** 31))))
        return cases

    def observe(self, returned, case, args):
        return {"h_t": snapshot(returned),
                "changed": changed_argument(case.args, args, ("params", "x_t", "h_prev", "alpha"))}

    def judge_error(self, case, record):
        raised = str(record.get("raised", ""))
        if "TypeError" in raised and ("positional argument" in raised or "missing" in raised) \
                and not record.get("where"):
            raise Mistake(f"your function must take four arguments (params, x_t, h_prev, alpha) "
                          f"({raised}).")

    def judge(self, case, observed):
        params, x_t, h_prev, alpha = case.args
        context = case.context
        h_t, changed = observed.get("h_t"), observed.get("changed")
        if changed:
            raise Mistake(f"your function changed its argument {changed} in place ({context}); "
                          "compute a new array instead.")
        expected = reservoir.reservoir_states(params, x_t[None], h_prev, alpha)[1]   # (B, m)
        if isinstance(h_t, (tuple, list)) and len(h_t) >= 1 and isinstance(h_t[0], np.ndarray):
            raise Mistake(f"return the array h_t of shape {expected.shape} only, got "
                          f"{describe(h_t)} ({context}).")
        p64 = {k: v.astype(np.float64) for k, v in params.items()}
        a64 = np.asarray(alpha, dtype=np.float64)
        alpha_is_one = bool(np.all(a64 == 1))
        variants = [(feedback, (lambda m=mistake: _leaky_variant(
            p64, x_t.astype(np.float64), h_prev.astype(np.float64), a64, m)))
            for mistake, feedback in _LEAKY_MISTAKES
            if not (alpha_is_one and mistake in ("vanilla", "new_unscaled", "inside"))]
        known = first_match(h_t, variants, rtol=1e-4, atol=1e-5,
                            unless=expected.astype(np.float64))
        if known:
            raise Mistake(f"Your h_t is wrong ({context}): {known}")
        if isinstance(h_t, np.ndarray) and h_t.shape == (expected.shape[1],) and expected.shape[0] == 1:
            raise Mistake(f"keep the batch dimension: h_t must have shape {expected.shape} "
                          f"({context}).")
        compare(h_t, expected, name="your h_t", context=context, dtype=x_t.dtype)
