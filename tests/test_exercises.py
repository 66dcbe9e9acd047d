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
class DemoAdd(ex.Checker):
    """answer(a, b) must return a + b; one fixed case and one random one."""

    def cases(self, rng):
        return [ex.Case("a=1.0, b=2.0", (1.0, 2.0)), ex.Case("a=3.0, b=-4.0", (3.0, -4.0)),
                ex.Case("random", (float(rng.normal()), float(rng.normal())))]

    def judge(self, case, observed):
        a, b = case.args
        result = observed["returned"]
        if isinstance(result, float) and np.isclose(result, a - b):
            raise Mistake("you subtracted b instead of adding it")
        compare(ex.as_array(result, "your sum", case.context), np.asarray(a + b), name="your sum",
                context=case.context)


@pytest.fixture
def demo():
    """Register 'demo-add' (answer(a, b) must return a + b as a float array) for one test."""
    exercise("demo-add", chapter="demo", points=2, title="Add two numbers", answer_name="add")(DemoAdd)
    yield "demo-add"
    for label in ("demo-add", "demo-written", "demo-fn"):
        ex._REGISTRY.pop(label, None)


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
    class Buggy(ex.Checker):
        def cases(self, rng):
            return [ex.Case("x", ())]

        def judge(self, case, observed):
            return 1 / 0

    exercise("demo-buggy", chapter="demo", points=1, title="buggy")(Buggy)
    try:
        result = check("demo-buggy", lambda: 0, quiet=True)
        assert result.status == "error" and "ZeroDivisionError" in result.feedback
    finally:
        ex._REGISTRY.pop("demo-buggy")


def test_register_takes_the_functions_and_value_answers(demo):
    def cases(rng):
        return [ex.Case("the answer", ())]

    def judge(case, observed):
        if observed["returned"] != "ok":
            raise Mistake("be nicer" if observed["returned"] == "rude" else "no")

    register("demo-fn", chapter="demo", points=1, title="strings", cases=cases, judge=judge,
             answer_kind="value", references=("rnnlib.demo.fn",))
    assert check("demo-fn", "ok", quiet=True).passed
    assert check("demo-fn", "rude", quiet=True).feedback == "be nicer"
    assert check("demo-fn", "other", quiet=True).status == "failed"
    entry = ex.get_exercise("demo-fn")
    assert entry.answer_kind == "value" and entry.references == ("rnnlib.demo.fn",)
    with pytest.raises(TypeError, match="Checker class"):
        exercise("demo-x", chapter="demo", title="t")(42)


def test_partial_points_are_clamped(demo):
    class Partial(ex.Checker):
        def cases(self, rng):
            return [ex.Case("x", ())]

        def judge(self, case, observed):
            raise Mistake("half right", partial=observed["returned"])

    exercise("demo-partial", chapter="demo", points=3, title="partial")(Partial)
    try:
        result = check("demo-partial", lambda: 1.5, quiet=True)
        assert result.points == 1.5 and not result.passed
        assert check("demo-partial", lambda: 3000, quiet=True).points == 3
        assert check("demo-partial", lambda: -5, quiet=True).points == 0
        assert check("demo-partial", lambda: float("nan"), quiet=True).points == 0
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

    class Elsewhere(DemoAdd):
        pass

    Elsewhere.__module__ = "some_other_chapter"
    with pytest.raises(ValueError, match="already registered"):
        register("demo-add", chapter="demo", title="t", checker=Elsewhere)
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
    compare(expected.astype(np.float32), expected)            # the dtype rule: not graded
    with pytest.raises(Mistake, match="dtype float32"):
        compare(expected.astype(np.float32), expected, check_dtype=True)
    with pytest.raises(Mistake, match="NaN"):
        compare(np.full((2, 3), np.nan), expected)
    wrong = expected.copy()
    wrong[1, 2] += 0.5
    with pytest.raises(Mistake, match=r"index \(1, 2\) \(yours 5.5, expected 5\)"):
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


# ----------------------------------------------------------------------------------------------
# Checkers of the chapter "The RNN's equations and parameters"
# ----------------------------------------------------------------------------------------------
def stub(*args):
    raise NotImplementedError()


def test_chapter_exercises_are_registered():
    labels = {e.label: e for e in list_exercises(chapter="rnn_equations")}
    assert set(labels) == {"rnn-step-forward", "rnn-n-params", "rnn-hidden-states", "rnn-shared-theta",
                           "rnn-perplexity"}
    assert labels["rnn-shared-theta"].kind == "written"
    assert labels["rnn-step-forward"].answer_name == "rnn_step_forward"
    with pytest.raises(UnknownExercise, match="rnn-step-forward"):
        check("rnn-step-foward", stub)


