"""The gradient-norm widget (chapter "Exploding and vanishing gradients").

How fast does a gradient shrink or grow as it travels back through time, and what do clipping,
ReLU with identity initialisation, skip connections and gated cells do to it?
:func:`gradient_norm_data` computes everything (the single data function);
:func:`gradient_norm_widget` is the live view (ipywidgets + FigureWidget, updated in place) and
:func:`gradient_norm_figure_static` the kernel-free twin (a plotly figure with a slider over the
spectral radius and buttons over the model, precomputed by the same data function). Panels:

1. ||dh^(T)/dh^(k)|| against the lag T - k (log scale), the mean over a small batch, with the
   bound (max|act'| ||W||_2)^(T-k) for the vanilla RNN (dashed). For the LSTM the state at step
   k is [h^(k); s^(k)], so the curve is ||dh^(T)/d[h^(k); s^(k)]||.
2. ||dJ/dh^(k)|| (every loss term) and ||dJ_T/dh^(k)|| (the last term only) for each k.
3. The gradient's global norm (before clipping) over a few SGD steps, trained without clipping
   and with clipping by global norm at the chosen threshold.

Models (the ``cell`` control): "RNN" (the activation and the skip step apply), "IRNN" (ReLU with
W = rho I), "LSTM", "GRU" (all their recurrent matrices W_k rescaled to spectral radius rho; the
activation and skip controls do not apply). Sizes are small so an update computes in well under
50 ms (benchmarks/bench_gradient_norms_widget.py prints it).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..dynamics import scale_to_spectral_radius
from ..gru import gru_backward, gru_forward, init_gru
from ..jacobians import jacobian_norms, last_state_jacobians, state_gradients, train_with_gradient_norms
from ..lstm import init_lstm, lstm_backward, lstm_forward
from ..optim import SGD
from ..remedies import skip_rnn_backward, skip_rnn_forward
from ..rnn import init_rnn, rnn_backward, rnn_forward
from . import MODEBAR_BAND, Control, LiveFigure, slider_figure

__all__ = ["gradient_norm_data", "gradient_norm_figure", "gradient_norm_traces", "gradient_norm_widget",
           "gradient_norm_figure_static", "classify", "variant_settings", "DEFAULTS", "CELLS",
           "ACTIVATIONS", "CLIP_OPTIONS", "STATIC_RADII", "STATIC_VARIANTS"]

CELLS = ("RNN", "IRNN", "LSTM", "GRU")
ACTIVATIONS = ("tanh", "relu", "identity")
CLIP_OPTIONS = (("off", 0.0), ("0.1", 0.1), ("1", 1.0), ("10", 10.0))
DEFAULTS = dict(cell="RNN", activation="tanh", spectral_radius=1.0, steps=30, skip=0, clip=1.0, seed=0)
HIDDEN_SIZE = 16       # m
INPUT_SIZE = 2         # d
CLASSES = 2            # C
BATCH = 4              # B, for the Jacobians and the training batches
TRAIN_STEPS = 10       # SGD steps of each training run
LEARNING_RATE = 0.05
VANISH, EXPLODE = 1e-3, 1e3   # thresholds of classify() on ||dh^(T)/dh^(0)||
#: the static twin: a slider over rho, buttons over these variants (name -> controls)
STATIC_RADII = (0.5, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0)
STATIC_VARIANTS = {
    "RNN tanh": dict(cell="RNN", activation="tanh", skip=0),
    "RNN relu": dict(cell="RNN", activation="relu", skip=0),
    "RNN linear": dict(cell="RNN", activation="identity", skip=0),
    "IRNN": dict(cell="IRNN", activation="relu", skip=0),
    "skip-RNN s=5": dict(cell="RNN", activation="tanh", skip=5),
    "LSTM": dict(cell="LSTM", activation="tanh", skip=0),
    "GRU": dict(cell="GRU", activation="tanh", skip=0),
}
# Okabe-Ito palette (colour-blind safe)
BLUE, ORANGE, GREEN, PINK, BLACK = "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#000000"


def _check(cell, activation, spectral_radius, steps, skip, clip, seed):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    for name, value in (("spectral_radius", spectral_radius), ("clip", clip)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    if spectral_radius == 0:
        raise ValueError("spectral_radius must be > 0, got 0")
    for name, value, lo, hi in (("steps", steps, 2, 200), ("skip", skip, 0, 50), ("seed", seed, 0, 10**9)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if not lo <= value <= hi:
            raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")


def _model(cell, activation, spectral_radius, skip, seed):
    """(params, forward, backward, forward kwargs) of the chosen model, W rescaled to rho."""
    d, m, C = INPUT_SIZE, HIDDEN_SIZE, CLASSES
    if cell in ("RNN", "IRNN"):
        params = init_rnn(d, m, C, seed=seed)
        if cell == "IRNN":
            params["W"] = spectral_radius * np.eye(m)                     # (m, m) IRNN: W = rho I
            activation = "relu"
        else:
            params["W"] = scale_to_spectral_radius(params["W"], spectral_radius)  # (m, m)
        if skip > 0 and cell == "RNN":
            rng = np.random.default_rng([seed, 2])
            params["W_s"] = scale_to_spectral_radius(rng.standard_normal((m, m)) / np.sqrt(m), spectral_radius)
            return params, skip_rnn_forward, skip_rnn_backward, dict(skip=int(skip), activation=activation)
        return params, rnn_forward, rnn_backward, dict(activation=activation)
    if cell == "LSTM":
        params = init_lstm(d, m, C, seed=seed)
        keys, forward, backward = ("W_i", "W_f", "W_o", "W_g"), lstm_forward, lstm_backward
    else:
        params = init_gru(d, m, C, seed=seed)
        keys, forward, backward = ("W_z", "W_r", "W_h"), gru_forward, gru_backward
    for key in keys:
        params[key] = scale_to_spectral_radius(params[key], spectral_radius)  # (m, m)
    return params, forward, backward, {}


def _batch(step, steps, seed):
    """A batch of the training task: inputs uniform in [0, 1], y^(t) = [x_1^(t-1) > 1/2]
    (remember one step back). Non-negative inputs as in the IRNN paper's adding problem."""
    rng = np.random.default_rng([seed, 3, step])
    x = rng.random((steps, BATCH, INPUT_SIZE))                            # (T, B, d)
    y = np.zeros((steps, BATCH), dtype=int)                               # (T, B)
    y[1:] = x[:-1, :, 0] > 0.5
    return x, y


