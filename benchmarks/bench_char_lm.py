"""The character-level language model against min-char-rnn, timed to the same smoothed loss.

Both contenders train a vanilla RNN on the same text (rnnlib.text.stdlib_text: docstrings of the
standard library, nothing downloaded) with min-char-rnn's settings: hidden size 100, sequence
length 25, Adagrad at learning rate 0.1, every gradient entry clipped to [-5, 5], weights drawn
from N(0, 0.01^2), the hidden state carried from one chunk of text to the next (truncated BPTT
with k1 = k2 = 25). The text is cut into B equal streams (as rnnlib.text.char_lm_batches does with
consecutive=True); each update takes the next 25 characters of every stream, and its gradient is
that of the loss averaged over the B streams.

* textbook: min-char-rnn written the textbook way, here in this file: one example at a time, one
  step at a time, column vectors and dicts of states, gradients accumulated in Python loops.
* rnnlib:   one call of rnnlib.train (batched, time-major arrays: one matrix product per step
  for the whole batch), the same optimiser, clipping and initial weights.

Two comparisons, each timing both contenders to the same smoothed loss (an exponential moving
average over updates, beta = 0.99, bias-corrected, per character):

1. the same batch of B = 32 streams (default): both compute the same updates, so they reach each
   loss after the same number of updates, and the ratio is the speed of the implementation;
2. classic min-char-rnn (the textbook loop with B = 1) against rnnlib with B = 32: different
   algorithms; with Adagrad's fixed learning rate a larger batch gives a cleaner gradient but no
   larger steps, so the time to a given loss improves far less than the throughput.

The textbook loop runs for --budget seconds; its final smoothed loss is the target and rnnlib runs
until it reaches it. Time is the process's CPU time (time.process_time) with one BLAS thread: on an
idle machine that equals wall time, and on a machine shared with other jobs it is not inflated by
waiting for a core (wall time is printed too). Runtime: about 2.2 x budget CPU seconds (default
about 55 s).

    python benchmarks/bench_char_lm.py
    python benchmarks/bench_char_lm.py --budget 20 --batch 32
"""
from __future__ import annotations

import argparse
import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")          # before NumPy loads its BLAS

import numpy as np  # noqa: E402

import rnnlib  # noqa: E402
from rnnlib.text import Vocabulary, char_lm_batches, stdlib_text  # noqa: E402

HIDDEN, SEQ_LENGTH, LR, CLIP, BETA = 100, 25, 0.1, 5.0, 0.99


def initial_params(vocab_size, seed=0):
    """min-char-rnn's initialisation, as an rnnlib params dict (float64)."""
    rng = np.random.default_rng(seed)
    return {"W": rng.standard_normal((HIDDEN, HIDDEN)) * 0.01,
            "U": rng.standard_normal((HIDDEN, vocab_size)) * 0.01,
            "V": rng.standard_normal((vocab_size, HIDDEN)) * 0.01,
            "b": np.zeros(HIDDEN), "c": np.zeros(vocab_size)}


class _Stop(Exception):
    pass


class Recorder:
    """(CPU seconds, loss per character) after each update; stops at a budget or a smoothed loss."""

    def __init__(self, budget_s, stop_below=None, max_updates=None):
        self.budget_s, self.stop_below, self.max_updates = budget_s, stop_below, max_updates
        self.times, self.losses, self.avg = [], [], 0.0
        self.start = time.process_time()

    def add(self, loss_per_char):
        self.times.append(time.process_time() - self.start)
        self.losses.append(loss_per_char)
        self.avg = BETA * self.avg + (1 - BETA) * loss_per_char
        smooth = self.avg / (1 - BETA ** len(self.losses))
        if (self.times[-1] > self.budget_s or (self.max_updates is not None and len(self.losses) >= self.max_updates)
                or (self.stop_below is not None and len(self.losses) > 100 and smooth <= self.stop_below)):
            raise _Stop

    def curve(self):
        return list(zip(self.times, smoothed(self.losses)))


