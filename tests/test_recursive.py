"""Tests of rnnlib.recursive: trees, backpropagation through structure, the chain-is-an-RNN
correspondence, the boolean-expression task helpers, and bad inputs."""
import math

import numpy as np
import pytest

from rnnlib import gradcheck, rnn_backward, rnn_forward
from rnnlib.recursive import (
    BOOL_VOCAB,
    RecursiveCache,
    Tree,
    accuracy,
    balanced_tree,
    chain_to_rnn_params,
    chain_tree,
    evaluate_expression,
    expression_tokens,
    init_recursive,
    make_expression_data,
    parse_prefix,
    random_expression,
    recursive_backward,
    recursive_forward,
    recursive_predict,
    rotate_randomly,
    train_recursive,
    tree_depth,
    tree_from_nested,
    tree_to_nested,
)

TOL = 1e-7


def random_params(m=4, C=3, K=None, seed=0):
    params = init_recursive(m, C, vocab_size=K, seed=seed)
    rng = np.random.default_rng(seed + 100)
    params["b"] += 0.1 * rng.standard_normal(params["b"].shape)   # non-zero biases test their use
    params["c"] += 0.1 * rng.standard_normal(params["c"].shape)
    return params


# --------------------------------------------------------------------------------------------
# A reference written independently: plain recursion over nested pairs, one node at a time.
# --------------------------------------------------------------------------------------------
def reference_root(params, nested, leaf_vectors):
    W, b = params["W"], params["b"]
    leaves = iter(leaf_vectors)

    def h(item):
        if not isinstance(item, tuple):
            return next(leaves)
        left = h(item[0])
        right = h(item[1])
        return np.tanh(W @ np.concatenate([left, right]) + b)

    return h(nested)


def reference_loss(params, nested, leaf_vectors, label):
    o = params["V"] @ reference_root(params, nested, leaf_vectors) + params["c"]
    return -(o[label] - np.log(np.sum(np.exp(o))))


# --------------------------------------------------------------------------------------------
# Trees and depth
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tau", list(range(1, 40)) + [64, 65, 100, 1000])
def test_depth_chain_and_balanced(tau):
    assert chain_tree(tau).depth == tau - 1
    assert tree_depth(balanced_tree(tau)) == math.ceil(math.log2(tau))


def test_leaf_depths():
    assert chain_tree(5).leaf_depths().tolist() == [4, 4, 3, 2, 1]
    depths = balanced_tree(6).leaf_depths()
    assert set(depths.tolist()) <= {2, 3} and depths.max() == balanced_tree(6).depth
    assert chain_tree(1).leaf_depths().tolist() == [0]


def test_builders_shapes():
    assert tree_to_nested(chain_tree(4)) == (((0, 1), 2), 3)
    assert tree_to_nested(balanced_tree(4)) == ((0, 1), (2, 3))
    assert tree_to_nested(balanced_tree(5)) == (((0, 1), 2), (3, 4))
    assert tree_to_nested(chain_tree(1)) == 0


def test_nested_round_trip():
    nested = ((("a", "b"), "c"), ("d", ("e", "f")))
    tree, leaves = tree_from_nested(nested)
    assert leaves == list("abcdef")
    assert tree.n_leaves == 6 and tree.n_nodes == 11 and tree.root == 10
    assert tree.depth == 3
    assert tree_to_nested(tree, leaves) == nested
    assert tree_from_nested(["x", ["y", "z"]])[0] == tree_from_nested(("x", ("y", "z")))[0]


def test_tree_equality_and_repr():
    assert chain_tree(3) == Tree(3, [(0, 1), (3, 2)])
    assert chain_tree(3) != balanced_tree(4)
    assert "Tree(" in repr(chain_tree(3))


# --------------------------------------------------------------------------------------------
# Forward: against the independent reference
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("nested", [("a", "b"), (("a", "b"), "c"), (("a", "b"), ("c", ("d", "e")))])
def test_forward_matches_reference(nested):
    params = random_params(m=5)
    tree, leaves = tree_from_nested(nested)
    x = np.random.default_rng(1).standard_normal((tree.n_leaves, 5))
    cache = recursive_forward(params, tree, x)
    assert np.allclose(cache.h_root, reference_root(params, nested, x), atol=1e-13)
    assert np.allclose(cache.node_h()[: tree.n_leaves], x)


