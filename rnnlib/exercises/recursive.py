"""Checkers for the exercises of the chapter "Recursive neural networks" (book/recursive.ipynb).

Labels (the sphinx-exercise label is ``ex-`` + label):

* ``recursive-depth``            depth(nested) -> int: compositions on the longest leaf-to-root path;
* ``recursive-balanced``         balanced_nested(leaves) -> nested pairs of depth ceil(log2 n);
* ``recursive-compose``          compose(params, h_left, h_right) -> h = tanh(b + W [h_left; h_right]);
* ``recursive-compose-backward`` compose_backward(params, dh, h_left, h_right, h)
                                 -> (dh_left, dh_right, dW, db);
* ``recursive-right-chain``      (written) the right-leaning chain is an RNN reading backwards;
* ``recursive-parallel-steps``   (written) sequential steps of a level-by-level evaluation;
* ``recursive-parser-cost``      (written) what a parser costs and what its errors do.

Each checker compares with rnnlib.recursive on fixed and fresh random cases and recognises the usual mistakes
(counting nodes instead of compositions, the shortest path instead of the longest, a chain instead
of a balanced tree, leaves out of order, a forgotten tanh or bias, swapped children, a forgotten
tanh derivative, gradients not summed over the batch).
"""
from __future__ import annotations

import math

import numpy as np

from . import Case, Checker, Mistake, compare, describe, exercise, first_match, is_sequence, register, snapshot
from ._common import seed as _seed
from ..recursive import balanced_tree, chain_tree, init_recursive, tree_from_nested, tree_to_nested

CHAPTER = "recursive"


def _random_params(m, seed):
    params = init_recursive(m, 2, seed=seed)
    params["b"] += 0.3 * np.random.default_rng(seed + 100).standard_normal(m)
    return params


def _nested_cases():
    words = [f"w{i}" for i in range(20)]
    cases = [("a", "a single leaf"), (("a", "b"), "two leaves")]
    for n in (3, 6, 9):
        cases.append((tree_to_nested(chain_tree(n), words[:n]), f"a left-leaning chain over {n} leaves"))
    for n in (4, 7, 16):
        cases.append((tree_to_nested(balanced_tree(n), words[:n]), f"a balanced tree over {n} leaves"))
    cases.append(((("a", ("b", ("c", "d"))), "e"), "the tree (('a', ('b', ('c', 'd'))), 'e')"))
    cases.append((("a", (("b", "c"), (("d", "e"), "f"))), "the tree ('a', (('b', 'c'), (('d', 'e'), 'f')))"))
    return cases


def _random_nested(rng, leaves):
    """A random binary tree over ``leaves`` (random split points), as nested tuples."""
    if len(leaves) == 1:
        return leaves[0]
    cut = int(rng.integers(1, len(leaves)))
    return (_random_nested(rng, leaves[:cut]), _random_nested(rng, leaves[cut:]))


def _shortest(nested):
    if not isinstance(nested, (tuple, list)):
        return 0
    return 1 + min(_shortest(nested[0]), _shortest(nested[1]))


# ----------------------------------------------------------------------------------------------
# Exercise: the depth of a tree
# ----------------------------------------------------------------------------------------------
@exercise("recursive-depth", chapter=CHAPTER, points=1, answer_name="depth",
          title="Count the depth of a tree")
