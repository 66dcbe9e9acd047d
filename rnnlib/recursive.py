"""Recursive (tree-structured) neural networks.

Taught in the chapter "Recursive neural networks" (the last model chapter of the book).

A recursive network runs one composition function over a binary tree instead of a chain. The
leaves are input vectors (embeddings) of size m; every internal node combines its two children:

    h_leaf = x_leaf                                    (m,)   a leaf's input vector
    a_node = b + W [h_left ; h_right]                  (m,)   W (m, 2m), b (m,)
    h_node = tanh(a_node)                              (m,)
    o      = c + V h_node                              (C,)   V (C, m), c (C,)
    y_hat  = softmax(o)
    J      = sum over labelled nodes of -log y_hat[y]  (averaged over the trees of a batch)

The output layer reads the root (``outputs="root"``) or every node (``outputs="all"``, with the
label -1 for nodes that carry none). Optionally the leaves are token ids looked up in an
embedding table E (K, m): x_leaf = E[token].

Backpropagation through structure is backpropagation on this graph: going from the root down,

    dJ/dh_node  = V^T dJ/do_node + (the share its parent passes down)
    dJ/da_node  = dJ/dh_node * (1 - h_node**2)
    [dJ/dh_left ; dJ/dh_right] = W^T dJ/da_node
    dJ/dW = sum_nodes dJ/da_node [h_left ; h_right]^T,    dJ/db = sum_nodes dJ/da_node

and dJ/dx_leaf = dJ/dh_leaf. The weights are shared by every node, as an RNN's are shared by
every time step.

Depth of a tree = the number of compositions on the longest path from a leaf to the root. A
left-leaning chain over tau leaves, ((((x1 x2) x3) x4) ...), has depth tau - 1 and *is* an RNN:
h^(t) = tanh(b + W_left h^(t-1) + W_right x^(t+1)) with h^(0) = x^(1), i.e. the RNN of
rnnlib.rnn with W = W[:, :m], U = W[:, m:] (see :func:`chain_to_rnn_params`). A balanced tree over
the same leaves has depth ceil(log2 tau).

Trees are stored as a :class:`Tree`: nodes 0..n-1 are the leaves in order, nodes n..2n-2 the
internal nodes, each after its children, the root last. A batch of trees is processed level by
level (all nodes of the same height at once), so the Python loop runs depth + 1 times, not once
per node.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from ._checks import as_float_array, check_float_dtype, check_params, check_positive_int, check_shape
from .losses import cross_entropy, softmax

PARAM_NAMES = ("W", "b", "V", "c")


# ----------------------------------------------------------------------------------------------
# Trees
# ----------------------------------------------------------------------------------------------
class Tree:
    """A binary tree over n ordered leaves.

    children: (n-1, 2) ints; row k holds (left, right) of internal node n + k. Nodes 0..n-1 are
    the leaves. Every child must come before its parent (so the root, node 2n-2, is last) and
    every node but the root must be the child of exactly one node.

    Attributes: n_leaves, n_nodes (2n-1), root (2n-2), children, height (2n-1,) (compositions
    below each node: 0 at a leaf), parent (2n-1,) (-1 at the root), depth (height of the root).
    """

    __slots__ = ("n_leaves", "children", "height", "parent")

    def __init__(self, n_leaves, children):
        n = check_positive_int("n_leaves", n_leaves)
        children = np.asarray(children if np.size(children) else np.zeros((0, 2)))
        if children.dtype == bool or not np.issubdtype(children.dtype, np.number):
            raise TypeError(f"children must be an integer array of shape (n_leaves-1, 2), got dtype {children.dtype}")
        if not np.issubdtype(children.dtype, np.integer):
            if not np.all(np.isfinite(children)) or not np.all(children == np.round(children)):
                raise TypeError("children must hold integer node indices")
        children = children.astype(np.int64).reshape(-1, 2) if children.size else np.zeros((0, 2), np.int64)
        check_shape("children", children, (n - 1, 2), f"(n_leaves-1, 2) with n_leaves={n}: one row per internal node")
        parent = np.full(2 * n - 1, -1, dtype=np.int64)                      # (2n-1,)
        height = np.zeros(2 * n - 1, dtype=np.int64)                         # (2n-1,)
        for k, (left, right) in enumerate(children):
            node = n + k
            for child in (left, right):
                if not 0 <= child < node:
                    raise ValueError(
                        f"children: node {node} has child {child}; a child must be a node in [0, {node}) "
                        "(children come before their parent)"
                    )
                if parent[child] != -1:
                    raise ValueError(f"children: node {child} has two parents ({parent[child]} and {node}); a tree node has one")
                parent[child] = node
            height[node] = 1 + max(height[left], height[right])
        orphans = np.flatnonzero(parent[:-1] == -1)
        if orphans.size:  # pragma: no cover - impossible: n-1 rows, 2n-2 distinct children
            raise ValueError(f"children: nodes {orphans.tolist()} have no parent")
        self.n_leaves = n
        self.children = children
        self.height = height
        self.parent = parent

    @property
    def n_nodes(self):
        return 2 * self.n_leaves - 1

    @property
    def root(self):
        return 2 * self.n_leaves - 2

    @property
    def depth(self):
        """Compositions on the longest leaf-to-root path (0 for a single leaf)."""
        return int(self.height[self.root])

    def leaf_depths(self):
        """(n,) number of compositions from each leaf up to the root."""
        depth = np.zeros(self.n_nodes, dtype=np.int64)                       # (2n-1,)
        for node in range(self.root - 1, -1, -1):                            # parents come later
            depth[node] = depth[self.parent[node]] + 1
        return depth[: self.n_leaves]

    def __eq__(self, other):
        return isinstance(other, Tree) and self.n_leaves == other.n_leaves and np.array_equal(self.children, other.children)

    def __repr__(self):
        return f"Tree({tree_to_nested(self)!r})"


def check_tree(tree, name="tree"):
    if not isinstance(tree, Tree):
        raise TypeError(f"{name} must be a Tree (see chain_tree, balanced_tree, tree_from_nested), got {type(tree).__name__}")
    return tree


def tree_depth(tree):
    """Number of compositions on the longest path from a leaf to the root."""
    return check_tree(tree).depth


def chain_tree(n_leaves):
    """The left-leaning chain ((((x1 x2) x3) x4) ...): an RNN's graph, depth n_leaves - 1."""
    n = check_positive_int("n_leaves", n_leaves)
    children = [(0, 1)] if n > 1 else []
    children += [(n + k - 1, k + 1) for k in range(1, n - 1)]               # node n+k = h^(k+1)
    return Tree(n, children)


