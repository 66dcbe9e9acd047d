"""Exercises with automatic feedback: a registry of checkers, ``check(label, answer)`` for the
notebook and ``judge_observations`` for the grader, from one checker definition.

Every chapter's exercises live in their own module ``rnnlib/exercises/<chapter>.py``, which
registers one checker per exercise with the :func:`exercise` decorator. Importing
``rnnlib.exercises`` imports every module of this package (``pkgutil``), so a new chapter module
registers itself without any edit here.

The dtype rule (the same in every checker; chapters quote it):

    DTYPE_RULE = "The dtype of your answer is not graded: it is compared with the reference at the
    tolerance of the less precise of the inputs' dtype and your answer's dtype, so a float64
    result for float32 inputs (or a float32 one for float64 inputs) passes when its values are
    right."

and the sequence rule: wherever a tuple or a list is asked (returned or nested), any sequence
(tuple or list) is accepted.

In a notebook a student calls::

    from rnnlib.exercises import check
    check("rnn-step-forward", rnn_step_forward)

The protocol: cases, prepare, observe, judge
--------------------------------------------
A code checker is split into the cases it makes and the judgement it passes, so that the grader
can call the answer inside a sandbox and judge in its own, trusted process:

``cases(rng) -> list[Case]``
    fixed edge cases first, then fresh random ones drawn from ``rng`` (a ``np.random.Generator``),
    so an answer that memorises the fixed cases fails. A :class:`Case` (``context`` str for the
    feedback, ``args`` tuple, ``kwargs`` dict) holds plain data only (see :mod:`.plain`).
``prepare(case) -> (args, kwargs)``
    runs next to the student's code: builds the live arguments (default: deep copies of the
    plain ones; a checker whose arguments are rnnlib objects builds them from their plain form).
``observe(returned, case, args) -> plain data``
    runs next to the student's code: turns what the answer returned (and ``args`` after the
    call, to see in-place changes) into plain data. It never computes the reference.
``judge(case, observed) -> None``
    runs in the trusted process: computes the reference from ``case.args`` itself, compares, and
    raises :class:`Mistake` (``feedback``, optional ``partial`` points) naming the usual mistake.
``judge_error(case, record)`` (optional)
    runs in the trusted process on an error record with "raised"; may raise a Mistake that
    explains it (e.g. a wrong signature); else the generic feedback is given.

plus ``answer_kind`` ("function": the answer is called on each case; "value": the answer itself is
observed, one case), ``references`` (the fully qualified names of the library functions that
solve the exercise, public and plain ``_name`` variants, so a grader can flag a copied reference;
a name that does not resolve, e.g. a plain function not written yet, is to be skipped) and
``note`` (optional text added to a pass's feedback). Write a checker as a subclass of
:class:`Checker` decorated with :func:`exercise`, or pass the functions to :func:`register`.
An old-style ``checker(answer)`` function is still accepted for :func:`check` only
(``Exercise.trusted`` is False and :func:`judge_observations` refuses it); none of the book's is.

Running the pieces:

* :func:`check` (the notebook) runs everything in-process with a fresh ``rng`` from OS entropy:
  cases, then per case prepare, the call, observe, :func:`~.plain.to_plain`, judge. The first
  Mistake gives the feedback. It prints the :class:`Result` and returns it; it never raises
  because of the answer (``NotImplementedError`` and ``None`` mean "not attempted").
* A grader calls :func:`make_cases` (trusted), :func:`observe_case` for each case next to the
  answer (untrusted; returns plain data or an *error record* such as ``{"raised": ...}`` or
  ``{"not_attempted": True}``), carries the observations back with :func:`.plain.dump` /
  :func:`.plain.load`, and calls :func:`judge_observations` (trusted), which never raises
  because of the observations and never gives more than the exercise's points.

For graders: :func:`list_exercises` returns the registry (label, chapter, kind, points, title,
the name the answer is usually defined under); when the environment variable
``RNNLIB_EXERCISE_LOG`` names a file, every ``check`` call appends its result there as one line
of JSON (students' feedback only: a grader never reads it as a result).
"""
from __future__ import annotations

