"""Grading one submission (trusted side): plan, sandbox runs, judgement.

:func:`grade_submission` never raises. For a readable notebook it

1. writes the runner's input (``plan.json``: the code cells, which are the book's, where each
   exercise's answer is taken; ``cases/<label>/``: the cases chosen now, fixed ones plus fresh
   random ones, as plain data) into a private folder that the sandbox sees read-only;
2. starts the runner in a fresh sandbox and follows its progress frame by frame (cell started,
   cell done, exercise started, observations). The runner keeps the notebook's time limit itself
   (SIGALRM); the supervisor is the backstop: a runner that stops answering (SIGALRM ignored, a
   crash, ``os._exit``, a channel flood) is killed with its whole PID namespace, and a fresh
   sandbox runs again for what is left: the cells before the one that hung, then the exercises
   not yet observed (the one that hung scores 0 with "timeout");
3. loads each exercise's observations strictly (``plain.load``: JSON and ``.npy`` without pickle,
   size and depth caps) and judges them with the checker's ``judge`` in this process
   (``judge_observations``: its own reference, points never above the maximum);
4. sets an answer that is the library's reference (static analysis of the source,
   :mod:`.copies`, and the runtime trace) to 0 points with the evidence, and flags what it cannot
   decide for review.
"""
from __future__ import annotations

import ast
import json
import os
import queue
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rnnbook import sandbox as sb
from rnnbook.grading import copies
from rnnbook.grading.book import book_cells, master_solution
from rnnbook.grading.intake import Unreadable, grade_id, read_submission
from rnnbook.grading.report import ExerciseGrade, SubmissionReport, clean_text
from rnnbook.notebooks import CHECK_CALL, solution_function_names

RUNNER = Path(__file__).with_name("runner.py")
#: sandboxes and work folders in use, so that a stopped grader can clean up (see stop_all)
ACTIVE = {"processes": set(), "folders": set()}
#: Set when the grader is stopping (a signal): no sandbox or work folder may start after it.
STOPPING = threading.Event()
_ACTIVE_LOCK = threading.Lock()
STARTUP_TIMEOUT = 90           # seconds for the sandbox and the runner's imports
GRACE = 5                      # seconds past a limit before the supervisor kills the sandbox
MAX_HEADER = 64 * 1024


@dataclass
class Settings:
    timeout: float = 600              # seconds for the notebook's cells (each sandbox run)
    check_timeout: float = 60         # seconds for each exercise's calls
    max_output: int = 100_000         # characters a student's own cell may print
    max_observation_bytes: int = 32 * 1024 ** 2
    max_depth: int = 32
    max_size: int = 32 * 1024 ** 2    # bytes of a submission file
    limits: sb.Limits = field(default_factory=sb.Limits)
    sandbox: bool = True
    seed: int | None = None           # None: fresh cases for every submission
    workroot: str | None = None       # where the per-submission work folders go (default: TMPDIR)


# ----------------------------------------------------------------------------------------------
# The plan
# ----------------------------------------------------------------------------------------------
def candidate_names(entry, cells):
    """Names the answer to ``entry`` may be bound to, best first (expected, check() argument,
    functions its solution cell defines)."""
    names = [entry.answer_name] if entry.answer_name else []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for match in CHECK_CALL.finditer(cell["source"]):
            if match["label"] == entry.label and match["answer"] not in names and "." not in match["answer"]:
                names.append(match["answer"])
    for cell in cells:
        if cell["cell_type"] == "code" and grade_id(cell) == entry.label:
            for name in solution_function_names(cell["source"]):
                if name not in names:
                    names.append(name)
    return names


def _only_checks(source):
    """True when a cell only calls check(...) (the book's check cells: the grader checks itself)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return bool(tree.body) and all(
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == "check"
        for stmt in tree.body)


def make_plan(nb, code_exercises, settings, book):
    """The runner's plan and, per code cell number, (source, is_book) for the analysis."""
    names = {e.label: candidate_names(e, nb.cells) for e in code_exercises}
    cells, number = [], 0
    for cell in nb.cells:
        if cell["cell_type"] != "code":
            continue
        number += 1
        source = cell["source"]
        is_book = book.is_book_cell(cell)
        checks = [m["label"] for m in CHECK_CALL.finditer(source) if m["label"] in names]
        gid = grade_id(cell)
        cells.append({"index": number, "source": source, "book": is_book,
                      "skip": is_book and _only_checks(source),
                      "snap_before": checks, "snap_after": [gid] if gid in names else []})
    exercises = [{"label": e.label, "names": names[e.label], "answer_kind": e.answer_kind,
                  "references": list(e.references), "timeout": settings.check_timeout,
                  "max_bytes": settings.max_observation_bytes, "max_depth": settings.max_depth}
                 for e in code_exercises]
    plan = {"cells": cells, "exercises": exercises, "timeout": settings.timeout,
            "max_output": settings.max_output, "stop_before": None,
            "limits": {"processes": settings.limits.processes}}
    return plan, names


