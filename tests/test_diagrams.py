"""Tests of rnnlib.diagrams: every diagram renders to SVG that parses, holds the labels it must,
is at most 660 px wide with no text below 12 px when shown at the article's 676 px (headless
Chromium at a 1280 px window) and no text outside the drawing, colours every role with its
role colour, has alt text, and refuses bad arguments; the interactive ones hold every state;
on a phone a figure scales down to the column; Graphviz's absence gives one warning and a
drawing."""
import re
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import rnnlib
import rnnlib.diagrams as D
from rnnlib import graph as g
from rnnlib.diagrams import graphs as G
from rnnlib.diagrams import style as S
from rnnlib.recursive import balanced_tree, chain_tree, tree_from_nested

SVG = "{http://www.w3.org/2000/svg}"
FIGURE = 660        # the widest a diagram may be
SHOWN = 676         # the article's width in headless Chromium at a 1280 px window


# --------------------------------------------------------------------------- helpers
def parse(svg):
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return root


def texts(root):
    """The text of every <text>, its tspans joined: h^(0) reads "h(0)", J_4 reads "J4"."""
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def smallest_font_px(root, shown_width=SHOWN):
    """The smallest font size in px when the SVG is shown at min(its width, shown_width)."""
    width = float(root.get("width"))
    view_width = float(root.get("viewBox").split()[2])
    scale = min(width, shown_width) / view_width
    sizes = [float(el.get("font-size")) for el in root.iter()
             if el.tag in (SVG + "text", SVG + "tspan") and el.get("font-size")]
    for el in root.iter(SVG + "text"):                         # every text states a size
        assert el.get("font-size"), ET.tostring(el)[:80]
    return min(sizes) * scale


def text_extents(root):
    """(text, left, right, top, bottom) of every <text>, from the DejaVu metrics the diagrams
    are sized with (DejaVu is the widest common font, so a browser's text is no wider)."""
    out = []
    for el in root.iter(SVG + "text"):
        font = "serif" if "math" in (el.get("class") or "").split() else "sans"
        width, size = 0.0, float(el.get("font-size"))
        for span in el.iter(SVG + "tspan"):
            span_size = float(span.get("font-size") or size)
            width += S.text_width(span.text or "", span_size, font, span.get("font-weight") == "bold")
            width += float(span.get("dx") or 0)
        if not list(el.iter(SVG + "tspan")):
            width = S.text_width(el.text or "", size, font)
        x, y = float(el.get("x")), float(el.get("y"))
        anchor = el.get("text-anchor") or "start"
        left = x - {"start": 0, "middle": width / 2, "end": width}[anchor]
        out.append(("".join(el.itertext()), left, left + width, y - 0.8 * size, y + 0.25 * size))
    return out


def _outline(g):
    """A node's outline: ("c", cx, cy, r) for a circle, else its bounding box."""
    shape = next(el for el in g if "shape" in (el.get("class") or ""))
    kind = shape.tag.replace(SVG, "")
    if kind == "circle":
        return ("c",) + tuple(float(shape.get(k)) for k in ("cx", "cy", "r"))
    if kind == "ellipse":
        cx, cy, rx, ry = (float(shape.get(k)) for k in ("cx", "cy", "rx", "ry"))
        return (cx - rx, cy - ry, cx + rx, cy + ry)
    if kind == "rect":
        x, y, w, h = (float(shape.get(k)) for k in ("x", "y", "width", "height"))
        return (x, y, x + w, y + h)
    pts = [tuple(map(float, p.split(","))) for p in shape.get("points").split()]
    return (min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts),
            max(p[1] for p in pts))


def _overlap(a, b, tol=1.0):
    if a[0] == "c" and b[0] == "c":
        return np.hypot(a[1] - b[1], a[2] - b[2]) < a[3] + b[3] - tol
    if b[0] == "c":
        a, b = b, a
    if a[0] == "c":
        _, cx, cy, r = a
        dx, dy = max(b[0] - cx, 0, cx - b[2]), max(b[1] - cy, 0, cy - b[3])
        return np.hypot(dx, dy) < r - tol
    return a[0] < b[2] - tol and b[0] < a[2] - tol and a[1] < b[3] - tol and b[1] < a[3] - tol


def label(g):
    """The visible label of a node group (its <text>s, not its tooltip)."""
    return "".join("".join(t.itertext()) for t in g.iter(SVG + "text"))


def overlapping_nodes(root):
    """Pairs of nodes (and parameter tags) whose outlines overlap."""
    nodes = [(label(g) or g.get("data-role"), _outline(g))
             for g in root.iter(SVG + "g") if g.get("data-role")]
    return [(n1, n2) for i, (n1, a) in enumerate(nodes) for n2, b in nodes[i + 1:]
            if _overlap(a, b)]


