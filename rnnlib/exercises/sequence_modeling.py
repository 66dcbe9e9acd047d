"""Checkers for the exercises of the chapter "Sequence modeling".

* ``seqmod-pad-batch``: pad sentences of different lengths into time-major ids (T, B) and a mask.
* ``seqmod-bag-of-words``: count each sentence's words, ignoring the padding (the baseline that
  forgets word order).
* ``seqmod-year-position``: read the year's position off per-step probabilities, among real steps.
* ``seqmod-greedy-caption``: greedy decoding from a single vector (one to many).
* ``seqmod-four-needs`` (written): which of the four needs each application uses.

Each checker compares the answer with the reference implementation in rnnlib on several cases
and recognises the usual mistakes.
"""
from __future__ import annotations

import numpy as np

from .. import data as _data
from .. import seq2seq as _s2s
from . import Mistake, call, compare, describe, exercise, first_match, register

CHAPTER = "sequence_modeling"


# ----------------------------------------------------------------------------------------------
# Padding a batch
# ----------------------------------------------------------------------------------------------
_PAD_CASES = (
    [["the", "film", "was", "good"], ["not", "bad"], ["good"]],
    [["a"], ["a", "b", "a"]],
    [["b", "a"]],
)
_PAD_VOCAB = ["<pad>", "the", "film", "was", "good", "not", "bad", "a", "b"]


@exercise("seqmod-pad-batch", chapter=CHAPTER, points=1, answer_name="pad_batch",
          title="Pad a batch of sentences")
def check_pad_batch(answer):
    """answer(sentences, vocab) -> (ids (T, B) int, mask (T, B) bool)."""
    for sentences in _PAD_CASES:
        ids_ref, mask_ref, _ = _data.encode(sentences, _PAD_VOCAB)
        context = f"{len(sentences)} sentences of lengths {[len(s) for s in sentences]}"
        result = call(answer, [list(s) for s in sentences], list(_PAD_VOCAB), context=context)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Mistake(f"pad_batch should return a pair (ids, mask), got {describe(result)}")
        ids, mask = (np.asarray(r) for r in result)
        if ids.shape == ids_ref.T.shape and ids.shape != ids_ref.shape:
            raise Mistake(f"your ids have shape {ids.shape} ({context}): that is batch-major (B, T). "
                          f"rnnlib is time-major: ids[t, b] is word t of sentence b, shape (T, B) = {ids_ref.shape}.")
        if ids.shape == ids_ref.shape and not np.array_equal(ids, ids_ref):
            front = np.zeros_like(ids_ref)
            for b, s in enumerate(sentences):
                front[ids_ref.shape[0] - len(s):, b] = ids_ref[:len(s), b]
            if np.array_equal(ids, front):
                raise Mistake("you padded at the front: put the words first and the padding (id 0) at "
                              "the end, so step t of every sentence is its t-th word and the mask is a prefix.")
        compare(ids, ids_ref, name="your ids", context=context, check_dtype=False)
        if mask.dtype != bool:
            raise Mistake(f"your mask has dtype {mask.dtype}; make it bool (True at real steps), "
                          "e.g. `mask = ids != 0` or a comparison of positions with lengths.")
        if mask.shape == mask_ref.shape and np.array_equal(mask, ~mask_ref):
            raise Mistake("your mask is inverted: it must be True at real words and False at padding.")
        compare(mask, mask_ref, name="your mask", context=context, check_dtype=False)


# ----------------------------------------------------------------------------------------------
# Bag of words
# ----------------------------------------------------------------------------------------------
def bag_of_words_reference(ids, mask, V):
    """counts (B, V): how often each word id occurs in each sentence's real steps."""
    T, B = ids.shape
    counts = np.zeros((B, V))                                            # (B, V)
    np.add.at(counts, (np.broadcast_to(np.arange(B), (T, B))[mask], ids[mask]), 1)
    return counts


@exercise("seqmod-bag-of-words", chapter=CHAPTER, points=1, answer_name="bag_of_words",
          title="A bag of words")
def check_bag_of_words(answer):
    """answer(ids (T, B), mask (T, B), V) -> counts (B, V)."""
    repeated = _data.encode([["good", "good", "not", "good"], ["bad", "bad"], ["the", "film"]],
                            _data._sentiment_vocab())                    # words that repeat
    cases = [(d.ids, d.mask, len(d.vocab)) for d in
             (_data.make_sentiment(n, seed=seed) for n, seed in ((6, 0), (1, 1), (20, 2)))]
    for ids, mask, V in [(repeated[0], repeated[1], len(_data._sentiment_vocab()))] + cases:
        n = ids.shape[1]
        expected = bag_of_words_reference(ids, mask, V)
        context = f"B={n}, V={V}"
        counts = call(answer, ids.copy(), mask.copy(), V, context=context)
        counts = np.asarray(counts, dtype=np.float64) if isinstance(counts, np.ndarray) else counts
        if isinstance(counts, np.ndarray) and counts.shape == expected.shape and not np.allclose(counts, expected):
            with_pad = expected.copy()
            with_pad[:, 0] += (~mask).sum(axis=0)
            known = first_match(counts, [
                ("you counted the padding: id 0 fills the steps where mask is False; count only "
                 "real steps (use the mask).", with_pad),
                ("you recorded whether a word occurs (0 or 1), not how often: a bag of words counts "
                 "repeated words ('very very good').", (expected > 0).astype(float)),
                ("you normalised the counts; this exercise asks for raw counts.",
                 expected / np.maximum(expected.sum(axis=1, keepdims=True), 1)),
            ])
            if known:
                raise Mistake(f"Your counts are wrong ({context}): {known}")
        if isinstance(counts, np.ndarray) and counts.shape == expected.T.shape and n > 1:
            raise Mistake(f"your counts have shape {counts.shape}: one row per sentence, one column per "
                          f"word, so (B, V) = {expected.shape}.")
        compare(counts, expected, name="your counts", context=context, check_dtype=False)


