"""The diagrams' one visual language: roles, colours, shapes, fonts and the lecture's notation.

Every node of every diagram has a *role*, and a role has one shape and one colour (the
Okabe-Ito palette, safe for colour-blind readers) in the whole book:

=========== ============================= ==========================================
role        shape                         colour
=========== ============================= ==========================================
input       rectangle                     sky blue
hidden      circle                        bluish green  (hidden and cell states)
output      rounded rectangle             reddish purple (o, y_hat)
loss        hexagon                       vermillion    (L, J)
parameter   rectangle with cut corners    orange        (W, U, V, b, c, also on edges)
operation   ellipse                       yellow        (+, x, tanh, sigma, matmul, gates)
constant    dashed rectangle              grey          (targets y, constants)
value       circle                        white, grey outline (intermediate values a, u)
=========== ============================= ==========================================

Highlighted paths (a BPTT path, the shortest path, the cell state's carousel) are drawn in
thick blue. Colours are set twice: as SVG presentation attributes (the light theme, so a
diagram saved as a file or shown without its stylesheet still has them) and by CSS classes in a
``<style>`` that each diagram carries, with dark rules for pydata-sphinx-theme's
``html[data-theme="dark"]``, JupyterLab's ``body[data-jp-theme-light="false"]`` and VS Code's
dark themes. Text is always dark on a light tint or light on a dark shade, so its contrast is
far above WCAG AA (4.5:1) in both themes.

Labels are written in a small markup of the lecture's notation: ``h^(t)``, ``h^(t-1)``,
``W_i``, ``h_1^(t)``, ``J_t``; the superscript and subscript become raised or lowered
``<tspan>`` elements in a smaller (at least 12 px) font. Vectors and matrices are bold.
"""
from __future__ import annotations

import re
import unicodedata
from html import escape

from ._metrics import WIDTHS

# ------------------------------------------------------------------------------------ sizes
COLUMN_WIDTH = 688          # px: the text column of the book at a 1280 px window (nominal)
FIGURE_WIDTH = 660          # px: the widest drawing; headless Chromium at a 1280 px window
SHOWN_COLUMN = 676          # measures the article at 676 px (the scrollbar takes 12), so a
                            # drawing <= 660 px is shown 1:1 and its 12 px text stays 12 px
FONT_SIZE = 16              # px: node labels
SCRIPT_SIZE = 12            # px: super- and subscripts, annotations (never smaller)
SMALL_SIZE = 13             # px: annotations (shapes, depths, captions inside a drawing)
MIN_FONT_PX = 12            # the smallest text anywhere, at the article's 676 px

FONT_MATH = "'DejaVu Serif', 'STIX Two Text', 'Cambria', 'Times New Roman', serif"
FONT_WORD = "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif"

# ------------------------------------------------------------------------------------ roles
ROLES = ("input", "hidden", "output", "loss", "parameter", "operation", "constant", "value")

SHAPES = {"input": "rect", "hidden": "circle", "output": "roundrect", "loss": "hexagon",
          "parameter": "chamfer", "operation": "ellipse", "constant": "rect", "value": "circle"}

# Okabe-Ito base colours and, per theme, the fill (a tint or shade) and the outline.
PALETTE = {
    #            base        light fill  light line  dark fill   dark line
    "input":     ("#56B4E9", "#d5edfa", "#1f7fb8", "#123a50", "#56B4E9"),
    "hidden":    ("#009E73", "#c6eadc", "#00785a", "#0b3d2f", "#3cc79c"),
    "output":    ("#CC79A7", "#f4dcea", "#a24d80", "#47263b", "#dc97bd"),
    "loss":      ("#D55E00", "#f9d8c2", "#b04d00", "#4d2410", "#f07b2a"),
    "parameter": ("#E69F00", "#fbe7ba", "#a87400", "#4a360a", "#f0b52e"),
    "operation": ("#F0E442", "#faf4bf", "#8c8300", "#403c12", "#e8dc50"),
    "constant":  ("#999999", "#ececec", "#6b6b6b", "#2e3036", "#a8a8a8"),
    "value":     ("#ffffff", "#ffffff", "#5c5c5c", "#23262d", "#b0b0b0"),
}
INK = {"light": "#1f1f1f", "dark": "#ececec"}          # text
LINE = {"light": "#4a4a4a", "dark": "#b5b5b5"}         # edges
MUTED = {"light": "#555555", "dark": "#b9b9b9"}        # annotations (7:1 and 9:1)
FAINT = {"light": "#b8b8b8", "dark": "#50545c"}        # edges not on a highlighted path
HIGHLIGHT = {"light": "#0072B2", "dark": "#6cb8f0"}    # Okabe-Ito blue
BACKGROUND = {"light": "#ffffff", "dark": "#1a1d23"}

