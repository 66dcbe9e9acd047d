"""The checkers of the chapter "Sequence modeling": reference answers pass, usual mistakes fail
with specific feedback, stubs are "not attempted"."""
import numpy as np
import pytest

from rnnlib import data
from rnnlib import seq2seq as S
from rnnlib.exercises import check, get_exercise
from rnnlib.exercises.sequence_modeling import (
    bag_of_words_reference, beam_step_reference, year_position_reference)


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


def beam_step(scores, log_probs, width):
    """An independent solution: unravel the best flat indices of the (n, C) candidate table."""
    cand = scores[:, None] + log_probs
    flat = np.argsort(cand, axis=None)[::-1][:width]
    beam, token = np.unravel_index(flat, cand.shape)
    return list(beam), list(token), cand[beam, token]


def beam_ranked(scores, log_probs, width, key):
    cand = scores[:, None] + log_probs
    flat = np.argsort(-key(scores, log_probs).ravel(), kind="stable")[:width]
    beam, token = np.divmod(flat, log_probs.shape[1])
    return beam, token, cand[beam, token]


def beam_best_per_sequence(scores, log_probs, width):
    cand = scores[:, None] + log_probs
    rows = np.argsort(-cand.max(axis=1))[:width]
    token = cand[rows].argmax(axis=1)
    return rows, token, cand[rows, token]


def beam_wrong_score(transform):
    def answer(scores, log_probs, width):
        beam, token, new = beam_step_reference(scores, log_probs, width)
        return beam, token, transform(new, log_probs[beam, token])
    return answer


@pytest.mark.parametrize("label, answer", [
    ("seqmod-beam-step", beam_step_reference),
    ("seqmod-beam-step", beam_step),
    ("seqmod-beam-step", lambda s, lp, k: tuple(np.asarray(a, np.float32) if i == 2 else a
                                                for i, a in enumerate(beam_step(s, lp, k)))),
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
    ("seqmod-beam-step", lambda s, lp, k: beam_ranked(s, lp, k, lambda s, lp: lp), "alone"),
    ("seqmod-beam-step", lambda s, lp, k: beam_ranked(s, lp, k, lambda s, lp: -(s[:, None] + lp)),
     "worst"),
    ("seqmod-beam-step", lambda s, lp, k: beam_ranked(s, lp, k, lambda s, lp: s[:, None] * lp),
     "log-probabilities add"),
    ("seqmod-beam-step", lambda s, lp, k: tuple(a[::-1] for a in beam_step_reference(s, lp, k)),
     "best first"),
    ("seqmod-beam-step", beam_best_per_sequence, "best token of each sequence"),
    ("seqmod-beam-step", beam_wrong_score(lambda new, last: np.exp(new)), "probabilities"),
    ("seqmod-beam-step", beam_wrong_score(lambda new, last: last), "add the sequence's score"),
    ("seqmod-beam-step", lambda s, lp, k: beam_step_reference(s, lp, k)[1::-1] + (
        beam_step_reference(s, lp, k)[2],), "swapped"),
    ("seqmod-beam-step", lambda s, lp, k: beam_step_reference(s, lp, k)[:2], "three arrays"),
])
def test_usual_mistakes_get_specific_feedback(label, answer, words):
    result = check(label, answer, quiet=True)
    assert result.status == "failed" and words in result.feedback, result.feedback


def test_the_written_exercise_is_registered():
    assert get_exercise("seqmod-four-needs").kind == "written"
