"""Beam search for the decoders of ``rnnlib.seq2seq`` (the translator and the captioner).

Taught in the chapter "Sequence modeling" (section "Beam search", after greedy decoding; d2l.ai
10.8). Greedy decoding feeds back the most probable token at each step, which need not give the
most probable sequence: a likely first token can lead only to unlikely continuations. Beam search
keeps the ``width`` best partial sequences (the beam) by their log-probability

    log p(y^(1..t) | s^(0)) = sum_{k <= t} log y_hat^(k)[y^(k)]

and at every step extends each by every token, keeping the ``width`` best of the
width * C candidates. A sequence that has written "<eos>" is finished: it stays in the beam with
its score unchanged (it competes with the live ones) and is not extended. The search stops when
every sequence in the beam is finished, or after ``max_len`` tokens.

* Width 1 is greedy decoding, exactly (the same ids as ``seq2seq.greedy_decode``; a test).
* Cost: each step runs the decoder once per live beam, so about width x length decoder steps per
  sequence instead of length (``BeamResult.decoder_steps`` counts them).
* Length normalisation (option): log-probabilities only fall as a sequence grows, so beam search
  favours short outputs. With ``length_penalty`` alpha > 0 the final choice among the beam's
  sequences is by log p / length^alpha (length counts "<eos>"); alpha = 0 (default) is the plain
  log-probability. Pruning during the search always uses the plain log-probability.

:func:`beam_search` decodes from given decoder states s^(0); :func:`encoder_decoder_beam_search`
translates (encode, then beam search from the context); :func:`vector_decoder_beam_search`
captions; :func:`sequence_logprob` scores any given sequence under the decoder (to compare greedy
and beam outputs). Every public function checks its arguments once and calls the plain function
of the same name with a leading underscore.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    check_allocation,
    check_mask,
    check_number,
    check_positive_int,
    check_shape,
)
from .losses import _log_softmax
from .patterns import _check_x
from .seq2seq import (
    ENCODER_PARAMS,
    VECTOR_PARAMS,
    _check_decoder_params,
    _check_token,
    _check_vector,
    _decoder_step,
    _encode,
)

__all__ = ["BeamResult", "beam_search", "encoder_decoder_beam_search",
           "vector_decoder_beam_search", "sequence_logprob"]


def _check_source(x, x_mask, dtype, d):
    """x (T_x, B, d) and x_mask (T_x, B), every source sequence with a real step."""
    x = _check_x(x, dtype, d, dims="(T_x, B, d)", source="params['Ue']")   # (T_x, B, d)
    T, B, _ = x.shape
    x_mask = check_mask(x_mask, T, B, name="x_mask")
    if x_mask is not None and not x_mask.any(axis=0).all():
        raise ValueError("x_mask has a source sequence with no real step")
    return x, x_mask


class BeamResult(NamedTuple):
    """The best sequence of each example's beam."""

    ids: np.ndarray         # (max_len, B) int, 0 after "<eos>" (like greedy_decode)
    logprob: np.ndarray     # (B,) log p of the sequence, "<eos>" included
    score: np.ndarray       # (B,) what it was chosen by: logprob / length^alpha
    length: np.ndarray      # (B,) int, tokens written ("<eos>" included)
    decoder_steps: int      # decoder steps computed (one per beam per step)


def _beam_step(score, logp, width):
    """One step of beam search: the `width` best one-token extensions of each
    example's beam, ranked by summed log-probability.

    score (B, n): log p of the n sequences in the beam; logp (B, n, C): the
    log-probability of each next token after each sequence. A candidate is
    score[b, i] + logp[b, i, token]; returns (beam, token, new score), each
    (B, width), best first (ties: the lower beam, then the lower token).
    """
    B, n, C = logp.shape
    cand = (score[:, :, None] + logp).reshape(B, n * C)  # (B, n*C)
    top = np.argsort(-cand, axis=1, kind="stable")[:, :width]  # (B, k)
    beam, token = np.divmod(top, C)                      # (B, k) each
    return beam, token, np.take_along_axis(cand, top, axis=1)


