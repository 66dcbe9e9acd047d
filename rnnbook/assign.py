"""The student edition: ``python -m rnnbook.assign [NOTEBOOK...] [--out student/]``.

Writes a copy of each of the book's notebooks (default: every ``book/*.ipynb``) in which

* each code solution, the region between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, is
  replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` at the region's
  indentation (the ``def`` line and docstring outside the markers stay, as nbgrader does it);
  a region at the top level of a cell that only assigns the answer (``vanishing = {...}``)
  becomes ``vanishing = None`` instead, so "Run all" does not stop there (``check`` says
  "not attempted yet" for None);
  the cell loses its ``hide-input`` tag, so students see the stub;
* each written solution (a sphinx-exercise ```` ```{solution} ```` block in a markdown cell) is
  removed, and a markdown cell left empty is dropped;
* every output and execution count is cleared, and saved widget state removed;
* everything else (text, figures' code, the ``check(...)`` cells, nbgrader metadata) is kept,
  so nbgrader's own tools and ``python -m rnnbook.grade`` work on the result.

The chapters use the library's reference implementation after each exercise, so a student
notebook runs to its last cell and every ``check`` says "not attempted yet" until solved
(tests/test_assign.py executes every student notebook to make sure).
"""
from __future__ import annotations

import argparse
import ast
import copy
import json
import sys
from pathlib import Path

from rnnbook.notebooks import BEGIN_SOLUTION, BOOK_DIR, END_SOLUTION, cell_source, directive_blocks

STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


class SolutionMarkerError(ValueError):
    """A cell has unbalanced or nested solution markers."""


def _assigned_names(region):
    """Names a top-level solution region only assigns (``answer = {...}``), else None."""
    try:
        tree = ast.parse("\n".join(region))
    except SyntaxError:
        return None
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            names += [t.id for t in node.targets if t.id not in names]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names += [node.target.id] if node.target.id not in names else []
        else:
            return None
    return names or None


def _stub(region, indent):
    """The stub for one solution region.

    Inside a function (indented): ``# YOUR CODE HERE`` and ``raise NotImplementedError()``, as
    nbgrader writes it. At the top level of a cell, a region that only assigns an answer
    (``vanishing = {"A", "B"}``) becomes ``vanishing = None``: a top-level ``raise`` would stop
    "Run all" at that cell, while ``check`` reports an answer of None as "not attempted yet".
    """
    names = _assigned_names(region) if not indent else None
    if names:
        return ["# YOUR CODE HERE"] + [f"{name} = None  # replace None with your answer" for name in names]
    return [indent + line for line in STUB]


def stub_solution(source, where="cell"):
    """``source`` with every BEGIN/END SOLUTION region replaced by the stub (same indentation)."""
    lines = source.split("\n")
    out, inside, indent, region = [], False, "", []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped == BEGIN_SOLUTION:
            if inside:
                raise SolutionMarkerError(f"{where}, line {number}: nested {BEGIN_SOLUTION}")
            inside, indent, region = True, line[: len(line) - len(line.lstrip())], []
        elif stripped == END_SOLUTION:
            if not inside:
                raise SolutionMarkerError(f"{where}, line {number}: {END_SOLUTION} without {BEGIN_SOLUTION}")
            inside = False
            out.extend(_stub(region, indent))
        elif inside:
            region.append(line)
        else:
            out.append(line)
    if inside:
        raise SolutionMarkerError(f"{where}: {BEGIN_SOLUTION} without {END_SOLUTION}")
    return "\n".join(out)


def remove_written_solutions(source):
    """Markdown ``source`` without its ``{solution}`` directive blocks (and their blank lines)."""
    lines = source.split("\n")
    drop = set()
    for name, _, _, first, last in directive_blocks(source):
        if name == "solution":
            drop.update(range(first, last + 1))
            # the blank line that separated the block from the text before it
            if first > 0 and not lines[first - 1].strip():
                drop.add(first - 1)
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return "\n".join(kept).strip("\n")


def student_notebook(nb):
    """The student edition of a notebook (a dict in nbformat 4's JSON layout); ``nb`` is not changed."""
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("widgets", None)
    cells = []
    for index, cell in enumerate(nb.get("cells", [])):
        source = cell_source(cell)
        if cell.get("cell_type") == "code":
            if BEGIN_SOLUTION in source or END_SOLUTION in source:
                where = f"cell {index} ({cell.get('id', '?')})"
                cell["source"] = stub_solution(source, where)
                tags = cell.get("metadata", {}).get("tags")
                if tags and "hide-input" in tags:
                    cell["metadata"]["tags"] = [tag for tag in tags if tag != "hide-input"]
            cell["outputs"] = []
            cell["execution_count"] = None
        elif cell.get("cell_type") == "markdown" and "{solution}" in source:
            cell["source"] = remove_written_solutions(source)
            if not cell["source"].strip():
                continue
        cells.append(cell)
    nb["cells"] = cells
    return nb


def write_student_edition(notebooks=None, out="student"):
    """Write the student edition of ``notebooks`` (default: book/*.ipynb) into ``out``; return the paths."""
    notebooks = [Path(p) for p in notebooks] if notebooks else sorted(BOOK_DIR.glob("*.ipynb"))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        target = out / path.name
        target.write_text(json.dumps(student_notebook(nb), indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m rnnbook.assign",
                                     description="Write the student edition of the book's notebooks.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="master notebooks (default: every book/*.ipynb)")
    parser.add_argument("--out", type=Path, default=Path("student"),
                        help="folder for the student notebooks (default: student/)")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    try:
        written = write_student_edition(args.notebooks or None, args.out)
    except (SolutionMarkerError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    print(f"{len(written)} student notebooks in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
