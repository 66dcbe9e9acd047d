"""Reading the book's notebooks: what the exercise index, the student edition and the grader share.

The conventions a chapter notebook follows (README, "Contributing a chapter"):

* an exercise is a markdown cell with a sphinx-exercise directive ```` ```{exercise} Title````
  and ``:label: ex-<label>``;
* a code exercise has a solution cell (nbgrader metadata ``grade_id: <label>``) holding the
  solution between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, then a cell calling
  ``check("<label>", answer)``;
* a written exercise has a ```` ```{solution} ex-<label>```` directive.

Only the standard library is imported here.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

#: The book's chapters and pages, next to this package in the repository.
BOOK_DIR = Path(__file__).resolve().parents[1] / "book"

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*?)\s*$")
CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](?P<label>[^"']+)["']\s*,\s*(?P<answer>[A-Za-z_][\w.]*)""")
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"



def cell_source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def directive_blocks(text):
    """(name, argument, options, first line, last line) of every fenced directive in ``text``.

    Fences are ```` ``` ```` or ``:::`` (three or more) opening with ``{name}``; a block ends at
    the first later line holding only the same fence (or a longer one of the same character).
    Nested directives inside a longer fence are skipped with their parent.
    """
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match["fence"]
        end = i + 1
        while end < len(lines):
            stripped = lines[end].strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                break
            end += 1
        options = {}
        for line in lines[i + 1:end]:
            option = re.match(r"^\s*:([\w-]+):\s*(.*?)\s*$", line)
            if not option:
                break
            options[option[1]] = option[2]
        blocks.append((match["name"], match["arg"], options, i, min(end, len(lines) - 1)))
        i = end + 1
    return blocks


def solution_function_names(source) -> list:
    """Names of the functions a solution cell defines at top level (for a renamed answer)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def read_json_notebook(path):
    """A notebook file as the plain dict of nbformat 4's JSON layout."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def book_notebooks(book_dir=None):
    """The chapter notebooks of the book (``book/*.ipynb``), sorted."""
    book_dir = Path(book_dir or BOOK_DIR)
    return sorted(p for p in book_dir.glob("*.ipynb"))