ROLE_NAMES = {"input": "input", "hidden": "hidden state", "output": "output", "loss": "loss",
              "parameter": "parameter", "operation": "operation", "constant": "constant",
              "value": "intermediate value"}

DARK_SELECTOR = (':is(html[data-theme="dark"], body[data-jp-theme-light="false"], '
                 'body.vscode-dark, body[data-vscode-theme-kind="vscode-dark"])')


def role_fill(role, theme="light"):
    return PALETTE[role][1 if theme == "light" else 3]


def role_line(role, theme="light"):
    return PALETTE[role][2 if theme == "light" else 4]


def _rules(theme):
    pre = f"{DARK_SELECTOR} " if theme == "dark" else ""
    rules = [f"{pre}.rnd .bg{{fill:{BACKGROUND[theme]}}}",
             f"{pre}.rnd text{{fill:{INK[theme]}}}",
             f"{pre}.rnd text.muted{{fill:{MUTED[theme]}}}",
             f"{pre}.rnd text.hl-text{{fill:{HIGHLIGHT[theme]}}}",
             f"{pre}.rnd .edge{{stroke:{LINE[theme]}}}",
             f"{pre}.rnd .head{{fill:{LINE[theme]}}}",
             f"{pre}.rnd .faint .edge,{pre}.rnd .edge.faint{{stroke:{FAINT[theme]}}}",
             f"{pre}.rnd .faint .head,{pre}.rnd .head.faint{{fill:{FAINT[theme]}}}",
             f"{pre}.rnd .hl .edge,{pre}.rnd .edge.hl{{stroke:{HIGHLIGHT[theme]}}}",
             f"{pre}.rnd .hl .head,{pre}.rnd .head.hl{{fill:{HIGHLIGHT[theme]}}}",
             f"{pre}.rnd .frame{{stroke:{MUTED[theme]}}}",
             f"{pre}.rnd .band{{fill:{FAINT[theme]}}}",
             f"{pre}.rnd .band-line{{stroke:{HIGHLIGHT[theme]}}}",
             f"{pre}.rnd .hl-fill{{fill:{HIGHLIGHT[theme]}}}",
             f"{pre}.rnd .grid{{stroke:{FAINT[theme]}}}",
             f"{pre}.rnd .halo{{stroke:{BACKGROUND[theme]}}}",
             f"{pre}.rnd .edge.bus{{stroke:{role_line('parameter', theme)}}}",
             f"{pre}.rnd .head.bus{{fill:{role_line('parameter', theme)}}}"]
    for role in ROLES:
        rules.append(f"{pre}.rnd .r-{role}{{fill:{role_fill(role, theme)};"
                     f"stroke:{role_line(role, theme)}}}")
    rules.append(f"{pre}.rnd .node.hl>.shape{{stroke:{HIGHLIGHT[theme]}}}")
    return rules


def stylesheet():
    """The CSS every diagram carries (scoped to ``.rnd``): light rules, then dark rules."""
    base = [".rnd{font-family:" + FONT_WORD + "}",
            ".rnd .math{font-family:" + FONT_MATH + "}",
            ".rnd .edge{fill:none}",
            ".rnd .node.hl>.shape{stroke-width:3.5px}",
            ".rnd .frame{fill:none}"]
    return "".join(base + _rules("light") + _rules("dark"))


FIGURE_CSS = (
    ".rnd-fig{margin:1.2em 0;padding:0;max-width:100%;overflow-x:auto}"
    ".rnd-fig svg{display:block;max-width:100%;height:auto}"
    ".rnd-fig figcaption{font-size:0.95em;margin-top:0.4em;color:inherit}"
    ".rnd-control{margin:0 0 0.5em 0;padding:0;display:flex;flex-wrap:wrap;"
    "align-items:center;gap:0.35em}"
    ".rnd-fig .rnd-legend{margin:0 0.4em 0 0;font-size:15px;font-weight:600;color:inherit}"
    ".rnd-control input{position:absolute;opacity:0;width:1px;height:1px;margin:0}"
    ".rnd-control label{display:inline-block;min-width:2.6em;padding:0.3em 0.6em;"
    "text-align:center;border:2px solid #6b6b6b;border-radius:0.4em;cursor:pointer;"
    "color:#1f1f1f;background:#ffffff;font-size:15px;line-height:1.3}"
    ".rnd-control input:checked+label{background:#0072B2;border-color:#0072B2;color:#ffffff}"
    ".rnd-control input:focus-visible+label{outline:3px solid #E69F00;outline-offset:2px}"
    f"{DARK_SELECTOR} .rnd-control label{{color:#ececec;background:#1a1d23;border-color:#9a9a9a}}"
    f"{DARK_SELECTOR} .rnd-control input:checked+label{{background:#6cb8f0;"
    "border-color:#6cb8f0;color:#111111}"
    ".rnd-states>.rnd-state{display:none}"
)

