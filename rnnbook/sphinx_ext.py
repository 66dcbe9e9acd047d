"""Sphinx extension for the book build (listed under ``sphinx: local_extensions`` in _config.yml).

It is part of the build machinery, not of the library the chapters teach:

* At setup it sets ``RNNBOOK_BUILD=1`` (:data:`rnnlib.book.BUILD_ENV_VAR`) in the build's
  environment. myst-nb starts the notebook kernels after that, so they inherit it and
  ``rnnlib.book.setup()`` selects the plotly renderer that emits ``text/html`` without
  plotly.js (see rnnlib/book.py for why).
* It adds ``plotly.min.js`` as a script to every HTML page and, when the build finishes, copies
  the file from the installed plotly package (``plotly/package_data/plotly.min.js``) into the
  output's ``_static/``: one shared copy, served locally (no CDN), never inlined per figure.
* It adds the role ``{chapter}`Title <docname>```: a link to the page when that page is part of
  the build (listed in _toc.yml), plain "Title (in preparation)" otherwise. The intro's chapter
  map uses it, so it neither goes stale nor warns while chapters are still being written.

* It makes the notebook kernels take ports outside the ephemeral range (rnnbook/kernel_ports.py).
* It sets ``TQDM_DISABLE=1`` for the executing kernels: progress bars stay live in Jupyter and
  never reach the built pages (a finished bar saved as widget state or text is residue).
* **Launch buttons open the student edition.** sphinx-book-theme builds the Binder, JupyterHub
  and Colab links of a chapter from ``book/<chapter>.ipynb`` (its ``add_launch_buttons``, an
  ``html-page-context`` handler at priority 501). :func:`_student_launch_buttons` runs after it
  (priority 510) and rewrites every link of the page's launch group to
  ``student/<chapter>.ipynb`` (:func:`student_launch_url`), the committed student edition that
  ``make student`` writes (rnnbook/assign.py), when that file exists.

* Solution cells (:class:`SolutionCells`): a code cell holding an nbgrader solution region shows
  its code without the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` marker lines (the
  notebooks keep them: the student edition and the grader need them), and its toggle says
  "Show the solution" instead of myst-nb's generic "Show code cell source" (a cell's own
  ``mystnb.code_prompt_show`` metadata still wins).
* Accessible names (:func:`_accessible_markup`): myst-nb's hidden-cell toggle is a ``<summary>``
  whose name is its visible text (myst-nb labels every one "Toggle hidden content", which
  does not match the text a reader sees); the bibliography's entries are list items (docutils
  writes the deprecated ``doc-biblioentry`` role inside a ``role="list"``, which leaves the list
  without items for assistive technology).

Only the standard library is imported here; plotly's file is located without importing plotly.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from html import escape
from pathlib import Path
from urllib.parse import quote

from rnnbook import kernel_ports
from rnnlib.book import BUILD_ENV_VAR

PLOTLY_JS = "plotly.min.js"
#: The committed student edition, relative to the repository root (written by `make student`).
STUDENT_DIR = "student"
#: After sphinx-book-theme's add_launch_buttons (501), before the page is rendered.
LAUNCH_PRIORITY = 510
REPO_ROOT = Path(__file__).resolve().parents[1]


def plotly_js_source() -> Path:
    """Path of ``plotly.min.js`` inside the installed plotly package."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("plotly is not installed; the book needs it (see requirements.txt)")
    path = Path(list(spec.submodule_search_locations)[0]) / "package_data" / PLOTLY_JS
    if not path.is_file():
        raise RuntimeError(f"plotly.min.js not found in the installed plotly package: {path}")
    return path


def _copy_plotly_js(app, exception) -> None:
    """On build-finished: copy plotly.min.js into <outdir>/_static/."""
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(plotly_js_source(), static / PLOTLY_JS)


def chapter_role(name, rawtext, text, lineno, inliner, options=None, content=()):
    """``{chapter}`Title <docname>```: link if the document is built, plain text otherwise."""
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.util.nodes import split_explicit_title

    env = inliner.document.settings.env
    _, title, target = split_explicit_title(text)
    target = target.removesuffix(".ipynb").removesuffix(".md")
    base = env.docname.rsplit("/", 1)[0] + "/" if "/" in env.docname else ""
    docname = target.lstrip("/") if target.startswith("/") else base + target
    if docname not in env.found_docs:
        return [nodes.Text(f"{title} (in preparation)")], []
    ref = addnodes.pending_xref(rawtext, refdomain="std", reftype="doc", reftarget="/" + docname,
                                refexplicit=True, refwarn=True, refdoc=env.docname)
    ref += nodes.inline(rawtext, title, classes=["xref", "std", "std-doc"])
    return [ref], []


def student_path(master: str) -> str:
    """``book/<chapter>.ipynb`` -> ``student/<chapter>.ipynb`` (the repository-relative path of a
    master notebook to that of its student edition)."""
    return f"{STUDENT_DIR}/{Path(master).name}"


