"""Tests of rnnlib.linear_recurrence: the loop and the parallel scan against a hand-written
recurrence (real and complex, float32 and float64, with h0, any T), the adjoint against a
hand-written backward loop and finite differences, the diagonal layer, the gated layer against a
per-example loop and finite differences, the scan's depth and schedule, the lag task, and the
eigenvalue widget's data against closed forms."""
import numpy as np
import pytest

from rnnlib import Adam, gradcheck, train
from rnnlib import linear_recurrence as LR

TOL = 1e-7


def hand_recurrence(lam, u, h0):
    """h^(t) = lam^(t) h^(t-1) + u^(t), one example and one channel at a time, Python scalars."""
    T = u.shape[0]
    lam = np.broadcast_to(lam, u.shape)
    h = np.zeros((T + 1,) + u.shape[1:], dtype=np.result_type(lam, u, h0, np.float64))
    h[0] = h0
    for idx in np.ndindex(u.shape[1:]):
        state = complex(h0[idx]) if np.iscomplexobj(h) else float(h0[idx])
        for t in range(T):
            state = lam[(t,) + idx] * state + u[(t,) + idx]
            h[(t + 1,) + idx] = state
    return h


def random_lam(rng, shape, complex_):
    r = rng.uniform(0.3, 0.99, shape)
    return r * np.exp(1j * rng.uniform(0, 2 * np.pi, shape)) if complex_ else r * rng.choice([-1, 1], shape)


def as_dtype(array, dtype, complex_):
    if complex_:
        return array.astype(np.complex64 if dtype == np.float32 else np.complex128)
    return array.astype(dtype)


@pytest.mark.parametrize("T", [1, 2, 3, 5, 7, 8, 9, 31, 100])
@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scan_and_loop_equal_a_hand_recurrence(T, complex_, dtype):
    rng = np.random.default_rng(T)
    lam = as_dtype(random_lam(rng, 4, complex_), dtype, complex_)
    u = as_dtype(rng.standard_normal((T, 3, 4)) + (1j * rng.standard_normal((T, 3, 4)) if complex_ else 0),
                 dtype, complex_)
    h0 = as_dtype(rng.standard_normal((3, 4)), dtype, complex_)
    want = hand_recurrence(lam.astype(np.complex128 if complex_ else np.float64), u, h0)
    loop = LR.linear_recurrence_loop(lam, u, h0)
    scan = LR.linear_recurrence_scan(lam, u, h0)
    tree = LR.linear_recurrence_scan(lam, u, h0, algorithm="blelloch")
    assert loop.dtype == scan.dtype == tree.dtype == lam.dtype
    assert loop.shape == scan.shape == tree.shape == (T + 1, 3, 4)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    eps = np.finfo(dtype).eps
    for h in (loop, scan, tree):
        np.testing.assert_allclose(h, want, rtol=tol, atol=tol)
        assert np.max(np.abs(h - loop)) <= 50 * eps * max(1, np.max(np.abs(want)))


