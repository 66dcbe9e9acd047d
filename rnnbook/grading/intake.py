"""Reading submissions safely (trusted side): find, read, validate, name.

* :func:`find_submissions` lists ``*.ipynb`` under the given folders without following symlinks;
  each submission's student id is its path relative to the folder given (so ``a/alice.ipynb``
  and ``b/alice.ipynb`` are two students); a file given directly is named by its path.
* :func:`read_submission` opens a file without following a symlink (``O_NOFOLLOW``), reads at
  most ``max_bytes``, checks the JSON nesting depth *before* parsing (deeply nested JSON would
  make ``json.loads`` raise RecursionError), parses, then repairs or refuses what nbformat would
  choke on: a cell that is not an object, a source that is a number, ``metadata.nbgrader`` that
  is not an object, an id that is not a string. What was repaired is listed as a problem of that
  submission only. It raises :class:`Unreadable` with a short reason for a file that cannot be
  graded at all.
"""
from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_BYTES = 32 * 1024 ** 2
DEFAULT_MAX_DEPTH = 64
CELL_TYPES = ("code", "markdown", "raw")


class Unreadable(ValueError):
    """The file cannot be graded (not a notebook, too large, a symlink, ...)."""

    def __init__(self, reason, status="not a notebook"):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class Submission:
    student: str                 # the id in the report: the path relative to the folder given
    path: Path
    symlink: bool = False


@dataclass
class Notebook:
    """A validated notebook: plain dict cells with str sources, dict metadata."""

    cells: list
    metadata: dict
    problems: list = field(default_factory=list)
    sha256: str = ""


def find_submissions(paths):
    """Submissions under ``paths`` (files as given; folders walked without following symlinks).

    Returns Submission objects sorted by student id; symlinks are listed with ``symlink=True``
    (the grader refuses them, and reports them). ``.ipynb_checkpoints`` folders are skipped.
    """
    found, seen = [], set()
    for root in map(Path, paths):
        if root.is_symlink() and not root.is_dir():
            found.append(Submission(_file_id(root), root, symlink=True))
            continue
        if root.is_dir():
            for folder, dirs, files in os.walk(root, followlinks=False):
                dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints"
                                 and not (Path(folder) / d).is_symlink())
                for name in sorted(files):
                    if not name.endswith(".ipynb"):
                        continue
                    path = Path(folder) / name
                    student = path.relative_to(root).as_posix()
                    found.append(Submission(student, path, symlink=path.is_symlink()))
        else:
            found.append(Submission(_file_id(root), root, symlink=root.is_symlink()))
    unique, ids = [], {}
    for sub in found:
        key = os.path.abspath(sub.path)
        if key in seen:
            continue
        seen.add(key)
        if sub.student in ids:                     # the same relative path under two folders
            ids[sub.student] += 1
            sub.student = f"{sub.student}#{ids[sub.student]}"
        else:
            ids[sub.student] = 1
        unique.append(sub)
    return sorted(unique, key=lambda s: s.student)


def _file_id(path):
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = str(path)
    return Path(rel if not rel.startswith("..") else os.path.abspath(path)).as_posix()


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text):
    """The deepest nesting of ``[`` and ``{`` in JSON ``text`` (strings skipped), in linear time."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest


def read_bytes(path, max_bytes=DEFAULT_MAX_BYTES):
    """At most ``max_bytes`` of a regular file, never through a symlink."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise Unreadable("file not found", "unreadable") from None
    except OSError as error:
        if error.errno == 40:                              # ELOOP: it is a symlink
            raise Unreadable("refused: the submission is a symbolic link", "refused") from None
        raise Unreadable(f"cannot read the file ({error.strerror})", "unreadable") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable("refused: not a regular file", "refused")
        if info.st_size > max_bytes:
            raise Unreadable(f"not graded: the file has {info.st_size} bytes, more than the limit "
                             f"of {max_bytes}", "too large")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise Unreadable(f"not graded: the file is larger than the limit of {max_bytes} bytes",
                             "too large")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_submission(path, max_bytes=DEFAULT_MAX_BYTES, max_depth=DEFAULT_MAX_DEPTH):
    """A validated :class:`Notebook` from ``path``; Unreadable with the reason otherwise."""
    import hashlib

    if Path(path).is_symlink():
        raise Unreadable("refused: the submission is a symbolic link", "refused")
    data = read_bytes(path, max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("not a notebook: the file is not UTF-8 text") from None
    depth = json_depth(text)
    if depth > max_depth:
        raise Unreadable(f"not a notebook: its JSON is nested {depth} levels deep (limit {max_depth})")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise Unreadable(f"not a notebook: the file is not JSON ({str(error)[:120]})") from None
    nb = validate(raw)
    nb.sha256 = hashlib.sha256(data).hexdigest()
    schema = nbformat_problem(raw) if not nb.problems else None
    if schema:
        nb.problems.append(f"not valid nbformat 4 ({schema}); graded anyway")
    return nb


def nbformat_problem(raw):
    """nbformat's own validation of the notebook, as one short message, or None."""
    try:
        import nbformat
        from nbformat.validator import ValidationError

        nbformat.validate(nbformat.from_dict(raw), version=4)
    except ValidationError as error:
        return str(error.message)[:160]
    except Exception as error:          # nbformat cannot even look at it: the repair above did
        return f"{type(error).__name__}"[:160]
    return None


def validate(raw):
    """Repair what can be repaired of an nbformat-4 dict, note it, refuse the rest."""
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise Unreadable("not a notebook: JSON without a list of cells")
    major = raw.get("nbformat")
    if major is not None and major != 4:
        raise Unreadable(f"not a notebook this grader reads: nbformat {major!r} (4 expected)")
    problems, cells = [], []
    for number, cell in enumerate(raw["cells"], 1):
        if not isinstance(cell, dict):
            problems.append(f"cell {number} is not a JSON object; it was ignored")
            continue
        cell_type = cell.get("cell_type")
        if cell_type not in CELL_TYPES:
            problems.append(f"cell {number} has an unknown cell_type {str(cell_type)[:40]!r}; "
                            "it was ignored")
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        elif not isinstance(source, str):
            problems.append(f"cell {number}'s source is a {type(source).__name__}, not text; "
                            "it was treated as empty")
            source = ""
        metadata = cell.get("metadata", {})
        if not isinstance(metadata, dict):
            problems.append(f"cell {number}'s metadata is not an object; it was ignored")
            metadata = {}
        nbgrader = metadata.get("nbgrader")
        if nbgrader is not None and not isinstance(nbgrader, dict):
            problems.append(f"cell {number}'s metadata.nbgrader is not an object; it was ignored")
            metadata = {k: v for k, v in metadata.items() if k != "nbgrader"}
        elif isinstance(nbgrader, dict) and not isinstance(nbgrader.get("grade_id", ""), str):
            problems.append(f"cell {number}'s nbgrader grade_id is not text; it was ignored")
            metadata = dict(metadata, nbgrader={k: v for k, v in nbgrader.items() if k != "grade_id"})
        cell_id = cell.get("id")
        cells.append({"cell_type": cell_type, "source": source, "metadata": metadata,
                      "id": cell_id if isinstance(cell_id, str) else None})
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    return Notebook(cells=cells, metadata=metadata, problems=problems)


def grade_id(cell):
    nbgrader = cell.get("metadata", {}).get("nbgrader")
    value = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return value if isinstance(value, str) and value else None
