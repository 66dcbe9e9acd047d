"""Tests of rnnlib.graph: every operation's backward against centred finite differences
(float64, relative error < 1e-7), the lecture's four examples, the unrolled RNN against
rnn_backward, the drawing, and bad input."""

import numpy as np
import pytest

import rnnlib
from rnnlib import graph as g


def rel_err(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


def numeric_grads(build, arrays, eps=1e-6):
    """Centred differences of the scalar build(**arrays).value for every array (independent of
    the engine's backward pass)."""
    grads = {}
    for key, array in arrays.items():
        grad = np.zeros_like(array)
        for idx in np.ndindex(array.shape):
            old = array[idx]
            array[idx] = old + eps
            plus = build(**arrays).value
            array[idx] = old - eps
            minus = build(**arrays).value
            array[idx] = old
            grad[idx] = (plus - minus) / (2 * eps)
        grads[key] = grad
    return grads


def check_against_fd(build, arrays, tol=1e-7):
    """Build with Variables, backprop, compare each input's grad with finite differences."""
    variables = {k: g.variable(v.copy(), k) for k, v in arrays.items()}
    out = build(**variables)
    out.backward()
    expected = numeric_grads(lambda **a: build(**{k: g.variable(v, k) for k, v in a.items()}),
                             {k: v.copy() for k, v in arrays.items()})
    for key, var in variables.items():
        assert var.grad is not None, key
        assert var.grad.shape == arrays[key].shape
        assert rel_err(var.grad, expected[key]) < tol, (key, rel_err(var.grad, expected[key]))


rng = np.random.default_rng(0)

OP_CASES = {
    "add": (lambda a, b: g.sum(g.mul(g.add(a, b), g.add(a, b))),
            {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=(4,))}),
    "add3": (lambda a, b, c: g.sum(g.square(g.add(a, b, c))),
             {"a": rng.normal(size=(2, 3)), "b": rng.normal(size=(3,)), "c": rng.normal(size=(2, 3))}),
    "sub": (lambda a, b: g.sum(g.square(g.sub(a, b))),
            {"a": rng.normal(size=(3,)), "b": rng.normal(size=(3,))}),
    "mul": (lambda a, b: g.sum(g.mul(a, b)), {"a": rng.normal(size=(2, 3)), "b": rng.normal(size=(2, 3))}),
    "neg": (lambda a: g.sum(g.mul(g.neg(a), a)), {"a": rng.normal(size=(3,))}),
    "matmul": (lambda A, B: g.sum(g.square(g.matmul(A, B))),
               {"A": rng.normal(size=(3, 4)), "B": rng.normal(size=(4, 2))}),
    "matmul_vec": (lambda A, v: g.sum(g.square(g.matmul(A, v))),
                   {"A": rng.normal(size=(3, 4)), "v": rng.normal(size=(4,))}),
    "matmul_rowvec": (lambda v, A: g.sum(g.square(g.matmul(v, A))),
                      {"v": rng.normal(size=(3,)), "A": rng.normal(size=(3, 4))}),
    "dot": (lambda x, w: g.square(g.dot(x, w)), {"x": rng.normal(size=(5,)), "w": rng.normal(size=(5,))}),
    "matvec": (lambda W, v: g.sum(g.square(g.matvec(W, v))),
               {"W": rng.normal(size=(3, 4)), "v": rng.normal(size=(2, 4))}),
    "matvec_1d": (lambda W, v: g.sum(g.square(g.matvec(W, v))),
                  {"W": rng.normal(size=(3, 4)), "v": rng.normal(size=(4,))}),
    "transpose": (lambda A, B: g.sum(g.square(g.matmul(g.transpose(A), B))),
                  {"A": rng.normal(size=(3, 2)), "B": rng.normal(size=(3, 4))}),
    "sum_axis": (lambda a: g.sum(g.square(g.sum(a, axis=0))), {"a": rng.normal(size=(3, 4))}),
    "mean": (lambda a: g.sum(g.square(g.mean(a, axis=1))), {"a": rng.normal(size=(3, 4))}),
    "mean_all": (lambda a: g.square(g.mean(a)), {"a": rng.normal(size=(3, 4))}),
    "exp": (lambda a: g.sum(g.exp(a)), {"a": rng.normal(size=(3,))}),
    "log": (lambda a: g.sum(g.log(g.exp(a) + 1.0)), {"a": rng.normal(size=(3,))}),
    "sigmoid": (lambda a: g.sum(g.square(g.sigmoid(a))), {"a": rng.normal(size=(4,))}),
    "tanh": (lambda a: g.sum(g.square(g.tanh(a))), {"a": rng.normal(size=(4,))}),
    "relu": (lambda a: g.sum(g.square(g.relu(a))), {"a": np.array([-1.3, -0.2, 0.4, 2.0])}),
    "identity": (lambda a: g.sum(g.square(g.identity(a))), {"a": rng.normal(size=(4,))}),
    "xent": (lambda o: g.softmax_cross_entropy(o, np.array([0, 2, 1])), {"o": rng.normal(size=(3, 4))}),
    "xent_1d": (lambda o: g.softmax_cross_entropy(o, 2), {"o": rng.normal(size=(4,))}),
    "operators": (lambda a, b: (a * b + a - b - (a @ b) * 2.0 + 1.0 - a).sum() + (a ** 2).sum(),
                  {"a": rng.normal(size=(3,)), "b": rng.normal(size=(3,))}),
}


