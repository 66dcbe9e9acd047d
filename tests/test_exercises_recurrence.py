"""Tests of the checker of the section "Echo state networks and leaky units" (chapter "Recurrence
and unfolding", rnnlib.exercises.recurrence): the reference and an independent solution pass,
the typical mistakes get their feedback, the stub is "not attempted"."""

import numpy as np
import pytest

from rnnlib import reservoir
from rnnlib.exercises import check, get_exercise, make_cases


def stub(params, x_t, h_prev, alpha):
    raise NotImplementedError()


def leaky_step(params, x_t, h_prev, alpha):
    """An independent solution: one row (example) and one unit at a time, in plain Python."""
    W, U, b = params["W"], params["U"], params["b"]
    B, m = h_prev.shape
    alphas = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (m,))
    out = np.empty((B, m))
    for row in range(B):
        for i in range(m):
            a = b[i] + sum(W[i, j] * h_prev[row, j] for j in range(m)) \
                + sum(U[i, k] * x_t[row, k] for k in range(x_t.shape[1]))
            out[row, i] = (1 - alphas[i]) * h_prev[row, i] + alphas[i] * np.tanh(a)
    return out


def library(params, x_t, h_prev, alpha):
    return reservoir.reservoir_states(params, x_t[None], h_prev, alpha)[1]


@pytest.mark.parametrize("answer", [leaky_step, library])
def test_right_answers_pass(answer):
    result = check("recurrence-leaky-step", answer, quiet=True)
    assert result.passed, result.feedback


def test_float64_answer_for_float32_inputs_passes():
    def in_float64(params, x_t, h_prev, alpha):
        return library({k: v.astype(np.float64) for k, v in params.items()},
                       x_t.astype(np.float64), h_prev.astype(np.float64),
                       np.asarray(alpha, dtype=np.float64))
    assert check("recurrence-leaky-step", in_float64, quiet=True).passed


def _tanh_a(p, x, h, transpose=True, bias=True):
    W = p["W"].T if transpose else p["W"]
    return np.tanh((p["b"] if bias else 0) + h @ W + x @ p["U"].T)


MISTAKES = [
    (lambda p, x, h, a: a * h + (1 - a) * _tanh_a(p, x, h), "swapped the two weights"),
    (lambda p, x, h, a: _tanh_a(p, x, h), "the leak is missing"),
    (lambda p, x, h, a: np.tanh((1 - a) * h + a * (p["b"] + h @ p["W"].T + x @ p["U"].T)),
     "inside the tanh"),
    (lambda p, x, h, a: (1 - a) * h + a * (p["b"] + h @ p["W"].T + x @ p["U"].T),
     "the tanh is missing"),
    (lambda p, x, h, a: h + a * _tanh_a(p, x, h), "scaled by (1 - alpha)"),
    (lambda p, x, h, a: (1 - a) * h + _tanh_a(p, x, h), "scaled by alpha"),
    (lambda p, x, h, a: (1 - a) * h + a * _tanh_a(p, x, h, transpose=False), "W transposed"),
    (lambda p, x, h, a: (1 - a) * h + a * _tanh_a(p, x, h, bias=False), "bias b is missing"),
    (lambda p, x, h, a: (library(p, x, h, a), None), "return the array h_t"),
]


@pytest.mark.parametrize("answer, feedback", MISTAKES)
def test_mistakes_get_their_feedback(answer, feedback):
    result = check("recurrence-leaky-step", answer, quiet=True)
    assert not result.passed and feedback in result.feedback, result.feedback


def test_in_place_change_is_named():
    def in_place(params, x_t, h_prev, alpha):
        h_prev[:] = library(params, x_t, h_prev, alpha)      # overwrites the caller's array
        return h_prev
    result = check("recurrence-leaky-step", in_place, quiet=True)
    assert not result.passed and "in place" in result.feedback


def test_stub_and_signature():
    assert check("recurrence-leaky-step", stub, quiet=True).status == "not attempted"
    result = check("recurrence-leaky-step", lambda params, x_t, h_prev: h_prev, quiet=True)
    assert not result.passed and "four arguments" in result.feedback


def test_cases_are_fixed_then_fresh():
    a = make_cases("recurrence-leaky-step", np.random.default_rng(1))
    b = make_cases("recurrence-leaky-step", np.random.default_rng(2))
    assert [c.context for c in a[:4]] == [c.context for c in b[:4]]
    assert any(np.ndim(c.args[3]) == 1 for c in a[:4])            # one alpha per unit
    assert any(c.args[1].dtype == np.float32 for c in a[:4])
    assert not all(np.array_equal(x.args[1], y.args[1]) for x, y in zip(a[4:], b[4:]))
    entry = get_exercise("recurrence-leaky-step")
    assert entry.chapter == "recurrence" and entry.answer_name == "leaky_step"


def test_an_answer_that_memorises_the_fixed_cases_fails():
    fixed = [(c.args[1].tobytes(), library(*c.args))
             for c in make_cases("recurrence-leaky-step", np.random.default_rng(0))[:4]]

    def memorised(params, x_t, h_prev, alpha):
        for key, value in fixed:
            if key == x_t.tobytes():
                return value
        return np.zeros_like(h_prev)
    assert not check("recurrence-leaky-step", memorised, quiet=True).passed
