"""Tests of the exercise framework (rnnlib.exercises) and of the checkers of the chapter
"The RNN's equations and parameters" (rnnlib.exercises.rnn_equations)."""
import json

import numpy as np
import pytest

import rnnlib.exercises as ex
from rnnlib.exercises import (
    Mistake,
    Result,
    UnknownExercise,
    call,
    check,
    compare,
    exercise,
    first_match,
    list_exercises,
    register,
)


# ----------------------------------------------------------------------------------------------
# The framework, on a small demo exercise registered by the tests
# ----------------------------------------------------------------------------------------------
@pytest.fixture
def demo():
    """Register 'demo-add' (answer(a, b) must return a + b as a float array) for one test."""

    @exercise("demo-add", chapter="demo", points=2, title="Add two numbers", answer_name="add")
    def _check_add(answer):
        for a, b in [(1.0, 2.0), (3.0, -4.0)]:
            result = call(answer, a, b, context=f"a={a}, b={b}")
            if np.isscalar(result) and np.isclose(result, a - b):
                raise Mistake("you subtracted b instead of adding it")
            compare(np.asarray(result, dtype=float), np.asarray(a + b), name="your sum", context=f"a={a}, b={b}")

    yield "demo-add"
    ex._REGISTRY.pop("demo-add", None)
    ex._REGISTRY.pop("demo-written", None)


def test_correct_answer_passes_with_full_points(demo, capsys):
    result = check(demo, lambda a, b: a + b)
    assert isinstance(result, Result)
    assert result.passed and result.status == "passed"
    assert result.points == result.max_points == 2
    assert "Correct" in capsys.readouterr().out


def test_known_mistake_gets_its_feedback(demo, capsys):
    result = check(demo, lambda a, b: a - b)
    assert not result.passed and result.status == "failed" and result.points == 0
    assert "subtracted" in result.feedback
    assert "subtracted" in capsys.readouterr().out


def test_not_implemented_is_not_attempted(demo):
    def stub(a, b):
        raise NotImplementedError()

    for answer in (stub, None, ...):
        result = check(demo, answer, quiet=True)
        assert result.status == "not attempted" and not result.passed
    assert "not attempted yet" in str(check(demo, stub, quiet=True)).lower()


def test_answer_raising_gets_a_message_not_a_crash(demo):
    def broken(a, b):
        return {}["missing"]

    result = check(demo, broken, quiet=True)
    assert result.status == "failed"
    assert "your function raised KeyError" in result.feedback
    assert "a=1.0, b=2.0" in result.feedback
    assert "broken" not in result.feedback or "line" in result.feedback


def test_wrong_type_and_wrong_shape_are_explained(demo):
    assert "expected a function" in check(demo, 42, quiet=True).feedback
    result = check(demo, lambda a, b: np.zeros(3), quiet=True)
    assert result.status == "failed" and "shape (3,)" in result.feedback


def test_unknown_label_lists_known_labels(demo):
    with pytest.raises(KeyError) as info:
        check("no-such-exercise", lambda: None)
    assert isinstance(info.value, UnknownExercise)
    message = str(info.value)
    assert "no-such-exercise" in message and "demo-add" in message


def test_checker_bug_is_reported_as_error_not_raised(demo):
    @exercise("demo-buggy", chapter="demo", points=1, title="buggy")
    def _buggy(answer):
        return 1 / 0

    try:
        result = check("demo-buggy", lambda: 0, quiet=True)
        assert result.status == "error" and "ZeroDivisionError" in result.feedback
    finally:
        ex._REGISTRY.pop("demo-buggy")


def test_checker_may_return_feedback_string_or_false(demo):
    @exercise("demo-strings", chapter="demo", points=1, title="strings")
    def _strings(answer):
        return None if answer == "ok" else ("be nicer" if answer == "rude" else False)

    try:
        assert check("demo-strings", "ok", quiet=True).passed
        assert check("demo-strings", "rude", quiet=True).feedback == "be nicer"
        assert check("demo-strings", "other", quiet=True).status == "failed"
    finally:
        ex._REGISTRY.pop("demo-strings")


