"""Checkers for the exercises of the chapter "Exploding and vanishing gradients"
(book/exploding_vanishing.ipynb).

Labels (the sphinx-exercise label is ``ex-<label>``):

* ``jacobian-product``   compute dh^(t)/dh^(k) = prod diag(act'(a^(j))) W of a vanilla RNN,
  ``jacobian_product(params, cache, t, k) -> (B, m, m)``;
* ``jacobian-bound``     (written) derive ||dh^(t)/dh^(k)|| <= (max|act'| ||W||_2)^(t-k);
* ``clip-grad-norm``     implement clipping by global norm, in place, returning the norm before
  clipping, ``clip_grad_norm(grads, max_norm) -> float``;
* ``predict-vanishing``  from the widget, the set of the settings in ``SETTINGS`` whose
  ||dh^(T)/dh^(0)|| vanishes (below 1e-3 at T = 30).

Each checker compares with rnnlib's reference on fixed and fresh random cases and recognises the
usual mistakes.
"""
from __future__ import annotations

import numpy as np

from . import Case, Checker, Mistake, compare, describe, exercise, first_match, register, snapshot
from ._common import fields, rebuild, seed as _seed
from ..jacobians import hidden_jacobians
from ..rnn import RNNCache, init_rnn, rnn_forward

CHAPTER = "exploding_vanishing"

#: the settings of the widget the student classifies (the other controls at their defaults)
SETTINGS = {
    "A": dict(cell="RNN", activation="tanh", spectral_radius=0.5),
    "B": dict(cell="RNN", activation="tanh", spectral_radius=1.0),
    "C": dict(cell="RNN", activation="identity", spectral_radius=1.5),
    "D": dict(cell="IRNN", activation="relu", spectral_radius=1.0),
    "E": dict(cell="RNN", activation="tanh", spectral_radius=1.0, skip=5),
    "F": dict(cell="RNN", activation="identity", spectral_radius=0.7),
}


# ----------------------------------------------------------------------------------------------
# Exercise: the Jacobian as a product
# ----------------------------------------------------------------------------------------------
def _jacobian_case(activation, seed, T=6, B=3, d=2, m=4, mask=None):
    rng = np.random.default_rng(seed)
    params = init_rnn(d, m, 2, seed=seed)
    params["W"] *= 1.3
    params["b"] += 0.2 * rng.standard_normal(m)
    x = rng.standard_normal((T, B, d))
    return params, rnn_forward(params, x, activation=activation)


def _product(params, cache, t, k, factor):
    """prod_{j=k+1..t} factor(j), newest on the left (variants for the typical mistakes)."""
    m = params["W"].shape[0]
    B = cache.h.shape[1]
    P = np.broadcast_to(np.eye(m), (B, m, m)).copy()
    for j in range(k + 1, t + 1):
        P = factor(j) @ P
    return P


def _jacobian_plain_case(activation, seed, t, k, T=6, B=3, d=2, m=4, context=""):
    params, cache = _jacobian_case(activation, seed, T=T, B=B, d=d, m=m)
    context = context or f"activation={activation!r}, t={t}, k={k}, B={B}, m={m}"
    return Case(context, (params, fields(cache), t, k))


@exercise("jacobian-product", chapter=CHAPTER, points=2, answer_name="jacobian_product",
          title="The Jacobian dh(t)/dh(k) as a product")
