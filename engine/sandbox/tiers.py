"""Isolation tiers: which one this machine offers, and the command that starts a worker in it.

Best first:
  bubblewrap  no network, own pid/ipc/uts namespaces, read-only system and Python, a fresh
              tmpfs as the only writable place, cleared environment, new session. Started as
              root, the worker also drops to an unprivileged uid of its own.
  unshare     `unshare -rn` (no network), with its own pid namespace when the kernel allows.
  rlimits     resource limits only: no network or filesystem isolation. Runs only when the
              caller opts in explicitly (Sandbox.create(allow_rlimits_only=True)).
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.sandbox.types import IsolationTier

SERVER_SOURCE = Path(__file__).with_name("_server.py")
SANDBOX_ROOT = "/sandbox"  # the work dir inside bubblewrap
SERVER_INSIDE = "/atlas/server.py"
TMPFS_BYTES = 512 * 1024 * 1024  # all files a candidate writes, together
SHM_BYTES = 64 * 1024 * 1024
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime")
PROBE_TIMEOUT_S = 20.0
# Workers started as root each run as an unprivileged uid of their own, so one worker's fork
# bomb cannot use up another's process limit (RLIMIT_NPROC counts per uid). Each host process
# draws from its own block, so parallel programs (two test runs, a benchmark) do not share.
FIRST_PRIVATE_UID = 100_000
UIDS_PER_PROCESS = 64
PROCESS_BLOCKS = 100_000

# What the candidate's environment holds: nothing of the caller's.
SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": SANDBOX_ROOT,
    "TMPDIR": SANDBOX_ROOT,
    # One fixed string-hash seed: a program whose output depends on set order gets the same
    # verdict in every worker and every run (each worker forks all its tests from one
    # interpreter, so a random seed would differ between workers, not between tests).
    "PYTHONHASHSEED": "0",
    # glibc reserves a 64 MB malloc arena per thread, which counts against the address-space
    # limit: twenty threads would exhaust 1 GB without using any of it.
    "MALLOC_ARENA_MAX": "2",
    "OPENBLAS_NUM_THREADS": "1",  # a thread pool per BLAS import would eat the memory limit
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

_uid_counter = itertools.count()


class IsolationUnavailable(RuntimeError):
    """No isolating tier works here and the caller did not opt into rlimits only."""


@dataclass(frozen=True, slots=True)
class WorkerCommand:
    argv: list[str]
    env: dict[str, str]
    host_work_root: str | None = None  # a host temp dir to remove when the worker ends
    notes: list[str] = field(default_factory=list)


def python_dirs() -> list[str]:
    """Directories the sandboxed interpreter needs: its prefixes (the virtualenv included, so
    the same packages are importable) and where the executable really lives."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    dirs.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    return sorted(d for d in dirs if d and not _under_system(d))


def _under_system(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS)