def textbook_min_char_rnn(data, vocab_size, budget_s, batch_size=1, seed=0, max_updates=None):
    """min-char-rnn, the textbook way, over batch_size streams of the text, one example at a time.

    Returns [(CPU seconds, smoothed loss per character)] after each update.
    """
    init = initial_params(vocab_size, seed)
    Wxh, Whh, Why = init["U"], init["W"], init["V"]                 # min-char-rnn's names
    bh, by = init["b"][:, None].copy(), init["c"][:, None].copy()
    params = [Wxh, Whh, Why, bh, by]
    memory = [np.zeros_like(p) for p in params]                    # Adagrad's G
    stream_length = (len(data) - 1) // batch_size
    windows = stream_length // SEQ_LENGTH
    hprevs = [np.zeros((HIDDEN, 1)) for _ in range(batch_size)]    # one carried state per stream

    def loss_fun(inputs, targets, hprev, grads):
        """Forward and backward over one chunk of one example; adds into grads."""
        xs, hs, ps = {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0.0
        for t in range(len(inputs)):                               # forward, one step at a time
            xs[t] = np.zeros((vocab_size, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
            ys = Why @ hs[t] + by
            e = np.exp(ys - np.max(ys))
            ps[t] = e / np.sum(e)
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy, dbh, dby = grads
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):                     # backward, one step at a time
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = Why.T @ dy + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dhnext = Whh.T @ dhraw
        return loss, hs[len(inputs) - 1]

    recorder = Recorder(budget_s, max_updates=max_updates)
    step = 0
    try:
        while True:
            grads = [np.zeros_like(p) for p in params]
            total = 0.0
            for n in range(batch_size):                            # one example at a time
                p = n * stream_length + (step % windows) * SEQ_LENGTH
                inputs, targets = data[p:p + SEQ_LENGTH], data[p + 1:p + SEQ_LENGTH + 1]
                loss, hprevs[n] = loss_fun(inputs, targets, hprevs[n], grads)
                total += loss
            for g in grads:
                g /= batch_size                                    # J averages over the batch
                np.clip(g, -CLIP, CLIP, out=g)
            for param, g, mem in zip(params, grads, memory):      # Adagrad
                mem += g * g
                param += -LR * g / (np.sqrt(mem) + 1e-8)
            step += 1
            recorder.add(total / batch_size / SEQ_LENGTH)
    except _Stop:
        pass
    return recorder.curve()


def rnnlib_training(data, vocab_size, budget_s, batch_size, seed=0, stop_below=None, max_updates=None):
    """One call of rnnlib.train on batch_size parallel streams. Returns [(CPU s, smoothed loss/char)].

    The backward function given to train records each update's loss and stops training (by
    raising) when the budget is spent or the smoothed loss reaches stop_below.
    """
    params = initial_params(vocab_size, seed)
    batches = char_lm_batches(np.asarray(data), SEQ_LENGTH, batch_size, vocab_size, consecutive=True)
    recorder = Recorder(budget_s, stop_below, max_updates)

    def backward(params, cache, y):
        loss, grads = rnnlib.rnn_backward(params, cache, y)
        recorder.add(float(loss) / SEQ_LENGTH)                     # (one update later, same record)
        return loss, grads

    try:
        rnnlib.train(params, batches, 10**9, rnnlib.Adagrad(lr=LR), backward=backward,
                     clip_value=CLIP, carry_state=True, progress=False)
    except _Stop:
        pass
    return recorder.curve()


def smoothed(losses, beta=BETA):
    out, avg = [], 0.0
    for k, loss in enumerate(losses, start=1):
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta ** k))
    return out


def time_to(curve, target, warmup=100):
    """(CPU seconds, updates) when the smoothed loss first reaches target after warmup updates."""
    for k, (seconds, loss) in enumerate(curve):
        if k >= warmup and loss <= target:
            return seconds, k + 1
    return None, None


def compare(title, data, vocab_size, budget, textbook_batch, rnnlib_batch):
    print(f"\n{title}")
    wall = time.perf_counter()
    textbook = textbook_min_char_rnn(data, vocab_size, budget, batch_size=textbook_batch)
    wall_textbook = time.perf_counter() - wall
    target = textbook[-1][1]
    wall = time.perf_counter()
    ours = rnnlib_training(data, vocab_size, 3 * budget, rnnlib_batch, stop_below=target)
    wall_ours = time.perf_counter() - wall
    for name, curve, batch, seconds in (("textbook loop", textbook, textbook_batch, wall_textbook),
                                        ("rnnlib.train", ours, rnnlib_batch, wall_ours)):
        rate = len(curve) * SEQ_LENGTH * batch / curve[-1][0]
        print(f"  {name:13s} B={batch:2d}: {len(curve):6d} updates in {curve[-1][0]:5.1f} s CPU "
              f"({seconds:5.1f} s wall), {rate:9,.0f} characters/s, smoothed loss {curve[-1][1]:.3f}")
    (t_textbook, n_textbook), (t_ours, n_ours) = time_to(textbook, target), time_to(ours, target)
    if t_textbook is None or t_ours is None:
        print(f"  target {target:.3f} nats/char not reached by rnnlib within {3 * budget:.0f} s")
        return None
    print(f"  smoothed loss {target:.3f} nats/char reached after: textbook {t_textbook:.2f} s "
          f"({n_textbook} updates), rnnlib {t_ours:.2f} s ({n_ours} updates)")
    print(f"  ratio (textbook time / rnnlib time): {t_textbook / t_ours:.1f}x")
    return t_textbook / t_ours


def main(argv=None):
    parser = argparse.ArgumentParser(description="min-char-rnn vs rnnlib: time to the same smoothed loss")
    parser.add_argument("--budget", type=float, default=25.0,
                        help="CPU seconds for each textbook run (default 25)")
    parser.add_argument("--batch", type=int, default=32, help="batch size (parallel streams), default 32")
    args = parser.parse_args(argv)

    text = stdlib_text()
    vocab = Vocabulary(text)
    data = [int(i) for i in vocab.encode(text)]
    print(f"text: {len(text)} characters, C = {vocab.size}; hidden {HIDDEN}, seq length {SEQ_LENGTH}, "
          f"Adagrad lr {LR}, clip [-{CLIP:g}, {CLIP:g}], float64; BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}")
    same = compare(f"1. same algorithm, batch of {args.batch} streams: textbook loop vs rnnlib.train",
                   data, vocab.size, args.budget, args.batch, args.batch)
    classic = compare(f"2. classic min-char-rnn (B=1, textbook loop) vs rnnlib.train with B={args.batch}",
                      data, vocab.size, args.budget, 1, args.batch)
    print(f"\nsummary: rnnlib reaches the same smoothed loss {same:.1f}x faster than the textbook loop on the "
          f"same batches; {classic:.1f}x faster than classic min-char-rnn (B=1)"
          if same and classic else "\nsummary: a target was not reached; see above")
    return 0 if same and classic else 1


if __name__ == "__main__":
    sys.exit(main())