def check_diagram(d, must=(), width=FIGURE, shown=SHOWN):
    """What every diagram must satisfy; returns the parsed root and its texts."""
    assert isinstance(d, D.Diagram)
    root = parse(d.svg)
    assert d.width <= width and int(root.get("width")) == d.width
    assert int(root.get("height")) == d.height > 0
    assert smallest_font_px(root, shown) >= 12
    view = [float(v) for v in root.get("viewBox").split()]
    for text, left, right, top, bottom in text_extents(root):   # no text cut at the edges
        assert left >= -1 and right <= view[2] + 1, (text, round(left), round(right), view[2])
        assert top >= -1 and bottom <= view[3] + 1, (text, round(top), round(bottom), view[3])
    assert not overlapping_nodes(root), overlapping_nodes(root)[:5]
    # alt text: on the object, as the aria-label and as the <title>
    assert root.get("role") == "img" and root.get("aria-label") == d.alt
    assert root.find(SVG + "title").text == d.alt and len(d.alt) > 40
    assert d._repr_mimebundle_()["text/plain"] == d.alt
    assert d._repr_mimebundle_()["text/html"].startswith("<figure")
    # every role's shape has its role's colours
    roles = 0
    for node in root.iter(SVG + "g"):
        role = node.get("data-role")
        if role is None:
            continue
        roles += 1
        shape = next(el for el in node if "shape" in el.get("class", ""))
        assert f"r-{role}" in shape.get("class")
        assert shape.get("fill") == S.role_fill(role), (role, shape.get("fill"))
        stroke = shape.get("stroke")
        assert stroke in (S.role_line(role), S.HIGHLIGHT["light"]), (role, stroke)
    assert roles > 0
    found = texts(root)
    for label in must:
        assert label in found, f"{label!r} missing from {sorted(set(found))}"
    return root, found


# ------------------------------------------------------------------------- the style
def test_stylesheet_has_a_dark_rule_for_every_role_with_readable_text():
    css = S.stylesheet()
    for role in S.ROLES:
        assert f".rnd .r-{role}{{fill:{S.role_fill(role)}" in css
        assert f'{S.DARK_SELECTOR} .rnd .r-{role}{{fill:{S.role_fill(role, "dark")}' in css

    def luminance(hex_colour):
        rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    def contrast(a, b):
        la, lb = sorted((luminance(a), luminance(b)), reverse=True)
        return (la + 0.05) / (lb + 0.05)

    for theme in ("light", "dark"):                      # WCAG AA: 4.5:1 for text
        for role in S.ROLES:
            assert contrast(S.INK[theme], S.role_fill(role, theme)) >= 4.5, (theme, role)
        for colour in (S.INK, S.MUTED, S.HIGHLIGHT):
            assert contrast(colour[theme], S.BACKGROUND[theme]) >= 4.5, (theme, colour)


def test_labels_render_the_lecture_notation():
    spans = S.label_tspans("h^(t-1)")
    assert '<tspan font-size="16" font-weight="bold">h</tspan>' in spans
    assert 'dy="-6">(t-1)</tspan>' in spans                      # raised, 12 px
    assert 'font-weight' not in S.label_tspans("tanh")           # a word, not a vector
    assert 'font-weight' not in S.label_tspans("J_t")            # a scalar
    assert S.plain_label("h_1^(t)") == "h_1(t)"


# ---------------------------------------------------------------------- the diagrams
def test_sequence_patterns():
    for kind in D.schematics.PATTERNS:
        check_diagram(D.sequence_pattern(kind), ["h(1)", "x(1)"])
    _, found = check_diagram(D.sequence_patterns(), ["many-to-one", "encoder-decoder", "C"])
    assert found.count("ŷ(3)") == 3                  # many-to-one, one-to-many, many-to-many
    with pytest.raises(ValueError, match="kind"):
        D.sequence_pattern("many-to-few")


@pytest.mark.parametrize("example, labels", [
    ("a", ["x", "y", "z", "×"]), ("b", ["x", "w", "b", "ŷ", "dot", "σ"]),
    ("c", ["X", "W", "b", "H", "matmul", "relu"]), ("d", ["x", "w", "λ", "ŷ", "sqr", "sum"])])
def test_computational_graphs(example, labels):
    _, found = check_diagram(D.computational_graph(example), labels)
    if example == "d":
        assert found.count("w") == 1                 # w used twice is one node


def test_unrolled_graph_shares_each_parameter():
    root, found = check_diagram(D.unrolled_graph(3), ["h(0)", "h(3)", "x(1)", "x(3)", "J"])
    for p in ("W", "U", "b", "V", "c"):
        assert found.count(p) == 1, p
    arrows = [el for el in root.iter(SVG + "g") if el.get("class", "").startswith("arrow")]
    assert len(arrows) > 40
    _, found = check_diagram(D.rnn_without_outputs(3), ["h(3)", "W"])
    assert "J" not in found and "V" not in found
    with pytest.raises(ValueError, match="T"):
        D.unrolled_graph(4)


