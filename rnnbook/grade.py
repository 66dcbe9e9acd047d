"""The autograder: ``python -m rnnbook.grade SUBMISSION... --out report [--jobs N] [--resume]``.

Each SUBMISSION is a notebook, or a folder searched for notebooks (``*.ipynb``, recursively,
symlinks not followed). A student's id is the notebook's path relative to the folder given
(``a/alice.ipynb`` and ``b/alice.ipynb`` are two students).

Each submission runs in its own bubblewrap sandbox (``rnnbook/sandbox.py``: read-only Python
environment and rnnlib, a private size-limited /tmp, no network, its own PID namespace, limits
on memory, processes, open files and file size, an allow-listed environment). Inside, the
runner (``rnnbook/grading/runner.py``) executes the code cells in an in-process IPython shell,
then calls each code exercise's answer on cases the grader chose now (fixed ones plus fresh
random ones) and sends back plain data only. The verdict is reached here, outside the student's
process: the observations are loaded strictly and judged by the checker's ``judge`` against the
reference it computes itself (``rnnlib.exercises.judge_observations``); points never exceed an
exercise's maximum. An answer that uses the library's own solution scores 0 with the evidence
(``rnnbook/grading/copies.py`` and the runtime trace), or is flagged for review. See
``book/instructors.md`` ("Grade submissions") for what the sandbox does and does not protect
against.

Which exercises make the assignment: the chapters given with ``--chapter``, else every chapter
whose exercises the submissions mention (solution cells' grade_ids, check cells).

Outputs (``--out report``): ``report.results.jsonl`` (one line per submission, written as soon
as it is graded; ``--resume`` skips the submissions it already holds with the same content),
then ``report.csv`` (one row per student and exercise), ``report.json`` and
``report.canvas.csv`` (a Canvas gradebook: Student, ID, SIS User ID, SIS Login ID, Section, one
column per chapter; ``--canvas-roster`` fills the ids from a Canvas export).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from rnnbook import sandbox as sb
from rnnbook.grading.intake import Unreadable, find_submissions, grade_id, read_submission
from rnnbook.grading.report import (CSV_FIELDS, ExerciseGrade, ResultLog, SubmissionReport,
                                    out_paths, read_roster, summary, write_report)
from rnnbook.grading.supervisor import STOPPING, Settings, grade_submission, stop_all
from rnnbook.notebooks import CHECK_CALL

__all__ = ["grade", "main", "find_submissions", "assignment_exercises", "CSV_FIELDS",
           "ExerciseGrade", "SubmissionReport", "Settings", "UNSAFE_WARNING"]

DEFAULT_TIMEOUT = 600
DEFAULT_CHECK_TIMEOUT = 60
DEFAULT_MAX_OUTPUT = 100_000
UNSAFE_WARNING = ("graded WITHOUT a sandbox (--unsafe-no-sandbox): the submissions' code ran "
                  "with the grader's own user, files and network; use this for trusted notebooks only")


def mentioned_labels(nb):
    """Exercise labels a notebook mentions: solution cells' grade_ids and check() calls."""
    labels = set()
    for cell in nb.cells:
        if cell["cell_type"] != "code":
            continue
        if grade_id(cell):
            labels.add(grade_id(cell))
        labels.update(m["label"] for m in CHECK_CALL.finditer(cell["source"]))
    return labels


def assignment_exercises(chapters=None, notebooks=()):
    """Registered exercises of ``chapters`` (or of every chapter the notebooks mention)."""
    from rnnlib.exercises import list_exercises

    registry = {e.label: e for e in list_exercises()}
    if not chapters:
        labels = set().union(*(mentioned_labels(nb) for nb in notebooks)) if notebooks else set()
        chapters = {registry[label].chapter for label in labels if label in registry}
    unknown = set(chapters) - {e.chapter for e in registry.values()}
    if unknown:
        raise ValueError(f"no exercises registered for chapter(s) {sorted(unknown)}; known: "
                         f"{sorted({e.chapter for e in registry.values()})}")
    return [e for e in list_exercises() if e.chapter in set(chapters)]


def _readable(submissions, settings):
    for sub in submissions:
        if sub.symlink:
            continue
        try:
            yield read_submission(sub.path, settings.max_size)
        except Unreadable:
            continue
        except Exception:
            continue


def grade(paths, chapters=None, settings=None, jobs=None, log=None, resume=False, progress=None):
    """Grade every submission under ``paths``; return the SubmissionReports (sorted by student).

    ``log`` (a ResultLog) gets one line per submission as soon as it is graded; with ``resume``,
    submissions already in it (same sha256) are not graded again.
    """
    settings = settings or Settings()
    submissions = find_submissions(paths)
    expected = assignment_exercises(chapters, list(_readable(submissions, settings)))
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    done = log.read() if (log is not None and resume) else {}
    if log is not None and not resume:
        log.clear()
    reports, todo = {}, []
    for sub in submissions:
        previous = done.get(sub.student)
        if previous is not None and previous.file == str(sub.path) and _same_content(sub, previous):
            reports[sub.student] = previous
        else:
            todo.append(sub)
    slots = list(range(jobs))
    lock = threading.Lock()

    def one(sub):
        with lock:
            slot = slots.pop()
        try:
            report = grade_submission(sub, expected, settings, slot=slot)
        finally:
            with lock:
                slots.append(slot)
        if log is not None and not STOPPING.is_set():   # a stopped run logs nothing half done
            with lock:
                log.append(report)
        if progress:
            progress(report)
        return report

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(one, sub) for sub in todo]
        for future in as_completed(futures):
            report = future.result()
            reports[report.student] = report
    if log is not None:                  # the report is assembled from the log's lines
        logged = log.read()
        reports.update({k: v for k, v in logged.items() if k in reports})
    return [reports[s.student] for s in submissions]