def gradient_norm_data(cell=DEFAULTS["cell"], activation=DEFAULTS["activation"],
                       spectral_radius=DEFAULTS["spectral_radius"], steps=DEFAULTS["steps"],
                       skip=DEFAULTS["skip"], clip=DEFAULTS["clip"], seed=DEFAULTS["seed"]):
    """Jacobian and gradient norms through time, and two short training runs, for one setting.

    cell: "RNN", "IRNN", "LSTM" or "GRU"; activation: of the RNN ("tanh", "relu", "identity");
    spectral_radius: rho of W (of every W_k for the gated cells; IRNN: W = rho I); steps: the
    sequence length T; skip: the skip-connection step s of the RNN (0 = none); clip: the global
    norm threshold of the second training run (0 = off: that run is not made); seed.

    Returns a dict of arrays: ``lag`` (T+1,) = T - k, ``jacobian_norm`` (T+1,) the batch mean of
    ||dh^(T)/dh^(k)|| at that lag, ``bound`` (T+1,) (max|act'| ||W||_2)^lag (NaN for other
    models), ``k`` (T+1,), ``state_grad_norm`` (T+1,) ||dJ/dh^(k)||, ``last_term_norm`` (T+1,)
    ||dJ_T/dh^(k)||, ``train_step`` (S,), ``grad_norm_plain`` / ``grad_norm_clipped`` (S,) the
    global gradient norm before clipping at each SGD step of the run without / with clipping
    (NaN after a divergence, and for the clipped run when clip is 0), ``loss_plain`` /
    ``loss_clipped`` (S,), and the scalars ``rate`` (the per-step factor
    ||dh^(T)/dh^(0)||^(1/T)) and ``verdict`` (see :func:`classify`).
    """
    _check(cell, activation, spectral_radius, steps, skip, clip, seed)
    T = int(steps)
    params, forward, backward, kwargs = _model(cell, activation, float(spectral_radius), int(skip), int(seed))
    x, y = _batch(10**6, T, seed)                                        # held-out batch
    try:
        norms, state_norm, last_norm = _jacobian_norms(params, forward, kwargs, x, y)
    except ValueError:
        # the forward pass itself overflowed (skip_rnn_forward rejects non-finite logits):
        # every norm is out of range, the verdict "exploding" (gaps in the log plots)
        norms = state_norm = last_norm = np.full(T + 1, np.inf)
    with np.errstate(over="ignore", invalid="ignore"):
        if cell == "RNN" and skip == 0:
            bound = (np.linalg.norm(params["W"], 2) ** np.arange(T, -1, -1))  # (T+1,) max|act'| = 1
        else:
            bound = np.full(T + 1, np.nan)
    runs = {}
    for name, threshold in (("plain", None), ("clipped", float(clip) if clip > 0 else None)):
        grad_norm, loss = np.full(TRAIN_STEPS, np.nan), np.full(TRAIN_STEPS, np.nan)
        if name == "plain" or threshold is not None:
            _train_run({key: value.copy() for key, value in params.items()}, forward, backward,
                       kwargs, T, seed, threshold, grad_norm, loss)
        runs[name] = (np.where(np.isfinite(grad_norm), grad_norm, np.nan), np.where(np.isfinite(loss), loss, np.nan))
    lag = np.arange(T, -1, -1)                                           # (T+1,) T - k for k = 0..T
    first = norms[0]
    rate = float(first ** (1 / T)) if np.isfinite(first) and first > 0 else (0.0 if first == 0 else float("inf"))
    return {
        "lag": lag[::-1], "jacobian_norm": norms[::-1], "bound": bound[::-1],
        "k": np.arange(T + 1), "state_grad_norm": state_norm, "last_term_norm": last_norm,
        "train_step": np.arange(1, TRAIN_STEPS + 1),
        "grad_norm_plain": runs["plain"][0], "grad_norm_clipped": runs["clipped"][0],
        "loss_plain": runs["plain"][1], "loss_clipped": runs["clipped"][1],
        "rate": rate, "verdict": classify(first),
    }