class Depth(Checker):
    """answer(nested) -> int: compositions on the longest leaf-to-root path."""

    references = ("rnnlib.recursive.tree_depth", "rnnlib.recursive._tree_depth",
                  "rnnlib.recursive.tree_from_nested")

    def cases(self, rng):
        cases = [Case(what, (nested,)) for nested, what in _nested_cases()]
        for _ in range(3):
            n = int(rng.integers(3, 13))
            nested = _random_nested(rng, [f"w{i}" for i in range(n)])
            cases.append(Case(f"the random tree {nested!r}", (nested,)))
        return cases

    def judge(self, case, observed):
        nested, = case.args
        what = case.context
        tree, leaves = tree_from_nested(nested)
        expected = tree.depth
        out = observed.get("returned")
        if isinstance(out, bool) or not isinstance(out, int):
            raise Mistake(f"return an int (the number of compositions), got {describe(out)} for {what}")
        if out == expected:
            return
        hint = first_match(out, [
            ("you counted the nodes on the longest path; the depth counts compositions (edges): "
             "a leaf alone has depth 0, a pair of leaves depth 1", expected + 1),
            ("you followed the shortest path from a leaf to the root; the depth is the longest one "
             "(take the max over the two children, not the min)", _shortest(nested)),
            ("you counted every internal node; only the ones on the longest leaf-to-root path count",
             tree.n_leaves - 1),
            ("you counted the leaves; the depth counts compositions on the longest path", tree.n_leaves),
        ])
        raise Mistake(f"for {what} your depth is {out}, but it should be {expected}."
                      + (f" It looks like {hint}." if hint else ""))


# ----------------------------------------------------------------------------------------------
# Exercise: build a balanced tree
# ----------------------------------------------------------------------------------------------
_MAX_TOKENS = 100_000


def nested_tokens(nested, max_tokens=_MAX_TOKENS):
    """Nested pairs as a flat postfix list (iterative, for any depth): a leaf is [snapshot of it],
    a pair (a tuple or list of 2) is the int 2, any other tuple or list {"items": its length}.
    Returns None when there are more than max_tokens nodes (or a cycle)."""
    tokens, stack = [], [(nested, False)]
    while stack:
        item, expanded = stack.pop()
        if len(tokens) + len(stack) > max_tokens:
            return None
        if isinstance(item, (tuple, list)):
            if len(item) != 2:
                tokens.append({"items": len(item)})
            elif expanded:
                tokens.append(2)
            else:
                stack += [(item, True), (item[1], False), (item[0], False)]
        else:
            tokens.append([snapshot(item, max_depth=2, max_items=100)])
    return tokens


def nested_from_tokens(tokens):
    """The nested pairs (tuples) of :func:`nested_tokens`' list, or a str saying what is wrong."""
    stack = []
    for token in tokens:
        if token == 2 and not isinstance(token, bool):
            if len(stack) < 2:
                return "malformed"
            right, left = stack.pop(), stack.pop()
            stack.append((left, right))
        elif isinstance(token, list) and len(token) == 1:
            stack.append(token[0])
        elif isinstance(token, dict):
            return f"a tuple or list of {token.get('items')} items where a pair (two items) belongs"
        else:
            return "malformed"
    return stack[0] if len(stack) == 1 else "malformed"


def _balanced_case(n, context=""):
    return Case(context or f"{n} leaves", ([f"x{i}" for i in range(1, n + 1)],))


@exercise("recursive-balanced", chapter=CHAPTER, points=2, answer_name="balanced_nested",
          title="Build a balanced tree over a sequence")