import copy
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

from . import plain
from .plain import PlainDataError, snapshot, to_plain

__all__ = [
    "Exercise", "Result", "Mistake", "NotAttempted", "AnswerRaised", "UnknownExercise",
    "Case", "Checker", "DTYPE_RULE", "SEQUENCE_RULE",
    "exercise", "register", "check", "get_exercise", "list_exercises", "exercise_table",
    "make_cases", "observe_case", "observe_all", "judge_observations", "is_error_record",
    "call", "compare", "close", "describe", "first_match", "tolerance", "as_array", "fresh_rng",
    "is_sequence", "signature_error", "changed_argument", "plain", "PlainDataError", "snapshot", "to_plain",
    "LOG_ENV_VAR", "load_errors",
]

#: When set to a file path, every :func:`check` appends its result to that file as JSON lines.
LOG_ENV_VAR = "RNNLIB_EXERCISE_LOG"

KINDS = ("code", "written")
ANSWER_KINDS = ("function", "value")
STATUSES = ("passed", "failed", "not attempted", "error")

DTYPE_RULE = ("The dtype of your answer is not graded: it is compared with the reference at the "
              "tolerance of the less precise of the inputs' dtype and your answer's dtype, so a "
              "float64 result for float32 inputs (or a float32 one for float64 inputs) passes when "
              "its values are right.")
SEQUENCE_RULE = "Wherever a tuple or a list is asked, any sequence (a tuple or a list) is accepted."

#: the feedback of an answer that raised NotImplementedError
NOT_ATTEMPTED = ("Your function still raises NotImplementedError: replace `raise NotImplementedError()` "
                 "with your code, run that cell, then run this one.")
#: the longest feedback text taken from an observation (an error record's message)
MAX_MESSAGE = 2000


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
        return _raised_feedback(self.record())

    def record(self):
        """The error record of this exception (plain data)."""
        try:
            message = str(self.error)
        except Exception:
            message = "(its message could not be read)"
        return {"raised": f"{type(self.error).__name__}: {message}"[:MAX_MESSAGE],
                "context": str(self.context)[:MAX_MESSAGE], "where": _student_line(self.error)[:MAX_MESSAGE]}


class UnknownExercise(KeyError):
    """check() or get_exercise() was given a label that no module registered."""

    def __str__(self):  # KeyError would show the message with quotes around it
        return str(self.args[0])


# ----------------------------------------------------------------------------------------------
# Cases and checkers
# ----------------------------------------------------------------------------------------------
@dataclass
class Case:
    """One input of a checker: ``context`` (said in the feedback), ``args`` and ``kwargs``, all
    plain data (see :mod:`rnnlib.exercises.plain`)."""

    context: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def as_plain(self):
        """{"context": str, "args": tuple, "kwargs": dict}, validated plain data."""
        return to_plain({"context": str(self.context), "args": tuple(self.args), "kwargs": dict(self.kwargs)})

    @classmethod
    def from_plain(cls, data):
        """A Case from :meth:`as_plain`'s form (e.g. after plain.load); PlainDataError if malformed."""
        if isinstance(data, Case):
            return data
        data = to_plain(data)
        if not isinstance(data, dict) or set(data) - {"context", "args", "kwargs"} or "context" not in data:
            raise PlainDataError("a case must be a dict with the keys context, args, kwargs")
        args, kwargs = data.get("args", ()), data.get("kwargs", {})
        if not isinstance(data["context"], str) or not isinstance(args, (list, tuple)) \
                or not isinstance(kwargs, dict):
            raise PlainDataError("a case's context must be a str, args a sequence, kwargs a dict")
        return cls(data["context"], tuple(args), dict(kwargs))


