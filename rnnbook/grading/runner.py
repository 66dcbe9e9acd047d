"""The runner: executes one submission inside the sandbox and reports plain observations.

Started by the supervisor (``rnnbook/grading/supervisor.py``) as
``python -I /grader/runner.py /grader/in`` inside bubblewrap (``rnnbook/sandbox.py``). It is a
single file, bound read-only into the sandbox, that imports only the standard library, IPython,
NumPy and ``rnnlib.exercises`` (never ``rnnbook``, which the sandbox does not contain).

What it reads (read-only, written by the trusted grader): ``plan.json`` (the cells to run, where
to take each exercise's answer, the limits) and ``cases/<label>/`` (each exercise's test cases,
plain data written by ``rnnlib.exercises.plain.dump``).

What it does:

1. sets ``RLIMIT_NPROC`` (inside the sandbox's user, so it counts this sandbox's processes);
2. runs the submission's code cells one by one in an in-process IPython ``InteractiveShell`` (no
   kernel, no sockets), each with the time left of the notebook's limit (``SIGALRM``), counting
   (not keeping) what each cell prints; a cell's exception is recorded as its type and message;
3. keeps each exercise's answer right after its solution cell and right before its ``check``
   cell, else takes it from the namespace at the end;
4. for each code exercise, builds each case's live arguments (the checker's ``prepare``), calls
   the answer (a function) or takes it (a value), turns what it returned into plain data (the
   checker's ``observe``), records calls into the reference implementation (``sys.setprofile``)
   and reading rnnlib's source (an audit hook), and writes the plain observations back.

Why an in-process IPython shell and not a Jupyter kernel: a kernel talks over TCP sockets (the
sandbox has no network to offer), needs a kernelspec and a client, and costs a second process
and its start-up per submission. ``InteractiveShell`` runs cells with IPython's semantics
(magics, ``display``, the last expression's value) in this one process, so the supervisor sees
one process tree to limit and kill, and the answers are called where they were defined.

Everything goes back as frames on a pipe's file descriptor (its number is the second argument): a 4-byte length, a JSON header, and for
files the raw bytes. The trusted grader treats all of it as the student's claims
("observations"): it loads them strictly and judges them against its own reference.
"""
import json
import os
import resource
import signal
import struct
import sys
import time

_write = os.write
_dumps = json.dumps
_monotonic = time.monotonic
_CHANNEL = 3
_MAX_TEXT = 400


def send(header, payload=b""):
    """One frame on the channel: length, JSON header, then ``payload`` (its size in the header)."""
    if payload:
        header = dict(header, size=len(payload))
    data = _dumps(header).encode("utf-8")
    try:
        _write(_CHANNEL, struct.pack(">I", len(data)) + data)
        view = memoryview(payload)
        while view:
            written = _write(_CHANNEL, view[:1 << 20])
            view = view[written:]
    except OSError:
        os._exit(70)


def text(value, limit=_MAX_TEXT):
    value = str(value)
    return value if len(value) <= limit else value[:limit] + " ..."


