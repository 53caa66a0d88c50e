"""The fork server: runs inside the isolation, one per worker, and forks one child per test.

This file is executed as a script by the sandboxed interpreter (`python -I server.py ...`); it
imports only the standard library because the project itself is not visible in the sandbox.
Paying for the interpreter, the isolation set-up and the usual imports once per worker and
forking a child per test (about a millisecond) is what makes grading many tests cheap.

Protocol (host <-> server), over the server's stdin/stdout:
  host sends one JSON object per line; the server answers with one JSON header line followed by
  the raw payload bytes whose lengths the header names (stdout, stderr tail, harness report).
    {"op": "program", "code", "kind", "func_name", "test_setup"} -> {"ok": true} or {"ce": msg}
    {"op": "test", "input", "limits": {...}}                   -> {"status", ..., lengths}
The candidate never sees expected outputs: only the test's own input reaches the server.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import ctypes
import errno
import gc
import io
import json
import os
import resource
import selectors
import shutil
import signal
import sys
import threading  # imported here, not in every child (it costs ~7 ms)
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from types import CodeType

# The imports LiveCodeBench's grader puts in front of stdin and functional programs: the same
# modules star-imported (builtins last so that e.g. math.pow does not shadow pow), then bound by
# name, then a deep recursion limit. Loaded once here so every child finds them cached.
PRELUDE_MODULES = (
    "string",
    "re",
    "datetime",
    "collections",
    "heapq",
    "bisect",
    "copy",
    "math",
    "random",
    "statistics",
    "itertools",
    "functools",
    "operator",
    "io",
    "sys",
    "json",
    "builtins",
    "typing",
)
PRELUDE_RECURSION_LIMIT = 50000
PRELUDE_SOURCE = "".join(f"from {m} import *\n" for m in PRELUDE_MODULES) + "".join(
    f"import {m}\n" for m in PRELUDE_MODULES if m not in ("builtins", "typing")
)

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522
SOURCE_NAME = "solution.py"
HARNESS_FD = 3  # where the harness reports what happened (return value, exception kind)
READ_CHUNK = 1 << 16
STDERR_TAIL = 8192

_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> None:
    _libc.prctl(option, value, 0, 0, 0)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inheritable")]


class Server:
    def __init__(
        self,
        work_root: str,
        own_pid_namespace: bool,
        shared_nproc: bool,
        scratch_dirs: tuple[str, ...] = (),
        candidate_uid: int | None = None,
    ) -> None:
        self.work_root = work_root
        self.scratch_dirs = scratch_dirs
        self.own_pid_namespace = own_pid_namespace
        self.shared_nproc = shared_nproc
        # A uid of the candidates' own, never the server's: the kernel then refuses them every
        # signal, ptrace, /proc/<pid>/mem read, prlimit and setpriority aimed at the server.
        self.candidate_uid = candidate_uid
        self.program: dict | None = None
        self.code_obj: CodeType | None = None
        self.setup_obj: CodeType | None = None
        self.prelude: dict = {}
        self.tests_run = 0

    # ---- start-up -------------------------------------------------------------------------
    def preload(self) -> None:
        """Import the prelude once. Its names are served as the candidate's builtins (the
        builtins themselves win where both define a name, as in LiveCodeBench's order), so a
        test does not copy hundreds of names into a fresh namespace: copying them touches
        their reference counts and costs a copy-on-write page fault each after the fork."""
        namespace: dict = {"__builtins__": __builtins__}
        exec(PRELUDE_SOURCE, namespace)
        namespace.pop("__builtins__", None)
        self.prelude = {**vars(builtins), **namespace}
        # Objects that exist now are never collected: a child's garbage collector then leaves
        # their pages alone instead of copying them all.
        gc.collect()
        gc.freeze()

    # ---- requests -------------------------------------------------------------------------
    def serve(self) -> None:
        stdin = sys.stdin.buffer
        while True:
            line = stdin.readline()
            if not line:
                return
            request = json.loads(line)
            op = request.get("op")
            if op == "program":
                self.reply(self.load_program(request))
            elif op == "test":
                header, payloads = self.run_test(request["input"], request["limits"])
                self.reply(header, payloads)
            elif op == "ping":
                self.reply({"ok": True, "tests_run": self.tests_run})
            else:
                self.reply({"error": f"unknown op {op!r}"})

    def reply(self, header: dict, payloads: tuple[bytes, ...] = ()) -> None:
        out = sys.stdout.buffer
        out.write(json.dumps(header).encode() + b"\n")
        for payload in payloads:
            out.write(payload)
        out.flush()

    def load_program(self, request: dict) -> dict:
        self.program = request
        self.code_obj = self.setup_obj = None
        code = request["code"]
        # Written before every test (see prepare), so tracebacks show the failing line.
        path = os.path.join(self.work_root, SOURCE_NAME)
        try:
            self.code_obj = compile(code, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
            # ValueError: NUL bytes; RecursionError/MemoryError: absurdly nested source.
            return {"ce": "".join(traceback.format_exception_only(type(exc), exc)).strip()}
        if request.get("test_setup"):
            try:
                self.setup_obj = compile(request["test_setup"], "<test setup>", "exec")
            except (SyntaxError, ValueError) as exc:
                return {"setup_error": str(exc)}
        return {"ok": True}

    # ---- one test -------------------------------------------------------------------------
    def run_test(self, test_input: str, limits: dict) -> tuple[dict, tuple[bytes, ...]]:
        program, code_obj = self.program, self.code_obj
        if program is None or code_obj is None:
            return {"error": "no program loaded"}, ()
        self.tests_run += 1
        run_dir = os.path.join(self.work_root, "run")
        input_path = os.path.join(self.work_root, ".stdin")
        with self.as_candidate():
            self.prepare(run_dir, input_path, test_input, program["code"])

        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        res_r, res_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        nproc_base = count_own_processes() if self.shared_nproc else 0
        gc.freeze()  # see preload()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child never returns
            try:
                os.close(out_r)
                os.close(err_r)
                os.close(res_r)
                self.child(program, code_obj, test_input, input_path, run_dir, limits, out_w,
                           err_w, res_w, nproc_base)
            finally:
                os._exit(70)
        os.close(out_w)
        os.close(err_w)
        os.close(res_w)
        header, payloads = self.watch(pid, started, limits, out_r, err_r, res_r)
        with self.as_candidate():
            self.wipe_work_root()
        return header, payloads

    def prepare(self, run_dir: str, input_path: str, test_input: str, code: str) -> None:
        """A fresh work dir: nothing of the last test, the program's source, the input."""
        self.wipe_work_root()
        os.mkdir(run_dir)
        with open(input_path, "wb") as f:
            f.write(encode(test_input))
        source = os.path.join(self.work_root, SOURCE_NAME)
        with open(source, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(code)

    @contextlib.contextmanager
    def as_candidate(self) -> Iterator[None]:
        """Touch the work dirs with the candidate's file permissions: what it made there is
        ours to delete (the server holds no CAP_DAC_OVERRIDE or CAP_FOWNER under bubblewrap)
        and what we make is its to use. Only while no candidate process exists: the
        effective uid is the candidate's for that time (the real and saved ones stay ours,
        and signals are checked against those)."""
        if self.candidate_uid is None:
            yield
            return
        os.setresgid(-1, self.candidate_uid, -1)
        os.setresuid(-1, self.candidate_uid, -1)
        try:
            yield
        finally:
            os.setresuid(-1, os.getuid(), -1)
            os.setresgid(-1, os.getgid(), -1)
            prctl(PR_SET_DUMPABLE, 0)  # a uid change resets it to fs.suid_dumpable

    def watch(
        self, pid: int, started: float, limits: dict, out_r: int, err_r: int, res_r: int
    ) -> tuple[dict, tuple[bytes, ...]]:
        """Collect output until the child exits, the wall clock runs out or output overflows;
        the header and the payloads (stdout, stderr tail, harness report) of the reply."""
        cap = int(limits["output_bytes"])
        deadline = started + float(limits["wall_s"])
        stdout = bytearray()
        stderr = bytearray()
        stderr_total = 0
        report = bytearray()
        pidfd = os.pidfd_open(pid)
        sel = selectors.DefaultSelector()
        for fd in (out_r, err_r, res_r, pidfd):
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        exited = timed_out = overflow = False

        def drain(fd: int) -> bool:
            """Read what is there; False at end of file."""
            nonlocal stderr, stderr_total, overflow
            while True:
                try:
                    chunk = os.read(fd, READ_CHUNK)
                except BlockingIOError:
                    return True
                if not chunk:
                    return False
                if fd == out_r:
                    stdout.extend(chunk)
                    if len(stdout) > cap:
                        del stdout[cap:]
                        overflow = True
                        return True
                elif fd == err_r:
                    stderr_total += len(chunk)
                    stderr.extend(chunk)
                    if len(stderr) > STDERR_TAIL:
                        del stderr[: len(stderr) - STDERR_TAIL]
                    if stderr_total > cap:
                        overflow = True
                        return True
                else:
                    report.extend(chunk)
                    if len(report) > cap:
                        overflow = True
                        return True

        while not exited and not overflow:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in sel.select(remaining):
                fd = key.fd
                if fd == pidfd:
                    exited = True
                elif not drain(fd):
                    sel.unregister(fd)
        elapsed = time.monotonic() - started
        if not exited:
            kill_group(pid)
        _, status, usage = os.wait4(pid, 0)
        if exited:
            elapsed = time.monotonic() - started
        # Everything the candidate started dies now, so the pipes reach end of file.
        self.kill_leftovers(pid)
        for fd in (out_r, err_r, res_r):
            if not overflow:
                with contextlib.suppress(KeyError, ValueError):
                    sel.unregister(fd)
                drain(fd)  # every writer is dead: what is left ends in end of file
            os.close(fd)
        sel.close()
        os.close(pidfd)

        header = {
            "time_s": round(elapsed, 6),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 6),
            "peak_kb": usage.ru_maxrss,
            "timed_out": timed_out,
            "overflow": overflow,
            "exit_code": os.waitstatus_to_exitcode(status),
            "stdout_len": len(stdout),
            "stderr_len": len(stderr),
            "report_len": len(report),
        }
        return header, (bytes(stdout), bytes(stderr), bytes(report))

    # ---- cleaning up ----------------------------------------------------------------------
    def kill_leftovers(self, pid: int) -> None:
        """No process outlives its test: kill every process this server's children started.

        In our own pid namespace every other process we may signal is the candidate's, so
        kill(-1) reaches them all (background children, double-forked daemons, fork bombs).
        Outside one, orphans come back to us (child subreaper) and we walk the process tree.
        """
        kill_group(pid)
        for _ in range(1000):
            if self.own_pid_namespace:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(-1, signal.SIGKILL)
            else:
                for victim in descendants(os.getpid()):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(victim, signal.SIGKILL)
            if not reap_all():
                return

    def wipe_work_root(self) -> None:
        """Nothing a test wrote survives it: the work root and the other writable places
        (/dev/shm) are emptied."""
        for root in (self.work_root, *self.scratch_dirs):
            for name in os.listdir(root):
                path = os.path.join(root, name)
                try:
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, onerror=make_writable_and_retry)
                    else:
                        os.unlink(path)
                except FileNotFoundError:
                    pass

    # ---- the child: one test of the candidate ---------------------------------------------
    def isolate_child(self) -> None:
        """Leave the child nothing it could use against the server: its own uid where we
        have one to give (started as root), else no capabilities (inside `unshare -r` the
        child would hold them all, ptrace included, in the server's user namespace)."""
        if self.candidate_uid is not None:
            drop_privileges(self.candidate_uid)
        else:
            drop_capabilities()

    def child(
        self,
        program: dict,
        code_obj: CodeType,
        test_input: str,
        input_path: str,
        run_dir: str,
        limits: dict,
        out_w: int,
        err_w: int,
        res_w: int,
        nproc_base: int,
    ) -> None:
        os.setsid()
        self.isolate_child()
        prctl(PR_SET_DUMPABLE, 1)  # the server is not dumpable; the candidate may read its /proc
        in_fd = os.open(input_path, os.O_RDONLY)
        os.dup2(in_fd, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(res_w, HARNESS_FD)
        os.closerange(HARNESS_FD + 1, 1 << 16)
        os.chdir(run_dir)
        set_limits(limits, nproc_base)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the server ignores it
        reopen_stdio()
        hide_modules(program.get("hidden_modules") or ())
        kind = program["kind"]
        if kind == "stdin":
            code = run_stdin_program(code_obj, self.prelude)
        elif kind == "functional":
            code = run_functional(code_obj, self.prelude, program.get("func_name"), test_input)
        else:
            code = run_assert(code_obj, self.setup_obj, test_input)
        finish(code)


# ---- harnesses (run in the child) -----------------------------------------------------------


def hide_modules(names: Iterable[str]) -> None:
    """Make these top-level modules unimportable, as on a judge that does not install them:
    `import sortedcontainers` raises ModuleNotFoundError. In the child only, before the
    candidate runs; a module the server itself imported is not among them."""
    for name in names:
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]
        # the import system's own "not available" marker, which typeshed's
        # dict[str, ModuleType] does not allow for
        sys.modules[name] = None  # type: ignore[assignment]


