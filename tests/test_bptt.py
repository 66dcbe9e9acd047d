"""Tests of rnnlib/bptt.py (per-(t, k) contributions, truncated BPTT, memory) and of the
chapter's exercise checkers (rnnlib/exercises/bptt.py).

References are independent of the code under test: a forward loop written out here in which U
can differ at every step (so finite differences isolate one (t, k) term), finite differences of a
"stop-gradient" truncated loss, a hand-written truncated backward loop, rnnlib.train with
carry_state on consecutive chunks, and the arrays' own nbytes.
"""
import numpy as np
import pytest

import rnnlib
from rnnlib import Adagrad, SGD, init_rnn, rel_error, rnn_backward, rnn_forward
from rnnlib.bptt import (
    Segment,
    backprop_from_outputs,
    bptt_contributions,
    bptt_memory_bytes,
    cache_nbytes,
    contribution_norms,
    hidden_jacobian,
    tbptt,
    tbptt_gradient,
    tbptt_segments,
    train_tbptt,
)

T, B, d, m, C = 6, 3, 4, 5, 3


def make(seed=0, T=T, B=B, activation_scale=1.0):
    rng = np.random.default_rng(seed)
    params = init_rnn(d, m, C, seed=seed)
    params["W"] *= activation_scale
    params["b"] += rng.standard_normal(m) * 0.1
    params["c"] += rng.standard_normal(C) * 0.1
    x = rng.standard_normal((T, B, d))
    h0 = rng.standard_normal((B, m)) * 0.5
    y = rng.integers(0, C, size=(T, B))
    return params, x, h0, y


def act(a, activation):
    return np.tanh(a) if activation == "tanh" else np.maximum(a, 0)