def balanced_tree(n_leaves):
    """A balanced binary tree over n_leaves ordered leaves: depth ceil(log2 n_leaves).

    Each span is split in two halves of sizes ceil(len/2) and floor(len/2).
    """
    n = check_positive_int("n_leaves", n_leaves)
    children = []

    def build(lo, hi):                                                     # span [lo, hi)
        if hi - lo == 1:
            return lo
        mid = lo + (hi - lo + 1) // 2
        left, right = build(lo, mid), build(mid, hi)
        children.append((left, right))
        return n + len(children) - 1

    build(0, n)
    return Tree(n, children)


def tree_from_nested(nested):
    """A Tree from nested pairs, e.g. (("the", "cat"), "sat"); returns (tree, leaves).

    Every tuple or list must have exactly two items (a binary tree); anything else is a leaf.
    leaves lists the leaves from left to right (they become nodes 0..n-1).
    """
    leaves, pairs = [], []

    def count(item, path):
        if isinstance(item, (tuple, list)):
            if len(item) != 2:
                raise ValueError(f"nested: every tuple must have exactly 2 items (a binary tree); "
                                 f"the one at {path or 'the root'} has {len(item)}: {item!r}")
            count(item[0], path + "[0]")
            count(item[1], path + "[1]")
        else:
            leaves.append(item)

    count(nested, "")
    n = len(leaves)
    next_leaf = iter(range(n))

    def build(item):
        if not isinstance(item, (tuple, list)):
            return next(next_leaf)
        left, right = build(item[0]), build(item[1])
        pairs.append((left, right))
        return n + len(pairs) - 1

    build(nested)
    return Tree(n, pairs), leaves


