"""Tests of rnnlib.beam_search: width 1 is greedy decoding exactly (translator and captioner),
a wide enough beam finds the most probable sequence (against brute force over every sequence),
log-probabilities against a hand loop, eos handling, length normalisation, the cost count, and
the gain over greedy decoding on seq2seq's translation task."""
import itertools

import numpy as np
import pytest

from rnnlib import Adam, data, seq2seq, train
from rnnlib import beam_search as BS


def random_decoder(seed, m=4, C=5, f=3, scale=1.5):
    rng = np.random.default_rng(seed)
    p = seq2seq.init_vector_decoder(f, m, C, seed=seed)
    return {k: v * scale + 0.3 * rng.standard_normal(v.shape) for k, v in p.items()}


def hand_logprob(p, s0, seq, bos, eos):
    """log p(seq | s0) written out: feed bos, then the tokens; stop after eos."""
    s, prev, total = s0, bos, 0.0
    for token in seq:
        s = np.tanh(p["bd"] + p["Wd"] @ s + p["Ud"][:, prev])
        o = p["c"] + p["V"] @ s
        total += o[token] - (o.max() + np.log(np.sum(np.exp(o - o.max()))))
        if token == eos:
            break
        prev = token
    return total


@pytest.mark.parametrize("seed", range(5))
def test_width_one_is_greedy_decoding_exactly(seed):
    p = random_decoder(seed)
    s0 = np.random.default_rng(seed).standard_normal((30, 4))
    greedy = seq2seq.greedy_decode(p, s0, bos=1, eos=2, max_len=8)
    beam = BS.beam_search(p, s0, bos=1, eos=2, max_len=8, width=1)
    np.testing.assert_array_equal(beam.ids, greedy)
    v = np.random.default_rng(seed + 10).standard_normal((30, 3))
    np.testing.assert_array_equal(BS.vector_decoder_beam_search(p, v, 1, 2, 8, width=1).ids,
                                  seq2seq.vector_decoder_generate(p, v, 1, 2, 8))


def all_sequences(C, eos, max_len):
    """Every output: tokens before eos are not eos; ends with eos, or reaches max_len."""
    for k in range(1, max_len + 1):
        for body in itertools.product([c for c in range(C) if c != eos], repeat=k - 1):
            yield list(body) + [eos]
    yield from (list(s) for s in itertools.product([c for c in range(C) if c != eos], repeat=max_len))


@pytest.mark.parametrize("seed", range(4))
def test_a_wide_beam_finds_the_most_probable_sequence(seed):
    C, max_len, bos, eos = 4, 3, 0, 3
    p = random_decoder(seed, C=C)
    s0 = np.random.default_rng(seed).standard_normal((6, 4))
    exact = BS.beam_search(p, s0, bos, eos, max_len, width=C ** (max_len - 1))
    greedy = seq2seq.greedy_decode(p, s0, bos, eos, max_len)
    for b in range(6):
        best = max(all_sequences(C, eos, max_len), key=lambda q: hand_logprob(p, s0[b], q, bos, eos))
        want = hand_logprob(p, s0[b], best, bos, eos)
        assert exact.logprob[b] == pytest.approx(want, rel=1e-10)
        got = [int(t) for t in exact.ids[:, b]][: exact.length[b]]
        assert hand_logprob(p, s0[b], got, bos, eos) == pytest.approx(want, rel=1e-10)
        greedy_seq = [int(t) for t in greedy[:, b]]
        assert want >= hand_logprob(p, s0[b], greedy_seq, bos, eos) - 1e-12


def test_logprob_lengths_eos_and_cost():
    p = random_decoder(7)
    s0 = np.random.default_rng(7).standard_normal((20, 4))
    for width in (1, 3):
        r = BS.beam_search(p, s0, bos=1, eos=2, max_len=6, width=width)
        for b in range(20):
            seq = [int(t) for t in r.ids[:, b]]
            if 2 in seq:                                 # zeros after eos; length counts eos
                k = seq.index(2)
                assert all(t == 0 for t in seq[k + 1:]) and r.length[b] == k + 1
            else:
                assert r.length[b] == 6
            assert r.logprob[b] == pytest.approx(hand_logprob(p, s0[b], seq, 1, 2), rel=1e-10)
        np.testing.assert_allclose(BS.sequence_logprob(p, s0, r.ids, 1, 2), r.logprob, rtol=1e-12)
        np.testing.assert_array_equal(r.score, r.logprob)    # no length penalty
        done_at = max(r.length)                          # steps run (C = 5 >= width)
        assert r.decoder_steps == 20 + 20 * width * (done_at - 1)


def test_length_penalty_divides_by_length_to_the_alpha():
    p = random_decoder(8)
    s0 = np.random.default_rng(8).standard_normal((40, 4))
    plain = BS.beam_search(p, s0, 1, 2, 8, width=4)
    normed = BS.beam_search(p, s0, 1, 2, 8, width=4, length_penalty=1.0)
    np.testing.assert_allclose(normed.score, normed.logprob / normed.length, rtol=1e-12)
    assert np.all(normed.logprob <= plain.logprob + 1e-12)     # plain picks the most probable
    assert np.mean(normed.length) >= np.mean(plain.length)     # normalising favours longer outputs


def test_single_sequence_shapes():
    p = random_decoder(9)
    r = BS.beam_search(p, np.zeros(4), 1, 2, 5, width=2)
    assert r.ids.shape == (5,) and np.ndim(r.logprob) == 0
    assert isinstance(BS.sequence_logprob(p, np.zeros(4), r.ids, 1, 2), float)


def test_beam_finds_more_probable_translations_than_greedy():
    """On seq2seq's translation task (a briefly trained translator, seeded): beam search never
    returns a less probable translation here and finds a more probable one for some numbers."""
    numbers = np.random.default_rng(0).permutation(1000)
    source, target = data.make_translation(numbers[:800])
    test_source, _ = data.make_translation(numbers[800:])
    d, C = len(data.SOURCE_VOCAB), len(data.TARGET_VOCAB)
    bos, eos = target.index(data.BOS), target.index(data.EOS)
    x_source = data.one_hot(source.ids, d)
    rng = np.random.default_rng(0)

    def batch(step, size=64):
        idx = rng.choice(800, size, replace=False)
        y = target.ids[:, idx]
        return (x_source[:, idx], source.mask[:, idx], seq2seq.decoder_inputs(y, C, bos)), y, target.mask[:, idx]

    def forward(params, inputs, h0=None, mask=None):
        return seq2seq.encoder_decoder_forward(params, inputs[0], inputs[2], inputs[1], mask)

    p = seq2seq.init_encoder_decoder(d, 48, C, seed=0)
    train(p, batch, 100, Adam(lr=0.01), forward=forward, backward=seq2seq.encoder_decoder_backward,
          progress=False)
    x = data.one_hot(test_source.ids, d)
    s0 = seq2seq.encode(p, x, test_source.mask).h[-1]
    greedy = seq2seq.encoder_decoder_generate(p, x, bos, eos, 6, x_mask=test_source.mask)
    lg = BS.sequence_logprob(p, s0, greedy, bos, eos)
    beam = BS.encoder_decoder_beam_search(p, x, bos, eos, 6, width=3, x_mask=test_source.mask)
    gain = beam.logprob - lg
    assert gain.min() >= -1e-9 and np.mean(gain > 1e-9) >= 0.02 and gain.mean() > 0
