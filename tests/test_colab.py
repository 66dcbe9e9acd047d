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
