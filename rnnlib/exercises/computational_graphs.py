"""Checkers for the exercises of the chapter "Computational graphs".

* ``graphs-build``: build the graph of J = (sigma(x^T w + b) - y)^2 with rnnlib.graph.
* ``graphs-hand-gradient``: dJ/dw and dJ/db of the same J by hand (chain rule, NumPy).
* ``graphs-receives-gradient``: which leaves of :func:`monitor_graph` receive a gradient from J.

Each checker runs the answer on fixed and fresh random cases against rnnlib.graph and names the usual
mistakes (a missing bias, elementwise product instead of x^T w, a forgotten factor 2 or
sigma'(u), NumPy on ``.value`` that cuts the graph, constants or unconnected nodes counted).
"""
from __future__ import annotations

import numpy as np

from .. import graph as g
from . import Case, Checker, Mistake, as_array, close, compare, describe, exercise, first_match, is_sequence, snapshot

CHAPTER = "computational_graphs"


def _sigmoid(u):
    return 0.5 * (1.0 + np.tanh(0.5 * u))


def _case(rng, n, context):
    return Case(context, (rng.normal(size=n), rng.normal(size=n), np.array(rng.normal()),
                          np.array(0.2 + 0.6 * rng.random())))


def _cases(rng):
    """(x, w, b, y) with n inputs; b and y non-zero so missing terms show: fixed, then random."""
    cases = [_case(np.random.default_rng(seed + 40), n, f"n={n}") for seed, n in ((0, 3), (1, 5), (2, 1))]
    for _ in range(3):
        n = int(rng.integers(1, 8))
        cases.append(_case(rng, n, f"n={n} (random)"))
    return cases


# ----------------------------------------------------------------------------------------------
# graphs-build
# ----------------------------------------------------------------------------------------------
@exercise("graphs-build", chapter=CHAPTER, points=2, answer_name="squared_error_graph",
          title="Build the graph of a squared-error loss")
class Build(Checker):
    """answer(X, W, B, Y) (graph nodes) -> the node J; observed: J's value and, after
    J.backward(), the gradients that reach w, b and x."""

    references = ("rnnlib.exercises.computational_graphs.squared_error_graph",)

    def cases(self, rng):
        return _cases(rng)

    def prepare(self, case):
        x, w, b, y = (np.array(v, copy=True) for v in case.args)
        return (g.variable(x, "x"), g.parameter(w, "w"), g.parameter(b, "b"), g.constant(y, "y")), {}

    def observe(self, returned, case, args):
        if not isinstance(returned, g.Variable):
            return {"node": False, "returned": snapshot(returned)}
        observed = {"node": True, "value": snapshot(np.asarray(returned.value))}
        value = observed["value"]
        if isinstance(value, np.ndarray) and value.shape == ():
            returned.backward()
            observed["grads"] = {name: snapshot(node.grad) for name, node in zip("xwb", args[:3])}
        return observed

    def judge(self, case, observed):
        x, w, b, y = case.args
        context = case.context
        if not observed.get("node"):
            raise Mistake(f"return the output node J (a rnnlib.graph.Variable), got "
                          f"{describe(observed.get('returned'))}. Build it with g.dot, g.add, g.sigmoid, "
                          "g.sub and g.square (or the operators + - * on Variables).")
        u = x @ w + b
        expected = (_sigmoid(u) - y) ** 2
        value = as_array(observed.get("value"), "J", context)
        if value.shape != ():
            hint = (" It has one entry per input: for x^T w use g.dot(x, w), not g.mul (an "
                    "elementwise product)." if value.shape == x.shape else "")
            raise Mistake(f"J should be a scalar, but your node holds {describe(value)} "
                          f"(for {context}).{hint}")
        known = None if np.allclose(value, expected) else first_match(value, [
            ("the bias b is missing: u = x^T w + b.", (_sigmoid(x @ w) - y) ** 2),
            ("the square is missing: J = (y_hat - y)^2, not y_hat - y.", _sigmoid(u) - y),
            ("the sigmoid is missing: y_hat = sigma(x^T w + b).", (u - y) ** 2),
            ("you used tanh; the unit is the logistic sigmoid sigma(u) = 1/(1 + exp(-u)).",
             (np.tanh(u) - y) ** 2),
            ("the target y is missing: J = (y_hat - y)^2.", _sigmoid(u) ** 2),
        ])
        if known:
            raise Mistake(known)
        compare(value, expected, name="J", context=context)
        grads = observed.get("grads")
        grads = grads if isinstance(grads, dict) else {}
        for name in ("w", "b", "x"):
            if grads.get(name) is None:
                raise Mistake(f"{name} receives no gradient: J is not computed from the node "
                              f"{name} through graph operations. Use the Variables you are given "
                              "(not their .value with NumPy): NumPy on .value cuts the graph.")
        s = _sigmoid(u)
        dJ_du = 2 * (s - y) * s * (1 - s)
        compare(grads["w"], dJ_du * x, name="dJ/dw of your graph", context=context)
        compare(grads["b"], dJ_du, name="dJ/db of your graph", context=context)