def test_single_leaf_tree():
    params = random_params(m=3)
    x = np.array([[0.1, -0.2, 0.3]])
    cache = recursive_forward(params, chain_tree(1), x)
    assert np.allclose(cache.h_root, x[0])
    loss, grads = recursive_backward(params, cache, 1)
    assert np.all(grads["W"] == 0) and np.all(grads["b"] == 0)
    assert np.allclose(grads["x"][0], params["V"].T @ (cache.y_hat[0] - np.eye(3)[1]))


def test_batch_equals_separate_trees():
    params = random_params(m=4, C=3)
    rng = np.random.default_rng(2)
    trees = [chain_tree(5), balanced_tree(7), tree_from_nested((("a", "b"), ("c", "d")))[0], chain_tree(1)]
    xs = [rng.standard_normal((t.n_leaves, 4)) for t in trees]
    y = np.array([0, 2, 1, 1])
    cache = recursive_forward(params, trees, xs)
    loss, grads = recursive_backward(params, cache, y)
    singles = [recursive_backward(params, recursive_forward(params, t, x), int(label)) for t, x, label in zip(trees, xs, y)]
    assert np.isclose(loss, np.mean([s[0] for s in singles]))
    for key in ("W", "b", "V", "c"):
        assert np.allclose(grads[key], np.mean([s[1][key] for s in singles], axis=0))
    for i, s in enumerate(singles):
        assert np.allclose(grads["x"][i], s[1]["x"] / len(trees))
    assert np.array_equal(recursive_predict(params, trees, xs), np.argmax(cache.y_hat, axis=1))


# --------------------------------------------------------------------------------------------
# Gradient checks (float64, relative error below 1e-7)
# --------------------------------------------------------------------------------------------
def test_gradcheck_single_tree_root_output():
    params = random_params(m=4, C=3)
    nested = (("a", ("b", "c")), ("d", "e"))
    tree, _ = tree_from_nested(nested)
    inputs = dict(params, x=np.random.default_rng(3).standard_normal((5, 4)))

    def f(inp):
        p = {k: inp[k] for k in params}
        return recursive_backward(p, recursive_forward(p, tree, inp["x"]), 2)[0]

    loss, grads = recursive_backward(params, recursive_forward(params, tree, inputs["x"]), 2)
    assert np.isclose(loss, reference_loss(params, nested, inputs["x"], 2))
    errors = gradcheck(f, inputs, grads)
    assert set(errors) == {"W", "b", "V", "c", "x"}
    assert max(errors.values()) < TOL, errors


def test_gradcheck_batch_all_nodes_with_unlabelled():
    params = random_params(m=3, C=4)
    rng = np.random.default_rng(4)
    trees = [balanced_tree(5), chain_tree(4)]
    xs = [rng.standard_normal((t.n_leaves, 3)) for t in trees]
    ys = [rng.integers(-1, 4, size=t.n_nodes) for t in trees]
    inputs = dict(params, x0=xs[0], x1=xs[1])

    def f(inp):
        p = {k: inp[k] for k in params}
        return recursive_backward(p, recursive_forward(p, trees, [inp["x0"], inp["x1"]], outputs="all"), ys)[0]

    loss, grads = recursive_backward(params, recursive_forward(params, trees, xs, outputs="all"), ys)
    grads = dict(grads, x0=grads["x"][0], x1=grads["x"][1])
    del grads["x"]
    errors = gradcheck(f, inputs, grads)
    assert max(errors.values()) < TOL, errors


def test_gradcheck_embeddings_with_repeated_tokens():
    params = random_params(m=3, C=2, K=4)
    trees = [balanced_tree(6), chain_tree(3)]
    tokens = [np.array([0, 1, 1, 3, 0, 1]), np.array([2, 2, 0])]

    def f(inp):
        return recursive_backward(inp, recursive_forward(inp, trees, tokens), [1, 0])[0]

    loss, grads = recursive_backward(params, recursive_forward(params, trees, tokens), [1, 0])
    assert "E" in grads and np.all(grads["E"][2] != 0)
    errors = gradcheck(f, params, grads, keys=["W", "b", "V", "c", "E"])
    assert max(errors.values()) < TOL, errors


