"""Interactive figures for the book: one data function, two thin views.

Every widget of the book follows the pattern of :mod:`rnnlib.widgets.hidden_state` (first used
in the chapter "Recurrence and unfolding"). A widget author writes three small functions:

``data(**controls) -> dict of arrays``
    All the computation, pure NumPy, keyword arguments named like the controls. Both views
    call this same function, so the live widget and the static twin can never disagree.
``figure(data) -> plotly.graph_objects.Figure``
    Builds the traces and the layout once (titles, axis labels, colours, legend).
``traces(data) -> list of dict``
    One dict per trace of ``figure(data)``, in the same order, holding only the trace
    attributes that change with the data (for example ``{"x": ..., "y": ...}``).

and gets two views from this module:

* :class:`LiveFigure` (Jupyter, Binder, Colab): ipywidgets controls, each with its label above
  it in a grid (every slider's track stays wide), and a ``go.FigureWidget``; moving a control
  calls ``data`` and writes only the trace attributes that changed into the existing traces
  inside one ``batch_update`` (updated in place: no flicker, no re-creation).
  ``last_compute_seconds`` records the time ``data`` took. FigureWidget needs the ``anywidget``
  package; without it the figure is redrawn in an ``ipywidgets.Output`` on every change. During
  the book build it makes no ipywidget at all and displays one line saying where the live
  version runs, and the kernel-free twin.
* :func:`slider_figure` (the built book, no kernel): a plain ``go.Figure`` with one frame per
  point of a grid of control values, computed by the same ``data``, and plotly sliders (one per
  value of an optional second, "button" control, switched by buttons). Numbers are rounded to a
  few significant digits and axis ranges are precomputed per frame, so the figure stays small and
  every frame is scaled to its data. Keep the grid modest (tens of frames): the whole figure is
  embedded in the page.

Minimal example::

    def data(frequency=1.0):
        t = np.linspace(0, 1, 50)
        return {"t": t, "y": np.sin(2 * np.pi * frequency * t)}

    def figure(d):
        return go.Figure(go.Scatter(x=d["t"], y=d["y"]), layout=dict(title="a sine"))

    def traces(d):
        return [{"y": d["y"]}]

    live = LiveFigure(data, figure, traces,
                      {"frequency": Control("FloatSlider", "frequency", value=1.0, min=0.5, max=4)})
    live                     # displays controls + figure in Jupyter
    slider_figure(data, figure, traces, slider=("frequency", [0.5, 1, 2, 4])).show()
"""

from __future__ import annotations

import time
import warnings

import numpy as np

__all__ = ["LiveFigure", "Control", "STATIC_NOTE", "slider_figure", "round_significant", "round_relative", "frame_name"]


def round_significant(value, digits=4):
    """Round every number in ``value`` (array, list or scalar) to ``digits`` significant digits
    and return plain Python floats/lists (short JSON). Non-finite numbers become None."""
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be an int >= 1, got {digits!r}")
    array = np.asarray(value, dtype=np.float64)
    fmt = f"{{:.{digits}g}}"
    flat = [float(fmt.format(v)) if np.isfinite(v) else None for v in array.ravel()]
    if array.ndim == 0:
        return flat[0]
    return np.array(flat, dtype=object).reshape(array.shape).tolist()


def round_relative(value, digits=4):
    """Round ``value`` to multiples of 10^-(digits-1) times the power of ten of its largest
    magnitude: on a linear axis anything smaller is invisible, and zeros keep the JSON short.
    Returns plain Python floats/lists (non-finite numbers become None)."""
    array = np.asarray(value, dtype=np.float64)
    finite = np.isfinite(array)
    scale = np.max(np.abs(array[finite])) if finite.any() else 0.0
    if scale == 0:
        return round_significant(array, digits)
    quantum = 10.0 ** (np.floor(np.log10(scale)) - digits + 1)
    rounded = np.where(finite, np.round(np.where(finite, array, 0) / quantum) * quantum + 0.0,
                       np.nan)
    return round_significant(rounded, digits)


def _rounded_update(update, digits, log_keys=()):
    """Round the numeric arrays of one trace update: significant digits for keys drawn on a log
    axis (``log_keys``), relative to the largest value otherwise."""
    out = {}
    for key, value in update.items():
        if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number):
            out[key] = (round_significant(value, digits) if key in log_keys
                        else round_relative(value, digits))
        else:
            out[key] = value
    return out


