"""The fold from events to what a viewer needs: `state = reduce(events)`.

`apply(state, event)` is pure: it never changes `state`, it returns a new `TaskState` that shares
every unchanged part with the old one (structural sharing). Mappings inside a state are plain
dicts typed as `Mapping`: treat them as read-only. Equality is value equality, so "replaying the
stored log gives the same state as watching live" is `reduce(stored) == live_state`.

Cost: token deltas arrive thousands of times a second, so appending text must not copy the
text seen so far. Stream text lives in an `AppendOnlyText` (a shared list of chunks plus a
length; appending to the newest state is O(1), appending to an older state copies its chunk
list once) and is joined only when a viewer reads it. A delta also copies the small `streams`
dict and the `TaskState` shell: O(number of streams), not O(text).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine import events as ev

TaskStatus = str  # "pending", "running", "submitted", "no_answer", "cancelled", "error"
TERMINAL_STATUSES = frozenset({"submitted", "no_answer", "cancelled", "error"})


class AppendOnlyText:
    """Immutable-looking text that grows by appending without copying what came before.

    Several values may share one chunk list: each sees the first `n` chunks. Appending to the
    value that ends the list extends it in place; appending to an older one copies its prefix
    first, so older values never change (folding up to event N and going on from there is safe).
    """

    __slots__ = ("_chars", "_chunks", "_n")

    def __init__(self, chunks: list[str] | None = None, n: int = 0, chars: int = 0) -> None:
        self._chunks = chunks if chunks is not None else []
        self._n = n
        self._chars = chars

    def appended(self, text: str) -> AppendOnlyText:
        if not text:
            return self
        chunks = self._chunks
        if len(chunks) != self._n:  # someone already grew the shared list past us
            chunks = chunks[: self._n]
        chunks.append(text)
        return AppendOnlyText(chunks, self._n + 1, self._chars + len(text))

    @property
    def text(self) -> str:
        if self._n > 1:
            # Join once and keep the result in a list of our own: values sharing the old list
            # keep seeing it unchanged, and the next read of this value costs nothing.
            joined = "".join(self._chunks[: self._n])
            self._chunks = [joined]
            self._n = 1
            return joined
        return self._chunks[0] if self._n else ""

    def __len__(self) -> int:
        return self._chars

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"AppendOnlyText({self.text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AppendOnlyText):
            return self._chars == other._chars and self.text == other.text
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.text)


EMPTY_TEXT = AppendOnlyText()


@dataclass(frozen=True, slots=True)
class PhaseSpan:
    phase: str
    started_at: float
    finished_at: float | None = None
    elapsed_s: float | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None


@dataclass(frozen=True, slots=True)
class StreamState:
    """One generation: its prompt, its live text and, once finished, its counts."""

    stream_id: str
    purpose: str
    template: str
    template_version: str
    prompt: str
    budget_tier: str
    temperature: float
    started_at: float
    thinking_text: AppendOnlyText = EMPTY_TEXT
    answer_text: AppendOnlyText = EMPTY_TEXT
    live_tokens: int = 0  # counted from deltas while streaming
    last_delta_at: float | None = None
    finished: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    thinking_tokens: int = 0
    elapsed_s: float = 0.0
    tokens_per_s: float = 0.0
    budget_capped: bool = False
    budget_extensions: int = 0
    finish_reason: str = ""

    @property
    def thinking(self) -> str:
        return self.thinking_text.text

    @property
    def answer(self) -> str:
        return self.answer_text.text

    @property
    def tokens(self) -> int:
        return self.completion_tokens if self.finished else self.live_tokens

    @property
    def live_tokens_per_s(self) -> float:
        """The final rate once finished; while streaming, tokens over time since the start."""
        if self.finished:
            return self.tokens_per_s
        if self.last_delta_at is None or self.last_delta_at <= self.started_at:
            return 0.0
        return self.live_tokens / (self.last_delta_at - self.started_at)


@dataclass(frozen=True, slots=True)
class Tally:
    passed: int = 0
    total: int = 0

    @property
    def all_passed(self) -> bool:
        return self.total > 0 and self.passed == self.total


@dataclass(frozen=True, slots=True)
class CandidateState:
    candidate_id: str
    origin: str
    code: str
    parent_id: str | None = None
    plan_id: str | None = None
    stream_id: str | None = None
    label: str = ""
    created_seq: int = 0
    embedded: bool = False
    energy: float | None = None
    pass_probability: float | None = None
    lens: str = ""
    cluster: int | None = None  # index into TaskState.clusters
    score: float | None = None
    score_parts: Mapping[str, Any] = field(default_factory=dict)
    public: Tally = Tally()  # on the statement's examples
    self_tests: Tally = Tally()  # on kept self-generated tests
    user_tests: Tally = Tally()
    edited: bool = False  # a person wrote this version (origin "user", parent: the edited one)
    hidden: CandidateHidden | None = None  # after submission only: the oracle's verdict


@dataclass(frozen=True, slots=True)
class CandidateHidden:
    verdict: str
    passed: int
    total: int


@dataclass(frozen=True, slots=True)
class TestState:
    __test__ = False

    test_id: str
    kind: str  # "public", "self", "user", "differential"
    input: str
    expected: str | None
    origin: str
    kept: bool | None = None  # self-tests: kept or discarded by the consistency check


@dataclass(frozen=True, slots=True)
class Cell:
    """One candidate on one test."""

    verdict: str
    got: str = ""
    expected: str | None = None
    time_s: float = 0.0
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RepairStep:
    iteration: int
    perspective: str
    parent_id: str
    child_id: str | None
    reasoning: str = ""
    stream_id: str | None = None
    failing_tests: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    plan_id: str
    constraints: str
    plan: str


@dataclass(frozen=True, slots=True)
class Selection:
    candidate_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Submission:
    candidate_id: str
    code: str
    phase: str


@dataclass(frozen=True, slots=True)
class Grade:
    """The hidden-test verdict of the submitted answer; `oracle_any_pass` is a ceiling."""

    candidate_id: str
    verdict: str
    passed: int
    total: int
    oracle_any_pass: bool | None
    used_public_fallback: bool = False

    @property
    def solved(self) -> bool:
        return self.verdict == "AC"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    seq: int
    where: str
    message: str
    fatal: bool


@dataclass(frozen=True, slots=True)
class WarningInfo:
    """Something a person should see that did not stop the run (a generation cut short)."""

    seq: int
    where: str
    message: str


@dataclass(frozen=True, slots=True)
class Notice:
    """An error or a warning of a task, as a person reads them: in the order they happened."""

    seq: int
    level: str  # "error" or "warning"
    where: str  # the step
    message: str


@dataclass(frozen=True, slots=True)
class GateInfo:
    step: str
    detail: str
    seq: int


@dataclass(frozen=True, slots=True)
class Tokens:
    prompt: int = 0
    completion: int = 0
    thinking: int = 0


@dataclass(frozen=True, slots=True)
class TaskState:
    task_id: str = ""
    title: str = ""
    condition: str = ""
    model: str = ""
    backend: str = ""
    sandbox_tier: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)
    status: TaskStatus = "pending"
    started_at: float | None = None
    finished_at: float | None = None
    elapsed_s: float | None = None
    phase: str | None = None  # the phase running now
    phases: tuple[PhaseSpan, ...] = ()
    streams: Mapping[str, StreamState] = field(default_factory=dict)  # in creation order
    constraint_sets: tuple[str, ...] = ()
    plans: Mapping[str, Plan] = field(default_factory=dict)
    candidates: Mapping[str, CandidateState] = field(default_factory=dict)  # creation order
    tests: Mapping[str, TestState] = field(default_factory=dict)  # in order added
    matrix: Mapping[str, Mapping[str, Cell]] = field(default_factory=dict)  # cand -> test
    clusters: tuple[tuple[str, ...], ...] = ()
    cluster_inputs: tuple[str, ...] = ()
    repairs: tuple[RepairStep, ...] = ()
    no_code: tuple[tuple[str, str], ...] = ()  # (stream id, reason)
    selected: Selection | None = None
    submitted: Submission | None = None
    graded: Grade | None = None
    errors: tuple[ErrorInfo, ...] = ()
    warnings: tuple[WarningInfo, ...] = ()
    gate: GateInfo | None = None  # paused here, waiting for a person
    gate_history: tuple[tuple[str, str], ...] = ()  # (step, action)
    user_actions: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    tokens: Tokens = Tokens()
    last_seq: int = 0
    last_at: float | None = None
    n_events: int = 0

    # --- questions a viewer asks --------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def paused(self) -> bool:
        return self.gate is not None

    def children(self, candidate_id: str | None) -> list[CandidateState]:
        """Candidates whose parent is `candidate_id` (None: the roots of the tree)."""
        return [c for c in self.candidates.values() if c.parent_id == candidate_id]

    def repairs_by_iteration(self) -> dict[int, list[RepairStep]]:
        out: dict[int, list[RepairStep]] = {}
        for step in self.repairs:
            out.setdefault(step.iteration, []).append(step)
        return out

    def tests_of_kind(self, kind: str) -> list[TestState]:
        return [t for t in self.tests.values() if t.kind == kind]

    def cell(self, candidate_id: str, test_id: str) -> Cell | None:
        return self.matrix.get(candidate_id, {}).get(test_id)

    @property
    def notices(self) -> tuple[Notice, ...]:
        """Errors and warnings together, in the order the run raised them."""
        found = [Notice(e.seq, "error", e.where, e.message) for e in self.errors]
        found += [Notice(w.seq, "warning", w.where, w.message) for w in self.warnings]
        return tuple(sorted(found, key=lambda n: n.seq))


# --- the fold ---------------------------------------------------------------------------------


def reduce(
    events: Iterable[ev.Event],
    *,
    until_seq: int | None = None,
    state: TaskState | None = None,
) -> TaskState:
    """Fold `events` (one task's, in order) onto `state` (an empty one by default); stop after
    the event numbered `until_seq` to see the task as it was at that step."""
    current = state if state is not None else TaskState()
    for event in events:
        if until_seq is not None and event.seq > until_seq:
            break
        current = apply(current, event)
    return current


def apply(state: TaskState, event: ev.Event) -> TaskState:
    """The state after `event`. Events of a type this module does not know are counted and
    otherwise ignored, so newer logs stay readable."""
    if state.task_id and event.task_id != state.task_id:
        raise ValueError(
            f"event for task {event.task_id!r} folded into the state of task {state.task_id!r}"
        )
    handler = _HANDLERS.get(type(event))
    changes: dict[str, Any] = handler(state, event) if handler is not None else {}
    return dataclasses.replace(
        state,
        task_id=event.task_id,
        last_seq=event.seq,
        last_at=event.at,
        n_events=state.n_events + 1,
        **changes,
    )


def _with(mapping: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of `mapping` with one key set (insertion order kept)."""
    out = dict(mapping)
    out[key] = value
    return out


def _json_object(text: str) -> Mapping[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {"raw": text}
    return value if isinstance(value, dict) else {"value": value}


# Each handler returns the changed fields of TaskState.


def _task_started(s: TaskState, e: ev.TaskStarted) -> dict[str, Any]:
    return {
        "title": e.title,
        "condition": e.condition,
        "model": e.model,
        "backend": e.backend,
        "sandbox_tier": e.sandbox_tier,
        "config": _json_object(e.config),
        "status": "running",
        "started_at": e.at,
    }


def _phase_started(s: TaskState, e: ev.PhaseStarted) -> dict[str, Any]:
    return {"phase": e.phase, "phases": (*s.phases, PhaseSpan(e.phase, e.at))}


def _phase_finished(s: TaskState, e: ev.PhaseFinished) -> dict[str, Any]:
    phases = list(s.phases)
    for i in range(len(phases) - 1, -1, -1):  # the latest open span of this phase
        if phases[i].phase == e.phase and phases[i].running:
            phases[i] = dataclasses.replace(phases[i], finished_at=e.at, elapsed_s=e.elapsed_s)
            break
    else:
        phases.append(PhaseSpan(e.phase, e.at - e.elapsed_s, e.at, e.elapsed_s))
    still_open = [p.phase for p in phases if p.running]
    return {"phases": tuple(phases), "phase": still_open[-1] if still_open else None}


def _task_finished(s: TaskState, e: ev.TaskFinished) -> dict[str, Any]:
    return {"status": e.status, "finished_at": e.at, "elapsed_s": e.elapsed_s, "gate": None}


def _error(s: TaskState, e: ev.ErrorRaised) -> dict[str, Any]:
    return {"errors": (*s.errors, ErrorInfo(e.seq, e.where, e.message, e.fatal))}


def _generation_stopped(s: TaskState, e: ev.GenerationStopped) -> dict[str, Any]:
    return {"warnings": (*s.warnings, WarningInfo(e.seq, e.purpose, e.message))}


def _budget_spent(s: TaskState, e: ev.BudgetSpent) -> dict[str, Any]:
    message = (
        f"search budget spent ({e.spent_tokens:,} of {e.budget_tokens:,} tokens): "
        "no further generation; the best candidate so far is submitted"
    )
    return {"warnings": (*s.warnings, WarningInfo(e.seq, e.where, message))}


def _generation_started(s: TaskState, e: ev.GenerationStarted) -> dict[str, Any]:
    stream = StreamState(
        stream_id=e.stream_id,
        purpose=e.purpose,
        template=e.template,
        template_version=e.template_version,
        prompt=e.prompt,
        budget_tier=e.budget_tier,
        temperature=e.temperature,
        started_at=e.at,
    )
    return {"streams": _with(s.streams, e.stream_id, stream)}


def _token_delta(s: TaskState, e: ev.TokenDelta) -> dict[str, Any]:
    stream = s.streams.get(e.stream_id)
    if stream is None:  # a delta without its start: keep the text anyway
        stream = StreamState(e.stream_id, "", "", "", "", "none", 0.0, started_at=e.at)
    if e.channel == "thinking":
        stream = dataclasses.replace(
            stream,
            thinking_text=stream.thinking_text.appended(e.text),
            live_tokens=stream.live_tokens + e.tokens,
            last_delta_at=e.at,
        )
    else:
        stream = dataclasses.replace(
            stream,
            answer_text=stream.answer_text.appended(e.text),
            live_tokens=stream.live_tokens + e.tokens,
            last_delta_at=e.at,
        )
    return {"streams": _with(s.streams, e.stream_id, stream)}


def _generation_finished(s: TaskState, e: ev.GenerationFinished) -> dict[str, Any]:
    stream = s.streams.get(e.stream_id)
    if stream is None:
        stream = StreamState(e.stream_id, "", "", "", "", "none", 0.0, started_at=e.at)
    stream = dataclasses.replace(
        stream,
        finished=True,
        prompt_tokens=e.prompt_tokens,
        completion_tokens=e.completion_tokens,
        thinking_tokens=e.thinking_tokens,
        elapsed_s=e.elapsed_s,
        tokens_per_s=e.tokens_per_s,
        budget_capped=e.budget_capped,
        budget_extensions=e.budget_extensions,
        finish_reason=e.finish_reason,
    )
    tokens = Tokens(
        prompt=s.tokens.prompt + e.prompt_tokens,
        completion=s.tokens.completion + e.completion_tokens,
        thinking=s.tokens.thinking + e.thinking_tokens,
    )
    return {"streams": _with(s.streams, e.stream_id, stream), "tokens": tokens}


def _constraints(s: TaskState, e: ev.ConstraintsExtracted) -> dict[str, Any]:
    return {"constraint_sets": e.constraint_sets}


def _plan(s: TaskState, e: ev.PlanProposed) -> dict[str, Any]:
    return {"plans": _with(s.plans, e.plan_id, Plan(e.plan_id, e.constraints, e.plan))}


def _candidate_created(s: TaskState, e: ev.CandidateCreated) -> dict[str, Any]:
    candidate = CandidateState(
        candidate_id=e.candidate_id,
        origin=e.origin,
        code=e.code,
        parent_id=e.parent_id,
        plan_id=e.plan_id,
        stream_id=e.stream_id,
        label=e.label,
        created_seq=e.seq,
        edited=e.origin == "user",
    )
    return {"candidates": _with(s.candidates, e.candidate_id, candidate)}


def _update_candidate(s: TaskState, candidate_id: str, **changes: Any) -> dict[str, Any]:
    candidate = s.candidates.get(candidate_id)
    if candidate is None:  # an event about a candidate never created: nothing to attach it to
        return {}
    updated = dataclasses.replace(candidate, **changes)
    return {"candidates": _with(s.candidates, candidate_id, updated)}


def _no_code(s: TaskState, e: ev.NoCodeFound) -> dict[str, Any]:
    return {"no_code": (*s.no_code, (e.stream_id, e.reason))}


def _embedded(s: TaskState, e: ev.CandidateEmbedded) -> dict[str, Any]:
    return _update_candidate(s, e.candidate_id, embedded=True)


def _energy(s: TaskState, e: ev.EnergyScored) -> dict[str, Any]:
    return _update_candidate(
        s, e.candidate_id, energy=e.energy, pass_probability=e.pass_probability, lens=e.lens
    )


def _test_added(s: TaskState, e: ev.TestAdded) -> dict[str, Any]:
    kept = True if e.kind != "self" else None
    test = TestState(e.test_id, e.kind, e.input, e.expected, e.origin, kept=kept)
    return {"tests": _with(s.tests, e.test_id, test)}


def _tests_generated(s: TaskState, e: ev.TestsGenerated) -> dict[str, Any]:
    tests = dict(s.tests)
    for test_id, kept in [(t, True) for t in e.kept] + [(t, False) for t in e.discarded]:
        if test_id in tests:
            tests[test_id] = dataclasses.replace(tests[test_id], kept=kept)
    changes: dict[str, Any] = {"tests": tests}
    # kept/discarded changes which self-tests count in each candidate's tally
    candidates = {cid: _tallied(c, s.matrix.get(cid, {}), tests) for cid, c in s.candidates.items()}
    changes["candidates"] = candidates
    return changes


def _tallied(
    candidate: CandidateState, row: Mapping[str, Cell], tests: Mapping[str, TestState]
) -> CandidateState:
    counts = {"public": [0, 0], "self": [0, 0], "user": [0, 0]}
    for test_id, cell in row.items():
        test = tests.get(test_id)
        if test is None or test.kind not in counts or test.kept is False:
            continue
        counts[test.kind][1] += 1
        counts[test.kind][0] += cell.verdict == "AC"
    public, self_tests, user = (Tally(*counts[k]) for k in ("public", "self", "user"))
    if (public, self_tests, user) == (candidate.public, candidate.self_tests, candidate.user_tests):
        return candidate
    return dataclasses.replace(candidate, public=public, self_tests=self_tests, user_tests=user)


def _test_run(s: TaskState, e: ev.TestRun) -> dict[str, Any]:
    cell = Cell(e.verdict, e.got, e.expected, e.time_s, e.detail)
    row = _with(s.matrix.get(e.candidate_id, {}), e.test_id, cell)
    changes: dict[str, Any] = {"matrix": _with(s.matrix, e.candidate_id, row)}
    candidate = s.candidates.get(e.candidate_id)
    if candidate is not None:
        tallied = _tallied(candidate, row, s.tests)
        if tallied is not candidate:
            changes["candidates"] = _with(s.candidates, e.candidate_id, tallied)
    return changes


def _clustered(s: TaskState, e: ev.CandidatesClustered) -> dict[str, Any]:
    index = {cid: i for i, group in enumerate(e.clusters) for cid in group}
    candidates = {
        cid: (c if c.cluster == index.get(cid) else dataclasses.replace(c, cluster=index.get(cid)))
        for cid, c in s.candidates.items()
    }
    return {"clusters": e.clusters, "cluster_inputs": e.inputs, "candidates": candidates}


def _scored(s: TaskState, e: ev.CandidateScored) -> dict[str, Any]:
    return _update_candidate(s, e.candidate_id, score=e.score, score_parts=_json_object(e.parts))


def _repair(s: TaskState, e: ev.RepairIteration) -> dict[str, Any]:
    step = RepairStep(
        e.iteration,
        e.perspective,
        e.parent_id,
        e.child_id,
        e.reasoning,
        e.stream_id,
        e.failing_tests,
    )
    return {"repairs": (*s.repairs, step)}


def _selected(s: TaskState, e: ev.CandidateSelected) -> dict[str, Any]:
    return {"selected": Selection(e.candidate_id, e.reason)}


def _submitted(s: TaskState, e: ev.AnswerSubmitted) -> dict[str, Any]:
    return {"submitted": Submission(e.candidate_id, e.code, e.phase)}


def _graded(s: TaskState, e: ev.Graded) -> dict[str, Any]:
    grade = Grade(
        e.candidate_id, e.verdict, e.passed, e.total, e.oracle_any_pass, e.used_public_fallback
    )
    return {"graded": grade}


def _candidate_graded(s: TaskState, e: ev.CandidateGraded) -> dict[str, Any]:
    hidden = CandidateHidden(e.verdict, e.passed, e.total)
    return _update_candidate(s, e.candidate_id, hidden=hidden)


def _gate_reached(s: TaskState, e: ev.GateReached) -> dict[str, Any]:
    return {"gate": GateInfo(e.step, e.detail, e.seq)}


def _gate_resolved(s: TaskState, e: ev.GateResolved) -> dict[str, Any]:
    return {"gate": None, "gate_history": (*s.gate_history, (e.step, e.action))}


def _user_action(s: TaskState, e: ev.UserAction) -> dict[str, Any]:
    # An edit arrives as its own CandidateCreated (origin "user", parent: the edited one);
    # the candidate that was edited keeps its code, so the tree shows both.
    return {"user_actions": (*s.user_actions, (e.action, _json_object(e.payload)))}


_HANDLERS: dict[type[ev.Event], Any] = {
    ev.TaskStarted: _task_started,
    ev.PhaseStarted: _phase_started,
    ev.PhaseFinished: _phase_finished,
    ev.TaskFinished: _task_finished,
    ev.ErrorRaised: _error,
    ev.GenerationStarted: _generation_started,
    ev.TokenDelta: _token_delta,
    ev.GenerationFinished: _generation_finished,
    ev.GenerationStopped: _generation_stopped,
    ev.BudgetSpent: _budget_spent,
    ev.ConstraintsExtracted: _constraints,
    ev.PlanProposed: _plan,
    ev.CandidateCreated: _candidate_created,
    ev.NoCodeFound: _no_code,
    ev.CandidateEmbedded: _embedded,
    ev.EnergyScored: _energy,
    ev.TestAdded: _test_added,
    ev.TestsGenerated: _tests_generated,
    ev.TestRun: _test_run,
    ev.CandidatesClustered: _clustered,
    ev.CandidateScored: _scored,
    ev.RepairIteration: _repair,
    ev.CandidateSelected: _selected,
    ev.AnswerSubmitted: _submitted,
    ev.Graded: _graded,
    ev.CandidateGraded: _candidate_graded,
    ev.GateReached: _gate_reached,
    ev.GateResolved: _gate_resolved,
    ev.UserAction: _user_action,
}
