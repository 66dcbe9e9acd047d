"""Tests of rnnlib.bidirectional: the forward pass against a per-example hand loop (both
directions, masks: a padded sequence equals the same sequence run alone), gradients against
finite differences of that hand loop and rnnlib.gradcheck in float64, float32, the lookahead
task, and training with rnnlib's train (the bidirectional RNN beats the one-directional one on the
steps that need the future)."""
import numpy as np
import pytest

from rnnlib import Adam, gradcheck, init_rnn, numerical_gradient, rnn_backward, rnn_forward, rnn_loss, train
from rnnlib import bidirectional as BI
from rnnlib.metrics import step_accuracy

TOL = 1e-7


def with_biases(p, rng):
    return {k: v + 0.2 * rng.standard_normal(v.shape) for k, v in p.items()}


def hand_bidirectional(p, x, h0, lengths):
    """Each sequence alone, cut to its length: h forward from h0[:m], g backward from h0[m:]."""
    T, B, _ = x.shape
    m, C = p["Wh"].shape[0], p["V"].shape[0]
    O = np.zeros((T, B, C))
    for b in range(B):
        n = lengths[b]
        h, g = [h0[b, :m]], [None] * (n + 1)
        g[n] = h0[b, m:]
        for t in range(n):
            h.append(np.tanh(p["bh"] + p["Wh"] @ h[-1] + p["Uh"] @ x[t, b]))
        for t in range(n - 1, -1, -1):
            g[t] = np.tanh(p["bg"] + p["Wg"] @ g[t + 1] + p["Ug"] @ x[t, b])
        for t in range(n):
            O[t, b] = p["c"] + p["V"] @ np.concatenate([h[t + 1], g[t]])
    return O


def hand_loss(O, y, lengths):
    B = O.shape[1]
    J = 0.0
    for b in range(B):
        for t in range(lengths[b]):
            o = O[t, b]
            J += (np.log(np.sum(np.exp(o - o.max()))) + o.max() - o[y[t, b]]) / B
    return J


def test_forward_matches_each_sequence_run_alone():
    rng = np.random.default_rng(0)
    p = with_biases(BI.init_bidirectional(3, 4, 5, seed=1), rng)
    lengths = [5, 3, 1]
    x = rng.standard_normal((5, 3, 3))
    mask = np.arange(5)[:, None] < np.array(lengths)[None]
    x_padded = np.where(mask[:, :, None], x, 99.0)       # garbage at padded steps must not matter
    h0 = rng.standard_normal((3, 8))
    cache = BI.bidirectional_forward(p, x_padded, h0, mask)
    O = hand_bidirectional(p, x, h0, lengths)
    np.testing.assert_allclose(np.where(mask[:, :, None], cache.o, 0), O, rtol=1e-12, atol=1e-12)
    # the backward state at each sequence's last real step starts from g^(T+1) = h0[:, m:]
    for b, n in enumerate(lengths):
        g_last = np.tanh(p["bg"] + p["Wg"] @ h0[b, 4:] + p["Ug"] @ x[n - 1, b])
        np.testing.assert_allclose(cache.g[n - 1, b], g_last, rtol=1e-12)
    assert cache.h.shape == cache.g.shape == (6, 3, 4)


def test_unmasked_single_sequence_and_shared_h0():
    rng = np.random.default_rng(1)
    p = with_biases(BI.init_bidirectional(2, 3, 4, seed=0), rng)
    x = rng.standard_normal((4, 2))                      # (T, d): one sequence
    h0 = rng.standard_normal(6)
    cache = BI.bidirectional_forward(p, x, h0)
    O = hand_bidirectional(p, x[:, None], h0[None], [4])
    np.testing.assert_allclose(cache.o, O, rtol=1e-12, atol=1e-12)
    y = rng.integers(0, 4, 4)
    loss, grads = BI.bidirectional_backward(p, cache, y)
    assert grads["h0"].shape == (6,)
    assert loss == pytest.approx(hand_loss(O, y[:, None], [4]), rel=1e-12)
    assert rnn_loss(cache, y)[0] == pytest.approx(loss)


