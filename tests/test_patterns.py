"""Tests of rnnlib.patterns: the three design patterns, gradient checks against finite differences."""
import numpy as np
import pytest

from rnnlib import gradcheck, init_rnn, rnn_backward, rnn_forward
from rnnlib import patterns as P

TOL = 1e-7


def softmax_ref(o):
    e = np.exp(o - o.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def ragged_mask(lengths, T):
    return np.arange(T)[:, None] < np.asarray(lengths)[None, :]


def test_pattern_one_is_the_vanilla_rnn():
    assert P.hidden_recurrence_forward is rnn_forward
    assert P.hidden_recurrence_backward is rnn_backward


# ---------------------------------------------------------------------------------------------
# The recurrence alone
# ---------------------------------------------------------------------------------------------
def test_recurrence_matches_a_hand_loop_and_masks_hold_state():
    rng = np.random.default_rng(0)
    p = init_rnn(3, 4, 2, seed=1)
    x, h0 = rng.standard_normal((5, 2, 3)), rng.standard_normal((2, 4))
    mask = ragged_mask([5, 3], 5)
    cache = P.recurrence_forward(p["W"], p["U"], p["b"], x, h0, mask)
    for b in range(2):
        h = h0[b]
        for t in range(5):
            if mask[t, b]:
                h = np.tanh(p["b"] + p["W"] @ h + p["U"] @ x[t, b])
            assert np.allclose(cache.h[t + 1, b], h)


@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
def test_recurrence_backward_gradcheck(activation):
    rng = np.random.default_rng(1)
    p = init_rnn(3, 4, 2, seed=2)
    inputs = {"W": p["W"], "U": p["U"], "b": p["b"] + 0.1, "x": rng.standard_normal((6, 3, 3)),
              "h0": rng.standard_normal((3, 4))}
    mask = ragged_mask([6, 2, 4], 6)
    G = rng.standard_normal((6, 3, 4))                                   # dJ/dh for J = sum(G * h[1:])

    def f(v):
        c = P.recurrence_forward(v["W"], v["U"], v["b"], v["x"], v["h0"], mask, activation)
        return np.sum(G * c.h[1:])

    c = P.recurrence_forward(inputs["W"], inputs["U"], inputs["b"], inputs["x"], inputs["h0"], mask, activation)
    dx, dh0, grads = P.recurrence_backward(inputs["W"], inputs["U"], c, G)
    grads.update(x=dx, h0=dh0)
    errors = gradcheck(f, inputs, grads)
    assert max(errors.values()) < TOL, errors


# ---------------------------------------------------------------------------------------------
# Pattern 2
# ---------------------------------------------------------------------------------------------
def test_teacher_forcing_inputs_shift_the_targets():
    y = np.array([[2, 0], [1, 1], [0, 2]])
    y_prev = P.teacher_forcing_inputs(y, 3)
    assert y_prev.shape == (3, 2, 3)
    assert (y_prev[0] == 0).all()
    assert y_prev[1, 0].tolist() == [0, 0, 1] and y_prev[1, 1].tolist() == [1, 0, 0]
    assert y_prev[2, 0].tolist() == [0, 1, 0] and y_prev[2, 1].tolist() == [0, 1, 0]


def test_output_recurrence_forward_matches_hand_loop():
    rng = np.random.default_rng(3)
    p = P.init_output_recurrence(2, 5, 3, seed=0)
    x, y = rng.standard_normal((4, 2, 2)), rng.integers(0, 3, (4, 2))
    cache = P.output_recurrence_forward(p, x, P.teacher_forcing_inputs(y, 3))
    for b in range(2):
        prev = np.zeros(3)
        for t in range(4):
            h = np.tanh(p["b"] + p["W"] @ prev + p["U"] @ x[t, b])
            o = p["c"] + p["V"] @ h
            assert np.allclose(cache.o[t, b], o)
            prev = np.eye(3)[y[t, b]]


@pytest.mark.parametrize("use_mask", [False, True])
def test_output_recurrence_gradcheck(use_mask):
    rng = np.random.default_rng(4)
    p = P.init_output_recurrence(3, 4, 3, seed=1)
    p["b"] += 0.1
    p["c"] -= 0.2
    x, y = rng.standard_normal((5, 3, 3)), rng.integers(0, 3, (5, 3))
    mask = ragged_mask([5, 2, 4], 5) if use_mask else None
    y_prev = P.teacher_forcing_inputs(y, 3)
    f = lambda v: P.output_recurrence_backward(v, P.output_recurrence_forward(v, x, y_prev, mask), y)[0]
    loss, grads = P.output_recurrence_backward(p, P.output_recurrence_forward(p, x, y_prev, mask), y)
    # an independent loss: hand-computed cross entropy
    yh = softmax_ref(P.output_recurrence_forward(p, x, y_prev).o)
    w = np.ones((5, 3)) if mask is None else mask
    assert np.isclose(loss, -(np.log(yh[np.arange(5)[:, None], np.arange(3), y]) * w).sum() / 3)
    errors = gradcheck(f, p, grads)
    assert max(errors.values()) < TOL, errors


def test_free_running_feeds_back_its_own_predictions():
    rng = np.random.default_rng(5)
    p = P.init_output_recurrence(2, 6, 3, seed=2)
    x = rng.standard_normal((6, 4, 2))
    pred, cache = P.output_recurrence_generate(p, x)
    assert pred.shape == (6, 4)
    assert (cache.y_prev[0] == 0).all()
    for t in range(1, 6):
        assert np.array_equal(cache.y_prev[t].argmax(axis=1), pred[t - 1])
    # the same outputs as teacher forcing with the predictions as "targets"
    again = P.output_recurrence_forward(p, x, P.teacher_forcing_inputs(pred, 3))
    assert np.allclose(again.o, cache.o)
    _, soft = P.output_recurrence_generate(p, x, feedback="probs")
    assert np.allclose(soft.y_prev[1:], soft.y_hat[:-1])


def test_output_recurrence_float32():
    p = P.init_output_recurrence(2, 3, 2, seed=0, dtype=np.float32)
    x = np.ones((3, 1, 2))
    cache = P.output_recurrence_forward(p, x, np.zeros((3, 1, 2)))
    loss, grads = P.output_recurrence_backward(p, cache, np.zeros((3, 1), dtype=int))
    assert cache.o.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())
    assert P.output_recurrence_generate(p, x)[1].o.dtype == np.float32


