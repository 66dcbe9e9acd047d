"""Computational graphs of :mod:`rnnlib.graph`, laid out by Graphviz ``dot`` and drawn in the
book's visual language (chapters "Computational graphs" and "Recurrence and unfolding").

``dot`` (the Debian/Homebrew/conda package ``graphviz``, driven by the PyPI package
``graphviz``) places the nodes in ranks and routes the edges as splines that avoid crossings;
this module then draws the nodes itself (role shapes and colours, labels in the lecture's
notation, operations as yellow ellipses sized to their symbol). Shared parameters are single
nodes, kept in one rank above (or beside) the graph. Without Graphviz the nodes are placed by
:func:`rnnlib.graph.layout` (the book's own layered layout) and one warning says so.
"""
from __future__ import annotations

import json
import math
import warnings

import numpy as np

from . import style as S
from .svg import Canvas, Node, _fmt

_warned = False
OP_SIZE = 14                # px: operation symbols ("matmul", "tanh") inside their ellipses
PX_PER_INCH = 72.0


class GraphvizMissingWarning(UserWarning):
    """Graphviz is not installed: graphs are drawn with rnnlib's own layered layout."""


def _warn_once(reason):
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            f"Graphviz is not available ({reason}); drawing with rnnlib's own layered layout, "
            "whose edges may cross. Install the Graphviz program (apt install graphviz, brew "
            "install graphviz or conda install graphviz) and the Python package "
            "(pip install graphviz) for the book's layout.", GraphvizMissingWarning, stacklevel=4)


def graphviz_available():
    """(True, "") when the graphviz package imports and the dot program runs, else (False, why)."""
    try:
        import graphviz
    except ImportError:
        return False, "the Python package graphviz is not installed"
    try:
        graphviz.version()
    except graphviz.ExecutableNotFound:
        return False, "the program dot is not on the PATH"
    except Exception as error:                                   # pragma: no cover
        return False, f"dot failed: {error}"
    return True, ""


# ------------------------------------------------------------------------------ the roles
def variable_role(v, outputs):
    """The drawing role of a variable: its kind, with the outputs and named states refined."""
    name = v.name or ""
    if v.kind in ("input", "parameter", "constant"):
        return v.kind
    letter = name[:1]
    if letter in ("L", "J") or name.startswith("loss"):
        return "loss"
    if letter in ("h", "H", "s") and not name.startswith("s^") or name.startswith("h"):
        return "hidden"
    if id(v) in outputs:
        return "output"
    if letter in ("o", "ŷ") or name.startswith("y_hat"):
        return "output"
    return "value"


def _is_vector(v):
    return v.value.ndim >= 1 and v.value.size > 1


class _Spec:
    """What to draw for one node: label, role, shape, size (px), tooltip."""

    def __init__(self, key, label, role, w, h, shape, tooltip, bold, math):
        self.key, self.label, self.role, self.w, self.h = key, label, role, w, h
        self.shape, self.tooltip, self.bold, self.math = shape, tooltip, bold, math


def _summary(array):
    array = np.asarray(array)
    if array.size <= 4:
        return np.array2string(np.round(array.astype(float), 4), separator=", ")
    return f"shape {array.shape}, norm {np.linalg.norm(array):.4g}"


