"""Drawings of what comes after the lecture (issue 19), boxes placed by hand in code.

Chapters: "Design patterns and deep RNNs" (:func:`bidirectional_rnn`), "Echo state networks and
leaky units" (:func:`echo_state_network`, :func:`leaky_unit`), "Where recurrence went"
(:func:`attention`, :func:`attention_alignment`, :func:`linear_recurrence_chain`). Beam search
is drawn by :mod:`rnnlib.diagrams.beams`, the parallel scan by :mod:`rnnlib.diagrams.scans`.
The notation is that of the modules they draw: rnnlib.bidirectional (forward states h, backward
states g), rnnlib.reservoir (W, U fixed, V fitted; the leak alpha), rnnlib.attention (encoder
states h^(j), decoder state s^(t), weights alpha_j, context c^(t)) and rnnlib.linear_recurrence
(h^(t) = lambda * h^(t-1) + B x^(t)).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import style as S
from ._checks import check_bool, check_int
from .svg import Canvas

WIDTH = S.FIGURE_WIDTH


def _sup(name, t):
    return f"{name}^({t})"


def _fmt_num(value, digits=2):
    return f"{value:.{digits}f}".replace("-", "−")


# ------------------------------------------------------------------------ bidirectional RNN
def bidirectional_rnn(T=3, highlight=None):
    """The bidirectional RNN unfolded for T steps (2 to 5; Goodfellow et al. figure 10.11):
    forward states h^(t) left to right (W_h), backward states g^(t) right to left (W_g), both
    reading x^(t) and both feeding o^(t). highlight: a step t whose output's inputs are marked
    (every arrow o^(t) depends on: the whole sequence), or None."""
    T = check_int("T", T, 2, 5)
    if highlight is not None:
        highlight = check_int("highlight", highlight, 1, T)
    c = Canvas(WIDTH, 392)
    y_o, y_g, y_h, y_x = 44, 148, 246, 344
    x_first, x_last = 162, 494
    dx = (x_last - x_first) / (T - 1)
    off = 27                                   # h left of the column, g right of it
    cols = [x_first + i * dx for i in range(T)]

    def on(kind, t):                           # is this arrow on the highlighted dependence?
        if highlight is None:
            return ""
        if kind == "h":                        # h^(t-1) -> h^(t), t = 1..highlight
            return "hl" if t <= highlight else "faint"
        if kind == "g":                        # g^(t+1) -> g^(t), t = highlight..T
            return "hl" if t >= highlight else "faint"
        if kind == "xh":
            return "hl" if t <= highlight else "faint"
        if kind == "xg":
            return "hl" if t >= highlight else "faint"
        return "hl" if t == highlight else "faint"            # h, g -> o

    def node_cls(kind, t):
        if highlight is None:
            return ""
        hit = {"h": t <= highlight, "g": t >= highlight, "x": True, "o": t == highlight}[kind]
        return "hl" if hit else ""

    h0 = c.node(48, y_h, "h^(0)", "hidden", cls="hl" if highlight else "")
    gT = c.node(614, y_g, f"g^({T + 1})", "hidden", cls="hl" if highlight else "")
    hs, gs = [h0], [None] * (T + 2)
    gs[T + 1] = gT
    xs, os_ = [], []
    for t, xc in enumerate(cols, start=1):
        xs.append(c.node(xc, y_x, _sup("x", t), "input", cls=node_cls("x", t)))
        hs.append(c.node(xc - off, y_h, _sup("h", t), "hidden", cls=node_cls("h", t)))
        gs[t] = c.node(xc + off, y_g, _sup("g", t), "hidden", cls=node_cls("g", t))
        os_.append(c.node(xc, y_o, _sup("o", t), "output", cls=node_cls("o", t)))
    for t in range(1, T + 1):
        c.edge(hs[t - 1], hs[t], label="W_h", label_shift=(0, -18), cls=on("h", t))
    for t in range(T, 0, -1):
        c.edge(gs[t + 1], gs[t], label="W_g", label_shift=(0, 18), cls=on("g", t))
    for t in range(1, T + 1):
        x, h, g, o = xs[t - 1], hs[t], gs[t], os_[t - 1]
        c.edge(x, h, cls=on("xh", t))
        c.edge(x, g, cls=on("xg", t))
        c.edge(h, o, cls=on("o", t))
        c.edge(g, o, cls=on("o", t))
    c.text(8, y_h + 36, "forward:", size=S.SMALL_SIZE, anchor="start")
    c.text(8, y_h + 52, "h reads x^(1) … x^(t)", size=S.SCRIPT_SIZE, anchor="start", math=True)
    c.text(8, y_g - 10, "backward:", size=S.SMALL_SIZE, anchor="start")
    c.text(8, y_g + 6, f"g reads x^({T}) … x^(t)", size=S.SCRIPT_SIZE, anchor="start",
           math=True)
    c.text(WIDTH / 2, y_x + 36, "U_h, U_g on the arrows from x^(t);  V on the arrows into "
           "o^(t) = c + V [h^(t); g^(t)]", size=S.SCRIPT_SIZE, math=True)
    if highlight is not None:
        c.text(8, 14, f"o^({highlight}) depends on every input x^(1) … x^({T})",
               size=S.SMALL_SIZE, anchor="start", cls="hl-text", math=True, weight="600")
    alt = (f"A bidirectional RNN unfolded for {T} steps. Bottom row: inputs x(1) to x({T}). "
           f"Above them the forward states h(1) to h({T}), a chain from h(0) left to right with "
           f"W_h on every arrow; above those the backward states g({T}) to g(1), a chain from "
           f"g({T + 1}) right to left with W_g on every arrow. Each input x(t) feeds both h(t) "
           f"(through U_h) and g(t) (through U_g), and both h(t) and g(t) feed the output o(t) at "
           f"the top (through V), so o(t) depends on the inputs before and after step t.")
    if highlight is not None:
        alt += (f" Highlighted: everything o({highlight}) depends on, h(0) to h({highlight}), "
                f"g({T + 1}) down to g({highlight}) and all {T} inputs.")
    return c.diagram(alt)


# ------------------------------------------------------------------------ echo state network
def echo_state_network(n_units=8, spectral_radius=0.9, seed=0):
    """An echo state network (reservoir computing; Goodfellow et al. 10.8): the input x^(t)
    enters a reservoir of ``n_units`` (5 to 12) hidden units through U, the units feed each other
    through W (random, rescaled to ``spectral_radius``), and a linear readout V gives o^(t).
    W and U are drawn as fixed (grey, dashed: random, never trained); only V (orange) is fitted,
    by least squares. ``seed`` picks the drawn sparse wiring."""
    n = check_int("n_units", n_units, 5, 12)
    if (isinstance(spectral_radius, bool) or not isinstance(spectral_radius, numbers.Real)
            or not 0 < spectral_radius < 10 or not math.isfinite(spectral_radius)):
        raise ValueError(f"spectral_radius must be a number in (0, 10), got {spectral_radius!r}")
    seed = check_int("seed", seed, 0, 2 ** 31)
    rng = np.random.default_rng(seed)
    c = Canvas(WIDTH, 356)
    cx, cy, r = 318, 176, 92
    c.text(WIDTH / 2, 16, f"reservoir: W random and fixed, scaled to spectral radius "
           f"ρ(W) = {spectral_radius:g}", size=S.SMALL_SIZE, math=True)
    c.frame(cx - r - 38, cy - r - 34, 2 * r + 76, 2 * r + 68, label="h^(t)", radius=60)
    angles = [math.pi / 2 + 2 * math.pi * k / n for k in range(n)]
    units = [c.node(cx + r * math.cos(a), cy - r * math.sin(a), "", "hidden", w=22, h=22)
             for a in angles]
    # a sparse random wiring: every unit feeds two others (a ring of neighbours is avoided)
    pairs = set()
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for j in rng.choice(others, size=2, replace=False):
            if (int(j), i) not in pairs:
                pairs.add((i, int(j)))
    for i, j in sorted(pairs):
        c.edge(units[i], units[j], dashed=True)
    x = c.node(56, cy, "x^(t)", "input")
    for u in units:
        c.edge(x, u, dashed=True, cls="faint")
    o = c.node(604, cy, "o^(t)", "output")
    for u in units:
        c.edge(u, o)
    c.tag(150, cy - 58, "U", role="constant")
    c.tag(cx, cy, "W", role="constant")
    c.tag(488, cy - 58, "V")
    c.text(150, cy - 84, "fixed", size=S.SCRIPT_SIZE)
    c.text(488, cy - 84, "trained", size=S.SCRIPT_SIZE)
    c.text(WIDTH / 2, 322, "grey, dashed: random and fixed, never trained (U, W)", size=S.SMALL_SIZE)
    c.text(WIDTH / 2, 342, "orange: the only trained weights, V (and c), fitted by least squares",
           size=S.SMALL_SIZE)
    return c.diagram(
        f"An echo state network. The input x(t) on the left feeds, through dashed grey arrows "
        f"(the fixed random matrix U), every one of {n} hidden units of the reservoir drawn in "
        f"a circle; the units feed one another through dashed grey arrows (the fixed random "
        f"matrix W, scaled to spectral radius {spectral_radius:g}). On the right, solid arrows "
        f"from every unit reach the output o(t): the readout V, drawn orange, the only weights "
        f"that are trained (by least squares).")


# -------------------------------------------------------------------------------- leaky unit
def leaky_unit(alpha=None):
    """A leaky unit, h^(t) = (1 - α) h^(t-1) + α tanh(b + W h^(t-1) + U x^(t)) (Goodfellow et
    al. 10.9): left, folded, the unit's self-loop of weight 1 - α beside its loop through W;
    right, one step, the leak path h^(t-1) -> ×(1 - α) -> + -> h^(t) highlighted. alpha: a
    number in (0, 1] written with its time scale (about 1/α steps), or None (symbols only)."""
    if alpha is not None:
        if (isinstance(alpha, bool) or not isinstance(alpha, numbers.Real)
                or not 0 < alpha <= 1):
            raise ValueError(f"alpha must be a number in (0, 1] or None, got {alpha!r}")
        alpha = float(alpha)
    c = Canvas(WIDTH, 318)
    c.text(WIDTH / 2, 16, "h^(t) = (1 − α) h^(t-1) + α tanh(b + W h^(t-1) + U x^(t))",
           size=S.FONT_SIZE, cls="", math=True)
    # folded: the self-loop 1 - alpha (the leak) and the loop through W
    y_h, y_x = 134, 240
    h = c.node(58, y_h, "h", "hidden")
    x = c.node(58, y_x, "x", "input")
    c.edge(x, h, label="U", label_at=0.5, label_shift=(-17, 0))
    c.loop(h, "n", size=50, cls="hl")
    c.tag(58, y_h - 20 - 38, "1 − α", cls="hl")
    c.loop(h, "e", size=50)
    c.tag(58 + 20 + 38, y_h, "W")
    c.text(58, y_x + 30, "folded", size=S.SCRIPT_SIZE)
    c.edge((150, y_h), (192, y_h), width=2.2)
    c.text(171, y_h - 16, "one step", size=S.SCRIPT_SIZE)
    # one step
    y_top, y_bot, y_in = 84, 190, 270
    hp = c.node(238, y_top, "h^(t-1)", "hidden", cls="hl")
    leak = c.node(380, y_top, "× (1 − α)", "operation", math=True, size=15, cls="hl")
    add = c.node(538, y_top, "+", "operation", math=False, w=32, h=32, cls="hl")
    hn = c.node(618, y_top, "h^(t)", "hidden", cls="hl")
    a = c.node(330, y_bot, "a^(t)", "value")
    tanh = c.node(424, y_bot, "tanh", "operation", math=False, size=14)
    mix = c.node(538, y_bot, "× α", "operation", math=True, size=15)
    xt = c.node(330, y_in, "x^(t)", "input")
    b = c.node(250, y_in, "b", "parameter")
    c.band([(hp.x, y_top), (hn.x, y_top)], width=16, opacity=0.22)
    c.edge(hp, leak, cls="hl")
    c.edge(leak, add, cls="hl")
    c.edge(add, hn, cls="hl")
    c.edge(hp, a, via=[(hp.x, y_bot)], label="W", label_at=0.62, label_shift=(0, -17),
           start=hp.side("s"))
    c.edge(xt, a, label="U", label_shift=(17, 0))
    c.edge(b, a)
    c.edge(a, tanh)
    c.edge(tanh, mix)
    c.edge(mix, add)
    c.text(WIDTH - 8, y_bot + 36, "a^(t) = b + W h^(t-1) + U x^(t)", size=S.SCRIPT_SIZE,
           anchor="end", math=True)
    c.text(380, y_top - 34, "the leak: the old state, scaled by 1 − α", size=S.SCRIPT_SIZE,
           cls="hl-text", math=True)
    if alpha is None:
        note = "an input fades like (1 − α)^t: a time scale of about 1/α steps; α = 1: the plain RNN"
    else:
        rate = 1 - alpha
        scale = "none (the plain RNN)" if alpha == 1 else f"about 1/α = {1 / alpha:.3g} steps"
        note = f"α = {alpha:g}: the leak 1 − α = {rate:g}; time scale {scale}"
    c.text(WIDTH / 2, 306, note, size=S.SMALL_SIZE)
    alt = ("A leaky unit. Left, folded: the hidden state h has two loops, a highlighted "
           "self-loop of weight 1 - alpha (the leak) and a loop through W, and the input x feeds "
           "it through U. Right, one step: the highlighted path from h(t-1) through a "
           "multiplication by 1 - alpha to a sum and on to h(t), and below it the path from "
           "h(t-1) through W, with U x(t) and b, to a(t), tanh and a multiplication by alpha "
           "into the same sum: h(t) = (1 - alpha) h(t-1) + alpha tanh(b + W h(t-1) + U x(t)).")
    if alpha is None:
        alt += " An input fades like (1 - alpha) to the power t, a time scale of about 1/alpha steps."
    else:
        alt += f" With alpha = {alpha:g} the leak is {1 - alpha:g}"
        alt += "." if alpha == 1 else f", a time scale of about {1 / alpha:.3g} steps."
    return c.diagram(alt)


# --------------------------------------------------------------------------------- attention
def _check_weights(weights, name, ndim, max_len):
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(weights).__name__}") \
            from None
    if w.ndim != ndim:
        shape = "(T_x,)" if ndim == 1 else "(T_y, T_x)"
        raise ValueError(f"{name} must have shape {shape}, got shape {w.shape}")
    if w.size == 0 or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"{name} must be finite, non-negative and not empty")
    if w.shape[-1] > max_len:
        raise ValueError(f"{name} has {w.shape[-1]} source steps; at most {max_len} fit the column")
    if not np.allclose(w.sum(axis=-1), 1.0, atol=1e-3):
        raise ValueError(f"{name} must sum to 1 over the source steps (softmax weights), got sums "
                         f"{np.round(w.sum(axis=-1), 4).tolist()}")
    return w


def _check_tokens(tokens, n, name):
    if tokens is None:
        return None
    if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)):
        raise TypeError(f"{name} must be a list or a tuple of strings, got {type(tokens).__name__}")
    tokens = [str(w) for w in tokens]
    if len(tokens) != n:
        raise ValueError(f"{name} must have {n} tokens (one per step), got {len(tokens)}")
    return tokens


def attention(weights=None, source=None, t=None):
    """Attention over the encoder's states at one decoder step (chapter "Where recurrence went";
    rnnlib.attention): encoder states h^(1) … h^(T_x) over the source, the decoder state s^(t),
    the weights α_j = softmax_j(e_j) of the scores e_j = s^(t)ᵀ W_a h^(j), drawn as the widths of
    the arrows into the context c^(t) = Σ_j α_j h^(j), and o^(t) from s^(t) and c^(t).

    weights: (T_x,) numbers >= 0 summing to 1 (2 to 8 steps), e.g. a trained model's row
    ``cache.weights[t - 1, b]`` of rnnlib.attention; default: an example over 4 steps.
    source: the source tokens (one per step) written under the states. t: the decoder step
    named in the labels (default t)."""
    if weights is None:
        weights = [0.06, 0.12, 0.68, 0.14]
    w = _check_weights(weights, "weights", 1, 8)
    Tx = len(w)
    if Tx < 2:
        raise ValueError(f"weights must cover at least 2 source steps, got {Tx}")
    source = _check_tokens(source, Tx, "source")
    if t is not None:
        t = check_int("t", t, 1, 99)
    ts = "t" if t is None else str(t)
    c = Canvas(WIDTH, 372)
    y_c, y_h, y_tok = 62, 276, 334
    x0, x1 = 46, 418
    dx = (x1 - x0) / (Tx - 1)
    hs = []
    for j in range(Tx):
        hs.append(c.node(x0 + j * dx, y_h, _sup("h", j + 1), "hidden"))
        if j:
            c.edge(hs[j - 1], hs[j])
        if source:
            c.text(x0 + j * dx, y_tok, source[j], size=S.SMALL_SIZE, cls="")
    ctx = c.node(232, y_c, f"c^({ts})", "value")
    for j, (h, a) in enumerate(zip(hs, w)):
        c.edge(h, ctx, cls="hl", width=1.2 + 9.0 * a, head=False)
        c.text(h.x, y_h + 34, _fmt_num(a), size=S.SMALL_SIZE, cls="hl-text", weight="600")
    c.text(232 + 34, y_c - 30, f"c^({ts}) = Σ_j α_j h^(j)", size=S.SMALL_SIZE, anchor="start",
           math=True)
    s_prev = c.node(470, 190, f"s^({'t-1' if t is None else t - 1})", "hidden")
    s = c.node(590, 190, f"s^({ts})", "hidden")
    c.edge(s_prev, s)
    o = c.node(590, y_c, f"o^({ts})", "output")
    c.edge(s, o, label="V", label_shift=(17, 0))
    c.edge(ctx, o, label="V_a", label_shift=(0, -17))
    c.edge(s, (560, 258), dashed=True)
    c.text(650, 276, "α_j = softmax_j(e_j)", size=S.SMALL_SIZE, anchor="end", math=True)
    c.text(650, 296, f"e_j = s^({ts}) · W_a h^(j)", size=S.SMALL_SIZE, anchor="end", math=True)
    c.text(650, 322, "arrow widths, blue numbers:", size=S.SCRIPT_SIZE, anchor="end",
           cls="hl-text")
    c.text(650, 338, "the weights α_j", size=S.SCRIPT_SIZE, anchor="end", cls="hl-text")
    if not source:
        c.text(x0 - 24, y_tok, "encoder states", size=S.SCRIPT_SIZE, anchor="start")
    best = int(np.argmax(w))
    words = (" over the source " + " ".join(source)) if source else ""
    alt = (f"Attention at decoder step {ts}: a row of {Tx} encoder states h(1) to h({Tx}){words}; "
           f"an arrow from each state to the context c({ts}) at the top, its width the attention "
           f"weight alpha_j, written beside it: " +
           ", ".join(f"alpha_{j + 1} = {a:.2f}" for j, a in enumerate(w)) +
           f" (largest at h({best + 1})). The decoder state s({ts}), fed by s of the step "
           f"before, sets the weights by a softmax over the scores e_j = s({ts}) transpose W_a "
           f"h(j) (a dashed arrow), and the output o({ts}) reads s({ts}) through V and c({ts}) "
           f"through V_a.")
    return c.diagram(alt)


def attention_alignment(weights, source=None, target=None):
    """The attention weights of a whole translation as a grid (chapter "Where recurrence
    went"): row t for the output token y^(t), column j for the source token x^(j), each
    weight α^(t, j) drawn as a blue square of area proportional to it (a trained model's
    ``cache.weights[:, b, :]`` of rnnlib.attention, (T_y, T_x), rows summing to 1; at most 12
    source and 10 output steps). source, target: the tokens that label the columns and rows."""
    w = _check_weights(weights, "weights", 2, 12)
    Ty, Tx = w.shape
    if Ty > 10:
        raise ValueError(f"weights has {Ty} output steps; at most 10 fit")
    source = _check_tokens(source, Tx, "source") or [f"x^({j + 1})" for j in range(Tx)]
    target = _check_tokens(target, Ty, "target") or [f"y^({t + 1})" for t in range(Ty)]
    size = S.SMALL_SIZE
    def tok_w(tok):
        return S.label_width(tok, size, _is_math(tok)) + 10
    left = 12 + max(tok_w(tok) for tok in target)
    cell = min(66.0, (WIDTH - left - 12) / Tx)
    widest = max(tok_w(tok) for tok in source)
    if widest > cell - 2:
        raise ValueError(f"source: the tokens are too long for {Tx} columns ({widest:.0f} px, "
                         f"{cell:.0f} px per column)")
    top = 52
    height = top + Ty * cell + 34
    c = Canvas(WIDTH, height)
    gx = left + (WIDTH - left - 12 - Tx * cell) / 2
    for j, tok in enumerate(source):
        c.node(gx + (j + 0.5) * cell, top - 20, tok, "input", h=26, size=size,
               math=_is_math(tok), pad=10)
    for t, tok in enumerate(target):
        c.node(gx - 6 - tok_w(tok) / 2, top + (t + 0.5) * cell, tok, "output", h=26, size=size,
               math=_is_math(tok), pad=10)
    grid = []
    for k in range(Tx + 1):
        x = gx + k * cell
        grid.append(f'<line class="grid" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" '
                    f'y2="{top + Ty * cell:.1f}" stroke="{S.FAINT["light"]}" stroke-width="1"/>')
    for k in range(Ty + 1):
        y = top + k * cell
        grid.append(f'<line class="grid" x1="{gx:.1f}" y1="{y:.1f}" x2="{gx + Tx * cell:.1f}" '
                    f'y2="{y:.1f}" stroke="{S.FAINT["light"]}" stroke-width="1"/>')
    c.raw("".join(grid), layer="back")
    squares = []
    for t in range(Ty):
        for j in range(Tx):
            side = (cell - 6) * math.sqrt(w[t, j])
            if side < 0.5:
                continue
            x = gx + (j + 0.5) * cell - side / 2
            y = top + (t + 0.5) * cell - side / 2
            squares.append(f'<rect class="hl-fill" x="{x:.1f}" y="{y:.1f}" width="{side:.1f}" '
                           f'height="{side:.1f}" fill="{S.HIGHLIGHT["light"]}">'
                           f"<title>α^({t + 1},{j + 1}) = {w[t, j]:.3f}</title></rect>")
    c.raw("".join(squares), layer="nodes")
    c.text(WIDTH / 2, height - 14, "row t: the weights α^(t, j) of output y^(t) over the "
           "source x^(j), summing to 1; a square's area is its weight", size=S.SCRIPT_SIZE)
    plain = [S.plain_label(tok) for tok in target]
    peaks = ", ".join(f"{plain[t]} on {S.plain_label(source[int(np.argmax(w[t]))])} "
                      f"({w[t].max():.2f})" for t in range(Ty))
    return c.diagram(
        f"The attention weights of one translation as a grid of {Ty} rows (the output tokens "
        f"{' '.join(plain)}) by {Tx} columns (the source tokens "
        f"{' '.join(S.plain_label(tok) for tok in source)}); each weight is a blue square of area "
        f"proportional to it, and each row sums to 1. Where each output token attends most: "
        f"{peaks}.")


def _is_math(token):
    return "^" in token or "_" in token or len(token) == 1 and token.isalpha()


# ----------------------------------------------------------------- diagonal linear recurrence
def linear_recurrence_chain(T=4):
    """The diagonal linear recurrence h^(t) = λ ⊙ h^(t-1) + B x^(t) unfolded for T steps
    (1 to 6; chapter "Where recurrence went"): a chain with λ on every recurrent arrow and no
    nonlinearity, each step the affine map h -> λ ⊙ h + u^(t), stable when every |λ_i| < 1."""
    T = check_int("T", T, 1, 6)
    c = Canvas(WIDTH, 262)
    c.text(WIDTH / 2, 18, "h^(t) = λ ⊙ h^(t-1) + B x^(t)", size=S.FONT_SIZE + 1, cls="", math=True)
    y_h, y_x = 104, 196
    dx = min(110.0, (WIDTH - 86) / T)
    x0 = (WIDTH - T * dx) / 2
    hs = [c.node(x0, y_h, "h^(0)", "hidden")]
    for t in range(1, T + 1):
        h = c.node(x0 + t * dx, y_h, _sup("h", t), "hidden")
        path = c.edge(hs[-1], h)
        mx = (path[0][0] + path[-1][0]) / 2
        c.tag(mx, y_h - 20, "λ ⊙")
        x = c.node(x0 + t * dx, y_x, _sup("x", t), "input")
        c.edge(x, h, label="B", label_at=0.45, label_shift=(-16, 0))
        hs.append(h)
    c.text(WIDTH / 2, 236, "no tanh: each step is the affine map h ↦ λ ⊙ h + B x^(t); "
           "stable when every |λ_i| < 1", size=S.SMALL_SIZE, math=True)
    c.text(WIDTH / 2, 254, "composing two steps is again such a map, so a parallel scan "
           "computes all h^(t)", size=S.SCRIPT_SIZE)
    return c.diagram(
        f"The diagonal linear recurrence h(t) = lambda * h(t-1) + B x(t) unfolded for {T} steps: "
        f"a chain h(0) to h({T}) with the element-wise product by lambda on every arrow and no "
        f"nonlinearity, and the inputs x(1) to x({T}) below it, each entering through B. Each "
        f"step is the affine map h to lambda * h + u(t); the recurrence is stable when every "
        f"|lambda_i| < 1, and because two such maps compose into one, a parallel scan computes "
        f"all the states.")