def test_unfolding_for_T_3_has_every_state_and_W_on_every_recurrent_edge():
    d = D.unfolding(3)
    _, found = check_diagram(d, ["h(0)", "h(1)", "h(2)", "h(3)", "x(1)", "x(2)", "x(3)",
                                 "h", "x", "unfold"])
    assert found.count("W") == 3 + 1                 # three recurrent edges + the self-loop
    assert found.count("U") == 3 + 1
    assert "h(4)" not in found
    _, found = check_diagram(D.unfolding(6, outputs=True), ["o(6)", "h(6)"])
    assert found.count("V") == 6 + 1
    for bad in (0, 7):
        with pytest.raises(ValueError, match=r"T must be in \[1, 6\]"):
            D.unfolding(bad)
    with pytest.raises(TypeError, match="T"):
        D.unfolding(2.0)


def test_unfolding_explorer_holds_every_T_and_switches_with_css():
    d = D.unfolding_explorer()
    assert d.values == [1, 2, 3, 4, 5, 6]
    for T, state in zip(d.values, d.states):
        _, found = check_diagram(state, [f"h({T})", f"x({T})"])
        assert found.count("W") == T + 1 and f"h({T + 1})" not in found
    html = d._repr_html_()
    assert html.count('type="radio"') == 6 and html.count("<svg") == 6
    assert html.count(" checked>") == 1
    uid = re.search(r'<figure class="rnd-fig rnd-interactive" id="([^"]+)"', html).group(1)
    for i in range(6):
        assert f"#{uid}:has(#{uid}-{i}:checked) .rnd-s{i}{{display:block}}" in html
        assert f'<label for="{uid}-{i}">{i + 1}</label>' in html
    assert d.state(3) is d.states[2] and d.svg == d.states[2].svg
    with pytest.raises(ValueError, match="default"):
        D.unfolding_explorer(default=7)


def test_driven_system_and_rnn_step():
    check_diagram(D.driven_system(), ["h(t-1)", "h(t)", "h(t+1)", "x(t)", "f"])
    _, found = check_diagram(D.rnn_step(), ["h(t-1)", "a(t)", "x(t)", "h(t)", "o(t)",
                                            "ŷ(t)", "L(t)", "y(t)", "W", "U", "V", "b", "c",
                                            "d", "m", "C", "softmax", "tanh"])
    assert any("m × d" in t for t in found) and any("C × m" in t for t in found)


def test_design_patterns():
    _, found = check_diagram(D.design_pattern("hidden-to-hidden"), ["h(0)", "L(3)", "y(1)"])
    assert found.count("W") == 3
    _, found = check_diagram(D.design_pattern("output-to-hidden"), ["o(1)", "h(3)"])
    assert found.count("W") == 2 and "h(0)" not in found
    _, found = check_diagram(D.design_pattern("sequence-to-one"), ["L(3)", "o(3)"])
    assert "o(1)" not in found and found.count("W") == 3
    with pytest.raises(ValueError, match="kind"):
        D.design_pattern("teacher-forcing")


def test_deep_rnns_mark_the_library_shortest_path():
    from rnnlib import deep

    expected = {"stacked": deep.path_between_steps(2, layers=2),
                "deep-transition": deep.path_between_steps(2, transition_depth=2, input_depth=2,
                                                           output_depth=2),
                "skip": deep.path_between_steps(2, transition_depth=2, skip=True, input_depth=2,
                                                output_depth=2)}
    for kind, n in expected.items():
        root, found = check_diagram(D.deep_rnn(kind), ["x(1)", "o(3)"])
        assert f"shortest path x(1) → o(3): {n} edges" in found
        hl = [el for el in root.iter(SVG + "g") if el.get("class") == "arrow hl"]
        assert len(hl) == n
    assert expected["skip"] < expected["deep-transition"]
    with pytest.raises(ValueError, match="kind"):
        D.deep_rnn("wide")
    with pytest.raises(ValueError, match="T"):
        D.deep_rnn("stacked", T=0)


def test_bptt_paths_highlight_t_minus_k_recurrent_edges():
    for k in range(1, 5):
        root, found = check_diagram(D.bptt_paths(4, k), ["J4", "h(0)", "h(4)", f"h({k})"])
        hl = [el for el in root.iter(SVG + "g") if el.get("class") == "arrow hl"]
        assert len(hl) == (4 - k) + 2                # the chain back to h^(k), h -> o -> J
        assert any(f"{4 - k} Jacobian factor" in t for t in found)
    check_diagram(D.bptt_paths(4, None), ["J4"])
    d = D.bptt_explorer(t=4)
    assert d.values == [1, 2, 3, 4] and len(d.states) == 4
    assert d._repr_html_().count('type="radio"') == 4
    for bad in (0, 5):
        with pytest.raises(ValueError, match="k must be in"):
            D.bptt_paths(4, bad)
    with pytest.raises(ValueError, match="default"):
        D.bptt_explorer(t=3, default=4)
    with pytest.raises(ValueError, match="t must be"):
        D.bptt_paths(7, 1)


