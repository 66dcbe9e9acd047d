"""The exercise protocol, for every code checker of the book (rnnlib.exercises):

* the library's reference and a solution written independently here both pass, in-process
  (check) and along the grader's path (make_cases -> observe_case -> dump/load -> judge_observations);
* an answer that memorises the fixed cases (a lookup table of their inputs) fails: fresh random
  cases follow the fixed ones;
* lists where tuples are returned, and the other float dtype, are accepted (the fairness rules);
* cases and observations are plain data that survive dump/load unchanged;
* judge_observations never raises and never exceeds the points on forged, oversized or
  malformed observations.
"""
import copy
import dataclasses
import hashlib
import math

import numpy as np
import pytest

import rnnlib
import rnnlib.exercises as ex
from rnnlib import (bidirectional, data, deep, dynamics, graph as g, metrics, patterns,
                    reservoir, seq2seq)
from rnnlib.bptt import bptt_contributions, bptt_memory_bytes
from rnnlib.exercises import check, judge_observations, make_cases, observe_case
from rnnlib.exercises.computational_graphs import LEAVES, monitor_graph, squared_error_graph
from rnnlib.exercises.exploding_vanishing import vanishing_settings
from rnnlib.exercises.sequence_modeling import (
    bag_of_words_reference, beam_step_reference, year_position_reference)
from rnnlib.exercises.plain import dump, load, plain_equal
from rnnlib.jacobians import hidden_jacobians
from rnnlib.recursive import balanced_tree, tree_from_nested, tree_to_nested


# ----------------------------------------------------------------------------------------------
# Independent solutions (written here from the equations, not calling the exercise's function)
# ----------------------------------------------------------------------------------------------
def sig(a):
    return 1 / (1 + np.exp(-a))


def step_forward(params, x_t, h_prev):
    return np.tanh(params["b"] + h_prev @ params["W"].T + x_t @ params["U"].T)


def hidden_states(params, x, h0):
    h = [h0]
    for t in range(x.shape[0]):
        h.append(step_forward(params, x[t], h[-1]))
    return np.stack(h)


def unfold(f, T):
    def g_T(s):
        for _ in range(T):
            s = f(s)
        return s
    return g_T


def scale(W, rho):
    return W * (rho / np.abs(np.linalg.eigvals(W)).max())


def leaky_step(params, x_t, h_prev, alpha):
    new = np.tanh(params["b"] + h_prev @ params["W"].T + x_t @ params["U"].T)
    return h_prev + alpha * (new - h_prev)               # (1 - alpha) h + alpha new


def perplexity_and_bits(losses, mask):
    mean = float(np.sum(losses * mask) / np.count_nonzero(mask))
    return math.exp(mean), math.log2(math.e) * mean


def library_perplexity(losses, mask):
    L = metrics.per_step_loss(float(losses.sum(axis=0, where=mask).mean()), mask=mask)
    return metrics.perplexity(L), metrics.bits_per_character(L)


def steps(rho, eps):
    if rho >= 1:
        return math.inf
    t = 0
    while rho ** t > eps:
        t += 1
    return t


def by_hand(x, w, b, y):
    s = sig(x @ w + b)
    d = 2 * (s - y) * s * (1 - s)
    return d * x, d


def step_backward(params, dh_t, cache):
    da = dh_t * (1 - cache.h_t ** 2)
    return da @ params["U"], da @ params["W"], {"W": da.T @ cache.h_prev, "U": da.T @ cache.x_t, "b": da.sum(0)}


def bptt(params, cache, y):
    W, V = params["W"], params["V"]
    x, h = cache.x, cache.h
    T, B, _ = x.shape
    p = cache.y_hat.copy()
    loss = -np.log(p[np.arange(T)[:, None], np.arange(B), y]).sum() / B
    p[np.arange(T)[:, None], np.arange(B), y] -= 1
    do = p / B
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dnext = np.zeros_like(h[0])
    for t in reversed(range(T)):
        da = (do[t] @ V + dnext) * (1 - h[t + 1] ** 2)
        for key, value in (("W", da.T @ h[t]), ("U", da.T @ x[t]), ("b", da.sum(0)),
                           ("V", do[t].T @ h[t + 1]), ("c", do[t].sum(0))):
            grads[key] += value
        dnext = da @ W
    grads["h0"] = dnext
    return loss, grads


