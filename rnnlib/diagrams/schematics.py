"""Schematic drawings of the lecture's structures, boxes placed by hand in code.

Chapters: "Sequence modeling" (:func:`sequence_pattern`, :func:`sequence_patterns`),
"Recurrence and unfolding" (:func:`unfolding`, :func:`unfolding_explorer`,
:func:`driven_system`), "The RNN's equations" (:func:`rnn_step`), "Design patterns and deep RNNs"
(:func:`design_pattern`, :func:`deep_rnn`), "Backpropagation through time" (:func:`bptt_paths`,
:func:`bptt_explorer`), "Exploding and vanishing gradients" (:func:`jacobian_chain`,
:func:`skip_connections`).
"""
from __future__ import annotations

from collections import deque

from . import style as S
from ._checks import check_bool, check_choice, check_int
from .svg import Canvas, InteractiveDiagram

W_COL = S.FIGURE_WIDTH


def _sup(name, t):
    return f"{name}^({t})"


# ------------------------------------------------------------------ sequence modeling patterns
PATTERNS = ("many-to-one", "one-to-many", "many-to-many", "encoder-decoder")
_PATTERN_TEXT = {
    "many-to-one": "many-to-one: read x(1) to x(3), one output y_hat(3) at the end",
    "one-to-many": "one-to-many: one input x(1), an output y_hat(t) at every step t = 1, 2, 3",
    "many-to-many": "many-to-many, aligned: an input x(t) and an output y_hat(t) at every step "
                    "t = 1, 2, 3",
    "encoder-decoder": "encoder-decoder: an encoder reads x(1) to x(3) into states h(1) to h(3); "
                       "its last state is the context C, the decoder's first state; the decoder "
                       "states s(1), s(2) read the previous token y(0) = <bos>, y(1) and write "
                       "y_hat(1), y_hat(2), a sequence of another length",
}


def _pattern_panel(c, kind, ox, oy, width):
    """Draw one pattern into canvas c in the box (ox, oy, width, 230)."""
    c.text(ox + width / 2, oy + 10, kind.replace("-", " ", 0), size=S.SMALL_SIZE + 1,
           cls="", weight="600")
    y_out, y_h, y_in = oy + 56, oy + 124, oy + 190
    if kind == "encoder-decoder":
        n_enc, n_dec = 3, 2
        dx = (width - 30) / (n_enc + n_dec)
        xs = [ox + 15 + dx * (i + 0.5) for i in range(n_enc + n_dec)]
        prev = None
        for i in range(n_enc):
            h = c.node(xs[i], y_h, _sup("h", i + 1), "hidden")
            x = c.node(xs[i], y_in, _sup("x", i + 1), "input")
            c.edge(x, h)
            if prev is not None:
                c.edge(prev, h)
            prev = h
        c.text((xs[n_enc] + xs[-1]) / 2, y_in + 26, "decoder", size=S.SCRIPT_SIZE)
        c.text((xs[0] + xs[n_enc - 1]) / 2, y_in + 26, "encoder", size=S.SCRIPT_SIZE)
        # the context C = h^(3) starts the decoder
        c.text(xs[n_enc - 1] + dx / 2, y_h - 34, "C", size=S.FONT_SIZE, cls="", math=True)
        for j in range(n_dec):
            s = c.node(xs[n_enc + j], y_h, _sup("s", j + 1), "hidden")
            y = c.node(xs[n_enc + j], y_out, _sup("ŷ", j + 1), "output")
            inp = c.node(xs[n_enc + j], y_in, _sup("y", j), "input")
            c.edge(s, y)
            c.edge(inp, s)
            c.edge(prev, s)
            prev = s
        return
    T = 3
    dx = (width - 30) / T
    xs = [ox + 15 + dx * (i + 0.5) for i in range(T)]
    prev = None
    for i, x0 in enumerate(xs):
        t = i + 1
        h = c.node(x0, y_h, _sup("h", t), "hidden")
        if prev is not None:
            c.edge(prev, h)
        prev = h
        if kind != "one-to-many" or t == 1:
            x = c.node(x0, y_in, _sup("x", t), "input")
            c.edge(x, h)
        if kind != "many-to-one" or t == T:
            y = c.node(x0, y_out, _sup("ŷ", t), "output")
            c.edge(h, y)