class Checker:
    """Base class of a code exercise's checker; override ``cases`` and ``judge`` (and
    ``prepare``/``observe`` when the defaults do not fit).

    Default ``prepare``: deep copies of the case's args and kwargs. Default ``observe``:
    ``{"returned": snapshot(returned)}``.
    """

    answer_kind = "function"
    references: tuple = ()
    #: optional text added to the feedback of a passed answer
    note = ""

    def cases(self, rng):
        raise NotImplementedError

    def prepare(self, case):
        return copy.deepcopy(tuple(case.args)), copy.deepcopy(dict(case.kwargs))

    def observe(self, returned, case, args):
        return {"returned": snapshot(returned)}

    def judge(self, case, observed):
        raise NotImplementedError

    # Optional: ``judge_error(case, record)`` may raise a Mistake explaining an error record with
    # "raised" (e.g. the TypeError of a wrong signature: its "where" is empty because the error
    # is raised by the call itself, not inside the student's code); returning None keeps the
    # generic "your function raised ..." feedback.


def signature_error(record):
    """For an error record: the TypeError message when the call itself failed (wrong number or
    names of arguments), else None."""
    raised = str(record.get("raised", ""))
    if not raised.startswith("TypeError:") or record.get("where"):
        return None
    keys = ("positional argument", "keyword argument", "takes", "missing", "unexpected")
    return raised if any(key in raised for key in keys) else None


def changed_argument(originals, passed, names):
    """The name of the first argument (or params[key]) that ``passed`` changed with respect to
    ``originals`` (plain copies), else None: for observe, to report in-place changes."""
    for name, original, given in zip(names, originals, passed):
        if isinstance(original, dict):
            if not isinstance(given, dict):
                return name
            for key in original:
                if not _same_array(original[key], given.get(key)):
                    return f"{name}[{key!r}]"
        elif isinstance(original, np.ndarray) and not _same_array(original, given):
            return name
    return None


def _same_array(a, b):
    try:
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    except Exception:
        return False


class _Legacy(Checker):
    """An old-style ``checker(answer)`` (a function that calls the answer itself), for
    :func:`check` only: it runs whole in observe, next to the answer, so its verdict is not
    reached outside the student's process. ``legacy`` is True; :func:`judge_observations`
    refuses it (status "error"). None of the book's checkers is legacy."""

    answer_kind = "value"
    legacy = True

    def __init__(self, function):
        self.function = function
        self.__module__ = function.__module__

    def cases(self, rng):
        return [Case("the checker's cases")]

    def observe(self, returned, case, args):
        try:
            outcome = self.function(returned)
        except Mistake as mistake:
            return {"feedback": mistake.feedback, "partial": float(mistake.partial)}
        if outcome is None or outcome is True:
            return {"feedback": None}
        return {"feedback": outcome if isinstance(outcome, str) else "Your answer does not match the reference."}

    def judge(self, case, observed):
        if observed.get("feedback") is not None:
            raise Mistake(observed["feedback"], partial=observed.get("partial", 0))


class _FunctionChecker(Checker):
    def __init__(self, cases, observe, judge, prepare=None, answer_kind="function", references=()):
        self._cases, self._observe, self._judge, self._prepare = cases, observe, judge, prepare
        self.answer_kind = answer_kind
        self.references = tuple(references)
        self.__module__ = getattr(judge, "__module__", None)

    def cases(self, rng):
        return self._cases(rng)

    def prepare(self, case):
        return self._prepare(case) if self._prepare is not None else super().prepare(case)

    def observe(self, returned, case, args):
        return self._observe(returned, case, args) if self._observe is not None \
            else super().observe(returned, case, args)

    def judge(self, case, observed):
        return self._judge(case, observed)