def contribution(params, cache, y, t, k):
    W, V, h, x = params["W"], params["V"], cache.h, cache.x
    B = x.shape[1]
    do = cache.y_hat[t - 1].copy()
    do[np.arange(B), y[t - 1]] -= 1
    total = 0
    for b in range(B):
        col = V.T @ do[b] / B
        for j in range(t, k, -1):
            col = (np.diag(1 - h[j, b] ** 2) @ W).T @ col
        total = total + np.outer((1 - h[k, b] ** 2) * col, x[k - 1, b])
    return total


def memory_minimal(T, B, m, d, C, dtype):
    return np.dtype(dtype).itemsize * (T * B * d + (T + 1) * B * m + T * B * C)


def bidirectional_outputs(p, x):
    T, B, _ = x.shape
    m = p["Wh"].shape[0]
    h, g = np.zeros((T + 2, B, m)), np.zeros((T + 2, B, m))           # h[0] = 0, g[T+1] = 0
    for t in range(1, T + 1):
        h[t] = np.tanh(p["bh"] + h[t - 1] @ p["Wh"].T + x[t - 1] @ p["Uh"].T)
    for t in range(T, 0, -1):
        g[t] = np.tanh(p["bg"] + g[t + 1] @ p["Wg"].T + x[t - 1] @ p["Ug"].T)
    return np.concatenate([h[1:T + 1], g[1:T + 1]], axis=2) @ p["V"].T + p["c"]


def teacher_forcing(y, C):
    out = np.zeros(y.shape + (C,))
    for t in range(1, y.shape[0]):
        out[t, np.arange(y.shape[1]), y[t - 1]] = 1
    return out


def seq_to_one_dh(V, y_hat, y, last, T):
    B = y_hat.shape[0]
    dh = np.zeros((T, B, V.shape[1]))
    for b in range(B):
        do = y_hat[b].copy()
        do[y[b]] -= 1
        dh[last[b] - 1, b] = V.T @ do / B
    return dh


def jacobian_product(params, cache, t, k):
    W = params["W"]
    fprime = rnnlib.activation_derivative(cache.a, cache.h[1:], cache.activation)
    B, m = cache.h.shape[1], W.shape[0]
    P = np.broadcast_to(np.eye(m), (B, m, m)).copy()
    for j in range(k + 1, t + 1):
        P = (fprime[j - 1][:, :, None] * W) @ P
    return P


def clip(grads, max_norm):
    norm = math.sqrt(sum(float((v ** 2).sum()) for v in grads.values()))
    if norm > max_norm:
        for v in grads.values():
            v *= max_norm / norm
    return norm


def lstm_step(params, x_t, h_prev, s_prev):
    pre = {k: params["b_" + k] + h_prev @ params["W_" + k].T + x_t @ params["U_" + k].T for k in "ifog"}
    s = sig(pre["f"]) * s_prev + sig(pre["i"]) * np.tanh(pre["g"])
    return sig(pre["o"]) * np.tanh(s), s


def depth(nested):
    return 0 if not isinstance(nested, (tuple, list)) else 1 + max(depth(nested[0]), depth(nested[1]))


def balanced(leaves):
    if len(leaves) == 1:
        return leaves[0]
    half = (len(leaves) + 1) // 2
    return (balanced(leaves[:half]), balanced(leaves[half:]))


def compose(params, h_left, h_right):
    return np.tanh(params["b"] + np.concatenate([h_left, h_right], axis=1) @ params["W"].T)


def compose_backward(params, dh, h_left, h_right, h):
    m = h.shape[1]
    da = dh * (1 - h ** 2)
    dc = da @ params["W"]
    return dc[:, :m], dc[:, m:], da.T @ np.concatenate([h_left, h_right], axis=1), da.sum(0)


