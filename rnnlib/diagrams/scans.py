"""The parallel (associative) scan of a linear recurrence, drawn in the style of the recursive
chapter's trees (chapter "Where recurrence went"; rnnlib.linear_recurrence).

One step of h^(t) = λ ⊙ h^(t-1) + u^(t) is the affine map (λ, u^(t)); two maps compose into
one, and composition is associative, so the prefixes h^(1), ..., h^(T) come out of a scan whose
levels each combine many pairs at once. :func:`associative_scan` draws a scan's wiring, as
:func:`rnnlib.linear_recurrence.scan_schedule` gives it (Hillis and Steele: at level k every
position t > 2^(k-1) takes in position t - 2^(k-1)); :func:`scan_and_tree` draws it under the
balanced tree of "Recursive neural networks" over the same T inputs, with both depths,
ceil(log2 T), against the loop's T. Inputs are blue boxes, the inputs at the bottom and the
states at the top as in the trees; each combination is a small green node (the trees'
compositions), and the inputs of the last state h^(T) are highlighted: a balanced tree.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import style as S
from ._checks import check_int
from .svg import Canvas, Node

WIDTH = S.FIGURE_WIDTH
MAX_T = 16
X0 = 84                     # px: the left margin (the level labels), as wide on the right


def _check_schedule(schedule, T):
    """The levels as lists of (t, s) pairs; checks that they compute every prefix."""
    if isinstance(schedule, (str, bytes, np.ndarray)) or not isinstance(schedule, (list, tuple)):
        raise TypeError("schedule must be a list of levels (arrays of (t, s) pairs), as "
                        f"rnnlib.linear_recurrence.scan_schedule(T) returns, got "
                        f"{type(schedule).__name__}")
    levels = []
    for k, level in enumerate(schedule):
        try:
            pairs = np.asarray(level)
        except (TypeError, ValueError):
            raise TypeError(f"schedule[{k}] must be an array of (t, s) pairs") from None
        if pairs.size == 0:
            pairs = pairs.reshape(0, 2)
        if pairs.ndim != 2 or pairs.shape[1] != 2 or not np.issubdtype(pairs.dtype, np.integer):
            raise ValueError(f"schedule[{k}] must be an (n, 2) array of ints (t, s), got shape "
                             f"{pairs.shape} and dtype {pairs.dtype}")
        levels.append([(int(t), int(s)) for t, s in pairs])
    receivers = [t for level in levels for t, _ in level]
    if T is None:
        if not receivers:
            raise ValueError("schedule is empty (T = 1): pass T")
        T = max(receivers)
    T = check_int("T", T, 1, MAX_T)
    lo = list(range(T + 1))                 # position t holds the composition of steps lo[t]..t
    for k, level in enumerate(levels):
        seen = set()
        new = lo[:]
        for t, s in level:
            if not 1 <= s < t <= T:
                raise ValueError(f"schedule[{k}] has the pair ({t}, {s}); pairs must have "
                                 f"1 <= s < t <= T = {T}")
            if t in seen:
                raise ValueError(f"schedule[{k}] sends two values to position {t}")
            seen.add(t)
            if s != lo[t] - 1:
                raise ValueError(f"schedule[{k}]: position {t} holds steps {lo[t]}..{t} and "
                                 f"position {s} holds {lo[s]}..{s}; they are not adjacent, so "
                                 "the wiring is not a scan")
            new[t] = lo[s]
        lo = new
    missing = [t for t in range(1, T + 1) if lo[t] != 1]
    if missing:
        raise ValueError(f"schedule does not finish the scan: positions {missing} lack steps "
                         f"before them (a T = {T} scan needs more levels)")
    return levels, T


def _columns(T):
    dx = (WIDTH - 2 * X0) / max(T - 1, 1)
    return [X0 + i * dx if T > 1 else WIDTH / 2 for i in range(T)], dx


def _draw_scan(c, levels, T, oy, highlight, title=True):
    """Draw the scan into canvas c from y = oy; returns the height used."""
    D = len(levels)
    xs, dx = _columns(T)
    big = dx >= 52 or T == 1
    row = 54.0
    y_out = oy + (44 if title else 14) + 22 + (0 if big else 16)
    y_in = y_out + row * (D + 1)
    ys = [y_in - k * row for k in range(D + 1)]                  # rows 0 (inputs) .. D
    # what feeds h^(highlight): walk down the levels
    need = set()
    if highlight is not None:
        need.add((highlight, D))
        for k in range(D, 0, -1):
            into = dict(levels[k - 1])
            for t in [t for t, kk in need if kk == k]:
                need.add((t, k - 1))
                if t in into:
                    need.add((into[t], k - 1))
    pos = {}
    for t in range(1, T + 1):
        label = f"u^({t})" if big else str(t)
        pos[(t, 0)] = c.node(xs[t - 1], ys[0], label, "input", size=S.FONT_SIZE - 1 if big
                             else S.SCRIPT_SIZE + 1, math=big, pad=None if big else 8,
                             cls="hl" if (t, 0) in need else "")
    n_pairs = 0
    for k, level in enumerate(levels, start=1):
        into = dict(level)
        for t in range(1, T + 1):
            below = pos[(t, k - 1)]
            hl = (t, k) in need and (t, k - 1) in need
            if t in into:
                node = c.node(xs[t - 1], ys[k], "", "hidden", w=18, h=18,
                              cls="hl" if (t, k) in need else "")
                pos[(t, k)] = node
                src = pos[(into[t], k - 1)]
                c.edge(below, node, cls="hl" if hl else "")
                c.edge(src, node, cls="hl" if (t, k) in need and (into[t], k - 1) in need
                       else "")
                n_pairs += 1
            else:                               # no combination: the value passes up
                point = (xs[t - 1], ys[k])
                start = below.side("n") if isinstance(below, Node) else None
                c.edge(below, point, head=False, start=start, cls="hl" if hl else "")
                pos[(t, k)] = point
        shift = 2 ** (k - 1)
        offsets = {t - s for t, s in level}
        text = f"offset {shift}" if offsets == {shift} else f"level {k}"
        c.text(8, ys[k], text, size=S.SCRIPT_SIZE, anchor="start")
    for t in range(1, T + 1):
        hit = highlight == t
        if big:
            out = c.node(xs[t - 1], y_out, f"h^({t})", "hidden", cls="hl" if hit else "")
        else:
            out = c.node(xs[t - 1], y_out, "", "hidden", w=22, h=22, cls="hl" if hit else "")
            c.text(xs[t - 1], y_out - 22, str(t), size=S.SCRIPT_SIZE)
        below = pos[(t, D)]
        start = below.side("n") if isinstance(below, Node) else None
        c.edge(below, out, start=start, cls="hl" if (t, D) in need else "")
    if title:
        c.text(10, oy + 12, f"parallel scan: depth {D} = ⌈log_2 {T}⌉, {n_pairs} combinations, "
               f"all h^(t) at once", size=S.SMALL_SIZE + 1, anchor="start", cls="", weight="600",
               math=True)
    if not big:
        c.text(WIDTH / 2, y_in + 32, f"inputs u^(1) … u^({T}) (numbered), states h^(1) … "
               f"h^({T}) on top", size=S.SCRIPT_SIZE, math=True)
    return (y_in + (46 if not big else 24)) - oy, n_pairs


def _scan_alt(levels, T, n_pairs, highlight):
    D = len(levels)
    text = (f"The parallel scan of a linear recurrence over T = {T} inputs u(1) to u({T}) at "
            f"the bottom, drawn in {D} levels (depth ceil(log2 {T}) = {D}) up to the states h(1) "
            f"to h({T}) at the top. ")
    for k, level in enumerate(levels, start=1):
        offs = sorted({t - s for t, s in level})
        text += (f"{'Level' if k == 1 else 'level'} {k} combines {len(level)} pairs, each position t with position t - "
                 f"{'/'.join(map(str, offs))}; ")
    text += f"{n_pairs} combinations in all, against {T - 1} sequential steps of the loop."
    if highlight is not None:
        text += (f" Highlighted: the values that feed h({highlight}), a balanced tree of depth "
                 f"{D}." if highlight == T else f" Highlighted: the values that feed "
                 f"h({highlight}).")
    return text


def associative_scan(schedule, T=None, highlight="last"):
    """Draw a parallel scan's wiring: ``schedule`` as
    :func:`rnnlib.linear_recurrence.scan_schedule` returns it (a list of levels, level k an
    (n, 2) int array of pairs (t, s): position t takes in position s); T (at most 16) is read
    from the schedule (pass it for T = 1). The schedule must compute every prefix (checked).
    highlight: a position t whose inputs are highlighted, "last" (t = T, default) or None."""
    levels, T = _check_schedule(schedule, T)
    if highlight == "last":
        highlight = T
    elif highlight is not None:
        highlight = check_int("highlight", highlight, 1, T)
    probe = Canvas(WIDTH, 10)
    h, n_pairs = _draw_scan(probe, levels, T, 0, highlight)
    c = Canvas(WIDTH, h)
    _draw_scan(c, levels, T, 0, highlight)
    return c.diagram(_scan_alt(levels, T, n_pairs, highlight))


def scan_and_tree(T=8):
    """The balanced tree of "Recursive neural networks" over T inputs (2 to 16) above the
    parallel scan of a linear recurrence over the same T inputs (Hillis and Steele, from
    :func:`rnnlib.linear_recurrence.scan_schedule`), both of depth ceil(log2 T), against the
    T sequential steps of the loop: the inputs the scan combines into h^(T) form that tree."""
    from ..linear_recurrence import scan_schedule
    from ..recursive import balanced_tree
    from .trees import _draw_tree

    T = check_int("T", T, 2, MAX_T)
    tree = balanced_tree(T)
    levels, _ = _check_schedule(scan_schedule(T), T)
    xs, dx = _columns(T)
    big = dx >= 52
    labels = [f"u^({t})" if big else str(t) for t in range(1, T + 1)]
    h_tree = 100 + 46 * tree.depth
    probe = Canvas(WIDTH, 10)
    h_scan, n_pairs = _draw_scan(probe, levels, T, 0, T)
    top = 30
    c = Canvas(WIDTH, top + h_tree + h_scan)
    c.text(WIDTH / 2, 14, f"the loop: {T} sequential steps;  tree and scan: depth "
           f"⌈log_2 {T}⌉ = {tree.depth}", size=S.SMALL_SIZE + 1, cls="hl-text", weight="600",
           math=True)
    _draw_tree(c, tree, labels, top, h_tree, x0=X0,
               title=f"balanced tree (recursive networks): depth {tree.depth}", depths=False,
               leaf_size=None if big else S.SCRIPT_SIZE + 1, leaf_pad=None if big else 8)
    _draw_scan(c, levels, T, top + h_tree, T)
    return c.diagram(
        f"Two drawings over the same {T} inputs. Top: the balanced binary tree of the recursive "
        f"networks chapter, of depth {tree.depth}. Bottom, the parallel scan: " +
        _scan_alt(levels, T, n_pairs, T).replace("The parallel scan", "the scan", 1) +
        f" Both have depth ceil(log2 {T}) = {tree.depth}, where the loop takes {T} steps.")
