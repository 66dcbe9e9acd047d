"""Tests of the GRU (rnnlib/gru.py) against independent references.

References: centred finite differences (float64), a forward loop written out here in the test
from the equations, per-sequence runs for masked batches, and closed forms of special cases.
"""
import numpy as np
import pytest

import rnnlib
from rnnlib import (
    GRUCache,
    GRUStepCache,
    gradcheck,
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    init_gru,
    init_lstm,
    lstm_forward,
)

T, B, d, m, C = 5, 3, 4, 6, 7
GATES = ("z", "r", "h")
STEP_PARAMS = tuple(f"{M}_{k}" for k in GATES for M in ("W", "U", "b"))
PARAMS = STEP_PARAMS + ("V", "c")
EPS = 1e-5   # finite-difference step: truncation ~1e-10, rounding ~1e-11 in float64
RAGGED = np.array([[1, 1, 1], [1, 1, 1], [1, 0, 1], [1, 0, 0], [1, 0, 0]], dtype=bool)  # lengths 5, 2, 3
HOLES = np.array([[1, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=bool)   # padding inside


def make(seed=0, dtype=np.float64, T=T, B=B):
    rng = np.random.default_rng(seed)
    params = init_gru(d, m, C, seed=seed, dtype=dtype)
    for k in params:                                                # every parameter non-trivial
        params[k] = (params[k] + 0.3 * rng.standard_normal(params[k].shape)).astype(dtype)
    x = rng.standard_normal((T, B, d)).astype(dtype)
    h0 = (rng.standard_normal((B, m)) * 0.5).astype(dtype)
    y = rng.integers(0, C, size=(T, B))
    return params, x, h0, y


def sigma(a):
    return 1 / (1 + np.exp(-a))


def reference_forward(p, x, h0):
    """The GRU equations, one example at a time, column vectors, no vectorisation."""
    T, B, _ = x.shape
    hs, os = np.zeros((T + 1, B, m)), np.zeros((T, B, C))
    for n in range(B):
        h = h0[n]
        hs[0, n] = h
        for t in range(T):
            z = sigma(p["b_z"] + p["W_z"] @ h + p["U_z"] @ x[t, n])
            r = sigma(p["b_r"] + p["W_r"] @ h + p["U_r"] @ x[t, n])
            h_tilde = np.tanh(p["b_h"] + p["W_h"] @ (r * h) + p["U_h"] @ x[t, n])
            h = (1 - z) * h + z * h_tilde
            hs[t + 1, n] = h
            os[t, n] = p["c"] + p["V"] @ h
    return hs, os


def sequence_loss(inputs, x, y, mask):
    params = {k: inputs[k] for k in PARAMS}
    return gru_backward(params, gru_forward(params, x, inputs["h0"], mask), y)[0]


# -------------------------------------------------------------------------------- exports, init
def test_exported_from_the_package():
    for name in ("init_gru", "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
                 "GRUCache", "GRUStepCache"):
        assert name in rnnlib.__all__ and hasattr(rnnlib, name)


def test_init_shapes_seed_and_parameter_count():
    params = init_gru(d, m, C, seed=1)
    assert set(params) == set(PARAMS)
    for k in GATES:
        assert params[f"W_{k}"].shape == (m, m) and params[f"U_{k}"].shape == (m, d)
        np.testing.assert_array_equal(params[f"b_{k}"], np.zeros(m))
    assert params["V"].shape == (C, m) and params["c"].shape == (C,)
    np.testing.assert_array_equal(init_gru(d, m, C, seed=1)["W_h"], params["W_h"])
    assert not np.array_equal(init_gru(d, m, C, seed=2)["W_h"], params["W_h"])
    n_gru = sum(v.size for v in params.values())
    n_lstm = sum(v.size for v in init_lstm(d, m, C).values())
    recurrent = m * m + m * d + m
    assert n_gru == 3 * recurrent + C * m + C
    assert n_lstm - n_gru == recurrent                              # one gate block fewer


# -------------------------------------------------------------------------------- forward
def test_forward_matches_hand_unrolled_loop():
    params, x, h0, _ = make()
    cache = gru_forward(params, x, h0)
    hs, os = reference_forward(params, x, h0)
    np.testing.assert_allclose(cache.h, hs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache.o, os, rtol=1e-12, atol=1e-12)
    assert cache.h.shape == (T + 1, B, m)
    for gate in (cache.z, cache.r, cache.h_tilde):
        assert gate.shape == (T, B, m)
    np.testing.assert_allclose(cache.y_hat.sum(axis=-1), 1.0)


def test_step_forward_matches_sequence_forward():
    params, x, h0, _ = make()
    cache = gru_forward(params, x, h0)
    h = h0
    for t in range(T):
        h, _ = gru_step_forward(params, x[t], h)
        np.testing.assert_allclose(h, cache.h[t + 1], rtol=1e-13, atol=1e-14)


def test_zero_state_by_default_and_single_sequence():
    params, x, _, y = make()
    zero = gru_forward(params, x, np.zeros((B, m)))
    np.testing.assert_array_equal(gru_forward(params, x).h, zero.h)
    one = gru_forward(params, x[:, 1])                               # (T, d): one sequence
    np.testing.assert_allclose(one.h[:, 0], zero.h[:, 1], rtol=1e-13)
    loss_one, _ = gru_backward(params, one, y[:, 1])
    loss_batch1, _ = gru_backward(params, gru_forward(params, x[:, 1:2]), y[:, 1:2])
    assert loss_one == pytest.approx(loss_batch1, rel=1e-13)


def test_state_carries_through_time():
    params, x, h0, _ = make()
    base = gru_forward(params, x, h0)
    k = 3
    x2 = x.copy()
    x2[1] += 1.0                                                     # change x^(2) only
    changed = gru_forward(params, x2, h0)
    np.testing.assert_array_equal(changed.o[:1], base.o[:1])         # outputs before: unchanged
    assert np.all(np.abs(changed.o[1 + k] - base.o[1 + k]) > 1e-8)   # output k steps later: changed


def test_update_gate_convention():
    """z = 0 keeps h^(t-1) exactly; z = 1 replaces it by the candidate."""
    params, x, h0, _ = make()
    params["b_z"][:] = -50.0
    np.testing.assert_allclose(gru_forward(params, x, h0).h, np.broadcast_to(h0, (T + 1, B, m)), atol=1e-15)
    params["b_z"][:] = 50.0
    cache = gru_forward(params, x, h0)
    np.testing.assert_allclose(cache.h[1:], cache.h_tilde, atol=1e-15)


def test_loss_is_rnn_loss_formula():
    params, x, h0, y = make()
    cache = gru_forward(params, x, h0)
    loss, _ = gru_backward(params, cache, y)
    expected = -np.log(cache.y_hat[np.arange(T)[:, None], np.arange(B)[None, :], y]).sum() / B
    assert loss == pytest.approx(expected, rel=1e-12)


# -------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("mask", [None, RAGGED, HOLES], ids=["full", "masked", "holes"])
def test_sequence_gradients_match_finite_differences(mask):
    params, x, h0, y = make()
    loss, grads = gru_backward(params, gru_forward(params, x, h0, mask), y)
    assert set(grads) == set(PARAMS) | {"h0"}
    errors = gradcheck(lambda inp: sequence_loss(inp, x, y, mask), {**params, "h0": h0}, grads, eps=EPS)
    assert set(errors) == set(PARAMS) | {"h0"}
    assert max(errors.values()) < 1e-7, errors


def test_shared_initial_state_vector_gets_batch_summed_gradient():
    params, x, h0, y = make(seed=4)
    h0v = h0[0].copy()
    loss, grads = gru_backward(params, gru_forward(params, x, h0v), y)
    assert grads["h0"].shape == (m,)
    errors = gradcheck(lambda inp: sequence_loss(inp, x, y, None), {**params, "h0": h0v}, grads, eps=EPS,
                       keys=["h0"])
    assert errors["h0"] < 1e-7, errors


@pytest.mark.parametrize("masked", [False, True])
def test_step_gradients_match_finite_differences(masked):
    params, x, h0, _ = make(seed=3)
    step_params = {k: params[k] for k in STEP_PARAMS}
    mask_t = np.array([True, False, True]) if masked else None
    dh = np.random.default_rng(7).standard_normal((B, m))            # upstream gradient

    def f(inp):  # a scalar whose gradient w.r.t. h_t is dh
        h_t, _ = gru_step_forward(inp, inp["x_t"], inp["h_prev"], mask_t)
        return np.sum(h_t * dh)

    _, cache = gru_step_forward(step_params, x[0], h0, mask_t)
    dx_t, dh_prev, grads = gru_step_backward(step_params, dh, cache)
    assert set(grads) == set(STEP_PARAMS)
    inputs = {**step_params, "x_t": x[0].copy(), "h_prev": h0.copy()}
    errors = gradcheck(f, inputs, {**grads, "x_t": dx_t, "h_prev": dh_prev}, eps=EPS)
    assert max(errors.values()) < 1e-7, errors


def test_step_on_padded_example_passes_gradient_straight_through():
    params, x, h0, _ = make()
    dh = np.ones((B, m))
    h_t, cache = gru_step_forward(params, x[0], h0, np.array([False, False, False]))
    np.testing.assert_array_equal(h_t, h0)
    dx, dh_prev, grads = gru_step_backward(params, dh, cache)
    np.testing.assert_array_equal(dh_prev, dh)
    assert not np.any(dx) and not any(np.any(g) for g in grads.values())


def test_single_example_step():
    params, x, h0, _ = make()
    h1, cache1 = gru_step_forward(params, x[0, 0], h0[0])
    hb, _ = gru_step_forward(params, x[0], h0)
    assert h1.shape == (m,)
    np.testing.assert_allclose(h1, hb[0], rtol=1e-14)
    dx, dh_prev, _ = gru_step_backward(params, np.ones(m), cache1)
    assert dx.shape == (d,) and dh_prev.shape == (m,)


# -------------------------------------------------------------------------------- masks
def test_padded_batch_equals_unpadded_sequences():
    params, x, h0, y = make()
    rng = np.random.default_rng(5)
    x_pad = x.copy()
    x_pad[~RAGGED] = rng.standard_normal((int((~RAGGED).sum()), d)) * 100   # garbage in the padding
    y_pad = y.copy()
    y_pad[~RAGGED] = -1                                                      # invalid targets: ignored
    cache = gru_forward(params, x_pad, h0, RAGGED)
    loss, grads = gru_backward(params, cache, y_pad)
    total_loss, total = 0.0, {k: np.zeros_like(v) for k, v in grads.items()}
    for n, L in enumerate(RAGGED.sum(axis=0)):
        one = gru_forward(params, x[:L, n:n + 1], h0[n:n + 1])
        l_n, g_n = gru_backward(params, one, y[:L, n:n + 1])
        np.testing.assert_allclose(cache.h[L:, n], np.broadcast_to(one.h[-1, 0], (T + 1 - L, m)), rtol=1e-13)
        total_loss += l_n / B
        for k in total:
            if k == "h0":
                total[k][n] = g_n[k][0] / B
            else:
                total[k] += g_n[k] / B
    assert loss == pytest.approx(total_loss, rel=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads[k], total[k], rtol=1e-9, atol=1e-13, err_msg=k)


# -------------------------------------------------------------------------------- dtype
def test_float32_stays_float32():
    params, x, h0, y = make(dtype=np.float32)
    cache = gru_forward(params, x, h0, RAGGED)
    for name in ("h", "z", "r", "rh", "h_tilde", "o", "y_hat"):
        assert getattr(cache, name).dtype == np.float32, name
    loss, grads = gru_backward(params, cache, y)
    assert np.asarray(loss).dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values()), {k: g.dtype for k, g in grads.items()}
    h, step_cache = gru_step_forward(params, x[0], h0)
    assert h.dtype == np.float32
    dx, dh, sg = gru_step_backward(params, h, step_cache)
    assert dx.dtype == dh.dtype == np.float32
    assert all(g.dtype == np.float32 for g in sg.values())
    params64 = {k: v.astype(np.float64) for k, v in params.items()}
    ref = gru_forward(params64, x.astype(np.float64), h0.astype(np.float64), RAGGED)
    np.testing.assert_allclose(cache.h, ref.h, atol=1e-5)


# -------------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    params, x, h0, y = make()
    missing = dict(params)
    del missing["U_r"]
    with pytest.raises(KeyError, match="U_r"):
        gru_forward(missing, x)
    with pytest.raises(KeyError, match="W_z"):
        gru_forward(init_lstm(d, m, C), x)                           # LSTM params are not GRU params
    bad = dict(params, W_h=np.zeros((m + 1, m + 1)))
    with pytest.raises(ValueError, match="W_h"):
        gru_forward(bad, x)
    bad = dict(params, c=np.zeros(C + 1))
    with pytest.raises(ValueError, match="params\\['c'\\]"):
        gru_forward(bad, x)
    bad = dict(params, b_z=params["b_z"].astype(np.float32))
    with pytest.raises(TypeError, match="dtype"):
        gru_forward(bad, x)
    with pytest.raises(ValueError, match="x must have shape"):
        gru_forward(params, x[:, :, :-1])
    with pytest.raises(TypeError, match="x must be a numeric array"):
        gru_forward(params, "abc")
    with pytest.raises(ValueError, match="h0"):
        gru_forward(params, x, h0[:, :-1])
    with pytest.raises(ValueError, match="mask"):
        gru_forward(params, x, mask=RAGGED[:, :-1])
    cache = gru_forward(params, x)
    with pytest.raises(ValueError, match="class indices"):
        gru_backward(params, cache, np.full((T, B), -1))
    with pytest.raises(TypeError, match="GRUCache"):
        gru_backward(params, lstm_forward(init_lstm(d, m, C), x), y)
    with pytest.raises(ValueError, match="cache does not match"):
        gru_backward(init_gru(d, m, C + 1), cache, y)


def test_bad_step_inputs_and_init_arguments_raise():
    params, x, h0, _ = make()
    with pytest.raises(ValueError, match="x_t"):
        gru_step_forward(params, x[0, :, :-1], h0)
    with pytest.raises(ValueError, match="h_prev"):
        gru_step_forward(params, x[0], h0[:-1])
    with pytest.raises(TypeError, match="mask_t"):
        gru_step_forward(params, x[0], h0, np.array(["a", "b", "c"]))
    _, cache = gru_step_forward(params, x[0], h0)
    with pytest.raises(ValueError, match="dh_t"):
        gru_step_backward(params, np.ones((B, m + 1)), cache)
    with pytest.raises(TypeError, match="GRUStepCache"):
        gru_step_backward(params, np.ones((B, m)), gru_forward(params, x))
    with pytest.raises(ValueError, match="C must be at least 1"):
        init_gru(d, m, 0)
    with pytest.raises(TypeError, match="m must be an integer"):
        init_gru(d, "6", C)
    with pytest.raises(TypeError, match="dtype"):
        init_gru(d, m, C, dtype=np.int64)


def test_works_with_the_training_loop():
    """gru_forward/gru_backward plug into rnnlib.train, and the loss falls on a fixed batch."""
    params, x, h0, y = make(seed=2)
    history = rnnlib.train(params, lambda step: (x, y), 60, forward=gru_forward, backward=gru_backward,
                           progress=False)
    assert history.loss[-1] < 0.5 * history.loss[0]


def test_left_padded_batch_equals_unpadded_sequences():
    """Padding before the sequence (the state waits at h0) gives the unpadded results too."""
    params, x, h0, y = make(seed=6)
    lengths = RAGGED.sum(axis=0)
    left = RAGGED[::-1]                                                     # real steps at the end
    loss, grads = gru_backward(params, gru_forward(params, x, h0, left), y)
    total_loss, total = 0.0, {k: np.zeros_like(v) for k, v in grads.items()}
    for n, L in enumerate(lengths):
        l_n, g_n = gru_backward(params, gru_forward(params, x[T - L:, n:n + 1], h0[n:n + 1]), y[T - L:, n:n + 1])
        total_loss += l_n / B
        for k in total:
            if k == "h0":
                total[k][n] = g_n[k][0] / B
            else:
                total[k] += g_n[k] / B
    assert loss == pytest.approx(total_loss, rel=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads[k], total[k], rtol=1e-9, atol=1e-13, err_msg=k)
