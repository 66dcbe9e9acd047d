"""Tests of the vanilla RNN (rnnlib/rnn.py) against independent references.

References: centred finite differences (float64), a forward loop written out here in the test,
per-sequence runs for masked batches, and the closed forms of the equations.
"""
import numpy as np
import pytest

import rnnlib
from rnnlib import gradcheck, init_rnn, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

T, B, d, m, C = 5, 3, 4, 6, 7
PARAMS = ("W", "U", "V", "b", "c")


def make(seed=0, dtype=np.float64, T=T, B=B):
    rng = np.random.default_rng(seed)
    params = init_rnn(d, m, C, seed=seed, dtype=dtype)
    params["b"] += rng.standard_normal(m).astype(dtype) * 0.1       # non-zero biases
    params["c"] += rng.standard_normal(C).astype(dtype) * 0.1
    x = rng.standard_normal((T, B, d)).astype(dtype)
    h0 = rng.standard_normal((B, m)).astype(dtype) * 0.5
    y = rng.integers(0, C, size=(T, B))
    return params, x, h0, y


RAGGED = np.array([[1, 1, 1], [1, 1, 1], [1, 0, 1], [1, 0, 0], [1, 0, 0]], dtype=bool)  # lengths 5, 2, 3


def sequence_loss(inputs, x, y, mask, activation):
    params = {k: inputs[k] for k in PARAMS}
    return rnn_backward(params, rnn_forward(params, x, inputs["h0"], mask, activation), y)[0]