def squared_error_graph(x, w, b, y):
    """The reference: J = (sigma(x^T w + b) - y)^2 as a graph (used by the
    chapter after the exercise)."""
    u1 = g.dot(x, w, name="u^(1)")
    u2 = g.add(u1, b, name="u^(2)")
    y_hat = g.sigmoid(u2, name="ŷ")
    return g.square(g.sub(y_hat, y, name="u^(3)"), name="J")


# ----------------------------------------------------------------------------------------------
# graphs-hand-gradient
# ----------------------------------------------------------------------------------------------
@exercise("graphs-hand-gradient", chapter=CHAPTER, points=2, answer_name="gradient_by_hand",
          title="A gradient by hand, checked by the graph")
class HandGradient(Checker):
    """answer(x, w, b, y) -> (dJ_dw, dJ_db) (any sequence of two)."""

    references = ("rnnlib.graph.Variable.backward",)

    def cases(self, rng):
        return _cases(rng)

    def judge(self, case, observed):
        x, w, b, y = case.args
        context = case.context
        out = observed.get("returned")
        if not is_sequence(out, 2):
            raise Mistake(f"return a pair (dJ_dw, dJ_db), got {describe(out)}")
        dJ_dw = as_array(out[0], "dJ_dw", context).astype(float)
        dJ_db = as_array(out[1], "dJ_db", context).astype(float)
        s = _sigmoid(x @ w + b)
        dJ_du = 2 * (s - y) * s * (1 - s)
        known = None if close(dJ_dw, dJ_du * x) else first_match(dJ_dw, [
            ("the factor 2 from d(e^2)/de = 2e is missing.", dJ_du / 2 * x),
            ("the sigmoid's derivative sigma'(u) = sigma(u)(1 - sigma(u)) is missing.",
             2 * (s - y) * x),
            ("the sign is flipped: d(y_hat - y)^2 / dy_hat = 2(y_hat - y).", -dJ_du * x),
            ("sigma'(u) is sigma(u)(1 - sigma(u)), not 1 - sigma(u)^2 (that is tanh').",
             2 * (s - y) * (1 - s ** 2) * x),
        ])
        if known:
            raise Mistake(known)
        compare(dJ_dw, dJ_du * x, name="dJ_dw", context=context)
        compare(dJ_db.reshape(()) if dJ_db.size == 1 else dJ_db, dJ_du, name="dJ_db", context=context)


# ----------------------------------------------------------------------------------------------
# graphs-receives-gradient
# ----------------------------------------------------------------------------------------------
LEAVES = ("x", "w", "b", "lam", "y", "v")


def monitor_graph(seed=0):
    """The graph of the exercise: J = (sigma(x^T w + b) - y)^2 + lam * sum(w^2), and beside it
    a monitoring output m = v^T x that J does not use. Returns (J, m)."""
    rng = np.random.default_rng(seed)
    x, w = g.variable(rng.normal(size=3), "x"), g.parameter(rng.normal(size=3), "w")
    b, v = g.parameter(0.1, "b"), g.parameter(rng.normal(size=3), "v")
    lam, y = g.constant(0.01, "lam"), g.constant(1.0, "y")
    y_hat = g.sigmoid(g.add(g.dot(x, w), b), name="ŷ")
    error = g.square(g.sub(y_hat, y))
    penalty = g.mul(lam, g.sum(g.square(w)))
    J = g.add(error, penalty, name="J")
    monitor = g.dot(v, x, name="m")
    return J, monitor


@exercise("graphs-receives-gradient", chapter=CHAPTER, points=1,
          answer_name="leaves_receiving_gradient",
          title="Which nodes receive a gradient?")
class ReceivesGradient(Checker):
    """answer() -> a set (or list, tuple) of leaf names of :func:`monitor_graph`'s J.

    One case: the question is about one fixed graph (no random inputs to draw)."""

    references = ("rnnlib.graph.receives_gradient",)

    def cases(self, rng):
        return [Case("no arguments")]

    def judge(self, case, observed):
        out = observed.get("returned")
        if not isinstance(out, (list, tuple)) or not all(isinstance(name, str) for name in out):
            raise Mistake(f"return a set of leaf names such as {{'x', 'w'}}, got {describe(out)}")
        names = set(out)
        unknown = names - set(LEAVES)
        if unknown:
            raise Mistake(f"{sorted(unknown)} are not leaves of the graph; choose among {LEAVES}.")
        J, _ = monitor_graph()
        expected = g.receives_gradient(J) & set(LEAVES)
        messages = []
        if "v" in names:
            messages.append("v feeds only the monitoring output m: there is no path from v to J, so "
                            "backprop from J never reaches it.")
        if names & {"lam", "y"}:
            messages.append("lam and y are constants (grey nodes): backprop computes no gradient "
                            "for them, although the math could.")
        if "w" not in names:
            messages.append("w is used twice (in x^T w and in the penalty): it receives the sum of "
                            "both contributions.")
        if "x" not in names:
            messages.append("x is an input, not a constant: backprop computes dJ/dx too (that is how "
                            "a gradient reaches the layers below).")
        if "b" not in names:
            messages.append("b is on the path to J through the sum x^T w + b.")
        if messages:
            raise Mistake(" ".join(messages))
        if names != expected:  # pragma: no cover - the messages cover every difference
            raise Mistake("not quite: follow every path from J back to the leaves.")
