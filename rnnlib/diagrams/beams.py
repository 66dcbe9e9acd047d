"""Beam search drawn as a tree of partial hypotheses (chapter "Sequence modeling", section
"Beam search"; d2l.ai 10.8).

A search is given as *levels*: level t (t = 1, 2, ...) lists the candidates the search looked at
when writing token t, each a :class:`BeamCandidate` ``(parent, token, logprob, kept)`` (or a
plain 4-tuple): ``parent`` indexes the candidate of level t-1 it extends (None at level 1, whose
parent is "<bos>"), ``token`` is the token written (an id or a string; None for a finished
hypothesis that stays in the beam unchanged), ``logprob`` is log p of the whole partial sequence,
and ``kept`` says whether it is in the beam after step t. :func:`beam_trace` records the levels
of a real run of :func:`rnnlib.beam_search.beam_search` on one sequence; :data:`EXAMPLE` is a
small hand-made search (width 2) where greedy decoding's first choice loses.
"""
from __future__ import annotations

import math
import numbers
from typing import NamedTuple, Optional, Union

import numpy as np

from ..beam_search import _check_search, _check_states
from ..losses import _log_softmax
from ..seq2seq import _check_decoder_params, _decoder_step
from . import style as S
from ._checks import check_int
from .svg import Canvas

WIDTH = S.FIGURE_WIDTH
MAX_LEVELS = 5
MAX_PER_LEVEL = 9


class BeamCandidate(NamedTuple):
    """One partial hypothesis the search looked at (see the module docstring)."""

    parent: Optional[int]            # index in the level before (None: extends "<bos>")
    token: Union[int, str, None]     # the token written (None: a finished one, kept as is)
    logprob: float                   # log p of the whole partial sequence
    kept: bool                       # in the beam after this step


# A beam of width 2 over the tokens A, B, C, <eos>: greedy decoding would take A (the best
# first token) and end lower; the beam keeps B too and finds B C <eos>.
EXAMPLE = [
    [BeamCandidate(None, "A", -0.51, True), BeamCandidate(None, "B", -0.92, True)],
    [BeamCandidate(0, "C", -2.12, False), BeamCandidate(0, "A", -2.41, False),
     BeamCandidate(1, "C", -1.20, True), BeamCandidate(1, "<eos>", -1.64, True)],
    [BeamCandidate(2, "<eos>", -1.35, True), BeamCandidate(2, "A", -2.90, False),
     BeamCandidate(3, None, -1.64, True)],
]


