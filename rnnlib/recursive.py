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

No helper recurses in Python: building, reading, printing, parsing and rotating trees and
evaluating expressions all walk the tree with an explicit stack, so a chain 100,000 deep works.
``random_expression`` stops with a clear error when an expression would exceed ``max_nodes``
nodes (its expected size grows like (2 (1 - p_leaf))^max_depth).

Every public function checks its arguments once and then calls the plain function of the same
name with a leading underscore (``_recursive_forward``, ``_recursive_backward``, ...), whose body
is the math; internal calls go to the plain functions.
"""
from __future__ import annotations

import numbers
import reprlib
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    as_float_array,
    as_generator,
    check_allocation,
    check_bool,
    check_cache,
    check_float_dtype,
    check_params,
    check_positive_int,
    check_seed,
    check_shape,
)
from .losses import _cross_entropy, _softmax

__all__ = [
    "Tree", "check_tree", "tree_depth", "chain_tree", "balanced_tree", "tree_from_nested", "tree_to_nested",
    "init_recursive", "check_recursive_params", "chain_to_rnn_params",
    "RecursiveCache", "recursive_forward", "recursive_backward", "recursive_predict",
    "BOOL_VOCAB", "random_expression", "evaluate_expression", "expression_tokens", "parse_prefix",
    "rotate_randomly", "make_expression_data", "train_recursive", "accuracy",
]

PARAM_NAMES = ("W", "b", "V", "c")

#: the largest expression random_expression grows by default (nodes, values and operators)
DEFAULT_MAX_NODES = 100_000

_short = reprlib.Repr()
_short.maxlevel, _short.maxtuple, _short.maxlist, _short.maxstring = 4, 4, 4, 40


# ----------------------------------------------------------------------------------------------
# Trees
# ----------------------------------------------------------------------------------------------
def _parent_height(n, children):
    """parent (2n-1,) (-1 at the root) and height (2n-1,) of a valid
    children array (n-1, 2)."""
    parent = np.full(2 * n - 1, -1, dtype=np.int64)            # (2n-1,)
    internal = np.arange(n, 2 * n - 1)                         # (n-1,)
    parent[children[:, 0]] = internal
    parent[children[:, 1]] = internal
    height = [0] * (2 * n - 1)
    for k, (left, right) in enumerate(children.tolist()):      # children first
        height[n + k] = 1 + max(height[left], height[right])
    return parent, np.array(height, dtype=np.int64)


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
        if children.dtype == bool or not np.issubdtype(children.dtype, np.number) \
                or np.issubdtype(children.dtype, np.complexfloating):
            raise TypeError(f"children must be an integer array of shape (n_leaves-1, 2), got dtype {children.dtype}")
        if not np.issubdtype(children.dtype, np.integer):
            if not np.all(np.isfinite(children)) or not np.all(children == np.round(children)):
                raise TypeError("children must hold integer node indices")
        children = children.astype(np.int64).reshape(-1, 2) if children.size else np.zeros((0, 2), np.int64)
        check_shape("children", children, (n - 1, 2), f"(n_leaves-1, 2) with n_leaves={n}: one row per internal node")
        node = np.arange(n, 2 * n - 1)[:, None]                              # (n-1, 1)
        bad_range = np.any((children < 0) | (children >= node))
        if bad_range or (children.size and np.bincount(children.ravel()).max() > 1):
            _raise_first_tree_error(n, children)
        self.n_leaves = n
        self.children = children
        self.parent, self.height = _parent_height(n, children)

    @classmethod
    def _from_children(cls, n, children):
        """The Tree of a children array known to be valid (built by this module): no checks."""
        tree = object.__new__(cls)
        tree.n_leaves = n
        tree.children = np.asarray(children, dtype=np.int64).reshape(n - 1, 2)
        tree.parent, tree.height = _parent_height(n, tree.children)
        return tree

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
        parent = self.parent.tolist()
        depth = [0] * self.n_nodes                                           # (2n-1,)
        for node in range(self.root - 1, -1, -1):                            # parents come later
            depth[node] = depth[parent[node]] + 1
        return np.array(depth[: self.n_leaves], dtype=np.int64)

    def __eq__(self, other):
        return isinstance(other, Tree) and self.n_leaves == other.n_leaves and np.array_equal(self.children, other.children)

    def __repr__(self):
        return f"Tree({_nested_repr(self)})"


def _raise_first_tree_error(n, children):
    """Raise the error of the first invalid row of children (in row order)."""
    parent = [-1] * (2 * n - 1)
    for k, (left, right) in enumerate(children.tolist()):
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


def _nested_repr(tree):
    """repr(tree_to_nested(tree)) built with an explicit stack (no recursion)."""
    n, children = tree.n_leaves, tree.children.tolist()
    parts, stack = [], [tree.root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif item < n:
            parts.append(str(item))
        else:
            left, right = children[item - n]
            stack += [")", right, ", ", left, "("]
    return "".join(parts)


def check_tree(tree, name="tree"):
    """Return ``tree`` if it is a Tree, else raise a TypeError naming ``name``."""
    if not isinstance(tree, Tree):
        raise TypeError(f"{name} must be a Tree (see chain_tree, balanced_tree, tree_from_nested), got {type(tree).__name__}")
    return tree


def tree_depth(tree):
    """Number of compositions on the longest path from a leaf to the root."""
    return check_tree(tree).depth


def _check_n_leaves(n_leaves, max_bytes):
    n = check_positive_int("n_leaves", n_leaves)
    check_allocation(f"n_leaves={n}", [(n - 1, 2), (2 * n - 1,), (2 * n - 1,)], np.int64, max_bytes)
    return n


def _chain_tree(n):
    """The left-leaning chain: node n+k = (node n+k-1, leaf k+1), node n =
    (leaf 0, leaf 1). Arguments are checked by `chain_tree`."""
    k = np.arange(1, n - 1)                                    # (n-2,)
    rest = np.stack([n + k - 1, k + 1], axis=1)                # (n-2, 2)
    first = np.array([[0, 1]] if n > 1 else [], dtype=np.int64)
    children = np.concatenate([first.reshape(-1, 2), rest])    # (n-1, 2)
    return Tree._from_children(n, children)


def chain_tree(n_leaves, max_bytes=DEFAULT_MAX_BYTES):
    """The left-leaning chain ((((x1 x2) x3) x4) ...): an RNN's graph, depth n_leaves - 1."""
    return _chain_tree(_check_n_leaves(n_leaves, max_bytes))