class JacobianProduct(Checker):
    """answer(params, cache, t, k) -> dh^(t)/dh^(k) (B, m, m). A case holds the RNNCache's fields;
    prepare rebuilds the cache."""

    references = ("rnnlib.jacobians.hidden_jacobians", "rnnlib.jacobians._hidden_jacobians",
                  "rnnlib.jacobians.step_jacobians", "rnnlib.jacobians._step_jacobians")

    def cases(self, rng):
        cases = [_jacobian_plain_case(activation, seed, t, k) for activation, seed, (t, k) in
                 (("tanh", 0, (5, 1)), ("relu", 1, (6, 2)), ("tanh", 2, (3, 3)), ("identity", 3, (4, 0)))]
        for _ in range(3):
            activation = str(rng.choice(["tanh", "relu", "identity"]))
            T, B, d, m = int(rng.integers(2, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(2, 6))
            t = int(rng.integers(1, T + 1))
            k = int(rng.integers(0, t))
            cases.append(_jacobian_plain_case(activation, _seed(rng), t, k, T=T, B=B, d=d, m=m,
                                              context=f"activation={activation!r}, t={t}, k={k}, B={B}, m={m} (random)"))
        return cases

    def prepare(self, case):
        params, cache, t, k = case.args
        return ({key: v.copy() for key, v in params.items()}, rebuild(RNNCache, cache), t, k), {}

    def judge(self, case, observed):
        from ..activations import activation_derivative

        params, plain_cache, t, k = case.args
        cache = rebuild(RNNCache, plain_cache)
        activation = cache.activation
        W = params["W"]
        context = case.context
        got = observed.get("returned")
        expected = hidden_jacobians(params, cache)[t, k]                  # (B, m, m)
        if isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype.kind in "biuf" \
                and not np.allclose(got, expected):
            fprime = activation_derivative(cache.a, cache.h[1:], activation)   # (T, B, m)
            diag = lambda v: v[..., :, None] * np.eye(len(v[0]))            # noqa: E731 (B, m, m)
            hint = first_match(got, [
                ("The factors are multiplied in the wrong order: the newest step's factor "
                 "diag(act'(a^(t))) W goes on the LEFT (dh^(t)/dh^(k) = J_t J_(t-1) ... J_(k+1)).",
                 lambda: _reverse_product(params, cache, t, k, lambda j: diag(fprime[j - 1]) @ W)),
                ("W is transposed: h^(t) depends on h^(t-1) through W h^(t-1), so the step Jacobian "
                 "is diag(act'(a^(t))) W, not diag(act'(a^(t))) W^T.",
                 lambda: _product(params, cache, t, k, lambda j: diag(fprime[j - 1]) @ W.T)),
                ("The diagonal multiplies the wrong side: use diag(act'(a^(t))) W (scale the rows of "
                 "W), not W diag(act'(a^(t))).",
                 lambda: _product(params, cache, t, k, lambda j: W @ diag(fprime[j - 1]))),
                ("The activation's derivative is missing: each step contributes diag(act'(a^(j))) W, "
                 "not W alone.",
                 lambda: _product(params, cache, t, k, lambda j: np.broadcast_to(W, fprime[0].shape + (W.shape[0],)))),
                ("An off-by-one in time: the factors are those of steps k+1, ..., t; a^(j) is "
                 "cache.a[j-1] (and h^(j) is cache.h[j]).",
                 lambda: _product(params, cache, t, k, lambda j: diag(fprime[min(j, len(fprime) - 1)]) @ W)),
                ("For tanh, act'(a) = 1 - tanh(a)^2 = 1 - h^2, not h or 1 - h.",
                 lambda: _product(params, cache, t, k, lambda j: diag(1 - cache.h[j]) @ W)),
            ])
            if hint:
                raise Mistake(hint + f" (for {context})")
        compare(got, expected, name="your Jacobian", context=context)


def _reverse_product(params, cache, t, k, factor):
    m = params["W"].shape[0]
    B = cache.h.shape[1]
    P = np.broadcast_to(np.eye(m), (B, m, m)).copy()
    for j in range(k + 1, t + 1):
        P = P @ factor(j)
    return P


register("jacobian-bound", chapter=CHAPTER, kind="written", points=2,
         title="Derive the bound on ||dh(t)/dh(k)||")


# ----------------------------------------------------------------------------------------------
# Exercise: clipping by global norm
# ----------------------------------------------------------------------------------------------
def _grads(seed, scale):
    rng = np.random.default_rng(seed)
    return {"W": scale * rng.standard_normal((4, 4)), "U": scale * rng.standard_normal((4, 3)),
            "b": scale * rng.standard_normal(4)}


def _norm(grads):
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


def _random_grads(rng, scale):
    m, d = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    return {"W": scale * rng.standard_normal((m, m)), "U": scale * rng.standard_normal((m, d)),
            "b": scale * rng.standard_normal(m)}


@exercise("clip-grad-norm", chapter=CHAPTER, points=2, answer_name="clip_grad_norm",
          title="Clip the gradient by its global norm")
class ClipGradNorm(Checker):
    """answer(grads, max_norm) -> the global norm before clipping; clips the caller's arrays in
    place. Observed: what it returned, the dict after the call, and the caller's original arrays
    after the call (to tell "changed in place" from "rebound to new arrays")."""

    references = ("rnnlib.optim.clip_grad_norm", "rnnlib.optim._clip_grad_norm",
                  "rnnlib.optim.global_norm", "rnnlib.optim._global_norm")

    def __init__(self):
        self._originals = {}

    def cases(self, rng):
        cases = []
        for seed, scale, max_norm in ((0, 10.0, 1.0), (1, 0.01, 1.0), (2, 3.0, 5.0), (3, 1.0, 0.5)):
            grads = _grads(seed, scale)
            cases.append(Case(f"||g|| = {_norm(grads):.4g}, max_norm = {max_norm}", (grads, max_norm)))
        for _ in range(3):
            grads = _random_grads(rng, float(10 ** rng.uniform(-1.5, 1.5)))
            max_norm = round(float(10 ** rng.uniform(-1, 1)), 3)
            cases.append(Case(f"||g|| = {_norm(grads):.4g}, max_norm = {max_norm} (random)", (grads, max_norm)))
        return cases

    def prepare(self, case):
        grads, max_norm = case.args
        live = {key: np.array(value, copy=True) for key, value in grads.items()}
        self._originals[id(live)] = dict(live)              # the caller's array objects
        return (live, max_norm), {}

    def observe(self, returned, case, args):
        live = args[0]
        originals = self._originals.pop(id(live), {})
        return {"returned": snapshot(returned), "after": snapshot(live),
                "arrays_after": snapshot(originals)}

    def judge(self, case, observed):
        original, max_norm = case.args
        context = case.context
        returned = observed.get("returned")
        grads = observed.get("after")
        arrays = observed.get("arrays_after")
        norm = _norm(original)
        scale_expected = min(1.0, max_norm / norm)
        expected = {key: g * scale_expected for key, g in original.items()}
        if not isinstance(grads, dict) or not isinstance(arrays, dict) or any(
                not isinstance(grads.get(key), np.ndarray) or grads[key].shape != g.shape
                or not isinstance(arrays.get(key), np.ndarray) for key, g in original.items()):
            raise Mistake(f"`grads` must keep its keys {sorted(original)} with arrays of the same shapes "
                          f"({context}); clip the arrays in place.")
        if isinstance(returned, dict):
            if all(np.allclose(grads[key], original[key]) for key in original) and norm > max_norm:
                raise Mistake("Your function returned a dict but left `grads` unchanged: clip in place "
                              "(g *= scale for every array), like rnnlib.optim.clip_grad_norm, and return "
                              "the norm before clipping.")
            raise Mistake(f"Return the global norm before clipping (a float), not the grads ({context}).")
        if isinstance(returned, bool) or not isinstance(returned, (float, int)):
            raise Mistake(f"Return the global norm before clipping as a number, got {describe(returned)}.")
        for key in original:
            if not np.allclose(grads[key], expected[key], rtol=1e-10, atol=1e-12):
                got = grads[key]
                own = np.linalg.norm(original[key])
                hint = first_match(got, [
                    ("Each array was clipped by its own norm; clipping by the GLOBAL norm scales every "
                     "array by the same factor min(1, max_norm / ||g||), ||g|| over all arrays together "
                     "(that keeps the direction of the whole gradient).",
                     original[key] * min(1.0, max_norm / own)),
                    ("Below the threshold nothing may change: the factor is min(1, max_norm / ||g||), "
                     "so a small gradient must not be scaled up.", original[key] * max_norm / norm),
                    ("That is clipping by value (np.clip element-wise), which changes the direction; "
                     "scale every array by min(1, max_norm / ||g||) instead.",
                     np.clip(original[key], -max_norm, max_norm)),
                    ("The norm is the square root of the sum of squares of every entry; do not forget "
                     "the square root.", original[key] * min(1.0, max_norm / norm ** 2)),
                ], rtol=1e-9, atol=1e-12)
                if np.allclose(got, original[key]) and norm > max_norm:
                    hint = ("`grads` was not changed. Clip in place (g *= scale for each array) so that "
                            "the caller's dict holds the clipped gradients.")
                raise Mistake((hint or f"grads[{key!r}] is not the clipped gradient") + f" ({context})")
        if norm > max_norm:
            for key in original:
                if not np.allclose(arrays[key], expected[key], rtol=1e-10, atol=1e-12):
                    raise Mistake(f"`grads` holds the clipped gradients, but the caller's arrays were not "
                                  f"changed in place ({context}): you put new arrays into the dict "
                                  f"(grads[{key!r}] = g * scale), so whoever holds the original arrays (a "
                                  "model's gradient buffers) still sees the unclipped values. Scale each "
                                  "array in place: `g *= scale` for every g in grads.values().")
        if not np.isclose(float(returned), norm, rtol=1e-10):
            if np.isclose(float(returned), _norm(expected), rtol=1e-10) and norm > max_norm:
                raise Mistake(f"Return the norm BEFORE clipping ({norm:.6g}), not after ({context}).")
            if np.isclose(float(returned), norm ** 2, rtol=1e-10):
                raise Mistake(f"You returned the squared norm ({context}): take the square root.")
            raise Mistake(f"The returned norm is {float(returned):.6g}, expected {norm:.6g} ({context}).")


# ----------------------------------------------------------------------------------------------
# Exercise: predict from the widget which settings vanish
# ----------------------------------------------------------------------------------------------
def vanishing_settings():
    """The reference: the labels of SETTINGS whose ||dh^(T)/dh^(0)|| is below 1e-3 (T = 30)."""
    from ..widgets.gradient_norms import gradient_norm_data

    return {label for label, setting in SETTINGS.items()
            if gradient_norm_data(**setting)["verdict"] == "vanishing"}


WHY = {
    "A": "tanh with rho(W) = 0.5. rho < 1 alone bounds no single step (this W has ||W||_2 = 0.78, so one "
         "step can multiply a gradient by up to 0.78, not 0.5), but with act' <= 1 every step multiplies "
         "by at most ||W||_2 = 0.78, so ||dh^(30)/dh^(0)|| <= 0.78^30 ~ 5e-4, below 1e-3: it vanishes.",
    "B": "tanh with rho(W) = 1: act' < 1 wherever a unit is not at 0, so the product still shrinks.",
    "C": "a linear RNN with rho(W) = 1.5 grows like 1.5^(T-k): it explodes.",
    "D": "the IRNN (ReLU, W = I): the Jacobian is the identity on units that stay active: no decay.",
    "E": "the skip connection (s = 5) reaches h^(0) in T/5 jumps: the decay slows to a trickle.",
    "F": "a linear RNN with rho(W) = 0.7 shrinks like 0.7^(T-k): 0.7^30 ~ 2e-5.",
}


@exercise("predict-vanishing", chapter=CHAPTER, points=2, answer_name="vanishing",
          title="Predict which settings vanish")
class PredictVanishing(Checker):
    """answer: a set (or list, tuple) of the labels of SETTINGS that vanish. One case: the
    settings are the fixed ones of the widget."""

    answer_kind = "value"
    references = ("rnnlib.exercises.exploding_vanishing.vanishing_settings",
                  "rnnlib.widgets.gradient_norms.gradient_norm_data")

    def cases(self, rng):
        return [Case("the settings A to F")]

    def judge(self, case, observed):
        answer = observed.get("returned")
        if not isinstance(answer, (list, tuple)) or not all(isinstance(a, (str, int)) for a in answer):
            raise Mistake(f"Answer with a set of labels such as {{'A', 'C'}}, got {describe(answer)}.")
        labels = {str(a).strip().upper() for a in answer}
        unknown = labels - set(SETTINGS)
        if unknown:
            raise Mistake(f"Unknown label(s) {sorted(unknown)}: use the labels {sorted(SETTINGS)}.")
        reference = _vanishing_reference()
        missing, extra = sorted(reference - labels), sorted(labels - reference)
        if missing or extra:
            lines = []
            for label in missing:
                lines.append(f"{label} vanishes: {WHY[label]}")
            for label in extra:
                lines.append(f"{label} does not vanish: {WHY[label]}")
            right = len(SETTINGS) - len(missing) - len(extra)
            raise Mistake(f"{right} of {len(SETTINGS)} settings classified right. Try the ones below in the "
                          "widget:\n  " + "\n  ".join(lines), partial=1 if right >= len(SETTINGS) - 1 else 0)


_VANISHING = []


def _vanishing_reference():
    """vanishing_settings(), computed once per process (it trains small models)."""
    if not _VANISHING:
        _VANISHING.append(frozenset(vanishing_settings()))
    return set(_VANISHING[0])
