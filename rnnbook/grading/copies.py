"""Reference copies (trusted side): does an answer use the library's own solution?

Static analysis of the submitted source (the sandbox's runtime trace adds its evidence in
``supervisor.py``). Starting from the binding of the answer's name in the student's own cells,
it follows every name the answer's code uses, through the submission's functions, assignments
and imports (the book's cells included, since they bind names too), and looks for

* **a copy** (scores 0): the reference's name or its plain twin (``rnn_step_forward``,
  ``_rnn_step_forward`` for ``rnnlib.rnn.rnn_step_forward``) read as an attribute
  (``rnnlib.rnn_step_forward``, ``rnn.rnn_step_forward``), imported from rnnlib, or spelled in a
  string the answer's code can reach (``getattr(rnnlib, "rnn_step_" + "forward")``, also after
  joining constant strings);
* **something to review** (flagged with the evidence, points kept): reflection that could hide a
  copy (``getattr``/``importlib``/``__import__``/``sys.modules``/``eval``/``exec``/``compile``/
  ``types.FunctionType``/``__code__``/``inspect``/``gc``/``sys._getframe``/``open``/...).

Anywhere in the student's own cells it also notes attempts at the grader itself (patching
``rnnlib.exercises``, ``os._exit``, ``sys.setprofile``, signals, ``os.kill``/``fork``, ``ctypes``).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

REFLECTION = {
    "getattr": "getattr", "vars": "vars()", "globals": "globals()", "locals": "locals()",
    "__import__": "__import__", "eval": "eval", "exec": "exec", "compile": "compile",
    "open": "open()", "FunctionType": "types.FunctionType", "CodeType": "types.CodeType",
    "LambdaType": "types.LambdaType", "import_module": "importlib.import_module",
    "_getframe": "sys._getframe", "get_objects": "gc.get_objects", "getsource": "inspect.getsource",
    "getsourcefile": "inspect.getsourcefile", "b64decode": "base64", "fromhex": "bytes.fromhex",
    "loads": "a loads() (pickle/marshal?)", "reload": "importlib.reload",
}
REFLECTION_CALLS = {"import_module", "_getframe", "get_objects", "getsource", "getsourcefile",
                    "b64decode", "FunctionType", "CodeType", "LambdaType", "reload",
                    "get_referrers", "getmembers", "getmodule"}
REFLECTION_ATTRS = {"__code__", "__globals__", "__dict__", "__builtins__", "__closure__",
                    "modules", "__wrapped__", "__func__", "__self__", "f_back", "f_globals",
                    "f_locals", "co_code", "__loader__", "__spec__", "__file__"}
REFLECTION_MODULES = {"importlib", "inspect", "gc", "ctypes", "marshal", "pickle", "types",
                      "codecs", "base64", "builtins", "runpy", "zipimport", "dill", "cloudpickle"}
TAMPERING = [
    (re.compile(r"\brnnlib\s*\.\s*exercises\s*\.\s*\w+\s*=(?!=)"), "assigns into rnnlib.exercises"),
    (re.compile(r"\b_REGISTRY\b"), "touches the checker registry (_REGISTRY)"),
    (re.compile(r"sys\s*\.\s*modules\s*\["), "indexes sys.modules"),
    (re.compile(r"\bos\s*\.\s*_exit\b"), "calls os._exit"),
    (re.compile(r"\bset(?:profile|trace)\b"), "calls sys.setprofile/settrace"),
    (re.compile(r"\bsignal\s*\.\s*(?:signal|alarm|setitimer|pthread_sigmask)\b"), "changes signals"),
    (re.compile(r"\bos\s*\.\s*(?:kill|killpg|fork|forkpty|setsid)\b"), "forks or sends signals"),
    (re.compile(r"\bctypes\b"), "uses ctypes"),
    (re.compile(r"\bos\s*\.\s*(?:write|dup2?|fdopen)\b|/proc/self/fd|\bsys\s*\.\s*argv"),
     "writes to file descriptors directly"),
    (re.compile(r"get_objects|get_referrers|__globals__|_getframe|f_back|f_locals"),
     "inspects the interpreter's objects or frames (gc, __globals__, sys._getframe)"),
    (re.compile(r"/proc/|\.pth\b|kernelspec|ipython/profile|startup"), "writes system or IPython files"),
]


@dataclass
class Finding:
    verdict: str = ""                 # "copy", "review" or ""
    evidence: list = field(default_factory=list)
    hits: set = field(default_factory=set)   # base names of the references found (no "_")
    tampering: list = field(default_factory=list)


def _parse(source):
    """The AST of a cell (IPython magics and shell lines blanked), or None."""
    lines = []
    for line in source.split("\n"):
        stripped = line.lstrip()
        lines.append(line[: len(line) - len(stripped)] + "pass" if stripped.startswith(("%", "!"))
                     else line)
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _constant_string(node):
    """The value of a string built from constants (concatenation, f-string, join), or None."""
    try:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            left, right = _constant_string(node.left), _constant_string(node.right)
            if isinstance(node.op, ast.Add) and left is not None and right is not None:
                return left + right
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                elif isinstance(value, ast.FormattedValue):
                    inner = _constant_string(value.value)
                    if inner is None:
                        return None
                    parts.append(inner)
            return "".join(parts)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "join" and len(node.args) == 1
                and isinstance(node.args[0], (ast.List, ast.Tuple))):
            sep = _constant_string(node.func.value)
            items = [_constant_string(item) for item in node.args[0].elts]
            if sep is not None and all(item is not None for item in items):
                return sep.join(items)
    except RecursionError:
        return None
    return None


class _Bindings:
    """Every top-level binding of each name in the submission: (node, cell number, is_book)."""

    def __init__(self):
        self.of = {}

    def add(self, name, node, where, book):
        self.of.setdefault(name, []).append((node, where, book))

    def scan(self, tree, where, book):
        for stmt in tree.body:
            self._statement(stmt, where, book)

    def _statement(self, stmt, where, book):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.add(stmt.name, stmt, where, book)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        self.add(node.id, stmt.value if stmt.value is not None else stmt, where, book)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if isinstance(stmt, ast.Import):
                    name = alias.asname or alias.name.split(".")[0]
                    self.add(name, ("import", alias.name, None, stmt), where, book)
                else:
                    self.add(alias.asname or alias.name,
                             ("import", stmt.module or "", alias.name, stmt), where, book)
        elif isinstance(stmt, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.stmt):
                    self._statement(child, where, book)
            for handler in getattr(stmt, "handlers", []):
                for child in handler.body:
                    self._statement(child, where, book)
            if isinstance(stmt, (ast.For,)):
                for node in ast.walk(stmt.target):
                    if isinstance(node, ast.Name):
                        self.add(node.id, stmt.iter, where, book)
            if isinstance(stmt, ast.With):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        for node in ast.walk(item.optional_vars):
                            if isinstance(node, ast.Name):
                                self.add(node.id, item.context_expr, where, book)


def reference_names(references):
    """{attribute/name spelled in code: qualified reference} for each reference and its twin."""
    names = {}
    for qualified in references:
        module, _, name = qualified.rpartition(".")
        base = name.lstrip("_")
        for spelled in (base, "_" + base):
            names[spelled] = qualified
    return names


def base_name(qualified):
    """``rnnlib.rnn._rnn_step_forward`` -> ``rnn_step_forward``."""
    return qualified.rpartition(".")[2].lstrip("_")


def allowed_references(master_solution, answer_name, references):
    """References the book's own solution uses (so using them is not a copy): base names."""
    if not master_solution:
        return set()
    return analyse([(master_solution, False, 0)], answer_name, references).hits


