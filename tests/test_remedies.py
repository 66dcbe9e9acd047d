"""Tests of rnnlib/remedies.py (IRNN initialisation, the skip-RNN) against independent references.

References: centred finite differences in float64 (relative error below 1e-7 for every parameter
and h0, masks included), a forward loop written out here, the vanilla RNN (a skip-RNN with
W_s = 0 is a vanilla RNN) and per-sequence runs for a padded batch.
"""
import numpy as np
import pytest

from rnnlib import gradcheck, init_rnn, rnn_backward, rnn_forward
from rnnlib.activations import activate
from rnnlib.jacobians import step_jacobians
from rnnlib.remedies import SkipRNNCache, init_irnn, init_skip_rnn, skip_rnn_backward, skip_rnn_forward

T, B, d, m, C = 7, 3, 4, 5, 3
RAGGED = np.array([[1, 1, 1]] * 4 + [[1, 0, 1], [1, 0, 0], [1, 0, 0]], dtype=bool)  # lengths 7, 4, 5
KEYS = ("W", "W_s", "U", "V", "b", "c")


def make(skip, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = init_skip_rnn(d, m, C, skip, seed=seed, dtype=dtype)
    params["b"] += (0.1 * rng.standard_normal(m)).astype(dtype)
    params["c"] += (0.1 * rng.standard_normal(C)).astype(dtype)
    x = rng.standard_normal((T, B, d)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((B, m))).astype(dtype)
    y = rng.integers(0, C, size=(T, B))
    return params, x, h0, y


# ------------------------------------------------------------------ IRNN
def test_init_irnn_is_identity_and_relu_jacobian_is_identity_on_active_units():
    params = init_irnn(d, m, C, seed=3)
    np.testing.assert_array_equal(params["W"], np.eye(m))
    np.testing.assert_array_equal(params["b"], np.zeros(m))
    reference = init_rnn(d, m, C, seed=3)
    np.testing.assert_array_equal(params["U"], reference["U"])
    assert init_irnn(d, m, C, scale=0.5)["W"][0, 0] == 0.5
    assert init_irnn(d, m, C, dtype=np.float32)["W"].dtype == np.float32
    x = np.random.default_rng(0).standard_normal((T, B, d))
    cache = rnn_forward(params, x, activation="relu")
    S = step_jacobians(params, cache)
    active = (cache.a > 0).astype(float)
    np.testing.assert_array_equal(S, active[..., None] * np.eye(m))


@pytest.mark.parametrize("scale", [0, -1.0])
def test_init_irnn_rejects_bad_scale(scale):
    with pytest.raises(ValueError, match="scale"):
        init_irnn(d, m, C, scale=scale)


def test_init_irnn_rejects_non_numbers():
    with pytest.raises(TypeError, match="scale"):
        init_irnn(d, m, C, scale="1")
    with pytest.raises(TypeError, match="scale"):
        init_irnn(d, m, C, scale=float("nan"))


# ------------------------------------------------------------------ skip-RNN forward
def hand_forward(params, x, h0, skip, activation="tanh", mask=None):
    W, W_s, U, V, b, c = (params[k] for k in KEYS)
    h = [h0]
    for t in range(1, len(x) + 1):
        a = b[:, None] + W @ h[t - 1].T + U @ x[t - 1].T   # column-vector form, (m, B)
        if t >= skip:
            a = a + W_s @ h[t - skip].T
        h_t = activate(a.T, activation)
        if mask is not None:
            h_t = np.where(mask[t - 1][:, None], h_t, h[t - 1])
        h.append(h_t)
    return np.array(h)


@pytest.mark.parametrize("skip", [1, 2, 3, 7, 9])
@pytest.mark.parametrize("mask", [None, RAGGED], ids=["full", "masked"])
def test_skip_forward_matches_hand_loop(skip, mask):
    params, x, h0, y = make(skip)
    cache = skip_rnn_forward(params, x, skip, h0, mask)
    assert isinstance(cache, SkipRNNCache) and cache.skip == skip
    np.testing.assert_allclose(cache.h, hand_forward(params, x, h0, skip, mask=mask), atol=1e-14)
    assert cache.y_hat.shape == (T, B, C)
    np.testing.assert_allclose(cache.y_hat.sum(-1), 1)


def test_skip_rnn_with_zero_W_s_is_the_vanilla_rnn():
    params, x, h0, y = make(3)
    params["W_s"][:] = 0
    vanilla = {k: params[k] for k in ("W", "U", "V", "b", "c")}
    cache = skip_rnn_forward(params, x, 3, h0, RAGGED, "relu")
    reference = rnn_forward(vanilla, x, h0, RAGGED, "relu")
    np.testing.assert_allclose(cache.h, reference.h, atol=1e-15)
    loss, grads = skip_rnn_backward(params, cache, y)
    ref_loss, ref_grads = rnn_backward(vanilla, reference, y)
    assert loss == pytest.approx(ref_loss, rel=1e-14)
    for key in ref_grads:
        np.testing.assert_allclose(grads[key], ref_grads[key], atol=1e-14)


# ------------------------------------------------------------------ skip-RNN gradients
def loss_fn(x, y, skip, mask, activation, h0_key="h0"):
    def f(inputs):
        params = {k: inputs[k] for k in KEYS}
        return skip_rnn_backward(params, skip_rnn_forward(params, x, skip, inputs[h0_key], mask, activation), y)[0]
    return f


@pytest.mark.parametrize("skip", [1, 2, 3, 7, 9])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("mask", [None, RAGGED], ids=["full", "masked"])
def test_skip_gradients_match_finite_differences(skip, activation, mask):
    params, x, h0, y = make(skip, seed=skip)
    loss, grads = skip_rnn_backward(params, skip_rnn_forward(params, x, skip, h0, mask, activation), y)
    assert set(grads) == set(KEYS) | {"h0"}
    inputs = {**params, "h0": h0}
    errors = gradcheck(loss_fn(x, y, skip, mask, activation), inputs, grads)
    assert max(errors.values()) < 1e-7, errors
    if skip > T:
        np.testing.assert_array_equal(grads["W_s"], 0)
    else:
        assert np.abs(grads["W_s"]).max() > 1e-4


def test_skip_gradient_of_shared_h0_and_single_sequence():
    params, x, h0, y = make(2)
    shared = h0[0]
    loss, grads = skip_rnn_backward(params, skip_rnn_forward(params, x, 2, shared), y)
    assert grads["h0"].shape == (m,)
    errors = gradcheck(loss_fn(x, y, 2, None, "tanh"), {**params, "h0": shared.copy()}, grads)
    assert max(errors.values()) < 1e-7, errors
    one = skip_rnn_forward(params, x[:, 0], 2, h0[0])                  # (T, d): one sequence
    assert one.h.shape == (T + 1, 1, m)
    loss_one, _ = skip_rnn_backward(params, one, y[:, 0])
    assert np.isfinite(loss_one)


def test_padded_batch_equals_separate_sequences():
    params, x, h0, y = make(2, seed=5)
    loss, grads = skip_rnn_backward(params, skip_rnn_forward(params, x, 2, h0, RAGGED), y)
    total, summed = 0.0, {k: 0 for k in KEYS}
    for b, length in enumerate(RAGGED.sum(0)):
        l_b, g_b = skip_rnn_backward(params, skip_rnn_forward(params, x[:length, b:b + 1], 2, h0[b:b + 1]),
                                     y[:length, b:b + 1])
        total += l_b / B
        for k in KEYS:
            summed[k] = summed[k] + g_b[k] / B
    assert loss == pytest.approx(total, rel=1e-12)
    for k in KEYS:
        np.testing.assert_allclose(grads[k], summed[k], atol=1e-14)


def test_float32_follows_the_parameters():
    params, x, h0, y = make(2, dtype=np.float32)
    cache = skip_rnn_forward(params, x, 2, h0)
    loss, grads = skip_rnn_backward(params, cache, y)
    assert cache.h.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())
    p64, x64, h064, _ = make(2)
    loss64, _ = skip_rnn_backward(p64, skip_rnn_forward(p64, x64, 2, h064), y)
    assert loss == pytest.approx(loss64, rel=1e-5)