def step_right(params, x_t, h_prev):
    W, U, b = params["W"], params["U"], params["b"]
    return np.tanh(b + h_prev @ W.T + x_t @ U.T)


def test_step_forward_correct_answers_pass():
    assert check("rnn-step-forward", step_right, quiet=True).passed
    # returning (h_t, cache) like rnnlib does is fine, and so is the library itself
    assert check("rnn-step-forward", lambda p, x, h: (step_right(p, x, h), {"x": x}), quiet=True).passed
    import rnnlib
    assert check("rnn-step-forward", rnnlib.rnn_step_forward, quiet=True).passed
    # column-vector style with explicit transposes is the same maths
    def columns(params, x_t, h_prev):
        W, U, b = params["W"], params["U"], params["b"]
        return np.tanh(b[:, None] + W @ h_prev.T + U @ x_t.T).T
    assert check("rnn-step-forward", columns, quiet=True).passed


STEP_MISTAKES = [
    ("transposed W", lambda p, x, h: np.tanh(p["b"] + h @ p["W"] + x @ p["U"].T), "W transposed"),
    ("missing bias", lambda p, x, h: np.tanh(h @ p["W"].T + x @ p["U"].T), "bias b is missing"),
    ("relu", lambda p, x, h: np.maximum(p["b"] + h @ p["W"].T + x @ p["U"].T, 0), "ReLU"),
    ("sigmoid", lambda p, x, h: 1 / (1 + np.exp(-(p["b"] + h @ p["W"].T + x @ p["U"].T))), "sigmoid"),
    ("identity", lambda p, x, h: p["b"] + h @ p["W"].T + x @ p["U"].T, "pre-activation"),
    ("swapped U and W", lambda p, x, h: np.tanh(p["b"] + h @ p["U"].T + x @ p["W"].T), "swapped U and W"),
    ("no recurrence", lambda p, x, h: np.tanh(p["b"] + x @ p["U"].T), "does not depend on h_prev"),
    ("no input", lambda p, x, h: np.tanh(p["b"] + h @ p["W"].T), "does not depend on x_t"),
]


@pytest.mark.parametrize("name, answer, feedback", STEP_MISTAKES, ids=[m[0] for m in STEP_MISTAKES])
def test_step_forward_mistakes_get_specific_feedback(name, answer, feedback):
    result = check("rnn-step-forward", answer, quiet=True)
    assert result.status == "failed" and result.points == 0
    assert feedback in result.feedback
    # the feedback names only the mistake made (one line for one mistake)
    assert result.feedback.count("\n- ") == 1


def test_step_forward_two_mistakes_are_both_named():
    result = check("rnn-step-forward", lambda p, x, h: np.maximum(h @ p["W"] + x @ p["U"].T, 0), quiet=True)
    assert "W transposed" in result.feedback and "bias b is missing" in result.feedback and "ReLU" in result.feedback


def test_step_forward_shape_dtype_and_in_place_mistakes():
    squeezed = check("rnn-step-forward", lambda p, x, h: step_right(p, x, h).squeeze(), quiet=True)
    assert "B=1" in squeezed.feedback and "batch dimension" in squeezed.feedback
    transposed = check("rnn-step-forward", lambda p, x, h: step_right(p, x, h).T, quiet=True)
    assert "transposed" in transposed.feedback
    # the dtype rule: a float64 answer for float32 inputs passes (and a float32 one for float64)
    assert check("rnn-step-forward", lambda p, x, h: step_right(p, x, h).astype(np.float64), quiet=True).passed
    assert check("rnn-step-forward", lambda p, x, h: step_right(p, x, h).astype(np.float32), quiet=True).passed

    def in_place(params, x_t, h_prev):
        a = params["b"]
        a += h_prev[0] @ params["W"].T * 0
        h_prev *= 1.0
        h_prev += 1
        return step_right(params, x_t, h_prev - 1)
    assert "in place" in check("rnn-step-forward", in_place, quiet=True).feedback
    assert "None" in check("rnn-step-forward", lambda p, x, h: None, quiet=True).feedback