# ----------------------------------------------------------------------------------------------
# One sandbox run
# ----------------------------------------------------------------------------------------------
class _Channel(threading.Thread):
    """Reads the runner's frames into a queue, within a byte budget; ("eof", why) at the end."""

    def __init__(self, fd, budget, files_dir):
        super().__init__(daemon=True)
        self.fd, self.budget, self.files_dir = fd, budget, Path(files_dir)
        self.events = queue.Queue()
        self.used = 0

    def _read(self, n):
        chunks, left = [], n
        while left:
            chunk = os.read(self.fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def run(self):
        why = "closed"
        try:
            while True:
                size = struct.unpack(">I", self._read(4))[0]
                if size > MAX_HEADER:
                    why = "a frame header larger than allowed"
                    break
                self.used += size + 4
                header = json.loads(self._read(size))
                if not isinstance(header, dict):
                    why = "a malformed frame"
                    break
                payload_size = header.get("size", 0)
                if not isinstance(payload_size, int) or payload_size < 0:
                    why = "a malformed frame"
                    break
                self.used += payload_size
                if self.used > self.budget:
                    why = f"more than {self.budget} bytes on the grader's channel"
                    break
                if header.get("type") == "file":
                    self._save(header, payload_size)
                elif payload_size:
                    self._read(payload_size)
                self.events.put(("frame", header))
        except EOFError:
            why = "closed"
        except (ValueError, OSError, UnicodeDecodeError, RecursionError) as error:
            why = f"a malformed frame ({type(error).__name__})"
        self.events.put(("eof", why))

    def _save(self, header, size):
        label, name = str(header.get("label", "")), str(header.get("name", ""))
        data = self._read(size)
        if not _safe_name(label) or not _safe_name(name):
            return
        folder = self.files_dir / label
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def _safe_name(name):
    return bool(name) and len(name) < 200 and "/" not in name and "\\" not in name \
        and name not in (".", "..") and "\0" not in name


@dataclass
class RunState:
    """What the supervisor learned from the runs so far."""

    cells: dict = field(default_factory=dict)          # index -> last cell frame
    exercises: dict = field(default_factory=dict)      # label -> exercise frame (+ "files" dir)
    hung: dict = field(default_factory=dict)           # label -> why it scored 0 (timeout, crash)
    problems: list = field(default_factory=list)
    status: str = "graded"
    stderr: str = ""


def _stderr_reader(pipe, sink, limit=4000):
    kept = b""
    try:
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                break
            if len(kept) < limit:
                kept += chunk[: limit - len(kept)]
    except (OSError, ValueError):
        pass
    sink.append(kept.decode("utf-8", "replace"))


def _descendants(pid):
    """PIDs of every process below ``pid`` (read from /proc), children first."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier and p not in found]
        found += children
        frontier = children
    return found


def _uid_processes(first, last=None):
    """PIDs of live (not zombie) processes running as a uid from ``first`` to ``last``."""
    last = first if last is None else last
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as handle:
                    status = dict(line.split(":", 1) for line in handle if ":" in line)
                if first <= int(status["Uid"].split()[1]) <= last and not status["State"].strip().startswith("Z"):
                    found.append(int(entry))
            except (OSError, ValueError, KeyError):
                continue
    return found


def _gone(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            return any(line.startswith("State:") and "Z" in line.split()[1] for line in handle)
    except OSError:
        return True


def _kill(process):
    """Kill the sandbox: bwrap's process group, its children (the PID namespace's init, whose
    death takes the namespace with it) and, as root, whatever still runs under the sandbox's
    uid; then wait until they are gone, so no sandbox outlives the call."""
    victims = _descendants(process.pid)
    uid = getattr(process, "sandbox_uid", None)
    for target in (lambda: os.killpg(process.pid, signal.SIGKILL), lambda: process.kill(),
                   *[lambda pid=pid: os.kill(pid, signal.SIGKILL) for pid in victims]):
        try:
            target()
        except (ProcessLookupError, PermissionError, OSError):
            pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        left = [pid for pid in victims if not _gone(pid)]
        if uid is not None:
            left += _uid_processes(uid)
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass
        time.sleep(0.05)


def run_sandbox(input_dir, files_dir, plan, settings, slot):
    """Run the runner once on ``plan``; return (frames, end) where end is "done" or a reason,
    with the position: ("cell", index) or ("exercise", label) or ("start", None)."""
    read_fd, write_fd = os.pipe()
    budget = (len(plan["exercises"]) + 1) * (settings.max_observation_bytes + (1 << 20)) + (4 << 20)
    channel = _Channel(read_fd, budget, files_dir)
    if settings.sandbox:
        command = sb.sandbox_command(
            [sb.sandbox_python(), "-I", sb.RUNNER_PATH, sb.INPUT_PATH, str(write_fd)],
            input_dir=input_dir, runner=RUNNER, limits=settings.limits, slot=slot)
        cwd, env = None, None
    else:
        cwd = Path(input_dir).parent / "work"
        cwd.mkdir(exist_ok=True)
        env = {**sb.sandbox_environment(), "HOME": str(cwd), "TMPDIR": str(cwd), "PWD": str(cwd),
               "MPLCONFIGDIR": str(cwd / ".matplotlib"), "RNNBOOK_GRADER_OUT": str(cwd)}
        command = [sys.executable, "-I", str(RUNNER), str(input_dir), str(write_fd)]
    limits = settings.limits
    if STOPPING.is_set():
        os.close(write_fd)
        raise RuntimeError("the grader is stopping")
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=(write_fd,), cwd=cwd, env=env, start_new_session=True,
            preexec_fn=lambda: sb.set_limits(limits))
    finally:
        os.close(write_fd)
    if settings.sandbox and sb.running_as_root():
        process.sandbox_uid = sb.sandbox_uid(slot)
    with _ACTIVE_LOCK:
        ACTIVE["processes"].add(process)
        stopping = STOPPING.is_set()
    if stopping:                          # started while stop_all ran: it may have missed it
        _kill(process)
    stderr = []
    err_thread = threading.Thread(target=_stderr_reader, args=(process.stderr, stderr), daemon=True)
    err_thread.start()
    channel.start()
    frames, position, end = [], ("start", None), None
    started = time.monotonic()
    deadline = started + STARTUP_TIMEOUT
    # however many frames arrive (a notebook can write into the channel), a run never lasts longer
    final = (started + STARTUP_TIMEOUT + float(plan["timeout"]) + GRACE
             + len(plan["exercises"]) * (float(settings.check_timeout) + 30 + GRACE))
    hello = False
    try:
        while end is None:
            deadline = min(deadline, final)
            wait = deadline - time.monotonic()
            if wait <= 0:
                end = "timeout"
                break
            try:
                kind, item = channel.events.get(timeout=min(wait, 1.0))
            except queue.Empty:
                continue
            if kind == "eof":
                end = "done" if frames and frames[-1].get("type") == "done" else item
                break
            frames.append(item)
            kind = item.get("type")
            now = time.monotonic()
            if kind == "hello" and not hello:
                hello = True
                deadline = now + float(plan["timeout"]) + GRACE
            elif kind == "cell-start":
                position = ("cell", item.get("index"))
            elif kind == "cell":
                position = ("cell-done", item.get("index"))
            elif kind == "exercise-start":
                position = ("exercise", item.get("label"))
                deadline = now + float(settings.check_timeout) + GRACE
            elif kind in ("exercise", "exercise-error"):
                position = ("exercise-done", item.get("label"))
                deadline = now + 60 + GRACE      # sending files, then the next exercise starts
            elif kind == "done":
                end = "done"
    finally:
        _kill(process)
        with _ACTIVE_LOCK:
            ACTIVE["processes"].discard(process)
        channel.join(timeout=10)
        try:
            os.close(read_fd)
        except OSError:
            pass
        err_thread.join(timeout=5)
    return frames, end, position, (stderr[0] if stderr else "")


# ----------------------------------------------------------------------------------------------
# Grading one submission
# ----------------------------------------------------------------------------------------------
def _first_line(source):
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:80]
    return ""


def _record_frames(frames, state, plan, settings, seen_cells):
    cells = {c["index"]: c for c in plan["cells"]}
    results_this_run = set()
    for frame in frames:
        kind = frame.get("type")
        if kind == "cell":
            index = frame.get("index")
            if index in seen_cells or index not in cells:
                continue
            seen_cells.add(index)
            cell = cells[index]
            where = f"code cell {index} ({_first_line(cell['source'])!r})"
            if frame.get("error"):
                state.problems.append(f"{where} raised {clean_text(frame['error'], 300)}")
            if frame.get("timeout"):
                state.status = "timed out"
                state.problems.append(f"{where} was still running at the time limit of "
                                      f"{settings.timeout:g} s (an infinite loop?); it was stopped "
                                      "and later cells did not run")
            output = frame.get("output", 0)
            if isinstance(output, int) and output > settings.max_output and not cell["book"]:
                state.problems.append(f"{where} printed more than {settings.max_output} characters "
                                      "(not kept)")
        elif kind in ("exercise", "exercise-error"):
            label = frame.get("label")
            if not isinstance(label, str) or label in state.hung:
                continue
            if label in results_this_run:        # the runner sends one: the rest was forged
                state.hung[label] = "forged"
                state.exercises.pop(label, None)
                continue
            results_this_run.add(label)
            if label not in state.exercises:
                state.exercises[label] = frame


def run_all(nb, plan, settings, slot, workdir):
    """Run the sandbox as often as needed to observe every exercise; return a RunState."""
    state = RunState()
    input_dir = Path(workdir) / "in"
    files_dir = Path(workdir) / "observations"
    todo = [e["label"] for e in plan["exercises"]]
    stop_before = None
    seen_cells = set()
    runs = 0
    while True:
        runs += 1
        run_plan = dict(plan, stop_before=stop_before,
                        exercises=[e for e in plan["exercises"]
                                   if e["label"] not in state.exercises and e["label"] not in state.hung])
        (input_dir / "plan.json").write_text(json.dumps(run_plan), encoding="utf-8")
        frames, end, position, stderr = run_sandbox(input_dir, files_dir, run_plan, settings, slot)
        _record_frames(frames, state, run_plan, settings, seen_cells)
        if end == "done":
            break
        if not any(f.get("type") == "hello" for f in frames):
            state.status = "grader error"
            state.problems.append("the sandbox did not start the grader's runner"
                                  + (f": {clean_text(stderr.strip().splitlines()[-1], 300)}"
                                     if stderr.strip() else ""))
            break
        where, which = position
        why = "was still running at its time limit" if end == "timeout" else \
            f"ended the grader's process ({clean_text(end, 120)})"
        if where == "cell":
            cell = next((c for c in plan["cells"] if c["index"] == which), None)
            text = _first_line(cell["source"]) if cell else ""
            state.status = "timed out" if end == "timeout" else "stopped"
            state.problems.append(f"code cell {which} ({text!r}) {why}; it and later cells did not "
                                  "run")
            stop_before = which
            seen_cells.add(which)
        elif where == "exercise":
            state.hung[which] = "timeout" if end == "timeout" else "crash"
        elif where == "cell-done" and which is not None:
            stop_before = which + 1            # it died between cells: skip to the next one
        else:                                  # between exercises: the next one is the culprit
            remaining = [l for l in todo if l not in state.exercises and l not in state.hung]
            if remaining:
                state.hung[remaining[0]] = "crash"
        remaining = [l for l in todo if l not in state.exercises and l not in state.hung]
        if not remaining or runs > len(todo) + 2:
            break
    return state


def judge_exercise(entry, state, cases, finding, files_dir, settings, report_status):
    """The ExerciseGrade of one code exercise from what the runs observed."""
    from rnnlib.exercises import judge_observations
    from rnnlib.exercises import plain

    def make(status, feedback, points=0.0, review=()):
        return ExerciseGrade(entry.label, entry.chapter, entry.kind, status,
                             float(min(max(points, 0.0), entry.points)), float(entry.points),
                             clean_text(feedback), [clean_text(r, 300) for r in review])

    name = entry.answer_name or "the answer"
    if entry.label in state.hung:
        how = state.hung[entry.label]
        if how == "timeout":
            return make("timeout", f"your answer was stopped after {settings.check_timeout:g} s "
                        "(an infinite loop?)")
        if how == "forged":
            return make("error", "0 points: the grader received more than one result for this "
                        "exercise, so the notebook wrote into the grader's own channel",
                        review=["forged results on the grader's channel"])
        return make("error", "your answer ended the grader's process while it was being checked "
                    "(os._exit, a crash, or too much output on the grader's channel)")
    frame = state.exercises.get(entry.label)
    if frame is None:
        if report_status in ("timed out", "stopped"):
            return make("missing", f"not graded: the notebook stopped ({report_status}) before "
                        f"`{name}` was defined or could be checked")
        return make("missing", "not graded: the grader's run ended before this exercise")
    if frame.get("type") == "exercise-error":
        return make("error", f"could not send your answer's results back: {frame.get('error', '')}")
    if not frame.get("found") and report_status in ("timed out", "stopped"):
        return make("missing", f"not graded: the notebook stopped ({report_status}) before "
                    f"`{name}` was defined")
    if not frame.get("found"):
        return make("missing", f"no answer found: `{name}` is not defined (was the solution cell "
                    f"with grade_id {entry.label!r} deleted, or did it raise an error?)")
    if frame.get("timeout"):
        return make("timeout", f"your answer was stopped after {settings.check_timeout:g} s "
                    "(an infinite loop?)")
    found = str(frame.get("found"))
    origin = frame.get("origin") if isinstance(frame.get("origin"), dict) else {}
    allowed = getattr(finding, "allowed", set())
    trace = [str(t) for t in frame.get("trace", []) if isinstance(t, str)
             and not (t.startswith("called rnnlib")
                      and copies.base_name(t[7:].split(" ")[0]) in allowed)][:10]
    reads = [str(t) for t in frame.get("reads", []) if isinstance(t, str)][:10]
    try:
        observations = plain.load(files_dir / entry.label, max_bytes=settings.max_observation_bytes,
                                  max_depth=settings.max_depth)
        result = judge_observations(entry.label, cases, observations)
        status, feedback, points = result.status, result.feedback, float(result.points)
    except Exception as error:
        status, feedback, points = "error", ("your answer's results could not be read back "
                                             f"({type(error).__name__}: {str(error)[:200]})"), 0.0
    review = list(finding.evidence) if finding.verdict == "review" else []
    review += [f"runtime: {r}" for r in reads]
    library = origin.get("library_code") or any(t.startswith("called ") for t in trace
                                                 if "sys.set" not in t)
    if finding.verdict == "copy" or library:
        evidence = list(finding.evidence if finding.verdict == "copy" else [])
        if origin.get("library_code"):
            evidence.insert(0, f"`{found}` is rnnlib's own code ({origin.get('module')}."
                            f"{origin.get('code_name')}" + (f", wrapped in {', '.join(origin['wrapped'])}"
                                                            if origin.get("wrapped") else "") + ")")
        evidence += [f"while graded, your answer {t}" for t in trace if "sys.set" not in t]
        return make("copy", "0 points: your answer uses the library's own implementation of this "
                    "exercise (rnnlib's reference solution), not your code:\n- "
                    + "\n- ".join(evidence[:5]), 0.0, evidence)
    review += [f"runtime: {t}" for t in trace if "sys.set" in t]
    if entry.answer_name and found != entry.answer_name:
        feedback = (f"(graded your `{found}`: the exercise expects the name `{entry.answer_name}`, "
                    "so cells that use that name fail)\n" + feedback)
    return make(status, feedback, points, review)


def grade_submission(submission, expected, settings, slot=0, book_dir=None):
    """Grade one Submission against the Exercise list ``expected``; never raises."""
    from rnnlib.exercises import make_cases
    from rnnlib.exercises import plain
    import numpy as np

    report = SubmissionReport(student=submission.student, file=str(submission.path),
                              sandbox="bubblewrap" if settings.sandbox else "NONE (--unsafe-no-sandbox)")
    start = time.monotonic()
    workdir = None
    try:
        if submission.symlink:
            raise Unreadable("refused: the submission is a symbolic link", "refused")
        nb = read_submission(submission.path, settings.max_size)
        report.sha256 = nb.sha256
        report.problems += nb.problems
        code = [e for e in expected if e.kind == "code"]
        book = book_cells({e.chapter for e in expected}, book_dir)
        plan, names = make_plan(nb, code, settings, book)
        workdir = Path(tempfile.mkdtemp(prefix="rnnbook-grade-", dir=settings.workroot))
        with _ACTIVE_LOCK:
            ACTIVE["folders"].add(workdir)
        if STOPPING.is_set():
            raise RuntimeError("the grader is stopping")
        input_dir = workdir / "in"
        (input_dir / "cases").mkdir(parents=True)
        seed = settings.seed if settings.seed is not None else int.from_bytes(os.urandom(8), "big")
        report.seed = str(seed)
        rng = np.random.default_rng(seed)
        cases, broken = {}, {}
        for entry in code:
            try:
                cases[entry.label] = make_cases(entry.label, rng)
                plain.dump([c.as_plain() for c in cases[entry.label]],
                           input_dir / "cases" / entry.label, max_bytes=settings.max_observation_bytes)
            except Exception as error:      # a checker the grader cannot run: that exercise only
                broken[entry.label] = f"{type(error).__name__}: {clean_text(error, 200)}"
        plan["exercises"] = [e for e in plan["exercises"] if e["label"] not in broken]
        os.chmod(workdir, 0o755)
        for folder, dirs, files in os.walk(input_dir):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        state = run_all(nb, plan, settings, slot, workdir)
        report.status = state.status
        report.problems += state.problems
        analysis_cells = [(c["source"], c["book"], c["index"]) for c in plan["cells"]]
        notes = []
        for entry in expected:
            if entry.kind != "code":
                report.exercises.append(ExerciseGrade(entry.label, entry.chapter, entry.kind,
                                                      "manual", 0.0, float(entry.points),
                                                      "written exercise: grade by hand"))
                continue
            if entry.label in broken:
                report.exercises.append(ExerciseGrade(
                    entry.label, entry.chapter, entry.kind, "error", 0.0, float(entry.points),
                    "not graded: the grader cannot run this exercise's checker ("
                    f"{broken[entry.label]}); please report it"))
                continue
            frame = state.exercises.get(entry.label) or {}
            answer_name = frame.get("found") if isinstance(frame.get("found"), str) else None
            allowed = copies.allowed_references(master_solution(entry.chapter, entry.label, book_dir),
                                                entry.answer_name, entry.references)
            references = [r for r in entry.references if copies.base_name(r) not in allowed]
            finding = copies.analyse(analysis_cells, answer_name, references, entry.label)
            finding.allowed = allowed
            for note in finding.tampering:
                if note not in notes:
                    notes.append(note)
            report.exercises.append(judge_exercise(entry, state, cases[entry.label], finding,
                                                   workdir / "observations", settings,
                                                   report.status))
        if notes:
            report.problems.append("flagged for review: " + "; ".join(notes))
    except Unreadable as error:
        report.status = error.status
        report.problems.append(error.reason)
        report.exercises = [_not_graded(e, f"not graded: {error.reason}") for e in expected]
    except Exception as error:  # a bug of the grader must not stop the other submissions
        report.status = "grader error"
        report.problems.append(f"grader error: {type(error).__name__}: {clean_text(error, 300)}")
        report.exercises = [_not_graded(e, "not graded: grader error") for e in expected]
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
            with _ACTIVE_LOCK:
                ACTIVE["folders"].discard(workdir)
    report.seconds = time.monotonic() - start
    return report


def stop_all():
    """Kill every sandbox still running and remove the work folders (the grader is stopping).
    Workers see STOPPING and start nothing new; what they started meanwhile is caught by the
    next round."""
    STOPPING.set()
    for _ in range(3):
        with _ACTIVE_LOCK:
            processes, folders = list(ACTIVE["processes"]), list(ACTIVE["folders"])
        for process in processes:
            _kill(process)
        if sb.running_as_root():             # a sandbox started while we were stopping
            first = sb.sandbox_uid(0)
            for pid in _uid_processes(first, first + sb.SLOTS_PER_GRADER - 1):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        time.sleep(0.1)


def _not_graded(entry, why):
    if entry.kind != "code":
        return ExerciseGrade(entry.label, entry.chapter, entry.kind, "manual", 0.0,
                             float(entry.points), "written exercise: grade by hand")
    return ExerciseGrade(entry.label, entry.chapter, entry.kind, "missing", 0.0,
                         float(entry.points), why)
