"""Tests of rnnlib.data: determinism, shapes, and labels re-derived independently of the generators."""
import numpy as np
import pytest

from rnnlib import data

POS = {"good", "great", "nice", "fine"}
NEG = {"bad", "awful", "boring", "poor"}


def sentiment_by_rules(words):
    """An independent reading: the label is the polarity of the adjective that is not negated;
    if every adjective is negated, the opposite of that adjective."""
    plain, negated = [], []
    for k, w in enumerate(words):
        if w in POS or w in NEG:
            value = 1 if w in POS else 0
            before = words[max(0, k - 2):k]
            (negated if "not" in before and "but" not in before else plain).append(value)
    if plain:
        assert len(set(plain)) == 1
        return plain[0]
    return 1 - negated[0]


def test_sentiment_labels_follow_the_grammar():
    d = data.make_sentiment(600, seed=1)
    assert [sentiment_by_rules(s) for s in d.sentences] == list(d.labels)
    assert set(d.extra["form"]) == set(data.SENTIMENT_FORMS)
    share = {f: d.extra["form"].count(f) / 600 for f in data.SENTIMENT_FORMS}
    assert 0.33 < share["plain"] < 0.47 and 0.1 < share["but"] < 0.2
    only = data.make_sentiment(50, seed=1, forms=("plain", "negated"), weights=(0, 1))
    assert set(only.extra["form"]) == {"negated"}
    assert 0.4 < d.labels.mean() < 0.6


def test_sentiment_word_order_matters():
    """Some contrast sentences share their bag of words with a sentence of the opposite label."""
    d = data.make_sentiment(800, seed=2, forms=("contrast",))
    bags = {}
    for s, y in zip(d.sentences, d.labels):
        bags.setdefault(tuple(sorted(s)), set()).add(int(y))
    assert any(len(labels) == 2 for labels in bags.values())


def test_sentiment_shapes_mask_and_ids():
    d = data.make_sentiment(50, seed=0)
    T = max(len(s) for s in d.sentences)
    assert d.ids.shape == d.mask.shape == (T, 50)
    assert d.labels.shape == (50,) and d.labels.dtype == np.int64
    for b, s in enumerate(d.sentences):
        assert d.decode(d.ids[:, b]) == s
        assert d.mask[:, b].sum() == len(s) == d.lengths[b]
        assert (d.ids[len(s):, b] == 0).all()
    assert d.vocab[0] == data.PAD


def test_determinism_and_seed_dependence():
    a, b, c = data.make_sentiment(30, seed=5), data.make_sentiment(30, seed=5), data.make_sentiment(30, seed=6)
    assert a.sentences == b.sentences and np.array_equal(a.ids, b.ids)
    assert a.sentences != c.sentences
    x1, _ = data.make_time_series(4, 20, seed=3)
    x2, _ = data.make_time_series(4, 20, seed=3)
    assert np.array_equal(x1, x2)
    i1, c1 = data.make_shapes(5, seed=3)
    i2, c2 = data.make_shapes(5, seed=3)
    assert np.array_equal(i1, i2) and c1.sentences == c2.sentences
    assert data.make_year(10, seed=1).sentences == data.make_year(10, seed=1).sentences
    assert data.make_translation(10, seed=1)[0].sentences == data.make_translation(10, seed=1)[0].sentences


def test_year_positions_and_tags():
    d = data.make_year(300, seed=0, positions=[0, 3, 7, 11])
    for b, s in enumerate(d.sentences):
        years = [k for k, w in enumerate(s) if w.isdigit() and len(w) == 4]
        assert years == [d.labels[b]]
        assert d.extra["tags"][:, b].tolist() == [int(k == years[0]) for k in range(d.ids.shape[0])]
        assert len(s) <= data.YEAR_MAX_LEN
    assert set(d.labels.tolist()) == {0, 3, 7, 11}
    assert "russia" in d.vocab and "2019" in d.vocab


def test_year_lecture_sentences_are_in_the_grammar():
    at_end = {" ".join(s) for s in data.make_year(2000, seed=0, positions=[5]).sentences}
    at_start = {" ".join(s) for s in data.make_year(2000, seed=0, positions=[1]).sentences}
    assert "i went to russia in 2019" in at_end
    assert "in 2019 , i went to russia" in at_start


def words_to_number(words):
    """Independent parser of number words."""
    small = {w: k for k, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven",
                                         "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
                                         "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"])}
    tens = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
            "eighty": 80, "ninety": 90}
    total = 0
    for w in words:
        if w == "hundred":
            total *= 100
        else:
            total += small.get(w, 0) + tens.get(w, 0)
    return total


def test_translation_pairs_are_correct():
    source, target = data.make_translation(range(1000))
    for s, t, k in zip(source.sentences, target.sentences, range(1000)):
        assert words_to_number(s) == k
        assert t[-1] == data.EOS and int("".join(t[:-1])) == k
    assert source.ids.shape == (4, 1000) and target.ids.shape == (4, 1000)
    assert source.lengths.min() == 1 and target.lengths.min() == 2
    assert data.number_words(0) == ["zero"] and data.number_words(300) == ["three", "hundred"]
    assert data.number_words(115) == ["one", "hundred", "fifteen"]


