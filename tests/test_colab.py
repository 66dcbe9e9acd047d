"""The Colab path of rnnlib.book.setup(): the custom widget manager and what the live figures need.

Colab itself cannot be reached from here; a stand-in ``google.colab`` package records what
setup() asks of it, and a stand-in ``run`` records the pip command instead of running it.
"""
from __future__ import annotations

import sys
import types

import pytest

import rnnlib.book as book


@pytest.fixture
def colab(monkeypatch):
    calls = []
    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append("enable_custom_widget_manager")
    colab.output, google.colab = output, colab
    for name, module in (("google", google), ("google.colab", colab), ("google.colab.output", output)):
        monkeypatch.setitem(sys.modules, name, module)
    return calls


def _versions(monkeypatch, **have):
    from importlib.metadata import PackageNotFoundError

    def version(name):
        if name not in have:
            raise PackageNotFoundError(name)
        return have[name]
    monkeypatch.setattr("importlib.metadata.version", version)


def test_outside_colab_nothing_happens(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    ran = []
    assert not book.in_colab()
    assert book.setup_colab(run=lambda *a, **k: ran.append(a)) == [] and ran == []


def test_colab_with_old_plotly_and_no_anywidget_installs_both_and_enables_widgets(colab, monkeypatch):
    _versions(monkeypatch, plotly="5.24.1")
    ran = []
    installed = book.setup_colab(run=lambda cmd, **kw: ran.append(cmd))
    assert installed == list(book.COLAB_REQUIREMENTS)
    assert ran == [[sys.executable, "-m", "pip", "install", "-q", *book.COLAB_REQUIREMENTS]]
    assert colab == ["enable_custom_widget_manager"]


def test_colab_with_everything_installed_only_enables_widgets(colab, monkeypatch):
    _versions(monkeypatch, plotly="6.3.0", anywidget="0.9.18")
    ran = []
    assert book.setup_colab(run=lambda cmd, **kw: ran.append(cmd)) == [] and ran == []
    assert colab == ["enable_custom_widget_manager"]


def test_setup_calls_the_colab_path(colab, monkeypatch):
    calls = []
    monkeypatch.setattr(book, "setup_colab", lambda: calls.append("colab"))
    book.setup(force_book_renderer=False)
    assert calls == ["colab"]


def test_tqdm_disable_wins_over_an_explicit_disable_false(monkeypatch):
    """The build sets TQDM_DISABLE; rnnlib's loops pass disable=not progress, which would win
    over the variable: setup() makes the variable win (no bars saved into the pages)."""
    import tqdm
    import tqdm.auto

    for module in (tqdm, tqdm.auto, tqdm.std):
        monkeypatch.setattr(module, "tqdm", getattr(module, "tqdm"))   # restored afterwards
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert not book._silence_tqdm()
    assert not tqdm.auto.tqdm(range(2), disable=False).disable
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert book._silence_tqdm()
    from tqdm.auto import tqdm as auto_tqdm

    assert auto_tqdm(range(2), disable=False).disable and tqdm.tqdm(range(2), disable=False).disable
    first = tqdm.auto.tqdm
    assert book._silence_tqdm() and tqdm.auto.tqdm is first        # not wrapped twice


def test_rnnlibs_training_loop_shows_no_bar_in_the_build(monkeypatch, capsys):
    import tqdm
    import tqdm.auto

    for module in (tqdm, tqdm.auto, tqdm.std):
        monkeypatch.setattr(module, "tqdm", getattr(module, "tqdm"))
    monkeypatch.setenv("TQDM_DISABLE", "1")
    book._silence_tqdm()
    import numpy as np

    from rnnlib.optim import SGD
    from rnnlib.rnn import init_rnn
    from rnnlib.train import train

    rng = np.random.default_rng(0)
    batch = (rng.random((4, 2, 3)), rng.integers(0, 2, (4, 2)))
    train(init_rnn(3, 4, 2), lambda step: batch, 5, SGD(lr=0.1), progress=True)
    assert "it/s" not in capsys.readouterr().err
