"""Tests of the gradient-norm widget: the data function (against rnnlib.jacobians on the same
model and against closed forms), the live view driven from Python (traces updated in place to the
data function's output), the static twin's sliders and frames."""

import numpy as np
import pytest

pytest.importorskip("plotly")
pytest.importorskip("ipywidgets")

from rnnlib import rnn_forward  # noqa: E402
from rnnlib.jacobians import hidden_jacobians, jacobian_norms, state_gradients  # noqa: E402
from rnnlib.widgets import frame_name  # noqa: E402
from rnnlib.widgets import gradient_norms as gn  # noqa: E402


def close(stored, expected, digits=3):
    """Stored (rounded) numbers equal the data function's to the rounding precision (None = NaN)."""
    stored = np.array([np.nan if v is None else v for v in np.ravel(stored)], dtype=float)
    expected = np.ravel(np.asarray(expected, dtype=float))
    if stored.shape != expected.shape or not np.array_equal(np.isnan(stored), np.isnan(expected)):
        return False
    ok = ~np.isnan(expected)
    return np.allclose(stored[ok], expected[ok], rtol=10.0 ** (1 - digits), atol=0)


# ---------------------------------------------------------------------------------------------
# the data function
# ---------------------------------------------------------------------------------------------
def test_data_matches_the_jacobians_of_the_same_model():
    d = gn.gradient_norm_data(cell="RNN", activation="tanh", spectral_radius=1.2, steps=12, seed=2)
    T = 12
    params, forward, backward, kwargs = gn._model("RNN", "tanh", 1.2, 0, 2)
    assert np.isclose(np.max(np.abs(np.linalg.eigvals(params["W"]))), 1.2)
    x, y = gn._batch(10**6, T, 2)
    cache = rnn_forward(params, x, activation="tanh")
    D = hidden_jacobians(params, cache)
    expected = jacobian_norms(D[T]).mean(axis=1)                         # (T+1,) over k
    assert np.allclose(d["jacobian_norm"], expected[::-1])              # indexed by lag T - k
    assert np.allclose(d["lag"], np.arange(T + 1))
    assert d["jacobian_norm"][0] == pytest.approx(1.0)
    delta = state_gradients(params, cache, y)
    assert np.allclose(d["state_grad_norm"], np.sqrt((delta ** 2).sum(axis=(1, 2))))
    assert np.all(d["jacobian_norm"] <= d["bound"] * (1 + 1e-12))
    assert d["rate"] == pytest.approx(expected[0] ** (1 / T))
    assert d["verdict"] == gn.classify(expected[0])


def test_linear_rnn_decays_and_grows_at_its_spectral_radius():
    slow = gn.gradient_norm_data(activation="identity", spectral_radius=0.7, steps=30)
    fast = gn.gradient_norm_data(activation="identity", spectral_radius=1.4, steps=30)
    for data, rho in ((slow, 0.7), (fast, 1.4)):
        slope = np.polyfit(data["lag"][5:], np.log(data["jacobian_norm"][5:]), 1)[0]
        assert slope == pytest.approx(np.log(rho), abs=0.05)
    assert slow["verdict"] == "vanishing" and fast["verdict"] == "exploding"


def test_models_and_remedies():
    irnn = gn.gradient_norm_data(cell="IRNN", spectral_radius=1.0)
    assert irnn["rate"] == pytest.approx(1.0)                            # identity on active units
    tanh = gn.gradient_norm_data(spectral_radius=1.0)
    skip = gn.gradient_norm_data(spectral_radius=1.0, skip=5)
    assert tanh["verdict"] == "vanishing" and skip["rate"] > tanh["rate"]
    for cell in ("LSTM", "GRU"):
        d = gn.gradient_norm_data(cell=cell)
        assert d["jacobian_norm"].shape == (31,) and np.all(np.isfinite(d["jacobian_norm"]))
        assert np.isnan(d["bound"]).all()


