"""Every number the issue-19 sections will assert, measured with the seeds they will use.

Runs, in order (each prints its numbers and its wall time):

1. bidirectional  the lookahead task (target at t = input at t + 2): one-directional RNN against
                  the bidirectional RNN, trained with rnnlib's train
2. metrics        perplexity and bits per character of the char LM of "The RNN's equations"
                  (its setup: T=25, B=32, m=64, 300 Adam steps), against the uniform guess
3. beam           beam search on seq2seq's translator (the Sequence modeling setup) and captioner
4. reservoir      echo state network on NARMA-10 and delayed recall; time scale of leaky units
5. attention      attention against the fixed-size context, accuracy by input length
6. linear         the gated linear-recurrence layer against the LSTM on the lag task
7. widget         the eigenvalue widget's data (memory lengths, time to compute the grid)

    python benchmarks/measure_issue19.py            # everything (about 2-4 minutes on 2 cores)
    python benchmarks/measure_issue19.py attention  # one part
"""
from __future__ import annotations

import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import rnnlib  # noqa: E402
from rnnlib import Adam, data, init_lstm, init_rnn, lstm_forward, lstm_backward, rnn_forward  # noqa: E402
from rnnlib import seq2seq, train  # noqa: E402
from rnnlib import attention as A  # noqa: E402
from rnnlib import beam_search as BS  # noqa: E402
from rnnlib import bidirectional as BI  # noqa: E402
from rnnlib import linear_recurrence as LR  # noqa: E402
from rnnlib import metrics as M  # noqa: E402
from rnnlib import reservoir as R  # noqa: E402


class timed:
    def __init__(self, what):
        self.what = what

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        print(f"  [{self.what}: {self.seconds:.1f} s]")


def bidirectional():
    print("1. bidirectional RNN on the lookahead task (T=12, K=4, lag=2, lengths 6-12, m=16, "
          "300 Adam(0.02) steps, clip 1, batches seed=step, test seed 10**6, n=1000)")
    T, K, lag = 12, 4, 2

    def batch(step):
        x, y, mask, _ = BI.make_lookahead(32, T, lag, K, min_length=6, seed=step)
        return x, y, mask

    x, y, mask, future = BI.make_lookahead(1000, T, lag, K, min_length=6, seed=10 ** 6)
    end = mask & ~future
    for seed in (0, 1, 2):
        with timed(f"one-directional RNN, init seed {seed}"):
            uni = init_rnn(K, 16, K + 1, seed=seed)
            train(uni, batch, 300, Adam(lr=0.02), clip_norm=1.0, progress=False)
        y_hat = rnn_forward(uni, x, mask=mask).y_hat
        print(f"  uni  seed {seed}: future steps {M.step_accuracy(y_hat, y, future):.3f}, "
              f"'end' steps {M.step_accuracy(y_hat, y, end):.3f} (chance on future steps 0.25)")
        with timed(f"bidirectional RNN, init seed {seed}"):
            bi = BI.init_bidirectional(K, 16, K + 1, seed=seed)
            train(bi, batch, 300, Adam(lr=0.02), forward=BI.bidirectional_forward,
                  backward=BI.bidirectional_backward, clip_norm=1.0, progress=False)
        y_hat = BI.bidirectional_forward(bi, x, mask=mask).y_hat
        print(f"  bi   seed {seed}: future steps {M.step_accuracy(y_hat, y, future):.3f}, "
              f"'end' steps {M.step_accuracy(y_hat, y, end):.3f}")


