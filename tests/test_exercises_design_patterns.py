"""The checkers of the chapter "Design patterns and deep RNNs": reference answers pass, usual
mistakes fail with specific feedback, stubs are "not attempted"."""
import numpy as np
import pytest

from rnnlib import patterns as P
from rnnlib.exercises import check, get_exercise

PICKS = {"sentiment": 3, "tagging": 1, "parallel": 2, "echo": 1, "video": 3}


def stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("label, answer", [
    ("patterns-pick", lambda: dict(PICKS)),
    ("patterns-teacher-forcing", P.teacher_forcing_inputs),
    ("patterns-seq-to-one-dh", P.seq_to_one_dh),
    ("patterns-shortest-path", lambda k, depth, skip: k if skip else depth * k),
])
def test_reference_answers_pass_and_stubs_are_not_attempted(label, answer):
    assert check(label, answer, quiet=True).passed
    assert check(label, stub, quiet=True).status == "not attempted"
    assert get_exercise(label).chapter == "design_patterns"


def test_pick_partial_credit_and_explanations():
    result = check("patterns-pick", lambda: dict(PICKS, echo=2), quiet=True)
    assert result.status == "failed" and result.points == 1 and "x^(t-2)" in result.feedback
    assert check("patterns-pick", lambda: {"sentiment": 3}, quiet=True).status == "failed"
    assert check("patterns-pick", lambda: dict(PICKS, video="three"), quiet=True).status == "failed"


@pytest.mark.parametrize("label, answer, words", [
    ("patterns-teacher-forcing", lambda y, C: np.eye(C)[y], "current target"),
    ("patterns-teacher-forcing", lambda y, C: np.roll(np.eye(C)[y], 1, axis=0), "wraps"),
    ("patterns-seq-to-one-dh", lambda V, yh, y, last, T: P.seq_to_one_dh(V, yh, y, last, T) * len(y), "divide by B"),
    ("patterns-seq-to-one-dh", lambda V, yh, y, last, T: -P.seq_to_one_dh(V, yh, y, last, T), "sign"),
    ("patterns-seq-to-one-dh", lambda V, yh, y, last, T: P.seq_to_one_dh(V, yh, y, np.full_like(last, T), T),
     "last real step"),
    ("patterns-shortest-path", lambda k, depth, skip: depth * k, "ignored the skip"),
    ("patterns-shortest-path", lambda k, depth, skip: k, "without skip"),
])
def test_usual_mistakes_get_specific_feedback(label, answer, words):
    result = check(label, answer, quiet=True)
    assert result.status == "failed" and words in result.feedback, result.feedback


def test_the_written_exercise_is_registered():
    assert get_exercise("patterns-exposure-bias").kind == "written"
