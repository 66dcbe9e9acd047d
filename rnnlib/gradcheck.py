"""Checking gradients against finite differences (used by every chapter's tests).

The centred difference

    df/dθ_i  ≈  (f(θ + ε e_i) - f(θ - ε e_i)) / (2ε)

has error O(ε²) from the Taylor series plus O(δ/ε) from rounding, where δ is the dtype's
machine epsilon. The best step balances the two, ε ≈ δ^(1/3): in float64 (δ ≈ 2e-16) the default
ε = 1e-6 gives about 1e-10 relative accuracy, enough to tell a correct gradient (relative error
well below 1e-7) from a wrong one (typically 1e-2 or worse). In float32 (δ ≈ 1e-7) the default
step is ε = 5e-3 and the attainable accuracy is only about 1e-4 to 1e-2, so a correct gradient
cannot be told from a slightly wrong one: ``gradcheck`` warns, and the check belongs in float64.
"""
from __future__ import annotations

import warnings

import numpy as np

from ._checks import as_float_array, check_number

__all__ = ["rel_error", "numerical_gradient", "gradcheck", "default_eps"]

#: the default step of each float dtype (about the cube root of its machine epsilon)
DEFAULT_EPS = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 5e-3}


def default_eps(dtype):
    """The finite-difference step for a float dtype: 1e-6 for float64, 5e-3 for float32."""
    dtype = np.dtype(dtype)
    if dtype in DEFAULT_EPS:
        return DEFAULT_EPS[dtype]
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a float dtype, got {dtype}")
    return float(np.cbrt(np.finfo(dtype).eps))


def _rel_error(a, b):
    """||a - b|| / (||a|| + ||b||), 0 if both are 0 (checked by `rel_error`)."""
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / denominator)


def rel_error(a, b):
    """||a - b|| / (||a|| + ||b||), 0 when both are zero: scale-free, symmetric, in [0, 1].

    a, b: finite real arrays (or numbers) of one shape.
    """
    a = as_float_array("a", a, dtype=np.float64)
    b = as_float_array("b", b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of one shape, got {a.shape} and {b.shape}")
    scale = max(float(np.max(np.abs(a), initial=0)), float(np.max(np.abs(b), initial=0)))
    if scale == 0:
        return 0.0
    return _rel_error(a / scale, b / scale)              # scaled: no overflow


def _evaluate(f, inputs, where):
    value = f(inputs)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"f must return a scalar, got {type(value).__name__} {where}") from None
    if not np.isfinite(value):
        raise ValueError(f"f returned {value} {where}; finite differences need a finite f")
    return value


def _check_f_inputs(f, inputs, keys, eps):
    if not callable(f):
        raise TypeError(f"f must be a function of the inputs dict, got {type(f).__name__}")
    if not isinstance(inputs, dict):
        raise TypeError(f"inputs must be a dict of arrays, got {type(inputs).__name__}")
    if keys is None:
        keys = list(inputs)
    elif isinstance(keys, str):
        keys = [keys]
    else:
        try:
            keys = list(keys)
        except TypeError:
            raise TypeError(f"keys must be a list of keys of inputs, got {type(keys).__name__}") from None
    for key in keys:
        if key not in inputs:
            raise KeyError(f"inputs has no entry {key!r}; it has {list(inputs)}")
        theta = inputs[key]
        if not isinstance(theta, np.ndarray) or not np.issubdtype(theta.dtype, np.floating):
            raise TypeError(f"inputs[{key!r}] must be a float NumPy array, got "
                            f"{type(theta).__name__}" + (f" of dtype {theta.dtype}"
                                                         if isinstance(theta, np.ndarray) else ""))
        if not theta.flags.writeable:
            raise ValueError(f"inputs[{key!r}] must be writeable (entries are perturbed in place)")
        if not np.isfinite(theta).all():
            raise ValueError(f"inputs[{key!r}] contains NaN or inf; all entries must be finite")
    dtypes = {inputs[k].dtype for k in keys}
    if eps is None:
        eps = max(default_eps(dt) for dt in dtypes) if dtypes else 1e-6
    else:
        eps = check_number("eps", eps, low=0, low_open=True)
    return keys, eps, dtypes


def _numerical_gradient(f, inputs, eps, keys):
    """Centred differences (f(θ + ε e_i) - f(θ - ε e_i)) / 2ε for every entry
    (arguments are checked by `numerical_gradient`)."""
    grads = {}
    for key in keys:
        theta = inputs[key]
        grad = np.zeros(theta.shape, dtype=np.float64)
        for i in np.ndindex(theta.shape):
            saved = theta[i]
            theta[i] = saved + eps
            f_plus = _evaluate(f, inputs, f"at inputs[{key!r}][{i}] + eps")
            theta[i] = saved - eps
            f_minus = _evaluate(f, inputs, f"at inputs[{key!r}][{i}] - eps")
            theta[i] = saved
            grad[i] = (f_plus - f_minus) / (2 * eps)
        grads[key] = grad
    return grads


def numerical_gradient(f, inputs, eps=None, keys=None):
    """Centred finite differences of the scalar f(inputs) for every entry of every array.

    f: a function of a dict of arrays returning a finite scalar; inputs: that dict of float
    arrays (entries are perturbed in place and restored). keys: which entries (default all;
    a str means one key). eps: the step; None picks it by dtype (1e-6 for float64, 5e-3 for
    float32, see ``default_eps``). Returns {key: float64 gradient}.
    """
    keys, eps, _ = _check_f_inputs(f, inputs, keys, eps)
    _evaluate(f, inputs, "at the inputs")
    return _numerical_gradient(f, inputs, eps, keys)


def gradcheck(f, inputs, grads, eps=None, keys=None):
    """Relative error between analytic ``grads`` and finite differences of f, for each key.

    Returns {key: rel_error}. A correct float64 gradient gives errors below 1e-7. With float32
    inputs finite differences cannot get below about 1e-4 (often 1e-2): a RuntimeWarning says
    so, and the check should be run in float64.
    """
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}")
    keys = list(grads) if keys is None else ([keys] if isinstance(keys, str) else list(keys))
    missing = [k for k in keys if k not in grads]
    if missing:
        raise KeyError(f"grads is missing {missing}")
    keys, eps, dtypes = _check_f_inputs(f, inputs, keys, eps)
    analytic = {}
    for key in keys:
        analytic[key] = as_float_array(f"grads[{key!r}]", grads[key], dtype=np.float64)
        if analytic[key].shape != inputs[key].shape:
            raise ValueError(f"grads[{key!r}] must have the shape of inputs[{key!r}] "
                             f"{inputs[key].shape}, got {analytic[key].shape}")
    low = sorted(str(dt) for dt in dtypes if np.finfo(dt).eps > 1e-10)
    if low:
        warnings.warn(
            f"gradcheck on {', '.join(low)} inputs: finite differences with eps={eps:g} are "
            f"accurate only to about 1e-4..1e-2 in this precision, so a correct gradient can show "
            f"relative errors that large; run the check in float64 (rel error < 1e-7)",
            RuntimeWarning, stacklevel=2)
    _evaluate(f, inputs, "at the inputs")
    numeric = _numerical_gradient(f, inputs, eps, keys)
    return {k: rel_error(analytic[k], numeric[k]) for k in keys}