def student_launch_url(url: str, master: str) -> str:
    """A launch URL that opens ``master`` (repository-relative, e.g. ``book/rnn_equations.ipynb``)
    rewritten to open its student edition instead.

    The master's path appears after a ``/`` in every provider's URL: Binder's
    ``?urlpath=lab/tree/book/x.ipynb``, Colab's ``/blob/<branch>/book/x.ipynb``, JupyterHub's
    (nbgitpuller) ``urlpath=lab/tree/<repo>/book/x.ipynb``, written as is or percent-encoded.
    """
    student = student_path(master)
    for old, new in ((master, student), (quote(master, safe=""), quote(student, safe=""))):
        url = re.sub(r"(?<=/|=)" + re.escape(old) + r"(?=$|[?&#])", new, url)
        url = re.sub(r"(?<=%2F)" + re.escape(old) + r"(?=$|[?&#])", new, url)
    return url


def _student_launch_buttons(app, pagename, templatename, context, doctree) -> None:
    """html-page-context: the launch group's links open the student edition of the chapter."""
    master = f"{pagename}.ipynb"
    if not (REPO_ROOT / student_path(master)).is_file():
        return
    for group in context.get("header_buttons", []) or []:
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if button.get("type") == "link" and button.get("url"):
                button["url"] = student_launch_url(button["url"], master)
                button["tooltip"] = f"{button.get('tooltip', '')} (student edition)".strip()


#: A line of an nbgrader solution region's markers (the whole line, with its indentation).
SOLUTION_MARKER_LINE = re.compile(r"^[ \t]*### (?:BEGIN|END) SOLUTION[ \t]*(?:\n|$)", re.M)
SOLUTION_PROMPT_SHOW = "Show the solution"
SOLUTION_PROMPT_HIDE = "Hide the solution"


def strip_solution_markers(code: str) -> str:
    """``code`` without its ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines."""
    return SOLUTION_MARKER_LINE.sub("", code).rstrip("\n")


def _solution_cells(document) -> None:
    """The work of :class:`SolutionCells` on one doctree (see the module docstring)."""
    from docutils import nodes

    for cell in document.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        metadata = cell.get("cell_metadata") or {}
        solution = bool((metadata.get("nbgrader") or {}).get("solution"))
        for block in cell.findall(nodes.literal_block):
            if block.parent.get("nb_element") != "cell_code_source":
                continue
            code = block.astext()
            if not SOLUTION_MARKER_LINE.search(code):
                continue
            solution = True
            code = strip_solution_markers(code)
            # rawsource must equal the text, or Sphinx treats the block as parsed-literal
            # and drops its syntax highlighting
            block.rawsource = code
            block[:] = [nodes.Text(code)]
        own = metadata.get("mystnb") or {}
        if solution and "prompt_show" in cell and "code_prompt_show" not in own:
            cell["prompt_show"] = SOLUTION_PROMPT_SHOW
            cell["prompt_hide"] = SOLUTION_PROMPT_HIDE


def _make_solution_cells_transform():
    from sphinx.transforms import SphinxTransform

    class SolutionCells(SphinxTransform):
        """Solution code cells: no nbgrader marker lines, a toggle saying "Show the solution"."""

        default_priority = 500  # on the parsed notebook, before myst-nb's post-transforms

        def apply(self, **kwargs) -> None:
            _solution_cells(self.document)

    return SolutionCells


def _visit_hide_cell(self, node) -> None:
    """myst-nb's ``HideCodeCellNode`` as HTML, without its ``aria-label``: the ``<summary>``'s
    accessible name is then the prompt a reader sees ("Show the solution")."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n'
                     f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n'
                     f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n'
                     "</summary>\n")


def _depart_hide_cell(self, node) -> None:
    self.body.append("</details>\n")


def _override_hide_cell_html(app) -> None:
    """On builder-inited (after myst-nb registered its node): our HTML for hidden cells."""
    try:
        from myst_nb.sphinx_ import HideCodeCellNode
    except ImportError:  # myst-nb absent: nothing to override
        return
    app.add_node(HideCodeCellNode, override=True, html=(_visit_hide_cell, _depart_hide_cell))


def _accessible_markup(app, pagename, templatename, context, doctree) -> None:
    """On html-page-context: the bibliography's entries as list items (see module docstring)."""
    body = context.get("body")
    if isinstance(body, str) and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def setup(app):
    os.environ[BUILD_ENV_VAR] = "1"
    # tqdm reads TQDM_<ARG> defaults from the environment: no progress bar in the built pages
    os.environ["TQDM_DISABLE"] = "1"
    kernel_ports.install()  # no "Address already in use" when kernels start side by side
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # small matrices: one BLAS thread per kernel is fastest
    plotly_js_source()  # fail early, before executing notebooks, if the file is missing
    # Loaded synchronously in <head>, so every figure's inline Plotly.newPlot(...) finds
    # window.Plotly. Priority 200 puts it before require.js (myst-nb's widget scripts, 500):
    # plotly.min.js is a UMD bundle that, after require.js, registers as an AMD module instead
    # of setting window.Plotly ("Plotly is not defined").
    app.add_js_file(PLOTLY_JS, priority=200)
    # MathJax, require.js and the widgets' html-manager from _static/vendor (no CDN).
    from rnnbook.offline_assets import setup as setup_offline_assets

    setup_offline_assets(app)
    app.connect("build-finished", _copy_plotly_js)
    app.add_role("chapter", chapter_role)
    app.connect("html-page-context", _student_launch_buttons, priority=LAUNCH_PRIORITY)
    app.add_transform(_make_solution_cells_transform())
    app.connect("builder-inited", _override_hide_cell_html)
    app.connect("html-page-context", _accessible_markup)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
