"""The problem model shared by loaders, sandbox, pipeline and grader.

A `Problem` holds everything, hidden tests included; the solver only ever receives a
`ProblemView`, which has no field that could carry a hidden test or a reference solution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TestKind(StrEnum):
    """How a test talks to a candidate program."""

    __test__ = False  # not a pytest class

    STDIN = "stdin"  # whole program: input on stdin, output compared line by line
    FUNCTIONAL = "functional"  # call func_name (or Solution().func_name) with JSON args per line
    ASSERT = "assert"  # run test code (asserts / HumanEval check(candidate)) after the program


@dataclass(frozen=True, slots=True)
class TestCase:
    """One test.

    stdin: `input` is the program's stdin, `expected` its expected stdout.
    functional: `input` is one JSON value per line (the call's arguments), `expected` the JSON
    of the return value.
    assert: `input` is Python test code run after the candidate; `expected` is unused ("").
    """

    __test__ = False

    input: str
    expected: str
    kind: TestKind
    # Where an expected output came from: "statement", "dataset", "reference", "self-test", ...
    origin: str = "dataset"


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-test limits a problem asks for (the sandbox may clamp them)."""

    time_s: float = 6.0  # LiveCodeBench's per-test timeout
    memory_mb: int = 1024


@dataclass(frozen=True, slots=True)
class Source:
    """Where a problem was read from, for error messages and for the queue."""

    path: str
    format: str
    row: int | None = None  # 0-based row in a dataset file


@dataclass(frozen=True, slots=True)
class Problem:
    id: str
    title: str
    statement: str
    test_kind: TestKind
    public_tests: tuple[TestCase, ...] = ()
    hidden_tests: tuple[TestCase, ...] = ()
    starter_code: str = ""
    func_name: str | None = None
    # Code run before assert tests (MBPP test_setup_code / sanitized test_imports).
    test_setup: str = ""
    # Code the judge puts in front of every answer (LeetCodeDataset's import lines and helper
    # classes such as TreeNode): the grader prepends it, so an answer that relies on the judge's
    # environment (`List[int]` without importing it) is graded as the judge would.
    prelude: str = ""
    # Third-party libraries the problem's judge provides (engine.problems.judges): an answer may
    # import these and no other judge library.
    libraries: tuple[str, ...] = ()
    # Absolute tolerance for float comparison (MBPP+ atol); None means LiveCodeBench's rules.
    atol: float | None = None
    limits: Limits = field(default_factory=Limits)
    source: Source = field(default_factory=lambda: Source(path="", format="unknown"))
    difficulty: str | None = None
    # Known-correct programs from the dataset: grader-side only, never shown to the solver.
    references: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def view(self) -> ProblemView:
        """What the solver may see: no hidden tests, no references."""
        return ProblemView(
            id=self.id,
            title=self.title,
            statement=self.statement,
            test_kind=self.test_kind,
            public_tests=self.public_tests,
            starter_code=self.starter_code,
            func_name=self.func_name,
            test_setup=self.test_setup,
            atol=self.atol,
            limits=self.limits,
            source=self.source,
            difficulty=self.difficulty,
            prelude=self.prelude,
            libraries=self.libraries,
        )


@dataclass(frozen=True, slots=True)
class ProblemView:
    """The read-only view the solver receives. It has no hidden tests by construction."""

    id: str
    title: str
    statement: str
    test_kind: TestKind
    public_tests: tuple[TestCase, ...]
    starter_code: str
    func_name: str | None
    test_setup: str
    atol: float | None
    limits: Limits
    source: Source
    difficulty: str | None
    prelude: str = ""  # part of the judge's environment, not a secret
    libraries: tuple[str, ...] = ()  # so are the libraries it provides


def with_prelude(prelude: str, code: str) -> str:
    """The answer as the judge runs it: its prelude, then the code. A `from __future__` import
    of the answer must stay the first statement, so those lines move in front of the prelude."""
    if not prelude.strip():
        return code
    lines = code.splitlines(keepends=True)
    future = [line for line in lines if line.lstrip().startswith("from __future__ ")
              and not line[:1].isspace()]
    rest = [line for line in lines if line not in future]
    return "".join(future) + prelude.rstrip("\n") + "\n\n" + "".join(rest)


@dataclass(frozen=True, slots=True)
class LoadError:
    """A file or row that could not be read, with a message a person can act on."""

    path: str
    message: str
    row: int | None = None

    def __str__(self) -> str:
        where = self.path if self.row is None else f"{self.path} (row {self.row + 1})"
        return f"{where}: {self.message}"


@dataclass(slots=True)
class LoadResult:
    problems: list[Problem] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)

    def extend(self, other: LoadResult) -> None:
        self.problems.extend(other.problems)
        self.errors.extend(other.errors)
