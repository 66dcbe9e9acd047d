"""Tests of the hidden-state dynamics widget: the data function (against hand loops and closed
forms), the live view driven from Python, the static twin's sliders and frames, the generic
helpers of rnnlib.widgets, and the built chapter page."""

import numpy as np
import pytest

pytest.importorskip("plotly")
pytest.importorskip("ipywidgets")

from rnnlib.widgets import (Control, LiveFigure, frame_name, round_relative,  # noqa: E402
                            round_significant, slider_figure)
from rnnlib.widgets import hidden_state as hs  # noqa: E402


def close(stored, expected, digits=3):
    """Stored (rounded) numbers equal the data function's to the rounding precision."""
    stored = np.asarray(stored, dtype=float)
    expected = np.asarray(expected, dtype=float)
    scale = np.max(np.abs(expected))
    return stored.shape == expected.shape and np.allclose(stored, expected,
                                                           rtol=10.0 ** (1 - digits),
                                                           atol=scale * 10.0 ** (1 - digits))


# ---------------------------------------------------------------------------------------------
# the data function
# ---------------------------------------------------------------------------------------------
def test_data_matches_hand_loop_and_shapes():
    d = hs.hidden_state_data(spectral_radius=1.2, activation="tanh", input="sine", amplitude=0.7,
                             hidden_size=10, steps=25, seed=3, init_scale=0.5)
    T, N, m = 25, hs.N_INITIAL, 10
    assert d["h"].shape == (T + 1, N, m) and d["pca"].shape == (N, T + 1, 2)
    assert d["norms"].shape == (N, T + 1) and d["components"].shape == (T + 1, hs.N_COMPONENTS)
    rng = np.random.default_rng(3)
    W = rng.normal(size=(m, m)) / np.sqrt(m)
    W *= 1.2 / np.max(np.abs(np.linalg.eigvals(W)))
    U = rng.normal(size=(m, 1))
    h = 0.5 * rng.normal(size=(N, m))
    assert np.allclose(d["h"][0], h)
    for t in range(1, T + 1):
        x_t = 0.7 * np.sin(2 * np.pi * t / 20)
        h = np.tanh(h @ W.T + x_t * U[:, 0])
        assert np.allclose(d["h"][t], h)
    assert np.allclose(d["norms"], np.linalg.norm(d["h"], axis=2).T)
    assert np.isclose(np.max(np.abs(np.linalg.eigvals(d["W"]))), 1.2)


def test_identity_without_input_is_linear_closed_form():
    d = hs.hidden_state_data(spectral_radius=0.8, activation="identity", input="none",
                             hidden_size=6, steps=12)
    W, h0 = d["W"], d["h"][0]
    for t in (1, 5, 12):
        assert np.allclose(d["h"][t], h0 @ np.linalg.matrix_power(W, t).T)


def test_spectral_radius_only_rescales_W():
    a = hs.hidden_state_data(spectral_radius=0.5)
    b = hs.hidden_state_data(spectral_radius=2.0)
    assert np.allclose(b["W"], 4.0 * a["W"])
    assert np.array_equal(a["h"][0], b["h"][0])


def test_regimes_are_reachable():
    fading = hs.hidden_state_data(spectral_radius=0.5, activation="tanh")
    assert np.all(fading["norms"][:, -1] < 1e-6 * fading["norms"][:, 0])
    exploding = hs.hidden_state_data(spectral_radius=1.5, activation="identity")
    assert np.all(exploding["norms"][:, -1] > 1e6 * exploding["norms"][:, 0])
    saturated = hs.hidden_state_data(spectral_radius=3.0, activation="tanh")
    assert np.mean(np.abs(saturated["h"][-10:]) > 0.9) > 0.5
    # forgetting the initial state under input: trajectories merge
    driven = hs.hidden_state_data(spectral_radius=0.9, activation="tanh", input="noise",
                                  amplitude=1.0, steps=100)
    assert driven["spread"][-1] < 1e-3 * driven["spread"][0]
    assert np.all(driven["norms"][:, -1] > 0.1)


def test_pca_projects_on_top_two_components():
    d = hs.hidden_state_data(spectral_radius=1.1, hidden_size=8, steps=30)
    X = d["h"].reshape(-1, 8)
    Xc = X - X.mean(axis=0)
    eigenvalues = np.linalg.eigvalsh(Xc.T @ Xc)[::-1]
    P = d["pca"].transpose(1, 0, 2).reshape(-1, 2)
    cov = P.T @ P
    assert np.allclose(np.diag(cov), eigenvalues[:2], rtol=1e-8)
    assert abs(cov[0, 1]) < 1e-8 * cov[0, 0]