def pad(sentences, vocab):
    T = max(len(s) for s in sentences)
    ids = np.zeros((T, len(sentences)), dtype=int)
    for b, s in enumerate(sentences):
        ids[:len(s), b] = [vocab.index(w) for w in s]
    return ids, np.arange(T)[:, None] < np.array([len(s) for s in sentences])


def bow(ids, mask, V):
    counts = np.zeros((ids.shape[1], V))
    for t, b in zip(*np.nonzero(mask)):
        counts[b, ids[t, b]] += 1
    return counts


def caption(params, v, bos, eos, max_len):
    s = np.tanh(params["bp"] + v @ params["P"].T)
    previous, done = np.full(len(v), bos), np.zeros(len(v), dtype=bool)
    out = np.zeros((max_len, len(v)), dtype=int)
    for t in range(max_len):
        s = np.tanh(params["bd"] + s @ params["Wd"].T + params["Ud"][:, previous].T)
        previous = (params["c"] + s @ params["V"].T).argmax(axis=1)
        out[t] = np.where(done, 0, previous)
        done |= previous == eos
    return out


PICKS = {"sentiment": 3, "tagging": 1, "parallel": 2, "echo": 1, "video": 3}

#: label -> (the library's reference, an independent solution)
SOLUTIONS = {
    "rnn-step-forward": (rnnlib.rnn_step_forward, step_forward),
    "rnn-n-params": (lambda m, d, C: sum(p.size for p in rnnlib.init_rnn(d, m, C).values()),
                     lambda m, d, C: m * m + m * d + C * m + m + C),
    "rnn-hidden-states": (lambda p, x, h0: rnnlib.rnn_forward(p, x, h0).h, hidden_states),
    "recurrence-unfold": (dynamics.unfold, unfold),
    "recurrence-spectral-radius": (dynamics.scale_to_spectral_radius, scale),
    "recurrence-leaky-step": (lambda p, x, h, a: reservoir.reservoir_states(p, x[None], h, a)[1],
                              leaky_step),
    "rnn-perplexity": (library_perplexity, perplexity_and_bits),
    "recurrence-forget-steps": (lambda r, e: math.inf if r >= 1 else max(0, math.ceil(math.log(e) / math.log(r) - 1e-12)), steps),
    "graphs-build": (squared_error_graph, lambda x, w, b, y: g.square(g.sigmoid(x @ w + b) - y)),
    "graphs-hand-gradient": (None, by_hand),
    "graphs-receives-gradient": (lambda: g.receives_gradient(monitor_graph()[0]) & set(LEAVES), lambda: {"x", "w", "b"}),
    "rnn-step-backward": (rnnlib.rnn_step_backward, step_backward),
    "bptt-loop": (rnnlib.rnn_backward, bptt),
    "tk-contribution": (lambda p, c, y, t, k: bptt_contributions(p, c, y, wrt="U")[t - 1, k - 1], contribution),
    "bptt-memory": (lambda T, B, m, d, C, dtype: bptt_memory_bytes(T, B, m, d, C, dtype), memory_minimal),
    "patterns-pick": (dict(PICKS), lambda: dict(PICKS)),
    "patterns-teacher-forcing": (patterns.teacher_forcing_inputs, teacher_forcing),
    "patterns-seq-to-one-dh": (patterns.seq_to_one_dh, seq_to_one_dh),
    "patterns-shortest-path": (lambda k, depth, skip: deep.hidden_path(k, transition_depth=depth, skip=skip),
                               lambda k, depth, skip: k if skip else depth * k),
    "patterns-bidirectional": (lambda p, x: bidirectional.bidirectional_forward(p, x).o, bidirectional_outputs),
    "bptt-perplexity": (lambda J, T: (metrics.perplexity(J / T), metrics.bits_per_character(J / T)),
                        lambda J, T: (math.exp(J / T), J / T / math.log(2))),
    "jacobian-product": (lambda p, c, t, k: hidden_jacobians(p, c)[t, k], jacobian_product),
    "clip-grad-norm": (rnnlib.clip_grad_norm, clip),
    "predict-vanishing": (None, {"A", "B", "F"}),
    "lstm-step-forward": (lambda *a: rnnlib.lstm_step_forward(*a)[:2], lstm_step),
    "gated-n-params": (lambda d, m, C: (sum(p.size for p in rnnlib.init_lstm(d, m, C).values()),
                                        sum(p.size for p in rnnlib.init_gru(d, m, C).values())),
                       lambda d, m, C: (4 * (m * m + m * d + m) + C * m + C, 3 * (m * m + m * d + m) + C * m + C)),
    "recursive-depth": (lambda nested: tree_from_nested(nested)[0].depth, depth),
    "recursive-balanced": (lambda leaves: tree_to_nested(balanced_tree(len(leaves)), leaves), balanced),
    "recursive-compose": (lambda p, l, r: np.tanh(p["b"] + np.concatenate([l, r], 1) @ p["W"].T), compose),
    "recursive-compose-backward": (None, compose_backward),
    "seqmod-pad-batch": (lambda s, v: data.encode(s, v)[:2], pad),
    "seqmod-bag-of-words": (None, bow),
    "seqmod-year-position": (None, lambda p, m: np.array([np.argmax(np.where(m[:, b], p[:, b], -1)) for b in range(p.shape[1])])),
    "seqmod-greedy-caption": (seq2seq.vector_decoder_generate, caption),
}