def analyse(cells, answer_name, references, label=""):
    """A :class:`Finding` for the answer bound to ``answer_name``.

    cells: (source, is_book, cell number) of every code cell in notebook order.
    """
    finding = Finding()
    refs = reference_names(references)
    if not answer_name:
        return finding
    bindings = _Bindings()
    for source, book, where in cells:
        tree = _parse(source)
        if tree is not None:
            bindings.scan(tree, where, book)
        if not book:
            for pattern, what in TAMPERING:
                if pattern.search(source) and len(finding.tampering) < 10:
                    note = f"cell {where} {what}"
                    if note not in finding.tampering:
                        finding.tampering.append(note)
    copies, reviews = [], []
    seen_names, seen_nodes = set(), set()
    work = [(answer_name, True)]
    while work:
        name, is_answer = work.pop()
        if name in seen_names:
            continue
        seen_names.add(name)
        for node, where, book in bindings.of.get(name, []):
            if is_answer and book:
                continue                    # the book's own later bindings are not the answer
            if id(node) in seen_nodes:
                continue
            seen_nodes.add(id(node))
            if isinstance(node, tuple):     # ("import", module, name or None, stmt)
                _, module, imported, _stmt = node
                _check_import(module, imported, refs, where, copies, reviews, label)
                continue
            found = []
            for used in _walk(node, refs, where, found if not book else reviews, reviews, label):
                work.append((used, False))
            copies += found
    for line in copies:
        for spelled in refs:
            if f"`.{spelled}`" in line or f"import {spelled}`" in line or f"{spelled!r}" in line \
                    or f"'{spelled}" in line:
                finding.hits.add(spelled.lstrip("_"))
    if not copies:
        # the reference used anywhere in the student's own cells (a comparison, or a way around
        # the answer: e.g. patching the grader to report the reference's results)
        for source, book, where in cells:
            tree = None if book else _parse(source)
            if tree is None:
                continue
            elsewhere = []
            _walk(tree, refs, where, elsewhere, [], label)
            for line in elsewhere[:2]:
                reviews.append(f"outside the answer, {line}")
    if copies:
        finding.verdict = "copy"
    elif reviews:
        finding.verdict = "review"
    finding.evidence = (copies + reviews)[:10]
    return finding