def test_jacobians_and_skip_connections():
    _, found = check_diagram(D.jacobian_chain(4), ["h(0)", "h(4)", "∂h(1)/∂h(0)"])
    assert any(t.startswith("∂h(4)/∂h(0) = ∂h(4)/∂h(3)") for t in found)
    root, found = check_diagram(D.skip_connections(6, 3), ["h(0)", "h(6)"])
    assert any("2 edges" in t for t in found)
    hl = [el for el in root.iter(SVG + "g") if el.get("class") == "arrow hl"]
    assert len(hl) == 2                                # h(0) -> h(3) -> h(6)
    root, _ = check_diagram(D.skip_connections(7, 3))
    assert len([el for el in root.iter(SVG + "g") if el.get("class") == "arrow hl"]) == 3
    with pytest.raises(ValueError, match="skip"):
        D.skip_connections(4, 5)


def test_gated_cells():
    root, found = check_diagram(D.lstm_cell(), ["i(t)", "f(t)", "q(t)", "g(t)", "s(t-1)",
                                                "s(t)", "h(t-1)", "h(t)", "x(t)", "tanh"])
    carousel = [el for el in root.iter(SVG + "g") if el.get("class") == "arrow hl"]
    assert len(carousel) == 3                         # s(t-1) -> × -> + -> s(t)
    assert "o(t)" not in found                        # the output gate is q, not o
    root, _ = check_diagram(D.lstm_cell(carousel=False))
    assert not [el for el in root.iter(SVG + "g") if el.get("class") == "arrow hl"]
    check_diagram(D.gru_cell(), ["z(t)", "r(t)", "h̃(t)", "h(t-1)", "h(t)", "x(t)"])
    with pytest.raises(TypeError, match="carousel"):
        D.lstm_cell(carousel="yes")


def test_trees_take_rnnlib_recursive_trees():
    tree, words = tree_from_nested((("the", "cat"), ("sat", ("on", ("the", "mat")))))
    d = D.tree_diagram(tree, words)
    root, found = check_diagram(d, ["the", "cat", "sat", "mat"])
    assert [t for t in found if t.isdigit()] == [str(v) for v in tree.leaf_depths()]
    assert "((the cat) (sat (on (the mat))))" in d.alt and "depth 4" in d.alt
    hidden = [el for el in root.iter(SVG + "g") if el.get("data-role") == "hidden"]
    assert len(hidden) == tree.n_leaves - 1
    _, found = check_diagram(D.chain_and_balanced(8), ["x(1)", "x(8)", "chain: depth 7",
                                                       "balanced tree: depth 3"])
    depths = [t for t in found if t.isdigit()]
    assert depths == [str(v) for v in chain_tree(8).leaf_depths()] + \
        [str(v) for v in balanced_tree(8).leaf_depths()]
    expr = ("and", ("T", ("or", ("F", "T"))))
    d = D.grammar_tree(expr)
    _, found = check_diagram(d, ["and", "or", "T", "F", "grammar tree: depth 4"])
    assert d.alt.startswith("The grammar tree")
    check_diagram(D.grammar_tree(*tree_from_nested(expr)))
    check_diagram(D.tree_diagram(chain_tree(1)))                 # a single leaf
    with pytest.raises(TypeError, match="tree must be a Tree"):
        D.tree_diagram([[0, 1]])
    with pytest.raises(TypeError, match="expression"):
        D.grammar_tree(5)
    with pytest.raises(ValueError, match="one label per leaf"):
        D.tree_diagram(tree, ["a", "b"])
    with pytest.raises(ValueError, match="at most 16"):
        D.tree_diagram(balanced_tree(17))
    with pytest.raises(ValueError, match="n_leaves"):
        D.chain_and_balanced(1)


# ------------------------------------------------------------ issue 19's diagrams
check_new = check_diagram


def arrows(root, cls):
    return [el for el in root.iter(SVG + "g") if el.get("class") == f"arrow {cls}"]


def test_bidirectional_rnn_has_both_chains_feeding_every_output():
    for T in (2, 3, 5):
        root, found = check_new(D.bidirectional_rnn(T), ["h(0)", f"h({T})", "g(1)",
                                                          f"g({T + 1})", f"o({T})", f"x({T})"])
        assert found.count("Wh") == T and found.count("Wg") == T    # one per recurrent arrow
        assert f"h({T + 1})" not in found and "g(0)" not in found
        assert len([el for el in root.iter(SVG + "g")
                    if el.get("class", "").startswith("arrow")]) == 2 * T + 4 * T
    # the highlighted dependence of o(2) for T = 4: h(0)->h(1)->h(2), g(5)->...->g(2), all
    # inputs into those states, and h(2), g(2) -> o(2)
    root, found = check_new(D.bidirectional_rnn(4, highlight=2), ["o(2) depends on every input x(1) … x(4)"])
    assert len(arrows(root, "hl")) == 2 + 3 + 2 + 3 + 2
    d = D.bidirectional_rnn(3)
    assert "right to left" in d.alt and "g(4)" in d.alt
    for bad in (1, 6):
        with pytest.raises(ValueError, match="T must be in"):
            D.bidirectional_rnn(bad)
    with pytest.raises(ValueError, match="highlight"):
        D.bidirectional_rnn(3, highlight=4)
    with pytest.raises(TypeError, match="T"):
        D.bidirectional_rnn("3")