def test_clipping_runs():
    d = gn.gradient_norm_data(activation="relu", spectral_radius=3.0, clip=1.0)
    assert not np.all(np.isfinite(d["loss_plain"]))                     # diverges without clipping
    assert np.all(np.isfinite(d["loss_clipped"]))                       # trains with clipping
    assert d["grad_norm_plain"][0] == d["grad_norm_clipped"][0]         # same first gradient
    off = gn.gradient_norm_data(clip=0.0)
    assert np.isnan(off["grad_norm_clipped"]).all() and np.isfinite(off["grad_norm_plain"]).all()


def test_data_bad_input():
    with pytest.raises(ValueError, match="cell"):
        gn.gradient_norm_data(cell="Transformer")
    with pytest.raises(ValueError, match="activation"):
        gn.gradient_norm_data(activation="gelu")
    with pytest.raises(ValueError, match="spectral_radius"):
        gn.gradient_norm_data(spectral_radius=0)
    with pytest.raises(TypeError, match="spectral_radius"):
        gn.gradient_norm_data(spectral_radius="1")
    with pytest.raises(ValueError, match="clip"):
        gn.gradient_norm_data(clip=-1.0)
    with pytest.raises(ValueError, match="steps"):
        gn.gradient_norm_data(steps=1)
    with pytest.raises(TypeError, match="skip"):
        gn.gradient_norm_data(skip=1.5)
    with pytest.raises(ValueError, match="seed"):
        gn.gradient_norm_data(seed=-1)
    with pytest.raises(TypeError, match="unknown control"):
        gn.gradient_norm_widget(radius=1.0)
    with pytest.raises(ValueError, match="clip"):
        gn.gradient_norm_widget(clip=0.3)
    with pytest.raises(ValueError, match="variant"):
        gn.gradient_norm_figure_static(variants=("RNN tanh", "Transformer"))


# ---------------------------------------------------------------------------------------------
# the live view
# ---------------------------------------------------------------------------------------------
def traces_equal_data(fig, data):
    for trace, update in zip(fig.data, gn.gradient_norm_traces(data)):
        for key, value in update.items():
            if not np.allclose(np.asarray(getattr(trace, key), dtype=float), value, equal_nan=True):
                return False
    return True


@pytest.mark.parametrize("control, value", [
    ("cell", "LSTM"), ("cell", "GRU"), ("activation", "relu"), ("spectral_radius", 2.0),
    ("steps", 40), ("skip", 3), ("clip", 10.0), ("seed", 5)])
def test_live_widget_updates_traces_in_place(control, value):
    live = gn.gradient_norm_widget(steps=15)
    fig = live.figure
    traces = list(fig.data)
    start = {**gn.DEFAULTS, "steps": 15}
    before = [np.array(t.y, dtype=float) for t in fig.data]
    assert traces_equal_data(fig, gn.gradient_norm_data(**start))
    live.controls[control].value = value
    assert live.updates == 1
    assert live.figure is fig and all(a is b for a, b in zip(fig.data, traces))   # in place
    assert traces_equal_data(fig, gn.gradient_norm_data(**{**start, control: value}))
    after = [np.array(t.y, dtype=float) for t in fig.data]
    assert any(a.shape != b.shape or not np.allclose(a, b, equal_nan=True) for a, b in zip(before, after))


def test_live_widget_has_every_control():
    live = gn.gradient_norm_widget()
    assert set(live.controls) == set(gn.DEFAULTS)
    assert live.values() == gn.DEFAULTS


# ---------------------------------------------------------------------------------------------
# the static twin
# ---------------------------------------------------------------------------------------------
RADII = (0.5, 1.0, 2.0)
VARIANTS = ("RNN tanh", "IRNN", "LSTM")


@pytest.fixture(scope="module")
def static_fig():
    return gn.gradient_norm_figure_static(radii=RADII, variants=VARIANTS, steps=15, active=(1.0, "RNN tanh"))


def test_static_figure_has_a_slider_step_per_grid_point(static_fig):
    sliders = static_fig.layout.sliders
    assert len(sliders) == len(VARIANTS)
    assert sum(len(s.steps) for s in sliders) == len(RADII) * len(VARIANTS)
    assert {f.name for f in static_fig.frames} == {frame_name(r, v) for r in RADII for v in VARIANTS}
    for slider, variant in zip(sliders, VARIANTS):
        assert [step.args[0][0] for step in slider.steps] == [frame_name(r, variant) for r in RADII]
    assert [b.label for b in static_fig.layout.updatemenus[0].buttons] == list(VARIANTS)