def _jacobian_norms(params, forward, kwargs, x, y):
    """(batch mean of ||dh^(T)/dh^(k)||, ||dJ/dh^(k)||, ||dJ_T/dh^(k)||) for k = 0..T, each (T+1,)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        cache = forward(params, x, **kwargs)
        R = last_state_jacobians(params, cache)                          # (T+1, B, m, n)
        norms = np.linalg.svd(np.nan_to_num(R, nan=np.inf, posinf=1e300, neginf=-1e300),
                              compute_uv=False)[..., 0].mean(axis=1)      # (T+1,) mean over the batch
        delta = state_gradients(params, cache, y)                         # (T+1, B, m)
        state_norm = np.sqrt(np.sum(delta ** 2, axis=(1, 2)))              # (T+1,)
        g_T = delta[-1]                                                   # (B, m) dJ_T/dh^(T)
        m = g_T.shape[1]
        last_term = np.einsum("bi,kbij->kbj", g_T, R[..., :m, :])[..., :m]  # (T+1, B, m)
        last_norm = np.sqrt(np.sum(last_term ** 2, axis=(1, 2)))          # (T+1,)
    return norms, state_norm, last_norm


def _train_run(params, forward, backward, kwargs, T, seed, threshold, grad_norm, loss):
    """TRAIN_STEPS steps of SGD on the task, one call per step, writing each step's gradient norm
    (before clipping) and loss into ``grad_norm`` / ``loss``; stops at a divergence (a non-finite
    loss or gradient, or a forward pass that rejects its overflowed outputs), leaving NaN after.
    SGD keeps no state, so this is the same run as one call of TRAIN_STEPS steps."""
    optimizer = SGD(lr=LEARNING_RATE)
    for step in range(TRAIN_STEPS):
        try:
            history, _ = train_with_gradient_norms(
                params, lambda _, step=step: _batch(step, T, seed), 1, optimizer, forward=forward,
                backward=backward, clip_norm=threshold, record_states=False, **kwargs)
        except (ValueError, FloatingPointError):
            return
        grad_norm[step], loss[step] = history.grad_norm[0], history.loss[0]
        if history.diverged:
            return


def classify(norm_at_largest_lag):
    """"vanishing" if ||dh^(T)/dh^(0)|| < 1e-3, "exploding" if > 1e3 (or not finite), else "neither"."""
    value = float(norm_at_largest_lag)
    if not np.isfinite(value) or value > EXPLODE:
        return "exploding"
    return "vanishing" if value < VANISH else "neither"


def _positive(values):
    """Values for a log axis: non-positive and non-finite entries become NaN (a gap)."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def gradient_norm_figure(data):
    """The three-panel figure for one result of :func:`gradient_norm_data`."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.09, subplot_titles=(
        "‖∂h<sup>(T)</sup>/∂h<sup>(k)</sup>‖ against T − k",
        "‖∂J/∂h<sup>(k)</sup>‖ for each k",
        "‖g‖ during training"))
    fig.add_trace(go.Scatter(name="‖∂h<sup>(T)</sup>/∂h<sup>(k)</sup>‖", mode="lines+markers", marker=dict(size=4),
                             line=dict(color=BLUE, width=2)), row=1, col=1)
    fig.add_trace(go.Scatter(name="bound ‖W‖₂<sup>T−k</sup>", mode="lines",
                             line=dict(color=BLACK, width=1, dash="dash")), row=1, col=1)
    fig.add_trace(go.Scatter(name="‖∂J/∂h<sup>(k)</sup>‖ (all terms)", mode="lines+markers", marker=dict(size=4),
                             line=dict(color=GREEN, width=2)), row=1, col=2)
    fig.add_trace(go.Scatter(name="‖∂J<sub>T</sub>/∂h<sup>(k)</sup>‖ (last term)", mode="lines",
                             line=dict(color=PINK, width=2, dash="dot")), row=1, col=2)
    fig.add_trace(go.Scatter(name="no clipping", mode="lines+markers", marker=dict(size=4),
                             line=dict(color=ORANGE, width=2)), row=1, col=3)
    fig.add_trace(go.Scatter(name="clipped by norm", mode="lines+markers", marker=dict(size=4),
                             line=dict(color=BLUE, width=2)), row=1, col=3)
    for trace, update in zip(fig.data, gradient_norm_traces(data)):
        trace.update(update)
    fig.update_xaxes(title_text="lag T − k", row=1, col=1)
    fig.update_xaxes(title_text="k", row=1, col=2)
    fig.update_xaxes(title_text="SGD step", row=1, col=3)
    for col in (1, 2, 3):
        fig.update_yaxes(type="log", exponentformat="power", row=1, col=col)
    fig.update_layout(height=420, margin=dict(l=40, r=10, t=60, b=40), plot_bgcolor="white",
                      legend=dict(orientation="h", x=0, y=-0.2, font=dict(size=14)))
    fig.update_annotations(font_size=14)
    fig.update_xaxes(gridcolor="#EEEEEE", zeroline=False)
    fig.update_yaxes(gridcolor="#EEEEEE", zeroline=False)
    return fig


def gradient_norm_traces(data):
    """The per-trace updates, in the order of :func:`gradient_norm_figure`'s traces."""
    return [
        {"x": data["lag"], "y": _positive(data["jacobian_norm"])},
        {"x": data["lag"], "y": _positive(data["bound"])},
        {"x": data["k"], "y": _positive(data["state_grad_norm"])},
        {"x": data["k"], "y": _positive(data["last_term_norm"])},
        {"x": data["train_step"], "y": _positive(data["grad_norm_plain"])},
        {"x": data["train_step"], "y": _positive(data["grad_norm_clipped"])},
    ]


