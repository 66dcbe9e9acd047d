"""Small data sets made by code, for the chapters "Sequence modeling" and "Design patterns and
deep RNNs". Nothing is downloaded; every generator is seeded (same seed, same data) and small
enough to train on in seconds with NumPy.

* :func:`make_sentiment`   sentences from a small grammar with negation, intensifiers and
  contrast ("the film was not bad at all", "the food was good , not bad"), labelled
  positive (1) or negative (0). Word order matters: "good , not bad" and "bad , not good" hold
  the same words and have opposite labels.
* :func:`make_year`        the lecture's "year" task: sentences in which a year appears at
  different positions ("i went to russia in 2019", "in 2019 , i went to russia"); the target
  marks the year's position.
* :func:`make_translation` a toy translation pair of variable length: English number words to
  digits ("three hundred twenty one" -> "3 2 1").
* :func:`make_time_series` noisy sums of sines with the clean signal beside them.
* :func:`make_shapes`      small synthetic RGB images (a shape of one colour in one quadrant)
  with short captions ("red square top left").
* :func:`make_parity`      bit sequences (optionally observed through Gaussian noise) with their
  running parity, the task the design-patterns chapter compares its patterns on.

Token sequences come as a :class:`TokenData`: ``ids`` (T, B) int, time-major like every array of
rnnlib, padded at the end with id 0 (``"<pad>"``), and ``mask`` (T, B) True at real steps.
:func:`one_hot` turns ids into the (T, B, d) inputs the RNNs read.

Seeds are None, a non-negative int or a np.random.Generator; counts and positions must be
integers (1.5 is refused, never truncated). Every public function checks its arguments once and
then calls the plain function of the same name with a leading underscore; generators whose
arrays grow with their arguments refuse, before allocating, more than ``max_bytes`` (2 GiB).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

import numbers

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_generator,
    check_allocation,
    check_float_dtype,
    check_positive_int,
)

__all__ = [
    "PAD", "BOS", "EOS", "TokenData", "encode", "one_hot", "make_sentiment", "make_year",
    "number_words", "make_translation", "make_time_series", "make_shapes", "make_parity",
    "SUBJECTS", "VERBS", "POSITIVE", "NEGATIVE", "INTENSIFIERS", "SENTIMENT_FORMS",
    "SENTIMENT_WEIGHTS", "COUNTRIES", "YEARS", "FILLERS", "YEAR_TEMPLATES", "YEAR_MAX_LEN",
    "ONES", "TENS", "SOURCE_VOCAB", "TARGET_VOCAB", "SHAPES", "COLOURS", "PLACES", "IMAGE_SIZE",
    "CAPTION_VOCAB",
]

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"


@dataclass
class TokenData:
    """A batch of token sequences, padded at the end (time-major).

    sentences: list of B token lists (no padding).  vocab: list of tokens, vocab[0] == "<pad>".
    ids (T, B) int, mask (T, B) bool, lengths (B,) int, labels: per-example or per-step targets
    (see the generator), extra: anything else the generator knows (e.g. the numbers translated).
    """

    sentences: list
    vocab: list
    ids: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray
    labels: Optional[np.ndarray] = None
    extra: Optional[dict] = None

    def __len__(self):
        return len(self.sentences)

    def index(self, token):
        """The id of ``token`` in this data's vocabulary."""
        if token not in self.vocab:
            raise KeyError(f"token {token!r} is not in the vocabulary ({len(self.vocab)} tokens: "
                           f"{self.vocab[:8]}{' ...' if len(self.vocab) > 8 else ''})")
        return self.vocab.index(token)

    def decode(self, ids):
        """The tokens of a sequence of ids (padding dropped)."""
        ids = _check_integers("ids", ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.vocab)):
            raise ValueError(f"ids must lie in [0, {len(self.vocab)}) (the vocabulary), got "
                             f"{ids.min()} to {ids.max()}")
        return [self.vocab[i] for i in ids.reshape(-1).tolist() if i != 0]