def test_static_frames_hold_the_data_functions_values(static_fig):
    frames = {f.name: f for f in static_fig.frames}
    for radius in RADII:
        for variant in VARIANTS:
            data = gn.gradient_norm_data(spectral_radius=radius, steps=15, clip=gn.DEFAULTS["clip"],
                                         seed=0, **gn.variant_settings(variant))
            updates = gn.gradient_norm_traces(data)
            for i, trace in enumerate(frames[frame_name(radius, variant)].data):
                for key in ("x", "y"):
                    stored = getattr(trace, key)
                    if stored is None:                 # unchanged over the grid: kept in the figure
                        stored = getattr(static_fig.data[i], key)
                    assert close(stored, updates[i][key]), (radius, variant, i, key)


def test_default_static_figure_is_small():
    fig = gn.gradient_norm_figure_static()
    assert len(fig.frames) == len(gn.STATIC_RADII) * len(gn.STATIC_VARIANTS)
    assert len(fig.to_json()) < 400_000


def test_book_build_controls_still_drive_the_data(monkeypatch):
    """The chapter's claim cell moves a control during the build: no ipywidget there, but the
    stand-in control updates the data all the same."""
    from rnnlib.book import BUILD_ENV_VAR

    monkeypatch.setenv(BUILD_ENV_VAR, "1")
    live = gn.gradient_norm_widget(steps=15)
    assert live.mode == "static" and live.widget is None
    live.controls["cell"].value = "LSTM"
    assert live.updates == 1
    assert np.allclose(live.data["jacobian_norm"], gn.gradient_norm_data(cell="LSTM", steps=15)["jacobian_norm"])
    assert live.static_fn is gn.gradient_norm_figure_static


def test_an_update_sends_only_what_changed():
    live = gn.gradient_norm_widget(steps=15)
    live.controls["spectral_radius"].value = 2.0
    assert live.sent and all(key == "y" for _, key in live.sent)     # the lags and steps stay


def test_a_diverging_skip_rnn_is_exploding_not_an_error():
    """skip_rnn_forward rejects non-finite logits (a ValueError): the data function reports the
    divergence (NaN after it, verdict "exploding") instead of raising, so the control stays live."""
    for settings in (dict(activation="relu", spectral_radius=1.05, steps=35, skip=1),
                     dict(activation="relu", spectral_radius=3.0, steps=100, skip=10)):
        d = gn.gradient_norm_data(cell="RNN", **settings)
        assert np.isnan(d["grad_norm_plain"][-1]) or np.isfinite(d["grad_norm_plain"]).all()
        assert d["verdict"] in ("exploding", "neither", "vanishing")
    d = gn.gradient_norm_data(cell="RNN", activation="relu", spectral_radius=3.0, steps=100, skip=10)
    assert d["verdict"] == "exploding"


def test_the_training_runs_match_one_call_of_the_training_loop():
    from rnnlib.jacobians import train_with_gradient_norms
    from rnnlib.optim import SGD

    d = gn.gradient_norm_data(cell="GRU", spectral_radius=0.8, steps=12, clip=1.0)
    params, forward, backward, kwargs = gn._model("GRU", "tanh", 0.8, 0, 0)
    for name, threshold in (("plain", None), ("clipped", 1.0)):
        p = {k: v.copy() for k, v in params.items()}
        history, _ = train_with_gradient_norms(p, lambda step: gn._batch(step, 12, 0), gn.TRAIN_STEPS,
                                               SGD(lr=gn.LEARNING_RATE), forward=forward, backward=backward,
                                               clip_norm=threshold, record_states=False, **kwargs)
        assert np.allclose(d[f"grad_norm_{name}"], history.grad_norm, rtol=1e-12)
        assert np.allclose(d[f"loss_{name}"], history.loss, rtol=1e-12)