def test_scan_with_per_step_coefficients_and_shared_h0():
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 1, (13, 2, 5))                    # a gated recurrence: one a per step
    u = rng.standard_normal((13, 2, 5))
    h0 = rng.standard_normal(5)                          # (n,) shared by the batch
    want = hand_recurrence(a, u, np.broadcast_to(h0, (2, 5)))
    np.testing.assert_allclose(LR.linear_recurrence_scan(a, u, h0), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(LR.linear_recurrence_loop(a, u, h0), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(LR.linear_recurrence_scan(a, u, h0, algorithm="blelloch"), want,
                               rtol=1e-12, atol=1e-12)
    zeros = LR.linear_recurrence_scan(a, u)              # h0 None: zeros
    np.testing.assert_allclose(zeros, hand_recurrence(a, u, np.zeros((2, 5))), rtol=1e-12, atol=1e-12)


def test_float32_lambda_with_complex_drive_gives_complex64():
    lam = np.array([0.5, -0.9], dtype=np.float32)
    u = (np.ones((4, 2)) + 1j).astype(np.complex128)
    h = LR.linear_recurrence_scan(lam, u)
    assert h.dtype == np.complex64


def hand_adjoint(lam, h, dh):
    """g^(t) = dh^(t) + conj(a^(t+1)) g^(t+1), written as a plain backward loop."""
    T = dh.shape[0]
    a = np.broadcast_to(lam, dh.shape)
    g = np.zeros_like(dh)
    nxt = np.zeros_like(dh[0])
    for t in range(T - 1, -1, -1):
        nxt = dh[t] + (np.conj(a[t + 1]) * nxt if t + 1 < T else 0)
        g[t] = nxt
    da = np.conj(h[:-1]) * g
    return da, g, np.conj(a[0]) * g[0]


@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("per_step", [False, True])
def test_backward_against_a_hand_loop_and_finite_differences(complex_, per_step):
    rng = np.random.default_rng(2)
    T, B, n = 6, 2, 3
    lam = random_lam(rng, (T, B, n) if per_step else n, complex_)
    cplx = 1j if complex_ else 0
    u = rng.standard_normal((T, B, n)) + cplx * rng.standard_normal((T, B, n))
    h0 = rng.standard_normal((B, n)) + cplx * rng.standard_normal((B, n))
    w = rng.standard_normal((T, B, n)) + cplx * rng.standard_normal((T, B, n))

    def loss(lam_, u_, h0_):                             # a real loss of the states
        h = hand_recurrence(lam_, u_, h0_)[1:]
        return float(np.sum((np.conj(w) * h).real) + 0.5 * np.sum(np.abs(h) ** 2))

    h = LR.linear_recurrence_scan(lam, u, h0)
    dh = w + h[1:]                                       # dJ/dRe h + i dJ/dIm h
    dlam, du, dh0 = LR.linear_recurrence_backward(lam, h, dh)
    for got, want in zip(LR.linear_recurrence_backward(lam, h, dh, algorithm="blelloch"), (dlam, du, dh0)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    da, g, g0 = hand_adjoint(lam, h, dh)
    np.testing.assert_allclose(du, g, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dh0, g0, rtol=1e-12, atol=1e-12)
    want_dlam = da if per_step else da.reshape(-1, n).sum(axis=0)
    np.testing.assert_allclose(dlam, want_dlam, rtol=1e-12, atol=1e-12)
    assert np.iscomplexobj(dlam) == complex_

    def fd(array, f, eps=1e-6):
        grad = np.zeros(array.shape, dtype=complex if complex_ else float)
        for idx in np.ndindex(array.shape):
            for part in ([1, 1j] if complex_ else [1]):
                saved = array[idx]
                array[idx] = saved + eps * part
                plus = f()
                array[idx] = saved - eps * part
                minus = f()
                array[idx] = saved
                grad[idx] += part * (plus - minus) / (2 * eps)
        return grad

    for got, arr in ((dlam, lam), (du, u), (dh0, h0)):
        num = fd(arr, lambda: loss(lam, u, h0))
        assert gradcheck_rel(got, num) < TOL


def gradcheck_rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


def test_scan_depth_and_schedule():
    assert [LR.scan_depth(T) for T in (1, 2, 3, 4, 5, 8, 9, 1024, 1025, 65536)] == \
        [0, 1, 2, 2, 3, 3, 4, 10, 11, 16]
    assert [LR.scan_depth(T, "blelloch") for T in (1, 2, 3, 4, 1024, 1025)] == [0, 2, 2, 4, 20, 20]
    for T in (1, 2, 5, 8, 11):
        levels = LR.scan_schedule(T)
        assert len(levels) == LR.scan_depth(T)
        # position t covers steps [t - 2^k + 1, t] after level k: replay the wiring
        covered = {t: {t} for t in range(1, T + 1)}
        for k, pairs in enumerate(levels):
            assert pairs.shape == (T - 2 ** k, 2)
            assert np.all(pairs[:, 0] - pairs[:, 1] == 2 ** k)
            new = {t: set(c) for t, c in covered.items()}
            for t, s in pairs:
                new[t] |= covered[s]
            covered = new
        assert all(covered[t] == set(range(1, t + 1)) for t in covered)


def test_spectral_radius_is_the_largest_modulus():
    assert LR.spectral_radius([0.5, -0.9, 0.3j]) == pytest.approx(0.9)
    assert LR.spectral_radius(np.array([0.6 + 0.8j])) == pytest.approx(1.0)


def test_unstable_lambda_warns_once_with_the_step():
    u = np.ones((2000, 1))
    with pytest.warns(RuntimeWarning, match=r"step t=\d+ .*\|lambda\|") as record:
        LR.linear_recurrence_scan(np.array([1.5]), u)
    assert len(record) == 1


# ----------------------------------------------------------------------------------------------
# The diagonal layer with its input matrix B
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_diagonal_layer_forward_and_gradients(complex_, dtype):
    rng = np.random.default_rng(3)
    params = LR.init_diagonal_recurrence(3, 4, complex=complex_, seed=1, dtype=dtype)
    assert np.all(np.abs(params["lam"]) < 1)
    assert params["lam"].dtype == as_dtype(np.zeros(1), dtype, complex_).dtype
    x = rng.standard_normal((5, 2, 3)).astype(dtype)
    h0 = rng.standard_normal(4).astype(dtype)
    cache = LR.diagonal_recurrence_forward(params, x, h0)
    loop = LR.diagonal_recurrence_forward(params, x, h0, method="loop")
    tree = LR.diagonal_recurrence_forward(params, x, h0, method="blelloch")
    want = hand_recurrence(params["lam"].astype(complex if complex_ else float),
                           np.einsum("nd,tbd->tbn", params["B"].astype(complex if complex_ else float), x),
                           np.broadcast_to(h0, (2, 4)))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(cache.h, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(loop.h, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(tree.h, want, rtol=tol, atol=tol)
    assert cache.h.dtype == params["lam"].dtype
    if dtype == np.float32:
        return
    w = rng.standard_normal((5, 2, 4))

    def loss(p, x_, h0_):
        h = hand_recurrence(p["lam"], np.einsum("nd,tbd->tbn", p["B"], x_), np.broadcast_to(h0_, (2, 4)))
        return float(np.sum(w * h[1:].real) + np.sum(np.abs(h[1:]) ** 2))

    dh = w + 2 * cache.h[1:]                             # dJ/dRe h + i dJ/dIm h
    dx, grads = LR.diagonal_recurrence_backward(params, cache, dh)
    inputs = {"lamr": params["lam"].real.copy(), "Br": params["B"].real.copy(), "x": x.copy(), "h0": h0.copy()}
    if complex_:
        inputs.update(lami=params["lam"].imag.copy(), Bi=params["B"].imag.copy())

    def f(inp):
        p = {"lam": inp["lamr"] + (1j * inp["lami"] if complex_ else 0),
             "B": inp["Br"] + (1j * inp["Bi"] if complex_ else 0)}
        return loss(p, inp["x"], inp["h0"])

    num = {k: v for k, v in gradcheck_numeric(f, inputs).items()}
    assert gradcheck_rel(grads["lam"].real, num["lamr"]) < TOL
    assert gradcheck_rel(grads["B"].real, num["Br"]) < TOL
    if complex_:
        assert gradcheck_rel(grads["lam"].imag, num["lami"]) < TOL
        assert gradcheck_rel(grads["B"].imag, num["Bi"]) < TOL
    assert gradcheck_rel(dx, num["x"]) < TOL
    assert gradcheck_rel(grads["h0"].real, num["h0"]) < TOL
    assert grads["h0"].shape == (4,)


def gradcheck_numeric(f, inputs, eps=1e-6):
    from rnnlib import numerical_gradient
    return numerical_gradient(f, inputs, eps=eps)


# ----------------------------------------------------------------------------------------------
# The gated linear-recurrence layer
# ----------------------------------------------------------------------------------------------
def sig(z):
    return 1 / (1 + np.exp(-z))


def hand_gated(p, x, h0, mask):
    """The gated layer per example and step, with the recurrence written out."""
    T, B, _ = x.shape
    n, m, C = p["U_z"].shape[0], p["W_q"].shape[0], p["V"].shape[0]
    O = np.zeros((T, B, C))
    for b in range(B):
        h = h0[b].copy()
        for t in range(T):
            if mask is None or mask[t, b]:
                z = sig(p["b_z"] + p["U_z"] @ x[t, b])
                h = (1 - z) * h + z * (p["b_h"] + p["U_h"] @ x[t, b])
            q = np.tanh(p["b_q"] + p["W_q"] @ h + p["U_q"] @ x[t, b])
            O[t, b] = p["c"] + p["V"] @ q
    return O


def hand_loss(O, y, mask):
    T, B, _ = O.shape
    J = 0.0
    for t in range(T):
        for b in range(B):
            if mask is None or mask[t, b]:
                o = O[t, b]
                J += (np.log(np.sum(np.exp(o - o.max()))) + o.max() - o[y[t, b]]) / B
    return J


def with_biases(p, rng):
    return {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in p.items()}


@pytest.mark.parametrize("masked", [False, True])
def test_gated_layer_matches_a_hand_loop_and_finite_differences(masked):
    rng = np.random.default_rng(4)
    p = with_biases(LR.init_gated_linear(3, 4, 5, 3, seed=0), rng)
    x = rng.standard_normal((6, 2, 3))
    y = rng.integers(0, 3, (6, 2))
    mask = (np.arange(6)[:, None] < np.array([6, 4])[None]) if masked else None
    h0 = rng.standard_normal((2, 4))
    cache = LR.gated_linear_forward(p, x, h0, mask)
    O = hand_gated(p, x, h0, mask)
    np.testing.assert_allclose(cache.o, O, rtol=1e-12, atol=1e-12)
    for method in ("loop", "blelloch"):
        other = LR.gated_linear_forward(p, x, h0, mask, method=method)
        np.testing.assert_allclose(other.o, O, rtol=1e-12, atol=1e-12)
    loss, grads = LR.gated_linear_backward(p, cache, y)
    assert loss == pytest.approx(hand_loss(O, y, mask), rel=1e-12)
    inputs = dict(p, h0=h0.copy())
    num = gradcheck_numeric(lambda q: hand_loss(hand_gated(q, x, q["h0"], mask), y, mask), inputs)
    for k in grads:
        assert gradcheck_rel(grads[k], num[k]) < TOL, k
    errors = gradcheck(lambda q: LR.gated_linear_backward(q, LR.gated_linear_forward(q, x, h0, mask), y)[0],
                       p, {k: v for k, v in grads.items() if k != "h0"})
    assert max(errors.values()) < TOL


def test_gated_layer_float32_follows_the_params_and_trains():
    p = LR.init_gated_linear(7, 8, 8, 5, seed=0, dtype=np.float32)
    x, y = LR.recall_batch(0, 5, B=8)
    cache = LR.gated_linear_forward(p, x)
    assert cache.o.dtype == cache.h.dtype == np.float32
    loss, grads = LR.gated_linear_backward(p, cache, y)
    assert all(g.dtype == np.float32 for g in grads.values())
    history = train(p, lambda s: LR.recall_batch(s, 5, B=16), 60, Adam(lr=0.02),
                    forward=LR.gated_linear_forward, backward=LR.gated_linear_backward, progress=False)
    assert np.mean(history.loss[-10:]) < np.mean(history.loss[:10])


def test_recall_batch_is_the_chapter_task():
    x, y = LR.recall_batch(3, L=5, B=4, seed=0)
    assert x.shape == (6, 4, 7) and y.shape == (6, 4)
    symbol = x[0, :, :4].argmax(axis=1)
    assert np.all(y[-1] == symbol) and np.all(y[:-1] == 4)
    assert np.all(x[-1, :, 6] == 1) and np.all(x[:-1, :, 6] == 0)
    x2, _ = LR.recall_batch(3, L=5, B=4, seed=0)
    np.testing.assert_array_equal(x, x2)
    rng = np.random.default_rng([0, 3])                  # the notebook's recipe
    assert np.all(symbol == rng.integers(0, 4, size=4))


# ----------------------------------------------------------------------------------------------
# The eigenvalue widget's data
# ----------------------------------------------------------------------------------------------
def test_impulse_response_is_lambda_to_the_power():
    lam = np.array([[0.9, -0.5], [0.7j, 0.95 * np.exp(0.3j)]])
    h = LR.impulse_response(lam, 20)
    assert h.shape == (21, 2, 2)
    t = np.arange(1, 21)[:, None, None]
    np.testing.assert_allclose(h[1:], lam[None] ** (t - 1), rtol=1e-12, atol=1e-14)
    assert np.all(h[0] == 0)


def test_memory_length_closed_form_and_grid_agree():
    lam = np.array([0.0, 0.1, 0.5, 0.9, 0.99, -0.9, 0.9j, 1.0, 1.2])
    k = LR.memory_length(lam, threshold=0.01)
    for value, steps in zip(lam, k):
        r = abs(value)
        if r >= 1:
            assert steps == np.inf
        else:                                            # first k with r^k < 0.01, by counting
            count = 0
            while r ** count >= 0.01:
                count += 1
            assert steps == count
    grid = LR.memory_grid(np.array([0.0, 0.5, 0.9, 0.99, 1.0]), np.linspace(0, np.pi, 4), T=300)
    want = LR.memory_length(grid.lam, grid.threshold)
    finite = np.isfinite(want) & (want <= 300)
    assert np.all(grid.memory[finite] == want[finite])
    assert np.all(grid.beyond == ~finite) and np.all(grid.memory[~finite] == 301)
    np.testing.assert_allclose(grid.response[..., 1:], np.abs(grid.lam)[..., None] ** np.arange(300),
                               rtol=1e-10, atol=1e-300)
    assert grid.response.shape == grid.real.shape == (5, 4, 301)
