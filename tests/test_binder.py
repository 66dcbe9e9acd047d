"""Binder's build of the repository: the interpreter, the pins, and what students see.

Binder turns the repository into an image with repo2docker (PyPI ``jupyter-repo2docker``, pinned
in requirements.txt). Without ``runtime.txt`` repo2docker picks Python 3.10, where the pins do
not install; raising ``requires-python`` would make it pick 3.14. These tests need no Docker:

* ``repo2docker --no-build --no-run --debug`` on a clean clone (a ``git clone`` of this
  repository, so only committed files count, as on Binder) prints the Dockerfile it would build:
  it must create a Python 3.11 environment, install requirements.txt with that environment's
  pip, install graphviz from apt.txt, run postBuild, and nothing of the book's own build (npm,
  Chromium);
* pip resolves every pin for that exact interpreter (the patch version of repo2docker's 3.11
  lock file: some pins need 3.11.5 or later) from the package index without installing
  anything, and the resolution is closed: it installs exactly the pinned packages;
* postBuild, run into a temporary ``JUPYTER_CONFIG_DIR``, leaves nbgrader's JupyterLab extension
  and server extensions disabled (students see no instructor tooling); without it they are
  enabled in this environment.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI") == "true"
NBGRADER_SERVER_EXTENSIONS = [f"nbgrader.server_extensions.{name}" for name in
                              ("formgrader", "validate_assignment", "assignment_list", "course_list")]


def _pins(path=ROOT / "requirements.txt"):
    """{normalised name: version} of every ``name==version`` line."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


def _repo2docker():
    exe = shutil.which("repo2docker", path=str(BIN))
    if exe is None:
        if IN_CI:
            pytest.fail("repo2docker is not installed (jupyter-repo2docker is in requirements.txt)")
        pytest.skip("repo2docker is not installed in this environment")
    return exe


@pytest.fixture(scope="module")
def dockerfile(tmp_path_factory):
    """The Dockerfile repo2docker generates for a clean clone of the repository (HEAD)."""
    exe = _repo2docker()
    clone = tmp_path_factory.mktemp("binder") / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    proc = subprocess.run([exe, "--no-build", "--no-run", "--debug", "."], cwd=clone,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_runtime_txt_pins_python_311():
    assert (ROOT / "runtime.txt").read_text().strip() == "python-3.11"


def test_repo2docker_builds_python_311_and_installs_the_requirements(dockerfile):
    assert "Python version unspecified" not in dockerfile
    assert "Building conda environment for python=3.11" in dockerfile
    # build script paths are escaped (escapism: "-2e" is ".", "-2d" is "-")
    unescaped = re.sub(r"-([0-9a-f]{2})", lambda m: chr(int(m[1], 16)), dockerfile)
    locks = set(re.findall(r"environment\.py-(\d+\.\d+)-linux-64\.lock", unescaped))
    assert locks == {"3.11"}, f"repo2docker's conda environment is for Python {locks}, not 3.11"
    assert re.search(r'RUN \$\{KERNEL_PYTHON_PREFIX\}/bin/pip install --no-cache-dir -r "requirements\.txt"',
                     dockerfile), "the generated build does not pip install requirements.txt"
    assert re.search(r"apt-get .*install.*\n?.*graphviz", dockerfile), "apt.txt's graphviz is not installed"
    assert "postBuild" in dockerfile, "postBuild is not run"
    lowered = dockerfile.lower()
    for word in ("npm ci", "npm install", "chromium", "package.json"):
        assert word not in lowered, f"the launch image should not need the book's build ({word!r})"


def _binder_python_version():
    """The exact Python of repo2docker's 3.11 environment (from its conda lock file)."""
    spec = __import__("importlib.util").util.find_spec("repo2docker")
    if spec is None:
        if IN_CI:
            pytest.fail("repo2docker is not installed")
        pytest.skip("repo2docker is not installed in this environment")
    lock = Path(spec.origin).parent / "buildpacks" / "conda" / "environment.py-3.11-linux-64.lock"
    match = re.search(r"/python-(3\.11\.\d+)-", lock.read_text())
    assert match, f"no python-3.11.x in {lock}"
    return match[1]


def test_every_pin_resolves_for_binders_python(tmp_path):
    """pip resolves requirements.txt (without ``-e .``) for repo2docker's 3.11 from the index,
    wheels only, installing nothing; the set it would install is exactly the pinned set
    (besides pip, setuptools and wheel)."""
    version = _binder_python_version()
    requirements = tmp_path / "requirements-pins.txt"
    requirements.write_text("\n".join(line for line in (ROOT / "requirements.txt").read_text().splitlines()
                                      if not line.strip().startswith("-e")) + "\n")
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--disable-pip-version-check", "--python-version", version, "--only-binary=:all:",
         "--target", str(tmp_path / "target"), "--report", str(report), "-r", str(requirements)],
        capture_output=True, text=True, timeout=900)
    errors = "\n".join(line for line in proc.stderr.splitlines() if "is ignored" not in line)
    assert proc.returncode == 0, f"the pins do not resolve for Python {version}:\n{errors[-3000:]}"
    resolved = {re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower(): item["metadata"]["version"]
                for item in json.loads(report.read_text())["install"]}
    # pip's own bootstrap packages: every venv has them and `pip freeze` leaves them out
    for name in ("pip", "setuptools", "wheel"):
        resolved.pop(name, None)
    pins = _pins()
    assert resolved == pins, (f"not pinned: {sorted(set(resolved) - set(pins))}; "
                              f"pinned but not needed: {sorted(set(pins) - set(resolved))}; "
                              f"other versions: {[(k, v, pins[k]) for k, v in resolved.items() if k in pins and pins[k] != v]}")
    assert not (tmp_path / "target").exists(), "a dry run must install nothing"
    print(f"{len(resolved)} pins resolve for Python {version}")


