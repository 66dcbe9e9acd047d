"""Tests of rnnlib.attention: the forward pass against a per-example hand loop (padded source
steps ignored), gradients against finite differences of that loop and rnnlib.gradcheck,
greedy generation against teacher forcing on its own output, float32, the digit-translation task,
decode_accuracy, and a small version of the chapter's comparison with the fixed-size context."""
import numpy as np
import pytest

from rnnlib import Adam, data, gradcheck, numerical_gradient, seq2seq, train
from rnnlib import attention as A

TOL = 1e-7


def with_noise(p, rng):
    return {k: v + 0.2 * rng.standard_normal(v.shape) for k, v in p.items()}


def hand_attention(p, x, lengths, y_in):
    """One example at a time: the encoder over its real steps, the decoder, attention over
    that example's real encoder states only."""
    T_y, B, C = y_in.shape
    O = np.zeros((T_y, B, C))
    W = np.zeros((T_y, B, x.shape[0]))
    for b in range(B):
        h, Hs = np.zeros(p["We"].shape[0]), []
        for j in range(lengths[b]):
            h = np.tanh(p["be"] + p["We"] @ h + p["Ue"] @ x[j, b])
            Hs.append(h)
        s = Hs[-1]
        for t in range(T_y):
            s = np.tanh(p["bd"] + p["Wd"] @ s + p["Ud"] @ y_in[t, b])
            e = np.array([s @ p["Wa"] @ hj for hj in Hs])
            a = np.exp(e - e.max()) / np.sum(np.exp(e - e.max()))
            ctx = sum(a_j * hj for a_j, hj in zip(a, Hs))
            O[t, b] = p["c"] + p["V"] @ s + p["Va"] @ ctx
            W[t, b, : lengths[b]] = a
    return O, W


def hand_loss(O, y, mask):
    T, B, _ = O.shape
    J = 0.0
    for t in range(T):
        for b in range(B):
            if mask is None or mask[t, b]:
                o = O[t, b]
                J += (np.log(np.sum(np.exp(o - o.max()))) + o.max() - o[y[t, b]]) / B
    return J


def setup(seed=0):
    rng = np.random.default_rng(seed)
    p = with_noise(A.init_attention(3, 4, 5, seed=1), rng)
    lengths = [4, 2, 3]
    x = rng.standard_normal((4, 3, 3))
    x_mask = np.arange(4)[:, None] < np.array(lengths)[None]
    y = rng.integers(0, 5, (3, 3))
    y_mask = np.arange(3)[:, None] < np.array([3, 2, 3])[None]
    return p, x, x_mask, lengths, y, y_mask, seq2seq.decoder_inputs(y, 5, 1)


def test_forward_matches_a_hand_loop_and_ignores_padded_source_steps():
    p, x, x_mask, lengths, y, y_mask, y_in = setup()
    cache = A.attention_forward(p, np.where(x_mask[:, :, None], x, 50.0), y_in, x_mask, y_mask)
    O, W = hand_attention(p, x, lengths, y_in)
    real = y_mask                                        # padded target steps keep s: skip them
    np.testing.assert_allclose(cache.o[real], O[real], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache.weights[real], W[real], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cache.weights.sum(axis=2), 1.0, rtol=1e-12)
    assert np.all(cache.weights[:, ~x_mask.T] == 0)


def test_gradients_against_finite_differences_of_the_hand_loop():
    p, x, x_mask, lengths, y, y_mask, y_in = setup(1)
    cache = A.attention_forward(p, x, y_in, x_mask, y_mask)
    loss, grads = A.attention_backward(p, cache, y)
    assert set(grads) == set(p)
    assert loss == pytest.approx(hand_loss(hand_attention(p, x, lengths, y_in)[0], y, y_mask), rel=1e-12)
    num = numerical_gradient(lambda q: hand_loss(hand_attention(q, x, lengths, y_in)[0], y, y_mask),
                             dict(p), eps=1e-6)
    for k in grads:
        rel = np.linalg.norm(grads[k] - num[k]) / (np.linalg.norm(grads[k]) + np.linalg.norm(num[k]))
        assert rel < TOL, (k, rel)
    errors = gradcheck(lambda q: A.attention_backward(q, A.attention_forward(q, x, y_in, x_mask, y_mask), y)[0],
                       p, grads)
    assert max(errors.values()) < TOL


