"""The book's exercise index, generated from the notebooks and the registry (never kept by hand).

Two consumers share the scan of the notebooks below:

* ``python -m rnnbook.exercises list`` (rnnbook/exercises.py) prints the table;
* the Sphinx directive ``{exercise-index}`` (this module is a Sphinx extension, listed under
  ``sphinx: local_extensions`` in _config.yml) renders it as a page of the book
  (book/exercise_index.md), with a link to every exercise of a chapter that is part of the build.

What a notebook says about its exercises (rnnbook/notebooks.py reads it):

* a markdown cell with a sphinx-exercise directive ```` ```{exercise} Title```` and
  ``:label: ex-<label>``;
* for a code exercise, a code cell with nbgrader metadata ``grade_id: <label>`` holding the
  solution between ``### BEGIN SOLUTION`` / ``### END SOLUTION``, and a cell calling
  ``check("<label>", answer)``;
* for a written exercise, a ```` ```{solution} ex-<label>```` directive.

The registry (rnnlib.exercises) adds the points, the kind and the checker. :func:`index_rows`
merges the two and :func:`mismatches` lists where they disagree (an exercise in a notebook that
no checker module registers, a registered exercise missing from its chapter, a kind that differs).

Only the standard library (and, inside the directive, Sphinx/docutils) is imported at module
level, so the command and the build stay light.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .notebooks import (BEGIN_SOLUTION, BOOK_DIR, CHECK_CALL, END_SOLUTION, book_notebooks,
                        cell_source, directive_blocks, solution_function_names)

__all__ = ["BEGIN_SOLUTION", "BOOK_DIR", "END_SOLUTION", "book_notebooks", "cell_source",
           "directive_blocks", "solution_function_names", "NotebookExercise", "scan_notebook",
           "chapter_title", "IndexRow", "index_rows", "mismatches", "text_table", "summary"]


@dataclass
class NotebookExercise:
    """One exercise as a notebook states it."""

    label: str               # without the "ex-" prefix, as registered
    title: str
    notebook: str            # file name, e.g. "rnn_equations.ipynb"
    kind: str                # "code" when the notebook has a solution cell or a check call
    answer_names: list = field(default_factory=list)   # names passed to check(label, ...)
    has_solution_cell: bool = False
    has_written_solution: bool = False
    solution_grade_id: str = None   # grade_id of the first solution cell after the exercise

    @property
    def chapter(self):
        return self.notebook.rsplit(".", 1)[0]


def scan_notebook(path) -> list:
    """The exercises a notebook states, in the order they appear."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    found: dict = {}
    solution_ids, written, checks = set(), set(), {}
    last = None   # the latest exercise directive, and the first solution cell after it
    for cell in nb.get("cells", []):
        source = cell_source(cell)
        if cell.get("cell_type") == "markdown":
            for name, arg, options, _, _ in directive_blocks(source):
                if name == "exercise" and options.get("label", "").startswith("ex-"):
                    label = options["label"][3:]
                    last = found.setdefault(label, NotebookExercise(label, arg, path.name, "written"))
                elif name == "solution" and arg.startswith("ex-"):
                    written.add(arg[3:])
        elif cell.get("cell_type") == "code":
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id and cell["metadata"]["nbgrader"].get("solution"):
                solution_ids.add(grade_id)
                if last is not None and last.solution_grade_id is None:
                    last.solution_grade_id = grade_id
            for match in CHECK_CALL.finditer(source):
                checks.setdefault(match["label"], []).append(match["answer"])
    for label, entry in found.items():
        entry.has_solution_cell = label in solution_ids
        entry.has_written_solution = label in written
        entry.answer_names = checks.get(label, [])
        if entry.has_solution_cell or entry.answer_names:
            entry.kind = "code"
    return list(found.values())