def _extension_states(env):
    """({lab extension: enabled?}, {server extension: enabled?}) as the jupyter commands list them
    (a later 'disabled' at a higher-priority config level wins, as at run time)."""
    lab = subprocess.run([str(BIN / "jupyter"), "labextension", "list"], env=env,
                         capture_output=True, text=True, timeout=120)
    out = re.sub(r"\x1b\[[0-9;]*m", "", lab.stdout + lab.stderr)
    lab_states = {m[1]: m[2] == "enabled" for m in re.finditer(r"^\s+(@?[\w@/.-]+) v\S+ (enabled|disabled)", out, re.M)}
    server = subprocess.run([str(BIN / "jupyter"), "server", "extension", "list"], env=env,
                            capture_output=True, text=True, timeout=120)
    out = re.sub(r"\x1b\[[0-9;]*m", "", server.stdout + server.stderr)
    # "Config dir:" blocks come in priority order (user first): the first mention wins
    server_states = {}
    for m in re.finditer(r"^\s+([\w.]+) (enabled|disabled)$", out, re.M):
        server_states.setdefault(m[1], m[2] == "enabled")
    return lab_states, server_states


def test_postbuild_disables_nbgrader_for_students(tmp_path):
    pytest.importorskip("nbgrader")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    lab, server = _extension_states(env)
    assert lab.get("@jupyter/nbgrader") is True, f"nbgrader's lab extension should be enabled here: {lab}"
    assert all(server.get(name) is True for name in NBGRADER_SERVER_EXTENSIONS), server
    proc = subprocess.run(["bash", str(ROOT / "postBuild")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    lab, server = _extension_states(env)
    assert lab.get("@jupyter/nbgrader") is False, f"after postBuild: {lab}"
    assert [name for name in NBGRADER_SERVER_EXTENSIONS if server.get(name) is not False] == [], server
    # the other extensions the book needs stay on
    assert lab.get("@jupyter-widgets/jupyterlab-manager") and lab.get("anywidget"), lab
    assert os.access(ROOT / "postBuild", os.X_OK), "postBuild must be executable"