def _balanced_tree(n):
    """Split every span [lo, hi) into halves of ceil and floor size; the
    nodes in post-order (left subtree, right subtree, node).
    Arguments are checked by `balanced_tree`."""
    children, done = [], []                                    # done: node ids
    stack = [(0, n, False)]                                    # span, visited
    while stack:
        lo, hi, visited = stack.pop()
        if hi - lo == 1:
            done.append(lo)                                    # a leaf
        elif visited:
            right, left = done.pop(), done.pop()
            children.append((left, right))
            done.append(n + len(children) - 1)                 # the new node
        else:
            mid = lo + (hi - lo + 1) // 2
            stack += [(lo, hi, True), (mid, hi, False), (lo, mid, False)]
    return Tree._from_children(n, np.array(children, dtype=np.int64))


def balanced_tree(n_leaves, max_bytes=DEFAULT_MAX_BYTES):
    """A balanced binary tree over n_leaves ordered leaves: depth ceil(log2 n_leaves).

    Each span is split in two halves of sizes ceil(len/2) and floor(len/2).
    """
    return _balanced_tree(_check_n_leaves(n_leaves, max_bytes))


_EXIT = object()                                                         # a stack marker


class _Close:
    """A stack marker: the walk leaves this list (it may appear again elsewhere, not inside)."""

    __slots__ = ("item",)

    def __init__(self, item):
        self.item = item


def _check_nested(nested):
    """Every tuple or list of ``nested`` has two items and no list contains itself (a walk with
    an explicit stack; the error names the path, e.g. [1][0])."""
    on_path = set()                                                      # ids of open lists
    stack = [nested]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = type(item)
        if kind is _Close:
            on_path.discard(id(item.item))
            continue
        if kind is not tuple and kind is not list and not isinstance(item, (tuple, list)):
            continue                                                     # a leaf
        if len(item) != 2:
            raise ValueError(f"nested: every tuple must have exactly 2 items (a binary tree); "
                             f"the one at {_path_to(nested, item)} has {len(item)}: {_short.repr(item)}")
        if isinstance(item, list):                                       # only lists can cycle
            if id(item) in on_path:
                raise ValueError(f"nested contains itself at {_path_to(nested, item, True)} (a "
                                 "cycle); a tree must be finite")
            on_path.add(id(item))
            push(_Close(item))
        push(item[1])
        push(item[0])


def _path_to(nested, target, inner=False):
    """The index path (e.g. "[1][0]") of the first container ``target`` met walking nested
    left to right (with ``inner``: its first occurrence inside itself); for error messages."""
    entries = [(-1, None)]                                               # (parent entry, which)
    stack = [(nested, 0, False)]
    while stack:
        item, entry, inside = stack.pop()
        if item is target and (inside or not inner):
            steps = []
            while entry > 0:
                entry, step = entries[entry]
                steps.append(step)
            return "".join(f"[{i}]" for i in reversed(steps)) or "the root"
        if isinstance(item, (tuple, list)) and len(item) == 2:
            inside = inside or item is target
            for which in (1, 0):
                entries.append((entry, which))
                stack.append((item[which], len(entries) - 1, inside))
    return "the root"


def _tree_from_nested(nested):
    """Leaves left to right become nodes 0..n-1, every pair a node after its
    children (post-order, with an explicit stack).
    Arguments are checked by `tree_from_nested`."""
    leaves, pairs, refs = [], [], []                           # refs: results
    stack = [nested]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        if item is _EXIT:                                      # children done
            right, left = refs.pop(), refs.pop()
            pairs.append((left, right))
            refs.append(-len(pairs))                           # pair k: -(k+1)
        elif type(item) is tuple or isinstance(item, (tuple, list)):
            push(_EXIT)
            push(item[1])                                      # left first
            push(item[0])
        else:
            leaves.append(item)
            refs.append(len(leaves) - 1)                       # leaf i: i
    n = len(leaves)
    children = np.array(pairs, dtype=np.int64).reshape(-1, 2)  # (n-1, 2)
    children = np.where(children >= 0, children, n - 1 - children)  # nodes
    return Tree._from_children(n, children), leaves


