"""Isolation tiers: which one this machine offers, and the command that starts a worker in it.

Best first:
  bubblewrap  no network, own pid/ipc/uts namespaces, read-only system and Python, a fresh
              tmpfs as the only writable place, cleared environment, new session.
  unshare     `unshare -rn` (no network), with its own pid namespace when the kernel allows;
              as root `unshare -n` (a user namespace would only map root to root).
  rlimits     resource limits only: no network or filesystem isolation. Runs only when the
              caller opts in explicitly (Sandbox.create(allow_rlimits_only=True)).

On every tier, started as root, each worker's candidates run as an unprivileged uid of their
own, distinct from the worker's (which stays root, with as few capabilities as the tier
allows): the kernel then refuses a candidate every signal, ptrace and memory read aimed at
its worker, at another worker or candidate, or at anything else outside. Without root there
is one uid to go round; candidates then hold no capabilities, and the worker is pid 1 of its
pid namespace, which the kernel shields from signals sent from inside (see doctor.py for
what is left).
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
# Started as root, each worker's candidates run as an unprivileged uid of their own: apart from
# shielding the worker, one worker's fork bomb then cannot use up another's process limit
# (RLIMIT_NPROC counts per uid). Each host process draws from its own block, so parallel
# programs (two test runs, a benchmark) do not share.
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
        # No user namespace: the server stays root with just what it needs to run each test as
        # the candidate's own uid (SETUID, SETGID) and to kill what that uid started (KILL).
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL"]
    else:
        # One uid for all: the server itself is pid 1, which signals from inside cannot reach.
        argv += ["--unshare-user", "--as-pid-1"]
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


def unshare_prefix(*, pid_namespace: bool) -> list[str]:
    """`unshare` with no network (and its own pid namespace). Root needs no user namespace,
    and `-r` would be harmful there: it maps root to root, whose capabilities inside then
    reach every root-owned file outside, and it leaves no second uid for the candidates."""
    prefix = ["unshare", "-n" if os.geteuid() == 0 else "-rn"]
    if pid_namespace:
        prefix += ["--pid", "--fork", "--mount-proc", "--kill-child"]
    return prefix


def worker_command(found: Probe) -> WorkerCommand:
    """How to start one worker on the probed tier; as root, with a candidate uid of its own."""
    candidate_uid = private_uid() if found.private_uids else None
    uid_args = [] if candidate_uid is None else ["--candidate-uid", str(candidate_uid)]
    if found.tier is IsolationTier.BUBBLEWRAP:
        inner = [
            *_interpreter(SERVER_INSIDE),
            "--work-root",
            SANDBOX_ROOT,
            "--own-pid-namespace",
            "--scratch",
            "/dev/shm",
            *uid_args,
        ]
        return WorkerCommand(bubblewrap_argv(inner, as_root=os.geteuid() == 0), {})
    work_root = tempfile.mkdtemp(prefix="atlas-sandbox-")
    if candidate_uid is not None:
        # The server works in it as the candidate (see _server.Server.as_candidate).
        os.chown(work_root, candidate_uid, candidate_uid)
    env = {**SANDBOX_ENV, "HOME": work_root, "TMPDIR": work_root}
    inner = [*_interpreter(str(SERVER_SOURCE)), "--work-root", work_root, *uid_args]
    if found.tier is IsolationTier.UNSHARE:
        if found.pid_namespace:
            inner.append("--own-pid-namespace")
        prefix = unshare_prefix(pid_namespace=found.pid_namespace)
        return WorkerCommand([*prefix, *inner], env, work_root)
    if candidate_uid is None:
        # The user's other processes count against RLIMIT_NPROC without a uid of our own.
        inner.append("--shared-nproc")
    return WorkerCommand(inner, env, work_root)


def _works(argv: list[str], env: dict[str, str] | None = None) -> bool:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, timeout=PROBE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == b"ok"


PROBE_CODE = "import sys, json, collections; print('ok')"


def _runs_as_private_uid() -> bool:
    """Whether an unprivileged uid can run this interpreter as it stands on the host (the
    unshare and rlimits tiers do not remount it): false for a Python under /root."""
    try:
        done = subprocess.run(
            [sys.executable, *INTERPRETER_FLAGS, "-c", PROBE_CODE],
            env=SANDBOX_ENV,
            cwd="/",
            user=FIRST_PRIVATE_UID,
            group=FIRST_PRIVATE_UID,
            extra_groups=[],
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and done.stdout.strip() == b"ok"


@dataclass(frozen=True, slots=True)
class Probe:
    tier: IsolationTier
    pid_namespace: bool  # whether the workers have a pid namespace of their own
    tried: tuple[str, ...]  # what failed before, for `atlas-tui doctor`
    # Whether candidates run as a uid of their own, distinct from their worker's (needs
    # root). False only to measure what that costs (bench/sandbox_overhead.py) or as non-root.
    private_uids: bool = False


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
    if _works([*unshare_prefix(pid_namespace=True), *inner], SANDBOX_ENV):
        return True, ""
    if _works([*unshare_prefix(pid_namespace=False), *inner], SANDBOX_ENV):
        return False, ""
    return None, "unshare -rn is not permitted (user namespaces disabled?)"


@functools.cache
def probe(tier: IsolationTier | None = None) -> Probe:
    """The best tier that really starts the interpreter here, or exactly `tier` (raising
    IsolationUnavailable when that one does not work). Cached: each is probed once."""
    inner = [sys.executable, *INTERPRETER_FLAGS, "-c", PROBE_CODE]
    as_root = os.geteuid() == 0
    tried: list[str] = []
    if tier in (None, IsolationTier.BUBBLEWRAP):
        failure = _try_bubblewrap(inner)
        if failure is None:
            return Probe(IsolationTier.BUBBLEWRAP, True, (), as_root)
        if tier is not None:
            raise IsolationUnavailable(failure)
        tried.append(failure)
    if tier in (None, IsolationTier.UNSHARE):
        pid_namespace, failure = _try_unshare(inner)
        if pid_namespace is not None:
            private = as_root and _runs_as_private_uid()
            return Probe(IsolationTier.UNSHARE, pid_namespace, tuple(tried), private)
        if tier is not None:
            raise IsolationUnavailable(failure)
        tried.append(failure)
    return Probe(IsolationTier.RLIMITS, False, tuple(tried), as_root and _runs_as_private_uid())


def require_isolation(found: Probe, allow_rlimits_only: bool) -> None:
    if found.tier is IsolationTier.RLIMITS and not allow_rlimits_only:
        reasons = "; ".join(found.tried)
        raise IsolationUnavailable(
            f"no isolating sandbox is available ({reasons}). Install bubblewrap "
            "(e.g. `apt-get install bubblewrap`), or accept running candidates with resource "
            "limits only (no network or filesystem isolation) by opting in explicitly: "
            "Sandbox.create(allow_rlimits_only=True) / --allow-rlimits-only."
        )
