"""Tests of rnnlib.reservoir: the reservoir's spectral radius, leaky units against a hand loop
(scalar and per-unit alpha, masks), their gradients against finite differences of that loop
and rnnlib.gradcheck, the ridge readout against np.linalg.lstsq on the augmented system, the
echo state network on NARMA-10 and delayed recall, and the time scale of leaky units."""
import numpy as np
import pytest

from rnnlib import Adam, gradcheck, init_rnn, numerical_gradient, rnn_forward, train
from rnnlib import reservoir as R
from rnnlib.metrics import nrmse

TOL = 1e-7


def test_reservoir_has_the_chosen_spectral_radius():
    for rho in (0.5, 0.9, 1.3):
        p = R.init_reservoir(2, 30, spectral_radius=rho, input_scale=0.3, bias_scale=0.1, seed=1)
        assert np.max(np.abs(np.linalg.eigvals(p["W"]))) == pytest.approx(rho, rel=1e-10)
        assert np.abs(p["U"]).max() <= 0.3 and np.abs(p["b"]).max() <= 0.1
    assert np.all(R.init_reservoir(2, 5, spectral_radius=0.0)["W"] == 0)


def hand_leaky(p, x, h0, alpha, mask):
    T, B, _ = x.shape
    m = p["W"].shape[0]
    H = np.zeros((T + 1, B, m))
    H[0] = h0
    for b in range(B):
        h = h0[b].copy()
        for t in range(T):
            if mask is None or mask[t, b]:
                h = (1 - alpha) * h + alpha * np.tanh(p["b"] + p["W"] @ h + p["U"] @ x[t, b])
            H[t + 1, b] = h
    return H


def hand_loss(p, H, y, mask):
    T, B = y.shape
    J = 0.0
    for t in range(T):
        for b in range(B):
            if mask is None or mask[t, b]:
                o = p["c"] + p["V"] @ H[t + 1, b]
                J += (np.log(np.sum(np.exp(o - o.max()))) + o.max() - o[y[t, b]]) / B
    return J


