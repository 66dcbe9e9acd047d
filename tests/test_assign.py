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
import textwrap

import pytest

from conftest import ROOT, book_notebooks
from rnnbook.assign import (
    BookContext,
    SolutionMarkerError,
    convert_myst,
    convert_role,
    is_claim_cell,
    leftover_myst,
    main,
    remove_written_solutions,
    student_json,
    student_notebook,
    stub_solution,
    write_student_edition,
)
from rnnbook.exercise_index import cell_source, scan_notebook
from rnnbook.notebooks import directive_blocks
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


# ----------------------------------------------------------------------------------------------
# MyST -> plain Markdown
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ctx():
    return BookContext(out_dir=ROOT / "student")


def test_exercise_becomes_a_bold_numbered_title_with_its_text(ctx):
    label = next(iter(ctx.exercise_numbers))            # the book's first exercise
    source = (f"Before.\n\n```{{exercise}} Pad a batch\n:label: {label}\n\nWrite $f(x)$.\n\n"
              "| a | b |\n|---|---|\n| 1 | 2 |\n```\n\nAfter.")
    out = convert_myst(source, ctx)
    assert out == ("Before.\n\n**Exercise 1 (Pad a batch)**\n\nWrite $f(x)$.\n\n"
                   "| a | b |\n|---|---|\n| 1 | 2 |\n\nAfter.")
    # without the book's numbering (no context, or no label): the title alone
    assert convert_myst("```{exercise} Why?\n:label: ex-x\nText.\n```") == "**Exercise (Why?)**\n\nText."
    colon = convert_myst(":::{exercise} Why?\n:label: ex-unknown\n:class: hard\nText.\n:::", ctx)
    assert colon == "**Exercise (Why?)**\n\nText."


def test_exercise_numbers_follow_the_toc_across_chapters(ctx):
    """sphinx-exercise numbers the whole book in _toc.yml order: each chapter's first exercise
    continues where the previous chapter's count ended."""
    from conftest import toc_files
    from rnnbook.exercise_index import scan_notebook

    expected, n = {}, 0
    for entry in toc_files():
        path = ROOT / (entry + ".ipynb")
        for exercise in scan_notebook(path) if path.is_file() else []:
            n += 1
            expected["ex-" + exercise.label] = n
    assert ctx.exercise_numbers == expected


def test_exercise_numbers_match_the_built_book(book_html, ctx):
    for path in NOTEBOOKS:
        page = (book_html / "book" / path.with_suffix(".html").name).read_text()
        shown = [int(n) for n in re.findall(r'<span class="caption-number">Exercise (\d+)', page)] or \
                [int(n) for n in re.findall(r"Exercise (\d+)\s*</span>", page)]
        ours = sorted(ctx.exercise_numbers["ex-" + e.label] for e in scan_notebook(path))
        assert sorted(set(shown)) == ours, f"{path.name}: book {sorted(set(shown))}, student {ours}"


def test_options_targets_comments_and_equation_labels_vanish(ctx):
    source = "(sec-x)=\n## A section\n\n% a MyST comment\nText.\n+++\n$$\na = b\n$$ (eq-ab)\n"
    assert convert_myst(source, ctx) == "## A section\n\nText.\n$$\na = b\n$$"


@pytest.mark.parametrize("name, title", [("note", "Note"), ("tip", "Tip"), ("important", "Important"),
                                         ("warning", "Warning"), ("seealso", "See also")])
def test_admonitions_become_blockquotes_with_a_bold_title(name, title):
    assert convert_myst(f"```{{{name}}}\nFirst line.\n\nSecond $x$.\n```") == \
        f"> **{title}**\n>\n> First line.\n>\n> Second $x$."
    assert convert_myst(f":::{{{name}}}\n:class: margin\nText.\n:::") == f"> **{title}**\n>\n> Text."


def test_admonition_with_a_title_and_nested_directives(ctx):
    source = "````{admonition} Why $h$?\n:class: tip\n\n```{note}\nInner {cite:p}`elman1990finding`.\n```\n````"
    assert convert_myst(source, ctx) == "> **Why $h$?**\n>\n> > **Note**\n> >\n> > Inner (Elman, 1990)."


MODULE = '''"""A module."""
import functools


def helper(x):
    return x


@functools.lru_cache()
def _step(params, x_t):
    """Docstring."""
    a = x_t + 1          # (B, m)
    return a


class Cell:
    def forward(self, x):
        return helper(x)
'''


def test_literalinclude_pyobject_becomes_the_functions_source(tmp_path, monkeypatch):
    import importlib
    import inspect

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "demo_module_for_assign.py").write_text(MODULE)
    (tmp_path / "book").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    module = importlib.import_module("demo_module_for_assign")
    local = BookContext(book_dir=tmp_path / "book")
    include = "```{{literalinclude}} ../lib/demo_module_for_assign.py\n:language: python\n{}\n```"
    out = convert_myst(include.format(":pyobject: _step"), local)
    assert out == "```python\n" + inspect.getsource(module._step).rstrip("\n") + "\n```"
    out = convert_myst(include.format(":pyobject: Cell.forward"), local)
    assert out == "```python\n" + textwrap.dedent(inspect.getsource(module.Cell.forward)).rstrip("\n") + "\n```"
    out = convert_myst(include.format(":lines: 1-2"), local)
    assert out == "```python\n\"\"\"A module.\"\"\"\nimport functools\n```"
    with pytest.raises(ValueError, match="no_such_function"):
        convert_myst(include.format(":pyobject: no_such_function"), local)


