"""Per-update compute time of the hidden-state dynamics widget at its default sizes.

Run:  .venv/bin/python benchmarks/bench_hidden_state_widget.py

Runs the measurement twice, side by side, in fresh processes: with NumPy's BLAS at its default
number of threads and with one thread (OPENBLAS_NUM_THREADS=1 etc.). On a small, shared machine
the threaded BLAS can cost more than the whole computation. Prints the time of the data function (what every control change computes) and of a whole live
update (data + writing the traces into the FigureWidget), median and 90th percentile over many
updates that sweep the spectral radius, as in a slider drag. Goal: data function under 50 ms.
The machine may be shared: the median is the number to quote.
"""
import os
import subprocess
import sys
import time

import numpy as np


def measure(fn, repeats):
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return np.array(times) * 1e3


def main(repeats=200):
    from rnnlib.widgets import hidden_state as hs

    radii = np.linspace(0.1, 3.0, repeats)
    data_ms = measure(lambda i: hs.hidden_state_data(spectral_radius=float(radii[i])), repeats)
    live = hs.hidden_state_widget()
    slider = live.controls["spectral_radius"]
    values = np.round(np.linspace(0.1, 3.0, repeats) / 0.05) * 0.05

    def move(i):
        slider.value = float(values[i]) if slider.value != float(values[i]) else 0.1
    update_ms = measure(move, repeats)
    big = {**hs.DEFAULTS, "hidden_size": 128, "steps": 300}
    big_ms = measure(lambda i: hs.hidden_state_data(**{**big, "spectral_radius": float(radii[i])}),
                     repeats // 4)
    print(f"hidden-state widget, defaults {hs.DEFAULTS}")
    print(f"  data function      median {np.median(data_ms):7.2f} ms   p90 {np.percentile(data_ms, 90):7.2f} ms")
    print(f"  live update        median {np.median(update_ms):7.2f} ms   p90 {np.percentile(update_ms, 90):7.2f} ms"
          "   (data + FigureWidget batch_update, no front end attached)")
    print(f"  largest (m=128, T=300) data function median {np.median(big_ms):7.2f} ms")
    print(f"  goal: data function < 50 ms at the defaults -> "
          f"{'met' if np.median(data_ms) < 50 else 'NOT met'}")


THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

if __name__ == "__main__":
    if "--child" in sys.argv:
        main()
    else:
        for label, extra in (("BLAS default threads", {}),
                             ("BLAS one thread", {k: "1" for k in THREAD_VARS})):
            env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
            print(f"== {label}")
            sys.stdout.flush()
            subprocess.run([sys.executable, __file__, "--child"], env={**env, **extra},
                           check=True)