def test_generation_is_teacher_forcing_on_its_own_output():
    p, x, x_mask, *_ = setup(2)
    ids, weights = A.attention_generate(p, x, bos=1, eos=2, max_len=6, x_mask=x_mask)
    # feed the generated tokens back as teacher forcing: the argmax must reproduce them
    cache = A.attention_forward(p, x, seq2seq.decoder_inputs(ids, 5, 1), x_mask)
    pred = cache.o.argmax(axis=2)
    for b in range(3):
        seq = list(ids[:, b])
        k = seq.index(2) + 1 if 2 in seq else 6
        np.testing.assert_array_equal(pred[:k, b], ids[:k, b])
        np.testing.assert_allclose(weights[:k, b], cache.weights[:k, b], rtol=1e-12)


def test_float32_and_init_matches_seq2seq():
    p = A.init_attention(3, 4, 5, seed=3, dtype=np.float32)
    q = seq2seq.init_encoder_decoder(3, 4, 5, seed=3, dtype=np.float32)
    assert all(np.array_equal(p[k], q[k]) for k in q)
    _, x, x_mask, _, y, y_mask, y_in = setup()
    cache = A.attention_forward(p, x, y_in, x_mask, y_mask)
    assert cache.o.dtype == cache.weights.dtype == np.float32
    _, grads = A.attention_backward(p, cache, y)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_digit_translation_and_decode_accuracy():
    src, tgt = A.make_digit_translation(30, (2, 5), seed=0)
    assert src.lengths.min() >= 2 and src.lengths.max() <= 5
    for s, t in zip(src.sentences, tgt.sentences):
        assert [data.ONES.index(w) for w in s] == [int(k) for k in t[:-1]] and t[-1] == data.EOS
    assert np.all(tgt.lengths == src.lengths + 1)
    tokens, exact = A.decode_accuracy(tgt.ids, tgt.ids, tgt.mask)
    assert tokens == exact == 1.0
    wrong = tgt.ids.copy()
    wrong[0, 0] = (wrong[0, 0] + 1) % 13
    tokens, exact = A.decode_accuracy(wrong, tgt.ids, tgt.mask)
    assert tokens == pytest.approx(1 - 1 / tgt.mask.sum()) and exact == pytest.approx(29 / 30)


def test_attention_holds_up_where_the_fixed_context_fails():
    """A small version of the chapter's measurement (seeded, a few seconds): trained on lengths
    1-6, at length 6 attention translates far better than the fixed-size context."""
    d, C = len(data.SOURCE_VOCAB), len(data.TARGET_VOCAB)
    bos, eos = 1, 2

    def batch(step):
        src, tgt = A.make_digit_translation(32, (1, 6), seed=step)
        return (data.one_hot(src.ids, d), src.mask, seq2seq.decoder_inputs(tgt.ids, C, bos)), tgt.ids, tgt.mask

    src, tgt = A.make_digit_translation(200, 6, seed=10 ** 6)
    x = data.one_hot(src.ids, d)
    fixed = seq2seq.init_encoder_decoder(d, 24, C, seed=0)
    train(fixed, batch, 300, Adam(lr=0.01), clip_norm=1.0, progress=False,
          forward=lambda q, i, h0=None, mask=None: seq2seq.encoder_decoder_forward(q, i[0], i[2], i[1], mask),
          backward=seq2seq.encoder_decoder_backward)
    att = A.init_attention(d, 24, C, seed=0)
    train(att, batch, 300, Adam(lr=0.01), clip_norm=1.0, progress=False,
          forward=lambda q, i, h0=None, mask=None: A.attention_forward(q, i[0], i[2], i[1], mask),
          backward=A.attention_backward)
    acc_fixed = A.decode_accuracy(seq2seq.encoder_decoder_generate(fixed, x, bos, eos, 9, src.mask),
                                  tgt.ids, tgt.mask)[0]
    acc_att = A.decode_accuracy(A.attention_generate(att, x, bos, eos, 9, src.mask)[0], tgt.ids, tgt.mask)[0]
    assert acc_att >= 0.9 and acc_fixed <= 0.6, (acc_att, acc_fixed)
