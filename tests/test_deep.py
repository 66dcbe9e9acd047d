"""Tests of rnnlib.deep: stacked and deep-transition RNNs (gradient checks, hand loops) and the
shortest paths of their unrolled graphs."""
import itertools

import numpy as np
import pytest

from rnnlib import gradcheck, init_rnn, rnn_backward, rnn_forward
from rnnlib import deep as D

TOL = 1e-7


def ragged_mask(lengths, T):
    return np.arange(T)[:, None] < np.asarray(lengths)[None, :]


def perturb(params, rng, scale=0.1):
    """Non-zero biases (and skip), so that their gradients are exercised."""
    for k, v in params.items():
        if k.startswith("b") or k == "c" or k == "Ws":
            params[k] = v + scale * rng.standard_normal(v.shape)
    return params


# ---------------------------------------------------------------------------------------------
# Stacked
# ---------------------------------------------------------------------------------------------
def test_stacked_matches_a_hand_loop():
    rng = np.random.default_rng(0)
    p = perturb(D.init_stacked_rnn(2, 3, 4, layers=3, seed=1), rng)
    x = rng.standard_normal((4, 2, 2))
    cache = D.stacked_forward(p, x)
    for b in range(2):
        hs = [np.zeros(3)] * 3
        for t in range(4):
            below = x[t, b]
            for l in range(3):
                hs[l] = np.tanh(p[f"b{l+1}"] + p[f"W{l+1}"] @ hs[l] + p[f"U{l+1}"] @ below)
                below = hs[l]
            assert np.allclose(cache.o[t, b], p["c"] + p["V"] @ hs[2])


def test_one_layer_stack_is_the_vanilla_rnn():
    rng = np.random.default_rng(1)
    p = perturb(D.init_stacked_rnn(2, 3, 4, layers=1, seed=2), rng)
    q = {"W": p["W1"], "U": p["U1"], "b": p["b1"], "V": p["V"], "c": p["c"]}
    x, y = rng.standard_normal((5, 2, 2)), rng.integers(0, 4, (5, 2))
    loss, grads = D.stacked_backward(p, D.stacked_forward(p, x), y)
    loss_ref, grads_ref = rnn_backward(q, rnn_forward(q, x), y)
    assert np.isclose(loss, loss_ref)
    assert np.allclose(grads["W1"], grads_ref["W"]) and np.allclose(grads["V"], grads_ref["V"])


@pytest.mark.parametrize("layers, use_mask", [(2, False), (3, True)])
def test_stacked_gradcheck(layers, use_mask):
    rng = np.random.default_rng(2)
    p = perturb(D.init_stacked_rnn(3, 4, 3, layers=layers, seed=3), rng)
    x, y = rng.standard_normal((5, 3, 3)), rng.integers(0, 3, (5, 3))
    mask = ragged_mask([5, 2, 4], 5) if use_mask else None
    inputs = dict(p, h0=0.5 * rng.standard_normal((layers, 3, 4)))

    def f(v):
        params = {k: v[k] for k in p}
        return D.stacked_backward(params, D.stacked_forward(params, x, v["h0"], mask), y)[0]

    loss, grads = D.stacked_backward(p, D.stacked_forward(p, x, inputs["h0"], mask), y)
    errors = gradcheck(f, inputs, grads)
    assert max(errors.values()) < TOL, errors


# ---------------------------------------------------------------------------------------------
# Deep input / transition / skip / output
# ---------------------------------------------------------------------------------------------
ARCHS = [dict(deep_input=i, deep_transition=t, skip=s, deep_output=o)
         for i, t, s, o in itertools.product([False, True], repeat=4) if not (s and not t)]


def test_plain_deep_rnn_is_the_vanilla_rnn():
    rng = np.random.default_rng(3)
    p = perturb(D.init_deep_rnn(2, 3, 4, seed=0), rng)
    x, y = rng.standard_normal((5, 2, 2)), rng.integers(0, 4, (5, 2))
    mask = ragged_mask([5, 3], 5)
    loss, grads = D.deep_backward(p, D.deep_forward(p, x, mask=mask), y)
    loss_ref, grads_ref = rnn_backward(p, rnn_forward(p, x, mask=mask), y)
    assert np.isclose(loss, loss_ref)
    for k in p:
        assert np.allclose(grads[k], grads_ref[k])