def test_gradcheck_detects_a_wrong_gradient():
    params = random_params(m=3, C=2)
    tree = balanced_tree(4)
    x = np.random.default_rng(5).standard_normal((4, 3))

    def f(inp):
        return recursive_backward(inp, recursive_forward(inp, tree, x), 1)[0]

    _, grads = recursive_backward(params, recursive_forward(params, tree, x), 1)
    grads["W"] = grads["W"] * 1.01
    assert gradcheck(f, params, grads, keys=["W"])["W"] > TOL


def test_float32_follows_params():
    params = {k: v.astype(np.float32) for k, v in random_params(m=3, C=2).items()}
    cache = recursive_forward(params, chain_tree(4), np.ones((4, 3)))
    loss, grads = recursive_backward(params, cache, 0)
    assert cache.h.dtype == np.float32 and grads["W"].dtype == np.float32 and loss.dtype == np.float32
    assert grads["x"].dtype == np.float32


# --------------------------------------------------------------------------------------------
# The left-leaning chain is an RNN
# --------------------------------------------------------------------------------------------
def test_chain_is_an_rnn_forward_and_backward():
    m, C, tau = 4, 3, 7
    params = random_params(m=m, C=C)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((tau, m))
    y_rnn = rng.integers(0, C, size=tau - 1)
    rnn_params = chain_to_rnn_params(params)

    rnn_cache = rnn_forward(rnn_params, x[1:], h0=x[0])                     # h^(0) = x^(1)
    cache = recursive_forward(params, chain_tree(tau), x, outputs="all")
    assert np.allclose(cache.node_h()[tau:], rnn_cache.h[1:, 0], atol=1e-13)

    node_labels = np.concatenate([np.full(tau, -1), y_rnn])                # internal node tau+t-1 = h^(t)
    loss, grads = recursive_backward(params, cache, node_labels)
    rnn_loss, rnn_grads = rnn_backward(rnn_params, rnn_cache, y_rnn)
    assert np.isclose(loss, rnn_loss)
    assert np.allclose(grads["W"][:, :m], rnn_grads["W"]) and np.allclose(grads["W"][:, m:], rnn_grads["U"])
    for key in ("b", "V", "c"):
        assert np.allclose(grads[key], rnn_grads[key])
    assert np.allclose(grads["x"][0], rnn_grads["h0"])                     # dJ/dx^(1) = dJ/dh^(0)


# --------------------------------------------------------------------------------------------
# Boolean expressions: grammar, parser, noisy parser, training
# --------------------------------------------------------------------------------------------
def test_expressions_evaluate_like_python():
    rng = np.random.default_rng(7)
    for _ in range(200):
        expr = random_expression(rng, 4)

        def to_python(e):
            if isinstance(e, str):
                return "True" if e == "T" else "False"
            return f"({to_python(e[1][0])} {e[0]} {to_python(e[1][1])})"

        assert evaluate_expression(expr) == eval(to_python(expr))
        assert not isinstance(expr, str)
        tokens = expression_tokens(expr)
        assert parse_prefix(tokens) == tree_from_nested(expr)[0]      # the parser recovers the grammar's tree
        assert [BOOL_VOCAB[t] for t in tokens][0] in ("and", "or")     # prefix: operator first


def test_make_expression_data_is_seeded_and_labelled():
    tokens, trees, labels = make_expression_data(50, 3, seed=1)
    tokens2, _, labels2 = make_expression_data(50, 3, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(tokens, tokens2)) and np.array_equal(labels, labels2)
    assert all(t.n_leaves == len(tk) for t, tk in zip(trees, tokens))
    assert set(labels.tolist()) == {0, 1}
    assert max(t.depth for t in trees) <= 2 * 3


def test_rotate_randomly():
    rng = np.random.default_rng(8)
    tree = tree_from_nested(((("a", "b"), "c"), "d"))[0]
    assert rotate_randomly(tree, rng, 0.0) == tree
    rotated = rotate_randomly(tree, rng, 1.0)
    assert rotated != tree and rotated.n_leaves == tree.n_leaves
    assert rotate_randomly(balanced_tree(2), rng, 1.0) == balanced_tree(2)   # nothing to rotate


