"""Notebook setup shared by every chapter of the book.

Every chapter's first (hidden) cell calls :func:`setup`. It does five things:

1. **Plotly in the built book.** Since plotly 6.1, a kernel without a front end (which is how
   ``jupyter-book`` executes notebooks) emits only ``application/vnd.plotly.v1+json``, a type
   myst-nb cannot render, so figures vanish from the built pages. When the book build is running
   (it sets the environment variable :data:`BUILD_ENV_VAR`, see ``rnnbook.sphinx_ext``),
   :func:`setup` registers and selects the renderer :data:`RENDERER_NAME`, which emits ``text/html``
   made by ``plotly.io.to_html(..., include_plotlyjs=False, include_mathjax=False,
   full_html=False)``. The page loads one shared ``_static/plotly.min.js`` instead of inlining
   plotly.js into every figure. Everywhere else (JupyterLab, Binder, Colab, nbval) plotly's own
   renderers are left alone.
2. **Matplotlib.** A colour-blind-safe style (``tableau-colorblind10``), a figure as wide as the
   book's text column (688 px at a 1280 px window: :data:`FIGSIZE` at :data:`FIGURE_DPI`) and
   font sizes (:data:`MPL_FONT_SIZES`) whose smallest text is at least 11 px at that width.
   Every PNG a kernel shows records its smallest text (:func:`png_with_font_record`): the
   browser tests read it and scale it by the width the page draws the image at.
3. **Plotly.** The template ``"plotly+rnnbook"``: plotly's own with a
   :data:`PLOTLY_FONT_SIZE` px font (ticks, legends, annotations; titles larger).
4. **No progress bars in the built pages.** The build sets ``TQDM_DISABLE=1``; tqdm reads it
   only as the default of ``disable``, and rnnlib's training loops pass ``disable=not
   progress`` explicitly, so :func:`setup` makes the variable win (:func:`_silence_tqdm`):
   finished bars would otherwise be saved into the pages as widget state. In Jupyter the
   variable is unset and the bars stay live.
5. **Colab** (``google.colab`` imported): the live figures are ipywidgets plus plotly's
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

__all__ = ["BUILD_ENV_VAR", "RENDERER_NAME", "MPL_STYLE", "FIGSIZE", "FIGURE_DPI", "COLUMN_PX",
           "MIN_FONT_PX", "MPL_FONT_SIZES", "PLOTLY_FONT_SIZE", "PLOTLY_TITLE_SIZE", "PLOTLY_TEMPLATE",
           "PNG_FONT_KEY", "COLAB_REQUIREMENTS", "smallest_text", "png_with_font_record",
           "read_png_font_record", "in_book_build", "in_colab", "setup", "setup_colab", "glue"]

#: Set to ``"1"`` by the book build (``rnnbook.sphinx_ext``); executing kernels inherit it.
BUILD_ENV_VAR = "RNNBOOK_BUILD"
#: Name under which the build renderer is registered in ``plotly.io.renderers``. Never put it in
#: ``PLOTLY_RENDERER``: plotly rejects unknown names at import time.
RENDERER_NAME = "rnnbook_html"
#: Colour-blind-safe matplotlib style.
MPL_STYLE = "tableau-colorblind10"
#: The book's text column in CSS px at a 1280 px window (pydata-sphinx-theme's article).
COLUMN_PX = 688
#: The smallest text a figure may have when shown at the column's width, in CSS px.
MIN_FONT_PX = 11
#: Matplotlib's figure resolution: 1 inch = 100 px, 1 pt = 100/72 px.
FIGURE_DPI = 100
#: Default matplotlib figure size in inches (width, height): the column's width at FIGURE_DPI,
#: so a figure is drawn at its own size (scale 1) in the book.
FIGSIZE = (COLUMN_PX / FIGURE_DPI, 4.0)
#: Matplotlib font sizes in pt (1 pt = 1.39 px at FIGURE_DPI). The smallest, 12 pt, is
#: 16.7 px at scale 1, so that a mathtext super- or subscript (70 % of its label: a log axis's
#: exponent in 10⁻², $h^{(t)}$ in a legend) is 11.7 px.
MPL_FONT_SIZES = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "legend.title_fontsize": 12,
    "figure.titlesize": 14,
}
#: Plotly's base font size in px (plotly's own is 12). Plotly draws some text smaller: a log
#: axis's labels between the powers of ten at 75 % (11.25 px), <sup>/<sub> at 70 %, which the
#: book's CSS (_static/rnnbook.css) raises to 80 % (12 px).
PLOTLY_FONT_SIZE = 15
#: Plotly's title size in px (plotly's own is 1.4 times the base font).
PLOTLY_TITLE_SIZE = 18
#: Name of the book's plotly template (selected as ``"plotly+rnnbook"``).
PLOTLY_TEMPLATE = "rnnbook"
#: PNG text chunk holding a figure's smallest text in image pixels (see png_with_font_record).
PNG_FONT_KEY = "rnnbook:min-font-px"
#: Matplotlib's mathtext draws super- and subscripts at this fraction of their label's size.
MATHTEXT_SCRIPT_SHRINK = 0.7


def in_book_build() -> bool:
    """Return True when running inside the book build (``RNNBOOK_BUILD`` is set and not 0)."""
    return os.environ.get(BUILD_ENV_VAR, "") not in ("", "0")


#: What the live figures need in Colab besides what Colab ships (see :func:`setup_colab`).
COLAB_REQUIREMENTS = ("plotly>=6.1", "anywidget>=0.9")


def glue(name: str, value, display: bool = False):
    """Record ``value`` under ``name`` for the built page's prose (``{glue:text}`name:.2f```):
    myst-nb's ``glue`` where myst-nb is installed (the book build, a local venv, Binder);
    elsewhere (Colab, which lacks myst-nb) nothing, so a chapter runs the same everywhere.
    A NumPy scalar is glued as the Python number it holds: myst-nb formats a glued number from
    its ``repr``, which NumPy 2 writes as ``np.float64(...)``, so ``:.2f`` would fail on it."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return None
    if hasattr(value, "item") and getattr(value, "shape", None) == ():   # NumPy scalar or 0-d
        value = value.item()
    return myst_glue(name, value, display=display)


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