def error_text(error):
    message = text(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


class Timeout(BaseException):
    """Raised by SIGALRM in the code that ran out of time."""


def _alarm(signum, frame):
    raise Timeout()


def arm(seconds):
    """SIGALRM in ``seconds``, then every 0.5 s (a cell that swallows one gets the next)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01), 0.5)


def disarm():
    """Stop the timer; a Timeout that arrives while stopping it is dropped."""
    while True:
        try:
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            return
        except Timeout:
            continue


class Counter:
    """A stand-in for sys.stdout/sys.stderr that counts what is written and keeps nothing."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self):
        self.count = 0

    def write(self, data):
        try:
            self.count += len(data)
        except TypeError:
            pass
        return len(data) if isinstance(data, (str, bytes)) else 0

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        raise OSError("no file descriptor")


class Watcher:
    """Evidence of reference copies: calls into the reference's code, reads of rnnlib's source."""

    def __init__(self, library_dir):
        self.library_dir = library_dir
        self.references = {}        # (file, name) -> qualified name
        self.names = {}             # co_name of a reference or its twin -> qualified name
        self.codes = {}             # code object id -> qualified name
        self.calls = []             # evidence while an answer runs
        self.reads = []             # rnnlib files opened by the submission's own code
        self.trusted = 0            # > 0 while the runner itself reads files
        self.active = False

    def add_reference(self, qualified):
        """Remember where ``qualified`` (e.g. rnnlib.rnn.rnn_step_forward) and its _twin live."""
        import importlib

        module_name, _, name = qualified.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except Exception:
            return
        for candidate in (name, "_" + name.lstrip("_")):
            function = getattr(module, candidate, None)
            code = getattr(function, "__code__", None)
            label = f"{module_name}.{candidate}"
            self.names[candidate] = label
            if code is not None:
                self.codes[id(code)] = label
                self.references[(os.path.realpath(code.co_filename), code.co_name)] = label
                self.keep = getattr(self, "keep", []) + [code]     # ids stay valid

    def profile(self, frame, event, arg):
        if not self.active:
            return
        if event == "call":
            code = frame.f_code
            label = self.codes.get(id(code)) or self.references.get(
                (os.path.realpath(code.co_filename), code.co_name))
            if label and len(self.calls) < 20 and f"called {label}" not in self.calls:
                self.calls.append(f"called {label}")
            elif label is None and code.co_name in self.names \
                    and not code.co_filename.startswith("<ipython-input-") and len(self.calls) < 20:
                note = (f"called {self.names[code.co_name]} (a copy compiled outside the notebook's "
                        f"cells, in {text(code.co_filename, 80)})")
                if note not in self.calls:
                    self.calls.append(note)
        elif event == "c_call" and arg in (sys.setprofile, sys.settrace) and len(self.calls) < 20 \
                and f"called sys.{arg.__name__} while being graded" not in self.calls:
            self.calls.append(f"called sys.{arg.__name__} while being graded")

    def audit(self, event, args):
        if event != "open" or self.trusted or not args:
            return
        path = args[0]
        if not isinstance(path, str) or not path.endswith(".py"):
            return
        if not os.path.realpath(path).startswith(self.library_dir):
            return
        frame = sys._getframe(1)
        depth = 0
        checker_dir = os.path.join(self.library_dir, "exercises")
        while frame is not None and depth < 30:
            name = frame.f_code.co_filename
            if name.startswith("<frozen importlib") or "importlib" in name and "_bootstrap" in name:
                return                                                  # an import, not a read
            if name.startswith(checker_dir):
                return                         # the checker formatting a traceback line
            frame, depth = frame.f_back, depth + 1
        if len(self.reads) < 20:
            self.reads.append(f"opened {os.path.relpath(path, os.path.dirname(self.library_dir))}")


def main(input_dir):
    plan = json.load(open(os.path.join(input_dir, "plan.json"), encoding="utf-8"))
    limits = plan.get("limits", {})
    nproc = int(limits.get("processes", 0))
    if nproc > 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    import tempfile
    out_root = os.environ.get("RNNBOOK_GRADER_OUT", "/grader/out")
    out_dir = tempfile.mkdtemp(prefix="obs-", dir=out_root if os.path.isdir(out_root) else None)

    import numpy as np                                          # noqa: F401  (warm import)
    import rnnlib.exercises as exercises
    from rnnlib.exercises import plain

    library_dir = os.path.dirname(os.path.dirname(os.path.realpath(exercises.__file__)))
    watcher = Watcher(library_dir)
    for entry in plan["exercises"]:
        for qualified in entry.get("references", []):
            watcher.add_reference(qualified)
    sys.addaudithook(watcher.audit)
    setprofile = sys.setprofile

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.autoindent = False
    shell = InteractiveShell.instance(config=config)
    shell.showtraceback = lambda *args, **kwargs: None
    shell.showsyntaxerror = lambda *args, **kwargs: None
    shell.showindentationerror = lambda *args, **kwargs: None
    real_out, real_err = sys.stdout, sys.stderr

    snapshots = {}

    def snapshot(label):
        for name in names.get(label, []):
            if name in shell.user_ns:
                snapshots[label] = (name, shell.user_ns[name])
                return

    names = {e["label"]: e["names"] for e in plan["exercises"]}
    deadline = _monotonic() + float(plan["timeout"])
    stop_before = plan.get("stop_before")
    send({"type": "hello", "pid": os.getpid()})
    for cell in plan["cells"]:
        index = cell["index"]
        if stop_before is not None and index >= stop_before:
            break
        for label in cell.get("snap_before", []):
            snapshot(label)
        if cell.get("skip"):
            send({"type": "cell", "index": index, "skipped": True})
            continue
        left = deadline - _monotonic()
        if left <= 0:
            send({"type": "cell", "index": index, "timeout": True, "started": False})
            break
        send({"type": "cell-start", "index": index})
        counter = Counter()
        sys.stdout = sys.stderr = counter
        started = _monotonic()
        error, timed_out, result = None, False, None
        try:
            arm(left)
            result = shell.run_cell(cell["source"], store_history=False, silent=False)
        except Timeout:
            timed_out = True
        finally:
            disarm()
            sys.stdout, sys.stderr = real_out, real_err
        if result is not None:
            failure = result.error_before_exec or result.error_in_exec
            if isinstance(failure, Timeout):
                timed_out = True
            elif failure is not None:
                error = error_text(failure)
        send({"type": "cell", "index": index, "error": error, "timeout": timed_out,
              "output": counter.count, "seconds": round(_monotonic() - started, 3)})
        if timed_out:
            break
        for label in cell.get("snap_after", []):
            snapshot(label)

    # ------------------------------------------------------------------------------------------
    # The exercises: call each answer on the grader's cases, send back plain observations
    # ------------------------------------------------------------------------------------------
    for entry in plan["exercises"]:
        label = entry["label"]
        send({"type": "exercise-start", "label": label})
        found = snapshots.get(label)
        if found is None:
            found = next(((n, shell.user_ns[n]) for n in entry["names"] if n in shell.user_ns), None)
        if found is None:
            send({"type": "exercise", "label": label, "found": None})
            continue
        name, answer = found
        origin = describe_origin(answer, library_dir)
        watcher.trusted += 1
        try:
            cases = plain.load(os.path.join(input_dir, "cases", label),
                               max_bytes=int(entry.get("max_case_bytes", 64 << 20)),
                               max_depth=int(entry.get("max_depth", 32)))
        finally:
            watcher.trusted -= 1
        observations, trace = [], []
        watcher.calls = []
        timed_out = False
        left = float(entry["timeout"])
        counter = Counter()
        sys.stdout = sys.stderr = counter
        try:
            arm(left)
            for case in cases:
                observed = observe_case(label, answer, case, watcher, setprofile)
                observations.append(observed)
                if exercises.is_error_record(observed) and "checker_error" not in observed:
                    break                          # later cases would say the same
        except Timeout:
            timed_out = True
        finally:
            disarm()
            setprofile(None)
            watcher.active = False
            sys.stdout, sys.stderr = real_out, real_err
        trace = list(watcher.calls)
        header = {"type": "exercise", "label": label, "found": name, "origin": origin,
                  "trace": trace, "reads": list(watcher.reads)[:20], "timeout": timed_out,
                  "count": len(observations), "output": counter.count}
        if timed_out:
            send(header)
            continue
        folder = os.path.join(out_dir, label)
        watcher.trusted += 1
        try:
            plain.dump(observations, folder, max_bytes=int(entry["max_bytes"]))
            files = sorted(os.listdir(folder))
            total = 0
            send(dict(header, files=len(files)))
            for file_name in files:
                with open(os.path.join(folder, file_name), "rb") as handle:
                    payload = handle.read(int(entry["max_bytes"]) + 1 - total)
                total += len(payload)
                send({"type": "file", "label": label, "name": file_name}, payload)
        except Exception as problem:                    # too large, not plain, disk full
            send({"type": "exercise-error", "label": label, "error": error_text(problem)})
        finally:
            watcher.trusted -= 1
    send({"type": "done", "peak": _peak_memory()})
    sys.stdout.flush()
    os._exit(0)


def _peak_memory():
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def describe_origin(answer, library_dir):
    """Where the answer's code comes from: module, file (if rnnlib's) and kind."""
    import functools

    target, wrapped = answer, []
    for _ in range(5):
        if isinstance(target, functools.partial):
            wrapped.append("functools.partial")
            target = target.func
        elif hasattr(target, "__wrapped__") and not isinstance(target, type):
            wrapped.append("__wrapped__")
            target = target.__wrapped__
        else:
            break
    code = getattr(target, "__code__", None)
    filename = os.path.realpath(code.co_filename) if code is not None else ""
    module = getattr(target, "__module__", None)
    return {"module": text(module, 120) if isinstance(module, str) else None,
            "library_code": bool(filename) and filename.startswith(library_dir),
            "code_name": text(code.co_name, 80) if code is not None else None,
            "wrapped": wrapped, "kind": type(answer).__name__[:60]}


def observe_case(label, answer, case, watcher, setprofile):
    """Plain data for one case (the checker's observe_case), with the reference trace on."""
    from rnnlib.exercises import observe_case as observe

    watcher.active = True
    setprofile(watcher.profile)
    try:
        return observe(label, answer, case)
    except Timeout:
        raise
    except BaseException as error:                 # SystemExit, KeyboardInterrupt, ...
        return {"raised": error_text(error)}
    finally:
        watcher.active = False
        setprofile(None)


if __name__ == "__main__":
    _CHANNEL = int(sys.argv[2]) if len(sys.argv) > 2 else _CHANNEL
    main(sys.argv[1])