def chapter_title(path) -> str:
    """The notebook's first level-1 heading, else its name."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in cell_source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return Path(path).stem


@dataclass
class IndexRow:
    label: str
    chapter: str
    kind: str
    points: float
    title: str
    notebook: str            # "" when no notebook of the book states the exercise
    ref: str = ""            # the notebook's sphinx-exercise label (normally "ex-" + label)


def index_rows(book_dir=None, chapters=None):
    """Every exercise: the notebooks' order and titles, the registry's kind and points.

    Exercises only in the registry (their chapter not written yet) come last in their chapter
    with notebook "". ``chapters`` (a list of chapter names) orders the chapters; the rest follow
    alphabetically.
    """
    from rnnlib.exercises import list_exercises

    registry = {entry.label: entry for entry in list_exercises()}
    rows, seen = [], set()
    for path in book_notebooks(book_dir):
        for found in scan_notebook(path):
            entry = registry.get(found.label) or registry.get(found.solution_grade_id)
            if entry is not None and entry.label in seen:
                entry = None
            rows.append(IndexRow(entry.label if entry else found.label, found.chapter,
                                 entry.kind if entry else found.kind, entry.points if entry else 0,
                                 found.title or (entry.title if entry else ""), found.notebook,
                                 "ex-" + found.label))
            seen.add(found.label)
            if entry is not None:
                seen.add(entry.label)
    for label, entry in registry.items():
        if label not in seen:
            rows.append(IndexRow(label, entry.chapter, entry.kind, entry.points, entry.title, ""))
    order = {name: i for i, name in enumerate(chapters or [])}
    position = {id(row): i for i, row in enumerate(rows)}
    rows.sort(key=lambda row: (order.get(row.chapter, len(order)), row.chapter,
                               row.notebook == "", position[id(row)]))
    return rows


def mismatches(book_dir=None, notebooks=None):
    """Where the notebooks and the registry disagree, as readable sentences.

    ``notebooks`` limits the scan to those files (e.g. the chapters that are in the build).
    """
    from rnnlib.exercises import list_exercises

    registry = {entry.label: entry for entry in list_exercises()}
    paths = [Path(p) for p in notebooks] if notebooks is not None else book_notebooks(book_dir)
    problems = []
    for path in paths:
        stated = scan_notebook(path)
        for found in stated:
            entry = registry.get(found.label)
            where = f"{path.name}: exercise ex-{found.label}"
            if entry is None:
                linked = registry.get(found.solution_grade_id)
                if linked is not None:
                    problems.append(f"{where}: its solution cell has grade_id {linked.label!r}, "
                                    f"so its label should be ex-{linked.label}")
                else:
                    problems.append(f"{where} is not registered in rnnlib.exercises")
                continue
            if entry.chapter != found.chapter:
                problems.append(f"{where} is registered for chapter {entry.chapter!r}")
            if entry.kind != found.kind:
                problems.append(f"{where} is a {found.kind} exercise in the notebook but "
                                f"registered as {entry.kind}")
            if entry.kind == "code" and not found.has_solution_cell:
                problems.append(f"{where} has no solution cell with nbgrader grade_id {found.label!r}")
            if entry.kind == "code" and not found.answer_names:
                problems.append(f"{where} has no check({found.label!r}, ...) cell")
            if entry.kind == "written" and not found.has_written_solution:
                problems.append(f"{where} has no {{solution}} ex-{found.label} block")
        labels = {found.label for found in stated} | {found.solution_grade_id for found in stated}
        chapter = path.stem
        for entry in registry.values():
            if entry.chapter == chapter and entry.label not in labels:
                problems.append(f"{path.name}: registered exercise {entry.label!r} does not appear "
                                "(no {exercise} with :label: ex-" + entry.label + ")")
    return problems


def text_table(rows) -> str:
    """Plain-text table: label, chapter, kind, points, title, notebook."""
    header = ("label", "chapter", "kind", "points", "title", "notebook")
    body = [(r.label, r.chapter, r.kind, f"{r.points:g}", r.title,
             f"book/{r.notebook}" if r.notebook else "(no notebook yet)") for r in rows]
    table = [header] + body
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary(rows) -> str:
    """Exercises per chapter: 'chapter: n (code c, written w), p points'."""
    chapters: dict = {}
    for row in rows:
        counts = chapters.setdefault(row.chapter, {"code": 0, "written": 0, "points": 0})
        counts[row.kind] += 1
        counts["points"] += row.points
    lines = [f"{chapter}: {c['code'] + c['written']} exercises (code {c['code']}, written "
             f"{c['written']}), {c['points']:g} points" for chapter, c in chapters.items()]
    total = sum(c["code"] + c["written"] for c in chapters.values())
    lines.append(f"total: {total} exercises in {len(chapters)} chapters")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Sphinx: the {exercise-index} directive
# ----------------------------------------------------------------------------------------------
def _toc_chapters(app):
    """Chapter names in _toc.yml order (jupyter-book passes its path as external_toc_path)."""
    toc = getattr(app.config, "external_toc_path", None)
    if not toc:
        return []
    path = Path(app.confdir) / toc
    if not path.is_file():
        return []
    return [Path(line.split(":", 1)[1].strip()).stem for line in path.read_text().splitlines()
            if re.match(r"^\s*-?\s*(file|root):", line)]


def _make_directive():
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.util import logging
    from sphinx.util.docutils import SphinxDirective

    _log = logging.getLogger(__name__)

    class ExerciseIndex(SphinxDirective):
        """Table of every exercise: a row per chapter, then its exercises (title with link,
        label, kind, points)."""

        has_content = False
        optional_arguments = 0

        def run(self):
            env = self.env
            book_dir = Path(env.srcdir) / "book"
            if not book_dir.is_dir():
                book_dir = Path(env.doc2path(env.docname)).parent
            for path in book_notebooks(book_dir):
                env.note_dependency(str(path))
            built = {Path(env.doc2path(doc)).resolve() for doc in env.found_docs}
            in_build = [p for p in book_notebooks(book_dir) if p.resolve() in built]
            strict = self.config.exercise_index_strict
            for problem in mismatches(book_dir, in_build):
                if strict:
                    self.state.document.reporter.warning(f"exercise index: {problem}", line=self.lineno)
                else:
                    _log.info(f"exercise index: {problem}")
            rows = index_rows(book_dir, _toc_chapters(self.env.app))
            titles = {p.stem: chapter_title(p) for p in book_notebooks(book_dir)}
            docs = {Path(env.doc2path(doc)).resolve(): doc for doc in env.found_docs}

            # One row per exercise under a row naming its chapter (four columns, not five with
            # the chapter repeated on every row: the table fits a phone's width).
            table = nodes.table(classes=["exercise-index"])
            group = nodes.tgroup(cols=4)
            table += group
            for width in (46, 30, 12, 12):
                group += nodes.colspec(colwidth=width)
            head = nodes.thead()
            group += head
            head += self._row([nodes.Text(t) for t in ("Exercise", "Label", "Kind", "Points")])
            body = nodes.tbody()
            group += body
            total, current = 0, None
            for row in rows:
                path = (book_dir / row.notebook).resolve() if row.notebook else None
                doc = docs.get(path) if path else None
                chapter_name = titles.get(row.chapter, row.chapter)
                title = self._inline(row.title)
                if doc is None:
                    chapter_cell = nodes.Text(f"{chapter_name} (in preparation)")
                    title_cell = nodes.inline("", "", *title)
                else:
                    chapter_cell = self._xref("doc", "/" + doc, chapter_name)
                    title_cell = self._xref("ref", row.ref, title)
                if row.chapter != current:
                    current = row.chapter
                    body += self._chapter_row(chapter_cell, span=4)
                body += self._row([title_cell, nodes.literal(text=row.label),
                                   nodes.Text(row.kind), nodes.Text(f"{row.points:g}")])
                total += row.points
            caption = nodes.paragraph(text=f"{len(rows)} exercises, {total:g} points in all.")
            return [table, caption]

        def _inline(self, text):
            """A title's inline markup parsed as the page's own (MyST: ``$\\theta$`` becomes
            math, backquotes code), so the index shows it as the chapter does."""
            parsed, messages = self.state.inline_text(text, self.lineno)
            return list(parsed) + list(messages)

        def _xref(self, reftype, target, title):
            """A reference whose text is ``title`` (a string, or the nodes of a parsed title)."""
            ref = addnodes.pending_xref("", refdomain="std", reftype=reftype, reftarget=target,
                                        refexplicit=True, refwarn=True, refdoc=self.env.docname)
            children = [nodes.Text(title)] if isinstance(title, str) else title
            ref += nodes.inline("", "", *children, classes=["xref", "std", f"std-{reftype}"])
            if reftype == "ref":
                ref["rnnbook_keep_title"] = True  # see ExerciseTitleLinks
            return ref

        @staticmethod
        def _chapter_row(content, span):
            """A row of one cell across the table: the chapter of the rows below it."""
            row = nodes.row(classes=["exercise-index-chapter"])
            entry = nodes.entry(morecols=span - 1)
            paragraph = nodes.paragraph()
            paragraph += nodes.strong("", "", content)
            entry += paragraph
            row += entry
            return row

        @staticmethod
        def _row(contents):
            row = nodes.row()
            for content in contents:
                entry = nodes.entry()
                paragraph = nodes.paragraph()
                paragraph += content
                entry += paragraph
                row += entry
            return row

    return ExerciseIndex


def _make_title_links():
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class ExerciseTitleLinks(SphinxPostTransform):
        """Links of the exercise index keep their typeset titles.

        Sphinx resolves a ``ref`` with an explicit title into the title's plain text, so a
        title's math would show as raw TeX ("Why is \\theta the same..."). Before Sphinx
        resolves references (priority 10), the index's own references become links to the
        exercise's label with the parsed title inside; an unknown label is left to Sphinx,
        which warns.
        """

        default_priority = 5

        def run(self, **kwargs) -> None:
            std = self.env.get_domain("std")
            for node in list(self.document.findall(addnodes.pending_xref)):
                if not node.get("rnnbook_keep_title"):
                    continue
                target = node["reftarget"]
                if target in std.labels:
                    docname, labelid, _ = std.labels[target]
                elif target in std.anonlabels:
                    docname, labelid = std.anonlabels[target]
                else:
                    continue
                uri = self.app.builder.get_relative_uri(self.env.docname, docname)
                if labelid:
                    uri += "#" + labelid
                link = nodes.reference("", "", internal=True, refuri=uri)
                link += node.children
                node.replace_self(link)

    return ExerciseTitleLinks


def setup(app):
    # True: every disagreement between a built chapter and the registry is a build warning
    # (python -m rnnbook.exercises check and tests/test_exercise_index.py report them anyway).
    app.add_config_value("exercise_index_strict", False, "env")
    app.add_directive("exercise-index", _make_directive())
    app.add_post_transform(_make_title_links())
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
