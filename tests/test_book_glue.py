"""rnnlib.book.glue: NumPy scalars are glued as Python numbers (myst-nb formats a glued value
from its repr, which NumPy 2 writes as np.float64(...)); without myst-nb it does nothing."""
import builtins
import sys

import numpy as np

from rnnlib import book


def test_numpy_scalars_are_glued_as_python_numbers(monkeypatch):
    seen = []
    fake = type(sys)("myst_nb")
    fake.glue = lambda name, value, display=True: seen.append((name, value, display))
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    book.glue("x", np.float64(0.25))
    book.glue("n", np.int64(7))
    book.glue("a", np.array(1.5))
    book.glue("s", "text", display=True)
    assert seen == [("x", 0.25, False), ("n", 7, False), ("a", 1.5, False), ("s", "text", True)]
    assert type(seen[0][1]) is float and type(seen[1][1]) is int
    assert f"{seen[0][1]!r}" == "0.25"


def test_without_myst_nb_nothing_happens(monkeypatch):
    real_import = builtins.__import__

    def no_myst(name, *args, **kwargs):
        if name == "myst_nb":
            raise ImportError("no myst_nb here")
        return real_import(name, *args, **kwargs)
    monkeypatch.delitem(sys.modules, "myst_nb", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_myst)
    assert book.glue("x", 1.0) is None