def fresh_rng():
    """A Generator seeded from OS entropy (fresh random cases at every check)."""
    return np.random.default_rng()


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
    checker: the :class:`Checker` (cases, prepare, observe, judge, answer_kind, references).
    answer_name: the name the notebook defines the answer under (e.g. "rnn_step_forward"), so a
             grader can find it in an executed notebook's namespace.
    """

    label: str
    chapter: str
    kind: str
    points: float
    title: str
    checker: Optional[Checker] = field(default=None, compare=False, repr=False)
    answer_name: Optional[str] = None
    module: Optional[str] = None

    @property
    def answer_kind(self):
        return self.checker.answer_kind if self.checker is not None else None

    @property
    def trusted(self):
        """False for an old-style checker, whose verdict is reached next to the answer."""
        return self.checker is not None and not getattr(self.checker, "legacy", False)

    @property
    def references(self):
        return tuple(self.checker.references) if self.checker is not None else ()

    def as_dict(self):
        return {"label": self.label, "chapter": self.chapter, "kind": self.kind,
                "points": self.points, "title": self.title, "answer_name": self.answer_name,
                "answer_kind": self.answer_kind, "references": list(self.references)}


_REGISTRY: dict = {}
_LOAD_ERRORS: dict = {}


def _check_label(label):
    if not isinstance(label, str) or not label or label != label.strip() or " " in label:
        raise ValueError(f"an exercise label must be a non-empty string without spaces, got {label!r}")
    return label


def register(label, *, chapter, points=1, title, kind="code", checker=None, answer_name=None,
             cases=None, prepare=None, observe=None, judge=None, answer_kind="function",
             references=()):
    """Add an exercise to the registry and return it (``exercise`` is the decorator form).

    A code exercise gives either ``checker`` (a :class:`Checker` instance or class) or the
    functions ``cases`` and ``judge`` (and optionally ``prepare``, ``observe``, ``answer_kind``,
    ``references``). Written exercises (kind="written") have no checker; registering them lets
    the exercise index and the grader list them. Registering a label twice from different
    modules is an error; re-importing the same module (a reload) replaces its entry.
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
    functions = (cases, prepare, observe, judge)
    if kind == "written":
        if checker is not None or any(f is not None for f in functions):
            raise TypeError("a written exercise has no checker")
    else:
        if checker is None and cases is not None and judge is not None:
            checker = _FunctionChecker(cases, observe, judge, prepare, answer_kind, references)
        elif isinstance(checker, type):
            checker = checker()
        elif callable(checker) and not hasattr(checker, "judge"):
            checker = _Legacy(checker)              # an old-style checker(answer): in-process only
        if checker is None or not all(callable(getattr(checker, name, None))
                                      for name in ("cases", "prepare", "observe", "judge")):
            raise TypeError("a code exercise needs a checker with cases, prepare, observe and judge "
                            f"(a Checker subclass, or cases= and judge=), got {type(checker).__name__}")
        if getattr(checker, "answer_kind", None) not in ANSWER_KINDS:
            raise ValueError(f"answer_kind must be one of {ANSWER_KINDS}, got "
                             f"{getattr(checker, 'answer_kind', None)!r}")
        refs = getattr(checker, "references", ())
        if isinstance(refs, str) or not all(isinstance(r, str) and "." in r for r in refs):
            raise ValueError(f"references must be fully qualified names, got {refs!r}")
    module = (getattr(type(checker), "__module__", None) if not isinstance(checker, (_FunctionChecker, _Legacy))
              else checker.__module__) if checker is not None else _caller_module()
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
    """Class decorator registering a checker for the code exercise ``label``::

        @exercise("rnn-step-forward", chapter="rnn_equations", points=2,
                  title="Implement one step of the RNN", answer_name="rnn_step_forward")
        class StepForward(Checker):
            references = ("rnnlib.rnn.rnn_step_forward", "rnnlib.rnn._rnn_step_forward")
            def cases(self, rng): ...
            def observe(self, returned, case, args): ...
            def judge(self, case, observed): ...   # raise Mistake("...") when wrong
    """

    def decorate(checker):
        if not isinstance(checker, type) and callable(checker):        # old style: see _Legacy
            register(label, chapter=chapter, points=points, title=title, kind="code",
                     checker=_Legacy(checker), answer_name=answer_name)
            return checker
        if not isinstance(checker, type):
            raise TypeError("@exercise decorates a Checker class (cases, prepare, observe, judge); "
                            "use register(..., cases=..., judge=...) to give functions")
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