def tree_from_nested(nested):
    """A Tree from nested pairs, e.g. (("the", "cat"), "sat"); returns (tree, leaves).

    Every tuple or list must have exactly two items (a binary tree); anything else is a leaf.
    leaves lists the leaves from left to right (they become nodes 0..n-1). Any depth works (no
    recursion).
    """
    _check_nested(nested)
    return _tree_from_nested(nested)


def _tree_to_nested(tree, labels):
    """nested[node] = (nested[left], nested[right]), children first.
    Arguments are checked by `tree_to_nested`."""
    n = tree.n_leaves
    nested = list(labels) + [None] * (n - 1)                   # one per node
    for k, (left, right) in enumerate(tree.children.tolist()):
        nested[n + k] = (nested[left], nested[right])          # node n+k
    return nested[tree.root]


def tree_to_nested(tree, leaves=None):
    """The nested-pairs form of a tree; leaves default to the leaf indices 0..n-1."""
    check_tree(tree)
    if leaves is not None and (isinstance(leaves, (str, bytes, dict)) or not hasattr(leaves, "__len__")):
        raise TypeError(f"leaves must be a list of one label per leaf, got {type(leaves).__name__}")
    labels = list(range(tree.n_leaves)) if leaves is None else list(leaves)
    if len(labels) != tree.n_leaves:
        raise ValueError(f"leaves must have one label per leaf ({tree.n_leaves}), got {len(labels)}")
    return _tree_to_nested(tree, labels)


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------
def _init_recursive(m, C, K, rng, dtype):
    """W (m, 2m) ~ N(0, 1/(2m)), V (C, m) ~ N(0, 1/m), b = 0, c = 0 [, E
    (K, m) ~ N(0, 1/m)]. Arguments are checked by `init_recursive`."""
    params = {
        "W": (rng.standard_normal((m, 2 * m)) / np.sqrt(2 * m)).astype(dtype),
        "b": np.zeros(m, dtype=dtype),                         # (m,)
        "V": (rng.standard_normal((C, m)) / np.sqrt(m)).astype(dtype),
        "c": np.zeros(C, dtype=dtype),                         # (C,)
    }
    if K is not None:
        E = rng.standard_normal((K, m)) / np.sqrt(m)           # (K, m)
        params["E"] = E.astype(dtype)
    return params


def init_recursive(m, C, vocab_size=None, seed=0, dtype=np.float64, max_bytes=DEFAULT_MAX_BYTES):
    """Random parameters of a recursive net with hidden size m and C output classes.

    W (m, 2m) from N(0, 1/(2m)) (fan-in 2m), V (C, m) from N(0, 1/m), zero biases b (m,), c (C,).
    With vocab_size K, also an embedding table E (K, m) from N(0, 1/m) (so leaves may be token ids).
    seed: None, a non-negative int or a np.random.Generator; dtype float64 or float32;
    max_bytes: the largest size of the parameters allowed.
    """
    m = check_positive_int("m", m)
    C = check_positive_int("C", C)
    K = None if vocab_size is None else check_positive_int("vocab_size", vocab_size)
    dtype = check_float_dtype(dtype)
    rng = as_generator(seed)
    shapes = [(m, 2 * m), (m,), (C, m), (C,)] + ([(K, m)] if K is not None else [])
    check_allocation(f"m={m}, C={C}, vocab_size={K}", shapes, dtype, max_bytes)
    return _init_recursive(m, C, K, rng, dtype)


def check_recursive_params(params):
    """Validate a recursive net's params; return (dtype, m, C)."""
    required = PARAM_NAMES + (("E",) if isinstance(params, dict) and "E" in params else ())
    dtype = check_params(params, required)
    W, b, V, c = (params[k] for k in PARAM_NAMES)
    if W.ndim != 2 or W.shape[1] != 2 * W.shape[0] or W.shape[0] == 0:
        raise ValueError(f"params['W'] must have shape (m, 2m) (it reads [h_left; h_right]), got {W.shape}")
    m = W.shape[0]
    check_shape("params['b']", b, (m,), f"(m,) with m={m} from W")
    check_shape("params['V']", V, (None, m), f"(C, m) with m={m} from W")
    C = V.shape[0]
    if C == 0:
        raise ValueError(f"params['V'] must have shape (C, m) with C >= 1, got {V.shape}")
    check_shape("params['c']", c, (C,), f"(C,) with C={C} from V")
    if "E" in params:
        check_shape("params['E']", params["E"], (None, m), f"(K, m) with m={m} from W")
    return dtype, m, C


def _chain_to_rnn_params(params):
    """W_left = W[:, :m] is the RNN's W, W_right = W[:, m:] its U.
    Arguments are checked by `chain_to_rnn_params`."""
    W = params["W"]
    m = W.shape[0]
    rnn = {"W": W[:, :m].copy(), "U": W[:, m:].copy()}         # (m, m) each
    rnn.update({k: params[k].copy() for k in ("V", "b", "c")})
    return rnn


def chain_to_rnn_params(params):
    """The vanilla RNN (rnnlib.rnn) that a recursive net computes on a left-leaning chain.

    On ((x1 x2) x3 ...), h^(t) = tanh(b + W_left h^(t-1) + W_right x^(t+1)), h^(0) = x^(1):
    the RNN with W = W[:, :m], U = W[:, m:], the same b, V and c.
    """
    check_recursive_params(params)
    return _chain_to_rnn_params(params)


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
    tokens: Optional[list]       # token ids per tree (None for a tree of leaf vectors) when any
                                 # tree's leaves were looked up in E, else None
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


