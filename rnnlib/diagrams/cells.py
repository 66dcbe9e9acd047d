"""The gated cells, drawn by hand (chapter "Gated cells: LSTM and GRU").

The notation is rnnlib.lstm's and rnnlib.gru's: LSTM gates i (input), f (forget), q (output;
o is the RNN's output), candidate g, cell state s (c is the output bias); GRU gates z (update),
r (reset) and candidate h̃.
"""
from __future__ import annotations

from . import style as S
from ._checks import check_bool
from .svg import Canvas

W_COL = S.FIGURE_WIDTH


def _dot(c, x, y):
    c.raw(f'<circle class="head" cx="{x}" cy="{y}" r="3.6" fill="{S.LINE["light"]}"/>')


def _line(c, points, cls=""):
    """A polyline without an arrowhead (a bus or a branch that goes on)."""
    c.edge(points[0], points[-1], via=points[1:-1], head=False, cls=cls)


def lstm_cell(carousel=True):
    """The LSTM cell: gates i, f, q (σ), candidate g (tanh), cell state s^(t-1) -> s^(t) along
    the top with the constant error carousel highlighted (carousel=False: not highlighted)."""
    check_bool("carousel", carousel)
    c = Canvas(W_COL, 380)
    yc, ym, yg, yb = 78, 150, 222, 300
    hl = "hl" if carousel else ""
    s_prev = c.node(40, yc, "s^(t-1)", "hidden", cls=hl)
    mul_f = c.node(190, yc, "×", "operation", math=False, w=32, h=32)
    add = c.node(340, yc, "+", "operation", math=False, w=32, h=32)
    s_new = c.node(626, yc, "s^(t)", "hidden", cls=hl)
    if carousel:
        c.band([(40, yc), (626, yc)], width=16, opacity=0.22)
    c.edge(s_prev, mul_f, cls=hl)
    c.edge(mul_f, add, cls=hl)
    c.edge(add, s_new, cls=hl)
    gate_size = dict(w=58, h=44)
    f = c.node(190, yg, "f^(t)", "operation", sublabel="σ", **gate_size)
    i = c.node(290, yg, "i^(t)", "operation", sublabel="σ", **gate_size)
    g = c.node(390, yg, "g^(t)", "operation", sublabel="tanh", **gate_size)
    q = c.node(500, yg, "q^(t)", "operation", sublabel="σ", **gate_size)
    mul_ig = c.node(340, ym, "×", "operation", math=False, w=32, h=32)
    tanh_s = c.node(562, ym, "tanh", "operation", math=False, size=14)
    mul_q = c.node(562, yg, "×", "operation", math=False, w=32, h=32)
    h_prev = c.node(40, yb, "h^(t-1)", "hidden")
    h_new = c.node(626, yb, "h^(t)", "hidden")
    x = c.node(120, 352, "x^(t)", "input")
    c.edge(f, mul_f)
    c.edge(i, mul_ig)
    c.edge(g, mul_ig)
    c.edge(mul_ig, add)
    _dot(c, 562, yc)
    c.edge((562, yc), tanh_s)
    c.edge(tanh_s, mul_q)
    c.edge(q, mul_q)
    c.edge(mul_q, h_new, via=[(562, yb)])
    # the bus [h^(t-1), x^(t)] feeding the four gates
    _line(c, [h_prev.side("e"), (500, yb)])
    c.edge(x, (120, yb), head=False)
    _dot(c, 120, yb)
    for gate in (f, i, g, q):
        _dot(c, gate.x, yb)
        c.edge((gate.x, yb), gate)
    c.text(160, yb + 20, "[h^(t-1), x^(t)]: every gate k has its own W_k, U_k, b_k",
           size=S.SCRIPT_SIZE, anchor="start", math=True)
    if carousel:
        c.text(14, 20, "constant error carousel: ∂J/∂s^(t-1) = f^(t) ⊙ ∂J/∂s^(t) + …",
               size=S.SMALL_SIZE, anchor="start", cls="hl-text", math=True, weight="600")
    c.text(652, yb + 40, "to o^(t) and the next step", size=S.SCRIPT_SIZE, anchor="end",
           math=True)
    return c.diagram(
        "The LSTM cell. Along the top runs the cell state from s(t-1) to s(t): it is multiplied "
        "by the forget gate f(t) and then the product of the input gate i(t) and the candidate "
        "g(t) is added" + (" (this path, the constant error carousel, is highlighted: its "
                           "gradient is only multiplied by f(t))" if carousel else "") +
        ". Along the bottom, h(t-1) and the input x(t) feed the four gate layers f(t), i(t), "
        "q(t) (sigmoid) and g(t) (tanh), each with its own W, U and b. The new hidden state "
        "h(t) is the output gate q(t) times tanh(s(t)).")