def metrics():
    from rnnlib.text import Vocabulary, char_lm_batches, stdlib_text
    print("2. perplexity and bits per character, char LM of 'The RNN's equations' (stdlib_text, "
          "T=25, B=32, m=64, init seed 0, batches seed 0, 300 Adam(1e-2) steps, clip 5)")
    text = stdlib_text()
    vocab = Vocabulary(text)
    encoded = vocab.encode(text)
    C, T = vocab.size, 25
    batches = char_lm_batches(encoded, T, 32, C, seed=0)
    lm = init_rnn(C, 64, C, seed=0)
    with timed("training"):
        history = train(lm, batches, 300, Adam(lr=1e-2), clip_norm=5.0, progress=False)
    first = M.per_step_loss(history.loss[0], T=T)
    last = np.mean([M.per_step_loss(J, T=T) for J in history.loss[-20:]])
    print(f"  C = {C}: uniform guess perplexity {M.uniform_perplexity(C):.0f}, "
          f"{M.uniform_bits(C):.3f} bits/char (ln C = {np.log(C):.3f} nats)")
    print(f"  first step: {first:.3f} nats/char, perplexity {M.perplexity(first):.1f}, "
          f"{M.bits_per_character(first):.3f} bits/char")
    print(f"  mean of the last 20 steps: {last:.3f} nats/char, perplexity {M.perplexity(last):.2f}, "
          f"{M.bits_per_character(last):.3f} bits/char")


def _beam_report(name, params, s0, bos, eos, max_len, exact_of):
    greedy = seq2seq.greedy_decode(params, s0, bos, eos, max_len)
    lg = BS.sequence_logprob(params, s0, greedy, bos, eos)
    one = BS.beam_search(params, s0, bos, eos, max_len, width=1)
    assert np.array_equal(one.ids, greedy)
    print(f"  {name}: {s0.shape[0]} test inputs, greedy exact {exact_of(greedy):.3f}, "
          f"mean log p {lg.mean():.4f}; width 1 == greedy; decoder steps width 1: "
          f"{one.decoder_steps}")
    for width in (2, 3, 5, 10):
        start = time.perf_counter()
        r = BS.beam_search(params, s0, bos, eos, max_len, width=width)
        seconds = time.perf_counter() - start
        gain = r.logprob - lg
        print(f"    width {width:>2}: mean gain {gain.mean():.4f} nats, more probable "
              f"{np.mean(gain > 1e-9):.3f}, less probable {np.mean(gain < -1e-9):.3f}, exact "
              f"{exact_of(r.ids):.3f}, decoder steps {r.decoder_steps}, {1e3 * seconds:.0f} ms")
    r = BS.beam_search(params, s0, bos, eos, max_len, width=3, length_penalty=1.0)
    print(f"    width  3, length_penalty 1: mean length {r.length.mean():.2f} "
          f"(plain: {BS.beam_search(params, s0, bos, eos, max_len, width=3).length.mean():.2f}), "
          f"exact {exact_of(r.ids):.3f}")


def beam():
    print("3. beam search: the translator of 'Sequence modeling' (numbers permutation seed 0, "
          "800 train / 200 test, m=48, init seed 0, batch rng default_rng(0), Adam(0.01))")
    numbers = np.random.default_rng(0).permutation(1000)
    source, target = data.make_translation(numbers[:800])
    test_source, test_target = data.make_translation(numbers[800:])
    d, C = len(data.SOURCE_VOCAB), len(data.TARGET_VOCAB)
    bos, eos = target.index(data.BOS), target.index(data.EOS)
    x_source = data.one_hot(source.ids, d)
    x_test = data.one_hot(test_source.ids, d)

    def exact(ids):
        return np.mean([test_target.decode(ids[:, k]) == test_target.sentences[k]
                        for k in range(ids.shape[1])])

    def forward(params, inputs, h0=None, mask=None):
        return seq2seq.encoder_decoder_forward(params, inputs[0], inputs[2], inputs[1], mask)

    for steps in (100, 800):
        rng = np.random.default_rng(0)

        def batch(step, size=64):
            idx = rng.choice(800, size, replace=False)
            y = target.ids[:, idx]
            return ((x_source[:, idx], source.mask[:, idx], seq2seq.decoder_inputs(y, C, bos)),
                    y, target.mask[:, idx])

        p = seq2seq.init_encoder_decoder(d, 48, C, seed=0)
        with timed(f"translator, {steps} steps"):
            train(p, batch, steps, Adam(lr=0.01), forward=forward,
                  backward=seq2seq.encoder_decoder_backward, progress=False)
        s0 = seq2seq.encode(p, x_test, test_source.mask).h[-1]
        _beam_report(f"translator after {steps} steps", p, s0, bos, eos, 6, exact)


