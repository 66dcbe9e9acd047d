"""The checkers of the chapter "Design patterns and deep RNNs": reference answers pass, usual
mistakes fail with specific feedback, stubs are "not attempted"."""
import numpy as np
import pytest

from rnnlib import bidirectional as BI
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


def bidirectional_loop(p, x, mistake=None):
    """The bidirectional forward pass written as two loops (independent of rnnlib), with an
    optional usual mistake."""
    T, B, _ = x.shape
    m = p["Wh"].shape[0]
    Wg, Ug, bg = (p["Wh"], p["Uh"], p["bh"]) if mistake == "shared" else (p["Wg"], p["Ug"], p["bg"])
    h, g, H, G = np.zeros((B, m)), np.zeros((B, m)), [], [None] * T
    for t in range(T):
        h = np.tanh(p["bh"] + h @ p["Wh"].T + x[t] @ p["Uh"].T)
        H.append(h)
    order = range(T) if mistake == "forwards" else reversed(range(T))
    for t in order:
        g = np.tanh(bg + g @ Wg.T + x[t] @ Ug.T)
        G[t] = g
    if mistake == "shifted":
        G = G[1:] + [np.zeros((B, m))]
    pairs = [(G[t], H[t]) if mistake == "swapped" else (H[t], G[t]) for t in range(T)]
    c = 0 if mistake == "no c" else p["c"]
    return np.stack([c + np.concatenate(pair, axis=1) @ p["V"].T for pair in pairs])


def test_bidirectional_reference_and_independent_answers_pass():
    assert check("patterns-bidirectional", lambda p, x: BI.bidirectional_forward(p, x).o, quiet=True).passed
    assert check("patterns-bidirectional", bidirectional_loop, quiet=True).passed
    widened = check("patterns-bidirectional",
                    lambda p, x: bidirectional_loop({k: v.astype(np.float64) for k, v in p.items()},
                                                    x.astype(np.float64)), quiet=True)
    assert widened.passed, widened.feedback                        # the dtype rule
    assert check("patterns-bidirectional", stub, quiet=True).status == "not attempted"
    assert get_exercise("patterns-bidirectional").chapter == "design_patterns"


@pytest.mark.parametrize("mistake, words", [
    ("forwards", "runs forwards in time"),
    ("shifted", "g^(t+1)"),
    ("swapped", "forward state first"),
    ("no c", "output bias c"),
    ("shared", "its own parameters"),
])
def test_bidirectional_mistakes_get_specific_feedback(mistake, words):
    result = check("patterns-bidirectional", lambda p, x: bidirectional_loop(p, x, mistake), quiet=True)
    assert result.status == "failed" and words in result.feedback, result.feedback


def test_bidirectional_unreversed_states_and_in_place_changes_are_named():
    def unreversed(p, x):
        cache = BI.bidirectional_forward(p, x)
        g_rev = cache.g[:-1][::-1]                                    # g^(T), ..., g^(1)
        return np.concatenate([cache.h[1:], g_rev], axis=2) @ p["V"].T + p["c"]

    result = check("patterns-bidirectional", unreversed, quiet=True)
    assert result.status == "failed" and "reverse its states back" in result.feedback, result.feedback

    def in_place(p, x):
        x *= 2
        return BI.bidirectional_forward(p, x / 2).o

    result = check("patterns-bidirectional", in_place, quiet=True)
    assert result.status == "failed" and "in place" in result.feedback, result.feedback


def test_parallel_explanation_says_teacher_forcing_alone_is_not_parallel():
    from rnnlib.exercises.design_patterns import PICK_ANSWERS

    why = PICK_ANSWERS["parallel"][1]
    assert "no hidden-to-hidden recurrence" in why and "stays sequential" in why


def test_the_written_exercise_is_registered():
    assert get_exercise("patterns-exposure-bias").kind == "written"
