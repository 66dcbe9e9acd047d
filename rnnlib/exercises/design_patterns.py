"""Checkers for the exercises of the chapter "Design patterns and deep RNNs".

* ``patterns-pick``: pick the design pattern (1, 2 or 3) for five described tasks.
* ``patterns-teacher-forcing``: teacher forcing's input shift, y_prev[t] = onehot(y[t-1]).
* ``patterns-seq-to-one-dh``: the gradient that the single output of pattern 3 sends into the
  hidden states, nonzero only at each sequence's last real step.
* ``patterns-shortest-path``: the shortest path between h^(t) and h^(t+k) in a deep-transition RNN,
  with and without skip connections.
* ``patterns-bidirectional``: the bidirectional RNN's forward pass, a forward and a backward RNN
  whose states at each step are concatenated for the output.
* ``patterns-exposure-bias`` (written): why free running is worse than teacher forcing, and remedies.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import bidirectional as _bidirectional
from .. import deep as _deep
from .. import patterns as _patterns
from . import (Case, Checker, Mistake, call, changed_argument, compare, describe, exercise, first_match,
               register, snapshot)

CHAPTER = "design_patterns"


# ----------------------------------------------------------------------------------------------
# Pick the pattern
# ----------------------------------------------------------------------------------------------
PICK_ANSWERS = {
    "sentiment": (3, "a review gets one label after the whole text is read: one output at the end, "
                     "pattern 3."),
    "tagging": (1, "every word needs a tag that depends on the words before it: an output at every "
                   "step, with the hidden state carrying the context, pattern 1."),
    "parallel": (2, "when the previous output carries everything the next step needs, pattern 2 "
                    "suffices; it has no hidden-to-hidden recurrence, so with teacher forcing (the "
                    "true previous labels as inputs) its steps are independent and training runs in "
                    "parallel over time. Teacher forcing alone does not give that: a model with "
                    "hidden-to-hidden recurrence stays sequential."),
    "echo": (1, "pattern 2 feeds back only the previous output, y^(t-1) = x^(t-3), which does not "
                "tell what x^(t-2) was, so the output-to-hidden pattern 2 cannot do this; the hidden "
                "state of pattern 1 can remember the last two inputs."),
    "video": (3, "one decision for the whole clip: read every frame, output once, pattern 3."),
}


@exercise("patterns-pick", chapter=CHAPTER, points=2, answer_name="pick_patterns",
          title="Pick the design pattern")
class Pick(Checker):
    """answer: a function returning a dict {task name: 1, 2 or 3} (or the dict itself).

    One case: the tasks are the fixed text of the exercise."""

    answer_kind = "value"
    references = ()

    def cases(self, rng):
        return [Case("pick_patterns()")]

    def observe(self, returned, case, args):
        if callable(returned):
            returned = call(returned, context="pick_patterns()")
        return {"returned": snapshot(returned)}

    def judge(self, case, observed):
        answer = observed.get("returned")
        if not isinstance(answer, dict) or "opaque" in answer and len(answer) == 1:
            raise Mistake(f"pick_patterns() should return a dict {{task: 1, 2 or 3}}, got {describe(answer)}")
        missing = [task for task in PICK_ANSWERS if task not in answer]
        if missing:
            raise Mistake(f"your dict is missing the task(s) {missing}; it needs all of {list(PICK_ANSWERS)}")
        wrong = []
        for task, (pattern, why) in PICK_ANSWERS.items():
            given = answer[task]
            if given is None or given == {"opaque": "a ellipsis"} or given == {"opaque": "a NotImplementedType"}:
                raise NotImplementedError()
            if isinstance(given, bool) or not isinstance(given, int) or given not in (1, 2, 3):
                raise Mistake(f"the pattern for {task!r} should be 1, 2 or 3, got {describe(given)}")
            if given != pattern:
                wrong.append(f"- {task}: you chose {given}, but {why}")
        if wrong:
            right = len(PICK_ANSWERS) - len(wrong)
            raise Mistake(f"{right} of {len(PICK_ANSWERS)} right.\n" + "\n".join(wrong),
                          partial=1 if right >= 4 else 0)


# ----------------------------------------------------------------------------------------------
# Teacher forcing's input shift
# ----------------------------------------------------------------------------------------------
@exercise("patterns-teacher-forcing", chapter=CHAPTER, points=1, answer_name="teacher_forcing_inputs",
          title="Teacher forcing's input shift")
class TeacherForcing(Checker):
    """answer(y (T, B) int, C) -> y_prev (T, B, C)."""

    references = ("rnnlib.patterns.teacher_forcing_inputs", "rnnlib.patterns._teacher_forcing_inputs")

    def cases(self, rng):
        fixed = np.random.default_rng(0)
        cases = [Case(f"T={T}, B={B}, C={C}", (fixed.integers(0, C, (T, B)), C))
                 for T, B, C in ((5, 3, 4), (1, 2, 3), (6, 1, 2), (4, 4, 4))]
        for _ in range(3):
            T, B, C = int(rng.integers(1, 8)), int(rng.integers(1, 6)), int(rng.integers(2, 7))
            cases.append(Case(f"T={T}, B={B}, C={C} (random)", (rng.integers(0, C, (T, B)), C)))
        return cases

    def judge(self, case, observed):
        y, C = case.args
        T, B = y.shape
        context = case.context
        got = observed.get("returned")
        expected = _patterns.teacher_forcing_inputs(y, C)                 # (T, B, C)
        onehot = np.eye(C)[y]                                            # (T, B, C)
        if isinstance(got, np.ndarray) and got.shape == expected.shape and not close_enough(got, expected):
            left = np.zeros_like(onehot)
            left[:-1] = onehot[1:]
            known = first_match(got, [
                ("you fed the current target onehot(y^(t)) to step t: that is the answer the model "
                 "must predict. Feed the previous one, y^(t-1), so shift the targets one step later.", onehot),
                ("you shifted the wrong way: step t must receive y^(t-1) (the past), not y^(t+1).", left),
                ("step 1 has no previous output, so its input must be all zeros; yours wraps the last "
                 "target around (np.roll does that).", lambda: np.roll(onehot, 1, axis=0)),
                ("step 1 has no previous output, so its input must be all zeros, not a one-hot vector.",
                 lambda: np.concatenate([np.eye(C)[np.zeros((1, B), dtype=int)], onehot[:-1]])),
            ])
            if known:
                raise Mistake(f"({context}) {known}")
        compare(got, expected, name="your y_prev", context=context)


def close_enough(got, expected):
    try:
        return bool(np.allclose(got, expected))
    except Exception:
        return False


# ----------------------------------------------------------------------------------------------
# The seq-to-one gradient
# ----------------------------------------------------------------------------------------------
def _dh_variants(V, y_hat, y, last, T):
    B = y_hat.shape[0]
    do = y_hat.copy()
    do[np.arange(B), y] -= 1
    at = lambda index, g: _place(index, g, T, V.shape[1])                 # noqa: E731
    return [
        ("you forgot to divide by B: the loss is the mean over the batch, so dJ/do = "
         "(y_hat - onehot(y)) / B.", lambda: at(last - 1, do @ V)),
        ("the sign is flipped: dJ/do = y_hat - onehot(y), not onehot(y) - y_hat.", lambda: at(last - 1, -do @ V / B)),
        ("you put every sequence's gradient at the last step T: with a mask, sequence b's output "
         "reads h^(T_b), its last real step, so that is where its gradient goes.",
         lambda: at(np.full(B, T - 1), do @ V / B)),
        ("off by one: dh is indexed like h[1:], so h^(T_b) is dh[T_b - 1].",
         lambda: at(np.minimum(last, T - 1), do @ V / B)),
    ]


def _place(index, g, T, m):
    dh = np.zeros((T, g.shape[0], m))
    dh[index, np.arange(g.shape[0])] = g
    return dh


def _dh_case(rng, T, B, m, C, last, context):
    V = rng.standard_normal((C, m))
    o = rng.standard_normal((B, C))
    y_hat = np.exp(o) / np.exp(o).sum(axis=1, keepdims=True)
    y = rng.integers(0, C, B)
    return Case(context, (V, y_hat, y, np.array(last), T))


@exercise("patterns-seq-to-one-dh", chapter=CHAPTER, points=2, answer_name="seq_to_one_dh",
          title="The seq-to-one loss gradient")
class SeqToOneDh(Checker):
    """answer(V, y_hat, y, last, T) -> dh (T, B, m)."""

    references = ("rnnlib.patterns.seq_to_one_dh", "rnnlib.patterns._seq_to_one_dh")

    def cases(self, rng):
        fixed = np.random.default_rng(1)
        cases = [_dh_case(fixed, T, B, m, C, last, f"T={T}, B={B}, m={m}, C={C}, last={last}")
                 for T, B, m, C, last in ((5, 4, 3, 3, [5, 2, 4, 1]), (3, 1, 4, 2, [3]), (6, 3, 5, 4, [6, 6, 6]))]
        for _ in range(3):
            T, B, m, C = (int(v) for v in rng.integers(2, 7, size=4))
            last = [int(v) for v in rng.integers(1, T + 1, size=B)]
            cases.append(_dh_case(rng, T, B, m, C, last, f"T={T}, B={B}, m={m}, C={C}, last={last} (random)"))
        return cases

    def judge(self, case, observed):
        V, y_hat, y, last, T = case.args
        context = case.context
        got = observed.get("returned")
        expected = _patterns.seq_to_one_dh(V, y_hat, y, last, T)
        if isinstance(got, np.ndarray) and got.shape == expected.shape and not close_enough(got, expected):
            known = first_match(got, _dh_variants(V, y_hat, y, last, T))
            if known:
                raise Mistake(f"({context}) {known}")
        compare(got, expected, name="your dh", context=context)


# ----------------------------------------------------------------------------------------------
# Shortest paths
# ----------------------------------------------------------------------------------------------
@exercise("patterns-shortest-path", chapter=CHAPTER, points=1, answer_name="shortest_path_length",
          title="Count the shortest path")
class ShortestPath(Checker):
    """answer(k, depth, skip) -> edges on the shortest path from h^(t) to h^(t+k)."""

    references = ("rnnlib.deep.hidden_path", "rnnlib.deep._hidden_path", "rnnlib.deep.path_between_steps",
                  "rnnlib.deep.shortest_path")

    def cases(self, rng):
        cases = [Case(f"k={k}, depth={depth}, skip={skip}", (k, depth, skip))
                 for k in (0, 1, 3, 7) for depth in (1, 2, 3) for skip in (False, True)
                 if not (skip and depth == 1)]
        for _ in range(4):
            k, depth = int(rng.integers(2, 25)), int(rng.integers(2, 6))
            skip = bool(rng.random() < 0.5)
            cases.append(Case(f"k={k}, depth={depth}, skip={skip}", (k, depth, skip)))
        return cases

    def judge(self, case, observed):
        k, depth, skip = case.args
        context = case.context
        got = observed.get("returned")
        expected = _deep.hidden_path(k, transition_depth=depth, skip=skip)
        if isinstance(got, bool) or not isinstance(got, int):
            if isinstance(got, float) and got.is_integer():
                got = int(got)
            else:
                raise Mistake(f"shortest_path_length({k}, {depth}, {skip}) should return an int, got {describe(got)}")
        if got == expected:
            return
        if skip and got == depth * k:
            raise Mistake(f"({context}) you ignored the skip: with it, h^(t) -> h^(t+1) is one edge, so "
                          f"k steps take k edges, not {depth}*k.")
        if not skip and got == k and depth > 1:
            raise Mistake(f"({context}) without skip each step crosses the whole transition MLP: "
                          f"{depth} edges per step, so {depth}*k in all.")
        if got == k * (depth - 1) or got == k + depth or got == depth * (k + 1):
            raise Mistake(f"({context}) count the edges between h^(t) and h^(t+1) on the graph: the "
                          f"transition has {depth} layer(s) of weights, one edge each.")
        raise Mistake(f"shortest_path_length({k}, {depth}, {skip}) returned {got}, expected {expected}.")


# ----------------------------------------------------------------------------------------------
# The bidirectional forward pass
# ----------------------------------------------------------------------------------------------
def _run(W, U, b, x, start=None):
    """States of h^(t) = tanh(b + W h^(t-1) + U x^(t)) over x (T, B, d) in the order given: (T, B, m)."""
    T, B, _ = x.shape
    state = np.zeros((B, W.shape[0])) if start is None else start
    states = []
    for t in range(T):
        state = np.tanh(b + state @ W.T + x[t] @ U.T)
        states.append(state)
    return np.stack(states)


def _bidirectional_variants(params, x):
    """(the right o, [(feedback, o of a usual mistake), ...]) in float64."""
    p = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}
    x = np.asarray(x, dtype=np.float64)
    V, c = p["V"], p["c"]
    h = _run(p["Wh"], p["Uh"], p["bh"], x)                              # (T, B, m) h^(1..T)
    g_rev = _run(p["Wg"], p["Ug"], p["bg"], x[::-1])                    # g^(T), ..., g^(1)
    g = g_rev[::-1]                                                     # (T, B, m) g^(1..T)
    zeros = np.zeros_like(h[:1])

    def out(first, second, bias=True):
        return np.concatenate([first, second], axis=2) @ V.T + (c if bias else 0)

    o = out(h, g)
    variants = [
        ("your backward RNN runs forwards in time: g^(t) must come from g^(t+1) and x^(t), starting "
         "at step T from g^(T+1) = 0 (run the recurrence over x[::-1]).",
         lambda: out(h, _run(p["Wg"], p["Ug"], p["bg"], x))),
        ("you ran the backward RNN over x[::-1] but did not reverse its states back: its i-th state "
         "is g^(T+1-i), so flip it ([::-1]) before pairing it with h^(t).", lambda: out(h, g_rev)),
        ("off by one: step t pairs h^(t) with g^(t), but yours pairs it with g^(t+1).",
         lambda: out(h, np.concatenate([g[1:], zeros]))),
        ("off by one: step t pairs h^(t) with g^(t), but yours pairs h^(t-1) with g^(t).",
         lambda: out(np.concatenate([zeros, h[:-1]]), g)),
        ("the order of the concatenation: V reads [h^(t); g^(t)], the forward state first.",
         lambda: out(g, h)),
        ("you forgot the output bias c: o^(t) = c + V [h^(t); g^(t)].", lambda: out(h, g, bias=False)),
        ("the backward RNN has its own parameters Wg, Ug, bg; yours reuses the forward RNN's.",
         lambda: out(h, _run(p["Wh"], p["Uh"], p["bh"], x[::-1])[::-1])),
        ("return the outputs o (the logits), not the probabilities softmax(o).",
         lambda: np.exp(o - o.max(axis=2, keepdims=True))
         / np.exp(o - o.max(axis=2, keepdims=True)).sum(axis=2, keepdims=True)),
    ]
    return o, variants


def _bidirectional_case(context, T, B, d, m, C, dtype, seed):
    rng = np.random.default_rng(seed)
    params = _bidirectional.init_bidirectional(d, m, C, seed=seed)
    params = {key: (value + 0.3 * rng.standard_normal(value.shape)).astype(dtype)
              for key, value in params.items()}                          # biases nonzero
    x = rng.standard_normal((T, B, d)).astype(dtype)                    # (T, B, d)
    return Case(context, (params, x))


BIDIRECTIONAL_CASES = (
    ("T=5, B=3, d=2, m=4, C=3", 5, 3, 2, 4, 3, np.float64),
    ("T=1, B=2, d=3, m=2, C=4", 1, 2, 3, 2, 4, np.float64),
    ("T=6, B=1, d=4, m=3, C=2", 6, 1, 4, 3, 2, np.float64),
    ("T=4, B=2, d=3, m=5, C=3, float32", 4, 2, 3, 5, 3, np.float32),
)


@exercise("patterns-bidirectional", chapter=CHAPTER, points=2, answer_name="bidirectional_outputs",
          title="The bidirectional forward pass")
class Bidirectional(Checker):
    """answer(params, x) -> o (T, B, C): the forward RNN (Wh, Uh, bh) from h^(0) = 0, the
    backward RNN (Wg, Ug, bg) from g^(T+1) = 0, o^(t) = c + V [h^(t); g^(t)], tanh, no mask."""

    references = ("rnnlib.bidirectional.bidirectional_forward",
                  "rnnlib.bidirectional._bidirectional_forward")

    def cases(self, rng):
        cases = [_bidirectional_case(context, T, B, d, m, C, dtype, 7 * T + B)
                 for context, T, B, d, m, C, dtype in BIDIRECTIONAL_CASES]
        for _ in range(3):
            T, B, d, m, C = (int(v) for v in rng.integers(1, 7, size=5))
            T, C = T + 1, C + 1
            dtype = np.float32 if rng.random() < 0.3 else np.float64
            name = ", float32" if dtype == np.float32 else ""
            cases.append(_bidirectional_case(f"T={T}, B={B}, d={d}, m={m}, C={C}{name} (random)",
                                             T, B, d, m, C, dtype, int(rng.integers(2 ** 31))))
        return cases

    def observe(self, returned, case, args):
        return {"returned": snapshot(returned),
                "changed": changed_argument(case.args, args, ("params", "x"))}

    def judge(self, case, observed):
        params, x = case.args
        context = case.context
        got, changed = observed.get("returned"), observed.get("changed")
        if changed:
            raise Mistake(f"your function changed its argument {changed} in place ({context}); "
                          "keep the inputs unchanged.")
        expected = _bidirectional.bidirectional_forward(params, x).o          # (T, B, C)
        right, variants = _bidirectional_variants(params, x)
        if isinstance(got, np.ndarray) and got.shape == expected.shape:
            known = first_match(got, variants, unless=right)
            if known:
                raise Mistake(f"({context}) {known}")
        compare(got, expected, name="your o", context=context, dtype=x.dtype)


register("patterns-exposure-bias", chapter=CHAPTER, points=1, kind="written",
         title="Exposure bias and its remedies")
