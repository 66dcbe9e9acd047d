"""Checkers for the exercises of the chapter "Sequence modeling".

* ``seqmod-pad-batch``: pad sentences of different lengths into time-major ids (T, B) and a mask.
* ``seqmod-bag-of-words``: count each sentence's words, ignoring the padding (the baseline that
  forgets word order).
* ``seqmod-year-position``: read the year's position off per-step probabilities, among real steps.
* ``seqmod-greedy-caption``: greedy decoding from a single vector (one to many).
* ``seqmod-beam-step``: one step of beam search, the top-k extensions by summed log-probability.
* ``seqmod-four-needs`` (written): which of the four needs each application uses.

Each checker compares the answer with the reference implementation in rnnlib on fixed and fresh
random cases and recognises the usual mistakes.
"""
from __future__ import annotations

import numpy as np

from .. import beam_search as _bs
from .. import data as _data
from .. import seq2seq as _s2s
from . import Case, Checker, Mistake, as_array, compare, describe, exercise, first_match, is_sequence, register
from ._common import seed as _seed

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


def _pad_context(sentences):
    return f"{len(sentences)} sentences of lengths {[len(s) for s in sentences]}"


@exercise("seqmod-pad-batch", chapter=CHAPTER, points=1, answer_name="pad_batch",
          title="Pad a batch of sentences")
class PadBatch(Checker):
    """answer(sentences, vocab) -> (ids (T, B) int, mask (T, B) bool) (any sequence of two)."""

    references = ("rnnlib.data.encode", "rnnlib.data._encode")

    def cases(self, rng):
        cases = [Case(_pad_context(sentences), ([list(s) for s in sentences], list(_PAD_VOCAB)))
                 for sentences in _PAD_CASES]
        words = _PAD_VOCAB[1:]
        for _ in range(3):
            B = int(rng.integers(1, 5))
            sentences = [[str(w) for w in rng.choice(words, size=int(rng.integers(1, 6)))] for _ in range(B)]
            cases.append(Case(_pad_context(sentences) + " (random)", (sentences, list(_PAD_VOCAB))))
        return cases

    def judge(self, case, observed):
        sentences, vocab = case.args
        context = case.context
        ids_ref, mask_ref, _ = _data.encode([list(s) for s in sentences], list(vocab))
        result = observed.get("returned")
        if not is_sequence(result, 2):
            raise Mistake(f"pad_batch should return a pair (ids, mask), got {describe(result)}")
        ids = as_array(result[0], "your ids", context)
        mask = as_array(result[1], "your mask", context)
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
        compare(ids, ids_ref, name="your ids", context=context)
        if mask.dtype != bool:
            raise Mistake(f"your mask has dtype {mask.dtype}; make it bool (True at real steps), "
                          "e.g. `mask = ids != 0` or a comparison of positions with lengths.")
        if mask.shape == mask_ref.shape and np.array_equal(mask, ~mask_ref):
            raise Mistake("your mask is inverted: it must be True at real words and False at padding.")
        compare(mask, mask_ref, name="your mask", context=context)


# ----------------------------------------------------------------------------------------------
# Bag of words
# ----------------------------------------------------------------------------------------------
def bag_of_words_reference(ids, mask, V):
    """counts (B, V): how often each word id occurs in each sentence's
    real steps."""
    T, B = ids.shape
    counts = np.zeros((B, V))                                 # (B, V)
    rows = np.broadcast_to(np.arange(B), (T, B))              # (T, B)
    np.add.at(counts, (rows[mask], ids[mask]), 1)
    return counts


@exercise("seqmod-bag-of-words", chapter=CHAPTER, points=1, answer_name="bag_of_words",
          title="A bag of words")
class BagOfWords(Checker):
    """answer(ids (T, B), mask (T, B), V) -> counts (B, V)."""

    references = ("rnnlib.exercises.sequence_modeling.bag_of_words_reference",)

    def cases(self, rng):
        repeated = _data.encode([["good", "good", "not", "good"], ["bad", "bad"], ["the", "film"]],
                                _data._sentiment_vocab())                    # words that repeat
        cases = [Case("B=3, V=%d" % len(_data._sentiment_vocab()), (repeated[0], repeated[1], len(_data._sentiment_vocab())))]
        for n, seed in ((6, 0), (1, 1), (20, 2)):
            d = _data.make_sentiment(n, seed=seed)
            cases.append(Case(f"B={n}, V={len(d.vocab)}", (d.ids, d.mask, len(d.vocab))))
        for _ in range(2):
            n = int(rng.integers(1, 12))
            d = _data.make_sentiment(n, seed=_seed(rng))
            cases.append(Case(f"B={n}, V={len(d.vocab)} (random)", (d.ids, d.mask, len(d.vocab))))
        return cases

    def judge(self, case, observed):
        ids, mask, V = case.args
        n = ids.shape[1]
        context = case.context
        expected = bag_of_words_reference(ids, mask, V)
        counts = observed.get("returned")
        if isinstance(counts, np.ndarray) and counts.dtype.kind in "biuf":
            counts = counts.astype(np.float64)
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
        compare(counts, expected, name="your counts", context=context)