def test_step_forward_stub_and_errors():
    assert check("rnn-step-forward", stub, quiet=True).status == "not attempted"

    def only_square(params, x_t, h_prev):                            # right, but fails when d != m
        W, U = params["W"], params["U"]
        return np.tanh(params["b"] + h_prev @ W.T + x_t.reshape(h_prev.shape) @ U.T)
    result = check("rnn-step-forward", only_square, quiet=True)
    assert result.status == "failed" and "your function raised ValueError" in result.feedback
    assert "B=2, d=3, m=5" in result.feedback
    assert check("rnn-step-forward", "tanh(b + W h + U x)", quiet=True).status == "failed"


def test_n_params_correct_and_library_agree():
    import rnnlib
    from rnnlib.exercises.rnn_equations import N_PARAMS_CASES

    def right(m, d, C):
        return m * m + m * d + C * m + m + C
    assert check("rnn-n-params", right, quiet=True).passed
    assert check("rnn-n-params", lambda m, d, C: float(right(m, d, C)), quiet=True).passed
    assert check("rnn-n-params", lambda m, d, C: np.int64(right(m, d, C)), quiet=True).passed
    for m, d, C in N_PARAMS_CASES:      # independent reference: count the arrays init_rnn makes
        assert right(m, d, C) == sum(p.size for p in rnnlib.init_rnn(d, m, C).values())


N_PARAMS_MISTAKES = [
    ("no biases", lambda m, d, C: m * m + m * d + C * m, "both biases"),
    ("no b", lambda m, d, C: m * m + m * d + C * m + C, "bias b"),
    ("no c", lambda m, d, C: m * m + m * d + C * m + m, "output bias c"),
    ("no V or c", lambda m, d, C: m * m + m * d + m, "output layer"),
    ("no V", lambda m, d, C: m * m + m * d + m + C, "forgot V"),
    ("W as m*d", lambda m, d, C: m * d + m * d + C * m + m + C, "W as m*d"),
    ("U as d*d", lambda m, d, C: m * m + d * d + C * m + m + C, "U as d*d"),
    ("h0 counted", lambda m, d, C: m * m + m * d + C * m + 2 * m + C, "initial state"),
    ("per time step", lambda m, d, C: 10 * (m * m + m * d + C * m + m + C), "once per time step"),
    ("added shapes", lambda m, d, C: 2 * m + m + d + C + m + m + C, "instead of multiplying"),
]


@pytest.mark.parametrize("name, answer, feedback", N_PARAMS_MISTAKES, ids=[m[0] for m in N_PARAMS_MISTAKES])
def test_n_params_mistakes_get_specific_feedback(name, answer, feedback):
    result = check("rnn-n-params", answer, quiet=True)
    assert result.status == "failed" and feedback in result.feedback


def test_n_params_signature_type_and_stub():
    def with_T(m, d, C, T):
        return T * (m * m + m * d + C * m + m + C)
    assert "does not depend on the number of time steps" in check("rnn-n-params", with_T, quiet=True).feedback
    assert "three arguments" in check("rnn-n-params", lambda m, d: m, quiet=True).feedback
    assert "whole number" in check("rnn-n-params", lambda m, d, C: m + 0.5, quiet=True).feedback
    assert "should return a number" in check("rnn-n-params", lambda m, d, C: "many", quiet=True).feedback
    assert "expected 130" in check("rnn-n-params", lambda m, d, C: 1, quiet=True).feedback
    assert check("rnn-n-params", stub, quiet=True).status == "not attempted"


def hidden_right(params, x, h0):
    h = [h0]
    for t in range(x.shape[0]):
        h.append(np.tanh(params["b"] + h[-1] @ params["W"].T + x[t] @ params["U"].T))
    return np.stack(h)


def test_hidden_states_correct_answers_pass():
    import rnnlib
    assert check("rnn-hidden-states", hidden_right, quiet=True).passed
    assert check("rnn-hidden-states", lambda p, x, h0: list(hidden_right(p, x, h0)), quiet=True).passed
    assert check("rnn-hidden-states", lambda p, x, h0: rnnlib.rnn_forward(p, x, h0).h, quiet=True).passed


def _from_h0(params, x, h0):
    return np.stack([h0] + [np.tanh(params["b"] + h0 @ params["W"].T + x[t] @ params["U"].T)
                            for t in range(x.shape[0])])


