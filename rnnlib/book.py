"""Notebook setup shared by every chapter of the book.

Every chapter's first (hidden) cell calls :func:`setup`. It does two things:

1. **Plotly in the built book.** Since plotly 6.1, a kernel without a front end (which is how
   ``jupyter-book`` executes notebooks) emits only ``application/vnd.plotly.v1+json``, a type
   myst-nb cannot render, so figures vanish from the built pages. When the book build is running
   (it sets the environment variable :data:`BUILD_ENV_VAR`, see the build's Sphinx extension, ``rnnbook.sphinx_ext``),
   :func:`setup` registers and selects the renderer :data:`RENDERER_NAME`, which emits ``text/html``
   made by ``plotly.io.to_html(..., include_plotlyjs=False, include_mathjax=False,
   full_html=False)``. The page loads one shared ``_static/plotly.min.js`` instead of inlining
   plotly.js into every figure. Everywhere else (JupyterLab, Binder, Colab, nbval) plotly's own
   renderers are left alone.
2. **Matplotlib.** A colour-blind-safe style (``tableau-colorblind10``) and a figure size that
   fits the book's text column.
3. **No progress bars in the built pages.** The build sets ``TQDM_DISABLE=1``; tqdm reads it
   only as the default of ``disable``, and rnnlib's training loops pass ``disable=not
   progress`` explicitly, so :func:`setup` makes the variable win (:func:`_silence_tqdm`):
   finished bars would otherwise be saved into the pages as widget state. In Jupyter the
   variable is unset and the bars stay live.
4. **Colab** (``google.colab`` imported): the live figures are ipywidgets plus plotly's
   ``FigureWidget``, a third-party widget, which Colab shows only after
   ``google.colab.output.enable_custom_widget_manager()``; and plotly's FigureWidget needs
   plotly 6 or later and ``anywidget``, which Colab may lack: :func:`setup_colab` installs them
   (pip, into the running kernel, before plotly is first imported) and enables the manager.
   Without them the widgets would still redraw (rnnlib/widgets: the fallback), only slower.

Plotly and matplotlib are imported only inside :func:`setup`, so ``import rnnlib`` stays light.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys

__all__ = ["BUILD_ENV_VAR", "RENDERER_NAME", "MPL_STYLE", "FIGSIZE", "COLAB_REQUIREMENTS",
           "in_book_build", "in_colab", "setup", "setup_colab"]

#: Set to ``"1"`` by the book build (``rnnbook.sphinx_ext``); executing kernels inherit it.
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


#: What the live figures need in Colab besides what Colab ships (see :func:`setup_colab`).
COLAB_REQUIREMENTS = ("plotly>=6.1", "anywidget>=0.9")


def in_colab() -> bool:
    """True in a Google Colab kernel (its ``google.colab`` package is imported there)."""
    return "google.colab" in sys.modules


def _colab_missing():
    """The requirements of COLAB_REQUIREMENTS not met in this kernel."""
    from importlib.metadata import PackageNotFoundError, version

    missing = []
    for requirement in COLAB_REQUIREMENTS:
        name, _, minimum = requirement.partition(">=")
        try:
            have = tuple(int(p) for p in version(name).split(".")[:2] if p.isdigit())
        except PackageNotFoundError:
            missing.append(requirement)
            continue
        if have < tuple(int(p) for p in minimum.split(".")):
            missing.append(requirement)
    return missing


def setup_colab(run=subprocess.run) -> list:
    """In Colab: install what the live figures need (returns what was installed) and enable
    Colab's custom widget manager. Elsewhere: nothing (returns [])."""
    if not in_colab():
        return []
    missing = _colab_missing()
    if missing:
        if "plotly" in sys.modules and any(r.startswith("plotly") for r in missing):
            print("rnnlib.book.setup(): plotly was imported before the upgrade; restart the "
                  "session (Runtime > Restart session) and run the notebook again")
        run([sys.executable, "-m", "pip", "install", "-q", *missing], check=False)
        importlib.invalidate_caches()
    from google.colab import output

    output.enable_custom_widget_manager()
    return missing


def _silence_tqdm() -> bool:
    """When ``TQDM_DISABLE`` is set (not 0/false), every tqdm bar is disabled, even one created
    with an explicit ``disable=False``; returns whether it did anything."""
    if os.environ.get("TQDM_DISABLE", "").lower() in ("", "0", "false", "no"):
        return False
    import tqdm
    import tqdm.auto
    import tqdm.std

    def silenced(base):
        if getattr(base, "_rnnbook_silenced", False):
            return base

        class Silent(base):
            _rnnbook_silenced = True

            def __init__(self, *args, **kwargs):
                kwargs["disable"] = True
                super().__init__(*args, **kwargs)

        Silent.__name__ = Silent.__qualname__ = base.__name__
        return Silent

    for module in (tqdm, tqdm.auto, tqdm.std):
        module.tqdm = silenced(module.tqdm)
    try:
        import tqdm.notebook

        tqdm.notebook.tqdm = silenced(tqdm.notebook.tqdm)
    except ImportError:
        pass
    return True


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
    setup_colab()
    _silence_tqdm()

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