def test_deep_matches_a_hand_loop():
    rng = np.random.default_rng(4)
    p = perturb(D.init_deep_rnn(2, 3, 4, deep_input=True, deep_transition=True, skip=True,
                                deep_output=True, mlp_size=5, seed=1), rng)
    x = rng.standard_normal((4, 2, 2))
    cache = D.deep_forward(p, x)
    for b in range(2):
        h = np.zeros(3)
        for t in range(4):
            xp = np.tanh(p["bi"] + p["Ui"] @ x[t, b])
            z = np.tanh(p["b"] + p["W"] @ h + p["U"] @ xp)
            h = np.tanh(p["b2"] + p["W2"] @ z + p["Ws"] @ h)
            q = np.tanh(p["bq"] + p["Vq"] @ h)
            assert np.allclose(cache.o[t, b], p["c"] + p["V"] @ q)


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: "-".join(k for k, v in a.items() if v) or "plain")
def test_deep_gradcheck(arch):
    rng = np.random.default_rng(5)
    p = perturb(D.init_deep_rnn(3, 4, 3, mlp_size=5, seed=2, **arch), rng)
    x, y = rng.standard_normal((5, 3, 3)), rng.integers(0, 3, (5, 3))
    mask = ragged_mask([5, 2, 4], 5)
    inputs = dict(p, h0=0.5 * rng.standard_normal((3, 4)))

    def f(v):
        params = {k: v[k] for k in p}
        return D.deep_backward(params, D.deep_forward(params, x, v["h0"], mask), y)[0]

    loss, grads = D.deep_backward(p, D.deep_forward(p, x, inputs["h0"], mask), y)
    assert set(grads) == set(p) | {"h0"}
    errors = gradcheck(f, inputs, grads)
    assert max(errors.values()) < TOL, errors


def test_deep_float32_and_shared_h0():
    p = D.init_deep_rnn(2, 3, 2, deep_transition=True, skip=True, seed=0, dtype=np.float32)
    cache = D.deep_forward(p, np.ones((3, 2, 2)), h0=np.zeros(3))
    loss, grads = D.deep_backward(p, cache, np.zeros((3, 2), dtype=int))
    assert cache.o.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())
    assert grads["h0"].shape == (3,)


# ---------------------------------------------------------------------------------------------
# Shortest paths
# ---------------------------------------------------------------------------------------------
def test_shortest_path_closed_forms():
    for k in range(0, 6):
        assert D.path_between_steps(k) == k + 2                           # x -> h, k hops, h -> o
        assert D.hidden_path(k) == k
        for n in (2, 3):
            assert D.hidden_path(k, transition_depth=n) == n * k          # the MLP lengthens every hop
            assert D.hidden_path(k, transition_depth=n, skip=True) == k   # the skip shortens it back
            assert D.path_between_steps(k, transition_depth=n) == n * (k + 1) + 1
            assert D.path_between_steps(k, transition_depth=n, skip=True) == n + k + 1
        assert D.path_between_steps(k, layers=3) == k + 4                 # up three layers, across the top
        assert D.path_between_steps(k, input_depth=2, output_depth=3) == k + 2 + 1 + 2


def test_shortest_path_on_a_hand_graph():
    g = {"a": ["b", "c"], "b": ["d"], "c": ["e"], "e": ["d"], "d": [], "z": []}
    assert D.shortest_path(g, "a", "d") == 2
    assert D.shortest_path(g, "a", "a") == 0
    assert D.shortest_path(g, "d", "a") is None
    assert D.shortest_path(g, "a", "z") is None


