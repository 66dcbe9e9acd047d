"""Encoder-decoder (many to many, different lengths) and a decoder from a single vector (one to
many), taught in the chapter "Sequence modeling" (Deep Learning book ch. 10.2.4 and 10.4).

Encoder (reads the source x^(1..T_x), masks allowed; padded steps keep the state, so its last
state is the state after each sequence's last real step):

    h_e^(t) = tanh(b_e + W_e h_e^(t-1) + U_e x^(t)),   h_e^(0) = 0,   context C = h_e^(T_x)

Decoder (writes the target y^(1..T_y)); its input at step t is the previous token as a one-hot
vector, "<bos>" at t = 1:

    s^(0) = C                           (encoder-decoder)
    s^(0) = tanh(b_p + P v)             (one to many: decoder from a single vector v)
    s^(t) = tanh(b_d + W_d s^(t-1) + U_d onehot(y^(t-1)))
    o^(t) = c + V s^(t),   y_hat^(t) = softmax(o^(t)),   J = sum_t -log y_hat^(t)[y^(t)]  (mean over the batch)

Trained with teacher forcing (the true previous token is fed, :func:`decoder_inputs`); at test
time :func:`greedy_decode` feeds back the most probable token until "<eos>".

Params: encoder "We" (m, m), "Ue" (m, d), "be" (m,); decoder "Wd" (m, m), "Ud" (m, C), "bd" (m,),
"V" (C, m), "c" (C,); the vector decoder has "P" (m, f), "bp" (m,) instead of the encoder.
The dtype follows the parameters.

Every public function checks its arguments once and then calls the plain function of the same
name with a leading underscore (``_encode``, ``_decode``, ``_decoder_step``,
``_encoder_decoder_forward``, ...), whose body is the math; internal calls go to the plain
functions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    as_generator,
    check_allocation,
    check_cache,
    check_float_dtype,
    check_mask,
    check_params,
    check_positive_int,
    check_shape,
)
from .losses import _softmax
from .patterns import (
    RecurrenceCache,
    _check_id_matrix,
    _check_step_targets,
    _check_x,
    _normal,
    _recurrence_backward,
    _recurrence_forward,
)
from .rnn import _rnn_loss

__all__ = [
    "DECODER_PARAMS", "ENCODER_PARAMS", "VECTOR_PARAMS",
    "init_encoder_decoder", "init_vector_decoder", "decoder_inputs", "Seq2SeqCache",
    "encode", "encoder_decoder_forward", "encoder_decoder_backward",
    "vector_decoder_forward", "vector_decoder_backward",
    "greedy_decode", "encoder_decoder_generate", "vector_decoder_generate",
]

DECODER_PARAMS = ("Wd", "Ud", "bd", "V", "c")
ENCODER_PARAMS = ("We", "Ue", "be")
VECTOR_PARAMS = ("P", "bp")


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------
def _init_decoder(rng, m, C, dtype):
    return {
        "Wd": _normal(rng, (m, m), m, dtype),                  # (m, m)
        "Ud": _normal(rng, (m, C), 1, dtype),                  # (m, C) one-hot
        "bd": np.zeros(m, dtype=dtype),                        # (m,)
        "V": _normal(rng, (C, m), m, dtype),                   # (C, m)
        "c": np.zeros(C, dtype=dtype),                         # (C,)
    }


def _decoder_shapes(m, C):
    return [(m, m), (m, C), (m,), (C, m), (C,)]


def _init_encoder_decoder(d, m, C, rng, dtype):
    """Encoder We (m, m), Ue (m, d), be = 0; decoder Wd, Ud, bd, V, c.
    Arguments are checked by `init_encoder_decoder`."""
    params = {
        "We": _normal(rng, (m, m), m, dtype),                  # (m, m)
        "Ue": _normal(rng, (m, d), d, dtype),                  # (m, d)
        "be": np.zeros(m, dtype=dtype),                        # (m,)
    }
    params.update(_init_decoder(rng, m, C, dtype))
    return params


def init_encoder_decoder(d, m, C, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Parameters of an encoder-decoder: source inputs of size d, hidden size m, C target tokens.

    seed: None, a non-negative int or a np.random.Generator; dtype float64 or float32;
    max_bytes: the largest size of the parameters allowed (raise it for huge models).
    """
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    check_allocation(f"d={d}, m={m}, C={C}", [(m, m), (m, d), (m,)] + _decoder_shapes(m, C),
                     dtype, max_bytes)
    return _init_encoder_decoder(d, m, C, rng, dtype)