# ----------------------------------------------------------------------------------------------
# The year's position
# ----------------------------------------------------------------------------------------------
def year_position_reference(p_year, mask):
    """(B,) int: the real step most likely to be the year."""
    return np.where(mask, p_year, -np.inf).argmax(axis=0)


def _year_case(rng, T, lengths, context):
    B = len(lengths)
    mask = np.arange(T)[:, None] < np.array(lengths)[None, :]           # (T, B)
    p_year = rng.uniform(0, 0.5, (T, B))                               # (T, B)
    p_year[~mask] = 0.9 + 0.05 * rng.uniform(size=(~mask).sum())       # padding looks attractive
    for b, n in enumerate(lengths):
        p_year[rng.integers(n), b] = 0.8                               # the year: below the padding
    return Case(context, (p_year, mask))


@exercise("seqmod-year-position", chapter=CHAPTER, points=1, answer_name="year_position",
          title="Where is the year?")
class YearPosition(Checker):
    """answer(p_year (T, B), mask (T, B)) -> (B,) int positions."""

    references = ("rnnlib.exercises.sequence_modeling.year_position_reference",)

    def cases(self, rng):
        fixed = np.random.default_rng(0)
        cases = [_year_case(fixed, T, lengths, f"T={T}, lengths {lengths}")
                 for T, lengths in ((6, [6, 3, 4, 1]), (4, [2]), (9, [9, 5, 7]))]
        for _ in range(3):
            T = int(rng.integers(2, 10))
            lengths = [int(v) for v in rng.integers(1, T + 1, size=int(rng.integers(1, 6)))]
            lengths[0] = min(lengths[0], T - 1)                         # some padding in every case
            cases.append(_year_case(rng, T, lengths, f"T={T}, lengths {lengths} (random)"))
        return cases

    def judge(self, case, observed):
        p_year, mask = case.args
        T, B = mask.shape
        context = case.context
        expected = year_position_reference(p_year, mask)
        got = as_array(observed.get("returned"), "your positions", context)
        if got.shape == expected.shape and not np.array_equal(got, expected):
            if np.array_equal(got, p_year.argmax(axis=0)):
                raise Mistake(f"({context}) a padded step won: take the argmax over real steps only, "
                              "e.g. set the padded entries to -inf first (np.where(mask, p_year, -np.inf)).")
        if got.shape == (T,) and B != T:
            raise Mistake(f"your answer has shape {got.shape}, one entry per step; it should have one "
                          f"per sentence, shape ({B},): take the argmax over axis 0 (time).")
        compare(got, expected, name="your positions", context=context)
        if not np.issubdtype(got.dtype, np.integer):
            raise Mistake(f"positions should be integers, got dtype {got.dtype}")


# ----------------------------------------------------------------------------------------------
# Greedy captioning
# ----------------------------------------------------------------------------------------------
def _caption_case(f, m, C, B, seed, context):
    params = _s2s.init_vector_decoder(f, m, C, seed=seed)
    rng = np.random.default_rng(seed)
    params["Ud"] *= 3.0
    params["c"][:] = rng.standard_normal(C)
    v = rng.standard_normal((B, f))
    return Case(context, (params, v, 0, 1, 6))


@exercise("seqmod-greedy-caption", chapter=CHAPTER, points=2, answer_name="greedy_caption",
          title="Greedy decoding from a vector")
