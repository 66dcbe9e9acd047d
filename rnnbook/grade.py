"""The autograder: ``python -m rnnbook.grade SUBMISSION... [--timeout S] [--out report]``.

Each SUBMISSION is a notebook, or a folder searched for notebooks (``*.ipynb``, recursively).
The student is the file name without ``.ipynb``. For each submission the grader

1. reads the file (a file that is not a notebook is reported, and scores 0, the others go on);
2. executes it in a fresh kernel (nbclient), in an empty temporary folder, with
   ``OPENBLAS_NUM_THREADS=1`` and ``RNNLIB_EXERCISE_LOG`` set, cell by cell, with errors allowed
   (a cell that raises is reported and the next cells still run) and one time limit for the
   whole notebook (``--timeout``): a cell still running at the limit is interrupted, the cells
   after it are not run, and the submission is reported as timed out; a kernel that does not
   answer the interrupt is killed. Outputs are capped (``--max-output``), so a cell printing
   gigabytes costs neither memory nor the report;
3. grades every code exercise of the assignment with the checker of rnnlib.exercises, in the
   same kernel, each with its own time limit (``--check-timeout``), so an answer that loops
   forever fails that exercise only. The answer graded is taken

   * right after the exercise's solution cell (nbgrader ``grade_id`` = the label) and right
     before its ``check(label, ...)`` cell, wherever those cells now are (reordered cells are
     fine): the name the exercise expects (registry ``answer_name``), else a name passed to
     ``check(label, name)`` in the submission, else the one function the solution cell defines
     (a renamed function is graded, and the feedback says it was renamed);
   * else, if those cells were deleted, that name at the end of the notebook;
   * never rnnlib's own implementation (``rnn_step_forward = rnnlib.rnn_step_forward`` scores 0).

   The grader calls the checkers itself rather than trusting the ``check`` cells' printed
   results; those (logged through ``RNNLIB_EXERCISE_LOG``) are used only when the kernel died
   before the grader could check;
4. lists written exercises with status "manual" (0 points until graded by hand).

Which exercises make the assignment: the chapters given with ``--chapter``, else every chapter
whose exercises the submissions mention (solution cells' grade_ids, check cells), so a student
who deleted everything still gets a row (0 points) for each exercise.

The report (``--out report`` writes ``report.csv`` and ``report.json``): one CSV row per
student and exercise (student, file, chapter, exercise, kind, status, passed, points,
max_points, feedback, submission_status, submission_problems); the JSON holds the same per
submission, with the submission's total and its problems (syntax errors, exceptions, time-outs,
not a notebook, truncated output).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rnnbook.notebooks import CHECK_CALL, cell_source, solution_function_names

DEFAULT_TIMEOUT = 600          # seconds per notebook
DEFAULT_CHECK_TIMEOUT = 60     # seconds per exercise's checker
DEFAULT_MAX_OUTPUT = 100_000   # characters of output kept per cell
_GRADER_TAG = "rnnlib-grader"

_HELPERS = r'''
import json as _rnnlib_json, os as _rnnlib_os
_rnnlib_answers = {}

def _rnnlib_snapshot(label, names):
    g = globals()
    for name in names:
        if name in g:
            _rnnlib_answers[label] = (name, g[name])
            return

def _rnnlib_grade(label, names, path):
    import rnnlib.exercises as ex
    record = {"label": label, "name": None}
    found = _rnnlib_answers.get(label)
    if found is None:
        g = globals()
        found = next(((n, g[n]) for n in names if n in g), None)
    if found is not None:
        name, answer = found
        record["name"] = name
        module = getattr(answer, "__module__", None) or ""
        if module == "rnnlib" or module.startswith("rnnlib."):
            record["library"] = module
        else:
            saved = _rnnlib_os.environ.pop(ex.LOG_ENV_VAR, None)
            try:
                record["result"] = ex.check(label, answer, quiet=True).as_dict()
            finally:
                if saved is not None:
                    _rnnlib_os.environ[ex.LOG_ENV_VAR] = saved
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(_rnnlib_json.dumps(record) + "\n")
'''


@dataclass
class ExerciseGrade:
    label: str
    chapter: str
    kind: str
    status: str          # passed, failed, not attempted, error, missing, timeout, manual
    points: float
    max_points: float
    feedback: str

    @property
    def passed(self):
        return self.status == "passed"


@dataclass
class SubmissionReport:
    student: str
    file: str
    status: str = "graded"            # graded, timed out, kernel died, not a notebook, ...
    problems: list = field(default_factory=list)
    exercises: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def points(self):
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self):
        return sum(e.max_points for e in self.exercises)

    def as_dict(self):
        return {"student": self.student, "file": self.file, "status": self.status,
                "problems": self.problems, "points": self.points, "max_points": self.max_points,
                "seconds": round(self.seconds, 1),
                "exercises": [{**asdict(e), "passed": e.passed} for e in self.exercises]}


# ----------------------------------------------------------------------------------------------
# Reading submissions
# ----------------------------------------------------------------------------------------------
def find_submissions(paths):
    """Notebook files of ``paths`` (files as given; folders searched recursively), sorted, unique."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    unique = []
    for path in found:
        if path.resolve() not in {p.resolve() for p in unique}:
            unique.append(path)
    return unique