def loss_per_step(params, x, y, h0, activation="tanh", U_steps=None, W_steps=None, b_steps=None):
    """J_t for t = 1..T, (T,), from a loop written here; U, W, b may be given per step."""
    h = h0
    losses = []
    for t in range(x.shape[0]):
        U = params["U"] if U_steps is None else U_steps[t]
        W = params["W"] if W_steps is None else W_steps[t]
        b = params["b"] if b_steps is None else b_steps[t]
        h = act(h @ W.T + x[t] @ U.T + b, activation)
        o = h @ params["V"].T + params["c"]
        logp = o - o.max(axis=1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
        losses.append(-logp[np.arange(x.shape[1]), y[t]].sum() / x.shape[1])
    return np.array(losses)


# ------------------------------------------------------------------ per-(t, k) contributions
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("wrt", ["U", "W", "b"])
def test_contributions_sum_to_rnn_backward(activation, wrt):
    params, x, h0, y = make()
    cache = rnn_forward(params, x, h0, activation=activation)
    _, grads = rnn_backward(params, cache, y)
    terms = bptt_contributions(params, cache, y, wrt=wrt)
    assert terms.shape == (T, T) + params[wrt].shape
    assert rel_error(terms.sum(axis=(0, 1)), grads[wrt]) < 1e-7
    upper = np.triu_indices(T, k=1)                                   # k > t: no contribution
    assert np.all(terms[upper] == 0)
    assert np.all(contribution_norms(terms)[np.tril_indices(T)] > 0)


@pytest.mark.parametrize("wrt", ["U", "W", "b"])
def test_each_contribution_matches_finite_differences_of_one_use(wrt):
    """terms[t-1, k-1] = dJ_t / d(P used at step k only): perturb P at step k alone."""
    params, x, h0, y = make(seed=1)
    cache = rnn_forward(params, x, h0)
    terms = bptt_contributions(params, cache, y, wrt=wrt)
    eps = 1e-6
    key = {"U": "U_steps", "W": "W_steps", "b": "b_steps"}[wrt]
    numeric = np.zeros_like(terms)
    for k in range(T):
        for i in np.ndindex(params[wrt].shape):
            steps = np.repeat(params[wrt][None], T, axis=0)
            steps[k][i] += eps
            plus = loss_per_step(params, x, y, h0, **{key: steps})
            steps[k][i] -= 2 * eps
            minus = loss_per_step(params, x, y, h0, **{key: steps})
            numeric[(slice(None), k) + i] = (plus - minus) / (2 * eps)  # all t at once
    assert rel_error(terms, numeric) < 1e-7
    for t in (0, T - 1):
        for k in range(t + 1):
            assert rel_error(terms[t, k], numeric[t, k]) < 1e-6


def test_contributions_over_k_are_dJt_dU_by_finite_differences():
    params, x, h0, y = make(seed=2)
    terms = bptt_contributions(params, rnn_forward(params, x, h0), y, wrt="U")
    numeric = rnnlib.numerical_gradient(lambda p: loss_per_step(params, x, y, h0, U_steps=np.repeat(p["U"][None], T, 0))[3],
                                        {"U": params["U"].copy()})["U"]
    assert rel_error(terms[3].sum(axis=0), numeric) < 1e-7


def test_hidden_jacobian_matches_finite_differences():
    params, x, h0, y = make(seed=3)
    cache = rnn_forward(params, x, h0)
    t, k = 5, 2
    J = hidden_jacobian(params, cache, t, k)                           # (B, m, m)
    assert J.shape == (B, m, m)
    eps = 1e-6

    def run(h_k):
        h = h_k
        for j in range(k, t):
            h = np.tanh(h @ params["W"].T + x[j] @ params["U"].T + params["b"])
        return h

    numeric = np.zeros((B, m, m))
    for i in range(m):
        hp, hm = cache.h[k].copy(), cache.h[k].copy()
        hp[:, i] += eps
        hm[:, i] -= eps
        numeric[:, :, i] = (run(hp) - run(hm)) / (2 * eps)
    assert rel_error(J, numeric) < 1e-7
    assert np.allclose(hidden_jacobian(params, cache, 3, 3), np.eye(m))


# ------------------------------------------------------------------ truncated BPTT
def test_segments():
    assert tbptt_segments(12, 4, 4) == [Segment(0, 0, 4), Segment(4, 4, 8), Segment(8, 8, 12)]
    assert tbptt_segments(10, 4, 4)[-1] == Segment(6, 8, 10)           # the last k2 steps
    assert tbptt_segments(10, 3, 5) == [Segment(0, 0, 3), Segment(1, 3, 6), Segment(4, 6, 9), Segment(5, 9, 10)]
    assert tbptt_segments(5, 5, 50) == [Segment(0, 0, 5)]


@pytest.mark.parametrize("k1", [1, 2, 4, 7])
def test_tbptt_with_k2_at_least_T_is_full_bptt(k1):
    params, x, h0, y = make(T=7)
    loss, grads = rnn_backward(params, rnn_forward(params, x, h0), y)
    t_loss, t_grads = tbptt_gradient(params, x, y, k1=k1, k2=7, h0=h0)
    assert abs(t_loss - loss) < 1e-12 * abs(loss)
    for key in ("W", "U", "V", "b", "c"):
        assert rel_error(t_grads[key], grads[key]) < 1e-7, key


def truncated_reference(params, x, y, h0, k1, k2):
    """TBPTT(k1, k2) written out: forward over all steps, then for each segment a backward loop
    over its window, the state before the window a constant. Returns summed grads."""
    W, U, V, b, c = (params[k] for k in ("W", "U", "V", "b", "c"))
    T_, B_ = y.shape
    h = [h0]
    for t in range(T_):
        h.append(np.tanh(h[-1] @ W.T + x[t] @ U.T + b))
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    for start in range(0, T_, k1):
        end = min(start + k1, T_)
        first = max(0, end - k2)
        carry = np.zeros((B_, m))
        for t in range(end - 1, first - 1, -1):                       # step t+1 in the math
            dh = carry.copy()
            if t >= start:                                            # this segment's loss
                o = h[t + 1] @ V.T + c
                p = np.exp(o - o.max(1, keepdims=True))
                p /= p.sum(1, keepdims=True)
                p[np.arange(B_), y[t]] -= 1
                do = p / B_
                grads["V"] += do.T @ h[t + 1]
                grads["c"] += do.sum(0)
                dh += do @ V
            da = dh * (1 - h[t + 1] ** 2)
            grads["W"] += da.T @ h[t]
            grads["U"] += da.T @ x[t]
            grads["b"] += da.sum(0)
            carry = da @ W
    return grads


@pytest.mark.parametrize("k1,k2", [(2, 2), (3, 3), (2, 3), (1, 4), (3, 5)])
def test_tbptt_matches_hand_written_truncated_loop(k1, k2):
    params, x, h0, y = make(seed=4, T=8)
    _, grads = tbptt_gradient(params, x, y, k1, k2, h0=h0)
    reference = truncated_reference(params, x, y, h0, k1, k2)
    for key in ("W", "U", "V", "b", "c"):
        assert rel_error(grads[key], reference[key]) < 1e-7, key
    _, full = rnn_backward(params, rnn_forward(params, x, h0), y)
    assert rel_error(grads["W"], full["W"]) > 1e-3                    # truncation changes it


@pytest.mark.parametrize("k1,k2", [(2, 2), (2, 3)])
def test_tbptt_matches_finite_differences_of_stop_gradient_loss(k1, k2):
    """The truncated gradient is the exact gradient of sum over segments of the segment's loss,
    run from the (constant) state recorded k2 steps back."""
    params, x, h0, y = make(seed=5, T=7)
    states = [h0]
    for t in range(7):                                                 # constants at the current params
        states.append(np.tanh(states[-1] @ params["W"].T + x[t] @ params["U"].T + params["b"]))

    def stopped_loss(p):
        total = 0.0
        for seg in tbptt_segments(7, k1, k2):
            per_step = loss_per_step(p, x[seg.window_start:seg.end], y[seg.window_start:seg.end],
                                     states[seg.window_start])
            total += per_step[seg.loss_start - seg.window_start:].sum()
        return total

    loss, grads = tbptt_gradient(params, x, y, k1, k2, h0=h0)
    assert abs(stopped_loss(params) - loss) < 1e-10
    errors = rnnlib.gradcheck(stopped_loss, {k: v.copy() for k, v in params.items()}, grads)
    assert max(errors.values()) < 1e-7, errors


def test_tbptt_gradient_is_a_band_of_the_contributions():
    """With k1 = k2 = k, the truncated dJ/dU keeps the terms (t, k') with k' in t's segment."""
    params, x, h0, y = make(seed=6, T=9)
    terms = bptt_contributions(params, rnn_forward(params, x, h0), y, wrt="U")
    _, grads = tbptt_gradient(params, x, y, 3, 3, h0=h0)
    keep = np.array([[t // 3 == k // 3 and k <= t for k in range(9)] for t in range(9)])
    assert rel_error(terms[keep].sum(axis=0), grads["U"]) < 1e-7


def test_train_tbptt_equals_train_with_carried_state():
    """TBPTT(k, k) is rnnlib.train with carry_state on consecutive chunks of k steps."""
    params, x, h0, y = make(seed=7, T=12, B=2)
    a = {k: v.copy() for k, v in params.items()}
    b = {k: v.copy() for k, v in params.items()}
    history = train_tbptt(a, x, y, 4, 4, SGD(lr=0.1), num_passes=2, progress=False)
    chunks = [(x[s:s + 4], y[s:s + 4]) for s in (0, 4, 8)]
    # train carries h across all batches; restart it every pass by training pass by pass
    reference = []
    for _ in range(2):
        reference += rnnlib.train(b, lambda i: chunks[i], 3, SGD(lr=0.1), carry_state=True, progress=False).loss
    for key in params:
        assert rel_error(a[key], b[key]) < 1e-12, key
    assert np.allclose(np.array(history.loss) * 4, reference)
    assert len(history.grad_norm) == 6


def test_train_tbptt_learns_and_clips():
    params, x, _, y = make(seed=8, T=30, B=4)
    y = np.roll(np.argmax(x[..., :C], axis=2), 1, axis=0)             # predict the previous input's argmax
    history = train_tbptt(params, x, y, 5, 5, Adagrad(lr=0.1), num_passes=40, clip_value=5.0, progress=False)
    assert np.mean(history.loss[-6:]) < 0.6 * np.mean(history.loss[:6])


def test_tbptt_window_memory_does_not_grow_with_T():
    sizes = []
    for T_ in (10, 40):
        params, x, h0, y = make(T=T_)
        sizes.append(max(cache_nbytes(r.cache) for r in tbptt(params, x, y, 5, 5, h0=h0)))
    assert sizes[0] == sizes[1] == bptt_memory_bytes(5, B, m, d, C)


# ------------------------------------------------------------------ memory
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 1), (7, 3, 5, 4, 2), (50, 8, 16, 10, 12)])
def test_memory_formula_matches_cache_nbytes(dtype, shape):
    T_, B_, m_, d_, C_ = shape
    params = init_rnn(d_, m_, C_, dtype=dtype)
    x = np.zeros((T_, B_, d_), dtype=dtype)
    cache = rnn_forward(params, x)
    assert cache_nbytes(cache) == bptt_memory_bytes(T_, B_, m_, d_, C_, dtype)
    nbytes = sum(getattr(cache, k).nbytes for k in ("x", "h", "a", "o", "y_hat"))
    assert cache_nbytes(cache) == nbytes
    masked = rnn_forward(params, x, mask=np.ones((T_, B_), bool))
    assert cache_nbytes(masked) == bptt_memory_bytes(T_, B_, m_, d_, C_, dtype, mask=True)


def test_memory_is_linear_in_T():
    sizes = np.array([bptt_memory_bytes(T_, 2, 3, 4, 5) for T_ in range(1, 20)])
    steps = np.diff(sizes)
    assert np.all(steps == steps[0]) and steps[0] == 8 * (2 * 4 + 2 * 2 * 3 + 2 * 2 * 5)


# ------------------------------------------------------------------ bad inputs
def test_bad_inputs_raise_clear_errors():
    params, x, h0, y = make()
    cache = rnn_forward(params, x, h0)
    with pytest.raises(ValueError, match="wrt"):
        bptt_contributions(params, cache, y, wrt="V")
    with pytest.raises(TypeError, match="cache"):
        bptt_contributions(params, {"x": x}, y)
    with pytest.raises(ValueError, match="y"):
        bptt_contributions(params, cache, y[:-1])
    with pytest.raises(ValueError, match="mask"):
        bptt_contributions(params, rnn_forward(params, x, mask=np.ones((T, B), bool)), y)
    other = init_rnn(d, m + 1, C)
    with pytest.raises(ValueError, match="cache does not match params"):
        bptt_contributions(other, cache, y)
    with pytest.raises(KeyError, match="V"):
        bptt_contributions({k: params[k] for k in ("W", "U", "b", "c")}, cache, y)
    with pytest.raises(ValueError, match="k must be at most t"):
        hidden_jacobian(params, cache, 2, 3)
    with pytest.raises(ValueError, match="t must be a step"):
        hidden_jacobian(params, cache, T + 1, 1)
    with pytest.raises(TypeError, match="k must be an integer"):
        hidden_jacobian(params, cache, 2, 1.5)
    with pytest.raises(ValueError, match="terms"):
        contribution_norms(np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="do must have shape"):
        backprop_from_outputs(params, cache, np.zeros((T, B, C + 1)))
    with pytest.raises(ValueError, match="k2 must be at least k1"):
        tbptt_segments(10, 4, 2)
    with pytest.raises(ValueError, match="k1 must be at least 1"):
        tbptt(params, x, y, 0, 2)
    with pytest.raises(TypeError, match="k2 must be an integer"):
        tbptt_gradient(params, x, y, 2, 2.5)
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        tbptt(params, x[:, 0], y, 2, 2)
    with pytest.raises(ValueError, match=r"x must have shape .*d=4"):
        tbptt(params, x[..., :2], y, 2, 2)
    with pytest.raises(ValueError, match="y must hold class indices"):
        tbptt(params, x, y + C, 2, 2)
    with pytest.raises(ValueError, match="h0 must have shape"):
        tbptt(params, x, y, 2, 2, h0=np.zeros((B + 1, m)))
    with pytest.raises(ValueError, match="activation"):
        tbptt(params, x, y, 2, 2, activation="sigmoid")
    with pytest.raises(TypeError, match="optimizer"):
        train_tbptt(params, x, y, 2, 2, optimizer="adam")
    with pytest.raises(ValueError, match="num_passes"):
        train_tbptt(params, x, y, 2, 2, SGD(0.1), num_passes=0)
    with pytest.raises(TypeError, match="cache"):
        cache_nbytes(x)
    with pytest.raises(ValueError, match="T must be at least 1"):
        bptt_memory_bytes(0, 1, 1, 1, 1)
    with pytest.raises(TypeError, match="m must be an integer"):
        bptt_memory_bytes(3, 1, 2.0, 1, 1)
    with pytest.raises(TypeError, match="dtype"):
        bptt_memory_bytes(3, 1, 2, 1, 1, dtype=np.int32)
    with pytest.raises(TypeError, match="dtype"):
        bptt_memory_bytes(3, 1, 2, 1, 1, dtype="not a dtype")


# ------------------------------------------------------------------ exercise checkers
from rnnlib.exercises import check  # noqa: E402


def step_backward(params, dh_t, cache, *, dtanh=True, W_T=False, mean=False, per_example=False,
                  no_dh_prev=False, first_only=False):
    """A student's rnn_step_backward with optional mistakes (written here, independent of rnnlib)."""
    W, U = params["W"], params["U"]
    x_t, h_prev, h_t = cache.x_t, cache.h_prev, cache.h_t
    da = dh_t * (1 - h_t ** 2) if dtanh else dh_t
    dh_prev = None if no_dh_prev else da @ (W.T if W_T else W)
    dx_t = da @ U
    gW = np.einsum("bi,bj->bij", da, h_prev) if per_example else da.T @ h_prev
    if mean:
        gW = gW / da.shape[0]
    if first_only:
        gW = np.outer(da[0], h_prev[0])
    return dx_t, dh_prev, {"W": gW, "U": da.T @ x_t, "b": da.sum(0)}


@pytest.mark.parametrize("mistake,words", [
    ({}, None),
    ({"dtanh": False}, "derivative of tanh"),
    ({"W_T": True}, "transposed"),
    ({"mean": True}, "averaged over the batch"),
    ({"per_example": True}, "one gradient per example"),
    ({"first_only": True}, "first example"),
    ({"no_dh_prev": True}, "dh_prev is None"),
])
def test_step_backward_checker_recognises_mistakes(mistake, words):
    result = check("rnn-step-backward", lambda p, dh, c: step_backward(p, dh, c, **mistake), quiet=True)
    if words is None:
        assert result.passed, result.feedback
    else:
        assert result.status == "failed" and words in result.feedback, result.feedback


def bptt_answer(params, cache, y, *, accumulate=True, h0=True, recurrent=True, dtanh=True, W_T=False):
    """A student's whole-sequence BPTT with optional mistakes."""
    W, U, V = params["W"], params["U"], params["V"]
    x, h = cache.x, cache.h
    T_, B_, _ = x.shape
    p = cache.y_hat.copy()
    loss = -np.log(p[np.arange(T_)[:, None], np.arange(B_), y]).sum() / B_
    p[np.arange(T_)[:, None], np.arange(B_), y] -= 1
    do = p / B_
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dnext = np.zeros_like(h[0])
    for t in reversed(range(T_)):
        dh = do[t] @ V + (dnext if recurrent else 0)
        da = dh * (1 - h[t + 1] ** 2) if dtanh else dh
        for key, value in (("W", da.T @ h[t]), ("U", da.T @ x[t]), ("b", da.sum(0)),
                           ("V", do[t].T @ h[t + 1]), ("c", do[t].sum(0))):
            grads[key] = grads[key] + value if accumulate else value
        dnext = da @ (W.T if W_T else W)
    if h0:
        grads["h0"] = dnext
    return loss, grads


@pytest.mark.parametrize("mistake,words", [
    ({}, None),
    ({"accumulate": False}, "summed over time"),
    ({"h0": False}, "no 'h0'"),
    ({"recurrent": False}, "recurrent term"),
    ({"dtanh": False}, "derivative of tanh"),
    ({"W_T": True}, "transposed"),
])
def test_bptt_loop_checker_recognises_mistakes(mistake, words):
    result = check("bptt-loop", lambda p, c, y: bptt_answer(p, c, y, **mistake), quiet=True)
    if words is None:
        assert result.passed, result.feedback
    else:
        assert result.status == "failed" and words in result.feedback, result.feedback


def contribution_answer(params, cache, y, t, k, *, full_dh=False, shift=0, dtanh_k=True, scale=1.0):
    """A student's (t, k) term of dJ/dU, written with explicit Jacobian matrices."""
    W, V = params["W"], params["V"]
    h, x = cache.h, cache.x
    B_ = x.shape[1]
    if full_dh:                                                        # dJ/dh^(t) from every later loss
        return sum(contribution_answer(params, cache, y, s, k) for s in range(t, x.shape[0] + 1))
    do = cache.y_hat[t - 1].copy()
    do[np.arange(B_), y[t - 1]] -= 1
    total = 0
    for b in range(B_):
        g = V.T @ do[b] / B_ * scale                                    # (m,) column vector
        for j in range(t, k, -1):
            g = (np.diag(1 - h[j, b] ** 2) @ W).T @ g
        if dtanh_k:
            g = (1 - h[k, b] ** 2) * g
        total = total + np.outer(g, x[k - 1 + shift, b])
    return total


@pytest.mark.parametrize("mistake,words", [
    ({}, None),
    ({"full_dh": True}, "all* later errors"),
    ({"shift": -1}, "Off by one"),
    ({"dtanh_k": False}, "at step k itself"),
    ({"scale": 2.0}, "1/B"),
])
def test_contribution_checker_recognises_mistakes(mistake, words):
    result = check("tk-contribution", lambda *a: contribution_answer(*a, **mistake), quiet=True)
    if words is None:
        assert result.passed, result.feedback
    else:
        assert result.status == "failed" and words in result.feedback, result.feedback


def memory_answer(T, B, m, d, C, dtype, *, itemsize=None, h0=True, a=True, yhat=True, x=True, batch=True,
                  h=True):
    size = np.dtype(dtype).itemsize if itemsize is None else itemsize
    Bn = B if batch else 1
    outputs = {True: 2, False: 1, None: 0}[yhat]                      # o and y_hat, one, none
    floats = ((T + (1 if h0 else 0)) * Bn * m if h else 0) + (T * Bn * m if a else 0) + T * Bn * C * outputs
    floats += T * Bn * d if x else 0
    return floats * size


@pytest.mark.parametrize("mistake,words", [
    ({}, None),
    ({"itemsize": 1}, "number of floats"),
    ({"itemsize": 8}, "float32 takes 4 bytes"),
    ({"h0": False}, "forgot h^(0)"),
    ({"a": False}, None),                  # a is redundant for tanh (1 - h^2): accepted
    ({"yhat": False}, None),               # o or y_hat alone is enough: accepted
    ({"a": False, "yhat": False}, None),   # the minimum, x, h, y_hat
    ({"yhat": None}, "Neither y_hat nor o"),
    ({"h": False, "a": False}, "hidden states h"),   # (without a: h minus h0 has the size of a)
    ({"x": False}, "inputs x"),
    ({"batch": False}, "batch size B"),
])
def test_memory_checker_recognises_mistakes(mistake, words):
    result = check("bptt-memory", lambda *args: memory_answer(*args, **mistake), quiet=True)
    if words is None:
        assert result.passed, result.feedback
    else:
        assert result.status == "failed" and words in result.feedback, result.feedback


def perplexity_answer(J, T, *, per_step=True, bits_unit=np.log(2), swap=False, ppl_base=np.e):
    """(perplexity, bits) from rnnlib's J (a sum over T steps), written out, with a usual mistake:
    bits_unit is what L is divided by (ln 2 is right), ppl_base what is raised to L (e is right)."""
    L = J / T if per_step else J
    result = (float(ppl_base ** L), L / bits_unit)
    return result[::-1] if swap else result


@pytest.mark.parametrize("mistake,words", [
    ({}, None),
    ({"per_step": False}, "divide by T"),
    ({"bits_unit": 1.0}, "L / ln 2"),
    ({"bits_unit": np.log(10)}, "not by ln 10"),
    ({"ppl_base": 2}, "mixes the bases"),
    ({"swap": True}, "swapped"),
])
def test_perplexity_checker_recognises_mistakes(mistake, words):
    result = check("bptt-perplexity", lambda J, T: perplexity_answer(J, T, **mistake), quiet=True)
    if words is None:
        assert result.passed, result.feedback
    else:
        assert result.status == "failed" and words in result.feedback, result.feedback


def test_perplexity_checker_accepts_the_library_and_a_list():
    from rnnlib import metrics as M

    def library(J, T):
        L = M.per_step_loss(J, T=T)
        return M.perplexity(L), M.bits_per_character(L)

    assert check("bptt-perplexity", library, quiet=True).passed
    assert check("bptt-perplexity", lambda J, T: list(library(J, T)), quiet=True).passed
    # the uniform guess over 86 characters, the fixed first case: perplexity 86, log2 86 bits
    J = 25 * np.log(86)
    assert np.isclose(library(J, 25)[0], 86) and np.isclose(library(J, 25)[1], np.log2(86))


@pytest.mark.parametrize("label", ["rnn-step-backward", "bptt-loop", "tk-contribution", "bptt-memory",
                                   "bptt-perplexity"])
def test_checkers_report_stub_and_garbage(label):
    def stub(*args):
        raise NotImplementedError()

    assert check(label, stub, quiet=True).status == "not attempted"
    assert check(label, lambda *args: "nonsense", quiet=True).status == "failed"
    raised = check(label, lambda *args: 1 / 0, quiet=True)
    assert raised.status == "failed" and "ZeroDivisionError" in raised.feedback


def test_exercises_are_registered():
    from rnnlib.exercises import list_exercises

    labels = {e.label: e.kind for e in list_exercises(chapter="bptt")}
    assert labels == {"rnn-step-backward": "code", "bptt-loop": "code", "tk-contribution": "code",
                      "bptt-memory": "code", "bptt-perplexity": "code", "truncation-bias": "written"}


# ------------------------------------------------------------------ the benchmark compares like with like
def test_benchmark_textbook_loop_and_rnnlib_compute_the_same_updates():
    """bench_char_lm's per-example loop and rnnlib.train follow the same loss curve on the same batches."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_char_lm.py"
    spec = importlib.util.spec_from_file_location("bench_char_lm", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = np.random.default_rng(0)
    data = [int(i) for i in rng.integers(0, 7, size=600)]
    textbook = bench.textbook_min_char_rnn(data, 7, 1e9, batch_size=3, max_updates=12)
    ours = bench.rnnlib_training(data, 7, 1e9, 3, max_updates=12)
    assert len(textbook) == len(ours) == 12                           # 12 updates: wraps the streams
    losses_textbook = np.array([loss for _, loss in textbook])
    losses_ours = np.array([loss for _, loss in ours])
    assert np.allclose(losses_textbook, losses_ours, rtol=1e-6, atol=0)     # same updates, up to rounding
    assert np.ptp(losses_ours) > 0.1                                   # the parameters did change
