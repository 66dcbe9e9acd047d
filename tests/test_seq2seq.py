"""Tests of rnnlib.seq2seq: encoder-decoder and vector decoder, gradient checks, teacher forcing,
greedy decoding."""
import numpy as np
import pytest

from rnnlib import gradcheck
from rnnlib import seq2seq as S

TOL = 1e-7


def ragged_mask(lengths, T):
    return np.arange(T)[:, None] < np.asarray(lengths)[None, :]


def with_biases(params, rng):
    for k in ("be", "bd", "bp", "c"):
        if k in params:
            params[k] = params[k] + 0.1 * rng.standard_normal(params[k].shape)
    return params


def test_decoder_inputs_shift_with_bos():
    y = np.array([[3, 4], [2, 2]])
    y_in = S.decoder_inputs(y, 5, bos=1)
    assert y_in.shape == (2, 2, 5)
    assert y_in[0].argmax(axis=1).tolist() == [1, 1]
    assert y_in[1].argmax(axis=1).tolist() == [3, 4]
    assert y_in.sum() == 4


def test_encoder_decoder_matches_a_hand_loop():
    rng = np.random.default_rng(0)
    p = with_biases(S.init_encoder_decoder(3, 4, 5, seed=1), rng)
    x, y = rng.standard_normal((3, 2, 3)), rng.integers(0, 5, (2, 2))
    x_mask = ragged_mask([3, 2], 3)
    cache = S.encoder_decoder_forward(p, x, S.decoder_inputs(y, 5, 1), x_mask)
    for b, n in enumerate([3, 2]):
        h = np.zeros(4)
        for t in range(n):
            h = np.tanh(p["be"] + p["We"] @ h + p["Ue"] @ x[t, b])
        s, prev = h, 1
        for t in range(2):
            s = np.tanh(p["bd"] + p["Wd"] @ s + p["Ud"] @ np.eye(5)[prev])
            assert np.allclose(cache.o[t, b], p["c"] + p["V"] @ s)
            prev = y[t, b]


@pytest.mark.parametrize("use_mask", [False, True])
def test_encoder_decoder_gradcheck(use_mask):
    rng = np.random.default_rng(1)
    p = with_biases(S.init_encoder_decoder(3, 4, 5, seed=2), rng)
    x, y = rng.standard_normal((4, 3, 3)), rng.integers(0, 5, (3, 3))
    x_mask = ragged_mask([4, 1, 3], 4) if use_mask else None
    y_mask = ragged_mask([3, 2, 1], 3) if use_mask else None
    y_in = S.decoder_inputs(y, 5, 0)
    f = lambda v: S.encoder_decoder_backward(v, S.encoder_decoder_forward(v, x, y_in, x_mask, y_mask), y)[0]
    loss, grads = S.encoder_decoder_backward(p, S.encoder_decoder_forward(p, x, y_in, x_mask, y_mask), y)
    assert set(grads) == set(p)
    errors = gradcheck(f, p, grads)
    assert max(errors.values()) < TOL, errors


def test_vector_decoder_gradcheck():
    rng = np.random.default_rng(2)
    p = with_biases(S.init_vector_decoder(6, 4, 5, seed=3), rng)
    v, y = rng.standard_normal((3, 6)), rng.integers(0, 5, (4, 3))
    y_mask = ragged_mask([4, 2, 3], 4)
    y_in = S.decoder_inputs(y, 5, 1)
    f = lambda q: S.vector_decoder_backward(q, S.vector_decoder_forward(q, v, y_in, y_mask), y)[0]
    loss, grads = S.vector_decoder_backward(p, S.vector_decoder_forward(p, v, y_in, y_mask), y)
    assert set(grads) == set(p)
    errors = gradcheck(f, p, grads)
    assert max(errors.values()) < TOL, errors


def test_padded_target_steps_add_nothing():
    rng = np.random.default_rng(3)
    p = S.init_vector_decoder(2, 3, 4, seed=0)
    v, y = rng.standard_normal((1, 2)), np.array([[2], [3], [1]])
    full = S.vector_decoder_backward(p, S.vector_decoder_forward(p, v, S.decoder_inputs(y[:2], 4, 0)), y[:2])[0]
    padded = S.vector_decoder_backward(p, S.vector_decoder_forward(p, v, S.decoder_inputs(y, 4, 0),
                                                                   ragged_mask([2], 3)), y)[0]
    assert np.isclose(full, padded)


def test_greedy_decode_follows_the_argmax_and_stops_at_eos():
    rng = np.random.default_rng(4)
    p = S.init_vector_decoder(3, 5, 4, seed=1)
    v = rng.standard_normal((6, 3))
    ids = S.vector_decoder_generate(p, v, bos=0, eos=3, max_len=7)
    assert ids.shape[1] == 6
    # reproduce by teacher forcing on the generated tokens: each token is the argmax
    for b in range(6):
        seq = []
        for token in ids[:, b]:
            seq.append(int(token))
            if token == 3 or token == 0:
                break
        if seq[-1] == 0:                                                  # never stopped: drop the pad
            seq = seq[:-1]
        y = np.array(seq)[:, None]
        cache = S.vector_decoder_forward(p, v[b:b + 1], S.decoder_inputs(y, 4, 0))
        assert cache.o[:, 0].argmax(axis=1).tolist() == seq
        assert (ids[len(seq):, b] == 0).all()


