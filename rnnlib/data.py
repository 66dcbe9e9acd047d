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
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._checks import check_positive_int

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
        return self.vocab.index(token)

    def decode(self, ids):
        """The tokens of a sequence of ids (padding dropped)."""
        return [self.vocab[i] for i in ids if i != 0]


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")
    return int(seed)


def encode(sentences, vocab):
    """Pad a list of token lists into ids (T, B) int, mask (T, B) bool and lengths (B,)."""
    if not isinstance(sentences, (list, tuple)) or not sentences:
        raise ValueError("sentences must be a non-empty list of token lists")
    lookup = {w: i for i, w in enumerate(vocab)}
    lengths = np.array([len(s) for s in sentences])                      # (B,)
    if lengths.min() == 0:
        raise ValueError("every sentence needs at least one token")
    T, B = int(lengths.max()), len(sentences)
    ids = np.zeros((T, B), dtype=np.int64)                                # (T, B) 0 = <pad>
    for b, sentence in enumerate(sentences):
        unknown = [w for w in sentence if w not in lookup]
        if unknown:
            raise ValueError(f"sentence {b} has tokens not in the vocabulary: {unknown}")
        ids[: len(sentence), b] = [lookup[w] for w in sentence]
    mask = np.arange(T)[:, None] < lengths[None, :]                      # (T, B) True at real steps
    return ids, mask, lengths


def one_hot(ids, size, dtype=np.float64):
    """One-hot vectors (..., size) of integer ids (...); id 0 (padding) may be kept or not by the mask."""
    size = check_positive_int("size", size)
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"ids must be an integer array, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise ValueError(f"ids must lie in [0, size) = [0, {size}), got {ids.min()} to {ids.max()}")
    return np.eye(size, dtype=dtype)[ids]                                 # (..., size)


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


def make_sentiment(n, seed=0, forms=SENTIMENT_FORMS, weights=None):
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
    rng = np.random.default_rng(_check_seed(seed))
    forms = tuple(forms)
    if not forms or any(f not in SENTIMENT_FORMS for f in forms):
        raise ValueError(f"forms must be a non-empty subset of {SENTIMENT_FORMS}, got {forms}")
    if weights is None:
        weights = SENTIMENT_WEIGHTS if forms == SENTIMENT_FORMS else np.ones(len(forms))
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(forms),) or not np.all(weights >= 0) or weights.sum() <= 0:
        raise ValueError(f"weights must be {len(forms)} non-negative numbers, one per form, got {weights}")
    choice = rng.choice(len(forms), size=n, p=weights / weights.sum())   # (n,)
    sentences, labels, kinds = [], [], []
    for k in range(n):
        form = forms[choice[k]]
        subject = SUBJECTS[rng.integers(len(SUBJECTS))].split()
        verb = VERBS[rng.integers(len(VERBS))]
        polarity = int(rng.integers(2))                                   # 1 positive, 0 negative
        first = (POSITIVE if polarity else NEGATIVE)[rng.integers(4)]
        second = (NEGATIVE if polarity else POSITIVE)[rng.integers(4)]
        intensifier = [INTENSIFIERS[rng.integers(3)]] if rng.random() < 0.4 else []
        if form == "plain":
            words, label = intensifier + [first], polarity
        elif form == "negated":
            tail = ["at", "all"] if rng.random() < 0.3 else []
            words, label = ["not"] + intensifier + [first] + tail, 1 - polarity
        elif form == "contrast":
            words, label = intensifier + [first, ",", "not", second], polarity
        else:
            words, label = ["not", first, "but"] + intensifier + [second], 1 - polarity
        sentences.append(subject + [verb] + words)
        labels.append(label)
        kinds.append(form)
    vocab = _sentiment_vocab()
    ids, mask, lengths = encode(sentences, vocab)
    return TokenData(sentences, vocab, ids, mask, lengths, np.array(labels, dtype=np.int64), {"form": kinds})


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