def _check_leaves(params, x_i, tree, name, dtype, m):
    """Leaf vectors (n, m) or token ids (n,) in [0, K) (with params['E']); returns (vectors,
    None) or (None, ids)."""
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
        return None, array.astype(np.int64)
    leaves = as_float_array(name, x_i, dtype=dtype, ndim=2)
    check_shape(name, leaves, (n, m), f"(n_leaves, m): one vector of size m={m} (from W) per leaf, n_leaves={n}")
    return leaves, None


def _levels(height):
    """levels[k-1]: the rows of height k, k = 1..max (ascending rows)."""
    order = np.argsort(height, kind="stable")                  # (N,) by height
    counts = np.bincount(height)                               # per height
    return np.split(order, np.cumsum(counts)[:-1])[1:]         # drop the leaves


def _recursive_forward(params, trees, x, tokens, single, outputs):
    """h_leaf = x_leaf (or E[token]); then, level by level, every internal
    node h = tanh(b + W [h_left; h_right]); o = c + V h at the output rows.
    Arguments are checked by `recursive_forward`."""
    W, b, V, c = params["W"], params["b"], params["V"], params["c"]
    m = W.shape[0]
    sizes = [tree.n_nodes for tree in trees]                   # 2n-1 per tree
    offset = np.concatenate([[0], np.cumsum(sizes)])           # (B+1,)
    N = int(offset[-1])
    h = np.empty((N, m), dtype=W.dtype)                        # (N, m)
    children = np.full((N, 2), -1, dtype=np.int64)             # (N, 2)
    height = np.zeros(N, dtype=np.int64)                       # (N,)
    leaf_rows = []
    for i, tree in enumerate(trees):
        first, n = offset[i], tree.n_leaves
        if tokens[i] is not None:
            h[first:first + n] = params["E"][tokens[i]]        # (n, m) E[token]
        else:
            h[first:first + n] = x[i]                          # (n, m) x_leaf
        children[first + n:first + 2 * n - 1] = tree.children + first
        height[first:first + 2 * n - 1] = tree.height          # (2n-1,)
        leaf_rows.append(np.arange(first, first + n))          # (n,)
    levels = _levels(height)                                   # rows by height
    for rows in levels:                                        # one height
        left, right = children[rows, 0], children[rows, 1]     # (n_k,) each
        h_lr = np.concatenate([h[left], h[right]], axis=1)     # (n_k, 2m)
        h[rows] = np.tanh(b + h_lr @ W.T)                      # (n_k, m)
    roots = offset[1:] - 1                                     # (B,)
    out_rows = roots if outputs == "root" else np.arange(N)    # (R,)
    o = h[out_rows] @ V.T + c                                  # (R, C)
    y_hat = _softmax(o)                                         # (R, C)
    used = None if all(t is None for t in tokens) else tokens
    return RecursiveCache(trees=trees, single=single, offset=offset,
                          leaf_rows=np.concatenate(leaf_rows),
                          children=children, levels=levels, tokens=used,
                          h=h, out_rows=out_rows, o=o, y_hat=y_hat,
                          outputs=outputs)


def _check_forward(params, trees, x, outputs, max_bytes):
    dtype, m, C = check_recursive_params(params)
    if not isinstance(outputs, str) or outputs not in ("root", "all"):
        raise ValueError(f"outputs must be 'root' or 'all', got {outputs!r}")
    tree_list, x_list, single = _as_tree_list(trees, x)
    vectors, tokens = [], []
    for i, (tree, x_i) in enumerate(zip(tree_list, x_list)):
        leaves, ids = _check_leaves(params, x_i, tree, "x" if single else f"x[{i}]", dtype, m)
        vectors.append(leaves)
        tokens.append(ids)
    N = sum(tree.n_nodes for tree in tree_list)
    check_allocation(f"trees with {N} nodes in all and m={m}", [(N, m), (N, m)], dtype, max_bytes)
    return tree_list, vectors, tokens, single


def recursive_forward(params, trees, x, outputs="root", max_bytes=DEFAULT_MAX_BYTES):
    """Run the recursive net over one tree or a batch of trees.

    params:  W (m, 2m), b (m,), V (C, m), c (C,) [, E (K, m)].
    trees:   a Tree, or a list of B Trees (of any shapes).
    x:       the leaves: for one tree an (n, m) array of leaf vectors or (n,) int token ids (with
             params['E']); for a list of trees, a list of such arrays, one per tree.
    outputs: "root" (the output layer reads each root) or "all" (every node).
    Returns a RecursiveCache: h (N, m) for every node, o and y_hat (R, C) at the output rows.
    """
    tree_list, vectors, tokens, single = _check_forward(params, trees, x, outputs, max_bytes)
    return _recursive_forward(params, tree_list, vectors, tokens, single, outputs)


def _check_targets(cache, y):
    """Integer targets (R,) for the output rows and the mask of labelled rows (R,); -1 marks an
    unlabelled node (outputs='all')."""
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
            name = "y" if cache.single else f"y[{i}]"
            if isinstance(y_i, (str, bytes, dict)) or y_i is None:
                raise TypeError(f"{name} must hold integer class labels, got {type(y_i).__name__}")
            y_i = np.asarray(y_i)
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
    return np.where(labelled, array, 0).astype(np.int64), labelled