def test_time_series_shapes_and_noise():
    x, clean = data.make_time_series(8, 200, seed=0, noise=0.2)
    assert x.shape == clean.shape == (200, 8, 1)
    assert abs(np.std(x - clean) - 0.2) < 0.02
    x0, clean0 = data.make_time_series(8, 200, seed=0, noise=0.0)
    assert np.array_equal(x0, clean0) and np.allclose(clean0, clean)


def test_shapes_images_match_their_captions():
    images, captions = data.make_shapes(200, seed=0, noise=0.0)
    assert images.shape == (200, 12, 12, 3)
    for img, cap in zip(images, captions.sentences):
        colour, shape, vertical, horizontal, eos = cap
        assert eos == data.EOS
        lit = img.sum(axis=2) > 0                                          # (12, 12)
        rows, cols = np.nonzero(lit)
        assert (rows.mean() < 6) == (vertical == "top") and (cols.mean() < 6) == (horizontal == "left")
        assert np.allclose(img[lit][0], data.COLOURS[colour])
        count = lit.sum()
        assert count == {"square": 16, "cross": 12, "bar": 8, "frame": 12}[shape]
        if shape == "frame":                                              # hollow middle
            r, c = rows.min(), cols.min()
            assert not lit[r + 1:r + 3, c + 1:c + 3].any()


def test_parity():
    x, y, bits = data.make_parity(5, 9, seed=0)
    assert x.shape == (9, 5, 1) and y.shape == bits.shape == (9, 5)
    for b in range(5):
        running = 0
        for t in range(9):
            running ^= int(bits[t, b])
            assert y[t, b] == running
    assert np.array_equal(x[:, :, 0], bits)
    xn, yn, bn = data.make_parity(5, 9, seed=0, noise=0.3)
    assert np.array_equal(yn, y) and not np.array_equal(xn, x)


def test_one_hot_and_encode():
    oh = data.one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert oh.shape == (2, 2, 3) and oh[0, 1, 2] == 1 and oh.sum() == 4
    assert data.one_hot(np.array([1]), 3, dtype=np.float32).dtype == np.float32
    ids, mask, lengths = data.encode([["a"], ["a", "b"]], [data.PAD, "a", "b"])
    assert ids.tolist() == [[1, 1], [0, 2]] and mask.tolist() == [[True, True], [False, True]]


@pytest.mark.parametrize("call, error", [
    (lambda: data.make_sentiment(0), ValueError),
    (lambda: data.make_sentiment(3.5), TypeError),
    (lambda: data.make_sentiment(3, seed="a"), TypeError),
    (lambda: data.make_sentiment(3, forms=("sarcasm",)), ValueError),
    (lambda: data.make_sentiment(3, weights=(1, 0)), ValueError),
    (lambda: data.make_sentiment(3, weights=(-1, 1, 1, 1)), ValueError),
    (lambda: data.make_year(3, positions=[12]), ValueError),
    (lambda: data.make_year(3, positions=[]), ValueError),
    (lambda: data.make_translation([1000]), ValueError),
    (lambda: data.make_translation([]), ValueError),
    (lambda: data.number_words(-1), ValueError),
    (lambda: data.make_time_series(2, 0), ValueError),
    (lambda: data.make_time_series(2, 5, noise=-1), ValueError),
    (lambda: data.make_shapes(2, noise=float("nan")), ValueError),
    (lambda: data.make_parity(0, 5), ValueError),
    (lambda: data.one_hot(np.array([3]), 3), ValueError),
    (lambda: data.one_hot(np.array([0.5]), 3), TypeError),
    (lambda: data.encode([["x"]], [data.PAD, "a"]), ValueError),
    (lambda: data.encode([], [data.PAD]), ValueError),
])
def test_bad_input(call, error):
    with pytest.raises(error):
        call()


@pytest.mark.parametrize("call, word", [
    (lambda: data.make_translation([1.5]), "numbers"),
    (lambda: data.make_translation(np.array([2.0, 3.5])), "numbers"),
    (lambda: data.make_year(3, positions=[1.5]), "positions"),
    (lambda: data.make_parity(3, 4, seed=-1), "seed"),
    (lambda: data.make_shapes(3, seed=1.5), "seed"),
    (lambda: data.one_hot(np.array([0]), 3, dtype="foo"), "dtype"),
    (lambda: data.one_hot(np.array([0]), 3, dtype=int), "dtype"),
])
def test_non_integers_seeds_and_dtypes_are_refused_not_truncated(call, word):
    """Issue 18: 1.5 used to be truncated to 1."""
    with pytest.raises((TypeError, ValueError), match=word):
        call()