def reservoir():
    print("4. echo state network and leaky units")
    with timed("NARMA-10"):
        u, y = R.make_narma(4000, seed=0)
        p = R.init_reservoir(1, 200, spectral_radius=0.9, input_scale=0.2, bias_scale=0.2, seed=0)
        h = R.reservoir_states(p, u[:, None, None])[1:]
        readout = R.fit_readout(h[:3000], y[:3000, None], ridge=1e-6, washout=100)
        pred = R.esn_predict(p, readout, u[:, None, None])[:, 0, 0]
    print(f"  NARMA-10 (T=4000 seed 0; m=200, rho 0.9, input 0.2, bias 0.2, seed 0; ridge 1e-6, "
          f"washout 100, fit on 3000 steps): NRMSE train {M.nrmse(pred[100:3000], y[100:3000]):.3f}, "
          f"test (last 1000) {M.nrmse(pred[3000:], y[3000:]):.3f}")
    with timed("delayed recall"):
        delays = (1, 5, 10, 20, 40)
        u, y = R.make_delay_recall(3000, delays=delays, seed=0)
        for rho in (0.5, 0.9, 0.99):
            p = R.init_reservoir(1, 100, spectral_radius=rho, input_scale=0.1, seed=0)
            h = R.reservoir_states(p, u[:, None, None])[1:]
            readout = R.fit_readout(h[:2000], y[:2000, None, :], ridge=1e-8, washout=100)
            err = M.nrmse(R.esn_predict(p, readout, u[:, None, None])[2000:, 0], y[2000:])
            print(f"  delay recall (m=100, input 0.1, seed 0, ridge 1e-8) rho {rho}: test NRMSE "
                  + ", ".join(f"k={k}: {e:.3f}" for k, e in zip(delays, err)))
    with timed("time scales"):
        for rho in (0.0, 0.5):
            p = R.init_reservoir(1, 50, spectral_radius=rho, input_scale=1.0, seed=0)
            for alpha in (0.5, 0.2, 0.1, 0.05, 0.02):
                response = R.leaky_impulse_response(p, alpha, T=600, size=1e-6)
                start, stop = (0, int(8 / alpha)) if rho == 0 else (int(2 / alpha), int(8 / alpha))
                tau = R.fit_time_constant(response, start, min(stop, 600))
                rate = R.leaky_decay_rate(p, alpha)
                print(f"  rho(W)={rho} alpha={alpha:<5}: fitted tau {tau:7.2f}, 1/alpha "
                      f"{1 / alpha:6.1f}, -1/log(rate) {-1 / np.log(rate):7.2f}, "
                      f"1/(alpha(1-rho)) {1 / (alpha * (1 - rho)):6.1f}")


def attention():
    print("5. attention against the fixed-size context: digit translation, train lengths 1-8 "
          "(32 per batch, batch seed = step), m=32, init seed 0, 1000 Adam(0.01) steps, clip 1; "
          "test 200 per length, seed 10**6 + L, greedy, max_len L+3")
    d, C = len(data.SOURCE_VOCAB), len(data.TARGET_VOCAB)
    bos, eos = data.TARGET_VOCAB.index(data.BOS), data.TARGET_VOCAB.index(data.EOS)

    def batch(step):
        src, tgt = A.make_digit_translation(32, (1, 8), seed=step)
        return ((data.one_hot(src.ids, d), src.mask, seq2seq.decoder_inputs(tgt.ids, C, bos)),
                tgt.ids, tgt.mask)

    models = {
        "fixed": (seq2seq.init_encoder_decoder, seq2seq.encoder_decoder_backward,
                  lambda q, i, h0=None, mask=None: seq2seq.encoder_decoder_forward(q, i[0], i[2], i[1], mask),
                  lambda q, x, mask, L: seq2seq.encoder_decoder_generate(q, x, bos, eos, L + 3, mask)),
        "attention": (A.init_attention, A.attention_backward,
                      lambda q, i, h0=None, mask=None: A.attention_forward(q, i[0], i[2], i[1], mask),
                      lambda q, x, mask, L: A.attention_generate(q, x, bos, eos, L + 3, mask)[0]),
    }
    lengths = range(1, 13)
    for steps in (500, 1000):
        print(f"  {steps} steps:")
        for name, (init, backward, forward, generate) in models.items():
            p = init(d, 32, C, seed=0)
            with timed(f"{name}, {steps} steps"):
                train(p, batch, steps, Adam(lr=0.01), forward=forward, backward=backward,
                      clip_norm=1.0, progress=False)
            tokens, exact = [], []
            for L in lengths:
                src, tgt = A.make_digit_translation(200, L, seed=10 ** 6 + L)
                ids = generate(p, data.one_hot(src.ids, d), src.mask, L)
                t, e = A.decode_accuracy(ids, tgt.ids, tgt.mask)
                tokens.append(t)
                exact.append(e)
            print(f"    {name:9s} token acc by length 1-12: " + " ".join(f"{t:.2f}" for t in tokens))
            print(f"    {name:9s} exact     by length 1-12: " + " ".join(f"{e:.2f}" for e in exact))