class GreedyCaption(Checker):
    """answer(params, v, bos, eos, max_len) -> ids (max_len, B), 0 after each sequence's eos."""

    references = ("rnnlib.seq2seq.vector_decoder_generate", "rnnlib.seq2seq._vector_decoder_generate",
                  "rnnlib.seq2seq.greedy_decode", "rnnlib.seq2seq._greedy_decode")

    def cases(self, rng):
        cases = [_caption_case(f, m, C, B, seed, f"f={f}, m={m}, C={C}, B={B}, max_len=6")
                 for f, m, C, B, seed in ((5, 4, 6, 7, 0), (3, 6, 4, 1, 1), (8, 5, 5, 12, 2))]
        for _ in range(3):
            f, m, C, B = int(rng.integers(2, 8)), int(rng.integers(2, 7)), int(rng.integers(3, 8)), int(rng.integers(1, 10))
            cases.append(_caption_case(f, m, C, B, _seed(rng), f"f={f}, m={m}, C={C}, B={B}, max_len=6 (random)"))
        return cases

    def judge(self, case, observed):
        params, v, bos, eos, max_len = case.args
        B = v.shape[0]
        context = case.context
        expected = _s2s.vector_decoder_generate(params, v, bos, eos, max_len)    # (<= max_len, B)
        full = np.zeros((max_len, B), dtype=np.int64)
        full[:expected.shape[0]] = expected
        got = as_array(observed.get("returned"), "your ids", context)
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
            ended = np.cumsum(full == eos, axis=0) > 0                     # at or after the first eos
            after = ended & ~((full == eos) & (np.cumsum(full == eos, axis=0) == 1))
            eos_padded = np.where(after, eos, full)
            nonstop = []
            s, previous = s0, np.full(B, bos)
            for t in range(max_len):
                s = np.tanh(params["bd"] + s @ params["Wd"].T + params["Ud"][:, previous].T)
                previous = (params["c"] + s @ params["V"].T).argmax(axis=1)
                nonstop.append(previous)
            nonstop = np.array(nonstop)
            padded_with_eos = bool(np.any(after)) and np.array_equal(got, eos_padded)
            generated_on = np.array_equal(got, nonstop)
            if padded_with_eos and generated_on:
                raise Mistake(f"after <eos> the remaining entries must be 0 (padding); yours repeat <eos> "
                              f"(id {eos}) there ({context}). Here, fed its own <eos>, the model keeps choosing "
                              "<eos>, so padding with <eos> and generating on look the same: write 0 after "
                              "each sequence's first <eos>.")
            if padded_with_eos:
                raise Mistake(f"after a sequence's <eos> you filled its remaining entries with <eos> (id {eos}); "
                              f"they must be 0, the padding id ({context}).")
            if generated_on:
                raise Mistake("you kept generating after <eos>: once a sequence has produced <eos>, its "
                              "remaining entries must be 0 (padding).")
        compare(got, full, name="your ids", context=context)


register("seqmod-four-needs", chapter=CHAPTER, points=1, kind="written",
         title="The four needs in each application")


# ----------------------------------------------------------------------------------------------
# One step of beam search
# ----------------------------------------------------------------------------------------------
def beam_step_reference(scores, log_probs, width):
    """(beam, token, new_score), each (width,), best first: the library's _beam_step for one
    example."""
    beam, token, new = _bs._beam_step(scores[None, :], log_probs[None, :, :], width)
    return beam[0], token[0], new[0]


def _beam_case(rng, n, C, width, dtype, context):
    o = 1.5 * rng.standard_normal((n, C))                              # (n, C) logits
    o -= o.max(axis=1, keepdims=True)
    log_probs = o - np.log(np.exp(o).sum(axis=1, keepdims=True))       # (n, C) log softmax
    scores = -np.sort(rng.uniform(0.0, 2.5, n))                        # (n,) a sorted beam
    return Case(context, (scores.astype(dtype), log_probs.astype(dtype), width))


def _beam_step_cases(rng):
    fixed = np.random.default_rng(0)
    cases = [_beam_case(fixed, n, C, k, dtype, f"n={n} sequences, C={C} tokens, width={k}{note}")
             for n, C, k, dtype, note in ((3, 4, 3, np.float64, ""),
                                          (2, 3, 4, np.float64, " (width > n)"),
                                          (1, 5, 3, np.float64, " (the first step: one sequence)"),
                                          (4, 6, 2, np.float32, ", float32"))]
    for _ in range(3):
        n, C = int(rng.integers(1, 5)), int(rng.integers(2, 8))
        k = int(rng.integers(1, min(n * C, 6) + 1))
        cases.append(_beam_case(rng, n, C, k, np.float64, f"n={n}, C={C}, width={k} (random)"))
    return cases


@exercise("seqmod-beam-step", chapter=CHAPTER, points=2, answer_name="beam_step",
          title="One step of beam search")