def _graph_gradient(x, w, b, y):
    X, W, B, Y = g.variable(x), g.parameter(w), g.parameter(b), g.constant(y)
    J = squared_error_graph(X, W, B, Y)
    J.backward()
    return W.grad, B.grad


SOLUTIONS["graphs-hand-gradient"] = (_graph_gradient, by_hand)
SOLUTIONS["recursive-compose-backward"] = (None, compose_backward)
SOLUTIONS["seqmod-bag-of-words"] = (bag_of_words_reference, bow)
SOLUTIONS["seqmod-year-position"] = (year_position_reference, SOLUTIONS["seqmod-year-position"][1])


def beam_step(scores, log_probs, width):
    cand = scores[:, None] + log_probs                                     # (n, C)
    order = sorted(np.ndindex(*cand.shape), key=lambda ij: -cand[ij])[:width]
    return [i for i, _ in order], [j for _, j in order], [cand[ij] for ij in order]


SOLUTIONS["seqmod-beam-step"] = (beam_step_reference, beam_step)


# "Where recurrence went"
def _attend_library(s, H, W_a):
    from rnnlib.attention import _attend
    weights, context = _attend(s[None], H, H @ W_a.T, None)
    return weights[0], context[0]


def _attend_by_hand(s, H, W_a):
    e = np.stack([np.sum(s * (H[j] @ W_a.T), axis=1) for j in range(H.shape[0])], axis=1)
    a = np.exp(e - e.max(axis=1, keepdims=True))
    a /= a.sum(axis=1, keepdims=True)                                  # (B, T_x)
    return a, sum(a[:, j:j + 1] * H[j] for j in range(H.shape[0]))


def _scan_by_hand(lam, u):
    h = [np.zeros(u.shape[1], dtype=np.result_type(lam, u))]
    for u_t in u:
        h.append(lam * h[-1] + u_t)
    return np.stack(h)


SOLUTIONS.update({
    "where-attend": (_attend_library, _attend_by_hand),
    "where-combine": (None, lambda first, second: (second[0] * first[0],
                                                   second[0] * first[1] + second[1])),
    "where-scan": (lambda lam, u: rnnlib.linear_recurrence.linear_recurrence_scan(lam, u),
                   _scan_by_hand),
})

CODE = sorted(e.label for e in ex.list_exercises(kind="code"))
VALUE = {e.label for e in ex.list_exercises(kind="code") if e.answer_kind == "value"}
ONE_CASE = VALUE | {"graphs-receives-gradient"}