def test_training_learns_expressions_with_grammar_trees():
    tokens, trees, labels = make_expression_data(400, 2, seed=3)
    params = init_recursive(8, 2, vocab_size=len(BOOL_VOCAB), seed=0)
    before = accuracy(params, trees, tokens, labels)
    losses = train_recursive(params, trees, tokens, labels, 300, batch_size=32, progress=False)
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
    assert accuracy(params, trees, tokens, labels) > max(before, 0.95)


# --------------------------------------------------------------------------------------------
# Bad inputs raise clear errors naming the argument
# --------------------------------------------------------------------------------------------
def test_bad_trees():
    with pytest.raises(ValueError, match="n_leaves"):
        Tree(0, [])
    with pytest.raises(ValueError, match="children"):
        Tree(3, [(0, 1)])                                  # one internal node missing
    with pytest.raises(ValueError, match="children.*before their parent"):
        Tree(3, [(0, 4), (3, 2)])                          # child after its parent
    with pytest.raises(ValueError, match="two parents"):
        Tree(3, [(0, 1), (0, 2)])
    with pytest.raises(TypeError, match="children"):
        Tree(2, [("a", "b")])
    with pytest.raises(TypeError, match="children"):
        Tree(2, [(0.5, 1)])
    with pytest.raises(TypeError, match="n_leaves"):
        chain_tree(2.0)
    with pytest.raises(ValueError, match="n_leaves"):
        balanced_tree(0)
    with pytest.raises(ValueError, match="nested.*exactly 2 items"):
        tree_from_nested(("a", "b", "c"))
    with pytest.raises(ValueError, match=r"nested.*\[1\]"):
        tree_from_nested(("a", ("b",)))
    with pytest.raises(TypeError, match="tree"):
        tree_depth((("a", "b"), "c"))
    with pytest.raises(ValueError, match="leaves"):
        tree_to_nested(chain_tree(3), ["a"])


def test_bad_leaves_and_batches():
    params = random_params(m=3, C=2)
    with pytest.raises(ValueError, match=r"x must have shape \(3, 3\)"):
        recursive_forward(params, chain_tree(3), np.ones((3, 4)))           # wrong leaf size
    with pytest.raises(ValueError, match="x must have shape"):
        recursive_forward(params, chain_tree(3), np.ones((2, 3)))           # wrong number of leaves
    with pytest.raises(ValueError, match="x must have 2 dimensions"):
        recursive_forward(params, chain_tree(3), np.ones(9))
    with pytest.raises(ValueError, match=r"x\[1\] must have shape"):
        recursive_forward(params, [chain_tree(2), chain_tree(3)], [np.ones((2, 3)), np.ones((3, 2))])
    with pytest.raises(ValueError, match="one leaf array per tree"):
        recursive_forward(params, [chain_tree(2), chain_tree(3)], [np.ones((2, 3))])
    with pytest.raises(TypeError, match="x must be a list"):
        recursive_forward(params, [chain_tree(2)], np.ones((2, 3)))
    with pytest.raises(TypeError, match="trees"):
        recursive_forward(params, [], [])
    with pytest.raises(TypeError, match=r"trees\[0\]"):
        recursive_forward(params, [((0, 1), 2)], [np.ones((3, 3))])
    with pytest.raises(ValueError, match="NaN"):
        recursive_forward(params, chain_tree(2), np.array([[np.nan, 0, 0], [0, 0, 0]]))
    with pytest.raises(TypeError, match="'E'"):
        recursive_forward(params, chain_tree(2), np.array([0, 1]))         # token ids without E
    with pytest.raises(ValueError, match="outputs"):
        recursive_forward(params, chain_tree(2), np.ones((2, 3)), outputs="leaves")
    with_E = random_params(m=3, C=2, K=4)
    with pytest.raises(ValueError, match=r"token ids in \[0, K\)"):
        recursive_forward(with_E, chain_tree(2), np.array([0, 4]))
    with pytest.raises(ValueError, match="x must have shape"):
        recursive_forward(with_E, chain_tree(3), np.array([0, 1]))


