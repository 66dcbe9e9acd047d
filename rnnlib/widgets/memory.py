"""The eigenvalue widget (chapter "Where recurrence went"): where lambda sits in the unit disc,
against how long the state of h^(t) = lambda h^(t-1) + u^(t) remembers an input.

One input, an impulse u^(1) = 1 (and u = 0 after it), gives h^(t) = lambda^(t-1): its modulus
|lambda|^(t-1) decays geometrically when |lambda| < 1, the angle of lambda turns it around the
origin by that angle at every step. The state "remembers" the impulse for as many steps as
|h| stays above a threshold (0.01): about ln(100) / (1 - |lambda|) steps, so the memory grows
without bound as lambda approaches the unit circle, and on the circle the impulse never fades.

:func:`memory_data` computes everything from rnnlib.linear_recurrence's widget data
(:func:`~rnnlib.linear_recurrence.memory_grid`, :func:`~rnnlib.linear_recurrence.impulse_response`,
:func:`~rnnlib.linear_recurrence.memory_length`); :func:`memory_widget` is the live view
(sliders over |lambda| and its angle, labels above them), :func:`memory_figure_static` the
kernel-free twin (a slider over |lambda| for each of a few angles, switched by a menu, over
frames precomputed by the same data function). The three panels:

1. the complex plane: the unit circle (the stability boundary), lambda and its conjugate (a real
   matrix's eigenvalues come in such pairs), and the path of h^(1), h^(2), ... after the impulse;
2. the memory length against |lambda| (log scale), the closed form ln(1/threshold) / (1 - |lambda|)
   dashed, the chosen |lambda| marked;
3. |h^(t)| against t (log scale), the threshold, and the step where |h| falls below it.
"""

from __future__ import annotations

import math

import numpy as np

from ..linear_recurrence import impulse_response, memory_grid, memory_length
from . import MODEBAR_BAND, Control, LiveFigure, slider_figure

__all__ = ["memory_data", "memory_figure", "memory_traces", "memory_widget",
           "memory_figure_static", "DEFAULTS", "STATIC_MODULI", "STATIC_ANGLES", "PATH_STEPS",
           "CURVE_MODULI"]

DEFAULTS = dict(modulus=0.9, angle=30.0)
STEPS = 300                   # the window of the impulse response
THRESHOLD = 0.01              # "remembered" while |h| >= THRESHOLD
PATH_STEPS = 60               # steps of h^(t) drawn in the complex plane
#: |lambda| of the memory-length curve (the curve is the same in every frame)
CURVE_MODULI = np.round(np.concatenate([np.linspace(0.0, 0.9, 46),
                                        np.linspace(0.905, 0.995, 19)]), 3)
#: the static twin's slider (|lambda|) and menu (angle in degrees). The angle it opens on
#: (30 degrees) comes first: its slider is then ``layout.sliders[0]``, the one drawn when the
#: page opens, so the first slider moves when a reader clicks the drawn rail (the slider of a
#: hidden angle never does).
STATIC_MODULI = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0)
STATIC_ANGLES = (30.0, 0.0, 90.0, 180.0)
BLUE, ORANGE, GREEN, PINK, BLACK, GREY = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#000000",
                                          "#777777")
Y_LOG_RANGE = (-3.2, 0.45)    # |h| from 6e-4 to 2.8 on the response panel