def test_every_code_exercise_is_covered_and_trusted():
    assert set(SOLUTIONS) == set(CODE)
    for label in CODE:
        entry = ex.get_exercise(label)
        assert entry.trusted, label
        assert all(r.startswith("rnnlib.") for r in entry.references), label
    assert ex.load_errors() == {}


def answers(label):
    reference, independent = SOLUTIONS[label]
    if label == "predict-vanishing":
        reference = vanishing_settings()
    return [a for a in (reference, independent) if a is not None]


@pytest.mark.parametrize("label", CODE)
def test_reference_and_independent_solutions_pass(label):
    for answer in answers(label):
        for seed in (1, 2):
            result = check(label, answer, quiet=True, rng=np.random.default_rng(seed))
            assert result.passed and result.points == result.max_points, (label, result.feedback)
    assert check(label, answers(label)[-1], quiet=True).passed            # OS entropy


# ----------------------------------------------------------------------------------------------
# Memorising the fixed cases fails
# ----------------------------------------------------------------------------------------------
def fingerprint(value):
    """A hashable summary of live arguments (arrays by content, caches by fields, graph nodes
    by value, functions by the values they close over)."""
    if isinstance(value, np.ndarray):
        return ("a", value.shape, str(value.dtype), hashlib.sha1(np.ascontiguousarray(value).tobytes()).hexdigest())
    if isinstance(value, (list, tuple)):
        return ("s",) + tuple(fingerprint(v) for v in value)
    if isinstance(value, dict):
        return ("d",) + tuple((k, fingerprint(v)) for k, v in sorted(value.items()))
    if isinstance(value, g.Variable):
        return ("v", fingerprint(np.asarray(value.value)))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ("c",) + tuple(fingerprint(getattr(value, f.name)) for f in dataclasses.fields(value))
    if hasattr(value, "_asdict"):
        return ("n", fingerprint(dict(value._asdict())))
    if isinstance(value, type):
        return ("t", value.__name__)
    if callable(value):
        return ("f",) + tuple(fingerprint(c.cell_contents) for c in (value.__closure__ or ()))
    return ("x", repr(value))


def fixed_cases(label):
    one, two = make_cases(label, np.random.default_rng(1)), make_cases(label, np.random.default_rng(2))
    fixed = []
    for a, b in zip(one, two):
        if not plain_equal(a.as_plain(), b.as_plain()):
            break
        fixed.append(a)
    return fixed, len(one)


def memoriser(label, reference):
    """Right on the fixed cases (a lookup of their inputs), wrong elsewhere."""
    checker = ex.get_exercise(label).checker
    fixed, _ = fixed_cases(label)
    known = set()
    for case in fixed:
        args, _ = checker.prepare(case)
        known.add(fingerprint(args))
    first_args, _ = checker.prepare(fixed[0])
    stale = copy.deepcopy(reference(*first_args))

    def answer(*args):
        if fingerprint(args) in known:
            return reference(*args)
        return copy.deepcopy(stale)
    return answer


@pytest.mark.parametrize("label", sorted(set(CODE) - ONE_CASE))
def test_fixed_cases_come_first_and_a_memoriser_fails(label):
    fixed, total = fixed_cases(label)
    assert 1 <= len(fixed) < total, (label, len(fixed), total)
    answer = answers(label)[-1]
    memorised = memoriser(label, answer)
    right = judge_observations(label, fixed, [observe_case(label, memorised, case) for case in fixed])
    assert right.passed, (label, right.feedback)                       # right on the fixed cases
    for seed in range(3):
        result = check(label, memorised, quiet=True, rng=np.random.default_rng(seed))
        assert result.status == "failed" and result.points < result.max_points, (label, result.feedback)


# ----------------------------------------------------------------------------------------------
# Fairness: lists for tuples, the other dtype
# ----------------------------------------------------------------------------------------------
def deep_map(value, leaf):
    if isinstance(value, (tuple, list)):
        return [deep_map(v, leaf) for v in value]
    if isinstance(value, (set, frozenset)):
        return [deep_map(v, leaf) for v in sorted(value)]
    if isinstance(value, dict):
        return {k: deep_map(v, leaf) for k, v in value.items()}
    return leaf(value)


