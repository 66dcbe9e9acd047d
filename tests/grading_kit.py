"""Submissions for the grader's tests, made from the student edition of "The RNN's equations".

:func:`submission` takes the student edition of ``book/rnn_equations.ipynb`` (``rnnbook.assign``),
puts the given answers into the solution cells (nbgrader ``grade_id``), adds extra cells, and
by default drops the chapter's cells after the last ``check`` cell (they train a language model:
seconds per submission that the attack tests do not need; the grader handles deleted cells).
"""
from __future__ import annotations

import copy
import functools
import json
import os
import secrets
import shutil
from pathlib import Path

from rnnbook.assign import student_notebook
from rnnlib.exercises import list_exercises
from rnnbook.notebooks import BOOK_DIR, cell_source

CHAPTER = "rnn_equations"
LABELS = ("rnn-hidden-states", "rnn-n-params", "rnn-shared-theta", "rnn-step-forward")
# Every exercise of the chapter (the registry's), and its points: a submission trimmed after the
# four above has the later ones (e.g. rnn-perplexity) missing.
ALL_LABELS = tuple(sorted(e.label for e in list_exercises(chapter=CHAPTER)))
MAX_POINTS = sum(e.points for e in list_exercises(chapter=CHAPTER))

GOOD = {
    "rnn-n-params": "def n_params(m, d, C):\n    return m * m + m * d + C * m + m + C",
    "rnn-step-forward": ("def rnn_step_forward(params, x_t, h_prev):\n"
                         "    W, U, b = params['W'], params['U'], params['b']\n"
                         "    return np.tanh(b + h_prev @ W.T + x_t @ U.T)"),
    "rnn-hidden-states": ("def hidden_states(params, x, h0):\n"
                          "    W, U, b = params['W'], params['U'], params['b']\n"
                          "    h = [h0]\n"
                          "    for t in range(x.shape[0]):\n"
                          "        h.append(np.tanh(b + h[-1] @ W.T + x[t] @ U.T))\n"
                          "    return np.stack(h)"),
}
WRONG = {
    "rnn-n-params": "def n_params(m, d, C):\n    return m * m + m * d + C * m",   # no biases
    "rnn-step-forward": GOOD["rnn-step-forward"].replace("h_prev @ W.T", "h_prev @ W"),
    "rnn-hidden-states": GOOD["rnn-hidden-states"].replace("h[-1] @ W.T", "h[-1] @ W"),
}


@functools.lru_cache(maxsize=1)
def _student_edition():
    master = json.loads((BOOK_DIR / f"{CHAPTER}.ipynb").read_text(encoding="utf-8"))
    return student_notebook(master)


def _cell(source, cell_type="code"):
    cell = {"cell_type": cell_type, "id": secrets.token_hex(4), "metadata": {}, "source": source}
    if cell_type == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def submission(answers=None, *, after=None, before=None, end=(), trim=True, drop=()):
    """A notebook dict: the student edition with ``answers`` ({label: source}) in its solution
    cells, extra code cells ``after`` / ``before`` ({label: [source, ...]}: after the label's
    check cell / before its solution cell) and at the ``end``; ``drop`` removes the solution and
    check cells of those labels."""
    nb = copy.deepcopy(_student_edition())
    answers, after, before = answers or {}, after or {}, before or {}
    cells, last_check = [], 0
    for cell in nb["cells"]:
        source = cell_source(cell)
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        checked = next((label for label in LABELS if f'check("{label}"' in source), None)
        if gid in drop or checked in drop:
            continue
        if gid in before:
            cells += [_cell(s) for s in before[gid]]
        if gid in answers:
            cell = dict(cell, source=answers[gid])
        cells.append(cell)
        if checked:
            last_check = len(cells)
            cells += [_cell(s) for s in after.get(checked, [])]
            last_check = len(cells)
    if trim:
        cells = cells[:last_check]
    cells += [_cell(s) for s in end]
    nb["cells"] = cells
    return nb


def write(folder, name, nb):
    path = Path(folder) / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    return path


def tree_digest(folder):
    """{relative path: (size, mtime_ns)} of every file under ``folder``.

    ``__pycache__`` folders are left out: other processes of the test run (not the sandbox,
    which sees the library read-only) write bytecode there when they first import rnnlib.
    """
    out = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            path = Path(root) / name
            try:
                info = path.stat()
            except OSError:
                continue
            out[str(path.relative_to(folder))] = (info.st_size, info.st_mtime_ns)
    return out


def sandbox_processes(grader_pid=None):
    """PIDs of processes left by the grader running as ``grader_pid`` (default: this process):
    as root, anything running under its sandboxes' uids; otherwise its runners (there must be
    none after a run)."""
    from rnnbook.sandbox import SLOTS_PER_GRADER, sandbox_uid

    grader_pid = os.getpid() if grader_pid is None else grader_pid
    first = sandbox_uid(0, grader_pid)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                status = dict(line.split(":", 1) for line in handle if ":" in line)
            uid = int(status["Uid"].split()[1])
            if os.geteuid() == 0:
                if first <= uid < first + SLOTS_PER_GRADER:
                    found.append(int(entry))
            else:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if b"/grader/runner.py" in handle.read() and _descends(int(entry), grader_pid):
                        found.append(int(entry))
        except (OSError, ValueError, KeyError):
            continue
    return found


def _descends(pid, ancestor):
    for _ in range(64):
        if pid == ancestor:
            return True
        try:
            with open(f"/proc/{pid}/status") as handle:
                pid = int(next(line for line in handle if line.startswith("PPid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            return False
        if pid <= 1:
            return False
    return False


def bwrap_or_skip():
    import pytest

    if shutil.which("bwrap") is None:
        if os.environ.get("CI"):
            pytest.fail("bubblewrap is not installed (apt-get install bubblewrap)")
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
