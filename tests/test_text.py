"""Tests of rnnlib.text against independent references written here (np.eye, Python slicing,
a hand-written sampling loop)."""
import numpy as np
import pytest

import rnnlib
from rnnlib.text import Vocabulary, char_lm_batch, char_lm_batches, one_hot, sample, stdlib_text


# ----------------------------------------------------------------------------------------------
# Vocabulary
# ----------------------------------------------------------------------------------------------
def test_vocabulary_sorted_roundtrip():
    vocab = Vocabulary("hello world")
    assert vocab.chars == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert vocab.size == len(vocab) == 8
    assert vocab.char_to_index["h"] == 3 and vocab.index_to_char[3] == "h"
    assert all(vocab.index_to_char[vocab.char_to_index[ch]] == ch for ch in vocab.chars)
    encoded = vocab.encode("hello")
    assert encoded.dtype == np.int64
    assert encoded.tolist() == [3, 2, 4, 4, 5]
    assert vocab.decode(encoded) == "hello"
    assert vocab.decode([]) == ""


def test_vocabulary_bad_input():
    with pytest.raises(TypeError, match="text"):
        Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="empty"):
        Vocabulary("")
    vocab = Vocabulary("abc")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("abz")
    with pytest.raises(TypeError, match="str"):
        vocab.encode([0, 1])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match="1-D"):
        vocab.decode([[0, 1]])
    with pytest.raises(TypeError, match="integers"):
        vocab.decode([0.5])


# ----------------------------------------------------------------------------------------------
# one_hot
# ----------------------------------------------------------------------------------------------
def test_one_hot_matches_identity_rows():
    rng = np.random.default_rng(0)
    indices = rng.integers(0, 7, size=(4, 3))
    out = one_hot(indices, 7)
    assert out.shape == (4, 3, 7) and out.dtype == np.float64
    np.testing.assert_array_equal(out, np.eye(7)[indices])
    assert one_hot(np.array(2), 4, dtype=np.float32).tolist() == [0, 0, 1, 0]
    assert one_hot([1], 3, dtype=np.float32).dtype == np.float32


def test_one_hot_bad_input():
    with pytest.raises(ValueError, match=r"\[0, C\)"):
        one_hot([0, 5], 5)
    with pytest.raises(ValueError, match=r"\[0, C\)"):
        one_hot([-1], 5)
    with pytest.raises(TypeError, match="integer"):
        one_hot([0.0, 1.0], 5)
    with pytest.raises(TypeError, match="integer"):
        one_hot([True], 5)
    with pytest.raises(ValueError, match="C"):
        one_hot([0], 0)
    with pytest.raises(TypeError, match="dtype"):
        one_hot([0], 3, dtype=np.int32)


# ----------------------------------------------------------------------------------------------
# Batches
# ----------------------------------------------------------------------------------------------
def test_char_lm_batch_windows_and_next_character_targets():
    text = "the quick brown fox jumps over the lazy dog"
    vocab = Vocabulary(text)
    encoded = vocab.encode(text)
    starts = np.array([0, 4, 10])
    x, y = char_lm_batch(encoded, 5, 3, vocab.size, starts=starts)
    assert x.shape == (5, 3, vocab.size) and y.shape == (5, 3) and y.dtype == np.int64
    for b, s in enumerate(starts):
        assert vocab.decode(x[:, b].argmax(axis=1)) == text[s:s + 5]
        assert vocab.decode(y[:, b]) == text[s + 1:s + 6]
    np.testing.assert_array_equal(x.sum(axis=2), 1)


