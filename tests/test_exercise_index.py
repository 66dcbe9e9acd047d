"""The exercise index: scan of the notebooks, `python -m rnnbook.exercises list`, the book page.

The index is generated from the notebooks and the registry; these tests check the scan on a
small notebook made here, that the command lists every registered exercise with its notebook,
that each chapter in the book agrees with the registry, that the {exercise-index} directive
renders a table with links in a tiny Sphinx project, and that the built book's page lists them.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import rnnlib.exercises as ex
from conftest import ROOT, book_notebooks, toc_files
from rnnbook import exercise_index as index
from rnnbook.exercises import main


def _md(source):
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def _code(source, grade_id=None):
    metadata = {}
    if grade_id:
        metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False,
                                "grade_id": grade_id, "schema_version": 3}
    return {"cell_type": "code", "metadata": metadata, "source": source, "outputs": [],
            "execution_count": None}


def _demo_notebook(path):
    cells = [
        _md("# Demo chapter\n\nText."),
        _md("```{exercise} Add two numbers\n:label: ex-demo-add\n\nWrite `add(a, b)`.\n```"),
        _code("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION", "demo-add"),
        _code('check("demo-add", add)'),
        _md("Between.\n\n```{exercise} Explain\n:label: ex-demo-why\n\nWhy?\n```\n\n"
            "```{solution} ex-demo-why\n:class: dropdown\n\nBecause.\n```"),
    ]
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


@pytest.fixture
def demo_book(tmp_path):
    """book/demo.ipynb with one code and one written exercise, both registered for the test."""
    book = tmp_path / "book"
    book.mkdir()
    _demo_notebook(book / "demo.ipynb")
    ex.register("demo-add", chapter="demo", points=2, title="Add", checker=lambda answer: None,
                answer_name="add")
    ex.register("demo-why", chapter="demo", points=1, title="Why", kind="written")
    yield book
    ex._REGISTRY.pop("demo-add", None)
    ex._REGISTRY.pop("demo-why", None)


def test_directive_blocks_and_scan(demo_book):
    blocks = index.directive_blocks("x\n```{exercise} T\n:label: ex-a\n:class: c\n\nbody\n```\ny")
    assert blocks == [("exercise", "T", {"label": "ex-a", "class": "c"}, 1, 6)]
    found = {e.label: e for e in index.scan_notebook(demo_book / "demo.ipynb")}
    assert list(found) == ["demo-add", "demo-why"]
    add, why = found["demo-add"], found["demo-why"]
    assert (add.kind, add.title, add.answer_names, add.has_solution_cell) == ("code", "Add two numbers", ["add"], True)
    assert (why.kind, why.has_written_solution) == ("written", True)
    assert index.chapter_title(demo_book / "demo.ipynb") == "Demo chapter"
    assert index.mismatches(demo_book) == []


def test_mismatches_are_named(demo_book):
    ex._REGISTRY.pop("demo-why")
    ex.register("demo-extra", chapter="demo", points=1, title="Extra", kind="written")
    try:
        problems = "\n".join(index.mismatches(demo_book))
        assert "ex-demo-why is not registered" in problems
        assert "'demo-extra' does not appear" in problems
    finally:
        ex._REGISTRY.pop("demo-extra")


def test_rows_merge_notebook_and_registry(demo_book):
    rows = [r for r in index.index_rows(demo_book) if r.chapter == "demo"]
    assert [(r.label, r.kind, r.points, r.notebook) for r in rows] == [
        ("demo-add", "code", 2, "demo.ipynb"), ("demo-why", "written", 1, "demo.ipynb")]
    table = index.text_table(rows)
    assert "book/demo.ipynb" in table and table.splitlines()[0].split() == [
        "label", "chapter", "kind", "points", "title", "notebook"]


def test_list_command_prints_every_registered_exercise():
    proc = subprocess.run([sys.executable, "-m", "rnnbook.exercises", "list"], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for entry in ex.list_exercises():
        line = next((l for l in lines if l.split()[:1] == [entry.label]), None)
        assert line is not None, f"{entry.label} missing from the list"
        assert entry.chapter in line and entry.kind in line
    for path in book_notebooks():
        for found in index.scan_notebook(path):
            assert f"book/{path.name}" in proc.stdout
    assert "total:" in proc.stdout


def test_list_command_options(capsys):
    assert main(["list", "--chapter", "rnn_equations", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["label"] for r in rows} == {e.label for e in ex.list_exercises(chapter="rnn_equations")}
    assert all(r["notebook"] == "rnn_equations.ipynb" for r in rows)
    assert main(["list", "--chapter", "no_such_chapter"]) == 2


TOC_NOTEBOOKS = [p for p in book_notebooks() if f"book/{p.stem}" in toc_files()]


@pytest.mark.parametrize("path", TOC_NOTEBOOKS, ids=[p.stem for p in TOC_NOTEBOOKS])
def test_each_chapter_in_the_book_agrees_with_the_registry(path):
    problems = index.mismatches(notebooks=[path])
    assert not problems, "\n".join(problems)


def test_directive_renders_a_linked_table(demo_book, tmp_path):
    """A tiny Sphinx project: the directive's table links the exercise of a built chapter."""
    from sphinx.application import Sphinx

    src = demo_book.parent
    (src / "conf.py").write_text(
        "extensions = ['myst_nb', 'sphinx_exercise', 'rnnbook.exercise_index']\n"
        "nb_execution_mode = 'off'\nexclude_patterns = ['_build']\n")
    (src / "index.md").write_text("# Root\n\n```{toctree}\nbook/demo\nbook/exercise_index\n```\n")
    (demo_book / "exercise_index.md").write_text("# Exercises\n\n```{exercise-index}\n```\n")
    out = tmp_path / "_build"
    app = Sphinx(str(src), str(src), str(out / "html"), str(out / "doctrees"), "html",
                 status=None, warning=None, freshenv=True)
    app.build()
    html = (out / "html" / "book" / "exercise_index.html").read_text()
    assert "demo-add" in html and "demo-why" in html
    assert 'href="demo.html#ex-demo-add"' in html and ">Add two numbers<" in html
    assert "Demo chapter</span>" in html and 'href="demo.html"' in html
    assert re.search(r"<p>\d+ exercises, \d+ points in all.</p>", html)


def test_built_page_lists_every_exercise_of_the_built_chapters(book_html):
    page = (book_html / "book" / "exercise_index.html").read_text(encoding="utf-8")
    for path in TOC_NOTEBOOKS:
        for found in index.scan_notebook(path):
            assert f"#ex-{found.label}" in page, f"no link to ex-{found.label} ({path.name})"
    for entry in ex.list_exercises():
        assert entry.label in page
    assert (book_html / "book" / "instructors.html").is_file()
