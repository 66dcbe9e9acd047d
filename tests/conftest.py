"""Shared pytest fixtures: the book, built once per test session.

Fixtures
--------
``book_build`` (session)
    Builds the book once, fresh (a new output folder, every notebook executed, ``-W -n
    --keep-going``, ``raise_on_error`` from _config.yml) and returns a :class:`BookBuild` with
    the exit code, the log and the html folder. It never raises: tests inspect the result.
``book_html`` (session)
    The built site's html folder (a :class:`pathlib.Path`); fails the test, showing the end of
    the build log, when the build failed. Later tests of the built site (browser tests) take
    this fixture.

The build goes to ``_build/test/_build/html`` (override with the environment variable
``RNNBOOK_TEST_BUILD_DIR``), so a failing page can be opened after the run. Under pytest-xdist
the build still runs once: a file lock makes the other workers wait for it and reuse it.
``make test`` uses ``--dist loadfile``: each test file, and each notebook's nbval cells, run on
one worker in order, so the build (tests/test_book_build.py) runs beside nbval on the other
worker. (``--dist loadgroup`` would be finer, but pytest-xdist 3.8 cannot rename node ids
under pytest 9, so its ``xdist_group`` marks are silently ignored.) Tests of the built site in
another file share the same build through the lock.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from rnnbook import kernel_ports

# Kernels started by this test run (nbval, tests that execute notebooks) take ports outside the
# ephemeral range, so they cannot lose them to another process's connections meanwhile.
kernel_ports.install()

ROOT = Path(__file__).resolve().parents[1]
BOOK_DIR = ROOT / "book"
TOC = ROOT / "_toc.yml"
BUILD_TIMEOUT_S = 1500  # the whole book should execute in ~5 min; this only stops a hang

# ANSI colour codes that Sphinx puts around warnings.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Signs that a kernel failed to start because its port was taken meanwhile.
_KERNEL_START_RACE = ("Address already in use", "Kernel died before replying to kernel_info")
_RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex


@dataclasses.dataclass(frozen=True)
class BookBuild:
    """Result of one ``jupyter-book build``."""

    returncode: int
    log: str  # stdout + stderr, ANSI codes removed
    output_dir: Path  # the --path-output folder
    seconds: float

    @property
    def html(self) -> Path:
        return self.output_dir / "_build" / "html"

    @property
    def warnings(self) -> list[str]:
        """Sphinx warning and error lines of the log (kernel chatter on stderr excluded)."""
        return [
            line
            for line in self.log.splitlines()
            if re.search(r"\b(WARNING|ERROR|CRITICAL|SEVERE)\b", line)
            and not line.startswith("[IPKernelApp]")
        ]

    def tail(self, n: int = 60) -> str:
        return "\n".join(self.log.splitlines()[-n:])


def toc_files(toc_path: Path = TOC) -> list[str]:
    """Every ``file:`` entry of _toc.yml (root first), as written (no suffix), in order."""
    import yaml

    data = yaml.safe_load(toc_path.read_text())
    files = [data["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("sections", "chapters", "parts"):
                walk(entry.get(key))

    for key in ("chapters", "parts", "sections"):
        walk(data.get(key))
    return files


def book_notebooks() -> list[Path]:
    """The notebooks of the book: every .ipynb directly or deeper in book/."""
    return sorted(p for p in BOOK_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _build_dir() -> Path:
    return Path(os.environ.get("RNNBOOK_TEST_BUILD_DIR", ROOT / "_build" / "test")).resolve()


def _run_build(out: Path) -> BookBuild:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "--all", "-W", "-n",
           "--keep-going"]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S, env={**os.environ, "NO_COLOR": "1"})
        returncode, log = proc.returncode, proc.stdout + "\n" + proc.stderr
    except subprocess.TimeoutExpired as exc:
        returncode = -1
        log = f"book build timed out after {BUILD_TIMEOUT_S} s\n{exc.stdout or ''}{exc.stderr or ''}"
    seconds = time.perf_counter() - start
    return BookBuild(returncode, _ANSI.sub("", log), out, seconds)


@pytest.fixture(scope="session")
def book_build() -> BookBuild:
    """Build the book once per session (once across xdist workers too); see the module doc."""
    base = _build_dir()
    base.parent.mkdir(parents=True, exist_ok=True)
    lock_path = base.parent / (base.name + ".lock")
    record = base.parent / (base.name + ".result.json")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # other xdist workers wait here for the build
        try:
            if record.exists():
                saved = json.loads(record.read_text())
                if saved["run_id"] == _RUN_ID:  # built earlier in this same test run
                    return BookBuild(saved["returncode"], saved["log"], Path(saved["output_dir"]),
                                     saved["seconds"])
            result = _run_build(base)
            if result.returncode != 0 and any(sign in result.log for sign in _KERNEL_START_RACE):
                # A kernel lost the race for a TCP port to another process (jupyter_client picks
                # free ports before the kernel binds them): not the notebook's fault; retry once.
                first = result
                result = _run_build(base)
                (base / "build.first-attempt.log").write_text(first.log)
            (base / "build.log").write_text(result.log)
            record.write_text(json.dumps({"run_id": _RUN_ID, "returncode": result.returncode,
                                          "log": result.log, "output_dir": str(base),
                                          "seconds": result.seconds}))
            return result
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def book_html(book_build: BookBuild) -> Path:
    """The html folder of a successful build; fails with the log's tail otherwise."""
    if book_build.returncode != 0:
        shown = "\n".join(book_build.warnings[:10]) or book_build.tail(20)
        pytest.fail(f"the book build failed (exit code {book_build.returncode}); full log in "
                    f"{book_build.output_dir / 'build.log'}:\n{shown}", pytrace=False)
    return book_build.html


_SESSION_START = time.time()


def pytest_terminal_summary(terminalreporter):
    """Say where the browser tests (tests/test_browser.py) saved this run's page screenshots."""
    folder = Path(os.environ.get("RNNBOOK_SCREENSHOTS", ROOT / "artifacts" / "screenshots"))
    shots = [p for p in folder.glob("*.png") if p.stat().st_mtime >= _SESSION_START]
    if shots:
        terminalreporter.write_line(f"browser tests: {len(shots)} page screenshots in {folder}")