def _specs(outputs, show_grads, compact):
    from .. import graph as g

    variables, operations = g.graph_nodes(outputs)
    out_ids = {id(v) for v in outputs}
    names = {}
    hidden = set()
    if compact:                     # unnamed single-use intermediates: the op stands for them
        users = {}
        for op in operations:
            for u in op.inputs:
                users.setdefault(id(u), []).append(op)
        hidden = {id(v) for v in variables if v.name is None and v.creator is not None
                  and id(v) not in out_ids and len(users.get(id(v), [])) == 1}
    specs, edges = {}, []
    for v in variables:
        if id(v) in hidden:
            continue
        label = g._label(v, names)
        role = variable_role(v, out_ids)
        tip = f"{S.plain_label(label)} ({v.kind}): {_summary(v.value)}"
        if show_grads:
            tip += "; gradient: " + ("none" if v.grad is None else _summary(v.grad))
        bold = _is_vector(v)
        lw = S.label_width(label, S.FONT_SIZE, True, bold)
        shape = S.SHAPES.get(role, "circle")
        if shape == "circle":
            w = h = max(38.0, lw + 12)
        else:
            w, h = max(36.0, lw + 16), 32.0
        specs[id(v)] = _Spec(id(v), label, role, w, h, shape, tip, bold, True)
    for op in operations:
        sym = op.symbol
        lw = S.label_width(sym, OP_SIZE, math=False)
        w = max(32.0, lw + 18)
        specs[id(op)] = _Spec(id(op), sym, "operation", w, 30.0, "ellipse",
                              f"operation {sym}", False, False)
        for u in op.inputs:
            src = u.creator if id(u) in hidden else u
            edges.append((id(src), id(op)))
        if id(op.output) not in hidden:
            edges.append((id(op), id(op.output)))
    return specs, edges, variables, operations, hidden


# ------------------------------------------------------------------------------ layouts
_STEP = __import__("re").compile(r"\^\((\d+)\)")
_LOSS_STEP = __import__("re").compile(r"[JL]_(\d+)")        # the per-step loss J_t


def _steps(specs, edges):
    """The time step of each node: the (t) in its name, else that of what it feeds (an
    operation belongs to the step of its result). None for nodes outside the steps."""
    step = {}
    for key, sp in specs.items():
        m = _STEP.search(sp.label) if sp.role not in ("operation", "value") else None
        if m is None and sp.role == "loss":
            m = _LOSS_STEP.fullmatch(sp.label)
        step[key] = int(m.group(1)) if m else None
    if not any(sp.role == "hidden" and step[key] is not None for key, sp in specs.items()):
        return {key: None for key in specs}          # not an unrolled network: no steps
    succ = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    for _ in range(4):                         # ops and unnamed values: from their results
        for key, sp in specs.items():
            if step[key] is None and sp.role in ("operation", "value"):
                found = [step[b] for b in succ.get(key, []) if step[b] is not None]
                if found:
                    step[key] = min(found)
    return step


def _dot_positions(specs, edges, params_rank, rankdir):
    """Run dot: node centres and edge splines in px, y down, and the drawing's size."""
    import graphviz

    dg = graphviz.Digraph(engine="dot")
    dg.attr(rankdir=rankdir, nodesep="0.12", ranksep="0.26", splines="spline",
            newrank="true", margin="0", pad="0.06", ordering="in")
    dg.attr("node", fixedsize="true", label="", margin="0")
    dg.attr("edge", arrowhead="none", arrowsize="0.6")
    shape_of = {"circle": "circle", "ellipse": "ellipse", "hexagon": "hexagon",
                "rect": "box", "roundrect": "box", "chamfer": "box"}
    names = {key: f"n{i}" for i, key in enumerate(specs)}
    step = _steps(specs, edges)
    steps = sorted({s for s in step.values() if s is not None})

    def add(graph, key):
        sp = specs[key]
        graph.node(names[key], shape=shape_of.get(sp.shape, "box"),
                   width=f"{sp.w / PX_PER_INCH:.3f}", height=f"{sp.h / PX_PER_INCH:.3f}")

    for s in steps if len(steps) > 1 else []:      # one cluster per time step: steps side by side
        with dg.subgraph(name=f"cluster_{s}") as sub:
            sub.attr(margin="2", style="invis")
            for key in specs:
                if step[key] == s:
                    add(sub, key)
    for key in specs:
        if len(steps) <= 1 or step[key] is None:
            add(dg, key)
    if params_rank:
        with dg.subgraph() as sub:
            sub.attr(rank="min" if rankdir in ("TB", "LR") else "max")
            for key in params_rank:
                sub.node(names[key])
    recurrent = set()
    for a, b in edges:
        back_in_time = (step[a] is not None and step[b] is not None and step[b] > step[a]
                        and specs[a].role in ("hidden", "value", "output"))
        if back_in_time:
            recurrent.add((a, b))
        dg.edge(names[a], names[b], constraint="false" if back_in_time else "true")
    data = json.loads(dg.pipe(format="json").decode("utf-8"))
    x0, y0, x1, y1 = (float(v) for v in data["bb"].split(","))
    height = y1 - y0
    pos = {}
    back = {v: k for k, v in names.items()}
    gvid = {}
    for obj in data.get("objects", []):
        if obj.get("name") in back:
            x, y = (float(v) for v in obj["pos"].split(","))
            pos[back[obj["name"]]] = (x - x0, height - (y - y0))
            gvid[obj["_gvid"]] = back[obj["name"]]
    splines = []
    for e in data.get("edges", []):
        points = []
        for part in e["pos"].split(" "):
            if part.startswith(("e,", "s,")):
                continue
            x, y = (float(v) for v in part.split(","))
            points.append((x - x0, height - (y - y0)))
        splines.append(((gvid[e["tail"]], gvid[e["head"]]), points))
    # dot routes an edge that runs against the ranks (h^(t-1) down into step t) around the
    # whole drawing; a straight arrow through the gap between the two steps is clearer
    splines = [(ab, None if ab in recurrent else pts) for ab, pts in splines]
    return pos, splines, x1 - x0, height