def encode(text: str) -> bytes:
    """UTF-8, giving back the original bytes of surrogate-escaped text; any other lone
    surrogate is written as is rather than refused."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def fresh_main(builtins_namespace: dict | None) -> dict:
    """A fresh __main__ module, so the candidate runs as a script would; with the
    LiveCodeBench prelude its names resolve as builtins."""
    import types

    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins_namespace or builtins
    module.__file__ = "solution.py"
    sys.modules["__main__"] = module
    sys.argv = ["solution.py"]
    sys.setrecursionlimit(PRELUDE_RECURSION_LIMIT if builtins_namespace else 1000)
    return module.__dict__


def report(event: dict) -> None:
    with contextlib.suppress(OSError):
        os.write(HARNESS_FD, (json.dumps(event) + "\n").encode())


def report_exception(exc: BaseException) -> int:
    errno_value = getattr(exc, "errno", None)
    report(
        {
            "event": "exception",
            "type": type(exc).__name__,
            "message": str(exc)[:500],
            "errno": errno_value if isinstance(errno_value, int) else None,
        }
    )
    with contextlib.suppress(Exception):
        traceback.print_exception(exc)
    return 1


def exit_code_of(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    with contextlib.suppress(Exception):
        print(exc.code, file=sys.stderr)
    return 1


def run_stdin_program(code_obj: CodeType, prelude: dict) -> int:
    namespace = fresh_main(prelude)
    try:
        exec(code_obj, namespace)
    except SystemExit as exc:
        return exit_code_of(exc)
    except BaseException as exc:
        return report_exception(exc)
    return 0


def run_functional(
    code_obj: CodeType, prelude: dict, func_name: str | None, test_input: str
) -> int:
    namespace = fresh_main(prelude)
    try:
        exec(code_obj, namespace)
    except SystemExit as exc:
        report({"event": "exit_during_load", "code": exit_code_of(exc)})
        return 1
    except BaseException as exc:
        return report_exception(exc)
    target = None
    solution_class = namespace.get("Solution")
    try:
        if isinstance(solution_class, type):
            target = getattr(solution_class(), func_name or "", None)
        if target is None:
            target = namespace.get(func_name or "")
    except BaseException as exc:
        return report_exception(exc)
    if not callable(target):
        report({"event": "no_entry_point", "name": func_name})
        return 1
    try:
        # One JSON value per line; blank lines (a trailing newline) carry no argument.
        args = [json.loads(line) for line in test_input.split("\n") if line.strip()]
    except ValueError as exc:
        report({"event": "bad_test", "message": f"test input is not JSON: {exc}"})
        return 1
    try:
        value = target(*args)
    except SystemExit as exc:
        report({"event": "exit_during_call", "code": exit_code_of(exc)})
        return 1
    except BaseException as exc:
        return report_exception(exc)
    if isinstance(value, tuple):  # LiveCodeBench: a tuple answer compares as a list
        value = list(value)
    try:
        encoded = json.dumps(value)
    except (TypeError, ValueError) as exc:
        report({"event": "unencodable", "repr": repr(value)[:2000], "message": str(exc)})
        return 0
    report({"event": "return", "value": encoded})
    return 0


def run_assert(code_obj: CodeType, setup_obj: CodeType | None, test_code: str) -> int:
    namespace = fresh_main(None)
    try:
        exec(code_obj, namespace)
        if setup_obj is not None:
            exec(setup_obj, namespace)
    except SystemExit as exc:
        return exit_code_of(exc)
    except BaseException as exc:
        return report_exception(exc)
    try:
        test_obj = compile(test_code, "<test>", "exec")
    except (SyntaxError, ValueError) as exc:
        report({"event": "bad_test", "message": f"test code does not compile: {exc}"})
        return 1
    try:
        exec(test_obj, namespace)
    except AssertionError as exc:
        report({"event": "assertion", "message": str(exc)[:500]})
        traceback.print_exception(exc)
        return 1
    except SystemExit as exc:
        return exit_code_of(exc)
    except BaseException as exc:
        return report_exception(exc)
    report({"event": "passed"})
    return 0


def finish(code: int) -> None:
    """End the child the way an interpreter ends a script: wait for threads, run atexit
    handlers, flush stdout (a failed flush is exit status 120, as in CPython)."""
    with contextlib.suppress(BaseException):
        threading._shutdown()  # type: ignore[attr-defined]
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            if code == 0:
                code = 120
    os._exit(code)


def reopen_stdio() -> None:
    """Fresh text streams over fds 0-2, set up as CPython sets up a script's."""

    def stream(fd: int, mode: str, errors: str, line_buffering: bool) -> io.TextIOWrapper:
        raw = io.FileIO(fd, mode, closefd=False)
        buffered = io.BufferedReader(raw) if mode == "rb" else io.BufferedWriter(raw)
        return io.TextIOWrapper(
            buffered, encoding="utf-8", errors=errors, newline="\n", line_buffering=line_buffering
        )

    # typeshed marks sys.__std*__ Final; a fresh interpreter sets them to these streams
    sys.stdin = sys.__stdin__ = stream(0, "rb", "surrogateescape", False)  # type: ignore[misc]
    sys.stdout = sys.__stdout__ = stream(1, "wb", "surrogateescape", False)  # type: ignore[misc]
    sys.stderr = sys.__stderr__ = stream(2, "wb", "backslashreplace", True)  # type: ignore[misc]


