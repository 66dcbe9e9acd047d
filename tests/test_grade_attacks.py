"""The grader against the attack classes of issue 17, in one shared grading run.

Every submission is made from the student edition of "The RNN's equations" (tests/grading_kit.py)
and graded together through the command line (``python -m rnnbook.grade``) with small limits:
1 GiB of memory per process, 32 processes, a 32 MiB /tmp and file size. Each test then checks
one class: no points gained, no other submission affected, the run completes with a report for
everyone, and nothing left on the host (no process, no file outside the work folder). The hang
attacks, which need short time limits, are in tests/test_grade_timeouts.py.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from grading_kit import (ALL_LABELS, GOOD, LABELS, MAX_POINTS, WRONG, bwrap_or_skip, sandbox_processes,
                         submission, tree_digest, write)
from rnnbook import grade as grader
from rnnbook.notebooks import BOOK_DIR
from rnnbook.sandbox import rnnlib_dir

REPO = BOOK_DIR.parent
SECRET_ENV = "RNNBOOK_GRADER_TEST_SECRET"
SECRET_VALUE = "env-secret-" + os.urandom(6).hex()
CLASSMATE_SECRET = "classmate-secret-" + os.urandom(6).hex()
STEP = "rnn-step-forward"


def _answers(**overrides):
    answers = dict(GOOD)
    answers.update({key.replace("_", "-"): value for key, value in overrides.items()})
    return answers


def _wrong_step(**kw):
    return submission(_answers(**{"rnn_step_forward": WRONG[STEP]}), **kw)


def _memorised_step():
    """An answer that returns the reference for the fixed cases only (a lookup table)."""
    from rnnlib import rnn_step_forward
    from rnnlib.exercises import make_cases
    from rnnlib.exercises.plain import plain_equal

    one = make_cases(STEP, np.random.default_rng(1))
    two = make_cases(STEP, np.random.default_rng(2))
    table = {}
    for a, b in zip(one, two):
        if plain_equal(a.as_plain(), b.as_plain()):
            params, x_t, h_prev = a.args
            key = hashlib.sha256(x_t.tobytes() + h_prev.tobytes()).hexdigest()
            table[key] = rnn_step_forward(params, x_t, h_prev)[0].tolist()
    assert table, "the checker has fixed cases"
    return ("import hashlib\nTABLE = " + repr(table) + "\n"
            "def rnn_step_forward(params, x_t, h_prev):\n"
            "    key = hashlib.sha256(x_t.tobytes() + h_prev.tobytes()).hexdigest()\n"
            "    if key in TABLE:\n"
            "        return np.array(TABLE[key], dtype=x_t.dtype)\n"
            "    return np.zeros((x_t.shape[0], params['W'].shape[0]), x_t.dtype)")


class _Server(threading.Thread):
    """A TCP server on the host's 127.0.0.1 that records every connection."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = []
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections.append(conn.recv(100))
                conn.close()
            except OSError:
                continue


