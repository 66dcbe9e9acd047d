"""Tests of the checker ``rnn-perplexity`` (chapter "The RNN's equations and parameters",
rnnlib.exercises.rnn_equations): the reference and an independent solution pass, the typical
mistakes get their feedback, the stub is "not attempted"."""

import math

import numpy as np
import pytest

from rnnlib import metrics
from rnnlib.exercises import check, get_exercise, make_cases


def stub(losses, mask):
    raise NotImplementedError()


def by_hand(losses, mask):
    """An independent solution: a loop over the real steps, in plain Python."""
    total, count = 0.0, 0
    for t in range(losses.shape[0]):
        for b in range(losses.shape[1]):
            if mask[t, b]:
                total += float(losses[t, b])
                count += 1
    mean = total / count
    return [math.exp(mean), math.log2(math.exp(mean))]


def library(losses, mask):
    J = losses.sum(axis=0, where=mask).mean()             # rnnlib's J: sum over t, mean over b
    L = metrics.per_step_loss(float(J), mask=mask)
    return metrics.perplexity(L), metrics.bits_per_character(L)


@pytest.mark.parametrize("answer", [by_hand, library])
def test_right_answers_pass(answer):
    result = check("rnn-perplexity", answer, quiet=True)
    assert result.passed, result.feedback


def mean_real(losses, mask):
    return losses[mask].mean()


MISTAKES = [
    (lambda l, m: (np.exp(l.mean()), l.mean() / np.log(2)), "padded steps included"),
    (lambda l, m: (np.exp((l * m).sum() / l.size), 0.0), "divided by T * B"),
    (lambda l, m: (np.exp(np.mean([l[:n, b].mean() for b, n in enumerate(m.sum(0))])), 0.0),
     "averaged each sequence first"),
    (lambda l, m: (np.mean([np.exp(l[:n, b].mean()) for b, n in enumerate(m.sum(0))]), 0.0),
     "averaged the perplexities"),
    (lambda l, m: (np.exp(mean_real(l, m)), mean_real(l, m)), "in nats"),
    (lambda l, m: (np.exp(mean_real(l, m)), mean_real(l, m) * np.log(2)), "do not multiply"),
    (lambda l, m: (np.exp(mean_real(l, m)), mean_real(l, m) / np.log(10)), "base-2"),
    (lambda l, m: (2 ** mean_real(l, m), mean_real(l, m) / np.log(2)), "not 2 ** L"),
    (lambda l, m: (mean_real(l, m) / np.log(2), np.exp(mean_real(l, m))), "swapped"),
    (lambda l, m: np.exp(mean_real(l, m)), "as a tuple or a list"),
    (lambda l, m: (mean_real(l, m), 1.0), "the mean loss itself"),
]


@pytest.mark.parametrize("answer, feedback", MISTAKES)
def test_mistakes_get_their_feedback(answer, feedback):
    result = check("rnn-perplexity", answer, quiet=True)
    assert not result.passed and feedback in result.feedback, result.feedback


def test_summed_losses_overflow_is_explained_not_raised():
    result = check("rnn-perplexity", lambda l, m: (np.exp(l[m].sum()), 1.0), quiet=True)
    assert not result.passed and "summed the losses" in result.feedback


def test_in_place_change_and_stub():
    def in_place(losses, mask):
        losses[~mask] = 0
        return by_hand(losses, mask)
    result = check("rnn-perplexity", in_place, quiet=True)
    assert not result.passed and "in place" in result.feedback
    assert check("rnn-perplexity", stub, quiet=True).status == "not attempted"


def test_cases_are_fixed_then_fresh_and_padding_is_not_a_loss():
    a = make_cases("rnn-perplexity", np.random.default_rng(1))
    b = make_cases("rnn-perplexity", np.random.default_rng(2))
    assert [c.context for c in a[:4]] == [c.context for c in b[:4]]
    assert any(c.args[0].dtype == np.float32 for c in a[:4])
    for case in a:
        losses, mask = case.args
        if (~mask).any():                                  # padded entries are not zero
            assert losses[~mask].min() > losses[mask].max()
    assert not all(np.array_equal(x.args[0], y.args[0]) for x, y in zip(a[4:], b[4:]))
    entry = get_exercise("rnn-perplexity")
    assert entry.chapter == "rnn_equations" and entry.answer_name == "perplexity_and_bits"
