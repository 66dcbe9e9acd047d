"""The gated-cell benchmark still runs, and its per-gate LSTM is a correct independent reference
(a smoke test at a tiny size: no timing is asserted)."""
import importlib.util
import pathlib

import numpy as np

import rnnlib

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gated.py"


def load():
    spec = importlib.util.spec_from_file_location("bench_gated", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_benchmark_runs_and_prints_ratios(capsys):
    rows = load().main(["--quick", "--repeats", "2"])
    assert {("RNN", "float64"), ("LSTM", "float64"), ("GRU", "float32"), ("per-gate LSTM", "float64")} <= set(rows)
    out = capsys.readouterr().out
    assert "LSTM / RNN" in out and "GRU / RNN" in out


def test_per_gate_lstm_matches_finite_differences():
    bench = load()
    params = rnnlib.init_lstm(3, 4, 5, seed=1)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((5, 2, 3)), rng.integers(0, 5, (5, 2))
    _, grads = bench.per_gate_lstm_forward_backward(params, x, y)
    f = lambda p: bench.per_gate_lstm_forward_backward(p, x, y)[0]  # noqa: E731
    errors = rnnlib.gradcheck(f, {k: v.copy() for k, v in params.items()}, grads, eps=1e-5)
    assert max(errors.values()) < 1e-7, errors