def read_notebook(path):
    """(notebook, None) or (None, why it cannot be graded)."""
    import nbformat

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, "file not found"
    except UnicodeDecodeError:
        return None, "not a notebook: the file is not UTF-8 text"
    except OSError as error:
        return None, f"cannot read the file: {error}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return None, f"not a notebook: the file is not JSON ({error})"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "not a notebook: JSON without a list of cells"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:
        return None, f"not a notebook: {type(error).__name__}: {error}"
    for cell in nb.cells:
        if "source" not in cell or "cell_type" not in cell:
            return None, "not a notebook: a cell lacks its source or type"
        if not isinstance(cell.source, str):
            cell.source = "".join(cell.source)
    return nb, None


def mentioned_labels(nb):
    """Exercise labels a notebook mentions: solution cells' grade_ids and check() calls."""
    labels = set()
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            labels.add(grade_id)
        labels.update(m["label"] for m in CHECK_CALL.finditer(cell_source(cell)))
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


# ----------------------------------------------------------------------------------------------
# Executing one submission
# ----------------------------------------------------------------------------------------------
def _candidate_names(entry, nb):
    """Names the answer to ``entry`` may be bound to in the submission, best first."""
    names = [entry.answer_name] if entry.answer_name else []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        for match in CHECK_CALL.finditer(cell_source(cell)):
            if match["label"] == entry.label and match["answer"] not in names and "." not in match["answer"]:
                names.append(match["answer"])
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == entry.label:
            for name in solution_function_names(cell_source(cell)):
                if name not in names:
                    names.append(name)
    return names


def _grader_cell(source):
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    cell.metadata[_GRADER_TAG] = True
    return cell


def _make_client(nb, cwd, timeout, max_output):
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """Keeps at most ``max_output`` characters of each cell's output."""

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {}))) + self.sizes.get(cell_index, 0)
            if size > max_output:
                self.truncated.add(cell_index)
                return None
            self.sizes[cell_index] = size
            return super().output(outs, msg, display_id, cell_index)

    client = CappedClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                          interrupt_on_timeout=False, record_timing=False,
                          resources={"metadata": {"path": str(cwd)}})
    client.truncated, client.sizes = set(), {}
    return client


def _error_of(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
    return None


def _first_line(source):
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:80]
    return ""


