"""Attention over the encoder's states: the encoder-decoder without the fixed-size bottleneck.

Taught in the closing chapter "Where recurrence went" (section "Attention"), after the
encoder-decoder of "Sequence modeling" (``rnnlib.seq2seq``), whose decoder must squeeze the whole
source into one context vector C = h_e^(T_x). With attention the decoder looks at every encoder
state h_e^(j) at every step, weighted by how well it matches its own state. This module uses
**Luong's multiplicative ("general") score** (Luong, Pham and Manning 2015) without input
feeding, chosen because the decoder's recurrence stays exactly seq2seq's, and attention is one
layer on top of it:

    encoder   h_e^(j) = tanh(b_e + W_e h_e^(j-1) + U_e x^(j)),  j = 1..T_x
    decoder   s^(t) = tanh(b_d + W_d s^(t-1) + U_d onehot(y^(t-1))),  s^(0) = h_e^(T_x)
    score     e^(t, j) = s^(t)^T W_a h_e^(j)           (-inf at padded source steps)
    weights   a^(t, j) = softmax_j e^(t, j)            (sum_j a^(t, j) = 1)
    context   c^(t) = sum_j a^(t, j) h_e^(j)
    output    o^(t) = c + V s^(t) + V_a c^(t),   y_hat^(t) = softmax(o^(t))

Params: seq2seq's encoder-decoder keys (We, Ue, be, Wd, Ud, bd, V, c) plus "Wa" (m, m) and
"Va" (C, m). Backward: dJ/do gives dV, dV_a, ds = V^T do and dc = V_a^T do; then
da^(t, j) = dc^(t) . h_e^(j), the softmax's backward de = a * (da - sum_j a da),
ds += sum_j de W_a h_e^(j), dh_e^(j) = sum_t a^(t, j) dc^(t) + sum_t de^(t, j) W_a^T s^(t), and
BPTT through the decoder (whose dJ/ds^(0) joins dh_e^(T_x)) and the encoder.

The task :func:`make_digit_translation` is the translation task of "Sequence modeling" with
inputs of any length: a number read out digit by digit ("three one four" -> "3 1 4 <eos>"),
with seq2seq's vocabularies. :func:`decode_accuracy` scores generated ids against the targets.

The dtype follows the parameters. Every public function checks its arguments once and calls the
plain function of the same name with a leading underscore.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_generator,
    check_allocation,
    check_cache,
    check_float_dtype,
    check_mask,
    check_params,
    check_positive_int,
    check_shape,
)
from .data import EOS, ONES, SOURCE_VOCAB, TARGET_VOCAB, TokenData, _encode as _encode_tokens
from .losses import _softmax
from .patterns import RecurrenceCache, _check_step_targets, _check_x, _normal
from .patterns import _recurrence_backward, _recurrence_forward
from .rnn import _rnn_loss
from .seq2seq import (
    DECODER_PARAMS,
    ENCODER_PARAMS,
    _check_decoder_inputs,
    _check_decoder_params,
    _check_token,
    _encode,
    _init_encoder_decoder,
)

__all__ = ["ATTENTION_PARAMS", "init_attention", "AttentionCache", "attention_forward",
           "attention_backward", "attention_generate", "make_digit_translation",
           "decode_accuracy"]

ATTENTION_PARAMS = ENCODER_PARAMS + DECODER_PARAMS + ("Wa", "Va")


def _check_source(x, x_mask, dtype, d):
    """x (T_x, B, d) and x_mask (T_x, B), every source sequence with a real step."""
    x = _check_x(x, dtype, d, dims="(T_x, B, d)", source="params['Ue']")   # (T_x, B, d)
    T, B, _ = x.shape
    x_mask = check_mask(x_mask, T, B, name="x_mask")
    if x_mask is not None and not x_mask.any(axis=0).all():
        raise ValueError("x_mask has a source sequence with no real step")
    return x, x_mask


def _init_attention(d, m, C, rng, dtype):
    """seq2seq's encoder-decoder, plus W_a = I / sqrt(m) and V_a ~ N(0, 1/m).
    Arguments are checked by `init_attention`."""
    params = _init_encoder_decoder(d, m, C, rng, dtype)
    params["Wa"] = (np.eye(m) / np.sqrt(m)).astype(dtype)  # (m, m) score
    params["Va"] = _normal(rng, (C, m), m, dtype)          # (C, m) context out
    return params


def init_attention(d, m, C, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Parameters of the attention encoder-decoder: source inputs of size d, hidden size m,
    C target tokens. The keys of ``seq2seq.init_encoder_decoder`` (drawn the same way from the
    same seed) plus Wa (m, m), starting as I / sqrt(m) (a scaled dot product), and Va (C, m)."""
    d, m, C = (check_positive_int(k, v) for k, v in (("d", d), ("m", m), ("C", C)))
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    check_allocation(f"d={d}, m={m}, C={C}",
                     [(m, m), (m, d), (m,), (m, m), (m, C), (m,), (C, m), (C,), (m, m), (C, m)],
                     dtype, max_bytes)
    return _init_attention(d, m, C, rng, dtype)