def lists(answer):
    if not callable(answer):
        return deep_map(answer, lambda v: v)
    return lambda *a: deep_map(answer(*a), lambda v: v)


def other_dtype(value):
    if isinstance(value, np.ndarray) and value.dtype in (np.float32, np.float64):
        return value.astype(np.float64 if value.dtype == np.float32 else np.float32)
    return value


@pytest.mark.parametrize("label", CODE)
def test_lists_for_tuples_and_the_other_dtype_are_accepted(label):
    answer = answers(label)[-1]
    result = check(label, lists(answer), quiet=True, rng=np.random.default_rng(3))
    assert result.passed, (label, result.feedback)
    if callable(answer) and label != "clip-grad-norm":                   # (clip works in place)
        result = check(label, lambda *a: deep_map(answer(*a), other_dtype), quiet=True, rng=np.random.default_rng(4))
        assert result.passed, (label, result.feedback)


def test_float32_inputs_appear_and_float64_answers_pass_for_them():
    """The dtype rule in the checkers that make float32 cases: a float64 result passes."""
    for label in ("rnn-step-forward", "rnn-hidden-states", "lstm-step-forward"):
        cases = make_cases(label, np.random.default_rng(0))
        assert any(isinstance(a, np.ndarray) and a.dtype == np.float32 for c in cases for a in c.args), label
        answer = answers(label)[-1]
        widened = lambda *a: deep_map(answer(*a), lambda v: v.astype(np.float64) if isinstance(v, np.ndarray) else v)  # noqa: E731
        assert check(label, widened, quiet=True).passed


# ----------------------------------------------------------------------------------------------
# The grader's path: plain data through dump/load, judged outside
# ----------------------------------------------------------------------------------------------
def grader_path(label, answer, tmp_path, rng):
    cases = make_cases(label, rng)
    dump([c.as_plain() for c in cases], tmp_path / "cases")
    loaded_cases = load(tmp_path / "cases")
    assert plain_equal(loaded_cases, [c.as_plain() for c in cases])
    observations = [observe_case(label, answer, case) for case in loaded_cases]
    dump(observations, tmp_path / "obs")
    loaded = load(tmp_path / "obs")
    assert plain_equal(loaded, observations), label
    return loaded_cases, loaded


@pytest.mark.parametrize("label", CODE)
def test_grader_path_round_trips_and_judges_outside(label, tmp_path):
    answer = answers(label)[-1]
    cases, observations = grader_path(label, answer, tmp_path, np.random.default_rng(5))
    result = judge_observations(label, cases, observations)
    assert result.passed and result.points == result.max_points, (label, result.feedback)
    # the same verdict for a wrong answer as in the notebook
    def stub(*args):
        raise NotImplementedError()
    stub_obs = [observe_case(label, None if label == "predict-vanishing" else stub, case) for case in cases]
    assert judge_observations(label, cases, stub_obs).status == "not attempted"


def forgeries(observations):
    n = len(observations)
    big = np.zeros((600, 600))
    yield []
    yield [None] * n
    yield [{"raised": "X" * 1_000_000, "where": "y" * 10 ** 5, "context": 5}] * n
    yield [{"not_attempted": True}] * n
    yield [{"not_callable": ["a", 1]}] * n
    yield [{"checker_error": None}] * n
    yield [{"returned": big}] * n
    yield [{"returned": {"opaque": 5}}] * n
    yield [{"returned": "x" * 100000}] * n
    yield [{"returned": 10 ** 400}] * n
    yield [{"returned": [[[[]]]]}] * n
    yield [{"returned": float("nan")}] * n
    yield [{"returned": 1j}] * n
    yield ["garbage"] * n
    yield observations[::-1]
    yield observations[1:] + observations[:1]
    yield observations + observations

    def poison(value):
        if isinstance(value, np.ndarray):
            return np.full(value.shape, np.nan) if value.dtype.kind == "f" else value[::-1].copy()
        if isinstance(value, bool):
            return not value
        if isinstance(value, (int, float)):
            return value * 1e300 if isinstance(value, float) else -value - 1
        if isinstance(value, str):
            return value[::-1]
        return value
    yield [deep_map(o, poison) for o in observations]
    yield [deep_map(o, lambda v: None) for o in observations]
    yield [deep_map(o, lambda v: big if isinstance(v, np.ndarray) else v) for o in observations]
    yield [{key: {"opaque": "x"} for key in o} if isinstance(o, dict) else o for o in observations]