@pytest.mark.parametrize("case", sorted(OP_CASES))
def test_operation_gradients_match_finite_differences(case):
    build, arrays = OP_CASES[case]
    check_against_fd(build, arrays)


def test_example_a_product():
    x, y = g.variable(2.0, "x"), g.variable(-3.0, "y")
    z = g.mul(x, y, name="z")
    z.backward()
    assert z.value == -6.0 and x.grad == -3.0 and y.grad == 2.0
    check_against_fd(lambda x, y: g.mul(x, y), {"x": np.array(1.5), "y": np.array(0.7)})


def test_example_b_logistic_regression():
    x, w, b = rng.normal(size=4), rng.normal(size=4), np.array(0.3)
    build = lambda x, w, b: g.sigmoid(g.add(g.dot(x, w), b))  # noqa: E731
    check_against_fd(build, {"x": x.copy(), "w": w.copy(), "b": b.copy()})
    # closed form: d sigma(u)/dw = sigma(u)(1 - sigma(u)) x
    W = g.parameter(w, "w")
    y_hat = build(g.variable(x, "x"), W, g.parameter(b, "b"))
    y_hat.backward()
    s = 1 / (1 + np.exp(-(x @ w + b)))
    assert np.allclose(y_hat.value, s)
    assert rel_err(W.grad, s * (1 - s) * x) < 1e-12


def test_example_c_relu_layer():
    X, W, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4,))
    H = g.relu(g.add(g.matmul(g.variable(X), g.variable(W)), g.variable(b)))
    assert np.allclose(H.value, np.maximum(0, X @ W + b))
    check_against_fd(lambda X, W, b: g.sum(g.square(g.relu(g.add(g.matmul(X, W), b)))),
                     {"X": X, "W": W, "b": b})


def test_example_d_shared_weights_sum_their_gradients():
    x, w, lam = rng.normal(size=3), rng.normal(size=3), 0.1
    X, Wn = g.variable(x, "x"), g.parameter(w.copy(), "w")
    y_hat = g.dot(X, Wn, name="ŷ")
    penalty = g.mul(g.constant(lam, "λ"), g.sum(g.square(Wn)))
    J = g.add(y_hat, penalty, name="J")
    J.backward()
    assert rel_err(Wn.grad, x + 2 * lam * w) < 1e-12     # one share from each use of w
    check_against_fd(lambda x, w: g.add(g.dot(x, w), g.mul(lam, g.sum(g.square(w)))),
                     {"x": x, "w": w})
    # w has two users in the graph
    _, ops = g.graph_nodes(J)
    assert sum(any(u is Wn for u in op.inputs) for op in ops) == 2


def test_constants_receive_no_gradient_and_unused_nodes_none():
    a, k = g.variable(np.array([1.0, 2.0]), "a"), g.constant(3.0, "k")
    unused = g.variable(np.array(5.0), "unused")
    branch = g.mul(unused, 2.0, name="branch")
    J = g.sum(g.mul(a, k), name="J")
    J.backward()
    assert k.grad is None and unused.grad is None and branch.grad is None
    assert np.allclose(a.grad, [3.0, 3.0])
    assert g.receives_gradient(J) == {"a"}


