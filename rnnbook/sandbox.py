"""One bubblewrap sandbox per submission (used by ``python -m rnnbook.grade``).

:func:`sandbox_command` builds the ``bwrap`` command line that runs a program (the grader's
runner, ``rnnbook/grading/runner.py``) with

* **only what Python needs, read-only**: ``/usr`` (and the merged-/usr symlinks ``/bin``,
  ``/lib``, ...), a few files of ``/etc`` (the dynamic linker's cache, ``alternatives``), the
  interpreter's installation (``sys.base_prefix``), the virtual environment (``sys.prefix``) and
  the ``rnnlib`` package folder at its own path (the editable install points there). Nothing
  else of the repository (``book/``, ``rnnbook/``, ``tests/``), no other submission, no report,
  no kernelspec: the sandbox's root is an empty tmpfs that the sandboxed user cannot write;
* **one private, size-limited tmpfs** at ``/tmp``: the home, working folder and ``TMPDIR``;
  ``/dev`` is bubblewrap's minimal one (null, zero, urandom, ...), read-only, with a small
  ``/dev/shm``;
* **no network** (``--unshare-net``: only a loopback of its own, so 127.0.0.1 is not the host's),
  its own PID, IPC and UTS namespaces (``--unshare-pid``: it cannot see or signal the grader;
  when bwrap is killed, its PID 1 dies and the kernel kills every process of the namespace,
  double-forked daemons included; ``--die-with-parent``);
* **an unprivileged user**: as root, bwrap runs without a user namespace and ``setpriv`` drops
  to a uid of its own (:func:`sandbox_uid`: per grader process and worker slot, so
  ``RLIMIT_NPROC`` counts that sandbox's processes only; root would bypass it) with no capabilities and ``no_new_privs``;
  as an ordinary user, bwrap makes a user namespace (``--unshare-user``);
* **limits** (:class:`Limits`): ``RLIMIT_AS`` (memory, per process), ``RLIMIT_NOFILE``,
  ``RLIMIT_FSIZE``, ``RLIMIT_CORE`` = 0 and ``RLIMIT_CPU`` are set on bwrap and inherited;
  ``RLIMIT_NPROC`` is set by the runner itself as its first action, inside the sandbox's user
  (namespace), so it counts the sandbox's processes and nobody else's;
* **an allow-listed environment** only (``--clearenv``; :data:`ENV_ALLOWED`).

:func:`check_sandbox` runs ``bwrap ... true`` once and raises :class:`SandboxUnavailable` with
how to fix it (``apt-get install bubblewrap``; user namespaces) when it cannot work.
"""
from __future__ import annotations

import importlib.util
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: uid of the sandbox of worker slot k when the grader runs as root: :func:`sandbox_uid`.
SANDBOX_UID_BASE = 2_000_000_000
SLOTS_PER_GRADER = 256


def sandbox_uid(slot, grader_pid=None):
    """The uid of worker ``slot``'s sandboxes: unique to this grader process and slot, so that
    RLIMIT_NPROC counts one sandbox only, even with several graders running side by side."""
    pid = os.getpid() if grader_pid is None else grader_pid
    return SANDBOX_UID_BASE + (pid % 1_000_000) * SLOTS_PER_GRADER + int(slot) % SLOTS_PER_GRADER
#: Where the runner and its input appear inside the sandbox.
RUNNER_PATH = "/grader/runner.py"
INPUT_PATH = "/grader/in"
OUTPUT_PATH = "/grader/out"    # the runner's own tmpfs for observations (not the student's /tmp)
WORK_PATH = "/tmp"

INSTALL_HINT = ("bubblewrap (bwrap) is needed to grade untrusted notebooks: install it with "
                "`sudo apt-get install bubblewrap` (Debian, Ubuntu) or `sudo dnf install "
                "bubblewrap` (Fedora). To grade trusted notebooks without a sandbox, pass "
                "--unsafe-no-sandbox.")


class SandboxUnavailable(RuntimeError):
    """bwrap is missing, or cannot create its namespaces on this machine."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox (bytes, counts, seconds)."""

    memory: int = 2 * 1024 ** 3          # RLIMIT_AS per process (virtual memory)
    processes: int = 32                  # RLIMIT_NPROC: processes and threads of the sandbox
    open_files: int = 256                # RLIMIT_NOFILE
    file_size: int = 64 * 1024 ** 2      # RLIMIT_FSIZE: the largest file it may write
    tmp_size: int = 128 * 1024 ** 2      # size of its /tmp (home, working folder, TMPDIR)
    cpu_seconds: int = 3600              # RLIMIT_CPU (a backstop; wall-clock limits come first)
    output_size: int = 80 * 1024 ** 2    # size of the runner's /grader/out (observations)


#: The only environment variables a sandbox gets (values fixed here, never the grader's).
def sandbox_environment(prefix=None):
    prefix = prefix or sys.prefix
    return {
        "HOME": WORK_PATH, "TMPDIR": WORK_PATH, "PWD": WORK_PATH,
        "PATH": f"{prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC", "TERM": "dumb",
        "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{WORK_PATH}/.matplotlib", "TQDM_DISABLE": "1",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PLOTLY_RENDERER": "json",
    }


ENV_ALLOWED = tuple(sandbox_environment())


