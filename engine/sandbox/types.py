"""Types of the sandbox's public API: what to run, under which limits, and what happened."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.problems.model import TestKind


class Verdict(StrEnum):
    AC = "AC"  # accepted
    WA = "WA"  # wrong answer
    TLE = "TLE"  # time limit exceeded (wall or CPU)
    MLE = "MLE"  # memory limit exceeded
    RE = "RE"  # runtime error (exception, non-zero exit, signal)
    CE = "CE"  # does not compile (syntax error, missing entry point)
    OLE = "OLE"  # output limit exceeded


class IsolationTier(StrEnum):
    BUBBLEWRAP = "bubblewrap"  # no network, read-only system, fresh tmpfs work dir, new session
    UNSHARE = "unshare"  # `unshare -rn`: no network, own pid namespace
    RLIMITS = "rlimits"  # resource limits only: needs an explicit opt-in


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Limits applied to every test of a run."""

    wall_s: float = 6.0
    cpu_s: float | None = None  # defaults to wall_s + 1
    memory_mb: int = 1024  # address space of the candidate
    output_bytes: int = 64 * 1024 * 1024
    file_size_bytes: int = 16 * 1024 * 1024
    open_files: int = 256
    processes: int = 64  # threads count too on Linux


@dataclass(frozen=True, slots=True)
class Program:
    """A candidate program and how the tests call it."""

    code: str
    kind: TestKind
    func_name: str | None = None  # functional tests: function or Solution method
    test_setup: str = ""  # assert tests: code run between the program and the asserts
    atol: float | None = None  # float tolerance (MBPP+); None: LiveCodeBench's comparison
    # Modules the program may not import (judge libraries its platform's judge lacks, see
    # engine.problems.judges); () leaves the sandbox's environment as it is.
    hidden_modules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TestResult:
    __test__ = False

    index: int
    verdict: Verdict
    input: str
    expected: str
    got: str  # truncated
    stderr_tail: str
    time_s: float
    peak_memory_mb: float
    detail: str = ""  # e.g. "line 3: 5 != 6", the exception, the signal

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.AC


@dataclass(frozen=True, slots=True)
class RunResult:
    """All tests of one program. `verdict` is AC only if every test is AC; otherwise the
    verdict of the first failing test (tests after a CE are not run)."""

    verdict: Verdict
    tests: tuple[TestResult, ...]
    tier: IsolationTier
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.AC

    @property
    def n_passed(self) -> int:
        return sum(t.passed for t in self.tests)
