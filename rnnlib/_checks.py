"""Argument checks shared by every public function of rnnlib.

A mistake in a call must surface as a clear error that names the argument, what was expected
and what was given, never as a NumPy broadcasting or indexing error from deep inside a loop.
These helpers raise:

* ``TypeError``  for a value of the wrong kind (not an array, not numeric, not a dict),
* ``ValueError`` for a value of the right kind but the wrong shape, range or content,
* ``KeyError``   for a parameter missing from a params dict.

The helpers: arrays (``as_float_array``, ``check_shape``, ``check_nonempty``, ``check_mask``,
``check_targets``), params and gradients (``check_params``: every key present, one float dtype,
all finite; ``check_grads``), caches (``check_cache``: the right type, made with params of these
sizes and dtype), scalars (``check_positive_int``, ``check_number``, ``check_bool``,
``check_activation``), seeds (``check_seed``, ``as_generator``), dtypes (``check_float_dtype``)
and sizes (``check_allocation``: refuse, before allocating, arrays beyond ``max_bytes``).
"""
from __future__ import annotations

import numbers

import numpy as np

ACTIVATIONS = ("tanh", "relu", "identity")

__all__ = [
    "ACTIVATIONS", "DEFAULT_MAX_BYTES", "FLOAT_DTYPES", "as_float_array", "as_generator",
    "as_sequence", "check_activation", "check_allocation", "check_bool", "check_cache",
    "check_float_dtype",
    "check_grads", "check_mask", "check_nonempty", "check_number", "check_params",
    "check_positive_int", "check_seed", "check_shape", "check_targets", "nonfinite_ignored",
]


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


def as_sequence(x, dtype, d, source):
    """The input sequence ``x``, (T, B, d) or one sequence (T, d), as a float array (T, B, d);
    returns (x, single). ``source`` says where d comes from (e.g. "params['U']")."""
    x = as_float_array("x", x, dtype=dtype, ndim=(2, 3))
    single = x.ndim == 2
    x = x[:, None, :] if single else x                                    # (T, B, d)
    T, B, d_x = x.shape
    if T == 0 or B == 0:
        raise ValueError(f"x must have at least one step and one example, got shape {x.shape}")
    if d_x != d:
        raise ValueError(f"x must have shape (T, B, d) with d={d} from {source}, got "
                         f"{(T, d_x) if single else x.shape}")
    return x, single


def check_shape(name, array, expected, meaning=None):
    """Raise ValueError unless ``array.shape`` matches ``expected`` (None matches any size)."""
    shape = np.shape(array)
    ok = len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape))
    if not ok:
        shown = "(" + ", ".join("?" if e is None else str(e) for e in expected) + ("," if len(expected) == 1 else "") + ")"
        hint = f" {meaning}" if meaning else ""
        raise ValueError(f"{name} must have shape {shown}{hint}, got {shape}")