def _check_levels(levels, tokens, eos):
    if isinstance(levels, (str, bytes)) or not isinstance(levels, (list, tuple)):
        raise TypeError(f"levels must be a list of levels (lists of candidates), got "
                        f"{type(levels).__name__}")
    if not 1 <= len(levels) <= MAX_LEVELS:
        raise ValueError(f"levels must hold 1 to {MAX_LEVELS} levels (steps), got {len(levels)}")
    out = []
    for t, level in enumerate(levels, start=1):
        if isinstance(level, (str, bytes)) or not isinstance(level, (list, tuple)) or not level:
            raise ValueError(f"levels[{t - 1}] must be a non-empty list of candidates")
        if len(level) > MAX_PER_LEVEL:
            raise ValueError(f"levels[{t - 1}] has {len(level)} candidates; at most "
                             f"{MAX_PER_LEVEL} fit the column")
        parsed = []
        for i, cand in enumerate(level):
            where = f"levels[{t - 1}][{i}]"
            if not isinstance(cand, (tuple, list)) or len(cand) != 4:
                raise TypeError(f"{where} must be a BeamCandidate (parent, token, logprob, kept), "
                                f"got {cand!r}")
            parent, token, logprob, kept = cand
            if t == 1 and parent is not None:
                raise ValueError(f"{where}: level 1 extends <bos>, so its parent must be None, "
                                 f"got {parent!r}")
            if t > 1:
                if isinstance(parent, bool) or not isinstance(parent, numbers.Integral) or \
                        not 0 <= parent < len(levels[t - 2]):
                    raise ValueError(f"{where}: parent must index level {t - 1} "
                                     f"(0 to {len(levels[t - 2]) - 1}), got {parent!r}")
                if not out[-1][parent].kept:
                    raise ValueError(f"{where}: its parent levels[{t - 2}][{parent}] was not kept "
                                     "in the beam, so it cannot be extended")
            if token is not None and not isinstance(token, (str, numbers.Integral)):
                raise TypeError(f"{where}: token must be an int, a str or None, got {token!r}")
            if token is None and t == 1:
                raise ValueError(f"{where}: a finished hypothesis (token None) needs a parent")
            if token is None and not _finished(out, t - 1, parent, tokens, eos):
                raise ValueError(f"{where}: token None keeps a finished hypothesis, but its parent "
                                 "has not written <eos>")
            if isinstance(logprob, bool) or not isinstance(logprob, numbers.Real) or \
                    not (logprob <= 1e-9) or math.isnan(logprob):
                raise ValueError(f"{where}: logprob must be a number <= 0, got {logprob!r}")
            if not isinstance(kept, (bool, np.bool_)):
                raise TypeError(f"{where}: kept must be True or False, got {kept!r}")
            parsed.append(BeamCandidate(None if parent is None else int(parent), token,
                                        float(logprob), bool(kept)))
        if not any(c.kept for c in parsed):
            raise ValueError(f"levels[{t - 1}]: no candidate is kept, the beam is empty")
        out.append(parsed)
    return out


def _name(token, tokens):
    if token is None:
        return None
    if tokens is not None and isinstance(token, numbers.Integral):
        return str(tokens[int(token)])
    return str(token)


def _is_eos(token, tokens, eos):
    if token is None:
        return False
    if isinstance(eos, numbers.Integral) and isinstance(token, numbers.Integral):
        return int(token) == int(eos)
    return _name(token, tokens) == (eos if isinstance(eos, str) else _name(eos, tokens))


def _finished(levels, t, index, tokens, eos):
    """Has the candidate levels[t-1][index] (t 1-based) written <eos>?"""
    while t >= 1:
        cand = levels[t - 1][index]
        if cand.token is not None:
            return _is_eos(cand.token, tokens, eos)
        t, index = t - 1, cand.parent
    return False


def _sequence(levels, t, index, tokens):
    """The tokens of the hypothesis levels[t-1][index], from the first."""
    out = []
    while t >= 1:
        cand = levels[t - 1][index]
        if cand.token is not None:
            out.append(_name(cand.token, tokens))
        t, index = t - 1, cand.parent
    return out[::-1]


