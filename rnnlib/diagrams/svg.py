"""SVG primitives: a canvas of role-styled nodes and arrows, and the diagram objects it makes.

A :class:`Diagram` holds one SVG drawing (``.svg``), its alt text (``.alt``) and its size in px
(``.width``, ``.height``: drawn 1:1, at most 660 px: headless Chromium measures the book's
article at 676 px at a 1280 px window, so 12 px text stays 12 px; in a narrower column, a
phone's, the figure scales down to fit, never wider than the page). In Jupyter and in the built
book it shows as an inline ``<svg role="img" aria-label="...">`` inside a ``<figure>`` (the
HTML that myst-nb puts on the static page); its plain-text form is the alt text.

An :class:`InteractiveDiagram` holds one drawing per value of a control (T = 1..6, or k) and
shows a row of radio buttons above them. Pure CSS switches the drawings (``:has(:checked)``),
so the control works on the static page without a kernel and in Jupyter without a widget.
"""
from __future__ import annotations

import hashlib
import itertools
import math
from html import escape
from pathlib import Path

from . import style as S

_counter = itertools.count(1)


def _uid(text):
    """A page-unique id: a running number and a digest of the content."""
    return f"rnd{next(_counter)}-{hashlib.sha1(text.encode()).hexdigest()[:6]}"


# ------------------------------------------------------------------------------ the objects
class Diagram:
    """A drawing: ``svg`` (str), ``alt`` (what it shows, in words), ``width`` and ``height``
    (px, drawn 1:1) and an optional ``caption`` shown under it on the page.

    ``display(diagram)`` or ending a cell with it shows it; ``diagram.save("x.svg")`` writes the
    SVG (``.html`` writes a page with the figure)."""

    def __init__(self, svg, alt, width, height, caption=None):
        self.svg, self.alt = svg, alt
        self.width, self.height = width, height
        self.caption = caption

    def __repr__(self):
        return f"<{type(self).__name__} {self.width}x{self.height}: {self.alt}>"

    def _caption_html(self):
        return f"<figcaption>{escape(self.caption)}</figcaption>" if self.caption else ""

    def _inline_svg(self, svg=None, width=None):
        """The SVG for a page: drawn 1:1 up to the column's width and scaled down with a
        narrower column (max-width: 100%, height auto: a phone shows the whole figure)."""
        return svg or self.svg

    def _repr_html_(self):
        return (f'<figure class="rnd-fig" style="max-width:{self.width}px">'
                f"<style>{S.FIGURE_CSS}</style>{self._inline_svg()}{self._caption_html()}"
                f"</figure>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self._repr_html_(), "text/plain": self.alt}

    def show(self):
        """Display in Jupyter (the drawing API of rnnlib.graph returned figures with .show())."""
        from IPython.display import display
        display(self)

    def save(self, path):
        """Write ``path``: ``.svg`` (the drawing, standalone) or ``.html`` (a page with it)."""
        path = Path(path)
        if path.suffix.lower() == ".svg":
            path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + self.svg + "\n",
                            encoding="utf-8")
        elif path.suffix.lower() in (".html", ".htm"):
            path.write_text(f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                            f"<title>{escape(self.alt[:80])}</title></head><body>"
                            f"{self._repr_html_()}</body></html>\n", encoding="utf-8")
        else:
            raise ValueError(f"path must end in .svg or .html, got {str(path)!r}")
        return path