#: the float dtypes rnnlib computes in (float16 overflows at 65504 and has no fast BLAS)
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype, name="dtype", allowed=FLOAT_DTYPES):
    """Return ``np.dtype(dtype)``, which must be one of ``allowed`` (float64 or float32).

    Refuses with a TypeError naming ``name``: None, strings NumPy does not know ('foo'),
    integer, bool and complex dtypes (int, 'int32'), and floats outside ``allowed`` (float16).
    """
    expected = " or ".join(str(d) for d in allowed)
    if dtype is None or isinstance(dtype, bool):
        raise TypeError(f"{name} must be a float dtype ({expected}), got {dtype!r}")
    try:
        resolved = np.dtype(dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a float dtype ({expected}), got {dtype!r}") from error
    if not np.issubdtype(resolved, np.floating):
        raise TypeError(f"{name} must be a float dtype ({expected}), got {resolved}")
    if resolved not in allowed:
        raise TypeError(f"{name} must be {expected}, got {resolved}")
    return resolved


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
    NaN or inf anywhere in a parameter raises a ValueError naming the key and counting the bad
    entries (a model run on it would only return NaN).
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
        if not np.isfinite(value).all():
            bad = int(value.size - np.count_nonzero(np.isfinite(value)))
            raise ValueError(
                f"{where}[{key!r}] contains {bad} NaN or inf value(s) of {value.size}; every "
                f"parameter must be finite (a diverged training run? try a smaller learning "
                f"rate or gradient clipping)"
            )
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


# ----------------------------------------------------------------------------------------------
# Numbers, flags and seeds
# ----------------------------------------------------------------------------------------------
def check_number(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a float: a finite real number (not a bool), optionally in a range.

    low/high: bounds (None: unbounded); low_open/high_open: exclude the bound itself.
    TypeError for a non-number or NaN/inf, ValueError outside the range (both name ``name``).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number, got {type(value).__name__} {value!r}")
    if not np.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    if low == 0 and low_open and high is None:
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
        return value
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "-inf" if low is None else f"{low}"
        right = "inf" if high is None else f"{high}"
        interval = ("(" if low_open or low is None else "[") + f"{left}, {right}" + (
            ")" if high_open or high is None else "]")
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return value


def check_bool(name, value):
    """Return ``value`` as a bool; it must be True or False (not 0/1, not None)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_seed(seed, name="seed"):
    """Return ``seed`` unchanged: None, a non-negative integer, or a np.random.Generator.

    Refused with a clear error naming ``name``: negative integers (ValueError), and bools,
    floats such as 1.5, strings and anything else (TypeError).
    """
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{name} must be None, a non-negative integer or a np.random.Generator, "
            f"got {type(seed).__name__} {seed!r}"
        )
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed}")
    return int(seed)


def as_generator(seed, name="seed"):
    """``np.random.default_rng(seed)`` after :func:`check_seed` (a Generator is used as is)."""
    seed = check_seed(seed, name)
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


# ----------------------------------------------------------------------------------------------
# Sizes: refuse an allocation beyond a limit before making it
# ----------------------------------------------------------------------------------------------
#: the default limit of check_allocation (2 GiB); functions that allocate take ``max_bytes``
DEFAULT_MAX_BYTES = 2 * 2 ** 30


def _bytes_text(n):
    for unit, size in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def check_allocation(names, shape, dtype, limit_bytes=DEFAULT_MAX_BYTES, keyword="max_bytes"):
    """Raise a ValueError, before anything is allocated, if arrays would exceed ``limit_bytes``.

    names:  the argument(s) deciding the size, with their values, e.g. "m=30000" or
            "T=2000, B=4, m=256" (the message starts with them).
    shape:  one shape (a tuple of ints) or a list of shapes (their sizes are added).
    dtype:  the dtype of the arrays.
    limit_bytes: the limit (None: no limit); ``keyword`` is the caller's argument that sets it,
            named in the message so the caller knows how to raise it.
    Returns the number of bytes.
    """
    if limit_bytes is not None and (isinstance(limit_bytes, bool)
                                    or not isinstance(limit_bytes, numbers.Real)
                                    or not limit_bytes > 0):
        raise TypeError(f"{keyword} must be a positive number of bytes or None, got {limit_bytes!r}")
    shapes = [shape] if all(isinstance(n, numbers.Integral) for n in shape) else list(shape)
    count = sum(int(np.prod([int(n) for n in s], dtype=object)) for s in shapes)
    nbytes = count * np.dtype(dtype).itemsize
    if limit_bytes is not None and nbytes > limit_bytes:
        shown = ", ".join(str(tuple(int(n) for n in s)) for s in shapes)
        raise ValueError(
            f"{names} would allocate {_bytes_text(nbytes)} ({np.dtype(dtype)} arrays {shown}), "
            f"more than {keyword}={int(limit_bytes)} ({_bytes_text(int(limit_bytes))}); "
            f"choose smaller sizes, or pass a larger {keyword} if the machine has the memory"
        )
    return nbytes


# ----------------------------------------------------------------------------------------------
# Empty inputs, gradient dicts and caches
# ----------------------------------------------------------------------------------------------
def check_nonempty(name, array, dims=None):
    """Raise a ValueError naming ``name`` if ``array`` has no entries (some dimension is 0).

    dims: the meaning of the dimensions for the message, e.g. "(T, B, d)".
    """
    shape = np.shape(array)
    if int(np.prod(shape)) == 0:
        meaning = f"; every dimension of {dims} must be at least 1" if dims else ""
        raise ValueError(f"{name} is empty (shape {shape}){meaning}")
    return array


def nonfinite_ignored():
    """True inside ``np.errstate(invalid="ignore")``: the caller handles NaN and inf itself.

    rnnlib follows NumPy's floating-point error state: by default an overflowing forward pass
    warns once and non-finite gradients are refused; a loop that watches for divergence itself
    (and says so with ``np.errstate(over="ignore", invalid="ignore")``) gets inf/NaN back quietly.
    """
    return np.geterr()["invalid"] == "ignore"


def check_grads(grads, name="grads", finite=True):
    """A dict of float NumPy arrays (gradients); with ``finite``, NaN or inf anywhere raises.

    TypeError for a non-dict or a non-array/non-float entry, ValueError for a non-finite entry
    (naming the key and counting the bad values).
    """
    if not isinstance(grads, dict):
        raise TypeError(f"{name} must be a dict of NumPy arrays, got {type(grads).__name__}")
    for key, g in grads.items():
        if not isinstance(g, np.ndarray):
            raise TypeError(f"{name}[{key!r}] must be a NumPy array, got {type(g).__name__}")
        if not np.issubdtype(g.dtype, np.floating):
            raise TypeError(f"{name}[{key!r}] must be a float array, got dtype {g.dtype}")
        if finite and not np.isfinite(g).all():
            bad = int(g.size - np.count_nonzero(np.isfinite(g)))
            hint = (" (the loss diverged: try a smaller learning rate or gradient clipping)"
                    if name.startswith("grad") else "")
            raise ValueError(
                f"{name}[{key!r}] contains {bad} NaN or inf value(s); all entries must be "
                f"finite{hint}"
            )
    return grads


def check_cache(cache, cache_type, made_by, shapes=None, dtype=None, name="cache"):
    """Check that ``cache`` is the ``cache_type`` made by ``made_by`` for these params.

    shapes: {field: expected shape} with None for any size, e.g. {"h": (None, None, m)};
            a mismatch means the cache was made with other parameter sizes (ValueError).
    dtype:  the params' dtype; a cache in another dtype raises a TypeError.
    Every message names ``name`` (the argument, "cache").
    """
    if not isinstance(cache, cache_type):
        raise TypeError(f"{name} must be the {cache_type.__name__} returned by {made_by}, "
                        f"got {type(cache).__name__}")
    for field_name, expected in (shapes or {}).items():
        got = np.shape(getattr(cache, field_name))
        ok = len(got) == len(expected) and all(e is None or e == s for e, s in zip(expected, got))
        if not ok:
            shown = "(" + ", ".join("?" if e is None else str(e) for e in expected) + (
                "," if len(expected) == 1 else "") + ")"
            raise ValueError(
                f"{name} does not match params: it was made by {made_by} with other parameter "
                f"shapes ({name}.{field_name} has shape {got}, these params need {shown})"
            )
    if dtype is not None:
        for field_name, value in _cache_arrays(cache):
            if np.issubdtype(value.dtype, np.floating) and value.dtype != dtype:
                raise TypeError(
                    f"{name} holds {value.dtype} arrays ({name}.{field_name}) but params are "
                    f"{np.dtype(dtype)}; run {made_by} with these params"
                )
    return cache


def _cache_arrays(cache):
    fields = cache._fields if hasattr(cache, "_fields") else tuple(vars(cache))
    for field_name in fields:
        value = getattr(cache, field_name)
        if isinstance(value, np.ndarray):
            yield field_name, value