def _check_attention_params(params):
    """Return (dtype, d, m, C)."""
    dtype, d, m, C = _check_decoder_params(params, ENCODER_PARAMS)
    check_params(params, ("Wa", "Va"))
    check_shape("params['Wa']", params["Wa"], (m, m), f"(m, m) with m={m} from Wd")
    check_shape("params['Va']", params["Va"], (C, m), f"(C, m) = ({C}, {m}) from V")
    if params["Wa"].dtype != dtype or params["Va"].dtype != dtype:
        raise TypeError(f"params mixes dtypes: Wa {params['Wa'].dtype}, Va "
                        f"{params['Va'].dtype}, the others {dtype}; use one float dtype")
    return dtype, d, m, C


@dataclass
class AttentionCache:
    """The forward record of the attention encoder-decoder."""

    encoder: RecurrenceCache        # h (T_x+1, B, m): the encoder states h_e
    decoder: RecurrenceCache        # h (T_y+1, B, m): s^(0..T_y)
    HWa: np.ndarray                 # (T_x, B, m) W_a h_e^(j)
    weights: np.ndarray             # (T_y, B, T_x) a^(t, j)
    context: np.ndarray             # (T_y, B, m) c^(t)
    o: np.ndarray                   # (T_y, B, C)
    y_hat: np.ndarray               # (T_y, B, C)
    mask: Optional[np.ndarray]      # (T_y, B) target mask
    x_mask: Optional[np.ndarray]    # (T_x, B) source mask

    def __getitem__(self, key):
        return getattr(self, key)


def _attend(s, H, HWa, x_mask):
    """Luong's general score and the context for decoder states s (T_y, B, m)
    over encoder states H (T_x, B, m), HWa = H W_a^T:

        e^(t, j) = s^(t) . W_a h_e^(j),   a^(t, .) = softmax_j e^(t, .)
        c^(t) = sum_j a^(t, j) h_e^(j)
    """
    e = np.einsum("tbm,jbm->tbj", s, HWa)                # (T_y, B, T_x)
    if x_mask is not None:
        e = np.where(x_mask.T[None], e, -np.inf)         # padded: weight 0
    weights = _softmax(e, axis=2)                        # (T_y, B, T_x)
    context = np.einsum("tbj,jbm->tbm", weights, H)      # (T_y, B, m)
    return weights, context


def _attention_forward(params, x, y_in, x_mask=None, y_mask=None):
    """Encode, decode with teacher forcing, attend, output (arguments are
    checked by `attention_forward`):

        s^(t) = tanh(b_d + W_d s^(t-1) + U_d y_in^(t)),  s^(0) = h_e^(T_x)
        o^(t) = c + V s^(t) + V_a c^(t)
    """
    Wd, Ud, bd, V, c = (params[k] for k in ("Wd", "Ud", "bd", "V", "c"))
    Wa, Va = params["Wa"], params["Va"]
    enc = _encode(params, x, x_mask)                     # h (T_x+1, B, m)
    H = enc.h[1:]                                        # (T_x, B, m)
    dec = _recurrence_forward(Wd, Ud, bd, y_in, enc.h[-1], y_mask, "tanh")
    s = dec.h[1:]                                        # (T_y, B, m)
    HWa = H @ Wa.T                                       # (T_x, B, m)
    weights, context = _attend(s, H, HWa, x_mask)        # (T_y, B, T_x)
    o = c + s @ V.T + context @ Va.T                     # (T_y, B, C)
    return AttentionCache(enc, dec, HWa, weights, context, o, _softmax(o),
                          y_mask, x_mask)


