"""The student edition (rnnbook.assign): stubs, removed written solutions, every chapter runs.

The end-to-end test writes the student edition of each chapter and executes it once in a fresh
kernel (one BLAS thread): it must run to its last cell, and every code exercise's check must
say "not attempted yet". nbgrader's generate_assignment must accept the master notebooks.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, book_notebooks
from rnnbook.assign import (
    SolutionMarkerError,
    main,
    remove_written_solutions,
    student_notebook,
    stub_solution,
    write_student_edition,
)
from rnnbook.exercise_index import cell_source, scan_notebook
from rnnlib.exercises import get_exercise

NOTEBOOKS = book_notebooks()
IDS = [p.stem for p in NOTEBOOKS]

SOLUTION = '''def f(x):
    """Docstring stays."""
    ### BEGIN SOLUTION
    y = x + 1
    return y
    ### END SOLUTION'''


def test_stub_keeps_the_signature_and_indentation():
    assert stub_solution(SOLUTION) == ('def f(x):\n    """Docstring stays."""\n'
                                       "    # YOUR CODE HERE\n    raise NotImplementedError()")
    top = stub_solution("x = 1\n### BEGIN SOLUTION\nanswer = {1, 2}\n### END SOLUTION\nprint(answer)")
    assert top == "x = 1\n# YOUR CODE HERE\nanswer = None  # replace None with your answer\nprint(answer)"
    statements = stub_solution("### BEGIN SOLUTION\nprint(1)\n### END SOLUTION")
    assert statements == "# YOUR CODE HERE\nraise NotImplementedError()"
    two = stub_solution(SOLUTION + "\n\n" + SOLUTION.replace("f(x)", "g(x)"))
    assert two.count("raise NotImplementedError()") == 2 and "x + 1" not in two
    assert stub_solution("no markers here") == "no markers here"


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "without ### END"),
    ("x = 1\n### END SOLUTION", "without ### BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
])
def test_unbalanced_markers_are_an_error(source, message):
    with pytest.raises(SolutionMarkerError, match=message):
        stub_solution(source)


EXERCISE_AND_SOLUTION = """Some text.

```{exercise} Why?
:label: ex-demo-why

Explain.
```

