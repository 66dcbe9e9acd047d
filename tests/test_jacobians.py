"""Tests of rnnlib/jacobians.py against independent references.

References: a forward loop written out here that lets h^(k) be replaced (finite differences of
h^(t) and of the loss with respect to h^(k)), the product of diag(act'(a)) W matrices built by
hand, the bound (max|act'| ||W||_2)^(t-k), and the exact rate rho^(t-k) of a linear RNN whose W is
rho times an orthogonal matrix.
"""
import numpy as np
import pytest

from rnnlib import Adam, SGD, init_rnn, rnn_backward, rnn_forward
from rnnlib.activations import activate
from rnnlib.jacobians import (
    gradient_norms,
    hidden_jacobians,
    jacobian_bound_rate,
    jacobian_norms,
    jacobian_singular_values,
    last_state_jacobians,
    loss_term_gradients,
    spectral_radius,
    state_gradients,
    step_jacobians,
    train_with_gradient_norms,
)
from rnnlib.losses import log_softmax
from rnnlib.remedies import init_skip_rnn, skip_rnn_forward

T, B, d, m, C = 6, 2, 3, 4, 3
RAGGED = np.array([[1, 1], [1, 1], [1, 0], [1, 1], [1, 0], [1, 0]], dtype=bool)


def make(seed=0, skip=None, scale=1.0):
    rng = np.random.default_rng(seed)
    params = init_rnn(d, m, C, seed=seed) if skip is None else init_skip_rnn(d, m, C, skip, seed=seed)
    params["W"] *= scale
    params["b"] += 0.1 * rng.standard_normal(m)
    x = rng.standard_normal((T, B, d))
    h0 = 0.5 * rng.standard_normal((B, m))
    y = rng.integers(0, C, size=(T, B))
    return params, x, h0, y


def run_with_replacement(params, x, h0, mask, activation, skip, k, h_k):
    """Forward loop written out here; h^(k) is replaced by h_k (later states recomputed).

    Returns h (T+1, B, m).
    """
    W, U, V, b, c = (params[key] for key in ("W", "U", "V", "b", "c"))
    h = [h_k if k == 0 else h0]
    for t in range(1, len(x) + 1):
        a = b + h[t - 1] @ W.T + x[t - 1] @ U.T
        if skip is not None and t >= skip:
            a = a + h[t - skip] @ params["W_s"].T
        h_t = activate(a, activation)
        if mask is not None:
            h_t = np.where(mask[t - 1][:, None], h_t, h[t - 1])
        h.append(h_k if t == k else h_t)
    return np.array(h)


def loss_of(params, h, y, mask):
    logp = log_softmax(h[1:] @ params["V"].T + params["c"])             # (T, B, C)
    nll = -np.take_along_axis(logp, y[..., None], axis=2)[..., 0]       # (T, B)
    if mask is not None:
        nll = nll * mask
    return nll.sum() / h.shape[1]


def forward(params, x, h0, mask, activation, skip):
    if skip is None:
        return rnn_forward(params, x, h0, mask, activation)
    return skip_rnn_forward(params, x, skip, h0, mask, activation)


def finite_difference_jacobian(params, x, h0, mask, activation, skip, h_ref, k, eps=1e-6):
    """dh^(t)/dh^(k) for all t by centred differences: (T+1, B, m, m)."""
    J = np.zeros((T + 1, B, m, m))
    for j in range(m):
        for sign in (1, -1):
            h_k = h_ref[k].copy()
            h_k[:, j] += sign * eps
            h = run_with_replacement(params, x, h0, mask, activation, skip, k, h_k)
            J[:, :, :, j] += sign * h / (2 * eps)
    J[:k] = 0
    return J