def _same_content(sub, previous):
    import hashlib

    if not previous.sha256:
        return previous.status in ("refused", "unreadable", "not a notebook", "too large")
    try:
        with open(sub.path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest() == previous.sha256
    except OSError:
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m rnnbook.grade",
                                     description="Grade submitted notebooks, each in its own sandbox.")
    parser.add_argument("submissions", nargs="+", type=Path, help="notebooks or folders of notebooks")
    parser.add_argument("--out", type=Path, default=Path("report"),
                        help="report path without suffix: OUT.csv, OUT.json, OUT.canvas.csv, "
                             "OUT.results.jsonl")
    parser.add_argument("--chapter", action="append",
                        help="grade the exercises of this chapter (repeatable; default: the "
                             "chapters the submissions mention)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: the number of cores, "
                             f"{os.cpu_count() or 1} here)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the submissions already in OUT.results.jsonl (same content)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds for a notebook's cells (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--check-timeout", type=float, default=DEFAULT_CHECK_TIMEOUT,
                        help=f"seconds for each exercise's calls (default {DEFAULT_CHECK_TIMEOUT})")
    parser.add_argument("--max-output", type=int, default=DEFAULT_MAX_OUTPUT,
                        help="characters a student's own cell may print before it is reported")
    parser.add_argument("--memory", type=float, default=sb.Limits.memory / 1024 ** 3,
                        help="GiB of virtual memory per sandboxed process (default %(default)g)")
    parser.add_argument("--processes", type=int, default=sb.Limits.processes,
                        help="processes and threads per sandbox (default %(default)s)")
    parser.add_argument("--disk", type=float, default=sb.Limits.tmp_size / 1024 ** 2,
                        help="MiB of the sandbox's /tmp (default %(default)g)")
    parser.add_argument("--max-size", type=float, default=32,
                        help="MiB a submission file may have (default %(default)g)")
    parser.add_argument("--canvas-roster", type=Path,
                        help="a Canvas gradebook export: fills Student, ID, SIS ids and Section")
    parser.add_argument("--seed", type=int, help="fixed seed for the random cases (default: fresh)")
    parser.add_argument("--workdir", type=Path,
                        help="folder for the per-submission work folders (default: TMPDIR)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run the notebooks without bubblewrap (trusted notebooks only)")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.submissions if not p.exists() and not p.is_symlink()]
    if missing:
        parser.error("no such file or folder: " + ", ".join(missing))
    if not find_submissions(args.submissions):
        parser.error("no notebooks found in " + ", ".join(map(str, args.submissions)))
    if not args.unsafe_no_sandbox:
        try:
            sb.check_sandbox()
        except sb.SandboxUnavailable as error:
            parser.exit(2, f"error: {error}\n")
    memory = int(args.memory * 1024 ** 3)
    disk = int(args.disk * 1024 ** 2)
    limits = sb.Limits(memory=memory, processes=args.processes, tmp_size=disk,
                       output_size=2 * Settings.max_observation_bytes + (16 << 20),
                       file_size=max(disk, 1 << 20),
                       cpu_seconds=int(args.timeout + 10 * args.check_timeout + 120))
    settings = Settings(timeout=args.timeout, check_timeout=args.check_timeout,
                        max_output=args.max_output, limits=limits,
                        max_size=int(args.max_size * 1024 ** 2),
                        sandbox=not args.unsafe_no_sandbox, seed=args.seed,
                        workroot=str(args.workdir) if args.workdir else None)
    warnings = [UNSAFE_WARNING] if args.unsafe_no_sandbox else []
    if warnings:
        print(f"WARNING: {UNSAFE_WARNING}", file=sys.stderr)
    paths = out_paths(args.out)
    log = ResultLog(paths["log"])
    start = time.monotonic()

    def stop(signum, frame):             # Ctrl-C or a kill: no sandbox or work folder is left
        stop_all()
        print(f"\nstopped: the submissions graded so far are in {paths['log']}; "
              "run again with --resume to go on", file=sys.stderr)
        os._exit(128 + signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[signum] = signal.signal(signum, stop)
    try:
        reports = grade(args.submissions, args.chapter, settings, args.jobs, log=log,
                        resume=args.resume,
                        progress=lambda r: print(f"graded {r.student}: {r.points:g}/"
                                                 f"{r.max_points:g} ({r.status}, {r.seconds:.0f} s)",
                                                 flush=True))
    except ValueError as error:
        parser.error(str(error))
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    seconds = time.monotonic() - start
    roster = read_roster(args.canvas_roster) if args.canvas_roster else None
    written = write_report(reports, args.out, warnings=warnings, roster=roster,
                           meta={"seconds": round(seconds, 1), "jobs": args.jobs,
                                 "sandbox": "NONE" if args.unsafe_no_sandbox else "bubblewrap"})
    print(summary(reports, warnings))
    print(f"\n{len(reports)} submissions in {seconds:.0f} s with {args.jobs} worker(s)")
    print(f"report: {written['csv']}, {written['json']}, {written['canvas']} "
          f"(per-submission log: {paths['log']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