def test_greedy_decode_learns_a_copy_task():
    """Trained with teacher forcing, the encoder-decoder copies short digit strings."""
    from rnnlib import Adam
    rng = np.random.default_rng(5)
    C, bos, eos = 6, 0, 1                                                 # tokens 2..5 are symbols
    p = S.init_encoder_decoder(C, 24, C, seed=0)
    opt = Adam(lr=0.02)
    for step in range(400):
        seq = rng.integers(2, C, (2, 32))
        x = np.eye(C)[seq]
        y = np.concatenate([seq, np.full((1, 32), eos)])
        loss, grads = S.encoder_decoder_backward(p, S.encoder_decoder_forward(p, x, S.decoder_inputs(y, C, bos)), y)
        opt.step(p, grads)
    seq = rng.integers(2, C, (2, 50))
    out = S.encoder_decoder_generate(p, np.eye(C)[seq], bos, eos, max_len=4)
    assert (out[:2] == seq).all(axis=0).mean() > 0.9
    assert (out[2] == eos).mean() > 0.9


def test_float32():
    p = S.init_encoder_decoder(2, 3, 4, seed=0, dtype=np.float32)
    cache = S.encoder_decoder_forward(p, np.ones((2, 1, 2)), S.decoder_inputs(np.array([[2]]), 4, 0, dtype=np.float32))
    loss, grads = S.encoder_decoder_backward(p, cache, np.array([[2]]))
    assert cache.o.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())


def test_bad_input():
    p = S.init_encoder_decoder(2, 3, 4, seed=0)
    q = S.init_vector_decoder(5, 3, 4, seed=0)
    x, y_in = np.ones((2, 2, 2)), np.zeros((3, 2, 4))
    with pytest.raises(ValueError, match="x"):
        S.encoder_decoder_forward(p, np.ones((2, 2, 3)), y_in)
    with pytest.raises(ValueError, match="y_in"):
        S.encoder_decoder_forward(p, x, np.zeros((3, 2, 5)))
    with pytest.raises(ValueError, match="no real step"):
        S.encoder_decoder_forward(p, x, y_in, x_mask=np.array([[1, 0], [1, 0]], dtype=bool))
    with pytest.raises(KeyError):
        S.encoder_decoder_forward(q, x, y_in)
    with pytest.raises(ValueError, match="Ud"):
        S.encoder_decoder_forward(dict(p, Ud=np.ones((3, 5))), x, y_in)
    with pytest.raises(TypeError, match="cache"):
        S.encoder_decoder_backward(p, S.vector_decoder_forward(q, np.ones((2, 5)), y_in), np.zeros((3, 2), dtype=int))
    with pytest.raises(TypeError, match="cache"):
        S.vector_decoder_backward(q, S.encoder_decoder_forward(p, x, y_in), np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match="y"):
        S.encoder_decoder_backward(p, S.encoder_decoder_forward(p, x, y_in), np.full((3, 2), 9))
    with pytest.raises(ValueError, match="v"):
        S.vector_decoder_forward(q, np.ones((2, 4)), y_in)
    with pytest.raises(ValueError, match="bos"):
        S.decoder_inputs(np.zeros((2, 2), dtype=int), 4, bos=4)
    with pytest.raises(ValueError, match="y"):
        S.decoder_inputs(np.zeros((2, 2)), 4, bos=0)
    with pytest.raises(ValueError, match="bos"):
        S.vector_decoder_generate(q, np.ones((2, 5)), bos=0, eos=7, max_len=3)
    with pytest.raises(ValueError, match="max_len"):
        S.encoder_decoder_generate(p, x, 0, 1, max_len=0)
    with pytest.raises(TypeError):
        S.init_vector_decoder(2, 3, 4, dtype=np.int32)


def test_greedy_decode_takes_s0_of_shape_m_as_one_sequence():
    """Issue 18: s0 (m,) used to be read as a batch of m states."""
    p = S.init_encoder_decoder(2, 3, 4, seed=0)
    s0 = np.array([0.5, -0.2, 0.1])
    one = S.greedy_decode(p, s0, 1, 2, 5)
    assert one.shape == (5,)
    assert np.array_equal(one, S.greedy_decode(p, s0[None], 1, 2, 5)[:, 0])
    with pytest.raises(ValueError, match="s0"):
        S.greedy_decode(p, np.zeros(4), 1, 2, 5)
    with pytest.raises(TypeError, match="bos"):
        S.greedy_decode(p, s0, 1.5, 2, 5)