def test_data_bad_input():
    with pytest.raises(ValueError, match="activation"):
        hs.hidden_state_data(activation="gelu")
    with pytest.raises(ValueError, match="input"):
        hs.hidden_state_data(input="square")
    with pytest.raises(ValueError, match="spectral_radius"):
        hs.hidden_state_data(spectral_radius=0)
    with pytest.raises(TypeError, match="spectral_radius"):
        hs.hidden_state_data(spectral_radius="1")
    with pytest.raises(ValueError, match="amplitude"):
        hs.hidden_state_data(amplitude=-1.0)
    with pytest.raises(ValueError, match="hidden_size"):
        hs.hidden_state_data(hidden_size=1)
    with pytest.raises(TypeError, match="steps"):
        hs.hidden_state_data(steps=2.5)
    with pytest.raises(ValueError, match="seed"):
        hs.hidden_state_data(seed=-1)
    with pytest.raises(TypeError, match="unknown control"):
        hs.hidden_state_widget(radius=1.0)
    with pytest.raises(TypeError, match="unknown fixed"):
        hs.hidden_state_figure_static(spectral_radius=1.0)


# ---------------------------------------------------------------------------------------------
# the live view
# ---------------------------------------------------------------------------------------------
def traces_equal_data(fig, data):
    for trace, update in zip(fig.data, hs.hidden_state_traces(data)):
        for key, value in update.items():
            if not np.allclose(np.asarray(getattr(trace, key), dtype=float), value,
                               equal_nan=True):
                return False
    return True


@pytest.mark.parametrize("control, value", [
    ("spectral_radius", 2.0), ("activation", "relu"), ("input", "sine"), ("amplitude", 1.5),
    ("hidden_size", 17), ("steps", 90), ("seed", 5), ("init_scale", 2.0)])
def test_live_widget_updates_traces_in_place(control, value):
    live = hs.hidden_state_widget(input="constant")
    fig = live.figure
    traces = list(fig.data)
    before = [np.array(t.y, dtype=float) for t in fig.data]
    assert traces_equal_data(fig, hs.hidden_state_data(**{**hs.DEFAULTS, "input": "constant"}))
    live.controls[control].value = value
    assert live.updates == 1
    assert live.figure is fig and all(a is b for a, b in zip(fig.data, traces))  # in place
    expected = hs.hidden_state_data(**{**hs.DEFAULTS, "input": "constant", control: value})
    assert traces_equal_data(fig, expected)
    after = [np.array(t.y, dtype=float) for t in fig.data]
    assert any(a.shape != b.shape or not np.allclose(a, b, equal_nan=True)
               for a, b in zip(before, after))
    assert live.last_compute_seconds >= 0


def test_live_widget_box_holds_every_control_and_the_figure():
    import ipywidgets as widgets
    import plotly.graph_objects as go

    live = hs.hidden_state_widget()
    assert set(live.controls) == set(hs.DEFAULTS)
    assert isinstance(live.widget, widgets.VBox)
    assert isinstance(live.widget.children[-1], go.FigureWidget)
    assert live.values() == hs.DEFAULTS


def test_an_update_sends_only_what_changed():
    live = hs.hidden_state_widget()
    live.controls["spectral_radius"].value = 1.7
    sent = set(live.sent)
    components = range(hs.N_COMPONENTS)                 # their x (the time axis) is unchanged
    assert {(i, "y") for i in components} <= sent and not {(i, "x") for i in components} & sent
    live.controls["steps"].value = 80                   # a longer time axis: x is sent too
    assert {(i, "x") for i in components} <= set(live.sent)
    assert traces_equal_data(live.figure, hs.hidden_state_data(spectral_radius=1.7, steps=80))


def test_controls_have_their_label_above_and_a_wide_track():
    import ipywidgets as widgets

    from rnnlib.widgets import CONTROL_MIN_WIDTH

    live = hs.hidden_state_widget()
    grid = live.widget.children[0]
    assert isinstance(grid, widgets.GridBox) and f"minmax({CONTROL_MIN_WIDTH}" in grid.layout.grid_template_columns
    for box, (name, control) in zip(grid.children, live.controls.items()):
        label, widget = box.children
        assert widget is control and widget.description == "" and widget.layout.width == "100%"
        assert isinstance(label, widgets.HTML) and label.value.strip()
    labels = [box.children[0].value for box in grid.children]
    assert any("ρ(W)" in text for text in labels)


