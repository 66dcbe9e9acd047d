"""Plain data: what travels between a student's answer and the checker's judgement.

A checker's cases and the observations of an answer are *plain data*: ``None``, ``bool``,
``int``, ``float``, ``complex``, ``str``, NumPy arrays of a numeric or bool dtype (base
``ndarray``, never a subclass, never object dtype), and lists, tuples and dicts with ``str`` keys
of these. The grader draws the cases in its own process, sends them into the student's sandbox,
and reads back only plain data, so nothing the student's code defines (a class, an ndarray
subclass whose comparisons always succeed, a pickle) reaches the judgement.

* :func:`to_plain` validates and converts (NumPy scalars become Python scalars, an ndarray
  subclass its base ``ndarray``, ``str``/``int``/``float`` subclasses their base type); anything
  else raises :class:`PlainDataError`.
* :func:`snapshot` turns *any* value an answer returned into plain data: what is not plain becomes
  ``{"opaque": "<a description>"}`` (sets become lists), so a checker can still say "you returned
  a str" or "you returned a function".
* :func:`dump` writes plain data to a folder: one ``data.json`` and one ``a<N>.npy`` per array
  (``np.save(..., allow_pickle=False)``); :func:`load` reads it back strictly: no pickle, no
  symlinks, no unknown files, a cap on the total size and the nesting depth, numeric/bool dtypes
  only. Any malformed or oversized input raises :class:`PlainDataError` and nothing else.

The JSON format: lists are JSON arrays; strings, ints, bools, null and finite floats are
themselves; every JSON object is a tag with exactly one key: ``{"dict": {...}}``,
``{"tuple": [...]}``, ``{"ndarray": "a0.npy"}``, ``{"complex": [re, im]}``,
``{"float": "nan" | "inf" | "-inf"}``.
"""
from __future__ import annotations

import json
import math
import os
import re
import stat

import numpy as np

__all__ = ["PlainDataError", "to_plain", "snapshot", "dump", "load", "plain_equal",
           "MAX_BYTES", "MAX_DEPTH", "DATA_FILE"]

#: default caps of dump/load
MAX_BYTES = 64 * 2 ** 20
MAX_DEPTH = 48
DATA_FILE = "data.json"
_ARRAY_NAME = re.compile(r"a(0|[1-9][0-9]{0,8})\.npy")
_DTYPE_KINDS = "biufc"                 # bool, signed, unsigned, float, complex
_TAGS = ("dict", "tuple", "ndarray", "complex", "float")


class PlainDataError(ValueError):
    """The data is not plain data, or a dump folder is malformed, unsafe or too large."""


# ----------------------------------------------------------------------------------------------
# Validation and conversion
# ----------------------------------------------------------------------------------------------
def _plain_array(value, where):
    array = np.asarray(value.view(np.ndarray) if isinstance(value, np.ndarray) else value)
    dtype = array.dtype
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None \
            or dtype.kind not in _DTYPE_KINDS:
        raise PlainDataError(f"{where}: an array of dtype {dtype} is not plain data "
                             "(only numeric and bool dtypes are)")
    return np.array(array, copy=True, subok=False)


def to_plain(obj, *, max_depth=MAX_DEPTH):
    """``obj`` as plain data (a validated copy), or PlainDataError saying what is not plain."""
    return _to_plain(obj, max_depth, "the data")


def _to_plain(obj, depth, where):
    if obj is None or type(obj) in (bool, int, float, complex, str):
        return obj
    if isinstance(obj, np.ndarray):
        return _plain_array(obj, where)
    if isinstance(obj, np.generic):
        if isinstance(obj, (np.bool_, np.integer, np.floating, np.complexfloating)):
            return obj.item()
        raise PlainDataError(f"{where}: a NumPy scalar of dtype {obj.dtype} is not plain data")
    if isinstance(obj, bool):                                  # (bool cannot be subclassed)
        return bool(obj)
    if isinstance(obj, int):
        return int.__index__(obj)
    if isinstance(obj, float):
        return float.__float__(obj)
    if isinstance(obj, complex):
        return complex(obj.real, obj.imag)
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, (list, tuple, dict)):
        if depth <= 0:
            raise PlainDataError(f"{where}: nested too deeply")
        if isinstance(obj, dict):
            out = {}
            for key in list(dict.keys(obj)):
                if not isinstance(key, str):
                    raise PlainDataError(f"{where}: a dict key must be a str, got {type(key).__name__}")
                out[str.__str__(key)] = _to_plain(dict.__getitem__(obj, key), depth - 1, f"{where}[{key!r}]")
            return out
        items = [_to_plain(item, depth - 1, f"{where}[{i}]")
                 for i, item in enumerate(tuple.__iter__(obj) if isinstance(obj, tuple) else list.__iter__(obj))]
        return tuple(items) if isinstance(obj, tuple) else items
    raise PlainDataError(f"{where}: a {type(obj).__name__} is not plain data")


