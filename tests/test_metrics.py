"""Tests of rnnlib.metrics: rnnlib's loss J turned into the mean loss per step (with and without
masks), perplexity and bits per character against their definitions, the uniform guess's values
measured on a model that predicts 1/C, step accuracy and NRMSE against hand loops."""
import math

import numpy as np
import pytest

from rnnlib import init_rnn, rnn_forward, rnn_loss
from rnnlib import metrics as M


def test_per_step_loss_from_rnnlibs_sum_over_time_of_the_batch_mean():
    rng = np.random.default_rng(0)
    p = init_rnn(3, 4, 5, seed=0)
    x = rng.standard_normal((6, 3, 3))
    y = rng.integers(0, 5, (6, 3))
    mask = np.arange(6)[:, None] < np.array([6, 4, 1])[None]
    for m in (None, mask):
        cache = rnn_forward(p, x, mask=m)
        J, _ = rnn_loss(cache, y)
        nll = [-math.log(cache.y_hat[t, b, y[t, b]]) for t in range(6) for b in range(3)
               if m is None or m[t, b]]
        want = sum(nll) / len(nll)                       # the mean over real steps
        got = M.per_step_loss(J, T=6) if m is None else M.per_step_loss(J, mask=m)
        assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("C", [2, 5, 27, 256])
def test_a_uniform_guess_scores_perplexity_C_and_log2_C_bits(C):
    p = init_rnn(3, 4, C, seed=0)
    p["V"][:] = 0                                        # y_hat = 1/C everywhere
    x = np.random.default_rng(1).standard_normal((7, 2, 3))
    y = np.random.default_rng(2).integers(0, C, (7, 2))
    J, _ = rnn_loss(rnn_forward(p, x), y)
    L = M.per_step_loss(J, T=7)
    assert L == pytest.approx(math.log(C), rel=1e-12)
    assert M.perplexity(L) == pytest.approx(C, rel=1e-12) == M.uniform_perplexity(C)
    assert M.bits_per_character(L) == pytest.approx(math.log2(C), rel=1e-12)
    assert M.uniform_bits(C) == pytest.approx(math.log2(C))


def test_perplexity_and_bits_definitions():
    assert M.perplexity(0.0) == 1.0 and M.bits_per_character(0.0) == 0.0
    assert M.perplexity(1.3) == pytest.approx(math.exp(1.3))
    assert M.bits_per_character(math.log(8)) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="mean_loss.*per_step_loss"):
        M.perplexity(5000.0)                             # a J passed by mistake


def test_step_accuracy_and_nrmse_against_loops():
    rng = np.random.default_rng(3)
    y_hat = rng.random((5, 4, 3))
    y = rng.integers(0, 3, (5, 4))
    mask = rng.random((5, 4)) < 0.6
    mask[0, 0] = True
    right = [y_hat[t, b].argmax() == y[t, b] for t in range(5) for b in range(4) if mask[t, b]]
    assert M.step_accuracy(y_hat, y, mask) == pytest.approx(np.mean(right))
    pred, target = rng.standard_normal((50, 2)), rng.standard_normal((50, 2))
    want = [math.sqrt(sum((pred[i, k] - target[i, k]) ** 2 for i in range(50)) / 50 / np.var(target[:, k]))
            for k in range(2)]
    np.testing.assert_allclose(M.nrmse(pred, target), want, rtol=1e-12)
    assert M.nrmse(target[:, 0], target[:, 0]) == 0.0
    assert M.nrmse(np.full(50, target[:, 0].mean()), target[:, 0]) == pytest.approx(1.0)
