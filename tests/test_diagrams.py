"""Tests of rnnlib.diagrams: every diagram renders to SVG that parses, holds the labels it must,
fits the 688 px column with no text below 12 px, colours every role with its role colour, has
alt text, and refuses bad arguments; the interactive ones hold every state; Graphviz's absence
gives one warning and a drawing."""
import re
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import rnnlib.diagrams as D
from rnnlib import graph as g
from rnnlib.diagrams import graphs as G
from rnnlib.diagrams import style as S
from rnnlib.recursive import balanced_tree, chain_tree, tree_from_nested

SVG = "{http://www.w3.org/2000/svg}"
COLUMN = 688


# --------------------------------------------------------------------------- helpers
def parse(svg):
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return root


def texts(root):
    """The text of every <text>, its tspans joined: h^(0) reads "h(0)", J_4 reads "J4"."""
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def smallest_font_px(root, shown_width=COLUMN):
    """The smallest font size in px when the SVG is shown at min(its width, shown_width)."""
    width = float(root.get("width"))
    view_width = float(root.get("viewBox").split()[2])
    scale = min(width, shown_width) / view_width
    sizes = [float(el.get("font-size")) for el in root.iter()
             if el.tag in (SVG + "text", SVG + "tspan") and el.get("font-size")]
    for el in root.iter(SVG + "text"):                         # every text states a size
        assert el.get("font-size"), ET.tostring(el)[:80]
    return min(sizes) * scale


def check_diagram(d, must=()):
    """What every diagram must satisfy; returns the parsed root and its texts."""
    assert isinstance(d, D.Diagram)
    root = parse(d.svg)
    assert d.width <= COLUMN and int(root.get("width")) == d.width
    assert int(root.get("height")) == d.height > 0
    assert smallest_font_px(root) >= 12
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
                                            "ŷ(t)", "Jt", "y(t)", "W", "U", "V", "b", "c",
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
    # the fallback is rnnlib's own layered layout: wider than dot's (the figure scrolls),
    # its text as large as ever
    root = parse(second.svg)
    assert {"h(2)", "W", "J"} <= set(texts(root))
    assert smallest_font_px(root, shown_width=second.width) >= 12


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