def _describe_object(value):
    if callable(value) and not isinstance(value, type):
        return "a function" if type(value).__name__ in ("function", "builtin_function_or_method",
                                                          "method", "partial") else f"a callable {type(value).__name__}"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    return f"a {type(value).__name__}"


def snapshot(value, *, max_depth=24, max_items=100_000):
    """Any value as plain data, for an observation: plain parts stay, sets become sorted lists,
    anything else becomes ``{"opaque": "<description>"}``. Never raises."""
    budget = [max_items]
    try:
        return _snapshot(value, max_depth, budget)
    except Exception as error:          # a hostile __len__/__iter__ and the like
        return {"opaque": f"a value that could not be read ({type(error).__name__})"}


def _snapshot(value, depth, budget):
    budget[0] -= 1
    if budget[0] < 0:
        return {"opaque": "a value with too many parts"}
    try:
        return _snapshot_container(value, depth, budget)
    except PlainDataError:
        return {"opaque": _describe_object(value)}


def _snapshot_container(value, depth, budget):
    if not isinstance(value, (list, tuple, dict, set, frozenset)):
        return _to_plain(value, 0, "value")
    if depth <= 0:
        return {"opaque": f"a {type(value).__name__} nested too deeply"}
    if isinstance(value, dict):
        out = {}
        for key in list(dict.keys(value)):
            if not isinstance(key, str):
                return {"opaque": f"a dict with {type(key).__name__} keys"}
            out[str.__str__(key)] = _snapshot(dict.__getitem__(value, key), depth - 1, budget)
        return out
    if isinstance(value, (set, frozenset)):
        items = [_snapshot(item, depth - 1, budget) for item in value]
        return sorted(items, key=repr)
    items = [_snapshot(item, depth - 1, budget)
             for item in (tuple.__iter__(value) if isinstance(value, tuple) else list.__iter__(value))]
    return tuple(items) if isinstance(value, tuple) else items


def plain_equal(a, b):
    """Equality of plain data, with NaN equal to NaN and arrays compared by dtype, shape, values."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, complex):
        return plain_equal(a.real, b.real) and plain_equal(a.imag, b.imag)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(plain_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(plain_equal(a[k], b[k]) for k in a)
    return a == b


# ----------------------------------------------------------------------------------------------
# dump
# ----------------------------------------------------------------------------------------------
def dump(obj, folder, max_bytes=MAX_BYTES):
    """Write plain data to ``folder`` (created if missing): data.json and a<N>.npy files.

    Raises PlainDataError when ``obj`` is not plain data or would take more than ``max_bytes``.
    Returns the number of bytes written.
    """
    data = to_plain(obj)
    arrays = []
    encoded = _encode(data, arrays)
    text = json.dumps(encoded, allow_nan=False, separators=(",", ":"))
    total = len(text.encode("utf-8")) + sum(array.nbytes + 128 for array in arrays)
    if total > max_bytes:
        raise PlainDataError(f"the data takes about {total} bytes, more than the cap of {max_bytes}")
    os.makedirs(folder, exist_ok=True)
    written = 0
    for index, array in enumerate(arrays):
        path = os.path.join(folder, f"a{index}.npy")
        np.save(path, array, allow_pickle=False)
        written += os.path.getsize(path)
    with open(os.path.join(folder, DATA_FILE), "w", encoding="utf-8") as handle:
        handle.write(text)
    written += len(text.encode("utf-8"))
    if written > max_bytes:
        raise PlainDataError(f"the data takes {written} bytes, more than the cap of {max_bytes}")
    return written


def _encode(value, arrays):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, complex):
        return {"complex": [_encode(value.real, arrays), _encode(value.imag, arrays)]}
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {"ndarray": f"a{len(arrays) - 1}.npy"}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict):
        return {"dict": {key: _encode(v, arrays) for key, v in value.items()}}
    raise PlainDataError(f"cannot encode a {type(value).__name__}")  # pragma: no cover (to_plain ran)


# ----------------------------------------------------------------------------------------------
# load
# ----------------------------------------------------------------------------------------------
def load(folder, max_bytes=MAX_BYTES, max_depth=MAX_DEPTH):
    """Read plain data written by :func:`dump`, strictly; raises PlainDataError (only) if the
    folder is missing, a symlink, holds anything unexpected, is larger than ``max_bytes`` in all,
    nests deeper than ``max_depth``, or holds a pickled, object-dtype or malformed array."""
    try:
        return _load(os.fspath(folder), int(max_bytes), int(max_depth))
    except PlainDataError:
        raise
    except RecursionError:
        raise PlainDataError("the data is nested too deeply") from None
    except Exception as error:
        raise PlainDataError(f"malformed data ({type(error).__name__}: {error})") from None


def _regular_size(path, what):
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise PlainDataError(f"{what} is a symbolic link")
    if not stat.S_ISREG(info.st_mode):
        raise PlainDataError(f"{what} is not a regular file")
    return info.st_size


def _read(path, limit):
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PlainDataError(f"{os.path.basename(path)} is not a regular file")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise PlainDataError(f"{os.path.basename(path)} is larger than the cap")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _load(folder, max_bytes, max_depth):
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise PlainDataError(f"{folder} is not a plain folder (a symlink or not a directory)")
    names = os.listdir(folder)
    if len(names) > 100_000:
        raise PlainDataError("the folder holds too many files")
    if DATA_FILE not in names:
        raise PlainDataError(f"the folder has no {DATA_FILE}")
    total = 0
    for name in names:
        if name != DATA_FILE and not _ARRAY_NAME.fullmatch(name):
            raise PlainDataError(f"unexpected file {name!r} in the folder")
        total += _regular_size(os.path.join(folder, name), name)
        if total > max_bytes:
            raise PlainDataError(f"the folder holds more than the cap of {max_bytes} bytes")
    raw = _read(os.path.join(folder, DATA_FILE), max_bytes)
    text = raw.decode("utf-8")
    _check_depth(text, max_depth)

    def no_constants(name):
        raise PlainDataError(f"{name} is not allowed in the JSON (use the float tag)")

    def pairs(items):
        keys = [key for key, _ in items]
        if len(set(keys)) != len(keys):
            raise PlainDataError("a JSON object has a repeated key")
        return dict(items)

    decoded = json.loads(text, parse_constant=no_constants, object_pairs_hook=pairs)
    budget = {"bytes": max_bytes - len(raw), "used": set(), "names": set(names)}
    return _decode(decoded, folder, budget, max_depth)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")


def _check_depth(text, max_depth):
    """Refuse JSON nested deeper than 2 * max_depth + 2 brackets before parsing it (a tag adds
    one object around its list or dict), without recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub('""', text))
    if not brackets:
        return
    steps = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    depth = np.cumsum(np.where((steps == ord("[")) | (steps == ord("{")), 1, -1))
    if depth.max() > 2 * max_depth + 2:
        raise PlainDataError(f"the data is nested deeper than {max_depth} levels")


