"""The book's own cells (trusted side): which submitted cells the student did not write.

A submitted code cell is the book's when its source equals the master notebook's cell
(``book/<chapter>.ipynb``) or that cell's student edition (``rnnbook.assign``), matched by cell
id or, failing that, by source. Output of the book's cells is not counted against the student
(the chapters' figures and tables can be large); the student's own cells keep the output cap.
The master notebooks are read here, on the trusted side only; the sandbox never sees them.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

from rnnbook.notebooks import BOOK_DIR, cell_source


@dataclass
class BookCells:
    by_id: dict = field(default_factory=dict)        # cell id -> {sources}
    sources: set = field(default_factory=set)        # every code source of the chapters

    def is_book_cell(self, cell):
        source = cell_source(cell).strip()
        if not source:
            return True
        known = self.by_id.get(cell.get("id"))
        if known is not None and source in known:
            return True
        return source in self.sources


@functools.lru_cache(maxsize=None)
def _chapter_cells(chapter, book_dir):
    from rnnbook.assign import student_notebook

    path = book_dir / f"{chapter}.ipynb"
    try:
        master = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, frozenset()
    try:
        student = student_notebook(master)
    except Exception:
        student = {"cells": []}
    by_id, sources = {}, set()
    for nb in (master, student):
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            source = cell_source(cell).strip()
            sources.add(source)
            by_id.setdefault(cell.get("id"), set()).add(source)
    return {k: frozenset(v) for k, v in by_id.items()}, frozenset(sources)


@functools.lru_cache(maxsize=None)
def _solutions(chapter, book_dir):
    try:
        master = json.loads((book_dir / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for cell in master.get("cells", []):
        nbgrader = cell.get("metadata", {}).get("nbgrader")
        if cell.get("cell_type") == "code" and isinstance(nbgrader, dict) and nbgrader.get("grade_id"):
            found[nbgrader["grade_id"]] = cell_source(cell)
    return found


def master_solution(chapter, label, book_dir=None):
    """The source of the master notebook's solution cell of ``label`` (or "")."""
    return _solutions(chapter, BOOK_DIR if book_dir is None else book_dir).get(label, "")


def book_cells(chapters, book_dir=None):
    """The :class:`BookCells` of ``chapters`` (names of ``book/<chapter>.ipynb``)."""
    book_dir = BOOK_DIR if book_dir is None else book_dir
    result = BookCells()
    for chapter in sorted(set(chapters)):
        by_id, sources = _chapter_cells(chapter, book_dir)
        for key, values in by_id.items():
            result.by_id.setdefault(key, set()).update(values)
        result.sources.update(sources)
    return result