def _code_exercise(label):
    entry = label if isinstance(label, Exercise) else get_exercise(label)
    if entry.kind != "code":
        raise ValueError(f"exercise {entry.label!r} is a written exercise: it has no automatic checker")
    return entry


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
# Results
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


def _result(entry, status, feedback, points=0.0):
    try:
        points = float(points)
    except Exception:
        points = 0.0
    if not np.isfinite(points):
        points = 0.0
    points = min(max(points, 0.0), float(entry.points))                # never above the maximum
    if status != "passed" and status != "failed":
        points = 0.0
    return Result(entry.label, status, str(feedback).strip(), points, entry.points, entry.chapter)


# ----------------------------------------------------------------------------------------------
# Running an answer on the cases (next to the answer) and judging (trusted)
# ----------------------------------------------------------------------------------------------
#: the keys an error record may have; an observation is an error record when it is a dict with
#: one of the first four keys and no key outside this set
ERROR_KEYS = ("not_attempted", "raised", "not_callable", "checker_error", "context", "where")


def is_error_record(observed):
    """True when ``observed`` is an error record of :func:`observe_case` (not an observation)."""
    return (isinstance(observed, dict) and bool(observed) and set(observed) <= set(ERROR_KEYS)
            and any(key in observed for key in ERROR_KEYS[:4]))


def make_cases(label, rng=None):
    """The checker's cases for ``label`` (fixed first, then random from ``rng``), as Case
    objects of validated plain data. ``rng`` defaults to a fresh OS-entropy Generator."""
    entry = _code_exercise(label)
    cases = entry.checker.cases(fresh_rng() if rng is None else rng)
    return [Case.from_plain(Case(c.context, tuple(c.args), dict(c.kwargs)).as_plain()) for c in cases]


def observe_case(label, answer, case):
    """Run ``answer`` on one case next to it: prepare, call (for a function answer), observe.

    Returns plain data: the observation, or an error record ({"not_attempted": True},
    {"raised": "ValueError: ...", "context": ..., "where": ...}, {"not_callable": "a str"},
    {"checker_error": "..."}). Never raises because of the answer.
    """
    entry = _code_exercise(label)
    checker = entry.checker
    try:
        case = Case.from_plain(case)
    except PlainDataError as error:
        return {"checker_error": f"malformed case: {error}"[:MAX_MESSAGE]}
    if answer is None or answer is Ellipsis:
        return {"not_attempted": True}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            args, kwargs = checker.prepare(case)
            if checker.answer_kind == "function":
                if not callable(answer):
                    return {"not_callable": describe(answer)}
                returned = call(answer, *args, context=case.context, **kwargs)
            else:
                returned = answer
            observed = checker.observe(returned, case, args)
        return to_plain(observed)
    except NotAttempted:
        return {"not_attempted": True}
    except AnswerRaised as raised:
        return raised.record()
    except NotImplementedError:
        return {"not_attempted": True}
    except RecursionError as error:
        return AnswerRaised(error, case.context).record()
    except Mistake as mistake:          # a checker's observe that judged (should not happen)
        return {"checker_error": f"observe raised Mistake: {mistake.feedback}"[:MAX_MESSAGE]}
    except Exception as error:
        return {"checker_error": f"{type(error).__name__}: {_safe_str(error)}\n  at "
                                 f"{_student_line(error) or _last_line(error)}"[:MAX_MESSAGE]}


def observe_all(label, answer, cases):
    """[observe_case(label, answer, case) for case in cases], stopping after the first error
    record that is not a checker error (later cases would report the same)."""
    out = []
    for case in cases:
        observed = observe_case(label, answer, case)
        out.append(observed)
        if is_error_record(observed) and "checker_error" not in observed:
            break
    return out


def _safe_str(error):
    try:
        return str(error)
    except Exception:
        return "(no message)"


