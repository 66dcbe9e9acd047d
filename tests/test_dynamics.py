"""Tests of rnnlib.dynamics against closed forms (linear systems with known eigenvalues) and
hand-unrolled loops."""

import numpy as np
import pytest

from rnnlib import dynamics as dyn

rng = np.random.default_rng(0)


def symmetric_with_eigenvalues(eigenvalues, seed=0):
    """Q diag(eigenvalues) Q^T with a random orthogonal Q."""
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(eigenvalues),) * 2))
    return Q @ np.diag(eigenvalues) @ Q.T, Q


def test_unfold_is_explicit_composition():
    theta = 0.7
    f = lambda s: np.tanh(theta * s + 0.1)  # noqa: E731
    s1 = np.array([0.3, -1.2])
    g3 = dyn.unfold(f, 3)
    assert np.array_equal(g3(s1), f(f(f(s1))))
    assert np.array_equal(dyn.unfold(f, 0)(s1), s1)
    traj = dyn.trajectory(f, s1, 5)
    s = s1
    for t in range(1, 6):
        s = f(s)
        assert np.array_equal(traj[t], s)
    assert traj.shape == (6, 2) and np.array_equal(traj[0], s1)
    assert np.array_equal(dyn.compose(np.sin, np.cos)(s1), np.sin(np.cos(s1)))


def test_unfold_driven_matches_loop():
    f = lambda s, x: np.tanh(0.5 * s + x)  # noqa: E731
    x = rng.normal(size=(4, 3))
    s0 = np.zeros(3)
    s = s0
    for t in range(4):
        s = f(s, x[t])
    assert np.allclose(dyn.unfold_driven(f, 4)(s0, x), s)
    assert np.allclose(dyn.driven_trajectory(f, s0, x)[-1], s)
    assert np.array_equal(dyn.unfold_driven(f, 0)(s0, x), s0)
    with pytest.raises(ValueError, match="at least T"):
        dyn.unfold_driven(f, 5)(s0, x)


def test_unfolded_expression():
    assert dyn.unfolded_expression(2, start=1) == r"f(f(s^{(1)}; \theta); \theta)"
    assert dyn.unfolded_expression(1, driven=True, state="h") == r"f(h^{(0)}, x^{(1)}; \theta)"
    assert dyn.unfolded_expression(0) == "s^{(0)}"


def test_linear_trajectories_have_closed_form():
    lam = np.array([0.9, -0.5, 0.3, 0.1])
    W, Q = symmetric_with_eigenvalues(lam)
    h0 = rng.normal(size=(5, 4))
    h = dyn.hidden_trajectories(W, h0, T=7, activation="identity")
    for t in range(8):
        closed = h0 @ (Q @ np.diag(lam ** t) @ Q.T).T                 # W^t h0 for each row
        assert np.allclose(h[t], closed, atol=1e-12)
    assert h.shape == (8, 5, 4)


def test_driven_trajectories_match_hand_loop():
    m, d, T, N = 4, 2, 6, 3
    W, U, b = rng.normal(size=(m, m)), rng.normal(size=(m, d)), rng.normal(size=m)
    x = rng.normal(size=(T, d))
    h0 = rng.normal(size=(N, m))
    for activation, act in [("tanh", np.tanh), ("relu", lambda a: np.maximum(0, a))]:
        h = dyn.hidden_trajectories(W, h0, x=x, U=U, b=b, activation=activation)
        for n in range(N):
            s = h0[n]
            for t in range(T):
                s = act(b + W @ s + U @ x[t])
                assert np.allclose(h[t + 1, n], s)
    # one input sequence per trajectory
    xs = rng.normal(size=(T, N, d))
    h = dyn.hidden_trajectories(W, h0, x=xs, U=U, b=b)
    s = h0[1]
    for t in range(T):
        s = np.tanh(b + W @ s + U @ xs[t, 1])
    assert np.allclose(h[-1, 1], s)
    f = dyn.rnn_map(W, U, b)
    assert np.allclose(f(h0, x[0]), np.tanh(b + h0 @ W.T + x[0] @ U.T))