# -------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("mask", [None, RAGGED], ids=["full", "masked"])
def test_sequence_gradients_match_finite_differences(activation, mask):
    params, x, h0, y = make()
    loss, grads = rnn_backward(params, rnn_forward(params, x, h0, mask, activation), y)
    assert set(grads) == set(PARAMS) | {"h0"}
    errors = gradcheck(lambda inp: sequence_loss(inp, x, y, mask, activation), {**params, "h0": h0}, grads)
    assert set(errors) == set(PARAMS) | {"h0"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
@pytest.mark.parametrize("masked", [False, True])
def test_step_gradients_match_finite_differences(activation, masked):
    params, x, h0, _ = make(seed=3)
    x_t = x[0]
    mask_t = np.array([True, False, True]) if masked else None
    rng = np.random.default_rng(7)
    dh = rng.standard_normal((B, m))                                  # upstream gradient

    def f(inp):  # a scalar whose gradient w.r.t. h_t is dh
        h_t, _ = rnn_step_forward(inp, inp["x_t"], inp["h_prev"], mask_t, activation)
        return np.sum(h_t * dh)

    _, cache = rnn_step_forward(params, x_t, h0, mask_t, activation)
    dx_t, dh_prev, grads = rnn_step_backward(params, dh, cache)
    inputs = {"W": params["W"], "U": params["U"], "b": params["b"], "x_t": x_t.copy(), "h_prev": h0.copy()}
    errors = gradcheck(f, inputs, {**grads, "x_t": dx_t, "h_prev": dh_prev})
    assert max(errors.values()) < 1e-7, errors


def test_step_gradient_on_padded_example_passes_straight_through():
    params, x, h0, _ = make()
    dh = np.ones((B, m))
    _, cache = rnn_step_forward(params, x[0], h0, np.array([False, False, False]))
    dx, dh_prev, grads = rnn_step_backward(params, dh, cache)
    np.testing.assert_array_equal(dh_prev, dh)
    assert not np.any(dx) and not any(np.any(g) for g in grads.values())


def test_single_h0_vector_gets_the_batch_summed_gradient():
    params, x, h0, y = make()
    shared = h0[0]                                                     # (m,) for every example
    loss, grads = rnn_backward(params, rnn_forward(params, x, shared), y)
    assert grads["h0"].shape == (m,)
    errors = gradcheck(lambda inp: sequence_loss(inp, x, y, None, "tanh"), {**params, "h0": shared.copy()}, grads)
    assert errors["h0"] < 1e-7


# -------------------------------------------------------------------------------- forward values
def hand_unrolled(params, x, h0, activation=np.tanh):
    """The equations, one example and one step at a time, with column vectors."""
    W, U, V, b, c = (params[k] for k in PARAMS)
    T_, B_, _ = x.shape
    hs, y_hats = np.zeros((T_ + 1, B_, m)), np.zeros((T_, B_, C))
    for n in range(B_):
        h = h0[n].reshape(m, 1)
        hs[0, n] = h[:, 0]
        for t in range(1, T_ + 1):
            a = b.reshape(m, 1) + W @ h + U @ x[t - 1, n].reshape(d, 1)
            h = activation(a)
            o = c.reshape(C, 1) + V @ h
            e = np.exp(o - o.max())
            hs[t, n], y_hats[t - 1, n] = h[:, 0], (e / e.sum())[:, 0]
    return hs, y_hats


def test_forward_equals_hand_unrolled_loop():
    params, x, h0, _ = make()
    cache = rnn_forward(params, x, h0)
    hs, y_hats = hand_unrolled(params, x, h0)
    np.testing.assert_allclose(cache.h, hs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache.y_hat, y_hats, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache.a, np.arctanh(cache.h[1:]), rtol=1e-8, atol=1e-10)
    assert cache.h.shape == (T + 1, B, m) and cache.a.shape == (T, B, m)
    assert cache.o.shape == (T, B, C) and cache.y_hat.shape == (T, B, C)


def test_relu_forward_equals_hand_unrolled_loop():
    params, x, h0, _ = make()
    hs, _ = hand_unrolled(params, x, h0, activation=lambda a: np.maximum(a, 0))
    np.testing.assert_allclose(rnn_forward(params, x, h0, activation="relu").h, hs, rtol=1e-12, atol=1e-12)


def test_hidden_state_carries_through_time():
    """Changing only x^(t-k) changes the output at step t (makemore once forgot to carry h)."""
    params, x, h0, _ = make(T=8)
    base = rnn_forward(params, x, h0).o
    for k in (1, 3, 6):
        x2 = x.copy()
        x2[0] += 1.0                                                   # only the first input
        changed = rnn_forward(params, x2, h0).o
        assert np.abs(changed[k] - base[k]).max() > 1e-6, f"output {k} steps later did not change"
    x3 = x.copy()
    x3[5] += 1.0                                                       # a later input cannot change earlier outputs
    np.testing.assert_array_equal(rnn_forward(params, x3, h0).o[:5], base[:5])


def test_initial_state_defaults_to_zeros_and_matters():
    params, x, h0, _ = make()
    np.testing.assert_array_equal(rnn_forward(params, x).h, rnn_forward(params, x, np.zeros((B, m))).h)
    assert np.abs(rnn_forward(params, x, h0).o[-1] - rnn_forward(params, x).o[-1]).max() > 1e-6


def test_single_sequence_matches_batch_of_one():
    params, x, h0, y = make()
    single = rnn_forward(params, x[:, 0], h0[0])
    batch = rnn_forward(params, x[:, :1], h0[:1])
    np.testing.assert_array_equal(single.h, batch.h)
    loss_single, g_single = rnn_backward(params, single, y[:, 0])
    loss_batch, g_batch = rnn_backward(params, batch, y[:, :1])
    assert loss_single == loss_batch
    np.testing.assert_array_equal(g_single["h0"], g_batch["h0"][0])


def test_loss_is_the_sum_over_time_of_batch_mean_cross_entropy():
    params, x, h0, y = make()
    cache = rnn_forward(params, x, h0)
    loss, _ = rnn_backward(params, cache, y)
    t, n = np.meshgrid(np.arange(T), np.arange(B), indexing="ij")
    expected = np.sum(-np.log(cache.y_hat[t, n, y])) / B
    assert loss == pytest.approx(expected, rel=1e-12)


def test_parameters_are_shared_across_any_length():
    params, _, _, _ = make()
    for length in (1, 2, 17):
        x = np.random.default_rng(length).standard_normal((length, 2, d))
        assert rnn_forward(params, x).h.shape == (length + 1, 2, m)


# -------------------------------------------------------------------------------- masks
def test_padded_batch_equals_unpadded_sequences():
    params, x, h0, y = make()
    lengths = RAGGED.sum(axis=0)
    y_padded = np.where(RAGGED, y, -1)                                 # padding targets may be anything
    loss, grads = rnn_backward(params, rnn_forward(params, x, h0, RAGGED), y_padded)
    per_loss, per_grads = 0.0, {k: 0.0 for k in grads if k != "h0"}
    for n, L in enumerate(lengths):
        cache = rnn_forward(params, x[:L, n:n + 1], h0[n:n + 1])
        l_n, g_n = rnn_backward(params, cache, y[:L, n:n + 1])
        per_loss += l_n / B
        for k in per_grads:
            per_grads[k] = per_grads[k] + g_n[k] / B
        np.testing.assert_allclose(grads["h0"][n], g_n["h0"][0] / B, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(rnn_forward(params, x, h0, RAGGED).h[L:, n], np.broadcast_to(cache.h[-1, 0], (T + 1 - L, m)))
    assert loss == pytest.approx(per_loss, rel=1e-12)
    for k in per_grads:
        np.testing.assert_allclose(grads[k], per_grads[k], rtol=1e-10, atol=1e-14)


# -------------------------------------------------------------------------------- dtype, seeds
def test_float32_stays_float32():
    params, x, h0, y = make(dtype=np.float32)
    cache = rnn_forward(params, x.astype(np.float64), h0)                # float64 input is cast to the params' dtype
    for name in ("x", "h", "a", "o", "y_hat"):
        assert getattr(cache, name).dtype == np.float32, name
    loss, grads = rnn_backward(params, cache, y)
    assert loss.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    params64, x64, h064, _ = make()
    loss64, _ = rnn_backward(params64, rnn_forward(params64, x64, h064), y)
    assert float(loss) == pytest.approx(float(loss64), rel=1e-5)


def test_same_seed_gives_bitwise_same_results():
    p1, p2, p3 = init_rnn(d, m, C, seed=4), init_rnn(d, m, C, seed=4), init_rnn(d, m, C, seed=5)
    for k in PARAMS:
        np.testing.assert_array_equal(p1[k], p2[k])
    assert not np.array_equal(p1["W"], p3["W"])
    _, x, h0, y = make()
    l1, g1 = rnn_backward(p1, rnn_forward(p1, x, h0), y)
    l2, g2 = rnn_backward(p2, rnn_forward(p2, x, h0), y)
    assert l1 == l2 and all(np.array_equal(g1[k], g2[k]) for k in g1)


def test_init_shapes_and_zero_biases():
    p = init_rnn(3, 5, 2)
    assert {k: v.shape for k, v in p.items()} == {"W": (5, 5), "U": (5, 3), "V": (2, 5), "b": (5,), "c": (2,)}
    assert not p["b"].any() and not p["c"].any()


# -------------------------------------------------------------------------------- bad input
def expect(exc, fn, *words):
    with pytest.raises(exc) as info:
        fn()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_bad_inputs_raise_clear_errors():
    params, x, h0, y = make()
    cache = rnn_forward(params, x, h0)
    expect(ValueError, lambda: rnn_forward(params, x[:, :, :3]), "x", "d=4", "(5, 3, 3)")
    expect(ValueError, lambda: rnn_forward(params, x[0, 0]), "x", "dimensions")
    expect(ValueError, lambda: rnn_forward(params, x[None]), "x", "dimensions")
    expect(ValueError, lambda: rnn_forward(params, x, h0[:2]), "h0", "(3, 6)", "(2, 6)")
    expect(ValueError, lambda: rnn_forward(params, x, h0[:, :2]), "h0")
    expect(ValueError, lambda: rnn_forward(params, x, mask=np.ones((T, 2), bool)), "mask", "(5, 3)")
    expect(TypeError, lambda: rnn_forward(params, x, mask=np.full((T, B), 0.5)), "mask")
    expect(ValueError, lambda: rnn_forward(params, x, activation="sigmoid"), "activation", "sigmoid")
    expect(ValueError, lambda: rnn_forward({**params, "W": np.ones((6, 5))}, x), "W", "square")
    expect(ValueError, lambda: rnn_forward({**params, "U": np.ones((5, 4))}, x), "U")
    expect(ValueError, lambda: rnn_forward({**params, "c": np.ones(3)}, x), "c")
    expect(KeyError, lambda: rnn_forward({k: v for k, v in params.items() if k != "V"}, x), "V")
    expect(TypeError, lambda: rnn_forward("params", x), "params")
    expect(ValueError, lambda: rnn_forward(params, np.where(x > 1, np.nan, x)), "x", "NaN")
    expect(ValueError, lambda: rnn_forward(params, np.full((T, B, d), np.inf)), "x", "inf")
    expect(ValueError, lambda: rnn_forward(params, np.zeros((0, B, d))), "zero time steps")
    expect(TypeError, lambda: rnn_forward(params, np.array([["a"] * d] * T)), "x", "numeric")
    expect(TypeError, lambda: rnn_forward(params, [[None] * d] * T), "x", "numeric")
    expect(ValueError, lambda: rnn_backward(params, cache, np.full((T, B), C)), "y", "[0, 7)")
    expect(ValueError, lambda: rnn_backward(params, cache, np.full((T, B), -1)), "y", "[0, 7)")
    expect(TypeError, lambda: rnn_backward(params, cache, np.full((T, B), 1.5)), "y", "integer")
    expect(ValueError, lambda: rnn_backward(params, cache, y[:, :2]), "y", "(5, 3)")
    expect(TypeError, lambda: rnn_backward(params, {"h": 1}, y), "cache")
    expect(ValueError, lambda: rnn_step_forward(params, x[0, :, :2], h0), "x_t", "d=4")
    expect(ValueError, lambda: rnn_step_forward(params, x[0], h0[:1]), "h_prev")
    expect(ValueError, lambda: rnn_step_forward(params, x[0], h0, mask_t=np.ones(2, bool)), "mask_t")
    _, step_cache = rnn_step_forward(params, x[0], h0)
    expect(ValueError, lambda: rnn_step_backward(params, np.ones((B, 2)), step_cache), "dh_t")
    expect(ValueError, lambda: init_rnn(0, 3, 2), "d")
    expect(TypeError, lambda: init_rnn(2.5, 3, 2), "d")
    expect(TypeError, lambda: init_rnn(2, 3, 2, dtype=np.int32), "dtype")


def test_float_targets_holding_integers_are_accepted():
    params, x, h0, y = make()
    cache = rnn_forward(params, x, h0)
    assert rnn_backward(params, cache, y.astype(float))[0] == rnn_backward(params, cache, y)[0]


def test_package_exports_the_core():
    for name in ("init_rnn", "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
                 "gradcheck", "rel_error", "SGD", "Adagrad", "Adam", "clip_grad_norm", "clip_grad_value", "train",
                 "sample"):
        assert callable(getattr(rnnlib, name)), name


def test_loss_stays_finite_and_exact_at_logits_of_1e4():
    params, x, h0, y = make()
    params["V"] = params["V"] * 0
    params["c"] = np.zeros(C)
    params["c"][0], params["c"][1] = 1e4, -1e4                        # o = c for every step
    cache = rnn_forward(params, x, h0)
    y_wrong = np.full((T, B), 1)                                      # target logit 2e4 below the top
    loss, grads = rnn_backward(params, cache, y_wrong)
    assert np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads.values())
    assert loss == pytest.approx(T * 2e4, rel=1e-12)                  # closed form: sum_t (1e4 - (-1e4))
    loss_right, _ = rnn_backward(params, cache, np.zeros((T, B), int))
    assert loss_right == pytest.approx(0.0, abs=1e-12)                # y_hat[0] = 1 - O(e^-1e4)
    np.testing.assert_allclose(grads["c"], T * (np.eye(C)[0] - np.eye(C)[1]), atol=1e-12)


# -------------------------------------------------------------------------------- issue 18
def test_nan_or_inf_params_are_refused_naming_the_key():
    params, x, h0, y = make()
    cache = rnn_forward(params, x, h0)
    for value in (np.nan, np.inf):
        bad = {**params, "V": params["V"].copy()}
        bad["V"][0, 0] = value
        expect(ValueError, lambda: rnn_forward(bad, x), "params['V']", "NaN or inf")
        expect(ValueError, lambda: rnn_backward(bad, cache, y), "params['V']", "NaN or inf")
        bad_W = params["W"].copy()
        bad_W[1, 1] = value
        expect(ValueError, lambda: rnn_step_forward({**params, "W": bad_W}, x[0], h0), "params['W']")


def test_loss_and_caches_give_errors_naming_y_and_cache():
    params, x, h0, y = make(B=1)
    cache = rnn_forward(params, x[:, 0])                              # one sequence, B = 1
    expect(ValueError, lambda: rnnlib.rnn_loss(cache, y[:-1, 0]), "y", "(5, 1)", "(4,)")
    expect(TypeError, lambda: rnnlib.rnn_loss(None, y), "cache")
    expect(TypeError, lambda: rnn_backward(params, None, y), "cache", "RNNCache")
    other = rnn_forward(init_rnn(d, m + 1, C), x)
    expect(ValueError, lambda: rnn_backward(params, other, y), "cache does not match params")
    _, step_cache = rnn_step_forward(init_rnn(d, m + 1, C), x[0], None)
    expect(ValueError, lambda: rnn_step_backward(params, np.ones((1, m)), step_cache), "cache")
    expect(TypeError, lambda: rnn_step_backward(params, np.ones((1, m)), cache), "cache", "StepCache")


def test_relu_overflow_warns_once_with_the_step():
    import warnings
    params = init_rnn(2, 3, 2)
    params["W"] = 2.0 * np.eye(3)
    params["U"] = np.ones((3, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache = rnn_forward(params, np.ones((1100, 1, 2)), activation="relu")
    assert len(caught) == 1
    # h^(t) = 2 h^(t-1) + 2 = 2^(t+1) - 2 overflows float64 (max ~2^1024) first at t = 1023
    assert "t=1023 " in str(caught[0].message) and np.isfinite(cache.h[1022]).all()


def test_init_refuses_huge_sizes_before_allocating_and_bad_seeds_and_dtypes():
    expect(ValueError, lambda: init_rnn(3, 30000, 3), "m=30000", "max_bytes")
    assert init_rnn(3, 300, 3, max_bytes=10 ** 7)["W"].shape == (300, 300)
    for seed in (-1, 1.5, "x", True):
        expect((TypeError, ValueError), lambda: init_rnn(3, 4, 3, seed=seed), "seed")
    for dtype in ("foo", int, np.float16):
        expect(TypeError, lambda: init_rnn(3, 4, 3, dtype=dtype), "dtype")
