"""Tests of the checkers of the chapters "Computational graphs" (rnnlib.exercises.
computational_graphs) and "Recurrence and unfolding" (rnnlib.exercises.recurrence): right answers
pass, the usual mistakes get their specific feedback, stubs are "not attempted", nothing raises."""

import math

import numpy as np
import pytest

from rnnlib import dynamics
from rnnlib import graph as g
from rnnlib.exercises import check, list_exercises
from rnnlib.exercises.computational_graphs import monitor_graph, squared_error_graph


def stub(*args):
    raise NotImplementedError()


def by_hand(x, w, b, y):
    s = 1 / (1 + np.exp(-(x @ w + b)))
    d = 2 * (s - y) * s * (1 - s)
    return d * x, d


def unfold(f, T):
    def g_T(s):
        for _ in range(T):
            s = f(s)
        return s
    return g_T


def steps(rho, eps):
    return math.inf if rho >= 1 else math.ceil(math.log(eps) / math.log(rho))


RIGHT = [
    ("graphs-build", squared_error_graph),
    ("graphs-build", lambda x, w, b, y: g.square(g.sigmoid(x @ w + b) - y)),  # operators
    ("graphs-hand-gradient", by_hand),
    ("graphs-receives-gradient", lambda: {"x", "w", "b"}),
    ("graphs-receives-gradient", lambda: ["b", "w", "x"]),
    ("recurrence-unfold", unfold),
    ("recurrence-unfold", dynamics.unfold),
    ("recurrence-spectral-radius", dynamics.scale_to_spectral_radius),
    ("recurrence-spectral-radius", lambda W, r: W * r / max(abs(np.linalg.eigvals(W)))),
    ("recurrence-forget-steps", steps),
]


@pytest.mark.parametrize("label, answer", RIGHT)
def test_right_answers_pass(label, answer):
    result = check(label, answer, quiet=True)
    assert result.passed, result.feedback


MISTAKES = [
    ("graphs-build", lambda x, w, b, y: g.square(g.sigmoid(g.dot(x, w)) - y), "bias b is missing"),
    ("graphs-build", lambda x, w, b, y: g.sigmoid(g.dot(x, w) + b) - y, "square is missing"),
    ("graphs-build", lambda x, w, b, y: g.square(g.dot(x, w) + b - y), "sigmoid is missing"),
    ("graphs-build", lambda x, w, b, y: g.square(g.sigmoid(g.mul(x, w) + b) - y), "g.dot"),
    ("graphs-build", lambda x, w, b, y: g.variable(
        (1 / (1 + np.exp(-(x.value @ w.value + b.value))) - y.value) ** 2), "cuts the graph"),
    ("graphs-build", lambda x, w, b, y: 3.0, "rnnlib.graph.Variable"),
    ("graphs-hand-gradient", lambda x, w, b, y: tuple(v / 2 for v in by_hand(x, w, b, y)),
     "factor 2"),
    ("graphs-hand-gradient", lambda x, w, b, y: (by_hand(x, w, b, y)[0] * -1, 0.0), "sign"),
    ("graphs-hand-gradient", lambda x, w, b, y: by_hand(x, w, b, y)[0], "pair"),
    ("graphs-receives-gradient", lambda: {"x", "w", "b", "v"}, "no path from v"),
    ("graphs-receives-gradient", lambda: {"x", "w", "b", "lam"}, "constants"),
    ("graphs-receives-gradient", lambda: {"w", "b"}, "x is an input"),
    ("graphs-receives-gradient", lambda: {"x", "b"}, "used twice"),
    ("graphs-receives-gradient", lambda: {"x", "w", "b", "z"}, "not leaves"),
    ("graphs-receives-gradient", lambda: "xwb", "set of leaf names"),
    ("recurrence-unfold", lambda f, T: unfold(f, T + 1), "one time too many"),
    ("recurrence-unfold", lambda f, T: unfold(f, max(T - 1, 0)), "one time too few"),
    ("recurrence-unfold", lambda f, T: unfold(f, T)(np.zeros(3)), "return a function"),
    ("recurrence-spectral-radius", lambda W, r: W * r / np.linalg.norm(W, 2), "singular value"),
    ("recurrence-spectral-radius", lambda W, r: W * r / np.linalg.norm(W), "Frobenius"),
    ("recurrence-spectral-radius", lambda W, r: W * r / np.max(np.linalg.eigvals(W).real),
     "modulus"),
    ("recurrence-spectral-radius", lambda W, r: W * r * max(abs(np.linalg.eigvals(W))),
     "multiplied"),
    ("recurrence-forget-steps", lambda r, e: math.inf if r >= 1 else
     math.floor(math.log(e) / math.log(r)), "Round up"),
    ("recurrence-forget-steps", lambda r, e: math.inf if r >= 1 else math.log(e) / math.log(r),
     "whole number"),
    ("recurrence-forget-steps", lambda r, e: math.ceil(math.log(e) / math.log(r)) if r != 1
     else 0, "never shrinks"),
]


@pytest.mark.parametrize("label, answer, feedback", MISTAKES)
def test_mistakes_get_specific_feedback(label, answer, feedback):
    result = check(label, answer, quiet=True)
    assert result.status == "failed"
    assert feedback in result.feedback, result.feedback


@pytest.mark.parametrize("label", sorted({label for label, _ in RIGHT}))
def test_stubs_are_not_attempted(label):
    assert check(label, stub, quiet=True).status == "not attempted"


def test_answers_that_raise_are_reported():
    def broken(*args):
        raise ZeroDivisionError("oops")
    for label in ("graphs-build", "recurrence-unfold", "recurrence-forget-steps"):
        result = check(label, broken, quiet=True)
        assert result.status == "failed" and "ZeroDivisionError" in result.feedback


def test_registered_with_their_chapters():
    graphs = {e.label: e for e in list_exercises(chapter="computational_graphs")}
    assert set(graphs) == {"graphs-build", "graphs-hand-gradient", "graphs-receives-gradient"}
    recurrence = {e.label: e for e in list_exercises(chapter="recurrence")}
    assert set(recurrence) == {"recurrence-unfold", "recurrence-spectral-radius",
                               "recurrence-forget-steps", "recurrence-memory",
                               "recurrence-leaky-step"}
    assert recurrence["recurrence-memory"].kind == "written"


def test_monitor_graph_shape():
    J, monitor = monitor_graph()
    assert g.receives_gradient(J) >= {"x", "w", "b"}
    assert "v" not in g.receives_gradient(J) and "v" in g.receives_gradient(monitor)