def smallest_text(fig) -> tuple[float, str]:
    """The smallest visible text of a drawn matplotlib figure: (size in pt, the text).

    Every visible, non-empty :class:`matplotlib.text.Text` of the figure counts (titles, axis
    labels, tick labels, legends, annotations, colorbars). A text with mathtext super- or
    subscripts (``$h^{(t)}$``) counts at the scripts' size, 70 % of its own. Call it after the
    figure is drawn (tick labels exist only then). ``(inf, "")`` for a figure without text.
    """
    from matplotlib.text import Text

    size, smallest = float("inf"), ""
    hidden = _not_drawn(fig)
    for text in fig.findobj(Text):
        label = text.get_text()
        if not label.strip() or not text.get_visible() or id(text) in hidden:
            continue
        points = float(text.get_fontsize())
        if "$" in label and ("^" in label or "_" in label):
            points *= MATHTEXT_SCRIPT_SHRINK
        if points < size:
            size, smallest = points, label
    return size, smallest


def _not_drawn(fig) -> set:
    """ids of the figure's texts that matplotlib keeps but does not draw: everything in a
    hidden axes, the labels of a hidden axis, and the labels of ticks outside the view limits
    (a tick label's own ``axes`` is not set, so they are found through their axis)."""
    from matplotlib.text import Text

    hidden = set()
    for ax in fig.axes:
        if not ax.get_visible():
            hidden.update(id(t) for t in ax.findobj(Text))
            continue
        for axis in ax._axis_map.values():
            for tick in [*axis.majorTicks, *axis.minorTicks]:
                if not (axis.get_visible() and tick.get_visible() and _tick_in_view(axis, tick)):
                    hidden.update((id(tick.label1), id(tick.label2)))
            if not axis.get_visible():
                hidden.add(id(axis.label))
    return hidden


