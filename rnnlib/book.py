"""Notebook setup shared by every chapter of the book.

Every chapter's first (hidden) cell calls :func:`setup`. It does two things:

1. **Plotly in the built book.** Since plotly 6.1, a kernel without a front end (which is how
   ``jupyter-book`` executes notebooks) emits only ``application/vnd.plotly.v1+json``, a type
   myst-nb cannot render, so figures vanish from the built pages. When the book build is running
   (it sets the environment variable :data:`BUILD_ENV_VAR`, see ``rnnbook/sphinx_ext.py``),
   :func:`setup` registers and selects the renderer :data:`RENDERER_NAME`, which emits ``text/html``
   made by ``plotly.io.to_html(..., include_plotlyjs=False, include_mathjax=False,
   full_html=False)``. The page loads one shared ``_static/plotly.min.js`` instead of inlining
   plotly.js into every figure. Everywhere else (JupyterLab, Binder, Colab, nbval) plotly's own
   renderers are left alone.
2. **Matplotlib.** A colour-blind-safe style (``tableau-colorblind10``) and a figure size that
   fits the book's text column.

Plotly and matplotlib are imported only inside :func:`setup`, so ``import rnnlib`` stays light.
"""

from __future__ import annotations

import os

__all__ = ["BUILD_ENV_VAR", "RENDERER_NAME", "MPL_STYLE", "FIGSIZE", "in_book_build", "setup"]

#: Set to ``"1"`` by the book build (``rnnbook/sphinx_ext.py``); executing kernels inherit it.
BUILD_ENV_VAR = "RNNBOOK_BUILD"
#: Name under which the build renderer is registered in ``plotly.io.renderers``. Never put it in
#: ``PLOTLY_RENDERER``: plotly rejects unknown names at import time.
RENDERER_NAME = "rnnbook_html"
#: Colour-blind-safe matplotlib style.
MPL_STYLE = "tableau-colorblind10"
#: Default matplotlib figure size in inches (width, height).
FIGSIZE = (7.0, 4.0)


def in_book_build() -> bool:
    """Return True when running inside the book build (``RNNBOOK_BUILD`` is set and not 0)."""
    return os.environ.get(BUILD_ENV_VAR, "") not in ("", "0")


def _make_renderer():
    """Build the plotly renderer used in the book build (imports plotly)."""
    from plotly.io import to_html
    from plotly.io.base_renderers import MimetypeRenderer

    class BookHtmlRenderer(MimetypeRenderer):
        """Emit ``text/html``: a plotly-graph-div and a ``Plotly.newPlot`` call, no plotly.js.

        The page provides ``Plotly`` through ``_static/plotly.min.js``. Animations do not
        auto-play, so a figure with sliders over frames opens on its first frame.
        """

        def to_mimebundle(self, fig_dict):
            html = to_html(
                fig_dict,
                include_plotlyjs=False,
                include_mathjax=False,
                full_html=False,
                auto_play=False,
                validate=False,
                config={"responsive": True},
                default_width="100%",
                default_height=525,  # as plotly's notebook renderer: no zero-height divs
            )
            return {"text/html": html}

    return BookHtmlRenderer()


def setup(*, force_book_renderer: bool | None = None) -> None:
    """Prepare a chapter's kernel: plotly renderer for the build, matplotlib style.

    Parameters
    ----------
    force_book_renderer:
        ``None`` (default) selects the build renderer only when :func:`in_book_build` is true;
        ``True``/``False`` force the choice (used by the tests).
    """
    if force_book_renderer is not None and not isinstance(force_book_renderer, bool):
        raise TypeError(
            f"force_book_renderer must be None or a bool, got {type(force_book_renderer).__name__}"
        )
    use_book_renderer = in_book_build() if force_book_renderer is None else force_book_renderer

    if use_book_renderer:
        import plotly.io as pio

        pio.renderers[RENDERER_NAME] = _make_renderer()
        pio.renderers.default = RENDERER_NAME

    import matplotlib.pyplot as plt

    plt.style.use(MPL_STYLE)
    plt.rcParams.update(
        {
            "figure.figsize": FIGSIZE,
            "figure.dpi": 100,
            "savefig.bbox": "tight",
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
