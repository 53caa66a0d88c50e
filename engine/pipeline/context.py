"""What one solve run knows while it works: its candidates, its tests and their outcomes.

Every change goes through a method here that also emits the matching event, so the event log
and the runner's own view never disagree. The run only ever holds the `ProblemView`: hidden
tests cannot reach it.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine import events as ev
from engine.lens.interface import EnergyScorer, NeutralLens
from engine.llm.base import Backend, BudgetTier
from engine.models import catalogue
from engine.models.catalogue import Sampling
from engine.pipeline.config import PipelineConfig
from engine.pipeline.gates import Gates
from engine.pipeline.prompts import PromptTemplate, load_all
from engine.problems.judges import unavailable
from engine.problems.model import ProblemView, TestCase, TestKind, with_prelude
from engine.sandbox.interface import TestRunner
from engine.sandbox.types import Program, SandboxLimits, Verdict

Emit = Callable[[ev.Event], Awaitable[None] | None]
# Called with each new candidate while a step draws several; True: enough, stop drawing.
Enough = Callable[["Candidate"], Awaitable[bool]]
TestSource = Literal["public", "self", "user", "differential"]


class StopSolving(Exception):
    """Raised inside a step to end the search early (a person pressed stop)."""


@dataclass(slots=True)
class Candidate:
    id: str
    code: str
    origin: ev.Origin
    phase: str  # the phase that produced it
    order: int  # creation order, the last tie-breaker
    parent_id: str | None = None
    label: str = ""
    energy: float = 0.0
    pass_probability: float | None = None
    energy_scored: bool = False


@dataclass(frozen=True, slots=True)
class KnownTest:
    """A test the run may use. `case.kind` is how the sandbox runs it; generated tests of an
    assert-style problem run as functional calls of its function."""

    id: str
    source: TestSource
    case: TestCase
    origin: str


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    got: str
    detail: str = ""  # the failing assertion, the exception, the signal

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.AC


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    generations: int = 0


@dataclass(slots=True)
class Run:
    view: ProblemView
    backend: Backend
    sandbox: TestRunner
    config: PipelineConfig
    emit_fn: Emit
    task_id: str
    gates: Gates | None = None
    lens: EnergyScorer = field(default_factory=NeutralLens)
    templates: dict[str, PromptTemplate] = field(default_factory=dict)
    candidates: dict[str, Candidate] = field(default_factory=dict)
    tests: dict[str, KnownTest] = field(default_factory=dict)
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    pinned: str | None = None
    errors: list[str] = field(default_factory=list)
    step: str = "start"  # the step now running, named in errors
    # Budget tier for code-writing steps chosen from the probe's energy (adaptive, Lens-driven).
    code_tier: BudgetTier | None = None
    # Candidate id -> its behaviour group on generated inputs, 0 the largest
    # (engine.pipeline.evidence).
    behaviour: dict[str, int] = field(default_factory=dict)
    # Whether the model thinks: the config's word, the catalogue's, else learnt from the first
    # answer.
    model_thinks: bool | None = None
    # The sampling its makers recommend, where the catalogue knows the model (top_p and top_k
    # of sampled generations; a greedy one is greedy whatever they say).
    sampling: Sampling | None = None
    # One answer's completion tokens (the first generation's, normally the probe), the unit of
    # the search budget.
    answer_tokens: int | None = None
    budget_said: bool = False
    started: float = field(default_factory=time.monotonic)
    _ids: dict[str, itertools.count] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = catalogue.for_model_file(self.backend.info.model)
        if self.model_thinks is None:
            self.model_thinks = self.config.thinking_model
        if self.model_thinks is None and known is not None:
            self.model_thinks = known.thinks
        if known is not None and self.sampling is None:
            self.sampling = known.sampling
        if not self.templates:
            override = Path(self.config.prompts_dir) if self.config.prompts_dir else None
            self.templates = load_all(override)

    # --- events ---------------------------------------------------------------------------

    async def emit(self, cls: type[ev.Event], **fields: Any) -> ev.Event:
        event = cls(task_id=self.task_id, **fields)
        result = self.emit_fn(event)
        if inspect.isawaitable(result):
            await result
        return event

    @contextlib.asynccontextmanager
    async def phase(self, phase: ev.Phase) -> AsyncIterator[None]:
        """PhaseStarted, the body, PhaseFinished (also when the body fails or stops)."""
        started = time.monotonic()
        self.step = phase
        await self.emit(ev.PhaseStarted, phase=phase)
        try:
            yield
        finally:
            await self.emit(ev.PhaseFinished, phase=phase, elapsed_s=time.monotonic() - started)

    def tier_for(self, step: str) -> BudgetTier:
        if self.code_tier is not None and step in ("implement", "diversity", "repair"):
            return self.code_tier
        return self.config.tier(step)

    def next_id(self, prefix: str) -> str:
        counter = self._ids.setdefault(prefix, itertools.count(1))
        return f"{prefix}{next(counter)}"

    # --- the kind generated tests run as --------------------------------------------------

    @property
    def generated_kind(self) -> TestKind | None:
        """How tests the model writes are run: stdin text, or one call of the function with JSON
        arguments. None when the problem names no function to call (assert style without one)."""
        if self.view.test_kind is TestKind.STDIN:
            return TestKind.STDIN
        return TestKind.FUNCTIONAL if self.view.func_name else None

    def program(self, code: str, kind: TestKind) -> Program:
        return Program(
            code=with_prelude(self.view.prelude, code),
            kind=kind,
            func_name=self.view.func_name,
            test_setup=self.view.test_setup if kind is TestKind.ASSERT else "",
            atol=self.view.atol,
            hidden_modules=unavailable(self.view.libraries),
        )

    @property
    def limits(self) -> SandboxLimits:
        return SandboxLimits(wall_s=self.view.limits.time_s, memory_mb=self.view.limits.memory_mb)

    # --- candidates and tests -------------------------------------------------------------

    async def add_candidate(
        self,
        code: str,
        *,
        origin: ev.Origin,
        phase: str,
        stream_id: str | None = None,
        parent_id: str | None = None,
        plan_id: str | None = None,
        label: str = "",
    ) -> Candidate:
        cid = self.next_id("c")
        candidate = Candidate(cid, code, origin, phase, len(self.candidates), parent_id, label)
        self.candidates[cid] = candidate
        await self.emit(
            ev.CandidateCreated,
            candidate_id=cid,
            origin=origin,
            code=code,
            parent_id=parent_id,
            plan_id=plan_id,
            stream_id=stream_id,
            label=label,
        )
        return candidate

    async def add_test(
        self,
        source: TestSource,
        case: TestCase,
        origin: str,
        *,
        prefix: str = "t",
        test_id: str | None = None,
    ) -> KnownTest:
        test = KnownTest(test_id or self.next_id(prefix), source, case, origin)
        self.tests[test.id] = test
        await self.emit(
            ev.TestAdded,
            test_id=test.id,
            kind=source,
            input=case.input,
            expected=None if source == "differential" else case.expected,
            origin=origin,
        )
        return test

    def group_size(self, candidate_id: str) -> int:
        """Candidates behaving like this one on generated inputs (0: not grouped)."""
        group = self.behaviour.get(candidate_id)
        return 0 if group is None else sum(g == group for g in self.behaviour.values())

    def tests_of(self, *sources: TestSource) -> list[KnownTest]:
        return [t for t in self.tests.values() if t.source in sources]

    def tally(
        self, candidate_id: str, sources: Iterable[TestSource], exclude: Iterable[str] = ()
    ) -> tuple[int, int]:
        """(passed, total) of a candidate on the tests of these sources it was run on, less the
        tests in `exclude`."""
        wanted = set(sources)
        skipped = set(exclude)
        results = [
            outcome.passed
            for (cid, tid), outcome in self.outcomes.items()
            if cid == candidate_id and self.tests[tid].source in wanted and tid not in skipped
        ]
        return sum(results), len(results)

    def failing(self, candidate_id: str, sources: Iterable[TestSource]) -> list[KnownTest]:
        wanted = set(sources)
        return [
            self.tests[tid]
            for (cid, tid), outcome in self.outcomes.items()
            if cid == candidate_id and self.tests[tid].source in wanted and not outcome.passed
        ]

    def budget_tokens(self) -> int | None:
        """The problem's search budget in completion tokens; None while unknown or unlimited."""
        answers = self.config.spend_answers
        if answers is None or self.answer_tokens is None:
            return None
        return int(answers * max(self.answer_tokens, self.config.answer_floor_tokens))

    async def can_spend(self, where: str) -> bool:
        """Whether `where` may start generations; says once, as an event, when the budget is
        spent."""
        budget = self.budget_tokens()
        if budget is None or self.usage.completion_tokens < budget:
            return True
        if not self.budget_said:
            self.budget_said = True
            await self.emit(
                ev.BudgetSpent,
                where=where,
                spent_tokens=self.usage.completion_tokens,
                budget_tokens=budget,
            )
        return False

    async def error(self, where: str, message: str, *, fatal: bool = False) -> None:
        self.errors.append(f"{where}: {message}")
        await self.emit(ev.ErrorRaised, where=where, message=message, fatal=fatal)