def execute_submission(nb, expected, timeout, check_timeout, max_output, workdir):
    """Run ``nb`` with the grader's cells; return (grader records, logged checks, problems, status)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    results_path = Path(workdir) / "grader-results.jsonl"
    log_path = Path(workdir) / "check-log.jsonl"
    code = [e for e in expected if e.kind == "code"]
    names = {e.label: _candidate_names(e, nb) for e in code}

    # The cells to run: the helpers, the submission's cells with a snapshot of the answer right
    # after each solution cell and right before each check cell, then one grading cell per exercise.
    plan = [(_grader_cell(_HELPERS), "setup")]
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        source = cell_source(cell)
        checks = [m["label"] for m in CHECK_CALL.finditer(source) if m["label"] in names]
        for label in checks:
            plan.append((_grader_cell(f"_rnnlib_snapshot({label!r}, {names[label]!r})"), "snapshot"))
        plan.append((cell, "student"))
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in names:
            plan.append((_grader_cell(f"_rnnlib_snapshot({grade_id!r}, {names[grade_id]!r})"), "snapshot"))
    for entry in code:
        source = f"_rnnlib_grade({entry.label!r}, {names[entry.label]!r}, {str(results_path)!r})"
        plan.append((_grader_cell(source), ("grade", entry.label)))

    import nbformat

    run_nb = nbformat.v4.new_notebook()
    run_nb.cells = [cell for cell, _ in plan]
    client = _make_client(run_nb, workdir, timeout, max_output)
    env = {**os.environ, "RNNLIB_EXERCISE_LOG": str(log_path), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    env.pop("RNNBOOK_BUILD", None)
    problems, status = [], "graded"
    deadline = time.monotonic() + timeout
    student_index = 0
    timed_out = {}
    kernel_alive = True
    try:
        with client.setup_kernel(env=env, cwd=str(workdir), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL):
            for index, (cell, role) in enumerate(plan):
                if role == "student":
                    student_index += 1
                    if status == "timed out":
                        continue
                    cell_timeout = deadline - time.monotonic()
                    if cell_timeout <= 0:
                        status = "timed out"
                        problems.append(f"time limit of {timeout:g} s reached before code cell "
                                        f"{student_index}; it and later cells did not run")
                        continue
                elif role == "snapshot" or role == "setup":
                    if status == "timed out" and role == "snapshot":
                        continue
                    cell_timeout = 30
                else:
                    cell_timeout = check_timeout
                client.timeout = max(1, int(cell_timeout + 0.999))
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    if role == "student":
                        status = "timed out"
                        problems.append(f"code cell {student_index} ({_first_line(cell_source(cell))!r}) "
                                        f"was still running at the time limit of {timeout:g} s (an "
                                        "infinite loop?); it was interrupted and later cells did not run")
                    elif isinstance(role, tuple):
                        timed_out[role[1]] = check_timeout
                    if not _interrupt(client):
                        kernel_alive = False
                        problems.append("the kernel did not answer the interrupt and was killed")
                        break
                    continue
                error = _error_of(cell) if role == "student" else None
                if error:
                    problems.append(f"code cell {student_index} ({_first_line(cell_source(cell))!r}) "
                                    f"raised {error}")
                if index in client.truncated and role == "student":
                    problems.append(f"code cell {student_index} printed more than {max_output} "
                                    "characters; its output was cut")
                if role == "setup":
                    deadline = time.monotonic() + timeout   # the kernel is up: the clock starts
                if role == "setup" and _error_of(cell):
                    problems.append(f"the grader's setup failed: {_error_of(cell)}")
    except DeadKernelError as error:
        kernel_alive = False
        status = "kernel died"
        problems.append(f"the kernel died (at code cell {student_index}): {error}")
    except Exception as error:  # the kernel could not start, or nbclient failed
        kernel_alive = False
        status = "grader error"
        problems.append(f"execution failed: {type(error).__name__}: {error}")
    records = _read_jsonl(results_path)
    logged = _read_jsonl(log_path)
    for label, seconds in timed_out.items():
        records.append({"label": label, "timeout": seconds})
    if not kernel_alive and status == "graded":
        status = "kernel killed"
    return records, logged, problems, status


def _interrupt(client):
    """Interrupt the kernel and wait until it runs a trivial cell again; False if it does not."""
    import nbformat
    from nbclient.util import run_sync

    try:
        run_sync(client.km.interrupt_kernel)()
        probe = _grader_cell("pass")
        client.nb.cells.append(probe)
        client.timeout = 15
        client.execute_cell(probe, len(client.nb.cells) - 1)
        return True
    except Exception:
        return False


def _read_jsonl(path):
    records = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return records
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


# ----------------------------------------------------------------------------------------------
# Grading
# ----------------------------------------------------------------------------------------------
def _grade_from_records(entry, records, logged, status):
    def make(status_, feedback, points=0.0):
        return ExerciseGrade(entry.label, entry.chapter, entry.kind, status_, points, entry.points,
                             feedback)

    if entry.kind == "written":
        return make("manual", "written exercise: grade by hand")
    mine = [r for r in records if r.get("label") == entry.label]
    timeout = next((r for r in mine if "timeout" in r), None)
    if timeout:
        return make("timeout", f"the checker stopped your function after {timeout['timeout']:g} s "
                    "(an infinite loop?)")
    record = next((r for r in mine if "timeout" not in r), None)
    if record is not None and record.get("library"):
        return make("failed", f"`{record['name']}` is rnnlib's own implementation "
                    f"({record['library']}), not your code")
    if record is not None and "result" in record:
        result = record["result"]
        feedback = result.get("feedback", "")
        expected_name = entry.answer_name
        if expected_name and record["name"] != expected_name:
            feedback = (f"(graded your `{record['name']}`: the exercise expects the name "
                        f"`{expected_name}`, so cells that use that name fail)\n" + feedback)
        return make(result["status"], feedback, float(result.get("points", 0)))
    # No grader record: fall back to what the notebook's own check cells logged.
    own = [r for r in logged if r.get("label") == entry.label]
    if record is None and own:
        result = own[-1]
        return make(result["status"], "(from the notebook's own check cell; the grader could not "
                    f"check it after the notebook stopped)\n{result.get('feedback', '')}",
                    float(result.get("points", 0)))
    name = entry.answer_name or "the answer"
    if status in ("not a notebook", "unreadable"):
        return make("missing", f"not graded: the submission is not a readable notebook ({status})")
    if status in ("timed out", "kernel died", "kernel killed"):
        return make("missing", f"not graded: the notebook stopped ({status}) before `{name}` "
                    "was defined or could be checked")
    return make("missing", f"no answer found: `{name}` is not defined (was the solution cell "
                f"with grade_id {entry.label!r} deleted, or did it raise an error?)")


def grade_submission(path, expected, timeout=DEFAULT_TIMEOUT, check_timeout=DEFAULT_CHECK_TIMEOUT,
                     max_output=DEFAULT_MAX_OUTPUT):
    """Grade one submission file against the exercises ``expected``; never raises."""
    path = Path(path)
    report = SubmissionReport(student=path.name.removesuffix(".ipynb"), file=str(path))
    start = time.monotonic()
    try:
        nb, why = read_notebook(path)
        if nb is None:
            report.status = "not a notebook" if why.startswith("not a notebook") else "unreadable"
            report.problems.append(why)
            records, logged = [], []
        else:
            with tempfile.TemporaryDirectory(prefix="rnnlib-grade-") as workdir:
                records, logged, problems, status = execute_submission(
                    nb, expected, timeout, check_timeout, max_output, workdir)
            report.problems += problems
            report.status = status
        report.exercises = [_grade_from_records(e, records, logged, report.status) for e in expected]
    except Exception as error:  # a bug of the grader must not stop the other submissions
        report.status = "grader error"
        report.problems.append(f"{type(error).__name__}: {error}")
        report.exercises = [ExerciseGrade(e.label, e.chapter, e.kind, "error", 0.0, e.points,
                                          "not graded: grader error") for e in expected]
    report.seconds = time.monotonic() - start
    return report


def _grade_one(args):
    return grade_submission(*args)


def grade(paths, chapters=None, timeout=DEFAULT_TIMEOUT, check_timeout=DEFAULT_CHECK_TIMEOUT,
          max_output=DEFAULT_MAX_OUTPUT, jobs=1):
    """Grade every submission of ``paths``; return a list of SubmissionReport (in path order)."""
    files = find_submissions(paths)
    notebooks = [nb for nb, _ in map(read_notebook, files) if nb is not None]
    expected = assignment_exercises(chapters, notebooks)
    tasks = [(f, expected, timeout, check_timeout, max_output) for f in files]
    if jobs > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(_grade_one, tasks))
    return [_grade_one(task) for task in tasks]


CSV_FIELDS = ["student", "file", "chapter", "exercise", "kind", "status", "passed", "points",
              "max_points", "feedback", "submission_status", "submission_problems"]


def write_report(reports, out):
    """Write ``<out>.csv`` and ``<out>.json``; return the two paths."""
    out = Path(out)
    if out.suffix in (".csv", ".json"):
        out = out.with_suffix("")
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out.with_suffix(".csv"), out.with_suffix(".json")
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for report in reports:
            problems = " | ".join(report.problems)
            rows = report.exercises or [None]
            for e in rows:
                writer.writerow({
                    "student": report.student, "file": report.file,
                    "chapter": e.chapter if e else "", "exercise": e.label if e else "",
                    "kind": e.kind if e else "", "status": e.status if e else "",
                    "passed": e.passed if e else "", "points": f"{e.points:g}" if e else "",
                    "max_points": f"{e.max_points:g}" if e else "", "feedback": e.feedback if e else "",
                    "submission_status": report.status, "submission_problems": problems})
    json_path.write_text(json.dumps({"submissions": [r.as_dict() for r in reports]}, indent=1,
                                    ensure_ascii=False) + "\n", encoding="utf-8")
    return csv_path, json_path


def summary(reports):
    lines = []
    for report in reports:
        lines.append(f"{report.student}: {report.points:g}/{report.max_points:g} points "
                     f"({report.status}, {report.seconds:.0f} s)")
        for problem in report.problems[:5]:
            lines.append(f"    ! {problem}")
        for e in report.exercises:
            if e.status not in ("passed", "manual"):
                first = e.feedback.splitlines()[0] if e.feedback else ""
                lines.append(f"    {e.label}: {e.status} — {first}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m rnnbook.grade",
                                     description="Execute and grade submitted notebooks.")
    parser.add_argument("submissions", nargs="+", type=Path, help="notebooks or folders of notebooks")
    parser.add_argument("--chapter", action="append",
                        help="grade the exercises of this chapter (repeatable; default: the "
                             "chapters the submissions mention)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds per notebook (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--check-timeout", type=float, default=DEFAULT_CHECK_TIMEOUT,
                        help=f"seconds per exercise's checker (default {DEFAULT_CHECK_TIMEOUT})")
    parser.add_argument("--max-output", type=int, default=DEFAULT_MAX_OUTPUT,
                        help="characters of output kept per cell")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="submissions graded at once")
    parser.add_argument("--out", type=Path, default=Path("report"),
                        help="report path without suffix: writes OUT.csv and OUT.json")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.submissions if not p.exists()]
    if missing:
        parser.error("no such file or folder: " + ", ".join(missing))
    files = find_submissions(args.submissions)
    if not files:
        parser.error("no notebooks found in " + ", ".join(map(str, args.submissions)))
    try:
        reports = grade(files, args.chapter, args.timeout, args.check_timeout, args.max_output, args.jobs)
    except ValueError as error:
        parser.error(str(error))
    csv_path, json_path = write_report(reports, args.out)
    print(summary(reports))
    print(f"\nreport: {csv_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