def _log_keys(fig):
    """For every trace, the set of its keys ("x", "y") drawn on a log axis."""
    keys = []
    for trace in fig.data:
        found = set()
        for letter in ("x", "y"):
            axis_ref = getattr(trace, f"{letter}axis", None) or letter
            if fig.layout[axis_ref.replace(letter, f"{letter}axis", 1)].type == "log":
                found.add(letter)
        keys.append(found)
    return keys


def frame_name(slider_value, button_value=None):
    """The name of the frame for one grid point: ``"<button>|<slider>"`` or ``"<slider>"``."""
    return f"{slider_value}" if button_value is None else f"{button_value}|{slider_value}"


def _check_views(data_fn, figure_fn, traces_fn):
    for name, fn in (("data_fn", data_fn), ("figure_fn", figure_fn), ("traces_fn", traces_fn)):
        if not callable(fn):
            raise TypeError(f"{name} must be callable, got {type(fn).__name__}")


def _trace_updates(fig, traces_fn, data):
    updates = traces_fn(data)
    if len(updates) != len(fig.data):
        raise ValueError(f"traces_fn returned {len(updates)} updates for a figure with "
                         f"{len(fig.data)} traces")
    return updates


def _axis_ranges(fig, updates, pad=0.05):
    """Layout entries {"xaxis.range": [lo, hi], ...} fitting the data of ``updates`` (each
    trace's x and y, merged with the base figure), log axes in log10 units."""
    values = {}
    for trace, update in zip(fig.data, updates):
        for letter in ("x", "y"):
            axis_ref = getattr(trace, f"{letter}axis", None) or letter
            axis = axis_ref.replace(letter, f"{letter}axis", 1)
            v = update.get(letter, getattr(trace, letter, None))
            if v is None:
                continue
            v = np.asarray(v, dtype=np.float64).ravel()
            values.setdefault(axis, []).append(v)
    layout = {}
    for axis, chunks in values.items():
        v = np.concatenate(chunks)
        log = fig.layout[axis].type == "log"
        if fig.layout[axis].range is not None and fig.layout[axis].autorange is False:
            continue
        v = v[np.isfinite(v)]
        if log:
            v = np.log10(v[v > 0])
        if v.size == 0:
            continue
        lo, hi = float(v.min()), float(v.max())
        span = hi - lo if hi > lo else max(1.0 if log else abs(hi), 1e-12)
        layout[f"{axis}.range"] = round_significant([lo - pad * span, hi + pad * span], 6)
    return layout


class Control:
    """A control described, not yet made: ``Control("FloatSlider", "spectral radius ρ(W)",
    value=0.9, min=0.1, max=3.0, step=0.05)``.

    :class:`LiveFigure` turns it into the ipywidget ``kind`` (a class name of ``ipywidgets``)
    with ``label`` shown above it, or, where no kernel will ever answer (the book build), into a
    :class:`StaticControl` holding the same value: no widget state is then saved into the page.
    """

    def __init__(self, kind, label, **kwargs):
        if not isinstance(kind, str) or not isinstance(label, str):
            raise TypeError(f"Control(kind, label, ...) takes two strings, got {kind!r}, {label!r}")
        self.kind, self.label, self.kwargs = kind, label, kwargs

    def __repr__(self):
        return f"Control({self.kind!r}, {self.label!r}, **{self.kwargs!r})"


def _static_control_class():
    import traitlets

    class StaticControl(traitlets.HasTraits):
        """A control's value without a front end (the book build): setting ``value`` notifies
        observers exactly as an ipywidget does, so code that drives a widget still works."""

        value = traitlets.Any()

        def __init__(self, kind, label, **kwargs):
            super().__init__(value=kwargs.get("value"))
            self.kind, self.label, self.options = kind, label, kwargs.get("options")

    return StaticControl


#: Width of one control's cell in the controls' grid: label above, the control below. With
#: the readout beside it, a slider's track keeps about 190 px of it (issue: tracks of 2-40 px
#: when a long description shared a 230 px box). The grid puts as many cells in a row as fit.
CONTROL_MIN_WIDTH = "260px"
#: The line a static page shows above a live widget's kernel-free twin.
STATIC_NOTE = ("The live version of this figure, with a control for every parameter, runs in "
               "Jupyter: open this chapter in Binder or Colab with the launch button (the rocket "
               "at the top of the page), or locally with `make lab`. Below, its kernel-free twin.")