class InteractiveDiagram(Diagram):
    """Several drawings of one structure, one per value of a control (``values``), switched by
    radio buttons labelled ``name = value``. ``states`` lists the Diagram of each value;
    ``.svg`` and ``.alt`` are those of the state shown first (``values[default]``)."""

    def __init__(self, states, values, name, default=0, caption=None, alt=None):
        self.states, self.values, self.name, self.default = list(states), list(values), name, default
        first = self.states[default]
        super().__init__(first.svg, alt or first.alt, max(s.width for s in self.states),
                         max(s.height for s in self.states), caption)

    def state(self, value):
        """The drawing for one value of the control."""
        if value not in self.values:
            raise ValueError(f"value must be one of {self.values}, got {value!r}")
        return self.states[self.values.index(value)]

    def _repr_html_(self):
        uid = _uid("".join(s.svg for s in self.states))
        rules = [f"#{uid} .rnd-default{{display:block}}",
                 f"#{uid}:has(.rnd-control input:checked:not(#{uid}-{self.default})) "
                 f".rnd-default{{display:none}}"]
        rules += [f"#{uid}:has(#{uid}-{i}:checked) .rnd-s{i}{{display:block}}"
                  for i in range(len(self.states))]
        buttons = []
        for i, value in enumerate(self.values):
            checked = " checked" if i == self.default else ""
            buttons.append(f'<input type="radio" name="{uid}" id="{uid}-{i}" value="{value}"'
                           f'{checked}><label for="{uid}-{i}">{escape(str(value))}</label>')
        svgs = []
        for i, s in enumerate(self.states):
            extra = " rnd-default" if i == self.default else ""
            svg = s.svg.replace('class="rnd"', f'class="rnd rnd-state rnd-s{i}{extra}"', 1)
            svgs.append(self._inline_svg(svg, s.width))
        legend = escape(self.name)
        return (f'<figure class="rnd-fig rnd-interactive" id="{uid}" '
                f'style="max-width:{self.width}px">'
                f"<style>{S.FIGURE_CSS}{''.join(rules)}</style>"
                f'<div class="rnd-control" role="radiogroup" aria-labelledby="{uid}-name">'
                f'<span class="rnd-legend" id="{uid}-name">{legend}</span>{"".join(buttons)}'
                f"</div>"
                f'<div class="rnd-states">{"".join(svgs)}</div>{self._caption_html()}</figure>')


# ----------------------------------------------------------------------------- geometry
class Node:
    """A node on a canvas: centre (x, y), size (w, h), shape, role and label."""

    def __init__(self, x, y, w, h, shape, role, label):
        self.x, self.y, self.w, self.h = x, y, w, h
        self.shape, self.role, self.label = shape, role, label

    @property
    def left(self):
        return self.x - self.w / 2

    @property
    def right(self):
        return self.x + self.w / 2

    @property
    def top(self):
        return self.y - self.h / 2

    @property
    def bottom(self):
        return self.y + self.h / 2

    def side(self, name, offset=0.0):
        """A point on the middle of a side ("n", "s", "e", "w"), moved ``offset`` along it."""
        return {"n": (self.x + offset, self.top), "s": (self.x + offset, self.bottom),
                "e": (self.right, self.y + offset), "w": (self.left, self.y + offset)}[name]

    def boundary(self, toward):
        """Where the ray from the centre toward the point ``toward`` leaves the shape."""
        dx, dy = toward[0] - self.x, toward[1] - self.y
        if dx == 0 and dy == 0:
            return (self.x, self.y)
        a, b = self.w / 2, self.h / 2
        if self.shape in ("circle", "ellipse"):
            t = 1.0 / math.sqrt((dx / a) ** 2 + (dy / b) ** 2)
        elif self.shape == "hexagon":             # pointed left and right, a/4 of slant
            t = min(b / abs(dy) if dy else math.inf, self._slant(dx, dy, a, b, 0.22))
        elif self.shape == "chamfer":
            t = min(a / abs(dx) if dx else math.inf, b / abs(dy) if dy else math.inf)
            c = min(6.0, b / 2)
            # the cut corner |x|/a' + |y|/b' <= 1 with a' = a + b - c ... keep it simple:
            limit = (a + b - c) / (abs(dx) + abs(dy))
            t = min(t, limit)
        else:
            t = min(a / abs(dx) if dx else math.inf, b / abs(dy) if dy else math.inf)
        return (self.x + t * dx, self.y + t * dy)

    @staticmethod
    def _slant(dx, dy, a, b, k):
        # the slanted sides of the hexagon: |x| <= a - k*2a*(|y|/b)... as the line through
        # (a, 0) and (a - 2ka, b)
        inset = 2 * k * a
        # points on the side: x = a - inset * |y| / b  ->  t*|dx| = a - inset * t*|dy| / b
        denom = abs(dx) + inset * abs(dy) / b
        return a / denom if denom else math.inf