def attention_forward(params, x, y_in, x_mask=None, y_mask=None, max_bytes=DEFAULT_MAX_BYTES):
    """Encode x (T_x, B, d), then decode with teacher forcing (y_in (T_y, B, C), e.g.
    ``seq2seq.decoder_inputs(y, C, bos)``) attending over the encoder's states.
    x_mask (T_x, B): padded source steps get weight 0; y_mask (T_y, B): padded target steps
    add no loss. Returns an AttentionCache (weights (T_y, B, T_x), o, y_hat (T_y, B, C)).
    max_bytes: refuse (before allocating) a cache larger than this."""
    dtype, d, m, C = _check_attention_params(params)
    x, x_mask = _check_source(x, x_mask, dtype, d)                         # (T_x, B, d)
    T_x, B, _ = x.shape
    y_in = _check_decoder_inputs(y_in, B, C, dtype)                       # (T_y, B, C)
    T_y = y_in.shape[0]
    check_allocation(f"x of shape {x.shape}, y_in of shape {y_in.shape}",
                     [(T_y, B, T_x)] * 3 + [(T_x + 1, B, m)] * 3 + [(T_y + 1, B, m)] * 4,
                     dtype, max_bytes)
    y_mask = check_mask(y_mask, T_y, B, name="y_mask")
    return _attention_forward(params, x, y_in, x_mask, y_mask)


def _attention_backward(params, cache, y):
    """Loss and gradients (arguments are checked by `attention_backward`):
    the output layer, the softmax over source steps, the score, then BPTT
    through the decoder and the encoder (dJ/ds^(0) joins dh_e^(T_x))."""
    We, Ue, Wd, Ud = (params[k] for k in ("We", "Ue", "Wd", "Ud"))
    V, Wa, Va = params["V"], params["Wa"], params["Va"]
    H, s = cache.encoder.h[1:], cache.decoder.h[1:]      # (T_x|T_y, B, m)
    a, ctx, HWa = cache.weights, cache.context, cache.HWa
    loss, do = _rnn_loss(cache, y)                       # (T_y, B, C)
    T, B, C = do.shape
    m = s.shape[2]
    ds = do @ V                                          # (T_y, B, m)
    dctx = do @ Va                                       # (T_y, B, m)
    da = np.einsum("tbm,jbm->tbj", dctx, H)              # (T_y, B, T_x)
    de = a * (da - np.sum(a * da, axis=2, keepdims=True))  # softmax back
    ds += np.einsum("tbj,jbm->tbm", de, HWa)             # (T_y, B, m)
    dHWa = np.einsum("tbj,tbm->jbm", de, s)              # (T_x, B, m)
    dH = np.einsum("tbj,tbm->jbm", a, dctx) + dHWa @ Wa  # (T_x, B, m)
    _, ds0, dec = _recurrence_backward(Wd, Ud, cache.decoder, ds)  # (B, m)
    dH[-1] += ds0                                        # s^(0) = h_e^(T_x)
    _, _, enc = _recurrence_backward(We, Ue, cache.encoder, dH)
    flat = do.reshape(T * B, C)                          # (T_y*B, C)
    return loss, {
        "We": enc["W"], "Ue": enc["U"], "be": enc["b"],
        "Wd": dec["W"], "Ud": dec["U"], "bd": dec["b"],
        "V": flat.T @ s.reshape(T * B, m),               # (C, m)
        "c": flat.sum(axis=0),                           # (C,)
        "Wa": dHWa.reshape(-1, m).T @ H.reshape(-1, m),  # (m, m)
        "Va": flat.T @ ctx.reshape(T * B, m),            # (C, m)
    }


