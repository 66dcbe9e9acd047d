"""Text for a character-level language model: vocabulary, one-hot inputs, batches, sampling.

Taught in the chapter "The RNN's equations and parameters", where a character-level RNN learns
to continue a text. Each character is a class: with C distinct characters,

    char_to_index: character -> integer in [0, C),   index_to_char: integer -> character
    x^(t) = onehot(index of character t)            (d = C)
    y^(t) = index of character t+1                  (the target is the next character)

so a window of T+1 consecutive characters gives T inputs and T targets. Batches are time-major,
like every array of rnnlib: x (T, B, C), y (T, B).

Sampling (generating text) runs the network one step at a time and feeds each drawn character
back in as the next input:

    h^(t) = tanh(b + W h^(t-1) + U x^(t)),   o^(t) = c + V h^(t),
    p^(t) = softmax(o^(t) / temperature),    next index ~ p^(t),   x^(t+1) = onehot(next index)

The text every machine has without downloading is :func:`stdlib_text`: docstrings of a fixed
list of Python standard-library modules.
"""
from __future__ import annotations

import inspect
import numbers
import string
from dataclasses import dataclass, field

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    as_generator,
    check_activation,
    check_allocation,
    check_bool,
    check_float_dtype,
    check_number,
    check_positive_int,
    check_seed,
)
from .losses import _softmax
from .rnn import _rnn_step_forward, check_rnn_params

__all__ = ["Vocabulary", "one_hot", "char_lm_batch", "char_lm_batches", "stdlib_text", "sample"]