```{solution} ex-demo-why
:class: dropdown

Because ```` ``` ```` is a fence; and :::.
```

Text after."""


def test_written_solutions_are_removed_and_the_rest_kept():
    out = remove_written_solutions(EXERCISE_AND_SOLUTION)
    assert "{solution}" not in out and "Because" not in out
    assert "{exercise} Why?" in out and "Explain." in out and "Text after." in out
    colon = "Q\n\n:::{solution} ex-a\n:class: dropdown\nA\n:::\n\nEnd"
    assert remove_written_solutions(colon) == "Q\n\nEnd"
    longer = "````{solution} ex-b\n```python\ncode\n```\n````\nKept"
    assert remove_written_solutions(longer) == "Kept"


def _nb(cells):
    return {"cells": cells, "metadata": {"widgets": {"state": {}}}, "nbformat": 4, "nbformat_minor": 5}


def test_student_notebook_transforms_only_what_it_should():
    solution = {"cell_type": "code", "id": "s", "source": SOLUTION, "execution_count": 3,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": "x"}],
                "metadata": {"tags": ["hide-input"], "nbgrader": {"solution": True, "grade_id": "demo"}}}
    other = {"cell_type": "code", "id": "o", "source": "check('demo', f)", "execution_count": 4,
             "outputs": [{"output_type": "stream", "name": "stdout", "text": "y"}], "metadata": {}}
    only_solution = {"cell_type": "markdown", "id": "m", "metadata": {},
                     "source": "```{solution} ex-demo\n:class: dropdown\nsecret\n```"}
    text = {"cell_type": "markdown", "id": "t", "metadata": {}, "source": EXERCISE_AND_SOLUTION}
    master = _nb([text, solution, other, only_solution])
    before = json.dumps(master)
    student = student_notebook(master)
    assert json.dumps(master) == before, "the master notebook must not be modified"
    assert [c["id"] for c in student["cells"]] == ["t", "s", "o"]   # the emptied cell is dropped
    assert "raise NotImplementedError()" in student["cells"][1]["source"]
    assert "hide-input" not in student["cells"][1]["metadata"]["tags"]
    assert student["cells"][1]["metadata"]["nbgrader"]["grade_id"] == "demo"
    assert all(c["outputs"] == [] and c["execution_count"] is None
               for c in student["cells"] if c["cell_type"] == "code")
    assert student["cells"][2]["source"] == "check('demo', f)"
    assert "widgets" not in student["metadata"]


def test_cli_writes_and_rejects(tmp_path, capsys):
    assert main([str(NOTEBOOKS[0]), "--out", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / NOTEBOOKS[0].name).is_file()
    assert "1 student notebooks" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([str(tmp_path / "missing.ipynb")])
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps(_nb([{"cell_type": "code", "source": "### BEGIN SOLUTION\n",
                                    "metadata": {}, "outputs": [], "execution_count": None}])))
    assert main([str(bad), "--out", str(tmp_path / "s")]) == 1
    assert "without ### END SOLUTION" in capsys.readouterr().err


def test_make_student_target_exists():
    makefile = (ROOT / "Makefile").read_text()
    assert "\nstudent:" in makefile and "rnnbook.assign --out student/" in makefile


# ----------------------------------------------------------------------------------------------
# Every chapter's student edition runs end to end (one execution per notebook)
# ----------------------------------------------------------------------------------------------
def _outputs_text(cell):
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
        elif output.get("output_type") == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}")
    return "".join(parts)


@pytest.mark.parametrize("master", NOTEBOOKS, ids=IDS)
def test_student_edition_runs_to_the_end_and_nothing_is_attempted(master, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    [path] = write_student_edition([master], tmp_path)
    nb = nbformat.read(path, as_version=4)
    text = json.dumps(nb)
    assert "### BEGIN SOLUTION" not in text and "{solution}" not in text
    code_exercises = [e for e in scan_notebook(master) if e.kind == "code"]
    solution_cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert all("# YOUR CODE HERE" in cell_source(c) for c in solution_cells)
    assert len(solution_cells) >= sum(e.has_solution_cell for e in code_exercises)

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg"}
    env.pop("RNNBOOK_BUILD", None)
    env.pop("RNNLIB_EXERCISE_LOG", None)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)   # raises CellExecutionError if any cell fails

    last_code = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert last_code.execution_count is not None, "the notebook did not run to its last cell"
    labels = {m for c in nb.cells if c.cell_type == "code" for m in
              re.findall(r"""check\(\s*["']([^"']+)["']""", cell_source(c))}
    assert labels, f"{master.name}: no check cells"
    for label in labels:
        if get_exercise(label).kind != "code":
            continue
        cells = [c for c in nb.cells if c.cell_type == "code" and f'"{label}"' in cell_source(c)
                 and "check(" in cell_source(c)]
        shown = "".join(_outputs_text(c) for c in cells)
        assert "Not attempted yet" in shown and f"[{label}]" in shown, (
            f"{master.name}: check({label!r}) should say 'not attempted yet', it printed:\n{shown}")


# ----------------------------------------------------------------------------------------------
# nbgrader accepts the master notebooks
# ----------------------------------------------------------------------------------------------
def test_nbgrader_generate_assignment_accepts_the_master_notebooks(tmp_path):
    pytest.importorskip("nbgrader", reason="nbgrader is not installed in this environment")
    nbgrader = shutil.which("nbgrader", path=os.path.dirname(sys.executable))
    assert nbgrader, "the nbgrader package is installed but its command is not"
    source = tmp_path / "source" / "ps1"
    source.mkdir(parents=True)
    for path in NOTEBOOKS:
        shutil.copy(path, source / path.name)
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = %r\nc.CourseDirectory.course_id = 'rnn-book'\n"
        % str(tmp_path))
    proc = subprocess.run([nbgrader, "generate_assignment", "ps1", "--force", "--no-db"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for path in NOTEBOOKS:
        released = tmp_path / "release" / "ps1" / path.name
        assert released.is_file(), f"nbgrader did not release {path.name}:\n{proc.stderr[-2000:]}"
        text = released.read_text()
        assert "### BEGIN SOLUTION" not in text
        n_solutions = sum(1 for c in json.loads(path.read_text())["cells"]
                          if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
        assert text.count("raise NotImplementedError()") >= n_solutions
