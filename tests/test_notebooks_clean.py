"""The notebooks in book/ are stored clean, start with the setup cell and match _toc.yml.

No book build and no kernel here: these tests read files only and take a second.
"""

from __future__ import annotations

import json

import pytest

from conftest import BOOK_DIR, ROOT, book_notebooks, toc_files

# The first code cell of every chapter, exactly (see /tmp/team/CONVENTIONS.md). It installs
# rnnlib in Colab only and calls rnnlib.book.setup() (plotly renderer for the build, matplotlib
# style).
SETUP_CELL = """\
# Colab installs nothing: fetch rnnlib there. Elsewhere this cell does nothing.
import sys
if "google.colab" in sys.modules:
    %pip install -q "rnnlib @ git+https://github.com/rnn-book/rnn-book"
import rnnlib.book
rnnlib.book.setup()"""

NOTEBOOKS = book_notebooks()
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_stored_outputs_or_execution_counts(path):
    nb = _load(path)
    dirty = [
        f"cell {i} ({cell.get('id', '?')}): "
        + ", ".join(
            part
            for part, bad in [
                (f"{len(cell.get('outputs', []))} outputs", cell.get("outputs")),
                (f"execution_count={cell.get('execution_count')}", cell.get("execution_count")),
            ]
            if bad
        )
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, (
        f"{path.name} has stored outputs; strip them (outputs=[], execution_count=None) "
        f"before committing: {dirty}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_saved_widget_state(path):
    """Saved widget state is an output too (the build regenerates it)."""
    assert "widgets" not in _load(path).get("metadata", {}), (
        f"{path.name} stores ipywidgets state in its metadata; clear it before committing"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_is_the_setup_cell(path):
    code_cells = [c for c in _load(path)["cells"] if c["cell_type"] == "code"]
    assert code_cells, f"{path.name} has no code cell"
    first = code_cells[0]
    assert _source(first).strip() == SETUP_CELL, (
        f"{path.name}: the first code cell must be exactly the setup cell:\n{SETUP_CELL}\n"
        f"found:\n{_source(first)}"
    )
    tags = first.get("metadata", {}).get("tags", [])
    assert "remove-cell" in tags, f"{path.name}: tag the setup cell 'remove-cell' (tags: {tags})"


def test_every_notebook_is_in_the_toc_and_every_toc_entry_exists():
    listed = toc_files()
    missing_files = [
        entry
        for entry in listed
        if not any((ROOT / (entry + suffix)).is_file() for suffix in ("", ".md", ".ipynb"))
    ]
    assert not missing_files, f"_toc.yml lists files that do not exist: {missing_files}"

    listed_stems = {entry.removesuffix(".ipynb").removesuffix(".md") for entry in listed}
    not_listed = [
        str(p.relative_to(ROOT))
        for p in NOTEBOOKS
        if str(p.relative_to(ROOT).with_suffix("")) not in listed_stems
    ]
    assert not not_listed, f"notebooks in book/ missing from _toc.yml: {not_listed}"
    assert len(listed) == len(set(listed)), f"_toc.yml lists a file twice: {listed}"


def test_toc_entries_live_in_book():
    outside = [e for e in toc_files() if not (ROOT / e).resolve().is_relative_to(BOOK_DIR)]
    assert not outside, f"_toc.yml entries must be under book/: {outside}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_valid_nbformat(path):
    import nbformat

    nbformat.validate(nbformat.read(path, as_version=4))