def _decode(value, folder, budget, depth):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PlainDataError("a non-finite float must use the float tag")
        return value
    if depth < 0:
        raise PlainDataError("the data is nested too deeply")
    if isinstance(value, list):
        return [_decode(v, folder, budget, depth - 1) for v in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise PlainDataError("a JSON object must be a tag with exactly one key")
    (tag, inner), = value.items()
    if tag == "dict":
        if not isinstance(inner, dict):
            raise PlainDataError("the dict tag must hold a JSON object")
        return {key: _decode(v, folder, budget, depth - 1) for key, v in inner.items()}
    if tag == "tuple":
        if not isinstance(inner, list):
            raise PlainDataError("the tuple tag must hold a JSON array")
        return tuple(_decode(v, folder, budget, depth - 1) for v in inner)
    if tag == "float":
        table = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
        if not isinstance(inner, str) or inner not in table:
            raise PlainDataError("the float tag must be 'nan', 'inf' or '-inf'")
        return table[inner]
    if tag == "complex":
        if not (isinstance(inner, list) and len(inner) == 2):
            raise PlainDataError("the complex tag must hold [real, imag]")
        parts = [_decode(v, folder, budget, 0) for v in inner]
        if not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in parts):
            raise PlainDataError("the complex tag must hold two numbers")
        return complex(parts[0], parts[1])
    if tag == "ndarray":
        return _load_array(inner, folder, budget)
    raise PlainDataError(f"unknown tag {tag!r}")


def _load_array(name, folder, budget):
    if not isinstance(name, str) or not _ARRAY_NAME.fullmatch(name) or name not in budget["names"]:
        raise PlainDataError(f"the ndarray tag names no array file of the folder: {name!r}")
    if name in budget["used"]:
        raise PlainDataError(f"the array file {name} is used twice")
    budget["used"].add(name)
    raw = _read(os.path.join(folder, name), max(budget["bytes"], 0))
    budget["bytes"] -= len(raw)
    import io

    stream = io.BytesIO(raw)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=10000)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=10000)
    else:
        raise PlainDataError(f"{name}: unsupported .npy version {version}")
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None \
            or dtype.kind not in _DTYPE_KINDS:
        raise PlainDataError(f"{name}: dtype {dtype} is not allowed (numeric and bool only)")
    if not all(isinstance(n, int) and n >= 0 for n in shape) or len(shape) > 32:
        raise PlainDataError(f"{name}: malformed shape {shape}")
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(raw) - stream.tell():
        raise PlainDataError(f"{name}: the file holds {len(raw) - stream.tell()} data bytes, the header "
                             f"promises {count * dtype.itemsize}")
    flat = np.frombuffer(raw, dtype=dtype, count=count, offset=stream.tell())
    array = flat.reshape(shape, order="F" if fortran else "C")
    return np.array(array, copy=True, subok=False)