def attention_backward(params, cache, y):
    """Loss J = (1/B) sum_b sum_{real t} -log y_hat^(t)[y^(t)] and its gradients for every
    parameter (keyed like params). y: (T_y, B) int target ids."""
    dtype, d, m, C = _check_attention_params(params)
    check_cache(cache, AttentionCache, "attention_forward")
    check_cache(cache.encoder, RecurrenceCache, "attention_forward", name="cache.encoder",
                shapes={"x": (None, None, d), "h": (None, None, m)}, dtype=dtype)
    T_x, B, _ = cache.encoder.x.shape
    check_cache(cache.decoder, RecurrenceCache, "attention_forward", name="cache.decoder",
                shapes={"x": (None, B, C), "h": (None, B, m)}, dtype=dtype)
    T_y = cache.decoder.x.shape[0]
    check_cache(cache.encoder, RecurrenceCache, "attention_forward", name="cache.encoder",
                shapes={"h": (T_x + 1, B, m), "a": (T_x, B, m)})
    check_cache(cache.decoder, RecurrenceCache, "attention_forward", name="cache.decoder",
                shapes={"h": (T_y + 1, B, m), "a": (T_y, B, m)})
    check_cache(cache, AttentionCache, "attention_forward",
                {"HWa": (T_x, B, m), "weights": (T_y, B, T_x), "context": (T_y, B, m),
                 "o": (T_y, B, C), "y_hat": (T_y, B, C)}, dtype)
    y = _check_step_targets(y, T_y, B, C, cache.mask)                       # (T_y, B)
    return _attention_backward(params, cache, y)


def _attention_step(params, s_prev, token_prev, H, HWa, x_mask):
    """One decoder step fed the previous tokens, with attention: s^(t), o^(t)
    and the weights a^(t, .) (B, T_x)."""
    Wd, Ud, bd = params["Wd"], params["Ud"], params["bd"]
    V, c, Va = params["V"], params["c"], params["Va"]
    s = np.tanh(bd + s_prev @ Wd.T + Ud[:, token_prev].T)  # (B, m) s^(t)
    weights, context = _attend(s[None], H, HWa, x_mask)  # (1, B, T_x)
    o = c + s @ V.T + context[0] @ Va.T                  # (B, C) o^(t)
    return s, o, weights[0]


def _attention_generate(params, x, bos, eos, max_len, x_mask=None):
    """Greedy decoding with attention: feed back the most probable token until
    <eos> (ids after it are 0). Arguments are checked by
    `attention_generate`. Returns ids (max_len, B), weights (max_len, B, T_x).
    """
    enc = _encode(params, x, x_mask)                     # h (T_x+1, B, m)
    H = enc.h[1:]                                        # (T_x, B, m)
    HWa = H @ params["Wa"].T                             # (T_x, B, m)
    T_x, B, _ = H.shape
    s, previous = enc.h[-1], np.full(B, bos)             # (B, m), (B,)
    done = np.zeros(B, dtype=bool)                       # (B,)
    ids = np.zeros((max_len, B), dtype=np.int64)         # (max_len, B)
    weights = np.zeros((max_len, B, T_x))                # (max_len, B, T_x)
    for t in range(max_len):
        s, o, weights[t] = _attention_step(params, s, previous, H, HWa, x_mask)
        token = o.argmax(axis=1)                         # (B,)
        ids[t] = np.where(done, 0, token)                # (B,)
        done |= token == eos                             # (B,)
        previous = token                                 # (B,)
        if done.all():
            break
    return ids, weights


def attention_generate(params, x, bos, eos, max_len, x_mask=None,
                       max_bytes=DEFAULT_MAX_BYTES):
    """Translate with attention: encode x (T_x, B, d), then decode greedily. Returns
    (ids (max_len, B) with 0 after "<eos>", weights (max_len, B, T_x): where each output
    token looked, rows of zeros after the decoding stopped)."""
    dtype, d, m, C = _check_attention_params(params)
    x, x_mask = _check_source(x, x_mask, dtype, d)                         # (T_x, B, d)
    bos, eos = _check_token("bos", bos, C), _check_token("eos", eos, C)
    max_len = check_positive_int("max_len", max_len)
    T_x, B, _ = x.shape
    check_allocation(f"max_len={max_len}, x of shape {x.shape}", [(max_len, B, T_x)] * 2,
                     np.float64, max_bytes)
    return _attention_generate(params, x, bos, eos, max_len, x_mask)