def _beam_search(params, s0, bos, eos, max_len, width, length_penalty=0.0):
    """Keep the `width` most probable partial sequences of each example
    (arguments are checked by `beam_search`).

    Each step extends every live beam by every token, score + log y_hat[token],
    and keeps the `width` best candidates; a finished beam (it wrote <eos>)
    is one candidate with its score unchanged. s0 (B, m).
    """
    B, m = s0.shape
    C = params["V"].shape[0]
    stay = np.full(C, -np.inf)                           # (C,) finished beam:
    stay[0] = 0.0                                        # pad, score kept
    s = s0[:, None, :]                                   # (B, 1, m) one beam
    prev = np.full((B, 1), bos)                          # (B, 1) <bos>
    score = np.zeros((B, 1))                             # (B, 1) log p so far
    done = np.zeros((B, 1), dtype=bool)                  # (B, 1)
    length = np.zeros((B, 1), dtype=np.int64)            # (B, 1)
    ids = np.zeros((B, 1, max_len), dtype=np.int64)      # (B, 1, max_len)
    rows, steps = np.arange(B)[:, None], 0               # (B, 1)
    for t in range(max_len):
        n = s.shape[1]                                   # beams per example
        s_new, o = _decoder_step(params, s.reshape(B * n, m), prev.reshape(-1))
        steps += B * n
        logp = _log_softmax(o).reshape(B, n, C)          # (B, n, C)
        logp = np.where(done[:, :, None], stay, logp)    # finished: stay
        beam, token, score = _beam_step(score, logp, width)  # (B, k) each
        was_done = done[rows, beam]                      # (B, k)
        ids = ids[rows, beam]                            # (B, k, max_len)
        ids[:, :, t] = np.where(was_done, 0, token)      # (B, k)
        length = length[rows, beam] + ~was_done          # (B, k)
        done = was_done | (token == eos) | ~np.isfinite(score)  # (B, k)
        s = s_new.reshape(B, n, m)[rows, beam]           # (B, k, m)
        prev = token                                     # (B, k)
        if done.all():
            break
    final = score / np.maximum(length, 1) ** length_penalty  # (B, k)
    best = np.argmax(final, axis=1)                      # (B,)
    pick = np.arange(B), best
    return BeamResult(ids[pick].T.copy(), score[pick], final[pick],
                      length[pick], steps)


def _check_search(C, bos, eos, max_len, width, length_penalty, B, max_bytes):
    bos = _check_token("bos", bos, C)
    eos = _check_token("eos", eos, C)
    max_len = check_positive_int("max_len", max_len)
    width = check_positive_int("width", width)
    length_penalty = check_number("length_penalty", length_penalty, low=0)
    check_allocation(f"max_len={max_len}, width={width}, B={B}",
                     [(B, width, max_len)] * 2 + [(B, width * C)] * 4, np.float64, max_bytes)
    return bos, eos, max_len, width, length_penalty


def _check_states(s0, dtype, m):
    s0 = as_float_array("s0", s0, dtype=dtype, ndim=(1, 2))
    single = s0.ndim == 1
    if single:
        check_shape("s0", s0, (m,), f"(m,) with m={m} from params['Wd'] (one sequence)")
        s0 = s0[None, :]                                                  # (1, m)
    check_shape("s0", s0, (None, m), f"(B, m) with m={m} from params['Wd']")
    if s0.shape[0] == 0:
        raise ValueError(f"s0 is empty (shape {s0.shape}); it needs at least one state (B >= 1)")
    return s0, single


def _single(result):
    return BeamResult(result.ids[:, 0], result.logprob[0], result.score[0],
                      result.length[0], result.decoder_steps)


def beam_search(params, s0, bos, eos, max_len, width=3, length_penalty=0.0,
                max_bytes=DEFAULT_MAX_BYTES):
    """Decode from the decoder states s0 keeping the ``width`` most probable partial sequences.

    params: a decoder's Wd, Ud, bd, V, c (seq2seq's translator or captioner). s0: (B, m), or
    (m,) for one sequence. bos, eos: token ids in [0, C). max_len: at most this many tokens.
    width: beam width (1 is greedy decoding). length_penalty: alpha >= 0; the final choice is by
    log p / length^alpha (0: plain log p). Returns a BeamResult: ids (max_len, B) with 0 after
    "<eos>" (as greedy_decode), logprob, score and length (B,), and decoder_steps, the number of
    decoder steps computed (for one sequence: ids (max_len,) and scalars).
    """
    dtype, _, m, C = _check_decoder_params(params)
    s0, single = _check_states(s0, dtype, m)
    args = _check_search(C, bos, eos, max_len, width, length_penalty, s0.shape[0], max_bytes)
    result = _beam_search(params, s0, *args)
    return _single(result) if single else result


