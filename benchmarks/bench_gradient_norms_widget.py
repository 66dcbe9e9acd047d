"""Compute time of one update of the gradient-norm widget (goal: under 50 ms at the defaults).

Times ``gradient_norm_data`` (all the computation a control change triggers) at the default
sizes for each model, and the live view's whole update (data + writing the traces into the
FigureWidget), median of several runs. Usage:

    python benchmarks/bench_gradient_norms_widget.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")            # small matrices: threads only add contention

from rnnlib.widgets import gradient_norms as gn  # noqa: E402


def median_ms(fn, repeats):
    """Median wall-clock and CPU (process) time in ms; CPU time is less sensitive to other load."""
    fn()                                        # warm up
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return 1000 * statistics.median(wall), 1000 * statistics.median(cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"gradient_norm_data at the defaults {gn.DEFAULTS} (m={gn.HIDDEN_SIZE}, B={gn.BATCH}, "
          f"{gn.TRAIN_STEPS} SGD steps per training run), median of {args.repeats}:")
    default = None
    for settings in (dict(), dict(clip=0.0), dict(skip=5), dict(cell="IRNN"), dict(cell="GRU"), dict(cell="LSTM")):
        ms, cpu = median_ms(lambda: gn.gradient_norm_data(**{**gn.DEFAULTS, **settings}), args.repeats)
        default = ms if not settings else default
        label = ", ".join(f"{k}={v}" for k, v in settings.items()) or "defaults (RNN)"
        print(f"  {label:<24s} wall {ms:7.1f} ms  cpu {cpu:7.1f} ms   wall / 50 ms goal = {ms / 50:.2f}")
    live = gn.gradient_norm_widget()
    values = iter([1.5, 1.0] * (args.repeats + 2))

    def move_slider():
        live.controls["spectral_radius"].value = next(values)

    ms, cpu = median_ms(move_slider, args.repeats)
    print(f"  live update (data + traces written in place): wall {ms:.1f} ms, cpu {cpu:.1f} ms "
          f"(data alone {default:.1f} ms wall)")


if __name__ == "__main__":
    main()