def _parents(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def bubblewrap_argv(
    inner: list[str], *, as_root: bool, extra_ro_binds: Sequence[tuple[str, str]] = ()
) -> list[str]:
    """The bwrap command line around `inner`; `extra_ro_binds` (host path, path inside, under
    /atlas) are bound read-only beside the server script."""
    argv = [
        "bwrap",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
    ]
    if as_root:
        # No user namespace: the server drops to a private uid itself, so process limits count
        # and root-only files stay unreadable.
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        argv += ["--unshare-user"]
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            argv += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    for f in SYSTEM_FILES:
        argv += ["--ro-bind-try", f, f]
    made: set[str] = set()
    for d in [*python_dirs(), "/atlas/x"]:
        for parent in _parents(d):
            if parent not in made and not _under_system(parent):
                made.add(parent)
                argv += ["--perms", "0755", "--dir", parent]
    for d in python_dirs():
        argv += ["--ro-bind", d, d]
    argv += ["--ro-bind", str(SERVER_SOURCE), SERVER_INSIDE]
    for host_path, inside in extra_ro_binds:
        argv += ["--ro-bind", host_path, inside]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    # Shared memory for multiprocessing's semaphores; wiped after every test like the work dir.
    argv += ["--perms", "1777", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm"]
    argv += ["--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", SANDBOX_ROOT]
    for tmp in ("/tmp", "/var/tmp"):
        # A Python that lives under /tmp (a clone checked out there) keeps its own path, so
        # that /tmp stays a read-only directory; TMPDIR still points at the work dir.
        if not any(d == tmp or d.startswith(tmp + "/") for d in python_dirs()):
            argv += ["--symlink", SANDBOX_ROOT, tmp]
    argv += ["--chdir", SANDBOX_ROOT, "--clearenv"]
    for key, value in SANDBOX_ENV.items():
        argv += ["--setenv", key, value]
    return [*argv, "--", *inner]


# -s: no user site; -P: no script dir on sys.path; -B: no .pyc writes. Not -I: the environment
# is ours alone (cleared, then SANDBOX_ENV), and PYTHONHASHSEED=0 in it must take effect.
INTERPRETER_FLAGS = ("-s", "-P", "-B")


def _interpreter(script: str) -> list[str]:
    return [sys.executable, *INTERPRETER_FLAGS, script]


def private_uid() -> int:
    block = os.getpid() % PROCESS_BLOCKS
    return FIRST_PRIVATE_UID + block * UIDS_PER_PROCESS + next(_uid_counter) % UIDS_PER_PROCESS


def worker_command(tier: IsolationTier, *, pid_namespace: bool = True) -> WorkerCommand:
    if tier is IsolationTier.BUBBLEWRAP:
        as_root = os.geteuid() == 0
        inner = [
            *_interpreter(SERVER_INSIDE),
            "--work-root",
            SANDBOX_ROOT,
            "--own-pid-namespace",
            "--scratch",
            "/dev/shm",
        ]
        if as_root:
            uid = private_uid()
            inner += ["--drop-to-uid", str(uid)]
        return WorkerCommand(bubblewrap_argv(inner, as_root=as_root), {})
    work_root = tempfile.mkdtemp(prefix="atlas-sandbox-")
    env = {**SANDBOX_ENV, "HOME": work_root, "TMPDIR": work_root}
    inner = [*_interpreter(str(SERVER_SOURCE)), "--work-root", work_root]
    if tier is IsolationTier.UNSHARE:
        prefix = ["unshare", "-rn"]
        if pid_namespace:
            prefix += ["--pid", "--fork", "--mount-proc", "--kill-child"]
            inner.append("--own-pid-namespace")
        return WorkerCommand([*prefix, *inner], env, work_root)
    # The user's other processes count against RLIMIT_NPROC without a namespace of our own.
    return WorkerCommand([*inner, "--shared-nproc"], env, work_root)


def _works(argv: list[str], env: dict[str, str] | None = None) -> bool:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, timeout=PROBE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == b"ok"


PROBE_CODE = "import sys, json, collections; print('ok')"


@dataclass(frozen=True, slots=True)
class Probe:
    tier: IsolationTier
    pid_namespace: bool  # for the unshare tier: whether a pid namespace could be made
    tried: tuple[str, ...]  # what failed before, for `atlas-tui doctor`


def _try_bubblewrap(inner: list[str]) -> str | None:
    """None when bubblewrap works, else why not."""
    if not shutil.which("bwrap"):
        return "bubblewrap (bwrap) is not installed"
    if _works(bubblewrap_argv(inner, as_root=os.geteuid() == 0)):
        return None
    return "bubblewrap is installed but could not start a sandbox"


def _try_unshare(inner: list[str]) -> tuple[bool | None, str]:
    """(pid namespace available, or None when unshare does not work at all; why not)."""
    if not shutil.which("unshare"):
        return None, "unshare is not installed"
    pid_ns = ["unshare", "-rn", "--pid", "--fork", "--mount-proc", "--kill-child", *inner]
    if _works(pid_ns, SANDBOX_ENV):
        return True, ""
    if _works(["unshare", "-rn", *inner], SANDBOX_ENV):
        return False, ""
    return None, "unshare -rn is not permitted (user namespaces disabled?)"


@functools.cache
def probe(tier: IsolationTier | None = None) -> Probe:
    """The best tier that really starts the interpreter here, or exactly `tier` (raising
    IsolationUnavailable when that one does not work). Cached: each is probed once."""
    inner = [sys.executable, *INTERPRETER_FLAGS, "-c", PROBE_CODE]
    tried: list[str] = []
    if tier in (None, IsolationTier.BUBBLEWRAP):
        failure = _try_bubblewrap(inner)
        if failure is None:
            return Probe(IsolationTier.BUBBLEWRAP, True, ())
        if tier is not None:
            raise IsolationUnavailable(failure)
        tried.append(failure)
    if tier in (None, IsolationTier.UNSHARE):
        pid_namespace, failure = _try_unshare(inner)
        if pid_namespace is not None:
            return Probe(IsolationTier.UNSHARE, pid_namespace, tuple(tried))
        if tier is not None:
            raise IsolationUnavailable(failure)
        tried.append(failure)
    return Probe(IsolationTier.RLIMITS, False, tuple(tried))


def require_isolation(found: Probe, allow_rlimits_only: bool) -> None:
    if found.tier is IsolationTier.RLIMITS and not allow_rlimits_only:
        reasons = "; ".join(found.tried)
        raise IsolationUnavailable(
            f"no isolating sandbox is available ({reasons}). Install bubblewrap "
            "(e.g. `apt-get install bubblewrap`), or accept running candidates with resource "
            "limits only (no network or filesystem isolation) by opting in explicitly: "
            "Sandbox.create(allow_rlimits_only=True) / --allow-rlimits-only."
        )
