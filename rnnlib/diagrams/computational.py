"""The lecture's computational graphs, built with rnnlib.graph and laid out by Graphviz dot
(chapters "Computational graphs" and "Recurrence and unfolding")."""
from __future__ import annotations

import numpy as np

from ._checks import check_bool, check_choice, check_int
from .graphs import draw_graph

EXAMPLES = ("a", "b", "c", "d")


def _example(name):
    from .. import graph as g

    rng = np.random.default_rng(0)
    if name == "a":
        x, y = g.variable(3.0, "x"), g.variable(-2.0, "y")
        return [g.mul(x, y, name="z")], "(a) z = x y: the inputs x and y meet in one product"
    if name == "b":
        x = g.variable(rng.normal(size=3), "x")
        w = g.parameter(rng.normal(size=3), "w")
        b = g.parameter(0.5, "b")
        u1 = g.dot(x, w, name="u^(1)")
        u2 = g.add(u1, b, name="u^(2)")
        return [g.sigmoid(u2, name="ŷ")], ("(b) logistic regression, y_hat = sigmoid(x^T w + b): "
                                          "u(1) = dot(x, w), u(2) = u(1) + b, y_hat = sigmoid(u(2))")
    if name == "c":
        X = g.variable(rng.normal(size=(4, 3)), "X")
        W = g.parameter(rng.normal(size=(3, 2)), "W")
        b = g.parameter(np.array([0.1, -0.2]), "b")
        U1 = g.matmul(X, W, name="U^(1)")
        U2 = g.add(U1, b, name="U^(2)")
        return [g.relu(U2, name="H")], ("(c) a ReLU layer, H = max{0, X W + b}: U(1) = matmul(X, "
                                       "W), U(2) = U(1) + b, H = relu(U(2))")
    x = g.variable(np.array([1.0, -2.0, 0.5]), "x")
    w = g.parameter(np.array([0.3, 0.1, -0.4]), "w")
    lam = g.constant(0.1, "λ")
    y_hat = g.dot(x, w, name="ŷ")
    penalty = g.mul(lam, g.sum(g.square(w, name="u^(1)"), name="u^(2)"), name="u^(3)")
    return [y_hat, penalty], ("(d) the weight w used twice: by the prediction y_hat = dot(x, w) "
                              "and by the weight-decay penalty u(3) = lambda sum(square(w)); "
                              "w is one node with two outgoing arrows")


def computational_graph(example):
    """One of the lecture's four computational graphs, (a) z = x y, (b) logistic regression,
    (c) a ReLU layer, (d) w used twice (chapter "Computational graphs")."""
    check_choice("example", example, EXAMPLES)
    outputs, text = _example(example)
    d = draw_graph(outputs)
    alt = f"Computational graph {text}. " + d.alt
    return draw_graph(outputs, alt=alt)


def _net(T, outputs):
    from .. import graph as g
    from ..rnn import init_rnn

    rng = np.random.default_rng(0)
    params = init_rnn(2, 3, 3, seed=0)
    x = rng.normal(size=(T, 1, 2))
    if outputs:
        return g.unroll_rnn(params, x, rng.integers(0, 3, size=(T, 1)))
    return g.unroll_rnn({k: params[k] for k in ("W", "U", "b")}, x)


def unrolled_graph(T=3, outputs=True):
    """The unrolled RNN as one computational graph (T = 1..3), laid out by dot: the steps side
    by side from bottom (x^(t)) to top (J); W, U, b (and V, c) one shared node each, in a lane
    at the left, each with a bus that taps into every step (chapter "Computational graphs").
    outputs=False: the RNN with no outputs."""
    T = check_int("T", T, 1, 3)
    check_bool("outputs", outputs)
    net = _net(T, outputs)
    top = net.J if outputs else net.h[-1]
    params = "W, U, b, V and c" if outputs else "W, U and b"
    steps = (f"each step t computes a(t) = b + W h(t-1) + U x(t) with two matmul operations and "
             f"a sum, then h(t) = tanh(a(t))")
    if outputs:
        steps += ", o(t) = c + V h(t) and the loss L(t) of o(t) against the target y(t); a sum "
        steps += "of L(1) to L(%d) gives J" % T
    alt = (f"The RNN unrolled for T = {T} steps as one computational graph, laid out from the "
           f"inputs x(1) to x({T}) at the bottom upward, one column per step: {steps}. The "
           f"parameters {params} are single shared nodes in a column at the left; from each "
           f"runs one line across the steps with an arrow into every step that uses it. h(0) "
           f"starts the chain and each h(t) feeds the next step through the gap between them.")
    return draw_graph(top, alt=alt)


def rnn_without_outputs(T=3):
    """The RNN with no outputs unrolled for T steps as a computational graph (chapter
    "Recurrence and unfolding")."""
    return unrolled_graph(T, outputs=False)
