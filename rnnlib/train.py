"""The training loop, in the lecture's six steps (chapter "The RNN's equations and parameters";
truncated BPTT and clipping are discussed in "Backpropagation through time").

    1. initialise the parameters        (init_rnn, before calling train)
    2. forward pass                      cache = forward(params, x)
    3. compute the loss                  J = sum_t J_t
    4. backpropagate                     loss, grads = backward(params, cache, y)
    5. update the parameters             (optionally clip the gradients first)
    6. repeat                            for num_steps batches

The loop shows a tqdm progress bar and returns the history of the loss and of the gradient's
global norm (measured before clipping). If the loss or the gradient becomes NaN or inf, training
stops with a FloatingPointError naming the step (and what to try); the history up to that step
is the error's ``history`` attribute.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from ._checks import (
    DEFAULT_MAX_BYTES,
    check_activation,
    check_bool,
    check_number,
    check_positive_int,
    check_targets,
)
from .gru import GATES as GRU_GATES
from .gru import PARAM_NAMES as GRU_PARAMS
from .gru import _check_gru_inputs, _gru_backward, _gru_forward, gru_backward, gru_forward
from .lstm import GATES as LSTM_GATES
from .lstm import PARAM_NAMES as LSTM_PARAMS
from .lstm import (
    _check_lstm_inputs,
    _lstm_backward,
    _lstm_forward,
    check_gated_params,
    lstm_backward,
    lstm_forward,
)
from .optim import Adam, Optimizer, _clip_grad_norm, _clip_grad_value, _global_norm
from .rnn import PARAM_NAMES as RNN_PARAMS
from .rnn import _check_rnn_inputs, _rnn_backward, _rnn_forward, check_rnn_params
from .rnn import rnn_backward, rnn_forward

__all__ = ["train", "History", "TrainingDiverged"]


@dataclass
class History:
    """Loss and gradient norm at every training step."""

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)

    def smoothed(self, beta=0.99):
        """Exponential moving average of the loss, bias-corrected (an array like ``loss``).

            avg_0 = 0,   avg_k = beta * avg_(k-1) + (1 - beta) * J_k,   reported: avg_k / (1 - beta^k)

        so the first value is J_1 itself and early values are not pulled towards 0 (Adam's bias
        correction). min-char-rnn smooths differently: it starts from the loss of a uniform guess,
        smooth_loss = -log(1/C) * T, uses beta = 0.999 and no bias correction
        (smooth_loss = 0.999 * smooth_loss + 0.001 * loss), so its curve starts at chance level
        and lags about 1000 steps; rnnlib's starts at the first loss and lags about
        1 / (1 - beta) steps (100 with the default beta = 0.99).
        """
        beta = check_number("beta", beta, low=0, high=1, high_open=True)
        out, avg = [], 0.0
        for k, value in enumerate(self.loss, start=1):
            avg = beta * avg + (1 - beta) * value
            out.append(avg / (1 - beta ** k))
        return np.array(out)


class TrainingDiverged(FloatingPointError):
    """The loss or gradient became NaN or inf; ``step`` and ``history`` say when and what came before."""

    def __init__(self, message, step):
        super().__init__(message)
        self.step = step
        self.history = None


def _stop_if_diverged(step, loss, norm):
    """Stop training when the loss or the gradient norm is NaN or inf."""
    if np.isfinite(loss) and np.isfinite(norm):
        return
    what = "the loss" if not np.isfinite(loss) else "the gradient"
    raise TrainingDiverged(
        f"training diverged at step {step} (counting from 0, after {step} updates): {what} "
        f"became non-finite (loss {float(loss)}, gradient norm {norm}); try a smaller learning "
        f"rate, gradient clipping (clip_norm=1.0 or clip_value=5.0), or smaller initial weights",
        step)


def _train(params, get_batch, steps, optimizer, forward, backward, carry,
           clip_norm=None, clip_value=None, history=None):
    """The training loop's six steps (arguments are checked by `train`).

    1. params come initialised;  2. forward;  3. loss;  4. backprop;
    5. clip the gradients and update;  6. repeat, once per step.
    """
    history = History() if history is None else history
    state = None                                         # h0 of the first batch
    for step in steps:                                   # 6. repeat
        x, y, mask = get_batch(step)                     # this step's batch
        cache = forward(params, x, state, mask)          # 2. forward pass
        loss, grads = backward(params, cache, y)         # 3. loss, 4. backprop
        norm = _global_norm(grads)                       # ||g|| before clipping
        _stop_if_diverged(step, loss, norm)
        if clip_norm is not None:
            _clip_grad_norm(grads, clip_norm)            # g * min(1, c / ||g||)
        if clip_value is not None:
            _clip_grad_value(grads, clip_value)          # clip(g, -v, v)
        optimizer._step(params, grads)                   # 5. update
        history.loss.append(float(loss))
        history.grad_norm.append(norm)
        state = carry(cache)                             # None, or the last h
    return history


# ----------------------------------------------------------------------------------------------
# The models train knows: their params are checked once per call, then plain functions run
# ----------------------------------------------------------------------------------------------
class _Model(NamedTuple):
    keys: tuple                  # the params a model uses
    check_params: Callable       # params -> dims (dtype, m, d, C)
    make_forward: Callable       # (dims, **forward_kwargs) -> forward(params, x, state, mask)
    backward: Callable           # the plain backward (params, cache, y checked)
    last_state: Callable         # cache -> the state a next batch starts from


def _batch_size(x):
    return np.shape(x)[1] if np.ndim(x) == 3 else 1


def _same_batch(state, x):
    first = state[0] if isinstance(state, tuple) else state
    return state is not None and first.shape[0] == _batch_size(x)


def _rnn_model_forward(dims, activation="tanh", max_bytes=DEFAULT_MAX_BYTES):
    check_activation(activation)

    def forward(params, x, h0, mask):
        h0 = h0 if _same_batch(h0, x) else None          # batch size changed: restart
        x, h0, mask = _check_rnn_inputs(dims, x, h0, mask, activation, max_bytes)
        return _rnn_forward(params, x, h0, mask, activation)
    return forward


def _lstm_model_forward(dims, c0=None, max_bytes=DEFAULT_MAX_BYTES):
    def forward(params, x, state, mask):
        h0, s0 = state if _same_batch(state, x) else (None, c0)
        x, h0, s0, mask = _check_lstm_inputs(dims, x, h0, s0, mask, max_bytes)
        return _lstm_forward(params, x, h0, s0, mask)
    return forward


def _gru_model_forward(dims, max_bytes=DEFAULT_MAX_BYTES):
    def forward(params, x, h0, mask):
        h0 = h0 if _same_batch(h0, x) else None
        x, h0, mask = _check_gru_inputs(dims, x, h0, mask, max_bytes)
        return _gru_forward(params, x, h0, mask)
    return forward


_MODELS = {
    (rnn_forward, rnn_backward): _Model(
        RNN_PARAMS, check_rnn_params, _rnn_model_forward, _rnn_backward,
        lambda cache: cache.h[-1].copy()),
    (lstm_forward, lstm_backward): _Model(
        LSTM_PARAMS, lambda params: check_gated_params(params, LSTM_GATES), _lstm_model_forward,
        _lstm_backward, lambda cache: (cache.h[-1].copy(), cache.s[-1].copy())),
    (gru_forward, gru_backward): _Model(
        GRU_PARAMS, lambda params: check_gated_params(params, GRU_GATES), _gru_model_forward,
        _gru_backward, lambda cache: cache.h[-1].copy()),
}


def _plain_backward(backward):
    """backward with targets checked against the cache, returning the params' gradients only."""
    def run(params, cache, y):
        T, B, C = cache.o.shape
        if np.ndim(y) == 1 and B == 1 and np.shape(y) == (T,):
            y = np.reshape(y, (T, 1))
        loss, grads = backward(params, cache, check_targets(y, T, B, C, cache.mask))
        grads.pop("h0", None)
        grads.pop("c0", None)
        return loss, grads
    return run


