"""Tests of the LSTM (rnnlib/lstm.py) against independent references.

References: centred finite differences (float64), a forward loop written out here in the test
from the equations, per-sequence runs for masked batches, and closed forms of special cases.
"""
import numpy as np
import pytest

import rnnlib
from rnnlib import (
    LSTMCache,
    LSTMStepCache,
    gradcheck,
    init_lstm,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
)

T, B, d, m, C = 5, 3, 4, 6, 7
GATES = ("i", "f", "o", "g")
STEP_PARAMS = tuple(f"{M}_{k}" for k in GATES for M in ("W", "U", "b"))
PARAMS = STEP_PARAMS + ("V", "c")
EPS = 1e-5   # finite-difference step: truncation ~1e-10, rounding ~1e-11 in float64
RAGGED = np.array([[1, 1, 1], [1, 1, 1], [1, 0, 1], [1, 0, 0], [1, 0, 0]], dtype=bool)  # lengths 5, 2, 3
HOLES = np.array([[1, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=bool)   # padding inside


def make(seed=0, dtype=np.float64, T=T, B=B):
    rng = np.random.default_rng(seed)
    params = init_lstm(d, m, C, seed=seed, dtype=dtype)
    for k in params:                                                # every parameter non-trivial
        params[k] = (params[k] + 0.3 * rng.standard_normal(params[k].shape)).astype(dtype)
    x = rng.standard_normal((T, B, d)).astype(dtype)
    h0 = (rng.standard_normal((B, m)) * 0.5).astype(dtype)
    c0 = (rng.standard_normal((B, m)) * 0.5).astype(dtype)
    y = rng.integers(0, C, size=(T, B))
    return params, x, h0, c0, y


def sigma(a):
    return 1 / (1 + np.exp(-a))


def reference_forward(p, x, h0, c0):
    """The LSTM equations, one example at a time, column vectors, no vectorisation."""
    T, B, _ = x.shape
    hs, os = np.zeros((T + 1, B, m)), np.zeros((T, B, C))
    for n in range(B):
        h, s = h0[n], c0[n]
        hs[0, n] = h
        for t in range(T):
            i = sigma(p["b_i"] + p["W_i"] @ h + p["U_i"] @ x[t, n])
            f = sigma(p["b_f"] + p["W_f"] @ h + p["U_f"] @ x[t, n])
            q = sigma(p["b_o"] + p["W_o"] @ h + p["U_o"] @ x[t, n])
            g = np.tanh(p["b_g"] + p["W_g"] @ h + p["U_g"] @ x[t, n])
            s = f * s + i * g
            h = q * np.tanh(s)
            hs[t + 1, n] = h
            os[t, n] = p["c"] + p["V"] @ h
    return hs, os


def sequence_loss(inputs, x, y, mask):
    params = {k: inputs[k] for k in PARAMS}
    return lstm_backward(params, lstm_forward(params, x, inputs["h0"], inputs["c0"], mask), y)[0]


# -------------------------------------------------------------------------------- exports, init
def test_exported_from_the_package():
    for name in ("init_lstm", "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
                 "LSTMCache", "LSTMStepCache"):
        assert name in rnnlib.__all__ and hasattr(rnnlib, name)


def test_init_shapes_forget_bias_and_seed():
    params = init_lstm(d, m, C, seed=1)
    assert set(params) == set(PARAMS)
    for k in GATES:
        assert params[f"W_{k}"].shape == (m, m) and params[f"U_{k}"].shape == (m, d)
        assert params[f"b_{k}"].shape == (m,)
    assert params["V"].shape == (C, m) and params["c"].shape == (C,)
    np.testing.assert_array_equal(params["b_f"], np.ones(m))
    for k in ("i", "o", "g"):
        np.testing.assert_array_equal(params[f"b_{k}"], np.zeros(m))
    np.testing.assert_array_equal(init_lstm(d, m, C, forget_bias=0.0)["b_f"], np.zeros(m))
    np.testing.assert_array_equal(init_lstm(d, m, C, seed=1)["W_g"], params["W_g"])
    assert not np.array_equal(init_lstm(d, m, C, seed=2)["W_g"], params["W_g"])
    assert sum(v.size for v in params.values()) == 4 * (m * m + m * d + m) + C * m + C


# -------------------------------------------------------------------------------- forward
def test_forward_matches_hand_unrolled_loop():
    params, x, h0, c0, _ = make()
    cache = lstm_forward(params, x, h0, c0)
    hs, os = reference_forward(params, x, h0, c0)
    np.testing.assert_allclose(cache.h, hs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache.o, os, rtol=1e-12, atol=1e-12)
    assert cache.h.shape == (T + 1, B, m) and cache.s.shape == (T + 1, B, m)
    for gate in (cache.i, cache.f, cache.q, cache.g):
        assert gate.shape == (T, B, m)
    np.testing.assert_allclose(cache.y_hat.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(cache.s[0], c0)


def test_step_forward_matches_sequence_forward():
    params, x, h0, c0, _ = make()
    cache = lstm_forward(params, x, h0, c0)
    h, s = h0, c0
    for t in range(T):
        h, s, _ = lstm_step_forward(params, x[t], h, s)
        np.testing.assert_allclose(h, cache.h[t + 1], rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(s, cache.s[t + 1], rtol=1e-13, atol=1e-14)


def test_zero_states_by_default_and_single_sequence():
    params, x, _, _, y = make()
    zero = lstm_forward(params, x, np.zeros((B, m)), np.zeros((B, m)))
    np.testing.assert_array_equal(lstm_forward(params, x).h, zero.h)
    one = lstm_forward(params, x[:, 1])                              # (T, d): one sequence
    np.testing.assert_allclose(one.h[:, 0], zero.h[:, 1], rtol=1e-13)
    loss_one, _ = lstm_backward(params, one, y[:, 1])
    loss_batch1, _ = lstm_backward(params, lstm_forward(params, x[:, 1:2]), y[:, 1:2])
    assert loss_one == pytest.approx(loss_batch1, rel=1e-13)


def test_state_carries_through_time():
    params, x, h0, c0, _ = make()
    base = lstm_forward(params, x, h0, c0)
    k = 3
    x2 = x.copy()
    x2[1] += 1.0                                                     # change x^(2) only
    changed = lstm_forward(params, x2, h0, c0)
    np.testing.assert_array_equal(changed.o[:1], base.o[:1])         # outputs before: unchanged
    assert np.all(np.abs(changed.o[1 + k] - base.o[1 + k]) > 1e-8)   # output k steps later: changed


def test_forget_gate_open_input_gate_shut_keeps_the_cell_state():
    params, x, h0, c0, _ = make()
    params["b_f"][:] = 50.0                                          # f = 1
    params["b_i"][:] = -50.0                                         # i = 0
    cache = lstm_forward(params, x, h0, c0)
    for t in range(T + 1):
        np.testing.assert_allclose(cache.s[t], c0, atol=1e-15)


def test_loss_is_rnn_loss_formula():
    params, x, h0, c0, y = make()
    cache = lstm_forward(params, x, h0, c0)
    loss, _ = lstm_backward(params, cache, y)
    T_, B_ = y.shape
    expected = -np.log(cache.y_hat[np.arange(T_)[:, None], np.arange(B_)[None, :], y]).sum() / B_
    assert loss == pytest.approx(expected, rel=1e-12)


# -------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("mask", [None, RAGGED, HOLES], ids=["full", "masked", "holes"])
def test_sequence_gradients_match_finite_differences(mask):
    params, x, h0, c0, y = make()
    loss, grads = lstm_backward(params, lstm_forward(params, x, h0, c0, mask), y)
    assert set(grads) == set(PARAMS) | {"h0", "c0"}
    errors = gradcheck(lambda inp: sequence_loss(inp, x, y, mask), {**params, "h0": h0, "c0": c0}, grads, eps=EPS)
    assert set(errors) == set(PARAMS) | {"h0", "c0"}
    assert max(errors.values()) < 1e-7, errors


def test_shared_initial_state_vectors_get_batch_summed_gradients():
    params, x, h0, c0, y = make(seed=4)
    h0v, c0v = h0[0].copy(), c0[0].copy()
    loss, grads = lstm_backward(params, lstm_forward(params, x, h0v, c0v), y)
    assert grads["h0"].shape == (m,) and grads["c0"].shape == (m,)
    errors = gradcheck(lambda inp: sequence_loss(inp, x, y, None), {**params, "h0": h0v, "c0": c0v},
                       grads, eps=EPS, keys=["h0", "c0"])
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("masked", [False, True])
def test_step_gradients_match_finite_differences(masked):
    params, x, h0, c0, _ = make(seed=3)
    step_params = {k: params[k] for k in STEP_PARAMS}
    mask_t = np.array([True, False, True]) if masked else None
    rng = np.random.default_rng(7)
    dh, ds = rng.standard_normal((B, m)), rng.standard_normal((B, m))   # upstream gradients

    def f(inp):  # a scalar whose gradients w.r.t. h_t and s_t are dh and ds
        h_t, s_t, _ = lstm_step_forward(inp, inp["x_t"], inp["h_prev"], inp["s_prev"], mask_t)
        return np.sum(h_t * dh) + np.sum(s_t * ds)

    _, _, cache = lstm_step_forward(step_params, x[0], h0, c0, mask_t)
    dx_t, dh_prev, ds_prev, grads = lstm_step_backward(step_params, dh, ds, cache)
    assert set(grads) == set(STEP_PARAMS)
    inputs = {**step_params, "x_t": x[0].copy(), "h_prev": h0.copy(), "s_prev": c0.copy()}
    errors = gradcheck(f, inputs, {**grads, "x_t": dx_t, "h_prev": dh_prev, "s_prev": ds_prev}, eps=EPS)
    assert max(errors.values()) < 1e-7, errors


def test_step_on_padded_example_passes_gradients_straight_through():
    params, x, h0, c0, _ = make()
    dh, ds = np.ones((B, m)), 2 * np.ones((B, m))
    h_t, s_t, cache = lstm_step_forward(params, x[0], h0, c0, np.array([False, False, False]))
    np.testing.assert_array_equal(h_t, h0)
    np.testing.assert_array_equal(s_t, c0)
    dx, dh_prev, ds_prev, grads = lstm_step_backward(params, dh, ds, cache)
    np.testing.assert_array_equal(dh_prev, dh)
    np.testing.assert_array_equal(ds_prev, ds)
    assert not np.any(dx) and not any(np.any(g) for g in grads.values())


def test_constant_error_carousel_closed_form():
    """With no gradient arriving through h, dJ/ds^(t-1) = f^(t) * dJ/ds^(t) exactly."""
    params, x, h0, c0, _ = make()
    ds = np.random.default_rng(1).standard_normal((B, m))
    _, _, cache = lstm_step_forward(params, x[0], h0, c0)
    _, _, ds_prev, _ = lstm_step_backward(params, np.zeros((B, m)), ds, cache)
    f = sigma(params["b_f"] + h0 @ params["W_f"].T + x[0] @ params["U_f"].T)
    np.testing.assert_allclose(ds_prev, f * ds, rtol=1e-14)


def test_single_example_step():
    params, x, h0, c0, _ = make()
    h1, s1, cache1 = lstm_step_forward(params, x[0, 0], h0[0], c0[0])
    hb, sb, _ = lstm_step_forward(params, x[0], h0, c0)
    assert h1.shape == (m,) and s1.shape == (m,)
    np.testing.assert_allclose(h1, hb[0], rtol=1e-14)
    dx, dh_prev, ds_prev, _ = lstm_step_backward(params, np.ones(m), np.ones(m), cache1)
    assert dx.shape == (d,) and dh_prev.shape == (m,) and ds_prev.shape == (m,)


# -------------------------------------------------------------------------------- masks
def test_padded_batch_equals_unpadded_sequences():
    params, x, h0, c0, y = make()
    rng = np.random.default_rng(5)
    x_pad = x.copy()
    x_pad[~RAGGED] = rng.standard_normal((int((~RAGGED).sum()), d)) * 100   # garbage in the padding
    y_pad = y.copy()
    y_pad[~RAGGED] = -1                                                      # invalid targets: ignored
    cache = lstm_forward(params, x_pad, h0, c0, RAGGED)
    loss, grads = lstm_backward(params, cache, y_pad)
    lengths = RAGGED.sum(axis=0)
    total_loss, total = 0.0, {k: np.zeros_like(v) for k, v in grads.items()}
    for n, L in enumerate(lengths):
        one = lstm_forward(params, x[:L, n:n + 1], h0[n:n + 1], c0[n:n + 1])
        l_n, g_n = lstm_backward(params, one, y[:L, n:n + 1])
        np.testing.assert_allclose(cache.h[L:, n], np.broadcast_to(one.h[-1, 0], (T + 1 - L, m)), rtol=1e-13)
        np.testing.assert_allclose(cache.s[L:, n], np.broadcast_to(one.s[-1, 0], (T + 1 - L, m)), rtol=1e-13)
        total_loss += l_n / B
        for k in total:
            if k in ("h0", "c0"):
                total[k][n] = g_n[k][0] / B
            else:
                total[k] += g_n[k] / B
    assert loss == pytest.approx(total_loss, rel=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads[k], total[k], rtol=1e-9, atol=1e-13, err_msg=k)


# -------------------------------------------------------------------------------- dtype
def test_float32_stays_float32():
    params, x, h0, c0, y = make(dtype=np.float32)
    cache = lstm_forward(params, x, h0, c0, RAGGED)
    for name in ("h", "s", "i", "f", "q", "g", "o", "y_hat"):
        assert getattr(cache, name).dtype == np.float32, name
    loss, grads = lstm_backward(params, cache, y)
    assert np.asarray(loss).dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values()), {k: g.dtype for k, g in grads.items()}
    h, s, step_cache = lstm_step_forward(params, x[0], h0, c0)
    assert h.dtype == np.float32 and s.dtype == np.float32
    dx, dh, ds, sg = lstm_step_backward(params, h, s, step_cache)
    assert dx.dtype == dh.dtype == ds.dtype == np.float32
    assert all(g.dtype == np.float32 for g in sg.values())
    params64 = {k: v.astype(np.float64) for k, v in params.items()}
    ref = lstm_forward(params64, x.astype(np.float64), h0.astype(np.float64), c0.astype(np.float64), RAGGED)
    np.testing.assert_allclose(cache.h, ref.h, atol=1e-5)


# -------------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    params, x, h0, c0, y = make()
    missing = dict(params)
    del missing["W_f"]
    with pytest.raises(KeyError, match="W_f"):
        lstm_forward(missing, x)
    bad = dict(params, U_o=np.zeros((m, d + 1)))
    with pytest.raises(ValueError, match="U_o"):
        lstm_forward(bad, x)
    bad = dict(params, b_g=np.zeros(m + 1))
    with pytest.raises(ValueError, match="b_g"):
        lstm_forward(bad, x)
    bad = dict(params, W_i=np.zeros((m, m + 1)))
    with pytest.raises(ValueError, match="W_i"):
        lstm_forward(bad, x)
    bad = dict(params, V=params["V"].astype(np.float32))
    with pytest.raises(TypeError, match="dtype"):
        lstm_forward(bad, x)
    with pytest.raises(TypeError, match="dict"):
        lstm_forward([params], x)
    with pytest.raises(ValueError, match="x must have shape"):
        lstm_forward(params, x[:, :, :-1])
    with pytest.raises(ValueError, match="x must have 2 or 3 dimensions"):
        lstm_forward(params, x[0, 0])
    with pytest.raises(ValueError, match="zero time steps"):
        lstm_forward(params, x[:0])
    with pytest.raises(ValueError, match="NaN"):
        lstm_forward(params, np.full_like(x, np.nan))
    with pytest.raises(ValueError, match="c0"):
        lstm_forward(params, x, h0, c0[:, :-1])
    with pytest.raises(ValueError, match="h0"):
        lstm_forward(params, x, h0[:-1], c0)
    with pytest.raises(ValueError, match="mask"):
        lstm_forward(params, x, mask=RAGGED[:-1])
    with pytest.raises(TypeError, match="mask"):
        lstm_forward(params, x, mask=np.full((T, B), 0.5))
    cache = lstm_forward(params, x)
    with pytest.raises(ValueError, match="class indices"):
        lstm_backward(params, cache, np.full((T, B), C))
    with pytest.raises(ValueError, match="y must have shape"):
        lstm_backward(params, cache, y[:-1])
    with pytest.raises(TypeError, match="LSTMCache"):
        lstm_backward(params, rnn_forward(rnnlib.init_rnn(d, m, C), x), y)
    other = init_lstm(d, m + 1, C)
    with pytest.raises(ValueError, match="cache does not match"):
        lstm_backward(other, cache, y)


def test_bad_step_inputs_and_init_arguments_raise():
    params, x, h0, c0, _ = make()
    with pytest.raises(ValueError, match="x_t"):
        lstm_step_forward(params, x[0, :, :-1], h0, c0)
    with pytest.raises(ValueError, match="s_prev"):
        lstm_step_forward(params, x[0], h0, c0[:, :-1])
    with pytest.raises(ValueError, match="mask_t"):
        lstm_step_forward(params, x[0], h0, c0, np.ones(B + 1, bool))
    _, _, cache = lstm_step_forward(params, x[0], h0, c0)
    with pytest.raises(ValueError, match="dh_t"):
        lstm_step_backward(params, np.ones((B, m + 1)), np.ones((B, m)), cache)
    with pytest.raises(ValueError, match="ds_t"):
        lstm_step_backward(params, np.ones((B, m)), np.ones((B + 1, m)), cache)
    with pytest.raises(TypeError, match="LSTMStepCache"):
        lstm_step_backward(params, np.ones((B, m)), np.ones((B, m)), lstm_forward(params, x))
    with pytest.raises(ValueError, match="m must be at least 1"):
        init_lstm(d, 0, C)
    with pytest.raises(TypeError, match="d must be an integer"):
        init_lstm(2.5, m, C)
    with pytest.raises(TypeError, match="dtype"):
        init_lstm(d, m, C, dtype=np.int32)
    with pytest.raises(TypeError, match="forget_bias"):
        init_lstm(d, m, C, forget_bias="1")
    with pytest.raises(TypeError, match="forget_bias"):
        init_lstm(d, m, C, forget_bias=float("nan"))


def test_works_with_the_training_loop():
    """lstm_forward/lstm_backward plug into rnnlib.train, and the loss falls on a fixed batch."""
    params, x, h0, c0, y = make(seed=2)
    history = rnnlib.train(params, lambda step: (x, y), 60, forward=lstm_forward, backward=lstm_backward,
                           progress=False)
    assert history.loss[-1] < 0.5 * history.loss[0]


def test_left_padded_batch_equals_unpadded_sequences():
    """Padding before the sequence (the state waits at h0, c0) gives the unpadded results too."""
    params, x, h0, c0, y = make(seed=6)
    lengths = RAGGED.sum(axis=0)
    left = RAGGED[::-1]                                                     # real steps at the end
    loss, grads = lstm_backward(params, lstm_forward(params, x, h0, c0, left), y)
    total_loss, total = 0.0, {k: np.zeros_like(v) for k, v in grads.items()}
    for n, L in enumerate(lengths):
        l_n, g_n = lstm_backward(params, lstm_forward(params, x[T - L:, n:n + 1], h0[n:n + 1], c0[n:n + 1]),
                                 y[T - L:, n:n + 1])
        total_loss += l_n / B
        for k in total:
            if k in ("h0", "c0"):
                total[k][n] = g_n[k][0] / B
            else:
                total[k] += g_n[k] / B
    assert loss == pytest.approx(total_loss, rel=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads[k], total[k], rtol=1e-9, atol=1e-13, err_msg=k)
