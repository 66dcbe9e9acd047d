"""The autograder (rnnbook.grade) on small hostile submissions made here.

Each submission is a tiny notebook answering two cheap exercises of the chapter on the RNN's
equations (``rnn-n-params`` and ``rnn-step-forward``). They are graded together in one run of
the command line (so one broken submission must not stop the others); the infinite loops get
their own run with a 5 s limit. No chapter is executed here.
"""
from __future__ import annotations

import csv
import json

import pytest

from rnnbook import grade as grader
from rnnlib.exercises import get_exercise

N_PARAMS = get_exercise("rnn-n-params").points
STEP = get_exercise("rnn-step-forward").points

SETUP = "import numpy as np\nfrom rnnlib.exercises import check"
GOOD_N_PARAMS = ("def n_params(m, d, C):\n    \"\"\"Count.\"\"\"\n    ### BEGIN SOLUTION\n"
                 "    return m * m + m * d + C * m + m + C\n    ### END SOLUTION")
GOOD_STEP = ("def rnn_step_forward(params, x_t, h_prev):\n    ### BEGIN SOLUTION\n"
             "    W, U, b = params['W'], params['U'], params['b']\n"
             "    return np.tanh(b + h_prev @ W.T + x_t @ U.T)\n    ### END SOLUTION")
WRONG_STEP = GOOD_STEP.replace("h_prev @ W.T", "h_prev @ W")          # the transposed-W mistake
NO_BIASES = GOOD_N_PARAMS.replace(" + m + C", "")                      # forgot both biases
STUB_STEP = "def rnn_step_forward(params, x_t, h_prev):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
CHECK_N = 'check("rnn-n-params", n_params)'
CHECK_STEP = 'check("rnn-step-forward", rnn_step_forward)'


def _cell(source, grade_id=None):
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False,
                                     "grade_id": grade_id, "schema_version": 3}
    return cell


def _write(folder, name, cells):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Problem set")] + cells
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