def test_echo_state_network_draws_W_and_U_fixed_and_V_trained():
    root, found = check_new(D.echo_state_network(), ["x(t)", "o(t)", "U", "W", "V", "fixed",
                                                     "trained", "h(t)"])
    roles = {"".join(g.itertext()): g.get("data-role") for g in root.iter(SVG + "g")
             if "tag" in g.get("class", "")}
    assert roles == {"U": "constant", "W": "constant", "V": "parameter"}
    units = [g for g in root.iter(SVG + "g") if g.get("data-role") == "hidden"]
    assert len(units) == 8
    dashed = [g for g in root.iter(SVG + "g") if g.get("class", "").startswith("arrow")
              and 'stroke-dasharray' in ET.tostring(g, encoding="unicode")]
    solid = [g for g in root.iter(SVG + "g") if g.get("class", "").startswith("arrow")
             and 'stroke-dasharray' not in ET.tostring(g, encoding="unicode")]
    assert len(solid) == 8 and len(dashed) >= 8 + 8      # readout V; U into every unit and W
    assert "ρ(W) = 0.5" in " ".join(texts(parse(D.echo_state_network(spectral_radius=0.5).svg)))
    assert len([g for g in parse(D.echo_state_network(12).svg).iter(SVG + "g")
                if g.get("data-role") == "hidden"]) == 12
    with pytest.raises(ValueError, match="n_units"):
        D.echo_state_network(3)
    with pytest.raises(ValueError, match="spectral_radius"):
        D.echo_state_network(spectral_radius=-1)
    with pytest.raises(ValueError, match="spectral_radius"):
        D.echo_state_network(spectral_radius=float("nan"))


def test_leaky_unit_marks_the_self_loop_of_weight_one_minus_alpha():
    root, found = check_new(D.leaky_unit(), ["h(t-1)", "h(t)", "x(t)", "a(t)", "tanh", "× α",
                                             "× (1 − α)", "1 − α", "W", "U", "b"])
    hl = arrows(root, "hl")
    assert len(hl) == 1 + 3                   # the folded self-loop, and h(t-1) -> × -> + -> h(t)
    assert any("1/α" in t for t in found)
    _, found = check_new(D.leaky_unit(0.1))
    assert any("1 − α = 0.9" in t and "1/α = 10 steps" in t for t in found)
    assert "0.9" in D.leaky_unit(0.1).alt
    _, found = check_new(D.leaky_unit(1))
    assert any("the plain RNN" in t for t in found)
    for bad in (0, 1.5, -0.2, True, "0.5"):
        with pytest.raises(ValueError, match="alpha"):
            D.leaky_unit(bad)


def test_attention_draws_the_given_weights_as_arrow_widths():
    w = np.array([0.1, 0.2, 0.6, 0.1])
    d = D.attention(w, source=["three", "one", "four", "<eos>"], t=2)
    root, found = check_new(d, ["h(1)", "h(4)", "s(2)", "s(1)", "c(2)", "o(2)", "three",
                                "<eos>", "0.60", "0.10", "Va", "V"])
    fan = [g for g in arrows(root, "hl")]
    widths = [float(g.find(SVG + "path").get("stroke-width")) for g in fan]
    assert len(widths) == 4 and widths.index(max(widths)) == 2
    slope = (widths[2] - widths[0]) / (w[2] - w[0])
    assert np.allclose(np.array(widths), widths[0] + slope * (w - w[0]), atol=0.06)  # linear
    assert "alpha_3 = 0.60" in d.alt and "largest at h(3)" in d.alt
    check_new(D.attention(), ["c(t)", "s(t)", "s(t-1)"])
    check_new(D.attention(np.full(8, 1 / 8)))
    with pytest.raises(ValueError, match="sum to 1"):
        D.attention([0.5, 0.6])
    with pytest.raises(ValueError, match="shape"):
        D.attention(np.ones((2, 2)) / 2)
    with pytest.raises(ValueError, match="at most 8"):
        D.attention(np.full(9, 1 / 9))
    with pytest.raises(ValueError, match="non-negative"):
        D.attention([1.5, -0.5])
    with pytest.raises(ValueError, match="source must have 2 tokens"):
        D.attention([0.5, 0.5], source=["a"])
    with pytest.raises(TypeError, match="source"):
        D.attention([0.5, 0.5], source="ab")


def test_attention_alignment_squares_have_area_proportional_to_the_weights():
    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(5), size=3)                        # (T_y, T_x) rows sum to 1
    d = D.attention_alignment(w, ["a", "b", "c", "d", "e"], ["1", "2", "<eos>"])
    root, found = check_new(d, ["a", "e", "1", "<eos>"])
    squares = [r for r in root.iter(SVG + "rect") if r.get("class") == "hl-fill"]
    assert len(squares) == 15
    areas = np.array([float(r.get("width")) * float(r.get("height")) for r in squares])
    assert np.allclose(areas / areas.sum(), w.ravel() / w.sum(), atol=2e-3)
    roles = [g.get("data-role") for g in root.iter(SVG + "g") if g.get("data-role")]
    assert roles.count("input") == 5 and roles.count("output") == 3
    check_new(D.attention_alignment(np.full((10, 12), 1 / 12)))
    with pytest.raises(ValueError, match="sum to 1"):
        D.attention_alignment(np.ones((2, 3)))
    with pytest.raises(ValueError, match="target must have 3"):
        D.attention_alignment(w, target=["1"])
    with pytest.raises(ValueError, match="too long"):
        D.attention_alignment(np.full((2, 12), 1 / 12), source=["encyclopaedia"] * 12)
    with pytest.raises(ValueError, match="at most 10"):
        D.attention_alignment(np.full((11, 2), 0.5))