class Balanced(Checker):
    """answer(leaves) -> nested pairs (tuples or lists of two) of depth ceil(log2 n). Observed as
    a flat postfix token list (see :func:`nested_tokens`)."""

    references = ("rnnlib.recursive.balanced_tree", "rnnlib.recursive._balanced_tree",
                  "rnnlib.recursive.tree_to_nested")

    def cases(self, rng):
        cases = [_balanced_case(n) for n in (1, 2, 3, 5, 8, 13, 64, 100)]
        cases += [_balanced_case(int(n), f"{int(n)} leaves (random)") for n in rng.integers(4, 90, size=3)]
        return cases

    def observe(self, returned, case, args):
        tokens = nested_tokens(returned)
        return {"tokens": tokens} if tokens is not None else {"too_big": True}

    def judge(self, case, observed):
        leaves, = case.args
        n = len(leaves)
        context = case.context
        tokens = observed.get("tokens")
        if observed.get("too_big") or not isinstance(tokens, list) or len(tokens) > 4 * n + 4:
            raise Mistake(f"for {context} your tree has far more nodes than a tree over {n} leaves")
        out = nested_from_tokens(tokens)
        if isinstance(out, str) and out == "malformed":
            raise Mistake(f"for {context} your answer is not nested pairs")
        if isinstance(out, str) and out.startswith("a tuple or list of"):
            raise Mistake(f"for {context} your answer is not nested pairs: it has {out}")
        try:
            tree, got = tree_from_nested(out)
        except (ValueError, RecursionError) as error:
            raise Mistake(f"for {context} your answer is not nested pairs: {error}") from None
        if got != leaves:
            if sorted(map(str, got)) == sorted(leaves):
                raise Mistake(f"for {context} the leaves are out of order: reading your tree from left "
                              f"to right gives {got[:6]}{'...' if n > 6 else ''}; a tree over a sequence "
                              "keeps the sequence's order (left subtree = first half)")
            raise Mistake(f"for {context} your tree's leaves are {describe(got)}, not the {n} given leaves "
                          "(every leaf exactly once, as given, not wrapped in a tuple of its own)")
        best = math.ceil(math.log2(n))
        if tree.depth != best:
            chain = " That is a chain (the depth of an RNN), not a balanced tree." if tree.depth == n - 1 and n > 2 else ""
            raise Mistake(f"for {context} your tree has depth {tree.depth}, but a balanced tree has depth "
                          f"ceil(log2 {n}) = {best}: split the leaves into two halves as equal as possible "
                          f"and recurse on each half.{chain}")


# ----------------------------------------------------------------------------------------------
# Exercise: compose two children (forward)
# ----------------------------------------------------------------------------------------------
def _compose_case(n, m, seed):
    rng = np.random.default_rng(seed)
    params = _random_params(m, seed)
    return params, rng.standard_normal((n, m)), rng.standard_normal((n, m))


def _compose_reference(params, h_left, h_right):
    W, b = params["W"], params["b"]
    return np.tanh(b + np.concatenate([h_left, h_right], axis=1) @ W.T)    # (n, m)


@exercise("recursive-compose", chapter=CHAPTER, points=1, answer_name="compose",
          title="Compose two children into their parent")
class Compose(Checker):
    """answer(params, h_left, h_right) -> h (n, m) = tanh(b + [h_left, h_right] W^T)."""

    references = ("rnnlib.recursive.compose", "rnnlib.recursive._compose",
                  "rnnlib.recursive.recursive_forward", "rnnlib.recursive._recursive_forward")

    def cases(self, rng):
        cases = [Case(f"n={n} nodes, m={m}", _compose_case(n, m, seed)) for n, m, seed in ((4, 3, 0), (1, 5, 1), (6, 2, 2))]
        for _ in range(3):
            n, m = int(rng.integers(1, 7)), int(rng.integers(2, 6))
            cases.append(Case(f"n={n} nodes, m={m} (random)", _compose_case(n, m, _seed(rng))))
        return cases

    def judge(self, case, observed):
        params, h_left, h_right = case.args
        context = case.context
        m = h_left.shape[1]
        out = observed.get("returned")
        expected = _compose_reference(params, h_left, h_right)
        W, b = params["W"], params["b"]
        hint = first_match(out, [
            ("you forgot the tanh: h = tanh(b + W [h_left; h_right])",
             lambda: b + np.concatenate([h_left, h_right], axis=1) @ W.T),
            ("you forgot the bias b", lambda: np.tanh(np.concatenate([h_left, h_right], axis=1) @ W.T)),
            ("the children are swapped: the first m columns of W read the LEFT child",
             lambda: _compose_reference(params, h_right, h_left)),
            ("you added the children instead of stacking them: W reads the concatenation "
             "[h_left; h_right] (size 2m)", lambda: np.tanh(b + (h_left + h_right) @ W[:, :m].T)),
        ], unless=expected)
        if hint:
            raise Mistake(f"{hint} ({context}).")
        compare(out, expected, name="h", context=context)


