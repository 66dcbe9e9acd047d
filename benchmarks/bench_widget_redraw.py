"""Control-to-redraw time of the two live widgets in JupyterLab, in headless Chromium.

Run:  .venv/bin/python benchmarks/bench_widget_redraw.py [repeats]

Starts JupyterLab from this environment (as tests/test_jupyterlab.py does: 127.0.0.1, a free
port, a random token, temporary config and settings), opens a scratch notebook that displays
the hidden-state widget and the gradient-norm widget at their default sizes, and moves each
control of each widget ``repeats`` times (default 3). The time of one move runs from the
browser event (the key on a slider's handle, the dropdown's change, Enter in the seed field) to
the figure's last ``plotly_afterplot``: the kernel's computation, both message trips and
plotly's redraw. Every control is measured twice, side by side (interleaved, so a busy machine
slows both alike): sending only the trace attributes that changed (the widgets' behaviour) and
sending every attribute (``send_unchanged = True``, the widgets' earlier behaviour); the ratio
is printed. The medians are the numbers to quote; on a shared two-core machine they include
waiting for the CPU (the load average is printed).
"""
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import missing_browser, start_chromium  # noqa: E402
from lab_driver import Lab, start_lab  # noqa: E402

CELLS = [
    "import rnnlib.book\nrnnlib.book.setup()\n"
    "from rnnlib.widgets.hidden_state import hidden_state_widget\n"
    "from rnnlib.widgets.gradient_norms import gradient_norm_widget",
    "hs = hidden_state_widget()\nhs",
    "gn = gradient_norm_widget()\ngn",
    "pass",   # the mode switch: hs.send_unchanged = gn.send_unchanged = ...
]


def notebook():
    cells = [{"cell_type": "code", "id": f"c{i:07d}", "metadata": {}, "source": source,
              "outputs": [], "execution_count": None} for i, source in enumerate(CELLS)]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def main(repeats=3):
    reason = missing_browser()
    if reason:
        print(f"skipped: {reason}")
        return
    root = Path(tempfile.mkdtemp(prefix="rnnbook-bench-"))
    (root / "bench.ipynb").write_text(json.dumps(notebook()))
    rows = []
    try:
        with start_lab(root) as (base, token, _), start_chromium() as driver:
            lab = Lab(driver, base, token)
            lab.open("bench.ipynb")
            lab.run_all()
            for f, (name, variable) in enumerate((("hidden state", "hs"), ("gradient norms", "gn"))):
                controls = lab.figures()[f]["controls"]
                for control in sorted(controls, key=lambda c: c["label"] == "cell"):
                    times = {"changed only": [], "every attribute": []}
                    for _ in range(repeats):
                        for mode, flag in (("changed only", False), ("every attribute", True)):
                            lab.run_cell(3, f"hs.send_unchanged = gn.send_unchanged = {flag}")
                            ms = lab.move(f, control["index"], control["kind"])
                            if ms is not None:
                                times[mode].append(ms)
                    rows.append((name, control["label"], control["kind"], control["track_px"],
                                 np.median(times["changed only"]), np.median(times["every attribute"])))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"control-to-redraw in JupyterLab, median of {repeats} moves, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'widget':15s} {'control':24s} {'kind':8s} {'track':>6s} {'changed only':>13s} "
          f"{'every attr.':>12s} {'ratio':>6s}")
    for widget, label, kind, track, changed, every in rows:
        track = f"{track:.0f}px" if track else ""
        print(f"{widget:15s} {label:24s} {kind:8s} {track:>6s} {changed:10.0f} ms {every:9.0f} ms "
              f"{every / changed:6.2f}")
    changed = np.median([r[4] for r in rows])
    every = np.median([r[5] for r in rows])
    print(f"all controls: median {changed:.0f} ms (changed only) vs {every:.0f} ms (every attribute); "
          f"goal < 100 ms -> {'met' if changed < 100 else 'NOT met'} on this machine now")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
