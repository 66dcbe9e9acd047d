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
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._checks import as_float_array, check_mask, check_params, check_positive_int, check_shape
from .losses import softmax
from .patterns import RecurrenceCache, recurrence_backward, recurrence_forward
from .rnn import rnn_loss

DECODER_PARAMS = ("Wd", "Ud", "bd", "V", "c")
ENCODER_PARAMS = ("We", "Ue", "be")
VECTOR_PARAMS = ("P", "bp")


def _normal(rng, shape, fan_in, dtype):
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)


def _init_decoder(rng, m, C, dtype):
    return {
        "Wd": _normal(rng, (m, m), m, dtype),                            # (m, m)
        "Ud": _normal(rng, (m, C), 1, dtype),                            # (m, C) one-hot input
        "bd": np.zeros(m, dtype=dtype),                                  # (m,)
        "V": _normal(rng, (C, m), m, dtype),                             # (C, m)
        "c": np.zeros(C, dtype=dtype),                                   # (C,)
    }


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a float dtype such as float64 or float32, got {dtype}")
    return dtype


def init_encoder_decoder(d, m, C, seed=0, dtype=np.float64):
    """Parameters of an encoder-decoder: source inputs of size d, hidden size m, C target tokens."""
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    dtype = _check_dtype(dtype)
    rng = np.random.default_rng(seed)
    params = {
        "We": _normal(rng, (m, m), m, dtype),                            # (m, m)
        "Ue": _normal(rng, (m, d), d, dtype),                            # (m, d)
        "be": np.zeros(m, dtype=dtype),                                  # (m,)
    }
    params.update(_init_decoder(rng, m, C, dtype))
    return params


def init_vector_decoder(f, m, C, seed=0, dtype=np.float64):
    """Parameters of a decoder from a single vector of size f (one to many)."""
    f, m, C = (check_positive_int(k, v) for k, v in (("f", f), ("m", m), ("C", C)))
    dtype = _check_dtype(dtype)
    rng = np.random.default_rng(seed)
    params = {"P": _normal(rng, (m, f), f, dtype), "bp": np.zeros(m, dtype=dtype)}  # (m, f), (m,)
    params.update(_init_decoder(rng, m, C, dtype))
    return params


def _check_decoder_params(params, extra):
    dtype = check_params(params, DECODER_PARAMS + extra)
    Wd = params["Wd"]
    if Wd.ndim != 2 or Wd.shape[0] != Wd.shape[1]:
        raise ValueError(f"params['Wd'] must be square (m, m), got shape {Wd.shape}")
    m = Wd.shape[0]
    check_shape("params['V']", params["V"], (None, m), f"(C, m) with m={m} from Wd")
    C = params["V"].shape[0]
    check_shape("params['Ud']", params["Ud"], (m, C), f"(m, C) = ({m}, {C}): one-hot target tokens")
    check_shape("params['bd']", params["bd"], (m,), f"(m,) with m={m}")
    check_shape("params['c']", params["c"], (C,), f"(C,) with C={C}")
    if extra == ENCODER_PARAMS:
        check_shape("params['We']", params["We"], (m, m), f"(m, m) with m={m} from Wd")
        check_shape("params['Ue']", params["Ue"], (m, None), f"(m, d) with m={m}")
        check_shape("params['be']", params["be"], (m,), f"(m,) with m={m}")
        d = params["Ue"].shape[1]
    else:
        check_shape("params['P']", params["P"], (m, None), f"(m, f) with m={m}")
        check_shape("params['bp']", params["bp"], (m,), f"(m,) with m={m}")
        d = params["P"].shape[1]
    return dtype, d, m, C


def decoder_inputs(y, C, bos, dtype=np.float64):
    """Teacher forcing's decoder inputs: onehot("<bos>") at t = 1, then the targets shifted right.

    y (T, B) int target ids; bos the id of "<bos>". Returns (T, B, C).
    """
    C = check_positive_int("C", C)
    y = np.asarray(y)
    if y.ndim != 2 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be an integer array of shape (T, B), got dtype {y.dtype} shape {y.shape}")
    if not 0 <= bos < C or (y.size and (y.min() < 0 or y.max() >= C)):
        raise ValueError(f"y and bos must be token ids in [0, C) = [0, {C})")
    previous = np.concatenate([np.full((1, y.shape[1]), bos), y[:-1]])   # (T, B)
    return np.eye(C, dtype=dtype)[previous]                              # (T, B, C)