def test_backward_resets_gradients_between_calls():
    a = g.variable(np.array([1.0, 2.0]), "a")
    J = g.sum(g.square(a))
    J.backward()
    J.backward()
    assert np.allclose(a.grad, 2 * a.value)


def test_equations_lists_forward_pass():
    x, w = g.variable(np.ones(2), "x"), g.parameter(np.ones(2), "w")
    y_hat = g.sigmoid(g.add(g.dot(x, w), g.parameter(0.0, "b")), name="ŷ")
    assert g.equations(y_hat) == ["u^(1) = dot(x, w)", "u^(2) = +(u^(1), b)", "ŷ = σ(u^(2))"]


def hand_rnn_loss(params, x, y, h0, activation):
    """A hand-written forward pass (independent of both engines), for finite differences."""
    act = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0), "identity": lambda a: a}[activation]
    h, J = h0, 0.0
    for t in range(x.shape[0]):
        h = act(params["b"] + h @ params["W"].T + x[t] @ params["U"].T)
        o = params["c"] + h @ params["V"].T
        o = o - o.max(axis=1, keepdims=True)
        logp = o - np.log(np.exp(o).sum(axis=1, keepdims=True))
        J += -logp[np.arange(x.shape[1]), y[t]].sum() / x.shape[1]
    return J


@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
def test_unrolled_rnn_matches_rnn_backward(activation):
    T, B, d, m, C = 4, 3, 2, 5, 3
    params = rnnlib.init_rnn(d, m, C, seed=1)
    params["b"] = rng.normal(size=m) * 0.1
    params["c"] = rng.normal(size=C) * 0.1
    x = rng.normal(size=(T, B, d))
    y = rng.integers(0, C, size=(T, B))
    h0 = rng.normal(size=(B, m)) * 0.5
    net = g.unroll_rnn(params, x, y, h0=h0, activation=activation)
    grads = net.gradients()
    cache = rnnlib.rnn_forward(params, x, h0=h0, activation=activation)
    loss, ref = rnnlib.rnn_backward(params, cache, y)
    assert np.isclose(net.J.value, loss, rtol=1e-12)
    assert np.isclose(net.J.value, hand_rnn_loss(params, x, y, h0, activation), rtol=1e-12)
    for key in ("W", "U", "V", "b", "c", "h0"):
        assert grads[key].shape == ref[key].shape, key
        assert rel_err(grads[key], ref[key]) < 1e-9, key
    # and against finite differences of the hand-written loss
    arrays = {k: np.array(v, dtype=float) for k, v in params.items()}
    for key in ("W", "b"):
        fd = np.zeros_like(arrays[key])
        for idx in np.ndindex(fd.shape):
            old = arrays[key][idx]
            arrays[key][idx] = old + 1e-6
            plus = hand_rnn_loss(arrays, x, y, h0, activation)
            arrays[key][idx] = old - 1e-6
            minus = hand_rnn_loss(arrays, x, y, h0, activation)
            arrays[key][idx] = old
            fd[idx] = (plus - minus) / 2e-6
        assert rel_err(grads[key], fd) < 1e-7, key


def test_unrolled_rnn_shares_one_node_per_parameter():
    T = 5
    params = rnnlib.init_rnn(2, 3, 4, seed=0)
    net = g.unroll_rnn(params, rng.normal(size=(T, 2)), rng.integers(0, 4, size=T))
    variables, ops = g.graph_nodes(net.J)
    for key in ("W", "U", "V", "b", "c"):
        nodes = [v for v in variables if v.name == key]
        assert len(nodes) == 1, key
        users = [op for op in ops if any(u is nodes[0] for u in op.inputs)]
        assert len(users) == T, key                     # the same node feeds every step
    assert len(net.h) == T + 1 and len(net.L) == T
    # no outputs: the RNN that only updates h
    plain = g.unroll_rnn({k: params[k] for k in ("W", "U", "b")}, rng.normal(size=(3, 2)))
    assert plain.J is None and plain.o == [] and len(plain.h) == 4
    h = np.zeros(3)
    for t in range(3):
        h = np.tanh(params["W"] @ h + params["U"] @ plain.x[t].value[0])
    assert np.allclose(plain.h[-1].value[0], h)
    with pytest.raises(ValueError, match="no outputs"):
        plain.gradients()