def _record_displays(monkeypatch):
    import IPython.display
    import plotly.graph_objects as go

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    monkeypatch.setattr(go.Figure, "show", lambda self, *a, **kw: shown.append(self))
    return shown


def test_book_build_shows_a_note_and_the_twin_and_makes_no_widget(monkeypatch):
    import ipywidgets as widgets
    import plotly.graph_objects as go
    from IPython.display import Markdown

    from rnnlib.book import BUILD_ENV_VAR
    from rnnlib.widgets import STATIC_NOTE

    made = []
    monkeypatch.setattr(widgets.Widget, "open", lambda self: made.append(type(self).__name__))
    monkeypatch.setenv(BUILD_ENV_VAR, "1")
    live = hs.hidden_state_widget()
    assert live.mode == "static" and not live.live and live.widget is None
    assert made == [], f"ipywidgets made during the build: {made}"
    assert type(live.figure) is go.Figure
    live.controls["spectral_radius"].value = 1.7        # still consistent with the controls
    assert traces_equal_data(live.figure, hs.hidden_state_data(spectral_radius=1.7))
    shown = _record_displays(monkeypatch)
    live._ipython_display_()
    assert isinstance(shown[0], Markdown) and shown[0].data == STATIC_NOTE
    assert "Binder" in STATIC_NOTE and "Colab" in STATIC_NOTE and "Jupyter" in STATIC_NOTE
    twin = shown[1]
    assert len(shown) == 2 and type(twin) is go.Figure and twin.layout.sliders and len(twin.frames) == 21
    monkeypatch.delenv(BUILD_ENV_VAR)
    assert hs.hidden_state_widget().live and not hs.hidden_state_widget(live=False).live


