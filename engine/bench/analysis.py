"""Where one task's answer came from, read from its stored event log (so old runs work too).

Everything here is derived from events, never from the pipeline's code: which phase produced
the submitted answer, whether repair rescued it, whether selection changed it away from the
probe, how many self-tests were generated, kept and discarded, how generations stopped, and
what the task cost. Hidden-test facts about candidates other than the submitted one come from
`CandidateGraded` events, written after submission for the oracle ceiling; where a run was made
without the oracle they are unknown (None), never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import events as ev
from engine.store import Store, TaskInfo

# The events an analysis reads: everything but the token stream and the test matrix.
EVENT_TYPES = frozenset({
    "CandidateCreated", "GenerationFinished", "TestAdded", "TestsGenerated", "AnswerSubmitted",
    "Graded", "CandidateGraded", "TaskFinished", "BudgetSpent",
})
LOOP = "loop"  # GenerationFinished.finish_reason of a generation stopped by the loop guard
LENGTH = "length"  # ... of one stopped at its token limit


@dataclass(frozen=True, slots=True)
class SelfTest:
    """A kept self-test: its input and the expected output the pipeline trusted."""

    test_id: str
    input: str
    expected: str


@dataclass(frozen=True, slots=True)
class TaskAnalysis:
    problem_id: str
    task_id: str
    status: str
    verdict: str | None  # hidden-test verdict of the submitted answer
    used_public_fallback: bool
    answer_id: str | None  # the submitted candidate ("" for an empty answer)
    answer_code: str
    answer_phase: str | None  # AnswerSubmitted.phase: probe, plan, diversity, repair, none
    answer_origin: str | None  # CandidateCreated.origin of the submitted candidate
    candidates: int
    changed_by_selection: bool | None  # the answer (before repair) is not the probe's
    probe_passed: bool | None  # the probe's hidden verdict, from the oracle
    repaired_from_passed: bool | None  # for a repaired answer: did what repair began with pass?
    selftests_generated: int
    selftests_kept: tuple[SelfTest, ...]
    selftests_discarded: int
    generations: int
    loop_stops: int
    length_stops: int
    budget_spent: bool  # the search budget ran out before the search was done
    prompt_tokens: int
    completion_tokens: int
    time_s: float | None

    @property
    def solved(self) -> bool:
        return self.verdict == "AC"

    @property
    def from_repair(self) -> bool:
        return self.answer_origin == "repair"

    @property
    def rescued_by_repair(self) -> bool | None:
        """A repaired answer that passes where the candidate repair began with failed; None
        when that candidate's hidden verdict is unknown (a run without the oracle)."""
        if not self.from_repair or not self.solved:
            return False
        if self.repaired_from_passed is None:
            return None
        return not self.repaired_from_passed

    @property
    def selection_effect(self) -> str | None:
        """"helped" / "hurt" / "same" when selection chose another answer than the probe and
        both hidden verdicts are known; None otherwise."""
        if not self.changed_by_selection or self.probe_passed is None:
            return None
        if self.solved == self.probe_passed:
            return "same"
        return "helped" if self.solved else "hurt"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def analyse_task(store: Store, task: TaskInfo) -> TaskAnalysis:
    """One pass over the task's stored events (token deltas are not read)."""
    created: dict[str, ev.CandidateCreated] = {}
    hidden: dict[str, bool] = {}
    self_tests: dict[str, SelfTest] = {}
    kept_ids: list[str] = []
    discarded = generated = 0
    submitted: ev.AnswerSubmitted | None = None
    graded: ev.Graded | None = None
    generations = loops = lengths = prompt = completion = 0
    elapsed: float | None = None
    budget_spent = False
    for event in store.events(task.task_id, types=EVENT_TYPES):
        if isinstance(event, ev.CandidateCreated):
            created[event.candidate_id] = event
        elif isinstance(event, ev.GenerationFinished):
            generations += 1
            loops += event.finish_reason == LOOP
            lengths += event.finish_reason == LENGTH
            prompt += event.prompt_tokens
            completion += event.completion_tokens
        elif isinstance(event, ev.TestAdded) and event.kind == "self":
            self_tests[event.test_id] = SelfTest(event.test_id, event.input,
                                                 event.expected or "")
        elif isinstance(event, ev.TestsGenerated):
            kept_ids += event.kept
            discarded += len(event.discarded)
            generated += len(event.kept) + len(event.discarded)
        elif isinstance(event, ev.AnswerSubmitted):
            submitted = event
        elif isinstance(event, ev.Graded):
            graded = event
        elif isinstance(event, ev.CandidateGraded):
            hidden[event.candidate_id] = event.verdict == "AC"
        elif isinstance(event, ev.TaskFinished):
            elapsed = event.elapsed_s
        elif isinstance(event, ev.BudgetSpent):
            budget_spent = True

    probe_id = next((c for c, e in created.items() if e.origin == "probe"), None)
    answer_id = submitted.candidate_id if submitted else None
    answer = created.get(answer_id or "")
    root = _repair_root(created, answer_id) if answer is not None else None
    repaired_from = root if answer is not None and answer.origin == "repair" else None
    return TaskAnalysis(
        problem_id=task.problem_id,
        task_id=task.task_id,
        status=task.status,
        verdict=graded.verdict if graded else None,
        used_public_fallback=bool(graded and graded.used_public_fallback),
        answer_id=answer_id,
        answer_code=submitted.code if submitted else "",
        answer_phase=submitted.phase if submitted else None,
        answer_origin=answer.origin if answer else None,
        candidates=len(created),
        changed_by_selection=(root != probe_id) if root and probe_id else None,
        probe_passed=hidden.get(probe_id) if probe_id else None,
        repaired_from_passed=hidden.get(repaired_from) if repaired_from else None,
        selftests_generated=generated,
        selftests_kept=tuple(self_tests[t] for t in kept_ids if t in self_tests),
        selftests_discarded=discarded,
        generations=generations,
        loop_stops=loops,
        length_stops=lengths,
        budget_spent=budget_spent,
        prompt_tokens=prompt,
        completion_tokens=completion,
        time_s=elapsed if elapsed is not None else task.elapsed_s,
    )


def _repair_root(created: dict[str, ev.CandidateCreated], candidate_id: str | None) -> str | None:
    """The candidate a chain of repairs (and a person's edits) began with: what selection
    chose before repair changed it."""
    seen: set[str] = set()
    while candidate_id in created and candidate_id not in seen:
        seen.add(candidate_id)
        event = created[candidate_id]
        if event.origin not in ("repair", "user") or event.parent_id is None:
            return candidate_id
        candidate_id = event.parent_id
    return candidate_id