def make_year(n, seed=0, positions=range(YEAR_MAX_LEN)):
    """``n`` sentences about a trip, each with one year, at a position drawn from ``positions``.

    A template ("i went to {C} in {Y}") is chosen whose year can reach the position, and filler
    words ("so", "well", ...) are put in front to move the year there; sentences are at most
    ``YEAR_MAX_LEN`` = 12 tokens long. ``labels`` (B,) is the year's position (0-based), and
    ``extra["tags"]`` (T, B) int is 1 at the year and 0 elsewhere (the per-step targets).
    """
    n = check_positive_int("n", n)
    rng = np.random.default_rng(_check_seed(seed))
    positions = sorted(set(int(p) for p in positions))
    if not positions or positions[0] < 0 or positions[-1] >= YEAR_MAX_LEN:
        raise ValueError(f"positions must be a non-empty set of ints in [0, {YEAR_MAX_LEN}), got {positions}")
    sentences, where = [], []
    for _ in range(n):
        position = positions[rng.integers(len(positions))]
        fits = [t.split() for t in YEAR_TEMPLATES
                if t.split().index("{Y}") <= position
                and len(t.split()) + position - t.split().index("{Y}") <= YEAR_MAX_LEN]
        words = fits[rng.integers(len(fits))]
        fillers = [FILLERS[k] for k in rng.integers(len(FILLERS), size=position - words.index("{Y}"))]
        year, country = YEARS[rng.integers(len(YEARS))], COUNTRIES[rng.integers(len(COUNTRIES))]
        sentence = fillers + [year if w == "{Y}" else country if w == "{C}" else w for w in words]
        sentences.append(sentence)
        where.append(position)
    ids, mask, lengths = encode(sentences, _year_vocab())
    labels = np.array(where, dtype=np.int64)                              # (B,)
    tags = np.zeros(ids.shape, dtype=np.int64)                            # (T, B)
    tags[labels, np.arange(n)] = 1
    return TokenData(sentences, _year_vocab(), ids, mask, lengths, labels, {"tags": tags})


# ----------------------------------------------------------------------------------------------
# Toy translation: number words -> digits
# ----------------------------------------------------------------------------------------------
ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SOURCE_VOCAB = [PAD] + ONES + TENS[2:] + ["hundred"]
TARGET_VOCAB = [PAD, BOS, EOS] + [str(k) for k in range(10)]