def beam_tree(levels, tokens=None, eos="<eos>", bos="<bos>"):
    """Draw a beam search as a tree of partial hypotheses growing left to right from
    ``bos``: column t holds the candidates of step t (token and log p), the kept beam outlined
    in blue with blue arrows, the pruned ones with faint arrows, the best final hypothesis
    shaded. levels: as in this module's docstring (:func:`beam_trace` records a real run; at
    most 5 steps and 9 candidates per step). tokens: the vocabulary, to name integer tokens.
    eos: the end token, its name or its id (a hypothesis that wrote it is finished); bos: the
    name written at the root."""
    if tokens is not None:
        if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)):
            raise TypeError(f"tokens must be a list or a tuple of names, got "
                            f"{type(tokens).__name__}")
    if isinstance(eos, bool) or not isinstance(eos, (str, numbers.Integral)):
        raise TypeError(f"eos must be the end token's name (a str) or id (an int), got {eos!r}")
    if not isinstance(bos, str):
        raise TypeError(f"bos must be a str (the name written at the root), got {bos!r}")
    levels = _check_levels(levels, tokens, eos)
    if tokens is not None:
        for t, level in enumerate(levels, start=1):
            for i, cand in enumerate(level):
                if isinstance(cand.token, numbers.Integral) and not 0 <= cand.token < len(tokens):
                    raise ValueError(f"levels[{t - 1}][{i}]: token {cand.token} is not an index "
                                     f"of tokens (0 to {len(tokens) - 1})")
    width_beam = max(sum(c.kept for c in level) for level in levels)
    L = len(levels)
    rows = max(len(level) for level in levels)
    row_h = 54.0 if rows <= 6 else 50.0
    top = 44
    height = top + rows * row_h + 56
    c = Canvas(WIDTH, height)
    x_root = 40
    dx = (WIDTH - 48 - x_root) / L
    # y of each candidate: children in the order of their parents, the level spread evenly
    ys, order = [], []
    for t, level in enumerate(levels):
        if t == 0:
            idx = list(range(len(level)))
        else:
            rank = {p: r for r, p in enumerate(order[-1])}
            idx = sorted(range(len(level)), key=lambda i: (rank[level[i].parent], i))
        order.append(idx)
        n = len(level)
        y_of = {}
        for r, i in enumerate(idx):
            y_of[i] = top + (rows - n) * row_h / 2 + (r + 0.5) * row_h
        ys.append(y_of)
    # the best hypothesis: the most probable kept one of the last level
    last = levels[-1]
    best = max((i for i, cand in enumerate(last) if cand.kept), key=lambda i: last[i].logprob)
    on_best = set()
    t, i = L, best
    while t >= 1:
        on_best.add((t, i))
        t, i = t - 1, levels[t - 1][i].parent
    root = c.node(x_root, top + rows * row_h / 2, bos, "input", size=S.SMALL_SIZE)
    nodes = []
    for t, level in enumerate(levels, start=1):
        x = x_root + t * dx
        row = {}
        for i, cand in enumerate(level):
            label = _name(cand.token, tokens)
            if label is None:
                label = "(done)"
            math = len(label) == 1 and label.isalpha()
            row[i] = c.node(x, ys[t - 1][i], label, "output", w=60, size=S.SMALL_SIZE + 1,
                            math=math, sublabel=_fmt(cand.logprob),
                            cls="hl" if cand.kept else "", dashed=cand.token is None)
        nodes.append(row)
    band = []
    for t, level in enumerate(levels, start=1):
        for i, cand in enumerate(level):
            parent = root if t == 1 else nodes[t - 2][cand.parent]
            child = nodes[t - 1][i]
            cls = "hl" if cand.kept else "faint"
            c.edge(parent, child, start=parent.side("e"), end=child.side("w"), cls=cls,
                   dashed=cand.token is None)
    t, i = L, best
    while t >= 1:
        band.append((nodes[t - 1][i].x, nodes[t - 1][i].y))
        t, i = t - 1, levels[t - 1][i].parent
    band.append((root.x, root.y))
    c.band(band[::-1], width=26, opacity=0.18)
    for t in range(1, L + 1):
        c.text(x_root + t * dx, 16, f"step {t}", size=S.SCRIPT_SIZE)
    seq = _sequence(levels, L, best, tokens)
    c.text(WIDTH / 2, height - 32, f"under each token: log p so far;  blue: the beam (width "
           f"{width_beam});  faint: pruned", size=S.SCRIPT_SIZE)
    c.text(WIDTH / 2, height - 12, f"best: {' '.join(seq)}  (log p {_fmt(last[best].logprob)}), "
           "shaded", size=S.SMALL_SIZE, cls="hl-text", weight="600")
    # alt text: every step's kept beam, and the best sequence
    parts = []
    for t, level in enumerate(levels, start=1):
        kept = [f"{' '.join(_sequence(levels, t, i, tokens))} ({level[i].logprob:.2f})"
                for i in range(len(level)) if level[i].kept]
        pruned = sum(not cand.kept for cand in level)
        parts.append(f"step {t}: {len(level)} candidates, kept " + "; ".join(kept) +
                     (f", {pruned} pruned" if pruned else ""))
    return c.diagram(
        f"Beam search of width {width_beam} drawn as a tree growing from {bos} to the right, one "
        f"column per step, each candidate with its log-probability. " + ". ".join(parts) +
        f". The best hypothesis, {' '.join(seq)} with log p {last[best].logprob:.2f}, is shaded.")


