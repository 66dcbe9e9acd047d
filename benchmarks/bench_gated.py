"""Forward + BPTT speed of rnnlib's LSTM and GRU against its vanilla RNN, side by side in one run.

On the same inputs and the same loss, times (the best of several repeats, the variants run in
turn so that a busy machine slows them alike):

* rnn_forward + rnn_backward, lstm_forward + lstm_backward, gru_forward + gru_backward
  (float64 and float32);
* a per-gate LSTM written the straightforward way (four separate products per step, new arrays
  for every gate, sigmoid as 1 / (1 + exp(-a))), to measure what stacking the gates and updating
  in place buy.

An LSTM has four blocks of (W, U, b) and a GRU three, so their matrix products cost about 4x and
3x the RNN's; the printed ratios show how close the implementations come to that. Usage:

    python benchmarks/bench_gated.py            # T=100, B=32, d=64, m=128, C=64
    python benchmarks/bench_gated.py --quick    # a tiny size, for a smoke test
    python benchmarks/bench_gated.py --size 26 32 9 32 5   # the chapter's memory task
    python benchmarks/bench_gated.py --threads 2

BLAS runs with one thread by default (on a shared two-core machine, multi-threaded BLAS on these
small matrices mostly measures contention).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

THREADS = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS                  # before NumPy loads its BLAS

import numpy as np  # noqa: E402

import rnnlib  # noqa: E402


def per_gate_lstm_forward_backward(params, x, y):
    """The LSTM written gate by gate, allocating as it goes (a reference, and the slow baseline)."""
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    T, B, _ = x.shape
    m = params["W_i"].shape[0]
    V, c = params["V"], params["c"]
    h, s = [np.zeros((B, m))], [np.zeros((B, m))]
    gates = []
    for t in range(T):
        pre = {k: params[f"b_{k}"] + h[-1] @ params[f"W_{k}"].T + x[t] @ params[f"U_{k}"].T for k in "ifog"}
        i, f, q, g = sig(pre["i"]), sig(pre["f"]), sig(pre["o"]), np.tanh(pre["g"])
        s.append(f * s[-1] + i * g)
        h.append(q * np.tanh(s[-1]))
        gates.append((i, f, q, g))
    H = np.stack(h[1:])                                                   # (T, B, m)
    o = H @ V.T + c
    p = np.exp(o - o.max(axis=2, keepdims=True))
    p /= p.sum(axis=2, keepdims=True)
    loss = -np.log(np.take_along_axis(p, y[:, :, None], axis=2)).sum() / B
    do = p.copy()
    np.put_along_axis(do, y[:, :, None], np.take_along_axis(do, y[:, :, None], axis=2) - 1, axis=2)
    do /= B
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    grads["V"] = np.einsum("tbc,tbm->cm", do, H)
    grads["c"] = do.sum(axis=(0, 1))
    dh_next, ds_next = np.zeros((B, m)), np.zeros((B, m))
    for t in reversed(range(T)):
        i, f, q, g = gates[t]
        dh = do[t] @ V + dh_next
        tanh_s = np.tanh(s[t + 1])
        ds = ds_next + dh * q * (1 - tanh_s ** 2)
        dpre = {"i": ds * g * i * (1 - i), "f": ds * s[t] * f * (1 - f), "o": dh * tanh_s * q * (1 - q),
                "g": ds * i * (1 - g ** 2)}
        dh_next = sum(dpre[k] @ params[f"W_{k}"] for k in "ifog")
        ds_next = ds * f
        for k in "ifog":
            grads[f"W_{k}"] += dpre[k].T @ h[t]
            grads[f"U_{k}"] += dpre[k].T @ x[t]
            grads[f"b_{k}"] += dpre[k].sum(axis=0)
    return loss, grads


def best_times(functions, repeats):
    """{name: fastest of ``repeats`` runs}; the functions run in turn, so load hits all alike."""
    for fn in functions.values():
        fn()                                                              # warm up
    best = {name: float("inf") for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", default="1", help="BLAS threads (set before NumPy loads)")
    parser.add_argument("--size", type=int, nargs=5, metavar=("T", "B", "d", "m", "C"),
                        help="sizes (default 100 32 64 128 64; the chapter's memory task is 26 32 9 32 5)")
    args = parser.parse_args(argv)
    T, B, d, m, C = (8, 4, 5, 6, 3) if args.quick else tuple(args.size or (100, 32, 64, 128, 64))
    print(f"T={T}, B={B}, d={d}, m={m}, C={C}; BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}; "
          f"best of {args.repeats}, run in turn")
    rng = np.random.default_rng(0)
    x64 = rng.standard_normal((T, B, d))
    y = rng.integers(0, C, (T, B))
    models = {
        "RNN": (rnnlib.init_rnn, rnnlib.rnn_forward, rnnlib.rnn_backward),
        "LSTM": (rnnlib.init_lstm, rnnlib.lstm_forward, rnnlib.lstm_backward),
        "GRU": (rnnlib.init_gru, rnnlib.gru_forward, rnnlib.gru_backward),
    }
    functions = {}
    for dtype in (np.float64, np.float32):
        x = x64.astype(dtype)
        for name, (init, forward, backward) in models.items():
            params = init(d, m, C, seed=0, dtype=dtype)
            functions[(name, np.dtype(dtype).name)] = (
                lambda p=params, x=x, f=forward, b=backward: b(p, f(p, x), y))
    lstm_params = rnnlib.init_lstm(d, m, C, seed=0)
    loss_ref, grads_ref = per_gate_lstm_forward_backward(lstm_params, x64, y)
    loss, grads = rnnlib.lstm_backward(lstm_params, rnnlib.lstm_forward(lstm_params, x64), y)
    assert abs(loss - loss_ref) < 1e-9 * abs(loss_ref)
    assert all(np.allclose(grads[k], grads_ref[k], rtol=1e-8, atol=1e-12) for k in grads_ref)
    functions[("per-gate LSTM", "float64")] = lambda: per_gate_lstm_forward_backward(lstm_params, x64, y)
    rows = best_times(functions, args.repeats)
    for (name, dtype), seconds in rows.items():
        print(f"{name:14s} {dtype:8s} forward+backward {seconds * 1e3:9.2f} ms")
    for dtype in ("float64", "float32"):
        rnn = rows[("RNN", dtype)]
        print(f"{dtype}: LSTM / RNN {rows[('LSTM', dtype)] / rnn:.2f} (4 blocks), "
              f"GRU / RNN {rows[('GRU', dtype)] / rnn:.2f} (3 blocks)")
    print(f"per-gate LSTM / rnnlib LSTM (float64): "
          f"{rows[('per-gate LSTM', 'float64')] / rows[('LSTM', 'float64')]:.2f}")
    return rows


if __name__ == "__main__":
    main()
