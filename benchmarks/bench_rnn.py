"""Forward + BPTT speed of rnnlib's vanilla RNN, measured side by side in one run.

Compares, on the same inputs and the same loss J = (1/B) sum_{b,t} -log y_hat[t, b, y]:

* rnnlib.rnn_forward + rnnlib.rnn_backward (batched, time-major; float32 and float64);
* a straightforward loop written the textbook way: one example at a time, one step at a time,
  column vectors, weight gradients accumulated inside the time loop;
* torch.nn.RNN + nn.Linear + cross entropy with autograd (float32 and float64), when torch
  is importable (it is not a dependency of the book).

Prints the median time of each and the ratios. Usage:

    python benchmarks/bench_rnn.py            # the issue's size: T=100, B=32, d=64, m=128, C=64
    python benchmarks/bench_rnn.py --quick    # a tiny size, for a smoke test
    python benchmarks/bench_rnn.py --threads 2

Both NumPy's BLAS and torch run with the same number of threads (default 1: on a shared
two-core machine, multi-threaded BLAS on these small matrices mostly measures contention).
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


def textbook_forward_backward(params, x, y):
    """Per-example, per-step forward and BPTT with column vectors (the way a textbook writes it)."""
    W, U, V, b, c = (params[k] for k in ("W", "U", "V", "b", "c"))
    T, B, d = x.shape
    m, C = W.shape[0], V.shape[0]
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    loss = 0.0
    for n in range(B):
        hs = [np.zeros((m, 1), dtype=W.dtype)]
        ps = []
        for t in range(T):
            h = np.tanh(b[:, None] + W @ hs[-1] + U @ x[t, n][:, None])
            o = c[:, None] + V @ h
            e = np.exp(o - o.max())
            p = e / e.sum()
            loss += -np.log(p[y[t, n], 0]) / B
            hs.append(h)
            ps.append(p)
        dh_next = np.zeros((m, 1), dtype=W.dtype)
        for t in reversed(range(T)):
            do = ps[t].copy()
            do[y[t, n]] -= 1
            do /= B
            grads["V"] += do @ hs[t + 1].T
            grads["c"] += do[:, 0]
            dh = V.T @ do + dh_next
            da = (1 - hs[t + 1] ** 2) * dh
            grads["b"] += da[:, 0]
            grads["W"] += da @ hs[t].T
            grads["U"] += da @ x[t, n][None, :]
            dh_next = W.T @ da
    return loss, grads


def rnnlib_forward_backward(params, x, y):
    return rnnlib.rnn_backward(params, rnnlib.rnn_forward(params, x), y)


def interleaved_medians(runs, repeats):
    """Median seconds of each function, timed in rounds (one call of each per round).

    Interleaving makes a slow-down of the machine hit every contender alike, so the ratios
    stay meaningful on a busy machine. ``runs`` maps a name to (function, calls per round
    divisor): a divisor k times that function only every k-th round (for the slow loop).
    """
    for fn, _ in runs.values():
        fn()                                    # warm-up
    times = {name: [] for name in runs}
    for round_ in range(repeats):
        for name, (fn, every) in runs.items():
            if round_ % every == 0:
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def torch_runner(params, x, y, dtype):
    """torch.nn.RNN + Linear + cross entropy (sum over time, mean over batch), or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(int(THREADS))
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    T, B, d = x.shape
    m, C = params["W"].shape[0], params["V"].shape[0]
    rnn = torch.nn.RNN(d, m, nonlinearity="tanh", bias=True).to(tdtype)
    head = torch.nn.Linear(m, C).to(tdtype)
    with torch.no_grad():                       # the same parameters as rnnlib
        rnn.weight_hh_l0.copy_(torch.from_numpy(params["W"]))
        rnn.weight_ih_l0.copy_(torch.from_numpy(params["U"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params["b"]))
        rnn.bias_hh_l0.zero_()
        head.weight.copy_(torch.from_numpy(params["V"]))
        head.bias.copy_(torch.from_numpy(params["c"]))
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y.astype(np.int64)).reshape(-1)

    def run():
        rnn.zero_grad(set_to_none=True)
        head.zero_grad(set_to_none=True)
        out, _ = rnn(xt)                        # (T, B, m)
        logits = head(out).reshape(T * B, C)
        loss = torch.nn.functional.cross_entropy(logits, yt, reduction="sum") / B
        loss.backward()
        return float(loss.detach()), rnn.weight_hh_l0.grad.numpy()

    return run, torch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", default="1", help="BLAS and torch threads (default 1)")
    args = parser.parse_args(argv)
    T, B, d, m, C = (10, 4, 8, 16, 8) if args.quick else (100, 32, 64, 128, 64)
    repeats = args.repeats or (3 if args.quick else 25)
    print(f"Forward + BPTT at T={T}, B={B}, d={d}, m={m}, C={C}; median of {repeats} runs")
    rng = np.random.default_rng(0)
    y = rng.integers(0, C, size=(T, B))
    x64 = rng.standard_normal((T, B, d))
    rows = {}
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        params = rnnlib.init_rnn(d, m, C, seed=0, dtype=dtype)
        x = x64.astype(dtype)
        loss_lib, grads_lib = rnnlib_forward_backward(params, x, y)
        loss_book, grads_book = textbook_forward_backward(params, x, y)
        tol = 1e-9 if dtype == np.float64 else 1e-3
        assert rnnlib.rel_error(grads_lib["W"], grads_book["W"]) < tol, "textbook loop disagrees with rnnlib"
        runs = {
            ("rnnlib", name): (lambda: rnnlib_forward_backward(params, x, y), 1),
            ("textbook loop", name): (lambda: textbook_forward_backward(params, x, y), 5),
        }
        runner = torch_runner(params, x, y, dtype)
        if runner is not None:
            run, torch = runner
            loss_torch, dW_torch = run()
            assert abs(loss_torch - float(loss_lib)) < tol * max(1.0, abs(loss_torch)) * 10, "torch loss disagrees"
            assert rnnlib.rel_error(grads_lib["W"], dW_torch) < tol * 10, "torch gradient disagrees"
            runs[("torch", name)] = (run, 1)
        rows.update(interleaved_medians(runs, repeats))
    torch_note = ""
    try:
        import torch
        torch_note = f" (torch {torch.__version__}, {torch.get_num_threads()} threads)"
    except ImportError:
        torch_note = " (torch not installed: its rows are skipped)"
    print(f"numpy {np.__version__} ({THREADS} BLAS threads){torch_note}")
    print(f"{'implementation':<16}{'dtype':<10}{'ms':>10}")
    for (impl, name), seconds in rows.items():
        print(f"{impl:<16}{name:<10}{seconds * 1e3:>10.2f}")
    print("ratios (how many times faster rnnlib is; > 1 means rnnlib wins):")
    for name in ("float64", "float32"):
        lib = rows[("rnnlib", name)]
        print(f"  {name}: vs textbook loop {rows[('textbook loop', name)] / lib:7.1f}x", end="")
        if ("torch", name) in rows:
            print(f"   vs torch {rows[('torch', name)] / lib:5.2f}x", end="")
        print()
    return rows


if __name__ == "__main__":
    main()