def _make_control(control):
    """(the ipywidget, the box shown: its label above it) for a :class:`Control`."""
    import ipywidgets as widgets

    kwargs = dict(control.kwargs)
    kwargs.setdefault("layout", widgets.Layout(width="100%"))
    if control.kind.endswith("Slider"):
        kwargs.setdefault("continuous_update", True)
    widget = getattr(widgets, control.kind)(**kwargs)
    widget.description = ""
    widget.tooltip = control.label if hasattr(widget, "tooltip") else None
    label = widgets.HTML(f"<span class='rnnlib-control-label'>{control.label}</span>",
                         layout=widgets.Layout(margin="0 0 -4px 4px"))
    box = widgets.VBox([label, widget], layout=widgets.Layout(min_width="0", overflow="hidden"))
    box.add_class("rnnlib-control")
    return widget, box


def _changed(previous, value):
    """Whether a trace attribute differs from what the figure was last sent."""
    if previous is None:
        return True
    a, b = np.asarray(previous), np.asarray(value)
    if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
        return True
    if a.dtype.kind in "fc":
        return not np.array_equal(a, b, equal_nan=True)
    return not np.array_equal(a, b)


class LiveFigure:
    """The live view: ipywidgets ``controls`` (a dict name -> :class:`Control` or ipywidget) in a
    grid above a plotly figure that every change of a control redraws.

    Three modes (``mode``):

    ``"live"``
        Jupyter, Binder, Colab with anywidget: a ``go.FigureWidget`` updated in place. An update
        sends only the trace attributes that changed (usually the y values), inside one
        ``batch_update``: one message, one redraw.
    ``"redraw"``
        No anywidget (plotly's FigureWidget needs it): the figure is a plain ``go.Figure`` in an
        ``ipywidgets.Output`` that every change clears and displays again, so the controls are
        never dead (slower: the whole figure is sent each time).
    ``"static"``
        The book build (``live=False``, the default there, see :mod:`rnnlib.book`): no kernel
        will ever answer the page, so no ipywidget is made (no saved widget state, no dead
        controls). Displaying the LiveFigure shows :data:`STATIC_NOTE` and the kernel-free twin
        ``static_fn()`` (a :func:`slider_figure`), or the plain figure when there is none.
        The controls are :class:`StaticControl` objects: setting their value still updates
        ``data`` and ``figure``.

    ``figure`` is the plotly figure, ``widget`` the whole box (display the LiveFigure itself),
    ``data`` the data of the last update, ``last_compute_seconds`` the time the data function
    took for it, ``updates`` the number of updates and ``sent`` the attributes the last one sent
    (``[(trace index, key), ...]``). ``update()`` recomputes from the controls' current values.
    """

    def __init__(self, data_fn, figure_fn, traces_fn, controls, columns=None, live=None,
                 static_fn=None):
        import plotly.graph_objects as go

        from ..book import in_book_build

        _check_views(data_fn, figure_fn, traces_fn)
        if not isinstance(controls, dict) or not controls:
            raise TypeError("controls must be a non-empty dict name -> Control or ipywidget")
        if static_fn is not None and not callable(static_fn):
            raise TypeError(f"static_fn must be callable or None, got {type(static_fn).__name__}")
        live = (not in_book_build()) if live is None else bool(live)
        self.mode = "live" if live else "static"
        self.data_fn, self.figure_fn, self.traces_fn, self.static_fn = data_fn, figure_fn, traces_fn, static_fn
        self.controls, boxes = {}, []
        StaticControl = _static_control_class() if self.mode == "static" else None
        for name, control in controls.items():
            if isinstance(control, Control):
                if self.mode == "static":
                    widget, box = StaticControl(control.kind, control.label, **control.kwargs), None
                else:
                    widget, box = _make_control(control)
            else:
                widget, box = control, control
            self.controls[name] = widget
            if box is not None:
                boxes.append(box)
        start = time.perf_counter()
        self.data = data_fn(**self.values())
        self.last_compute_seconds = time.perf_counter() - start
        self.figure = figure_fn(self.data)
        if self.mode == "live":
            try:
                self.figure = go.FigureWidget(self.figure)
            except ImportError as error:            # plotly's FigureWidget needs anywidget
                warnings.warn(f"{error}: the figure is redrawn on every change instead of "
                              "updated in place (install anywidget for faster updates)")
                self.mode = "redraw"
        self._sent = [{key: value for key, value in update.items()}
                      for update in _trace_updates(self.figure, traces_fn, self.data)]
        self.sent, self.updates = [], 0
        #: True sends every attribute of traces_fn on each update, changed or not (what the
        #: widgets did before; benchmarks/bench_widget_redraw.py compares the two)
        self.send_unchanged = False
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.widget = self.output = None
        if self.mode != "static":
            import ipywidgets as widgets

            grid = widgets.GridBox(boxes, layout=widgets.Layout(
                grid_template_columns=(f"repeat({columns}, minmax({CONTROL_MIN_WIDTH}, 1fr))" if columns
                                       else f"repeat(auto-fill, minmax({CONTROL_MIN_WIDTH}, 1fr))"),
                grid_gap="2px 16px", width="100%"))
            grid.add_class("rnnlib-controls")
            if self.mode == "live":
                shown = self.figure
            else:
                self.output = widgets.Output()
                self._redraw()
                shown = self.output
            self.widget = widgets.VBox([grid, shown], layout=widgets.Layout(width="100%"))
            self.widget.add_class("rnnlib-live-figure")

    @property
    def live(self):
        """True when the figure is updated in place (a FigureWidget)."""
        return self.mode == "live"

    def values(self):
        """The controls' current values, as keyword arguments of the data function."""
        return {name: control.value for name, control in self.controls.items()}

    def update(self):
        """Recompute the data from the controls and write what changed into the traces."""
        start = time.perf_counter()
        data = self.data_fn(**self.values())
        self.last_compute_seconds = time.perf_counter() - start
        updates = _trace_updates(self.figure, self.traces_fn, data)
        sent = [(i, key) for i, update in enumerate(updates) for key, value in update.items()
                if self.send_unchanged or _changed(self._sent[i].get(key), value)]
        with self.figure.batch_update():
            for i, key in sent:
                self.figure.data[i][key] = updates[i][key]
                self._sent[i][key] = updates[i][key]
        self.data, self.sent = data, sent
        self.updates += 1
        if self.mode == "redraw":
            self._redraw()

    def _redraw(self):
        from IPython.display import display

        with self.output:
            self.output.clear_output(wait=True)
            display(self.figure)

    def _on_change(self, change):
        self.update()

    def _ipython_display_(self):
        from IPython.display import Markdown, display

        if self.mode == "static":
            display(Markdown(STATIC_NOTE))
            (self.static_fn() if self.static_fn is not None else self.figure).show()
        else:
            display(self.widget)


