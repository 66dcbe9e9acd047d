"""Helpers shared by the chapters' checkers (not a chapter: the leading underscore keeps
rnnlib.exercises' auto-discovery from importing it as one)."""
from __future__ import annotations

import dataclasses

import numpy as np

from .plain import to_plain


def seed(rng):
    """A fresh int seed drawn from ``rng`` (for rnnlib's seeded initialisers)."""
    return int(rng.integers(2 ** 31))


def fields(obj):
    """The fields of a dataclass or NamedTuple (an rnnlib cache) as a plain dict."""
    if dataclasses.is_dataclass(obj):
        data = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    else:
        data = obj._asdict()
    return to_plain(data)


def rebuild(cls, data):
    """An rnnlib cache of class ``cls`` from :func:`fields`' dict (copies of the arrays)."""
    copied = {key: (value.copy() if isinstance(value, np.ndarray) else value) for key, value in data.items()}
    return cls(**copied)


def copy_params(params):
    return {key: np.array(value, copy=True) for key, value in params.items()}


def float_dtype(rng, p32=0.3):
    return np.float32 if rng.random() < p32 else np.float64