def _encoder_decoder_beam_search(params, x, x_mask, bos, eos, max_len, width,
                                 length_penalty):
    """Encode x, then beam search from the context C = h_e^(T_x).
    Arguments are checked by `encoder_decoder_beam_search`."""
    enc = _encode(params, x, x_mask)                     # h (T_x+1, B, m)
    return _beam_search(params, enc.h[-1], bos, eos, max_len, width,
                        length_penalty)


def encoder_decoder_beam_search(params, x, bos, eos, max_len, width=3, x_mask=None,
                                length_penalty=0.0, max_bytes=DEFAULT_MAX_BYTES):
    """Translate with beam search: encode x (T_x, B, d) (x_mask (T_x, B)), then
    :func:`beam_search` from the context. Returns a BeamResult."""
    dtype, d, m, C = _check_decoder_params(params, ENCODER_PARAMS)
    x, x_mask = _check_source(x, x_mask, dtype, d)                         # (T_x, B, d)
    args = _check_search(C, bos, eos, max_len, width, length_penalty, x.shape[1], max_bytes)
    return _encoder_decoder_beam_search(params, x, x_mask, *args)


def _vector_decoder_beam_search(params, v, bos, eos, max_len, width,
                                length_penalty):
    """s^(0) = tanh(b_p + P v), then beam search.
    Arguments are checked by `vector_decoder_beam_search`."""
    s0 = np.tanh(params["bp"] + v @ params["P"].T)       # (B, m)
    return _beam_search(params, s0, bos, eos, max_len, width, length_penalty)


def vector_decoder_beam_search(params, v, bos, eos, max_len, width=3, length_penalty=0.0,
                               max_bytes=DEFAULT_MAX_BYTES):
    """Caption each vector v (B, f) with beam search (the one-to-many decoder of seq2seq).
    Returns a BeamResult."""
    dtype, f, m, C = _check_decoder_params(params, VECTOR_PARAMS)
    v = _check_vector(v, dtype, f)                                         # (B, f)
    args = _check_search(C, bos, eos, max_len, width, length_penalty, v.shape[0], max_bytes)
    return _vector_decoder_beam_search(params, v, *args)


def _sequence_logprob(params, s0, ids, bos, eos):
    """log p(ids | s0) = sum_t log y_hat^(t)[y^(t)], feeding the given tokens,
    up to and including each sequence's first <eos>. Arguments are
    checked by `sequence_logprob`."""
    T, B = ids.shape
    s, prev = s0, np.full(B, bos)                        # (B, m), (B,)
    total = np.zeros(B)                                  # (B,)
    alive = np.ones(B, dtype=bool)                       # (B,) before <eos>
    for t in range(T):
        s, o = _decoder_step(params, s, prev)            # (B, m), (B, C)
        logp = _log_softmax(o)[np.arange(B), ids[t]]     # (B,)
        total += np.where(alive, logp, 0.0)              # (B,)
        alive &= ids[t] != eos                           # (B,)
        prev = ids[t]                                    # (B,)
    return total


def sequence_logprob(params, s0, ids, bos, eos):
    """The decoder's log-probability of given sequences, up to and including each one's first
    "<eos>" (what follows is ignored; a sequence without "<eos>" counts all its tokens).

    s0: (B, m) or (m,); ids: (T, B) int token ids in [0, C) ((T,) for one sequence), e.g.
    greedy_decode's or beam_search's output. Returns (B,) floats (a float for one sequence).
    """
    dtype, _, m, C = _check_decoder_params(params)
    s0, single = _check_states(s0, dtype, m)
    B = s0.shape[0]
    bos, eos = _check_token("bos", bos, C), _check_token("eos", eos, C)
    if isinstance(ids, (str, bytes, dict)) or ids is None:
        raise TypeError(f"ids must be an integer array (T, B), got {type(ids).__name__}")
    ids = np.asarray(ids)
    if ids.dtype == bool or not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"ids must hold integer token ids, got dtype {ids.dtype}")
    ids = ids[:, None] if single and ids.ndim == 1 else ids
    if ids.ndim != 2 or ids.shape[1] != B or ids.shape[0] == 0:
        raise ValueError(f"ids must have shape (T, B) with T >= 1 and B={B} from s0, got "
                         f"{ids.shape}")
    if ids.min() < 0 or ids.max() >= C:
        raise ValueError(f"ids must be token ids in [0, C) = [0, {C}), got values from "
                         f"{ids.min()} to {ids.max()}")
    total = _sequence_logprob(params, s0, ids, bos, eos)
    return float(total[0]) if single else total
