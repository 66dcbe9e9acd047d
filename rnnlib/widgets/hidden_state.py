"""The hidden-state dynamics widget (chapter "Recurrence and unfolding").

How does h^(t) = act(W h^(t-1) + U x^(t)) evolve as the spectral radius rho(W), the activation,
the input and the initial state change? :func:`hidden_state_data` computes everything (the
single data function); :func:`hidden_state_widget` is the live view (ipywidgets + FigureWidget),
:func:`hidden_state_figure_static` the kernel-free twin (a plotly figure with a slider over
rho and buttons over the activation, precomputed by the same data function). The views show:

1. the first components of h^(t) of one trajectory over time,
2. the trajectories of several initial states projected on their two principal components,
3. ||h^(t)|| of every trajectory over time (log scale) and the spread between them (dashed):
   how much the state still remembers where it started.

Regimes (named in the chapter): fading memory (rho < 1: the state forgets h^(0) geometrically),
saturation (tanh with large rho: units pinned near +-1), oscillation (a complex pair of
eigenvalues on the unit circle: the state rotates), explosion (identity or relu with rho > 1:
||h^(t)|| grows like rho^t).
"""

from __future__ import annotations

import numpy as np

from ..dynamics import hidden_trajectories, scale_to_spectral_radius
from . import MODEBAR_BAND, Control, LiveFigure, slider_figure

__all__ = ["hidden_state_data", "hidden_state_figure", "hidden_state_traces",
           "hidden_state_widget", "hidden_state_figure_static", "DEFAULTS", "INPUTS",
           "ACTIVATIONS", "STATIC_RADII", "STATIC_FIXED"]

ACTIVATIONS = ("tanh", "relu", "identity")
INPUTS = ("none", "constant", "sine", "noise")
DEFAULTS = dict(spectral_radius=0.9, activation="tanh", input="none", amplitude=0.5,
                hidden_size=32, steps=60, seed=0, init_scale=1.0)
#: spectral radii of the static twin's slider
STATIC_RADII = (0.5, 0.9, 1.0, 1.1, 1.5, 2.0, 3.0)
N_INITIAL = 6          # initial states drawn
N_COMPONENTS = 4       # components of h^(t) shown
SINE_PERIOD = 20       # steps per period of the sine input
# Okabe-Ito palette (colour-blind safe), one colour per initial state / component
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")