# ----------------------------------------------------------------------------- text metrics
def text_width(text, size=FONT_SIZE, font="sans", bold=False):
    """Width in px of ``text`` in a DejaVu font (the widest common font, so others fit)."""
    key = font + ("-bold" if bold else "")
    table = WIDTHS.get(key, WIDTHS["sans"])
    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += table.get(ch, 650)
    return total * size / 1000.0


# --------------------------------------------------------------------------------- notation
BOLD_SYMBOLS = set("xhoasifqgzrWUVbcuwXHyEB") | {"ŷ", "θ", "h̃", "ĥ", "λ"}
_SCRIPT = r"(?:\((?:[^()]|\([^()]*\))*\)|\{[^{}]*\}|[^\s^_(){}])"
_TOKEN = re.compile(r"(?P<base>[^\^_\s]+|\s+)(?:_(?P<sub>" + _SCRIPT + r"))?(?:\^(?P<sup>" + _SCRIPT + r"))?")


def _strip(script):
    if script and script[0] == "{" and script[-1] == "}":
        return script[1:-1]
    return script


def parse_label(label):
    """Split ``label`` into (base, sub, sup) runs: ``h_1^(t)`` -> [("h", "1", "(t)")]."""
    runs, pos = [], 0
    while pos < len(label):
        m = _TOKEN.match(label, pos)
        if not m or m.end() == pos:
            runs.append((label[pos], None, None))
            pos += 1
            continue
        runs.append((m.group("base"), _strip(m.group("sub")), _strip(m.group("sup"))))
        pos = m.end()
    return runs


def plain_label(label):
    """The label as readable plain text for alt text: ``h^(t)`` -> ``h(t)``, ``W_i`` -> ``W_i``."""
    out = []
    for base, sub, sup in parse_label(label):
        base = base.replace("~", "")
        out.append(base + (f"_{sub}" if sub else "") + (sup if sup and sup.startswith("(")
                                                          else (f"^{sup}" if sup else "")))
    return "".join(out)


def _segments(base, bold):
    """Split a base run into (text, bold) pieces. Automatic (bold None): a letter standing alone
    (not inside a word like "tanh") is bold when it names a vector or matrix (BOLD_SYMBOLS)."""
    if bold is not None:
        return [(base.replace("~", ""), bool(bold))]
    clusters, plain = [], set()                      # a letter with its combining marks
    for ch in base:
        if ch == "~":                                # "~f": the next letter stays plain
            plain.add(len(clusters))
        elif clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    pieces = []
    for i, cl in enumerate(clusters):
        before = clusters[i - 1][0].isalpha() if i > 0 else False
        after = clusters[i + 1][0].isalpha() if i + 1 < len(clusters) else False
        is_bold = cl in BOLD_SYMBOLS and not before and not after and i not in plain
        if pieces and pieces[-1][1] == is_bold:
            pieces[-1] = (pieces[-1][0] + cl, is_bold)
        else:
            pieces.append((cl, is_bold))
    return pieces


def label_width(label, size=FONT_SIZE, math=True, bold=None):
    """Width in px of a label in the markup (scripts in the smaller font)."""
    font = "serif" if math else "sans"
    script = max(SCRIPT_SIZE, round(size * 0.75))
    total = 0.0
    for base, sub, sup in parse_label(label):
        for text, is_bold in _segments(base, bold if math else False):
            total += text_width(text, size, font, is_bold)
        scripts = [s for s in (sub, sup) if s]
        if scripts:
            total += max(text_width(s, script, font) for s in scripts) + 1
    return total


def label_tspans(label, size=FONT_SIZE, math=True, bold=None):
    """The SVG content of a label: runs of ``<tspan>``, scripts raised or lowered with dy and
    drawn at ``max(12, 0.75 size)`` px (every tspan carries its font-size)."""
    script = max(SCRIPT_SIZE, round(size * 0.75))
    up, down = round(size * 0.38), round(size * 0.25)
    parts, offset = [], 0              # offset: the baseline shift still in effect (px, down +)
    for base, sub, sup in parse_label(label):
        for text, is_bold in _segments(base, bold if math else False):
            weight = ' font-weight="bold"' if is_bold else ""
            back = f' dy="{-offset}"' if offset else ""
            parts.append(f'<tspan font-size="{size}"{weight}{back}>{escape(text)}</tspan>')
            offset = 0
        if sub:
            parts.append(f'<tspan font-size="{script}" dy="{down}">{escape(sub)}</tspan>')
            offset = down
        if sup:
            dx = ""
            if sub:
                shift = text_width(sub, script, "serif" if math else "sans")
                dx = f' dx="{-shift:.1f}"'
            parts.append(f'<tspan font-size="{script}"{dx} dy="{-up - offset}">{escape(sup)}</tspan>')
            offset = -up
    return "".join(parts)