def test_layout_is_layered_left_to_right():
    params = rnnlib.init_rnn(2, 3, 4, seed=0)
    net = g.unroll_rnn(params, rng.normal(size=(3, 2)), rng.integers(0, 4, size=3))
    for on_top in (False, True):
        coords, variables, ops = g.layout(net.J, parameters_on_top=on_top)
        for op in ops:
            assert coords[id(op.output)][0] > coords[id(op)][0]
            for u in op.inputs:
                if not (on_top and u.kind == "parameter"):
                    assert coords[id(u)][0] < coords[id(op)][0]
        # h^(t) is right of h^(t-1)
        xs = [coords[id(h)][0] for h in net.h]
        assert xs == sorted(xs) and len(set(xs)) == len(xs)
        # no two nodes on the same spot
        points = {(round(x, 6), round(y, 6)) for x, y in coords.values()}
        assert len(points) == len(coords)


def _texts(svg):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")], root


def test_draw_returns_a_diagram_with_every_node():
    from rnnlib.diagrams import Diagram

    x, w, b = g.variable(np.ones(2), "x"), g.parameter(np.ones(2), "w"), g.parameter(0.0, "b")
    y_hat = g.sigmoid(g.add(g.dot(x, w), b), name="ŷ")
    y_hat.backward()
    fig = g.draw(y_hat, show_grads=True, title="logistic regression")
    assert isinstance(fig, Diagram)
    texts, root = _texts(fig.svg)
    assert {"x", "w", "b", "ŷ", "dot", "+", "σ"} <= set(texts)
    arrows = [el for el in root.iter() if el.get("class", "").startswith("arrow")]
    assert len(arrows) == 8             # edges: dot 2+1, + 2+1, σ 1+1 (u^(1), u^(2) shown)
    tips = " ".join(el.text or "" for el in root.iter("{http://www.w3.org/2000/svg}title"))
    assert "gradient" in tips
    assert "logistic regression" in fig._repr_html_()        # the title is the caption
    assert "ŷ" in fig.alt and "w" in fig.alt


def test_every_operation_has_its_backward_beside_its_forward():
    ops = [cls for cls in vars(g).values()
           if isinstance(cls, type) and issubclass(cls, g.Operation) and cls is not g.Operation]
    assert len(ops) >= 15
    for cls in ops:
        assert "forward" in cls.__dict__ and "backward" in cls.__dict__, cls.__name__
        assert cls.symbol != "op", cls.__name__


def test_draw_fits_the_column_and_shows_shared_parameters_once():
    small = g.draw(g.mul(g.variable(1.0, "x"), g.variable(2.0, "y")))
    assert small.width < 300
    params = rnnlib.init_rnn(2, 3, 4, seed=0)
    net = g.unroll_rnn(params, rng.normal(size=(3, 2)), rng.integers(0, 4, size=3))
    from rnnlib.diagrams.graphs import GraphLayoutWarning

    with pytest.warns(GraphLayoutWarning, match="parameters_on_top is ignored"):
        fig = g.draw(net.J, parameters_on_top=True)          # an unrolled net: lane at left
    assert fig.width <= 660
    texts, _ = _texts(fig.svg)
    for name in ("W", "U", "b", "V", "c", "J"):
        assert texts.count(name) == 1, name                 # one shared node each
    for t in (1, 2, 3):
        assert f"h({t})" in texts and f"x({t})" in texts and f"L({t})" in texts


def test_draw_bad_arguments_name_the_argument():
    z = g.mul(g.variable(1.0, "x"), g.variable(2.0, "y"))
    with pytest.raises(TypeError, match="show_grads"):
        g.draw(z, show_grads="yes")
    with pytest.raises(TypeError, match="parameters_on_top"):
        g.draw(z, parameters_on_top=1)
    with pytest.raises(TypeError, match="title"):
        g.draw(z, title=3)
    with pytest.raises(ValueError, match="width"):
        g.draw(z, width=10)
    with pytest.raises(ValueError, match="height"):
        g.draw(z, height=-1)
    with pytest.raises(TypeError, match="outputs"):
        g.draw(5)
    with pytest.raises(TypeError, match="parameters_on_top"):
        g.layout(z, parameters_on_top="no")


