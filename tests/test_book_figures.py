"""rnnlib.book's figure defaults: plotly template, matplotlib sizes, the PNG font record.

The browser tests (tests/test_browser.py) read the record that every PNG a kernel shows
carries and scale it by the width the page draws the image at; these tests check the record
against sizes set by hand (an independent reference: pt * dpi / 72).
"""
from __future__ import annotations

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import rnnlib.book as book  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png(fig, **kwargs):
    return book.png_with_font_record(fig, bbox_inches="tight", **kwargs)


def test_record_is_the_smallest_text_in_image_pixels():
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set_title("title", fontsize=15)
    ax.set_xlabel("x label", fontsize=12)
    ax.tick_params(labelsize=10)
    ax.legend(fontsize=9)
    size, text = book.read_png_font_record(_png(fig))
    assert size == pytest.approx(9 * 100 / 72, abs=0.01)
    assert text == "a line"


def test_record_scales_with_the_dpi_and_counts_mathtext_scripts():
    fig, ax = plt.subplots(figsize=(4, 3), dpi=150)
    ax.tick_params(labelsize=14)
    ax.set_ylabel(r"$h^{(t)}$", fontsize=20)  # its scripts: 0.7 * 20 = 14 pt
    ax.set_xlabel(r"norm at $t_0$", fontsize=12)
    size, text = book.read_png_font_record(_png(fig))
    assert size == pytest.approx(12 * 0.7 * 150 / 72, abs=0.01)
    assert text == r"norm at $t_0$"


def test_hidden_and_out_of_view_text_does_not_count():
    fig, (left, right) = plt.subplots(1, 2, figsize=(6, 3), dpi=100)
    left.set_title("visible", fontsize=13)
    left.tick_params(labelsize=12)
    right.set_visible(False)
    right.set_title("hidden axes", fontsize=5)
    left.text(0.5, 0.5, "invisible", fontsize=4).set_visible(False)
    left.set_xticks([0, 0.5, 1, 5])  # a tick outside the view is not drawn...
    left.set_xlim(0, 1)
    left.get_xticklabels()[-1].set_fontsize(3)  # ...so its tiny label does not count
    size, _ = book.read_png_font_record(_png(fig))
    assert size == pytest.approx(12 * 100 / 72, abs=0.01)


def test_a_png_without_record_reads_as_none():
    import io

    fig, ax = plt.subplots()
    ax.plot([1, 2])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert book.read_png_font_record(buffer.getvalue()) is None


def test_the_record_keeps_the_png_readable():
    import io

    from PIL import Image

    fig, ax = plt.subplots(figsize=(3, 2), dpi=100)
    ax.plot([1, 2])
    image = Image.open(io.BytesIO(_png(fig)))
    image.load()
    assert book.PNG_FONT_KEY in image.text


def test_setup_defaults_fit_the_column(monkeypatch):
    import plotly.graph_objects as go
    import plotly.io as pio

    monkeypatch.setattr(pio.templates, "default", pio.templates.default)
    book.setup(force_book_renderer=False)
    # matplotlib: the default figure is the column's width, its smallest default text >= 11 px
    width_px = plt.rcParams["figure.figsize"][0] * plt.rcParams["figure.dpi"]
    assert width_px == pytest.approx(book.COLUMN_PX)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label=r"$h^{(t)}$")
    ax.legend()
    ax.set_xlabel("time step")
    size, _ = book.read_png_font_record(_png(fig))
    assert size >= book.MIN_FONT_PX
    # plotly: the template's font
    assert pio.templates.default == f"plotly+{book.PLOTLY_TEMPLATE}"
    assert go.Figure().layout.template.layout.font.size == book.PLOTLY_FONT_SIZE


def test_record_keeps_non_latin_text():
    fig, ax = plt.subplots(figsize=(3, 2), dpi=100)
    ax.set_title("ρ(W) = 0.8", fontsize=7)
    ax.tick_params(labelsize=12)
    size, text = book.read_png_font_record(_png(fig))
    assert (size, text) == (pytest.approx(7 * 100 / 72, abs=0.01), "ρ(W) = 0.8")