def number_words(number):
    """English words of 0 <= number < 1000: 321 -> ['three', 'hundred', 'twenty', 'one']."""
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)) or not 0 <= number < 1000:
        raise ValueError(f"number must be an integer in [0, 1000), got {number!r}")
    number = int(number)
    words = []
    if number >= 100:
        words += [ONES[number // 100], "hundred"]
        number %= 100
        if number == 0:
            return words
    if number < 20:
        return words + [ONES[number]]
    return words + [TENS[number // 10]] + ([ONES[number % 10]] if number % 10 else [])


def make_translation(numbers, seed=0):
    """Translate number words into digits: a source and a target :class:`TokenData`.

    numbers: the integers in [0, 1000) to translate, or an int n for n numbers drawn from
    [0, 1000) with ``seed``. The source is the words (1 to 4 tokens), the target the digits
    followed by "<eos>" (2 to 4 tokens): "three hundred twenty one" -> "3 2 1 <eos>".
    Returns (source, target), target.extra["numbers"] the integers.
    """
    if isinstance(numbers, (int, np.integer)) and not isinstance(numbers, bool):
        n = check_positive_int("numbers", int(numbers))
        numbers = np.random.default_rng(_check_seed(seed)).integers(0, 1000, size=n)
    numbers = [int(k) for k in np.asarray(numbers).reshape(-1)]
    if not numbers:
        raise ValueError("numbers must not be empty")
    source = [number_words(k) for k in numbers]
    target = [list(str(k)) + [EOS] for k in numbers]
    src_ids, src_mask, src_len = encode(source, SOURCE_VOCAB)
    tgt_ids, tgt_mask, tgt_len = encode(target, TARGET_VOCAB)
    extra = {"numbers": np.array(numbers)}
    return (TokenData(source, SOURCE_VOCAB, src_ids, src_mask, src_len, None, extra),
            TokenData(target, TARGET_VOCAB, tgt_ids, tgt_mask, tgt_len, None, extra))


# ----------------------------------------------------------------------------------------------
# Noisy time series
# ----------------------------------------------------------------------------------------------
def make_time_series(n, T, seed=0, noise=0.1, num_waves=2):
    """``n`` noisy series of length ``T``: sums of ``num_waves`` sines with random frequencies
    (0.02 to 0.15 cycles per step), amplitudes (0.3 to 1) and phases, plus N(0, noise^2) noise.

    Returns (x, clean): x (T, n, 1) the noisy series, clean (T, n, 1) the noise-free signal
    (time-major, one feature, ready for an RNN).
    """
    n, T = check_positive_int("n", n), check_positive_int("T", T)
    num_waves = check_positive_int("num_waves", num_waves)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng(_check_seed(seed))
    t = np.arange(T)[:, None, None]                                       # (T, 1, 1)
    freq = rng.uniform(0.02, 0.15, size=(1, n, num_waves))                # (1, n, K)
    amp = rng.uniform(0.3, 1.0, size=(1, n, num_waves))                   # (1, n, K)
    phase = rng.uniform(0, 2 * np.pi, size=(1, n, num_waves))             # (1, n, K)
    clean = (amp * np.sin(2 * np.pi * freq * t + phase)).sum(axis=2, keepdims=True)  # (T, n, 1)
    x = clean + noise * rng.standard_normal(clean.shape)                  # (T, n, 1)
    return x, clean


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


def make_shapes(n, seed=0, noise=0.05):
    """``n`` RGB images (n, 12, 12, 3) of one coloured 4x4 shape in one quadrant, with captions.

    The shape (square, cross, bar, frame), colour (red, green, blue, yellow) and quadrant are
    drawn at random; the shape is jittered by up to 2 pixels inside its quadrant, and N(0, noise^2)
    pixel noise is added. The caption is "<colour> <shape> <top|bottom> <left|right> <eos>".
    Returns (images, captions): images (n, 12, 12, 3) float64, captions a TokenData with
    extra["attributes"] (n, 3) int: colour, shape and quadrant indices.
    """
    n = check_positive_int("n", n)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng(_check_seed(seed))
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE, 3))                     # (n, 12, 12, 3)
    colour_names = list(COLOURS)
    captions, attributes = [], []
    for k in range(n):
        colour, shape, place = rng.integers(4), rng.integers(4), rng.integers(4)
        top = (0 if PLACES[place][0] == "top" else 6) + rng.integers(3)  # the quadrant's 6x6, jittered
        left = (0 if PLACES[place][1] == "left" else 6) + rng.integers(3)
        stencil = _shape_mask(SHAPES[shape])                              # (4, 4)
        images[k, top:top + 4, left:left + 4][stencil] = COLOURS[colour_names[colour]]
        captions.append([colour_names[colour], SHAPES[shape], *PLACES[place], EOS])
        attributes.append((colour, shape, place))
    images += noise * rng.standard_normal(images.shape)
    ids, mask, lengths = encode(captions, CAPTION_VOCAB)
    data = TokenData(captions, CAPTION_VOCAB, ids, mask, lengths, None, {"attributes": np.array(attributes)})
    return images, data


# ----------------------------------------------------------------------------------------------
# Running parity of (noisy) bits
# ----------------------------------------------------------------------------------------------
def make_parity(n, T, seed=0, noise=0.0):
    """``n`` sequences of ``T`` random bits and their running parity.

    bits (T, n) int in {0, 1}; x (T, n, 1) float: each bit observed as bit + N(0, noise^2)
    (noise = 0: the bit itself); y (T, n) int, y[t] = bits[0] xor ... xor bits[t].
    Returns (x, y, bits).
    """
    n, T = check_positive_int("n", n), check_positive_int("T", T)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng(_check_seed(seed))
    bits = rng.integers(0, 2, size=(T, n))                                # (T, n)
    x = bits[:, :, None] + noise * rng.standard_normal((T, n, 1))         # (T, n, 1)
    y = np.cumsum(bits, axis=0) % 2                                       # (T, n) running parity
    return x, y, bits
