"""Argument checks shared by every public function of rnnlib.

A mistake in a call must surface as a clear error that names the argument, what was expected
and what was given, never as a NumPy broadcasting or indexing error from deep inside a loop.
These helpers raise:

* ``TypeError``  for a value of the wrong kind (not an array, not numeric, not a dict),
* ``ValueError`` for a value of the right kind but the wrong shape, range or content,
* ``KeyError``   for a parameter missing from a params dict.
"""
from __future__ import annotations

import numbers

import numpy as np

ACTIVATIONS = ("tanh", "relu", "identity")


def as_float_array(name, value, dtype=None, ndim=None, allow_nonfinite=False):
    """Return ``value`` as a floating-point array, or raise an error naming ``name``.

    dtype: the floating dtype to cast to (None keeps a float array's dtype, float64 otherwise).
    ndim:  an int or a tuple of allowed numbers of dimensions.
    """
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got an array of dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got complex dtype {array.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            expected = " or ".join(str(n) for n in allowed)
            raise ValueError(
                f"{name} must have {expected} dimensions, got {array.ndim} (shape {array.shape})"
            )
    if dtype is None:
        dtype = array.dtype if np.issubdtype(array.dtype, np.floating) else np.float64
    array = array.astype(dtype, copy=False)
    if not allow_nonfinite and not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} contains {bad} NaN or inf value(s); all entries must be finite")
    return array


def check_shape(name, array, expected, meaning=None):
    """Raise ValueError unless ``array.shape`` matches ``expected`` (None matches any size)."""
    shape = np.shape(array)
    ok = len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape))
    if not ok:
        shown = "(" + ", ".join("?" if e is None else str(e) for e in expected) + ("," if len(expected) == 1 else "") + ")"
        hint = f" {meaning}" if meaning else ""
        raise ValueError(f"{name} must have shape {shown}{hint}, got {shape}")


def check_float_dtype(dtype):
    """Return ``np.dtype(dtype)``, which must be a floating dtype (float64, float32, ...)."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be a float dtype such as float64 or float32, got {dtype!r}") from error
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a float dtype such as float64 or float32, got {dtype}")
    return dtype


def check_activation(activation):
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    return activation


def check_positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_params(params, required, where="params"):
    """Check a params dict: every required key present, each a finite float array.

    Returns the common floating dtype of the parameters (the dtype everything follows).
    """
    if not isinstance(params, dict):
        raise TypeError(f"{where} must be a dict of NumPy arrays, got {type(params).__name__}")
    missing = [k for k in required if k not in params]
    if missing:
        raise KeyError(f"{where} is missing {missing}; expected keys {list(required)}")
    dtypes = set()
    for key in required:
        value = params[key]
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{where}[{key!r}] must be a NumPy array, got {type(value).__name__}")
        if not np.issubdtype(value.dtype, np.floating):
            raise TypeError(f"{where}[{key!r}] must be a float array, got dtype {value.dtype}")
        dtypes.add(value.dtype)
    if len(dtypes) > 1:
        raise TypeError(f"{where} mixes dtypes {sorted(str(d) for d in dtypes)}; use one float dtype")
    return dtypes.pop()


def check_mask(mask, *shape, name="mask"):
    """Return a bool mask of the given shape, e.g. (T, B) (None stays None).

    A 0/1 numeric array is accepted and converted; anything else raises.
    """
    if mask is None:
        return None
    array = np.asarray(mask)
    shown = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    if array.dtype != bool:
        if not np.issubdtype(array.dtype, np.number) or not np.isin(array, (0, 1)).all():
            raise TypeError(f"{name} must be a bool array of shape {shown}, got dtype {array.dtype}")
        array = array.astype(bool)
    meaning = "(T, B): True marks a real step, False a padded one" if len(shape) == 2 else "(B,): True marks a real step"
    check_shape(name, array, shape, meaning)
    return array


def check_targets(y, T, B, C, mask=None):
    """Return integer targets of shape (T, B) in [0, C) at every real (unmasked) step."""
    if isinstance(y, (str, bytes, dict)) or y is None:
        raise TypeError(f"y must be an integer array of shape ({T}, {B}), got {type(y).__name__}")
    array = np.asarray(y)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"y must hold integer class indices, got dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.integer):
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise TypeError(f"y must hold integer class indices, got non-integer values of dtype {array.dtype}")
        array = array.astype(np.int64)
    check_shape("y", array, (T, B), "(T, B): one target class per step")
    real = array if mask is None else array[mask]
    if real.size and (real.min() < 0 or real.max() >= C):
        raise ValueError(
            f"y must hold class indices in [0, C) = [0, {C}), got values from {real.min()} to {real.max()}"
        )
    return array