def _fmt(v):
    return f"{v:.2f}".replace("-", "−")


def beam_trace(params, s0, bos, eos, max_len, width=2, per_beam=None):
    """Run beam search for one sequence from the decoder state ``s0`` (m,) and record the levels
    :func:`beam_tree` draws: at each step, each live hypothesis's ``per_beam`` best extensions
    (default: ``width``, enough to show every hypothesis the beam keeps), each finished one as a
    candidate with token None, and which ``width`` of them the beam keeps. The arguments are
    those of :func:`rnnlib.beam_search.beam_search` (tokens as ids); the search is the same, so
    the best kept hypothesis of the last level is beam_search's result (tests check it)."""
    dtype, _, m, C = _check_decoder_params(params)
    s0, _ = _check_states(s0, dtype, m)
    if s0.shape[0] != 1:
        raise ValueError(f"s0 must be one state (m,), the trace draws one sequence; got {s0.shape}")
    bos, eos, max_len, width, _ = _check_search(C, bos, eos, max_len, width, 0.0, 1, 2 ** 28)
    width = check_int("width", width, 1, 3)
    max_len = check_int("max_len", max_len, 1, MAX_LEVELS)
    per_beam = width if per_beam is None else check_int("per_beam", per_beam, 1, 3)
    if per_beam < width:
        raise ValueError(f"per_beam must be at least width={width} so the kept beam is drawn, "
                         f"got {per_beam}")
    return _beam_trace(params, s0[0], bos, eos, max_len, width, per_beam)


def _beam_trace(params, s0, bos, eos, max_len, width, per_beam):
    """The search of `_beam_search` for one sequence, recording each step's candidates
    (arguments are checked by `beam_trace`)."""
    beams = [(0.0, s0, bos, False, None)]        # (log p, state, last token, done, index)
    levels = []
    for _ in range(max_len):
        cands = []                                # (log p, parent, token, state, done)
        live = [(k, b) for k, b in enumerate(beams) if not b[3]]
        if live:
            states = np.stack([b[1] for _, b in live])                 # (n, m)
            prev = np.array([b[2] for _, b in live])                   # (n,)
            s_new, o = _decoder_step(params, states, prev)
            logp = _log_softmax(o)                                     # (n, C)
            for r, (k, b) in enumerate(live):
                # every extension (the beam keeps the best of all), per_beam of them drawn
                for tok in np.argsort(-logp[r], kind="stable"):
                    cands.append((b[0] + logp[r, tok], k, int(tok), s_new[r], tok == eos))
        for k, b in enumerate(beams):
            if b[3]:
                cands.append((b[0], k, None, b[1], True))
        # the beam: the `width` best of all candidates (stable order as in _beam_search:
        # beams in order, then tokens; a finished beam is one candidate)
        ranked = sorted(range(len(cands)), key=lambda i: -cands[i][0])
        keep = set(ranked[:width])
        shown, level, new_beams = [], [], []
        per = {}
        for i in sorted(range(len(cands)), key=lambda i: (cands[i][1], -cands[i][0])):
            lp, parent, tok, state, done = cands[i]
            n = per.get(parent, 0)
            if i in keep or (tok is None) or n < per_beam:
                if tok is not None:
                    per[parent] = n + 1
                shown.append(i)
        for i in shown:
            lp, parent, tok, state, done = cands[i]
            level.append(BeamCandidate(None if not levels else beams[parent][4], tok,
                                       float(lp), i in keep))
            if i in keep:
                new_beams.append((lp, state, tok if tok is not None else eos, done,
                                  len(level) - 1))
        levels.append(level)
        new_beams.sort(key=lambda b: -b[0])
        beams = new_beams
        if all(b[3] for b in beams):
            break
    return levels
