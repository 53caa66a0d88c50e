"""The report of a benchmark run, read from its store (no logs are folded).

Strict pass@1 is the one honest number: one submitted answer per problem, graded on hidden
tests it never saw; a problem with no finished task counts as not solved. Oracle pass@k (did
ANY candidate pass the hidden tests?) is shown beside it and always labelled as a ceiling: it
is what a system that peeks at the hidden tests to choose would score, not a result.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.bench.analysis import TaskAnalysis, analyse_task
from engine.bench.stats import percentile, wilson_interval
from engine.store import Store, TaskInfo

NO_TESTS = "NO_TESTS"  # engine.grading's verdict text for a problem without tests
CEILING_LABEL = "oracle pass@k (ceiling: any candidate passes the hidden tests; not a result)"
HIDDEN = "hidden tests"
PUBLIC_ONLY = "PUBLIC EXAMPLES ONLY"


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
    prompt_tokens: int = 0
    answer_origin: str | None = None
    candidates: int = 0
    rescued_by_repair: bool | None = False
    changed_by_selection: bool | None = None
    selftests_generated: int = 0
    selftests_kept: int = 0
    loop_stops: int = 0
    length_stops: int = 0
    difficulty: str | None = None
    platform: str | None = None
    used_public_fallback: bool = False
    code: str = ""


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
    answers_by_phase: dict[str, int] = field(default_factory=dict)  # every submitted answer
    repair_answers: int = 0  # submitted answers that came out of repair
    rescued_by_repair: int = 0  # ... and pass where what repair began with failed
    rescues_unknown: int = 0  # repaired, passing answers whose starting point was not graded
    changed_by_selection: int = 0  # answers (before repair) that are not the probe's
    selection_helped: int = 0  # changed, passes, the probe would have failed (oracle known)
    selection_hurt: int = 0  # changed, fails, the probe would have passed
    selftests_generated: int = 0
    selftests_kept: int = 0
    selftests_discarded: int = 0
    # Kept self-tests whose expected output the dataset's reference agrees with: computed after
    # the run (`check_selftests`), never seen by the solver; None until checked.
    selftests_checked: int | None = None
    selftests_correct: int | None = None
    generations: int = 0
    loop_stops: int = 0  # generations stopped by the degeneration (loop) guard
    length_stops: int = 0  # generations stopped at their token limit
    budget_spent: int = 0  # problems whose search budget ran out
    tokens_median: float | None = None  # per finished problem, prompt + completion
    tokens_p90: float | None = None
    time_median_s: float | None = None
    time_p90_s: float | None = None
    by_difficulty: dict[str, tuple[int, int]] = field(default_factory=dict)  # solved, problems
    by_platform: dict[str, tuple[int, int]] = field(default_factory=dict)

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

    @property
    def pass_interval(self) -> tuple[float, float]:
        """Wilson 95 % interval of strict pass@1."""
        return wilson_interval(self.n_solved, self.n_gradable)

    @property
    def grading_set(self) -> str:
        """What the answers were graded on, said plainly: a score on public examples is not
        comparable with one on hidden tests."""
        graded = self.n_finished - self.n_no_tests
        if self.n_public_fallback == 0:
            return HIDDEN
        if self.n_public_fallback >= graded:
            return PUBLIC_ONLY
        return f"{HIDDEN} for {graded - self.n_public_fallback}, {PUBLIC_ONLY} for " \
               f"{self.n_public_fallback}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["rows"] = [asdict(r) for r in self.rows]
        data["strict_pass_at_1"] = self.pass_at_1
        data["oracle_pass_at_k_ceiling"] = self.oracle_pass_at_k
        data["oracle_label"] = CEILING_LABEL
        data["mean_task_s"] = self.mean_task_s
        data["strict_pass_at_1_ci95"] = list(self.pass_interval)
        data["grading_set"] = self.grading_set
        return data

    def to_text(self) -> str:
        low, high = self.pass_interval
        lines = [
            f"run {self.session_id}  condition {self.condition or '?'}  "
            f"{self.n_finished}/{self.n_problems} tasks finished",
        ]
        if self.grading_set != HIDDEN:
            lines.append(f"!!! GRADED ON {self.grading_set.upper()}: the dataset has no hidden "
                         "tests there; not comparable with hidden-test scores !!!")
        lines.append(f"strict pass@1: {self.n_solved}/{self.n_gradable} = {self.pass_at_1:.1%}"
                     f"  (95% CI {low:.1%} to {high:.1%}; graded on {self.grading_set})")
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
        if self.answers_by_phase:
            by_phase = ", ".join(f"{k or '?'} {v}"
                                 for k, v in sorted(self.answers_by_phase.items()))
            lines.append(f"answers by phase: {by_phase}")
        rescue = f"repair: {self.repair_answers} answers, {self.rescued_by_repair} rescued"
        if self.rescues_unknown:
            rescue += f" (+{self.rescues_unknown} passing, starting point not graded)"
        lines.append(rescue)
        lines.append(f"selection changed {self.changed_by_selection} answers away from the "
                     f"probe: {self.selection_helped} helped, {self.selection_hurt} hurt "
                     "(where the probe's hidden verdict is known)")
        tests = (f"self-tests: {self.selftests_generated} generated, {self.selftests_kept} kept, "
                 f"{self.selftests_discarded} discarded")
        if self.selftests_checked is not None:
            tests += (f"; {self.selftests_correct}/{self.selftests_checked} kept ones correct "
                      "by the dataset's reference (checked after the run)")
        lines.append(tests)
        lines.append(f"generations: {self.generations}, {self.loop_stops} stopped by the loop "
                     f"guard, {self.length_stops} at their token limit; search budget spent "
                     f"on {self.budget_spent} problem(s)")
        for name, groups in (("difficulty", self.by_difficulty), ("platform", self.by_platform)):
            if groups:
                lines.append(f"by {name}: " + ", ".join(
                    f"{k} {s}/{n}" for k, (s, n) in sorted(groups.items())))
        lines.append("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())))
        lines.append(f"tokens: {self.prompt_tokens} prompt, {self.completion_tokens} completion;"
                     f" mean task time {self.mean_task_s:.2f} s")
        if self.tokens_median is not None and self.time_median_s is not None:
            lines.append(f"per problem: tokens median {self.tokens_median:.0f}, p90 "
                         f"{self.tokens_p90:.0f}; time median {self.time_median_s:.1f} s, p90 "
                         f"{self.time_p90_s:.1f} s")
        return "\n".join(lines)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)


def bench_report(store: Store, session_id: str,
                 problem_info: Mapping[str, Mapping[str, Any]] | None = None) -> BenchReport:
    """The report of the run `session_id`: each problem's latest attempt counts.

    `problem_info` maps problem ids to their "difficulty" and "platform"; by default what the
    run recorded in its session (runs made before it did so can pass their dataset's)."""
    session = store.session(session_id)
    if session is None:
        raise KeyError(f"no run {session_id!r} in {store.path}")
    info = problem_info if problem_info is not None else session.meta.get("problem_info") or {}
    tasks = store.tasks(session_id)
    latest: dict[str, TaskInfo] = {}
    for task in tasks:
        if task.problem_id not in latest or task.attempt > latest[task.problem_id].attempt:
            latest[task.problem_id] = task
    problem_ids = list(session.meta.get("problems") or latest)
    finished = [latest[p] for p in problem_ids if p in latest and latest[p].finished]
    analyses = {t.problem_id: analyse_task(store, t) for t in finished}
    rows = [_row(latest[p], analyses.get(p), info.get(p) or {})
            for p in problem_ids if p in latest]
    solved = [t for t in finished if t.verdict == "AC"]
    done = list(analyses.values())
    gradable = [a for a in done if a.verdict != NO_TESTS]
    submitted = [a for a in done if a.answer_id is not None]
    repaired = [a for a in done if a.from_repair]
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
        answers_by_phase=dict(Counter(a.answer_phase or "" for a in submitted)),
        repair_answers=len(repaired),
        rescued_by_repair=sum(a.rescued_by_repair is True for a in repaired),
        rescues_unknown=sum(a.rescued_by_repair is None for a in repaired),
        changed_by_selection=sum(bool(a.changed_by_selection) for a in done),
        selection_helped=sum(a.selection_effect == "helped" for a in done),
        selection_hurt=sum(a.selection_effect == "hurt" for a in done),
        selftests_generated=sum(a.selftests_generated for a in done),
        selftests_kept=sum(len(a.selftests_kept) for a in done),
        selftests_discarded=sum(a.selftests_discarded for a in done),
        generations=sum(a.generations for a in done),
        loop_stops=sum(a.loop_stops for a in done),
        length_stops=sum(a.length_stops for a in done),
        budget_spent=sum(a.budget_spent for a in done),
        tokens_median=percentile([a.total_tokens for a in done], 50),
        tokens_p90=percentile([a.total_tokens for a in done], 90),
        time_median_s=percentile([a.time_s or 0.0 for a in done], 50),
        time_p90_s=percentile([a.time_s or 0.0 for a in done], 90),
        by_difficulty=_groups(gradable, info, "difficulty"),
        by_platform=_groups(gradable, info, "platform"),
    )