def _recursive_backward(params, cache, y, labelled):
    """Backpropagation through structure, from the root down, level by level.
    y (R,) labels of the output rows, labelled (R,) which of them count.
    Arguments are checked by `recursive_backward`."""
    W, V = params["W"], params["V"]
    h, children = cache.h, cache.children
    m = W.shape[0]
    B = len(cache.trees)
    weight = labelled.astype(h.dtype) / B                      # (R,)
    loss, do = _cross_entropy(cache.o, y, weight)               # do (R, C)
    dh = np.zeros_like(h)                                      # (N, m) dJ/dh
    dh[cache.out_rows] += do @ V                               # (R, m)
    dW = np.zeros_like(W)                                      # (m, 2m)
    db = np.zeros(m, dtype=h.dtype)                            # (m,)
    for rows in reversed(cache.levels):                        # parents first
        left, right = children[rows, 0], children[rows, 1]     # (n_k,) each
        h_lr = np.concatenate([h[left], h[right]], axis=1)     # (n_k, 2m)
        da = dh[rows] * (1 - h[rows] ** 2)                     # (n_k, m)
        dh_lr = da @ W                                         # (n_k, 2m)
        dh[left] += dh_lr[:, :m]                               # (n_k, m)
        dh[right] += dh_lr[:, m:]                              # (n_k, m)
        dW += da.T @ h_lr                                      # (m, 2m)
        db += da.sum(axis=0)                                   # (m,)
    grads = {"W": dW, "b": db,
             "V": do.T @ h[cache.out_rows],                    # (C, m)
             "c": do.sum(axis=0)}                              # (C,)
    dx = dh[cache.leaf_rows]                                   # dJ/dx_leaf
    if cache.tokens is not None:
        n_leaves = [tree.n_leaves for tree in cache.trees]
        per_tree = np.split(dx, np.cumsum(n_leaves)[:-1])      # (n_i, m) each
        dE = np.zeros_like(params["E"])                        # (K, m)
        for ids, dx_i in zip(cache.tokens, per_tree):
            if ids is not None:
                np.add.at(dE, ids, dx_i)                       # repeats add up
        grads["E"] = dE
    split = np.cumsum([t.n_leaves for t in cache.trees])[:-1]
    dx_list = np.split(dx, split)                              # one per tree
    grads["x"] = dx_list[0] if cache.single else dx_list
    return h.dtype.type(loss), grads


def recursive_backward(params, cache, y):
    """Backpropagation through structure: returns (loss, grads).

    y: for outputs="root", (B,) int labels of the roots (an int for a single tree); for
       outputs="all", one (2n-1,) int array per tree with a label per node (-1: no label).
    loss = (1/B) sum over labelled output nodes of -log y_hat[y].
    grads: W, b, V, c (and E when the leaves were token ids), and "x": dJ/dx_leaf shaped like x
    ((n, m) for one tree, a list of (n_i, m) arrays for a batch).
    """
    dtype, m, C = check_recursive_params(params)
    check_cache(cache, RecursiveCache, "recursive_forward")
    h_shape = np.shape(cache.h)
    if len(h_shape) != 2 or h_shape[1] != m or np.shape(cache.o)[-1] != C:
        raise ValueError("cache does not match params: it was made by recursive_forward with other parameter shapes")
    check_cache(cache, RecursiveCache, "recursive_forward", dtype=dtype,
                shapes={"o": (len(cache.out_rows), C), "y_hat": (len(cache.out_rows), C)})
    if cache.tokens is not None:
        if "E" not in params:
            raise KeyError("params is missing ['E']: the cache's leaves were token ids looked up "
                           "in an embedding table E")
        K = params["E"].shape[0]
        if max(int(ids.max()) for ids in cache.tokens if ids is not None) >= K:
            raise ValueError(f"cache does not match params: its token ids exceed params['E'] "
                             f"with K={K} rows")
    y, labelled = _check_targets(cache, y)
    return _recursive_backward(params, cache, y, labelled)


def _recursive_predict(params, trees, x, tokens, single):
    """argmax_c y_hat at each root. Arguments are checked by
    `recursive_predict`."""
    cache = _recursive_forward(params, trees, x, tokens, single, "root")
    labels = np.argmax(cache.y_hat, axis=1)                    # (B,)
    return int(labels[0]) if single else labels


def recursive_predict(params, trees, x, max_bytes=DEFAULT_MAX_BYTES):
    """Predicted class of each root: an int for one tree, (B,) ints for a list."""
    tree_list, vectors, tokens, single = _check_forward(params, trees, x, "root", max_bytes)
    return _recursive_predict(params, tree_list, vectors, tokens, single)


# ----------------------------------------------------------------------------------------------
# A task with a grammar: boolean expressions in prefix (Polish) notation
# ----------------------------------------------------------------------------------------------
BOOL_VOCAB = ("F", "T", "and", "or")
"""Token ids of the boolean-expression task: F=0, T=1, and=2, or=3."""


