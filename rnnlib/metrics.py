"""The numbers reported beside a loss: perplexity, bits per character, accuracy, NRMSE.

Taught in "The RNN's equations and parameters" and "Backpropagation through time" (perplexity
and bits per character of the character language models, beside their loss); ``nrmse`` is the
error measure of the section "Echo state networks and leaky units", ``step_accuracy`` that of
the bidirectional RNN's task. (The module is named for what it holds: evaluation metrics, none
of which is a loss that is trained on.)

**The loss convention.** rnnlib's J is the sum over time of the batch mean,
J = (1/B) sum_b sum_{real t} -log y_hat^(t)[y^(t)], so it grows with the sequence length. A
language model is compared by its mean loss per predicted token, in nats:

    L = (1/N) sum_b sum_{real t} -log y_hat^(t)[y^(t)] = J * B / N,

with N the number of real steps (N = T * B without a mask, so L = J / T; with a mask,
N = mask.sum()). :func:`per_step_loss` does this conversion. Then

    perplexity = exp(L)                  (the "effective number of choices" per step)
    bits per character = L / log(2)      (the same loss in bits instead of nats)

**What a uniform guess scores** (a documented fact, :func:`uniform_perplexity`,
:func:`uniform_bits`): predicting y_hat = 1/C for every one of C classes costs -log(1/C) = log C
nats per step, so its perplexity is exactly C and its bits per character log2 C (e.g. 4.70 bits
for 26 letters, 8 bits for 256 byte values). An untrained rnnlib model starts near this value; a
model below it has learned something. A perfect model scores perplexity 1 and 0 bits.

Every public function checks its arguments once and calls the plain function of the same name
with a leading underscore.
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import as_float_array, check_mask, check_number, check_positive_int

__all__ = ["per_step_loss", "perplexity", "bits_per_character", "uniform_perplexity",
           "uniform_bits", "step_accuracy", "nrmse"]


def _per_step_loss(loss, B, N):
    """The mean loss per real step, L = J B / N (J: rnnlib's sum over time of
    the batch mean). Arguments are checked by `per_step_loss`."""
    return loss * B / N


def per_step_loss(loss, *, T=None, mask=None):
    """Convert rnnlib's J = (1/B) sum_b sum_{real t} J_t^(b) into the mean loss per real step.

    Give either ``mask`` (T, B) bool (N = mask.sum() real steps; B from its shape) or ``T``
    (every step real: the result is J / T, whatever B is). loss: a finite number >= 0
    (nats). Returns L = J * B / N.
    """
    loss = check_number("loss", loss, low=0)
    if mask is not None:
        if T is not None:
            raise ValueError("give either mask (T, B) or T, not both (the mask gives T and B)")
        if np.ndim(mask) != 2:
            raise ValueError(f"mask must have shape (T, B), got {np.shape(mask)}")
        mask = check_mask(mask, *np.shape(mask))
        N = int(mask.sum())
        if N == 0:
            raise ValueError("mask has no real step (N = 0): there is no per-step loss")
        return _per_step_loss(loss, mask.shape[1], N)
    if T is None:
        raise ValueError("give T (the number of steps, all real) or mask (T, B)")
    T = check_positive_int("T", T)
    return _per_step_loss(loss, 1, T)


def _perplexity(mean_loss):
    """exp(L): the perplexity of a mean loss L in nats per step; checked by
    `perplexity`."""
    return math.exp(mean_loss)


def perplexity(mean_loss):
    """exp(L) for a mean loss L >= 0 in nats per step (see :func:`per_step_loss`; not rnnlib's
    J, which sums over time). A uniform guess over C classes scores exactly C."""
    mean_loss = check_number("mean_loss", mean_loss, low=0)
    if mean_loss > 709:
        raise ValueError(f"mean_loss={mean_loss} nats per step gives a perplexity beyond float64 "
                         f"(exp(709) ~ 8e307); is it J (a sum over time) instead of the mean "
                         f"per step? See per_step_loss")
    return _perplexity(mean_loss)


def _bits_per_character(mean_loss):
    """L / log 2: nats per step in bits; checked by `bits_per_character`."""
    return mean_loss / math.log(2)


def bits_per_character(mean_loss):
    """L / log(2): a mean loss L >= 0 in nats per step (character) in bits. A uniform guess
    over C characters scores log2 C bits."""
    return _bits_per_character(check_number("mean_loss", mean_loss, low=0))


def _uniform_perplexity(C):
    """A uniform guess's perplexity, exp(log C) = C; checked by
    `uniform_perplexity`."""
    return float(C)


def uniform_perplexity(C):
    """The perplexity of the uniform guess y_hat = 1/C: exactly C (its loss is log C nats per
    step)."""
    return _uniform_perplexity(check_positive_int("C", C))


def _uniform_bits(C):
    """A uniform guess's bits per character, log2 C; checked by
    `uniform_bits`."""
    return math.log2(C)


def uniform_bits(C):
    """The bits per character of the uniform guess y_hat = 1/C: log2 C (log C nats per step)."""
    return _uniform_bits(check_positive_int("C", C))


def _step_accuracy(y_hat, y, mask):
    """The fraction of real steps where argmax y_hat^(t) = y^(t); checked by
    `step_accuracy`."""
    right = y_hat.argmax(axis=-1) == y                   # (T, B)
    return float(right.mean() if mask is None else right[mask].mean())


def step_accuracy(y_hat, y, mask=None):
    """The fraction of (real) steps where the most probable class is the target.

    y_hat: (T, B, C) probabilities or logits; y: (T, B) int in [0, C) at real steps;
    mask: (T, B) bool, True at the steps that count (padding, or a subset such as the steps
    whose answer lies in the future)."""
    y_hat = as_float_array("y_hat", y_hat, ndim=3)
    T, B, C = y_hat.shape
    if 0 in y_hat.shape:
        raise ValueError(f"y_hat is empty (shape {y_hat.shape}); T, B and C must be >= 1")
    if isinstance(y, (str, bytes, dict)) or y is None:
        raise TypeError(f"y must be an integer array of shape ({T}, {B}), got "
                        f"{type(y).__name__}")
    y = np.asarray(y)
    if y.dtype == bool or not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class indices, got dtype {y.dtype}")
    if y.shape != (T, B):
        raise ValueError(f"y must have shape (T, B) = ({T}, {B}) from y_hat, got {y.shape}")
    mask = check_mask(mask, T, B)
    real = y if mask is None else y[mask]
    if real.size == 0:
        raise ValueError("mask selects no step; there is nothing to score")
    if real.min() < 0 or real.max() >= C:
        raise ValueError(f"y must hold class indices in [0, C) = [0, {C}), got values from "
                         f"{real.min()} to {real.max()}")
    return _step_accuracy(y_hat, y, mask)


def _nrmse(prediction, target):
    """sqrt(mean (prediction - target)^2 / var(target)) per output (last axis);
    checked by `nrmse`."""
    k = target.shape[-1]
    error = (prediction - target).reshape(-1, k)         # (N, k)
    spread = target.reshape(-1, k).var(axis=0)           # (k,)
    return np.sqrt(np.mean(error ** 2, axis=0) / spread)  # (k,)


def nrmse(prediction, target):
    """Normalised root-mean-square error, sqrt(mean((prediction - target)^2) / var(target)),
    per output (the last axis; a 1-D target is one output): 0 is perfect, 1 is no better than
    predicting the target's mean. Returns a float for one output, else an array (k,)."""
    prediction = as_float_array("prediction", prediction)
    target = as_float_array("target", target)
    if prediction.shape != target.shape:
        raise ValueError(f"prediction must have the shape of target {target.shape}, got "
                         f"{prediction.shape}")
    if target.ndim == 0 or target.size < 2:
        raise ValueError(f"target needs at least two values (its variance), got shape "
                         f"{target.shape}")
    one = target.ndim == 1
    target = target[:, None] if one else target
    prediction = prediction[:, None] if one else prediction
    spread = target.reshape(-1, target.shape[-1]).var(axis=0)
    if (spread == 0).any():
        raise ValueError("target is constant (variance 0) for some output: NRMSE is undefined")
    result = _nrmse(prediction, target)
    return float(result[0]) if one else result
