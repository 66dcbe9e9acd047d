"""The student's path in a real JupyterLab with a real kernel, in headless Chromium.

JupyterLab is started from this environment on 127.0.0.1 (a free port, a random token, its
own temporary config, settings, runtime and workspace folders) with the configuration Binder
gives students (postBuild: nbgrader disabled), over a temporary copy of the committed student
edition (student/: what the launch buttons open). Then, as a student would:

* open the student editions of "Recurrence and unfolding" and "Exploding and vanishing
  gradients", run all cells with JupyterLab's own command, wait for the kernel: no cell shows an
  error, the browser console shows no error of ours (plotly, widgets, anywidget, rnnlib);
* no nbgrader interface (its plugins are not loaded, its formgrader page does not exist);
* move every control of both live widgets (each slider by its keyboard step, each dropdown to
  its next option, each number field up by one): the figure's data (read from the plotly div)
  changes every time. Each control-to-redraw time (from the browser event to the figure's last
  ``plotly_afterplot``) and each slider track's width are printed and saved to
  artifacts/jupyterlab_widgets.json; the tracks must be at least 150 px wide, the times are
  not asserted (benchmarks/bench_widget_redraw.py measures them);
* do one exercise wrong and then right: edit the solution cell through the notebook model, run
  it and its check cell, and read the feedback.

The server, its kernels and the browser are stopped at the end. About 2-3 minutes.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from browser import missing_browser, start_chromium
from conftest import ROOT
from lab_driver import Lab, start_lab

CHAPTERS = ("recurrence", "exploding_vanishing")
MIN_TRACK_PX = 150
#: console messages that would be ours: the widgets, plotly, anywidget, the kernel's comms
OURS = re.compile(r"plotly|anywidget|widget|rnnlib|comm|Uncaught", re.I)
ARTIFACT = ROOT / "artifacts" / "jupyterlab_widgets.json"

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    reason = missing_browser()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("lab-root")
    shutil.copytree(ROOT / "student", root / "student")      # never touch the committed files
    with start_lab(root) as (base, token, home), start_chromium() as driver:
        yield Lab(driver, base, token)


@pytest.fixture(scope="module")
def results():
    found = {}
    yield found
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n")
    print(f"\nwidget measurements in {ARTIFACT}")


def _errors(cells):
    return [(c["index"], o["ename"], (o["evalue"] or "")[:200]) for c in cells for o in c["outputs"]
            if o["output_type"] == "error"]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_runs_the_chapter_and_moves_every_control(lab, results, chapter):
    lab.open(f"student/{chapter}.ipynb")
    cells, seconds = lab.run_all()
    code = [c for c in cells if c["type"] == "code"]
    assert code and all(c["execution_count"] is not None for c in code), "run all did not reach the end"
    assert not _errors(cells), f"{chapter}: cells with errors: {_errors(cells)}"
    figures = lab.figures()
    assert len(figures) == 1 and figures[0]["has_plot"], f"{chapter}: live figure not drawn: {figures}"
    report = {"run_all_seconds": round(seconds, 1), "controls": []}
    narrow, dead = [], []
    # a control that chooses the model goes last: the controls marked "(RNN)" act on the RNN only
    for control in sorted(figures[0]["controls"], key=lambda c: c["label"] == "cell"):
        before = lab.figure_data(0)
        ms = lab.move(0, control["index"], control["kind"])
        after = lab.figure_data(0)
        row = {"control": control["label"], "kind": control["kind"],
               "redraw_ms": None if ms is None else round(ms), "track_px": control["track_px"]}
        report["controls"].append(row)
        if before == after or ms is None:
            dead.append(control["label"])
        if control["kind"] == "slider" and not (control["track_px"] or 0) >= MIN_TRACK_PX:
            narrow.append((control["label"], control["track_px"]))
    results[chapter] = report
    print(f"\n{chapter}: run all {seconds:.1f} s")
    for row in report["controls"]:
        track = f", track {row['track_px']:.0f} px" if row["track_px"] else ""
        print(f"  {row['control']:24s} {row['kind']:8s} control-to-redraw {row['redraw_ms']} ms{track}")
    assert not dead, f"{chapter}: moving these controls did not change the figure: {dead}"
    assert not narrow, f"{chapter}: slider tracks narrower than {MIN_TRACK_PX} px: {narrow}"
    errors = [e["message"][:300] for e in lab.console_errors()]
    ours = [m for m in errors if OURS.search(m)]
    if errors:
        print(f"  console errors (not ours): {[m for m in errors if m not in ours]}")
    assert not ours, f"{chapter}: console errors: {ours}"


def test_students_see_no_nbgrader(lab):
    lab.open("student/recurrence.ipynb")
    plugins = lab.driver.execute_script("return window.jupyterapp.listPlugins()")
    assert any(p.startswith("@jupyter-widgets/") for p in plugins)     # a real plugin list
    assert not [p for p in plugins if "nbgrader" in p], "nbgrader's JupyterLab plugins are loaded"
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{lab.base}/formgrader?token={lab.token}", timeout=20)
    assert error.value.code == 404


WRONG = '''def steps_to_forget(rho, eps):
    """Smallest t with rho**t <= eps (math.inf when rho >= 1)."""
    if rho >= 1:
        return math.inf
    return math.floor(math.log(eps) / math.log(rho))
'''
RIGHT = WRONG.replace("math.floor", "math.ceil")


def _text(outputs):
    return "".join("".join(o.get("text", "")) if o.get("output_type") == "stream"
                   else "".join((o.get("data") or {}).get("text/plain", "")) for o in outputs)


def test_an_exercise_wrong_then_right(lab):
    lab.open("student/recurrence.ipynb")
    cells, _ = lab.run_all()
    [solution] = [c["index"] for c in cells if c["type"] == "code" and "def steps_to_forget" in c["source"]]
    check = solution + 1
    assert 'check("recurrence-forget-steps"' in cells[check]["source"]
    assert "NotImplementedError" in cells[solution]["source"] or "YOUR CODE HERE" in cells[solution]["source"]
    assert "Not attempted yet" in _text(cells[check]["outputs"]) if cells[check]["outputs"] else True
    lab.run_cell(solution, WRONG)
    feedback = _text(lab.run_cell(check))
    print(f"\nwrong answer -> {feedback.strip()[:200]}")
    assert "Not yet" in feedback and "one step short" in feedback and "Round up" in feedback, feedback
    lab.run_cell(solution, RIGHT)
    feedback = _text(lab.run_cell(check))
    print(f"right answer -> {feedback.strip()[:200]}")
    assert "Correct" in feedback and "Not yet" not in feedback, feedback