# ---------------------------------------------------------------------------------------------
# Pattern 3
# ---------------------------------------------------------------------------------------------
def test_last_real_step():
    mask = ragged_mask([3, 1, 4], 4)
    assert P.last_real_step(mask, 4, 3).tolist() == [3, 1, 4]
    assert P.last_real_step(None, 4, 2).tolist() == [4, 4]


@pytest.mark.parametrize("use_mask, shared_h0", [(False, False), (True, False), (True, True)])
def test_seq_to_one_gradcheck(use_mask, shared_h0):
    rng = np.random.default_rng(6)
    p = init_rnn(3, 4, 3, seed=3)
    p["b"] += 0.1
    x, y = rng.standard_normal((5, 3, 3)), rng.integers(0, 3, 3)
    mask = ragged_mask([5, 1, 3], 5) if use_mask else None
    inputs = dict(p, h0=rng.standard_normal((4,) if shared_h0 else (3, 4)))

    def f(v):
        params = {k: v[k] for k in p}
        return P.seq_to_one_backward(params, P.seq_to_one_forward(params, x, v["h0"], mask), y)[0]

    loss, grads = P.seq_to_one_backward(p, P.seq_to_one_forward(p, x, inputs["h0"], mask), y)
    assert grads["h0"].shape == inputs["h0"].shape
    errors = gradcheck(f, inputs, grads)
    assert max(errors.values()) < TOL, errors


def test_seq_to_one_reads_each_sequences_last_real_step():
    """A padded batch gives the outputs and summed gradients of its sequences run alone."""
    rng = np.random.default_rng(7)
    p = init_rnn(2, 3, 2, seed=4)
    lengths, T = [4, 2, 3], 4
    x, y = rng.standard_normal((T, 3, 2)), np.array([1, 0, 1])
    x_padded = x.copy()
    x_padded[~ragged_mask(lengths, T)] = 99.0                           # garbage that must be ignored
    cache = P.seq_to_one_forward(p, x_padded, mask=ragged_mask(lengths, T))
    loss, grads = P.seq_to_one_backward(p, cache, y)
    total, summed = 0.0, {k: 0 for k in p}
    for b, n in enumerate(lengths):
        h = np.zeros(3)
        for t in range(n):
            h = np.tanh(p["b"] + p["W"] @ h + p["U"] @ x[t, b])
        o = p["c"] + p["V"] @ h
        assert np.allclose(cache.o[b], o)
        alone = P.seq_to_one_forward(p, x[:n, b:b + 1])
        l_b, g_b = P.seq_to_one_backward(p, alone, y[b:b + 1])
        total += l_b / 3
        for k in p:
            summed[k] = summed[k] + g_b[k] / 3
    assert np.isclose(loss, total)
    for k in p:
        assert np.allclose(grads[k], summed[k])