def linear():
    print("6. gated linear recurrence (n=16 state, m=16 readout, gate_bias -3) against the LSTM "
          "(m=16, forget_bias 3): the lag task, 500 Adam(0.02) steps, clip 1, B=32, batch "
          "seed=step; test recall_batch(10**6, L, B=500)")
    K = 4
    for L in (5, 20, 40, 100):
        x, y = LR.recall_batch(10 ** 6, L, B=500)
        for seed in (0, 1, 2):
            gl = LR.init_gated_linear(K + 3, 16, 16, K + 1, seed=seed)
            with timed(f"gated L={L} seed {seed}"):
                train(gl, lambda s: LR.recall_batch(s, L), 500, Adam(lr=0.02),
                      forward=LR.gated_linear_forward, backward=LR.gated_linear_backward,
                      clip_norm=1.0, progress=False)
            acc_gl = LR.recall_accuracy(LR.gated_linear_forward(gl, x).y_hat, y)
            lstm = init_lstm(K + 3, 16, K + 1, seed=seed, forget_bias=3.0)
            with timed(f"LSTM L={L} seed {seed}"):
                train(lstm, lambda s: LR.recall_batch(s, L), 500, Adam(lr=0.02), forward=lstm_forward,
                      backward=lstm_backward, clip_norm=1.0, progress=False)
            acc_lstm = LR.recall_accuracy(lstm_forward(lstm, x).y_hat, y)
            print(f"  L={L:>3} seed {seed}: gated linear {acc_gl:.3f}, LSTM {acc_lstm:.3f} "
                  f"(params {sum(v.size for v in gl.values())} vs {sum(v.size for v in lstm.values())})")


def widget():
    print("7. eigenvalue widget data")
    for r in (0.5, 0.9, 0.95, 0.99):
        print(f"  |lambda| = {r}: memory length (threshold 0.01) {LR.memory_length(r, 0.01):.0f} "
              f"steps (log(100)/(1-r) = {np.log(100) / (1 - r):.1f})")
    with timed("memory_grid 21 moduli x 24 angles, T=300"):
        grid = LR.memory_grid(np.linspace(0, 1, 21), np.linspace(0, 2 * np.pi, 24, endpoint=False),
                              T=300)
    print(f"  grid: response {grid.response.shape}, memory range {grid.memory.min()}-"
          f"{grid.memory.max()}, beyond the window: {int(grid.beyond.sum())} points")


PARTS = {"bidirectional": bidirectional, "metrics": metrics, "beam": beam, "reservoir": reservoir,
         "attention": attention, "linear": linear, "widget": widget}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(PARTS)
    print(f"rnnlib {rnnlib.__version__}, numpy {np.__version__}, "
          f"{os.environ['OPENBLAS_NUM_THREADS']} BLAS thread(s), load {os.getloadavg()[0]:.1f}")
    for part in chosen:
        with timed(part):
            PARTS[part]()