def _raised_feedback(record):
    message = f"your function raised {str(record.get('raised'))[:MAX_MESSAGE]}"
    context, where = record.get("context"), record.get("where")
    if isinstance(context, str) and context:
        message += f"\n  (when called with {context[:MAX_MESSAGE]})"
    if isinstance(where, str) and where:
        message += f"\n  at {where[:MAX_MESSAGE]}"
    return message


def _error_result(entry, record):
    if record.get("not_attempted"):
        return _result(entry, "not attempted", NOT_ATTEMPTED)
    if "raised" in record:
        raised = str(record.get("raised"))
        if raised.startswith("RecursionError"):
            return _result(entry, "failed", f"your function recursed too deeply ({raised[16:].strip(': ')})")
        return _result(entry, "failed", _raised_feedback(record))
    if "not_callable" in record:
        return _result(entry, "failed", f"expected a function, got {str(record['not_callable'])[:200]}")
    return _result(entry, "error", f"checking stopped with {str(record.get('checker_error'))[:MAX_MESSAGE]}\n"
                   "If your code is not at fault, this is a bug in the checker: please report it.")


def _judge_one(entry, case, observed):
    """None when the case passes, else the Result (failed/error) it gives."""
    error_record = is_error_record(observed)
    if error_record and not ("raised" in observed and callable(getattr(entry.checker, "judge_error", None))):
        return _error_result(entry, observed)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if error_record:
                entry.checker.judge_error(case, observed)
                return _error_result(entry, observed)
            entry.checker.judge(case, observed)
    except Mistake as mistake:
        return _result(entry, "failed", mistake.feedback, mistake.partial)
    except NotAttempted:
        return _result(entry, "not attempted", NOT_ATTEMPTED)
    except NotImplementedError:
        return _result(entry, "not attempted", NOT_ATTEMPTED)
    except Exception as error:  # a bug in the checker, or an observation no answer could give
        return _result(entry, "error", f"checking stopped with {type(error).__name__}: {_safe_str(error)}\n"
                       f"  at {_last_line(error)}\n"
                       "If your code is not at fault, this is a bug in the checker: please report it.")
    return None


def judge_observations(label, cases, observations):
    """The Result of the observations of an answer on ``cases`` (Case objects or their plain
    form), judged in this process. Never raises because of the cases or observations (malformed,
    forged or missing ones give a failed or error Result); points are within [0, max points].
    An unknown label raises UnknownExercise, a written exercise ValueError."""
    entry = _code_exercise(label)
    if getattr(entry.checker, "legacy", False):
        return _result(entry, "error", f"the checker of {entry.label!r} is an old-style function: it has no "
                       "judgement outside the answer's process, so the grader cannot use it.")
    try:
        cases = [Case.from_plain(case) for case in cases]
        observations = list(observations)
        if not cases:
            raise PlainDataError("no cases")
    except Exception as error:
        return _result(entry, "error", f"the cases are malformed ({type(error).__name__}: {_safe_str(error)})")
    for index, case in enumerate(cases):
        if index >= len(observations):
            return _result(entry, "error", f"no observation for case {index + 1} of {len(cases)} "
                           f"({case.context}): the answer's run stopped early.")
        try:
            observed = to_plain(observations[index])
        except Exception as error:
            return _result(entry, "error", f"the observation of case {index + 1} is not plain data ({error})")
        verdict = _judge_one(entry, case, observed)
        if verdict is not None:
            return verdict
    if len(observations) != len(cases):
        return _result(entry, "error", f"{len(observations)} observations for {len(cases)} cases")
    return _passed(entry)


def _passed(entry):
    note = getattr(entry.checker, "note", "")
    return _result(entry, "passed", "All test cases pass." + (f"\n{note}" if note else ""), entry.points)