@pytest.mark.parametrize("masked", [False, True])
def test_gradients_against_finite_differences_of_the_hand_loop(masked):
    rng = np.random.default_rng(2)
    p = with_biases(BI.init_bidirectional(3, 4, 3, seed=3), rng)
    lengths = [5, 2] if masked else [5, 5]
    mask = np.arange(5)[:, None] < np.array(lengths)[None] if masked else None
    x = rng.standard_normal((5, 2, 3))
    y = rng.integers(0, 3, (5, 2))
    h0 = rng.standard_normal((2, 8))
    cache = BI.bidirectional_forward(p, x, h0, mask)
    loss, grads = BI.bidirectional_backward(p, cache, y)
    assert loss == pytest.approx(hand_loss(hand_bidirectional(p, x, h0, lengths), y, lengths), rel=1e-12)
    inputs = dict(p, h0=h0.copy())
    num = numerical_gradient(lambda q: hand_loss(hand_bidirectional(q, x, q["h0"], lengths), y, lengths),
                             inputs, eps=1e-6)
    for k in grads:
        rel = np.linalg.norm(grads[k] - num[k]) / (np.linalg.norm(grads[k]) + np.linalg.norm(num[k]))
        assert rel < TOL, (k, rel)
    errors = gradcheck(lambda q: BI.bidirectional_backward(q, BI.bidirectional_forward(q, x, h0, mask), y)[0],
                       p, {k: v for k, v in grads.items() if k != "h0"})
    assert max(errors.values()) < TOL


def test_float32_follows_the_params():
    p = BI.init_bidirectional(4, 5, 5, seed=0, dtype=np.float32)
    x, y, mask, _ = BI.make_lookahead(4, 6, lag=2, K=4, min_length=3, seed=0, dtype=np.float32)
    cache = BI.bidirectional_forward(p, x, mask=mask)
    assert cache.o.dtype == cache.h.dtype == cache.g.dtype == np.float32
    _, grads = BI.bidirectional_backward(p, cache, y)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_lookahead_targets_are_future_inputs():
    x, y, mask, future = BI.make_lookahead(50, 10, lag=2, K=4, min_length=4, seed=0)
    s = x.argmax(axis=2)
    lengths = mask.sum(axis=0)
    assert lengths.min() >= 4 and lengths.max() <= 10
    for b in range(50):
        n = lengths[b]
        assert np.all(y[: n - 2, b] == s[2:n, b]) and np.all(y[n - 2: n, b] == 4)
        assert np.all(future[:, b] == (np.arange(10) < n - 2))
    assert np.all(x[~mask] == 0)


def test_bidirectional_sees_the_future_and_the_one_directional_rnn_does_not():
    """The measured result of the design-patterns section (seeded; a few seconds)."""
    T, K, lag = 12, 4, 2

    def batch(step):
        x, y, mask, _ = BI.make_lookahead(32, T, lag, K, min_length=6, seed=step)
        return x, y, mask

    x, y, mask, future = BI.make_lookahead(1000, T, lag, K, min_length=6, seed=10 ** 6)
    uni = init_rnn(K, 16, K + 1, seed=0)
    train(uni, batch, 300, Adam(lr=0.02), clip_norm=1.0, progress=False)
    bi = BI.init_bidirectional(K, 16, K + 1, seed=0)
    train(bi, batch, 300, Adam(lr=0.02), forward=BI.bidirectional_forward,
          backward=BI.bidirectional_backward, clip_norm=1.0, progress=False)
    acc_uni = step_accuracy(rnn_forward(uni, x, mask=mask).y_hat, y, future)
    acc_bi = step_accuracy(BI.bidirectional_forward(bi, x, mask=mask).y_hat, y, future)
    assert acc_uni <= 0.3                                # chance is 1/K = 0.25
    assert acc_bi >= 0.95
