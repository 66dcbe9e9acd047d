"""Results and reports (trusted side).

* :class:`ExerciseGrade`, :class:`SubmissionReport`: what one submission got.
* :class:`ResultLog`: one JSON line per submission, appended as soon as it is known (the complete
  line in one ``write``, then flush and ``fsync``), so a crash or a kill of the grader loses at
  most the submissions in progress; ``--resume`` reads it back and skips those done (same file
  content). A torn last line is ignored.
* :func:`write_report`: ``OUT.csv`` (one row per student and exercise), ``OUT.json`` and
  ``OUT.canvas.csv`` (a gradebook in the column layout Canvas imports: Student, ID, SIS User ID,
  SIS Login ID, Section, then one column per assignment total), assembled from the log.
* :func:`csv_safe` escapes cells a spreadsheet would run as a formula; :func:`clean_text` keeps
  the grader's paths, control characters and unbounded text out of the feedback.
"""
from __future__ import annotations

import csv
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

MAX_FEEDBACK = 2000


@dataclass
class ExerciseGrade:
    label: str
    chapter: str
    kind: str
    status: str          # passed, failed, not attempted, error, missing, timeout, manual, copy
    points: float
    max_points: float
    feedback: str
    review: list = field(default_factory=list)     # evidence for the instructor to look at

    @property
    def passed(self):
        return self.status == "passed"

    def as_dict(self):
        return {**asdict(self), "passed": self.passed}


@dataclass
class SubmissionReport:
    student: str
    file: str
    status: str = "graded"
    problems: list = field(default_factory=list)
    exercises: list = field(default_factory=list)
    seconds: float = 0.0
    sha256: str = ""
    sandbox: str = "bubblewrap"
    seed: str = ""

    @property
    def points(self):
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self):
        return sum(e.max_points for e in self.exercises)

    def as_dict(self):
        return {"student": self.student, "file": self.file, "status": self.status,
                "problems": self.problems, "points": self.points, "max_points": self.max_points,
                "seconds": round(self.seconds, 1), "sha256": self.sha256, "sandbox": self.sandbox,
                "seed": self.seed, "exercises": [e.as_dict() for e in self.exercises]}

    @classmethod
    def from_dict(cls, data):
        exercises = [ExerciseGrade(**{k: v for k, v in e.items() if k != "passed"})
                     for e in data.get("exercises", [])]
        return cls(student=data["student"], file=data["file"], status=data["status"],
                   problems=list(data.get("problems", [])), exercises=exercises,
                   seconds=float(data.get("seconds", 0)), sha256=data.get("sha256", ""),
                   sandbox=data.get("sandbox", ""), seed=data.get("seed", ""))


# ----------------------------------------------------------------------------------------------
# Text hygiene
# ----------------------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x1b]")


def _secret_paths():
    """Paths of the grader's machine that must not appear in feedback, longest first."""
    from rnnbook.notebooks import BOOK_DIR

    paths = {str(BOOK_DIR.parent), sys.prefix, sys.base_prefix, os.path.expanduser("~"),
             os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix),
             str(BOOK_DIR.parent.resolve())}
    return sorted((p for p in paths if p and p not in ("/", ".") and len(p) > 3),
                  key=len, reverse=True)


_SECRETS = None


def clean_text(value, limit=MAX_FEEDBACK):
    """``value`` as bounded text without control characters or the grader's own paths."""
    global _SECRETS
    if _SECRETS is None:
        _SECRETS = _secret_paths()
    text = _CONTROL.sub("", str(value))
    for path in _SECRETS:
        text = text.replace(path, "…")
    if len(text) > limit:
        text = text[:limit] + " …(cut)"
    return text