def _check_targets_in(y_in, T, B, C, dtype, name="y_in"):
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


def _decode(params, s0, y_in, mask):
    Wd, Ud, bd, V, c = (params[k] for k in DECODER_PARAMS)
    dec = recurrence_forward(Wd, Ud, bd, y_in, s0, mask)                 # h (T_y+1, B, m)
    o = dec.h[1:] @ V.T + c                                              # (T_y, B, C)
    return dec, o, softmax(o)


def encode(params, x, mask=None):
    """The encoder alone: its RecurrenceCache; the context is cache.h[-1] (B, m)."""
    dtype, d, m, C = _check_decoder_params(params, ENCODER_PARAMS)
    x = as_float_array("x", x, dtype=dtype, ndim=3)                      # (T_x, B, d)
    T, B, _ = x.shape
    if T == 0 or B == 0:
        raise ValueError(f"x must have at least one step and one example, got shape {x.shape}")
    check_shape("x", x, (T, B, d), f"(T_x, B, d) with d={d} from params['Ue']")
    mask = check_mask(mask, T, B)
    if mask is not None and not mask.any(axis=0).all():
        raise ValueError("mask has a source sequence with no real step")
    We, Ue, be = (params[k] for k in ENCODER_PARAMS)
    return recurrence_forward(We, Ue, be, x, np.zeros((B, m), dtype=dtype), mask)


def encoder_decoder_forward(params, x, y_in, x_mask=None, y_mask=None):
    """Encode x (T_x, B, d), then decode from the context with inputs y_in (T_y, B, C)
    (teacher forcing: decoder_inputs(y, C, bos)). Returns a Seq2SeqCache."""
    dtype, d, m, C = _check_decoder_params(params, ENCODER_PARAMS)
    enc = encode(params, x, x_mask)                                      # h (T_x+1, B, m)
    B = enc.h.shape[1]
    y_in = _check_targets_in(y_in, None, B, C, dtype)                    # (T_y, B, C)
    y_mask = check_mask(y_mask, y_in.shape[0], B, name="y_mask")
    context = enc.h[-1]                                                  # (B, m) state after the last real step
    dec, o, y_hat = _decode(params, context, y_in, y_mask)
    return Seq2SeqCache(enc, None, dec, o, y_hat, y_mask)


def _decoder_backward(params, cache, y):
    loss, do = rnn_loss(cache, y)                                        # do: (T_y, B, C)
    Wd, Ud, V = params["Wd"], params["Ud"], params["V"]
    s = cache.decoder.h[1:]                                              # (T_y, B, m)
    T, B, m = s.shape
    _, ds0, dec_grads = recurrence_backward(Wd, Ud, cache.decoder, do @ V)  # ds0: (B, m) dJ/ds^(0)
    grads = {"Wd": dec_grads["W"], "Ud": dec_grads["U"], "bd": dec_grads["b"],
             "V": do.reshape(T * B, -1).T @ s.reshape(T * B, m),         # (C, m)
             "c": do.sum(axis=(0, 1))}                                   # (C,)
    return loss, grads, ds0


def encoder_decoder_backward(params, cache, y):
    """Loss and gradients: BPTT through the decoder gives dJ/dC, which enters the encoder at its
    last state and runs BPTT back through the source. y (T_y, B) int target ids.
    Returns (loss, grads) keyed like params."""
    _check_decoder_params(params, ENCODER_PARAMS)
    if not isinstance(cache, Seq2SeqCache) or cache.encoder is None:
        raise TypeError("cache must be the Seq2SeqCache returned by encoder_decoder_forward")
    loss, grads, dcontext = _decoder_backward(params, cache, y)
    enc = cache.encoder
    T_x, B, _ = enc.x.shape
    dh = np.zeros((T_x, B, dcontext.shape[1]), dtype=dcontext.dtype)     # (T_x, B, m)
    dh[-1] = dcontext                                                    # dJ/dh_e^(T_x) = dJ/dC
    _, _, enc_grads = recurrence_backward(params["We"], params["Ue"], enc, dh)
    grads.update(We=enc_grads["W"], Ue=enc_grads["U"], be=enc_grads["b"])
    return loss, grads