@pytest.mark.parametrize("alpha_kind", ["one", "per_unit", "vanilla"])
@pytest.mark.parametrize("masked", [False, True])
def test_leaky_units_forward_and_gradients(alpha_kind, masked):
    rng = np.random.default_rng(0)
    p = {k: v + 0.2 * rng.standard_normal(v.shape) for k, v in R.init_leaky(3, 4, 3, seed=1).items()}
    alpha = {"one": 0.3, "per_unit": np.array([0.05, 0.2, 0.6, 1.0]), "vanilla": 1.0}[alpha_kind]
    x = rng.standard_normal((6, 2, 3))
    y = rng.integers(0, 3, (6, 2))
    mask = np.arange(6)[:, None] < np.array([6, 3])[None] if masked else None
    h0 = rng.standard_normal((2, 4))
    cache = R.leaky_forward(p, x, h0, mask, alpha=alpha)
    H = hand_leaky(p, x, h0, alpha, mask)
    np.testing.assert_allclose(cache.h, H, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(R.reservoir_states(p, x, h0, alpha, mask), H, rtol=1e-12, atol=1e-12)
    if alpha_kind == "vanilla":                          # alpha = 1 is the vanilla RNN
        np.testing.assert_allclose(cache.o, rnn_forward(p, x, h0, mask).o, rtol=1e-12, atol=1e-12)
    loss, grads = R.leaky_backward(p, cache, y)
    assert loss == pytest.approx(hand_loss(p, H, y, mask), rel=1e-12)
    inputs = dict(p, h0=h0.copy())
    num = numerical_gradient(lambda q: hand_loss(q, hand_leaky(q, x, q["h0"], alpha, mask), y, mask),
                             inputs, eps=1e-6)
    for k in grads:
        rel = np.linalg.norm(grads[k] - num[k]) / (np.linalg.norm(grads[k]) + np.linalg.norm(num[k]))
        assert rel < TOL, (k, rel)
    errors = gradcheck(lambda q: R.leaky_backward(q, R.leaky_forward(q, x, h0, mask, alpha=alpha), y)[0],
                       p, {k: v for k, v in grads.items() if k != "h0"})
    assert max(errors.values()) < TOL


def test_leaky_float32_and_train():
    p = R.init_leaky(2, 5, 2, seed=0, dtype=np.float32)
    rng = np.random.default_rng(0)

    def batch(step):
        x = rng.standard_normal((8, 16, 2))
        return x, (x[:, :, 0] > 0).astype(int)
    cache = R.leaky_forward(p, batch(0)[0], alpha=0.5)
    assert cache.h.dtype == cache.o.dtype == np.float32
    history = train(p, batch, 40, Adam(lr=0.05), forward=R.leaky_forward, backward=R.leaky_backward,
                    progress=False, alpha=0.5)
    assert np.mean(history.loss[-5:]) < np.mean(history.loss[:5])


@pytest.mark.parametrize("ridge", [0.0, 1e-3, 10.0])
def test_ridge_readout_equals_lstsq_on_the_augmented_system(ridge):
    rng = np.random.default_rng(1)
    h = rng.standard_normal((40, 3, 6))
    y = rng.standard_normal((40, 3, 2))
    mask = rng.random((40, 3)) < 0.8
    out = R.fit_readout(h, y, ridge=ridge, washout=5, mask=mask)
    keep = mask.copy()
    keep[:5] = False
    Z = np.concatenate([h[keep], np.ones((keep.sum(), 1))], axis=1)
    penalty = np.sqrt(ridge) * np.eye(7)[:6]             # ridge on V only, not on c
    A = np.concatenate([Z, penalty])
    rhs = np.concatenate([y[keep], np.zeros((6, 2))])
    theta = np.linalg.lstsq(A, rhs, rcond=None)[0]
    np.testing.assert_allclose(out["V"], theta[:6].T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(out["c"], theta[6], rtol=1e-8, atol=1e-10)


def test_echo_state_network_solves_narma10():
    """The section's claim (seeded): NRMSE on held-out steps well below 1 (predicting the mean)."""
    u, y = R.make_narma(4000, seed=0)
    p = R.init_reservoir(1, 200, spectral_radius=0.9, input_scale=0.2, bias_scale=0.2, seed=0)
    h = R.reservoir_states(p, u[:, None, None])[1:]
    readout = R.fit_readout(h[:3000], y[:3000, None], ridge=1e-6, washout=100)
    pred = R.esn_predict(p, readout, u[:, None, None])
    assert nrmse(pred[3000:, 0, 0], y[3000:]) < 0.25


def test_narma_follows_its_equation():
    u, y = R.make_narma(50, order=3, seed=2)
    for t in range(2, 49):
        want = 0.3 * y[t] + 0.05 * y[t] * y[t - 2:t + 1].sum() + 1.5 * u[t - 2] * u[t] + 0.1
        assert y[t + 1] == pytest.approx(want)
    assert u.min() >= 0 and u.max() <= 0.5


def test_delay_recall_memory_falls_with_the_delay():
    u, y = R.make_delay_recall(3000, delays=(1, 10, 40), seed=0)
    np.testing.assert_array_equal(y[10:, 1], u[:-10])
    p = R.init_reservoir(1, 100, spectral_radius=0.9, input_scale=0.1, seed=0)
    h = R.reservoir_states(p, u[:, None, None])[1:]
    readout = R.fit_readout(h[:2000], y[:2000, None, :], ridge=1e-8, washout=100)
    err = nrmse(R.esn_predict(p, readout, u[:, None, None])[2000:, 0], y[2000:])
    assert err[0] < 0.01 and err[1] < 0.05 and err[2] > 0.5


@pytest.mark.parametrize("alpha", [0.5, 0.2, 0.05])
def test_leaky_time_scale_is_about_one_over_alpha(alpha):
    p = R.init_reservoir(1, 20, spectral_radius=0.0, input_scale=1.0, seed=0)  # W = 0
    response = R.leaky_impulse_response(p, alpha, T=200)
    tau = R.fit_time_constant(response, 0, min(200, int(8 / alpha)))
    assert tau == pytest.approx(-1 / np.log(1 - alpha), rel=1e-4)   # exact for W = 0
    assert abs(tau * alpha - 1) < alpha                  # ~ 1/alpha, closer for small alpha
    assert R.leaky_decay_rate(p, alpha) == pytest.approx(1 - alpha)


def test_decay_rate_predicts_the_fitted_time_scale_with_a_recurrent_W():
    p = R.init_reservoir(1, 30, spectral_radius=0.5, input_scale=1.0, seed=3)
    for alpha in (0.5, 0.1):
        response = R.leaky_impulse_response(p, alpha, T=400, size=1e-6)
        rate = R.leaky_decay_rate(p, alpha)
        tau = R.fit_time_constant(response, int(2 / alpha), int(8 / alpha))
        assert tau == pytest.approx(-1 / np.log(rate), rel=0.15)