def _check(spectral_radius, activation, input, amplitude, hidden_size, steps, seed, init_scale):
    for name, value in (("spectral_radius", spectral_radius), ("amplitude", amplitude),
                        ("init_scale", init_scale)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    if spectral_radius <= 0:
        raise ValueError(f"spectral_radius must be > 0, got {spectral_radius}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if input not in INPUTS:
        raise ValueError(f"input must be one of {INPUTS}, got {input!r}")
    for name, value, lo, hi in (("hidden_size", hidden_size, 2, 512), ("steps", steps, 1, 500)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if not lo <= value <= hi:
            raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")


def hidden_state_data(spectral_radius=DEFAULTS["spectral_radius"],
                      activation=DEFAULTS["activation"], input=DEFAULTS["input"],
                      amplitude=DEFAULTS["amplitude"], hidden_size=DEFAULTS["hidden_size"],
                      steps=DEFAULTS["steps"], seed=DEFAULTS["seed"],
                      init_scale=DEFAULTS["init_scale"]):
    """Trajectories h^(0..T) of h^(t) = act(W h^(t-1) + U x^(t)) from N_INITIAL initial states.

    W is a Gaussian (m, m) matrix rescaled to ``spectral_radius``; U (m, 1); the scalar input
    x^(t) is 0 ("none"), ``amplitude`` ("constant"), ``amplitude * sin(2 pi t / 20)`` ("sine")
    or ``amplitude * N(0, 1)`` noise, the same for every trajectory; h^(0) has entries
    ``init_scale * N(0, 1)``. The seed fixes W's directions, U, h^(0) and the noise, so moving
    the spectral radius only rescales W.

    Returns a dict: ``t`` (T+1,), ``h`` (T+1, N, m), ``components`` (T+1, N_COMPONENTS) of the
    first trajectory, ``pca`` (N, T+1, 2), ``norms`` (N, T+1), ``spread`` (T+1,) the largest
    distance of a trajectory from their mean, ``x`` (T,), ``W`` (m, m).
    """
    _check(spectral_radius, activation, input, amplitude, hidden_size, steps, seed, init_scale)
    m, T = int(hidden_size), int(steps)
    rng = np.random.default_rng(seed)
    W = scale_to_spectral_radius(rng.normal(size=(m, m)) / np.sqrt(m), float(spectral_radius))
    U = rng.normal(size=(m, 1))                                     # (m, 1)
    h0 = init_scale * rng.normal(size=(N_INITIAL, m))               # (N, m)
    t = np.arange(1, T + 1)
    if input == "none":
        x = np.zeros(T)
    elif input == "constant":
        x = np.full(T, float(amplitude))
    elif input == "sine":
        x = amplitude * np.sin(2 * np.pi * t / SINE_PERIOD)
    else:
        x = amplitude * np.random.default_rng([seed, 1]).normal(size=T)   # (T,)
    h = hidden_trajectories(W, h0, x=x[:, None], U=U, activation=activation)  # (T+1, N, m)
    h = np.where(np.isfinite(h), h, np.nan)
    norms = np.linalg.norm(h, axis=2).T                             # (N, T+1)
    spread = np.max(np.linalg.norm(h - h.mean(axis=1, keepdims=True), axis=2), axis=1)  # (T+1,)
    return {"t": np.arange(T + 1), "h": h, "components": h[:, 0, :N_COMPONENTS],
            "pca": _pca_2d(h), "norms": norms, "spread": spread, "x": x, "W": W}


def _pca_2d(h):
    """Project every state of h (T+1, N, m) on the top two principal components of all of
    them (signs fixed: the largest loading of each component is positive)."""
    T1, N, m = h.shape
    X = h.reshape(T1 * N, m)                                        # (T+1 * N, m)
    finite = np.all(np.isfinite(X), axis=1)
    scale = np.max(np.abs(X[finite])) if finite.any() else 1.0
    scale = scale if scale > 0 else 1.0
    Xs = X[finite] / scale                                          # avoid overflow in SVD
    mean = Xs.mean(axis=0)                                          # (m,)
    Xc = Xs - mean                                                  # (n, m)
    _, vectors = np.linalg.eigh(Xc.T @ Xc)                          # ascending eigenvalues
    components = vectors[:, ::-1][:, :2].T                          # (2, m) top two
    signs = np.sign(components[np.arange(2), np.argmax(np.abs(components), axis=1)])
    components = components * np.where(signs == 0, 1, signs)[:, None]   # (2, m)
    proj = (X / scale - mean) @ components.T * scale                # (T+1 * N, 2)
    return proj.reshape(T1, N, 2).transpose(1, 0, 2)                # (N, T+1, 2)


def hidden_state_figure(data):
    """The figure (three panels) for one result of :func:`hidden_state_data`."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08, subplot_titles=(
        "h<sup>(t)</sup>: 4 components",
        "2 principal components",
        "||h<sup>(t)</sup>||, spread dashed"))
    t = data["t"]
    for k in range(N_COMPONENTS):
        fig.add_trace(go.Scatter(x=t, y=data["components"][:, k], mode="lines",
                                 name=f"h<sub>{k + 1}</sub>", showlegend=False,
                                 line=dict(color=PALETTE[k], width=1.5)), row=1, col=1)
    for n in range(N_INITIAL):
        fig.add_trace(go.Scatter(x=data["pca"][n, :, 0], y=data["pca"][n, :, 1], mode="lines",
                                 name=f"trajectory {n + 1}", showlegend=False,
                                 line=dict(color=PALETTE[n], width=1.2)), row=1, col=2)
    fig.add_trace(go.Scatter(x=data["pca"][:, 0, 0], y=data["pca"][:, 0, 1], mode="markers",
                             name="h<sup>(0)</sup>", showlegend=False,
                             marker=dict(color=list(PALETTE[:N_INITIAL]), size=8,
                                         symbol="circle-open", line=dict(width=2))),
                  row=1, col=2)
    for n in range(N_INITIAL):
        fig.add_trace(go.Scatter(x=t, y=data["norms"][n], mode="lines", showlegend=False,
                                 name=f"||h|| of trajectory {n + 1}",
                                 line=dict(color=PALETTE[n], width=1.2)), row=1, col=3)
    fig.add_trace(go.Scatter(x=t, y=data["spread"], mode="lines", name="spread",
                             showlegend=False, line=dict(color="#000000", width=2, dash="dash")),
                  row=1, col=3)
    fig.update_xaxes(title_text="t", row=1, col=1)
    fig.update_xaxes(title_text="PC 1", row=1, col=2)
    fig.update_yaxes(title_text="PC 2", row=1, col=2)
    fig.update_xaxes(title_text="t", row=1, col=3)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=3)
    fig.update_layout(height=400, margin=dict(l=40, r=10, t=90, b=40),
                      plot_bgcolor="white", title=None)
    # 14 px panel titles: their superscripts (80 % by the book's CSS) stay above 11 px
    fig.update_annotations(font_size=14)
    fig.update_xaxes(gridcolor="#EEEEEE", zeroline=False)
    fig.update_yaxes(gridcolor="#EEEEEE", zeroline=False)
    return fig


def hidden_state_traces(data):
    """The per-trace updates (same order as :func:`hidden_state_figure`'s traces)."""
    t = data["t"]
    updates = [{"x": t, "y": data["components"][:, k]} for k in range(N_COMPONENTS)]
    updates += [{"x": data["pca"][n, :, 0], "y": data["pca"][n, :, 1]} for n in range(N_INITIAL)]
    updates.append({"x": data["pca"][:, 0, 0], "y": data["pca"][:, 0, 1]})
    updates += [{"x": t, "y": data["norms"][n]} for n in range(N_INITIAL)]
    updates.append({"x": t, "y": data["spread"]})
    return updates


def _controls(values):
    return {
        "spectral_radius": Control("FloatSlider", "spectral radius ρ(W)",
                                   value=values["spectral_radius"], min=0.1, max=3.0, step=0.05),
        "activation": Control("Dropdown", "activation", options=ACTIVATIONS, value=values["activation"]),
        "input": Control("Dropdown", "input", options=INPUTS, value=values["input"]),
        "amplitude": Control("FloatSlider", "input amplitude", value=values["amplitude"], min=0.0, max=2.0, step=0.05),
        "hidden_size": Control("IntSlider", "hidden size m", value=values["hidden_size"], min=2, max=128),
        "steps": Control("IntSlider", "steps T", value=values["steps"], min=10, max=300, step=10),
        "seed": Control("BoundedIntText", "seed", value=values["seed"], min=0, max=10_000),
        "init_scale": Control("FloatSlider", "scale of h⁽⁰⁾", value=values["init_scale"], min=0.0, max=3.0, step=0.1),
    }


def hidden_state_widget(live=None, **values):
    """The live widget (Jupyter, Binder, Colab): controls for every argument of
    :func:`hidden_state_data` (starting at ``values`` or DEFAULTS) above the three panels.
    ``live``: see :class:`rnnlib.widgets.LiveFigure` (False during the book build, where
    displaying it shows one line saying where the live version runs and
    :func:`hidden_state_figure_static`, the kernel-free twin)."""
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown control(s) {sorted(unknown)}; expected some of "
                        f"{sorted(DEFAULTS)}")
    start = {**DEFAULTS, **values}
    _check(**start)
    return LiveFigure(hidden_state_data, hidden_state_figure, hidden_state_traces,
                      _controls(start), live=live, static_fn=hidden_state_figure_static)


#: controls of the static twin that differ from DEFAULTS (fewer steps: a smaller page)
STATIC_FIXED = dict(steps=50)


def hidden_state_figure_static(radii=STATIC_RADII, activations=ACTIVATIONS, active=(0.9, "tanh"),
                               digits=3, **fixed):
    """The kernel-free twin: one frame per (spectral radius, activation), a slider over the
    radius (one per activation) and buttons over the activation. Other controls are fixed at
    ``fixed`` (default: DEFAULTS updated with STATIC_FIXED). About 230 kB of HTML with the
    defaults (21 frames, 3 significant digits)."""
    unknown = set(fixed) - (set(DEFAULTS) - {"spectral_radius", "activation"})
    if unknown:
        raise TypeError(f"unknown fixed control(s) {sorted(unknown)}")
    fixed = {k: v for k, v in {**DEFAULTS, **STATIC_FIXED, **fixed}.items()
             if k not in ("spectral_radius", "activation")}
    fig = slider_figure(hidden_state_data, hidden_state_figure, hidden_state_traces,
                        slider=("spectral_radius", list(radii)),
                        buttons=("activation", list(activations)),
                        fixed=fixed, active=active, digits=digits, slider_prefix="ρ(W) = ",
                        title="Hidden-state dynamics: choose the activation, move ρ(W)")
    # top margin: the modebar's band, the title, the activation buttons and the panel titles
    fig.update_layout(height=470 + MODEBAR_BAND, margin=dict(t=110 + MODEBAR_BAND))
    fig.update_layout(updatemenus=[dict(y=1.16, yanchor="bottom")])
    return fig
