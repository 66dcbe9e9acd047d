"""Exercises with automatic feedback: a registry of checkers and ``check(label, answer)``.

Every chapter's exercises live in their own module ``rnnlib/exercises/<chapter>.py``, which
registers one checker per exercise with the :func:`exercise` decorator. Importing
``rnnlib.exercises`` imports every module of this package (``pkgutil``), so a new chapter module
registers itself without any edit here. The book explains how the exercises work in its
introduction; the checkers of the first chapter are in ``rnn_equations.py``.

In a notebook a student calls::

    from rnnlib.exercises import check
    check("rnn-step-forward", rnn_step_forward)

``check`` never raises because of the answer: it runs the checker, catches whatever the
student's code raises, prints specific feedback and returns a :class:`Result` (label, status,
passed, points, feedback) that an autograder can collect. An answer that raises
``NotImplementedError`` (the stub of the student edition) is reported as "not attempted yet".

Writing a checker
-----------------
A checker is a function ``checker(answer)`` registered with :func:`exercise`. It calls the answer
through :func:`call` (which turns the student's exceptions into clear feedback) on several random
and edge cases, compares with the reference implementation using :func:`compare`, and

* returns ``None`` (or ``True``) when the answer is right,
* raises :class:`Mistake` (or returns a string) with specific feedback when it is wrong,
* may return a :class:`Result` to control everything itself.

:func:`first_match` recognises which typical mistake a wrong output matches, given the outputs
that each known mistake would produce. A checker may also raise :class:`Mistake` with
``partial=`` points.

For graders: :func:`list_exercises` returns the registry (label, chapter, kind, points, title,
the name the answer is usually defined under); when the environment variable
``RNNLIB_EXERCISE_LOG`` names a file, every ``check`` call appends its result there as one line
of JSON.
"""
from __future__ import annotations

import importlib
import inspect
import json
import numbers
import os
import pkgutil
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Optional

import numpy as np

__all__ = [
    "Exercise", "Result", "Mistake", "NotAttempted", "AnswerRaised", "UnknownExercise",
    "exercise", "register", "check", "get_exercise", "list_exercises", "exercise_table",
    "call", "compare", "close", "describe", "first_match", "tolerance", "as_array",
    "LOG_ENV_VAR", "load_errors",
]

#: When set to a file path, every :func:`check` appends its result to that file as JSON lines.
LOG_ENV_VAR = "RNNLIB_EXERCISE_LOG"

KINDS = ("code", "written")
STATUSES = ("passed", "failed", "not attempted", "error")


# ----------------------------------------------------------------------------------------------
# What a checker raises
# ----------------------------------------------------------------------------------------------
class Mistake(Exception):
    """The answer is wrong; ``feedback`` tells the student what and, if known, why.

    ``partial`` (optional) awards that many points although the answer is not fully right.
    """

    def __init__(self, feedback, partial=0):
        super().__init__(feedback)
        self.feedback = str(feedback)
        self.partial = partial


class NotAttempted(Exception):
    """The answer is the unsolved stub (it raised NotImplementedError, or is None/Ellipsis)."""


class AnswerRaised(Exception):
    """The student's code raised an exception while the checker called it."""

    def __init__(self, error, context=""):
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error
        self.context = context

    @property
    def feedback(self):
        where = _student_line(self.error)
        message = f"your function raised {type(self.error).__name__}: {self.error}"
        if self.context:
            message += f"\n  (when called with {self.context})"
        if where:
            message += f"\n  at {where}"
        return message


class UnknownExercise(KeyError):
    """check() or get_exercise() was given a label that no module registered."""

    def __str__(self):  # KeyError would show the message with quotes around it
        return str(self.args[0])


# ----------------------------------------------------------------------------------------------
# The registry
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Exercise:
    """One registered exercise.

    label:   stable id, unique across the book (e.g. "rnn-step-forward"); the notebook's
             sphinx-exercise label is "ex-" + label and its nbgrader grade_id is the label.
    chapter: the notebook's name without extension (e.g. "rnn_equations").
    kind:    "code" (has a checker) or "written" (no checker; graded by hand).
    answer_name: the name the notebook defines the answer under (e.g. "rnn_step_forward"), so a
             grader can find it in an executed notebook's namespace.
    """

    label: str
    chapter: str
    kind: str
    points: float
    title: str
    checker: Optional[Callable] = field(default=None, compare=False, repr=False)
    answer_name: Optional[str] = None
    module: Optional[str] = None

    def as_dict(self):
        return {"label": self.label, "chapter": self.chapter, "kind": self.kind,
                "points": self.points, "title": self.title, "answer_name": self.answer_name}


_REGISTRY: dict = {}
_LOAD_ERRORS: dict = {}


