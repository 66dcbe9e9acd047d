"""The grader's parts: intake, reports, reference-copy analysis, the sandbox's command line, and
small command-line runs (resume, unsafe mode, bad arguments, no bubblewrap).

The attack classes of issue 17 are in tests/test_grade_attacks.py (one shared grading run) and
the hangs in tests/test_grade_timeouts.py.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys

import pytest

from grading_kit import GOOD, WRONG, bwrap_or_skip, submission, write
from rnnbook import grade as grader
from rnnbook import sandbox as sb
from rnnbook.grading import copies, intake, report
from rnnbook.grading.book import book_cells
from rnnbook.notebooks import BOOK_DIR

REPO = BOOK_DIR.parent


# ----------------------------------------------------------------------------------------------
# Intake
# ----------------------------------------------------------------------------------------------
def test_json_depth_is_linear_and_skips_strings():
    assert intake.json_depth('{"a": [1, {"b": "[[[[{{{"}]}') == 3
    deep = "[" * 200_000 + "]" * 200_000
    assert intake.json_depth(deep) == 200_000


def test_read_submission_refuses_what_cannot_be_graded(tmp_path):
    deep = tmp_path / "deep.ipynb"
    deep.write_text('{"cells": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(intake.Unreadable, match="nested 50001 levels"):
        intake.read_submission(deep)
    big = tmp_path / "big.ipynb"
    big.write_text('{"cells": [], "pad": "' + "x" * 5000 + '"}')
    with pytest.raises(intake.Unreadable, match="limit") as error:
        intake.read_submission(big, max_bytes=1000)
    assert error.value.status == "too large"
    link = tmp_path / "link.ipynb"
    link.symlink_to(big)
    with pytest.raises(intake.Unreadable, match="symbolic link"):
        intake.read_submission(link)
    (tmp_path / "binary.ipynb").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(intake.Unreadable, match="UTF-8"):
        intake.read_submission(tmp_path / "binary.ipynb")
    (tmp_path / "v3.ipynb").write_text('{"cells": [], "nbformat": 3}')
    with pytest.raises(intake.Unreadable, match="nbformat 3"):
        intake.read_submission(tmp_path / "v3.ipynb")


def test_validate_repairs_broken_cells_and_says_so():
    nb = intake.validate({"cells": [
        {"cell_type": "code", "source": 42, "metadata": {}},
        {"cell_type": "code", "source": ["a = ", "1"], "metadata": {"nbgrader": "oops"}},
        {"cell_type": "code", "source": "b = 2", "metadata": {"nbgrader": {"grade_id": 7}}},
        {"cell_type": "nonsense", "source": ""}, "not a cell",
        {"cell_type": "markdown", "source": "# hi", "metadata": [], "id": 5}]})
    assert [c["source"] for c in nb.cells] == ["", "a = 1", "b = 2", "# hi"]
    text = " ".join(nb.problems)
    for expected in ("source is a int", "nbgrader is not an object", "grade_id is not text",
                     "unknown cell_type", "not a JSON object", "metadata is not an object"):
        assert expected in text
    assert intake.grade_id(nb.cells[1]) is None and nb.cells[3]["id"] is None


def test_student_ids_are_relative_paths(tmp_path):
    for folder in ("a", "b", "a/.ipynb_checkpoints"):
        write(tmp_path / "subs" / folder, "alice", submission(GOOD))
    (tmp_path / "subs" / "link.ipynb").symlink_to(tmp_path / "subs" / "a" / "alice.ipynb")
    (tmp_path / "subs" / "linked_dir").symlink_to(tmp_path / "subs" / "a")
    found = intake.find_submissions([tmp_path / "subs"])
    assert [s.student for s in found] == ["a/alice.ipynb", "b/alice.ipynb", "link.ipynb"]
    assert [s.symlink for s in found] == [False, False, True]


def test_book_cells_are_recognised_by_id_or_source():
    master = json.loads((BOOK_DIR / "rnn_equations.ipynb").read_text())
    book = book_cells(["rnn_equations"])
    code = [c for c in master["cells"] if c["cell_type"] == "code"]
    assert all(book.is_book_cell({"source": c["source"], "id": c["id"]}) for c in code)
    assert book.is_book_cell({"source": "".join(code[2]["source"]), "id": "new"})
    assert not book.is_book_cell({"source": "print('mine')", "id": code[2]["id"]})


# ----------------------------------------------------------------------------------------------
# Reports
# ----------------------------------------------------------------------------------------------
def test_csv_cells_that_look_like_formulas_are_escaped():
    assert [report.csv_safe(v) for v in ("=1+1", "+x", "-2", "@SUM(A1)", "\tx", "ok", None, 3)] \
        == ["'=1+1", "'+x", "'-2", "'@SUM(A1)", "'\tx", "ok", "", "3"]


def test_clean_text_hides_the_graders_paths_and_bounds_the_text():
    text = report.clean_text(f"at {REPO}/rnnlib/rnn.py and {sys.prefix}/lib \x1b[31mred\x07 " + "x" * 5000)
    assert str(REPO) not in text and sys.prefix not in text and "\x1b" not in text
    assert "rnnlib/rnn.py" in text and len(text) < 2100


def _report(student, points, status="passed", chapter="rnn_equations"):
    return report.SubmissionReport(student=student, file=student, exercises=[
        report.ExerciseGrade("rnn-n-params", chapter, "code", status, points, 1.0, "fb")])


def test_result_log_survives_a_torn_line_and_keeps_the_last(tmp_path):
    log = report.ResultLog(tmp_path / "r.results.jsonl")
    log.append(_report("a.ipynb", 0.0))
    log.append(_report("b.ipynb", 1.0))
    log.append(_report("a.ipynb", 1.0))
    with open(log.path, "ab") as handle:
        handle.write(b'{"student": "c.ipynb", "fi')               # killed mid-line
    done = log.read()
    assert set(done) == {"a.ipynb", "b.ipynb"} and done["a.ipynb"].points == 1.0


def test_canvas_gradebook_layout_and_roster(tmp_path):
    reports = [_report("ab123/notebook.ipynb", 1.0), _report("=cmd.ipynb", 0.0)]
    text = report.canvas_gradebook(reports)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "rnn_equations"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "1"
    assert rows[2] == ["ab123/notebook.ipynb", "", "", "", "", "1"]
    assert rows[3][0] == "'=cmd.ipynb"
    roster = tmp_path / "export.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Quiz (1)\n"
                      "    Points Possible,,,,,10\nDoe, Jane,42,S42,ab123,Sec 1,3\n".replace(
                          "Doe, Jane", '"Doe, Jane"'))
    rows = list(csv.reader(io.StringIO(report.canvas_gradebook(reports, report.read_roster(roster)))))
    assert rows[2] == ["Doe, Jane", "42", "S42", "ab123", "Sec 1", "1"]


# ----------------------------------------------------------------------------------------------
# Reference copies (static analysis)
# ----------------------------------------------------------------------------------------------
REFS = ["rnnlib.rnn.rnn_step_forward", "rnnlib.rnn._rnn_step_forward"]
SETUP = ("import numpy as np\nimport rnnlib\nfrom rnnlib.exercises import check", True, 1)


def _verdict(source, name="rnn_step_forward", refs=REFS):
    return copies.analyse([SETUP, (source, False, 2)], name, refs, "rnn-step-forward")


@pytest.mark.parametrize("source", [
    "def rnn_step_forward(p, x, h):\n    return rnnlib.rnn_step_forward(p, x, h)",
    "import functools\nrnn_step_forward = functools.partial(rnnlib.rnn_step_forward)",
    "from rnnlib.rnn import _rnn_step_forward as f\ndef rnn_step_forward(p, x, h):\n    return f(p, x, h)",
    "def rnn_step_forward(p, x, h):\n    return getattr(rnnlib, 'rnn_step_' + 'forward')(p, x, h)",
    "def helper(p, x, h):\n    return rnnlib.rnn.rnn_step_forward(p, x, h)\n"
    "def rnn_step_forward(p, x, h):\n    return helper(p, x, h)",
    "def rnn_step_forward(p, x, h):\n    return getattr(rnnlib, ''.join(['rnn_', 'step_forward']))(p, x, h)",
])
def test_copies_are_found(source):
    finding = _verdict(source)
    assert finding.verdict == "copy" and finding.evidence and "rnn_step_forward" in finding.hits


def test_honest_answers_and_comparisons():
    honest = "def rnn_step_forward(params, x_t, h_prev):\n    return np.tanh(params['b'] + h_prev @ params['W'].T)"
    assert _verdict(honest).verdict == ""
    compare = honest + "\nassert np.allclose(rnn_step_forward(p, x, h), rnnlib.rnn_step_forward(p, x, h)[0])"
    finding = _verdict(compare)
    assert finding.verdict == "review" and "outside the answer" in finding.evidence[0]
    hidden = "def rnn_step_forward(p, x, h):\n    return getattr(rnnlib, 'rnn_step_forwarx'[:-1] + 'd')(p, x, h)"
    assert _verdict(hidden).verdict == "review"                     # the runtime trace decides


def test_what_the_books_own_solution_uses_is_allowed():
    master = ("def hidden_states(params, x, h0):\n    h = [h0]\n    for t in range(x.shape[0]):\n"
              "        h.append(rnnlib.rnn_step_forward(params, x[t], h[-1])[0])\n    return np.stack(h)")
    refs = ["rnnlib.rnn.rnn_forward", "rnnlib.rnn.rnn_step_forward"]
    assert copies.allowed_references(master, "hidden_states", refs) == {"rnn_step_forward"}


# ----------------------------------------------------------------------------------------------
# The sandbox's command line
# ----------------------------------------------------------------------------------------------
def test_sandbox_command_isolates(tmp_path):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    from rnnbook.grading.supervisor import RUNNER

    command = sb.sandbox_command(["python", "x"], input_dir=tmp_path, runner=RUNNER)
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent",
                 "--clearenv", "--new-session"):
        assert flag in command
    binds = {command[i + 2]: command[i + 1] for i, arg in enumerate(command)
             if arg in ("--ro-bind", "--ro-bind-try", "--bind", "--dev-bind")}
    assert "--bind" not in command and "--dev-bind" not in command     # nothing of the host writable
    allowed = {"/usr", str(sb.rnnlib_dir()), sys.prefix, os.path.realpath(sys.base_prefix),
               sb.INPUT_PATH, sb.RUNNER_PATH}
    for dest, src in binds.items():
        assert dest in allowed or dest.startswith("/etc/"), dest
    assert binds[sb.RUNNER_PATH] == str(RUNNER) and binds[sb.INPUT_PATH] == str(tmp_path)
    for folder in ("book", "rnnbook", "tests"):
        assert not any(dest.startswith(str(REPO / folder)) for dest in binds)
    env = {command[i + 1]: command[i + 2] for i, arg in enumerate(command) if arg == "--setenv"}
    assert set(env) == set(sb.ENV_ALLOWED)
    if os.geteuid() == 0:
        assert f"--reuid={sb.sandbox_uid(0)}" in command and "--no-new-privs" in command
        assert sb.sandbox_uid(1) == sb.sandbox_uid(0) + 1 != sb.sandbox_uid(0, os.getpid() + 1)
    else:
        assert "--unshare-user" in command


def test_without_bubblewrap_the_error_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    write(tmp_path / "subs", "x", submission(GOOD))
    monkeypatch.setattr(sb.shutil, "which", lambda name: None)
    with pytest.raises(sb.SandboxUnavailable, match="apt-get install bubblewrap"):
        sb.check_sandbox()
    with pytest.raises(SystemExit) as stop:
        grader.main([str(tmp_path / "subs"), "--out", str(tmp_path / "r")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "apt-get install bubblewrap" in err and "--unsafe-no-sandbox" in err
    assert not (tmp_path / "r.csv").exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(SystemExit):
        grader.main([str(tmp_path / "does_not_exist"), "--out", str(tmp_path / "r")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit):
        grader.main([str(tmp_path / "empty"), "--out", str(tmp_path / "r")])
    with pytest.raises(ValueError, match="no exercises registered"):
        grader.assignment_exercises(["no_such_chapter"])
    nb = intake.read_submission(write(tmp_path, "y", submission(GOOD)))
    assert {e.chapter for e in grader.assignment_exercises(None, [nb])} == {"rnn_equations"}


# ----------------------------------------------------------------------------------------------
# Small runs: resume, the unsafe mode
# ----------------------------------------------------------------------------------------------
def test_resume_skips_what_is_done_and_regrades_what_changed(tmp_path):
    bwrap_or_skip()
    subs = tmp_path / "subs"
    write(subs, "good", submission(GOOD))
    write(subs, "bad", submission(WRONG))
    out = tmp_path / "r"
    settings = grader.Settings(timeout=120, check_timeout=30, workroot=str(tmp_path))
    log = report.ResultLog(str(out) + ".results.jsonl")
    graded = []
    first = grader.grade([subs], ["rnn_equations"], settings, jobs=2, log=log, progress=graded.append)
    assert sorted(r.student for r in graded) == ["bad.ipynb", "good.ipynb"]
    assert [r.points for r in first] == [0, 5]
    graded.clear()
    again = grader.grade([subs], ["rnn_equations"], settings, jobs=2, log=log, resume=True,
                         progress=graded.append)
    assert graded == [] and [r.points for r in again] == [0, 5]
    write(subs, "bad", submission(GOOD))                           # a new version of the file
    grader.grade([subs], ["rnn_equations"], settings, jobs=2, log=log, resume=True,
                 progress=graded.append)
    assert [r.student for r in graded] == ["bad.ipynb"] and graded[0].points == 5
    assert len(log.path.read_text().splitlines()) == 3


def test_unsafe_mode_grades_and_warns_in_the_report(tmp_path):
    write(tmp_path / "subs", "good", submission(GOOD))
    out = tmp_path / "r"
    assert grader.main([str(tmp_path / "subs"), "--out", str(out), "--unsafe-no-sandbox",
                        "--jobs", "1", "--workdir", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["warnings"] == [grader.UNSAFE_WARNING]
    sub = data["submissions"][0]
    assert sub["points"] == 5 and sub["sandbox"].startswith("NONE")
    rows = list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert all(row["submission_problems"].startswith("WARNING: graded WITHOUT a sandbox") for row in rows)


def test_the_unprivileged_sandbox_works_too(monkeypatch):
    """The path an ordinary user takes (bwrap makes a user namespace), tried here as uid 65534
    with the system's Python: read-only system, private /tmp, no network, the process limit
    counted inside the sandbox."""
    import subprocess

    bwrap_or_skip()
    python = shutil.which("python3", path="/usr/bin")
    if os.geteuid() != 0 or shutil.which("setpriv") is None or python is None:
        pytest.skip("needs root (to become uid 65534), setpriv and /usr/bin/python3")
    import tempfile
    from pathlib import Path

    tmp_path = Path(tempfile.mkdtemp(prefix="rnnbook-unprivileged-"))   # readable by uid 65534
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "r.py").write_text("pass")
    for path in (tmp_path, folder, folder / "r.py"):
        path.chmod(0o755)
    request_cleanup = lambda: shutil.rmtree(tmp_path, ignore_errors=True)  # noqa: E731
    monkeypatch.setattr(sb, "_python_binds", lambda: [])
    monkeypatch.setattr(sb, "running_as_root", lambda: False)
    probe = ("import os, resource, socket\n"
             "def tries(path):\n"
             "    try:\n        open(path, 'w').write('1')\n        return 'yes'\n"
             "    except OSError:\n        return 'no'\n"
             "print(os.getuid(), [tries(p) for p in ('/tmp/x', '/usr/x', '/dev/x', '/grader/in/x')])\n"
             "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\n    print('net')\n"
             "except OSError:\n    print('no net')\n"
             "resource.setrlimit(resource.RLIMIT_NPROC, (8, 8))\nn = 0\n"
             "try:\n    for i in range(20):\n        if os.fork() == 0:\n"
             "            import time; time.sleep(3); os._exit(0)\n        n += 1\n"
             "except OSError:\n    pass\nprint('forked', n)\n")
    command = sb.sandbox_command([python, "-c", probe], input_dir=folder, runner=folder / "r.py")
    assert "--unshare-user" in command
    try:
        done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
                              + command, capture_output=True, text=True, timeout=60)
    finally:
        request_cleanup()
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    assert lines[0] == "65534 ['yes', 'no', 'no', 'no']" and lines[1] == "no net"
    assert 0 < int(lines[2].split()[1]) < 8


def test_a_repository_under_tmp_stays_visible(tmp_path):
    """A clone under /tmp (CI's fresh clone may be there) is bound on top of the private /tmp."""
    import subprocess
    import tempfile
    from pathlib import Path

    bwrap_or_skip()
    outside = Path(tempfile.mkdtemp(prefix="rnnbook-grade-clone-"))
    try:
        (outside / "lib.txt").write_text("visible")
        for path in (outside, outside / "lib.txt"):
            path.chmod(0o755)
        command = sb.sandbox_command(
            [sb.sandbox_python(), "-I", "-c",
             f"print(open({str(outside / 'lib.txt')!r}).read()); import numpy, rnnlib; print('ok')"],
            input_dir=outside, runner=outside / "lib.txt", extra_ro=[outside])
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.stdout.split() == ["visible", "ok"], done.stderr
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_a_stopped_grader_leaves_no_sandbox_and_resumes(tmp_path):
    """SIGTERM in the middle of a run: the sandboxes and work folders go, the log keeps what was
    done, and --resume grades the rest."""
    import signal
    import subprocess
    import time

    from grading_kit import sandbox_processes

    bwrap_or_skip()
    subs = tmp_path / "subs"
    for i in range(3):
        write(subs, f"s{i}", submission(GOOD, end=["import time\ntime.sleep(4)"] if i else ()))
    work = tmp_path / "work"
    work.mkdir()
    out = tmp_path / "r"
    command = [sys.executable, "-m", "rnnbook.grade", str(subs), "--out", str(out), "--jobs", "1",
               "--workdir", str(work)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "r.results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (log.exists() and log.read_text().count("\n") >= 1):
        time.sleep(0.2)
    time.sleep(1)                                  # the next submission's sandbox is running
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM and "--resume" in err
    done = len(log.read_text().splitlines())
    assert 1 <= done < 3
    assert sandbox_processes(process.pid) == [] and list(work.iterdir()) == []
    assert grader.main(command[3:] + ["--resume"]) == 0
    assert len(log.read_text().splitlines()) == 3
    data = json.loads((tmp_path / "r.json").read_text())
    assert [s["points"] for s in data["submissions"]] == [5, 5, 5]