def _check_rng(rng):
    """A np.random.Generator, or a seed (None or a non-negative int) for a new one."""
    if isinstance(rng, np.random.Generator):
        return rng
    try:
        return as_generator(rng, "rng")
    except (TypeError, ValueError) as error:
        raise type(error)(f"{error} (rng: a np.random.Generator, e.g. np.random.default_rng(0))") from None


def _check_probability(name, p):
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


def _random_expression(rng, max_depth, p_leaf, max_nodes):
    """Grow (op, (e1, e2)) top-down, left first; a subexpression stops as a
    value at depth 0 or with probability p_leaf (never at the root). Stops
    with a ValueError beyond max_nodes nodes. Arguments are checked by
    `random_expression`."""
    open_ops = []                                              # [op, d, kids]
    depth, is_root, count = max_depth, True, 0
    while True:
        count += 1
        if count > max_nodes:
            raise ValueError(
                f"random_expression grew past max_nodes={max_nodes} nodes "
                f"(max_depth={max_depth}, p_leaf={p_leaf}: the expected size "
                "grows like (2 (1 - p_leaf))^max_depth); choose a smaller "
                "max_depth or a larger p_leaf, or pass a larger max_nodes")
        if depth == 0 or (not is_root and rng.random() < p_leaf):
            node = "T" if rng.random() < 0.5 else "F"          # a value
            while open_ops and len(open_ops[-1][2]) == 1:      # completes an op
                op, _, kids = open_ops.pop()
                node = (op, (kids[0], node))
            if not open_ops:
                return node
            open_ops[-1][2].append(node)                       # the left child
            depth, is_root = open_ops[-1][1] - 1, False        # grow the right
        else:
            op = "and" if rng.random() < 0.5 else "or"
            open_ops.append([op, depth, []])
            depth, is_root = depth - 1, False                  # grow the left


def random_expression(rng, max_depth, p_leaf=0.3, max_nodes=DEFAULT_MAX_NODES):
    """A random boolean expression as nested pairs in its grammar's shape: (op, (left, right)).

    A value is "T" or "F"; an expression of depth k > 0 is (op, (e1, e2)) with op "and" or "or".
    Subexpressions stop early with probability p_leaf; the root is never a bare value.
    The expected number of nodes grows like (2 (1 - p_leaf))^max_depth (at most 2^(max_depth+1)
    - 1): an expression that would grow past ``max_nodes`` (100,000 by default) stops with a
    ValueError. rng: a np.random.Generator (or a seed).
    """
    rng = _check_rng(rng)
    max_depth = check_positive_int("max_depth", max_depth)
    p_leaf = _check_probability("p_leaf", p_leaf)
    max_nodes = check_positive_int("max_nodes", max_nodes)
    return _random_expression(rng, max_depth, p_leaf, max_nodes)


def _expression_parts(expr):
    """The prefix order [("op" or "value", word)] of an expression (an explicit stack)."""
    parts, stack = [], [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, str):
            parts.append(("value", e))
            continue
        if not (isinstance(e, tuple) and len(e) == 2 and isinstance(e[1], tuple) and len(e[1]) == 2):
            raise ValueError(f"expr must be 'T', 'F' or (op, (left, right)), got {_short.repr(e)}")
        op, (left, right) = e
        parts.append(("op", op))
        stack += [right, left]
    return parts


def _check_expression(expr, parts=None):
    """Validate an expression's shape, operators and values; return its prefix parts."""
    parts = _expression_parts(expr) if parts is None else parts
    for kind, word in parts:
        if kind == "value" and word not in ("T", "F"):
            raise ValueError(f"expr: a value must be 'T' or 'F', got {word!r}")
        if kind == "op" and (not isinstance(word, str) or word not in ("and", "or")):
            raise ValueError(f"expr: an operator must be 'and' or 'or', got {_short.repr(word)}")
    return parts


def _evaluate_expression(expr):
    """The truth value, evaluating the prefix form from the right with a
    stack. Arguments are checked by `evaluate_expression`."""
    values = []                                                # operands
    for kind, word in reversed(_expression_parts(expr)):
        if kind == "value":
            values.append(word == "T")
        else:
            left, right = values.pop(), values.pop()
            values.append(left and right if word == "and" else left or right)
    return values[0]


def evaluate_expression(expr):
    """The truth value of a nested expression (op, (left, right)) or a value "T"/"F"."""
    _check_expression(expr)
    return _evaluate_expression(expr)


def _expression_tokens(expr):
    """The prefix token ids. Arguments are checked by `expression_tokens`."""
    words = [word for _, word in _expression_parts(expr)]
    return np.array([BOOL_VOCAB.index(w) for w in words], dtype=np.int64)


def expression_tokens(expr):
    """The prefix (Polish) token ids of an expression: ("and", ("T", "F")) -> [and, T, F] ids."""
    parts = _expression_parts(expr)
    unknown = [w for _, w in parts if not isinstance(w, str) or w not in BOOL_VOCAB]
    if unknown:
        raise ValueError(f"expr has tokens outside {BOOL_VOCAB}: {_short.repr(unknown)}")
    _check_expression(expr, parts)
    return _expression_tokens(expr)