# ------------------------------------------------------------------ bad input
def test_bad_inputs():
    params, x, h0, y = make(2)
    with pytest.raises(ValueError, match="skip"):
        skip_rnn_forward(params, x, 0)
    with pytest.raises(TypeError, match="skip"):
        skip_rnn_forward(params, x, 2.0)
    with pytest.raises(ValueError, match="skip"):
        init_skip_rnn(d, m, C, 0)
    with pytest.raises(KeyError, match="W_s"):
        skip_rnn_forward({k: v for k, v in params.items() if k != "W_s"}, x, 2)
    with pytest.raises(ValueError, match="W_s"):
        skip_rnn_forward({**params, "W_s": np.zeros((m, m + 1))}, x, 2)
    with pytest.raises(TypeError, match="W_s"):
        skip_rnn_forward({**params, "W_s": params["W_s"].astype(np.float32)}, x, 2)
    with pytest.raises(TypeError, match="params"):
        skip_rnn_forward([params], x, 2)
    with pytest.raises(ValueError, match="x"):
        skip_rnn_forward(params, x[..., :2], 2)
    with pytest.raises(ValueError, match="h0"):
        skip_rnn_forward(params, x, 2, h0=h0[:, :2])
    with pytest.raises(ValueError, match="mask"):
        skip_rnn_forward(params, x, 2, mask=RAGGED[:3])
    with pytest.raises(ValueError, match="activation"):
        skip_rnn_forward(params, x, 2, activation="sigmoid")
    cache = skip_rnn_forward(params, x, 2, h0)
    with pytest.raises(TypeError, match="SkipRNNCache"):
        skip_rnn_backward(params, rnn_forward({k: params[k] for k in ("W", "U", "V", "b", "c")}, x), y)
    with pytest.raises(ValueError, match="y"):
        skip_rnn_backward(params, cache, y[:3])
    other, *_ = make(2)
    other = init_skip_rnn(d, m + 1, C, 2)
    with pytest.raises(ValueError, match="cache does not match"):
        skip_rnn_backward(other, cache, y)


def test_a_missing_parameter_is_a_clear_key_error():
    """Issue 18: skip_rnn_backward used to raise a bare KeyError: 'W'."""
    params, x, h0, y = make(2)
    cache = skip_rnn_forward(params, x, 2, h0)
    with pytest.raises(KeyError, match=r"params is missing \['W'\].*skip-RNN"):
        skip_rnn_backward({k: v for k, v in params.items() if k != "W"}, cache, y)
    with pytest.raises(ValueError, match="seed"):
        init_skip_rnn(d, m, C, 2, seed=-1)