# ----------------------------------------------------------------------------------------------
# The vocabulary: characters <-> indices
# ----------------------------------------------------------------------------------------------
@dataclass
class Vocabulary:
    """The distinct characters of a text, sorted, and the maps between characters and indices.

    >>> vocab = Vocabulary("hello")
    >>> vocab.chars, vocab.size
    (['e', 'h', 'l', 'o'], 4)
    >>> vocab.decode(vocab.encode("hole"))
    'hole'
    """

    text: str = field(repr=False)
    chars: list = field(init=False)
    char_to_index: dict = field(init=False, repr=False)
    index_to_char: dict = field(init=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.text, str):
            raise TypeError(f"text must be a str, got {type(self.text).__name__}")
        if not self.text:
            raise ValueError("text must contain at least one character, got an empty string")
        self.chars = sorted(set(self.text))
        self.char_to_index = {char: index for index, char in enumerate(self.chars)}
        self.index_to_char = {index: char for index, char in enumerate(self.chars)}

    @property
    def size(self):
        """C, the number of distinct characters (classes, and the one-hot input size d)."""
        return len(self.chars)

    def __len__(self):
        return self.size

    def encode(self, text):
        """The indices of the characters of ``text``, an int64 array of shape (len(text),)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        unknown = sorted(set(text) - set(self.char_to_index))
        if unknown:
            raise ValueError(f"text contains characters not in the vocabulary: {unknown[:10]!r}")
        return np.array([self.char_to_index[char] for char in text], dtype=np.int64)

    def decode(self, indices):
        """The string whose characters have these indices (a 1-D sequence of ints in [0, C))."""
        array = np.asarray(indices)
        if array.size == 0:
            return ""
        if array.ndim != 1:
            raise ValueError(f"indices must be 1-D, got shape {array.shape}")
        if not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"indices must be integers, got dtype {array.dtype}")
        if array.min() < 0 or array.max() >= self.size:
            raise ValueError(f"indices must be in [0, C) = [0, {self.size}), "
                             f"got values from {array.min()} to {array.max()}")
        return "".join(self.index_to_char[int(i)] for i in array)


# ----------------------------------------------------------------------------------------------
# One-hot vectors and batches
# ----------------------------------------------------------------------------------------------
def _check_indices(name, indices, C):
    array = np.asarray(indices)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integer indices, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= C):
        raise ValueError(f"{name} must hold indices in [0, C) = [0, {C}), "
                         f"got values from {array.min()} to {array.max()}")
    return array


def _one_hot(indices, C, dtype):
    """onehot(i) along a new last axis (checked by `one_hot`)."""
    out = np.zeros(indices.shape + (C,), dtype=dtype)    # (..., C)
    np.put_along_axis(out, indices[..., None], 1, axis=-1)
    return out


def one_hot(indices, C, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """onehot(i): an array of shape indices.shape + (C,), 1 at position i and 0 elsewhere.

    indices: integers in [0, C); dtype: float64 or float32; max_bytes: refuse (before
    allocating) a result larger than this (default 2 GiB).
    """
    C = check_positive_int("C", C)
    dtype = check_float_dtype(dtype)
    indices = _check_indices("indices", indices, C)
    check_allocation(f"indices of shape {indices.shape} with C={C}", indices.shape + (C,), dtype,
                     max_bytes)
    return _one_hot(indices, C, dtype)


def _check_encoded(encoded, T):
    array = np.asarray(encoded)
    if array.ndim != 1:
        raise ValueError(f"encoded must be a 1-D array of character indices, got shape {array.shape}")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"encoded must hold integer indices, got dtype {array.dtype}")
    if array.shape[0] < T + 1:
        raise ValueError(f"encoded must have at least T+1 = {T + 1} characters, got {array.shape[0]}")
    return array


def char_lm_batch(encoded, T, B, C, *, starts=None, seed=None, dtype=np.float64,
                  max_bytes=DEFAULT_MAX_BYTES):
    """One batch for a character-level language model.

    encoded: (N,) character indices.  Window b covers characters starts[b] .. starts[b] + T, so

        x[t, b] = onehot(encoded[starts[b] + t])      x: (T, B, C)
        y[t, b] = encoded[starts[b] + t + 1]           y: (T, B)   (the next character)

    starts: (B,) window starts; None draws them uniformly from [0, N - T - 1] with ``seed``
    (None, a non-negative int or a np.random.Generator). dtype: float64 or float32;
    max_bytes: refuse (before allocating) an x larger than this (default 2 GiB).
    Returns (x, y).
    """
    T = check_positive_int("T", T)
    B = check_positive_int("B", B)
    C = check_positive_int("C", C)
    dtype = check_float_dtype(dtype)
    seed = check_seed(seed)
    encoded = _check_encoded(encoded, T)
    _check_indices("encoded", encoded, C)
    check_allocation(f"T={T}, B={B}, C={C}", [(T, B, C), (T, B)], dtype, max_bytes)
    last_start = encoded.shape[0] - T - 1
    if starts is None:
        starts = as_generator(seed).integers(0, last_start + 1, size=B)  # (B,)
    else:
        starts = np.asarray(starts)
        if starts.shape != (B,):
            raise ValueError(f"starts must have shape (B,) = ({B},), got {starts.shape}")
        if starts.dtype == bool or not np.issubdtype(starts.dtype, np.integer):
            raise TypeError(f"starts must hold integers, got dtype {starts.dtype}")
        if starts.min() < 0 or starts.max() > last_start:
            raise ValueError(f"starts must be in [0, N - T - 1] = [0, {last_start}], "
                             f"got values from {starts.min()} to {starts.max()}")
    positions = starts[None, :] + np.arange(T)[:, None]                  # (T, B)
    x = _one_hot(encoded[positions], C, dtype)                           # (T, B, C)
    y = encoded[positions + 1].astype(np.int64)                          # (T, B)
    return x, y


def char_lm_batches(encoded, T, B, C, *, seed=0, consecutive=False, dtype=np.float64,
                    max_bytes=DEFAULT_MAX_BYTES):
    """A function ``step -> (x, y)`` giving training batches (what rnnlib.train accepts).

    consecutive=False: every step draws B random windows (seeded, so step k always gives the
    same batch for the same seed).
    consecutive=True: the text is cut into B equal streams of L = (N - 1) // B characters; step k
    takes window j = k mod (L // T) of every stream, so row b of step k+1 continues row b of step
    k (use it with ``train(..., carry_state=True)``; the streams wrap around after L // T steps).
    seed: a non-negative int (each step's batch is drawn with default_rng([seed, step]));
    dtype: float64 or float32; max_bytes: refuse batches larger than this (default 2 GiB).
    All arguments are checked here, before the first batch is drawn.
    """
    T = check_positive_int("T", T)
    B = check_positive_int("B", B)
    C = check_positive_int("C", C)
    dtype = check_float_dtype(dtype)
    encoded = _check_encoded(encoded, T)
    _check_indices("encoded", encoded, C)
    consecutive = check_bool("consecutive", consecutive)
    check_allocation(f"T={T}, B={B}, C={C}", [(T, B, C), (T, B)], dtype, max_bytes)
    if consecutive:
        L = (encoded.shape[0] - 1) // B
        windows = L // T
        if windows < 1:
            raise ValueError(f"the text is too short for B={B} consecutive streams of T={T} steps: "
                             f"it needs at least B*T+1 = {B * T + 1} characters, got {encoded.shape[0]}")
        stream_starts = np.arange(B) * L                                 # (B,)

        def batch(step):
            step = check_positive_int("step", step, minimum=0)
            return char_lm_batch(encoded, T, B, C, starts=stream_starts + (step % windows) * T,
                                 dtype=dtype, max_bytes=max_bytes)
    else:
        if check_seed(seed) is None or isinstance(seed, np.random.Generator):
            raise TypeError(f"seed must be a non-negative integer (each step draws with "
                            f"default_rng([seed, step])), got {seed!r}")

        def batch(step):
            step = check_positive_int("step", step, minimum=0)
            return char_lm_batch(encoded, T, B, C, seed=np.random.default_rng([seed, step]),
                                 dtype=dtype, max_bytes=max_bytes)
    return batch


# ----------------------------------------------------------------------------------------------
# A text every machine has
# ----------------------------------------------------------------------------------------------
STDLIB_MODULES = ("textwrap", "string", "json", "collections", "functools", "itertools",
                  "heapq", "random", "statistics")
_ALLOWED = set(string.ascii_letters + string.digits + string.punctuation + " \n")


def stdlib_text(max_chars=40_000):
    """Docstrings of Python standard-library modules, as one text of at most ``max_chars``.

    For each module of STDLIB_MODULES, in order: its docstring, then the docstrings of its
    public functions and classes in alphabetical order. Doctest lines (``>>>``, ``...``) are
    dropped and only printable ASCII and newlines are kept, so C stays below 100. Nothing is
    downloaded; the same Python version gives the same text. (Python run with -OO has no
    docstrings; then the modules' source code is used instead.)
    """
    max_chars = check_positive_int("max_chars", max_chars)
    import importlib

    pieces = []
    for name in STDLIB_MODULES:
        module = importlib.import_module(name)
        docs = [inspect.getdoc(module) or ""]
        for attr in sorted(dir(module)):
            if attr.startswith("_"):
                continue
            obj = getattr(module, attr)
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            docs.append(inspect.getdoc(obj) or "")
        if not any(docs):                                                # python -OO
            try:
                docs = [inspect.getsource(module)]
            except (OSError, TypeError):
                continue
        for doc in docs:
            lines = [line for line in doc.splitlines()
                     if not line.lstrip().startswith((">>>", "..."))]
            text = "\n".join(lines).strip()
            if text:
                pieces.append("".join(char for char in text if char in _ALLOWED))
    text = "\n\n".join(pieces)
    if not text:
        raise RuntimeError("found no standard-library docstrings or source to build a text from")
    return text[:max_chars]


# ----------------------------------------------------------------------------------------------
# Generating text
# ----------------------------------------------------------------------------------------------
def _stop_if_overflowed(o, k, length, activation):
    """Refuse to draw from a distribution whose logits overflowed to inf/NaN."""
    if not np.isfinite(o).all():
        raise FloatingPointError(
            f"sample: the hidden state overflowed to inf/NaN at step {k + 1} of {length} "
            f"(activation={activation!r}); use tanh or smaller weights")


def _sample(params, first_index, length, rng, temperature, h0, activation):
    """Generate ``length`` indices, feeding each draw back in (see `sample`).

        h^(t) = act(b + W h^(t-1) + U onehot(index)),   o^(t) = c + V h^(t)
        p^(t) = softmax(o^(t) / temperature),   next index ~ p^(t)
    """
    V, c = params["V"], params["c"]
    C, dtype = V.shape[0], V.dtype
    h, index = h0, first_index                           # (1, m)
    indices = np.empty(length, dtype=np.int64)           # (length,)
    for k in range(length):
        x_t = np.zeros((1, C), dtype=dtype)              # (1, C) = (1, d)
        x_t[0, index] = 1                                # onehot(index)
        h, _ = _rnn_step_forward(params, x_t, h, None, activation)  # (1, m)
        o = (c + h[0] @ V.T).astype(np.float64)          # (C,)
        _stop_if_overflowed(o, k, length, activation)
        p = _softmax((o - o.max()) / temperature)        # (C,)
        index = int(rng.choice(C, p=p))
        indices[k] = index
    return indices


def sample(params, first_index, length, seed=0, temperature=1.0, h0=None, activation="tanh",
           max_bytes=DEFAULT_MAX_BYTES):
    """Generate ``length`` character indices from a character-level RNN.

    Starts from the character ``first_index`` and the hidden state h0 (zeros when None); at each
    step runs the RNN step, o = c + V h, p = softmax(o / temperature), draws the next index
    from p with ``np.random.default_rng(seed)`` (or the Generator given as seed), and feeds it
    back as the next one-hot input. The input size d must equal C (one-hot characters in, a
    distribution over the same characters out). Returns an int64 array of shape (length,), not
    including first_index. Lower temperature gives more likely, less varied text (any positive
    temperature works: the largest logit is subtracted before dividing).
    max_bytes: refuse a ``length`` whose result would exceed this (default 2 GiB).
    """
    dtype, m, d, C = check_rnn_params(params)
    if d != C:
        raise ValueError(f"sampling feeds each output back as the next input, so d must equal C; "
                         f"params['U'] has d={d} and params['V'] has C={C}")
    if isinstance(first_index, (bool, np.bool_)) or not isinstance(first_index, numbers.Integral):
        raise TypeError(f"first_index must be an integer character index, got {first_index!r}")
    if not 0 <= first_index < C:
        raise ValueError(f"first_index must be in [0, C) = [0, {C}), got {first_index}")
    length = check_positive_int("length", length, minimum=0)
    check_allocation(f"length={length}", (length,), np.int64, max_bytes)
    temperature = check_number("temperature", temperature, low=0, low_open=True)
    check_activation(activation)
    rng = as_generator(seed)
    if h0 is None:
        h = np.zeros((1, m), dtype=dtype)                                # (1, m)
    else:
        h = as_float_array("h0", h0, dtype=dtype, ndim=(1, 2))
        if h.shape not in ((m,), (1, m)):
            raise ValueError(f"h0 must have shape (m,) = ({m},) or (1, m), got {h.shape}")
        h = h.reshape(1, m)                                              # (1, m)
    with np.errstate(over="ignore", invalid="ignore"):
        return _sample(params, int(first_index), length, rng, temperature, h, activation)