def _controls(values):
    return {
        "cell": Control("Dropdown", "cell", options=CELLS, value=values["cell"]),
        "activation": Control("Dropdown", "activation (RNN)", options=ACTIVATIONS,
                              value=values["activation"]),
        "spectral_radius": Control("FloatSlider", "spectral radius ρ(W)",
                                   value=values["spectral_radius"], min=0.1, max=3.0, step=0.05),
        "steps": Control("IntSlider", "sequence length T", value=values["steps"], min=5, max=100, step=5),
        "skip": Control("IntSlider", "skip step s (RNN)", value=values["skip"], min=0, max=10),
        "clip": Control("Dropdown", "clip norm at", options=CLIP_OPTIONS, value=values["clip"]),
        "seed": Control("BoundedIntText", "seed", value=values["seed"], min=0, max=10_000),
    }


def gradient_norm_widget(live=None, **values):
    """The live widget (Jupyter, Binder, Colab): controls for every argument of
    :func:`gradient_norm_data` (starting at ``values`` or DEFAULTS) above the three panels.
    ``live``: see :class:`rnnlib.widgets.LiveFigure` (False during the book build, where
    displaying it shows one line saying where the live version runs and
    :func:`gradient_norm_figure_static`, the kernel-free twin)."""
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown control(s) {sorted(unknown)}; expected some of {sorted(DEFAULTS)}")
    start = {**DEFAULTS, **values}
    _check(**start)
    if start["clip"] not in [value for _, value in CLIP_OPTIONS]:
        raise ValueError(f"clip must be one of {[value for _, value in CLIP_OPTIONS]} in the widget, got {start['clip']}")
    return LiveFigure(gradient_norm_data, gradient_norm_figure, gradient_norm_traces, _controls(start),
                      live=live, static_fn=gradient_norm_figure_static)


