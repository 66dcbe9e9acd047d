"""Tests of the eigenvalue widget (rnnlib.widgets.memory): the data function against a hand loop
and the closed forms, the live view driven from Python (updated in place, labels above the
sliders), the book build's note and twin, the static twin's frames and buttons."""

import math

import numpy as np
import pytest

pytest.importorskip("plotly")
pytest.importorskip("ipywidgets")

from rnnlib.widgets import frame_name  # noqa: E402
from rnnlib.widgets import memory as mw  # noqa: E402


def close(stored, expected, digits=4):
    stored = np.asarray(stored, dtype=float)
    expected = np.asarray(expected, dtype=float)
    scale = np.nanmax(np.abs(expected)) if np.isfinite(expected).any() else 1.0
    return stored.shape == expected.shape and np.allclose(
        stored, expected, rtol=10.0 ** (1 - digits), atol=scale * 10.0 ** (1 - digits),
        equal_nan=True)


def hand_impulse(lam, T):
    """h^(1..T) of h^(t) = lam h^(t-1) + u^(t), u^(1) = 1, by a plain loop."""
    h, out = 0j, []
    for t in range(1, T + 1):
        h = lam * h + (1.0 if t == 1 else 0.0)
        out.append(h)
    return np.array(out)


def hand_memory(r, threshold, T):
    """Steps k after the impulse until r^k < threshold, by counting (None past the window)."""
    for k in range(T):
        if r ** k < threshold:
            return k
    return None


# ---------------------------------------------------------------------------------------------
# the data function
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("modulus, angle", [(0.9, 30.0), (0.5, 0.0), (0.95, 180.0),
                                            (0.0, 90.0), (0.99, 45.0), (1.0, 60.0)])
def test_data_matches_a_hand_loop(modulus, angle):
    d = mw.memory_data(modulus, angle)
    lam = modulus * np.exp(1j * math.radians(angle))
    assert np.isclose(d["lam"], lam)
    assert np.allclose(d["path"], hand_impulse(lam, mw.PATH_STEPS))
    assert np.allclose(d["response"], np.abs(hand_impulse(lam, mw.STEPS)))
    assert d["t"].tolist() == list(range(1, mw.STEPS + 1))
    expected = hand_memory(modulus, mw.THRESHOLD, mw.STEPS)
    assert d["memory"] == expected and d["beyond"] == (expected is None)
    assert d["fades"] == (modulus < 1)


def test_memory_follows_the_closed_form_and_grows_towards_the_circle():
    d = mw.memory_data(0.9, 0.0)
    assert d["memory"] == math.ceil(math.log(0.01) / math.log(0.9)) == 44
    curve = d["curve_memory"]
    assert np.all(np.diff(curve) >= 0) and curve[-1] > 100 * curve[1]
    for r, k in zip(d["curve_moduli"], curve):
        assert k == hand_memory(r, 0.01, 2000)             # first k with r^k < 0.01
    near = d["curve_moduli"] > 0.9                       # ln(1/eps)/(1-r) is the limit near 1
    assert np.allclose(curve[near], d["curve_closed_form"][near], rtol=0.06)
    assert mw.memory_data(0.99, 0.0)["beyond"]           # 459 steps > the 300-step window


def test_angle_sets_the_rotation_not_the_memory():
    a, b = mw.memory_data(0.8, 0.0), mw.memory_data(0.8, 90.0)
    assert a["memory"] == b["memory"] and np.allclose(a["response"], b["response"])
    assert a["period"] is None and b["period"] == pytest.approx(4.0)
    assert mw.memory_data(0.8, 180.0)["period"] == pytest.approx(2.0)
    assert np.allclose(b["path"][:4], [1, 0.8j, -0.64, -0.512j])


def test_bad_input():
    with pytest.raises(ValueError, match="modulus"):
        mw.memory_data(1.2, 0.0)
    with pytest.raises(ValueError, match="modulus"):
        mw.memory_data(-0.1, 0.0)
    with pytest.raises(TypeError, match="angle"):
        mw.memory_data(0.5, "30")
    with pytest.raises(ValueError, match="angle"):
        mw.memory_data(0.5, float("nan"))
    with pytest.raises(TypeError, match="unknown control"):
        mw.memory_widget(radius=0.5)
    with pytest.raises(ValueError, match="distinct"):
        mw.memory_figure_static(angles=(0.0, 0.0))