def _tick_in_view(axis, tick) -> bool:
    """A tick label is drawn only when its tick lies inside the axis's view interval."""
    low, high = sorted(axis.get_view_interval())
    loc = tick.get_loc()
    if loc is None:
        return False
    span = (high - low) or 1.0
    return low - 1e-9 * span <= loc <= high + 1e-9 * span


def _png_text_chunk(png: bytes, key: str, value: str) -> bytes:
    """``png`` with an iTXt chunk (UTF-8 text) ``key``/``value`` inserted after its IHDR."""
    import struct
    import zlib

    signature, ihdr_end = png[:8], 8 + 8 + 13 + 4  # signature, IHDR length+type, data, CRC
    if signature != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    # keyword, NUL, compression flag 0, method 0, empty language tag, NUL, empty keyword, NUL
    data = key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + data) & 0xFFFFFFFF)
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def png_with_font_record(fig, **kwargs) -> bytes:
    """The PNG of ``fig`` as IPython shows it (tight bounding box), recording its smallest text.

    The record is the PNG text chunk :data:`PNG_FONT_KEY`: the smallest text's size in the
    image's own pixels (``pt * dpi / 72``), followed by the text itself. Shown ``w`` px wide,
    an image ``W`` px wide draws that text at ``size * w / W`` CSS px.
    """
    from IPython.core.pylabtools import print_figure

    png = print_figure(fig, fmt="png", base64=False, **kwargs)  # draws the figure
    if not png:
        return png
    dpi = kwargs.get("dpi") or fig.dpi
    points, text = smallest_text(fig)
    if points == float("inf"):
        value = "none"
    else:
        value = f"{points * dpi / 72:.2f} {text[:60]}"
    return _png_text_chunk(png, PNG_FONT_KEY, value)


def read_png_font_record(png: bytes) -> tuple[float, str] | None:
    """(smallest text in image px, the text) recorded by :func:`png_with_font_record`, or None
    when the PNG has no record; ``(inf, "")`` for a figure without text."""
    import struct

    pos = 8
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"iTXt":
            key, _, rest = png[pos + 8:pos + 8 + length].partition(b"\0")
            if key.decode("latin-1") == PNG_FONT_KEY:
                # compression flag and method, then language tag and translated keyword
                _, _, rest = rest[2:].partition(b"\0")
                _, _, value = rest.partition(b"\0")
                value = value.decode("utf-8")
                if value == "none":
                    return float("inf"), ""
                size, _, text = value.partition(" ")
                return float(size), text
        if kind == b"IDAT":
            break
        pos += 12 + length
    return None


def _register_png_formatter() -> None:
    """Make the running IPython kernel show matplotlib figures with :func:`png_with_font_record`.

    The inline backend configures IPython's formatters once, when its module is first imported
    (on a first figure, or here via switch_backend): resolve it first, then register ours, so
    the inline backend does not replace it later.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # no IPython: plain Python saves figures itself
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    backend = matplotlib.get_backend()
    if "inline" not in backend:
        return
    plt.switch_backend(backend)  # imports the inline backend: its one-time configuration runs now
    formatter = shell.display_formatter.formatters["image/png"]
    formatter.for_type(Figure, lambda fig: png_with_font_record(fig, bbox_inches="tight"))


def _register_plotly_template() -> None:
    import plotly.graph_objects as go
    import plotly.io as pio

    pio.templates[PLOTLY_TEMPLATE] = go.layout.Template(
        layout={"font": {"size": PLOTLY_FONT_SIZE}, "title": {"font": {"size": PLOTLY_TITLE_SIZE}}})
    pio.templates.default = f"plotly+{PLOTLY_TEMPLATE}"


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

    _register_plotly_template()

    import matplotlib.pyplot as plt

    _register_png_formatter()
    plt.style.use(MPL_STYLE)
    plt.rcParams.update(
        {
            **MPL_FONT_SIZES,
            "figure.figsize": FIGSIZE,
            "figure.dpi": FIGURE_DPI,
            "savefig.bbox": "tight",
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