def _public_forward(forward, forward_kwargs):
    def run(params, x, h0, mask):
        h0 = h0 if _same_batch(h0, x) else None
        return forward(params, x, h0=h0, mask=mask, **forward_kwargs)
    return run


def _public_backward(backward):
    def run(params, cache, y):
        loss, grads = backward(params, cache, y)
        grads.pop("h0", None)
        grads.pop("c0", None)
        return loss, grads
    return run


def _batch_getter(batches, num_steps):
    """step -> (x, y, mask), from a function of the step or an iterable of batches."""
    if callable(batches):
        source = batches
    else:
        if isinstance(batches, (str, bytes, dict)) or not hasattr(batches, "__iter__"):
            raise TypeError(f"batches must be a function step -> batch or an iterable of batches, "
                            f"got {type(batches).__name__}")
        if hasattr(batches, "__len__"):
            if len(batches) == 0:
                raise ValueError("batches is empty; it must give num_steps batches")
            if len(batches) < num_steps:
                raise ValueError(f"batches has {len(batches)} batches but num_steps={num_steps}; "
                                 f"give at least num_steps batches or lower num_steps")
        iterator = iter(batches)

        def source(step):
            try:
                return next(iterator)
            except StopIteration:
                done = "before the first update" if step == 0 else f"after {step} updates"
                raise ValueError(
                    f"batches ran out at step {step} of num_steps={num_steps} ({done}); give an "
                    f"iterator with num_steps batches or a function step -> batch") from None

    def get_batch(step):
        batch = source(step)
        if not isinstance(batch, tuple) or len(batch) not in (2, 3):
            raise TypeError(f"a batch must be a tuple (x, y) or (x, y, mask), got "
                            f"{type(batch).__name__} at step {step}")
        return batch if len(batch) == 3 else (*batch, None)
    return get_batch