def vector_decoder_forward(params, v, y_in, y_mask=None):
    """Decode from a single vector v (B, f): s^(0) = tanh(b_p + P v), then the decoder with
    inputs y_in (T_y, B, C). Returns a Seq2SeqCache."""
    dtype, f, m, C = _check_decoder_params(params, VECTOR_PARAMS)
    v = as_float_array("v", v, dtype=dtype, ndim=2)                      # (B, f)
    check_shape("v", v, (None, f), f"(B, f) with f={f} from params['P']")
    B = v.shape[0]
    y_in = _check_targets_in(y_in, None, B, C, dtype)                    # (T_y, B, C)
    y_mask = check_mask(y_mask, y_in.shape[0], B, name="y_mask")
    P, bp = params["P"], params["bp"]
    s0 = np.tanh(bp + v @ P.T)                                           # (B, m)
    dec, o, y_hat = _decode(params, s0, y_in, y_mask)
    return Seq2SeqCache(None, v, dec, o, y_hat, y_mask)


def vector_decoder_backward(params, cache, y):
    """Loss and gradients of the vector decoder; dJ/ds^(0) flows into P and b_p."""
    _check_decoder_params(params, VECTOR_PARAMS)
    if not isinstance(cache, Seq2SeqCache) or cache.v is None:
        raise TypeError("cache must be the Seq2SeqCache returned by vector_decoder_forward")
    loss, grads, ds0 = _decoder_backward(params, cache, y)
    s0 = cache.decoder.h[0]                                              # (B, m)
    dp = ds0 * (1 - s0 * s0)                                             # (B, m)
    grads["P"] = dp.T @ cache.v                                          # (m, f)
    grads["bp"] = dp.sum(axis=0)                                         # (m,)
    return loss, grads


def greedy_decode(params, s0, bos, eos, max_len):
    """Generate from decoder state s0 (B, m), feeding back the most probable token each step.

    Returns ids (max_len, B) int; after a sequence's "<eos>" its entries are 0 (padding).
    """
    _check_decoder_params(params, ENCODER_PARAMS if "We" in params else VECTOR_PARAMS)
    max_len = check_positive_int("max_len", max_len)
    Wd, Ud, bd, V, c = (params[k] for k in DECODER_PARAMS)
    C = V.shape[0]
    if not (0 <= bos < C and 0 <= eos < C):
        raise ValueError(f"bos and eos must be token ids in [0, C) = [0, {C})")
    s = np.array(s0, dtype=Wd.dtype)                                     # (B, m)
    B = s.shape[0]
    previous = np.full(B, bos)                                           # (B,)
    done = np.zeros(B, dtype=bool)                                       # (B,)
    ids = np.zeros((max_len, B), dtype=np.int64)                         # (max_len, B)
    for t in range(max_len):
        s = np.tanh(bd + s @ Wd.T + Ud[:, previous].T)                   # (B, m) Ud onehot = a column
        token = (c + s @ V.T).argmax(axis=1)                             # (B,)
        ids[t] = np.where(done, 0, token)
        done |= token == eos
        previous = token
        if done.all():
            break
    return ids


def encoder_decoder_generate(params, x, bos, eos, max_len, x_mask=None):
    """Translate: encode x (T_x, B, d), then greedy_decode from the context. Returns ids (max_len, B)."""
    enc = encode(params, x, x_mask)
    return greedy_decode(params, enc.h[-1], bos, eos, max_len)


def vector_decoder_generate(params, v, bos, eos, max_len):
    """Describe each vector v (B, f) with a greedily decoded sequence. Returns ids (max_len, B)."""
    dtype, f, m, C = _check_decoder_params(params, VECTOR_PARAMS)
    v = as_float_array("v", v, dtype=dtype, ndim=2)                      # (B, f)
    check_shape("v", v, (None, f), f"(B, f) with f={f} from params['P']")
    s0 = np.tanh(params["bp"] + v @ params["P"].T)                       # (B, m)
    return greedy_decode(params, s0, bos, eos, max_len)
