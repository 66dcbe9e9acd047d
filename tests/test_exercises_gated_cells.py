"""Tests of the checkers of the chapter "Gated cells: LSTM and GRU" (rnnlib/exercises/gated_cells.py).

A correct answer passes; each typical mistake, written out here as a student would, fails with
feedback that names it; the unsolved stub is "not attempted".
"""
import numpy as np
import pytest

from rnnlib.exercises import check, get_exercise, list_exercises


def sig(a):
    return 1 / (1 + np.exp(-a))


def lstm_step(params, x_t, h_prev, s_prev, roles=("i", "f", "o", "g"), gate=sig, cand=np.tanh,
              forget=True, squash=np.tanh, transposed=False):
    def pre(k):
        W = params["W_" + k]
        return params["b_" + k] + h_prev @ (W if transposed else W.T) + x_t @ params["U_" + k].T

    i, f, q = (gate(pre(k)) for k in roles[:3])
    g = cand(pre(roles[3]))
    s = (f * s_prev if forget else s_prev) + i * g
    return q * squash(s), s


def quiet(label, answer):
    return check(label, answer, quiet=True)


def test_registered():
    labels = {e.label: e.kind for e in list_exercises(chapter="gated_cells")}
    assert labels == {"lstm-step-forward": "code", "gated-n-params": "code",
                      "lstm-forget-bias": "written", "lstm-cec": "written"}
    assert get_exercise("lstm-step-forward").answer_name == "my_lstm_step"


def test_correct_lstm_step_passes_also_with_a_cache():
    assert quiet("lstm-step-forward", lstm_step).passed
    assert quiet("lstm-step-forward", lambda *a: (*lstm_step(*a), None)).passed


@pytest.mark.parametrize("kwargs, words", [
    (dict(roles=("f", "i", "o", "g")), "gates are swapped"),
    (dict(roles=("i", "g", "o", "f")), "gates are swapped"),
    (dict(forget=False), "forget gate is missing"),
    (dict(gate=np.tanh, cand=sig), "tanh and sigmoid are mixed up"),
    (dict(cand=sig), "candidate g uses the sigmoid"),
    (dict(gate=np.tanh), "gates i, f and q use tanh"),
    (dict(squash=lambda s: s), "left out the tanh of the cell state"),
    (dict(transposed=True), "transposed"),
])
def test_lstm_step_mistakes_are_named(kwargs, words):
    result = quiet("lstm-step-forward", lambda *a: lstm_step(*a, **kwargs))
    assert result.status == "failed" and words in result.feedback, result.feedback


def test_lstm_step_other_failures():
    assert "(s_t, h_t)" in quiet("lstm-step-forward", lambda *a: lstm_step(*a)[::-1]).feedback
    assert "pair (h_t, s_t)" in quiet("lstm-step-forward", lambda *a: lstm_step(*a)[0]).feedback
    result = quiet("lstm-step-forward", lambda *a: (lstm_step(*a)[0] * 1.01, lstm_step(*a)[1]))
    assert result.status == "failed" and "wrong values" in result.feedback

    def stub(params, x_t, h_prev, s_prev):
        raise NotImplementedError()

    assert quiet("lstm-step-forward", stub).status == "not attempted"

    def in_place(params, x_t, h_prev, s_prev):
        h, s = lstm_step(params, x_t, h_prev, s_prev)
        s_prev *= 0
        return h, s

    assert "in place" in quiet("lstm-step-forward", in_place).feedback


def counts(d, m, C, blocks=(4, 3), bias=True, out=True):
    block = m * m + m * d + (m if bias else 0)
    return tuple(n * block + ((C * m + C) if out else 0) for n in blocks)


@pytest.mark.parametrize("answer, words", [
    (lambda d, m, C: counts(d, m, C, bias=False), "forgot the biases"),
    (lambda d, m, C: counts(d, m, C, out=False), "forgot the output layer"),
    (lambda d, m, C: counts(d, m, C)[::-1], "LSTM's count first"),
    (lambda d, m, C: counts(m, d, C), "exchanged"),
    (lambda d, m, C: counts(d, m, C, blocks=(3, 3)), "LSTM has 4 blocks"),
    (lambda d, m, C: counts(d, m, C, blocks=(4, 2)), "candidate's block"),
    (lambda d, m, C: 5, "pair (n_lstm, n_gru)"),
    (lambda d, m: (1, 2), "three arguments"),
])
def test_parameter_count_mistakes_are_named(answer, words):
    result = quiet("gated-n-params", answer)
    assert result.status == "failed" and words in result.feedback, result.feedback


def test_parameter_count_correct_and_stub():
    assert quiet("gated-n-params", counts).passed

    def stub(d, m, C):
        raise NotImplementedError()

    assert quiet("gated-n-params", stub).status == "not attempted"