def _fmt(v):
    return f"{v:.1f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def _pts(points):
    return " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)


def _attr_role(role, theme="light"):
    return f'fill="{S.role_fill(role, theme)}" stroke="{S.role_line(role, theme)}"'


def shape_svg(shape, role, x, y, w, h, dashed=False, extra=""):
    """The SVG element of a node's outline, with its role's class and light colours."""
    a, b = w / 2, h / 2
    common = f'class="shape r-{role}" {_attr_role(role)} stroke-width="1.6"{extra}'
    if dashed:
        common += ' stroke-dasharray="5 3"'
    if shape == "circle" or (shape == "ellipse" and abs(w - h) < 0.5):
        if abs(w - h) < 0.5:
            return f'<circle {common} cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(a)}"/>'
    if shape == "ellipse":
        return f'<ellipse {common} cx="{_fmt(x)}" cy="{_fmt(y)}" rx="{_fmt(a)}" ry="{_fmt(b)}"/>'
    if shape == "hexagon":
        k = 0.22 * w
        pts = [(x - a, y), (x - a + k, y - b), (x + a - k, y - b), (x + a, y),
               (x + a - k, y + b), (x - a + k, y + b)]
        return f'<polygon {common} points="{_pts(pts)}"/>'
    if shape == "chamfer":
        c = min(6.0, b / 2)
        pts = [(x - a + c, y - b), (x + a - c, y - b), (x + a, y - b + c), (x + a, y + b - c),
               (x + a - c, y + b), (x - a + c, y + b), (x - a, y + b - c), (x - a, y - b + c)]
        return f'<polygon {common} points="{_pts(pts)}"/>'
    radius = min(10.0, b * 0.6) if shape == "roundrect" else (4.0 if shape == "box" else 0.0)
    return (f'<rect {common} x="{_fmt(x - a)}" y="{_fmt(y - b)}" width="{_fmt(w)}" '
            f'height="{_fmt(h)}" rx="{_fmt(radius)}"/>')


def text_svg(x, y, label, size=S.FONT_SIZE, anchor="middle", cls="", math=True, bold=None,
             weight=None):
    """A <text> of a label in the notation markup, its baseline placed so the label's middle
    sits at y."""
    classes = " ".join(c for c in (("math" if math else ""), cls) if c)
    fill = S.MUTED["light"] if "muted" in cls else (
        S.HIGHLIGHT["light"] if "hl-text" in cls else S.INK["light"])
    font = S.FONT_MATH if math else S.FONT_WORD
    w = f' font-weight="{weight}"' if weight else ""
    return (f'<text class="{classes}" x="{_fmt(x)}" y="{_fmt(y + 0.35 * size)}" '
            f'text-anchor="{anchor}" font-size="{size}" fill="{fill}"{w} '
            f'font-family="{escape(font, quote=True)}">'
            f"{S.label_tspans(label, size, math, bold)}</text>")