def _init_vector_decoder(f, m, C, rng, dtype):
    """P (m, f) ~ N(0, 1/f), bp = 0; decoder Wd, Ud, bd, V, c.
    Arguments are checked by `init_vector_decoder`."""
    params = {"P": _normal(rng, (m, f), f, dtype),             # (m, f)
              "bp": np.zeros(m, dtype=dtype)}                  # (m,)
    params.update(_init_decoder(rng, m, C, dtype))
    return params


def init_vector_decoder(f, m, C, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Parameters of a decoder from a single vector of size f (one to many).

    seed, dtype and max_bytes as :func:`init_encoder_decoder`.
    """
    f, m, C = (check_positive_int(k, v) for k, v in (("f", f), ("m", m), ("C", C)))
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    check_allocation(f"f={f}, m={m}, C={C}", [(m, f), (m,)] + _decoder_shapes(m, C), dtype,
                     max_bytes)
    return _init_vector_decoder(f, m, C, rng, dtype)


def _check_decoder_params(params, extra=()):
    """Validate the decoder's params and those in ``extra`` (ENCODER_PARAMS, VECTOR_PARAMS or
    nothing), once; return (dtype, d, m, C) with d the source (or vector) size, None without."""
    dtype = check_params(params, DECODER_PARAMS + tuple(extra))
    Wd = params["Wd"]
    if Wd.ndim != 2 or Wd.shape[0] != Wd.shape[1]:
        raise ValueError(f"params['Wd'] must be square (m, m), got shape {Wd.shape}")
    m = Wd.shape[0]
    check_shape("params['V']", params["V"], (None, m), f"(C, m) with m={m} from Wd")
    C = params["V"].shape[0]
    check_shape("params['Ud']", params["Ud"], (m, C), f"(m, C) = ({m}, {C}): one-hot target tokens")
    check_shape("params['bd']", params["bd"], (m,), f"(m,) with m={m}")
    check_shape("params['c']", params["c"], (C,), f"(C,) with C={C}")
    d = None
    if tuple(extra) == ENCODER_PARAMS:
        check_shape("params['We']", params["We"], (m, m), f"(m, m) with m={m} from Wd")
        check_shape("params['Ue']", params["Ue"], (m, None), f"(m, d) with m={m}")
        check_shape("params['be']", params["be"], (m,), f"(m,) with m={m}")
        d = params["Ue"].shape[1]
    elif tuple(extra) == VECTOR_PARAMS:
        check_shape("params['P']", params["P"], (m, None), f"(m, f) with m={m}")
        check_shape("params['bp']", params["bp"], (m,), f"(m,) with m={m}")
        d = params["P"].shape[1]
    return dtype, d, m, C


def _check_token(name, value, C):
    """A token id in [0, C): an integer, not a bool or a float such as 1.5."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer token id (bos and eos are ids in [0, C) = "
                        f"[0, {C})), got {type(value).__name__} {value!r}")
    if not 0 <= value < C:
        raise ValueError(f"bos and eos must be token ids in [0, C) = [0, {C}), got {name}={value}")
    return int(value)


# ----------------------------------------------------------------------------------------------
# Teacher forcing's inputs
# ----------------------------------------------------------------------------------------------
def _decoder_inputs(y, C, bos, dtype):
    """onehot(<bos>) at t = 1, then onehot(y^(t-1)).
    Arguments are checked by `decoder_inputs`."""
    B = y.shape[1]
    first = np.full((1, B), bos)                               # (1, B) <bos>
    previous = np.concatenate([first, y[:-1]])                 # (T, B)
    return np.eye(C, dtype=dtype)[previous]                    # (T, B, C)