def test_partial_points(demo):
    @exercise("demo-partial", chapter="demo", points=3, title="partial")
    def _partial(answer):
        raise Mistake("half right", partial=1.5)

    try:
        result = check("demo-partial", 0, quiet=True)
        assert result.points == 1.5 and not result.passed
    finally:
        ex._REGISTRY.pop("demo-partial")


def test_registry_and_index(demo):
    labels = [e.label for e in list_exercises()]
    assert "demo-add" in labels
    entry = ex.get_exercise("demo-add")
    assert (entry.chapter, entry.kind, entry.points, entry.answer_name) == ("demo", "code", 2, "add")
    assert [e.label for e in list_exercises(chapter="demo")] == ["demo-add"]
    register("demo-written", chapter="demo", points=1, title="Explain", kind="written")
    assert [e.label for e in list_exercises(chapter="demo", kind="written")] == ["demo-written"]
    with pytest.raises(ValueError, match="written"):
        check("demo-written", "my essay")
    table = ex.exercise_table(chapter="demo")
    assert "demo-add" in table and "demo-written" in table
    assert ex.load_errors() == {}


def test_register_rejects_bad_arguments(demo):
    with pytest.raises(ValueError, match="label"):
        register("has space", chapter="demo", title="t", checker=lambda a: None)
    with pytest.raises(ValueError, match="kind"):
        register("demo-x", chapter="demo", title="t", kind="essay", checker=lambda a: None)
    with pytest.raises(ValueError, match="points"):
        register("demo-x", chapter="demo", title="t", points=-1, checker=lambda a: None)
    with pytest.raises(TypeError, match="checker"):
        register("demo-x", chapter="demo", title="t", kind="code", checker=None)
    def elsewhere(answer):
        return None

    elsewhere.__module__ = "some_other_chapter"
    with pytest.raises(ValueError, match="already registered"):
        register("demo-add", chapter="demo", title="t", checker=elsewhere)
    assert "demo-x" not in ex._REGISTRY


def test_log_file_gets_one_json_line_per_check(demo, tmp_path, monkeypatch):
    log = tmp_path / "results.jsonl"
    monkeypatch.setenv(ex.LOG_ENV_VAR, str(log))
    check(demo, lambda a, b: a + b, quiet=True)
    check(demo, lambda a, b: a - b, quiet=True)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["passed"] for r in records] == [True, False]
    assert records[1]["label"] == "demo-add" and "subtracted" in records[1]["feedback"]


def test_compare_describes_the_difference():
    expected = np.arange(6.0).reshape(2, 3)
    compare(expected.copy(), expected)
    with pytest.raises(Mistake, match="transposed"):
        compare(expected.T, expected)
    with pytest.raises(Mistake, match="batch dimension"):
        compare(np.zeros(3), np.zeros((1, 3)))
    with pytest.raises(Mistake, match="dtype float32"):
        compare(expected.astype(np.float32), expected)
    with pytest.raises(Mistake, match="NaN"):
        compare(np.full((2, 3), np.nan), expected)
    wrong = expected.copy()
    wrong[1, 2] += 0.5
    with pytest.raises(Mistake, match=r"index \(1, 2\)"):
        compare(wrong, expected)
    with pytest.raises(Mistake, match="NumPy array"):
        compare(None, expected)


def test_first_match_and_call():
    a = np.ones(3)
    variants = [("twice", lambda: 2 * a), ("impossible", lambda: np.ones((2, 2)) @ np.ones(3)),
                ("negated", -a)]
    assert first_match(-a, variants) == "negated"
    assert first_match(2 * a, variants) == "twice"
    assert first_match(3 * a, variants) is None
    with pytest.raises(ex.AnswerRaised):
        call(lambda: [][1])
    with pytest.raises(ex.NotAttempted):
        call(lambda: (_ for _ in ()).throw(NotImplementedError()))
    with pytest.raises(Mistake, match="expected a function"):
        call("not a function")
