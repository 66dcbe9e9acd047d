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

Only the standard library is imported here; plotly's file is located without importing plotly.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from rnnbook import kernel_ports
from rnnlib.book import BUILD_ENV_VAR

PLOTLY_JS = "plotly.min.js"


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


def setup(app):
    os.environ[BUILD_ENV_VAR] = "1"
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
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