SUBMISSIONS = {
    "correct": [_cell(SETUP), _cell(GOOD_N_PARAMS, "rnn-n-params"), _cell(CHECK_N),
                _cell(GOOD_STEP, "rnn-step-forward"), _cell(CHECK_STEP)],
    "wrong": [_cell(SETUP), _cell(NO_BIASES, "rnn-n-params"), _cell(CHECK_N),
              _cell(WRONG_STEP, "rnn-step-forward"), _cell(CHECK_STEP)],
    "stub": [_cell(SETUP), _cell(GOOD_N_PARAMS, "rnn-n-params"), _cell(CHECK_N),
             _cell(STUB_STEP, "rnn-step-forward"), _cell(CHECK_STEP)],
    "syntax_error": [_cell(SETUP), _cell("def n_params(m, d, C)\n    return 1", "rnn-n-params"),
                     _cell(CHECK_N), _cell(GOOD_STEP, "rnn-step-forward"), _cell(CHECK_STEP)],
    "exception": [_cell(SETUP), _cell(GOOD_N_PARAMS, "rnn-n-params"), _cell("1 / 0"),
                  _cell(CHECK_N), _cell("import missing_module_xyz"),
                  _cell(GOOD_STEP, "rnn-step-forward"), _cell(CHECK_STEP)],
    "deleted_cells": [_cell(SETUP), _cell(GOOD_STEP, "rnn-step-forward"), _cell(CHECK_STEP)],
    "reordered_cells": [_cell(SETUP), _cell(CHECK_STEP), _cell(GOOD_STEP, "rnn-step-forward"),
                        _cell(CHECK_N), _cell(GOOD_N_PARAMS, "rnn-n-params")],
    "renamed_function": [_cell(SETUP), _cell(GOOD_N_PARAMS.replace("n_params", "count_params"),
                                             "rnn-n-params"), _cell(CHECK_N),
                         _cell(GOOD_STEP, "rnn-step-forward"), _cell(CHECK_STEP)],
    "huge_output": [_cell(SETUP), _cell('print("x" * 5_000_000)'),
                    _cell("for i in range(20000):\n    print(i, 'spam' * 20)"),
                    _cell(GOOD_N_PARAMS, "rnn-n-params"), _cell(CHECK_N)],
    "library_answer": [_cell(SETUP), _cell(GOOD_N_PARAMS, "rnn-n-params"),
                       _cell("import rnnlib\nrnn_step_forward = rnnlib.rnn_step_forward",
                             "rnn-step-forward"), _cell(CHECK_STEP)],
    "later_import": [_cell(SETUP), _cell(GOOD_N_PARAMS, "rnn-n-params"),
                     _cell(WRONG_STEP, "rnn-step-forward"), _cell(CHECK_STEP),
                     _cell("from rnnlib import rnn_step_forward  # a later cell uses the library")],
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every submission above plus a file that is not JSON, through the command line."""
    folder = tmp_path_factory.mktemp("submissions")
    for name, cells in SUBMISSIONS.items():
        _write(folder, name, cells)
    (folder / "not_json.ipynb").write_text("{ this is not a notebook", encoding="utf-8")
    (folder / "json_not_notebook.ipynb").write_text('{"hello": 1}', encoding="utf-8")
    out = folder.parent / "report"
    assert grader.main([str(folder), "--chapter", "rnn_equations", "--timeout", "120",
                        "--check-timeout", "60", "--max-output", "20000", "--out", str(out)]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    rows = list(csv.DictReader(out.with_suffix(".csv").open(encoding="utf-8")))
    return {s["student"]: s for s in report["submissions"]}, rows, out


def _ex(submission, label):
    return next(e for e in submission["exercises"] if e["label"] == label)


def test_every_submission_is_in_the_report(graded):
    subs, rows, _ = graded
    assert set(subs) == set(SUBMISSIONS) | {"not_json", "json_not_notebook"}
    labels = {"rnn-n-params", "rnn-step-forward", "rnn-hidden-states", "rnn-shared-theta"}
    for name, sub in subs.items():
        assert {e["label"] for e in sub["exercises"]} == labels, name
    assert len(rows) == len(subs) * len(labels)
    assert set(rows[0]) == set(grader.CSV_FIELDS)


def test_correct_solution_scores_full_marks(graded):
    subs, rows, _ = graded
    sub = subs["correct"]
    assert sub["status"] == "graded" and sub["problems"] == []
    assert _ex(sub, "rnn-n-params")["status"] == "passed" and _ex(sub, "rnn-n-params")["points"] == N_PARAMS
    assert _ex(sub, "rnn-step-forward")["passed"] and _ex(sub, "rnn-step-forward")["points"] == STEP
    assert _ex(sub, "rnn-shared-theta")["status"] == "manual"      # written: graded by hand
    assert _ex(sub, "rnn-hidden-states")["status"] == "missing"    # not part of this submission
    csv_rows = {r["exercise"]: r for r in rows if r["student"] == "correct"}
    assert csv_rows["rnn-step-forward"]["passed"] == "True" and float(csv_rows["rnn-step-forward"]["points"]) == STEP


def test_typical_mistakes_get_the_checkers_feedback(graded):
    subs, rows, _ = graded
    sub = subs["wrong"]
    step, count = _ex(sub, "rnn-step-forward"), _ex(sub, "rnn-n-params")
    assert step["status"] == "failed" and step["points"] == 0 and "W transposed" in step["feedback"]
    assert count["status"] == "failed" and "both biases" in count["feedback"]
    csv_row = next(r for r in rows if r["student"] == "wrong" and r["exercise"] == "rnn-step-forward")
    assert "W transposed" in csv_row["feedback"]


def test_stub_is_not_attempted(graded):
    sub = graded[0]["stub"]
    assert _ex(sub, "rnn-step-forward")["status"] == "not attempted"
    assert _ex(sub, "rnn-n-params")["passed"]


def test_syntax_error_is_reported_and_the_rest_graded(graded):
    sub = graded[0]["syntax_error"]
    assert any("SyntaxError" in p for p in sub["problems"])
    assert _ex(sub, "rnn-n-params")["status"] == "missing" and _ex(sub, "rnn-n-params")["points"] == 0
    assert _ex(sub, "rnn-step-forward")["passed"]


def test_exceptions_are_reported_and_later_cells_still_run(graded):
    sub = graded[0]["exception"]
    problems = " ".join(sub["problems"])
    assert "ZeroDivisionError" in problems and "ModuleNotFoundError" in problems
    assert _ex(sub, "rnn-n-params")["passed"] and _ex(sub, "rnn-step-forward")["passed"]


def test_deleted_cells(graded):
    sub = graded[0]["deleted_cells"]
    missing = _ex(sub, "rnn-n-params")
    assert missing["status"] == "missing" and "n_params" in missing["feedback"]
    assert _ex(sub, "rnn-step-forward")["passed"]


def test_reordered_cells_are_graded_as_usual(graded):
    sub = graded[0]["reordered_cells"]
    assert _ex(sub, "rnn-n-params")["passed"] and _ex(sub, "rnn-step-forward")["passed"]
    assert any("NameError" in p for p in sub["problems"])   # the student's own early checks failed


def test_renamed_function_is_graded_with_a_note(graded):
    sub = graded[0]["renamed_function"]
    count = _ex(sub, "rnn-n-params")
    assert count["passed"] and "count_params" in count["feedback"] and "n_params" in count["feedback"]


def test_huge_output_is_cut(graded):
    subs, _, out = graded
    sub = subs["huge_output"]
    assert sum("output was cut" in p for p in sub["problems"]) == 2
    assert _ex(sub, "rnn-n-params")["passed"]
    assert out.with_suffix(".json").stat().st_size < 200_000


def test_file_that_is_not_a_notebook(graded):
    subs = graded[0]
    for name in ("not_json", "json_not_notebook"):
        sub = subs[name]
        assert sub["status"] == "not a notebook" and sub["points"] == 0
        assert "not a notebook" in sub["problems"][0]
        assert all(e["points"] == 0 for e in sub["exercises"])


def test_rnnlibs_own_function_scores_nothing(graded):
    subs = graded[0]
    library = _ex(subs["library_answer"], "rnn-step-forward")
    assert library["status"] == "failed" and "rnnlib's own implementation" in library["feedback"]
    # a later cell importing the library's function does not replace the student's answer
    later = _ex(subs["later_import"], "rnn-step-forward")
    assert later["status"] == "failed" and "W transposed" in later["feedback"]


def test_infinite_loops_time_out_and_the_rest_is_graded(tmp_path):
    loop_in_cell = _write(tmp_path, "loop_in_cell", [
        _cell(SETUP), _cell(GOOD_N_PARAMS, "rnn-n-params"), _cell("while True:\n    pass"),
        _cell(GOOD_STEP, "rnn-step-forward"), _cell(CHECK_STEP)])
    loop_in_answer = _write(tmp_path, "loop_in_answer", [
        _cell(SETUP), _cell("def n_params(m, d, C):\n    while True:\n        pass", "rnn-n-params"),
        _cell(GOOD_STEP, "rnn-step-forward")])
    reports = grader.grade([loop_in_cell, loop_in_answer], chapters=["rnn_equations"], timeout=5,
                           check_timeout=5)
    cell, answer = reports
    assert cell.status == "timed out"
    assert any("time limit" in p for p in cell.problems)
    grades = {e.label: e for e in cell.exercises}
    assert grades["rnn-n-params"].passed                      # defined before the loop
    assert grades["rnn-step-forward"].status == "missing"      # its cell never ran
    assert "timed out" in grades["rnn-step-forward"].feedback
    grades = {e.label: e for e in answer.exercises}
    assert answer.status == "graded"
    assert grades["rnn-n-params"].status == "timeout" and grades["rnn-n-params"].points == 0
    assert grades["rnn-step-forward"].passed


def test_find_submissions_and_bad_arguments(tmp_path):
    (tmp_path / "a").mkdir()
    _write(tmp_path / "a", "x", [_cell(SETUP)])
    (tmp_path / "a" / ".ipynb_checkpoints").mkdir()
    _write(tmp_path / "a" / ".ipynb_checkpoints", "x-checkpoint", [_cell(SETUP)])
    found = grader.find_submissions([tmp_path / "a", tmp_path / "a" / "x.ipynb"])
    assert [p.name for p in found] == ["x.ipynb"]
    with pytest.raises(ValueError, match="no exercises registered"):
        grader.assignment_exercises(["no_such_chapter"])
    with pytest.raises(SystemExit):
        grader.main([str(tmp_path / "does_not_exist"), "--out", str(tmp_path / "r")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit):
        grader.main([str(tmp_path / "empty"), "--out", str(tmp_path / "r")])
    assert not (tmp_path / "r.csv").exists()
    # without --chapter, the chapters the submissions mention
    nb, _ = grader.read_notebook(_write(tmp_path, "y", [_cell(CHECK_N)]))
    assert {e.chapter for e in grader.assignment_exercises(None, [nb])} == {"rnn_equations"}
