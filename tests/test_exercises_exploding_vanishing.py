"""The checkers of the chapter "Exploding and vanishing gradients" accept the reference answers
and reject (with specific feedback) the usual mistakes."""
import numpy as np
import pytest

from rnnlib.activations import activation_derivative
from rnnlib.exercises import check, get_exercise
from rnnlib.exercises.exploding_vanishing import SETTINGS, vanishing_settings
from rnnlib.jacobians import hidden_jacobians
from rnnlib.optim import clip_grad_norm


def product(order="left", transpose=False, derivative=True):
    def jacobian_product(params, cache, t, k):
        W = params["W"].T if transpose else params["W"]
        fprime = activation_derivative(cache.a, cache.h[1:], cache.activation)
        B, m = cache.h.shape[1], W.shape[0]
        P = np.broadcast_to(np.eye(m), (B, m, m)).copy()
        for j in range(k + 1, t + 1):
            J = (fprime[j - 1][:, :, None] if derivative else 1) * W
            P = J @ P if order == "left" else P @ J
        return P
    return jacobian_product


def test_jacobian_product_checker():
    assert check("jacobian-product", lambda p, c, t, k: hidden_jacobians(p, c)[t, k], quiet=True).passed
    assert check("jacobian-product", product(), quiet=True).passed
    assert "wrong order" in check("jacobian-product", product(order="right"), quiet=True).feedback
    assert "transposed" in check("jacobian-product", product(transpose=True), quiet=True).feedback
    assert "derivative is missing" in check("jacobian-product", product(derivative=False), quiet=True).feedback

    def stub(*args):
        raise NotImplementedError()
    assert check("jacobian-product", stub, quiet=True).status == "not attempted"


def clip_each(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        own = np.linalg.norm(g)
        if own > max_norm:
            g *= max_norm / own
    return norm


def clip_after(grads, max_norm):
    clip_grad_norm(grads, max_norm)
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


def clip_copy(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    return {key: g * min(1, max_norm / norm) for key, g in grads.items()}


def clip_always(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        g *= max_norm / norm
    return norm


@pytest.mark.parametrize("answer, words", [
    (clip_each, "its own norm"), (clip_after, "BEFORE clipping"), (clip_copy, "in place"),
    (clip_always, "Below the threshold")])
def test_clip_grad_norm_checker_recognises_mistakes(answer, words):
    result = check("clip-grad-norm", answer, quiet=True)
    assert not result.passed and words in result.feedback


def test_clip_grad_norm_checker_accepts_the_library():
    assert check("clip-grad-norm", clip_grad_norm, quiet=True).passed


def test_predict_vanishing_checker():
    reference = vanishing_settings()
    assert reference == {"A", "B", "F"} and set(SETTINGS) == set("ABCDEF")
    assert check("predict-vanishing", set(reference), quiet=True).passed
    wrong = check("predict-vanishing", {"A", "C", "F"}, quiet=True)
    assert not wrong.passed and "B vanishes" in wrong.feedback and "C does not vanish" in wrong.feedback
    assert not check("predict-vanishing", "ABF", quiet=True).passed
    assert get_exercise("jacobian-bound").kind == "written"