def test_every_literalinclude_of_the_book_is_inlined(ctx):
    """The chapters' listings (``:pyobject:`` of rnnlib) become fenced blocks of that source."""
    import importlib
    import inspect

    for master in NOTEBOOKS:
        for cell in json.loads(master.read_text())["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for name, arg, options, _, _ in directive_blocks(cell_source(cell)):
                if name == "literalinclude" and "pyobject" in options:
                    obj = importlib.import_module(arg.removeprefix("../").removesuffix(".py").replace("/", "."))
                    for part in options["pyobject"].split("."):
                        obj = getattr(obj, part)
                    expected = textwrap.dedent(inspect.getsource(obj)).rstrip("\n")
                    assert expected in convert_myst(cell_source(cell), ctx), (master.name, options["pyobject"])


def test_code_blocks_keep_what_looks_like_myst():
    source = "````markdown\n```{exercise} Example\n:label: ex-a\n```\n{cite:p}`x`\n````\nand `{ref}` in code"
    assert convert_myst(source) == source
    assert convert_myst("```{code-block} python\n:linenos:\nx = {1}\n```") == "```python\nx = {1}\n```"
    assert convert_myst("```{math}\n:label: eq-a\na^2\n```") == "$$\na^2\n$$"


def test_figures_and_images_become_markdown_images(ctx):
    out = convert_myst("```{figure} images/unrolled.png\n:alt: The unrolled RNN\n:name: fig-u\n\nThe RNN, unrolled.\n```", ctx)
    assert out == "![The unrolled RNN](../book/images/unrolled.png)\n\n*The RNN, unrolled.*"
    assert convert_myst("```{image} https://example.org/a.png\n:alt: A\n```", ctx) == "![A](https://example.org/a.png)"


def test_citations_are_the_books_author_year(ctx):
    assert convert_role("cite:p", "goodfellow2016deep", ctx) == "(Goodfellow et al., 2016)"
    assert convert_role("cite", "karpathy2015unreasonable", ctx) == "(Karpathy, 2015)"
    assert convert_role("cite:t", "hochreiter1997long", ctx) == "Hochreiter and Schmidhuber (1997)"
    assert convert_role("cite:p", "socher2011parsing,socher2013recursive", ctx) == \
        "(Socher et al., 2011; Socher et al., 2013)"
    assert convert_role("cite:p", "mit6s191lecture2", ctx) == "(MIT 6.S191, 2018)"
    assert convert_role("cite:p", "unknown2099", ctx) == "(unknown2099)"


def test_references_become_titles_or_exercise_numbers(ctx):
    assert convert_role("ref", "sec-rnn-index-mapping", ctx) == "“From equations to code: the index mapping”"
    assert convert_role("ref", "the mapping <sec-rnn-index-mapping>", ctx) == "the mapping"
    label = next(iter(ctx.exercise_numbers))
    assert convert_role("ref", label, ctx) == "Exercise 1"
    assert convert_role("numref", f"Exercise %s <{label}>", ctx) == "Exercise 1"
    assert convert_role("chapter", "The RNN's equations <rnn_equations>", ctx) == "The RNN's equations"
    assert convert_role("doc", "rnn_equations", ctx) == "The RNN's equations and parameters"
    assert convert_role("eq", "eq-ab", ctx) == "(eq-ab)"
    assert convert_role("unknown-role", "some text", ctx) == "some text"
    assert convert_role("py:func", "~rnnlib.rnn.rnn_forward", ctx) == "`rnnlib.rnn.rnn_forward`"
    assert convert_role("math", r"\alpha", ctx) == r"$\alpha$"


def test_glue_roles_and_directives_say_where_the_value_is_computed():
    cells = [{"cell_type": "code", "id": "a", "metadata": {}, "outputs": [], "execution_count": None,
              "source": 'from myst_nb import glue\nglue("rate", 0.5)'},
             {"cell_type": "markdown", "id": "b", "metadata": {},
              "source": "The rate is {glue:text}`rate:.2f`, and {glue:}`later`.\n\n```{glue:figure} later\n```"},
             {"cell_type": "code", "id": "c", "metadata": {}, "outputs": [], "execution_count": None,
              "source": 'glue("later", 1)'}]
    out = student_notebook(_nb(cells))["cells"][1]["source"]
    assert out == ("The rate is *(the value `rate`, computed in a cell above)*, and "
                   "*(the value `later`, computed in a cell below)*.\n\n"
                   "*(the figure `later`, computed in a cell below)*")


def test_any_other_directive_degrades_to_readable_text():
    assert convert_myst("```{prf:theorem} Fixed points\n:label: thm-a\nText.\n```") == \
        "> **Theorem: Fixed points**\n>\n> Text."
    assert convert_myst("```{bibliography}\n```\n\n```{toctree}\nintro\n```").strip() == ""
    assert convert_myst("::::{tab-set}\n:::{tab-item} One\nA\n:::\n::::") == "> **One**\n>\n> A"


def test_leftover_myst_finds_raw_syntax():
    assert leftover_myst("Fine $x$ and `{cite:p}` in code.\n\n```python\n:label: x\n```") == []
    kinds = {kind for kind, _ in leftover_myst("```{exercise} A\n:label: ex-a\n```\n{ref}`x`\n(sec-a)=\n")}
    assert kinds == {"directive", "role", "target"}
    assert [k for k, _ in leftover_myst(":label: ex-a")] == ["option"]


def test_claim_cells_are_collapsed_and_nothing_else():
    def code(source, tags):
        return {"cell_type": "code", "id": source[:4], "source": source, "outputs": [],
                "execution_count": None, "metadata": {"tags": tags}}
    claim = code("rate = 0.5\nassert rate < 1", ["remove-cell"])
    glued = code('glue("rate", rate, display=False)', ["remove-cell"])
    setup = code('import sys\nif "google.colab" in sys.modules:\n    %pip install -q x\nimport rnnlib.book', ["remove-cell"])
    shown = code("assert True", [])
    assert is_claim_cell(claim) and is_claim_cell(glued)
    assert not is_claim_cell(setup) and not is_claim_cell(shown)
    student = student_notebook(_nb([setup, claim, glued, shown]))["cells"]
    hidden = [c.get("metadata", {}).get("jupyter", {}).get("source_hidden", False) for c in student]
    assert hidden == [False, True, True, False]
    assert [c["source"] for c in student] == [setup["source"], claim["source"], glued["source"], shown["source"]]


def test_gated_solutions_are_removed():
    cells = [{"cell_type": "markdown", "id": "q", "metadata": {}, "source": "```{exercise-start} Q\n:label: ex-q\n```\nAsk."},
             {"cell_type": "markdown", "id": "e", "metadata": {}, "source": "```{exercise-end}\n```"},
             {"cell_type": "markdown", "id": "s", "metadata": {}, "source": "```{solution-start} ex-q\n```"},
             {"cell_type": "code", "id": "c", "metadata": {}, "source": "secret = 42", "outputs": [], "execution_count": None},
             {"cell_type": "markdown", "id": "t", "metadata": {}, "source": "```{solution-end}\n```"},
             {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "After."}]
    student = student_notebook(_nb(cells))
    assert [c["id"] for c in student["cells"]] == ["q", "a"]
    assert student["cells"][0]["source"] == "**Exercise (Q)**\n\nAsk."


# ----------------------------------------------------------------------------------------------
# The committed student edition (student/): up to date, no MyST left, no solution
# ----------------------------------------------------------------------------------------------
STUDENT_DIR = ROOT / "student"


def test_committed_student_notebooks_are_up_to_date(ctx):
    """student/ is what `make student` writes from the masters now (run it after editing a
    chapter, and commit the result): the launch buttons open these files."""
    assert STUDENT_DIR.is_dir(), "student/ is missing: run `make student` and commit it"
    stale = []
    for master in NOTEBOOKS:
        committed = STUDENT_DIR / master.name
        fresh = student_json(json.loads(master.read_text(encoding="utf-8")), ctx, master.name)
        if not committed.is_file() or committed.read_text(encoding="utf-8") != fresh:
            stale.append(master.name)
    extra = sorted(p.name for p in STUDENT_DIR.glob("*.ipynb")) 
    assert not stale, f"student/ is out of date for {stale}: run `make student` and commit student/"
    assert extra == sorted(p.name for p in NOTEBOOKS), f"student/ has notebooks without a master: {extra}"


@pytest.mark.parametrize("master", NOTEBOOKS, ids=IDS)
def test_student_notebooks_hold_no_myst_and_no_solution(master, ctx):
    nb = json.loads((STUDENT_DIR / master.name).read_text(encoding="utf-8"))
    left = [(cell.get("id"), found) for cell in nb["cells"] if cell["cell_type"] == "markdown"
            for found in leftover_myst(cell_source(cell))]
    assert not left, f"{master.name}: MyST left in the student edition: {left[:5]}"
    text = json.dumps(nb)
    assert "### BEGIN SOLUTION" not in text and "{solution}" not in text
    master_nb = json.loads(master.read_text(encoding="utf-8"))
    for cell in master_nb["cells"]:        # no line of a written solution survives
        for name, _, _, first, last in directive_blocks(cell_source(cell)):
            if name == "solution":
                lines = cell_source(cell).split("\n")[first + 1:last]
                long_lines = [line for line in lines if len(line.strip()) > 40]
                assert not any(line in text for line in long_lines), f"{master.name}: a written solution is left"
    markdown = "\n".join(cell_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    for exercise in scan_notebook(master):
        number = ctx.exercise_numbers["ex-" + exercise.label]
        assert f"**Exercise {number} ({exercise.title})**" in markdown, (
            f"{master.name}: no bold title line for exercise {number} ({exercise.label})")


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