def tree_to_nested(tree, leaves=None):
    """The nested-pairs form of a tree; leaves default to the leaf indices 0..n-1."""
    check_tree(tree)
    labels = list(range(tree.n_leaves)) if leaves is None else list(leaves)
    if len(labels) != tree.n_leaves:
        raise ValueError(f"leaves must have one label per leaf ({tree.n_leaves}), got {len(labels)}")
    nested = labels + [None] * (tree.n_leaves - 1)
    for k, (left, right) in enumerate(tree.children):
        nested[tree.n_leaves + k] = (nested[left], nested[right])
    return nested[tree.root]


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------
def init_recursive(m, C, vocab_size=None, seed=0, dtype=np.float64):
    """Random parameters of a recursive net with hidden size m and C output classes.

    W (m, 2m) from N(0, 1/(2m)) (fan-in 2m), V (C, m) from N(0, 1/m), zero biases b (m,), c (C,).
    With vocab_size K, also an embedding table E (K, m) from N(0, 1/m) (so leaves may be token ids).
    """
    m = check_positive_int("m", m)
    C = check_positive_int("C", C)
    dtype = check_float_dtype(dtype)
    rng = np.random.default_rng(seed)
    params = {
        "W": (rng.standard_normal((m, 2 * m)) / np.sqrt(2 * m)).astype(dtype),  # (m, 2m)
        "b": np.zeros(m, dtype=dtype),                                          # (m,)
        "V": (rng.standard_normal((C, m)) / np.sqrt(m)).astype(dtype),          # (C, m)
        "c": np.zeros(C, dtype=dtype),                                          # (C,)
    }
    if vocab_size is not None:
        K = check_positive_int("vocab_size", vocab_size)
        params["E"] = (rng.standard_normal((K, m)) / np.sqrt(m)).astype(dtype)  # (K, m)
    return params


def check_recursive_params(params):
    """Validate a recursive net's params; return (dtype, m, C)."""
    required = PARAM_NAMES + (("E",) if isinstance(params, dict) and "E" in params else ())
    dtype = check_params(params, required)
    W, b, V, c = (params[k] for k in PARAM_NAMES)
    if W.ndim != 2 or W.shape[1] != 2 * W.shape[0]:
        raise ValueError(f"params['W'] must have shape (m, 2m) (it reads [h_left; h_right]), got {W.shape}")
    m = W.shape[0]
    check_shape("params['b']", b, (m,), f"(m,) with m={m} from W")
    check_shape("params['V']", V, (None, m), f"(C, m) with m={m} from W")
    C = V.shape[0]
    check_shape("params['c']", c, (C,), f"(C,) with C={C} from V")
    if "E" in params:
        check_shape("params['E']", params["E"], (None, m), f"(K, m) with m={m} from W")
    return dtype, m, C


def chain_to_rnn_params(params):
    """The vanilla RNN (rnnlib.rnn) that a recursive net computes on a left-leaning chain.

    On ((x1 x2) x3 ...), h^(t) = tanh(b + W_left h^(t-1) + W_right x^(t+1)), h^(0) = x^(1):
    the RNN with W = W[:, :m], U = W[:, m:], the same b, V and c.
    """
    _, m, _ = check_recursive_params(params)
    W = params["W"]
    return {"W": W[:, :m].copy(), "U": W[:, m:].copy(), "V": params["V"].copy(),
            "b": params["b"].copy(), "c": params["c"].copy()}


# ----------------------------------------------------------------------------------------------
# Forward and backward through structure
# ----------------------------------------------------------------------------------------------
@dataclass
class RecursiveCache:
    """The forward pass's record. Nodes of all trees are stacked: tree i's node j is row offset[i] + j."""

    trees: List[Tree]
    single: bool                 # one tree was given (not a list)
    offset: np.ndarray           # (B+1,) first row of each tree; offset[-1] = N
    leaf_rows: np.ndarray        # (total leaves,) rows of the leaves, tree by tree
    children: np.ndarray         # (N, 2) rows of the two children, -1 at a leaf
    levels: List[np.ndarray]     # levels[k-1]: rows of the internal nodes of height k
    tokens: Optional[list]       # token ids per tree when leaves were looked up in E, else None
    h: np.ndarray                # (N, m) every node's hidden vector
    out_rows: np.ndarray         # (R,) rows read by the output layer
    o: np.ndarray                # (R, C) logits
    y_hat: np.ndarray            # (R, C) predicted distributions
    outputs: str                 # "root" or "all"

    @property
    def roots(self):
        return self.offset[1:] - 1                                           # (B,) root rows

    @property
    def h_root(self):
        """(B, m) root vectors ((m,) for a single tree)."""
        return self.h[self.roots[0]] if self.single else self.h[self.roots]

    def node_h(self, i=0):
        """(2n-1, m) hidden vectors of tree i, in node order."""
        return self.h[self.offset[i]: self.offset[i + 1]]