def test_spectral_radius_rescaling():
    W = rng.normal(size=(6, 6))
    for rho in (0.1, 0.9, 1.0, 2.5):
        W2 = dyn.scale_to_spectral_radius(W, rho)
        assert np.isclose(np.max(np.abs(np.linalg.eigvals(W2))), rho)
        assert np.allclose(W2 / W, W2[0, 0] / W[0, 0])                  # same direction
    W3, _ = symmetric_with_eigenvalues(np.array([0.5, -2.0, 1.0]))
    assert np.isclose(dyn.spectral_radius(W3), 2.0)
    R = dyn.random_recurrent_matrix(10, 1.3, seed=3)
    assert R.shape == (10, 10) and np.isclose(dyn.spectral_radius(R), 1.3)
    assert np.array_equal(R, dyn.random_recurrent_matrix(10, 1.3, seed=3))


def test_fixed_points():
    W = rng.normal(size=(4, 4)) * 0.3
    b = rng.normal(size=4)
    h_star, ok = dyn.fixed_point(W, b, activation="identity")
    assert ok and np.allclose(h_star, np.linalg.solve(np.eye(4) - W, b))
    h_star, ok = dyn.fixed_point(W, b, activation="tanh")
    assert ok and np.allclose(h_star, np.tanh(b + W @ h_star), atol=1e-12)
    # tanh, b = 0: the origin is a fixed point, stable iff rho(W) < 1 (Jacobian at 0 is W)
    for rho, stable in ((0.8, True), (1.5, False)):
        Wr = dyn.scale_to_spectral_radius(rng.normal(size=(5, 5)), rho)
        h0, ok = dyn.fixed_point(Wr, activation="tanh")
        assert ok and np.allclose(h0, 0)
        assert dyn.is_stable(Wr, h0) is stable
    # iteration from anywhere converges to a stable fixed point
    h = dyn.hidden_trajectories(W, rng.normal(size=(3, 4)), T=200, b=b)
    h_star, _ = dyn.fixed_point(W, b)
    assert np.allclose(h[-1], h_star, atol=1e-10)


def test_jacobian_matches_finite_differences():
    W, U, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 2)), rng.normal(size=3)
    h, x = rng.normal(size=3), rng.normal(size=2)
    J = dyn.jacobian(W, h, x=x, U=U, b=b)
    f = lambda h: np.tanh(b + W @ h + U @ x)  # noqa: E731
    fd = np.stack([(f(h + 1e-6 * e) - f(h - 1e-6 * e)) / 2e-6 for e in np.eye(3)], axis=1)
    assert np.linalg.norm(J - fd) / (np.linalg.norm(J) + np.linalg.norm(fd)) < 1e-7


def test_separation_and_lyapunov_exponent_of_linear_system():
    lam = np.array([1.2, 0.5, -0.3])
    W, Q = symmetric_with_eigenvalues(lam, seed=1)
    delta = 1e-3 * Q[:, 0]                                           # along the top eigenvector
    sep = dyn.separation(W, np.zeros(3), delta, T=10, activation="identity")
    assert np.allclose(sep, 1e-3 * 1.2 ** np.arange(11))
    # the estimate converges to log rho(W) like O(1/T)
    assert np.isclose(dyn.lyapunov_exponent(W, np.zeros(3), 4000, activation="identity"),
                      np.log(1.2), atol=2e-3)
    Wc = dyn.scale_to_spectral_radius(W, 0.6)
    assert np.isclose(dyn.lyapunov_exponent(Wc, np.zeros(3), 4000, activation="identity"),
                      np.log(0.6), atol=2e-3)
    # tanh with a contracting W: nearby trajectories converge
    Wt = dyn.random_recurrent_matrix(8, 0.5, seed=0)
    assert dyn.lyapunov_exponent(Wt, rng.normal(size=8), 100) < 0
    sep = dyn.separation(Wt, rng.normal(size=8), 1e-3 * np.ones(8), T=50)
    assert sep[-1] < 1e-6 * sep[0]