# ------------------------------------------------------------------ Jacobians vs references
@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
@pytest.mark.parametrize("mask", [None, RAGGED], ids=["full", "masked"])
@pytest.mark.parametrize("skip", [None, 1, 2, 3], ids=["rnn", "skip1", "skip2", "skip3"])
def test_hidden_jacobians_match_finite_differences(activation, mask, skip):
    params, x, h0, y = make(skip=skip)
    cache = forward(params, x, h0, mask, activation, skip)
    D = hidden_jacobians(params, cache)
    assert D.shape == (T + 1, T + 1, B, m, m)
    for k in range(T + 1):
        numeric = finite_difference_jacobian(params, x, h0, mask, activation, skip, cache.h, k)
        err = np.abs(D[:, k] - numeric).max()
        assert err < 1e-8, (k, err)
    R = last_state_jacobians(params, cache)
    np.testing.assert_allclose(R, D[T], atol=1e-14)


def test_hidden_jacobians_are_the_hand_written_product():
    params, x, h0, y = make(seed=3)
    cache = rnn_forward(params, x, h0, activation="tanh")
    D = hidden_jacobians(params, cache)
    W = params["W"]
    for b in range(B):
        for k in range(T + 1):
            for t in range(T + 1):
                P = np.eye(m) if t >= k else np.zeros((m, m))
                for j in range(k + 1, t + 1):                     # newest factor on the left
                    P = np.diag(1 - cache.h[j, b] ** 2) @ W @ P
                np.testing.assert_allclose(D[t, k, b], P, atol=1e-14)
    S = step_jacobians(params, cache)
    assert S.shape == (T, B, m, m)
    for t in range(1, T + 1):
        np.testing.assert_allclose(S[t - 1], D[t, t - 1], atol=1e-15)


def test_step_jacobian_is_identity_at_padded_steps():
    params, x, h0, y = make()
    S = step_jacobians(params, rnn_forward(params, x, h0, RAGGED))
    np.testing.assert_array_equal(S[2, 1], np.eye(m))
    assert not np.allclose(S[2, 0], np.eye(m))


@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
@pytest.mark.parametrize("scale", [0.5, 1.0, 2.5])
def test_norms_obey_the_bound(activation, scale):
    params, x, h0, y = make(seed=5, scale=scale)
    cache = rnn_forward(params, x, h0, activation=activation)
    norms = jacobian_norms(hidden_jacobians(params, cache))           # (T+1, T+1, B)
    rate = jacobian_bound_rate(params, activation)
    assert rate == pytest.approx(np.linalg.svd(params["W"], compute_uv=False)[0])
    t, k = np.tril_indices(T + 1)
    bound = rate ** (t - k)
    assert np.all(norms[t, k] <= bound[:, None] * (1 + 1e-12))
    # for the identity the one-step Jacobian is W itself: the bound is reached
    if activation == "identity":
        np.testing.assert_allclose(norms[np.arange(1, T + 1), np.arange(T)], rate)


@pytest.mark.parametrize("rho", [0.7, 1.0, 1.3])
def test_linear_rnn_norms_are_exactly_rho_to_the_lag(rho):
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    params, x, h0, y = make()
    params["W"] = rho * Q
    assert spectral_radius(params["W"]) == pytest.approx(rho)
    norms = jacobian_norms(hidden_jacobians(params, rnn_forward(params, x, h0, activation="identity")))
    t, k = np.tril_indices(T + 1)
    np.testing.assert_allclose(norms[t, k], (rho ** (t - k))[:, None] * np.ones(B), rtol=1e-10)
    slope = np.polyfit(np.arange(T + 1), np.log(norms[T, ::-1, 0]), 1)[0]
    assert slope == pytest.approx(np.log(rho), abs=1e-10)