def rnnlib_dir() -> Path:
    """The folder of the installed ``rnnlib`` package (bound read-only at the same path)."""
    spec = importlib.util.find_spec("rnnlib")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _ro(path, dest=None):
    return ["--ro-bind", str(path), str(dest or path)]


def _system_binds():
    """/usr read-only, and /bin, /lib, ... as on the host (symlinks into /usr, or read-only binds)."""
    args = _ro("/usr")
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            args += _ro(host)
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "fonts"):
        if (Path("/etc") / name).exists():
            args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _python_binds():
    """The interpreter's installation, the venv and rnnlib, each read-only at its own path."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(os.path.realpath(sys.executable)).parent.parent}
    args = []
    for path in sorted(paths, key=lambda p: len(p.parts)):
        if str(path).startswith("/usr") or any(parent in paths for parent in path.parents):
            continue
        args += _ro(path)
    if Path(sys.prefix).absolute() != Path(sys.prefix).resolve():
        args += ["--symlink", str(Path(sys.prefix).resolve()), str(Path(sys.prefix).absolute())]
    return args + _ro(rnnlib_dir())


def _parent_dirs(binds):
    """``--perms 0755 --dir`` for every folder above a bind's destination (bwrap makes them 0700,
    which the sandbox's unprivileged user could not cross)."""
    made, args = set(), []
    for index, arg in enumerate(binds):
        if arg not in ("--ro-bind", "--ro-bind-try", "--bind", "--symlink"):
            continue
        dest = Path(binds[index + 2])
        for parent in reversed(dest.parents):
            if str(parent) not in ("/", WORK_PATH, "/dev", "/proc") and parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
    return args


def sandbox_python(prefix=None) -> str:
    """The interpreter to run inside the sandbox: the venv's python (the same path as outside)."""
    return str(Path(prefix or sys.prefix) / "bin" / "python")


def running_as_root() -> bool:
    return os.geteuid() == 0


def sandbox_command(command, *, input_dir, runner, limits=Limits(), slot=0, extra_ro=()):
    """The ``bwrap`` command line running ``command`` (a list) in a fresh sandbox.

    ``input_dir`` (host) appears read-only at :data:`INPUT_PATH`, ``runner`` (a file) at
    :data:`RUNNER_PATH`. ``slot`` picks the sandbox uid when running as root.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(INSTALL_HINT)
    args = [bwrap, "--die-with-parent", "--new-session",
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "sandbox"]
    binds = _system_binds() + _python_binds()
    for path in extra_ro:
        binds += _ro(path)
    binds += _ro(input_dir, INPUT_PATH) + _ro(runner, RUNNER_PATH)
    # the tmpfs mounts first: a repository or venv under /tmp (a CI clone) is bound on top
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(4 * 1024 ** 2), "--tmpfs", "/dev/shm",
             "--perms", "1777", "--size", str(int(limits.tmp_size)), "--tmpfs", WORK_PATH]
    args += _parent_dirs(binds) + binds
    args += ["--perms", "1777", "--size", str(int(limits.output_size)), "--tmpfs", OUTPUT_PATH,
             "--remount-ro", "/dev", "--chdir", WORK_PATH, "--clearenv"]
    for key, value in sandbox_environment().items():
        args += ["--setenv", key, value]
    if running_as_root():
        uid = sandbox_uid(slot)
        # root: no user namespace (its uid would map to root, which bypasses RLIMIT_NPROC); keep
        # only what setpriv needs to drop to the sandbox's own uid, then no capabilities at all.
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                 "--cap-add", "CAP_SETPCAP", "--", shutil.which("setpriv") or "/usr/bin/setpriv",
                 f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all", "--no-new-privs"]
    else:
        args += ["--unshare-user", "--cap-drop", "ALL", "--"]
    return args + list(command)


def set_limits(limits: Limits):
    """Set the per-process limits (call in the child before exec: ``preexec_fn``)."""
    for which, value in ((resource.RLIMIT_AS, limits.memory),
                         (resource.RLIMIT_NOFILE, limits.open_files),
                         (resource.RLIMIT_FSIZE, limits.file_size),
                         (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_CPU, limits.cpu_seconds)):
        try:
            resource.setrlimit(which, (int(value), int(value)))
        except (ValueError, OSError):
            pass


def check_sandbox():
    """Raise SandboxUnavailable (saying how to fix it) unless a sandbox can start here."""
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable(INSTALL_HINT)
    if running_as_root() and shutil.which("setpriv") is None:
        raise SandboxUnavailable("the grader runs as root and needs util-linux's setpriv to drop "
                                 "to an unprivileged uid inside the sandbox (`apt-get install "
                                 "util-linux`); or run it as an ordinary user")
    probe = Path(__file__)
    command = sandbox_command([sandbox_python(), "-I", "-c", "import numpy, rnnlib"],
                              input_dir=probe.parent, runner=probe)
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60,
                              preexec_fn=lambda: set_limits(Limits()))
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"bwrap could not start a sandbox: {error}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()[-600:]
        hint = ""
        if "namespace" in message.lower() or "permission" in message.lower():
            hint = (" This machine may not allow unprivileged user namespaces (check "
                    "`sysctl kernel.unprivileged_userns_clone` / `user.max_user_namespaces`, or "
                    "an AppArmor profile for bwrap), or the grader cannot read its Python "
                    "environment as the sandbox's user.")
        raise SandboxUnavailable(f"bwrap could not start a sandbox: {message}.{hint}")
