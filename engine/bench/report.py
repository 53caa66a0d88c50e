"""The report of a benchmark run, read from its store (no logs are folded).

Strict pass@1 is the one honest number: one submitted answer per problem, graded on hidden
tests it never saw; a problem with no finished task counts as not solved. Oracle pass@k (did
ANY candidate pass the hidden tests?) is shown beside it and always labelled as a ceiling: it
is what a system that peeks at the hidden tests to choose would score, not a result.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.store import Store, TaskInfo

NO_TESTS = "NO_TESTS"  # engine.grading's verdict text for a problem without tests
CEILING_LABEL = "oracle pass@k (ceiling: any candidate passes the hidden tests; not a result)"


@dataclass(frozen=True, slots=True)
class TaskRow:
    problem_id: str
    task_id: str
    attempt: int
    status: str
    verdict: str | None
    passed: int | None
    total: int | None
    oracle_any_pass: bool | None
    answer_phase: str | None
    elapsed_s: float | None
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class BenchReport:
    session_id: str
    title: str
    condition: str
    n_problems: int  # in the run (the dataset rows asked for)
    n_finished: int
    n_solved: int  # submitted answer passes the hidden tests
    n_oracle: int  # some candidate passes (ceiling)
    n_oracle_known: int  # tasks for which the oracle was computed
    n_public_fallback: int  # graded on public tests: the problem had no hidden ones
    n_no_tests: int = 0  # nothing to grade on at all: left out of the rates, never a pass
    statuses: dict[str, int] = field(default_factory=dict)
    verdicts: dict[str, int] = field(default_factory=dict)
    solved_by_phase: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    task_time_s: float = 0.0  # summed over finished tasks
    rows: tuple[TaskRow, ...] = ()

    @property
    def n_gradable(self) -> int:
        """The denominator: problems in the run that have tests to grade on."""
        return self.n_problems - self.n_no_tests

    @property
    def pass_at_1(self) -> float:
        return self.n_solved / self.n_gradable if self.n_gradable else 0.0

    @property
    def oracle_pass_at_k(self) -> float | None:
        """A ceiling, None when no task computed the oracle."""
        if not self.n_oracle_known:
            return None
        return self.n_oracle / self.n_gradable if self.n_gradable else 0.0

    @property
    def mean_task_s(self) -> float:
        return self.task_time_s / self.n_finished if self.n_finished else 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["rows"] = [asdict(r) for r in self.rows]
        data["strict_pass_at_1"] = self.pass_at_1
        data["oracle_pass_at_k_ceiling"] = self.oracle_pass_at_k
        data["oracle_label"] = CEILING_LABEL
        data["mean_task_s"] = self.mean_task_s
        return data

    def to_text(self) -> str:
        lines = [
            f"run {self.session_id}  condition {self.condition or '?'}  "
            f"{self.n_finished}/{self.n_problems} tasks finished",
            f"strict pass@1: {self.n_solved}/{self.n_gradable} = {self.pass_at_1:.1%}",
        ]
        ceiling = self.oracle_pass_at_k
        if ceiling is not None:
            lines.append(f"{CEILING_LABEL}: {self.n_oracle}/{self.n_gradable} = {ceiling:.1%}")
        if self.n_no_tests:
            lines.append(f"problems without any tests (not counted): {self.n_no_tests}")
        if self.n_public_fallback:
            lines.append(f"graded on public tests only (no hidden tests): "
                         f"{self.n_public_fallback}")
        if self.solved_by_phase:
            by_phase = ", ".join(f"{k or '?'} {v}" for k, v in sorted(self.solved_by_phase.items()))
            lines.append(f"solved by phase: {by_phase}")
        lines.append("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())))
        lines.append(f"tokens: {self.prompt_tokens} prompt, {self.completion_tokens} completion;"
                     f" mean task time {self.mean_task_s:.2f} s")
        return "\n".join(lines)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)


def bench_report(store: Store, session_id: str) -> BenchReport:
    """The report of the run `session_id`: each problem's latest attempt counts."""
    session = store.session(session_id)
    if session is None:
        raise KeyError(f"no run {session_id!r} in {store.path}")
    tasks = store.tasks(session_id)
    latest: dict[str, TaskInfo] = {}
    for task in tasks:
        if task.problem_id not in latest or task.attempt > latest[task.problem_id].attempt:
            latest[task.problem_id] = task
    problem_ids = list(session.meta.get("problems") or latest)
    rows = [_row(latest[p]) for p in problem_ids if p in latest]
    finished = [latest[p] for p in problem_ids if p in latest and latest[p].finished]
    solved = [t for t in finished if t.verdict == "AC"]
    return BenchReport(
        session_id=session_id,
        title=session.title,
        condition=str(session.meta.get("condition", "")),
        n_problems=len(problem_ids),
        n_finished=len(finished),
        n_solved=len(solved),
        n_oracle=sum(bool(t.oracle_any_pass) for t in finished),
        n_oracle_known=sum(t.oracle_any_pass is not None for t in finished),
        n_public_fallback=sum(bool(t.used_public_fallback) for t in finished),
        n_no_tests=sum(t.verdict == NO_TESTS for t in finished),
        statuses=dict(Counter(latest[p].status if p in latest else "not started"
                              for p in problem_ids)),
        verdicts=dict(Counter(t.verdict or "ungraded" for t in finished)),
        solved_by_phase=dict(Counter(t.answer_phase or "" for t in solved)),
        prompt_tokens=sum(t.prompt_tokens for t in finished),
        completion_tokens=sum(t.completion_tokens for t in finished),
        task_time_s=sum(t.elapsed_s or 0.0 for t in finished),
        rows=tuple(rows),
    )


def _row(task: TaskInfo) -> TaskRow:
    return TaskRow(
        problem_id=task.problem_id,
        task_id=task.task_id,
        attempt=task.attempt,
        status=task.status,
        verdict=task.verdict,
        passed=task.passed,
        total=task.total,
        oracle_any_pass=task.oracle_any_pass,
        answer_phase=task.answer_phase,
        elapsed_s=task.elapsed_s,
        completion_tokens=task.completion_tokens,
    )