def test_linear_recurrence_chain():
    root, found = check_new(D.linear_recurrence_chain(4), ["h(0)", "h(4)", "x(4)", "B"])
    assert found.count("λ ⊙") == 4 and found.count("B") == 4
    assert "tanh" not in " ".join(found[:-2])
    spans = ET.tostring(root, encoding="unicode")
    assert 'font-weight="bold">λ' in spans                          # a vector, bold
    with pytest.raises(ValueError, match="T"):
        D.linear_recurrence_chain(7)


def test_associative_scan_draws_scan_schedule():
    from rnnlib.linear_recurrence import scan_depth, scan_schedule

    for T in (1, 2, 5, 8, 13, 16):
        schedule = scan_schedule(T)
        d = D.associative_scan(schedule, T=T)
        must = [f"h({T})"] if T <= 8 else [str(T)]
        root, found = check_new(d, must)
        combos = [g for g in root.iter(SVG + "g") if g.get("data-role") == "hidden"
                  and g.find(SVG + "circle").get("r") == "9"]           # the small nodes
        assert len(combos) == sum(len(level) for level in schedule)
        assert f"{scan_depth(T)} levels" in d.alt
        if T > 1:
            assert any(f"depth {scan_depth(T)}" in t for t in found)
            # what feeds h(T) is a tree over all T inputs: T - 1 combinations highlighted
            hl_nodes = [g for g in combos if "hl" in g.get("class", "").split()]
            assert len(hl_nodes) == T - 1
    assert D.associative_scan(scan_schedule(8)).width == FIGURE          # T read from it
    assert len([g for g in parse(D.associative_scan(scan_schedule(8), highlight=None).svg)
                .iter(SVG + "g") if "hl" in g.get("class", "").split()]) == 0
    with pytest.raises(ValueError, match="pass T"):
        D.associative_scan([])
    with pytest.raises(TypeError, match="schedule"):
        D.associative_scan(np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match="not adjacent"):
        D.associative_scan([np.array([[3, 1]])], T=3)
    with pytest.raises(ValueError, match="does not finish"):
        D.associative_scan(scan_schedule(8)[:2], T=8)
    with pytest.raises(ValueError, match="1 <= s < t"):
        D.associative_scan([np.array([[2, 3]])])
    with pytest.raises(ValueError, match="T must be in"):
        D.associative_scan(scan_schedule(17))


def test_scan_and_tree_share_the_depth():
    from rnnlib.recursive import balanced_tree

    for T in (2, 8, 11, 16):
        depth = balanced_tree(T).depth
        d = D.scan_and_tree(T)
        root, found = check_new(d, [f"balanced tree (recursive networks): depth {depth}"])
        assert any(t.startswith(f"parallel scan: depth {depth}") for t in found)
        assert any(f"the loop: {T} sequential steps" in t for t in found)
    with pytest.raises(ValueError, match="T"):
        D.scan_and_tree(1)


def test_beam_tree_draws_the_example_and_refuses_bad_levels():
    d = D.beam_tree(D.BEAM_EXAMPLE)
    root, found = check_new(d, ["<bos>", "A", "B", "C", "<eos>", "(done)", "−1.35", "step 3"])
    kept = [g for g in root.iter(SVG + "g") if g.get("data-role") == "output"
            and "hl" in g.get("class", "").split()]
    assert len(kept) == 2 + 2 + 2
    assert len(arrows(root, "hl")) == 6 and len(arrows(root, "faint")) == 3
    assert any("best: B C <eos>" in t for t in found)
    assert "beam width 2" in " ".join(found) or "width 2" in " ".join(found)
    assert "B C <eos> with log p -1.35" in d.alt
    bad = [list(level) for level in D.BEAM_EXAMPLE]
    bad[1][0] = D.BeamCandidate(5, "C", -2.0, False)
    with pytest.raises(ValueError, match="parent must index level 1"):
        D.beam_tree(bad)
    bad = [list(level) for level in D.BEAM_EXAMPLE]
    bad[2][0] = D.BeamCandidate(0, "C", -2.0, True)                    # parent 0 was pruned
    with pytest.raises(ValueError, match="not kept"):
        D.beam_tree(bad)
    with pytest.raises(ValueError, match="logprob"):
        D.beam_tree([[D.BeamCandidate(None, "A", 0.5, True)]])
    with pytest.raises(ValueError, match="has not written <eos>"):
        D.beam_tree([[(None, "A", -0.1, True)], [(0, None, -0.1, True)]])
    with pytest.raises(ValueError, match="no candidate is kept"):
        D.beam_tree([[(None, "A", -0.1, False)]])
    with pytest.raises(TypeError, match="levels"):
        D.beam_tree("A B")
    with pytest.raises(ValueError, match="at most 9"):
        D.beam_tree([[(None, str(i), -1.0, True) for i in range(10)]])
    with pytest.raises(ValueError, match="not an index of tokens"):
        D.beam_tree([[(None, 7, -0.1, True)]], tokens=["a", "b"])


