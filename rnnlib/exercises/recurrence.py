"""Checkers for the exercises of the chapter "Recurrence and unfolding".

* ``recurrence-unfold``: unfold(f, T) returns g^(T) = f o f o ... o f (T copies).
* ``recurrence-spectral-radius``: rescale W to a chosen spectral radius.
* ``recurrence-forget-steps``: how many steps a contracting linear state needs to shrink below
  eps (rho^t <= eps).
* ``recurrence-memory`` (written): what a fixed-size hidden state can and cannot remember.

Each checker compares with rnnlib.dynamics on several cases and names the usual mistakes (one
application too many or too few, the largest singular value or the Frobenius norm in place of the
spectral radius, eigenvalues without their modulus, floor instead of ceiling).
"""
from __future__ import annotations

import math

import numpy as np

from .. import dynamics
from . import Mistake, call, close, compare, describe, exercise, first_match, register

CHAPTER = "recurrence"


# ----------------------------------------------------------------------------------------------
# recurrence-unfold
# ----------------------------------------------------------------------------------------------
def _apply(f, T, s):
    for _ in range(T):
        s = f(s)
    return s


@exercise("recurrence-unfold", chapter=CHAPTER, points=1, answer_name="unfold",
          title="Unfold a recurrence into a composition")
def _check_unfold(answer):
    rng = np.random.default_rng(7)
    A = rng.normal(size=(3, 3))
    c = rng.normal(size=3)
    f = lambda s: np.tanh(A @ s + c)  # noqa: E731
    for T in (3, 1, 5, 0):
        context = f"T={T}"
        g = call(answer, f, T, context=context)
        if not callable(g):
            raise Mistake(f"unfold(f, T) should return a function g with g(s) = s^(T), got "
                          f"{describe(g)} (for {context}). Define an inner function and return "
                          "it (or compose copies of f).")
        s0 = rng.normal(size=3)
        out = call(g, s0.copy(), context=f"g(s) for {context}")
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
def _check_spectral_radius(answer):
    for seed, m, rho in ((0, 4, 0.9), (1, 6, 2.0), (2, 3, 0.5)):
        W = np.random.default_rng(seed + 11).normal(size=(m, m))
        context = f"m={m}, rho={rho}"
        out = call(answer, W.copy(), rho, context=context)
        expected = dynamics.scale_to_spectral_radius(W, rho)
        eigenvalues = np.linalg.eigvals(W)
        if close(out, expected):
            continue
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
def _check_forget(answer):
    for rho, eps in ((0.9, 1e-3), (0.5, 1e-6), (0.99, 0.01), (0.3, 0.2), (1.0, 1e-3),
                     (1.5, 1e-3)):
        context = f"rho={rho}, eps={eps}"
        out = call(answer, rho, eps, context=context)
        expected = _steps_reference(rho, eps)
        if expected == math.inf:
            if out != math.inf:
                raise Mistake(f"for rho >= 1 the state never shrinks: return math.inf (got "
                              f"{describe(out)} for {context}).")
            continue
        if isinstance(out, (float, np.floating)) and not float(out).is_integer():
            raise Mistake(f"return a whole number of steps (an int), got {out!r} for {context}: "
                          "round the ratio of logarithms up (math.ceil).")
        if isinstance(out, bool) or not isinstance(out, (int, np.integer, float, np.floating)):
            raise Mistake(f"return an int, got {describe(out)} for {context}")
        if out == expected - 1:
            raise Mistake(f"one step short for {context}: after {out} steps rho^t = "
                          f"{rho ** out:.3g} is still above eps. Round up (math.ceil), not down.")
        if out != expected:
            raise Mistake(f"for {context} the answer is the smallest t with rho^t <= eps; you "
                          f"returned {out}.")


register("recurrence-memory", chapter=CHAPTER, kind="written", points=2,
         title="What can a fixed-size state remember?")
