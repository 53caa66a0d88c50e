"""Typed, immutable engine events: the one log that every viewer folds.

Every event carries the task it belongs to, its sequence number in that task's log and the
wall-clock time it was made. The TUI, the headless CLI, the benchmark report, replay and
step-through are all `engine.state.reduce(events)`; nothing else carries state.

Events serialize to JSON as {"type": <class name>, ...fields} (`to_json` / `from_json`), which
is how the store keeps them; adding a field with a default keeps old logs readable.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

Phase = Literal["probe", "plan", "diversity", "examples", "select", "selftest", "repair", "final"]
Origin = Literal["probe", "plan", "diversity", "repair", "user"]
Channel = Literal["thinking", "answer"]
FinishStatus = Literal["submitted", "no_answer", "cancelled", "error"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    task_id: str
    seq: int = 0  # assigned by the emitter, 1-based and gap-free within a task
    at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return json.dumps({"type": type(self).__name__, **data}, ensure_ascii=False)

    @staticmethod
    def from_json(text: str) -> Event:
        data = json.loads(text)
        cls = event_types()[data.pop("type")]
        names = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {k: _tuples(v) for k, v in data.items() if k in names}
        return cls(**kwargs)


def event_types() -> dict[str, type[Event]]:
    """Every event class by name (the `type` field of the JSON form)."""
    return {cls.__name__: cls for cls in Event.__subclasses__()}


def _tuples(value: Any) -> Any:
    """JSON arrays come back as tuples so events stay hashable and immutable."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


# --- task lifecycle -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskStarted(Event):
    title: str
    condition: str  # "A", "B", "C", "D", "full"
    model: str = ""
    backend: str = ""
    sandbox_tier: str = ""
    config: str = "{}"  # JSON of the effective knobs


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseStarted(Event):
    phase: Phase


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseFinished(Event):
    phase: Phase
    elapsed_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskFinished(Event):
    status: FinishStatus
    elapsed_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorRaised(Event):
    where: str  # the step that failed
    message: str
    fatal: bool = False


# --- generation -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerationStarted(Event):
    stream_id: str  # unique within the task
    purpose: str  # "probe", "constraints", "plan", "implement", "diversity", "selftest", ...
    template: str  # the prompt template's name
    template_version: str
    prompt: str
    budget_tier: str = "none"
    temperature: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenDelta(Event):
    """Streamed text. Emitters batch a few tokens per event; viewers draw at a bounded rate."""

    stream_id: str
    text: str
    channel: Channel = "answer"
    tokens: int = 1  # how many tokens this batch holds (for live token counts and tok/s)


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerationFinished(Event):
    stream_id: str
    prompt_tokens: int
    completion_tokens: int
    thinking_tokens: int = 0
    elapsed_s: float = 0.0
    tokens_per_s: float = 0.0
    budget_capped: bool = False
    budget_extensions: int = 0
    finish_reason: str = "stop"


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerationStopped(Event):
    """A generation cut short: at its token limit ("length") or by the loop guard ("loop")."""

    stream_id: str
    purpose: str
    reason: Literal["length", "loop"]
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetSpent(Event):
    """The problem's search budget ran out (`PipelineConfig.spend_answers`): no further
    generation starts, and the best candidate so far is still chosen and submitted."""

    where: str  # the first step that did not run for it
    spent_tokens: int
    budget_tokens: int


# --- Phase 1 --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstraintsExtracted(Event):
    constraint_sets: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanProposed(Event):
    plan_id: str
    constraints: str
    plan: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateCreated(Event):
    candidate_id: str
    origin: Origin
    code: str
    parent_id: str | None = None
    plan_id: str | None = None
    stream_id: str | None = None  # the generation it came from (its prompt is there)
    label: str = ""  # e.g. "plan 2", "persona: competitive programmer", "repair 1 (edge cases)"


@dataclass(frozen=True, slots=True, kw_only=True)
class NoCodeFound(Event):
    stream_id: str
    reason: str


# --- Phase 2 --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateEmbedded(Event):
    """The emitter may carry the vector itself; `engine.store.Store` moves it into its
    `embeddings` table (float32) and logs the event without it, so logs stay small."""

    candidate_id: str
    dim: int
    model: str
    vector: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyScored(Event):
    candidate_id: str
    energy: float
    pass_probability: float | None = None  # None when the Lens is neutral (untrained)
    lens: str = "neutral"


@dataclass(frozen=True, slots=True, kw_only=True)
class TestAdded(Event):
    """A test the pipeline may use: a public example, a self-generated test, a user's test,
    or an input from differential testing (which has no expected output)."""

    test_id: str
    kind: Literal["public", "self", "user", "differential"]
    input: str
    expected: str | None
    origin: str  # where the expected output came from ("statement", "agreement 3/4", ...)


@dataclass(frozen=True, slots=True, kw_only=True)
class TestsGenerated(Event):
    kept: tuple[str, ...]  # test ids
    discarded: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TestRun(Event):
    candidate_id: str
    test_id: str
    verdict: str  # engine.sandbox.types.Verdict value
    got: str = ""
    expected: str | None = None
    time_s: float = 0.0
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidatesClustered(Event):
    clusters: tuple[tuple[str, ...], ...]  # candidate ids grouped by identical behaviour
    inputs: tuple[str, ...] = ()  # the distinguishing test ids


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateScored(Event):
    """The selection score of a candidate and its parts (examples, agreement, energy, ...)."""

    candidate_id: str
    score: float
    parts: str = "{}"  # JSON


# --- Phase 3 --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RepairIteration(Event):
    iteration: int  # 1-based
    perspective: str
    parent_id: str
    child_id: str | None  # None when the repair produced no code
    reasoning: str = ""
    stream_id: str | None = None
    failing_tests: tuple[str, ...] = ()


# --- the end ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateSelected(Event):
    candidate_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerSubmitted(Event):
    candidate_id: str
    code: str
    phase: str = ""  # the phase whose candidate won


@dataclass(frozen=True, slots=True, kw_only=True)
class Graded(Event):
    """The hidden-test verdict, emitted by the grader after submission. Never read back by the
    solver for the same task."""

    candidate_id: str
    verdict: str
    passed: int
    total: int
    oracle_any_pass: bool | None = None  # ceiling: did any candidate pass? (labelled as such)
    used_public_fallback: bool = False  # the problem had no hidden tests: graded on public ones


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateGraded(Event):
    """One candidate's hidden-test verdict, computed after submission for the oracle ceiling
    and as a training label for the Lens. Never read back by the solver for the same task."""

    candidate_id: str
    verdict: str
    passed: int
    total: int


# --- a person's steering ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GateReached(Event):
    """The runner paused before a step and waits for continue, skip or stop."""

    step: str
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResolved(Event):
    step: str
    action: Literal["continue", "skip", "stop"]


@dataclass(frozen=True, slots=True, kw_only=True)
class UserAction(Event):
    """add_test, edit_candidate, pin_answer: recorded so replay shows what a person did."""

    action: str
    payload: str = "{}"  # JSON
