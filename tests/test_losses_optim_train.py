"""Tests of softmax / cross entropy, the optimisers, clipping and the training loop."""
import numpy as np
import pytest

from rnnlib import (SGD, Adagrad, Adam, History, clip_grad_norm, clip_grad_value, cross_entropy,
                    global_norm, gradcheck, init_rnn, log_softmax, rel_error, softmax, train)


# ------------------------------------------------------------------ softmax and cross entropy
def test_softmax_is_finite_and_exact_at_huge_logits():
    o = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 0.0]])
    p = softmax(o)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], atol=1e-300)
    logp = log_softmax(o)
    assert np.all(np.isfinite(logp))
    np.testing.assert_allclose(logp[0], [0.0, -1e4, -2e4])
    loss, do = cross_entropy(o, np.array([2, 0, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(do))
    assert loss == pytest.approx(2e4 + np.log(3) + np.log(2))


def test_cross_entropy_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    o, y, w = rng.standard_normal((6, 5)), rng.integers(0, 5, 6), rng.random(6)
    _, do = cross_entropy(o, y, w)
    errors = gradcheck(lambda inp: cross_entropy(inp["o"], y, w)[0], {"o": o}, {"o": do})
    assert errors["o"] < 1e-7
    # closed form: y_hat - onehot
    _, do1 = cross_entropy(o, y)
    np.testing.assert_allclose(do1, softmax(o) - np.eye(5)[y])


def test_rel_error():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0
    assert rel_error(np.ones(2), -np.ones(2)) == 1
    assert rel_error([1.0, 2.0], [1.0, 2.0 + 1e-9]) < 1e-9
    with pytest.raises(ValueError, match="shape"):
        rel_error(np.ones(2), np.ones(3))


def test_gradcheck_detects_a_wrong_gradient():
    theta = {"w": np.array([1.0, -2.0, 3.0])}
    f = lambda inp: np.sum(inp["w"] ** 3)  # noqa: E731
    assert gradcheck(f, theta, {"w": 3 * theta["w"] ** 2})["w"] < 1e-9
    assert gradcheck(f, theta, {"w": 2 * theta["w"]})["w"] > 1e-2
    np.testing.assert_array_equal(theta["w"], [1.0, -2.0, 3.0])     # restored after perturbing


# ------------------------------------------------------------------ optimisers (closed forms)
def test_sgd_adagrad_adam_updates_follow_their_equations():
    g = {"w": np.array([0.5, -2.0])}
    p = {"w": np.array([1.0, 1.0])}
    SGD(lr=0.1).step(p, g)
    np.testing.assert_allclose(p["w"], [0.95, 1.2])

    p = {"w": np.array([1.0, 1.0])}
    opt = Adagrad(lr=0.1, eps=1e-300)
    opt.step(p, g)                      # G = g², step = lr * sign(g)
    np.testing.assert_allclose(p["w"], [0.9, 1.1])
    opt.step(p, g)                      # G = 2 g², step = lr / sqrt(2) * sign(g)
    np.testing.assert_allclose(p["w"], [0.9 - 0.1 / np.sqrt(2), 1.1 + 0.1 / np.sqrt(2)])

    p = {"w": np.array([1.0, 1.0])}
    Adam(lr=0.01, eps=1e-300).step(p, g)   # first bias-corrected step is lr * sign(g)
    np.testing.assert_allclose(p["w"], [0.99, 1.01])


def test_optimiser_ignores_extra_gradients_and_rejects_bad_input():
    p = {"w": np.ones(2)}
    SGD(lr=1.0).step(p, {"w": np.ones(2), "h0": np.ones(5)})
    np.testing.assert_array_equal(p["w"], [0, 0])
    with pytest.raises(KeyError, match="w"):
        SGD(lr=1.0).step(p, {"v": np.ones(2)})
    with pytest.raises(ValueError, match=r"grads\['w'\]"):
        SGD(lr=1.0).step(p, {"w": np.ones(3)})
    with pytest.raises(ValueError, match="lr"):
        SGD(lr=-1)
    with pytest.raises(TypeError, match="lr"):
        Adam(lr="fast")


# ------------------------------------------------------------------ clipping
def test_clip_grad_norm_scales_jointly_and_returns_the_old_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0, 4.0]])}   # global norm 5
    norm = clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0])
    np.testing.assert_allclose(grads["b"], [[0.0, 0.8]])
    untouched = {"a": np.array([0.3, 0.4])}
    assert clip_grad_norm(untouched, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(untouched["a"], [0.3, 0.4])
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(grads, 0)


def test_clip_grad_value_is_elementwise():
    grads = {"a": np.array([-7.0, 0.5, 9.0])}
    clip_grad_value(grads, 5)
    np.testing.assert_array_equal(grads["a"], [-5.0, 0.5, 5.0])
    with pytest.raises(TypeError, match="grads"):
        clip_grad_value([1, 2], 5)


# ------------------------------------------------------------------ training loop
def copy_task(step, T=6, B=16, C=4):
    """Predict the previous input symbol: solvable only by carrying state one step.

    (At t = 1 there is no previous symbol; the target is the current one.)"""
    rng = np.random.default_rng(step)
    symbols = rng.integers(0, C, size=(T, B))
    x = np.eye(C)[symbols]                                            # (T, B, C)
    y = np.concatenate([symbols[:1], symbols[:-1]])                   # (T, B)
    return x, y


def test_train_learns_a_task_that_needs_memory():
    params = init_rnn(4, 16, 4, seed=0)
    history = train(params, copy_task, 300, Adam(lr=0.02), clip_norm=5.0, progress=False)
    assert len(history.loss) == 300 and len(history.grad_norm) == 300
    chance = 6 * np.log(4)                                            # 6 steps at chance level
    assert history.loss[0] > 0.9 * chance
    assert np.mean(history.loss[-20:]) < 0.1 * chance
    assert history.smoothed()[-1] < history.smoothed()[0]


def test_train_is_deterministic_and_validates():
    h1 = train(init_rnn(4, 8, 4), copy_task, 5, SGD(lr=0.1), progress=False)
    h2 = train(init_rnn(4, 8, 4), copy_task, 5, SGD(lr=0.1), progress=False)
    assert h1.loss == h2.loss
    with pytest.raises(TypeError, match="optimizer"):
        train(init_rnn(4, 8, 4), copy_task, 5, optimizer="adam")
    with pytest.raises(ValueError, match="num_steps"):
        train(init_rnn(4, 8, 4), copy_task, 0)
    with pytest.raises(TypeError, match="batch"):
        train(init_rnn(4, 8, 4), lambda step: [1, 2], 2, progress=False)


def test_carry_state_starts_each_batch_from_the_last_state():
    seen = []

    def forward(params, x, h0=None, mask=None):  # records the state each batch starts from
        seen.append(None if h0 is None else h0.copy())
        from rnnlib import rnn_forward
        return rnn_forward(params, x, h0, mask)

    params = init_rnn(4, 8, 4)
    train(params, copy_task, 3, SGD(lr=0.01), forward=forward, carry_state=True, progress=False)
    assert seen[0] is None and seen[1] is not None and seen[1].shape == (16, 8)


# ------------------------------------------------------------------ numerics that fail loudly (issue 18)
def test_global_norm_and_clipping_survive_gradients_of_1e200():
    grads = {"a": np.full(3, 1e200), "b": np.array([-1e200])}
    assert global_norm(grads) == pytest.approx(2e200, rel=1e-14)        # sqrt(4) * 1e200
    assert clip_grad_norm(grads, 1.0) == pytest.approx(2e200, rel=1e-14)
    np.testing.assert_allclose(grads["a"], 0.5, rtol=1e-14)           # scaled, not zeroed
    np.testing.assert_allclose(grads["b"], -0.5, rtol=1e-14)
    with pytest.raises(ValueError, match=r"grads\['a'\].*NaN or inf"):
        global_norm({"a": np.array([1.0, np.inf])})


@pytest.mark.parametrize("make", [lambda: SGD(lr=0.1), lambda: Adagrad(lr=0.1), lambda: Adam(lr=0.1)])
def test_optimisers_and_clipping_refuse_nan_gradients_and_change_nothing(make):
    opt = make()
    params = {"w": np.ones(3)}
    opt.step(params, {"w": np.full(3, 0.5)})
    w, state = params["w"].copy(), [np.copy(s) for s in np.atleast_1d(opt.state.get("w", ()))]
    bad = {"w": np.array([0.1, np.nan, 0.2])}
    with pytest.raises(ValueError, match=r"grads\['w'\]"):
        opt.step(params, bad)
    np.testing.assert_array_equal(params["w"], w)
    for before, after in zip(state, np.atleast_1d(opt.state.get("w", ()))):
        np.testing.assert_array_equal(before, after)
    for clip in (lambda g: clip_grad_norm(g, 1.0), lambda g: clip_grad_value(g, 1.0)):
        with pytest.raises(ValueError, match="NaN or inf"):
            clip(bad)
        assert np.isnan(bad["w"][1]) and bad["w"][0] == 0.1


def test_train_stops_naming_the_step_and_what_to_try():
    params = init_rnn(4, 8, 4, seed=0)
    params["W"] *= 50                                                 # relu with huge weights

    def batches(step):
        x, y = copy_task(step, T=40)
        return np.abs(x) + 1, y

    with pytest.raises(FloatingPointError) as info:
        train(params, batches, 20, SGD(lr=1e4), activation="relu", progress=False)
    message, error = str(info.value), info.value
    assert f"step {error.step} " in message and "learning rate" in message and "clip" in message
    assert len(error.history.loss) == error.step and np.all(np.isfinite(error.history.loss))


def test_train_with_no_batches_raises_before_any_update():
    params = init_rnn(4, 8, 4)
    before = {k: v.copy() for k, v in params.items()}
    for batches in (iter([]), []):
        with pytest.raises(ValueError, match="batches"):
            train(params, batches, 3, progress=False)
    assert all(np.array_equal(params[k], before[k]) for k in params)
    with pytest.raises(ValueError, match="ran out at step 1"):
        train(params, iter([copy_task(0)]), 3, progress=False)


def test_gradcheck_warns_in_float32_and_picks_its_step_by_dtype():
    theta = np.linspace(-1, 1, 5)
    f = lambda inp: float(np.sum(np.sin(inp["t"].astype(np.float64))))  # noqa: E731
    exact = {"t": np.cos(theta)}
    with pytest.warns(RuntimeWarning, match="float32"):
        errors = gradcheck(f, {"t": theta.astype(np.float32)}, exact)
    assert errors["t"] < 1e-3                                         # eps = 5e-3, not 1e-6
    assert gradcheck(f, {"t": theta.copy()}, exact)["t"] < 1e-9


def test_cross_entropy_refuses_negative_targets_and_gives_float_gradients_for_int_logits():
    with pytest.raises(ValueError, match=r"y must hold class indices in \[0, C\)"):
        cross_entropy(np.zeros((2, 3)), np.array([-1, 0]))
    loss, do = cross_entropy(np.array([[0, 0, 0]]), np.array([1]))
    assert do.dtype == np.float64 and loss == pytest.approx(np.log(3))
    np.testing.assert_allclose(do, [[1 / 3, -2 / 3, 1 / 3]])


def test_history_smoothed_is_the_bias_corrected_average():
    h = History(loss=[4.0, 2.0])
    np.testing.assert_allclose(h.smoothed(0.5), [4.0, (0.25 * 4 + 0.5 * 2) / 0.75])
