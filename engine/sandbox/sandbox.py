"""`Sandbox`: run one candidate program against many tests, under isolation, asynchronously.

A pool of warm fork-server workers (at most one per core) serves the runs; each run holds one
worker for all its tests, so a candidate pays neither an interpreter start nor an isolation
set-up per test. Cancelling a run kills its worker and everything the candidate started.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from types import TracebackType

from engine.cpus import available_cores
from engine.problems.model import TestCase
from engine.sandbox.judge import judge, truncate
from engine.sandbox.tiers import (
    Probe,
    WorkerCommand,
    probe,
    require_isolation,
    worker_command,
)
from engine.sandbox.types import (
    IsolationTier,
    Program,
    RunResult,
    SandboxLimits,
    TestResult,
    Verdict,
)
from engine.sandbox.worker import Worker, WorkerDied, settle_reaping


class Sandbox:
    def __init__(self, found: Probe, workers: int) -> None:
        self._probe = found
        self.workers = workers
        self._slots = asyncio.Semaphore(workers)
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._closed = False

    @classmethod
    async def create(
        cls,
        allow_rlimits_only: bool = False,
        workers: int | None = None,
        *,
        tier: IsolationTier | None = None,
    ) -> Sandbox:
        """Probe the isolation tier (once per process) and set up the pool. Raises
        IsolationUnavailable when only rlimits are left and the caller did not opt in.
        `tier` asks for one tier exactly (tests, or a user who wants a weaker one)."""
        found = await asyncio.to_thread(probe, tier)
        require_isolation(found, allow_rlimits_only)
        # Candidates are CPU-bound: more workers than cores only makes every test slower
        # (and closer to its time limit).
        count = workers if workers is not None else available_cores()
        return cls(found, max(1, min(count, available_cores())))

    @property
    def tier(self) -> IsolationTier:
        return self._probe.tier

    @property
    def isolation(self) -> Probe:
        """What the probe found: the tier, and whether candidates get a uid of their own."""
        return self._probe

    async def __aenter__(self) -> Sandbox:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        workers = [*self._idle, *self._busy]
        self._idle.clear()
        self._busy.clear()
        await asyncio.gather(*(worker.stop() for worker in workers))
        await settle_reaping()

    def worker_processes(self) -> dict[int, list[int]]:
        """Host pid of every live worker's fork server -> host pids of the candidate
        processes below it (for checks from outside; the candidates never see these)."""
        found = {}
        for worker in [*self._idle, *self._busy]:
            server = worker.server_pid()
            if server is not None:
                found[server] = worker.candidate_pids()
        return found

    def leftover_processes(self) -> list[int]:
        """Host pids of candidate processes still alive in idle workers (should be none)."""
        return [pid for worker in self._idle for pid in worker.candidate_pids()]

    async def warm_up(self) -> None:
        """Start every worker now rather than on first use (for benchmarks and the TUI)."""
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(self.workers):
                await stack.enter_async_context(self._slots)
            started = await asyncio.gather(
                *(self._start_worker() for _ in range(self.workers - len(self._idle)))
            )
            self._idle.extend(started)

    async def run(
        self,
        program: Program,
        tests: Sequence[TestCase],
        limits: SandboxLimits | None = None,
        *,
        stop_on_first_failure: bool = False,
        compare: bool = True,
    ) -> RunResult:
        """Run `program` on every test. With compare=False outputs are only captured (the
        verdict is AC when the program ran cleanly) and `got` holds the whole output."""
        if self._closed:
            raise RuntimeError("this sandbox is closed")
        limits = limits or SandboxLimits()
        async with self._slots:
            worker = await self._take_worker()
            try:
                return await self._run_on(
                    worker, program, tests, limits, stop_on_first_failure, compare
                )
            finally:
                self._give_back(worker)

    # ---- the pool ----------------------------------------------------------------------------
    async def _start_worker(self) -> Worker:
        worker = Worker(self._worker_command)
        await worker.start()
        return worker

    def _worker_command(self) -> WorkerCommand:
        return worker_command(self._probe)

    async def _take_worker(self) -> Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                self._busy.add(worker)
                return worker
        worker = await self._start_worker()
        self._busy.add(worker)
        return worker

    def _give_back(self, worker: Worker) -> None:
        self._busy.discard(worker)
        if worker.alive and not self._closed:
            self._idle.append(worker)
        else:
            worker.kill()

    # ---- one run ----------------------------------------------------------------------------
    async def _run_on(
        self,
        worker: Worker,
        program: Program,
        tests: Sequence[TestCase],
        limits: SandboxLimits,
        stop: bool,
        compare: bool,
    ) -> RunResult:
        loaded = await self._load(worker, program)
        if "ce" in loaded:
            return self._compile_error(program, tests, loaded["ce"])
        if "setup_error" in loaded:
            detail = f"the test set-up code does not compile: {loaded['setup_error']}"
            return RunResult(Verdict.RE, (), self.tier, detail)
        results: list[TestResult] = []
        for index, test in enumerate(tests):
            if not worker.alive:  # the previous test killed it: carry on with a fresh one
                await worker.restart()
                await self._load(worker, program)
            try:
                raw = await worker.run_test(test.input, limits)
            except WorkerDied as exc:
                result = self._worker_died(index, test, exc)
            else:
                result = judge(index, test, program, limits, raw, compare=compare)
            results.append(result)
            if result.verdict is Verdict.CE:
                break
            if stop and not result.passed:
                break
        first_failure = next((r for r in results if not r.passed), None)
        if first_failure is None:
            return RunResult(Verdict.AC, tuple(results), self.tier)
        return RunResult(
            first_failure.verdict,
            tuple(results),
            self.tier,
            f"test {first_failure.index + 1}: {first_failure.detail}",
        )

    async def _load(self, worker: Worker, program: Program) -> dict:
        """Send the program; a worker that dies on it is replaced once, and a program that
        kills a fresh worker too is reported as not compiling (nothing of it ran)."""
        try:
            return await worker.load(program)
        except WorkerDied:
            await worker.restart()
        try:
            return await worker.load(program)
        except WorkerDied as exc:
            await worker.restart()
            return {"ce": f"compiling the program killed the sandbox worker twice ({exc})"}

    def _compile_error(
        self, program: Program, tests: Sequence[TestCase], message: str
    ) -> RunResult:
        first = tests[0] if tests else None
        result = TestResult(
            index=0,
            verdict=Verdict.CE,
            input=truncate(first.input) if first else "",
            expected=truncate(first.expected) if first else "",
            got="",
            stderr_tail=message[-2000:],
            time_s=0.0,
            peak_memory_mb=0.0,
            detail=message.splitlines()[-1] if message else "does not compile",
        )
        return RunResult(Verdict.CE, (result,), self.tier, message)

    def _worker_died(self, index: int, test: TestCase, exc: WorkerDied) -> TestResult:
        return TestResult(
            index=index,
            verdict=Verdict.RE,
            input=truncate(test.input),
            expected=truncate(test.expected),
            got="",
            stderr_tail="",
            time_s=0.0,
            peak_memory_mb=0.0,
            detail=f"{exc} (the candidate may have killed the sandbox); a fresh worker is used",
        )
