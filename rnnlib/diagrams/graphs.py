"""Computational graphs of :mod:`rnnlib.graph`, laid out by Graphviz ``dot`` and drawn in the
book's visual language (chapters "Computational graphs" and "Recurrence and unfolding").

``dot`` (the Debian/Homebrew/conda package ``graphviz``, driven by the PyPI package
``graphviz``) places the nodes in ranks and routes the edges as splines that avoid crossings;
this module then draws the nodes itself (role shapes and colours, labels in the lecture's
notation, operations as yellow ellipses sized to their symbol). In an unrolled network each
shared parameter is a single node in a lane at the left, with one bus (a wire in the
parameter colour) tapping into every step; the other arrows get a halo of the background
colour, so where one crosses a bus the bus shows a gap (no junction dot: no connection).
Without Graphviz the nodes are placed by :func:`rnnlib.graph.layout` (the book's own layered
layout) and one warning says so.
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


def _steps(specs, edges):
    """The time step of each node: the (t) in its name, else that of what it feeds (an
    operation belongs to the step of its result). None for nodes outside the steps."""
    step = {}
    for key, sp in specs.items():
        m = _STEP.search(sp.label) if sp.role not in ("operation", "value") else None
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


def _dot_positions(specs, edges, rankdir, ranksep=0.26, leave_out=(), step_gap=2):
    """Run dot: node centres and edge splines in px, y down, and the drawing's size. Nodes in
    ``leave_out`` (and their edges) are not given to dot (they are placed afterwards)."""
    import graphviz

    leave_out = set(leave_out)
    dg = graphviz.Digraph(engine="dot")
    dg.attr(rankdir=rankdir, nodesep="0.12", ranksep=f"{ranksep:.3f}", splines="spline",
            newrank="true", margin="0", pad="0.06", ordering="in")
    dg.attr("node", fixedsize="true", label="", margin="0")
    dg.attr("edge", arrowhead="none", arrowsize="0.6")
    shape_of = {"circle": "circle", "ellipse": "ellipse", "hexagon": "hexagon",
                "rect": "box", "roundrect": "box", "chamfer": "box"}
    keys = [key for key in specs if key not in leave_out]
    names = {key: f"n{i}" for i, key in enumerate(keys)}
    step = _steps(specs, edges)
    steps = sorted({s for s in step.values() if s is not None})

    def add(graph, key):
        sp = specs[key]
        graph.node(names[key], shape=shape_of.get(sp.shape, "box"),
                   width=f"{sp.w / PX_PER_INCH:.3f}", height=f"{sp.h / PX_PER_INCH:.3f}")

    for s in steps if len(steps) > 1 else []:      # one cluster per time step: steps side by side
        with dg.subgraph(name=f"cluster_{s}") as sub:
            sub.attr(margin=str(step_gap), style="invis")
            for key in keys:
                if step[key] == s:
                    add(sub, key)
    for key in keys:
        if len(steps) <= 1 or step[key] is None:
            add(dg, key)
    recurrent = set()
    for a, b in edges:
        if a in leave_out or b in leave_out:
            continue
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
        if e.get("style") == "invis" or "pos" not in e:
            continue
        points = []
        for part in e["pos"].split(";")[0].split(" "):
            if part.startswith(("e,", "s,")):
                continue
            x, y = (float(v) for v in part.split(","))
            points.append((x - x0, height - (y - y0)))
        splines.append(((gvid[e["tail"]], gvid[e["head"]]), points))
    # dot routes an edge that runs against the ranks (h^(t-1) down into step t) around the
    # whole drawing; a straight arrow through the gap between the two steps is clearer
    splines = [(ab, None if ab in recurrent else pts) for ab, pts in splines]
    if len(steps) > 1 and _order_steps(pos, specs, step):
        splines = [(ab, None) for ab, _ in splines]        # moved: straight arrows
    return pos, splines, x1 - x0, height, recurrent


def _order_steps(pos, specs, step):
    """Put the step columns left to right in time order (dot places unconnected steps in any
    order); True if any moved. h^(0) (step 0) counts as the first column."""
    extent = {}
    for key, (x, _) in pos.items():
        s = step.get(key)
        if s is None:
            continue
        lo, hi = extent.get(s, (math.inf, -math.inf))
        half = specs[key].w / 2
        extent[s] = (min(lo, x - half), max(hi, x + half))
    found = sorted(extent, key=lambda s: extent[s][0])
    if found == sorted(extent):
        return False
    spans = sorted(extent.values())
    gaps = [b[0] - a[1] for a, b in zip(spans, spans[1:])]
    gap = max(8.0, sum(gaps) / len(gaps)) if gaps else 8.0
    start = spans[0][0]
    shift = {}
    for s in sorted(extent):
        lo, hi = extent[s]
        shift[s] = start - lo
        start += hi - lo + gap
    for key, (x, y) in list(pos.items()):
        if step.get(key) is not None:
            pos[key] = (x + shift[step[key]], y)
    return True


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


class GraphLayoutWarning(UserWarning):
    """A layout request (height, parameters_on_top) that the drawing could not meet."""


def _layout_warning(message):
    warnings.warn(message, GraphLayoutWarning, stacklevel=4)


def _parameter_keys(specs, variables):
    leaf = {id(v) for v in variables if v.kind == "parameter" and v.creator is None}
    return [key for key in specs if key in leaf]


def draw_graph(outputs, show_grads=False, parameters_on_top=False, title=None, width=None,
               height=None, compact=None, rankdir=None, alt=None, layout="auto"):
    """Draw the rnnlib.graph graph computing ``outputs`` as a Diagram (see rnnlib.graph.draw).

    layout: "dot" (Graphviz; an error if missing), "fallback" (rnnlib.graph.layout) or "auto"
    (dot when available, else the fallback with one warning). rankdir: dot's direction,
    "LR" (left to right, the default) or "BT" (bottom to top: an unrolled network's default).
    An unrolled network (nodes named for two or more time steps) has its steps side by side,
    and each parameter that several steps use is one node in a lane at the left with one bus
    (a wire in the parameter colour) that taps into every step; the recurrent arrows run
    through the gaps between the steps. parameters_on_top (left-to-right graphs): the
    parameters in a row above the graph, each over the operations that use it; it is ignored,
    with a GraphLayoutWarning, for an unrolled network (its lane is at the left).
    width: the largest width in px (default: the 660 px figure width). height: the largest
    height in px: a taller layout is drawn with its ranks closer together, down to a minimum
    spacing; if it is still taller, a GraphLayoutWarning says so (text is never shrunk below
    12 px, so drawings are not scaled). compact: hide unnamed intermediate values that feed
    one operation (default: for graphs of more than 14 variables), the operation's ellipse
    stands for its result."""
    from .. import graph as g

    outs = g._check_outputs(outputs)
    if layout not in ("auto", "dot", "fallback"):
        raise ValueError(f"layout must be 'auto', 'dot' or 'fallback', got {layout!r}")
    if rankdir is not None and rankdir not in ("LR", "BT", "TB", "RL"):
        raise ValueError(f"rankdir must be 'LR', 'BT', 'TB' or 'RL', got {rankdir!r}")
    if width is not None and (not isinstance(width, (int, float)) or isinstance(width, bool)
                              or not 200 <= width <= 4000):
        raise ValueError(f"width must be a number of px in [200, 4000], got {width!r}")
    if height is not None and (not isinstance(height, (int, float)) or isinstance(height, bool)
                               or not height > 0):
        raise ValueError(f"height must be a positive number of px or None, got {height!r}")
    variables, _ = g.graph_nodes(outs)
    if compact is None:
        compact = len(variables) > 14
    specs, edges, variables, operations, hidden = _specs(outs, show_grads, compact)
    use_dot = layout == "dot"
    if layout == "auto":
        ok, why = graphviz_available()
        use_dot = ok
        if not ok:
            _warn_once(why)
    described = describe_graph(outs, variables, operations)
    unrolled = len({s for s in _steps(specs, edges).values() if s}) > 1
    if not use_dot:
        pos, splines, W, H = _fallback_positions(outs, specs, hidden, parameters_on_top)
        canvas = _plain_canvas(specs, edges, pos, splines, W, H, set())
        diagram = canvas.diagram(alt or described, caption=title)
    else:
        if rankdir is None:
            rankdir = "BT" if unrolled else "LR"
        params = _parameter_keys(specs, variables)
        mode = None
        if unrolled and rankdir in ("BT", "TB"):
            mode = "bus"
            if parameters_on_top:
                _layout_warning("parameters_on_top is ignored for an unrolled network: its "
                                "shared parameters sit in a lane at the left, each with one "
                                "bus into every step")
        elif parameters_on_top and params:
            mode = "top"
        users = {}
        for a, b in edges:
            users.setdefault(a, []).append(b)
        shared = [p for p in params if len(users.get(p, ())) >= 2] if mode == "bus" else \
            (params if mode == "top" else [])
        seps = (0.36, 0.28, 0.22) if mode == "bus" else (0.26, 0.18, 0.12)
        for ranksep in seps:
            pos, splines, W, H, recurrent = _dot_positions(
                specs, edges, rankdir, ranksep, leave_out=shared,
                step_gap=8 if mode == "bus" else 2)
            if mode == "bus":
                canvas = _bus_canvas(specs, edges, pos, splines, W, H, recurrent, shared)
            elif mode == "top":
                canvas = _top_canvas(specs, edges, pos, splines, W, H, shared)
            else:
                canvas = _plain_canvas(specs, edges, pos, splines, W, H, recurrent)
            if height is None or canvas.height <= height or rankdir in ("LR", "RL"):
                break
        diagram = canvas.diagram(alt or described, caption=title)
        if height is not None and diagram.height > height:
            _layout_warning(f"the graph needs {diagram.height} px, more than height={height:g}; "
                            "it is drawn at its full height (text stays >= 12 px)")
        limit = width or S.FIGURE_WIDTH
        if diagram.width > limit:
            _layout_warning(f"the graph needs {diagram.width} px, more than width={limit:g}; it "
                            "shrinks with the column on the page")
    return diagram


MARGIN = 4.0


def _node(canvas, sp, x, y):
    return canvas.node(x, y, sp.label, sp.role, w=sp.w, h=sp.h, shape=sp.shape, math=sp.math,
                       bold=sp.bold, size=S.FONT_SIZE if sp.math else OP_SIZE,
                       tooltip=sp.tooltip)


def _plain_canvas(specs, edges, pos, splines, W, H, recurrent, dx=0.0, dy=0.0, extra=(0, 0),
                  halo=False, skip=()):
    """Nodes at their positions (shifted by dx, dy), edges as dot's splines (straight lines
    where there are none). Returns the canvas; its ``nodes_by_key`` maps keys to Nodes."""
    canvas = Canvas(W + 2 * MARGIN + dx + extra[0], H + 2 * MARGIN + dy + extra[1])
    nodes = {key: _node(canvas, sp, pos[key][0] + MARGIN + dx, pos[key][1] + MARGIN + dy)
             for key, sp in specs.items() if key in pos}
    canvas.nodes_by_key = nodes
    if splines is None:
        for a, b in edges:
            if a in nodes and b in nodes:
                canvas.edge(nodes[a], nodes[b], halo=halo)
        return canvas
    for (a, b), points in splines:
        if (a, b) in skip:
            continue
        if points is None:
            canvas.edge(nodes[a], nodes[b], halo=halo)
        else:
            canvas.spline([(x + MARGIN + dx, y + MARGIN + dy) for x, y in points], halo=halo)
    return canvas


def _top_canvas(specs, edges, pos, splines, W, H, params):
    """parameters_on_top: the parameters in a row above the graph, each over the mean position
    of the operations that use it, with straight arrows down to them."""
    row_h = max(specs[p].h for p in params) + 34
    users = {p: [b for a, b in edges if a == p and b in pos] for p in params}
    want = {p: (sum(pos[b][0] for b in users[p]) / len(users[p]) if users[p] else 0.0)
            for p in params}
    order = sorted(params, key=lambda p: want[p])
    xs, right = {}, 0.0
    for p in order:                                      # left to right, no overlaps
        half = specs[p].w / 2
        x = max(want[p], right + half + 10, half)
        xs[p] = x
        right = x + half
    extra_w = max(0.0, right - W)
    canvas = _plain_canvas(specs, edges, pos, splines, W, H, set(), dy=row_h,
                           extra=(extra_w, 0))
    nodes = canvas.nodes_by_key
    for p in params:
        node = _node(canvas, specs[p], xs[p] + MARGIN, MARGIN + specs[p].h / 2 + 2)
        for b in users[p]:
            canvas.edge(node, nodes[b])
    return canvas


def _rows(nodes):
    """The distinct rows (y of node centres, rounded) with their top and bottom extents."""
    rows = {}
    for node in nodes:
        key = round(node.y)
        top, bottom = rows.get(key, (math.inf, -math.inf))
        rows[key] = (min(top, node.top), max(bottom, node.bottom))
    return dict(sorted(rows.items()))


def _bus_canvas(specs, edges, pos, splines, W, H, recurrent, shared):
    """An unrolled network: the steps as dot placed them, each shared parameter a node in a
    lane at the left with a bus below (or above) the row of the operations it feeds and a tap
    into each; the recurrent arrows through the gaps between the steps."""
    lane_w = max(specs[p].w for p in shared) + 12 if shared else 0.0
    dx = lane_w + 4 if shared else 0.0
    straight = [(ab, None) for ab, _ in splines]          # straight arrows: crisp crossings
    canvas = _plain_canvas(specs, edges, pos, straight, W, H, recurrent, dx=dx, halo=True,
                           skip=recurrent)
    nodes = canvas.nodes_by_key
    step = _steps(specs, edges)
    # the recurrent arrows: out of h^(t-1)'s side, down the gap before step t, into its side
    columns = {}
    for key, node in nodes.items():
        if step.get(key) is not None:
            lo, hi = columns.get(step[key], (math.inf, -math.inf))
            columns[step[key]] = (min(lo, node.left), max(hi, node.right))
    for a, b in sorted(recurrent, key=lambda ab: nodes[ab[1]].x):
        na, nb = nodes[a], nodes[b]
        if na.y < nb.y - 4 and step[b] - 1 in columns and step[b] in columns:
            gx = (columns[step[b] - 1][1] + columns[step[b]][0]) / 2
            if nb.left > gx + 1:
                canvas.edge(na, nb, via=[(gx, na.y), (gx, nb.y)], start=na.side("e"),
                            end=nb.side("w"), halo=True)
                continue
        canvas.edge(na, nb, halo=True)
    if not shared:
        return canvas
    rows = _rows(nodes.values())
    keys = list(rows)
    users = {p: [b for a, b in edges if a == p] for p in shared}
    succ = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    taken = {}
    plan = []
    lowest_first = sorted(shared, key=lambda p: -sum(nodes[b].y for b in users[p]) / len(users[p]))
    for p in lowest_first:
        cons = [nodes[b] for b in users[p]]
        y_c = round(sum(n.y for n in cons) / len(cons))
        row = min(keys, key=lambda k: abs(k - y_c))
        i = keys.index(row)
        outs = [nodes[b].y for n_key in users[p] for b in succ.get(n_key, []) if b in nodes]
        up = outs and sum(outs) / len(outs) < row            # its results lie above it
        first, second = (i + 1, i) if up else (i, i + 1)     # a gap = (row above, row below)
        gap = next((g_ for g_ in (first, second) if 0 < g_ < len(keys) and g_ not in taken),
                   first if 0 < first < len(keys) else second)
        taken.setdefault(gap, []).append(p)
        plan.append((p, gap, cons))
    bus_y = {}
    for gap, ps in taken.items():
        if 0 < gap < len(keys):
            upper, lower = rows[keys[gap - 1]][1], rows[keys[gap]][0]
        else:                                            # below the last row: new space
            upper = rows[keys[-1]][1] if gap >= len(keys) else rows[keys[0]][0] - 30
            lower = upper + 30
        for k, p in enumerate(ps):
            bus_y[p] = upper + (lower - upper) * (k + 1) / (len(ps) + 1)
    # lane nodes at their bus heights, pushed apart where two would overlap
    order = sorted(shared, key=lambda p: bus_y[p])
    node_y = {}
    last = -math.inf
    for p in order:
        y = max(bus_y[p], last + (specs[p].h + 6 if last > -math.inf else 0))
        node_y[p] = y
        last = y
    lane_x = MARGIN + lane_w / 2 - 4
    elbows = 0
    for p, gap, cons in plan:
        node = _node(canvas, specs[p], lane_x, node_y[p])
        y = bus_y[p]
        start = (node.right, node_y[p])
        wire = [start]
        if abs(node_y[p] - y) > 0.5:
            ex = node.right + 5 + 5 * elbows
            elbows += 1
            wire += [(ex, node_y[p]), (ex, y)]
        taps = []
        for c in cons:
            below = y > c.y
            incident = []
            for a_, b_ in edges:
                other = nodes.get(a_) if nodes.get(b_) is c else (nodes.get(b_) if nodes.get(a_) is c
                                                                  else None)
                if other is not None and other is not c and ((other.y > c.y) == below):
                    incident.append(c.boundary((other.x, other.y))[0])
            best, best_d = c.x, -1.0
            for f in (0.0, -0.28, 0.28, -0.38, 0.38):
                tx = c.x + f * c.w
                d = min((abs(tx - ix) for ix in incident), default=math.inf)
                if d > best_d + 3:
                    best, best_d = tx, d
            taps.append((best, c, below))
        taps.sort(key=lambda t: t[0])
        wire.append((taps[-1][0], y))
        canvas.raw(_bus_svg(wire, taps, y), layer="back")
    return canvas


def _bus_svg(wire, taps, y):
    """The bus (a polyline in the parameter colour) and its taps (arrows into the consumers),
    with a dot at every junction."""
    colour = S.role_line("parameter")
    d = "M" + " L".join(f"{_fmt(px)},{_fmt(py)}" for px, py in wire)
    parts = [f'<path class="edge bus" d="{d}" stroke="{colour}" stroke-width="1.7" fill="none" '
             f'stroke-linejoin="round"/>']
    L = 9.0
    for i, (tx, c, below) in enumerate(taps):
        a, b = c.w / 2, c.h / 2
        f = min(1.0, abs(tx - c.x) / a) if a else 0.0
        if c.shape in ("circle", "ellipse"):
            reach = b * math.sqrt(max(0.0, 1 - f * f))
        else:
            reach = b
        end = c.y + reach if below else c.y - reach
        sign = 1 if below else -1                 # the tap runs from the bus toward the node
        line_end = end + sign * (L - 2)
        parts.append(f'<path class="edge bus" d="M{_fmt(tx)},{_fmt(y)} L{_fmt(tx)},'
                     f'{_fmt(line_end)}" stroke="{colour}" stroke-width="1.7" fill="none"/>')
        base = end + sign * L
        parts.append(f'<polygon class="head bus" points="{_fmt(tx)},{_fmt(end)} '
                     f'{_fmt(tx - 5)},{_fmt(base)} {_fmt(tx + 5)},{_fmt(base)}" '
                     f'fill="{colour}"/>')
        if i < len(taps) - 1:
            parts.append(f'<circle class="head bus" cx="{_fmt(tx)}" cy="{_fmt(y)}" r="3.2" '
                         f'fill="{colour}"/>')
    return f'<g class="arrow bus">{"".join(parts)}</g>'


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