def _groups(analyses: list[TaskAnalysis], info: Mapping[str, Mapping[str, Any]], key: str
            ) -> dict[str, tuple[int, int]]:
    """(solved, problems) per value of `key`; {} when no problem has one."""
    counts: dict[str, list[int]] = {}
    for a in analyses:
        value = (info.get(a.problem_id) or {}).get(key)
        if value:
            pair = counts.setdefault(str(value), [0, 0])
            pair[0] += a.solved
            pair[1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def _row(task: TaskInfo, analysis: TaskAnalysis | None, info: Mapping[str, Any]) -> TaskRow:
    a = analysis
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
        prompt_tokens=task.prompt_tokens,
        answer_origin=a.answer_origin if a else None,
        candidates=a.candidates if a else 0,
        rescued_by_repair=a.rescued_by_repair if a else False,
        changed_by_selection=a.changed_by_selection if a else None,
        selftests_generated=a.selftests_generated if a else 0,
        selftests_kept=len(a.selftests_kept) if a else 0,
        loop_stops=a.loop_stops if a else 0,
        length_stops=a.length_stops if a else 0,
        difficulty=info.get("difficulty"),
        platform=info.get("platform"),
        used_public_fallback=bool(task.used_public_fallback),
        code=a.answer_code if a else "",
    )