def _hand_beam(params, s0, bos, eos, max_len, width):
    """Beam search written out in the test: every hypothesis a (tokens, log p, state) list."""
    from rnnlib.losses import _log_softmax
    from rnnlib.seq2seq import _decoder_step

    beams = [((), 0.0, s0)]
    for _ in range(max_len):
        cands = []
        for toks, lp, s in beams:
            if toks and toks[-1] == eos:
                cands.append((toks, lp, s))
                continue
            s_new, o = _decoder_step(params, s[None], np.array([toks[-1] if toks else bos]))
            logp = _log_softmax(o)[0]
            cands += [(toks + (k,), lp + logp[k], s_new[0]) for k in range(len(logp))]
        beams = sorted(cands, key=lambda c: -c[1])[:width]
        if all(toks[-1] == eos for toks, _, _ in beams):
            break
    return beams


@pytest.mark.parametrize("width", [1, 2, 3])
def test_beam_trace_records_the_search_beam_search_runs(width):
    from rnnlib.beam_search import beam_search
    from rnnlib.seq2seq import init_encoder_decoder

    params = init_encoder_decoder(3, 6, 5, seed=1)
    rng = np.random.default_rng(width)
    for p in ("Wd", "Ud", "V"):
        params[p] = params[p] * 3.0                                   # peaked, varied choices
    s0 = rng.normal(size=6)
    levels = D.beam_trace(params, s0, bos=0, eos=1, max_len=4, width=width)
    hand = _hand_beam(params, s0, 0, 1, 4, width)
    for t, level in enumerate(levels, start=1):
        assert sum(c.kept for c in level) == width
        assert len(level) <= width * width + width
    # the kept beam of the last level is the hand-written search's beam
    last = levels[-1]
    kept = sorted((c.logprob for c in last if c.kept), reverse=True)
    assert np.allclose(kept, [lp for _, lp, _ in hand], rtol=0, atol=1e-12)
    best = beam_search(params, s0, 0, 1, 4, width=width)
    assert np.isclose(max(kept), best.logprob, rtol=0, atol=1e-12)
    root, found = check_new(D.beam_tree(levels, tokens=["<bos>", "<eos>", "a", "b", "c"]),
                            ["<bos>", "step 1"])
    seq = " ".join({0: "<bos>", 1: "<eos>", 2: "a", 3: "b", 4: "c"}[int(i)]
                   for i in best.ids[:best.length])
    assert any(f"best: {seq} " in t for t in found)
    with pytest.raises(ValueError, match="width"):
        D.beam_trace(params, s0, 0, 1, 4, width=4)
    with pytest.raises(ValueError, match="per_beam"):
        D.beam_trace(params, s0, 0, 1, 4, width=2, per_beam=1)
    with pytest.raises(ValueError, match="one state"):
        D.beam_trace(params, np.zeros((2, 6)), 0, 1, 4)


def test_figures_scale_down_to_a_phone_column_instead_of_scrolling():
    for d in (D.unfolding(3), D.unfolding_explorer(), D.unrolled_graph(3)):
        html = d._repr_html_()
        assert "svg style" not in html and 'style="min-width' not in html
        assert ".rnd-fig svg{display:block;max-width:100%;height:auto}" in html
        for svg in re.findall(r"<svg [^>]*>", html):                   # scales by its viewBox
            assert 'viewBox="0 0 ' in svg and "style=" not in svg


def test_chain_and_balanced_draw_every_composition_in_the_hidden_colour():
    for n in (2, 5, 8, 12):
        root, _ = check_diagram(D.chain_and_balanced(n))
        small = [g for g in root.iter(SVG + "g") if g.get("data-role")
                 and g.find(SVG + "circle") is not None and g.find(SVG + "circle").get("r") == "9"]
        assert len(small) == 2 * (n - 1)                   # n - 1 compositions in each tree
        assert {g.get("data-role") for g in small} == {"hidden"}
        assert {g.find(SVG + "circle").get("fill") for g in small} == {S.role_fill("hidden")}
        assert {g.find(SVG + "circle").get("class") for g in small} == {"shape r-hidden"}
    root, _ = check_diagram(D.scan_and_tree(8))                       # the same in the scan
    small = [g for g in root.iter(SVG + "g") if g.get("data-role")
             and g.find(SVG + "circle") is not None and g.find(SVG + "circle").get("r") == "9"]
    assert len(small) == 7 + 17 and {g.get("data-role") for g in small} == {"hidden"}


def _buses(root):
    return [g for g in root.iter(SVG + "g") if g.get("class") == "arrow bus"]


