"""The checkers of the chapter "Sequence modeling": reference answers pass, usual mistakes fail
with specific feedback, stubs are "not attempted"."""
import numpy as np
import pytest

from rnnlib import data
from rnnlib import seq2seq as S
from rnnlib.exercises import check, get_exercise
from rnnlib.exercises.sequence_modeling import bag_of_words_reference, year_position_reference


def stub(*args):
    raise NotImplementedError()


def pad_batch(sentences, vocab):
    ids, mask, _ = data.encode(sentences, vocab)
    return ids, mask


def pad_front(sentences, vocab):
    T = max(map(len, sentences))
    ids = np.zeros((T, len(sentences)), dtype=int)
    for b, s in enumerate(sentences):
        ids[T - len(s):, b] = [vocab.index(w) for w in s]
    return ids, ids != 0


def bow_with_padding(ids, mask, V):
    counts = np.zeros((ids.shape[1], V))
    for t in range(ids.shape[0]):
        for b in range(ids.shape[1]):
            counts[b, ids[t, b]] += 1
    return counts


def greedy_no_stop(params, v, bos, eos, max_len):
    s = np.tanh(params["bp"] + v @ params["P"].T)
    previous, out = np.full(len(v), bos), []
    for _ in range(max_len):
        s = np.tanh(params["bd"] + s @ params["Wd"].T + params["Ud"][:, previous].T)
        previous = (params["c"] + s @ params["V"].T).argmax(axis=1)
        out.append(previous)
    return np.array(out)


@pytest.mark.parametrize("label, answer", [
    ("seqmod-pad-batch", pad_batch),
    ("seqmod-bag-of-words", bag_of_words_reference),
    ("seqmod-year-position", year_position_reference),
    ("seqmod-greedy-caption", lambda p, v, bos, eos, n: S.vector_decoder_generate(p, v, bos, eos, n)),
])
def test_reference_answers_pass_and_stubs_are_not_attempted(label, answer):
    assert check(label, answer, quiet=True).passed
    assert check(label, stub, quiet=True).status == "not attempted"
    assert get_exercise(label).chapter == "sequence_modeling"


@pytest.mark.parametrize("label, answer, words", [
    ("seqmod-pad-batch", pad_front, "front"),
    ("seqmod-pad-batch", lambda s, v: tuple(a.T for a in pad_batch(s, v)), "batch-major"),
    ("seqmod-pad-batch", lambda s, v: (pad_batch(s, v)[0], ~pad_batch(s, v)[1]), "inverted"),
    ("seqmod-bag-of-words", bow_with_padding, "padding"),
    ("seqmod-bag-of-words", lambda i, m, V: (bag_of_words_reference(i, m, V) > 0).astype(float), "how often"),
    ("seqmod-year-position", lambda p, m: p.argmax(axis=0), "padded step"),
    ("seqmod-greedy-caption", greedy_no_stop, "after <eos>"),
])
def test_usual_mistakes_get_specific_feedback(label, answer, words):
    result = check(label, answer, quiet=True)
    assert result.status == "failed" and words in result.feedback, result.feedback


def test_the_written_exercise_is_registered():
    assert get_exercise("seqmod-four-needs").kind == "written"