def test_char_lm_batch_random_windows_are_seeded_and_in_range():
    encoded = np.arange(20) % 6
    x1, y1 = char_lm_batch(encoded, 4, 50, 6, seed=3)
    x2, y2 = char_lm_batch(encoded, 4, 50, 6, seed=3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    # every window is consecutive: target t is the input at t+1, and the next index of the text
    inputs = x1.argmax(axis=2)
    np.testing.assert_array_equal(inputs[1:], y1[:-1])
    np.testing.assert_array_equal(y1, (inputs + 1) % 6)
    # the last possible window (start N - T - 1 = 15) is reachable, nothing beyond it
    x_last, y_last = char_lm_batch(encoded, 4, 1, 6, starts=np.array([15]))
    assert y_last[-1, 0] == encoded[-1]
    assert x1.dtype == np.float64 and char_lm_batch(encoded, 4, 2, 6, seed=0, dtype=np.float32)[0].dtype == np.float32


def test_char_lm_batches_consecutive_continue_each_row():
    N, T, B = 101, 5, 4
    encoded = np.arange(N) % 13
    batches = char_lm_batches(encoded, T, B, 13, consecutive=True)
    L = (N - 1) // B                                   # 25 characters per stream, 5 windows
    x0, y0 = batches(0)
    x1, y1 = batches(1)
    positions0 = np.arange(B) * L + np.arange(T)[:, None]
    np.testing.assert_array_equal(x0.argmax(axis=2), encoded[positions0])
    np.testing.assert_array_equal(x1.argmax(axis=2), encoded[positions0 + T])   # continues
    np.testing.assert_array_equal(y1, encoded[positions0 + T + 1])
    x5, _ = batches(L // T)                            # wraps around to the first window
    np.testing.assert_array_equal(x5, x0)


def test_char_lm_batches_random_are_reproducible_per_step():
    encoded = np.arange(200) % 10
    a, b = char_lm_batches(encoded, 8, 4, 10, seed=1), char_lm_batches(encoded, 8, 4, 10, seed=1)
    np.testing.assert_array_equal(a(7)[0], b(7)[0])
    assert not np.array_equal(a(0)[1], a(1)[1])
    assert not np.array_equal(a(0)[1], char_lm_batches(encoded, 8, 4, 10, seed=2)(0)[1])


def test_batches_bad_input():
    encoded = np.arange(10) % 3
    with pytest.raises(ValueError, match="T\\+1"):
        char_lm_batch(encoded, 10, 2, 3)
    with pytest.raises(ValueError, match="1-D"):
        char_lm_batch(encoded.reshape(2, 5), 2, 2, 3)
    with pytest.raises(TypeError, match="integer"):
        char_lm_batch(encoded.astype(float), 2, 2, 3)
    with pytest.raises(ValueError, match=r"\[0, C\)"):
        char_lm_batch(encoded, 2, 2, 2)
    with pytest.raises(ValueError, match="starts"):
        char_lm_batch(encoded, 2, 2, 3, starts=np.array([0, 8]))
    with pytest.raises(ValueError, match="starts"):
        char_lm_batch(encoded, 2, 2, 3, starts=np.array([0]))
    with pytest.raises(ValueError, match="T"):
        char_lm_batch(encoded, 0, 2, 3)
    with pytest.raises(ValueError, match="too short"):
        char_lm_batches(encoded, 4, 3, 3, consecutive=True)
    with pytest.raises(TypeError, match="seed"):
        char_lm_batches(encoded, 2, 2, 3, seed=1.5)


def test_char_lm_batches_train_a_tiny_model():
    text = "abcabcabcabcabcabcabcabcabcabc" * 4
    vocab = Vocabulary(text)
    encoded = vocab.encode(text)
    params = rnnlib.init_rnn(vocab.size, 8, vocab.size, seed=0)
    history = rnnlib.train(params, char_lm_batches(encoded, 6, 4, vocab.size), 60,
                           rnnlib.Adam(lr=0.05), progress=False)
    assert history.loss[-1] < 0.1 * history.loss[0]
    # the trained model continues the pattern with near certainty
    generated = vocab.decode(sample(params, vocab.char_to_index["a"], 9, temperature=0.5))
    assert generated == "bcabcabca"


# ----------------------------------------------------------------------------------------------
# stdlib_text
# ----------------------------------------------------------------------------------------------
def test_stdlib_text_is_deterministic_ascii_and_bounded():
    text = stdlib_text()
    assert text == stdlib_text()
    assert 10_000 <= len(text) <= 40_000
    assert len(stdlib_text(500)) == 500
    assert all(32 <= ord(ch) < 127 or ch == "\n" for ch in text)
    assert Vocabulary(text).size < 100
    assert ">>>" not in text
    assert "wrap" in text
    with pytest.raises(ValueError):
        stdlib_text(0)


# ----------------------------------------------------------------------------------------------
# sample
# ----------------------------------------------------------------------------------------------
def reference_sample(params, first_index, length, seed, temperature, h0=None):
    """Hand-written loop: column-vector equations of the lecture, one character at a time."""
    W, U, V, b, c = (params[k] for k in ("W", "U", "V", "b", "c"))
    C = V.shape[0]
    rng = np.random.default_rng(seed)
    h = np.zeros(W.shape[0]) if h0 is None else np.asarray(h0, dtype=float)
    index, out = first_index, []
    for _ in range(length):
        x = np.zeros(C)
        x[index] = 1.0
        h = np.tanh(b + W @ h + U @ x)
        o = c + V @ h
        p = np.exp(o / temperature - np.max(o / temperature))
        index = int(rng.choice(C, p=p / p.sum()))
        out.append(index)
    return out


@pytest.mark.parametrize("temperature", [1.0, 0.5, 2.0])
def test_sample_matches_hand_written_loop(temperature):
    params = rnnlib.init_rnn(6, 5, 6, seed=1)
    params["b"][:] = np.random.default_rng(2).standard_normal(5)
    params["c"][:] = np.random.default_rng(3).standard_normal(6)
    h0 = np.random.default_rng(4).standard_normal(5)
    got = sample(params, 2, 40, seed=7, temperature=temperature, h0=h0)
    assert got.dtype == np.int64 and got.shape == (40,)
    assert got.tolist() == reference_sample(params, 2, 40, 7, temperature, h0)
    assert sample(params, 2, 40, seed=7, temperature=temperature, h0=h0).tolist() == got.tolist()
    assert sample(params, 2, 0).shape == (0,)


def test_sample_low_temperature_picks_the_most_likely_character():
    params = rnnlib.init_rnn(4, 3, 4, seed=0)
    params["c"][:] = [0.0, 0.0, 1.0, 0.0]
    params["V"][:] = 0.0
    got = sample(params, 0, 30, seed=0, temperature=1e-3)
    assert set(got.tolist()) == {2}
    assert len(set(sample(params, 0, 200, seed=0, temperature=1.0).tolist())) == 4


def test_sample_float32_params():
    params = rnnlib.init_rnn(5, 4, 5, seed=0, dtype=np.float32)
    got = sample(params, 1, 20, seed=3)
    assert got.shape == (20,) and got.min() >= 0 and got.max() < 5


def test_sample_bad_input():
    params = rnnlib.init_rnn(5, 4, 5)
    with pytest.raises(ValueError, match="d must equal C"):
        sample(rnnlib.init_rnn(3, 4, 5), 0, 5)
    with pytest.raises(ValueError, match="first_index"):
        sample(params, 5, 5)
    with pytest.raises(TypeError, match="first_index"):
        sample(params, 1.0, 5)
    with pytest.raises(ValueError, match="length"):
        sample(params, 0, -1)
    with pytest.raises(ValueError, match="temperature"):
        sample(params, 0, 5, temperature=0)
    with pytest.raises(TypeError, match="temperature"):
        sample(params, 0, 5, temperature=float("nan"))
    with pytest.raises(ValueError, match="h0"):
        sample(params, 0, 5, h0=np.zeros(3))
    with pytest.raises(ValueError, match="activation"):
        sample(params, 0, 5, activation="sigmoid")
    with pytest.raises(TypeError, match="seed"):
        sample(params, 0, 5, seed="x")
    with pytest.raises(KeyError):
        sample({"W": params["W"]}, 0, 5)