@pytest.mark.parametrize("outputs", [True, False])
def test_unrolled_graph_feeds_every_step_from_one_parameter_node_by_a_bus(outputs):
    T = 3
    d = D.unrolled_graph(T, outputs=outputs)
    root, found = check_diagram(d)
    names = ("W", "U", "b", "V", "c") if outputs else ("W", "U", "b")
    buses = _buses(root)
    assert len(buses) == len(names)
    for bus in buses:                                         # one tap (arrowhead) per step
        assert len([p for p in bus.iter(SVG + "polygon")]) == T
        assert len([c for c in bus.iter(SVG + "circle")]) == T - 1        # junction dots
    params = {label(g): _outline(g) for g in root.iter(SVG + "g")
              if g.get("data-role") == "parameter"}
    assert sorted(params) == sorted(names)
    others = [_outline(g) for g in root.iter(SVG + "g") if g.get("data-role") not in
              (None, "parameter")]
    lane = max(box[2] for box in params.values())
    assert all((o[1] - o[3] if o[0] == "c" else o[0]) > lane for o in others)  # lane at left
    # the recurrent arrows h(t-1) -> step t run down the gap between the steps: 3 segments
    elbows = [g for g in root.iter(SVG + "g") if g.get("class") == "arrow"
              and g.find(SVG + "path[@class='edge']").get("d").count("L") == 3]
    assert len(elbows) == T - 1
    assert d.width <= FIGURE


def test_graph_draw_honours_height_and_parameters_on_top():
    params = rnnlib.init_rnn(2, 3, 4, seed=0)
    rng = np.random.default_rng(0)
    net = g.unroll_rnn(params, rng.normal(size=(3, 2)), rng.integers(0, 4, size=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                         # no warning when it fits
        tall = g.draw(net.J)
        tighter = g.draw(net.J, height=tall.height - 60)
    assert tighter.height <= tall.height - 60                  # ranks drawn closer together
    with pytest.warns(G.GraphLayoutWarning, match="more than height=300"):
        short = g.draw(net.J, height=300)
    assert short.height > 300 and smallest_font_px(parse(short.svg)) >= 12
    with pytest.warns(G.GraphLayoutWarning, match="parameters_on_top is ignored"):
        g.draw(net.J, parameters_on_top=True)
    # a left-to-right graph: the parameters in a row above every other node
    x, w, b = g.variable(np.ones(3), "x"), g.parameter(np.ones(3), "w"), g.parameter(0.5, "b")
    y_hat = g.sigmoid(g.add(g.dot(x, w, name="u^(1)"), b, name="u^(2)"), name="ŷ")
    for on_top in (True, False):
        root, _ = check_diagram(g.draw(y_hat, parameters_on_top=on_top), ["w", "b", "x"])
        boxes = {label(n): _outline(n) for n in root.iter(SVG + "g") if n.get("data-role")}
        top_of_rest = min(bx[2] - bx[3] if bx[0] == "c" else bx[1]
                          for k, bx in boxes.items() if k not in ("w", "b"))
        above = all(boxes[p][3] < top_of_rest for p in ("w", "b"))
        assert above == on_top


def test_save_writes_svg_and_html(tmp_path):
    d = D.unfolding(2)
    parse((d.save(tmp_path / "u.svg")).read_text(encoding="utf-8").split("\n", 1)[1])
    assert "<figure" in d.save(tmp_path / "u.html").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="path"):
        d.save(tmp_path / "u.png")


# --------------------------------------------------------------- graphviz and imports
def test_without_graphviz_drawing_falls_back_with_one_warning(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))                   # no dot on the PATH
    monkeypatch.setattr(G, "_warned", False)
    z = g.mul(g.variable(3.0, "x"), g.variable(-2.0, "y"), name="z")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = g.draw(z)
        second = D.unrolled_graph(2)
    ours = [w for w in caught if issubclass(w.category, G.GraphvizMissingWarning)]
    assert len(ours) == 1 and "dot" in str(ours[0].message)
    check_diagram(first, ["x", "y", "z", "×"])
    # the fallback is rnnlib's own layered layout: it may be wider than dot's (the figure
    # shrinks with the column), its text as large as ever
    root = parse(second.svg)
    assert {"h(2)", "W", "J"} <= set(texts(root))
    assert smallest_font_px(root, shown_width=second.width) >= 12
    for T, outputs in ((1, True), (3, True), (3, False)):               # never an error
        assert "h(%d)" % T in texts(parse(D.unrolled_graph(T, outputs=outputs).svg))


def test_without_the_graphviz_package_too(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)          # import graphviz fails
    monkeypatch.setattr(G, "_warned", False)
    with pytest.warns(G.GraphvizMissingWarning, match="Python package"):
        d = g.draw(g.mul(g.variable(1.0, "x"), g.variable(2.0, "y")))
    check_diagram(d, ["x", "y"])
    with pytest.raises(ValueError, match="layout"):
        G.draw_graph(g.variable(1.0, "x"), layout="neato")


def test_import_rnnlib_imports_neither_diagrams_nor_graphviz():
    code = ("import sys, rnnlib, rnnlib.graph; "
            "print(any(m == 'graphviz' or m.startswith('rnnlib.diagrams') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