def csv_safe(value):
    """A CSV cell a spreadsheet shows as text: leading = + - @ (or tab/CR) get a single quote."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


# ----------------------------------------------------------------------------------------------
# The per-submission log
# ----------------------------------------------------------------------------------------------
class ResultLog:
    """``OUT.results.jsonl``: one complete JSON line per graded submission, fsynced."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def read(self):
        """{student: SubmissionReport} of every complete line (the last line per student wins)."""
        done = {}
        try:
            with open(self.path, "rb") as handle:
                for raw in handle:
                    if not raw.endswith(b"\n"):
                        continue                              # torn last line
                    try:
                        report = SubmissionReport.from_dict(json.loads(raw))
                    except (ValueError, KeyError, TypeError):
                        continue
                    done[report.student] = report
        except FileNotFoundError:
            pass
        return done

    def append(self, report):
        line = (json.dumps(report.as_dict(), ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def clear(self):
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


# ----------------------------------------------------------------------------------------------
# Reports
# ----------------------------------------------------------------------------------------------
CSV_FIELDS = ["student", "file", "chapter", "exercise", "kind", "status", "passed", "points",
              "max_points", "feedback", "review", "submission_status", "submission_problems"]
CANVAS_FIELDS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def out_paths(out):
    out = Path(out)
    if out.suffix in (".csv", ".json"):
        out = out.with_suffix("")
    return {"csv": out.with_name(out.name + ".csv"), "json": out.with_name(out.name + ".json"),
            "canvas": out.with_name(out.name + ".canvas.csv"),
            "log": out.with_name(out.name + ".results.jsonl")}


def _atomic_write(path, text):
    path = Path(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def write_report(reports, out, *, warnings=(), assignment=None, roster=None, meta=None):
    """Write OUT.csv, OUT.json and OUT.canvas.csv; return their paths (a dict)."""
    import io

    paths = out_paths(out)
    paths["csv"].parent.mkdir(parents=True, exist_ok=True)
    warning = " | ".join(warnings)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for report in reports:
        problems = " | ".join(([f"WARNING: {warning}"] if warning else []) + report.problems)
        for e in report.exercises or [None]:
            row = {"student": report.student, "file": report.file,
                   "submission_status": report.status, "submission_problems": problems}
            if e is not None:
                row.update(chapter=e.chapter, exercise=e.label, kind=e.kind, status=e.status,
                           passed=e.passed, points=f"{e.points:g}", max_points=f"{e.max_points:g}",
                           feedback=e.feedback, review=" | ".join(e.review))
            writer.writerow({k: csv_safe(v) for k, v in row.items()})
    _atomic_write(paths["csv"], buffer.getvalue())
    document = {"warnings": list(warnings), **(meta or {}),
                "submissions": [r.as_dict() for r in reports]}
    _atomic_write(paths["json"], json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    _atomic_write(paths["canvas"], canvas_gradebook(reports, roster=roster))
    return paths


def read_roster(path):
    """Rows of a Canvas gradebook export (to fill ID, SIS User ID, SIS Login ID, Section)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = [row for row in csv.DictReader(handle)
                if row.get("Student", "").strip() not in ("", "Points Possible")]
    return rows


def _roster_match(report, roster):
    stem = Path(report.student).name.removesuffix(".ipynb")
    top = report.student.split("/")[0]
    for row in roster or []:
        keys = {row.get(k, "").strip() for k in ("ID", "SIS User ID", "SIS Login ID")} - {""}
        if stem in keys or top in keys:
            return row
    return None


def canvas_gradebook(reports, roster=None):
    """A Canvas gradebook CSV: Student, ID, SIS User ID, SIS Login ID, Section, one column per
    chapter (assignment) total, and a "Points Possible" row, as Canvas exports and imports it.

    Without a roster, Student is the submission's id and the other identity columns are empty;
    with one (a Canvas export), rows are matched by the file name or first folder against ID,
    SIS User ID or SIS Login ID.
    """
    import io

    chapters = sorted({e.chapter for r in reports for e in r.exercises})
    possible = {c: max((sum(e.max_points for e in r.exercises if e.chapter == c) for r in reports),
                       default=0) for c in chapters}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CANVAS_FIELDS + chapters)
    writer.writerow(["    Points Possible", "", "", "", ""] + [f"{possible[c]:g}" for c in chapters])
    for report in reports:
        row = _roster_match(report, roster)
        identity = ([row.get(k, "") for k in CANVAS_FIELDS] if row else
                    [report.student, "", "", "", ""])
        totals = [f"{sum(e.points for e in report.exercises if e.chapter == c):g}" for c in chapters]
        writer.writerow([csv_safe(v) for v in identity] + totals)
    return buffer.getvalue()


def summary(reports, warnings=()):
    lines = [f"WARNING: {w}" for w in warnings]
    for report in reports:
        lines.append(f"{report.student}: {report.points:g}/{report.max_points:g} points "
                     f"({report.status}, {report.seconds:.0f} s)")
        for problem in report.problems[:5]:
            lines.append(f"    ! {problem[:200]}")
        for e in report.exercises:
            if e.status not in ("passed", "manual"):
                first = e.feedback.splitlines()[0][:160] if e.feedback else ""
                lines.append(f"    {e.label}: {e.status} — {first}")
            if e.review:
                lines.append(f"    {e.label}: REVIEW — {e.review[0][:160]}")
    return "\n".join(lines)