def decoder_inputs(y, C, bos, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Teacher forcing's decoder inputs: onehot("<bos>") at t = 1, then the targets shifted right.

    y (T, B) int target ids; bos the id of "<bos>". Returns (T, B, C). max_bytes: the largest
    result allowed.
    """
    C = check_positive_int("C", C)
    bos = _check_token("bos", bos, C)
    dtype = check_float_dtype(dtype)
    y = _check_id_matrix(y, C)
    check_allocation(f"y of shape {y.shape} and C={C}", y.shape + (C,), dtype, max_bytes)
    return _decoder_inputs(y, C, bos, dtype)


def _check_decoder_inputs(y_in, B, C, dtype, name="y_in"):
    y_in = as_float_array(name, y_in, dtype=dtype, ndim=3)               # (T, B, C)
    check_shape(name, y_in, (None, B, C), f"(T_y, B, C) with B={B}, C={C}")
    if y_in.shape[0] == 0:
        raise ValueError(f"{name} has zero time steps")
    return y_in


@dataclass
class Seq2SeqCache:
    """The forward record of an encoder-decoder or a vector decoder."""

    encoder: Optional[RecurrenceCache]   # encoder's record (None for the vector decoder)
    v: Optional[np.ndarray]              # (B, f) the vector (None for the encoder-decoder)
    decoder: RecurrenceCache             # decoder's record: h (T_y+1, B, m), h[0] = s^(0)
    o: np.ndarray                        # (T_y, B, C)
    y_hat: np.ndarray                    # (T_y, B, C)
    mask: Optional[np.ndarray]           # (T_y, B) target mask

    def __getitem__(self, key):
        return getattr(self, key)


# ----------------------------------------------------------------------------------------------
# Encoder and decoder
# ----------------------------------------------------------------------------------------------
def _encode(params, x, mask):
    """The encoder h_e^(t) = tanh(b_e + W_e h_e^(t-1) + U_e x^(t)) from
    h_e^(0) = 0; the context is h_e after each sequence's last real step.
    Arguments are checked by `encode`."""
    We, Ue, be = params["We"], params["Ue"], params["be"]
    B = x.shape[1]
    m = We.shape[0]
    h0 = np.zeros((B, m), dtype=We.dtype)                      # (B, m) h_e^(0)
    return _recurrence_forward(We, Ue, be, x, h0, mask, "tanh")  # h (T+1, B, m)


def _check_source(x, mask, dtype, d):
    x = _check_x(x, dtype, d, dims="(T_x, B, d)", source="params['Ue']")  # (T_x, B, d)
    T, B, _ = x.shape
    mask = check_mask(mask, T, B)
    if mask is not None and not mask.any(axis=0).all():
        raise ValueError("mask has a source sequence with no real step")
    return x, mask


def encode(params, x, mask=None):
    """The encoder alone: its RecurrenceCache; the context is cache.h[-1] (B, m)."""
    dtype, d, m, C = _check_decoder_params(params, ENCODER_PARAMS)
    x, mask = _check_source(x, mask, dtype, d)
    return _encode(params, x, mask)


def _decode(params, s0, y_in, mask):
    """The decoder under teacher forcing, s^(t) = tanh(b_d + W_d s^(t-1) +
    U_d onehot(y^(t-1))), o^(t) = c + V s^(t), from s^(0)."""
    Wd, Ud, bd = params["Wd"], params["Ud"], params["bd"]
    V, c = params["V"], params["c"]
    dec = _recurrence_forward(Wd, Ud, bd, y_in, s0, mask, "tanh")  # (T+1, B, m)
    o = dec.h[1:] @ V.T + c                                    # (T_y, B, C)
    return dec, o, _softmax(o)                       # y_hat (T_y, B, C)


def _encoder_decoder_forward(params, x, y_in, x_mask, y_mask):
    """Encode x, then decode from the context C = h_e^(T_x) with the inputs
    y_in. Arguments are checked by `encoder_decoder_forward`."""
    enc = _encode(params, x, x_mask)                           # h (T_x+1, B, m)
    context = enc.h[-1]                                        # (B, m) C
    dec, o, y_hat = _decode(params, context, y_in, y_mask)     # o (T_y, B, C)
    return Seq2SeqCache(enc, None, dec, o, y_hat, y_mask)


def encoder_decoder_forward(params, x, y_in, x_mask=None, y_mask=None):
    """Encode x (T_x, B, d), then decode from the context with inputs y_in (T_y, B, C)
    (teacher forcing: decoder_inputs(y, C, bos)). Returns a Seq2SeqCache."""
    dtype, d, m, C = _check_decoder_params(params, ENCODER_PARAMS)
    x, x_mask = _check_source(x, x_mask, dtype, d)                      # (T_x, B, d)
    B = x.shape[1]
    y_in = _check_decoder_inputs(y_in, B, C, dtype)                     # (T_y, B, C)
    y_mask = check_mask(y_mask, y_in.shape[0], B, name="y_mask")
    return _encoder_decoder_forward(params, x, y_in, x_mask, y_mask)


def _decoder_backward(params, cache, y):
    """BPTT through the decoder; returns (loss, grads, dJ/ds^(0))."""
    Wd, Ud, V = params["Wd"], params["Ud"], params["V"]
    loss, do = _rnn_loss(cache, y)                              # (T_y, B, C)
    s = cache.decoder.h[1:]                                    # (T_y, B, m)
    T, B, m = s.shape
    ds = do @ V                                                # (T_y, B, m)
    _, ds0, dec = _recurrence_backward(Wd, Ud, cache.decoder, ds)  # ds0 (B, m)
    grads = {"Wd": dec["W"], "Ud": dec["U"], "bd": dec["b"],
             "V": do.reshape(T * B, -1).T @ s.reshape(T * B, m),  # (C, m)
             "c": do.sum(axis=(0, 1))}                         # (C,)
    return loss, grads, ds0


def _check_seq2seq_cache(cache, kind, dtype, d, m, C):
    """A Seq2SeqCache of ``kind`` ("encoder" or "vector") made with params of these sizes."""
    made_by = "encoder_decoder_forward" if kind == "encoder" else "vector_decoder_forward"
    check_cache(cache, Seq2SeqCache, made_by)
    if kind == "encoder" and cache.encoder is None:
        raise TypeError("cache must be the Seq2SeqCache returned by encoder_decoder_forward "
                        "(this one comes from vector_decoder_forward)")
    if kind == "vector" and cache.v is None:
        raise TypeError("cache must be the Seq2SeqCache returned by vector_decoder_forward "
                        "(this one comes from encoder_decoder_forward)")
    check_cache(cache.decoder, RecurrenceCache, made_by, name="cache.decoder",
                shapes={"x": (None, None, C)})
    T, B, _ = cache.decoder.x.shape
    check_cache(cache.decoder, RecurrenceCache, made_by, name="cache.decoder", dtype=dtype,
                shapes={"h": (T + 1, B, m), "a": (T, B, m)})
    check_cache(cache, Seq2SeqCache, made_by, shapes={"o": (T, B, C), "y_hat": (T, B, C)},
                dtype=dtype)
    if kind == "encoder":
        check_cache(cache.encoder, RecurrenceCache, made_by, name="cache.encoder",
                    shapes={"x": (None, B, d)})
        T_x = cache.encoder.x.shape[0]
        check_cache(cache.encoder, RecurrenceCache, made_by, name="cache.encoder", dtype=dtype,
                    shapes={"h": (T_x + 1, B, m), "a": (T_x, B, m)})
    else:
        check_cache(cache, Seq2SeqCache, made_by, shapes={"v": (B, d)}, dtype=dtype)
    return T, B


def _encoder_decoder_backward(params, cache, y):
    """BPTT through the decoder gives dJ/dC, which enters the encoder at its
    last state. Arguments are checked by `encoder_decoder_backward`."""
    We, Ue = params["We"], params["Ue"]
    loss, grads, dcontext = _decoder_backward(params, cache, y)  # (B, m) dJ/dC
    enc = cache.encoder
    T_x, B, _ = enc.x.shape
    dh = np.zeros((T_x, B, We.shape[0]), dtype=We.dtype)       # (T_x, B, m)
    dh[-1] = dcontext                                          # dJ/dh_e^(T_x)
    _, _, enc_grads = _recurrence_backward(We, Ue, enc, dh)    # BPTT
    grads.update(We=enc_grads["W"], Ue=enc_grads["U"], be=enc_grads["b"])
    return loss, grads


def encoder_decoder_backward(params, cache, y):
    """Loss and gradients: BPTT through the decoder gives dJ/dC, which enters the encoder at its
    last state and runs BPTT back through the source. y (T_y, B) int target ids.
    Returns (loss, grads) keyed like params."""
    dtype, d, m, C = _check_decoder_params(params, ENCODER_PARAMS)
    T, B = _check_seq2seq_cache(cache, "encoder", dtype, d, m, C)
    y = _check_step_targets(y, T, B, C, cache.mask)                      # (T_y, B)
    return _encoder_decoder_backward(params, cache, y)


def _vector_decoder_forward(params, v, y_in, y_mask):
    """s^(0) = tanh(b_p + P v), then the decoder with the inputs y_in.
    Arguments are checked by `vector_decoder_forward`."""
    P, bp = params["P"], params["bp"]
    s0 = np.tanh(bp + v @ P.T)                                 # (B, m) s^(0)
    dec, o, y_hat = _decode(params, s0, y_in, y_mask)          # o (T_y, B, C)
    return Seq2SeqCache(None, v, dec, o, y_hat, y_mask)


def _check_vector(v, dtype, f):
    v = as_float_array("v", v, dtype=dtype, ndim=2)                      # (B, f)
    check_shape("v", v, (None, f), f"(B, f) with f={f} from params['P']")
    if v.shape[0] == 0:
        raise ValueError(f"v is empty (shape {v.shape}); it needs at least one vector (B >= 1)")
    return v


def vector_decoder_forward(params, v, y_in, y_mask=None):
    """Decode from a single vector v (B, f): s^(0) = tanh(b_p + P v), then the decoder with
    inputs y_in (T_y, B, C). Returns a Seq2SeqCache."""
    dtype, f, m, C = _check_decoder_params(params, VECTOR_PARAMS)
    v = _check_vector(v, dtype, f)                                       # (B, f)
    B = v.shape[0]
    y_in = _check_decoder_inputs(y_in, B, C, dtype)                     # (T_y, B, C)
    y_mask = check_mask(y_mask, y_in.shape[0], B, name="y_mask")
    return _vector_decoder_forward(params, v, y_in, y_mask)


def _vector_decoder_backward(params, cache, y):
    """The decoder's BPTT; dJ/ds^(0) flows into P and b_p.
    Arguments are checked by `vector_decoder_backward`."""
    loss, grads, ds0 = _decoder_backward(params, cache, y)     # ds0 (B, m)
    s0 = cache.decoder.h[0]                                    # (B, m)
    dp = ds0 * (1 - s0 * s0)                                   # (B, m)
    grads["P"] = dp.T @ cache.v                                # (m, f)
    grads["bp"] = dp.sum(axis=0)                               # (m,)
    return loss, grads


def vector_decoder_backward(params, cache, y):
    """Loss and gradients of the vector decoder; dJ/ds^(0) flows into P and b_p."""
    dtype, f, m, C = _check_decoder_params(params, VECTOR_PARAMS)
    T, B = _check_seq2seq_cache(cache, "vector", dtype, f, m, C)
    y = _check_step_targets(y, T, B, C, cache.mask)                      # (T_y, B)
    return _vector_decoder_backward(params, cache, y)


# ----------------------------------------------------------------------------------------------
# Greedy decoding
# ----------------------------------------------------------------------------------------------
def _decoder_step(params, s_prev, token_prev):
    """One decoder step fed the previous tokens: s^(t) = tanh(b_d + W_d
    s^(t-1) + U_d onehot(y^(t-1))), o^(t) = c + V s^(t)."""
    Wd, Ud, bd = params["Wd"], params["Ud"], params["bd"]
    V, c = params["V"], params["c"]
    Ud_y = Ud[:, token_prev].T                                 # (B, m) U_d y
    s = np.tanh(bd + s_prev @ Wd.T + Ud_y)                     # (B, m) s^(t)
    o = c + s @ V.T                                            # (B, C) o^(t)
    return s, o


def _greedy_decode(params, s0, bos, eos, max_len):
    """Feed back the most probable token from state s0 (B, m) until <eos>;
    ids after a sequence's <eos> are 0. Arguments are checked by
    `greedy_decode`."""
    B = s0.shape[0]
    s = s0                                                     # (B, m) s^(0)
    previous = np.full(B, bos)                                 # (B,) <bos>
    done = np.zeros(B, dtype=bool)                             # (B,)
    ids = np.zeros((max_len, B), dtype=np.int64)               # (max_len, B)
    for t in range(max_len):
        s, o = _decoder_step(params, s, previous)              # (B, m), (B, C)
        token = o.argmax(axis=1)                               # (B,)
        ids[t] = np.where(done, 0, token)                      # (B,)
        done |= token == eos                                   # (B,)
        previous = token                                       # (B,)
        if done.all():
            break
    return ids


def _check_generation(C, bos, eos, max_len, B, max_bytes):
    bos = _check_token("bos", bos, C)
    eos = _check_token("eos", eos, C)
    max_len = check_positive_int("max_len", max_len)
    check_allocation(f"max_len={max_len}, B={B}", (max_len, B), np.int64, max_bytes)
    return bos, eos, max_len


def greedy_decode(params, s0, bos, eos, max_len, max_bytes=DEFAULT_MAX_BYTES):
    """Generate from decoder state s0, feeding back the most probable token each step.

    s0: (B, m) for a batch of B sequences, or (m,) for one sequence.
    Returns ids (max_len, B) int ((max_len,) for s0 of shape (m,)); after a sequence's "<eos>"
    its entries are 0 (padding). Only the decoder's params (Wd, Ud, bd, V, c) are needed.
    """
    dtype, _, m, C = _check_decoder_params(params)
    s0 = as_float_array("s0", s0, dtype=dtype, ndim=(1, 2))
    single = s0.ndim == 1
    if single:
        check_shape("s0", s0, (m,), f"(m,) with m={m} from params['Wd'] (one sequence)")
        s0 = s0[None, :]                                                 # (1, m)
    check_shape("s0", s0, (None, m), f"(B, m) with m={m} from params['Wd']")
    if s0.shape[0] == 0:
        raise ValueError(f"s0 is empty (shape {s0.shape}); it needs at least one state (B >= 1)")
    bos, eos, max_len = _check_generation(C, bos, eos, max_len, s0.shape[0], max_bytes)
    ids = _greedy_decode(params, s0, bos, eos, max_len)
    return ids[:, 0] if single else ids


def _encoder_decoder_generate(params, x, bos, eos, max_len, x_mask):
    """Translate: encode x, then decode greedily from the context.
    Arguments are checked by `encoder_decoder_generate`."""
    enc = _encode(params, x, x_mask)                           # h (T_x+1, B, m)
    return _greedy_decode(params, enc.h[-1], bos, eos, max_len)  # (max_len, B)


def encoder_decoder_generate(params, x, bos, eos, max_len, x_mask=None,
                             max_bytes=DEFAULT_MAX_BYTES):
    """Translate: encode x (T_x, B, d), then greedy_decode from the context. Returns ids (max_len, B)."""
    dtype, d, m, C = _check_decoder_params(params, ENCODER_PARAMS)
    x, x_mask = _check_source(x, x_mask, dtype, d)                      # (T_x, B, d)
    bos, eos, max_len = _check_generation(C, bos, eos, max_len, x.shape[1], max_bytes)
    return _encoder_decoder_generate(params, x, bos, eos, max_len, x_mask)


def _vector_decoder_generate(params, v, bos, eos, max_len):
    """s^(0) = tanh(b_p + P v), then greedy decoding.
    Arguments are checked by `vector_decoder_generate`."""
    s0 = np.tanh(params["bp"] + v @ params["P"].T)             # (B, m)
    return _greedy_decode(params, s0, bos, eos, max_len)       # (max_len, B)


def vector_decoder_generate(params, v, bos, eos, max_len, max_bytes=DEFAULT_MAX_BYTES):
    """Describe each vector v (B, f) with a greedily decoded sequence. Returns ids (max_len, B)."""
    dtype, f, m, C = _check_decoder_params(params, VECTOR_PARAMS)
    v = _check_vector(v, dtype, f)                                       # (B, f)
    bos, eos, max_len = _check_generation(C, bos, eos, max_len, v.shape[0], max_bytes)
    return _vector_decoder_generate(params, v, bos, eos, max_len)