def test_bad_input():
    W = np.eye(3)
    with pytest.raises(ValueError, match="square"):
        dyn.spectral_radius(np.ones((2, 3)))
    with pytest.raises(TypeError, match="numeric"):
        dyn.spectral_radius(np.array([["a"]]))
    with pytest.raises(ValueError, match="NaN"):
        dyn.spectral_radius(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="rho"):
        dyn.scale_to_spectral_radius(W, -1.0)
    with pytest.raises(TypeError, match="rho"):
        dyn.scale_to_spectral_radius(W, "2")
    with pytest.raises(ValueError, match="spectral radius 0"):
        dyn.scale_to_spectral_radius(np.zeros((2, 2)), 1.0)
    with pytest.raises(ValueError, match="h0"):
        dyn.hidden_trajectories(W, np.ones(4), T=3)
    with pytest.raises(ValueError, match="steps T"):
        dyn.hidden_trajectories(W, np.ones(3))
    with pytest.raises(ValueError, match="U"):
        dyn.hidden_trajectories(W, np.ones(3), x=np.ones((2, 2)))
    with pytest.raises(ValueError, match="x must have shape"):
        dyn.hidden_trajectories(W, np.ones(3), x=np.ones((2, 5)), U=np.ones((3, 2)))
    with pytest.raises(ValueError, match="activation"):
        dyn.hidden_trajectories(W, np.ones(3), T=2, activation="gelu")
    with pytest.raises(ValueError, match="b must"):
        dyn.rnn_map(W, b=np.ones(2))
    with pytest.raises(ValueError, match="U must"):
        dyn.rnn_map(W, U=np.ones((2, 2)))
    with pytest.raises(TypeError, match="T must be an int"):
        dyn.unfold(np.tanh, 2.5)
    with pytest.raises(ValueError, match="T must be >= 0"):
        dyn.trajectory(np.tanh, np.ones(2), -1)
    with pytest.raises(TypeError, match="callable"):
        dyn.unfold(3, 2)
    with pytest.raises(ValueError, match="at least one"):
        dyn.compose()
    with pytest.raises(ValueError, match="h_prev"):
        dyn.jacobian(W, np.ones(2))
    with pytest.raises(ValueError, match="b must"):
        dyn.fixed_point(W, b=np.ones(4))
    with pytest.raises(ValueError, match="delta"):
        dyn.separation(W, np.ones(3), np.ones(2), 3)
    with pytest.raises(ValueError, match="T must be >= 1"):
        dyn.lyapunov_exponent(W, np.ones(3), 0)
    with pytest.raises(ValueError, match="scalar"):
        dyn.driven_trajectory(lambda s, x: s, np.ones(2), 3.0)
    with pytest.raises(ValueError, match="m must"):
        dyn.random_recurrent_matrix(0)


def test_unfolding_has_no_recursion_limit():
    assert dyn.unfold(lambda s: s + 1, 50_000)(0) == 50_000
    assert dyn.compose(*([lambda s: s + 1] * 5000))(0) == 5000
    assert dyn.unfolded_expression(3000).count("f(") == 3000


def test_unfolded_expression_names_the_parameters_and_inputs():
    bold = dyn.unfolded_expression(2, driven=True, state=r"\mathbf{h}",
                                   params=r"\boldsymbol{\theta}", inputs=r"\mathbf{x}")
    assert bold == (r"f(f(\mathbf{h}^{(0)}, \mathbf{x}^{(1)}; \boldsymbol{\theta}), "
                    r"\mathbf{x}^{(2)}; \boldsymbol{\theta})")
    assert dyn.unfolded_expression(1, params="p") == "f(s^{(0)}; p)"
    with pytest.raises(TypeError, match="params"):
        dyn.unfolded_expression(1, params=None)