def _as_tree_list(trees, x):
    if isinstance(trees, Tree):
        return [trees], [x], True
    if not isinstance(trees, (list, tuple)) or not trees:
        raise TypeError(f"trees must be a Tree or a non-empty list of Trees, got {type(trees).__name__}"
                        + (" (empty)" if isinstance(trees, (list, tuple)) else ""))
    for i, tree in enumerate(trees):
        check_tree(tree, f"trees[{i}]")
    if isinstance(x, np.ndarray) or not isinstance(x, (list, tuple)):
        raise TypeError(f"x must be a list with one array per tree when trees is a list, got {type(x).__name__}")
    if len(x) != len(trees):
        raise ValueError(f"x must hold one leaf array per tree: {len(trees)} trees, got {len(x)} arrays")
    return list(trees), list(x), False


def _leaf_vectors(params, x_i, tree, i, dtype, m):
    """Leaf vectors (n, m) from floats (n, m) or token ids (n,) looked up in params['E']."""
    name = "x" if i is None else f"x[{i}]"
    n = tree.n_leaves
    array = np.asarray(x_i) if not isinstance(x_i, (str, bytes, dict)) and x_i is not None else x_i
    if isinstance(array, np.ndarray) and np.issubdtype(array.dtype, np.integer) and array.dtype != bool:
        if "E" not in params:
            raise TypeError(f"{name} holds integer token ids, but params has no embedding table 'E' "
                            "(use init_recursive(..., vocab_size=K) or pass leaf vectors (n, m))")
        K = params["E"].shape[0]
        check_shape(name, array, (n,), f"(n_leaves,) token ids with n_leaves={n}")
        if array.min() < 0 or array.max() >= K:
            raise ValueError(f"{name} must hold token ids in [0, K) = [0, {K}), got values from {array.min()} to {array.max()}")
        return params["E"][array], array                                     # (n, m)
    leaves = as_float_array(name, x_i, dtype=dtype, ndim=2)
    check_shape(name, leaves, (n, m), f"(n_leaves, m): one vector of size m={m} (from W) per leaf, n_leaves={n}")
    return leaves, None


def recursive_forward(params, trees, x, outputs="root"):
    """Run the recursive net over one tree or a batch of trees.

    params:  W (m, 2m), b (m,), V (C, m), c (C,) [, E (K, m)].
    trees:   a Tree, or a list of B Trees (of any shapes).
    x:       the leaves: for one tree an (n, m) array of leaf vectors or (n,) int token ids (with
             params['E']); for a list of trees, a list of such arrays, one per tree.
    outputs: "root" (the output layer reads each root) or "all" (every node).
    Returns a RecursiveCache: h (N, m) for every node, o and y_hat (R, C) at the output rows.
    """
    dtype, m, C = check_recursive_params(params)
    if outputs not in ("root", "all"):
        raise ValueError(f"outputs must be 'root' or 'all', got {outputs!r}")
    tree_list, x_list, single = _as_tree_list(trees, x)
    W, b, V, c = (params[k] for k in PARAM_NAMES)

    sizes = np.array([t.n_nodes for t in tree_list])                        # (B,)
    offset = np.concatenate([[0], np.cumsum(sizes)])                        # (B+1,)
    N = int(offset[-1])
    h = np.empty((N, m), dtype=dtype)                                       # (N, m)
    children = np.full((N, 2), -1, dtype=np.int64)                          # (N, 2)
    height = np.zeros(N, dtype=np.int64)                                    # (N,)
    leaf_rows, tokens = [], []
    for i, (tree, x_i) in enumerate(zip(tree_list, x_list)):
        first, n = offset[i], tree.n_leaves
        leaves, ids = _leaf_vectors(params, x_i, tree, None if single else i, dtype, m)
        h[first: first + n] = leaves                                        # (n, m) h_leaf = x_leaf
        children[first + n: first + 2 * n - 1] = tree.children + first     # (n-1, 2) global rows
        height[first: first + 2 * n - 1] = tree.height
        leaf_rows.append(np.arange(first, first + n))
        tokens.append(ids)
    if any(t is None for t in tokens):
        tokens = None

    levels = [np.flatnonzero(height == k) for k in range(1, int(height.max()) + 1)]
    for rows in levels:                                                     # all nodes of one height
        left, right = children[rows, 0], children[rows, 1]                  # (n_k,), (n_k,)
        h_children = np.concatenate([h[left], h[right]], axis=1)            # (n_k, 2m) [h_left; h_right]
        a = b + h_children @ W.T                                            # (n_k, m)
        h[rows] = np.tanh(a)                                                # (n_k, m)

    out_rows = offset[1:] - 1 if outputs == "root" else np.arange(N)        # (R,)
    o = h[out_rows] @ V.T + c                                               # (R, C)
    y_hat = softmax(o)                                                      # (R, C)
    return RecursiveCache(trees=tree_list, single=single, offset=offset,
                          leaf_rows=np.concatenate(leaf_rows), children=children, levels=levels,
                          tokens=tokens, h=h, out_rows=out_rows, o=o, y_hat=y_hat, outputs=outputs)