def test_singular_values_and_frobenius():
    params, x, h0, y = make()
    D = hidden_jacobians(params, rnn_forward(params, x, h0))
    sv = jacobian_singular_values(D)
    assert sv.shape == (T + 1, T + 1, B, m)
    assert np.all(np.diff(sv, axis=-1) <= 1e-15)                   # largest first
    np.testing.assert_allclose(jacobian_norms(D), sv[..., 0])
    np.testing.assert_allclose(jacobian_norms(D, "fro"), np.sqrt((sv ** 2).sum(-1)), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(sv[3, 3], np.ones((B, m)))
    # exploding products overflow to inf: the norm says inf instead of raising
    J = np.full((2, 3, 3), np.inf)
    assert np.all(jacobian_norms(J) == np.inf)


# ------------------------------------------------------------------ gradients with respect to h^(k)
@pytest.mark.parametrize("mask", [None, RAGGED], ids=["full", "masked"])
@pytest.mark.parametrize("skip", [None, 2], ids=["rnn", "skip2"])
def test_state_gradients_match_finite_differences_of_the_loss(mask, skip):
    params, x, h0, y = make(seed=2, skip=skip)
    cache = forward(params, x, h0, mask, "tanh", skip)
    delta = state_gradients(params, cache, y)                         # (T+1, B, m)
    eps = 1e-6
    for k in range(T + 1):
        numeric = np.zeros((B, m))
        for b in range(B):
            for j in range(m):
                f = []
                for sign in (1, -1):
                    h_k = cache.h[k].copy()
                    h_k[b, j] += sign * eps
                    h = run_with_replacement(params, x, h0, mask, "tanh", skip, k, h_k)
                    f.append(loss_of(params, h, y, mask))
                numeric[b, j] = (f[0] - f[1]) / (2 * eps)
        assert np.abs(delta[k] - numeric).max() < 1e-8, k
    if skip is None:
        np.testing.assert_allclose(delta[0], rnn_backward(params, cache, y)[1]["h0"], atol=1e-15)
    G = loss_term_gradients(params, cache, y)                         # (T+1, T+1, B, m)
    np.testing.assert_allclose(G.sum(axis=0), delta, atol=1e-14)
    t, k = np.triu_indices(T + 1, 1)
    assert np.all(G[t, k] == 0) and np.all(G[0] == 0)
    norms = gradient_norms(delta)
    np.testing.assert_allclose(norms, np.sqrt((delta ** 2).sum(axis=(1, 2))))


def test_one_loss_term_gradient_matches_finite_differences():
    params, x, h0, y = make(seed=4)
    cache = rnn_forward(params, x, h0)
    G = loss_term_gradients(params, cache, y)
    t, k, eps = 5, 2, 1e-6
    numeric = np.zeros((B, m))
    for b in range(B):
        for j in range(m):
            f = []
            for sign in (1, -1):
                h_k = cache.h[k].copy()
                h_k[b, j] += sign * eps
                h = run_with_replacement(params, x, h0, None, "tanh", None, k, h_k)
                logp = log_softmax(h[t] @ params["V"].T + params["c"])
                f.append(-logp[np.arange(B), y[t - 1]].sum() / B)
            numeric[b, j] = (f[0] - f[1]) / (2 * eps)
    np.testing.assert_allclose(G[t, k], numeric, atol=1e-8)


# ------------------------------------------------------------------ training
def task(step, T=8, B=4):
    rng = np.random.default_rng(step)
    x = rng.standard_normal((T, B, d))
    y = (x[..., 0] > 0).astype(int)
    return x, y


def test_train_with_gradient_norms_records_every_step_and_learns():
    params = init_rnn(d, m, 2, seed=0)
    history, state_norms = train_with_gradient_norms(params, task, 40, Adam(lr=0.05))
    assert len(history.loss) == len(history.grad_norm) == 40 and not history.diverged
    assert state_norms.shape == (40, 9)
    assert history.loss[-1] < 0.6 * history.loss[0]
    # the recorded norm is the norm before clipping, and clipping changes the trajectory
    p1, p2 = init_rnn(d, m, 2, seed=0), init_rnn(d, m, 2, seed=0)
    h1, _ = train_with_gradient_norms(p1, task, 5, SGD(lr=1.0))
    h2, _ = train_with_gradient_norms(p2, task, 5, SGD(lr=1.0), clip_norm=1e-3)
    assert h1.grad_norm[0] == h2.grad_norm[0] > 1e-3
    assert h1.loss[1] != h2.loss[1]


def test_train_with_gradient_norms_stops_on_divergence():
    params = init_rnn(d, m, 2, seed=0)
    params["W"] *= 40
    history, _ = train_with_gradient_norms(params, task, 50, SGD(lr=1e6), activation="relu")
    assert history.diverged
    assert not np.isfinite(history.loss[-1]) or not np.isfinite(history.grad_norm[-1])
    assert len(history.loss) < 50


# ------------------------------------------------------------------ bad input
def test_bad_inputs():
    params, x, h0, y = make()
    cache = rnn_forward(params, x, h0)
    with pytest.raises(TypeError, match="cache"):
        hidden_jacobians(params, {"h": cache.h})
    small = init_rnn(d, m + 1, C)
    with pytest.raises(ValueError, match="hidden size"):
        step_jacobians(small, cache)
    with pytest.raises(KeyError, match="W"):
        last_state_jacobians({"U": params["U"], "b": params["b"]}, cache)
    skip_params, *_ = make(skip=2)
    skip_cache = skip_rnn_forward(skip_params, x, 2, h0)
    with pytest.raises(KeyError, match="W_s"):
        hidden_jacobians(params, skip_cache)
    with pytest.raises(ValueError, match="W_s"):
        state_gradients({**skip_params, "W_s": np.zeros((m, m + 1))}, skip_cache, y)
    with pytest.raises(ValueError, match=r"\(\.\.\., p, q\)"):
        jacobian_norms(np.zeros(5))
    assert jacobian_norms(np.ones((3, 1, 4))) == pytest.approx([2.0] * 3)   # rectangular: [h; s] columns
    with pytest.raises(ValueError, match="ord"):
        jacobian_norms(np.zeros((3, 3)), ord=1)
    with pytest.raises(ValueError, match=r"\(\.\.\., p, q\)"):
        jacobian_singular_values(np.zeros(3))
    with pytest.raises(ValueError, match="square"):
        spectral_radius(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="activation"):
        jacobian_bound_rate(params, "sigmoid")
    with pytest.raises(ValueError, match="y"):
        state_gradients(params, cache, y[:-1])
    with pytest.raises(ValueError, match="classes"):
        loss_term_gradients(init_rnn(d, m, C + 2), cache, y)
    with pytest.raises(ValueError, match="jacobians"):
        loss_term_gradients(params, cache, y, jacobians=np.zeros((2, 2, B, m, m)))
    with pytest.raises(ValueError, match="at least 2 axes"):
        gradient_norms(np.zeros(3))
    with pytest.raises(TypeError, match="optimizer"):
        train_with_gradient_norms(params, task, 2, optimizer="adam")
    with pytest.raises(TypeError, match="batches"):
        train_with_gradient_norms(params, [task(0)], 2)
    with pytest.raises(ValueError, match="num_steps"):
        train_with_gradient_norms(params, task, 0)


# ------------------------------------------------------------------ gated cells (LSTM, GRU)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("mask", [None, RAGGED], ids=["full", "masked"])
def test_gated_jacobians_match_finite_differences(kind, mask):
    from rnnlib import gru_backward, gru_forward, init_gru, init_lstm, lstm_backward, lstm_forward

    rng = np.random.default_rng(7)
    x = rng.standard_normal((T, B, d))
    y = rng.integers(0, C, size=(T, B))
    h0 = 0.5 * rng.standard_normal((B, m))
    c0 = 0.5 * rng.standard_normal((B, m))
    if kind == "lstm":
        params = init_lstm(d, m, C, seed=7)
        run = lambda h, s, k: lstm_forward(params, x[k:], h, s, None if mask is None else mask[k:])  # noqa: E731
        cache = run(h0, c0, 0)
        grads = lstm_backward(params, cache, y)[1]
        states = np.concatenate([cache.h, cache.s], axis=2)              # (T+1, B, 2m)
    else:
        params = init_gru(d, m, C, seed=7)
        run = lambda h, s, k: gru_forward(params, x[k:], h, None if mask is None else mask[k:])  # noqa: E731
        cache = run(h0, None, 0)
        grads = gru_backward(params, cache, y)[1]
        states = cache.h
    n = states.shape[2]
    D = hidden_jacobians(params, cache)
    assert D.shape == (T + 1, T + 1, B, n, n)
    R = last_state_jacobians(params, cache)
    assert R.shape == (T + 1, B, m, n)
    np.testing.assert_allclose(R, D[T][..., :m, :], atol=1e-14)
    eps = 1e-6
    for k in range(T):                                                   # run the cell from step k
        numeric = np.zeros((T + 1 - k, B, n, n))
        for j in range(n):
            outs = []
            for sign in (1, -1):
                start = states[k].copy()
                start[:, j] += sign * eps
                c = run(start[:, :m], start[:, m:] if kind == "lstm" else None, k)
                outs.append(np.concatenate([c.h, c.s], axis=2) if kind == "lstm" else c.h)
            numeric[..., j] = (outs[0] - outs[1]) / (2 * eps)
        assert np.abs(D[k:, k] - numeric).max() < 1e-8, k
    delta = state_gradients(params, cache, y)
    assert delta.shape == (T + 1, B, m)
    np.testing.assert_allclose(delta[0], grads["h0"], atol=1e-14)
    np.testing.assert_allclose(loss_term_gradients(params, cache, y).sum(axis=0), delta, atol=1e-14)
    if kind == "lstm":                                                   # the carousel: ds/ds_prev = diag(f)
        S = step_jacobians(params, cache)
        expected_f = np.where((mask if mask is not None else np.ones((T, B), bool))[..., None], cache.f, 1.0)
        np.testing.assert_allclose(np.diagonal(S[:, :, m:, m:], axis1=2, axis2=3), expected_f)


def test_gated_bad_inputs():
    from rnnlib import init_gru, init_lstm, lstm_forward
    from rnnlib.jacobians import gated_step_jacobians

    params = init_lstm(d, m, C)
    cache = lstm_forward(params, np.zeros((T, B, d)))
    with pytest.raises(TypeError, match="lstm_forward or gru_forward"):
        gated_step_jacobians(params, rnn_forward(init_rnn(d, m, C), np.zeros((T, B, d))))
    with pytest.raises(KeyError, match="W_i"):
        step_jacobians(init_gru(d, m, C), cache)
    with pytest.raises(ValueError, match="hidden size"):
        hidden_jacobians(init_lstm(d, m + 1, C), cache)


def test_train_with_gradient_norms_accepts_an_lstm():
    from rnnlib import init_lstm, lstm_backward, lstm_forward

    params = init_lstm(d, m, 2, seed=0)
    history, state_norms = train_with_gradient_norms(params, task, 3, forward=lstm_forward, backward=lstm_backward)
    assert state_norms.shape == (3, 9) and len(history.grad_norm) == 3


def test_hidden_jacobians_refuse_a_huge_allocation_before_making_it():
    """Issue 18: T = 2000 would take 7.6 GiB and more; the limit is a keyword."""
    params = init_rnn(d, 16, C)
    cache = rnn_forward(params, np.zeros((2000, 4, d)))
    with pytest.raises(ValueError, match="max_bytes"):
        hidden_jacobians(params, cache)
    small = rnn_forward(params, np.zeros((2, 1, d)))
    assert hidden_jacobians(params, small, max_bytes=10 ** 6).shape == (3, 3, 1, 16, 16)