# ---------------------------------------------------------------------------------------------
# the live view
# ---------------------------------------------------------------------------------------------
def traces_equal_data(fig, data):
    for trace, update in zip(fig.data, mw.memory_traces(data)):
        for key, value in update.items():
            stored = getattr(trace, key)
            if key == "text":
                if list(stored) != list(value):
                    return False
            elif not np.allclose(np.asarray(stored, dtype=float), value, equal_nan=True):
                return False
    return True


@pytest.mark.parametrize("control, value", [("modulus", 0.5), ("angle", 120.0),
                                            ("modulus", 1.0)])
def test_live_widget_updates_traces_in_place(control, value):
    live = mw.memory_widget(live=True)
    fig = live.figure
    traces = list(fig.data)
    assert traces_equal_data(fig, mw.memory_data(**mw.DEFAULTS))
    live.controls[control].value = value
    assert live.updates == 1 and live.figure is fig
    assert all(a is b for a, b in zip(fig.data, traces))
    assert traces_equal_data(fig, mw.memory_data(**{**mw.DEFAULTS, control: value}))
    sent = {i for i, _ in live.sent}
    assert not sent & {0, 4, 5, 8}                       # circle, curves, threshold: unchanged


def test_controls_are_two_sliders_labelled_above():
    import ipywidgets as widgets

    live = mw.memory_widget(live=True)
    assert set(live.controls) == {"modulus", "angle"}
    grid = live.widget.children[0]
    for box, control in zip(grid.children, live.controls.values()):
        label, widget = box.children
        assert widget is control and isinstance(widget, widgets.FloatSlider)
        assert widget.description == "" and isinstance(label, widgets.HTML)
    labels = " ".join(box.children[0].value for box in grid.children)
    assert "|λ|" in labels and "angle" in labels


def test_book_build_shows_the_note_and_the_twin_only(monkeypatch):
    import IPython.display
    import ipywidgets as widgets
    import plotly.graph_objects as go
    from IPython.display import Markdown

    from rnnlib.book import BUILD_ENV_VAR
    from rnnlib.widgets import STATIC_NOTE

    made = []
    monkeypatch.setattr(widgets.Widget, "open", lambda self: made.append(type(self).__name__))
    monkeypatch.setenv(BUILD_ENV_VAR, "1")
    live = mw.memory_widget()
    assert live.mode == "static" and live.widget is None and made == []
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    monkeypatch.setattr(go.Figure, "show", lambda self, *a, **kw: shown.append(self))
    live._ipython_display_()
    assert len(shown) == 2 and isinstance(shown[0], Markdown) and shown[0].data == STATIC_NOTE
    twin = shown[1]
    assert twin.layout.sliders and len(twin.frames) == len(mw.STATIC_MODULI) * len(mw.STATIC_ANGLES)


# ---------------------------------------------------------------------------------------------
# the static twin
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def static_fig():
    return mw.memory_figure_static()


def test_static_twin_has_a_slider_per_angle_and_a_frame_per_point(static_fig):
    labels = [f"angle {a:g}°" for a in mw.STATIC_ANGLES]
    assert [b.label for b in static_fig.layout.updatemenus[0].buttons] == labels
    sliders = static_fig.layout.sliders
    assert len(sliders) == len(labels)
    assert [s.visible for s in sliders] == [a == 30.0 for a in mw.STATIC_ANGLES]
    names = {f.name for f in static_fig.frames}
    assert names == {frame_name(r, lab) for r in mw.STATIC_MODULI for lab in labels}


def test_static_frames_hold_the_data_functions_values(static_fig):
    frames = {f.name: f for f in static_fig.frames}
    for r in (0.3, 0.9, 0.99, 1.0):
        for a in (0.0, 90.0, 180.0):
            data = mw.memory_data(r, a)
            frame = frames[frame_name(r, f"angle {a:g}°")]
            for i, update in enumerate(mw.memory_traces(data)):
                for key, value in update.items():
                    stored = getattr(frame.data[i], key)
                    if stored is None:                   # the same in every frame
                        stored = getattr(static_fig.data[i], key)
                    if key == "text":
                        assert list(stored) == list(value)
                    else:
                        assert close(stored, value), (r, a, i, key)
    # it opens on |lambda| = 0.9 at 30 degrees
    assert static_fig.data[10].text == ("remembered for 44 steps",)
    assert close(static_fig.data[2].x, [0.9 * math.cos(math.radians(30))])


def test_static_twin_stays_small_and_fixes_its_axes(static_fig):
    import plotly.io as pio

    html = pio.to_html(static_fig, include_plotlyjs=False, full_html=False)
    assert len(html) < 300_000
    for frame in static_fig.frames:                      # fixed ranges: no per-frame rescaling
        assert not frame.layout.to_plotly_json()