def set_limits(limits: dict, nproc_base: int) -> None:
    def cap(which: int, soft: int, hard: int | None = None) -> None:
        hard = soft if hard is None else hard
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            resource.setrlimit(which, (soft, resource.getrlimit(which)[1]))

    memory = int(limits["memory_mb"]) * 1024 * 1024
    cpu = max(1, int(-(-float(limits["cpu_s"]) // 1)))  # whole seconds, rounded up
    cap(resource.RLIMIT_CPU, cpu, cpu + 1)
    cap(resource.RLIMIT_AS, memory)
    cap(resource.RLIMIT_FSIZE, int(limits["file_size_bytes"]))
    cap(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    cap(resource.RLIMIT_NPROC, nproc_base + int(limits["processes"]))
    cap(resource.RLIMIT_CORE, 0)
    # The main thread's stack may grow as far as the address-space layout allows (deep
    # recursion under setrecursionlimit(50000)); threads keep the default size set at start.
    cap(resource.RLIMIT_STACK, min(memory, 1 << 30), resource.getrlimit(resource.RLIMIT_STACK)[1])


# ---- process bookkeeping ----------------------------------------------------------------------


def kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            target()


def reap_all() -> bool:
    """Reap finished children; True while any child is still alive."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            time.sleep(0.001)
            return True


def parent_map() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; fields resume after the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    return parents


def descendants(root: int) -> list[int]:
    parents = parent_map()
    found: list[int] = []
    frontier = {root}
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found.extend(children)
        frontier = set(children)
    return found


def count_own_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def make_writable_and_retry(function: Callable[[str], object], path: str, _exc: object) -> None:
    os.chmod(os.path.dirname(path), 0o700)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
    try:
        function(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise


def drop_privileges(uid: int) -> None:
    """Become an unprivileged user for good: no capabilities (all three uids leave 0),
    process limits that count, only world-readable files readable, no way back through a
    set-uid program."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def drop_capabilities() -> None:
    """Empty the effective, permitted and inheritable (hence ambient) capability sets; with
    no_new_privs an exec cannot bring them back, not even as uid 0 of a user namespace."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    if _libc.capset(ctypes.byref(header), (_CapData * 2)()) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--work-root", required=True)
    parser.add_argument("--own-pid-namespace", action="store_true")
    parser.add_argument("--shared-nproc", action="store_true")
    parser.add_argument("--candidate-uid", type=int, help="the uid every test runs as")
    parser.add_argument("--scratch", action="append", default=[], help="also wiped after tests")
    args = parser.parse_args(argv)
    prctl(PR_SET_DUMPABLE, 0)  # the candidate may not open our /proc/<pid>/fd (the host pipes)
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a test come back to us to be killed
    # Where we are pid 1 of our namespace, the kernel drops every signal from inside for which
    # we have no handler: Python's SIGINT handler would be the one a candidate could reach.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.makedirs(args.work_root, exist_ok=True)
    server = Server(
        args.work_root,
        args.own_pid_namespace,
        args.shared_nproc,
        tuple(args.scratch),
        args.candidate_uid,
    )
    server.preload()
    server.reply(
        {
            "ready": True,
            "pid": os.getpid(),
            "uid": os.getuid(),
            "candidate_uid": args.candidate_uid,
            "python": sys.version.split()[0],
        }
    )
    server.serve()


if __name__ == "__main__":
    main(sys.argv[1:])