def test_seq_to_one_dh_only_at_the_last_step():
    rng = np.random.default_rng(8)
    V = rng.standard_normal((3, 4))
    y_hat = softmax_ref(rng.standard_normal((2, 3)))
    dh = P.seq_to_one_dh(V, y_hat, np.array([0, 2]), np.array([2, 5]), 5)
    assert dh.shape == (5, 2, 4)
    assert np.allclose(dh[1, 0], V.T @ (y_hat[0] - [1, 0, 0]) / 2)
    assert np.allclose(dh[4, 1], V.T @ (y_hat[1] - [0, 0, 1]) / 2)
    assert np.count_nonzero(np.abs(dh).sum(axis=2)) == 2


def test_seq_to_one_float32_and_predict():
    p = init_rnn(2, 3, 2, seed=0, dtype=np.float32)
    cache = P.seq_to_one_forward(p, np.ones((3, 2, 2)))
    loss, grads = P.seq_to_one_backward(p, cache, np.array([0, 1]))
    assert cache.o.dtype == np.float32 and grads["W"].dtype == np.float32
    assert P.seq_to_one_predict(p, np.ones((3, 2, 2))).shape == (2,)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
def test_bad_input():
    p = init_rnn(2, 3, 2, seed=0)
    q = P.init_output_recurrence(2, 3, 2, seed=0)
    x = np.ones((3, 2, 2))
    with pytest.raises(ValueError, match="x"):
        P.seq_to_one_forward(p, np.ones((3, 2, 5)))
    with pytest.raises(ValueError, match="no real step"):
        P.seq_to_one_forward(p, x, mask=np.array([[1, 0]] * 3, dtype=bool))
    with pytest.raises(ValueError, match="y"):
        P.seq_to_one_backward(p, P.seq_to_one_forward(p, x), np.array([0, 7]))
    with pytest.raises(TypeError, match="cache"):
        P.seq_to_one_backward(p, P.output_recurrence_forward(q, x, np.zeros((3, 2, 2))), np.array([0, 1]))
    with pytest.raises(KeyError):
        P.seq_to_one_forward({"W": p["W"]}, x)
    with pytest.raises(ValueError, match="W"):
        P.output_recurrence_forward(dict(q, W=np.ones((3, 3))), x, np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="y_prev"):
        P.output_recurrence_forward(q, x, np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="x"):
        P.output_recurrence_forward(q, np.ones((3, 2)), np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="feedback"):
        P.output_recurrence_generate(q, x, feedback="sample")
    with pytest.raises(TypeError, match="cache"):
        P.output_recurrence_backward(q, P.seq_to_one_forward(p, x), np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match="y"):
        P.teacher_forcing_inputs(np.array([[0, 3]]), 3)
    with pytest.raises(ValueError, match="y"):
        P.teacher_forcing_inputs(np.array([0, 1]), 3)
    with pytest.raises(TypeError):
        P.init_output_recurrence(2, 3, 2, dtype=int)
    with pytest.raises(ValueError, match="dh"):
        c = P.recurrence_forward(p["W"], p["U"], p["b"], x, np.zeros((2, 3)))
        P.recurrence_backward(p["W"], p["U"], c, np.zeros((3, 2, 4)))
    with pytest.raises(ValueError, match="h0"):
        P.recurrence_forward(p["W"], p["U"], p["b"], x, np.zeros((1, 3)))


def test_integer_weights_are_computed_in_float():
    """Issue 18: integer W, U, b used to truncate h to 0."""
    W, U, b = np.array([[1]]), np.array([[1]]), np.array([0])
    cache = P.recurrence_forward(W, U, b, np.full((2, 1, 1), 0.5), np.zeros((1, 1)))
    assert cache.h.dtype == np.float64
    assert np.allclose(cache.h[1:, 0, 0], [np.tanh(0.5), np.tanh(np.tanh(0.5) + 0.5)])


def test_nan_in_params_is_refused():
    p = init_rnn(2, 3, 2, seed=0)
    p["W"][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"params\['W'\].*NaN"):
        P.seq_to_one_forward(p, np.ones((3, 2, 2)))