def sequence_pattern(kind):
    """One sequence-modeling pattern as boxes over time (chapter "Sequence modeling").

    kind: "many-to-one", "one-to-many", "many-to-many" (aligned) or "encoder-decoder".
    Inputs x^(t) are blue rectangles, hidden states green circles, outputs purple."""
    check_choice("kind", kind, PATTERNS)
    width = 344 if kind != "encoder-decoder" else 400
    c = Canvas(width, 230)
    _pattern_panel(c, kind, 0, 0, width)
    return c.diagram("Sequence modeling pattern, " + _PATTERN_TEXT[kind] + ".")


def sequence_patterns():
    """The four patterns of sequence modeling in a 2 x 2 grid (chapter "Sequence modeling")."""
    c = Canvas(W_COL, 470)
    for i, kind in enumerate(PATTERNS):
        ox, oy = (i % 2) * (W_COL / 2), (i // 2) * 240
        _pattern_panel(c, kind, ox, oy, W_COL / 2)
    alt = ("Four sequence modeling patterns, drawn as boxes over time (inputs at the bottom, "
           "hidden states in the middle, outputs on top). " +
           " ".join(f"({i + 1}) {_PATTERN_TEXT[k]}." for i, k in enumerate(PATTERNS)))
    return c.diagram(alt)


# ------------------------------------------------------------------ recurrence and unfolding
def _unfolded(c, T, x0, dx, y_h, y_x, y_o, outputs, highlight_W=False):
    """h^(0) ... h^(T) from x0, spacing dx: x^(t) below (U), W on every recurrent edge."""
    hs = [c.node(x0, y_h, "h^(0)", "hidden")]
    for t in range(1, T + 1):
        h = c.node(x0 + t * dx, y_h, _sup("h", t), "hidden")
        c.edge(hs[-1], h, label="W", label_shift=(0, -17 if dx >= 90 else -30))
        x = c.node(x0 + t * dx, y_x, _sup("x", t), "input")
        c.edge(x, h, label="U", label_at=0.45, label_shift=(-17, 0))
        if outputs:
            o = c.node(x0 + t * dx, y_o, _sup("o", t), "output")
            c.edge(h, o, label="V", label_at=0.5 if dx >= 90 else 0.72, label_shift=(-17, 0))
        hs.append(h)
    return hs


def _unfolding_canvas(T, outputs, width=W_COL, dx=None):
    top = 78 if outputs else 0
    y_o, y_h, y_x = 40, 60 + top, 150 + top
    c = Canvas(width, y_x + 40)
    # the folded network: x -> h with the self-loop W
    fx = 52
    h = c.node(fx, y_h, "h", "hidden")
    x = c.node(fx, y_x, "x", "input")
    c.edge(x, h, label="U", label_at=0.45, label_shift=(-17, 0))
    c.loop(h, "e", label="W", size=56)
    if outputs:
        o = c.node(fx, y_o, "o", "output")
        c.edge(h, o, label="V", label_shift=(-17, 0))
    c.text(fx, y_x + 26, "folded", size=S.SCRIPT_SIZE)
    # the unfold arrow
    ax0, ax1 = 140, 192
    c.edge((ax0, y_h), (ax1, y_h), width=2.2)
    c.text((ax0 + ax1) / 2, y_h - 16, "unfold", size=S.SCRIPT_SIZE)
    x_start = 232
    if dx is None:
        dx = min(110.0, (width - 24 - x_start) / T)
    hs = _unfolded(c, T, x_start, dx, y_h, y_x, y_o, outputs)
    return c, hs


def _unfolding_alt(T, outputs):
    xs = ", ".join(f"x({t})" for t in range(1, T + 1))
    text = (f"Left, the folded RNN: input x feeds the hidden state h through U, and h feeds "
            f"itself through a self-loop labelled W. Right, its unfolding for T = {T}: a chain "
            f"h(0) to h({T}), each arrow h(t-1) to h(t) labelled W, and inputs {xs} below, each "
            f"feeding h(t) through U")
    if outputs:
        text += "; above each h(t) an output o(t) through V"
    return text + ". The same W and U are used at every step."


def unfolding(T=3, outputs=False, _dx=None):
    """The folded RNN with its self-loop beside its unfolding over T steps (1 to 6)
    (chapter "Recurrence and unfolding"). outputs: also draw o^(t) = c + V h^(t)."""
    T = check_int("T", T, 1, 6)
    check_bool("outputs", outputs)
    c, _ = _unfolding_canvas(T, outputs, dx=_dx)
    return c.diagram(_unfolding_alt(T, outputs))


def unfolding_explorer(default=3, outputs=False):
    """:func:`unfolding` for T = 1..6, switched by a row of buttons; works on the static page
    (CSS only, no kernel) and in Jupyter (chapter "Recurrence and unfolding")."""
    default = check_int("default", default, 1, 6)
    check_bool("outputs", outputs)
    dx = (W_COL - 24 - 232) / 6                   # one spacing for every T: the chain grows
    states = [unfolding(T, outputs, _dx=dx) for T in range(1, 7)]
    return InteractiveDiagram(states, list(range(1, 7)), "T =", default - 1,
                              alt="The folded RNN beside its unfolding; buttons choose the "
                                  "number of steps T from 1 to 6.")


def driven_system():
    """The dynamical system driven by an input, h^(t) = f(h^(t-1), x^(t); θ), folded (with the
    delay of one step on its loop) and unfolded around step t (chapter "Recurrence and
    unfolding")."""
    c = Canvas(W_COL, 240)
    c.text(W_COL / 2, 18, "h^(t) = ~f(h^(t-1), x^(t); θ)", size=S.FONT_SIZE + 1, cls="",
           math=True)
    y_h, y_x = 110, 200
    h = c.node(52, y_h, "h", "hidden")
    x = c.node(52, y_x, "x", "input")
    c.edge(x, h)
    top = c.loop(h, "e", size=56)
    c.tag(top[0], top[1], "~f", role="operation")
    c.text(20, y_h - 40, "the loop: one step of delay", size=S.SCRIPT_SIZE, anchor="start")
    ax0, ax1 = 140, 192
    c.edge((ax0, y_h), (ax1, y_h), width=2.2)
    c.text((ax0 + ax1) / 2, y_h - 16, "unfold", size=S.SCRIPT_SIZE)
    names = ["h^(…)", "h^(t-1)", "h^(t)", "h^(t+1)", "h^(…)"]
    xs = [222, 324, 432, 540, 632]
    nodes = []
    for i, (name, x0) in enumerate(zip(names, xs)):
        if i in (0, 4):
            nodes.append((x0, y_h))
            c.text(x0, y_h, "…", size=S.FONT_SIZE + 2, cls="")
            continue
        nodes.append(c.node(x0, y_h, name, "hidden", w=58))
        t = {1: "t-1", 2: "t", 3: "t+1"}[i]
        xi = c.node(x0, y_x, f"x^({t})", "input")
        c.edge(xi, nodes[-1])
    for a, b in zip(nodes, nodes[1:]):
        pa = (a[0] + 14, a[1]) if isinstance(a, tuple) else a
        pb = (b[0] - 14, b[1]) if isinstance(b, tuple) else b
        c.edge(pa, pb, label="~f", label_role="operation", label_shift=(0, -19))
    c.text(W_COL / 2, 232, "the same ~f and θ at every step", size=S.SCRIPT_SIZE, math=True)
    return c.diagram(
        "The driven dynamical system h(t) = f(h(t-1), x(t); theta). Left, folded: the input x "
        "feeds the state h, and h feeds itself through f with a delay of one step. Right, "
        "unfolded: a chain h(t-1), h(t), h(t+1) with an arrow labelled f between neighbours "
        "and an input x(t) under every state; the same f and parameters theta at every step.")


# ----------------------------------------------------------------------------- one RNN step
def rnn_step():
    """One step of the RNN with every symbol and its shape (chapter "The RNN's equations"):
    a^(t) = b + W h^(t-1) + U x^(t), h^(t) = tanh(a^(t)), o^(t) = c + V h^(t),
    ŷ^(t) = softmax(o^(t)), the loss L^(t) against y^(t)."""
    c = Canvas(W_COL, 470)
    xa, xh = 250, 420
    ya, yx, yo, yy, yl = 330, 430, 240, 150, 56
    hp = c.node(60, ya, "h^(t-1)", "hidden", sublabel="m")
    a = c.node(xa, ya, "a^(t)", "value", sublabel="m")
    x = c.node(xa, yx, "x^(t)", "input", sublabel="d")
    tanh = c.node(335, ya, "tanh", "operation", math=False, size=14)
    h = c.node(xh, ya, "h^(t)", "hidden", sublabel="m")
    o = c.node(xh, yo, "o^(t)", "output", sublabel="C")
    soft = c.node(xh, (yo + yy) / 2 - 2, "softmax", "operation", math=False, size=13, h=26)
    y_hat = c.node(xh, yy - 20, "ŷ^(t)", "output", sublabel="C")
    loss = c.node(xh, yl, "L^(t)", "loss")
    target = c.node(556, yl, "y^(t)", "constant", sublabel="class")
    c.edge(hp, a, label="W", label_shift=(0, -19))
    c.edge(x, a, label="U", label_at=0.5, label_shift=(-19, 0))
    c.edge(a, tanh)
    c.edge(tanh, h)
    c.edge(h, o, label="V", label_at=0.5, label_shift=(-19, 0))
    c.edge(o, soft)
    c.edge(soft, y_hat)
    c.edge(y_hat, loss)
    c.edge(target, loss)
    nxt = (630, ya)
    c.edge(h, nxt, label="W", label_shift=(0, -19))
    c.text(630, ya + 22, "next step", size=S.SCRIPT_SIZE, anchor="end")
    # biases enter the sums
    b = c.node(150, 240, "b", "parameter", sublabel="m")
    cc = c.node(540, yo, "c", "parameter", sublabel="C")
    c.edge(b, a)
    c.edge(cc, o)
    # the parameter shapes
    c.text(20, 30, "shapes:", size=S.SMALL_SIZE, anchor="start", weight="600")
    for i, line in enumerate(["W: m × m", "U: m × d", "V: C × m", "b: m,  c: C"]):
        c.text(20, 52 + 20 * i, line, size=S.SMALL_SIZE, anchor="start", math=True)
    c.text(20, 140, "x: d inputs, h: m units,", size=S.SCRIPT_SIZE, anchor="start")
    c.text(20, 158, "o, ŷ: C classes", size=S.SCRIPT_SIZE, anchor="start", math=False)
    return c.diagram(
        "One step of the RNN with the shape of every symbol. The previous hidden state h(t-1) "
        "(size m) enters through W (m by m) and the input x(t) (size d) through U (m by d); "
        "with the bias b (size m) they sum to the pre-activation a(t) = b + W h(t-1) + U x(t) "
        "(size m); tanh gives h(t) (size m), which goes on through W to the next step and up "
        "through V (C by m), plus the bias c (size C), to the output o(t) (size C); softmax "
        "gives y_hat(t) (size C), and the loss L(t) compares it with the target class y(t).")


# ------------------------------------------------------------------------- design patterns
DESIGN_PATTERNS = ("hidden-to-hidden", "output-to-hidden", "sequence-to-one")
_DESIGN_TEXT = {
    "hidden-to-hidden": "recurrence from hidden state to hidden state (W) with an output o(t) "
                        "and a loss L(t) against the target y(t) at every step",
    "output-to-hidden": "recurrence from the output o(t-1) to the next hidden state h(t) "
                        "(through W), with an output and a loss at every step and no arrow "
                        "from hidden state to hidden state",
    "sequence-to-one": "recurrence from hidden state to hidden state (W) that reads the whole "
                       "sequence and has a single output o(3), loss L(3) and target y(3) at the "
                       "end",
}


def design_pattern(kind):
    """One of the three design patterns of recurrent networks, unfolded for three steps
    (chapter "Design patterns and deep RNNs"; Goodfellow et al. figures 10.3 to 10.5).

    kind: "hidden-to-hidden" (h -> h recurrence, an output at each step), "output-to-hidden"
    (o^(t-1) -> h^(t) recurrence) or "sequence-to-one" (read the whole sequence, one output)."""
    check_choice("kind", kind, DESIGN_PATTERNS)
    T = 3
    c = Canvas(W_COL, 380)
    yl, yo, yh, yx = 40, 130, 240, 335
    x0, dx = 150, 190
    hs, os = [], []
    if kind != "output-to-hidden":
        hs.append(c.node(50, yh, "h^(0)", "hidden"))
    for t in range(1, T + 1):
        xc = x0 + (t - 1) * dx
        h = c.node(xc, yh, _sup("h", t), "hidden")
        x = c.node(xc, yx, _sup("x", t), "input")
        c.edge(x, h, label="U", label_shift=(-17, 0))
        if kind != "output-to-hidden":
            c.edge(hs[-1], h, label="W", label_shift=(0, -17))
        elif os:
            c.edge(os[-1], h, label="W", label_at=0.45, label_shift=(0, -14))
        hs.append(h)
        if kind != "sequence-to-one" or t == T:
            o = c.node(xc, yo, _sup("o", t), "output")
            c.edge(h, o, label="V", label_shift=(-17, 0))
            loss = c.node(xc, yl, _sup("L", t), "loss")
            y = c.node(xc + 72, yl + 44, _sup("y", t), "constant")
            c.edge(o, loss)
            c.edge(y, loss)
            os.append(o)
    return c.diagram(f"Design pattern unfolded for three steps: {_DESIGN_TEXT[kind]}. "
                     "Inputs x(t) enter through U, outputs leave through V.")


# --------------------------------------------------------------------------------- deep RNNs
DEEP_KINDS = ("stacked", "deep-transition", "skip")


def _bfs_path(graph, source, target):
    parent, queue = {source: None}, deque([source])
    while queue:
        u = queue.popleft()
        if u == target:
            break
        for v in graph[u]:
            if v not in parent:
                parent[v] = u
                queue.append(v)
    path, node = [], target
    while node is not None:
        path.append(node)
        node = parent[node]
    return path[::-1]


def deep_rnn(kind, T=3):
    """A deep RNN unfolded over T steps (1 to 4), its shortest path from x^(1) to o^(T) marked
    (chapter "Design patterns and deep RNNs"; Goodfellow et al. figure 10.13, Pascanu et al.).

    kind: "stacked" (the hidden state in two hierarchical groups h_1, h_2), "deep-transition"
    (an MLP layer inside each map: input x' , transition z, output q) or "skip" (the deep
    transition plus a skip connection h^(t-1) -> h^(t)). The graph and the path come from
    :func:`rnnlib.deep.unrolled_graph`."""
    from .. import deep

    check_choice("kind", kind, DEEP_KINDS)
    T = check_int("T", T, 1, 4)
    if kind == "stacked":
        cfg = dict(layers=2)
        rows = {"x": 0, ("h", 1): 1, ("h", 2): 2, "o": 3}
    else:
        cfg = dict(transition_depth=2, skip=kind == "skip", input_depth=2, output_depth=2)
        rows = {"x": 0, "xi": 1, "z": 2, ("h", 1): 3, "q": 4, "o": 5}
    graph = deep.unrolled_graph(T, **cfg)
    n_rows = max(rows.values()) + 1
    dy = 62 if n_rows <= 4 else 56
    H = 60 + dy * (n_rows - 1) + 50
    c = Canvas(W_COL, H)
    dx = min(170, (W_COL - 120) / T)
    X0 = 56

    def where(node):
        kind_ = node[0]
        t = node[2] if kind_ in ("h", "z") else node[1]
        if kind_ == "h":
            row = rows[("h", node[1])]
        else:
            row = rows[kind_]
        x = X0 + t * dx
        if kind_ == "z":
            x -= dx * 0.42
        return x, H - 40 - row * dy

    def label(node):
        k = node[0]
        if k == "x":
            return _sup("x", node[1]), "input"
        if k == "o":
            return _sup("o", node[1]), "output"
        if k == "h":
            name = "h" if kind != "stacked" else f"h_{node[1]}"
            return _sup(name, node[2]), "hidden"
        if k == "xi":
            return _sup("x′", node[1]), "value"
        if k == "z":
            return _sup("z", node[2]), "value"
        return _sup("q", node[1]), "value"

    path = _bfs_path(graph, ("x", 1), ("o", T))
    on_path = set(zip(path, path[1:]))
    nodes = {}
    for node in graph:
        text, role = label(node)
        x, y = where(node)
        nodes[node] = c.node(x, y, text, role, cls="hl" if node in path else "")
    for u, succ in graph.items():
        for v in succ:
            hl = (u, v) in on_path
            bend = 0.0
            if u[0] == "h" and v[0] == "h" and u[-1] != v[-1]:
                bend = 0.0
            c.edge(nodes[u], nodes[v], cls="hl" if hl else "", bend=bend)
    n = len(path) - 1
    expected = deep.path_between_steps(T - 1, **cfg)
    assert n == expected, (n, expected)
    c.text(14, 16, f"shortest path x^(1) → o^({T}): {n} edges", size=S.SMALL_SIZE, anchor="start",
           cls="hl-text", math=True, weight="600")
    what = {"stacked": "the hidden state split into two stacked groups h_1 and h_2: x(t) feeds "
                       "h_1(t), h_1(t) feeds h_2(t), h_2(t) feeds o(t), and each group has its "
                       "own recurrence",
            "deep-transition": "an extra layer inside each map: x(t) goes through x'(t) into "
                               "the transition layer z(t), which also reads h(t-1), then to "
                               "h(t), and h(t) reaches o(t) through q(t)",
            "skip": "the deep transition (x'(t), z(t), q(t)) plus a skip connection from h(t-1) "
                    "straight to h(t)"}[kind]
    return c.diagram(f"Deep RNN unfolded for {T} steps: {what}. The shortest path from x(1) to "
                     f"o({T}) is highlighted: {n} edges.")


# -------------------------------------------------------------------------------------- BPTT
def _bptt_canvas(t, k):
    c = Canvas(W_COL, 400)
    yj, yo, yh, yx = 46, 130, 230, 320
    x0 = 60
    dx = (W_COL - 130) / t
    hs = [c.node(x0, yh, "h^(0)", "hidden")]
    for s in range(1, t + 1):
        hl = k is not None and k < s <= t
        h = c.node(x0 + s * dx, yh, _sup("h", s), "hidden",
                   cls="hl" if (k is not None and k <= s) else "")
        c.edge(hs[-1], h, label="W", label_shift=(0, -17), cls="hl" if hl else "")
        x = c.node(x0 + s * dx, yx, _sup("x", s), "input")
        c.edge(x, h, label="U", label_shift=(-17, 0), cls="faint" if k is not None else "")
        hs.append(h)
    if k is not None and k == 0:
        pass
    xt = x0 + t * dx
    o = c.node(xt, yo, _sup("o", t), "output", cls="hl" if k is not None else "")
    J = c.node(xt, yj, f"J_{t}", "loss", cls="hl" if k is not None else "")
    c.edge(hs[-1], o, label="V", label_shift=(-17, 0), cls="hl" if k is not None else "")
    c.edge(o, J, cls="hl" if k is not None else "")
    if k is None:
        c.text(W_COL / 2, 370, f"∂J_{t}/∂W = Σ_k (the path from J_{t} back to h^(k), then to W)",
               size=S.SMALL_SIZE + 1, cls="", math=True)
        return c
    n = t - k
    c.text(14, 18, f"path from J_{t} back to h^({k}): {n} Jacobian factor" + ("s" if n != 1 else ""),
           size=S.SMALL_SIZE + 1, anchor="start", cls="hl-text", math=True, weight="600")
    if n:
        formula = (f"∂J_{t}/∂h^({k}) = ∂J_{t}/∂h^({t})" +
                   "".join(f" ∂h^({i})/∂h^({i - 1})" for i in range(t, k, -1)))
    else:
        formula = f"∂J_{t}/∂h^({t}) = Vᵀ ∂J_{t}/∂o^({t})"
    size = S.SMALL_SIZE + 1 if len(formula) < 70 else S.SMALL_SIZE
    c.text(W_COL / 2, 372, formula, size=size, cls="", math=True)
    return c


def _bptt_alt(t, k):
    base = (f"Backpropagation through time for the loss J_{t} at step {t}: a chain h(0) to h({t}) "
            f"with W on every arrow, inputs x(1) to x({t}) below through U, and o({t}) and J_{t} "
            f"above h({t}).")
    if k is None:
        return base + f" The gradient of J_{t} reaches every h(k), k = 1 to {t}, along the chain."
    return base + (f" Highlighted: the path of the gradient from J_{t} through o({t}) down to "
                   f"h({t}) and back along the chain to h({k}), crossing {t - k} recurrent arrows "
                   f"(one Jacobian factor each).")


def bptt_paths(t=4, k=1):
    """The paths of BPTT from J_t back to h^(k) (chapter "Backpropagation through time"):
    the chain unfolded to step t (1 to 6), the path to h^(k) (k = 1..t) highlighted, with its
    product of t - k Jacobians; k=None highlights nothing and writes the sum over k."""
    t = check_int("t", t, 1, 6)
    if k is not None:
        k = check_int("k", k, 1, t)
    return _bptt_canvas(t, k).diagram(_bptt_alt(t, k))


def bptt_explorer(t=4, default=1):
    """:func:`bptt_paths` for k = 1..t switched by buttons: the path from J_t to h^(k), one k
    at a time (works on the static page and in Jupyter, no kernel needed)."""
    t = check_int("t", t, 1, 6)
    default = check_int("default", default, 1, t)
    states = [bptt_paths(t, k) for k in range(1, t + 1)]
    return InteractiveDiagram(states, list(range(1, t + 1)), "k =", default - 1,
                              alt=f"The paths of backpropagation through time from J_{t} back to "
                                  f"h(k); buttons choose k from 1 to {t}.")


# ---------------------------------------------------------------- exploding and vanishing
def jacobian_chain(T=4):
    """The product of Jacobians along the chain (chapter "Exploding and vanishing gradients"):
    h^(0) -> ... -> h^(T) (T = 1..5), each step's factor ∂h^(t)/∂h^(t-1) = diag(1 - h^(t)²) W
    on its arrow, and their product ∂h^(T)/∂h^(0) below."""
    T = check_int("T", T, 1, 5)
    c = Canvas(W_COL, 250)
    yh = 90
    x0 = 44
    dx = (W_COL - 2 * x0) / T
    hs = [c.node(x0, yh, "h^(0)", "hidden", cls="hl")]
    for t in range(1, T + 1):
        h = c.node(x0 + t * dx, yh, _sup("h", t), "hidden", cls="hl")
        c.edge(h, hs[-1], cls="hl", start=h.side("w"), end=hs[-1].side("e"))
        mid = x0 + (t - 0.5) * dx
        c.text(mid, yh - 34, f"∂h^({t})/∂h^({t - 1})", size=S.SMALL_SIZE if T > 4 else 14,
               cls="", math=True)
        hs.append(h)
    c.text(W_COL / 2, 22, "the gradient flows back along the chain", size=S.SMALL_SIZE,
           cls="hl-text")
    prod = " ".join(f"∂h^({t})/∂h^({t - 1})" for t in range(T, 0, -1))
    size = 14 if T <= 3 else (S.SMALL_SIZE if T <= 4 else S.SCRIPT_SIZE)
    c.text(W_COL / 2, 160, f"∂h^({T})/∂h^(0) = {prod}", size=size, cls="", math=True)
    c.text(W_COL / 2, 200, "each factor is diag(1 − (h^(t))²) W: the product of T of them",
           size=S.SMALL_SIZE, cls="muted", math=True)
    c.text(W_COL / 2, 222, "shrinks (vanishes) or grows (explodes) roughly like the T-th power "
           "of W's largest singular value", size=S.SMALL_SIZE, cls="muted")
    return c.diagram(
        f"The product of Jacobians along the chain h(0) to h({T}). Each backward arrow from h(t) "
        f"to h(t-1) is labelled with its Jacobian, the derivative of h(t) with respect to h(t-1); "
        f"the derivative of h({T}) with respect to h(0) is the product of all {T}, each equal to "
        "diag(1 - h(t) squared) times W, so it shrinks or grows like a power of W's largest "
        "singular value.")


def skip_connections(T=6, skip=3):
    """The chain h^(0) ... h^(T) with skip connections of length ``skip`` (h^(t-skip) ->
    h^(t)) and the short path they open from h^(T) back to h^(0) (chapter "Exploding and
    vanishing gradients"): T/skip Jacobian factors instead of T."""
    T = check_int("T", T, 2, 8)
    skip = check_int("skip", skip, 2, T)
    c = Canvas(W_COL, 290)
    yh = 130
    x0 = 40
    dx = (W_COL - 2 * x0) / T
    hs = []
    short = set(range(T, -1, -skip))
    if 0 not in short:
        short |= set(range(0, T % skip + 1))
    for t in range(T + 1):
        hs.append(c.node(x0 + t * dx, yh, _sup("h", t), "hidden", cls="hl" if t in short else ""))
    # the chain, and the path along it that the short path still needs
    skips = [(t - skip, t) for t in range(skip, T + 1)]
    path_skips = [(t - skip, t) for t in range(T, skip - 1, -skip)]
    rest = T % skip
    for t in range(1, T + 1):
        on = t <= rest
        c.edge(hs[t - 1], hs[t], cls="hl" if on else "")
    for a, b in skips:
        on = (a, b) in path_skips
        above = a % skip == rest
        c.edge(hs[a], hs[b], bend=52 if above else -52, cls="hl" if on else "faint",
               start=hs[a].side("n" if above else "s"), end=hs[b].side("n" if above else "s"))
    n_short = len(path_skips) + rest
    c.text(14, 18, f"shortest path h^(0) → h^({T}): {n_short} edges (Jacobian factors) with skips "
           f"of {skip}, {T} along the chain", size=S.SMALL_SIZE, anchor="start", cls="hl-text",
           math=True, weight="600")
    c.text(W_COL / 2, 272, f"skip connections h^(t-{skip}) → h^(t) drawn as arcs, the short "
           "path in blue", size=S.SMALL_SIZE, cls="muted", math=True)
    return c.diagram(
        f"A chain h(0) to h({T}) with skip connections of length {skip} drawn as arcs above it "
        f"from h(t-{skip}) to h(t). Highlighted: the shortest path between h(0) and h({T}), "
        f"{n_short} edges instead of {T}, so the gradient crosses fewer Jacobian factors.")