def _check(modulus, angle):
    for name, value in (("modulus", modulus), ("angle", angle)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
    if not 0 <= modulus <= 1:
        raise ValueError(f"modulus must be |lambda| in [0, 1] (the closed unit disc), got {modulus}")
    if not -360 <= angle <= 360:
        raise ValueError(f"angle must be in degrees, between -360 and 360, got {angle}")


def memory_data(modulus=DEFAULTS["modulus"], angle=DEFAULTS["angle"]):
    """The widget's data for lambda = modulus * exp(i angle), angle in degrees.

    Returns a dict: ``lam`` (complex), ``path`` (PATH_STEPS,) complex h^(1..PATH_STEPS) after an
    impulse at t = 1, ``t`` (STEPS,) the steps 1..STEPS, ``response`` (STEPS,) |h^(t)| there,
    ``memory`` the steps after the impulse until |h| < THRESHOLD (None when it stays above it for
    the whole window, ``beyond``), ``fades`` (False on the unit circle), ``curve_moduli`` and
    ``curve_memory`` (memory_length over CURVE_MODULI), ``curve_closed_form``
    ln(1/THRESHOLD) / (1 - |lambda|) there, and ``period`` (steps per turn, None for a real
    lambda).
    """
    _check(modulus, angle)
    theta = math.radians(float(angle))
    grid = memory_grid(np.array([float(modulus)]), np.array([theta]), T=STEPS,
                       threshold=THRESHOLD)                            # one point of the grid
    lam = complex(grid.lam[0, 0])
    path = impulse_response(np.array(lam), PATH_STEPS)[1:]             # (PATH_STEPS,) lam^(t-1)
    beyond = bool(grid.beyond[0, 0])
    curve = memory_length(CURVE_MODULI, THRESHOLD)                     # (R,)
    turn = abs(theta) % (2 * math.pi)
    return {"lam": lam, "path": path, "t": grid.t[1:], "response": grid.response[0, 0, 1:],
            "memory": None if beyond else int(grid.memory[0, 0]), "beyond": beyond,
            "fades": float(modulus) < 1, "modulus": float(modulus), "angle": float(angle),
            "curve_moduli": CURVE_MODULI, "curve_memory": curve,
            "curve_closed_form": math.log(1 / THRESHOLD) / (1 - CURVE_MODULI),
            "period": None if turn < 1e-12 or abs(turn - 2 * math.pi) < 1e-12
            else 2 * math.pi / min(turn, 2 * math.pi - turn)}


def _positive(values):
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def _summary(data):
    """The one line of text the response panel shows."""
    if not data["fades"]:
        return "|λ| = 1: the impulse never fades"
    if data["beyond"]:
        return f"remembered for more than {STEPS} steps"
    return f"remembered for {data['memory']} steps"


def memory_figure(data):
    """The three-panel figure for one result of :func:`memory_data`."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=2, specs=[[{}, {}], [{"colspan": 2}, None]],
                        horizontal_spacing=0.16, vertical_spacing=0.2,
                        row_heights=[0.55, 0.45], subplot_titles=(
                            "λ and h<sup>(t)</sup>",
                            "memory (steps)",
                            "|h<sup>(t)</sup>| after an impulse at t = 1"))
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 121))
    fig.add_trace(go.Scatter(x=circle.real.round(4), y=circle.imag.round(4), mode="lines",
                             name="unit circle |λ| = 1", hoverinfo="skip", showlegend=False,
                             line=dict(color=GREY, width=1.5, dash="dot")), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines+markers", name="h<sup>(t)</sup>, t = 1, 2, …",
                             showlegend=False, marker=dict(size=4, color=BLUE),
                             line=dict(color=BLUE, width=1.5)), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", name="λ", showlegend=False,
                             marker=dict(size=13, color=ORANGE, symbol="x",
                                         line=dict(width=1, color=BLACK))), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", name="conj(λ)", showlegend=False,
                             marker=dict(size=11, color=ORANGE, symbol="x-open")), row=1, col=1)
    fig.add_trace(go.Scatter(x=data["curve_moduli"], y=_positive(data["curve_memory"]),
                             mode="lines", name="memory (steps)", showlegend=False,
                             line=dict(color=GREEN, width=2)), row=1, col=2)
    fig.add_trace(go.Scatter(x=data["curve_moduli"], y=_positive(data["curve_closed_form"]),
                             mode="lines", name="ln(100) / (1 − |λ|)", showlegend=False,
                             line=dict(color=BLACK, width=1, dash="dash")), row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", name="the chosen |λ|", showlegend=False,
                             marker=dict(size=11, color=ORANGE, line=dict(width=1, color=BLACK))),
                  row=1, col=2)
    fig.add_trace(go.Scatter(mode="lines", name="|h<sup>(t)</sup>|", showlegend=False,
                             line=dict(color=BLUE, width=2)), row=2, col=1)
    fig.add_trace(go.Scatter(x=[0, STEPS], y=[THRESHOLD, THRESHOLD], mode="lines",
                             name=f"threshold {THRESHOLD:g}", showlegend=False, hoverinfo="skip",
                             line=dict(color=BLACK, width=1, dash="dash")), row=2, col=1)
    fig.add_trace(go.Scatter(mode="lines", name="falls below the threshold", showlegend=False,
                             line=dict(color=ORANGE, width=2)), row=2, col=1)
    fig.add_trace(go.Scatter(x=[STEPS], y=[10 ** (Y_LOG_RANGE[1] - 0.05)], mode="text",
                             textposition="bottom left", name="memory", showlegend=False,
                             hoverinfo="skip", textfont=dict(color=BLACK)), row=2, col=1)
    for trace, update in zip(fig.data, memory_traces(data)):
        trace.update(update)
    fig.update_xaxes(title_text="Re", range=[-1.25, 1.25], autorange=False, row=1, col=1)
    fig.update_yaxes(title_text="Im", range=[-1.25, 1.25], autorange=False, scaleanchor="x",
                     scaleratio=1, row=1, col=1)
    fig.update_xaxes(title_text="|λ|", range=[0, 1.02], autorange=False, row=1, col=2)
    fig.update_yaxes(type="log", range=[-0.1, 3.1], autorange=False,
                     tickvals=[1, 10, 100, 1000], row=1, col=2)
    fig.update_xaxes(title_text="t", range=[0, STEPS], autorange=False, row=2, col=1)
    fig.update_yaxes(title_text="|h<sup>(t)</sup>|", type="log", range=list(Y_LOG_RANGE),
                     autorange=False, tickvals=[0.001, 0.01, 0.1, 1],
                     ticktext=["0.001", "0.01", "0.1", "1"], row=2, col=1)
    fig.update_layout(height=640, margin=dict(l=60, r=20, t=60, b=50), plot_bgcolor="white",
                      showlegend=False)
    fig.update_xaxes(gridcolor="#EEEEEE", zeroline=False)
    fig.update_yaxes(gridcolor="#EEEEEE", zeroline=False)
    return fig


def memory_traces(data):
    """The per-trace updates, in the order of :func:`memory_figure`'s traces (the unit circle,
    the curves and the threshold are the same for every lambda: empty updates)."""
    lam, path = data["lam"], data["path"]
    marker = memory_length(np.array([data["modulus"]]), THRESHOLD)[0]
    crossing = np.nan if data["memory"] is None else 1 + data["memory"]
    return [
        {},
        {"x": path.real, "y": path.imag},
        {"x": np.array([lam.real]), "y": np.array([lam.imag])},
        {"x": np.array([lam.real]), "y": np.array([-lam.imag])},
        {},
        {},
        {"x": np.array([data["modulus"]]),
         "y": _positive(np.array([marker]))},
        {"x": data["t"], "y": _positive(data["response"])},
        {},
        {"x": np.array([crossing, crossing]), "y": np.array([10 ** Y_LOG_RANGE[0], 1.0])},
        {"text": [_summary(data)]},
    ]


def _controls(values):
    return {
        "modulus": Control("FloatSlider", "modulus |λ|", value=values["modulus"], min=0.0,
                           max=1.0, step=0.01),
        "angle": Control("FloatSlider", "angle of λ (degrees)", value=values["angle"], min=0.0,
                         max=180.0, step=5.0),
    }


def memory_widget(live=None, **values):
    """The live widget (Jupyter, Binder, Colab): sliders over |lambda| and its angle (labels
    above them) and the three panels, updated in place. ``live``: see
    :class:`rnnlib.widgets.LiveFigure` (False during the book build, where displaying it shows
    one line saying where the live version runs and :func:`memory_figure_static`)."""
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown control(s) {sorted(unknown)}; expected some of "
                        f"{sorted(DEFAULTS)}")
    start = {**DEFAULTS, **values}
    _check(**start)
    return LiveFigure(memory_data, memory_figure, memory_traces, _controls(start), live=live,
                      static_fn=memory_figure_static)


def _angle_label(angle):
    return f"angle {angle:g}°"


def memory_figure_static(moduli=STATIC_MODULI, angles=STATIC_ANGLES, active=(0.9, 30.0),
                         digits=4):
    """The kernel-free twin: one frame per (|lambda|, angle) of the grid, a slider over
    |lambda| (one per angle) and a drop-down menu of the angles (in degrees)."""
    for r in moduli:
        _check(r, 0.0)
    labels = {_angle_label(a): float(a) for a in angles}
    if len(labels) != len(angles):
        raise ValueError(f"angles must be distinct, got {angles}")

    def data(modulus, angle_label):
        return memory_data(modulus, labels[angle_label])

    fig = slider_figure(data, memory_figure, memory_traces, slider=("modulus", list(moduli)),
                        buttons=("angle_label", list(labels)),
                        active=(active[0], _angle_label(active[1])), digits=digits,
                        slider_prefix="|λ| = ",
                        title="How long λ remembers")
    # top margin: the modebar's band, the title, the angle menu and the panel titles
    fig.update_layout(height=700 + MODEBAR_BAND, margin=dict(t=130 + MODEBAR_BAND))
    # the angles as a drop-down menu: a row of four buttons is wider than a phone's column
    fig.update_layout(updatemenus=[dict(type="dropdown", direction="down", y=1.1,
                                        yanchor="bottom")])
    return fig