def _targets(cache, y):
    """Integer targets (R,) for the output rows; -1 marks an unlabelled node (outputs='all')."""
    B, C = len(cache.trees), cache.o.shape[1]
    if isinstance(y, (str, bytes, dict)) or y is None:
        raise TypeError(f"y must hold integer class labels, got {type(y).__name__}")
    if cache.outputs == "root":
        array = np.asarray(y)
        if cache.single and array.ndim == 0:
            array = array.reshape(1)
        if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"y must hold integer class labels, got dtype {array.dtype}")
        check_shape("y", array, (B,), f"(B,): one label per tree's root, B={B}")
        labelled = np.ones(B, dtype=bool)
    else:
        per_tree = [y] if cache.single else y
        if not isinstance(per_tree, (list, tuple)) or len(per_tree) != B:
            raise ValueError(f"y must hold one label array per tree ({B}) when outputs='all'")
        parts = []
        for i, (tree, y_i) in enumerate(zip(cache.trees, per_tree)):
            y_i = np.asarray(y_i)
            name = "y" if cache.single else f"y[{i}]"
            if y_i.dtype == bool or not np.issubdtype(y_i.dtype, np.integer):
                raise TypeError(f"{name} must hold integer class labels, got dtype {y_i.dtype}")
            check_shape(name, y_i, (tree.n_nodes,), f"(2n-1,): one label per node (-1: none), n_leaves={tree.n_leaves}")
            parts.append(y_i)
        array = np.concatenate(parts)
        labelled = array != -1
    real = array[labelled]
    if real.size and (real.min() < 0 or real.max() >= C):
        raise ValueError(f"y must hold class labels in [0, C) = [0, {C}) (or -1 for none with outputs='all'), "
                         f"got values from {real.min()} to {real.max()}")
    return np.where(labelled, array, 0), labelled


def recursive_backward(params, cache, y):
    """Backpropagation through structure: returns (loss, grads).

    y: for outputs="root", (B,) int labels of the roots (an int for a single tree); for
       outputs="all", one (2n-1,) int array per tree with a label per node (-1: no label).
    loss = (1/B) sum over labelled output nodes of -log y_hat[y].
    grads: W, b, V, c (and E when the leaves were token ids), and "x": dJ/dx_leaf shaped like x
    ((n, m) for one tree, a list of (n_i, m) arrays for a batch).
    """
    check_recursive_params(params)
    if not isinstance(cache, RecursiveCache):
        raise TypeError(f"cache must be the RecursiveCache returned by recursive_forward, got {type(cache).__name__}")
    W, V = params["W"], params["V"]
    h, children = cache.h, cache.children
    N, m = h.shape
    if W.shape[0] != m or cache.o.shape[1] != V.shape[0]:
        raise ValueError("cache does not match params: it was made by recursive_forward with other parameter shapes")
    B = len(cache.trees)
    targets, labelled = _targets(cache, y)

    weight = labelled.astype(h.dtype) / B                                   # (R,)
    loss, do = cross_entropy(cache.o, targets, weight)                      # do: (R, C)
    dh = np.zeros_like(h)                                                   # (N, m) dJ/dh_node
    dh[cache.out_rows] += do @ V                                            # (R, m) V^T dJ/do
    dW = np.zeros_like(W)                                                   # (m, 2m)
    db = np.zeros(m, dtype=h.dtype)                                         # (m,)
    for rows in reversed(cache.levels):                                     # parents before children
        left, right = children[rows, 0], children[rows, 1]                  # (n_k,), (n_k,)
        h_children = np.concatenate([h[left], h[right]], axis=1)            # (n_k, 2m)
        da = dh[rows] * (1 - h[rows] ** 2)                                  # (n_k, m) dJ/da_node
        dh_children = da @ W                                                # (n_k, 2m) W^T dJ/da
        dh[left] += dh_children[:, :m]                                      # (n_k, m) each node has one parent
        dh[right] += dh_children[:, m:]                                     # (n_k, m)
        dW += da.T @ h_children                                             # (m, 2m)
        db += da.sum(axis=0)                                                # (m,)

    grads = {
        "W": dW,                                                            # (m, 2m)
        "b": db,                                                            # (m,)
        "V": do.T @ h[cache.out_rows],                                      # (C, m)
        "c": do.sum(axis=0),                                                # (C,)
    }
    dx = dh[cache.leaf_rows]                                                # (total leaves, m) dJ/dx_leaf
    if cache.tokens is not None and "E" in params:
        dE = np.zeros_like(params["E"])                                     # (K, m)
        np.add.at(dE, np.concatenate(cache.tokens), dx)                     # a token used twice adds up
        grads["E"] = dE
    split = np.cumsum([t.n_leaves for t in cache.trees])[:-1]
    dx_list = np.split(dx, split)
    grads["x"] = dx_list[0] if cache.single else dx_list
    return h.dtype.type(loss), grads