def test_bad_params():
    params = random_params(m=3, C=2)
    with pytest.raises(KeyError, match="missing"):
        recursive_forward({k: v for k, v in params.items() if k != "b"}, chain_tree(2), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"params\['W'\] must have shape \(m, 2m\)"):
        recursive_forward(dict(params, W=np.ones((3, 3))), chain_tree(2), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"params\['c'\]"):
        recursive_forward(dict(params, c=np.ones(3)), chain_tree(2), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"params\['E'\]"):
        recursive_forward(dict(params, E=np.ones((4, 2))), chain_tree(2), np.ones((2, 3)))
    with pytest.raises(TypeError, match="params"):
        recursive_forward([1, 2], chain_tree(2), np.ones((2, 3)))
    with pytest.raises(ValueError, match="m must be"):
        init_recursive(0, 2)
    with pytest.raises(TypeError, match="dtype"):
        init_recursive(2, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="vocab_size"):
        init_recursive(2, 2, vocab_size=0)
    with pytest.raises(KeyError):
        chain_to_rnn_params({"W": np.ones((2, 4))})


def test_bad_targets_and_cache():
    params = random_params(m=3, C=2)
    cache = recursive_forward(params, [chain_tree(2), chain_tree(3)], [np.ones((2, 3)), np.ones((3, 3))])
    with pytest.raises(ValueError, match=r"y must have shape \(2,\)"):
        recursive_backward(params, cache, [0])
    with pytest.raises(ValueError, match=r"\[0, C\) = \[0, 2\)"):
        recursive_backward(params, cache, [0, 2])
    with pytest.raises(TypeError, match="y must hold integer"):
        recursive_backward(params, cache, [0.5, 1.0])
    with pytest.raises(TypeError, match="y"):
        recursive_backward(params, cache, None)
    with pytest.raises(TypeError, match="cache"):
        recursive_backward(params, {"h": 1}, [0, 1])
    with pytest.raises(ValueError, match="cache does not match"):
        recursive_backward(random_params(m=4, C=2), cache, [0, 1])
    all_cache = recursive_forward(params, chain_tree(3), np.ones((3, 3)), outputs="all")
    with pytest.raises(ValueError, match=r"y must have shape \(5,\)"):
        recursive_backward(params, all_cache, np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="one label array per tree"):
        recursive_backward(params, recursive_forward(params, [chain_tree(2)], [np.ones((2, 3))], outputs="all"), [[0, 1, 1], [0]])


def test_bad_expression_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="p_leaf"):
        random_expression(rng, 3, p_leaf=1.5)
    with pytest.raises(ValueError, match="max_depth"):
        random_expression(rng, 0)
    with pytest.raises(ValueError, match="operator"):
        evaluate_expression(("xor", ("T", "F")))
    with pytest.raises(ValueError, match="value"):
        evaluate_expression("maybe")
    with pytest.raises(ValueError, match="expr"):
        evaluate_expression(("and", "T", "F"))
    with pytest.raises(ValueError, match="expr has tokens outside"):
        expression_tokens(("xor", ("T", "F")))
    with pytest.raises(ValueError, match="too early"):
        parse_prefix([2, 1])
    with pytest.raises(ValueError, match="left over"):
        parse_prefix([1, 1])
    with pytest.raises(ValueError, match="tokens is empty"):
        parse_prefix([])
    with pytest.raises(ValueError, match="tokens must be ids"):
        parse_prefix([7])
    with pytest.raises(ValueError, match="p must be"):
        rotate_randomly(chain_tree(3), rng, -0.1)
    with pytest.raises(ValueError, match="one entry per example"):
        train_recursive(init_recursive(2, 2, vocab_size=4), [chain_tree(2)], [], [0], 1, progress=False)
    with pytest.raises(TypeError, match="num_steps"):
        train_recursive(init_recursive(2, 2, vocab_size=4), [chain_tree(2)], [np.array([0, 1])], [0], 1.5)


def test_cache_type():
    params = random_params(m=2, C=2)
    cache = recursive_forward(params, chain_tree(3), np.ones((3, 2)))
    assert isinstance(cache, RecursiveCache) and cache.h.shape == (5, 2) and cache.y_hat.shape == (1, 2)