def variant_settings(variant):
    """The controls (cell, activation, skip) of a named variant of the static twin."""
    if variant not in STATIC_VARIANTS:
        raise ValueError(f"variant must be one of {tuple(STATIC_VARIANTS)}, got {variant!r}")
    return STATIC_VARIANTS[variant]


def _variant_data(variant=tuple(STATIC_VARIANTS)[0], spectral_radius=1.0, steps=DEFAULTS["steps"],
                  clip=DEFAULTS["clip"], seed=DEFAULTS["seed"]):
    """gradient_norm_data for a named variant (the static twin's button control)."""
    return gradient_norm_data(spectral_radius=spectral_radius, steps=steps, clip=clip, seed=seed,
                              **variant_settings(variant))


def gradient_norm_figure_static(radii=STATIC_RADII, variants=tuple(STATIC_VARIANTS), active=(1.0, "RNN tanh"),
                                digits=3, steps=DEFAULTS["steps"], clip=DEFAULTS["clip"], seed=DEFAULTS["seed"]):
    """The kernel-free twin: one frame per (spectral radius, variant), a slider over the radius
    (one per variant) and buttons over the variants of STATIC_VARIANTS; T, the clipping
    threshold and the seed are fixed."""
    for variant in variants:
        variant_settings(variant)
    fig = slider_figure(_variant_data, gradient_norm_figure, gradient_norm_traces,
                        slider=("spectral_radius", list(radii)), buttons=("variant", list(variants)),
                        fixed=dict(steps=steps, clip=clip, seed=seed), active=active, digits=digits,
                        slider_prefix="ρ(W) = ",
                        title=f"Gradient norms through time (T = {steps}, clipping at {clip:g}): "
                              "choose a model, move ρ(W)")
    # top margin: the modebar's band, the title, the model buttons and the panel titles;
    # the sliders go below the two-row legend (under the panels) instead of across it
    legend_rows = 70
    fig.update_layout(height=500 + MODEBAR_BAND + legend_rows, margin=dict(t=120 + MODEBAR_BAND),
                      sliders=[dict(pad=dict(t=40 + legend_rows))] * len(fig.layout.sliders))
    fig.update_layout(updatemenus=[dict(y=1.17, yanchor="bottom")])
    return fig