def _check_label(label):
    if not isinstance(label, str) or not label or label != label.strip() or " " in label:
        raise ValueError(f"an exercise label must be a non-empty string without spaces, got {label!r}")
    return label


def register(label, *, chapter, points=1, title, kind="code", checker=None, answer_name=None):
    """Add an exercise to the registry and return it (``exercise`` is the decorator form).

    Written exercises (kind="written") have no checker; registering them lets the exercise index
    and the grader list them. Registering a label twice from different modules is an error;
    re-importing the same module (a reload) replaces its entry.
    """
    _check_label(label)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if not isinstance(chapter, str) or not chapter:
        raise ValueError(f"chapter must be the chapter's notebook name, e.g. 'rnn_equations', got {chapter!r}")
    if isinstance(points, bool) or not isinstance(points, numbers.Real) or points < 0:
        raise ValueError(f"points must be a non-negative number, got {points!r}")
    if not isinstance(title, str) or not title:
        raise ValueError(f"title must be a non-empty string, got {title!r}")
    if kind == "code" and not callable(checker):
        raise TypeError(f"a code exercise needs a callable checker, got {type(checker).__name__}")
    if kind == "written" and checker is not None:
        raise TypeError("a written exercise has no checker")
    module = getattr(checker, "__module__", None) if checker is not None else _caller_module()
    old = _REGISTRY.get(label)
    if old is not None and old.module != module:
        raise ValueError(f"exercise label {label!r} is already registered by {old.module}")
    entry = Exercise(label, chapter, kind, points, title, checker, answer_name, module)
    _REGISTRY[label] = entry
    return entry


def _caller_module():
    frame = inspect.currentframe()
    try:
        outer = frame.f_back.f_back if frame and frame.f_back else None
        return outer.f_globals.get("__name__") if outer else None
    finally:
        del frame


def exercise(label, *, chapter, points=1, title, answer_name=None):
    """Decorator registering a checker for the code exercise ``label``::

        @exercise("rnn-step-forward", chapter="rnn_equations", points=2,
                  title="Implement one step of the RNN", answer_name="rnn_step_forward")
        def _check_step(answer):
            ...   # raise Mistake("...") when wrong; return None when right
    """

    def decorate(checker):
        register(label, chapter=chapter, points=points, title=title, kind="code",
                 checker=checker, answer_name=answer_name)
        return checker

    return decorate


def get_exercise(label):
    """The registered Exercise for ``label``; an unknown label raises UnknownExercise (a KeyError)."""
    if label not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "(none registered)"
        raise UnknownExercise(f"unknown exercise label {label!r}; known labels: {known}")
    return _REGISTRY[label]


def list_exercises(chapter=None, kind=None):
    """Every registered exercise (optionally of one chapter or kind), sorted by chapter, label."""
    entries = [e for e in _REGISTRY.values()
               if (chapter is None or e.chapter == chapter) and (kind is None or e.kind == kind)]
    return sorted(entries, key=lambda e: (e.chapter, e.label))


def exercise_table(chapter=None):
    """A plain-text table of the registry (for ``python -m rnnbook.exercises list``)."""
    rows = [("label", "chapter", "kind", "points", "title")]
    rows += [(e.label, e.chapter, e.kind, f"{e.points:g}", e.title) for e in list_exercises(chapter)]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def load_errors():
    """{module name: error message} for chapter modules that failed to import."""
    return dict(_LOAD_ERRORS)


# ----------------------------------------------------------------------------------------------
# Results and check()
# ----------------------------------------------------------------------------------------------
@dataclass
class Result:
    """What check() found. ``status`` is one of "passed", "failed", "not attempted", "error"."""

    label: str
    status: str
    feedback: str
    points: float
    max_points: float
    chapter: str = ""

    @property
    def passed(self):
        return self.status == "passed"

    def __str__(self):
        heads = {"passed": "✅ Correct", "failed": "❌ Not yet", "not attempted": "⏳ Not attempted yet",
                 "error": "⚠️ Could not check"}
        head = f"{heads[self.status]} [{self.label}] ({self.points:g}/{self.max_points:g} points)"
        return head + ("\n" + self.feedback if self.feedback else "")

    # check() prints the feedback itself; when its Result is then displayed as a cell's value,
    # IPython shows nothing more (the first time), so the feedback does not appear twice.
    _echoed: bool = field(default=False, init=False, repr=False, compare=False)

    def _ipython_display_(self):
        if self._echoed:
            self._echoed = False
            return
        print(self)

    def _repr_pretty_(self, printer, cycle):  # e.g. a list of Results in IPython
        printer.text(f"<Result {self.label}: {self.status}, {self.points:g}/{self.max_points:g} points>")

    def as_dict(self):
        record = {key: value for key, value in asdict(self).items() if not key.startswith("_")}
        return {**record, "passed": self.passed}