def recursive_predict(params, trees, x):
    """Predicted class of each root: an int for one tree, (B,) ints for a list."""
    cache = recursive_forward(params, trees, x)
    labels = np.argmax(cache.y_hat, axis=1)                                 # (B,)
    return int(labels[0]) if cache.single else labels


# ----------------------------------------------------------------------------------------------
# A task with a grammar: boolean expressions in prefix (Polish) notation
# ----------------------------------------------------------------------------------------------
BOOL_VOCAB = ("F", "T", "and", "or")
"""Token ids of the boolean-expression task: F=0, T=1, and=2, or=3."""


def random_expression(rng, max_depth, p_leaf=0.3):
    """A random boolean expression as nested pairs in its grammar's shape: (op, (left, right)).

    A value is "T" or "F"; an expression of depth k > 0 is (op, (e1, e2)) with op "and" or "or".
    Subexpressions stop early with probability p_leaf; the root is never a bare value.
    """
    max_depth = check_positive_int("max_depth", max_depth)
    if not isinstance(p_leaf, numbers.Real) or not 0 <= p_leaf <= 1:
        raise ValueError(f"p_leaf must be a probability in [0, 1], got {p_leaf!r}")

    def grow(depth, is_root):
        if depth == 0 or (not is_root and rng.random() < p_leaf):
            return "T" if rng.random() < 0.5 else "F"
        op = "and" if rng.random() < 0.5 else "or"
        return (op, (grow(depth - 1, False), grow(depth - 1, False)))

    return grow(max_depth, True)


def evaluate_expression(expr):
    """The truth value of a nested expression (op, (left, right)) or a value "T"/"F"."""
    if isinstance(expr, str):
        if expr not in ("T", "F"):
            raise ValueError(f"expr: a value must be 'T' or 'F', got {expr!r}")
        return expr == "T"
    if not (isinstance(expr, tuple) and len(expr) == 2 and isinstance(expr[1], tuple) and len(expr[1]) == 2):
        raise ValueError(f"expr must be 'T', 'F' or (op, (left, right)), got {expr!r}")
    op, (left, right) = expr
    if op == "and":
        return evaluate_expression(left) and evaluate_expression(right)
    if op == "or":
        return evaluate_expression(left) or evaluate_expression(right)
    raise ValueError(f"expr: an operator must be 'and' or 'or', got {op!r}")


def expression_tokens(expr):
    """The prefix (Polish) token ids of an expression: ("and", ("T", "F")) -> [and, T, F] ids."""
    _, leaves = tree_from_nested(expr)
    unknown = [w for w in leaves if w not in BOOL_VOCAB]
    if unknown:
        raise ValueError(f"expr has tokens outside {BOOL_VOCAB}: {unknown}")
    return np.array([BOOL_VOCAB.index(w) for w in leaves], dtype=np.int64)


