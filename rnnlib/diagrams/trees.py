"""Trees of rnnlib.recursive laid out and drawn (chapter "Recursive neural networks").

Any :class:`rnnlib.recursive.Tree` (from ``chain_tree``, ``balanced_tree``,
``tree_from_nested`` or ``parse_prefix``) is drawn with its leaves in order along the bottom and
each internal node (one composition, h = tanh(b + W [h_left; h_right])) above the middle of the
leaves it spans, at the height of its longest path to a leaf. The layout is iterative (children
come before parents in a Tree), so deep trees need no recursion.
"""
from __future__ import annotations

from . import style as S
from .svg import Canvas

W_COL = S.FIGURE_WIDTH
MAX_LEAVES = 16


def _layout(tree, width, x0):
    n = tree.n_leaves
    dx = (width - 2 * x0) / max(n - 1, 1) if n > 1 else 0.0
    span = [(i, i) for i in range(n)]
    for k, (left, right) in enumerate(tree.children):
        span.append((span[left][0], span[right][1]))
    xs = [x0 + (lo + hi) / 2 * dx if n > 1 else width / 2 for lo, hi in span]
    return xs, dx


def _draw_tree(c, tree, labels, oy, height, x0=36, title=None, depths=True, leaf_size=None,
               leaf_pad=None):
    xs, dx = _layout(tree, c.width, x0)
    levels = max(tree.depth, 1)
    y_leaf = oy + height - 44
    top = oy + (30 if title else 12)
    dy = min(46.0, (y_leaf - 30 - top) / levels)
    ys = [y_leaf - 30 - (tree.height[node] - 1) * dy if node >= tree.n_leaves else y_leaf
          for node in range(tree.n_nodes)]
    if title:
        c.text(10, oy + 12, title, size=S.SMALL_SIZE + 1, anchor="start", cls="", weight="600")
    nodes = []
    leaf_w = min(dx - 6, 70) if tree.n_leaves > 1 else 70
    for node in range(tree.n_nodes):
        if node < tree.n_leaves:
            label = labels[node]
            nodes.append(c.node(xs[node], ys[node], label, "input", w=None, pad=leaf_pad,
                                math=_is_math(label), size=leaf_size or S.FONT_SIZE - 1))
        else:
            nodes.append(c.node(xs[node], ys[node], "", "hidden", w=18, h=18))
    for k, (left, right) in enumerate(tree.children):
        parent = nodes[tree.n_leaves + k]
        for child in (left, right):
            c.edge(nodes[child], parent)
    if depths:
        for i, d in enumerate(tree.leaf_depths()):
            c.text(xs[i], y_leaf + 30, str(int(d)), size=S.SCRIPT_SIZE)
    return nodes, leaf_w


def _is_math(label):
    return "^" in label or "_" in label or len(label) <= 1


def _labels(tree, leaves):
    if leaves is None:
        return [f"x^({i + 1})" for i in range(tree.n_leaves)]
    leaves = [str(w) for w in leaves]
    if len(leaves) != tree.n_leaves:
        raise ValueError(f"leaves must have one label per leaf ({tree.n_leaves}), got {len(leaves)}")
    return leaves


def _check_fits(tree, labels, name="tree"):
    if tree.n_leaves > MAX_LEAVES:
        raise ValueError(f"{name} has {tree.n_leaves} leaves; at most {MAX_LEAVES} fit the "
                         "column with readable labels")
    room = (W_COL - 72) / max(tree.n_leaves - 1, 1)
    widest = max(S.label_width(w, S.FONT_SIZE - 1, _is_math(w)) + 16 for w in labels)
    if tree.n_leaves > 1 and widest > room + 4:
        raise ValueError(f"{name}: the leaf labels are too long for {tree.n_leaves} leaves in the "
                         f"column (the widest needs {widest:.0f} px, {room:.0f} px per leaf)")