def check(label, answer, *, quiet=False, rng=None):
    """Check ``answer`` for the exercise ``label``; print feedback and return a Result.

    Runs the checker's pieces in this process: fresh cases (``rng``, default OS entropy), and for
    each case prepare, the call, observe, to_plain and judge; the first Mistake gives the feedback.
    Never raises because of the answer (wrong values, exceptions, wrong types, the unsolved stub);
    an unknown label raises UnknownExercise listing the known labels, and a written exercise
    raises ValueError (it has no checker).
    """
    entry = _code_exercise(label)
    result = _run_checker(entry, answer, rng)
    if _in_book_build():
        # The built page shows what a student sees, not the master solution's "Correct"; the
        # book's own solution must still pass, or the build stops here.
        if not result.passed:
            raise AssertionError(f"the book's solution of {label!r} fails its checker:\n{result}")
        if not quiet:
            print(BOOK_PAGE_NOTE.format(label=label, points=entry.points))
            result._echoed = True
        return result
    if not quiet:
        print(result)
        result._echoed = True
    _log(result)
    return result


#: What a check cell prints on the built page (no kernel there to check a reader's answer).
BOOK_PAGE_NOTE = ("[{label}] ({points:g} points) In Jupyter, Binder or Colab, this cell checks "
                  "your answer on fixed and fresh random cases and says what is wrong, if "
                  "anything; until you replace the stub it says \"not attempted yet\".")


def _in_book_build():
    from ..book import in_book_build   # NumPy-free module: importing it stays light

    return in_book_build()


def _run_checker(entry, answer, rng=None):
    if answer is None or answer is Ellipsis:
        return _result(entry, "not attempted", "Write your answer in the cell above (replace the stub) and run it.")
    try:
        cases = make_cases(entry, rng)
    except Exception as error:
        return _result(entry, "error", f"the checker could not make its cases: {type(error).__name__}: "
                       f"{_safe_str(error)}\n  at {_last_line(error)}\nThis is a bug in the checker: please report it.")
    for case in cases:
        verdict = _judge_one(entry, case, observe_case(entry, answer, case))
        if verdict is not None:
            return verdict
    return _passed(entry)


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
    """'line N: code' of the innermost traceback frame outside rnnlib and numpy, if any."""
    try:
        frames = traceback.extract_tb(error.__traceback__)
    except Exception:
        return ""
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
    try:
        frames = traceback.extract_tb(error.__traceback__)
    except Exception:
        return "?"
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{os.path.basename(frame.filename)}, line {frame.lineno}: {(frame.line or '').strip()}"