def _parse_prefix(words):
    """Expr -> Value | Op Expr Expr, read left to right with a stack of open
    operators. Every token is a leaf of the grammar's tree (Op, (Expr, Expr));
    a completed operator adds the nodes (e1 e2) and (Op (e1 e2)).
    Arguments are checked by `parse_prefix`."""
    n = len(words)                                             # leaves
    children = []                                              # (left, right)
    open_ops = []                                              # [op, e1]
    for leaf, word in enumerate(words):
        if word in ("and", "or"):
            open_ops.append([leaf, None])                      # Op Expr Expr
            continue
        node = leaf                                            # a Value
        while open_ops and open_ops[-1][1] is not None:        # completes an Op
            op, left = open_ops.pop()
            children.append((left, node))                      # (e1 e2)
            children.append((op, n + len(children) - 1))       # (Op (e1 e2))
            node = n + len(children) - 1
        if not open_ops:
            return Tree._from_children(n, np.array(children, dtype=np.int64))
        open_ops[-1][1] = node                                 # e1 is done


def parse_prefix(tokens):
    """The grammar's tree of a prefix token sequence (a parser with an explicit stack).

    Expr -> Value | Op Expr Expr, built as the pair (Op, (Expr, Expr)). Raises ValueError on a
    sequence the grammar cannot derive.
    """
    if isinstance(tokens, (str, bytes, dict)) or tokens is None:
        raise TypeError(f"tokens must be a sequence of token ids, got {type(tokens).__name__}")
    array = np.asarray(tokens).reshape(-1)
    if array.size == 0:
        raise ValueError("tokens is empty; an expression has at least one token")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number) \
            or (not np.issubdtype(array.dtype, np.integer)
                and not (np.all(np.isfinite(array)) and np.all(array == np.round(array)))):
        raise TypeError(f"tokens must be integer token ids, got dtype {array.dtype}")
    ids = array.astype(np.int64).tolist()
    bad = [t for t in ids if not 0 <= t < len(BOOL_VOCAB)]
    if bad:
        raise ValueError(f"tokens must be ids in [0, {len(BOOL_VOCAB)}), got {bad[0]}")
    words = [BOOL_VOCAB[t] for t in ids]
    need = 1                                                             # open slots
    for position, word in enumerate(words):
        need += 1 if word in ("and", "or") else -1
        if need == 0 and position + 1 < len(words):
            raise ValueError(f"tokens has {len(words) - position - 1} token(s) left over after a "
                             "complete expression")
    if need > 0:
        shown = " ".join(words) if len(words) <= 20 else " ".join(words[:20]) + " ..."
        raise ValueError(f"tokens end too early: an expression is incomplete ({shown})")
    return _parse_prefix(words)


def _rotate_randomly(tree, rng, p):
    """Bottom-up, left first: with probability p, ((A B) C) -> (A (B C)), or
    else (A (B C)) -> ((A B) C). Arguments are checked by `rotate_randomly`."""
    nested = _tree_to_nested(tree, range(tree.n_leaves))
    done = []                                                  # rebuilt items
    stack = [(nested, False)]                                  # item, visited
    while stack:
        item, visited = stack.pop()
        if not isinstance(item, tuple):
            done.append(item)                                  # a leaf
        elif not visited:
            stack += [(item, True), (item[1], False), (item[0], False)]
        else:
            right, left = done.pop(), done.pop()
            node = (left, right)
            if rng.random() < p:
                if isinstance(left, tuple):
                    node = (left[0], (left[1], right))         # ((A B) C)
                elif isinstance(right, tuple):
                    node = ((left, right[0]), right[1])        # (A (B C))
            done.append(node)
    return _tree_from_nested(done[0])[0]


def rotate_randomly(tree, rng, p):
    """A noisy parser: each internal node whose child is internal is rotated with probability p.

    A rotation regroups ((A B) C) as (A (B C)) or (A (B C)) as ((A B) C); the leaves keep their
    order, only the structure is wrong, as a parser's attachment errors are. rng: a
    np.random.Generator (or a seed).
    """
    check_tree(tree)
    rng = _check_rng(rng)
    p = _check_probability("p", p)
    return _rotate_randomly(tree, rng, p)


def _make_expression_data(n, max_depth, rng, max_nodes):
    """n random expressions, their prefix tokens, grammar trees and truth
    values. Arguments are checked by `make_expression_data`."""
    exprs = [_random_expression(rng, max_depth, 0.3, max_nodes)
             for _ in range(n)]
    tokens = [_expression_tokens(e) for e in exprs]            # (n_i,) each
    trees = [_tree_from_nested(e)[0] for e in exprs]
    labels = [int(_evaluate_expression(e)) for e in exprs]     # T=1, F=0
    return tokens, trees, np.array(labels, dtype=np.int64)


def make_expression_data(n, max_depth, seed=0, max_nodes=DEFAULT_MAX_NODES):
    """n random expressions: (tokens list, grammar trees list, labels (n,) with T=1, F=0).

    seed: None, a non-negative int or a np.random.Generator; max_nodes: the largest expression
    (see random_expression).
    """
    n = check_positive_int("n", n)
    max_depth = check_positive_int("max_depth", max_depth)
    rng = as_generator(seed)
    max_nodes = check_positive_int("max_nodes", max_nodes)
    return _make_expression_data(n, max_depth, rng, max_nodes)


