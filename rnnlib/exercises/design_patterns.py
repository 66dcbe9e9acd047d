"""Checkers for the exercises of the chapter "Design patterns and deep RNNs".

* ``patterns-pick``: pick the design pattern (1, 2 or 3) for five described tasks.
* ``patterns-teacher-forcing``: teacher forcing's input shift, y_prev[t] = onehot(y[t-1]).
* ``patterns-seq-to-one-dh``: the gradient that the single output of pattern 3 sends into the
  hidden states, nonzero only at each sequence's last real step.
* ``patterns-shortest-path``: the shortest path between h^(t) and h^(t+k) in a deep-transition RNN,
  with and without skip connections.
* ``patterns-exposure-bias`` (written): why free running is worse than teacher forcing, and remedies.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import deep as _deep
from .. import patterns as _patterns
from . import Case, Checker, Mistake, call, compare, describe, exercise, first_match, register, snapshot

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
                    "suffices, and with teacher forcing its steps are independent, so training "
                    "runs in parallel over time."),
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
         "reads h^(tau_b), its last real step, so that is where its gradient goes.",
         lambda: at(np.full(B, T - 1), do @ V / B)),
        ("off by one: dh is indexed like h[1:], so h^(tau) is dh[tau - 1].",
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


register("patterns-exposure-bias", chapter=CHAPTER, points=1, kind="written",
         title="Exposure bias and its remedies")