def _fallback_positions(outputs, specs, hidden, parameters_on_top):
    """rnnlib.graph.layout's layered layout (no Graphviz), scaled to px."""
    from .. import graph as g

    coords, _, _ = g.layout(outputs, parameters_on_top=parameters_on_top)
    coords = {k: v for k, v in coords.items() if k in specs}
    xs = [c[0] for c in coords.values()]
    ys = [c[1] for c in coords.values()]
    step_x = 64.0
    step_y = 58.0
    pos = {k: ((x - min(xs)) * step_x + 40, (max(ys) - y) * step_y + 30)
           for k, (x, y) in coords.items()}
    width = (max(xs) - min(xs)) * step_x + 80
    height = (max(ys) - min(ys)) * step_y + 60
    return pos, None, width, height


# ------------------------------------------------------------------------------ drawing
def _cubic_point(p0, p1, p2, p3, t):
    s = 1 - t
    return (s ** 3 * p0[0] + 3 * s * s * t * p1[0] + 3 * s * t * t * p2[0] + t ** 3 * p3[0],
            s ** 3 * p0[1] + 3 * s * s * t * p1[1] + 3 * s * t * t * p2[1] + t ** 3 * p3[1])


def draw_graph(outputs, show_grads=False, parameters_on_top=False, title=None, width=None,
               height=None, compact=None, rankdir=None, alt=None, layout="auto"):
    """Draw the rnnlib.graph graph computing ``outputs`` as a Diagram (see rnnlib.graph.draw).

    layout: "dot" (Graphviz; an error if missing), "fallback" (rnnlib.graph.layout) or "auto"
    (dot when available, else the fallback with one warning). rankdir: dot's direction,
    "LR" (left to right, the default) or "BT" (bottom to top, parameters on the left).
    width: the largest width in px the drawing may take (default: the 688 px column); a wider
    layout is scaled down, never below a 12 px text size. height: ignored (kept for the API).
    compact: hide unnamed intermediate values that feed one operation (default: for graphs of
    more than 14 variables), the operation's ellipse stands for its result."""
    from .. import graph as g

    outs = g._check_outputs(outputs)
    if layout not in ("auto", "dot", "fallback"):
        raise ValueError(f"layout must be 'auto', 'dot' or 'fallback', got {layout!r}")
    if rankdir is not None and rankdir not in ("LR", "BT", "TB", "RL"):
        raise ValueError(f"rankdir must be 'LR', 'BT', 'TB' or 'RL', got {rankdir!r}")
    if width is not None and (not isinstance(width, (int, float)) or isinstance(width, bool)
                              or not 200 <= width <= 4000):
        raise ValueError(f"width must be a number of px in [200, 4000], got {width!r}")
    variables, _ = g.graph_nodes(outs)
    if compact is None:
        compact = len(variables) > 14
    specs, edges, variables, operations, hidden = _specs(outs, show_grads, compact)
    params = [id(v) for v in variables if v.kind == "parameter" and v.creator is None
              and parameters_on_top]
    use_dot = layout == "dot"
    if layout == "auto":
        ok, why = graphviz_available()
        use_dot = ok
        if not ok:
            _warn_once(why)
    if use_dot:
        if rankdir is None:          # unrolled graphs: steps side by side, bottom to top
            rankdir = "BT" if len({s for s in _steps(specs, edges).values() if s}) > 1 else "LR"
        if rankdir in ("BT", "TB"):
            params = []              # parameters sit beside the steps that use them
        pos, splines, W, H = _dot_positions(specs, edges, params, rankdir)
    else:
        pos, splines, W, H = _fallback_positions(outs, specs, hidden, parameters_on_top)
    margin = 4.0
    canvas = Canvas(W + 2 * margin, H + 2 * margin)
    nodes = {}
    for key, sp in specs.items():
        x, y = pos[key]
        nodes[key] = canvas.node(x + margin, y + margin, sp.label, sp.role if sp.role != "value" else "value",
                                 w=sp.w, h=sp.h, shape=sp.shape, math=sp.math, bold=sp.bold,
                                 size=S.FONT_SIZE if sp.math else OP_SIZE,
                                 tooltip=sp.tooltip)
    if splines is not None:
        for (a, b), points in splines:
            if points is None:
                canvas.edge(nodes[a], nodes[b])
                continue
            pts = [(x + margin, y + margin) for x, y in points]
            canvas.spline(pts)
    else:
        for a, b in edges:
            canvas.edge(nodes[a], nodes[b])
    described = describe_graph(outs, variables, operations)
    diagram = canvas.diagram(alt or described, caption=title)
    limit = width or S.COLUMN_WIDTH
    if diagram.width > limit:
        diagram = _scaled(diagram, limit)
    return diagram


