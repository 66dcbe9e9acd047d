"""The training loop, in the lecture's six steps (chapter "The RNN's equations and parameters";
truncated BPTT and clipping are discussed in "Backpropagation through time").

    1. initialise the parameters        (init_rnn, before calling train)
    2. forward pass                      cache = forward(params, x)
    3. compute the loss                  J = sum_t J_t
    4. backpropagate                     loss, grads = backward(params, cache, y)
    5. update the parameters             (optionally clip the gradients first)
    6. repeat                            for num_steps batches

The loop shows a tqdm progress bar and returns the history of the loss and of the gradient's
global norm (measured before clipping).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import check_positive_int
from .optim import Adam, Optimizer, clip_grad_norm, clip_grad_value, global_norm
from .rnn import rnn_backward, rnn_forward


@dataclass
class History:
    """Loss and gradient norm at every training step."""

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)

    def smoothed(self, beta=0.99):
        """Exponential moving average of the loss (bias-corrected), as min-char-rnn prints it."""
        out, avg = [], 0.0
        for k, value in enumerate(self.loss, start=1):
            avg = beta * avg + (1 - beta) * value
            out.append(avg / (1 - beta ** k))
        return np.array(out)


def train(params, batches, num_steps, optimizer=None, *, forward=rnn_forward, backward=rnn_backward,
          clip_norm=None, clip_value=None, carry_state=False, progress=True, desc="training",
          **forward_kwargs):
    """Train ``params`` in place; return a History.

    batches:   a function ``step -> batch`` or an iterator of batches; a batch is (x, y) or
               (x, y, mask) with x (T, B, d), y (T, B) int, mask (T, B) bool.
    optimizer: an rnnlib optimiser (default Adam(lr=1e-2)).
    clip_norm / clip_value: clip the gradients by global norm / element-wise before the update.
    carry_state: start each batch from the previous batch's last hidden state (for consecutive
               chunks of one long text); gradients do not flow across batches (truncated BPTT).
    forward_kwargs: passed on to ``forward`` (e.g. activation="relu").
    """
    num_steps = check_positive_int("num_steps", num_steps)
    optimizer = Adam(lr=1e-2) if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an rnnlib optimiser (SGD, Adagrad, Adam), got {type(optimizer).__name__}")
    if callable(batches):
        get_batch = batches
    else:
        iterator = iter(batches)
        get_batch = lambda step: next(iterator)  # noqa: E731
    from tqdm.auto import tqdm  # imported here so `import rnnlib` stays light

    history, h0 = History(), None
    bar = tqdm(range(num_steps), desc=desc, disable=not progress, mininterval=0.5)
    for step in bar:                                                       # 6. repeat
        batch = get_batch(step)
        if not isinstance(batch, tuple) or len(batch) not in (2, 3):
            raise TypeError(f"a batch must be a tuple (x, y) or (x, y, mask), got {type(batch).__name__}")
        x, y, mask = batch if len(batch) == 3 else (*batch, None)
        if carry_state and h0 is not None and h0.shape[0] != np.shape(x)[1]:
            h0 = None                                                      # batch size changed: restart
        cache = forward(params, x, h0=h0, mask=mask, **forward_kwargs)     # 2. forward pass
        loss, grads = backward(params, cache, y)                           # 3. loss, 4. backprop
        grads.pop("h0", None)
        grads.pop("c0", None)
        history.grad_norm.append(global_norm(grads))
        if clip_norm is not None:
            clip_grad_norm(grads, clip_norm)
        if clip_value is not None:
            clip_grad_value(grads, clip_value)
        optimizer.step(params, grads)                                      # 5. update
        history.loss.append(float(loss))
        if carry_state:
            h0 = cache.h[-1].copy()                                        # (B, m) carried, not differentiated
        if step % 10 == 0 or step == num_steps - 1:
            bar.set_postfix(loss=f"{float(loss):.4f}", refresh=False)
    return history