def test_graph_edges_of_a_small_shallow_rnn():
    g = D.unrolled_graph(2)
    assert sorted(g[("h", 1, 0)]) == [("h", 1, 1)]
    assert sorted(g[("h", 1, 1)]) == sorted([("h", 1, 2), ("o", 1)])
    assert g[("x", 2)] == [("h", 1, 2)]


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
def test_bad_input():
    p = D.init_deep_rnn(2, 3, 2, deep_transition=True, seed=0)
    s = D.init_stacked_rnn(2, 3, 2, layers=2)
    x = np.ones((3, 2, 2))
    with pytest.raises(ValueError, match="skip"):
        D.init_deep_rnn(2, 3, 2, skip=True)
    with pytest.raises(KeyError):
        D.deep_forward({k: v for k, v in p.items() if k != "b2"}, x)
    with pytest.raises(KeyError, match="Ws"):
        D.deep_forward(dict(D.init_deep_rnn(2, 3, 2), Ws=np.zeros((3, 3))), x)
    with pytest.raises(ValueError, match="W2"):
        D.deep_forward(dict(p, W2=np.zeros((3, 4))), x)
    with pytest.raises(ValueError, match="x"):
        D.deep_forward(p, np.ones((3, 2, 5)))
    with pytest.raises(ValueError, match="h0"):
        D.deep_forward(p, x, h0=np.zeros((4, 3)))
    with pytest.raises(TypeError, match="cache"):
        D.deep_backward(D.init_deep_rnn(2, 3, 2), D.deep_forward(p, x), np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match="y"):
        D.deep_backward(p, D.deep_forward(p, x), np.full((3, 2), 5))
    with pytest.raises(KeyError, match="W1"):
        D.stacked_forward({"V": np.ones((2, 3))}, x)
    with pytest.raises(ValueError, match="U2"):
        D.stacked_forward(dict(s, U2=np.ones((3, 2))), x)
    with pytest.raises(ValueError, match="h0"):
        D.stacked_forward(s, x, h0=np.zeros((3, 2, 3)))
    with pytest.raises(TypeError, match="cache"):
        D.stacked_backward(s, D.deep_forward(p, x), np.zeros((3, 2), dtype=int))
    with pytest.raises(TypeError):
        D.init_stacked_rnn(2, 3, 2, layers=1.5)
    with pytest.raises(ValueError, match="skip"):
        D.unrolled_graph(3, skip=True)
    with pytest.raises(KeyError, match="source"):
        D.shortest_path({"a": []}, "b", "a")
    with pytest.raises(ValueError, match="k"):
        D.hidden_path(-1)


# ---------------------------------------------------------------------------------------------
# Step Jacobians
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", [a for a in ARCHS if not a["deep_input"] and not a["deep_output"]],
                         ids=lambda a: "-".join(k for k, v in a.items() if v) or "plain")
def test_step_jacobians_match_finite_differences(arch):
    """The product of the step Jacobians is dh^(T)/dh^(0), measured by perturbing h0."""
    rng = np.random.default_rng(9)
    p = perturb(D.init_deep_rnn(2, 3, 2, seed=4, **arch), rng)
    x, h0 = rng.standard_normal((4, 2, 2)), 0.3 * rng.standard_normal((2, 3))
    mask = ragged_mask([4, 2], 4)
    cache = D.deep_forward(p, x, h0, mask)
    jac = D.deep_step_jacobians(p, cache)
    assert jac.shape == (4, 2, 3, 3)
    assert np.allclose(jac[2:, 1], np.eye(3))                            # padded steps: identity
    product = np.broadcast_to(np.eye(3), (2, 3, 3))
    for t in range(4):
        product = jac[t] @ product
    eps = 1e-6
    numeric = np.zeros((2, 3, 3))
    for j in range(3):
        up, down = h0.copy(), h0.copy()
        up[:, j] += eps
        down[:, j] -= eps
        numeric[:, :, j] = (D.deep_forward(p, x, up, mask).h[-1] - D.deep_forward(p, x, down, mask).h[-1]) / (2 * eps)
    assert np.allclose(product, numeric, atol=1e-8)


def test_step_jacobians_bad_input():
    p = D.init_deep_rnn(2, 3, 2, deep_transition=True, seed=0)
    with pytest.raises(TypeError, match="cache"):
        D.deep_step_jacobians(D.init_deep_rnn(2, 3, 2), D.deep_forward(p, np.ones((3, 1, 2))))


def test_an_incomplete_layer_raises_naming_the_missing_keys():
    """Issue 18: params with U2, b2 but no W2 used to run one layer silently."""
    s = D.init_stacked_rnn(2, 3, 2, layers=2)
    x = np.ones((3, 2, 2))
    with pytest.raises(KeyError, match="W2"):
        D.stacked_forward({k: v for k, v in s.items() if k != "W2"}, x)
    with pytest.raises(KeyError, match=r"\['W3', 'b3'\]"):
        D.stacked_forward({**s, "U3": s["U2"]}, x)
    p = D.init_deep_rnn(2, 3, 2, deep_transition=True)
    with pytest.raises(KeyError, match="W2"):
        D.deep_forward({k: v for k, v in p.items() if k != "W2"}, x)    # b2 alone: not a shallow RNN