@pytest.mark.parametrize("label", CODE)
def test_judge_observations_never_raises_nor_exceeds_the_points(label, tmp_path):
    entry = ex.get_exercise(label)
    cases, observations = grader_path(label, answers(label)[-1], tmp_path, np.random.default_rng(6))
    for forged in forgeries(observations):
        result = judge_observations(label, cases, forged)
        assert result.status in ex.STATUSES and 0 <= result.points <= entry.points, (label, result)
        assert len(result.feedback) < 20000
        if forged is not observations and not plain_equal(forged, observations):
            assert not (result.passed and len(forged) != len(cases)), label
    for bad_cases in ([], [{"context": 1}], ["x"], [{"context": "c", "args": "no"}]):
        result = judge_observations(label, bad_cases, observations)
        assert result.status == "error" and result.points == 0


def test_forged_points_and_error_records_are_reported_like_call():
    record = {"raised": "ValueError: bad shape", "context": "B=3", "where": "line 2: return x"}
    result = judge_observations("rnn-step-forward", make_cases("rnn-step-forward"), [record])
    assert result.status == "failed" and result.points == 0
    assert result.feedback.splitlines() == ["your function raised ValueError: bad shape",
                                            "  (when called with B=3)", "  at line 2: return x"]
    result = judge_observations("patterns-pick", make_cases("patterns-pick"),
                                [{"returned": dict(PICKS, echo=2)}])
    assert result.points == 1 and result.max_points == 2
    legacy = ex.register("demo-legacy", chapter="demo", title="t", checker=lambda answer: None)
    try:
        assert not legacy.trusted
        assert judge_observations("demo-legacy", [ex.Case("c")], [{"feedback": None}]).status == "error"
    finally:
        ex._REGISTRY.pop("demo-legacy")


def test_observe_case_turns_everything_into_plain_data():
    case = make_cases("rnn-step-forward")[0]

    class Always(np.ndarray):
        def __eq__(self, other):
            return True

    def sneaky(params, x_t, h_prev):
        return np.zeros((3, 4)).view(Always)
    observed = observe_case("rnn-step-forward", sneaky, case)
    assert type(observed["h_t"]) is np.ndarray
    assert not judge_observations("rnn-step-forward", [case], [observed]).passed
    assert observe_case("rnn-step-forward", 42, case) == {"not_callable": "the int 42"}
    assert observe_case("rnn-step-forward", None, case) == {"not_attempted": True}

    def deep(*args):
        return deep(*args)
    assert observe_case("rnn-step-forward", deep, case)["raised"].startswith("RecursionError")
    assert ex.is_error_record(observe_case("rnn-step-forward", lambda *a: 1 / 0, case))


# ----------------------------------------------------------------------------------------------
# The truth fixes of issue 15
# ----------------------------------------------------------------------------------------------
def test_why_A_is_true_of_the_widget_setting():
    from rnnlib.exercises.exploding_vanishing import SETTINGS, WHY
    from rnnlib.widgets import gradient_norms as G

    setting = SETTINGS["A"]
    params = G._model(setting["cell"], setting["activation"], setting["spectral_radius"], 0, G.DEFAULTS["seed"])[0]
    W, T = params["W"], G.DEFAULTS["steps"]
    norm, rho = np.linalg.norm(W, 2), np.abs(np.linalg.eigvals(W)).max()
    assert abs(rho - 0.5) < 1e-9 and round(norm, 2) == 0.78 and "0.78" in WHY["A"]
    assert norm > rho                                           # rho < 1 bounds no single step
    assert T == 30 and norm ** T < 1e-3 and f"{norm ** T:.0e}" == "5e-04" and "5e-4" in WHY["A"]
    measured = G.gradient_norm_data(**setting)["jacobian_norm"][-1]
    assert measured <= norm ** T                                # the bound holds, as stated
    assert "at most 0.5" not in WHY["A"]


