"""The speed benchmark still runs and agrees with rnnlib (a smoke test at a tiny size: no timing is asserted)."""
import importlib.util
import pathlib

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench_rnn.py"


def test_benchmark_runs_and_prints_ratios(capsys):
    spec = importlib.util.spec_from_file_location("bench_rnn", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = bench.main(["--quick", "--repeats", "2"])
    assert {("rnnlib", "float64"), ("textbook loop", "float64"), ("rnnlib", "float32")} <= set(rows)
    assert "vs textbook loop" in capsys.readouterr().out


def test_textbook_loop_is_an_independent_correct_reference():
    import numpy as np
    import rnnlib
    spec = importlib.util.spec_from_file_location("bench_rnn", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    params = rnnlib.init_rnn(3, 5, 4, seed=1)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((6, 2, 3)), rng.integers(0, 4, (6, 2))
    loss, grads = bench.textbook_forward_backward(params, x, y)
    f = lambda p: bench.textbook_forward_backward(p, x, y)[0]  # noqa: E731
    assert max(rnnlib.gradcheck(f, {k: v.copy() for k, v in params.items()}, grads).values()) < 1e-7
