"""Tests of the checkers of the chapter "Where recurrence went"
(rnnlib.exercises.where_recurrence_went): the library's reference and solutions written here
from the equations pass, the usual mistakes get their specific feedback, stubs are "not
attempted", and the chapter's notebook states exactly the registered exercises."""

import re
from pathlib import Path

import numpy as np
import pytest

from rnnlib.attention import _attend
from rnnlib.exercises import check, list_exercises
from rnnlib.linear_recurrence import linear_recurrence_scan

NOTEBOOK = Path(__file__).resolve().parents[1] / "book" / "where_recurrence_went.ipynb"


def stub(*args):
    raise NotImplementedError()


# ----------------------------------------------------------------------------------------------
# Independent solutions, from the equations
# ----------------------------------------------------------------------------------------------
def attend(s, H, W_a):
    T_x, B, m = H.shape
    weights = np.zeros((B, T_x))
    context = np.zeros((B, m))
    for b in range(B):
        e = np.array([s[b] @ W_a @ H[j, b] for j in range(T_x)])
        a = np.exp(e - e.max())
        a /= a.sum()
        weights[b] = a
        context[b] = sum(a[j] * H[j, b] for j in range(T_x))
    return weights, context


def attend_library(s, H, W_a):
    weights, context = _attend(s[None], H, H @ W_a.T, None)
    return weights[0], context[0]


def combine(first, second):
    (a1, u1), (a2, u2) = first, second
    return a2 * a1, a2 * u1 + u2


def scan_loop(lam, u):
    h = [np.zeros(u.shape[1], dtype=np.result_type(lam, u))]
    for t in range(u.shape[0]):
        h.append(lam * h[-1] + u[t])
    return np.stack(h)


def scan_doubling(lam, u):
    """Hillis-Steele, written without the library: offsets 1, 2, 4, ..."""
    T = u.shape[0]
    a, b = np.broadcast_to(lam, u.shape).copy(), u.copy()
    k = 1
    while k < T:
        b_new = b.copy()
        a_new = a.copy()
        for t in range(k, T):
            b_new[t] = a[t] * b[t - k] + b[t]
            a_new[t] = a[t] * a[t - k]
        a, b, k = a_new, b_new, 2 * k
    return np.vstack([np.zeros((1, u.shape[1]), b.dtype), b])


RIGHT = [
    ("where-attend", attend),
    ("where-attend", attend_library),
    ("where-attend", lambda s, H, W_a: [np.asarray(v, np.float32) for v in attend(s, H, W_a)]),
    ("where-combine", combine),
    ("where-combine", lambda f, s: [s[0] * f[0], s[0] * f[1] + s[1]]),
    ("where-scan", scan_loop),
    ("where-scan", scan_doubling),
    ("where-scan", lambda lam, u: linear_recurrence_scan(lam, u)),
    ("where-scan", lambda lam, u: linear_recurrence_scan(lam, u, algorithm="blelloch")),
]


@pytest.mark.parametrize("label, answer", RIGHT)
def test_right_answers_pass(label, answer):
    for seed in (0, 1):
        result = check(label, answer, quiet=True, rng=np.random.default_rng(seed))
        assert result.passed, result.feedback


def test_the_scan_checker_says_it_checks_values_only():
    result = check("where-scan", scan_loop, quiet=True)
    assert "log2 T" in result.feedback and "values only" in result.feedback


# ----------------------------------------------------------------------------------------------
# The usual mistakes
# ----------------------------------------------------------------------------------------------
def naive_softmax_attend(s, H, W_a):
    e = np.einsum("bm,jbm->bj", s, H @ W_a.T)
    a = np.exp(e) / np.exp(e).sum(axis=1, keepdims=True)
    return a, np.einsum("bj,jbm->bm", a, H)


def scan_in_place(lam, u):
    T = u.shape[0]
    a, b = np.broadcast_to(lam, u.shape).copy(), u.copy()
    k = 1
    while k < T:
        for t in range(k, T):
            b[t] = a[t] * b[t - k] + b[t]
            a[t] = a[t] * a[t - k]
        k *= 2
    return np.vstack([np.zeros((1, u.shape[1]), b.dtype), b])


def scan_a_first(lam, u):
    T = u.shape[0]
    a, b = np.broadcast_to(lam, u.shape).copy(), u.copy()
    k = 1
    while k < T:
        a[k:] = a[k:] * a[:-k]
        b[k:] = a[k:] * b[:-k] + b[k:]
        k *= 2
    return np.vstack([np.zeros((1, u.shape[1]), b.dtype), b])


def scan_early(lam, u):
    T = u.shape[0]
    a, b = np.broadcast_to(lam, u.shape).copy(), u.copy()
    k = 1
    while 2 * k < T:
        b[k:] = a[k:] * b[:-k] + b[k:]
        a[k:] = a[k:] * a[:-k]
        k *= 2
    return np.vstack([np.zeros((1, u.shape[1]), b.dtype), b])