def _hide_anywidget(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "anywidget", None)        # import anywidget -> ImportError
    for name in ("plotly.basewidget", "plotly.graph_objs._figurewidget"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_without_anywidget_the_figure_is_redrawn_on_every_change(monkeypatch):
    import ipywidgets as widgets
    import plotly.graph_objects as go

    _hide_anywidget(monkeypatch)
    with pytest.raises(ImportError, match="anywidget"):
        go.FigureWidget()
    shown = _record_displays(monkeypatch)
    with pytest.warns(UserWarning, match="anywidget"):
        live = hs.hidden_state_widget(live=True)
    assert live.mode == "redraw" and type(live.figure) is go.Figure
    assert isinstance(live.widget.children[-1], widgets.Output) and live.widget.children[-1] is live.output
    assert shown == [live.figure]                        # drawn once into the Output
    for control, value in (("activation", "relu"), ("spectral_radius", 2.5), ("input", "sine")):
        live.controls[control].value = value
        assert shown[-1] is live.figure and traces_equal_data(shown[-1], hs.hidden_state_data(**live.values()))
    assert len(shown) == 4                               # redrawn on every change: no dead controls


# ---------------------------------------------------------------------------------------------
# the static twin
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def static_fig():
    return hs.hidden_state_figure_static()


def test_static_figure_has_a_slider_step_per_grid_point(static_fig):
    radii, acts = hs.STATIC_RADII, hs.ACTIVATIONS
    sliders = static_fig.layout.sliders
    assert len(sliders) == len(acts)
    assert sum(len(s.steps) for s in sliders) == len(radii) * len(acts)
    names = {f.name for f in static_fig.frames}
    assert names == {frame_name(r, a) for r in radii for a in acts}
    for slider, act in zip(sliders, acts):
        assert [step.args[0][0] for step in slider.steps] == [frame_name(r, act) for r in radii]
        assert slider.visible == (act == "tanh")
    buttons = static_fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == list(acts)


def test_static_frames_hold_the_data_functions_values(static_fig):
    fixed = {**hs.DEFAULTS, **hs.STATIC_FIXED}
    frames = {f.name: f for f in static_fig.frames}
    for radius in (0.5, 1.5, 3.0):
        for act in hs.ACTIVATIONS:
            data = hs.hidden_state_data(**{**fixed, "spectral_radius": radius, "activation": act})
            frame = frames[frame_name(radius, act)]
            updates = hs.hidden_state_traces(data)
            for i, trace in enumerate(frame.data):
                for key in ("x", "y"):
                    stored = getattr(trace, key)
                    if stored is None:          # unchanged over the grid: kept in the figure
                        stored = getattr(static_fig.data[i], key)
                    assert close(stored, updates[i][key]), (radius, act, i, key)
            assert frame.layout.yaxis3.range is not None          # ranges fit each frame
    # the figure opens on its active frame
    data = hs.hidden_state_data(**{**fixed, "spectral_radius": 0.9, "activation": "tanh"})
    assert close(static_fig.data[0].y, data["components"][:, 0])


def test_static_buttons_show_the_data_of_their_activation(static_fig):
    fixed = {**hs.DEFAULTS, **hs.STATIC_FIXED}
    for button in static_fig.layout.updatemenus[0].buttons:
        data_update, layout_update = button.args
        data = hs.hidden_state_data(**{**fixed, "spectral_radius": 0.9,
                                       "activation": button.label})
        assert close(data_update["y"][0], data["components"][:, 0])
        visible = [layout_update[f"sliders[{k}].visible"] for k in range(3)]
        assert visible == [a == button.label for a in hs.ACTIVATIONS]


def test_static_figure_stays_small(static_fig):
    import plotly.io as pio

    html = pio.to_html(static_fig, include_plotlyjs=False, full_html=False)
    assert len(html) < 400_000


# ---------------------------------------------------------------------------------------------
# the generic helpers (the pattern later widgets copy)
# ---------------------------------------------------------------------------------------------
def _toy():
    import plotly.graph_objects as go

    def data(frequency=1.0, phase=0.0):
        t = np.linspace(0, 1, 20)
        return {"t": t, "y": np.sin(2 * np.pi * frequency * t + phase)}

    def figure(d):
        return go.Figure(go.Scatter(x=d["t"], y=d["y"]))

    def traces(d):
        return [{"x": d["t"], "y": d["y"]}]

    return data, figure, traces


def test_generic_slider_figure_without_buttons():
    data, figure, traces = _toy()
    fig = slider_figure(data, figure, traces, slider=("frequency", [1, 2, 3]),
                        fixed={"phase": 0.5})
    assert len(fig.layout.sliders) == 1 and len(fig.layout.sliders[0].steps) == 3
    assert not fig.layout.updatemenus
    for f, freq in zip(fig.frames, [1, 2, 3]):
        assert f.name == frame_name(freq)
        assert f.data[0].x is None                      # the same in every frame: not repeated
        assert close(f.data[0].y, data(freq, 0.5)["y"], digits=4)


def test_generic_live_figure():
    import ipywidgets as widgets

    data, figure, traces = _toy()
    live = LiveFigure(data, figure, traces, {"frequency": widgets.FloatSlider(value=1.0),
                                             "phase": Control("FloatSlider", "phase", value=0.0)})
    live.controls["phase"].value = 1.0
    assert np.allclose(live.figure.data[0].y, data(1.0, 1.0)["y"])
    assert isinstance(live.controls["phase"], widgets.FloatSlider)


def test_rounding_helpers():
    assert round_significant([123456.0, 0.000123456, -2.5e-9], 3) == [123000.0, 0.000123, -2.5e-9]
    assert round_significant(np.nan) is None
    assert round_relative([1.17, -0.0001, 0.0708], 3) == [1.17, 0.0, 0.07]
    with pytest.raises(ValueError, match="digits"):
        round_significant([1.0], 0)


def test_generic_bad_input():
    data, figure, traces = _toy()
    with pytest.raises(TypeError, match="callable"):
        slider_figure(1, figure, traces, slider=("frequency", [1]))
    with pytest.raises(TypeError, match="pair"):
        slider_figure(data, figure, traces, slider=[1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        slider_figure(data, figure, traces, slider=("frequency", []))
    with pytest.raises(ValueError, match="distinct"):
        slider_figure(data, figure, traces, slider=("frequency", [1, 1]))
    with pytest.raises(ValueError, match="active"):
        slider_figure(data, figure, traces, slider=("frequency", [1, 2]), active=(3, None))
    with pytest.raises(ValueError, match="updates"):
        slider_figure(data, figure, lambda d: [], slider=("frequency", [1]))
    with pytest.raises(TypeError, match="controls"):
        LiveFigure(data, figure, traces, {})


# ---------------------------------------------------------------------------------------------
# the built book
# ---------------------------------------------------------------------------------------------
def test_built_recurrence_page_contains_the_plotly_figure(book_html):
    page = book_html / "book" / "recurrence.html"
    assert page.exists(), f"{page} was not built (is book/recurrence in _toc.yml?)"
    html = page.read_text()
    assert "plotly-graph-div" in html and "Plotly.newPlot" in html
    assert '"sliders"' in html and "addFrames" in html
    assert frame_name(3.0, "identity") in html
    assert len(html) < 1_000_000                 # no FigureWidget state (5 MB) in the page
    graphs = (book_html / "book" / "computational_graphs.html").read_text()
    assert graphs.count('class="rnd-fig') >= 6     # the drawn computational graphs (SVG)