def check(label, answer, *, quiet=False):
    """Check ``answer`` for the exercise ``label``; print feedback and return a Result.

    Never raises because of the answer (wrong values, exceptions, wrong types, the unsolved stub);
    an unknown label raises UnknownExercise listing the known labels, and a written exercise
    raises ValueError (it has no checker).
    """
    entry = get_exercise(label)
    if entry.kind != "code":
        raise ValueError(f"exercise {label!r} is a written exercise: it has no automatic checker")
    result = _run_checker(entry, answer)
    if not quiet:
        print(result)
        result._echoed = True
    _log(result)
    return result


def _run_checker(entry, answer):
    def make(status, feedback, points=0):
        return Result(entry.label, status, feedback.strip(), points, entry.points, entry.chapter)

    if answer is None or answer is Ellipsis:
        return make("not attempted", "Write your answer in the cell above (replace the stub) and run it.")
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            outcome = entry.checker(answer)
    except NotAttempted:
        return make("not attempted", "Your function still raises NotImplementedError: replace "
                    "`raise NotImplementedError()` with your code, run that cell, then run this one.")
    except NotImplementedError:
        return make("not attempted", "Your function still raises NotImplementedError: replace "
                    "`raise NotImplementedError()` with your code, run that cell, then run this one.")
    except Mistake as mistake:
        return make("failed", mistake.feedback, min(mistake.partial, entry.points))
    except AnswerRaised as raised:
        return make("failed", raised.feedback)
    except RecursionError as error:
        return make("failed", f"your function recursed too deeply ({error})")
    except Exception as error:  # a bug in the checker, or student code called without call()
        return make("error", f"checking stopped with {type(error).__name__}: {error}\n"
                    f"  at {_student_line(error) or _last_line(error)}\n"
                    "If your code is not at fault, this is a bug in the checker: please report it.")
    if outcome is None or outcome is True:
        return make("passed", "All test cases pass.", entry.points)
    if isinstance(outcome, Result):
        return outcome
    if isinstance(outcome, str):
        return make("failed", outcome)
    if outcome is False:
        return make("failed", "Your answer does not match the reference.")
    return make("error", f"the checker returned {type(outcome).__name__}; expected None, a str or a Result")


def _log(result):
    path = os.environ.get(LOG_ENV_VAR)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(result.as_dict()) + "\n")
    except OSError as error:  # logging must never break a student's notebook
        warnings.warn(f"could not append the exercise result to {path}: {error}")


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _student_line(error):
    """'file, line N: code' of the innermost traceback frame outside rnnlib and numpy, if any."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        name = os.path.abspath(frame.filename)
        if name.startswith(_PACKAGE_DIR) or f"{os.sep}numpy{os.sep}" in name:
            continue
        line = f"line {frame.lineno}"
        if frame.line:
            line += f": {frame.line.strip()}"
        return line
    return ""


def _last_line(error):
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{os.path.basename(frame.filename)}, line {frame.lineno}: {(frame.line or '').strip()}"


# ----------------------------------------------------------------------------------------------
# Helpers for checkers
# ----------------------------------------------------------------------------------------------
def describe(value):
    """A short description of a value for feedback: 'an array of shape (3, 4), dtype float64'."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}, dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(describe(v) for v in value[:3]) + (", ..." if len(value) > 3 else "")
        return f"a {type(value).__name__} of {len(value)} items ({inner})"
    if isinstance(value, (numbers.Number, np.generic)):
        return f"the {type(value).__name__} {value!r}"
    if value is None:
        return "None (did you forget `return`?)"
    return f"a {type(value).__name__}"


def call(answer, *args, context="", **kwargs):
    """Call the student's ``answer(*args, **kwargs)`` and return what it returns.

    The arguments are passed as given (pass copies if the answer must not see later changes).
    NotImplementedError becomes NotAttempted; any other exception becomes AnswerRaised, which
    check() reports as "your function raised ...", with ``context`` (e.g. "B=1, d=3, m=5").
    """
    if not callable(answer):
        raise Mistake(f"expected a function, got {describe(answer)}")
    try:
        return answer(*args, **kwargs)
    except NotImplementedError:
        raise NotAttempted() from None
    except RecursionError as error:
        raise AnswerRaised(error, context) from None
    except Exception as error:
        raise AnswerRaised(error, context) from None


def tolerance(dtype):
    """(rtol, atol) for comparing results computed in ``dtype``."""
    if np.dtype(dtype) == np.float32:
        return 1e-4, 1e-5
    if np.dtype(dtype) == np.float16:
        return 1e-2, 1e-3
    return 1e-7, 1e-9