def _describe(tree, labels):
    from ..recursive import tree_to_nested

    def show(item):
        # iterative rendering of the nested pairs as (a b)
        out, stack = [], [item]
        while stack:
            top = stack.pop()
            if isinstance(top, str) and top in ("\0(", "\0)", "\0 "):
                out.append(top[1:])
            elif isinstance(top, tuple):
                stack.extend(["\0)", top[1], "\0 ", top[0], "\0("])
            else:
                out.append(S.plain_label(str(top)))
        return "".join(out)

    return show(tree_to_nested(tree, labels))


def tree_diagram(tree, leaves=None, title=None, depths=True):
    """Draw a :class:`rnnlib.recursive.Tree`: leaves (inputs, blue) in order along the bottom,
    labelled by ``leaves`` (default x^(1), x^(2), ...), each composition a green node; under
    every leaf, the number of compositions from it to the root (``depths``)."""
    from ..recursive import check_tree

    check_tree(tree)
    labels = _labels(tree, leaves)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    return _tree_diagram(tree, labels, title, depths, "A binary tree")


def _tree_diagram(tree, labels, title, depths, what):
    _check_fits(tree, labels)
    height = 90 + 46 * max(tree.depth, 1) + (20 if title else 0)
    c = Canvas(W_COL, height)
    _draw_tree(c, tree, labels, 0, height, title=title, depths=depths)
    alt = (f"{what} of depth {tree.depth} over {tree.n_leaves} leaves, "
           f"{_describe(tree, labels)}")
    if depths:
        alt += "; the numbers under the leaves count the compositions from each leaf to the root: " \
               + ", ".join(str(int(d)) for d in tree.leaf_depths())
    return c.diagram(alt + ".")


def chain_and_balanced(n_leaves=8, leaves=None):
    """The left-leaning chain (an RNN's graph, depth n - 1) above the balanced tree (depth
    ceil(log2 n)) over the same n leaves (2 to 16), each leaf's depth written under it."""
    from ..recursive import balanced_tree, chain_tree

    chain = chain_tree(n_leaves)
    if chain.n_leaves < 2:
        raise ValueError(f"n_leaves must be at least 2 for a chain and a tree, got {n_leaves}")
    balanced = balanced_tree(n_leaves)
    labels = _labels(chain, leaves)
    _check_fits(chain, labels, "n_leaves")
    h1 = 100 + 30 * chain.depth
    h2 = 100 + 46 * max(balanced.depth, 1)
    c = Canvas(W_COL, h1 + h2)
    _draw_tree(c, chain, labels, 0, h1, title=f"chain: depth {chain.depth}")
    _draw_tree(c, balanced, labels, h1, h2, title=f"balanced tree: depth {balanced.depth}")
    return c.diagram(
        f"Two trees over the same {chain.n_leaves} leaves. Top, the left-leaning chain "
        f"{_describe(chain, labels)}, the graph of an RNN, of depth {chain.depth}: the first "
        f"leaves are {chain.depth} compositions from the root. Bottom, the balanced tree "
        f"{_describe(balanced, labels)} of depth {balanced.depth}: every leaf is at most "
        f"{balanced.depth} compositions from the root.")


def grammar_tree(expression, leaves=None):
    """The grammar tree of one expression (chapter "Recursive neural networks").

    expression: nested pairs as :func:`rnnlib.recursive.tree_from_nested` reads them, e.g.
    ("and", ("T", ("or", ("F", "T")))), or a Tree with its ``leaves`` (tokens)."""
    from ..recursive import Tree, tree_from_nested

    if isinstance(expression, Tree):
        tree = expression
        labels = _labels(tree, leaves)
    else:
        if not isinstance(expression, (tuple, list)):
            raise TypeError("expression must be nested pairs (a tuple) or a Tree, got "
                            f"{type(expression).__name__}")
        if leaves is not None:
            raise ValueError("leaves: give them only with a Tree; nested pairs carry their own")
        tree, labels = tree_from_nested(expression)
        labels = [str(w) for w in labels]
    return _tree_diagram(tree, labels, f"grammar tree: depth {tree.depth}", True,
                         "The grammar tree of an expression, a binary tree")