# --------------------------------------------------------------------------------------------
# The chapter's exercise checkers: right answers pass, the usual mistakes are named
# --------------------------------------------------------------------------------------------
def _depth(nested):
    return 0 if not isinstance(nested, tuple) else 1 + max(_depth(nested[0]), _depth(nested[1]))


def _balanced(leaves):
    if len(leaves) == 1:
        return leaves[0]
    mid = (len(leaves) + 1) // 2
    return (_balanced(leaves[:mid]), _balanced(leaves[mid:]))


def _compose(params, h_left, h_right):
    return np.tanh(params["b"] + np.concatenate([h_left, h_right], axis=1) @ params["W"].T)


def _compose_backward(params, dh, h_left, h_right, h):
    W = params["W"]
    m = W.shape[0]
    da = dh * (1 - h ** 2)
    dh_children = da @ W
    return dh_children[:, :m], dh_children[:, m:], da.T @ np.concatenate([h_left, h_right], axis=1), da.sum(axis=0)


def _stub(*args):
    raise NotImplementedError()


def test_exercise_checkers_pass_right_answers():
    from rnnlib.exercises import check, list_exercises

    for label, answer in (("recursive-depth", _depth), ("recursive-balanced", _balanced),
                          ("recursive-compose", _compose), ("recursive-compose-backward", _compose_backward)):
        assert check(label, answer, quiet=True).passed, label
        assert check(label, _stub, quiet=True).status == "not attempted"
    labels = {e.label for e in list_exercises("recursive")}
    assert {"recursive-right-chain", "recursive-parallel-steps", "recursive-parser-cost"} <= labels


def test_exercise_checkers_name_the_usual_mistakes():
    from rnnlib.exercises import check

    def nodes(nested):
        return 1 + (0 if not isinstance(nested, tuple) else max(nodes(nested[0]), nodes(nested[1])))

    def chain(leaves):
        tree = leaves[0]
        for leaf in leaves[1:]:
            tree = (tree, leaf)
        return tree

    def no_tanh(params, h_left, h_right):
        return params["b"] + np.concatenate([h_left, h_right], axis=1) @ params["W"].T

    def swapped(params, dh, h_left, h_right, h):
        left, right, dW, db = _compose_backward(params, dh, h_left, h_right, h)
        return right, left, dW, db

    def no_derivative(params, dh, h_left, h_right, h):
        return _compose_backward(params, dh, h_left, h_right, np.zeros_like(h))

    cases = [("recursive-depth", nodes, "counted the nodes"),
             ("recursive-balanced", chain, "chain"),
             ("recursive-balanced", lambda leaves: _balanced(leaves[::-1]), "out of order"),
             ("recursive-compose", no_tanh, "forgot the tanh"),
             ("recursive-compose", lambda p, l, r: _compose(p, r, l), "swapped"),
             ("recursive-compose-backward", swapped, "swapped"),
             ("recursive-compose-backward", no_derivative, "derivative of tanh")]
    for label, answer, phrase in cases:
        result = check(label, answer, quiet=True)
        assert result.status == "failed" and phrase in result.feedback, (label, result.feedback)


def test_accuracy_refuses_one_label_for_three_trees():
    """Issue 18: one label used to be broadcast over every tree."""
    tokens, trees, labels = make_expression_data(3, 2, seed=0)
    params = init_recursive(4, 2, vocab_size=len(BOOL_VOCAB), seed=0)
    with pytest.raises(ValueError, match="labels"):
        accuracy(params, trees, tokens, labels[:1])


def test_deep_trees_need_no_recursion():
    """Issue 18: depth ~1000 used to raise RecursionError (the property tests go to 100,000)."""
    nested = "x"
    for _ in range(5000):
        nested = (nested, "x")
    tree, leaves = tree_from_nested(nested)
    assert tree.depth == 5000 and len(leaves) == 5001 and repr(tree).startswith("Tree((((")
    expr = "T"
    for _ in range(5000):
        expr = ("or", ("F", expr))
    assert evaluate_expression(expr) is True
    assert parse_prefix(expression_tokens(expr)).depth == 10000
    assert rotate_randomly(tree, np.random.default_rng(0), 1.0).n_leaves == 5001
    with pytest.raises(ValueError, match="max_nodes"):
        random_expression(np.random.default_rng(0), 60, p_leaf=0.0)