# ----------------------------------------------------------------------------------------------
# Exercise: compose backward
# ----------------------------------------------------------------------------------------------
def _compose_backward_reference(params, dh, h_left, h_right, h):
    W = params["W"]
    m = W.shape[0]
    h_children = np.concatenate([h_left, h_right], axis=1)                  # (n, 2m)
    da = dh * (1 - h ** 2)                                                  # (n, m)
    dh_children = da @ W                                                    # (n, 2m)
    return dh_children[:, :m], dh_children[:, m:], da.T @ h_children, da.sum(axis=0)


def _backward_case(n, m, seed, context):
    params, h_left, h_right = _compose_case(n, m, seed)
    h = _compose_reference(params, h_left, h_right)
    dh = np.random.default_rng(seed + 7).standard_normal((n, m))
    return Case(context, (params, dh, h_left, h_right, h))


@exercise("recursive-compose-backward", chapter=CHAPTER, points=2, answer_name="compose_backward",
          title="Backpropagate through one composition")
class ComposeBackward(Checker):
    """answer(params, dh, h_left, h_right, h) -> (dh_left, dh_right, dW, db) (any sequence of four)."""

    references = ("rnnlib.recursive.compose_backward", "rnnlib.recursive._compose_backward",
                  "rnnlib.recursive.recursive_backward", "rnnlib.recursive._recursive_backward")

    def cases(self, rng):
        cases = [_backward_case(n, m, seed, f"n={n} nodes, m={m}") for n, m, seed in ((4, 3, 3), (1, 2, 4), (5, 4, 5))]
        for _ in range(3):
            n, m = int(rng.integers(1, 7)), int(rng.integers(2, 6))
            cases.append(_backward_case(n, m, _seed(rng), f"n={n} nodes, m={m} (random)"))
        return cases

    def judge(self, case, observed):
        params, dh, h_left, h_right, h = case.args
        n, m = dh.shape
        context = case.context
        out = observed.get("returned")
        if not is_sequence(out, 4):
            raise Mistake(f"return a tuple (dh_left, dh_right, dW, db) ({context}); got {describe(out)}")
        dh_left, dh_right, dW, db = out
        ref_left, ref_right, ref_W, ref_b = _compose_backward_reference(params, dh, h_left, h_right, h)
        W = params["W"]
        h_children = np.concatenate([h_left, h_right], axis=1)
        hint = first_match(dW, [
            ("dW: you forgot the derivative of tanh, dJ/da = dJ/dh * (1 - h**2)", lambda: dh.T @ h_children),
            ("dW: (1 - h**2) needs the parent's h (the node's output), not its children's",
             lambda: (dh * (1 - h_children[:, :m] ** 2)).T @ h_children),
        ], unless=ref_W)
        if hint is None:
            hint = first_match(dh_left, [
                ("dh_left: you forgot the derivative of tanh, dJ/da = dJ/dh * (1 - h**2)", lambda: (dh @ W)[:, :m]),
                ("dh_left and dh_right are swapped: the first m columns of W^T dJ/da belong to the left child",
                 lambda: ref_right),
            ], unless=ref_left)
        if hint:
            raise Mistake(f"{hint} ({context}).")
        compare(dh_left, ref_left, name="dh_left", context=context)
        compare(dh_right, ref_right, name="dh_right", context=context)
        if n > 1 and isinstance(db, np.ndarray) and db.shape == (n, m):
            raise Mistake(f"db has shape {db.shape} ({context}): sum dJ/da over the n nodes, "
                          "b is shared by every node, db has shape (m,)")
        compare(dW, ref_W, name="dW", context=context)
        compare(db, ref_b, name="db", context=context)


# ----------------------------------------------------------------------------------------------
# Written exercises (graded by hand; solutions in the chapter)
# ----------------------------------------------------------------------------------------------
register("recursive-right-chain", chapter=CHAPTER, kind="written", points=1,
         title="The right-leaning chain is an RNN reading backwards")
register("recursive-parallel-steps", chapter=CHAPTER, kind="written", points=1,
         title="Sequential steps of a level-by-level evaluation")
register("recursive-parser-cost", chapter=CHAPTER, kind="written", points=1,
         title="What a parser costs, and what its errors do")