# ----------------------------------------------------------------------------------------------
# The task: read a number out digit by digit, of any length
# ----------------------------------------------------------------------------------------------
def _make_digit_translation(n, low, high, rng):
    """Lengths uniform in [low, high], digits uniform; source: the digit
    words, target: the digits and <eos>.
    Arguments are checked by `make_digit_translation`."""
    lengths = rng.integers(low, high + 1, size=n)        # (n,)
    digits = [rng.integers(0, 10, size=k) for k in lengths]
    source = [[ONES[k] for k in ds] for ds in digits]    # "three one four"
    target = [[str(k) for k in ds] + [EOS] for ds in digits]  # "3 1 4 <eos>"
    src = _encode_tokens(source, SOURCE_VOCAB)           # ids, mask, lengths
    tgt = _encode_tokens(target, TARGET_VOCAB)
    extra = {"digits": digits}
    return (TokenData(source, SOURCE_VOCAB, *src, None, extra),
            TokenData(target, TARGET_VOCAB, *tgt, None, extra))


def make_digit_translation(n, lengths=(1, 8), seed=0, max_bytes=DEFAULT_MAX_BYTES):
    """The translation task of "Sequence modeling" with inputs of any length: a number read
    out digit by digit, "three one four" -> "3 1 4 <eos>" (seq2seq's SOURCE_VOCAB and
    TARGET_VOCAB). n: how many pairs; lengths: (low, high), the source lengths, uniform in
    [low, high] (an int L means exactly L). Returns (source, target) TokenData, padded at the end.
    """
    n = check_positive_int("n", n)
    if isinstance(lengths, (int, np.integer)) and not isinstance(lengths, (bool, np.bool_)):
        low = high = check_positive_int("lengths", int(lengths))
    else:
        if isinstance(lengths, (str, bytes)) or not hasattr(lengths, "__len__") or \
                len(lengths) != 2:
            raise TypeError(f"lengths must be an int or a pair (low, high), got {lengths!r}")
        low = check_positive_int("lengths", lengths[0])
        high = check_positive_int("lengths", lengths[1])
        if high < low:
            raise ValueError(f"lengths must be (low, high) with low <= high, got {lengths!r}")
    rng = as_generator(seed)
    check_allocation(f"n={n}, lengths up to {high}", [(high + 1, n)] * 4, np.int64, max_bytes)
    return _make_digit_translation(n, low, high, rng)


def _decode_accuracy(ids, y, y_mask):
    """Per-token accuracy over the real target steps and the fraction of
    sequences right at every real step.
    Arguments are checked by `decode_accuracy`."""
    right = ids == y                                     # (T_y, B)
    tokens = right[y_mask].mean()                        # over real steps
    exact = (right | ~y_mask).all(axis=0).mean()         # whole sequences
    return float(tokens), float(exact)


def decode_accuracy(ids, y, y_mask):
    """Score generated ids (T, B) (greedy or beam output) against targets y (T_y, B) with
    y_mask (T_y, B): returns (token accuracy over the real target steps, "<eos>" included;
    exact-match rate). Generated sequences are cut or padded with 0 to T_y steps."""
    for name, value in (("ids", ids), ("y", y)):
        if isinstance(value, (str, bytes, dict)) or value is None:
            raise TypeError(f"{name} must be an integer array (T, B), got {type(value).__name__}")
    ids, y = np.asarray(ids), np.asarray(y)
    for name, value in (("ids", ids), ("y", y)):
        if value.dtype == bool or not np.issubdtype(value.dtype, np.integer):
            raise TypeError(f"{name} must hold integer token ids, got dtype {value.dtype}")
        if value.ndim != 2 or 0 in value.shape:
            raise ValueError(f"{name} must have shape (T, B) with T, B >= 1, got {value.shape}")
    T_y, B = y.shape
    if ids.shape[1] != B:
        raise ValueError(f"ids must have B={B} columns (from y), got shape {ids.shape}")
    y_mask = check_mask(y_mask, T_y, B, name="y_mask")
    if y_mask is None or not y_mask.any(axis=0).all():
        raise ValueError("y_mask must mark at least one real step in every target sequence")
    fitted = np.zeros((T_y, B), dtype=np.int64)
    k = min(T_y, ids.shape[0])
    fitted[:k] = ids[:k]
    return _decode_accuracy(fitted, y, y_mask)