HIDDEN_MISTAKES = [
    ("no h0", lambda p, x, h0: hidden_right(p, x, h0)[1:], "T entries, not T+1"),
    ("last only", lambda p, x, h0: hidden_right(p, x, h0)[-1], "only the last hidden state"),
    ("batch-major", lambda p, x, h0: hidden_right(p, x, h0).transpose(1, 0, 2), "batch-major"),
    ("h[0] zeros", lambda p, x, h0: np.concatenate([np.zeros_like(h0)[None], hidden_right(p, x, h0)[1:]]),
     "h[0] must be h0"),
    ("from h0 every step", _from_h0, "starts each step from h0"),
    ("zeros start", lambda p, x, h0: hidden_right(p, x, np.zeros_like(h0)), "zeros instead of the given h0"),
]


@pytest.mark.parametrize("name, answer, feedback", HIDDEN_MISTAKES, ids=[m[0] for m in HIDDEN_MISTAKES])
def test_hidden_states_mistakes_get_specific_feedback(name, answer, feedback):
    result = check("rnn-hidden-states", answer, quiet=True)
    assert result.status == "failed" and feedback in result.feedback


def test_hidden_states_stub_and_errors():
    assert check("rnn-hidden-states", stub, quiet=True).status == "not attempted"

    def off_by_one(params, x, h0):
        h = [h0]
        for t in range(1, x.shape[0] + 1):
            h.append(np.tanh(params["b"] + h[-1] @ params["W"].T + x[t] @ params["U"].T))
        return np.stack(h)
    result = check("rnn-hidden-states", off_by_one, quiet=True)
    assert "your function raised IndexError" in result.feedback and "T=5" in result.feedback


def test_result_is_not_shown_twice_in_a_notebook(demo, capsys):
    result = check(demo, lambda a, b: a + b)
    assert capsys.readouterr().out.count("Correct") == 1
    result._ipython_display_()               # IPython displays the cell's value right after
    assert capsys.readouterr().out == ""
    result._ipython_display_()               # displayed again later: shown
    assert "Correct" in capsys.readouterr().out
    quiet = check(demo, lambda a, b: a + b, quiet=True)
    quiet._ipython_display_()
    assert "Correct" in capsys.readouterr().out
    assert "_echoed" not in quiet.as_dict()


# ----------------------------------------------------------------------------------------------
# The chapter notebook and the registry agree
# ----------------------------------------------------------------------------------------------
def test_chapter_notebook_exercises_match_the_registry():
    import re
    from pathlib import Path

    import nbformat

    path = Path(__file__).resolve().parents[1] / "book" / "rnn_equations.ipynb"
    nb = nbformat.read(path, as_version=4)
    sources = [(cell.cell_type, cell.source, cell.metadata) for cell in nb.cells]
    directive_labels = set(re.findall(r":label: ex-([\w-]+)", "\n".join(s for t, s, _ in sources if t == "markdown")))
    registered = {e.label: e for e in list_exercises(chapter="rnn_equations")}
    assert directive_labels == set(registered)
    written = {label for label, e in registered.items() if e.kind == "written"}
    for label in written:     # a written exercise has its solution in a dropdown
        assert re.search(r"```\{solution\} ex-" + label + r"\n:class: dropdown", "\n".join(s for _, s, _ in sources))
    code_cells = [(s, m) for t, s, m in sources if t == "code"]
    checked = [re.fullmatch(r'check\("([\w-]+)", (\w+)\)', s.strip()) for s, _ in code_cells]
    checked = {m.group(1): m.group(2) for m in checked if m}
    assert set(checked) == set(registered) - written
    for label, answer_name in checked.items():
        assert registered[label].answer_name == answer_name
        index = next(i for i, (s, _) in enumerate(code_cells) if s.strip().startswith(f'check("{label}"'))
        source, metadata = code_cells[index - 1]       # the solution cell comes right before
        assert f"def {answer_name}(" in source
        assert "### BEGIN SOLUTION" in source and "### END SOLUTION" in source
        assert metadata["nbgrader"] == {"solution": True, "grade": False, "locked": False,
                                        "grade_id": label, "schema_version": 3}
        assert "hide-input" in metadata["tags"]
    # no other cell uses a student's function: later cells use the library's reference
    for source, metadata in code_cells:
        if "nbgrader" in metadata or source.strip().startswith("check("):
            continue
        for answer_name in checked.values():
            assert not re.search(rf"(?<![\.\w]){answer_name}\(", source), (answer_name, source[:80])


def test_the_dtype_rule_is_one_sentence_in_the_module_docstring():
    docstring = " ".join(ex.__doc__.split())
    assert ex.DTYPE_RULE.count(". ") == 0 and ex.DTYPE_RULE.endswith(".")
    assert f'DTYPE_RULE = "{ex.DTYPE_RULE}"' in docstring
