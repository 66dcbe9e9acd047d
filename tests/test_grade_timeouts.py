"""Hangs: a notebook or an answer that runs forever, even one that ignores SIGALRM or swallows
every exception, loses only what it blocks; the rest of the submission is graded.

One grading run with short limits (30 s for the cells, 4 s per exercise). The runner stops a
cell or an answer with SIGALRM; when that does not work the supervisor kills the sandbox's PID
namespace and starts a fresh sandbox for what is left.
"""
from __future__ import annotations

import json

import pytest

from grading_kit import GOOD, bwrap_or_skip, sandbox_processes, submission, write
from rnnbook import grade as grader

STEP = "rnn-step-forward"
IGNORE_ALARM = "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"


def _answers(step):
    return dict(GOOD, **{STEP: step})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    bwrap_or_skip()
    root = tmp_path_factory.mktemp("hangs")
    kinds = {
        "h01_cell_loop": submission(GOOD, before={STEP: ["while True:\n    pass"]}),
        "h02_cell_ignores_alarm": submission(GOOD, before={STEP: [IGNORE_ALARM + "while True:\n    pass"]}),
        "h03_answer_ignores_alarm": submission(_answers(
            "def rnn_step_forward(params, x_t, h_prev):\n"
            "    import signal\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
            "    while True:\n        pass")),
        "h04_answer_swallows": submission(_answers(
            "import time\n"
            "def rnn_step_forward(params, x_t, h_prev):\n"
            "    while True:\n"
            "        try:\n"
            "            time.sleep(10)\n"
            "        except BaseException:\n"
            "            pass")),
        "h05_correct": submission(GOOD),
    }
    for name, nb in kinds.items():
        write(root / "submissions", name, nb)
    work = root / "work"
    work.mkdir()
    out = root / "report"
    assert grader.main([str(root / "submissions"), "--out", str(out), "--jobs", "2",
                        "--timeout", "30", "--check-timeout", "4", "--workdir", str(work)]) == 0
    report = json.loads((root / "report.json").read_text())
    return {s["student"].removesuffix(".ipynb"): s for s in report["submissions"]}, work


def _ex(sub, label):
    return next(e for e in sub["exercises"] if e["label"] == label)


@pytest.mark.parametrize("name", ["h01_cell_loop", "h02_cell_ignores_alarm"])
def test_a_cell_that_hangs_stops_the_notebook_there(graded, name):
    sub = graded[0][name]
    assert sub["status"] == "timed out"
    assert any("time limit" in p for p in sub["problems"])
    assert _ex(sub, "rnn-n-params")["passed"]                       # defined before the loop
    missing = _ex(sub, STEP)
    assert missing["status"] == "missing" and "timed out" in missing["feedback"]


@pytest.mark.parametrize("name", ["h03_answer_ignores_alarm", "h04_answer_swallows"])
def test_an_answer_that_hangs_loses_only_its_exercise(graded, name):
    sub = graded[0][name]
    step = _ex(sub, STEP)
    assert step["status"] == "timeout" and step["points"] == 0
    assert _ex(sub, "rnn-n-params")["passed"] and _ex(sub, "rnn-hidden-states")["passed"]


def test_the_others_are_graded_and_nothing_is_left(graded):
    subs, work = graded
    assert subs["h05_correct"]["points"] == 5
    assert sandbox_processes() == []
    assert list(work.iterdir()) == []