def gru_cell():
    """The GRU cell: update gate z, reset gate r (σ), candidate h̃ (tanh) from x^(t) and
    r ⊙ h^(t-1), and h^(t) = (1 - z) ⊙ h^(t-1) + z ⊙ h̃^(t) along the top."""
    c = Canvas(W_COL, 380)
    yt, ym, yg, yb = 70, 150, 228, 300
    h_prev = c.node(40, yt, "h^(t-1)", "hidden")
    mix = c.node(505, yt, "(1 − z) ⊙ h^(t-1) + z ⊙ h̃^(t)", "operation", size=13, h=36)
    h_new = c.node(628, yt, "h^(t)", "hidden")
    c.edge(h_prev, mix)
    c.edge(mix, h_new)
    gate_size = dict(w=58, h=44)
    r = c.node(190, yg, "r^(t)", "operation", sublabel="σ", **gate_size)
    cand = c.node(420, yg, "h̃^(t)", "operation", sublabel="tanh", **gate_size)
    z = c.node(580, yg, "z^(t)", "operation", sublabel="σ", **gate_size)
    mul_r = c.node(300, ym, "×", "operation", math=False, w=32, h=32)
    _dot(c, 300, yt)
    c.edge((300, yt), mul_r)
    c.edge(r, mul_r)
    c.edge(mul_r, cand)
    c.text(300 - 22, ym - 26, "r ⊙ h^(t-1)", size=S.SCRIPT_SIZE, anchor="end", math=True)
    c.edge(cand, mix, start=(cand.x + 10, cand.top), end=(cand.x + 40, mix.bottom))
    c.edge(z, mix, start=(z.x - 6, z.top), end=(z.x - 20, mix.bottom + 1))
    # the bus [h^(t-1), x^(t)] feeds the two gates; the candidate reads x^(t)
    _dot(c, 90, yt)
    _line(c, [(90, yt), (90, yb), (580, yb)])
    x = c.node(150, 352, "x^(t)", "input")
    c.edge(x, (150, yb), head=False)
    _dot(c, 150, yb)
    for gate in (r, z):
        _dot(c, gate.x, yb)
        c.edge((gate.x, yb), gate)
    _dot(c, 420, yb)
    c.edge((420, yb), cand)
    c.text(430, yb - 16, "x^(t)", size=S.SCRIPT_SIZE, anchor="start", math=True)
    c.text(200, yb + 20, "[h^(t-1), x^(t)]: each of r, z, h̃ has its own W, U, b",
           size=S.SCRIPT_SIZE, anchor="start", math=True)
    c.text(14, 20, "h^(t) mixes the old state and the candidate: z = 0 keeps h^(t-1)",
           size=S.SMALL_SIZE, anchor="start", math=True)
    return c.diagram(
        "The GRU cell. Along the top, the new state h(t) = (1 - z(t)) h(t-1) + z(t) h-tilde(t) "
        "mixes the old state h(t-1) and the candidate h-tilde(t). Below, h(t-1) and the input "
        "x(t) feed the reset gate r(t) and the update gate z(t) (sigmoid); the candidate "
        "h-tilde(t) (tanh) reads x(t) and the reset state r(t) times h(t-1).")