def test_bad_input():
    with pytest.raises(TypeError, match="numeric"):
        g.variable("abc")
    with pytest.raises(ValueError, match="NaN"):
        g.variable([1.0, np.nan])
    with pytest.raises(ValueError, match="kind"):
        g.Variable(1.0, kind="weird")
    with pytest.raises(TypeError, match="name"):
        g.Variable(1.0, name=3)
    with pytest.raises(ValueError, match="inner dimensions"):
        g.matmul(g.variable(np.ones((2, 3))), g.variable(np.ones((4, 2))))
    with pytest.raises(ValueError, match="do not broadcast"):
        g.add(g.variable(np.ones(3)), g.variable(np.ones(4)))
    with pytest.raises(ValueError, match="do not broadcast"):
        g.mul(g.variable(np.ones(3)), g.variable(np.ones(2)))
    with pytest.raises(ValueError, match="same length"):
        g.dot(g.variable(np.ones(3)), g.variable(np.ones(2)))
    with pytest.raises(ValueError, match="matvec"):
        g.matvec(g.variable(np.ones((2, 3))), g.variable(np.ones(2)))
    with pytest.raises(ValueError, match="scalar"):
        g.variable(np.ones(3)).backward()
    with pytest.raises(ValueError, match="shape"):
        g.variable(np.ones(3)).backward(np.ones(2))
    with pytest.raises(ValueError, match="targets"):
        g.softmax_cross_entropy(g.variable(np.ones((2, 3))), np.array([0, 3]))
    with pytest.raises(TypeError, match="integers"):
        g.softmax_cross_entropy(g.variable(np.ones((2, 3))), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="positive"):
        g.log(g.variable(np.array([-1.0])))
    with pytest.raises(TypeError, match="Variable"):
        g.add(g.variable(1.0), "x")
    with pytest.raises(ValueError, match="at least 2"):
        g.add(g.variable(1.0))
    with pytest.raises(ValueError, match=r"\*\* 2"):
        g.variable(1.0) ** 3
    with pytest.raises(TypeError, match="outputs"):
        g.topological_order([])
    params = rnnlib.init_rnn(2, 3, 4)
    with pytest.raises(KeyError, match="W"):
        g.unroll_rnn({"U": params["U"], "b": params["b"]}, np.ones((2, 2)))
    with pytest.raises(ValueError, match="x must have shape"):
        g.unroll_rnn(params, np.ones((2, 5)))
    with pytest.raises(ValueError, match="activation"):
        g.unroll_rnn(params, np.ones((2, 2)), activation="gelu")
    with pytest.raises(ValueError, match="h0"):
        g.unroll_rnn(params, np.ones((2, 2)), h0=np.ones(5))
    with pytest.raises(ValueError, match="y must have shape"):
        g.unroll_rnn(params, np.ones((2, 2)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="T = 0"):
        g.unroll_rnn(params, np.ones((0, 1, 2)))
    with pytest.raises(ValueError, match="square"):
        g.unroll_rnn({**params, "W": np.ones((3, 2))}, np.ones((2, 2)))
    with pytest.raises(TypeError, match="dict"):
        g.unroll_rnn([1, 2], np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"params\['W'\] contains NaN"):
        g.unroll_rnn({**params, "W": np.full((3, 3), np.nan)}, np.ones((2, 2)))
    with pytest.raises(ValueError, match="x contains NaN"):
        g.unroll_rnn(params, np.array([[1.0, np.inf], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="h0 contains NaN"):
        g.unroll_rnn(params, np.ones((2, 2)), h0=np.full(3, np.nan))
    with pytest.raises(TypeError, match="y must hold integer"):
        g.unroll_rnn(params, np.ones((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"y must hold classes in \[0, 4\)"):
        g.unroll_rnn(params, np.ones((2, 2)), np.array([0, 4]))
    with pytest.raises(TypeError, match="x must be a numeric"):
        g.unroll_rnn(params, "abc")
    with pytest.raises(TypeError, match="axis"):
        g.sum(g.variable(np.ones(3)), axis=1.5)
    with pytest.raises(ValueError, match="axis must be in"):
        g.mean(g.variable(np.ones(3)), axis=2)
    with pytest.raises(TypeError, match="outputs"):
        g.topological_order(3)