def _scaled(diagram, limit):
    """Shrink a too-wide drawing to ``limit`` px by its viewBox, unless text would drop below
    12 px; then it keeps its size (and the figure scrolls)."""
    smallest = S.SCRIPT_SIZE
    scale = max(limit / diagram.width, S.MIN_FONT_PX / smallest)
    if scale >= 1:
        return diagram
    W, H = round(diagram.width * scale), round(diagram.height * scale)
    svg = diagram.svg.replace(f'width="{diagram.width}" height="{diagram.height}"',
                              f'width="{W}" height="{H}"', 1)
    diagram.svg, diagram.width, diagram.height = svg, W, H
    return diagram


def describe_graph(outputs, variables, operations):
    """Alt text of a computational graph: its inputs, parameters, operations and outputs."""
    from .. import graph as g

    names = {}
    kinds = {"input": [], "parameter": [], "constant": []}
    for v in variables:
        if v.creator is None and v.kind in kinds:
            kinds[v.kind].append(S.plain_label(g._label(v, names)))
    counts = {}
    for op in operations:
        counts[op.symbol] = counts.get(op.symbol, 0) + 1
    ops = ", ".join(f"{n} {sym}" for sym, n in counts.items())
    outs = ", ".join(S.plain_label(g._label(v, names)) for v in outputs)
    text = f"Computational graph computing {outs}"
    parts = []
    if kinds["input"]:
        parts.append("inputs " + ", ".join(kinds["input"]))
    if kinds["parameter"]:
        parts.append("parameters " + ", ".join(kinds["parameter"]) + " (each one shared node)")
    if kinds["constant"]:
        parts.append("constants " + ", ".join(kinds["constant"]))
    if parts:
        text += " from " + "; ".join(parts)
    return text + f"; {len(operations)} operations ({ops}); arrows run from inputs to results."
