"""The parallel scan against the sequential loop for h^(t) = lambda * h^(t-1) + u^(t).

Measures, side by side in one run and on the same inputs, rnnlib.linear_recurrence's plain
``_linear_recurrence_scan`` (ceil(log2 T) vectorised NumPy levels) and ``_linear_recurrence_loop``
(T Python-level steps), at T = 1024 and T = 65,536 (or the lengths given), real and complex lambda
with |lambda| < 1, and prints the median times, the loop/scan speed ratio and the largest absolute
difference between the two results (and its size relative to max |h|).

    python benchmarks/bench_scan.py                   # T = 1024 and 65536, n = 64 channels, B = 1
    python benchmarks/bench_scan.py --quick           # a smoke test (small T, one repeat)
    python benchmarks/bench_scan.py --T 1024 4096 --n 16 --batch 4 --repeats 7

BLAS is not involved (element-wise work only); NumPy runs on one thread. On a machine shared with
other jobs the times vary; the ratio of two measurements taken side by side is steadier.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from rnnlib.linear_recurrence import (  # noqa: E402
    _linear_recurrence_loop,
    _linear_recurrence_scan,
    _linear_recurrence_tree_scan,
    scan_depth,
)


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(T, n, batch, complex_, repeats, seed=0):
    rng = np.random.default_rng(seed)
    r = rng.uniform(0.5, 0.999, n)
    lam = r * np.exp(1j * rng.uniform(0, 2 * np.pi, n)) if complex_ else r
    u = rng.standard_normal((T, batch, n))
    if complex_:
        u = u + 1j * rng.standard_normal((T, batch, n))
    h0 = np.zeros((batch, n), dtype=u.dtype)
    loop = _linear_recurrence_loop(lam, u, h0)
    scale = float(np.max(np.abs(loop)))
    out = {"loop": (median_time(lambda: _linear_recurrence_loop(lam, u, h0), repeats), 0.0)}
    for name, scan in (("hillis-steele", _linear_recurrence_scan),
                       ("blelloch", _linear_recurrence_tree_scan)):
        error = float(np.max(np.abs(loop - scan(lam, u, h0))))
        out[name] = (median_time(lambda: scan(lam, u, h0), repeats), error)
    return out, scale


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, nargs="+", default=[1024, 65536])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 64],
                        help="channels (the size of lambda); each is measured")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    lengths, repeats = ([64, 1000], 1) if args.quick else (args.T, args.repeats)
    print(f"h^(t) = lambda * h^(t-1) + u^(t): u of shape (T, B={args.batch}, n), float64 / "
          f"complex128, |lambda| in [0.5, 0.999], median of {repeats} runs")
    print(f"{'T':>6} {'n':>3} {'lambda':>7} {'scan':>13} {'levels':>6} {'loop ms':>9} "
          f"{'scan ms':>9} {'loop/scan':>9} {'max |err|':>9} {'rel err':>8}")
    for T in lengths:
        for n in args.n:
            for complex_ in (False, True):
                out, scale = measure(T, n, args.batch, complex_, repeats)
                t_loop = out["loop"][0]
                for name in ("hillis-steele", "blelloch"):
                    t_scan, error = out[name]
                    print(f"{T:>6} {n:>3} {'complex' if complex_ else 'real':>7} {name:>13} "
                          f"{scan_depth(T, name):>6} {1e3 * t_loop:>9.2f} {1e3 * t_scan:>9.2f} "
                          f"{t_loop / t_scan:>9.1f} {error:>9.1e} {error / scale:>8.1e}")


if __name__ == "__main__":
    main()