# ----------------------------------------------------------------------------------------------
# Helpers for checkers
# ----------------------------------------------------------------------------------------------
def describe(value):
    """A short description of a value for feedback: 'an array of shape (3, 4), dtype float64'.

    Works on live values and on their plain snapshot ({"opaque": "a function"} says itself)."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}, dtype {value.dtype}"
    if isinstance(value, dict) and set(value) == {"opaque"} and isinstance(value["opaque"], str):
        return value["opaque"][:200]
    if isinstance(value, (tuple, list)):
        inner = ", ".join(describe(v) for v in value[:3]) + (", ..." if len(value) > 3 else "")
        return f"a {type(value).__name__} of {len(value)} items ({inner})"
    if isinstance(value, bool):
        return f"the bool {value!r}"
    if isinstance(value, (numbers.Number, np.generic)):
        text = repr(value)
        return f"the {type(value).__name__} {text if len(text) < 60 else text[:57] + '...'}"
    if value is None:
        return "None (did you forget `return`?)"
    if isinstance(value, str):
        return f"a str ({value[:40]!r}{'...' if len(value) > 40 else ''})"
    if callable(value) and not isinstance(value, type):
        return "a function"
    return f"a {type(value).__name__}"


def is_sequence(value, length=None):
    """True for a tuple or list (of ``length`` items, if given): the sequence rule."""
    return isinstance(value, (tuple, list)) and (length is None or len(value) == length)


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


def tolerance(*dtypes):
    """(rtol, atol) for comparing results computed in ``dtypes``: those of the least precise
    floating dtype among them (the dtype rule); float64 when none is floating."""
    floats = [np.dtype(dt) for dt in dtypes if dt is not None and np.issubdtype(np.dtype(dt), np.inexact)]
    sizes = [dt.itemsize // (2 if dt.kind == "c" else 1) for dt in floats]
    size = min(sizes) if sizes else 8
    if size <= 2:
        return 1e-2, 1e-3
    if size <= 4:
        return 1e-4, 1e-5
    return 1e-7, 1e-9


def as_array(value, name="your answer", context=""):
    """``value`` as a numeric NumPy array, or a Mistake explaining what was returned instead."""
    where = f" (for {context})" if context else ""
    if isinstance(value, np.ndarray):
        array = value
    else:
        if value is None or isinstance(value, (dict, str)):
            raise Mistake(f"{name} should be a NumPy array{where}, got {describe(value)}")
        try:
            array = np.asarray(value)
        except Exception:
            raise Mistake(f"{name} should be a NumPy array{where}, got {describe(value)}") from None
        if array.dtype == object:
            raise Mistake(f"{name} should be a NumPy array{where}, got {describe(value)}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise Mistake(f"{name} should be a numeric array{where}, got dtype {array.dtype}")
    return array


def close(actual, expected, rtol=None, atol=None):
    """True when ``actual`` has the shape of ``expected`` and is allclose to it (no exceptions),
    at the tolerance of the less precise of the two dtypes (the dtype rule)."""
    try:
        if isinstance(actual, dict) or actual is None:
            return False
        actual = np.asarray(actual)
        expected = np.asarray(expected)
        if actual.shape != expected.shape or actual.dtype.kind not in "biufc":
            return False
        default_rtol, default_atol = tolerance(actual.dtype, expected.dtype)
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
            check_dtype=False, dtype=None):
    """Raise a Mistake describing how ``actual`` differs from ``expected``; return None if equal.

    Reports, in this order: not an array, a shape mismatch (with a hint: transposed, a missing
    batch dimension, ...), NaN/inf, and values that differ (largest error and where). Tolerances
    default to :func:`tolerance` of the less precise of actual's, expected's and ``dtype`` (the
    inputs' dtype): the dtype rule. ``check_dtype=True`` (not used by the book's checkers) also
    requires actual's dtype to be expected's.
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
    if np.issubdtype(actual.dtype, np.inexact) and not np.all(np.isfinite(actual)) \
            and np.all(np.isfinite(expected)):
        raise Mistake(f"{name} contains NaN or inf{where}, but the reference is finite.")
    default_rtol, default_atol = tolerance(actual.dtype, expected.dtype, dtype)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        error = np.abs(actual.astype(np.complex128 if actual.dtype.kind == "c" else np.float64)
                       - expected.astype(np.complex128 if expected.dtype.kind == "c" else np.float64))
        index = np.unravel_index(np.argmax(error), error.shape) if error.ndim else ()
        at = f" at index {tuple(int(i) for i in index)}" if index else ""
        yours, ref = actual[index], expected[index]
        fmt = (lambda v: f"{complex(v):.6g}") if np.iscomplexobj(yours) or np.iscomplexobj(ref) \
            else (lambda v: f"{float(v):.6g}")
        raise Mistake(f"{name} has the right shape but wrong values{where}: the largest difference "
                      f"from the reference is {float(error.max()):.3g}{at} (yours {fmt(yours)}, "
                      f"expected {fmt(ref)}).")


def first_match(actual, variants: Iterable, rtol=None, atol=None, unless=None):
    """The feedback of the first known mistake whose output ``actual`` matches, else None.

    variants: (feedback, output) pairs, where output is what an answer with that mistake
    returns (an array, or a zero-argument function computing it; a function that raises is
    skipped, so a variant may be impossible for the current shapes). ``unless``: the right
    output; when ``actual`` is close to it, no mistake is named (a mistake can coincide with the
    right answer for some sizes, e.g. W.T == W when m = 1).
    """
    if unless is not None and close(actual, unless, rtol, atol):
        return None
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