# Height in pixels of the band at the top of a figure where plotly draws its modebar (the tool
# buttons it shows, top right, while the pointer is over the figure): a title drawn in this band
# is hidden behind the buttons on a narrow page.
MODEBAR_BAND = 36


def slider_figure(data_fn, figure_fn, traces_fn, slider, buttons=None, fixed=None, active=None,
                  digits=4, slider_prefix=None, button_label=None, title=None):
    """The static, kernel-free view: a ``go.Figure`` with a frame for every grid point.

    slider:  (name, values) of the control the slider moves.
    buttons: optional (name, values) of a second control switched by buttons; there is then
             one slider per button value (only the chosen one is visible), so the figure has a
             slider step for every grid point.
    fixed:   other keyword arguments of ``data_fn``, the same for every frame.
    active:  (slider_value, button_value) shown first (default: the first of each).
    digits:  significant digits kept in the embedded numbers.
    title:   optional figure title, centred just below the modebar's band (``MODEBAR_BAND``
             pixels from the top); leave room for it in the caller's top margin.

    Frames are named by :func:`frame_name`; each holds ``traces_fn(data)`` (rounded) and the
    axis ranges that fit it.
    """
    import plotly.graph_objects as go

    _check_views(data_fn, figure_fn, traces_fn)
    slider_name, slider_values = _check_grid("slider", slider)
    button_name, button_values = (None, [None]) if buttons is None else _check_grid("buttons",
                                                                                    buttons)
    fixed = dict(fixed or {})
    if active is None:
        active = (slider_values[0], button_values[0])
    if active[0] not in slider_values or active[1] not in button_values:
        raise ValueError(f"active must be a grid point (slider value, button value), got {active}")
    i_active, j_active = slider_values.index(active[0]), button_values.index(active[1])

    def kwargs(s, bv):
        kw = {**fixed, slider_name: s}
        if button_name is not None:
            kw[button_name] = bv
        return kw

    base = figure_fn(data_fn(**kwargs(*active)))
    per_point, log_keys = {}, _log_keys(base)
    for bv in button_values:
        for s in slider_values:
            updates = _trace_updates(base, traces_fn, data_fn(**kwargs(s, bv)))
            per_point[(s, bv)] = ([_rounded_update(u, digits, keys)
                                   for u, keys in zip(updates, log_keys)],
                                  _axis_ranges(base, updates))
    # attributes equal in every frame (e.g. the time axis) stay in the figure only
    first = per_point[(active[0], active[1])][0]
    constant = {(i, key) for i, u in enumerate(first) for key in u
                if all(p[0][i].get(key) == u[key] for p in per_point.values())}
    fig = go.Figure(base)
    for trace, update in zip(fig.data, first):
        trace.update(update)
    fig.update_layout(_nested(per_point[(active[0], active[1])][1]))
    changing = {}
    for point, (rounded, ranges) in per_point.items():
        changing[point] = [{k: v for k, v in u.items() if (i, k) not in constant}
                           for i, u in enumerate(rounded)]
    fig.frames = [go.Frame(name=frame_name(s, bv), data=changing[(s, bv)],
                           layout=_nested(per_point[(s, bv)][1]))
                  for bv in button_values for s in slider_values]

    prefix = slider_prefix if slider_prefix is not None else f"{slider_name} = "
    sliders = []
    for j, bv in enumerate(button_values):
        steps = [dict(method="animate", label=f"{s}",
                      args=[[frame_name(s, bv)],
                            dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                 transition=dict(duration=0))])
                 for s in slider_values]
        sliders.append(dict(steps=steps, active=i_active, visible=(j == j_active),
                            currentvalue=dict(prefix=prefix if bv is None
                                              else f"{bv}: {prefix}"),
                            pad=dict(t=40), x=0.0, len=1.0))
    fig.update_layout(sliders=sliders)
    if button_name is not None:
        menu = []
        for j, bv in enumerate(button_values):
            rounded, ranges = changing[(active[0], bv)], per_point[(active[0], bv)][1]
            data_update = {}
            keys = sorted({k for u in rounded for k in u})
            for key in keys:
                data_update[key] = [u[key] if key in u else _plain(getattr(trace, key))
                                    for trace, u in zip(fig.data, rounded)]
            layout_update = dict(ranges)
            for k in range(len(button_values)):
                layout_update[f"sliders[{k}].visible"] = (k == j)
                layout_update[f"sliders[{k}].active"] = i_active
            menu.append(dict(label=f"{bv}", method="update", args=[data_update, layout_update]))
        fig.update_layout(updatemenus=[dict(
            type="buttons", direction="right", buttons=menu, active=j_active, showactive=True,
            x=0.0, xanchor="left", y=1.0, yanchor="bottom", pad=dict(b=8))])
        if button_label:
            fig.add_annotation(text=button_label, x=0, y=1.0, xref="paper", yref="paper",
                               xanchor="right", yanchor="bottom", showarrow=False)
    if title is not None:
        fig.update_layout(title=dict(text=title, x=0.5, xanchor="center", xref="paper",
                                     y=1.0, yanchor="top", yref="container",
                                     pad=dict(t=MODEBAR_BAND), font=dict(size=14)))
    return fig


def _plain(value):
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    return list(value) if isinstance(value, tuple) else value


def _nested(flat):
    """{"xaxis.range": r} -> {"xaxis": {"range": r}} (what go.Frame / update_layout accept)."""
    out = {}
    for key, value in flat.items():
        axis, attr = key.split(".", 1)
        out.setdefault(axis, {})[attr] = value
    return out


def _check_grid(what, grid):
    if not (isinstance(grid, (tuple, list)) and len(grid) == 2 and isinstance(grid[0], str)):
        raise TypeError(f"{what} must be a pair (name, values), got {grid!r}")
    name, values = grid
    values = list(values)
    if not values:
        raise ValueError(f"{what} values must not be empty")
    if len(set(map(str, values))) != len(values):
        raise ValueError(f"{what} values must be distinct, got {values}")
    return name, values