def parse_prefix(tokens):
    """The grammar's tree of a prefix token sequence (a recursive-descent parser).

    Expr -> Value | Op Expr Expr, built as the pair (Op, (Expr, Expr)). Raises ValueError on a
    sequence the grammar cannot derive.
    """
    ids = [int(t) for t in np.asarray(tokens).reshape(-1)]
    if not ids:
        raise ValueError("tokens is empty; an expression has at least one token")
    words = []
    for t in ids:
        if not 0 <= t < len(BOOL_VOCAB):
            raise ValueError(f"tokens must be ids in [0, {len(BOOL_VOCAB)}), got {t}")
        words.append(BOOL_VOCAB[t])
    position = 0

    def expr():
        nonlocal position
        if position >= len(words):
            raise ValueError(f"tokens end too early: an expression is incomplete ({' '.join(words)})")
        word = words[position]
        position += 1
        if word in ("T", "F"):
            return word
        left = expr()
        right = expr()
        return (word, (left, right))

    nested = expr()
    if position != len(words):
        raise ValueError(f"tokens has {len(words) - position} token(s) left over after a complete expression")
    return tree_from_nested(nested)[0]


def rotate_randomly(tree, rng, p):
    """A noisy parser: each internal node whose child is internal is rotated with probability p.

    A rotation regroups ((A B) C) as (A (B C)) or (A (B C)) as ((A B) C); the leaves keep their
    order, only the structure is wrong, as a parser's attachment errors are.
    """
    check_tree(tree)
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
    nested = tree_to_nested(tree)

    def noisy(item):
        if not isinstance(item, tuple):
            return item
        left, right = noisy(item[0]), noisy(item[1])
        if rng.random() < p:
            if isinstance(left, tuple):
                return (left[0], (left[1], right))                          # ((A B) C) -> (A (B C))
            if isinstance(right, tuple):
                return ((left, right[0]), right[1])                         # (A (B C)) -> ((A B) C)
        return (left, right)

    return tree_from_nested(noisy(nested))[0]


def make_expression_data(n, max_depth, seed=0):
    """n random expressions: (tokens list, grammar trees list, labels (n,) with T=1, F=0)."""
    n = check_positive_int("n", n)
    rng = np.random.default_rng(seed)
    exprs = [random_expression(rng, max_depth) for _ in range(n)]
    tokens = [expression_tokens(e) for e in exprs]
    trees = [tree_from_nested(e)[0] for e in exprs]
    labels = np.array([int(evaluate_expression(e)) for e in exprs], dtype=np.int64)
    return tokens, trees, labels


def train_recursive(params, trees, tokens, labels, num_steps, batch_size=32, optimizer=None, seed=0,
                    progress=True, desc="training"):
    """Minibatch training on root labels (in place); returns the list of losses.

    trees, tokens: lists of Trees and of (n_i,) token ids (params must hold E); labels (n,) ints.
    """
    from .optim import Adam
    from tqdm.auto import tqdm  # imported here so `import rnnlib` stays light

    num_steps = check_positive_int("num_steps", num_steps)
    batch_size = check_positive_int("batch_size", batch_size)
    if not (len(trees) == len(tokens) == len(labels)):
        raise ValueError(f"trees, tokens and labels must have one entry per example, got {len(trees)}, {len(tokens)}, {len(labels)}")
    labels = np.asarray(labels)
    optimizer = Adam(lr=1e-2) if optimizer is None else optimizer
    rng = np.random.default_rng(seed)
    losses = []
    for _ in tqdm(range(num_steps), desc=desc, disable=not progress, mininterval=0.5):
        batch = rng.choice(len(trees), size=min(batch_size, len(trees)), replace=False)
        cache = recursive_forward(params, [trees[i] for i in batch], [tokens[i] for i in batch])
        loss, grads = recursive_backward(params, cache, labels[batch])
        optimizer.step(params, {k: grads[k] for k in params})
        losses.append(float(loss))
    return losses


def accuracy(params, trees, tokens, labels):
    """Fraction of roots classified correctly."""
    predicted = recursive_predict(params, list(trees), list(tokens))
    return float(np.mean(predicted == np.asarray(labels)))


__all__ = [
    "Tree", "check_tree", "tree_depth", "chain_tree", "balanced_tree", "tree_from_nested", "tree_to_nested",
    "init_recursive", "check_recursive_params", "chain_to_rnn_params",
    "RecursiveCache", "recursive_forward", "recursive_backward", "recursive_predict",
    "BOOL_VOCAB", "random_expression", "evaluate_expression", "expression_tokens", "parse_prefix",
    "rotate_randomly", "make_expression_data", "train_recursive", "accuracy",
]