def test_echo_explanation_names_the_previous_output():
    from rnnlib.exercises.design_patterns import PICK_ANSWERS

    why = PICK_ANSWERS["echo"][1]
    assert "y^(t-1) = x^(t-3)" in why and "two steps back" not in why


def test_bptt_memory_accepts_the_minimum_and_says_what_is_redundant():
    result = check("bptt-memory", memory_minimal, quiet=True)
    assert result.passed and "redundant" in result.feedback
    assert check("bptt-memory", lambda *a: bptt_memory_bytes(*a), quiet=True).passed
    missing = check("bptt-memory", lambda T, B, m, d, C, dt: memory_minimal(T, B, m, d, C, dt)
                    - T * B * C * np.dtype(dt).itemsize, quiet=True)
    assert not missing.passed and "Neither y_hat nor o" in missing.feedback and "redundant" in missing.feedback


def test_spectral_radius_explains_a_complex_answer():
    def by_eigenvalue(W, rho):
        eigenvalues = np.linalg.eigvals(W)
        return W * rho / eigenvalues[np.argmax(np.abs(eigenvalues))]
    result = check("recurrence-spectral-radius", by_eigenvalue, quiet=True, rng=np.random.default_rng(0))
    assert not result.passed and "modulus" in result.feedback
    assert "complex" in result.feedback or "eigenvalue of largest modulus itself" in result.feedback


def test_greedy_caption_eos_padding_is_not_called_kept_generating():
    def eos_padded(params, v, bos, eos, max_len):
        ids = caption(params, v, bos, eos, max_len)
        after = np.cumsum(ids == eos, axis=0) - (ids == eos) > 0
        return np.where(after, eos, ids)
    for seed in range(3):
        result = check("seqmod-greedy-caption", eos_padded, quiet=True, rng=np.random.default_rng(seed))
        assert not result.passed and "kept generating" not in result.feedback
        assert "<eos>" in result.feedback and "0" in result.feedback


def test_clip_grad_norm_says_when_the_callers_arrays_were_not_changed():
    def rebinding(grads, max_norm):
        norm = math.sqrt(sum(float((v ** 2).sum()) for v in grads.values()))
        for key in grads:
            grads[key] = grads[key] * min(1.0, max_norm / norm)
        return norm
    result = check("clip-grad-norm", rebinding, quiet=True)
    assert not result.passed and "not changed in place" in result.feedback


def test_list_where_a_tuple_is_asked_for_compose_backward_and_pairs():
    assert check("recursive-compose-backward", lambda *a: list(compose_backward(*a)), quiet=True).passed
    assert check("gated-n-params", lambda d, m, C: list(SOLUTIONS["gated-n-params"][1](d, m, C)), quiet=True).passed
    assert check("recursive-balanced", lambda leaves: deep_map(balanced(leaves), lambda v: v), quiet=True).passed


def test_in_the_book_build_a_check_cell_shows_the_students_view_and_the_books_solution_must_pass(
        monkeypatch, capsys):
    """The built page shows what a student will see, not "Correct" from the master solution."""
    import rnnlib
    from rnnlib.exercises import BOOK_PAGE_NOTE, check

    monkeypatch.setenv("RNNBOOK_BUILD", "1")
    result = check("rnn-step-forward", lambda p, x, h: rnnlib.rnn_step_forward(p, x, h)[0])
    shown = capsys.readouterr().out
    assert result.passed and "Correct" not in shown
    assert shown.strip() == BOOK_PAGE_NOTE.format(label="rnn-step-forward", points=2)
    with pytest.raises(AssertionError, match="the book's solution of 'rnn-step-forward' fails"):
        check("rnn-step-forward", lambda p, x, h: h)