# ----------------------------------------------------------------------------------------------
# The year's position
# ----------------------------------------------------------------------------------------------
def year_position_reference(p_year, mask):
    """(B,) int: the real step with the largest probability of being the year."""
    return np.where(mask, p_year, -np.inf).argmax(axis=0)


@exercise("seqmod-year-position", chapter=CHAPTER, points=1, answer_name="year_position",
          title="Where is the year?")
def check_year_position(answer):
    """answer(p_year (T, B), mask (T, B)) -> (B,) int positions."""
    rng = np.random.default_rng(0)
    for T, lengths in ((6, [6, 3, 4, 1]), (4, [2]), (9, [9, 5, 7])):
        B = len(lengths)
        mask = np.arange(T)[:, None] < np.array(lengths)[None, :]           # (T, B)
        p_year = rng.uniform(0, 0.5, (T, B))                               # (T, B)
        p_year[~mask] = 0.9 + 0.05 * rng.uniform(size=(~mask).sum())       # padding looks attractive
        for b, n in enumerate(lengths):
            p_year[rng.integers(n), b] = 0.8                               # the year: below the padding
        expected = year_position_reference(p_year, mask)
        context = f"T={T}, lengths {lengths}"
        got = call(answer, p_year.copy(), mask.copy(), context=context)
        got = np.asarray(got)
        if got.shape == expected.shape and not np.array_equal(got, expected):
            if np.array_equal(got, p_year.argmax(axis=0)):
                raise Mistake(f"({context}) a padded step won: take the argmax over real steps only, "
                              "e.g. set the padded entries to -inf first (np.where(mask, p_year, -np.inf)).")
        if got.shape == (T,) and B != T:
            raise Mistake(f"your answer has shape {got.shape}, one entry per step; it should have one "
                          f"per sentence, shape ({B},): take the argmax over axis 0 (time).")
        compare(got, expected, name="your positions", context=context, check_dtype=False)
        if not np.issubdtype(got.dtype, np.integer):
            raise Mistake(f"positions should be integers, got dtype {got.dtype}")


# ----------------------------------------------------------------------------------------------
# Greedy captioning
# ----------------------------------------------------------------------------------------------
@exercise("seqmod-greedy-caption", chapter=CHAPTER, points=2, answer_name="greedy_caption",
          title="Greedy decoding from a vector")
def check_greedy_caption(answer):
    """answer(params, v, bos, eos, max_len) -> ids (max_len, B), 0 after each sequence's eos."""
    for f, m, C, B, seed in ((5, 4, 6, 7, 0), (3, 6, 4, 1, 1), (8, 5, 5, 12, 2)):
        params = _s2s.init_vector_decoder(f, m, C, seed=seed)
        rng = np.random.default_rng(seed)
        params["Ud"] *= 3.0
        params["c"][:] = rng.standard_normal(C)
        v = rng.standard_normal((B, f))
        bos, eos, max_len = 0, 1, 6
        expected = _s2s.vector_decoder_generate(params, v, bos, eos, max_len)    # (<= max_len, B)
        full = np.zeros((max_len, B), dtype=np.int64)
        full[:expected.shape[0]] = expected
        context = f"f={f}, m={m}, C={C}, B={B}, max_len={max_len}"
        got = call(answer, {k: p.copy() for k, p in params.items()}, v.copy(), bos, eos, max_len, context=context)
        got = np.asarray(got)
        if got.shape == (B, max_len) and B != max_len:
            raise Mistake(f"your ids have shape {got.shape}; return them time-major, (max_len, B).")
        if got.shape == full.shape and not np.array_equal(got, full):
            s0 = np.tanh(params["bp"] + v @ params["P"].T)
            s, no_feedback = s0, []
            for _ in range(max_len):
                s = np.tanh(params["bd"] + s @ params["Wd"].T + params["Ud"][:, bos])
                no_feedback.append((params["c"] + s @ params["V"].T).argmax(axis=1))
            no_feedback = np.array(no_feedback)
            if np.array_equal(got, no_feedback):
                raise Mistake("you fed <bos> at every step: feed back the token you just chose, so the "
                              "next step knows what has been said.")
            finished = np.zeros((max_len, B), dtype=bool)
            nonstop = []
            s, previous = s0, np.full(B, bos)
            for t in range(max_len):
                s = np.tanh(params["bd"] + s @ params["Wd"].T + params["Ud"][:, previous].T)
                previous = (params["c"] + s @ params["V"].T).argmax(axis=1)
                nonstop.append(previous)
            if np.array_equal(got, np.array(nonstop)):
                raise Mistake("you kept generating after <eos>: once a sequence has produced <eos>, its "
                              "remaining entries must be 0 (padding).")
        compare(got, full, name="your ids", context=context, check_dtype=False)


register("seqmod-four-needs", chapter=CHAPTER, points=1, kind="written",
         title="The four needs in each application")