MISTAKES = [
    ("where-attend", lambda s, H, W_a: attend(s, H, W_a)[0].T, "pair"),
    ("where-attend", lambda s, H, W_a: (attend(s, H, W_a)[0].T, attend(s, H, W_a)[1]),
     "transposed"),
    ("where-attend", lambda s, H, W_a: tuple(reversed(attend(s, H, W_a))), "wrong order"),
    ("where-attend", lambda s, H, W_a: (
        np.exp(e := np.einsum("bm,jbm->bj", s, H @ W_a.T)) / np.exp(e).sum(axis=0),
        attend(s, H, W_a)[1]), "over the batch"),
    ("where-attend", lambda s, H, W_a: (np.einsum("bm,jbm->bj", s, H @ W_a.T),
                                        attend(s, H, W_a)[1]), "raw scores"),
    ("where-attend", lambda s, H, W_a: attend(s, H, W_a.T), "W_a is transposed"),
    ("where-attend", lambda s, H, W_a: attend(s, H, np.eye(W_a.shape[0])), "W_a is missing"),
    ("where-attend", naive_softmax_attend, "Subtract each row's largest score"),
    ("where-attend", lambda s, H, W_a: (attend(s, H, W_a)[0], H.mean(axis=0)), "plain mean"),
    ("where-attend", lambda s, H, W_a: (attend(s, H, W_a)[0], H[-1]), "fixed-size context"),
    ("where-attend", lambda s, H, W_a: (
        attend(s, H, W_a)[0], np.einsum("bj,jbm->bm", np.einsum("bm,jbm->bj", s, H @ W_a.T), H)),
     "raw scores"),
    ("where-combine", lambda f, s: (f[0] + s[0], s[0] * f[1] + s[1]), "added the coefficients"),
    ("where-combine", lambda f, s: (s[0] * f[0], f[0] * s[1] + f[1]), "wrong order"),
    ("where-combine", lambda f, s: (s[0] * f[0], f[1] + s[1]), "not u1 + u2"),
    ("where-combine", lambda f, s: (s[0] * f[0], s[1]), "u1 is missing"),
    ("where-combine", lambda f, s: s[0] * f[0], "pair"),
    ("where-scan", lambda lam, u: scan_loop(lam, u)[1:], "h^(0) = 0 as its first row"),
    ("where-scan", scan_in_place, "already overwritten"),
    ("where-scan", scan_a_first, "updated a before b"),
    ("where-scan", scan_early, "one level early"),
    ("where-scan", lambda lam, u: np.vstack([np.zeros((1, u.shape[1])), np.cumsum(u, 0)]),
     "lambda is missing"),
]


@pytest.mark.parametrize("label, answer, feedback", MISTAKES)
def test_mistakes_get_specific_feedback(label, answer, feedback):
    for seed in (0, 1):
        result = check(label, answer, quiet=True, rng=np.random.default_rng(seed))
        assert result.status == "failed", (label, feedback)
        assert feedback in result.feedback, result.feedback


@pytest.mark.parametrize("label", ["where-attend", "where-combine", "where-scan"])
def test_stub_and_errors(label):
    assert check(label, stub, quiet=True).status == "not attempted"
    result = check(label, lambda *a: 1 / 0, quiet=True)
    assert result.status == "failed" and "ZeroDivisionError" in result.feedback
    assert not check(label, lambda *a: None, quiet=True).passed


def test_float32_and_complex_cases_appear():
    from rnnlib.exercises import make_cases

    rng = np.random.default_rng(0)
    attend_cases = make_cases("where-attend", rng)
    assert any(c.args[1].dtype == np.float32 for c in attend_cases)
    for label in ("where-combine", "where-scan"):
        cases = make_cases(label, rng)
        leaves = [v for c in cases for a in c.args for v in (a if isinstance(a, tuple) else (a,))]
        assert any(np.iscomplexobj(v) for v in leaves), label
        assert any(v.dtype in (np.float32, np.complex64) for v in leaves), label


# ----------------------------------------------------------------------------------------------
# The chapter states the registered exercises
# ----------------------------------------------------------------------------------------------
def test_chapter_notebook_exercises_match_the_registry():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    registered = {e.label: e for e in list_exercises(chapter="where_recurrence_went")}
    assert set(re.findall(r":label: ex-([\w-]+)", markdown)) == set(registered)
    for label, entry in registered.items():
        if entry.kind == "written":
            assert re.search(r"```\{solution\} ex-" + label + r"\n:class: dropdown", markdown)
    code = [c for c in nb.cells if c.cell_type == "code"]
    checks = {m.group(1): m.group(2) for c in code
              if (m := re.fullmatch(r'check\("([\w-]+)", (\w+)\)', c.source.strip()))}
    assert checks == {label: e.answer_name for label, e in registered.items() if e.kind == "code"}
    for index, cell in enumerate(code):
        match = re.fullmatch(r'check\("([\w-]+)", (\w+)\)', cell.source.strip())
        if match:
            solution = code[index - 1]
            assert f"def {match.group(2)}(" in solution.source
            assert solution.metadata["nbgrader"]["grade_id"] == match.group(1)
            assert "hide-input" in solution.metadata["tags"]
    for cell in code:                      # later cells use the library, not the answers
        if "nbgrader" in cell.metadata or cell.source.strip().startswith("check("):
            continue
        for name in checks.values():
            assert not re.search(rf"(?<![\.\w]){name}\(", cell.source), (name, cell.source[:80])