def as_array(value, name="your answer", context=""):
    """``value`` as a float NumPy array, or a Mistake explaining what was returned instead."""
    where = f" (for {context})" if context else ""
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except Exception:
            raise Mistake(f"{name} should be a NumPy array{where}, got {describe(value)}") from None
        if value is None or array.dtype == object:
            raise Mistake(f"{name} should be a NumPy array{where}, got {describe(value)}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise Mistake(f"{name} should be a numeric array{where}, got dtype {array.dtype}")
    return array


def close(actual, expected, rtol=None, atol=None):
    """True when ``actual`` has the shape of ``expected`` and is allclose to it (no exceptions)."""
    try:
        actual = np.asarray(actual)
        expected = np.asarray(expected)
        if actual.shape != expected.shape or actual.dtype == object:
            return False
        dtypes = [dt for dt in (actual.dtype, expected.dtype) if np.issubdtype(dt, np.floating)]
        loosest = min(dtypes, key=lambda dt: dt.itemsize) if dtypes else np.float64
        default_rtol, default_atol = tolerance(loosest)               # float32 vs float64: float32's
        return bool(np.allclose(actual, expected,
                                rtol=default_rtol if rtol is None else rtol,
                                atol=default_atol if atol is None else atol, equal_nan=False))
    except Exception:
        return False


def _shape_hint(actual_shape, expected_shape):
    if tuple(actual_shape) == tuple(expected_shape)[::-1] and len(expected_shape) > 1:
        return " It looks transposed: rows should be examples of the batch, columns features."
    squeezed = tuple(s for s in expected_shape if s != 1)
    if tuple(actual_shape) == squeezed and len(actual_shape) < len(expected_shape):
        return " A dimension of size 1 is missing: keep the batch dimension even when B=1 (avoid squeeze)."
    if len(actual_shape) == len(expected_shape) + 1 and 1 in actual_shape:
        return " There is an extra dimension of size 1."
    if np.prod(actual_shape) == np.prod(expected_shape):
        return " It has the right number of entries but the wrong arrangement."
    return ""


def compare(actual, expected, *, name="your output", context="", rtol=None, atol=None,
            check_dtype=True):
    """Raise a Mistake describing how ``actual`` differs from ``expected``; return None if equal.

    Reports, in this order: not an array, a shape mismatch (with a hint: transposed, a missing
    batch dimension, ...), a dtype that does not follow the inputs, NaN/inf, and values that
    differ (largest error and where). Tolerances default to :func:`tolerance` of expected's dtype.
    """
    where = f" for {context}" if context else ""
    expected = np.asarray(expected)
    actual = as_array(actual, name, context)
    if actual.shape != expected.shape:
        raise Mistake(f"{name} has shape {actual.shape}{where}, but it should have shape "
                      f"{expected.shape}.{_shape_hint(actual.shape, expected.shape)}")
    if check_dtype and np.issubdtype(expected.dtype, np.floating) and actual.dtype != expected.dtype:
        raise Mistake(f"{name} has dtype {actual.dtype}{where}, but the inputs are {expected.dtype}: "
                      f"keep the inputs' dtype (NumPy operations on {expected.dtype} arrays do, unless "
                      "you create new arrays with another dtype).")
    if np.issubdtype(actual.dtype, np.floating) and not np.all(np.isfinite(actual)):
        raise Mistake(f"{name} contains NaN or inf{where}, but the reference is finite.")
    default_rtol, default_atol = tolerance(expected.dtype if np.issubdtype(expected.dtype, np.floating) else np.float64)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        error = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        index = np.unravel_index(np.argmax(error), error.shape) if error.ndim else ()
        at = f" at index {tuple(int(i) for i in index)}" if index else ""
        raise Mistake(f"{name} has the right shape but wrong values{where}: the largest difference "
                      f"from the reference is {error.max():.3g}{at} (yours {float(actual[index]):.6g}, "
                      f"expected {float(expected[index]):.6g}).")


def first_match(actual, variants: Iterable, rtol=None, atol=None):
    """The feedback of the first known mistake whose output ``actual`` matches, else None.

    variants: (feedback, output) pairs, where output is what an answer with that mistake
    returns (an array, or a zero-argument function computing it; a function that raises is
    skipped, so a variant may be impossible for the current shapes).
    """
    for feedback, output in variants:
        if callable(output):
            try:
                output = output()
            except Exception:
                continue
        if close(actual, output, rtol, atol):
            return feedback
    return None


# ----------------------------------------------------------------------------------------------
# Auto-discovery: every module of this package registers its chapter's exercises on import
# ----------------------------------------------------------------------------------------------
def _discover():
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("_"):
            continue
        name = f"{__name__}.{module.name}"
        try:
            importlib.import_module(name)
        except Exception as error:  # one broken chapter must not break every other chapter
            _LOAD_ERRORS[name] = f"{type(error).__name__}: {error}"
            warnings.warn(f"rnnlib.exercises could not load {name}: {type(error).__name__}: {error}")


_discover()