def _attacks(root, port, pid):
    secret_file = root / "classmate" / "secret.txt"
    report_dir = root / "out"
    proof = f"/tmp/rnnbook-attack-proof-{os.getpid()}"
    kinds = {}

    # ---- full marks without a correct solution ------------------------------------------------
    kinds["a01_wrap"] = submission(_answers(rnn_step_forward=(
        "def rnn_step_forward(params, x_t, h_prev):\n"
        "    return rnnlib.rnn_step_forward(params, x_t, h_prev)")))
    kinds["a02_partial"] = submission(_answers(rnn_step_forward=(
        "import functools\nrnn_step_forward = functools.partial(rnnlib.rnn_step_forward)")))
    kinds["a03_function_type"] = submission(_answers(rnn_step_forward=(
        "import types\n"
        "rnn_step_forward = types.FunctionType(rnnlib.rnn.rnn_step_forward.__code__,\n"
        "                                      rnnlib.rnn.__dict__, 'rnn_step_forward')\n"
        "rnn_step_forward.__module__ = '__main__'")))
    kinds["a04_hidden_getattr"] = submission(_answers(rnn_step_forward=(
        "def rnn_step_forward(params, x_t, h_prev):\n"
        "    name = 'rnn_step_forwarx'[:-1] + 'd'\n"
        "    return getattr(rnnlib, name)(params, x_t, h_prev)")))
    kinds["a05_sys_modules"] = submission(_answers(rnn_step_forward=(
        "import sys\n"
        "def rnn_step_forward(params, x_t, h_prev):\n"
        "    return sys.modules['rnnlib.rnn'].__dict__[''.join(['rnn', '_step', '_forward'])](\n"
        "        params, x_t, h_prev)")))
    kinds["a06_exec_source"] = submission(_answers(rnn_step_forward=(
        "import importlib.util, sys, rnnlib.rnn\n"
        "_m = importlib.util.module_from_spec(importlib.util.spec_from_loader('rnnlib._copy', None))\n"
        "_m.__package__ = 'rnnlib'\n"
        "sys.modules['rnnlib._copy'] = _m\n"
        "exec(compile(open(rnnlib.rnn.__file__).read(), 'copied.py', 'exec'), _m.__dict__)\n"
        "rnn_step_forward = getattr(_m, bytes.fromhex('726e6e5f737465705f666f7277617264').decode())")))
    kinds["a07_patch_check"] = _wrong_step(after={STEP: [
        "import rnnlib.exercises as ex\n"
        "ex.check = lambda *a, **k: print('All test cases pass.')\n"
        "check = ex.check"]})
    kinds["a08_registry"] = _wrong_step(end=[
        "import dataclasses, rnnlib.exercises as ex\n"
        "for key, entry in list(ex._REGISTRY.items()):\n"
        "    if entry.checker is not None:\n"
        "        entry.checker.judge = lambda *a, **k: None\n"
        "    ex._REGISTRY[key] = dataclasses.replace(entry, points=3000)"])
    kinds["a09_patch_runner"] = _wrong_step(end=[
        "import gc\n"
        "for obj in gc.get_objects():\n"
        "    if isinstance(obj, dict) and 'observe_case' in obj and 'Watcher' in obj:\n"
        "        obj['observe_case'] = lambda *a, **k: {'observed': 'All test cases pass.', 'points': 3000}\n"
        "        obj['describe_origin'] = lambda *a, **k: {}"])
    kinds["a10_fake_exercises_module"] = _wrong_step(end=[
        "import sys, types\n"
        "fake = types.ModuleType('rnnlib.exercises')\n"
        "fake.judge_observations = lambda *a, **k: None\n"
        "fake.observe_case = lambda *a, **k: {'passed': True}\n"
        "sys.modules['rnnlib.exercises'] = fake"])
    kinds["a11_forged_results"] = _wrong_step(end=[
        "import json, os, glob\n"
        "record = {'label': 'rnn-step-forward', 'status': 'passed', 'passed': True, 'points': 3000}\n"
        "for folder in ['.', os.environ.get('HOME', '.'), os.environ.get('TMPDIR', '.')]:\n"
        "    for name in ('grader-results.jsonl', 'check-log.jsonl', 'results.jsonl'):\n"
        "        with open(os.path.join(folder, name), 'a') as f:\n"
        "            f.write(json.dumps(record) + '\\n')\n"
        "for folder in glob.glob('/grader/out/*'):\n"
        "    try:\n"
        "        open(os.path.join(folder, 'data.json'), 'w').write('{\"points\": 3000}')\n"
        "    except OSError:\n"
        "        pass"])
    kinds["a12_log_then_exit"] = _wrong_step(end=[
        "import os\nprint('✅ Correct [rnn-step-forward] (2/2 points)')\nos._exit(0)"])
    kinds["a13_master_notebook"] = submission(_answers(rnn_step_forward=(
        "import json, pathlib\n"
        "try:\n"
        "    _nb = pathlib.Path(rnnlib.__file__).resolve().parents[1] / 'book' / 'rnn_equations.ipynb'\n"
        "    _cells = json.loads(_nb.read_text())['cells']\n"
        "    exec([''.join(c['source']) for c in _cells\n"
        "          if 'def rnn_step_forward' in ''.join(c['source'])][0])\n"
        "except Exception as error:\n"
        "    MASTER_ERROR = repr(error)\n" + WRONG[STEP])))
    kinds["a14_liar_array"] = submission(_answers(rnn_step_forward=(
        "class Liar(np.ndarray):\n"
        "    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n"
        "    def __array_ufunc__(self, *args, **kwargs): return np.ones((), bool)\n"
        "    def __array_function__(self, *args, **kwargs): return True\n"
        "def rnn_step_forward(params, x_t, h_prev):\n"
        "    return np.zeros((x_t.shape[0], params['W'].shape[0]), x_t.dtype).view(Liar)")))
    kinds["a15_getframe"] = submission(_answers(rnn_step_forward=(
        "import sys\n"
        "def rnn_step_forward(params, x_t, h_prev):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        for key in ('expected', 'reference', 'want', 'h_ref'):\n"
        "            if key in frame.f_locals:\n"
        "                return frame.f_locals[key]\n"
        "        frame = frame.f_back\n"
        "    return np.zeros((x_t.shape[0], params['W'].shape[0]), x_t.dtype)")))
    kinds["a16_memorised_cases"] = submission(_answers(rnn_step_forward=_memorised_step()))
    kinds["a17_patch_numpy"] = _wrong_step(end=[
        "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
        "np.array_equal = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None"])
    kinds["a18_huge_observation"] = submission(_answers(rnn_step_forward=(
        "def rnn_step_forward(params, x_t, h_prev):\n"
        "    return np.zeros((3000, 3000))")))
    kinds["a19_deep_return"] = submission(_answers(rnn_step_forward=(
        "def rnn_step_forward(params, x_t, h_prev):\n"
        "    out = []\n"
        "    for _ in range(5000):\n"
        "        out = [out]\n"
        "    return out")))

    kinds["a20_forged_channel"] = _wrong_step(end=[
        "import json, os, struct, sys\n"
        "fd = int(sys.argv[-1])\n"
        "for label in ('rnn-step-forward', 'rnn-n-params'):\n"
        "    frame = json.dumps({'type': 'exercise', 'label': label, 'found': 'x', 'origin': {},\n"
        "                        'trace': [], 'reads': [], 'timeout': False, 'files': 0}).encode()\n"
        "    os.write(fd, struct.pack('>I', len(frame)) + frame)"])

    # ---- other students' grades and later runs ------------------------------------------------
    kinds["b01_edit_library"] = submission(GOOD, end=[
        "import rnnlib.rnn, os\nerrors = []\n"
        "for path, text in [(rnnlib.rnn.__file__, '\\nraise SystemExit'),\n"
        "                   (os.path.join(os.path.dirname(rnnlib.rnn.__file__), 'evil.py'), 'x=1')]:\n"
        "    try:\n"
        "        open(path, 'a').write(text)\n"
        "    except OSError as error:\n"
        "        errors.append(type(error).__name__)\n"
        "raise RuntimeError('library edit: ' + ','.join(errors))"])
    kinds["b02_ipython_startup"] = submission(GOOD, end=[
        "import os\nerrors = []\n"
        "for home in [os.path.expanduser('~'), '/root', os.environ.get('HOME', '')]:\n"
        "    folder = os.path.join(home, '.ipython', 'profile_default', 'startup')\n"
        "    try:\n"
        "        os.makedirs(folder, exist_ok=True)\n"
        "        open(os.path.join(folder, '00-rnnbook-evil.py'), 'w').write(\n"
        "            'rnn_step_forward = lambda *a: None')\n"
        "    except OSError as error:\n"
        "        errors.append(type(error).__name__)\n"
        "raise RuntimeError('startup: ' + ','.join(errors))"])
    kinds["b03_pth"] = submission(GOOD, end=[
        "import site, sys, os\nerrors = []\n"
        "for folder in site.getsitepackages() + [sys.prefix]:\n"
        "    try:\n"
        "        open(os.path.join(folder, 'rnnbook-evil.pth'), 'w').write('import os')\n"
        "    except OSError as error:\n"
        "        errors.append(type(error).__name__)\n"
        "raise RuntimeError('pth: ' + ','.join(errors))"])
    kinds["b04_kernelspec"] = submission(GOOD, end=[
        "import sys, os, json\nerrors = []\n"
        "for folder in [os.path.join(sys.prefix, 'share', 'jupyter', 'kernels', 'python3'),\n"
        "               os.path.expanduser('~/.local/share/jupyter/kernels/python3')]:\n"
        "    try:\n"
        "        os.makedirs(folder, exist_ok=True)\n"
        "        json.dump({'argv': ['/bin/false']}, open(os.path.join(folder, 'kernel.json'), 'w'))\n"
        "    except OSError as error:\n"
        "        errors.append(type(error).__name__)\n"
        "raise RuntimeError('kernelspec: ' + ','.join(errors))"])
    kinds["b05_daemon"] = submission(GOOD, end=[
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        for _ in range(300):\n"
        f"            for path in [{str(report_dir / 'report.results.jsonl')!r}, {proof!r},\n"
        "                         '/tmp/rnnbook-daemon-was-here']:\n"
        "                try:\n"
        "                    open(path, 'a').write('{\"student\": \"b05\", \"points\": 3000}\\n')\n"
        "                except OSError:\n"
        "                    pass\n"
        "            time.sleep(0.1)\n"
        "    os._exit(0)\n"
        "time.sleep(0.5)"])
    kinds["b06_read_classmate"] = submission(_answers(rnn_step_forward=(
        "def rnn_step_forward(params, x_t, h_prev):\n"
        "    found = []\n"
        f"    for path in [{str(secret_file)!r}, {str(root / 'submissions' / 'correct.ipynb')!r}]:\n"
        "        try:\n"
        "            found.append(open(path).read()[:200])\n"
        "        except OSError as error:\n"
        "            found.append(type(error).__name__)\n"
        "    raise ValueError(' '.join(found))")))
    kinds["b07_network"] = submission(_answers(rnn_step_forward=(
        "import socket\n"
        "def rnn_step_forward(params, x_t, h_prev):\n"
        "    try:\n"
        f"        s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "        s.sendall(b'LEAK')\n"
        "        raise ValueError('connected')\n"
        "    except OSError as error:\n"
        "        raise ValueError('network: ' + type(error).__name__)")))
    kinds["b08_environment"] = submission(_answers(rnn_step_forward=(
        "import os\n"
        "def rnn_step_forward(params, x_t, h_prev):\n"
        f"    raise ValueError('secret=' + str(os.environ.get({SECRET_ENV!r})) + ' keys='\n"
        "                     + ','.join(sorted(os.environ)))")))

    # ---- inputs that killed the whole run -----------------------------------------------------
    kinds["c01_deep_json"] = '{"cells": ' + "[" * 100_000 + "]" * 100_000 + ', "metadata": {}}'
    number = submission(GOOD)
    number["cells"].insert(3, {"cell_type": "code", "source": 42, "metadata": {}, "outputs": []})
    kinds["c02_source_number"] = number
    nbgrader = submission(GOOD)
    for cell in nbgrader["cells"]:
        if (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id") == "rnn-n-params":
            cell["metadata"]["nbgrader"] = "not an object"
    kinds["c03_nbgrader_string"] = nbgrader
    kinds["c04_kill_grader"] = submission(GOOD, end=[
        "import os, signal\n"
        f"for target in (os.getppid(), 1, {pid}):\n"
        "    try:\n"
        "        os.kill(target, signal.SIGKILL)\n"
        "    except OSError:\n"
        "        pass\n"
        "os.kill(-1, signal.SIGKILL)"])
    kinds["c05_not_json"] = "{ this is not a notebook"
    kinds["c06_json_not_notebook"] = '{"hello": 1}'

    # ---- limits --------------------------------------------------------------------------------
    kinds["d01_memory"] = submission(GOOD, end=[
        "hog = np.ones(int(1.3 * 2**30) // 8)\nhog[::4096] = 2.0"])
    kinds["d02_processes"] = submission(GOOD, end=[
        "import os, time\nchildren = 0\n"
        "for _ in range(50):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(120)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "    except OSError:\n"
        "        break\n"
        "raise RuntimeError(f'forked {children} of 50')"])
    kinds["d03_disk"] = submission(GOOD, end=[
        "import os\nnotes = []\n"
        "try:\n"
        "    with open('big.bin', 'wb') as f:\n"
        "        for _ in range(36):\n"
        "            f.write(b'x' * 2**20)\n"
        "except OSError as error:\n"
        "    notes.append('big: ' + type(error).__name__)\n"
        "try:\n"
        "    for i in range(100):\n"
        "        with open(f'fill{i}.bin', 'wb') as f:\n"
        "            f.write(b'y' * 2**20)\n"
        "except OSError as error:\n"
        "    notes.append('fill: ' + type(error).__name__)\n"
        "raise RuntimeError('disk: ' + ', '.join(notes))"])
    kinds["d04_output_flood"] = submission(GOOD, end=[
        "print('x' * 5_000_000)", "for i in range(20000):\n    print(i, 'spam' * 20)"])

    # ---- report hygiene ------------------------------------------------------------------------
    kinds['=HYPERLINK("evil.example","click")'] = submission(GOOD)
    kinds["a/alice"] = submission(GOOD)
    kinds["b/alice"] = submission(WRONG)
    kinds["e01_paths_in_errors"] = submission(_answers(rnn_step_forward=(
        "import sys, os, rnnlib\n"
        "def rnn_step_forward(params, x_t, h_prev):\n"
        "    raise FileNotFoundError(rnnlib.__file__ + ' ' + sys.prefix + ' ' + np.__file__)")),
        end=["raise ValueError(sys.executable + ' ' + os.getcwd() + ' ' + rnnlib.__file__)"])

    # ---- the ordinary ones ------------------------------------------------------------------
    kinds["correct"] = submission(GOOD, trim=False)             # the whole chapter, book output
    kinds["correct_trimmed"] = submission(GOOD)
    kinds["wrong"] = submission(WRONG)
    kinds["stub"] = submission({})
    kinds["renamed"] = submission(_answers(rnn_n_params=GOOD["rnn-n-params"].replace(
        "n_params", "count_params")))
    kinds["deleted"] = submission(GOOD, drop=("rnn-n-params",))
    kinds["own_cell_prints"] = submission(GOOD, end=["print('y' * 500)"])
    return kinds


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Grade every attack at once through the command line; return what the tests look at."""
    bwrap_or_skip()
    root = tmp_path_factory.mktemp("attacks")
    (root / "classmate").mkdir()
    (root / "classmate" / "secret.txt").write_text(CLASSMATE_SECRET)
    folder = root / "submissions"
    server = _Server()
    server.start()
    kinds = _attacks(root, server.port, os.getpid())
    for name, nb in kinds.items():
        if isinstance(nb, str):
            (folder / f"{name}.ipynb").parent.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.ipynb").write_text(nb, encoding="utf-8")
        else:
            write(folder, name, nb)
    (folder / "c07_symlink.ipynb").symlink_to(folder / "correct.ipynb")
    home = Path.home()
    before = {"rnnlib": tree_digest(rnnlib_dir()), "venv": tree_digest(sys.prefix),
              "startup": _startup_files(home),
              "tmp": set(os.listdir("/tmp"))}
    work = root / "work"
    work.mkdir()
    out = root / "out" / "report"
    os.environ[SECRET_ENV] = SECRET_VALUE
    start = time.monotonic()
    try:
        code = grader.main([str(folder), "--out", str(out), "--chapter", "rnn_equations",
                            "--jobs", "2", "--timeout", "150", "--check-timeout", "40",
                            "--max-output", "300", "--memory", "1", "--processes", "32",
                            "--disk", "32", "--workdir", str(work)])
    finally:
        os.environ.pop(SECRET_ENV, None)
    seconds = time.monotonic() - start
    time.sleep(2)                                   # a daemon that survived would write now
    server.stop = True
    paths = {k: Path(str(out) + suffix) for k, suffix in
             (("csv", ".csv"), ("json", ".json"), ("canvas", ".canvas.csv"), ("log", ".results.jsonl"))}
    report = json.loads(paths["json"].read_text())
    print(f"\ngraded {len(report['submissions'])} attack submissions in {seconds:.0f} s")
    return {"code": code, "subs": {s["student"]: s for s in report["submissions"]}, "paths": paths,
            "rows": list(csv.DictReader(paths["csv"].open(encoding="utf-8"))), "kinds": kinds,
            "server": server, "before": before, "work": work, "home": home, "root": root}


def _startup_files(home):
    """IPython startup files and Jupyter kernelspecs of the host's user (names)."""
    found = set(map(str, (home / ".ipython").glob("profile_*/startup/*")))
    found |= set(map(str, (home / ".local" / "share" / "jupyter" / "kernels").glob("*/*")))
    return found


def _ex(sub, label):
    return next(e for e in sub["exercises"] if e["label"] == label)


def _sub(run, name):
    return run["subs"][f"{name}.ipynb"]


# ----------------------------------------------------------------------------------------------
def test_the_run_completes_with_a_report_for_everyone(run):
    assert run["code"] == 0
    names = {f"{name}.ipynb" for name in run["kinds"]} | {"c07_symlink.ipynb"}
    assert set(run["subs"]) == names
    assert set(LABELS) <= set(ALL_LABELS)
    for sub in run["subs"].values():
        assert {e["label"] for e in sub["exercises"]} == set(ALL_LABELS)
        assert sub["points"] <= sub["max_points"] == MAX_POINTS
    assert len(run["rows"]) == len(ALL_LABELS) * len(names)
    log = run["paths"]["log"].read_text().splitlines()
    assert len(log) == len(names) and all(json.loads(line)["student"] in names for line in log)


def test_correct_submissions_get_full_marks(run):
    for name in ("correct", "correct_trimmed", "a/alice", 'b01_edit_library', "b02_ipython_startup",
                 "b03_pth", "b04_kernelspec", "b05_daemon", "d01_memory", "d02_processes",
                 "d03_disk", "d04_output_flood", "c02_source_number", "c04_kill_grader"):
        sub = _sub(run, name)
        for label in ("rnn-n-params", STEP, "rnn-hidden-states"):
            assert _ex(sub, label)["status"] == "passed", (name, label, _ex(sub, label))
        assert sub["points"] == 5, name


def test_typical_mistakes_get_the_checkers_feedback(run):
    sub = _sub(run, "wrong")
    assert _ex(sub, STEP)["status"] == "failed" and "transposed" in _ex(sub, STEP)["feedback"]
    assert _ex(sub, "rnn-n-params")["status"] == "failed" and "bias" in _ex(sub, "rnn-n-params")["feedback"]
    assert sub["points"] == 0
    stub = _sub(run, "stub")
    assert all(e["status"] in ("not attempted", "manual") if e["label"] in LABELS
               else e["status"] == "missing" for e in stub["exercises"])   # later ones trimmed off
    renamed = _ex(_sub(run, "renamed"), "rnn-n-params")
    assert renamed["passed"] and "count_params" in renamed["feedback"]
    deleted = _sub(run, "deleted")
    assert _ex(deleted, "rnn-n-params")["status"] == "missing" and _ex(deleted, STEP)["passed"]


COPIES = ["a01_wrap", "a02_partial", "a03_function_type", "a04_hidden_getattr", "a05_sys_modules",
          "a06_exec_source"]


@pytest.mark.parametrize("name", COPIES)
def test_reference_copies_score_zero_with_the_evidence(run, name):
    step = _ex(_sub(run, name), STEP)
    assert step["points"] == 0 and step["status"] == "copy", step
    assert "library's own implementation" in step["feedback"] and step["review"]
    assert _ex(_sub(run, name), "rnn-n-params")["passed"]          # the rest is graded as usual


TRICKS = ["a07_patch_check", "a08_registry", "a09_patch_runner", "a10_fake_exercises_module",
          "a11_forged_results", "a12_log_then_exit", "a13_master_notebook", "a14_liar_array",
          "a15_getframe", "a16_memorised_cases", "a17_patch_numpy", "a18_huge_observation",
          "a19_deep_return", "a20_forged_channel"]


@pytest.mark.parametrize("name", TRICKS)
def test_tricks_gain_no_points(run, name):
    sub = _sub(run, name)
    step = _ex(sub, STEP)
    assert step["points"] == 0 and step["status"] != "passed", step
    assert sub["points"] <= 3                                       # at most the honest two others
    for e in sub["exercises"]:
        assert e["points"] <= e["max_points"]


def test_tampering_is_flagged_for_review(run):
    for name in ("a08_registry", "a09_patch_runner", "a12_log_then_exit", "a20_forged_channel"):
        assert any("flagged for review" in p for p in _sub(run, name)["problems"]), name
    assert _sub(run, "a12_log_then_exit")["status"] == "stopped"
    forged = _sub(run, "a20_forged_channel")
    assert "more than one result" in _ex(forged, STEP)["feedback"]
    assert _ex(forged, "rnn-n-params")["points"] == 0               # forged for it too


def test_nothing_reaches_other_students_or_later_runs(run):
    before = run["before"]
    assert tree_digest(rnnlib_dir()) == before["rnnlib"]
    assert tree_digest(sys.prefix) == before["venv"]
    home = run["home"]
    assert _startup_files(home) == before["startup"]
    for name, what in (("b01_edit_library", "library edit"), ("b03_pth", "pth"),
                       ("b04_kernelspec", "kernelspec")):
        problems = " ".join(_sub(run, name)["problems"])
        assert f"{what}: " in problems and ("OSError" in problems or "PermissionError" in problems), problems
    assert not list(Path("/tmp").glob("rnnbook-attack-proof-*"))
    assert not Path("/tmp/rnnbook-daemon-was-here").exists()
    # The daemon's forged line ({"student": "b05", "points": 3000}) is nowhere in the log: every
    # line is a whole record of a real submission, within its points (a substring test would
    # trip over hashes and seeds that happen to contain "b05").
    for line in run["paths"]["log"].read_text().splitlines():
        record = json.loads(line)
        assert record["student"] != "b05" and record["points"] <= record["max_points"], line[:200]


def test_no_process_and_no_file_is_left(run):
    assert sandbox_processes() == []
    assert list(run["work"].iterdir()) == []                        # every work folder removed
    new = set(os.listdir("/tmp")) - run["before"]["tmp"]
    assert not [n for n in new if n.startswith(("rnnbook-grade-", "rnnbook-attack", "rnnbook-daemon",
                                                "big.bin", "fill", ".ipython"))], new


def test_no_network_no_environment_no_classmates(run):
    assert run["server"].connections == []
    text = run["paths"]["json"].read_text() + run["paths"]["csv"].read_text()
    assert SECRET_VALUE not in text and CLASSMATE_SECRET not in text
    net = _ex(_sub(run, "b07_network"), STEP)
    assert net["points"] == 0 and "network: " in net["feedback"]
    env = _ex(_sub(run, "b08_environment"), STEP)["feedback"]
    keys = env.split("keys=")[1].split()[0].split(",")
    assert "secret=None" in env and "MPLBACKEND" in keys and SECRET_ENV not in keys
    classmate = _ex(_sub(run, "b06_read_classmate"), STEP)["feedback"]
    assert "FileNotFoundError FileNotFoundError" in classmate


def test_bad_files_are_reported_alone(run):
    assert "nested" in " ".join(_sub(run, "c01_deep_json")["problems"])
    for name in ("c01_deep_json", "c05_not_json", "c06_json_not_notebook"):
        sub = _sub(run, name)
        assert sub["status"] == "not a notebook" and sub["points"] == 0, sub
    assert _sub(run, "c07_symlink")["status"] == "refused"
    assert any("source is a int" in p for p in _sub(run, "c02_source_number")["problems"])
    nbgrader = _sub(run, "c03_nbgrader_string")
    assert any("nbgrader is not an object" in p for p in nbgrader["problems"])
    assert _ex(nbgrader, "rnn-n-params")["passed"]                 # found by its name
    assert _ex(nbgrader, STEP)["passed"]


def test_limits_hold(run):
    memory = " ".join(_sub(run, "d01_memory")["problems"])
    assert "MemoryError" in memory
    forked = " ".join(_sub(run, "d02_processes")["problems"])
    count = int(forked.split("forked ")[1].split(" of")[0])
    assert count < 32
    disk = " ".join(_sub(run, "d03_disk")["problems"])
    assert "big: OSError" in disk and "fill: OSError" in disk
    flood = _sub(run, "d04_output_flood")["problems"]
    assert sum("printed more than 300 characters" in p for p in flood) == 2
    assert run["paths"]["json"].stat().st_size < 1_000_000


def test_the_books_own_output_is_not_counted(run):
    assert not any("printed" in p for p in _sub(run, "correct")["problems"])
    assert any("printed more than 300" in p for p in _sub(run, "own_cell_prints")["problems"])


def test_report_hygiene(run):
    ids = {row["student"] for row in run["rows"]}
    assert "'=HYPERLINK(\"evil.example\",\"click\").ipynb" in ids
    assert not any(row[k].startswith(("=", "+", "-", "@")) for row in run["rows"] for k in row)
    alice, other = _sub(run, "a/alice"), _sub(run, "b/alice")
    assert alice["points"] == 5 and other["points"] == 0
    text = run["paths"]["json"].read_text().replace(str(run["root"]), "")
    for secret in {str(REPO), sys.prefix, os.path.realpath(sys.prefix), sys.base_prefix}:
        assert secret not in text, secret
    errors = _sub(run, "e01_paths_in_errors")
    assert any("ValueError" in p for p in errors["problems"])
    assert "FileNotFoundError" in _ex(errors, STEP)["feedback"]
    canvas = list(csv.reader(run["paths"]["canvas"].open(encoding="utf-8")))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "rnn_equations"]
    assert canvas[1][0].strip() == "Points Possible" and canvas[1][5] == f"{MAX_POINTS:g}"
    assert len(canvas) == 2 + len(run["subs"])
