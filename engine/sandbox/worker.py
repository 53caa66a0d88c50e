"""The host side of one warm fork-server worker: start it, talk to it, kill it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass

from engine.sandbox.tiers import WorkerCommand
from engine.sandbox.types import Program, SandboxLimits

START_TIMEOUT_S = 60.0
# Beyond the test's own wall limit, how long the host waits for the server to answer before it
# declares the worker hung and kills it (the server enforces the real limit itself).
ANSWER_GRACE_S = 15.0


class WorkerDied(RuntimeError):
    """The worker process ended or stopped answering (a candidate may have killed it)."""


@dataclass(frozen=True, slots=True)
class RawOutcome:
    """What the server saw of one test, before judging."""

    time_s: float
    cpu_s: float
    peak_kb: int
    timed_out: bool
    overflow: bool
    exit_code: int  # negative: killed by that signal
    stdout: bytes
    stderr_tail: bytes
    events: tuple[dict, ...]  # harness reports (return value, exception kind, ...)


class Worker:
    def __init__(self, make_command: Callable[[], WorkerCommand]) -> None:
        self._make_command = make_command
        self.command: WorkerCommand | None = None
        self.process: asyncio.subprocess.Process | None = None
        self.info: dict = {}
        self.alive = False
        self.starts = 0  # how many processes this worker has been (restarts after a crash)

    async def restart(self) -> None:
        self.kill()
        await self.start()

    async def start(self) -> None:
        self.command = self._make_command()
        self.starts += 1
        self.process = await asyncio.create_subprocess_exec(
            *self.command.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.command.env,
            start_new_session=True,
            limit=1 << 20,
        )
        assert self.process.stdout is not None  # stdout=PIPE above
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), START_TIMEOUT_S)
        except TimeoutError:
            line = b""
        except BaseException:  # cancelled while starting: no half-started worker stays
            self.kill()
            raise
        if not line:
            errors = await self._stderr_text()
            self.kill()
            raise WorkerDied(f"sandbox worker did not start: {errors or 'no output'}")
        self.info = json.loads(line)
        self.alive = True

    async def load(self, program: Program) -> dict:
        request = {
            "op": "program",
            "code": program.code,
            "kind": str(program.kind),
            "func_name": program.func_name,
            "test_setup": program.test_setup,
            "hidden_modules": list(program.hidden_modules),
        }
        header, _ = await self._ask(request, (), timeout=START_TIMEOUT_S)
        return header

    async def run_test(self, test_input: str, limits: SandboxLimits) -> RawOutcome:
        cpu_s = limits.cpu_s if limits.cpu_s is not None else limits.wall_s + 1
        wire_limits = {
            "wall_s": limits.wall_s,
            "cpu_s": cpu_s,
            "memory_mb": limits.memory_mb,
            "output_bytes": limits.output_bytes,
            "file_size_bytes": limits.file_size_bytes,
            "open_files": limits.open_files,
            "processes": limits.processes,
        }
        header, payloads = await self._ask(
            {"op": "test", "input": test_input, "limits": wire_limits},
            ("stdout_len", "stderr_len", "report_len"),
            timeout=limits.wall_s + ANSWER_GRACE_S,
        )
        if "error" in header:
            raise WorkerDied(f"sandbox worker refused the test: {header['error']}")
        stdout, stderr, report = payloads
        events = []
        for line in report.splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict):
                    events.append(event)
        return RawOutcome(
            time_s=header["time_s"],
            cpu_s=header["cpu_s"],
            peak_kb=header["peak_kb"],
            timed_out=header["timed_out"],
            overflow=header["overflow"],
            exit_code=header["exit_code"],
            stdout=stdout,
            stderr_tail=stderr,
            events=tuple(events),
        )

    async def _ask(
        self, request: dict, payload_keys: tuple[str, ...], timeout: float
    ) -> tuple[dict, tuple[bytes, ...]]:
        if not self.alive or self.process is None:
            raise WorkerDied("sandbox worker is not running")
        try:
            return await asyncio.wait_for(self._exchange(request, payload_keys), timeout)
        except TimeoutError:
            self.kill()
            raise WorkerDied("sandbox worker stopped answering") from None
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            self.kill()
            raise WorkerDied(f"sandbox worker ended: {exc}") from None
        except BaseException:
            # Cancelled (or anything else) mid-exchange: the worker's state is unknown, so it
            # dies with everything it started; the pool starts a fresh one.
            self.kill()
            raise

    async def _exchange(
        self, request: dict, payload_keys: tuple[str, ...]
    ) -> tuple[dict, tuple[bytes, ...]]:
        assert self.process is not None and self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            raise ConnectionError("end of output")
        header = json.loads(line)
        payloads = []
        for key in payload_keys:
            size = int(header.get(key, 0))
            payloads.append(await self.process.stdout.readexactly(size) if size else b"")
        return header, tuple(payloads)

    async def _stderr_text(self) -> str:
        if self.process is None or self.process.stderr is None:
            return ""
        try:
            data = await asyncio.wait_for(self.process.stderr.read(8192), 2.0)
        except (TimeoutError, ConnectionError):
            return ""
        return data.decode(errors="replace").strip()

    def server_pid(self) -> int | None:
        """The fork server's host pid (it may sit below bubblewrap or unshare)."""
        if self.process is None or self.process.returncode is not None:
            return None
        server_pid = self.info.get("pid")
        for pid in [self.process.pid, *_descendants(self.process.pid)]:
            if _innermost_pid(pid) == server_pid and _is_server(pid):
                return pid
        return None

    def candidate_pids(self) -> list[int]:
        """Host pids of every process below the fork server: between tests there are none."""
        server = self.server_pid()
        return [] if server is None else _descendants(server)

    async def stop(self) -> None:
        """Kill the worker and wait until its process and pipes are gone."""
        process = self.process
        self.kill()
        if process is not None:
            with contextlib.suppress(TimeoutError, ProcessLookupError):
                await asyncio.wait_for(process.wait(), 10.0)
        await settle_reaping()

    def kill(self) -> None:
        """Kill the worker and everything under it. Under bubblewrap or unshare the pid
        namespace dies with it; with rlimits only, the process tree is walked."""
        self.alive = False
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            kill_tree(process.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        if process is not None:
            # Close our pipe ends now: a dead worker's transport must not wait for the loop.
            for stream in (process.stdin,):
                if stream is not None:
                    with contextlib.suppress(Exception):
                        stream.close()
            _reap_later(process)
        if self.command is not None and self.command.host_work_root:
            shutil.rmtree(self.command.host_work_root, ignore_errors=True)


def _reap_later(process: asyncio.subprocess.Process) -> None:
    """Collect the killed process's exit status so it does not linger as a zombie."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(process.pid, os.WNOHANG)
        return
    task = loop.create_task(process.wait())
    _background.add(task)
    task.add_done_callback(_background.discard)


_background: set[asyncio.Task] = set()


async def settle_reaping() -> None:
    """Wait for the exit statuses of killed workers (their transports close with the loop
    still running)."""
    pending = [t for t in _background if t.get_loop() is asyncio.get_running_loop()]
    if pending:
        await asyncio.wait(pending, timeout=10.0)
    await asyncio.sleep(0)


def kill_tree(root: int) -> None:
    """SIGKILL a process and all its living descendants (found through /proc), again while
    any of them managed to fork in between."""
    _kill(root)
    for _ in range(20):
        victims = _descendants(root)
        if not victims:
            return
        for pid in victims:
            _kill(pid)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _innermost_pid(pid: int) -> int | None:
    """The pid a process has inside its own pid namespace (NSpid's last field)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except OSError:
        pass
    return None


def _is_server(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"server.py" in f.read()
    except OSError:
        return False


def _descendants(root: int) -> list[int]:
    """Living (not zombie) descendants of `root`."""
    parents: dict[int, int] = {}
    zombies: set[int] = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            # The command name may hold spaces and parentheses: fields resume after the last ')'.
            state, parent = stat[stat.rfind(b")") + 2 :].split()[:2]
            parents[int(entry)] = int(parent)
            if state == b"Z":
                zombies.add(int(entry))
    found: list[int] = []
    frontier = {root}
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found.extend(children)
        frontier = set(children)
    return [pid for pid in found if pid not in zombies]
