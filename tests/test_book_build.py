"""The book builds fresh with warnings as errors, and its pages are complete.

The build itself is the session fixture ``book_build`` of conftest.py (one fresh build per test
run: every notebook executed, ``-W -n --keep-going``, ``raise_on_error``). The renderer tests
at the end need no build.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from conftest import ROOT, book_notebooks, toc_files

PLOTLY_JS = "plotly.min.js"
BAD_PAGE_TEXT = [
    "Traceback (most recent call last)",
    "skipping unknown output mime type",
    "application/vnd.plotly.v1+json",  # a plotly figure the build failed to render
]
# A Python exception as IPython prints it in an output (ANSI codes stripped), e.g.
# "ValueError                                Traceback (most recent call last)".
TRACEBACK_RE = re.compile(r"\w+(Error|Exception)\s+Traceback")


def _page(html_dir, entry):
    return html_dir / (entry.removesuffix(".ipynb").removesuffix(".md") + ".html")


def _built_pages(html_dir):
    """(toc entry, page html) for every toc page that was built (missing ones: see below)."""
    for entry in toc_files():
        page = _page(html_dir, entry)
        if page.is_file():
            yield entry, page.read_text(encoding="utf-8")


def _uses_plotly(path) -> bool:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return any(
        cell["cell_type"] == "code" and re.search(r"^\s*(import|from)\s+plotly", src, re.M)
        for cell in nb["cells"]
        for src in ["".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]]
    )


PLOTLY_NOTEBOOKS = [p for p in book_notebooks() if _uses_plotly(p)]


# --------------------------------------------------------------------------- the build
def test_book_builds_without_warnings(book_build):
    assert book_build.returncode == 0, (
        f"jupyter-book build failed (exit {book_build.returncode}); log in "
        f"{book_build.output_dir / 'build.log'}:\n{book_build.tail()}"
    )
    assert not book_build.warnings, "the build warned:\n" + "\n".join(book_build.warnings)
    print(f"book build took {book_build.seconds:.0f} s")


def test_every_toc_page_has_html(book_html):
    missing = [e for e in toc_files() if not _page(book_html, e).is_file()]
    assert not missing, f"toc entries without an html page: {missing}"
    assert (book_html / "index.html").is_file()


def test_no_page_shows_a_traceback_or_a_dropped_output(book_html):
    problems = []
    for entry, text in _built_pages(book_html):
        problems += [f"{entry}: {bad!r}" for bad in BAD_PAGE_TEXT if bad in text]
        if TRACEBACK_RE.search(text):
            problems.append(f"{entry}: an exception's traceback")
    reports = book_html / "reports"
    if reports.is_dir():
        problems += [f"execution report {p.name}" for p in reports.glob("*.log")]
    assert not problems, "\n".join(problems)


# The structures each chapter teaches with a drawing (issue 13's table, plus the sections that
# came after the lecture, issue 19): the fewest SVG diagrams (rnnlib.diagrams) its page shows.
EXPECTED_DIAGRAMS = {
    "book/sequence_modeling": 5,      # many-to-one, one-to-many, aligned, encoder-decoder; a beam
    "book/computational_graphs": 7,   # (a)-(d), two exercise graphs, the unrolled RNN for T = 3
    "book/recurrence": 5,             # driven system, folded beside unfolded, the unrolled graph,
                                      # an echo state network, a leaky unit
    "book/rnn_equations": 1,          # one step with every symbol and its shape
    "book/design_patterns": 7,        # the three patterns, bidirectional, deep RNNs 1-3
    "book/bptt": 1,                   # the paths from J_t back to every h^(k), k on a control
    "book/exploding_vanishing": 2,    # the product of Jacobians, the skip's short path
    "book/gated_cells": 2,            # the LSTM cell and the GRU cell
    "book/recursive": 4,              # a tree, chain against balanced tree, two grammar trees
    "book/where_recurrence_went": 4,  # attention, its weights, the linear recurrence, the scan
}
SVG_RE = re.compile(r'<svg[^>]*class="rnd[ "][^>]*>', re.S)


def test_every_chapter_shows_its_diagrams_with_alt_text(book_html):
    """Each chapter's page shows at least the diagrams of its structures, and every diagram
    carries a text alternative (role="img" with an aria-label of a sentence, and a <title>)."""
    problems = []
    for entry, text in _built_pages(book_html):
        entry = entry.removesuffix(".ipynb").removesuffix(".md")
        figures = text.count('<figure class="rnd-fig')
        if figures < EXPECTED_DIAGRAMS.get(entry, 0):
            problems.append(f"{entry}: {figures} diagram(s), expected at least "
                            f"{EXPECTED_DIAGRAMS[entry]}")
        for match in SVG_RE.finditer(text):
            tag = match.group(0)
            label = re.search(r'aria-label="([^"]*)"', tag)
            after = text[match.end():match.end() + 2000]
            if 'role="img"' not in tag or not label or len(label.group(1).split()) < 4 \
                    or not after.lstrip().startswith("<title>"):
                problems.append(f"{entry}: a diagram without a text alternative: {tag[:120]}")
    assert set(EXPECTED_DIAGRAMS) <= {e.removesuffix(".ipynb").removesuffix(".md")
                                      for e in toc_files()}, "EXPECTED_DIAGRAMS names a page not in _toc.yml"
    assert not problems, "\n".join(problems)


def test_plotly_js_is_shipped_once(book_html):
    shipped = book_html / "_static" / PLOTLY_JS
    assert shipped.is_file() and shipped.stat().st_size > 1_000_000, "plotly.min.js not in _static"
    for entry, text in _built_pages(book_html):
        assert re.search(r'<script[^>]+src="[./]*_static/plotly\.min\.js', text), (
            f"{entry} does not load _static/plotly.min.js"
        )


def test_mathjax_double_dollar_inline_is_enabled(book_html):
    """Inline $$...$$ must not leave stray dollars (myst_dmath_double_inline)."""
    from bs4 import BeautifulSoup

    for entry, text in _built_pages(book_html):
        soup = BeautifulSoup(text, "html.parser")
        main = soup.find("main") or soup
        for tag in main(["script", "style", "pre", "code"]):
            tag.decompose()
        assert "$$" not in main.get_text(), f"{entry}: stray $$ in the rendered text"


@pytest.mark.parametrize(
    "path", PLOTLY_NOTEBOOKS, ids=[p.name for p in PLOTLY_NOTEBOOKS]
)
def test_plotly_figures_appear_in_the_built_chapter(book_html, path):
    entry = str(path.relative_to(ROOT))
    page = _page(book_html, entry)
    assert page.is_file(), f"{entry} was not built: is it in _toc.yml?"
    text = page.read_text(encoding="utf-8")
    assert 'class="plotly-graph-div"' in text, f"{entry}: no plotly figure on the page"
    assert "Plotly.newPlot(" in text, f"{entry}: the figure is never drawn (no Plotly.newPlot)"
    assert re.search(r'<script[^>]+src="[./]*_static/plotly\.min\.js', text), (
        f"{entry}: the page does not load the shared plotly.min.js"
    )
    # Not inlined: plotly.js's own source would make the page megabytes long.
    assert "plotly.js v" not in text and len(text) < 3_000_000, f"{entry}: plotly.js inlined"


def test_some_chapter_uses_plotly_once_one_exists():
    """Reported, not faked: the figure test above runs once a chapter imports plotly."""
    if not PLOTLY_NOTEBOOKS:
        pytest.skip("no chapter imports plotly yet; the built-figure test has nothing to check")


# ---------------------------------------------------------- rnnlib.book (no build needed)
def test_import_rnnlib_book_stays_light():
    import subprocess

    code = (
        "import sys, rnnlib, rnnlib.book\n"
        "heavy = [m for m in ('plotly', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_build_renderer_emits_html_without_plotly_js(monkeypatch):
    import plotly.graph_objects as go
    import plotly.io as pio

    import rnnlib.book as book

    monkeypatch.setattr(pio.renderers, "default", pio.renderers.default)
    monkeypatch.setenv(book.BUILD_ENV_VAR, "1")
    book.setup()
    assert pio.renderers.default == book.RENDERER_NAME
    fig = go.Figure(go.Scatter(y=[1, 3, 2]), layout_title_text="test")
    bundle = pio.renderers[book.RENDERER_NAME].to_mimebundle(fig.to_dict())
    assert list(bundle) == ["text/html"]
    html = bundle["text/html"]
    assert 'class="plotly-graph-div"' in html and "Plotly.newPlot(" in html
    assert "plotly.js v" not in html and len(html) < 100_000, "plotly.js was inlined"
    assert "mathjax" not in html.lower() and "<html" not in html


def test_setup_outside_the_build_leaves_plotly_alone(monkeypatch):
    import plotly.io as pio

    import rnnlib.book as book

    monkeypatch.setattr(pio.renderers, "default", "json")
    monkeypatch.delenv(book.BUILD_ENV_VAR, raising=False)
    book.setup()
    assert pio.renderers.default == "json"
    monkeypatch.setenv(book.BUILD_ENV_VAR, "0")
    book.setup()
    assert pio.renderers.default == "json"


def test_setup_sets_a_colour_blind_safe_matplotlib_style():
    import matplotlib.pyplot as plt
    import matplotlib.style

    import rnnlib.book as book

    book.setup(force_book_renderer=False)
    expected = matplotlib.style.library[book.MPL_STYLE]["axes.prop_cycle"]
    assert plt.rcParams["axes.prop_cycle"] == expected
    assert tuple(plt.rcParams["figure.figsize"]) == book.FIGSIZE


def test_setup_rejects_a_non_bool_flag():
    import rnnlib.book as book

    with pytest.raises(TypeError, match="force_book_renderer"):
        book.setup(force_book_renderer="yes")