class Canvas:
    """A drawing in px. Add nodes (role-styled shapes with labels), edges (arrows between nodes
    or points, straight, bent or through waypoints, optionally with a parameter tag on them),
    text and frames; ``diagram(alt)`` returns the Diagram."""

    def __init__(self, width, height):
        self.width, self.height = width, height
        self.layers = {"back": [], "edges": [], "nodes": [], "front": []}
        self.nodes = []
        self.roles_used = set()

    # ----------------------------------------------------------------------------- nodes
    def node(self, x, y, label, role, w=None, h=None, shape=None, size=S.FONT_SIZE, math=True,
             bold=None, cls="", tooltip=None, dashed=None, sublabel=None, pad=None):
        """A node of ``role`` centred at (x, y); its size fits the label unless given."""
        if role not in S.ROLES:
            raise ValueError(f"role must be one of {S.ROLES}, got {role!r}")
        shape = shape or S.SHAPES[role]
        tw = S.label_width(label, size, math, bold)
        if sublabel is not None:
            tw = max(tw, S.label_width(sublabel, S.SCRIPT_SIZE, False))
        if shape == "circle":
            d = max(w or 0, h or 0, tw + 14, (40 if label else 0), (50 if sublabel else 0))
            w = h = d
        else:
            pad = pad or {"hexagon": 30, "ellipse": 24, "chamfer": 16}.get(shape, 16)
            w = max(w or 0, tw + pad)
            h = max(h or 34, 46 if sublabel is not None else 0)
        node = Node(x, y, w, h, shape, role, label)
        dashed = role == "constant" if dashed is None else dashed
        classes = " ".join(c for c in ("node", f"n-{role}", cls) if c)
        hl_width = ' stroke-width="3.5"' if "hl" in cls.split() else ""
        body = shape_svg(shape, role, x, y, w, h, dashed)
        if hl_width:
            body = body.replace('stroke-width="1.6"', 'stroke-width="3.5"').replace(
                f'stroke="{S.role_line(role)}"', f'stroke="{S.HIGHLIGHT["light"]}"')
        ty = y if sublabel is None else y - 8
        if label:
            body += text_svg(x, ty, label, size, math=math, bold=bold)
        if sublabel is not None:
            body += text_svg(x, y + 11, sublabel, S.SCRIPT_SIZE, math=False)
        tip = f"<title>{escape(tooltip)}</title>" if tooltip else ""
        self.layers["nodes"].append(f'<g class="{classes}" data-role="{role}">{tip}{body}</g>')
        self.nodes.append(node)
        self.roles_used.add(role)
        return node

    def tag(self, x, y, label, role="parameter", size=S.FONT_SIZE - 1, cls="", bold=None):
        """A small labelled tag on an edge (a parameter's name: W, U, V, b, c)."""
        tw = S.label_width(label, size, True, bold)
        w, h = tw + 12, size + 10
        node = Node(x, y, w, h, S.SHAPES[role], role, label)
        body = shape_svg(S.SHAPES[role], role, x, y, w, h, role == "constant")
        body += text_svg(x, y, label, size, bold=bold)
        classes = " ".join(c for c in ("node", "tag", f"n-{role}", cls) if c)
        self.layers["front"].append(f'<g class="{classes}" data-role="{role}">{body}</g>')
        self.roles_used.add(role)
        return node

    # ----------------------------------------------------------------------------- edges
    def edge(self, a, b, via=(), bend=0.0, label=None, label_at=0.5, label_shift=(0.0, 0.0),
             label_role="parameter", cls="", head=True, start=None, end=None, dashed=False,
             width=None, halo=False):
        """An arrow from ``a`` to ``b`` (Nodes or (x, y) points).

        via: waypoints (a polyline); bend: a quadratic curve bulging ``bend`` px to the left of
        the direction of travel; start/end: explicit points on the nodes (e.g. node.side("n")).
        label: a parameter tag placed at fraction ``label_at`` of the path (plus label_shift).
        cls: "hl" (highlighted path) or "faint" (not on it). halo: a band of the background
        colour under the line, so the lines it crosses show a gap (a line jump)."""
        pa = a if isinstance(a, tuple) else (a.x, a.y)
        pb = b if isinstance(b, tuple) else (b.x, b.y)
        via = list(via)
        control = None
        if bend and not via:
            mx, my = (pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2
            dx, dy = pb[0] - pa[0], pb[1] - pa[1]
            n = math.hypot(dx, dy) or 1.0
            control = (mx + bend * dy / n, my - bend * dx / n)
        first = via[0] if via else (control or pb)
        last = via[-1] if via else (control or pa)
        p0 = start or (a.boundary(first) if isinstance(a, Node) else pa)
        p1 = end or (b.boundary(last) if isinstance(b, Node) else pb)
        hl = "hl" in cls.split()
        faint = "faint" in cls.split()
        stroke = S.HIGHLIGHT["light"] if hl else (S.FAINT["light"] if faint else S.LINE["light"])
        sw = width or (3.5 if hl else 1.7)
        L = 11.0 if hl else 9.0                      # arrowhead length
        # the tangent at the end, and the path shortened so the line stops inside the head
        tail = last if (via or control) else p0
        tx, ty = p1[0] - tail[0], p1[1] - tail[1]
        tn = math.hypot(tx, ty) or 1.0
        ux, uy = tx / tn, ty / tn
        p1_line = (p1[0] - ux * (L - 2), p1[1] - uy * (L - 2)) if head else p1
        if control:
            d = f"M{_fmt(p0[0])},{_fmt(p0[1])} Q{_fmt(control[0])},{_fmt(control[1])} " \
                f"{_fmt(p1_line[0])},{_fmt(p1_line[1])}"
            path_points = [p0, control, p1]
        else:
            pts = [p0] + via + [p1_line]
            d = "M" + " L".join(f"{_fmt(x)},{_fmt(y)}" for x, y in pts)
            path_points = [p0] + via + [p1]
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        parts = [_halo(d, sw)] if halo else []
        parts.append(f'<path class="edge" d="{d}" stroke="{stroke}" stroke-width="{_fmt(sw)}" '
                     f'fill="none" stroke-linejoin="round"{dash}/>')
        if head:
            wdt = L * (0.5 if hl else 0.55)
            tip = p1
            base = (p1[0] - ux * L, p1[1] - uy * L)
            left = (base[0] - uy * wdt, base[1] + ux * wdt)
            right = (base[0] + uy * wdt, base[1] - ux * wdt)
            parts.append(f'<polygon class="head" points="{_pts([tip, left, right])}" '
                         f'fill="{stroke}"/>')
        classes = " ".join(c for c in ("arrow", cls) if c)
        self.layers["edges"].append(f'<g class="{classes}">{"".join(parts)}</g>')
        if label is not None:
            lx, ly = _point_along(path_points, label_at, control is not None)
            self.tag(lx + label_shift[0], ly + label_shift[1], label, label_role,
                     cls="hl" if hl else "")
        return path_points

    def spline(self, points, cls="", head=True, halo=False):
        """An arrow along a cubic B-spline given as dot's control points (p0, then triples)."""
        hl = "hl" in cls.split()
        stroke = S.HIGHLIGHT["light"] if hl else S.LINE["light"]
        L = 9.0
        p1, prev = points[-1], points[-2]
        ux, uy = p1[0] - prev[0], p1[1] - prev[1]
        n = math.hypot(ux, uy) or 1.0
        ux, uy = ux / n, uy / n
        pts = list(points)
        if head:
            pts[-1] = (p1[0] - ux * (L - 2), p1[1] - uy * (L - 2))
        d = f"M{_fmt(pts[0][0])},{_fmt(pts[0][1])}"
        for i in range(1, len(pts) - 2, 3):
            d += " C" + " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in pts[i:i + 3])
        parts = [_halo(d, 1.7)] if halo else []
        parts.append(f'<path class="edge" d="{d}" stroke="{stroke}" stroke-width="1.7" '
                     f'fill="none"/>')
        if head:
            base = (p1[0] - ux * L, p1[1] - uy * L)
            wdt = L * 0.55
            tri = [p1, (base[0] - uy * wdt, base[1] + ux * wdt), (base[0] + uy * wdt, base[1] - ux * wdt)]
            parts.append(f'<polygon class="head" points="{_pts(tri)}" fill="{stroke}"/>')
        self.layers["edges"].append(f'<g class="arrow {cls}">{"".join(parts)}</g>')

    def loop(self, node, side="n", label=None, cls="", size=34):
        """A self-loop on one side of a node (the folded RNN's recurrence)."""
        x, y = node.x, node.y
        if side == "n":
            p0, p1 = node.side("n", -node.w * 0.22), node.side("n", node.w * 0.22)
            c = [(p0[0] - 14, p0[1] - size), (p1[0] + 14, p1[1] - size)]
            top = (x, p0[1] - size * 0.75)
        else:                                            # "e"
            p0, p1 = node.side("e", -node.h * 0.22), node.side("e", node.h * 0.22)
            c = [(p0[0] + size, p0[1] - 14), (p1[0] + size, p1[1] + 14)]
            top = (p0[0] + size * 0.75, y)
        hl = "hl" in cls.split()
        stroke = S.HIGHLIGHT["light"] if hl else S.LINE["light"]
        L = 9.0
        ux, uy = p1[0] - c[1][0], p1[1] - c[1][1]
        n = math.hypot(ux, uy)
        ux, uy = ux / n, uy / n
        end = (p1[0] - ux * (L - 2), p1[1] - uy * (L - 2))
        d = (f"M{_fmt(p0[0])},{_fmt(p0[1])} C{_fmt(c[0][0])},{_fmt(c[0][1])} "
             f"{_fmt(c[1][0])},{_fmt(c[1][1])} {_fmt(end[0])},{_fmt(end[1])}")
        base = (p1[0] - ux * L, p1[1] - uy * L)
        wdt = L * 0.55
        head = [p1, (base[0] - uy * wdt, base[1] + ux * wdt), (base[0] + uy * wdt, base[1] - ux * wdt)]
        self.layers["edges"].append(
            f'<g class="arrow {cls}"><path class="edge" d="{d}" stroke="{stroke}" '
            f'stroke-width="1.7" fill="none"/><polygon class="head" points="{_pts(head)}" '
            f'fill="{stroke}"/></g>')
        if label is not None:
            self.tag(top[0], top[1], label)
        return top

    # ------------------------------------------------------------------------- other marks
    def text(self, x, y, label, size=S.SMALL_SIZE, anchor="middle", cls="muted", math=False,
             bold=None, weight=None, layer="front"):
        """Free text (an annotation, a heading, an equation in the markup)."""
        self.layers[layer].append(text_svg(x, y, label, size, anchor, cls, math, bold, weight))

    def frame(self, x, y, w, h, label=None, dashed=True, radius=10, label_anchor="start"):
        """A rounded frame around a group of nodes (one step, a cell), with an optional label."""
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        self.layers["back"].append(
            f'<rect class="frame" x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(w)}" height="{_fmt(h)}" '
            f'rx="{radius}" fill="none" stroke="{S.MUTED["light"]}" stroke-width="1.3"{dash}/>')
        if label:
            lx = x + 8 if label_anchor == "start" else x + w / 2
            self.text(lx, y + 12, label, S.SCRIPT_SIZE, anchor=label_anchor)

    def band(self, points, width=10, opacity=0.35):
        """A wide translucent band under a path (marks the carousel, the shortest path)."""
        d = "M" + " L".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)
        self.layers["back"].append(
            f'<path class="band-line" d="{d}" fill="none" stroke="{S.HIGHLIGHT["light"]}" '
            f'stroke-opacity="{opacity}" stroke-width="{width}" stroke-linecap="round" '
            f'stroke-linejoin="round"/>')

    def raw(self, svg, layer="front"):
        self.layers[layer].append(svg)

    # ------------------------------------------------------------------------------- output
    def diagram(self, alt, caption=None):
        """The finished Diagram (a standalone SVG with the book's stylesheet inside)."""
        W, H = int(math.ceil(self.width)), int(math.ceil(self.height))
        body = "".join(self.layers["back"] + self.layers["edges"] + self.layers["nodes"]
                       + self.layers["front"])
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="rnd" width="{W}" height="{H}" '
               f'viewBox="0 0 {W} {H}" role="img" aria-label="{escape(alt, quote=True)}">'
               f"<title>{escape(alt)}</title><style>{S.stylesheet()}</style>"
               f'<rect class="bg" x="0" y="0" width="{W}" height="{H}" rx="6" '
               f'fill="{S.BACKGROUND["light"]}"/>{body}</svg>')
        return Diagram(svg, alt, W, H, caption)


def _halo(d, width):
    """A background-coloured band under a line (the gap where it crosses another)."""
    return (f'<path class="halo" d="{d}" stroke="{S.BACKGROUND["light"]}" '
            f'stroke-width="{_fmt(width + 5.0)}" fill="none" stroke-linecap="butt"/>')


def _point_along(points, t, curved):
    """The point at fraction t of a polyline's length (or of a quadratic curve)."""
    if curved:
        (x0, y0), (cx, cy), (x1, y1) = points
        return ((1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t * t * x1,
                (1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t * t * y1)
    lengths = [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:])]
    goal = t * sum(lengths)
    for (a, b), L in zip(zip(points, points[1:]), lengths):
        if goal <= L or L == 0:
            f = goal / L if L else 0
            return (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]))
        goal -= L
    return points[-1]