class BeamStep(Checker):
    """answer(scores (n,), log_probs (n, C), width) -> (beam, token, new_score), each (width,),
    best first (any sequence of three)."""

    references = ("rnnlib.beam_search._beam_step", "rnnlib.beam_search._beam_search",
                  "rnnlib.beam_search.beam_search",
                  "rnnlib.exercises.sequence_modeling.beam_step_reference")

    def cases(self, rng):
        return _beam_step_cases(rng)

    def judge(self, case, observed):
        scores, log_probs, width = case.args
        n, C = log_probs.shape
        context = case.context
        beam_ref, token_ref, new_ref = beam_step_reference(scores, log_probs, width)
        out = observed.get("returned")
        if not is_sequence(out, 3):
            raise Mistake(f"beam_step should return three arrays (beam, token, new_score) as a "
                          f"tuple or a list, got {describe(out)}")
        beam = as_array(out[0], "your beam indices", context)
        token = as_array(out[1], "your tokens", context)
        new = as_array(out[2], "your new scores", context)
        for name, got in (("beam indices", beam), ("tokens", token), ("new scores", new)):
            if got.shape != (width,):
                hint = (" It looks like one extension per sequence: all n * C candidates compete, "
                        "so a sequence may keep several extensions (and another none)."
                        if got.shape == (n,) and n < width else "")
                raise Mistake(f"your {name} have shape {got.shape} ({context}); return one entry "
                              f"per kept candidate, shape (width,) = ({width},).{hint}")
        got = [(int(i), int(j)) for i, j in zip(beam, token)]
        ref = [(int(i), int(j)) for i, j in zip(beam_ref, token_ref)]
        if got != ref:
            cand = scores[:, None] + log_probs                          # (n, C)
            alone = np.argsort(-log_probs.ravel(), kind="stable")[:width]
            product = np.argsort(-(scores[:, None] * log_probs).ravel(), kind="stable")[:width]
            worst = np.argsort(cand.ravel(), kind="stable")[:width]
            per_row = [(i, int(np.argmax(cand[i]))) for i in np.argsort(-cand.max(axis=1))[:width]]
            pairs = lambda flat: [(int(f // C), int(f % C)) for f in flat]     # noqa: E731
            if sorted(got) == sorted(ref):
                raise Mistake(f"you kept the right {width} candidates but not best first "
                              f"({context}): sort them by their new score, highest first.")
            if got == [(j, i) for i, j in ref]:
                raise Mistake(f"your beam indices and tokens are swapped ({context}): return "
                              "(beam, token, new_score), beam = the sequence a candidate extends.")
            if n > 1 and got == pairs(alone):
                raise Mistake(f"you ranked the tokens by log_probs alone ({context}): a candidate's "
                              "score is the whole sequence's, scores[i] + log_probs[i, j].")
            if got in (pairs(worst), pairs(product)):
                raise Mistake(f"you kept the {width} worst candidates ({context}): a higher "
                              "log-probability is better, so sort by -score (np.argsort(-cand)). "
                              "(Multiplying scores by log_probs ranks them this way too: "
                              "probabilities multiply, so log-probabilities add.)")
            if width <= n and got == per_row:
                raise Mistake(f"you kept only the best token of each sequence ({context}): all "
                              f"n * C = {n * C} candidates compete, so one sequence may keep "
                              "two extensions and another none.")
            flat_ref = [i * C + j for i, j in ref]
            if got == [(f // n, f % n) for f in flat_ref] or any(i >= n or j >= C for i, j in got):
                raise Mistake(f"your beam indices and tokens are not read off the flat index "
                              f"correctly ({context}): with log_probs of shape "
                              f"(n, C) = {(n, C)} the flat index f of scores[i] + log_probs[i, j] "
                              "is i * C + j, so i, j = divmod(f, C).")
            raise Mistake(f"your candidates {got} differ from the best ones {ref} ({context}): "
                          "rank all n * C sums scores[i] + log_probs[i, j] and keep the best "
                          "width.")
        last = log_probs[beam_ref, token_ref]                           # (width,)
        if np.allclose(new, np.exp(new_ref), rtol=1e-4):
            raise Mistake(f"your new scores are probabilities ({context}): keep them as "
                          "log-probabilities, scores[i] + log_probs[i, j].")
        if np.allclose(new, last, rtol=1e-4) and not np.allclose(new_ref, last, rtol=1e-4):
            raise Mistake(f"your new scores are the last token's log-probability only ({context}): "
                          "add the sequence's score, scores[i] + log_probs[i, j].")
        compare(new, new_ref, name="your new scores", context=context, dtype=log_probs.dtype)