def _with_progress(bar, history):
    """The steps of the tqdm bar, showing the latest loss every 10 steps."""
    for step in bar:
        if step % 10 == 1 and history.loss:
            bar.set_postfix(loss=f"{history.loss[-1]:.4f}", refresh=False)
        yield step
    if history.loss:
        bar.set_postfix(loss=f"{history.loss[-1]:.4f}", refresh=True)


def train(params, batches, num_steps, optimizer=None, *, forward=rnn_forward, backward=rnn_backward,
          clip_norm=None, clip_value=None, carry_state=False, progress=True, desc="training",
          **forward_kwargs):
    """Train ``params`` in place; return a History.

    batches:   a function ``step -> batch`` or an iterable of batches; a batch is (x, y) or
               (x, y, mask) with x (T, B, d), y (T, B) int, mask (T, B) bool.
    optimizer: an rnnlib optimiser (default Adam(lr=1e-2)).
    forward, backward: the model (rnn_, lstm_ or gru_forward/backward, or any pair with the
               same signatures); for the three core models params are checked once per call.
    clip_norm / clip_value: clip the gradients by global norm / element-wise before the update.
    carry_state: start each batch from the previous batch's last hidden state (and LSTM cell
               state), for consecutive chunks of one long text; gradients do not flow across
               batches (truncated BPTT). A batch of another size starts from zeros.
    forward_kwargs: passed on to ``forward`` (e.g. activation="relu").

    Raises TrainingDiverged (a FloatingPointError) naming the step at which the loss or the
    gradient became NaN or inf; an iterable of batches that runs out raises a ValueError.
    """
    num_steps = check_positive_int("num_steps", num_steps)
    optimizer = Adam(lr=1e-2) if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an rnnlib optimiser (SGD, Adagrad, Adam), got {type(optimizer).__name__}")
    for name, fn in (("forward", forward), ("backward", backward)):
        if not callable(fn):
            raise TypeError(f"{name} must be a function such as rnn_{name}, got {type(fn).__name__}")
    clip_norm = None if clip_norm is None else check_number("clip_norm", clip_norm, low=0, low_open=True)
    clip_value = None if clip_value is None else check_number("clip_value", clip_value, low=0, low_open=True)
    carry_state = check_bool("carry_state", carry_state)
    progress = check_bool("progress", progress)
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {type(desc).__name__}")
    get_batch = _batch_getter(batches, num_steps)

    model = _MODELS.get((forward, backward))
    if model is not None:                                # params checked once, here
        dims = model.check_params(params)
        extra = sorted(set(params) - set(model.keys))
        if extra:
            raise KeyError(f"params has keys {extra} that {forward.__name__} does not use; "
                           f"the optimiser would get no gradient for them")
        step_forward = model.make_forward(dims, **forward_kwargs)
        step_backward = _plain_backward(model.backward)
        last_state = model.last_state
    else:                                                # any other model: its own checks
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of NumPy arrays, got {type(params).__name__}")
        step_forward = _public_forward(forward, forward_kwargs)
        step_backward = _public_backward(backward)
        last_state = lambda cache: cache.h[-1].copy()  # noqa: E731
    optimizer.check_state(params)
    carry = last_state if carry_state else (lambda cache: None)
    from tqdm.auto import tqdm  # imported here so `import rnnlib` stays light

    history = History()
    bar = tqdm(range(num_steps), desc=desc, disable=not progress, mininterval=0.5)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            _train(params, get_batch, _with_progress(bar, history), optimizer, step_forward,
                   step_backward, carry, clip_norm, clip_value, history)
    except TrainingDiverged as error:
        error.history = history
        raise
    finally:
        bar.close()
    bad = [k for k, v in params.items() if isinstance(v, np.ndarray) and not np.isfinite(v).all()]
    if bad:
        error = TrainingDiverged(
            f"training diverged at the last step {num_steps - 1}: the update made params {bad} "
            f"non-finite; try a smaller learning rate or gradient clipping", num_steps - 1)
        error.history = history
        raise error
    return history