def _check_import(module, imported, refs, where, copies, reviews, label):
    module = module or ""
    if imported is not None and module.split(".")[0] == "rnnlib" and imported in refs:
        copies.append(f"cell {where}: `from {module} import {imported}` imports the library's "
                      f"{refs[imported]}, the reference solution of {label or 'this exercise'}")
    elif module.split(".")[0] in REFLECTION_MODULES:
        reviews.append(f"cell {where}: the answer's code uses the module {module}")


def _walk(node, refs, where, copies, reviews, label):
    """Names that ``node`` reads; records copies and things to review."""
    used = []
    try:
        nodes = list(ast.walk(node))
    except RecursionError:
        reviews.append(f"cell {where}: code too deeply nested to analyse")
        return used
    for child in nodes:
        line = getattr(child, "lineno", None)
        at = f"cell {where}" + (f", line {line}" if line else "")
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
            used.append(child.id)
            if child.id in REFLECTION:
                reviews.append(f"{at}: uses {REFLECTION[child.id]}")
        elif isinstance(child, ast.Attribute):
            if child.attr in refs:
                copies.append(f"{at}: reads `.{child.attr}`, the library's {refs[child.attr]} "
                              f"(the reference solution of {label or 'this exercise'})")
            elif child.attr in REFLECTION_CALLS:
                reviews.append(f"{at}: uses {REFLECTION.get(child.attr, child.attr)}")
            elif child.attr in REFLECTION_ATTRS:
                reviews.append(f"{at}: uses .{child.attr}")
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            for alias in child.names:
                if isinstance(child, ast.Import):
                    _check_import(alias.name, None, refs, where, copies, reviews, label)
                else:
                    _check_import(child.module, alias.name, refs, where, copies, reviews, label)
        if isinstance(child, (ast.Constant, ast.BinOp, ast.JoinedStr, ast.Call)):
            value = _constant_string(child)
            if value:
                for spelled, qualified in refs.items():
                    if value == spelled or value.endswith("." + spelled) or \
                            re.search(rf"\b{re.escape(qualified)}\b", value):
                        copies.append(f"{at}: the string {value[:60]!r} names the library's "
                                      f"{qualified}")
                        break
    return used