def _check_integers(name, values):
    """An array of integers: integer dtype, or floats that are whole numbers (1.0, not 1.5)."""
    if isinstance(values, (str, bytes, dict)) or values is None:
        raise TypeError(f"{name} must be integers, got {type(values).__name__}")
    try:
        array = np.asarray(values)
    except ValueError as error:
        raise TypeError(f"{name} must be an array of integers, got a ragged sequence") from error
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer)
                                   or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must be integers, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            bad = array[~(np.isfinite(array) & (array == np.round(array)))].reshape(-1)[0]
            raise TypeError(f"{name} must be integers, got {bad.item()!r} (non-integers are refused, "
                            "not truncated)")
        array = array.astype(np.int64)
    return array


def _check_noise(noise):
    if isinstance(noise, (bool, np.bool_)) or not isinstance(noise, numbers.Real):
        raise TypeError(f"noise must be a finite number >= 0, got {type(noise).__name__} {noise!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _encode(sentences, vocab):
    """ids[t, b] = the id of token t of sentence b (0 = <pad> after its end).
    Arguments are checked by `encode`."""
    lookup = {w: i for i, w in enumerate(vocab)}
    lengths = np.array([len(s) for s in sentences])             # (B,)
    T, B = int(lengths.max()), len(sentences)
    ids = np.zeros((T, B), dtype=np.int64)                      # (T, B)
    for b, sentence in enumerate(sentences):
        ids[: len(sentence), b] = [lookup[w] for w in sentence]
    mask = np.arange(T)[:, None] < lengths[None, :]             # (T, B) real
    return ids, mask, lengths


def encode(sentences, vocab, max_bytes=DEFAULT_MAX_BYTES):
    """Pad a list of token lists into ids (T, B) int, mask (T, B) bool and lengths (B,)."""
    if not isinstance(sentences, (list, tuple)) or not sentences:
        raise ValueError("sentences must be a non-empty list of token lists")
    if isinstance(vocab, (str, bytes, dict)) or not isinstance(vocab, (list, tuple)) or not vocab:
        raise TypeError(f"vocab must be a non-empty list of tokens, got {type(vocab).__name__}")
    try:
        lookup = {w: i for i, w in enumerate(vocab)}
    except TypeError as error:
        raise TypeError(f"vocab must hold hashable tokens (strings): {error}") from None
    if len(lookup) != len(vocab):
        raise ValueError("vocab must hold each token once (a token listed twice has two ids)")
    for b, sentence in enumerate(sentences):
        if isinstance(sentence, (str, bytes)) or not isinstance(sentence, (list, tuple)):
            raise TypeError(f"sentences[{b}] must be a list of tokens, got {type(sentence).__name__}"
                            + (" (split a string into words first)" if isinstance(sentence, str) else ""))
        if not sentence:
            raise ValueError(f"sentences[{b}] is empty; every sentence needs at least one token")
        unknown = [w for w in sentence if not _hashable(w) or w not in lookup]
        if unknown:
            raise ValueError(f"sentences[{b}] has tokens not in the vocabulary: {unknown}")
    T = max(len(s) for s in sentences)
    check_allocation(f"{len(sentences)} sentences of up to {T} tokens", [(T, len(sentences))] * 2,
                     np.int64, max_bytes)
    return _encode(sentences, vocab)


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _one_hot(ids, size, dtype):
    """onehot(id) = row id of the identity (size, size).
    Arguments are checked by `one_hot`."""
    return np.eye(size, dtype=dtype)[ids]                       # (..., size)


def one_hot(ids, size, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """One-hot vectors (..., size) of integer ids (...); id 0 (padding) may be kept or not by the mask.

    dtype: float64 or float32; max_bytes: the largest result allowed.
    """
    size = check_positive_int("size", size)
    dtype = check_float_dtype(dtype)
    if isinstance(ids, (str, bytes, dict)) or ids is None:
        raise TypeError(f"ids must be an integer array, got {type(ids).__name__}")
    ids = np.asarray(ids)
    if ids.dtype == bool or not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"ids must be an integer array, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise ValueError(f"ids must lie in [0, size) = [0, {size}), got {ids.min()} to {ids.max()}")
    check_allocation(f"ids of shape {ids.shape} and size={size}", ids.shape + (size,), dtype,
                     max_bytes)
    return _one_hot(ids, size, dtype)


# ----------------------------------------------------------------------------------------------
# Sentiment: a grammar with negation, intensifiers and contrast
# ----------------------------------------------------------------------------------------------
SUBJECTS = ["the film", "the movie", "the food", "the service", "this book", "the hotel"]
VERBS = ["is", "was"]
POSITIVE = ["good", "great", "nice", "fine"]
NEGATIVE = ["bad", "awful", "boring", "poor"]
INTENSIFIERS = ["very", "really", "so"]
SENTIMENT_FORMS = ("plain", "negated", "contrast", "but")
SENTIMENT_WEIGHTS = (0.4, 0.3, 0.15, 0.15)


def _sentiment_vocab():
    words = [PAD, "not", "at", "all", ",", "but"] + VERBS + INTENSIFIERS + POSITIVE + NEGATIVE
    for subject in SUBJECTS:
        words += [w for w in subject.split() if w not in words]
    return words


def _make_sentiment(n, rng, forms, p):
    """n sentences from the four forms (drawn with probabilities p) and their
    labels. Arguments are checked by `make_sentiment`."""
    choice = rng.choice(len(forms), size=n, p=p)                # (n,)
    sentences, labels, kinds = [], [], []
    for k in range(n):
        form = forms[choice[k]]
        subject = SUBJECTS[rng.integers(len(SUBJECTS))].split()
        verb = VERBS[rng.integers(len(VERBS))]
        polarity = int(rng.integers(2))                         # 1 positive
        first = (POSITIVE if polarity else NEGATIVE)[rng.integers(4)]
        second = (NEGATIVE if polarity else POSITIVE)[rng.integers(4)]
        intensifier = []
        if rng.random() < 0.4:
            intensifier = [INTENSIFIERS[rng.integers(3)]]        # (very) ...
        if form == "plain":
            words, label = intensifier + [first], polarity
        elif form == "negated":
            tail = ["at", "all"] if rng.random() < 0.3 else []
            words = ["not"] + intensifier + [first] + tail
            label = 1 - polarity
        elif form == "contrast":
            words = intensifier + [first, ",", "not", second]
            label = polarity
        else:
            words = ["not", first, "but"] + intensifier + [second]
            label = 1 - polarity
        sentences.append(subject + [verb] + words)
        labels.append(label)
        kinds.append(form)
    vocab = _sentiment_vocab()
    ids, mask, lengths = _encode(sentences, vocab)              # (T, B) each
    return TokenData(sentences, vocab, ids, mask, lengths,
                     np.array(labels, dtype=np.int64), {"form": kinds})


def make_sentiment(n, seed=0, forms=SENTIMENT_FORMS, weights=None, max_bytes=DEFAULT_MAX_BYTES):
    """``n`` sentences labelled 1 (positive) or 0 (negative), from four forms:

    * plain:    "the film was (very) good"                    label = polarity of the adjective
    * negated:  "the film was not (very) bad (at all)"        label = the opposite polarity
    * contrast: "the film was good , not bad"                 label = polarity of the first adjective
    * but:      "the film was not good but (really) bad"      label = polarity of the second adjective

    The adjectives of contrast and but have opposite polarities, so "good , not bad" and
    "bad , not good" are made of the same words: only their order tells the labels apart.
    ``forms`` picks which forms to draw from, with probabilities ``weights`` (default: the
    plain form 40 %, negated 30 %, contrast and but 15 % each, when all four are used; uniform
    otherwise). ``labels`` (B,) int; ``extra["form"]`` names each sentence's form.
    """
    n = check_positive_int("n", n)
    rng = as_generator(seed)
    if isinstance(forms, (str, bytes)) or not hasattr(forms, "__iter__"):
        raise TypeError(f"forms must be a list of form names from {SENTIMENT_FORMS}, got {forms!r}")
    forms = tuple(forms)
    if not forms or any(not isinstance(f, str) or f not in SENTIMENT_FORMS for f in forms):
        raise ValueError(f"forms must be a non-empty subset of {SENTIMENT_FORMS}, got {forms}")
    if weights is None:
        weights = SENTIMENT_WEIGHTS if forms == SENTIMENT_FORMS else np.ones(len(forms))
    if isinstance(weights, (str, bytes, dict)):
        raise TypeError(f"weights must be {len(forms)} numbers, one per form, got {weights!r}")
    try:
        weights = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"weights must be {len(forms)} numbers, one per form, got {weights!r}") from error
    if weights.shape != (len(forms),) or not np.all(np.isfinite(weights)) \
            or not np.all(weights >= 0) or weights.sum() <= 0:
        raise ValueError(f"weights must be {len(forms)} finite non-negative numbers (not all 0), "
                         f"one per form, got {weights}")
    check_allocation(f"n={n}", [(14, n)] * 2, np.int64, max_bytes)
    return _make_sentiment(n, rng, forms, weights / weights.sum())


# ----------------------------------------------------------------------------------------------
# The year task: where in the sentence is the year?
# ----------------------------------------------------------------------------------------------
COUNTRIES = ["russia", "france", "japan", "peru", "kenya", "italy"]
YEARS = [str(y) for y in range(2012, 2024)]
FILLERS = ["so", "well", "honestly", "actually", "then", "yes"]
YEAR_TEMPLATES = [
    "{Y} was when i went to {C}",
    "in {Y} , i went to {C}",
    "i went to {C} in {Y}",
    "we flew to {C} in {Y} for work",
    "in the summer of {Y} i visited {C}",
    "i visited {C} back in {Y}",
]
YEAR_MAX_LEN = 12


def _year_vocab():
    words = [PAD] + FILLERS + COUNTRIES + YEARS
    for template in YEAR_TEMPLATES:
        words += [w for w in template.split() if w not in words and w[0] != "{"]
    return words


def _make_year(n, rng, positions):
    """n trip sentences, each with its year moved to a position drawn from
    positions by filler words in front. Arguments are checked by `make_year`."""
    sentences, where = [], []
    for _ in range(n):
        position = positions[rng.integers(len(positions))]
        fits = [t.split() for t in YEAR_TEMPLATES                # can reach it
                if t.split().index("{Y}") <= position
                and len(t.split()) + position - t.split().index("{Y}")
                <= YEAR_MAX_LEN]
        words = fits[rng.integers(len(fits))]
        n_fill = position - words.index("{Y}")                  # in front
        fill = rng.integers(len(FILLERS), size=n_fill)
        fillers = [FILLERS[k] for k in fill]
        year = YEARS[rng.integers(len(YEARS))]
        country = COUNTRIES[rng.integers(len(COUNTRIES))]
        sentence = fillers + [year if w == "{Y}" else
                              country if w == "{C}" else w for w in words]
        sentences.append(sentence)
        where.append(position)
    ids, mask, lengths = _encode(sentences, _year_vocab())      # (T, B) each
    labels = np.array(where, dtype=np.int64)                    # (B,)
    tags = np.zeros(ids.shape, dtype=np.int64)                  # (T, B)
    tags[labels, np.arange(n)] = 1                              # 1 at the year
    return TokenData(sentences, _year_vocab(), ids, mask, lengths, labels,
                     {"tags": tags})


def make_year(n, seed=0, positions=range(YEAR_MAX_LEN), max_bytes=DEFAULT_MAX_BYTES):
    """``n`` sentences about a trip, each with one year, at a position drawn from ``positions``.

    A template ("i went to {C} in {Y}") is chosen whose year can reach the position, and filler
    words ("so", "well", ...) are put in front to move the year there; sentences are at most
    ``YEAR_MAX_LEN`` = 12 tokens long. ``labels`` (B,) is the year's position (0-based), and
    ``extra["tags"]`` (T, B) int is 1 at the year and 0 elsewhere (the per-step targets).
    positions: integers in [0, 12) (1.5 is refused, not truncated).
    """
    n = check_positive_int("n", n)
    rng = as_generator(seed)
    if isinstance(positions, (str, bytes, dict)) or not hasattr(positions, "__iter__"):
        raise TypeError(f"positions must be a collection of integers in [0, {YEAR_MAX_LEN}), got {positions!r}")
    listed = list(positions)
    array = _check_integers("positions", listed if listed else np.zeros(0, dtype=np.int64))
    positions = sorted(set(array.reshape(-1).tolist()))
    if not positions or positions[0] < 0 or positions[-1] >= YEAR_MAX_LEN:
        raise ValueError(f"positions must be a non-empty set of ints in [0, {YEAR_MAX_LEN}), got {positions}")
    check_allocation(f"n={n}", [(YEAR_MAX_LEN, n)] * 3, np.int64, max_bytes)
    return _make_year(n, rng, positions)


# ----------------------------------------------------------------------------------------------
# Toy translation: number words -> digits
# ----------------------------------------------------------------------------------------------
ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SOURCE_VOCAB = [PAD] + ONES + TENS[2:] + ["hundred"]
TARGET_VOCAB = [PAD, BOS, EOS] + [str(k) for k in range(10)]


def _number_words(number):
    """The English words of 0 <= number < 1000.
    Arguments are checked by `number_words`."""
    words = []
    if number >= 100:
        words += [ONES[number // 100], "hundred"]               # hundreds
        number %= 100
        if number == 0:
            return words
    if number < 20:
        return words + [ONES[number]]                           # 0 .. 19
    ones = [ONES[number % 10]] if number % 10 else []
    return words + [TENS[number // 10]] + ones                  # 20 .. 99


def number_words(number):
    """English words of 0 <= number < 1000: 321 -> ['three', 'hundred', 'twenty', 'one']."""
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)) or not 0 <= number < 1000:
        raise ValueError(f"number must be an integer in [0, 1000), got {number!r}")
    return _number_words(int(number))


def _make_translation(numbers):
    """Source: the number words; target: the digits and <eos>.
    Arguments are checked by `make_translation`."""
    source = [_number_words(k) for k in numbers]                # 1 to 4 words
    target = [list(str(k)) + [EOS] for k in numbers]            # 2 to 4 tokens
    src_ids, src_mask, src_len = _encode(source, SOURCE_VOCAB)
    tgt_ids, tgt_mask, tgt_len = _encode(target, TARGET_VOCAB)
    extra = {"numbers": np.array(numbers)}
    return (TokenData(source, SOURCE_VOCAB, src_ids, src_mask, src_len, None,
                      extra),
            TokenData(target, TARGET_VOCAB, tgt_ids, tgt_mask, tgt_len, None,
                      extra))


def make_translation(numbers, seed=0, max_bytes=DEFAULT_MAX_BYTES):
    """Translate number words into digits: a source and a target :class:`TokenData`.

    numbers: the integers in [0, 1000) to translate (1.5 is refused, not truncated), or an int n
    for n numbers drawn from [0, 1000) with ``seed``. The source is the words (1 to 4 tokens),
    the target the digits followed by "<eos>" (2 to 4 tokens): "three hundred twenty one" ->
    "3 2 1 <eos>". Returns (source, target), target.extra["numbers"] the integers.
    """
    if isinstance(numbers, (int, np.integer)) and not isinstance(numbers, (bool, np.bool_)):
        n = check_positive_int("numbers", int(numbers))
        rng = as_generator(seed)
        check_allocation(f"numbers={n}", [(4, n)] * 4, np.int64, max_bytes)
        numbers = rng.integers(0, 1000, size=n)
    numbers = _check_integers("numbers", numbers).reshape(-1)
    if numbers.size == 0:
        raise ValueError("numbers must not be empty")
    if numbers.min() < 0 or numbers.max() >= 1000:
        bad = numbers[(numbers < 0) | (numbers >= 1000)][0]
        raise ValueError(f"numbers must be integers in [0, 1000), got {int(bad)}")
    check_allocation(f"{numbers.size} numbers", [(4, numbers.size)] * 4, np.int64, max_bytes)
    return _make_translation(numbers.tolist())


# ----------------------------------------------------------------------------------------------
# Noisy time series
# ----------------------------------------------------------------------------------------------
def _make_time_series(n, T, rng, noise, num_waves):
    """x = sum_k amp_k sin(2 pi freq_k t + phase_k) + noise N(0, 1).
    Arguments are checked by `make_time_series`."""
    t = np.arange(T)[:, None, None]                             # (T, 1, 1)
    freq = rng.uniform(0.02, 0.15, size=(1, n, num_waves))      # (1, n, K)
    amp = rng.uniform(0.3, 1.0, size=(1, n, num_waves))         # (1, n, K)
    phase = rng.uniform(0, 2 * np.pi, size=(1, n, num_waves))   # (1, n, K)
    waves = amp * np.sin(2 * np.pi * freq * t + phase)          # (T, n, K)
    clean = waves.sum(axis=2, keepdims=True)                    # (T, n, 1)
    x = clean + noise * rng.standard_normal(clean.shape)        # (T, n, 1)
    return x, clean


def make_time_series(n, T, seed=0, noise=0.1, num_waves=2, max_bytes=DEFAULT_MAX_BYTES):
    """``n`` noisy series of length ``T``: sums of ``num_waves`` sines with random frequencies
    (0.02 to 0.15 cycles per step), amplitudes (0.3 to 1) and phases, plus N(0, noise^2) noise.

    Returns (x, clean): x (T, n, 1) the noisy series, clean (T, n, 1) the noise-free signal
    (time-major, one feature, ready for an RNN). max_bytes: the largest arrays allowed.
    """
    n, T = check_positive_int("n", n), check_positive_int("T", T)
    num_waves = check_positive_int("num_waves", num_waves)
    noise = _check_noise(noise)
    rng = as_generator(seed)
    check_allocation(f"n={n}, T={T}, num_waves={num_waves}",
                     [(T, n, num_waves), (T, n, num_waves), (T, n, 1), (T, n, 1)], np.float64,
                     max_bytes)
    return _make_time_series(n, T, rng, noise, num_waves)


# ----------------------------------------------------------------------------------------------
# Synthetic images with captions
# ----------------------------------------------------------------------------------------------
SHAPES = ["square", "cross", "bar", "frame"]
COLOURS = {"red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0),
           "yellow": (1.0, 1.0, 0.0)}
PLACES = [("top", "left"), ("top", "right"), ("bottom", "left"), ("bottom", "right")]
IMAGE_SIZE = 12
CAPTION_VOCAB = [PAD, BOS, EOS] + list(COLOURS) + SHAPES + ["top", "bottom", "left", "right"]


def _shape_mask(shape):
    """A 4x4 boolean stencil of the shape."""
    s = np.zeros((4, 4), dtype=bool)
    if shape == "square":
        s[:] = True
    elif shape == "cross":
        s[1:3, :] = True
        s[:, 1:3] = True
    elif shape == "bar":
        s[:, 1:3] = True
    else:                                                                 # frame: the outline only
        s[[0, 3], :] = True
        s[:, [0, 3]] = True
    return s


def _make_shapes(n, rng, noise):
    """n images of one coloured 4x4 shape, jittered in a quadrant, plus
    N(0, noise^2) pixel noise, and their captions.
    Arguments are checked by `make_shapes`."""
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE, 3))           # (n, 12, 12, 3)
    colour_names = list(COLOURS)
    captions, attributes = [], []
    for k in range(n):
        colour, shape = rng.integers(4), rng.integers(4)        # indices
        place = rng.integers(4)
        top = (0 if PLACES[place][0] == "top" else 6) + rng.integers(3)
        left = (0 if PLACES[place][1] == "left" else 6) + rng.integers(3)
        stencil = _shape_mask(SHAPES[shape])                    # (4, 4)
        patch = images[k, top:top + 4, left:left + 4]           # (4, 4, 3)
        patch[stencil] = COLOURS[colour_names[colour]]
        captions.append([colour_names[colour], SHAPES[shape], *PLACES[place],
                         EOS])
        attributes.append((colour, shape, place))
    images += noise * rng.standard_normal(images.shape)         # (n, 12, 12, 3)
    ids, mask, lengths = _encode(captions, CAPTION_VOCAB)       # (5, n) each
    data = TokenData(captions, CAPTION_VOCAB, ids, mask, lengths, None,
                     {"attributes": np.array(attributes)})
    return images, data


def make_shapes(n, seed=0, noise=0.05, max_bytes=DEFAULT_MAX_BYTES):
    """``n`` RGB images (n, 12, 12, 3) of one coloured 4x4 shape in one quadrant, with captions.

    The shape (square, cross, bar, frame), colour (red, green, blue, yellow) and quadrant are
    drawn at random; the shape is jittered by up to 2 pixels inside its quadrant, and N(0, noise^2)
    pixel noise is added. The caption is "<colour> <shape> <top|bottom> <left|right> <eos>".
    Returns (images, captions): images (n, 12, 12, 3) float64, captions a TokenData with
    extra["attributes"] (n, 3) int: colour, shape and quadrant indices.
    """
    n = check_positive_int("n", n)
    noise = _check_noise(noise)
    rng = as_generator(seed)
    check_allocation(f"n={n}", [(n, IMAGE_SIZE, IMAGE_SIZE, 3)] * 2, np.float64, max_bytes)
    return _make_shapes(n, rng, noise)


# ----------------------------------------------------------------------------------------------
# Running parity of (noisy) bits
# ----------------------------------------------------------------------------------------------
def _make_parity(n, T, rng, noise):
    """Random bits, observed through N(0, noise^2) noise, and their running
    parity y[t] = bits[0] xor ... xor bits[t]. Arguments are checked by
    `make_parity`."""
    bits = rng.integers(0, 2, size=(T, n))                      # (T, n)
    eps = noise * rng.standard_normal((T, n, 1))                # (T, n, 1)
    x = bits[:, :, None] + eps                                  # (T, n, 1)
    y = np.cumsum(bits, axis=0) % 2                             # (T, n)
    return x, y, bits


def make_parity(n, T, seed=0, noise=0.0, max_bytes=DEFAULT_MAX_BYTES):
    """``n`` sequences of ``T`` random bits and their running parity.

    bits (T, n) int in {0, 1}; x (T, n, 1) float: each bit observed as bit + N(0, noise^2)
    (noise = 0: the bit itself); y (T, n) int, y[t] = bits[0] xor ... xor bits[t].
    Returns (x, y, bits).
    """
    n, T = check_positive_int("n", n), check_positive_int("T", T)
    noise = _check_noise(noise)
    rng = as_generator(seed)
    check_allocation(f"n={n}, T={T}", [(T, n), (T, n, 1), (T, n, 1), (T, n)], np.float64,
                     max_bytes)
    return _make_parity(n, T, rng, noise)