def _check_examples(params, trees, tokens, labels, C):
    """Lists of Trees, of their (n_i,) token ids in [0, K) and labels (n,) in [0, C)."""
    for name, value in (("trees", trees), ("tokens", tokens)):
        if isinstance(value, (str, bytes, dict, np.ndarray)) or not hasattr(value, "__len__"):
            raise TypeError(f"{name} must be a list with one entry per example, got {type(value).__name__}")
    if isinstance(labels, (str, bytes, dict)) or labels is None:
        raise TypeError(f"labels must be an integer array with one label per example, got {type(labels).__name__}")
    labels = np.asarray(labels)
    if not (len(trees) == len(tokens) == (labels.shape[0] if labels.ndim else -1)):
        raise ValueError(f"trees, tokens and labels must have one entry per example, got {len(trees)}, "
                         f"{len(tokens)}, {labels.shape[0] if labels.ndim else 'a scalar'}")
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must have shape (n,) with n >= 1, got {labels.shape}")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must hold integer class labels, got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= C:
        raise ValueError(f"labels must hold class labels in [0, C) = [0, {C}), got values from "
                         f"{labels.min()} to {labels.max()}")
    trees, tokens = list(trees), list(tokens)
    if "E" not in params:
        raise KeyError("params is missing ['E']: the leaves are token ids looked up in an embedding "
                       "table E (init_recursive(..., vocab_size=K))")
    dtype, m = params["E"].dtype, params["E"].shape[1]
    checked = []
    for i, (tree, ids) in enumerate(zip(trees, tokens)):
        check_tree(tree, f"trees[{i}]")
        ids = np.asarray(ids) if not isinstance(ids, (str, bytes, dict)) and ids is not None else ids
        if not isinstance(ids, np.ndarray) or ids.dtype == bool or not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"tokens[{i}] must be an integer array of token ids, got "
                            f"{type(ids).__name__ if not isinstance(ids, np.ndarray) else ids.dtype}")
        _, ids = _check_leaves(params, ids, tree, f"tokens[{i}]", dtype, m)
        checked.append(ids)
    return trees, checked, labels.astype(np.int64)


def _train_recursive(params, trees, tokens, labels, num_steps, batch_size,
                     optimizer, rng, progress, desc):
    """Minibatch training on root labels (in place); the losses.
    Arguments are checked by `train_recursive`."""
    from tqdm.auto import tqdm  # imported here so `import rnnlib` stays light

    losses = []
    size = min(batch_size, len(trees))
    steps = tqdm(range(num_steps), desc=desc, disable=not progress,
                 mininterval=0.5)
    for _ in steps:
        batch = rng.choice(len(trees), size=size, replace=False)  # (size,)
        tree_b = [trees[i] for i in batch]
        cache = _recursive_forward(params, tree_b, [None] * size,
                                   [tokens[i] for i in batch], False, "root")
        loss, grads = _recursive_backward(params, cache, labels[batch],
                                          np.ones(size, dtype=bool))
        step_grads = {k: grads[k] for k in params}
        if not all(np.isfinite(g).all() for g in step_grads.values()):
            raise FloatingPointError(
                f"train_recursive: the gradients became non-finite at "
                f"step {len(losses)} (loss {float(loss)}): try a smaller "
                "learning rate")
        optimizer._step(params, step_grads)                    # update
        losses.append(float(loss))
    return losses


def train_recursive(params, trees, tokens, labels, num_steps, batch_size=32, optimizer=None, seed=0,
                    progress=True, desc="training"):
    """Minibatch training on root labels (in place); returns the list of losses.

    trees, tokens: lists of Trees and of (n_i,) token ids (params must hold E); labels (n,) ints.
    seed: None, a non-negative int or a np.random.Generator (the minibatches).
    """
    from .optim import Adam, Optimizer

    dtype, m, C = check_recursive_params(params)
    num_steps = check_positive_int("num_steps", num_steps)
    batch_size = check_positive_int("batch_size", batch_size)
    trees, tokens, labels = _check_examples(params, trees, tokens, labels, C)
    optimizer = Adam(lr=1e-2) if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an rnnlib optimiser (SGD, Adagrad, Adam), got {type(optimizer).__name__}")
    rng = as_generator(check_seed(seed))
    progress = check_bool("progress", progress)
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {type(desc).__name__}")
    extra = sorted(set(params) - {"W", "b", "V", "c", "E"})
    if extra:
        raise KeyError(f"params has keys {extra} that a recursive net does not use; the optimiser "
                       "would get no gradient for them")
    optimizer.check_state(params)
    return _train_recursive(params, trees, tokens, labels, num_steps, batch_size, optimizer, rng,
                            progress, desc)


def _accuracy(params, trees, tokens, labels):
    """The fraction of roots classified correctly.
    Arguments are checked by `accuracy`."""
    n = len(trees)
    predicted = _recursive_predict(params, trees, [None] * n, tokens, False)
    return float(np.mean(predicted == labels))                 # (n,) == (n,)


def accuracy(params, trees, tokens, labels):
    """Fraction of roots classified correctly: trees a list of n Trees, tokens their (n_i,) token
    ids (params must hold E), labels (n,) ints, one per tree."""
    dtype, m, C = check_recursive_params(params)
    if isinstance(trees, Tree):
        trees, tokens = [trees], [tokens]
        labels = np.reshape(labels, (1,)) if np.ndim(labels) == 0 and not isinstance(labels, str) else labels
    trees, tokens, labels = _check_examples(params, trees, tokens, labels, C)
    return _accuracy(params, trees, tokens, labels)
